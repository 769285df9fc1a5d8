"""Store: per-guild presets, name rules, restarts, threads, the job journal, broken paths."""

import hashlib
import sqlite3
import threading
from pathlib import Path

import pytest

from bot.errors import StylebotError
from bot.store import (
    SCHEMA_VERSION,
    InvalidPresetName,
    Store,
    StoreError,
    validate_preset_name,
)
from tests.imaging.helpers import assert_one_sentence

PNG = b"\x89PNG fake image bytes"  # the store keeps bytes; it never decodes them


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "stylebot.sqlite3"


@pytest.fixture
def store(db_path: Path):
    with Store(db_path) as opened:
        yield opened


def raw(path: Path) -> sqlite3.Connection:
    """A second, plain connection for looking at the file behind the store's back."""
    return sqlite3.connect(path)


# --- the file -------------------------------------------------------------------------------------


def test_creates_folder_schema_version_and_wal(store, db_path):
    assert db_path.is_file()
    with raw(db_path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    assert {"guild_presets", "jobs"} <= tables


def test_close_is_final_and_idempotent(db_path):
    opened = Store(db_path)
    opened.close()
    opened.close()
    with pytest.raises(StoreError) as caught:
        opened.preset_names(1)
    assert_one_sentence(str(caught.value))


# --- presets --------------------------------------------------------------------------------------


def test_add_get_list_count_per_guild(store):
    store.add_preset(1, "mid", b"one", added_by=10)
    store.add_preset(1, "zulu", b"one", added_by=10)
    store.add_preset(1, "alpha", b"two", added_by=10)
    store.add_preset(2, "alpha", b"three", added_by=20)
    assert store.preset_names(1) == ["alpha", "mid", "zulu"]  # not insertion order either way
    assert store.preset_names(2) == ["alpha"]
    assert store.preset_names(3) == []
    assert (store.preset_count(1), store.preset_count(2), store.preset_count(3)) == (3, 1, 0)
    assert store.preset_image(1, "alpha") == b"two"
    assert store.preset_image(2, "alpha") == b"three"
    assert store.preset_image(3, "alpha") is None
    assert store.preset_image(1, "missing") is None


def test_names_are_normalised_when_stored_and_looked_up(store):
    store.add_preset(1, "  Starry Night ", PNG, added_by=10)
    assert store.preset_names(1) == ["starry-night"]
    assert store.preset_image(1, "STARRY_night") == PNG
    assert store.remove_preset(1, "Starry  Night")


def test_add_replaces_the_same_name(store, db_path):
    store.add_preset(1, "wave", b"old", added_by=10)
    store.add_preset(1, "Wave", b"new", added_by=11)
    assert store.preset_count(1) == 1
    assert store.preset_image(1, "wave") == b"new"
    with raw(db_path) as db:
        digest, added_by = db.execute("SELECT sha256, added_by FROM guild_presets").fetchone()
    assert digest == hashlib.sha256(b"new").hexdigest()
    assert added_by == 11


def test_remove(store):
    store.add_preset(1, "wave", PNG, added_by=10)
    store.add_preset(2, "wave", PNG, added_by=10)
    assert store.remove_preset(1, "missing") is False
    assert store.remove_preset(1, "wave") is True
    assert store.remove_preset(1, "wave") is False
    assert store.preset_names(1) == []
    assert store.preset_names(2) == ["wave"]  # the other guild keeps its own


def test_add_rejects_an_invalid_name_and_stores_nothing(store):
    with pytest.raises(InvalidPresetName):
        store.add_preset(1, "@everyone", PNG, added_by=10)
    assert store.preset_count(1) == 0


@pytest.mark.parametrize(
    ("name", "want"),
    [
        ("ab", "ab"),
        ("starry-night", "starry-night"),
        ("Starry Night", "starry-night"),  # spaces become hyphens, then the rules apply
        ("  Udnie\t", "udnie"),
        ("under_score  and   spaces", "under-score-and-spaces"),
        ("9lives", "9lives"),
        ("ends-with-", "ends-with-"),
        ("x" * 32, "x" * 32),
    ],
)
def test_valid_names(name, want):
    assert validate_preset_name(name) == want


@pytest.mark.parametrize(
    "name",
    [
        "",
        "   ",
        "a",
        "x" * 33,
        "@everyone",
        "@here",
        "everyone",
        "Here",
        " HERE ",
        "-leading",
        "_leading",  # underscore becomes a leading hyphen
        "a@b",
        "a#b",
        "a`b",
        "<@123456>",
        "café",
        "emoji-🎨",
        "dots.are.out",
        "zero\u200bwidth",  # not whitespace, so not turned into a hyphen
    ],
)
def test_invalid_names(name):
    with pytest.raises(InvalidPresetName) as caught:
        validate_preset_name(name)
    message = str(caught.value)
    assert isinstance(caught.value, StylebotError)
    assert_one_sentence(message)
    assert "@" not in message and "#" not in message and "`" not in message
    typed = name.strip()
    if len(typed) >= 3 and typed.lower() not in ("everyone", "here"):
        assert typed not in message  # never echo what the user typed


def test_a_newline_is_whitespace_like_any_other():
    assert validate_preset_name("new\nline") == "new-line"


# --- restarts -------------------------------------------------------------------------------------


def test_custom_presets_and_pending_jobs_survive_a_restart(db_path):
    with Store(db_path) as first:
        first.add_preset(7, "kept", b"painting", added_by=1)
        first.journal_add("job-1", {"user": 5, "preset": "kept"})
        first.journal_set_state("job-1", "running")
        first.journal_bump_attempts("job-1")
    with Store(db_path) as second:
        assert second.preset_names(7) == ["kept"]
        assert second.preset_image(7, "kept") == b"painting"
        assert second.journal_pending() == [("job-1", {"user": 5, "preset": "kept"})]
        assert second.journal_bump_attempts("job-1") == 2


# --- threads --------------------------------------------------------------------------------------


def run_threads(count: int, work) -> None:
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def body(index: int) -> None:
        try:
            barrier.wait()
            work(index)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)


