"""A message's embedded GIF or clip (Discord's GIF picker posts Tenor links): its proxy URL."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import discord

#: Embeds whose media is the thing linked, and where it is: a GIF (Tenor, Giphy) is a short
#: clip with a still thumbnail, a picture link its own thumbnail, a clip link its video (a
#: page's preview, e.g. a YouTube thumbnail, is not what the user posted).
_MEDIA_OF = {"gifv": ("video", "thumbnail"), "image": ("image", "thumbnail"), "video": ("video",)}


def embedded_media_url(message: discord.Message) -> str | None:
    """The Discord media-proxy URL of the message's first embedded GIF, clip or picture.

    A Tenor GIF is a "gifv" embed whose `video.proxy_url` is Discord's copy of the clip (on
    images-ext-*.discordapp.net). Only proxy URLs are ever returned: the linked site itself
    (tenor.com) is never fetched, and the fetch allows Discord's own hosts only.
    """
    for embed in message.embeds:
        for part in _MEDIA_OF.get(embed.type, ()):
            proxy_url = getattr(getattr(embed, part), "proxy_url", None)
            if proxy_url:
                return str(proxy_url)
    return None


def without_embedded_links(words: str, message: discord.Message) -> str:
    """`words` without the links the message's embeds came from (`!stylize udnie <tenor link>`):
    those name the photo, not a style."""
    links = {embed.url for embed in message.embeds if embed.url}
    if not links:
        return words
    return " ".join(word for word in words.split() if word.strip("<>") not in links)
