"""SQLite persistence under the data dir: custom per-guild presets and the job journal."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bot.errors import StylebotError

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 5000
JOB_STATES = ("queued", "running", "done", "failed")
NAME_LENGTH = (2, 32)
RESERVED_NAMES = frozenset({"everyone", "here"})

_SCHEMA = """
CREATE TABLE guild_presets (
    guild_id INTEGER NOT NULL, name TEXT NOT NULL, image BLOB NOT NULL, sha256 TEXT NOT NULL,
    added_by INTEGER NOT NULL, added_at REAL NOT NULL, PRIMARY KEY (guild_id, name));
CREATE TABLE jobs (
    id TEXT PRIMARY KEY, created_at REAL NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    payload TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0);
"""


class StoreError(StylebotError):
    """The data store cannot be created, opened, read or written."""


class InvalidPresetName(StylebotError):
    """A custom preset name breaks the naming rules (the message never repeats the name)."""


def normalise_preset_name(name: str) -> str:
    """Lower-case and strip name; runs of spaces or underscores become one hyphen."""
    return re.sub(r"[\s_]+", "-", name.strip().lower())


def validate_preset_name(name: str) -> str:
    """The normalised name (see normalise_preset_name), or raise InvalidPresetName.

    Valid names are 2-32 characters of a-z, 0-9 and hyphens, start with a letter or digit and
    are not "everyone" or "here", so echoing one in Discord can never mention anybody.
    """
    key = normalise_preset_name(name)
    low, high = NAME_LENGTH
    if not low <= len(key) <= high:
        raise InvalidPresetName(f"A preset name must be {low} to {high} characters long.")
    if not re.fullmatch(r"[a-z0-9-]+", key):
        raise InvalidPresetName("A preset name may contain only letters a-z, digits and hyphens.")
    if key.startswith("-"):
        raise InvalidPresetName("A preset name must start with a letter or a digit.")
    if key in RESERVED_NAMES:
        raise InvalidPresetName("A preset name cannot be “everyone” or “here”.")
    return key


class Store:
    """One SQLite file, safe to share between threads (one connection behind a lock, WAL)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = _open(self.path)

    def close(self) -> None:
        """Close the database; later calls raise StoreError. Closing twice is harmless."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._db is None:
                raise StoreError(f"The data store {self.path} is closed.")
            try:
                yield self._db
            except sqlite3.Error as error:
                raise StoreError(f"The data store {self.path} failed: {_reason(error)}.") from None

    # --- custom presets, per guild -------------------------------------------------------------

    def add_preset(self, guild_id: int, name: str, image_bytes: bytes, added_by: int) -> None:
        """Save a guild's preset image under a validated name, replacing one of the same name."""
        key = validate_preset_name(name)
        digest = hashlib.sha256(image_bytes).hexdigest()
        with self._locked() as db:
            db.execute(
                "INSERT OR REPLACE INTO guild_presets VALUES (?, ?, ?, ?, ?, ?)",
                (guild_id, key, bytes(image_bytes), digest, added_by, time.time()),
            )

    def remove_preset(self, guild_id: int, name: str) -> bool:
        """Delete a guild's preset; False if it had none of that name."""
        with self._locked() as db:
            cursor = db.execute(
                "DELETE FROM guild_presets WHERE guild_id = ? AND name = ?",
                (guild_id, normalise_preset_name(name)),
            )
            return cursor.rowcount > 0

    def preset_names(self, guild_id: int) -> list[str]:
        """The guild's preset names, sorted."""
        with self._locked() as db:
            rows = db.execute(
                "SELECT name FROM guild_presets WHERE guild_id = ? ORDER BY name", (guild_id,)
            )
            return [name for (name,) in rows]

    def preset_image(self, guild_id: int, name: str) -> bytes | None:
        """The image bytes of a guild's preset, or None if it has none of that name."""
        with self._locked() as db:
            row = db.execute(
                "SELECT image FROM guild_presets WHERE guild_id = ? AND name = ?",
                (guild_id, normalise_preset_name(name)),
            ).fetchone()
            return None if row is None else bytes(row[0])

    def preset_digests(self, guild_id: int) -> dict[str, str]:
        """{name: SHA-256 hex of its image} for the guild's presets, in name order."""
        with self._locked() as db:
            rows = db.execute(
                "SELECT name, sha256 FROM guild_presets WHERE guild_id = ? ORDER BY name",
                (guild_id,),
            )
            return dict(rows.fetchall())

    def preset_count(self, guild_id: int) -> int:
        with self._locked() as db:
            query = "SELECT COUNT(*) FROM guild_presets WHERE guild_id = ?"
            return db.execute(query, (guild_id,)).fetchone()[0]

    # --- job journal -----------------------------------------------------------------------------

    def journal_add(self, job_id: str, payload: dict[str, Any]) -> None:
        """Record a new queued job; ValueError if the id is already journalled."""
        text = json.dumps(payload, separators=(",", ":"))
        with self._locked() as db:
            try:
                db.execute(
                    "INSERT INTO jobs (id, created_at, state, payload) VALUES (?, ?, 'queued', ?)",
                    (job_id, time.time(), text),
                )
            except sqlite3.IntegrityError:
                raise ValueError(f"Job {job_id} is already in the journal.") from None

    def journal_set_state(self, job_id: str, state: str) -> bool:
        """Set a job's state (one of JOB_STATES); False if the job is not journalled."""
        if state not in JOB_STATES:
            raise ValueError(f"Job state must be one of {', '.join(JOB_STATES)}, not {state!r}.")
        with self._locked() as db:
            cursor = db.execute("UPDATE jobs SET state = ? WHERE id = ?", (state, job_id))
            return cursor.rowcount > 0

    def journal_remove(self, job_id: str) -> bool:
        with self._locked() as db:
            return db.execute("DELETE FROM jobs WHERE id = ?", (job_id,)).rowcount > 0

    def journal_pending(self) -> list[tuple[str, dict[str, Any]]]:
        """(id, payload) of every queued or running job, oldest first."""
        with self._locked() as db:
            rows = db.execute(
                "SELECT id, payload FROM jobs WHERE state IN ('queued', 'running') "
                "ORDER BY created_at, rowid"
            ).fetchall()
        return [(job_id, json.loads(payload)) for job_id, payload in rows]

    def journal_bump_attempts(self, job_id: str) -> int:
        """Add one to a job's attempts and return the new count; KeyError if not journalled."""
        with self._locked() as db:
            rows = db.execute(
                "UPDATE jobs SET attempts = attempts + 1 WHERE id = ? RETURNING attempts",
                (job_id,),
            ).fetchall()
        if not rows:
            raise KeyError(job_id)
        return rows[0][0]


