"""Benchmark the lite engine against stock TFLite (XNNPACK) and against stylebot's targets."""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks import common
from benchmarks.common import (
    SIZES,
    Runs,
    content_pixels,
    cpu_summary,
    interleaved,
    jpeg_bytes,
    load,
    median,
    model,
    paired_ratio,
    style_path,
)
from benchmarks.litert_patched import StockTransfer
from benchmarks.ov_profile import conv_flops, conv_shapes, profile
from benchmarks.processes import cli_runs, import_runs, peak_rss
from bot.engine.lite import LiteEngine
from bot.engine.openvino_net import TransferNetwork, cpu_capabilities, make_core
from bot.imaging import ImageLimits, decode_image, encode_image
from bot.machine import usable_cores
from bot.stylization import StylizeOptions, style_from_file, stylize

THREADS = 2
SECTIONS = ("accuracy", "transfer", "profile", "compile", "allin", "rss", "cli")
checks: list[tuple[str, float, float, str]] = []  # (what, measured, target, comparison)


@dataclass(frozen=True)
class Peak:
    """The CPU's peak multiply-add throughput for this process, per precision."""

    f32: float  # GFLOP/s
    bf16: float
    how: str


def _lscpu() -> dict[str, str]:
    import subprocess

    text = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    return {k.strip(): v.strip() for k, v in (ln.split(":", 1) for ln in text.splitlines()
                                              if ":" in ln)}


def cpu_peak(cores: int = THREADS) -> Peak:
    """Peak GFLOP/s from the CPU's flags, `cores` cores and its clock.

    f32: 2 FMA units x lanes x 2 FLOP per cycle; lanes 16 with AVX-512 (8 on AMD Zen 4, which
    runs 512-bit FMAs as two 256-bit halves; Zen 5 has the vp2intersect flag and full width),
    8 with AVX2. bf16: AVX512_BF16's dot products do twice the f32 rate; AMX-BF16 ~1024 FLOP
    per cycle per core; without either, bf16 runs as f32. The clock is lscpu's max MHz, or
    /proc/cpuinfo's current MHz on VMs that hide it.
    """
    info = _lscpu()
    flags = set(info.get("Flags", "").split())
    mhz = float(info.get("CPU max MHz", "0") or 0)
    if not mhz:
        with open("/proc/cpuinfo") as cpuinfo:
            mhz = next((float(ln.split(":")[1]) for ln in cpuinfo if ln.startswith("cpu MHz")), 0)
    ghz = mhz / 1000 or 3.0
    amd = info.get("Vendor ID", "") == "AuthenticAMD"
    if "avx512f" in flags:
        half = amd and "avx512_vp2intersect" not in flags
        lanes, isa = (8, "AVX-512 on 256-bit units") if half else (16, "AVX-512")
    elif "avx2" in flags and "fma" in flags:
        lanes, isa = 8, "AVX2 FMA"
    else:
        lanes, isa = 4, "SSE"
    f32_cycle = 2 * lanes * 2
    if "amx_bf16" in flags:
        bf16_cycle, bf16_isa = 1024, "AMX-BF16"
    elif "avx512_bf16" in flags:
        bf16_cycle, bf16_isa = 2 * f32_cycle, "AVX512_BF16"
    else:
        bf16_cycle, bf16_isa = f32_cycle, "none (bf16 runs as f32)"
    how = (f"{cores} cores x {ghz:.2f} GHz; f32 {f32_cycle} FLOP/cycle ({isa}), "
           f"bf16 {bf16_cycle} FLOP/cycle ({bf16_isa})")
    return Peak(cores * ghz * f32_cycle, cores * ghz * bf16_cycle, how)


