"""The official Magenta arbitrary-image-stylization TFLite model files: names, URLs, checksums."""

from dataclasses import dataclass

_GCS = (
    "https://storage.googleapis.com/download.tensorflow.org/models/tflite/"
    "task_library/style_transfer/android/"
)
_TFHUB = "https://tfhub.dev/google/lite-model/magenta/arbitrary-image-stylization-v1-256/"


@dataclass(frozen=True)
class ModelFile:
    """One model file: where it comes from and what its bytes must hash to."""

    filename: str
    url: str
    sha256: str
    size: int


PREDICTION_INT8 = ModelFile(
    filename="magenta_arbitrary-image-stylization-v1-256_int8_prediction_1.tflite",
    url=_GCS + "magenta_arbitrary-image-stylization-v1-256_int8_prediction_1.tflite",
    sha256="af6ad4b2e7aeba0675f32636082ab915ced5375229a3f8aff7e714c6213f5ed2",
    size=2828838,
)

TRANSFER_INT8 = ModelFile(
    filename="magenta_arbitrary-image-stylization-v1-256_int8_transfer_1.tflite",
    url=_GCS + "magenta_arbitrary-image-stylization-v1-256_int8_transfer_1.tflite",
    sha256="7a1550643cf034a4d813c0aa276976cd15da4141b4f1ec3631db1d0d9c8e2cd1",
    size=284398,
)

TRANSFER_FP16 = ModelFile(
    filename="magenta_arbitrary-image-stylization-v1-256_fp16_transfer_1.tflite",
    url=_TFHUB + "fp16/transfer/1?lite-format=tflite",
    sha256="53b5243ed5aa33e408db7976c8a8e51a90a0f7708fd122a31428cd00fbdf6aa6",
    size=422086,
)

TRANSFER_MODELS: dict[str, ModelFile] = {"fp16": TRANSFER_FP16, "int8": TRANSFER_INT8}
