"""What-ifs for the transfer net: OpenVINO options, int8, graph rewrites, PNG settings."""

from __future__ import annotations

import argparse
import io
import zlib

import numpy as np
import openvino as ov
from openvino import opset13 as ops
from PIL import Image

from benchmarks import common
from benchmarks.common import (
    content_pixels,
    cpu_summary,
    interleaved,
    load,
    model,
    paired_ratio,
    style_path,
)
from benchmarks.experiments.s2d import rewrite
from bot.engine.lite import LiteEngine
from bot.engine.openvino_net import (
    BOTTLENECK,
    CONTENT_INPUT,
    TransferNetwork,
    compiled_precision,
    make_core,
)
from bot.imaging import ImageLimits, encode_image, from_float_array
from bot.stylization import style_from_file

BASE = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": 2}  # what the engine uses
DEFAULT = "engine default (LATENCY, 2 threads)"


def reflect_pads_as_gathers(graph: ov.Model) -> None:
    """Each reflect Pad (a reference kernel in OpenVINO) as two Gathers with constant indices."""
    for op in graph.get_ordered_ops():
        if op.get_type_name() != "Pad" or op.get_attributes()["pad_mode"] != "reflect":
            continue
        begin = op.input_value(1).get_node().get_data()
        end = op.input_value(2).get_node().get_data()
        shape = op.input_value(0).get_partial_shape().to_shape()
        padded = op.input_value(0)
        for axis in (2, 3):
            size, before, after = shape[axis], int(begin[axis]), int(end[axis])
            index = np.concatenate([np.arange(before, 0, -1), np.arange(size),
                                    np.arange(size - 2, size - 2 - after, -1)]).astype(np.int32)
            padded = ops.gather(padded, ops.constant(index), ops.constant(np.int32(axis))).output(0)
        op.output(0).replace(padded)


VARIANTS = {  # name: (transfer model, extra config, graph rewrite)
    DEFAULT: ("fp16", {}, None),
    "INFERENCE_NUM_THREADS=1": ("fp16", {"INFERENCE_NUM_THREADS": 1}, None),
    "ENABLE_CPU_PINNING=NO": ("fp16", {"ENABLE_CPU_PINNING": False}, None),
    "ENABLE_HYPER_THREADING=YES": ("fp16", {"ENABLE_HYPER_THREADING": True}, None),
    "CPU_DENORMALS_OPTIMIZATION=YES": ("fp16", {"CPU_DENORMALS_OPTIMIZATION": True}, None),
    "TBB_PARTITIONER=STATIC": ("fp16", {"TBB_PARTITIONER": "STATIC"}, None),
    "int8 transfer model": ("int8", {}, None),
    "s2d rewrite of the last 9x9 conv (8->3)": ("fp16", {}, lambda g: rewrite(g, last_only=True)),
    "s2d rewrite of both 9x9 convs": ("fp16", {}, lambda g: rewrite(g, last_only=False)),
    "reflect Pads as Gathers": ("fp16", {}, reflect_pads_as_gathers),
}


def transfer_variants(reps: int, precision: str, height: int = 768, width: int = 1024
                      ) -> np.ndarray:
    """Median transfer ms per variant at height x width, interleaved; returns the stylization."""
    core = make_core(None)
    vector = LiteEngine(model("prediction"), model("fp16")).style_vector(
        style_from_file(style_path(), ImageLimits()))
    inputs = {CONTENT_INPUT: content_pixels(width, height)[np.newaxis],
              BOTTLENECK: vector.reshape(1, 1, 1, -1)}
    base = {**BASE, "INFERENCE_PRECISION_HINT": precision}
    requests, outputs = {}, {}
    for name, (which, extra, change) in VARIANTS.items():
        network = TransferNetwork(core, model(which), 2, precision=precision)
        graph = network._resized_model(height, width)
        if change is not None:
            change(graph)
        compiled = core.compile_model(graph, "CPU", {**base, **extra})
        requests[name] = compiled.create_infer_request()
        outputs[name] = requests[name].infer(inputs)[0].copy()
        if name == DEFAULT:
            print(f"precision hint {precision}: runs as {compiled_precision(compiled)}; "
                  f"{network.norms_rewritten} instance norms as MVN")
    runs = interleaved({n: lambda r=r: r.infer(inputs) for n, r in requests.items()}, reps)
    reference = runs[DEFAULT]
    print(f"\n## transfer {width}x{height}, {reps} interleaved rounds: ms as median (quiet "
          "median, quiet runs); ratio to the default paired per round; |diff| to the default")
    for name, variant in runs.items():
        diff = np.abs(outputs[name] - outputs[DEFAULT])
        print(f"{name:40s} {variant.label():>18s}  x{paired_ratio(variant, reference):.2f}  "
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
    parser.add_argument("--precision", choices=("f32", "bf16"), default="f32",
                        help="the transfer net's precision for every variant (default f32)")
    parser.add_argument("--patience", type=float, default=0.0, metavar="S",
                        help="let each timed run wait up to S seconds for a quiet machine")
    args = parser.parse_args()
    common.patience = args.patience
    print(cpu_summary())
    print(f"start: {load()}")
    painted = transfer_variants(args.reps, args.precision)
    postprocess_variants(painted, args.reps)
    png_variants(from_float_array(painted), args.reps)
    print(f"end: {load()}")
