"""Stock TFLite (ai_edge_litert + XNNPACK) on the transfer .tflite patched to any size."""

from __future__ import annotations

from pathlib import Path

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema
from ai_edge_litert.interpreter import Interpreter

CONTENT = "content_image"
BOTTLENECK = "mobilenet_conv/Conv/BiasAdd"
NATIVE_SIDE = 384


def _builtin(model: schema.ModelT, op: schema.OperatorT) -> int:
    code = model.operatorCodes[op.opcodeIndex]
    return max(code.builtinCode, code.deprecatedBuiltinCode)  # the schema keeps two fields


def patched_transfer(path: Path, height: int, width: int) -> bytes:
    """The transfer model's bytes with its decoder resizes and content shapes set to height x width.

    The three RESIZE_NEAREST_NEIGHBOR size constants (192,192), (384,384), (384,384) become
    (H/2, W/2), (H, W), (H, W); the content input and the output become [1, H, W, 3].
    """
    if height % 4 or width % 4:
        raise ValueError(f"height and width must be multiples of 4, not {height}x{width}")
    model = schema.ModelT.InitFromPackedBuf(Path(path).read_bytes(), 0)
    graph = model.subgraphs[0]
    resizes = [op for op in graph.operators
               if _builtin(model, op) == schema.BuiltinOperator.RESIZE_NEAREST_NEIGHBOR]
    if len(resizes) != 3:
        raise ValueError(f"expected 3 nearest-neighbour resizes, found {len(resizes)}")
    for op in resizes:
        buffer = model.buffers[graph.tensors[op.inputs[1]].buffer]
        native = np.frombuffer(bytes(buffer.data), dtype=np.int32)
        factor = int(native[0]) / NATIVE_SIDE  # 0.5 for the first upsampling, else 1
        size = np.array([int(height * factor), int(width * factor)], dtype=np.int32)
        buffer.data = np.frombuffer(size.tobytes(), dtype=np.uint8)
    for index in (*graph.inputs, *graph.outputs):
        tensor = graph.tensors[index]
        if tensor.name.decode() != BOTTLENECK:
            tensor.shape = np.array([1, height, width, 3], dtype=np.int32)
    builder = flatbuffers.Builder(len(model.buffers) * 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


class StockTransfer:
    """ai_edge_litert's Interpreter (XNNPACK by default) on the patched transfer model."""

    def __init__(self, path: Path, height: int, width: int, threads: int = 2) -> None:
        self.interpreter = Interpreter(
            model_content=patched_transfer(path, height, width), num_threads=threads
        )
        self.interpreter.allocate_tensors()
        details = {d["name"]: d["index"] for d in self.interpreter.get_input_details()}
        self._content, self._vector = details[CONTENT], details[BOTTLENECK]
        self._output = self.interpreter.get_output_details()[0]["index"]

    def __call__(self, content: np.ndarray, vector: np.ndarray) -> np.ndarray:
        """Stylize a float32 HxWx3 content with a 100-d vector; returns HxWx3."""
        self.interpreter.set_tensor(self._content, content[np.newaxis].astype(np.float32))
        self.interpreter.set_tensor(self._vector, vector.reshape(1, 1, 1, -1).astype(np.float32))
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self._output)[0]
