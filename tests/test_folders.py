"""bot.folders: the XDG cache and data folders and the paths people type."""

from pathlib import Path

from bot.folders import absolute_path, user_cache_dir, user_data_dir


def test_xdg_folders(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert user_cache_dir() == tmp_path / "cache" / "stylebot"
    assert user_data_dir() == tmp_path / "data" / "stylebot"
    assert not (tmp_path / "cache").exists()  # named, not created


def test_defaults_and_relative_xdg_values_are_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    for value in (None, "", "relative/dir"):
        for variable in ("XDG_CACHE_HOME", "XDG_DATA_HOME"):
            if value is None:
                monkeypatch.delenv(variable, raising=False)
            else:
                monkeypatch.setenv(variable, value)
        assert user_cache_dir() == tmp_path / ".cache" / "stylebot"
        assert user_data_dir() == tmp_path / ".local" / "share" / "stylebot"


def test_absolute_path(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    assert absolute_path("x/y") == tmp_path / "x" / "y"
    assert absolute_path("x", tmp_path / "base") == tmp_path / "base" / "x"
    assert absolute_path("~/m", tmp_path / "base") == tmp_path / "home" / "m"
    assert absolute_path("/abs/./p") == Path("/abs/p")
    assert absolute_path("a/../b") == tmp_path / "b"
    assert ".." not in absolute_path("../up", tmp_path / "base").parts


def test_dot_dot_follows_symlinks_and_other_paths_keep_them(tmp_path):
    real = tmp_path / "disk" / "cfg"
    real.mkdir(parents=True)
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    assert absolute_path("../presets", tmp_path / "link") == tmp_path / "disk" / "presets"
    assert absolute_path("presets", tmp_path / "link") == tmp_path / "link" / "presets"


def test_a_symlink_loop_is_no_error(tmp_path):
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    assert absolute_path("../x", tmp_path / "loop").is_absolute()  # opening it will say why
