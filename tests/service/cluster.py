"""The test session's Ray cluster: a head and a second node on loopback, one CPU each."""

from __future__ import annotations

import os
import socket
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil

from bot.config import Settings, load_settings, override

LOOPBACK = "127.0.0.1"
PAINTER_APP = "stylebot-painters"
PAINTER_CLASS = f"ServeReplica:{PAINTER_APP}:Painter"
HAPROXY_PAINTERS = f"http-{PAINTER_APP}"  # the painters' backend in Serve's HAProxy config


def free_port() -> int:
    """A TCP port nobody listens on right now (loopback)."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def own_haproxy_ports() -> dict[str, str]:
    """Environment variables giving a Ray instance's HAProxy ingress free ports for its stats
    page, its Prometheus metrics and Serve's fallback proxy (Serve's defaults, 8404, 9101 and
    8500/9500, would clash with a second instance on this machine)."""
    names = ("RAY_SERVE_HAPROXY_STATS_PORT", "RAY_SERVE_HAPROXY_METRICS_PORT",
             "RAY_SERVE_FALLBACK_PROXY_HTTP_PORT", "RAY_SERVE_FALLBACK_PROXY_GRPC_PORT")
    return {name: str(free_port()) for name in names}


def service_settings(mirror: Path, cache: Path, **service: object) -> Settings:
    """Settings for a test service: the mirror, a shared throwaway cache, small limits."""
    settings = load_settings(env={})
    settings = override(settings, "paths", {"mirror": str(mirror), "cache_dir": str(cache)})
    settings = override(
        settings, "limits", {"max_input_bytes": 2 * 1024 * 1024, "max_output_side": 2048}
    )
    return override(settings, "service", service)


def processes_of(session_dir: str) -> list[psutil.Process]:
    """Every live process of one Ray session: those with its folder on their command line
    (raylet, GCS, ...) and their descendants (workers rename themselves ray::...)."""
    name = Path(session_dir).name
    found: dict[int, psutil.Process] = {}
    for process in psutil.process_iter(["cmdline"]):
        try:
            if any(name in part for part in process.info["cmdline"] or ()):
                found[process.pid] = process
                found.update({child.pid: child for child in process.children(recursive=True)})
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return list(found.values())


def still_running(processes: list[psutil.Process]) -> list[psutil.Process]:
    """The processes of the list that are still running (zombies count as gone)."""
    alive = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
        except psutil.NoSuchProcess:
            continue
    return alive


def painter_actors() -> list[dict]:
    """The alive Painter replicas of the connected cluster: actor id, pid, node id (from the
    GCS actor table: the state API would need the dashboard, which the test cluster skips)."""
    from ray._private import state

    return [
        {"actor_id": actor_id, "pid": info["Pid"], "node_id": info["Address"]["NodeID"]}
        for actor_id, info in state.actors().items()
        if info["ActorClassName"] == PAINTER_CLASS and info["State"] == "ALIVE"
    ]


def haproxy_painters_up() -> int | None:
    """How many painter replicas HAProxy has UP, from its stats page (on the port the session
    gave it, RAY_SERVE_HAPROXY_STATS_PORT), or None where there is no such port."""
    port = os.environ.get("RAY_SERVE_HAPROXY_STATS_PORT")
    if port is None:
        return None
    try:
        with urllib.request.urlopen(f"http://{LOOPBACK}:{port}/stats;csv", timeout=2) as page:
            lines = page.read().decode().splitlines()
    except OSError:
        return 0
    header = lines[0].lstrip("# ").split(",")
    rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line]
    return sum(
        1 for row in rows
        if row["pxname"] == HAPROXY_PAINTERS and row["svname"].startswith("SERVE_REPLICA")
        and row["status"].startswith("UP")
    )


def wait_for_painters(
    count: int, *, without: set[str] = frozenset(), timeout: float = 90
) -> list[dict]:
    """Wait until `count` painters are alive (none of them in `without`), Serve says so, and
    HAProxy sends requests to all of them (it learns of a new replica a moment later)."""
    from ray import serve

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        actors = [a for a in painter_actors() if a["actor_id"] not in without]
        apps = serve.status().applications
        running = all(
            (status := apps.get(name)) is not None and status.status == "RUNNING"
            for name in ("stylebot", PAINTER_APP)
        )
        if len(actors) == count and running and haproxy_painters_up() in (None, count):
            return actors
        time.sleep(0.5)
    raise AssertionError(f"{count} painter replicas were not running within {timeout} s.")


@dataclass
class Service:
    """A running service: its URL, its settings, and the cluster's session folder."""

    url: str
    settings: Settings
    session_dir: str
