"""Tests for bot/discordio: fetching from Discord's CDN and fitting uploads."""
