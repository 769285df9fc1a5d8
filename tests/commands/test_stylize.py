"""`stylebot stylize` in-process on the real lite engine: outputs, options and one-line errors."""

from __future__ import annotations

import contextlib
import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.commands import one_error_line, run_cli, shared_cache_dir
from tests.engine.stats import mean_abs_diff

SIZE = (180, 120)  # small content keeps every run well under a second


pytestmark = pytest.mark.usefixtures("cli_env")


@pytest.fixture(scope="module")
def content(tmp_path_factory, photo) -> Path:
    """A small JPEG photo in its own folder (apart from any output folder)."""
    path = tmp_path_factory.mktemp("in") / "photo.jpg"
    photo("chelsea", SIZE).save(path, quality=92)
    return path


@pytest.fixture
def out_dir(tmp_path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


@pytest.fixture(scope="module")
def reference(content, mirror_dir, tmp_path_factory) -> Image.Image:
    """The photo painted as `stylize PHOTO -s starry-night`, the baseline of several tests."""
    output = tmp_path_factory.mktemp("reference") / "starry.png"
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(io.StringIO()):
        patch.setenv("STYLEBOT_MIRROR", str(mirror_dir))
        patch.setenv("STYLEBOT_CACHE_DIR", str(shared_cache_dir(tmp_path_factory)))
        patch.delenv("STYLEBOT_CONFIG", raising=False)
        assert run_cli(["stylize", content, "-s", "starry-night", "-o", output]) == 0
    with Image.open(output) as image:
        return image.convert("RGB")


def paint(capsys, *argv) -> tuple[Image.Image, str]:
    """Run a stylize command that must succeed; return the output image and stdout."""
    output = Path(argv[argv.index("-o") + 1])
    code = run_cli(["stylize", *argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert err == ""
    with Image.open(output) as image:
        image.load()
    return image, out


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.int16)


@pytest.mark.parametrize(("name", "fmt"), [("out.png", "PNG"), ("out.jpg", "JPEG"),
                                           ("out.webp", "WEBP")])
def test_writes_a_valid_image_of_the_content_size(capsys, content, out_dir, name, fmt):
    output = out_dir / name
    image, out = paint(capsys, content, "-s", "starry-night", "-o", output)
    assert image.format == fmt
    assert image.size == SIZE
    assert image.mode == "RGB"
    assert out.startswith(f"Wrote {output} ({SIZE[0]}x{SIZE[1]}) in ")
    assert out.endswith(" s.\n") and out.count("\n") == 1
    assert sorted(p.name for p in out_dir.iterdir()) == [name]  # no temp file left behind


def test_content_option_paints_the_same_as_the_positional_argument(
    capsys, content, out_dir, reference
):
    option, _ = paint(capsys, "-c", content, "-s", "starry-night", "-o", out_dir / "c.png")
    assert np.array_equal(pixels(option), pixels(reference))


def test_a_style_image_path_paints_like_the_preset_of_the_same_picture(
    capsys, content, out_dir, mirror_dir, reference
):
    painting = mirror_dir / "presets" / "starry-night.jpg"
    by_path, _ = paint(capsys, content, "-s", painting, "-o", out_dir / "by-path.png")
    assert np.array_equal(pixels(by_path), pixels(reference))


def test_weights_lean_the_blend_towards_the_heavier_style(capsys, content, out_dir, reference):
    blends = {}
    for weights in ("2,1", "1,2"):
        blends[weights], _ = paint(
            capsys, content, "-s", "starry-night", "-s", "the-scream", "--weights", weights,
            "-o", out_dir / f"blend-{weights.replace(',', '-')}.png",
        )
    assert blends["2,1"].size == SIZE
    assert mean_abs_diff(blends["2,1"], blends["1,2"]) > 0.01
    # reference is starry-night alone: the 2,1 blend must be much nearer to it than 1,2
    assert mean_abs_diff(blends["2,1"], reference) < 0.7 * mean_abs_diff(blends["1,2"], reference)


def test_low_strength_stays_closer_to_the_photo(capsys, content, out_dir, reference):
    with Image.open(content) as image:
        photo = image.convert("RGB")
    weak, _ = paint(
        capsys, content, "-s", "starry-night", "--strength", "0.3", "-o", out_dir / "weak.png"
    )
    assert weak.size == SIZE
    assert mean_abs_diff(weak, photo) < 0.75 * mean_abs_diff(reference, photo)


@pytest.mark.parametrize("precision", ["f32", "bf16"])
def test_verbose_tells_the_precision_and_cpu_capabilities(capsys, content, out_dir, precision):
    code = run_cli(["stylize", content, "-s", "starry-night", "--precision", precision,
                    "--verbose", "-o", out_dir / "p.png"])
    out, err = capsys.readouterr()
    assert code == 0, err
    line = err.strip()
    assert "\n" not in line and line.startswith("lite engine (")
    native_bf16 = "BF16" in line.split("CPU capabilities")[1]
    expected = "bf16" if precision == "bf16" and native_bf16 else "f32"
    assert f"transfer net {expected}," in line
    assert "prediction net f32" in line and "FP32" in line


def test_keep_colors_keeps_the_photo_chroma(capsys, content, out_dir, reference):
    with Image.open(content) as image:
        photo = np.asarray(image.convert("YCbCr"), dtype=np.float64)
    kept, _ = paint(capsys, content, "-s", "starry-night", "--keep-colors",
                    "-o", out_dir / "kept.png")
    plain_ycc = np.asarray(reference.convert("YCbCr"), dtype=np.float64)
    kept_ycc = np.asarray(kept.convert("YCbCr"), dtype=np.float64)
    for channel in (1, 2):  # Cb, Cr: the photo's
        kept_gap = abs(kept_ycc[..., channel].mean() - photo[..., channel].mean())
        plain_gap = abs(plain_ycc[..., channel].mean() - photo[..., channel].mean())
        assert kept_gap < 2.0
        assert plain_gap > 4 * kept_gap + 3
    assert np.abs(kept_ycc[..., 0] - plain_ycc[..., 0]).mean() < 2.0  # Y: the painting's


def test_max_size_caps_the_long_side(capsys, out_dir, photo, tmp_path):
    big = tmp_path / "big.png"
    photo("chelsea").save(big)  # 451x300
    output = out_dir / "small.png"
    image, out = paint(capsys, big, "-s", "udnie", "--max-size", "256", "-o", output)
    assert image.size == (256, 170)
    assert f"Wrote {output} (256x170)" in out


# --- failures: exit 1, one line on stderr, nothing written -------------------------------------


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + payload))
        return struct.pack(">I", len(payload)) + kind + payload + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def _bad_content(tmp_path: Path, content: Path, kind: str) -> Path:
    (tmp_path / "in").mkdir()
    if kind == "missing":
        return tmp_path / "in" / "no-such-photo.jpg"
    if kind == "text":
        path = tmp_path / "in" / "notes.png"
        path.write_text("these are notes, not a picture\n")
    elif kind == "empty":
        path = tmp_path / "in" / "empty.jpg"
        path.write_bytes(b"")
    elif kind == "truncated":
        path = tmp_path / "in" / "truncated.jpg"
        data = content.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:  # a 30000x30000 PNG header: 900 megapixels claimed in 70 bytes
        path = tmp_path / "in" / "huge.png"
        path.write_bytes(_png_header_only(30000, 30000))
    return path


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("missing", "The photo file “{path}” was not found."),
        ("text", "The photo is not a PNG, JPEG, GIF, WebP, BMP or TIFF image."),
        ("empty", "The photo is empty."),
        ("truncated", "The photo is damaged or incomplete."),
        ("huge", "The photo has too many pixels to process safely."),
    ],
)
def test_a_bad_photo_fails_with_one_line(capsys, tmp_path, content, out_dir, kind, expected):
    bad = _bad_content(tmp_path, content, kind)
    code = run_cli(["stylize", bad, "-s", "starry-night", "-o", out_dir / "out.png"])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert one_error_line(err) == expected.format(path=bad)
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize(
    ("extra", "output", "expected"),
    [
        (["-s", "starry-nite"], "out.png",
         "There is no preset called “starry-nite”. Did you mean starry-night?"),
        (["-s", "{tmp}/styles/gone.jpg"], "out.png",
         "The style image file “{tmp}/styles/gone.jpg” was not found."),
        (["-s", "starry-night"], "out.gif", "Output file must end in .png, .jpg, .jpeg or .webp."),
        (["-s", "starry-night"], "out.txt", "Output file must end in .png, .jpg, .jpeg or .webp."),
        (["-s", "starry-night"], "missing-dir/out.png",
         "The folder “{out}/missing-dir” does not exist."),
        (["-s", "starry-night", "--strength", "1.5"], "out.png",
         "Strength must be between 0 and 1, not 1.5."),
    ],
    ids=["unknown-preset", "missing-style", "gif", "txt", "missing-folder", "strength"],
)
def test_a_bad_request_fails_with_one_line(
    capsys, tmp_path, content, out_dir, extra, output, expected
):
    def fill(text: str) -> str:
        return text.format(tmp=tmp_path, out=out_dir)

    code = run_cli(["stylize", content, *map(fill, extra), "-o", out_dir / output])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert one_error_line(err) == fill(expected)
    assert list(out_dir.iterdir()) == []


def test_a_broken_style_image_fails_with_one_line(capsys, tmp_path, content, out_dir):
    style = tmp_path / "style.jpg"
    style.write_bytes(content.read_bytes()[:300])
    code = run_cli(["stylize", content, "-s", style, "-o", out_dir / "out.png"])
    out, err = capsys.readouterr()
    assert code == 1
    assert one_error_line(err) == "The style image is damaged or incomplete."
    assert list(out_dir.iterdir()) == []


def test_a_missing_custom_preset_folder_fails_with_one_line(capsys, tmp_path, content, out_dir):
    config = tmp_path / "stylebot.toml"
    config.write_text('[paths]\npresets_dir = "nowhere"\n')
    code = run_cli(["--config", config, "stylize", content, "-s", "udnie",
                    "-o", out_dir / "out.png"])
    _, err = capsys.readouterr()
    assert code == 1
    assert one_error_line(err) == f"The custom preset folder {tmp_path / 'nowhere'} does not exist."
    assert list(out_dir.iterdir()) == []
