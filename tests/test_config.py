"""Tests for bot.config: defaults, the example file, environment, validation and secrecy."""

import dataclasses
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

from bot.config import (
    _RULES,
    _SECTIONS,
    HUB_HANDLE,
    EngineSettings,
    LimitSettings,
    Secret,
    Settings,
    check_permissions,
    example_toml,
    load_settings,
)
from bot.defaults import ENGINE_NAMES
from bot.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def load(tmp_path, monkeypatch):
    """Write TOML to ./config.toml inside tmp_path and load it with the given environment."""
    monkeypatch.chdir(tmp_path)

    def _load(text: str, env: dict[str, str] | None = None) -> Settings:
        Path("config.toml").write_text(text, encoding="utf-8")
        return load_settings("config.toml", env=env or {})

    return _load


def error(load, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load(text)
    return str(caught.value)


# --- defaults ---------------------------------------------------------------------------------


def test_defaults():
    s = load_settings(env={})
    assert s == Settings()
    assert s.discord.token.get() == "" and not s.discord.token
    assert (s.discord.prefix, s.discord.test_guild, s.discord.shards) == ("!", 0, 0)
    assert s.discord.allowed_guilds == s.discord.allowed_channels == ()
    assert (s.engine.name, s.engine.transfer, s.engine.threads) == ("lite", "fp16", 0)
    assert s.engine.hub_handle == HUB_HANDLE and s.engine.model_dir is None
    assert dataclasses.astuple(s.limits) == (26214400, 40_000_000, 1024, 1024, 20.0, 120.0, 4, 0,
                                             120, 512, 10.0)
    assert dataclasses.astuple(s.jobs) == (
        1, 20, 1, 10.0, 30.0, 900.0, 5.0, 1, 300.0, "local", "http://127.0.0.1:8000", 4, 6)
    assert dataclasses.astuple(s.paths) == (None, None, None, None)
    assert s.logging.level == "INFO"


def test_example_file_gives_exactly_the_defaults():
    assert load_settings(ROOT / "config.example.toml", env={}) == Settings()


def test_example_file_documents_every_setting():
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    for section, rules in _RULES.items():
        assert f"[{section}]" in text
        for key in rules:
            assert f"\n{key} = " in text, f"{section}.{key} is not in config.example.toml"


def test_rule_table_matches_the_dataclasses():
    for section, cls in _SECTIONS.items():
        assert list(_RULES[section]) == [f.name for f in dataclasses.fields(cls)]
    assert list(_SECTIONS) == [f.name for f in dataclasses.fields(Settings)]


def test_a_valid_file_is_read(load):
    s = load(
        """
        [discord]
        prefix = "?"
        allowed_guilds = [123, 456]
        shards = 2
        [engine]
        name = "hub"
        transfer = "int8"
        [limits]
        max_output_side = 2048
        default_output_side = 512
        job_timeout = 60
        [jobs]
        cooldown = 0
        position_interval = 0
        [logging]
        level = "DEBUG"
        """
    )
    assert s.discord.prefix == "?" and s.discord.allowed_guilds == (123, 456)
    assert s.discord.shards == 2 and s.engine.name == "hub" and s.engine.transfer == "int8"
    assert (s.limits.max_output_side, s.limits.default_output_side) == (2048, 512)
    assert s.limits.job_timeout == 60.0 and isinstance(s.limits.job_timeout, float)
    assert s.jobs.cooldown == 0.0 and s.logging.level == "DEBUG"
    assert s.jobs.position_interval == 0.0 and isinstance(s.jobs.position_interval, float)


# --- environment ------------------------------------------------------------------------------


def test_discord_token_env_beats_the_file(load):
    s = load('[discord]\ntoken = "from-file"', env={"DISCORD_TOKEN": " from-env\n"})
    assert s.discord.token.get() == "from-env"
    assert load('[discord]\ntoken = "from-file"').discord.token.get() == "from-file"
    assert load('[discord]\ntoken = "from-file"', env={"DISCORD_TOKEN": " "}).discord.token


def test_require_token():
    assert load_settings(env={"DISCORD_TOKEN": "abc"}).discord.require_token() == "abc"
    with pytest.raises(
        ConfigError, match=r"^No Discord token: set DISCORD_TOKEN or discord\.token"
    ):
        load_settings(env={}).discord.require_token()


def test_path_env_fills_empty_settings(tmp_path, load):
    env = {
        "STYLEBOT_MIRROR": str(tmp_path / "mirror"),
        "STYLEBOT_CACHE_DIR": str(tmp_path / "cache"),
        "STYLEBOT_DATA_DIR": "relative-data",
    }
    s = load("", env=env)
    assert s.paths.mirror == tmp_path / "mirror"
    assert s.paths.resolved_cache_dir() == tmp_path / "cache"
    assert s.paths.data_dir == tmp_path / "relative-data"  # relative to the working directory
    # a value in the file wins over the environment for paths
    s = load('[paths]\nmirror = "/srv/mirror"\ncache_dir = ""', env=env)
    assert s.paths.mirror == Path("/srv/mirror") and s.paths.cache_dir == tmp_path / "cache"


def test_xdg_fallbacks(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    paths = load_settings(env={}).paths
    assert paths.resolved_cache_dir() == tmp_path / ".cache" / "stylebot"
    assert paths.resolved_data_dir() == tmp_path / "xdg-data" / "stylebot"


def test_stylebot_config_env_names_the_file(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("[jobs]\nworkers = 3\n")
    assert load_settings(env={"STYLEBOT_CONFIG": str(config)}).jobs.workers == 3
    with pytest.raises(ConfigError, match=r"nope\.toml does not exist\.$"):
        load_settings(env={"STYLEBOT_CONFIG": str(tmp_path / "nope.toml")})


def test_missing_explicit_file(tmp_path):
    with pytest.raises(ConfigError, match=r"^Config file .*missing\.toml does not exist\.$"):
        load_settings(tmp_path / "missing.toml", env={})


def test_os_environ_is_the_default_env(monkeypatch):
    monkeypatch.delenv("STYLEBOT_CONFIG", raising=False)
    monkeypatch.setenv("DISCORD_TOKEN", "tok")
    assert load_settings().discord.token.get() == "tok"


# --- paths ------------------------------------------------------------------------------------


def test_relative_paths_are_resolved_against_the_config_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    conf = tmp_path / "etc" / "stylebot.toml"
    conf.parent.mkdir()
    conf.write_text(
        '[paths]\ndata_dir = "data"\npresets_dir = "../presets"\nmirror = "~/mirror"\n'
        'cache_dir = "/abs/cache"\n[engine]\nmodel_dir = "models"\n'
    )
    monkeypatch.chdir(tmp_path)
    s = load_settings(Path("etc/stylebot.toml"), env={})
    assert s.paths.data_dir == tmp_path / "etc" / "data"
    assert s.paths.presets_dir == tmp_path / "presets"  # normalised (issue 9, papercut 9)
    assert s.paths.mirror == tmp_path / "home" / "mirror"
    assert s.paths.cache_dir == Path("/abs/cache")
    assert s.engine.model_dir == tmp_path / "etc" / "models"
    assert s.paths.resolved_data_dir() == s.paths.data_dir


# --- unknown names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[jobs]\nworker = 2",
            "Unknown setting jobs.worker in config.toml; did you mean jobs.workers?",
        ),
        (
            "[jobs]\nmax_styles = 2",
            "Unknown setting jobs.max_styles in config.toml; did you mean limits.max_styles?",
        ),
        ("[jobs]\nzzz = 2", "Unknown setting jobs.zzz in config.toml."),
        (
            "[discrod]\ntoken = 'x'",
            "Unknown section [discrod] in config.toml; did you mean [discord]?",
        ),
        ("[gpu]\nx = 1", "Unknown section [gpu] in config.toml."),
        ('token = "x"', "Unknown setting token in config.toml; did you mean discord.token?"),
        ("jobs = 3", "jobs in config.toml must be a table ([jobs])."),
    ],
)
def test_unknown_names(load, text, message):
    assert error(load, text) == message


