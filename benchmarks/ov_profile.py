"""Convolution FLOPs counted from the OpenVINO graph, and per-layer time from PERF_COUNT."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import openvino as ov

from benchmarks import common
from bot.engine.openvino_net import BOTTLENECK, CONTENT_INPUT, TransferNetwork


def conv_flops(network: TransferNetwork | ov.Model, height: int, width: int
               ) -> dict[str, float]:
    """FLOPs (2*Cin*Cout*kh*kw*Hout*Wout) of each Convolution, keyed by its friendly name
    (names differ between resized copies: pass the very graph that is profiled)."""
    flops = {}
    graph = network if isinstance(network, ov.Model) else network._resized_model(height, width)
    for op in graph.get_ordered_ops():
        if op.get_type_name() == "Convolution":
            cout, cin, kh, kw = op.input(1).get_partial_shape().to_shape()
            _, _, hout, wout = op.output(0).get_partial_shape().to_shape()
            flops[op.get_friendly_name()] = 2.0 * cin * cout * kh * kw * hout * wout
    return flops


def conv_shapes(network: TransferNetwork | ov.Model, height: int, width: int) -> dict[str, str]:
    """A short 'Cin->Cout kxk @HxW' description of each Convolution."""
    shapes = {}
    graph = network if isinstance(network, ov.Model) else network._resized_model(height, width)
    for op in graph.get_ordered_ops():
        if op.get_type_name() == "Convolution":
            cout, cin, kh, kw = op.input(1).get_partial_shape().to_shape()
            _, _, hout, wout = op.output(0).get_partial_shape().to_shape()
            shapes[op.get_friendly_name()] = f"{cin}->{cout} {kh}x{kw} @{hout}x{wout}"
    return shapes


def profile(core: ov.Core, network: TransferNetwork, pixels: np.ndarray, vector: np.ndarray,
            runs: int, threads: int = 2, graph: ov.Model | None = None
            ) -> tuple[dict[str, float], dict[str, float]]:
    """Mean ms per run by node type and by node name, with PERF_COUNT=YES, in the network's
    own precision and graph (instance norms rewritten or not)."""
    height, width = pixels.shape[:2]
    config = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": threads, "PERF_COUNT": True,
              "INFERENCE_PRECISION_HINT": network.expected_precision}
    graph = graph if graph is not None else network._resized_model(height, width)
    compiled = core.compile_model(graph, "CPU", config)
    request = compiled.create_infer_request()
    inputs = {CONTENT_INPUT: pixels[np.newaxis], BOTTLENECK: vector.reshape(1, 1, 1, -1)}
    request.infer(inputs)  # warm-up
    by_type: dict[str, float] = defaultdict(float)
    by_name: dict[str, float] = defaultdict(float)
    for _ in range(runs):
        common.wait_quiet(common.patience)
        request.infer(inputs)
        for info in request.get_profiling_info():
            ms = info.real_time.total_seconds() * 1e3 / runs
            by_type[f"{info.node_type} ({info.exec_type})"] += ms
            by_name[info.node_name] += ms
    return dict(by_type), dict(by_name)
