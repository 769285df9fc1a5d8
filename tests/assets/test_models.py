"""The model file constants agree with the mirror's official files."""

import dataclasses
import hashlib

import pytest

from bot.assets.models import (
    PREDICTION_INT8,
    TRANSFER_FP16,
    TRANSFER_INT8,
    TRANSFER_MODELS,
    ModelFile,
)

ALL = [PREDICTION_INT8, TRANSFER_INT8, TRANSFER_FP16]


@pytest.mark.parametrize("model", ALL, ids=lambda m: m.filename)
def test_constant_matches_mirror_file(model, mirror_dir):
    path = mirror_dir / "models" / model.filename
    assert path.is_file(), f"{path} is missing from the mirror"
    data = path.read_bytes()
    assert len(data) == model.size
    assert hashlib.sha256(data).hexdigest() == model.sha256


def test_official_urls():
    gcs = (
        "https://storage.googleapis.com/download.tensorflow.org/models/tflite/"
        "task_library/style_transfer/android/"
    )
    assert PREDICTION_INT8.url == gcs + PREDICTION_INT8.filename
    assert TRANSFER_INT8.url == gcs + TRANSFER_INT8.filename
    assert TRANSFER_FP16.url == (
        "https://tfhub.dev/google/lite-model/magenta/arbitrary-image-stylization-v1-256/"
        "fp16/transfer/1?lite-format=tflite"
    )


def test_filenames_are_the_official_ones():
    assert [m.filename for m in ALL] == [
        "magenta_arbitrary-image-stylization-v1-256_int8_prediction_1.tflite",
        "magenta_arbitrary-image-stylization-v1-256_int8_transfer_1.tflite",
        "magenta_arbitrary-image-stylization-v1-256_fp16_transfer_1.tflite",
    ]


def test_transfer_models_by_precision():
    assert TRANSFER_MODELS == {"fp16": TRANSFER_FP16, "int8": TRANSFER_INT8}


def test_model_file_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        PREDICTION_INT8.size = 1  # type: ignore[misc]
    assert isinstance(PREDICTION_INT8, ModelFile)