# --- bad values -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[limits]\nmax_output_side = 4096",
            "limits.max_output_side must be an integer from 64 to 2048, not 4096.",
        ),
        (
            "[limits]\nmax_output_side = 512.0",
            "limits.max_output_side must be an integer from 64 to 2048, not 512.0.",
        ),
        (
            '[limits]\nmax_output_side = "1024"',
            'limits.max_output_side must be an integer from 64 to 2048, not "1024".',
        ),
        (
            "[limits]\nmax_output_side = 1024\ndefault_output_side = 1500",
            "limits.default_output_side must be an integer from 64 to 1024, not 1500.",
        ),
        ("[jobs]\nworkers = 0", "jobs.workers must be an integer of at least 1, not 0."),
        ("[jobs]\nmax_queue = -1", "jobs.max_queue must be an integer of at least 0, not -1."),
        (
            "[jobs]\ncooldown = -0.5",
            "jobs.cooldown must be a number of seconds of at least 0, not -0.5.",
        ),
        (
            "[jobs]\nposition_interval = -1",
            "jobs.position_interval must be a number of seconds of at least 0, not -1.",
        ),
        ("[jobs]\nmax_animated = 0", "jobs.max_animated must be an integer of at least 1, not 0."),
        (
            "[jobs]\nanimation_timeout = 0",
            "jobs.animation_timeout must be a number of seconds greater than 0, not 0.",
        ),
        (
            "[limits]\njob_timeout = 0",
            "limits.job_timeout must be a number of seconds greater than 0, not 0.",
        ),
        (
            "[limits]\ndownload_timeout = inf",
            "limits.download_timeout must be a number of seconds greater than 0, not inf.",
        ),
        (
            '[jobs]\nrestyle_ttl = "15m"',
            'jobs.restyle_ttl must be a number of seconds of at least 0, not "15m".',
        ),
        ('[engine]\nname = "tf"', 'engine.name must be one of "lite", "hub", not "tf".'),
        (
            '[engine]\ntransfer = "fp32"',
            'engine.transfer must be one of "fp16", "int8", not "fp32".',
        ),
        (
            '[logging]\nlevel = "LOUD"',
            'logging.level must be one of "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", '
            'not "LOUD".',
        ),
        ('[discord]\nprefix = ""', 'discord.prefix must be a non-empty string, not "".'),
        (
            "[discord]\nallowed_guilds = 123",
            "discord.allowed_guilds must be a list of Discord IDs (positive integers), not 123.",
        ),
        (
            '[discord]\nallowed_channels = [1, "2"]',
            "discord.allowed_channels must be a list of Discord IDs (positive integers), "
            'not [1, "2"].',
        ),
        ("[paths]\nmirror = 5", "paths.mirror must be a path (string), not 5."),
        ("[paths]\ncache_dir = {a = 1}", "paths.cache_dir must be a path (string), not a table."),
    ],
)
def test_bad_values(load, text, message):
    assert error(load, text) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[jobs]\nworkers = true", "jobs.workers must be an integer of at least 1, not true."),
        (
            "[discord]\nshards = false",
            "discord.shards must be an integer of at least 0, not false.",
        ),
        (
            "[jobs]\ncooldown = true",
            "jobs.cooldown must be a number of seconds of at least 0, not true.",
        ),
        (
            "[discord]\nallowed_guilds = [true]",
            "discord.allowed_guilds must be a list of Discord IDs (positive integers), not [true].",
        ),
    ],
)
def test_bools_are_not_numbers(load, text, message):
    assert error(load, text) == message


