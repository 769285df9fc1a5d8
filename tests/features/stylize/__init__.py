"""Tests for bot/features/stylize: the commands and buttons end to end, and each module alone."""
