"""Tests for bot/features: the bot end to end against the loopback Discord (see conftest)."""
