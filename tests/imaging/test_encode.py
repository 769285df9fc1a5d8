"""format_for_path, encode_image and save_image_atomic."""

import errno
import io
import os
import stat

import numpy as np
import pytest
from PIL import Image, JpegImagePlugin

from bot.errors import ImageError
from bot.imaging import (
    FORMATS,
    ImageLimits,
    decode_image,
    encode_image,
    format_for_path,
    save_image_atomic,
)

from .helpers import EXAMPLES, assert_one_sentence

MAGIC = {"PNG": b"\x89PNG\r\n\x1a\n", "JPEG": b"\xff\xd8\xff"}
BAD_EXTENSION = "Output file must end in .png, .jpg, .jpeg or .webp."


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    with Image.open(EXAMPLES[0]) as img:
        return img.convert("RGB").resize((96, 64))


def has_magic(data: bytes, fmt: str) -> bool:
    if fmt == "WEBP":
        return data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    return data.startswith(MAGIC[fmt])


# --- format_for_path ----------------------------------------------------------------------

def test_formats_table():
    assert FORMATS == {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}


@pytest.mark.parametrize(
    ("path", "fmt"),
    [("out.png", "PNG"), ("a/b/OUT.PNG", "PNG"), ("x.jpg", "JPEG"), ("x.JPEG", "JPEG"),
     ("x.jpeg", "JPEG"), ("x.webp", "WEBP"), ("archive.tar.png", "PNG")],
)
def test_format_for_path(path, fmt):
    assert format_for_path(path) == fmt


@pytest.mark.parametrize(
    "path", ["out.gif", "out.bmp", "out.tiff", "out", ".png", "out.png.txt", "out.pn g"]
)
def test_format_for_path_refuses_other_extensions(path):
    with pytest.raises(ImageError) as caught:
        format_for_path(path)
    assert str(caught.value) == BAD_EXTENSION
    assert_one_sentence(BAD_EXTENSION)


# --- encode_image -------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_encode_round_trips_with_the_right_magic(photo, fmt):
    data = encode_image(photo, fmt)
    assert has_magic(data, fmt)
    back = decode_image(data, ImageLimits())
    assert back.size == photo.size
    with Image.open(io.BytesIO(data)) as opened:
        assert opened.format == fmt
    error = np.abs(np.asarray(back).astype(int) - np.asarray(photo).astype(int)).mean()
    assert error == 0 if fmt == "PNG" else error < 6


def test_fmt_is_case_insensitive(photo):
    assert has_magic(encode_image(photo, "png"), "PNG")


def test_jpeg_keeps_full_colour_resolution_at_high_quality(photo):
    with Image.open(io.BytesIO(encode_image(photo, "JPEG", quality=92))) as high:
        assert JpegImagePlugin.get_sampling(high) == 0  # 4:4:4
        assert not high.info.get("progressive")  # baseline: see test_jpeg_of_pure_noise
    with Image.open(io.BytesIO(encode_image(photo, "JPEG", quality=75))) as low:
        assert JpegImagePlugin.get_sampling(low) == 2  # 4:2:0


def test_quality_changes_size(photo):
    for fmt in ("JPEG", "WEBP"):
        assert len(encode_image(photo, fmt, quality=30)) < len(encode_image(photo, fmt, quality=95))


def test_webp_settings(photo, monkeypatch):
    seen = {}
    original_save = Image.Image.save

    def spy(self, fp, *args, **params):
        seen.update(params)
        return original_save(self, fp, *args, **params)

    monkeypatch.setattr(Image.Image, "save", spy)
    encode_image(photo, "WEBP", quality=80)
    assert seen["method"] == 4
    assert seen["quality"] == 80


def test_jpeg_of_rgba_is_flattened_on_white():
    img = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    back = decode_image(encode_image(img, "JPEG"), ImageLimits())
    assert min(back.getpixel((4, 4))) >= 250


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_keep_alpha(fmt):
    img = Image.new("RGBA", (8, 8), (255, 0, 0, 0))
    with Image.open(io.BytesIO(encode_image(img, fmt))) as back:
        assert back.mode == "RGBA"
        assert back.getpixel((0, 0))[3] == 0


@pytest.mark.parametrize("mode", ["L", "1", "P", "CMYK", "I;16", "LA"])
@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_other_modes_encode(mode, fmt):
    data = encode_image(Image.new(mode, (4, 4)), fmt)
    assert has_magic(data, fmt)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_metadata_is_not_written(photo, fmt):
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # camera make
    img = photo.copy()
    img.info["exif"] = exif.tobytes()
    data = encode_image(img, fmt)
    assert b"SecretCam" not in data
    with Image.open(io.BytesIO(data)) as back:
        assert not back.getexif()


def test_one_pixel_image_encodes():
    for fmt in ("PNG", "JPEG", "WEBP"):
        back = decode_image(encode_image(Image.new("RGB", (1, 1), "white"), fmt), ImageLimits())
        assert back.size == (1, 1)


