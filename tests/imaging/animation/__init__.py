"""Tests of bot/imaging/animation."""
