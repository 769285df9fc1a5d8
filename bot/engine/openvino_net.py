"""Magenta's official .tflite networks on OpenVINO, with the transfer net resized to any shape."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import OrderedDict, deque
from collections.abc import Generator, Iterable
from pathlib import Path

import numpy as np
import openvino as ov
from openvino import opset13 as ops

from bot.errors import EngineError

log = logging.getLogger(__name__)

STYLE_INPUT = "style_image"
CONTENT_INPUT = "content_image"
BOTTLENECK = "mobilenet_conv/Conv/BiasAdd"
STYLE_SIDE = 256
# The decoder's three nearest-neighbour upsamplings have constant target sizes; at the
# native 384x384 these are 192 (half the output) and 384 (the output) on each side.
NATIVE_SIDE = 384
SIZE_MULTIPLE = 4


# Precisions the transfer net may be compiled in; "auto" leaves the choice to OpenVINO (bf16 on
# CPUs with native bfloat16, else f32). The prediction net is always compiled in f32: its int8
# weights lose too much in bf16 (style vector error 0.10 instead of 0.04, output 32 dB).
PRECISIONS = ("auto", "f32", "bf16")
PREDICTION_PRECISION = "f32"

# The transfer net's conditional instance norms (3 in the encoder, 10 in 5 residual blocks).
INSTANCE_NORMS = 13

# Compiled networks OpenVINO keeps on disk (one per shape); the oldest are pruned past this.
COMPILE_CACHE_FILES = 48

# Frames in flight for each stream of a throughput-compiled network (see paint_many): with
# two, a stream that is done takes the next frame at once, while the oldest is collected (one
# each: GIF -> WebP +18.5 % over the engine alone, two: +14.6 %; benchmarks/README.md).
FRAMES_PER_STREAM = 2


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


def _compile(
    core: ov.Core,
    model: ov.Model,
    threads: int,
    precision: str = "auto",
    *,
    throughput: bool = False,
) -> ov.CompiledModel:
    _check_precision(precision)
    # No pinning: OpenVINO pins each process's inference threads to the same first cores, so
    # two 1-thread engines in two processes (two service replicas on a node, or the bot beside
    # a replica) shared one core: 254 ms a painting each instead of 125 (benchmarks/README.md).
    # LATENCY runs one picture on all `threads`; THROUGHPUT splits them into streams (two of
    # one thread on two cores) that each paint a picture of their own (see paint_many).
    config: dict[str, object] = {
        "PERFORMANCE_HINT": "THROUGHPUT" if throughput else "LATENCY",
        "INFERENCE_NUM_THREADS": threads,
        "ENABLE_CPU_PINNING": False,
    }
    if precision != "auto":
        config["INFERENCE_PRECISION_HINT"] = precision
    return core.compile_model(model, "CPU", config)


def _check_precision(precision: str) -> None:
    if precision not in PRECISIONS:
        raise EngineError(
            f"Unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}."
        )


def compiled_precision(compiled: ov.CompiledModel) -> str:
    """The precision a compiled network really runs in ("f32", "bf16", ...), as OpenVINO says."""
    return str(compiled.get_property("INFERENCE_PRECISION_HINT").to_string())


def expected_precision(core: ov.Core, precision: str) -> str:
    """The precision OpenVINO will compile a network in for this setting, before compiling."""
    if precision == "auto":
        return str(core.get_property("CPU", "INFERENCE_PRECISION_HINT").to_string())
    if precision == "bf16" and "BF16" not in cpu_capabilities(core):
        return "f32"  # OpenVINO falls back to f32 on CPUs without native bfloat16
    return precision


def cpu_capabilities(core: ov.Core) -> list[str]:
    """What OpenVINO's CPU plugin reports it can run natively (e.g. FP32, INT8, BF16)."""
    return [str(c) for c in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")]


def _read(core: ov.Core, path: Path) -> ov.Model:
    try:
        return core.read_model(str(path))
    except Exception as exc:  # OpenVINO raises RuntimeError subclasses with long texts
        raise EngineError(f"Could not read the model file {Path(path).name}.") from exc


class PredictionNetwork:
    """The style network: a 256x256 style image in, its 100-d style vector out.

    It is compiled on first use (a run whose style vectors are all cached never needs it),
    always in f32 whatever the CPU prefers.
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
                self._compiled = _compile(
                    self._core, self._model, self._threads, PREDICTION_PRECISION
                )
            return self._compiled

    @property
    def precision(self) -> str | None:
        """The compiled network's precision, or None while it has not been compiled."""
        return None if self._compiled is None else compiled_precision(self._compiled)

    def __call__(self, style: np.ndarray) -> np.ndarray:
        """Map a float32 256x256x3 image in [0, 1] to a float32 vector of 100."""
        if style.shape != (STYLE_SIDE, STYLE_SIDE, 3):
            raise EngineError(f"The style network takes 256x256 RGB, not {style.shape}.")
        request = self.compiled().create_infer_request()
        request.infer({STYLE_INPUT: style[np.newaxis]})
        return request.get_tensor(BOTTLENECK).data.reshape(-1).copy()


class TransferNetwork:
    """The transfer network, compiled on demand per output shape and kept in an LRU cache.

    `precision` is the transfer net's ("auto" = OpenVINO's choice for the CPU). Each
    conditional instance norm becomes OpenVINO's MVN where that is faster: by default
    (`rewrite_norms=None`) when the net runs in f32 (about 20 % faster); in bf16 it measured
    slower, as OpenVINO then splits the scale and shift into separate, partly f32 nodes.
    True or False forces the choice (for the benchmark and the equivalence test).
    """

    def __init__(
        self,
        core: ov.Core,
        path: Path,
        threads: int,
        cache_size: int = 4,
        *,
        precision: str = "auto",
        rewrite_norms: bool | None = None,
    ) -> None:
        _check_precision(precision)
        self._core = core
        self._model = _read(self._core, path)
        self._threads = threads
        self._cache_size = max(1, cache_size)
        # by (height, width, throughput): a still's shape, or a clip's (see paint_many)
        self._compiled: OrderedDict[tuple[int, int, bool], ov.CompiledModel] = OrderedDict()
        self._lock = threading.Lock()
        self.requested_precision = precision
        self.expected_precision = expected_precision(core, precision)
        self.rewrite_norms = (
            self.expected_precision == "f32" if rewrite_norms is None else rewrite_norms
        )
        self.norms_rewritten = 0  # instance norms turned into MVN by the last resize
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
        if self.rewrite_norms:
            self.norms_rewritten = rewrite_instance_norms(model)
        model.reshape({CONTENT_INPUT: [1, height, width, 3]})
        return model

    @property
    def precision(self) -> str | None:
        """The precision of the most recently used compiled shape, or None before any."""
        with self._lock:
            if not self._compiled:
                return None
            return compiled_precision(next(reversed(self._compiled.values())))

    def compiled_for(
        self, height: int, width: int, *, throughput: bool = False
    ) -> ov.CompiledModel:
        """Return the network compiled for a height x width content (multiples of 4): for one
        picture at a time on every thread, or with `throughput` for several at once."""
        if height % SIZE_MULTIPLE or width % SIZE_MULTIPLE:
            raise EngineError(f"The transfer network needs multiples of 4, not {width}x{height}.")
        key = (height, width, throughput)
        with self._lock:
            compiled = self._compiled.get(key)
            if compiled is None:
                compiled = _compile(
                    self._core,
                    self._resized_model(height, width),
                    self._threads,
                    self.requested_precision,
                    throughput=throughput,
                )
                self.compilations += 1
                self._compiled[key] = compiled
                while len(self._compiled) > self._cache_size:
                    self._compiled.popitem(last=False)
            self._compiled.move_to_end(key)
            return compiled

    def __call__(self, content: np.ndarray, vector: np.ndarray) -> np.ndarray:
        """Stylize a float32 HxWx3 content (H, W multiples of 4) with a 100-d style vector."""
        height, width = content.shape[:2]
        request = self.compiled_for(height, width).create_infer_request()
        request.infer(_inputs(content, _bottleneck(vector)))
        return request.get_output_tensor(0).data[0].copy()

    def paint_many(
        self, contents: Iterable[np.ndarray], vector: np.ndarray
    ) -> Generator[np.ndarray, None, None]:
        """Stylize float32 HxWx3 contents of one shape with one vector, yielded in order.

        The network is compiled for throughput: each of its streams paints a content of its
        own on its own threads (two of one thread on two cores) and the next content starts
        as soon as a stream is free. One picture on every core makes the threads meet at a
        barrier after each layer, so whatever else runs on a core (decoding, encoding) held
        them all back; beside a stream it takes only its own CPU time (benchmarks/README.md).
        """
        bottleneck = _bottleneck(vector)  # the same for every content
        requests: list[ov.InferRequest] = []
        running: deque[ov.InferRequest] = deque()  # in the order their contents came
        shape: tuple[int, ...] | None = None
        try:
            for content in contents:
                if shape is None:
                    shape = content.shape
                    compiled = self.compiled_for(*shape[:2], throughput=True)
                    streams = max(1, int(compiled.get_property("NUM_STREAMS")))
                    requests = [compiled.create_infer_request()
                                for _ in range(FRAMES_PER_STREAM * streams)]
                elif content.shape != shape:
                    raise EngineError("Every frame of an animation must have one size.")
                if len(running) < len(requests):
                    request = requests[len(running)]
                    request.start_async(_inputs(content, bottleneck))
                    running.append(request)
                    continue
                request = running.popleft()
                request.wait()
                painted = request.get_output_tensor(0).data[0].copy()
                request.start_async(_inputs(content, bottleneck))  # before handing back the last
                running.append(request)
                yield painted
            while running:
                request = running.popleft()
                request.wait()
                yield request.get_output_tensor(0).data[0].copy()
        finally:
            # stopped early (an error, or the consumer gave up): no request is dropped mid-run
            for request in running:
                with contextlib.suppress(RuntimeError):
                    request.wait()

    def clear(self) -> None:
        """Drop every compiled shape."""
        with self._lock:
            self._compiled.clear()


def _inputs(content: np.ndarray, bottleneck: np.ndarray) -> dict[str, np.ndarray]:
    return {CONTENT_INPUT: content[np.newaxis], BOTTLENECK: bottleneck}


def _bottleneck(vector: np.ndarray) -> np.ndarray:
    """A 100-d style vector as the transfer net's bottleneck input (1x1x1x100 float32)."""
    return vector.reshape(1, 1, 1, -1).astype(np.float32)


# -- the instance norms as MVN ------------------------------------------------------------


def _only_consumer(output: ov.Output, type_name: str) -> ov.Node | None:
    """The single node reading `output`, if there is exactly one and it has this type."""
    readers = list(output.get_target_inputs())
    if len(readers) != 1:
        return None
    node = readers[0].get_node()
    return node if node.get_type_name() == type_name else None


def _constant(output: ov.Output) -> np.ndarray | None:
    """The value of a constant reached through Convert/Unsqueeze/Reshape/Squeeze, else None."""
    node = output.get_node()
    while node.get_type_name() in ("Convert", "Unsqueeze", "Reshape", "Squeeze"):
        node = node.input_value(0).get_node()
    if node.get_type_name() != "Constant":
        return None
    return np.asarray(node.get_data(), dtype=np.float64)


def _other_input(node: ov.Node, known: ov.Node) -> ov.Output | None:
    """The input of a two-input `node` that does not come from `known`."""
    sources = [value for value in node.input_values() if value.get_node() != known]
    return sources[0] if len(sources) == 1 else None


def _spatial_mean(node: ov.Node, of: ov.Output) -> bool:
    """Whether `node` is ReduceMean(of) over H and W (NCHW), keeping the reduced axes."""
    if node.get_type_name() != "ReduceMean" or node.input_value(0) != of:
        return False
    axes = _constant(node.input_value(1))
    rank = of.get_partial_shape().rank
    if axes is None or not rank.is_static or rank.get_length() != 4:
        return False
    normalised = {int(a) % 4 for a in axes.reshape(-1)}
    return normalised == {2, 3} and bool(node.get_attributes().get("keep_dims"))


def _rewrite_one(squared: ov.Node) -> bool:
    """Rewrite the norm around one SquaredDifference as MVN * gamma + beta; False if no match.

    The matched pattern (TFLite's batchnorm arithmetic as OpenVINO reads it)::

        mean = ReduceMean(x, HW)             variance = ReduceMean(SquaredDifference(x, mean), HW)
        scale = Power(variance + eps, -0.5) * gamma
        out = x * scale + (beta - mean * scale)
    """
    x, mean_out = squared.input_value(0), squared.input_value(1)
    mean = mean_out.get_node()
    if not _spatial_mean(mean, x):
        return False
    variance = _only_consumer(squared.output(0), "ReduceMean")
    if variance is None or not _spatial_mean(variance, squared.output(0)):
        return False
    plus_eps = _only_consumer(variance.output(0), "Add")
    if plus_eps is None:
        return False
    eps_out = _other_input(plus_eps, variance)
    eps = None if eps_out is None else _constant(eps_out)
    if eps is None or eps.size != 1 or not 0 < float(eps.reshape(-1)[0]) < 1:
        return False
    power = _only_consumer(plus_eps.output(0), "Power")
    exponent = None if power is None else _constant(power.input_value(1))
    if power is None or exponent is None or exponent.size != 1 or exponent.item() != -0.5:
        return False
    scale = _only_consumer(power.output(0), "Multiply")
    gamma = None if scale is None else _other_input(scale, power)
    if scale is None or gamma is None:
        return False
    readers = [r.get_node() for r in scale.output(0).get_target_inputs()]
    if len(readers) != 2 or any(r.get_type_name() != "Multiply" for r in readers):
        return False
    scaled_x = next((r for r in readers if x in list(r.input_values())), None)
    scaled_mean = next((r for r in readers if mean_out in list(r.input_values())), None)
    if scaled_x is None or scaled_mean is None or scaled_x == scaled_mean:
        return False
    shift = _only_consumer(scaled_mean.output(0), "Subtract")
    if shift is None or shift.input_value(1) != scaled_mean.output(0):
        return False
    beta = shift.input_value(0)
    out = _only_consumer(scaled_x.output(0), "Add")
    if out is None or shift.output(0) not in list(out.input_values()):
        return False
    axes = ops.constant(np.array([2, 3], dtype=np.int64))
    normalised = ops.mvn(x, axes, True, float(eps.reshape(-1)[0]), "inside_sqrt")
    painted = ops.add(ops.multiply(normalised, gamma), beta)
    painted.set_friendly_name(out.get_friendly_name())
    out.output(0).replace(painted.output(0))
    return True


def rewrite_instance_norms(model: ov.Model) -> int:
    """Turn each conditional instance norm of `model` into MVN * gamma + beta, in place.

    OpenVINO does not fuse the seven-op batchnorm arithmetic the .tflite file carries; its MVN
    kernel does the same in one pass (17 % faster in f32, same output). Norms that do not
    match the pattern exactly (the int8 transfer model's, quantized between every op) are
    left as they are; the caller learns how many were rewritten.
    """
    squares = [op for op in model.get_ordered_ops() if op.get_type_name() == "SquaredDifference"]
    count = sum(_rewrite_one(op) for op in squares)
    if count:
        model.validate_nodes_and_infer_types()
    return count
