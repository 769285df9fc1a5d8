"""Discord-facing I/O helpers: fetching attachments and avatars, fitting uploads."""

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
