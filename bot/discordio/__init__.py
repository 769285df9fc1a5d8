"""Discord-facing I/O helpers: fetching attachments and avatars, fitting uploads."""

from bot.discordio.fetch import (
    ALLOWED_HOSTS,
    FetchPolicy,
    avatar_url,
    check_attachment,
    fetch_image_bytes,
    is_allowed_url,
)
from bot.discordio.upload import MIN_LIMIT, Upload, encode_for_upload

__all__ = [
    "ALLOWED_HOSTS",
    "MIN_LIMIT",
    "FetchPolicy",
    "Upload",
    "avatar_url",
    "check_attachment",
    "encode_for_upload",
    "fetch_image_bytes",
    "is_allowed_url",
]