def table(title: str, header: list[str], rows: list[list[object]]) -> None:
    """Print a plain aligned table."""
    cells = [header] + [[f"{c:.3g}" if isinstance(c, float) else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    print(f"\n## {title}")
    for n, row in enumerate(cells):
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def variants(core) -> dict[str, TransferNetwork]:
    """The lite transfer net in each precision the CPU runs natively, MVN rewrite off and on."""
    precisions = ["f32", "bf16"] if "BF16" in cpu_capabilities(core) else ["f32"]
    nets = {}
    for precision in precisions:
        for rewrite in (False, True):
            net = TransferNetwork(core, model("fp16"), THREADS, cache_size=1,
                                  precision=precision, rewrite_norms=rewrite)
            nets[f"{precision}{' MVN' if rewrite else ''}"] = net
    return nets


def default_variant(core) -> str:
    """Which of `variants` the engine uses with the default settings (precision auto)."""
    net = TransferNetwork(core, model("fp16"), THREADS)
    return f"{net.expected_precision}{' MVN' if net.rewrite_norms else ''}"


def transfer(vector: np.ndarray, reps: int, quick: bool, peak: Peak) -> None:
    """Section 1-2: lite in each precision, before/after the MVN rewrite, vs stock, per size."""
    core = make_core(None)
    nets = variants(core)
    default = default_variant(core)
    rows, rates = [], []
    for width, height in SIZES:
        pixels = content_pixels(width, height)
        megapixels = width * height / 1e6
        gflop = sum(conv_flops(next(iter(nets.values())), height, width).values()) / 1e9
        cases = {}
        for name, net in nets.items():
            net.compiled_for(height, width)
            cases[name] = lambda p=pixels, n=net: n(p, vector)
        outputs = {name: net(pixels, vector) for name, net in nets.items()}
        setup = float("nan")
        stock_out = None
        if not (quick and width > 1024):
            start = time.perf_counter()
            stock = StockTransfer(model("fp16"), height, width, THREADS)
            setup = time.perf_counter() - start
            stock_out = stock(pixels, vector)
            cases["stock"] = lambda p=pixels, s=stock: s(p, vector)
        runs = interleaved(cases, reps)
        cases.clear()
        stock = None
        gc.collect()
        stock_runs = runs.pop("stock", None)
        stock_s = stock_runs.best() if stock_runs else float("nan")
        others = median(sum((r.others for r in runs.values()), []))
        for name, lite_runs in runs.items():
            net = nets[name]
            ratio = paired_ratio(lite_runs, stock_runs) if stock_runs else float("nan")
            diff = (float(np.abs(outputs[name] - stock_out).max())
                    if stock_out is not None else float("nan"))
            lite_s = lite_runs.best()
            label = name + (" (default)" if name == default else "")
            rows.append([f"{width}x{height}", label, net.precision, lite_runs.label(),
                         stock_runs.label() if stock_runs else "-", ratio, f"{diff:.1e}",
                         setup, others])
            top = peak.bf16 if net.precision == "bf16" else peak.f32
            rates.append([f"{width}x{height}", label, megapixels, lite_s * 1e3,
                          lite_s * 1e3 / megapixels, gflop, gflop / lite_s,
                          f"{100 * gflop / lite_s / top:.0f}% of {top:.0f}", gflop / stock_s])
            if (width, height) == (1024, 768) and name == default:
                checks.append(("lite transfer 1024x768 (s)", lite_s, 0.30, "<="))
                checks.append(("lite/stock ratio 1024x768", ratio, 0.55, "<="))
        for name in runs:
            if name.endswith(" MVN"):
                plain = outputs[name.removesuffix(" MVN")]
                mse = float(np.mean((outputs[name] - plain) ** 2))
                print(f"{width}x{height} {name} vs {name.removesuffix(' MVN')}: PSNR "
                      f"{10 * np.log10(1 / mse) if mse else float('inf'):.0f} dB, ratio "
                      f"x{paired_ratio(runs[name], runs[name.removesuffix(' MVN')]):.2f}")
    table(f"1. fp16 transfer, lite (OpenVINO) per precision, instance norms as in the file or "
          f"as MVN, vs stock (ai_edge_litert + XNNPACK), {THREADS} threads, {reps} interleaved "
          "rounds; ms as median (quiet median, quiet runs); 'precision' is what the compiled "
          "network reports", ["size", "variant", "precision", "lite ms", "stock ms",
                              "lite/stock", "max|diff| to stock", "stock setup s",
                              "others' cores"], rows)
    table(f"2a. throughput of the lite transfer (quiet median when >= 3 quiet runs); peak "
          f"{peak.f32:.0f} GFLOP/s f32, {peak.bf16:.0f} bf16: {peak.how}",
          ["size", "variant", "MP", "lite ms", "ms/MP", "conv GFLOP", "GFLOP/s", "of peak",
           "stock GFLOP/s"], rates)


def accuracy_section() -> None:
    """Section 0: style vector and 384x384 output against the official TF Lite pipeline."""
    from ai_edge_litert.interpreter import Interpreter
    from PIL import Image

    from bot.engine.openvino_net import BOTTLENECK, CONTENT_INPUT, STYLE_INPUT
    from bot.imaging import from_float_array, style_square, to_float_array

    with Image.open(style_path()) as image:
        style = to_float_array(style_square(image.convert("RGB"), 256))
    photo = common.content(384, 384)
    pixels = to_float_array(photo)

    def litert(path: Path, feeds: dict[str, np.ndarray]) -> np.ndarray:
        interpreter = Interpreter(model_path=str(path), num_threads=THREADS)
        interpreter.allocate_tensors()
        inputs = {d["name"]: d["index"] for d in interpreter.get_input_details()}
        for name, value in feeds.items():
            interpreter.set_tensor(inputs[name], value)
        interpreter.invoke()
        return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])

    official_vector = litert(model("prediction"), {STYLE_INPUT: style[None]}).reshape(-1)
    official = np.asarray(from_float_array(litert(model("fp16"), {
        CONTENT_INPUT: pixels[None], BOTTLENECK: official_vector.reshape(1, 1, 1, -1)})[0]),
        dtype=np.float64)
    core = make_core(None)
    precisions = ["f32", "bf16"] if "BF16" in cpu_capabilities(core) else ["f32"]
    rows = []
    for prediction in precisions:
        compiled = core.compile_model(core.read_model(str(model("prediction"))), "CPU",
                                      {"INFERENCE_PRECISION_HINT": prediction})
        request = compiled.create_infer_request()
        request.infer({STYLE_INPUT: style[None]})
        vector = request.get_tensor(BOTTLENECK).data.reshape(-1).copy()
        error = float(np.abs(vector - official_vector).max())
        for name, net in variants(core).items():
            ours = np.asarray(from_float_array(net(pixels, vector)), dtype=np.float64)
            mse = float(np.mean((ours - official) ** 2))
            rows.append([prediction, name, net.precision, f"{error:.3f}",
                         f"{10 * np.log10(255**2 / mse):.1f}"])
    table("0. against the official TF Lite pipeline (ai-edge-litert: int8 prediction + fp16 "
          "transfer), starry-night on examples/coffee.jpg at 384x384; PSNR of the 8-bit outputs",
          ["prediction net", "transfer variant", "transfer runs as", "vector max|err|",
           "PSNR dB"], rows)


