"""stylebot: paint photos in the style of artworks, from the command line or Discord."""

__version__ = "0.1.0"
