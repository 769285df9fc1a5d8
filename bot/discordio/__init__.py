"""Discord plumbing shared by the features: CDN fetches within limits, one typing indicator per
channel."""

from bot.discordio.fetch import (
    ALLOWED_HOSTS,
    FetchPolicy,
    avatar_url,
    check_attachment,
    fetch_image_bytes,
    is_allowed_url,
)

__all__ = [
    "ALLOWED_HOSTS",
    "FetchPolicy",
    "avatar_url",
    "check_attachment",
    "fetch_image_bytes",
    "is_allowed_url",
]
