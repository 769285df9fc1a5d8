"""What-if figures for the lead: OpenVINO options, int8, space-to-depth rewrite, PNG settings."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # repo root before benchmarks/

import argparse  # noqa: E402
import io  # noqa: E402
import zlib  # noqa: E402

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from benchmarks import common  # noqa: E402
from benchmarks.common import (  # noqa: E402
    content_pixels,
    interleaved,
    load,
    model,
    paired_ratio,
    style_path,
)
from benchmarks.s2d import rewrite  # noqa: E402
from bot.engine.lite import LiteEngine  # noqa: E402
from bot.engine.openvino_net import BOTTLENECK, CONTENT_INPUT, TransferNetwork, make_core  # noqa: E402
from bot.imaging import ImageLimits, encode_image, from_float_array  # noqa: E402
from bot.pipeline import style_from_file  # noqa: E402

BASE = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": 2}  # what the engine uses
DEFAULT = "engine default (LATENCY, 2 threads)"
VARIANTS = {  # name: (transfer model, extra config, space-to-depth rewrite of 9x9 convs)
    DEFAULT: ("fp16", {}, 0),
    "INFERENCE_NUM_THREADS=1": ("fp16", {"INFERENCE_NUM_THREADS": 1}, 0),
    "ENABLE_CPU_PINNING=NO": ("fp16", {"ENABLE_CPU_PINNING": False}, 0),
    "ENABLE_HYPER_THREADING=YES": ("fp16", {"ENABLE_HYPER_THREADING": True}, 0),
    "CPU_DENORMALS_OPTIMIZATION=YES": ("fp16", {"CPU_DENORMALS_OPTIMIZATION": True}, 0),
    "TBB_PARTITIONER=STATIC": ("fp16", {"TBB_PARTITIONER": "STATIC"}, 0),
    "int8 transfer model": ("int8", {}, 0),
    "s2d rewrite of the last 9x9 conv (8->3)": ("fp16", {}, 1),
    "s2d rewrite of both 9x9 convs": ("fp16", {}, 2),
    "s2d last conv + TBB_PARTITIONER=STATIC": ("fp16", {"TBB_PARTITIONER": "STATIC"}, 1),
}


def transfer_variants(reps: int, height: int = 768, width: int = 1024) -> np.ndarray:
    """Median transfer ms per variant at height x width, interleaved; returns the stylization."""
    core = make_core(None)
    vector = LiteEngine(model("prediction"), model("fp16")).style_vector(
        style_from_file(style_path(), ImageLimits()))
    inputs = {CONTENT_INPUT: content_pixels(width, height)[np.newaxis],
              BOTTLENECK: vector.reshape(1, 1, 1, -1)}
    requests, outputs = {}, {}
    for name, (which, extra, s2d) in VARIANTS.items():
        graph = TransferNetwork(core, model(which), 2)._resized_model(height, width)
        if s2d:
            rewrite(graph, last_only=s2d == 1)
        compiled = core.compile_model(graph, "CPU", {**BASE, **extra})
        requests[name] = compiled.create_infer_request()
        outputs[name] = requests[name].infer(inputs)[0].copy()
    caps = core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    for hint in ("bf16", "f16"):
        plain = TransferNetwork(core, model("fp16"), 2)._resized_model(height, width)
        compiled = core.compile_model(plain, "CPU", {**BASE, "INFERENCE_PRECISION_HINT": hint})
        print(f"INFERENCE_PRECISION_HINT={hint}: runs as "
              f"{compiled.get_property('INFERENCE_PRECISION_HINT')} (CPU capabilities {caps})")
    runs = interleaved({n: lambda r=r: r.infer(inputs) for n, r in requests.items()}, reps)
    base = runs[DEFAULT]
    print(f"\n## transfer {width}x{height}, {reps} interleaved rounds: ms as median (quiet "
          "median, quiet runs); ratio to the default paired per round; |diff| to the default")
    for name, variant in runs.items():
        diff = np.abs(outputs[name] - outputs[DEFAULT])
        print(f"{name:40s} {variant.label():>18s}  x{paired_ratio(variant, base):.2f}  "
              f"max|diff| {diff.max():.1e} mean {diff.mean():.1e}")
    return outputs[DEFAULT][0]


def png_variants(image: Image.Image, reps: int) -> None:
    """Encode time and size of a stylized image: bot's PNG, other zlib settings, JPEG, WebP."""
    formats = {"PNG level 6, default strategy": ("PNG", {"compress_level": 6}),
               "PNG level 1": ("PNG", {"compress_level": 1}),
               "PNG level 6, Z_RLE": ("PNG", {"compress_level": 6, "compress_type": zlib.Z_RLE}),
               "PNG level 6, Z_HUFFMAN_ONLY": ("PNG", {"compress_level": 6,
                                                       "compress_type": zlib.Z_HUFFMAN_ONLY}),
               "JPEG q92 4:4:4": ("JPEG", {"quality": 92, "subsampling": 0}),
               "WebP q92 method 4": ("WEBP", {"quality": 92, "method": 4})}
    sizes = {}

    def encode(name: str) -> None:
        if name in formats:
            buffer = io.BytesIO()
            image.save(buffer, formats[name][0], **formats[name][1])
            sizes[name] = buffer.tell()
        else:
            sizes[name] = len(encode_image(image, "PNG"))

    names = ["bot.imaging.encode_image PNG (current)", *formats]
    runs = interleaved({n: lambda n=n: encode(n) for n in names}, reps)
    print(f"\n## encoding the 1024x768 stylization, {reps} interleaved rounds")
    for name, variant in runs.items():
        print(f"{name:40s} {variant.label():>18s} ms  {sizes[name] / 1024:6.0f} KiB")


def postprocess_variants(painted: np.ndarray, reps: int) -> None:
    """bot.imaging.from_float_array vs an in-place equivalent, on the 1024x768 output."""

    def in_place() -> Image.Image:
        values = np.multiply(painted, np.float32(255.0))
        np.nan_to_num(values, copy=False, nan=0.0)
        np.clip(values, 0.0, 255.0, out=values)
        np.rint(values, out=values)
        return Image.fromarray(values.astype(np.uint8))

    same = np.array_equal(np.asarray(in_place()), np.asarray(from_float_array(painted)))
    runs = interleaved({"from_float_array (current)": lambda: from_float_array(painted),
                        "in-place multiply/clip/rint": in_place}, reps)
    print(f"\n## float -> image at 1024x768, {reps} interleaved rounds (identical: {same})")
    for name, variant in runs.items():
        print(f"{name:40s} {variant.label():>18s} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--patience", type=float, default=0.0, metavar="S",
                        help="let each timed run wait up to S seconds for a quiet machine")
    args = parser.parse_args()
    common.patience = args.patience
    print(f"start: {load()}")
    painted = transfer_variants(args.reps)
    postprocess_variants(painted, args.reps)
    png_variants(from_float_array(painted), args.reps)
    print(f"end: {load()}")
