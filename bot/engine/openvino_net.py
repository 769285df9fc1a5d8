"""Magenta's official .tflite networks on OpenVINO, with the transfer net resized to any shape."""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
import openvino as ov
from openvino import opset13 as ops

from bot.errors import EngineError

STYLE_INPUT = "style_image"
CONTENT_INPUT = "content_image"
BOTTLENECK = "mobilenet_conv/Conv/BiasAdd"
STYLE_SIDE = 256
# The decoder's three nearest-neighbour upsamplings have constant target sizes; at the
# native 384x384 these are 192 (half the output) and 384 (the output) on each side.
NATIVE_SIDE = 384
SIZE_MULTIPLE = 4


# Compiled networks OpenVINO keeps on disk (one per shape); the oldest are pruned past this.
COMPILE_CACHE_FILES = 48


def make_core(compile_cache: Path | None = None) -> ov.Core:
    """An OpenVINO core; with a folder, compiled networks are cached there across runs."""
    core = ov.Core()
    if compile_cache is not None:
        try:
            compile_cache.mkdir(parents=True, exist_ok=True)
            _prune(compile_cache, COMPILE_CACHE_FILES)
            core.set_property({"CACHE_DIR": str(compile_cache)})
        except OSError:
            pass  # the compile cache only saves time; without it everything still works
    return core


def _prune(folder: Path, keep: int) -> None:
    blobs = sorted(folder.glob("*.blob"), key=lambda p: p.stat().st_mtime, reverse=True)
    for stale in blobs[keep:]:
        stale.unlink(missing_ok=True)


def _compile(core: ov.Core, model: ov.Model, threads: int) -> ov.CompiledModel:
    config = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": threads}
    return core.compile_model(model, "CPU", config)


def _read(core: ov.Core, path: Path) -> ov.Model:
    try:
        return core.read_model(str(path))
    except Exception as exc:  # OpenVINO raises RuntimeError subclasses with long texts
        raise EngineError(f"Could not read the model file {Path(path).name}.") from exc


class PredictionNetwork:
    """The style network: a 256x256 style image in, its 100-d style vector out.

    It is compiled on first use: a run whose style vectors are all cached never needs it.
    """

    def __init__(self, core: ov.Core, path: Path, threads: int) -> None:
        self._core = core
        self._model = _read(core, path)
        self._threads = threads
        self._compiled: ov.CompiledModel | None = None
        self._lock = threading.Lock()

    def compiled(self) -> ov.CompiledModel:
        """The compiled network, compiling it the first time."""
        with self._lock:
            if self._compiled is None:
                self._compiled = _compile(self._core, self._model, self._threads)
            return self._compiled

    def __call__(self, style: np.ndarray) -> np.ndarray:
        """Map a float32 256x256x3 image in [0, 1] to a float32 vector of 100."""
        if style.shape != (STYLE_SIDE, STYLE_SIDE, 3):
            raise EngineError(f"The style network takes 256x256 RGB, not {style.shape}.")
        request = self.compiled().create_infer_request()
        request.infer({STYLE_INPUT: style[np.newaxis]})
        return request.get_tensor(BOTTLENECK).data.reshape(-1).copy()


class TransferNetwork:
    """The transfer network, compiled on demand per output shape and kept in an LRU cache."""

    def __init__(self, core: ov.Core, path: Path, threads: int, cache_size: int = 4) -> None:
        self._core = core
        self._model = _read(self._core, path)
        self._threads = threads
        self._cache_size = max(1, cache_size)
        self._compiled: OrderedDict[tuple[int, int], ov.CompiledModel] = OrderedDict()
        self._lock = threading.Lock()
        self.compilations = 0

    def _resized_model(self, height: int, width: int) -> ov.Model:
        model = self._model.clone()
        resizes = [op for op in model.get_ordered_ops() if op.get_type_name() == "Interpolate"]
        if len(resizes) != 3:
            raise EngineError("The transfer model does not have the expected decoder.")
        for resize in resizes:
            native = resize.input_value(1).get_node().get_data()
            factor = int(native[0]) / NATIVE_SIDE  # 0.5 for the first upsampling, else 1
            size = np.array([int(height * factor), int(width * factor)], dtype=np.int32)
            resize.input(1).replace_source_output(ops.constant(size).output(0))
        model.reshape({CONTENT_INPUT: [1, height, width, 3]})
        return model

    def compiled_for(self, height: int, width: int) -> ov.CompiledModel:
        """Return the network compiled for a height x width content (multiples of 4)."""
        if height % SIZE_MULTIPLE or width % SIZE_MULTIPLE:
            raise EngineError(f"The transfer network needs multiples of 4, not {width}x{height}.")
        key = (height, width)
        with self._lock:
            compiled = self._compiled.get(key)
            if compiled is None:
                compiled = _compile(self._core, self._resized_model(height, width), self._threads)
                self.compilations += 1
                self._compiled[key] = compiled
                while len(self._compiled) > self._cache_size:
                    self._compiled.popitem(last=False)
            self._compiled.move_to_end(key)
            return compiled

    def __call__(self, content: np.ndarray, vector: np.ndarray) -> np.ndarray:
        """Stylize a float32 HxWx3 content (H, W multiples of 4) with a 100-d style vector."""
        height, width = content.shape[:2]
        compiled = self.compiled_for(height, width)
        request = compiled.create_infer_request()
        request.infer(
            {
                CONTENT_INPUT: content[np.newaxis],
                BOTTLENECK: vector.reshape(1, 1, 1, -1).astype(np.float32),
            }
        )
        return request.get_output_tensor(0).data[0].copy()

    def clear(self) -> None:
        """Drop every compiled shape."""
        with self._lock:
            self._compiled.clear()
