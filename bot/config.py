"""One Settings object for the bot and the CLI, read from a TOML file and the environment."""

from __future__ import annotations

import difflib
import math
import os
import re
import shlex
import stat
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.errors import ConfigError
from bot.machine import usable_cores

if TYPE_CHECKING:
    from bot.imaging.limits import ImageLimits

HUB_HANDLE = "https://tfhub.dev/google/magenta/arbitrary-image-stylization-v1-256/2"
NO_TOKEN = "No Discord token: set DISCORD_TOKEN or discord.token in the config file."


class Secret:
    """A string that never shows itself in repr() or str(); call get() for the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str = "") -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


@dataclass(frozen=True)
class DiscordSettings:
    token: Secret = Secret()  # empty = not configured
    prefix: str = "!"
    test_guild: int = 0  # nonzero: sync app commands to this guild only
    allowed_guilds: tuple[int, ...] = ()  # empty = all
    allowed_channels: tuple[int, ...] = ()  # empty = all
    shards: int = 0  # 0 = plain Bot, N > 0 = AutoShardedBot(shard_count=N)

    def require_token(self) -> str:
        """Return the token, or raise ConfigError when none is configured."""
        if not self.token:
            raise ConfigError(NO_TOKEN)
        return self.token.get()


@dataclass(frozen=True)
class EngineSettings:
    name: str = "lite"
    transfer: str = "fp16"
    precision: str = "auto"  # the lite transfer net's: "auto" (OpenVINO's choice), "f32", "bf16"
    hub_handle: str = HUB_HANDLE
    threads: int = 0  # 0 = auto
    model_dir: Path | None = None

    def effective_threads(self, workers: int) -> int:
        """Inference threads per worker: the setting, or the usable cores shared among workers."""
        if self.threads > 0:
            return self.threads
        return max(1, usable_cores() // max(1, workers))


@dataclass(frozen=True)
class LimitSettings:
    max_input_bytes: int = 25 * 1024 * 1024
    max_input_pixels: int = 40_000_000
    max_output_side: int = 1024
    default_output_side: int = 1024
    download_timeout: float = 20.0
    job_timeout: float = 120.0
    max_styles: int = 4
    max_upload_bytes: int = 0  # 0 = whatever Discord allows in the guild or interaction


@dataclass(frozen=True)
class JobSettings:
    workers: int = 1
    max_queue: int = 20
    per_user: int = 1
    cooldown: float = 10.0
    grace_period: float = 30.0
    restyle_ttl: float = 900.0
    position_interval: float = 5.0  # shortest gap between two queue-position edits; 0 = none


def _xdg_dir(variable: str, fallback: str) -> Path:
    base = os.environ.get(variable, "")
    return Path(base if os.path.isabs(base) else Path.home() / fallback) / "stylebot"


@dataclass(frozen=True)
class PathSettings:
    """Directories; None means not configured (neither in the file nor in the environment)."""

    data_dir: Path | None = None
    presets_dir: Path | None = None
    cache_dir: Path | None = None
    mirror: Path | None = None

    def resolved_data_dir(self) -> Path:
        """data_dir, else $XDG_DATA_HOME/stylebot, else ~/.local/share/stylebot."""
        return self.data_dir or _xdg_dir("XDG_DATA_HOME", ".local/share")

    def resolved_cache_dir(self) -> Path:
        """cache_dir, else $XDG_CACHE_HOME/stylebot, else ~/.cache/stylebot."""
        return self.cache_dir or _xdg_dir("XDG_CACHE_HOME", ".cache")


@dataclass(frozen=True)
class LoggingSettings:
    level: str = "INFO"


@dataclass(frozen=True)
class Settings:
    discord: DiscordSettings = field(default_factory=DiscordSettings)
    engine: EngineSettings = field(default_factory=EngineSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
    jobs: JobSettings = field(default_factory=JobSettings)
    paths: PathSettings = field(default_factory=PathSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)

    def image_limits(self) -> ImageLimits:
        from bot.imaging.limits import ImageLimits

        lim = self.limits
        return ImageLimits(lim.max_input_bytes, lim.max_input_pixels, lim.max_output_side)


# --- validation table -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    what: str  # completes "x must be ..."
    accepts: Callable[[Any], bool]
    convert: Callable[[Any], Any] = lambda value: value
    is_path: bool = False
    secret: bool = False


def _int(low: int, high: int | None = None) -> _Rule:
    what = (
        f"an integer from {low} to {high}" if high is not None else f"an integer of at least {low}"
    )
    return _Rule(what, lambda v: type(v) is int and low <= v and (high is None or v <= high))


def _seconds(*, positive: bool = False) -> _Rule:
    what = "a number of seconds " + ("greater than 0" if positive else "of at least 0")
    return _Rule(
        what,
        lambda v: type(v) in (int, float) and math.isfinite(v) and (v > 0 if positive else v >= 0),
        float,
    )


def _text(*, nonempty: bool = False) -> _Rule:
    return _Rule(
        "a non-empty string" if nonempty else "a string",
        lambda v: isinstance(v, str) and (bool(v) or not nonempty),
    )


def _choice(*options: str) -> _Rule:
    return _Rule("one of " + ", ".join(f'"{o}"' for o in options), lambda v: v in options)


_PATH = _Rule("a path (string)", lambda v: isinstance(v, str), is_path=True)
_IDS = _Rule(
    "a list of Discord IDs (positive integers)",
    lambda v: isinstance(v, list) and all(type(i) is int and i > 0 for i in v),
    tuple,
)
_TOKEN = _Rule("a string", lambda v: isinstance(v, str), lambda v: Secret(v.strip()), secret=True)

_RULES: dict[str, dict[str, _Rule]] = {
    "discord": {
        "token": _TOKEN,
        "prefix": _text(nonempty=True),
        "test_guild": _int(0),
        "allowed_guilds": _IDS,
        "allowed_channels": _IDS,
        "shards": _int(0),
    },
    "engine": {
        "name": _choice("lite", "hub"),
        "transfer": _choice("fp16", "int8"),
        "precision": _choice("auto", "f32", "bf16"),
        "hub_handle": _text(nonempty=True),
        "threads": _int(0),
        "model_dir": _PATH,
    },
    "limits": {
        "max_input_bytes": _int(1),
        "max_input_pixels": _int(1),
        "max_output_side": _int(64, 2048),
        "default_output_side": _int(64, 2048),
        "download_timeout": _seconds(positive=True),
        "job_timeout": _seconds(positive=True),
        "max_styles": _int(1),
        "max_upload_bytes": _int(0),
    },
    "jobs": {
        "workers": _int(1),
        "max_queue": _int(0),
        "per_user": _int(1),
        "cooldown": _seconds(),
        "grace_period": _seconds(),
        "restyle_ttl": _seconds(),
        "position_interval": _seconds(),
    },
    "paths": {"data_dir": _PATH, "presets_dir": _PATH, "cache_dir": _PATH, "mirror": _PATH},
    "logging": {"level": _choice("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")},
}
_SECTIONS = {
    "discord": DiscordSettings,
    "engine": EngineSettings,
    "limits": LimitSettings,
    "jobs": JobSettings,
    "paths": PathSettings,
    "logging": LoggingSettings,
}
# variable -> (section, key, whether it beats the file; otherwise it only fills an empty value)
_ENV = {
    "DISCORD_TOKEN": ("discord", "token", True),
    "STYLEBOT_DATA_DIR": ("paths", "data_dir", False),
    "STYLEBOT_CACHE_DIR": ("paths", "cache_dir", False),
    "STYLEBOT_MIRROR": ("paths", "mirror", False),
}


# --- loading ----------------------------------------------------------------------------------


def load_settings(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read the config file (path, else $STYLEBOT_CONFIG, else none) and the environment."""
    env = os.environ if env is None else env
    if path is None and env.get("STYLEBOT_CONFIG"):
        path = env["STYLEBOT_CONFIG"]
    data, base = {}, Path.cwd()
    if path is not None:
        data, base = _read_toml(path), Path(path).expanduser().absolute().parent
        _reject_unknown(data, str(path))

    values: dict[str, dict[str, Any]] = {}
    for section, rules in _RULES.items():
        values[section] = {
            key: _convert(f"{section}.{key}", rules[key], raw, base)
            for key, raw in data.get(section, {}).items()
        }
    for variable, (section, key, wins) in _ENV.items():
        raw = env.get(variable, "")
        if raw.strip() and (wins or values[section].get(key) is None):
            values[section][key] = _convert(variable, _RULES[section][key], raw, Path.cwd())

    limits = values["limits"]  # default_output_side follows a smaller max_output_side unless set
    largest = limits.get("max_output_side", LimitSettings.max_output_side)
    side = limits.setdefault("default_output_side", min(LimitSettings.default_output_side, largest))
    _convert("limits.default_output_side", _int(64, largest), side, base)
    return Settings(**{name: cls(**values[name]) for name, cls in _SECTIONS.items()})