def profile_section(vector: np.ndarray, runs: int) -> None:
    """Section 2: conv FLOPs from the graph; where the 1024x768 time goes (PERF_COUNT)."""
    nets = variants(make_core(None))
    first = next(iter(nets.values()))
    native = sum(conv_flops(first, 384, 384).values()) / 1e9
    flops = conv_flops(first, 768, 1024)
    print(f"\nconv FLOPs counted from the OpenVINO graph ({len(flops)} Convolutions): "
          f"{native:.3f} GFLOP at 384x384 = {native / (384 * 384 / 1e6):.2f} GFLOP/MP; "
          f"{sum(flops.values()) / 1e9:.2f} GFLOP at 1024x768")
    for variant, net in nets.items():
        _profile_one(variant, net, vector, runs)


def _profile_one(variant: str, lite: TransferNetwork, vector: np.ndarray, runs: int) -> None:
    graph = lite._resized_model(768, 1024)
    flops = conv_flops(graph, 768, 1024)
    by_type, by_name = profile(make_core(None), lite, content_pixels(1024, 768), vector, runs,
                               graph=graph)
    total = sum(by_type.values())
    rows = [[kind, ms, f"{100 * ms / total:.0f}%"]
            for kind, ms in sorted(by_type.items(), key=lambda kv: -kv[1])[:7]]
    table(f"2b. {variant}: where 1024x768 goes, PERF_COUNT real_time by node type, mean of "
          f"{runs} (sum {total:.0f} ms)", ["node type (kernel)", "ms", "share"], rows)
    shapes = conv_shapes(graph, 768, 1024)
    top = sorted(((ms, name) for name, ms in by_name.items() if name in flops), reverse=True)
    rows = [[name, shapes[name], ms, flops[name] / 1e9, flops[name] / ms / 1e6]
            for ms, name in top[:4]]
    table(f"2c. {variant}: slowest convolutions at 1024x768",
          ["node", "Cin->Cout k @HxW", "ms", "GFLOP", "GFLOP/s"], rows)


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
    """Section 4: warm JPEG bytes -> decode -> stylization.stylize -> PNG bytes at 1024x768."""
    limits = ImageLimits()
    with tempfile.TemporaryDirectory(prefix="stylebot-allin-") as tmp:
        engine = LiteEngine(model("prediction"), model("fp16"), threads=THREADS,
                            vector_dir=Path(tmp) / "v", compile_cache=Path(tmp) / "ov")
        style = style_from_file(style_path(), limits)
        engine.warm_up([style])
        data, options = jpeg_bytes(1024, 768), StylizeOptions()
        stages: dict[str, list[float]] = {"decode": [], "stylization.stylize": [], "encode PNG": []}

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
    peak = cpu_peak(min(THREADS, usable_cores()))
    core = make_core(None)
    print(cpu_summary())
    print(f"OpenVINO CPU capabilities: {' '.join(cpu_capabilities(core))}; engine default "
          f"(precision auto): {default_variant(core)}")
    print(f"peak: {peak.f32:.0f} GFLOP/s f32, {peak.bf16:.0f} GFLOP/s bf16 ({peak.how})")
    print(f"start: {load()}")
    with tempfile.TemporaryDirectory(prefix="stylebot-vec-") as tmp:
        engine = LiteEngine(model("prediction"), model("fp16"), vector_dir=Path(tmp))
        vector = engine.style_vector(style_from_file(style_path(), ImageLimits()))
    if "accuracy" in args.only:
        accuracy_section()
    if "transfer" in args.only:
        transfer(vector, reps, args.quick, peak)
    if "profile" in args.only:
        profile_section(vector, 2 if args.quick else 5)
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