def test_long_values_are_shortened(load):
    message = error(load, f'[engine]\nname = "{"x" * 500}"')
    assert message == 'engine.name must be one of "lite", "hub", not "' + "x" * 56 + "...."


def test_a_wrongly_typed_token_is_not_echoed(load):
    assert error(load, "[discord]\ntoken = 12345") == "discord.token must be a string."


# --- invalid files ----------------------------------------------------------------------------


def test_invalid_toml_names_file_and_line(load):
    message = error(load, "[jobs]\nworkers = 2\ncooldown = = 3\n")
    assert message.startswith("Invalid TOML in config.toml at line 3: ")
    assert message.endswith(".") and "(at line" not in message


def test_invalid_toml_at_end_of_document(load):
    message = error(load, "[jobs]\nworkers = [1,\n")
    assert message.startswith("Invalid TOML in config.toml at line ")
    assert "(at " not in message


def test_duplicate_key_is_invalid_toml(load):
    assert error(load, "[jobs]\nworkers = 1\nworkers = 2\n").startswith(
        "Invalid TOML in config.toml at line 3: "
    )


def test_not_utf8(tmp_path):
    path = tmp_path / "config.toml"
    path.write_bytes(b'[discord]\nprefix = "\xff"\n')
    with pytest.raises(ConfigError, match=r"is not UTF-8 text\.$"):
        load_settings(path, env={})


