"""Where stylebot keeps its files: the per-user cache and data folders, and paths people type."""

from __future__ import annotations

from pathlib import Path

APP_NAME = "stylebot"


def user_cache_dir() -> Path:
    """$XDG_CACHE_HOME/stylebot, else ~/.cache/stylebot on Linux; the platform's cache elsewhere.

    As the XDG spec says, an XDG_* value that is not an absolute path is ignored.
    """
    import platformdirs  # ~6 ms; only the commands that touch the disk need it

    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def user_data_dir() -> Path:
    """$XDG_DATA_HOME/stylebot, else ~/.local/share/stylebot on Linux; the platform's elsewhere."""
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def absolute_path(value: str, base: Path | None = None) -> Path:
    """A path someone typed, made absolute: ~ expanded, relative to base (default: the cwd).

    A path that goes through '..' is resolved, symlinks followed, so it names the folder the
    OS would open (a lexical normpath would turn 'link/..' into the link's own parent);
    other paths are kept as written, so they stay recognisable.
    """
    path = (base or Path.cwd()) / Path(value).expanduser()
    return path.resolve() if ".." in path.parts else path
