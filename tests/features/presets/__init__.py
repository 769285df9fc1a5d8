"""Tests for bot/features/presets: `!preset add` and `!preset remove`, and the preset lookup."""