def check_permissions(path: str | Path) -> str | None:
    """A warning sentence if the config file (which may hold the token) is readable by others."""
    try:
        mode = Path(path).stat().st_mode
    except OSError:
        return None
    if os.name == "nt" or not mode & (stat.S_IRGRP | stat.S_IROTH):
        return None
    return (
        f"{path} is readable by other users and may hold the Discord token; "
        f"run chmod 600 {shlex.quote(str(path))}."
    )


def _read_toml(path: str | Path) -> dict[str, Any]:
    try:
        text = Path(path).expanduser().read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"Config file {path} does not exist.") from None
    except OSError as error:
        raise ConfigError(f"Cannot read config file {path}: {error.strerror}.") from None
    except UnicodeDecodeError:
        raise ConfigError(f"Config file {path} is not UTF-8 text.") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"\s*\(at line (\d+), column \d+\)$", str(error))
        line = match.group(1) if match else str(text.count("\n") + 1)
        reason = str(error)[: match.start()] if match else str(error).split(" (at ")[0]
        raise ConfigError(
            f"Invalid TOML in {path} at line {line}: {reason[:1].lower()}{reason[1:]}."
        ) from None


def _reject_unknown(data: dict[str, Any], where: str) -> None:
    dotted = {f"{name}.{key}": f"{name}.{key}" for name, rules in _RULES.items() for key in rules}
    for section, table in data.items():
        if section not in _RULES and isinstance(table, dict):
            hint = _close(section, {name: f"[{name}]" for name in _RULES})
            raise ConfigError(f"Unknown section [{section}] in {where}{hint}")
        if section not in _RULES:  # a bare key outside any section
            hint = _close(section, {key.split(".")[1]: key for key in dotted})
            raise ConfigError(f"Unknown setting {section} in {where}{hint}")
        if not isinstance(table, dict):
            raise ConfigError(f"{section} in {where} must be a table ([{section}]).")
        for key in table:
            if key not in _RULES[section]:
                hint = _close(f"{section}.{key}", dotted)
                raise ConfigError(f"Unknown setting {section}.{key} in {where}{hint}")


def _close(word: str, shown: Mapping[str, str]) -> str:
    """'; did you mean X?' naming the closest candidate key of shown, or '.' if none is close."""
    match = difflib.get_close_matches(word, list(shown), n=1)
    return f"; did you mean {shown[match[0]]}?" if match else "."


def _convert(name: str, rule: _Rule, value: Any, base: Path) -> Any:
    if not rule.accepts(value):
        shown = "" if rule.secret else f", not {_show(value)}"
        raise ConfigError(f"{name} must be {rule.what}{shown}.")
    if rule.is_path:
        return base / Path(value).expanduser() if value else None
    return rule.convert(value)


def _show(value: Any) -> str:
    if isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, str):
        text = f'"{value}"'
    elif isinstance(value, list):
        text = "[" + ", ".join(map(_show, value)) + "]"
    elif isinstance(value, dict):
        text = "a table"
    else:
        text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."
