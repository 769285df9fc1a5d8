"""Tests for bot/discordio: fetching from Discord's CDN and the shared typing indicator."""
