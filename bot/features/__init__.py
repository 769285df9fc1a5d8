"""The bot's features, each a discord.py extension with its `setup`: stylize, styles, presets."""
