"""Discord features, one cog each: stylize, styles (the gallery) and presets (custom styles)."""