def test_a_directory_is_not_a_config_file(tmp_path):
    with pytest.raises(ConfigError, match=r"^Cannot read config file .*: .*\.$"):
        load_settings(tmp_path, env={})


# --- secrecy ----------------------------------------------------------------------------------


def test_token_never_appears_in_repr_or_str(load):
    s = load('[discord]\ntoken = "hunter2-file"', env={"DISCORD_TOKEN": "hunter2-env"})
    for text in (repr(s), str(s), repr(s.discord), str(s.discord.token), f"{s.discord.token}"):
        assert "hunter2" not in text
    assert "Secret('***')" in repr(s)
    assert s.discord.token.get() == "hunter2-env"


def test_secret_value_semantics():
    assert Secret("a") == Secret("a") != Secret("b")
    assert repr(Secret("")) == str(Secret("x")) == "Secret('***')"
    assert hash(Settings()) == hash(load_settings(env={}))


# --- permissions ------------------------------------------------------------------------------


def test_permission_warning(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[discord]\ntoken = "x"\n')
    path.chmod(0o644)
    warning = check_permissions(path)
    assert warning is not None and "readable by other users" in warning
    assert warning.endswith(f"chmod 600 {path}.")
    path.chmod(0o640)
    assert check_permissions(path) is not None
    path.chmod(0o600)
    assert check_permissions(path) is None
    assert check_permissions(tmp_path / "missing.toml") is None


# --- helpers for other layers -----------------------------------------------------------------


def test_effective_threads(monkeypatch):
    assert EngineSettings(threads=3).effective_threads(workers=4) == 3
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(8)), raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    auto = EngineSettings()
    assert [auto.effective_threads(w) for w in (1, 2, 3, 8, 16)] == [8, 4, 2, 1, 1]


def test_default_output_side_follows_a_smaller_maximum(load):
    limits = load("[limits]\nmax_output_side = 512").limits
    assert (limits.max_output_side, limits.default_output_side) == (512, 512)
    limits = load("[limits]\nmax_output_side = 2048").limits
    assert (limits.max_output_side, limits.default_output_side) == (2048, 1024)


def test_image_limits(load, monkeypatch):
    try:
        import bot.imaging.limits  # noqa: F401  (written in parallel; stand in until it lands)
    except ImportError:

        @dataclasses.dataclass(frozen=True)
        class ImageLimits:
            max_input_bytes: int
            max_input_pixels: int
            max_output_side: int

        stub = types.ModuleType("bot.imaging.limits")
        stub.ImageLimits = ImageLimits
        monkeypatch.setitem(sys.modules, "bot.imaging.limits", stub)
    limits = load("[limits]\nmax_input_bytes = 1000\nmax_output_side = 512").image_limits()
    assert (limits.max_input_bytes, limits.max_input_pixels, limits.max_output_side) == (
        1000,
        40_000_000,
        512,
    )


