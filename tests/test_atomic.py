"""bot.atomic.atomic_write: the file appears whole or not at all, and no temporary file stays."""

import asyncio
import errno
import os
import stat

import pytest

from bot.atomic import atomic_write


def test_writes_a_new_file_and_leaves_nothing_else(tmp_path):
    with atomic_write(tmp_path / "out.bin") as handle:
        handle.write(b"hello")
        assert os.listdir(tmp_path) != ["out.bin"]  # still a hidden temporary file
    assert (tmp_path / "out.bin").read_bytes() == b"hello"
    assert os.listdir(tmp_path) == ["out.bin"]


def test_replaces_an_existing_file_only_at_the_end(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with atomic_write(str(target)) as handle:
        handle.write(b"new")
        assert target.read_bytes() == b"old"
    assert target.read_bytes() == b"new"


def test_the_data_is_on_disk_before_the_rename(tmp_path, monkeypatch):
    calls = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        calls.append("fsync")
        real_fsync(fd)

    def replace(source, target):
        calls.append("replace")
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    with atomic_write(tmp_path / "out.bin") as handle:
        handle.write(b"x")
    assert calls == ["fsync", "replace", "fsync"]  # the file, the rename, the folder


def test_ordinary_permissions(tmp_path):
    old_umask = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "out.bin") as handle:
            handle.write(b"x")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((tmp_path / "out.bin").stat().st_mode) == 0o644


def test_an_error_in_the_block_keeps_the_old_file(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(ValueError, match="half-way"), atomic_write(target) as handle:
        handle.write(b"partial")
        raise ValueError("half-way")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.bin"]


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_failing_fsync_or_rename_keeps_the_old_file(tmp_path, monkeypatch, failing):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, failing, no_space)
    with pytest.raises(OSError, match="No space"), atomic_write(target) as handle:
        handle.write(b"new")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.bin"]


def test_an_interrupt_cleans_up_and_propagates(tmp_path, monkeypatch):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt), atomic_write(tmp_path / "out.bin") as handle:
        handle.write(b"x")
    assert os.listdir(tmp_path) == []


def test_a_missing_folder_raises_and_creates_nothing(tmp_path):
    with pytest.raises(FileNotFoundError), atomic_write(tmp_path / "missing" / "out.bin"):
        pytest.fail("the block must not run")
    assert os.listdir(tmp_path) == []


def test_a_folder_in_the_way_is_left_alone(tmp_path):
    (tmp_path / "out.bin").mkdir()
    with pytest.raises(IsADirectoryError), atomic_write(tmp_path / "out.bin") as handle:
        handle.write(b"x")
    assert os.listdir(tmp_path) == ["out.bin"] and (tmp_path / "out.bin").is_dir()


async def test_a_cancelled_download_leaves_nothing(tmp_path):
    started = asyncio.Event()

    async def download():
        with atomic_write(tmp_path / "model.bin") as handle:
            handle.write(b"first chunk")
            started.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(download())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert os.listdir(tmp_path) == []