def test_one_store_shared_by_eight_threads(store):
    store.journal_add("shared", {})

    def work(index: int) -> None:
        for n in range(25):
            store.add_preset(index + 1, f"p{n}", bytes([index, n]), added_by=index)
            store.add_preset(0, f"t{index}-{n}", b"x", added_by=index)
            assert store.preset_image(index + 1, f"p{n}") == bytes([index, n])
            store.journal_bump_attempts("shared")
            store.journal_add(f"job-{index}-{n}", {"n": n})
            store.preset_names(0)
            # rowcount answers belong to this thread's statement, not a neighbour's
            assert store.remove_preset(index + 1, f"gone{n}") is False
            assert store.journal_set_state(f"job-{index}-{n}", "running") is True
            assert store.remove_preset(0, f"t{index}-{n}") is True
            store.add_preset(0, f"t{index}-{n}", b"x", added_by=index)

    run_threads(8, work)
    for index in range(8):
        assert store.preset_count(index + 1) == 25
    assert store.preset_count(0) == 200
    assert store.journal_bump_attempts("shared") == 8 * 25 + 1  # no lost updates
    assert len(store.journal_pending()) == 1 + 200


def test_two_stores_on_one_file_from_threads(db_path):
    stores = [Store(db_path), Store(db_path)]
    try:
        run_threads(8, lambda i: [
            stores[i % 2].add_preset(1, f"s{i}-{n}", b"x", added_by=i) for n in range(20)
        ])
        assert stores[0].preset_count(1) == stores[1].preset_count(1) == 160
    finally:
        for opened in stores:
            opened.close()


# --- job journal ----------------------------------------------------------------------------------


def test_journal_states_and_order(store):
    for name in ("a", "b", "c", "d"):
        store.journal_add(name, {"name": name, "nested": {"list": [1, 2.5, None]}})
    assert [job_id for job_id, _ in store.journal_pending()] == ["a", "b", "c", "d"]
    assert store.journal_pending()[0][1] == {"name": "a", "nested": {"list": [1, 2.5, None]}}
    assert store.journal_set_state("b", "running")
    assert store.journal_set_state("a", "done")
    assert store.journal_set_state("c", "failed")
    assert [job_id for job_id, _ in store.journal_pending()] == ["b", "d"]  # running stays
    assert store.journal_set_state("a", "queued")  # a retried job keeps its place
    assert [job_id for job_id, _ in store.journal_pending()] == ["a", "b", "d"]
    assert store.journal_remove("b") is True
    assert store.journal_remove("b") is False
    assert [job_id for job_id, _ in store.journal_pending()] == ["a", "d"]


def test_journal_attempts(store):
    store.journal_add("job", {})
    assert [store.journal_bump_attempts("job") for _ in range(3)] == [1, 2, 3]
    with pytest.raises(KeyError):
        store.journal_bump_attempts("missing")


def test_journal_rejects_bad_input(store):
    store.journal_add("job", {})
    with pytest.raises(ValueError):
        store.journal_add("job", {"again": True})
    with pytest.raises(ValueError):
        store.journal_set_state("job", "paused")
    assert store.journal_set_state("missing", "done") is False
    with pytest.raises(TypeError):
        store.journal_add("bad", {"not json": object()})
    assert [job_id for job_id, _ in store.journal_pending()] == ["job"]


# --- broken paths ---------------------------------------------------------------------------------


def open_fails(path: Path, *words: str) -> str:
    with pytest.raises(StoreError) as caught:
        Store(path)
    message = str(caught.value)
    assert_one_sentence(message)
    for word in words:
        assert word in message, message
    return message


def test_data_dir_is_a_file(tmp_path):
    (tmp_path / "data").write_text("not a folder")
    open_fails(tmp_path / "data" / "stylebot.sqlite3", str(tmp_path / "data"), "is a file")


def test_a_file_further_up_blocks_the_data_dir(tmp_path):
    (tmp_path / "blocker").write_text("")
    path = tmp_path / "blocker" / "deeper" / "data" / "stylebot.sqlite3"
    open_fails(path, f"because {tmp_path / 'blocker'} is a file")


def test_database_path_is_a_folder(tmp_path):
    (tmp_path / "stylebot.sqlite3").mkdir()
    open_fails(tmp_path / "stylebot.sqlite3", "is a folder")


def test_corrupt_file(tmp_path):
    path = tmp_path / "stylebot.sqlite3"
    junk = bytes(range(256)) * 32
    path.write_bytes(junk)
    open_fails(path, str(path), "not a database")
    assert path.read_bytes() == junk  # left alone for the owner to inspect


def test_file_from_a_newer_version(tmp_path):
    path = tmp_path / "stylebot.sqlite3"
    with raw(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    open_fails(path, "newer")
