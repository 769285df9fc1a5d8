"""Keep a photo's own colours in a stylized image (luminance transfer)."""

from PIL import Image

from bot.imaging.modes import to_rgb

_LANCZOS = Image.Resampling.LANCZOS


def keep_colours(stylized: Image.Image, content: Image.Image) -> Image.Image:
    """Return RGB with the brightness (Y) of ``stylized`` and the colour (Cb, Cr) of ``content``.

    ``content`` is resized to the size of ``stylized`` first if they differ.
    """
    stylized = to_rgb(stylized)
    content = to_rgb(content)
    if content.size != stylized.size:
        content = content.resize(stylized.size, _LANCZOS)
    luma, _, _ = stylized.convert("YCbCr").split()
    _, blue, red = content.convert("YCbCr").split()
    return Image.merge("YCbCr", (luma, blue, red)).convert("RGB")
