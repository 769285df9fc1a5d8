"""Prototype graph rewrite: run the 9x9 convs with 3 channels in/out via space-to-depth.

A stride-1 9x9 convolution over Cin channels equals, on the 2x2 space-to-depth of its input,
a 5x5 convolution from 4*Cin to 4*Cout channels followed by depth-to-space: 1.23x the FLOPs,
but 12 or 32 channels instead of 3 or 8, which AVX2 kernels use far better.
"""

from __future__ import annotations

import numpy as np
import openvino as ov
from openvino import opset13 as ops

BLOCK = 2


def s2d_weights(weights: np.ndarray) -> np.ndarray:
    """[Cout, Cin, k, k] stride-1 weights -> [4*Cout, 4*Cin, k', k'] for DEPTH_FIRST blocks of 2."""
    cout, cin, kh, kw = weights.shape
    qh, qw = (kh + BLOCK) // BLOCK, (kw + BLOCK) // BLOCK  # taps after folding, 9 -> 5
    out = np.zeros((cout, BLOCK, BLOCK, cin, BLOCK, BLOCK, qh, qw), dtype=weights.dtype)
    for rh in range(BLOCK):
        for rw in range(BLOCK):
            for sh in range(BLOCK):
                for sw in range(BLOCK):
                    for a in range(qh):
                        for b in range(qw):
                            kh_, kw_ = BLOCK * a + sh - rh, BLOCK * b + sw - rw
                            if 0 <= kh_ < kh and 0 <= kw_ < kw:
                                out[:, rh, rw, :, sh, sw, a, b] = weights[:, :, kh_, kw_]
    return out.reshape(cout * BLOCK * BLOCK, cin * BLOCK * BLOCK, qh, qw)


def rewrite(model: ov.Model, min_kernel: int = 9, max_channels: int = 8, last_only: bool = False
            ) -> int:
    """Rewrite unpadded stride-1 big-kernel convs with few channels in place; returns count."""
    convs = [op for op in model.get_ordered_ops() if _eligible(op, min_kernel, max_channels)]
    for op in convs[-1:] if last_only else convs:  # the decoder's 8->3 conv comes last
        folded = ops.space_to_depth(op.input_value(0), "depth_first", BLOCK)
        weights = _constant_value(op.input_value(1).get_node())
        conv = ops.convolution(folded, ops.constant(s2d_weights(weights)), [1, 1], [0, 0],
                               [0, 0], [1, 1])
        unfolded = ops.depth_to_space(conv, "depth_first", BLOCK)
        for target in op.output(0).get_target_inputs():
            target.replace_source_output(unfolded.output(0))
    model.validate_nodes_and_infer_types()
    return len(convs[-1:] if last_only else convs)


def _eligible(op: ov.Node, min_kernel: int, max_channels: int) -> bool:
    if op.get_type_name() != "Convolution":
        return False
    cout, cin, kh, _ = op.input(1).get_partial_shape().to_shape()
    return (kh >= min_kernel and min(cin, cout) <= max_channels
            and list(op.get_strides()) == [1, 1] and not any(op.get_pads_begin())
            and not any(op.get_pads_end())
            and _constant_value(op.input_value(1).get_node()) is not None)


def _constant_value(node: ov.Node) -> np.ndarray | None:
    """The float32 value of a Constant, possibly behind a Convert (fp16 weights)."""
    if node.get_type_name() == "Convert":
        node = node.input_value(0).get_node()
    if node.get_type_name() != "Constant":
        return None
    return node.get_data().astype(np.float32)
