"""`stylebot serve` as a real process: it starts Ray, prints its URL, answers, stops on SIGINT."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

import psutil

from tests.commands import STYLEBOT, shared_cache_dir
from tests.service.cluster import LOOPBACK, free_port, still_running
from tests.service.http import EXAMPLES


def serve_env(mirror_dir, tmp_path_factory) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("STYLEBOT_CONFIG", "RAY_ADDRESS")}
    env["STYLEBOT_MIRROR"] = str(mirror_dir)
    env["STYLEBOT_CACHE_DIR"] = str(shared_cache_dir(tmp_path_factory))
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


def multipart(fields: list[tuple[str, bytes, str | None]]) -> tuple[bytes, str]:
    boundary = "stylebot-test-boundary"
    body = b""
    for name, value, filename in fields:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        body += value + b"\r\n"
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def test_serve_starts_answers_and_stops_cleanly_on_sigint(mirror_dir, tmp_path_factory, tmp_path):
    port = free_port()
    errors = (tmp_path / "stderr.txt").open("w+")  # a file: Ray's chatter never fills a pipe
    process = subprocess.Popen(
        [STYLEBOT, "serve", "--replicas", "1", "--host", LOOPBACK, "--port", str(port)],
        env=serve_env(mirror_dir, tmp_path_factory),
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


def test_serve_without_ray_installed_says_how_to_install_it():
    hide_ray = (
        "import sys; sys.modules['ray'] = None; from bot.cli import main; sys.exit(main(['serve']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", hide_ray],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "STYLEBOT_CONFIG"},
    )
    assert done.returncode == 1
    assert done.stderr == (
        'error: Ray Serve is not installed; run pip install "stylebot[serve]".\n'
    )


def test_serve_refuses_a_bad_option_in_one_sentence():
    done = subprocess.run(
        [STYLEBOT, "serve", "--replicas", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "STYLEBOT_CONFIG"},
    )
    assert done.returncode == 1
    assert done.stderr == "error: --replicas must be an integer of at least 1, not 0.\n"


def test_serve_refuses_a_cluster_nobody_answers_for():
    address = f"{LOOPBACK}:{free_port()}"
    done = subprocess.run(
        [STYLEBOT, "serve", "--address", address],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "STYLEBOT_CONFIG"},
    )
    assert done.returncode == 1
    assert (
        done.stderr == f"error: Could not reach the Ray cluster at {address}: connection refused.\n"
    )