# --- one declaration per setting (issue 9) ----------------------------------------------------


def test_the_committed_example_is_generated_from_the_declarations():
    committed = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    assert committed == example_toml(), "run: python -m bot.config > config.example.toml"


def test_python_m_bot_config_prints_the_example():
    done = subprocess.run(
        [sys.executable, "-m", "bot.config"], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout == example_toml() and done.stderr == ""


def test_every_declared_default_passes_its_own_rule_and_has_a_comment():
    for section, cls in _SECTIONS.items():
        for declared in dataclasses.fields(cls):
            meta = declared.metadata["setting"]
            assert meta.comment.endswith(".") and "\n" not in meta.comment
            if declared.default is not None and not isinstance(declared.default, Secret):
                raw = list(declared.default) if isinstance(declared.default, tuple) else (
                    declared.default
                )
                assert meta.rule.accepts(raw), f"{section}.{declared.name}"


def test_the_example_comments_fit_the_line_length():
    for line in example_toml().splitlines():
        assert len(line) <= 100, line


def test_engine_names_are_declared_once(capsys):
    import bot.engine
    from bot.cli import build_parser

    assert bot.engine.ENGINE_NAMES is ENGINE_NAMES
    assert _RULES["engine"]["name"].what == 'one of "lite", "hub"'
    stylize = ["stylize", "photo.jpg", "-s", "udnie", "-o", "out.png", "--engine"]
    for name in ENGINE_NAMES:
        assert build_parser().parse_args([*stylize, name]).engine == name
    with pytest.raises(SystemExit):
        build_parser().parse_args([*stylize, "tf"])
    err = capsys.readouterr().err
    assert "invalid choice: 'tf'" in err and all(f"'{name}'" in err for name in ENGINE_NAMES)


def test_image_limits_defaults_are_the_settings_defaults():
    from bot.imaging.limits import ImageLimits

    assert Settings().image_limits() == ImageLimits()


def test_importing_config_stays_light():
    code = (
        "import sys, bot.config; heavy = {'bot.engine', 'bot.imaging', 'PIL', 'numpy', "
        "'platformdirs', 'msgspec'} & set(sys.modules); print(sorted(heavy))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# --- engine.precision -------------------------------------------------------------------------


def test_engine_precision(load):
    assert load("").engine.precision == "auto"
    for value in ("auto", "f32", "bf16"):
        assert load(f'[engine]\nprecision = "{value}"').engine.precision == value
    assert error(load, '[engine]\nprecision = "fp16"') == (
        'engine.precision must be one of "auto", "f32", "bf16", not "fp16".'
    )
    assert error(load, '[engine]\nprecison = "bf16"') == (
        "Unknown setting engine.precison in config.toml; did you mean engine.precision?"
    )


# --- papercut 3: the copied example with a smaller max_output_side ----------------------------


def test_the_copied_example_with_only_a_smaller_max_output_side_loads(load):
    example = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    edited, count = re.subn(r"(?m)^max_output_side = 1024$", "max_output_side = 512", example)
    assert count == 1
    limits = load(edited).limits
    assert (limits.max_output_side, limits.default_output_side) == (512, 512)
    assert limits == LimitSettings(max_output_side=512)


def test_default_output_side_zero_follows_max_output_side(load):
    assert load("[limits]\ndefault_output_side = 0").limits.default_output_side == 1024
    limits = load("[limits]\nmax_output_side = 300\ndefault_output_side = 0").limits
    assert limits.default_output_side == 300
    assert LimitSettings(max_output_side=200).default_output_side == 200
    assert LimitSettings(max_output_side=200, default_output_side=100).default_output_side == 100
    assert error(load, "[limits]\ndefault_output_side = 32") == (
        "limits.default_output_side must be an integer from 64 to 2048, not 32."
    )


# --- papercut 9: paths are normalised ---------------------------------------------------------


def test_a_config_given_through_dot_dot_gives_normalised_paths(tmp_path, monkeypatch):
    (tmp_path / "main").mkdir()
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "stylebot.toml").write_text('[paths]\npresets_dir = "presets"\n')
    monkeypatch.chdir(tmp_path / "main")
    s = load_settings("../cfg/stylebot.toml", env={"STYLEBOT_MIRROR": "../mirror"})
    assert s.paths.presets_dir == tmp_path / "cfg" / "presets"
    assert s.paths.mirror == tmp_path / "mirror"
    assert ".." not in str(s.paths.presets_dir) + str(s.paths.mirror)


def test_dot_dot_after_a_symlink_means_what_the_os_means(tmp_path, monkeypatch):
    """cfg -> real/deep/cfg: cfg/../presets is real/deep/presets, not tmp_path/presets."""
    real = tmp_path / "real" / "deep" / "cfg"
    real.mkdir(parents=True)
    (tmp_path / "cfg").symlink_to(real, target_is_directory=True)
    (real / "stylebot.toml").write_text('[paths]\npresets_dir = "../presets"\ndata_dir = "d"\n')
    monkeypatch.chdir(tmp_path)
    s = load_settings("cfg/stylebot.toml", env={})
    assert s.paths.presets_dir == tmp_path / "real" / "deep" / "presets"
    assert s.paths.data_dir == tmp_path / "cfg" / "d"  # no '..': kept as written


def test_xdg_data_home_must_be_absolute(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", "relative/data")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    paths = load_settings(env={}).paths
    assert paths.resolved_data_dir() == tmp_path / ".local" / "share" / "stylebot"
    assert paths.resolved_cache_dir() == tmp_path / ".cache" / "stylebot"


# -- the painting backend and the shards (issue 10) ---------------------------------------


def test_the_backend_settings(load):
    settings = load('[jobs]\nbackend = "serve"\nserve_url = "http://10.0.0.5:8000/"\n'
                    "remote_slots = 8\nserve_retries = 3\n")
    jobs = settings.jobs
    assert (jobs.backend, jobs.serve_url, jobs.remote_slots, jobs.serve_retries) == (
        "serve", "http://10.0.0.5:8000", 8, 3)
    assert load("").jobs.backend == "local"
    assert "jobs.serve_url must be an http:// or https:// URL" in error(
        load, '[jobs]\nserve_url = "10.0.0.5:8000"\n')
    assert 'jobs.backend must be one of "local", "serve"' in error(
        load, '[jobs]\nbackend = "ray"\n')


@pytest.mark.parametrize(
    ("text", "sharding"),
    [
        ("", None),
        ("shards = 3\n", (3, None)),
        ("shard_count = 4\n", (4, None)),
        ("shard_count = 4\nshard_ids = [3, 1]\n", (4, (1, 3))),
    ],
)
def test_shards_alone_or_split_over_processes(load, text, sharding):
    assert load("[discord]\n" + text).discord.sharding() == sharding


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("shards = 2\nshard_count = 2\n",
         "Set either discord.shards (every shard in this process) or discord.shard_count "
         "(shards shared by several processes), not both."),
        ("shard_ids = [0]\n", "discord.shard_ids needs discord.shard_count, the bot's shards."),
        ("shard_count = 2\nshard_ids = [2]\n",
         "discord.shard_ids must be shard numbers from 0 to 1 (discord.shard_count = 2); got 2."),
        ("shard_count = 2\nshard_ids = [1, 1]\n", "discord.shard_ids must be a list of shard "),
    ],
)
def test_bad_shard_combinations_are_one_sentence(load, text, message):
    assert message in error(load, "[discord]\n" + text)
