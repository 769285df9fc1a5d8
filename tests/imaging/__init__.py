"""Tests for bot.imaging (a package so test module names cannot clash with other folders)."""
