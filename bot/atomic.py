"""Write a file atomically: a temporary file in the same folder, fsync, rename over the target."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO


@contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Yield a binary file that replaces `path` when the with-block ends without an exception.

    The bytes go to a new hidden file beside `path` (ordinary permissions: 0o666 less the
    umask), which is flushed, fsynced and renamed over `path`; then the folder is fsynced where
    the platform allows. On any exception, KeyboardInterrupt and cancellation included, the
    temporary file is removed, `path` is left as it was and the exception propagates; so do
    the OSErrors of creating the temporary file (FileNotFoundError for a missing folder,
    PermissionError, ...). The folder is not created.
    """
    target = Path(path)
    fd, temp = _create_temp(target)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        with suppress(OSError):
            os.unlink(temp)
        raise
    _sync_folder(target.parent)


def _create_temp(target: Path) -> tuple[int, Path]:
    """Create a new, empty, hidden file beside target, '.<name>.<random>.part'."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        temp = target.parent / f".{target.name}.{secrets.token_hex(6)}.part"
        try:
            return os.open(temp, flags, 0o666), temp
        except FileExistsError:
            continue


def _sync_folder(folder: Path) -> None:
    """Flush the rename to disk where the platform allows opening folders."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
