"""Benchmark the lite engine against stock TFLite (XNNPACK) and against stylebot's targets."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # repo root before benchmarks/

import argparse  # noqa: E402
import gc  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks import common  # noqa: E402
from benchmarks.common import (  # noqa: E402
    SIZES,
    Runs,
    content_pixels,
    interleaved,
    jpeg_bytes,
    load,
    median,
    model,
    paired_ratio,
    style_path,
)
from benchmarks.litert_patched import StockTransfer  # noqa: E402
from benchmarks.ov_profile import conv_flops, conv_shapes, profile  # noqa: E402
from benchmarks.processes import cli_runs, import_runs, peak_rss  # noqa: E402
from bot.engine.lite import LiteEngine  # noqa: E402
from bot.engine.openvino_net import TransferNetwork, make_core  # noqa: E402
from bot.imaging import ImageLimits, decode_image, encode_image  # noqa: E402
from bot.pipeline import StylizeOptions, style_from_file, stylize  # noqa: E402

THREADS = 2
PEAK_GFLOPS = 190.0  # 2 Zen 3 cores: 2 FMA x 8 fp32 lanes x 2 flops x ~3 GHz each
SECTIONS = ("transfer", "profile", "compile", "allin", "rss", "cli")
checks: list[tuple[str, float, float, str]] = []  # (what, measured, target, comparison)


def table(title: str, header: list[str], rows: list[list[object]]) -> None:
    """Print a plain aligned table."""
    cells = [header] + [[f"{c:.3g}" if isinstance(c, float) else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    print(f"\n## {title}")
    for n, row in enumerate(cells):
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def transfer(vector: np.ndarray, reps: int, quick: bool) -> TransferNetwork:
    """Section 1-2: lite vs stock transfer, interleaved, per size; ms/MP and GFLOP/s."""
    lite = TransferNetwork(make_core(None), model("fp16"), THREADS, cache_size=1)
    rows, rates = [], []
    for width, height in SIZES:
        pixels = content_pixels(width, height)
        megapixels = width * height / 1e6
        gflop = sum(conv_flops(lite, height, width).values()) / 1e9
        lite.compiled_for(height, width)
        cases = {"lite": lambda p=pixels: lite(p, vector)}
        setup = diff = float("nan")
        if not (quick and width > 1024):
            start = time.perf_counter()
            stock = StockTransfer(model("fp16"), height, width, THREADS)
            setup = time.perf_counter() - start
            diff = float(np.abs(lite(pixels, vector) - stock(pixels, vector)).max())
            cases["stock"] = lambda p=pixels, s=stock: s(p, vector)
        runs = interleaved(cases, reps)
        cases.clear()
        stock = None
        gc.collect()
        lite_runs, stock_runs = runs["lite"], runs.get("stock")
        ratio = paired_ratio(lite_runs, stock_runs) if stock_runs else float("nan")
        stock_s = stock_runs.best() if stock_runs else float("nan")
        others = median(sum((r.others for r in runs.values()), []))
        rows.append([f"{width}x{height}", lite_runs.label(),
                     stock_runs.label() if stock_runs else "-", ratio, f"{diff:.1e}", setup,
                     others])
        lite_s = lite_runs.best()
        rates.append([f"{width}x{height}", megapixels, lite_s * 1e3, lite_s * 1e3 / megapixels,
                      gflop, gflop / lite_s, f"{100 * gflop / lite_s / PEAK_GFLOPS:.0f}%",
                      gflop / stock_s])
        if (width, height) == (1024, 768):
            checks.append(("lite transfer 1024x768 (s)", lite_s, 0.30, "<="))
            checks.append(("lite/stock ratio 1024x768", ratio, 0.55, "<="))
    table(f"1. fp16 transfer, lite (OpenVINO) vs stock (ai_edge_litert + XNNPACK), {THREADS} "
          f"threads, {reps} interleaved rounds; ms as median (quiet median, quiet runs)",
          ["size", "lite ms", "stock ms", "lite/stock", "max|diff|", "stock setup s",
           "others' cores"], rows)
    table(f"2a. throughput of the lite transfer (quiet median when >= 3 quiet runs); peak "
          f"{PEAK_GFLOPS:.0f} GFLOP/s", ["size", "MP", "lite ms", "ms/MP", "conv GFLOP",
                                         "GFLOP/s", "of peak", "stock GFLOP/s"], rates)
    return lite


def profile_section(lite: TransferNetwork, vector: np.ndarray, runs: int) -> None:
    """Section 2: conv FLOPs from the graph; where the 1024x768 time goes (PERF_COUNT)."""
    native = sum(conv_flops(lite, 384, 384).values()) / 1e9
    flops = conv_flops(lite, 768, 1024)
    print(f"\nconv FLOPs counted from the OpenVINO graph ({len(flops)} Convolutions): "
          f"{native:.3f} GFLOP at 384x384 = {native / (384 * 384 / 1e6):.2f} GFLOP/MP; "
          f"{sum(flops.values()) / 1e9:.2f} GFLOP at 1024x768")
    by_type, by_name = profile(make_core(None), lite, content_pixels(1024, 768), vector, runs)
    total = sum(by_type.values())
    rows = [[kind, ms, f"{100 * ms / total:.0f}%"]
            for kind, ms in sorted(by_type.items(), key=lambda kv: -kv[1])[:7]]
    table(f"2b. where 1024x768 goes: PERF_COUNT real_time by node type, mean of {runs} "
          f"(sum {total:.0f} ms)", ["node type (kernel)", "ms", "share"], rows)
    shapes = conv_shapes(lite, 768, 1024)
    top = sorted(((ms, name) for name, ms in by_name.items() if name in flops), reverse=True)
    rows = [[name, shapes[name], ms, flops[name] / 1e9, flops[name] / ms / 1e6]
            for ms, name in top[:6]]
    table("2c. slowest convolutions at 1024x768", ["node", "Cin->Cout k @HxW", "ms", "GFLOP",
                                                   "GFLOP/s"], rows)


def compile_section(reps: int) -> None:
    """Section 3: compile time for a new size, fresh Core uncached vs warm CACHE_DIR."""
    height, width = 768, 1024
    read, first, runs = Runs(), Runs(), {"uncached": Runs(), "cached": Runs()}
    with tempfile.TemporaryDirectory(prefix="stylebot-ovcache-") as tmp:
        first.add(lambda: TransferNetwork(make_core(Path(tmp)), model("fp16"), THREADS
                                          ).compiled_for(height, width))
        for _ in range(reps):
            read.add(lambda: TransferNetwork(make_core(None), model("fp16"), THREADS))
            for name, cache in (("uncached", None), ("cached", Path(tmp))):
                network = TransferNetwork(make_core(cache), model("fp16"), THREADS)
                runs[name].add(lambda n=network: n.compiled_for(height, width))
    rows = [["read_model: fresh Core + TransferNetwork", read.label()],
            ["compile, first with empty CACHE_DIR (writes the blob)", first.label()],
            ["compile, fresh Core, no CACHE_DIR", runs["uncached"].label()],
            ["compile, fresh Core, warm CACHE_DIR", runs["cached"].label()]]
    table(f"3. a new size (1024x768): {reps} interleaved rounds", ["what", "ms"], rows)


def allin_section(reps: int) -> None:
    """Section 4: warm JPEG bytes -> decode -> pipeline.stylize -> PNG bytes at 1024x768."""
    limits = ImageLimits()
    with tempfile.TemporaryDirectory(prefix="stylebot-allin-") as tmp:
        engine = LiteEngine(model("prediction"), model("fp16"), threads=THREADS,
                            vector_dir=Path(tmp) / "v", compile_cache=Path(tmp) / "ov")
        style = style_from_file(style_path(), limits)
        engine.warm_up([style])
        data, options = jpeg_bytes(1024, 768), StylizeOptions()
        stages: dict[str, list[float]] = {"decode": [], "pipeline.stylize": [], "encode PNG": []}

        def once() -> None:
            t0 = time.perf_counter()
            image = decode_image(data, limits)
            t1 = time.perf_counter()
            painted = stylize(engine, image, [style], options)
            t2 = time.perf_counter()
            encode_image(painted, "PNG")
            for name, sec in zip(stages, (t1 - t0, t2 - t1, time.perf_counter() - t2),
                                 strict=True):
                stages[name].append(sec)

        once()  # warm-up
        for values in stages.values():
            values.clear()
        total = Runs()
        for _ in range(reps):
            total.add(once)
        engine.close()
    rows = [[name, f"{median(v) * 1e3:.0f}"] for name, v in stages.items()]
    rows.append(["all-in", total.label()])
    checks.append(("all-in stylize 1024x768 warm (s)", total.best(), 0.45, "<="))
    table(f"4. all-in warm, 1024x768 JPEG bytes -> PNG bytes, {reps} runs; ms as median "
          "(quiet median, quiet runs)", ["stage", "ms"], rows)


def rss_section() -> None:
    """Section 5: peak RSS of one stylization in a fresh process, cold then warm caches."""
    rows = []
    for side, target in ((1024, 400.0), (2048, 900.0)):
        with tempfile.TemporaryDirectory(prefix="stylebot-rss-") as tmp:
            for state in ("empty", "warm"):
                r = peak_rss(side, Path(tmp))
                rows.append([f"{r['size'][0]}x{r['size'][1]}", state, r["imports_mb"],
                             r["peak_mb"], r["psutil_mb"], target])
        checks.append((f"peak RSS {side} px, warm cache (MB)", r["peak_mb"], target, "<="))
    table("5. peak RSS (MiB), lite engine, one JPEG -> PNG stylization in a fresh process",
          ["output", "cache", "RSS after imports", "VmHWM (peak)", "psutil peak", "target"], rows)


def cli_section(reps: int, first_reps: int) -> None:
    """Section 6: `stylebot stylize` 512 px wall time, warm cache and empty cache."""
    warm, first = cli_runs(reps, first_reps)
    rows = [["warm cache", warm.label()], ["empty cache (first run ever)", first.label()]]
    rows += [[f"python -c 'import {m}'", import_runs(m).label()]
             for m in ("bot.cli", "bot.commands.stylize", "openvino")]
    checks.append(("CLI 512 px, warm cache (s)", warm.best(), 1.5, "<="))
    table(f"6. stylebot stylize examples/astronaut.jpg -s starry-night (512x512) in a fresh "
          f"process, {reps} warm / {first_reps} empty-cache runs interleaved; ms as median "
          "(quiet median, quiet runs)", ["run", "ms"], rows)


def main() -> None:
    """Parse arguments and run the chosen sections."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="3 repetitions, no stock run at 2048x1536 (a smoke test)")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=SECTIONS)
    parser.add_argument("--patience", type=float, default=0.0, metavar="S",
                        help="let each timed run wait up to S seconds for a quiet machine")
    args = parser.parse_args()
    common.patience = args.patience
    reps = 3 if args.quick else 7
    print(f"start: {load()}")
    with tempfile.TemporaryDirectory(prefix="stylebot-vec-") as tmp:
        engine = LiteEngine(model("prediction"), model("fp16"), vector_dir=Path(tmp))
        vector = engine.style_vector(style_from_file(style_path(), ImageLimits()))
    lite = None
    if "transfer" in args.only:
        lite = transfer(vector, reps, args.quick)
    if "profile" in args.only:
        lite = lite or TransferNetwork(make_core(None), model("fp16"), THREADS)
        profile_section(lite, vector, 2 if args.quick else 5)
    if "compile" in args.only:
        compile_section(reps)
    if "allin" in args.only:
        allin_section(reps)
    if "rss" in args.only:
        rss_section()
    if "cli" in args.only:
        cli_section(3 if args.quick else 5, 1 if args.quick else 3)
    print(f"\nend: {load()}")
    table("targets", ["what", "measured", "target", "met"],
          [[what, value, f"{op} {target}", "yes" if value <= target else "NO"]
           for what, value, target, op in checks])


if __name__ == "__main__":
    main()