def _open(path: Path) -> sqlite3.Connection:
    """Connect, set the pragmas and create or check the schema, or raise StoreError."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        blocker = next((p for p in (folder, *folder.parents) if p.exists()), None)
        if blocker == folder and not folder.is_dir():
            raise StoreError(f"The data folder {folder} is a file, not a folder.") from None
        if blocker is not None and not blocker.is_dir():
            raise StoreError(
                f"The data folder {folder} cannot be created because {blocker} is a file."
            ) from None
        raise StoreError(f"The data folder {folder} cannot be created: {_reason(error)}.") from None
    if path.is_dir():
        raise StoreError(f"The data store {path} is a folder, not a database file.")
    db = None
    try:
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        _migrate(db, path)
        return db
    except (sqlite3.Error, StoreError) as error:
        if db is not None:
            db.close()
        if isinstance(error, StoreError):
            raise
        raise StoreError(f"The data store {path} cannot be opened: {_reason(error)}.") from None


def _migrate(db: sqlite3.Connection, path: Path) -> None:
    db.execute("BEGIN IMMEDIATE")
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"The data store {path} was written by a newer stylebot.")
        if version < 1:
            for statement in filter(str.strip, _SCHEMA.split(";")):
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def _reason(error: Exception) -> str:
    text = (error.strerror if isinstance(error, OSError) else None) or str(error) or "unknown"
    return text[:1].lower() + text[1:].rstrip(".")