@pytest.mark.parametrize(("fmt", "quality"), [("GIF", 90), ("BMP", 90), ("PNG", 0),
                                              ("JPEG", 101)])
def test_encode_rejects_bad_arguments(photo, fmt, quality):
    with pytest.raises(ValueError):
        encode_image(photo, fmt, quality=quality)


# --- save_image_atomic --------------------------------------------------------------------

@pytest.mark.parametrize(("name", "fmt"), [("out.png", "PNG"), ("out.jpg", "JPEG"),
                                           ("out.jpeg", "JPEG"), ("out.WEBP", "WEBP")])
def test_save_writes_the_format_of_the_extension(tmp_path, photo, name, fmt):
    target = tmp_path / name
    save_image_atomic(photo, target)
    assert has_magic(target.read_bytes(), fmt)
    assert os.listdir(tmp_path) == [name]  # no temporary file left behind


def test_save_accepts_str_and_relative_paths(tmp_path, photo, monkeypatch):
    monkeypatch.chdir(tmp_path)
    save_image_atomic(photo, "relative.png")
    assert has_magic((tmp_path / "relative.png").read_bytes(), "PNG")


def test_save_replaces_an_existing_file(tmp_path, photo):
    target = tmp_path / "out.png"
    target.write_bytes(b"old contents")
    save_image_atomic(photo, target)
    assert has_magic(target.read_bytes(), "PNG")
    assert os.listdir(tmp_path) == ["out.png"]


def test_saved_file_has_ordinary_permissions(tmp_path, photo):
    old_umask = os.umask(0o022)
    try:
        save_image_atomic(photo, tmp_path / "out.png")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((tmp_path / "out.png").stat().st_mode) == 0o644


def test_save_with_a_bad_extension_writes_nothing(tmp_path, photo):
    with pytest.raises(ImageError) as caught:
        save_image_atomic(photo, tmp_path / "out.gif")
    assert str(caught.value) == BAD_EXTENSION
    assert os.listdir(tmp_path) == []


def test_save_into_a_missing_folder(tmp_path, photo):
    folder = tmp_path / "missing"
    with pytest.raises(ImageError) as caught:
        save_image_atomic(photo, folder / "out.png")
    assert str(caught.value) == f"The folder “{folder}” does not exist."
    assert_one_sentence(str(caught.value))
    assert os.listdir(tmp_path) == []


def test_save_below_a_file_instead_of_a_folder(tmp_path, photo):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ImageError) as caught:
        save_image_atomic(photo, tmp_path / "file" / "out.png")
    assert_one_sentence(str(caught.value))
    assert os.listdir(tmp_path) == ["file"]


def test_save_into_an_unwritable_folder(tmp_path, photo, monkeypatch):
    # Simulated (tests may run as root, who may write anywhere): creating the file is refused.
    real_open = os.open

    def refuse(path, flags, *args, **kwargs):
        if str(path).startswith(str(tmp_path)) and flags & os.O_CREAT:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(ImageError) as caught:
        save_image_atomic(photo, tmp_path / "out.png")
    assert str(caught.value) == f"There is no permission to write to the folder “{tmp_path}”."
    assert_one_sentence(str(caught.value))
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_failure_part_way_leaves_no_trace_and_keeps_the_old_file(tmp_path, photo, monkeypatch,
                                                                 failing):
    target = tmp_path / "out.png"
    target.write_bytes(b"old contents")

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, failing, no_space)
    with pytest.raises(ImageError) as caught:
        save_image_atomic(photo, target)
    assert str(caught.value) == (
        f"The image could not be saved to “{target}” (No space left on device)."
    )
    assert_one_sentence(str(caught.value))
    assert os.listdir(tmp_path) == ["out.png"]
    assert target.read_bytes() == b"old contents"


def test_interrupted_save_cleans_up_and_re_raises(tmp_path, photo, monkeypatch):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        save_image_atomic(photo, tmp_path / "out.png")
    assert os.listdir(tmp_path) == []


def test_saving_over_a_folder_fails_cleanly(tmp_path, photo):
    (tmp_path / "out.png").mkdir()
    with pytest.raises(ImageError) as caught:
        save_image_atomic(photo, tmp_path / "out.png")
    assert_one_sentence(str(caught.value))
    assert os.listdir(tmp_path) == ["out.png"]
    assert (tmp_path / "out.png").is_dir()


def test_jpeg_of_pure_noise_encodes_at_high_quality():
    """Pillow's progressive/optimised JPEG writer fails on such detail; baseline must not."""
    noise = np.random.default_rng(0).integers(0, 256, (768, 1024, 3), dtype=np.uint8)
    data = encode_image(Image.fromarray(noise), "JPEG", quality=95)
    assert has_magic(data, "JPEG")
