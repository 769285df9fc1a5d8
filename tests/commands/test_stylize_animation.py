"""`stylebot stylize` on animations, in-process on the real engine, and once on a terminal."""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import termios
import time
from pathlib import Path

import av
import pytest
from PIL import Image

from tests.commands import STYLEBOT, one_error_line, process_env, run_cli, usage_error
from tests.engine.stats import mean_abs_diff
from tests.imaging.animation.clips import audio_only, moving_frames, pillow_animation, video

SIZE = (96, 64)

pytestmark = pytest.mark.usefixtures("cli_env")


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    """Small clips of the photo with a moving square, each in its own kind."""
    folder = tmp_path_factory.mktemp("clips")
    frames = moving_frames(8, SIZE)
    data = {
        "clip.gif": pillow_animation(frames, "GIF", durations=60, loop=0),
        "clip.png": pillow_animation(frames, "PNG", durations=60, loop=0),
        "clip.webp": pillow_animation(frames, "WEBP", durations=60, loop=0),
        "clip.mp4": video(frames, "mp4", fps=20),
        "clip.webm": video(moving_frames(8, (333, 517)), "webm", fps=20),
        "long.gif": pillow_animation(moving_frames(30, SIZE), "GIF", durations=40, loop=0),
        "really-mp4.gif": video(frames, "mp4", fps=20),
        "cut.gif": pillow_animation(frames, "GIF")[:-200],
        "cut.mp4": video(frames, "mp4", faststart=True)[:1500],
        "sound.mp4": audio_only(),
    }
    for name, content in data.items():
        (folder / name).write_bytes(content)
    Image.fromarray(frames[0]).save(folder / "photo.jpg", quality=92)
    return {name: folder / name for name in [*data, "photo.jpg"]}


@pytest.fixture
def out_dir(tmp_path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def paint(capsys, *argv) -> str:
    code = run_cli(["stylize", *map(str, argv)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert err == ""  # no progress bar off a terminal
    return out


def frames_of(path: Path) -> tuple[str, list[Image.Image], list[float], int | None]:
    """Format, frames (RGB), durations (ms) and loop of an output file."""
    if path.suffix == ".mp4":
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            decoded = list(container.decode(stream))
            times = [f.time for f in decoded]
            durations = [(b - a) * 1000 for a, b in zip(times, times[1:], strict=False)]
            return "MP4", [f.to_image() for f in decoded], durations, None
    with Image.open(path) as image:
        frames, durations = [], []
        for index in range(image.n_frames):
            image.seek(index)
            frames.append(image.convert("RGB"))
            durations.append(image.info.get("duration"))
        return image.format, frames, durations, image.info.get("loop")


def test_a_gif_is_painted_frame_by_frame(capsys, clips, out_dir):
    output = out_dir / "out.gif"
    out = paint(capsys, clips["clip.gif"], "-s", "starry-night", "-o", output)
    assert re.fullmatch(rf"Wrote {re.escape(str(output))} \(96x64, 8 frames, 0\.5 s\) in "
                        r"\d+\.\d\d s\.\n", out), out
    fmt, frames, durations, loop = frames_of(output)
    assert (fmt, len(frames), durations, loop) == ("GIF", 8, [60] * 8, 0)
    source = Image.open(clips["clip.gif"]).convert("RGB")
    assert mean_abs_diff(frames[0], source) > 0.08
    assert [p.name for p in out_dir.iterdir()] == ["out.gif"]


@pytest.mark.parametrize(("source", "written", "fmt"), [
    ("clip.mp4", "out.mp4", "MP4"), ("clip.webm", "out.mp4", "MP4"),
    ("clip.gif", "out.gif", "GIF"), ("clip.png", "out.gif", "GIF"),
    ("clip.webp", "out.webp", "WEBP"),
])
def test_without_a_suffix_the_animation_keeps_its_kind(capsys, clips, out_dir, source, written,
                                                       fmt):
    out = paint(capsys, clips[source], "-s", "udnie", "-o", out_dir / "out")
    assert out.startswith(f"Wrote {out_dir / written} (")
    assert [p.name for p in out_dir.iterdir()] == [written]
    got, frames, _, _ = frames_of(out_dir / written)
    assert got == fmt and len(frames) == 8


@pytest.mark.parametrize("name", ["out.gif", "out.mp4", "out.webp"])
def test_a_video_to_every_format(capsys, clips, out_dir, name):
    output = out_dir / name
    out = paint(capsys, clips["clip.mp4"], "-s", "the-scream", "-o", output)
    assert "(96x64, 8 frames, 0.4 s)" in out
    fmt, frames, durations, _ = frames_of(output)
    assert len(frames) == 8 and frames[0].size == SIZE
    assert all(abs(d - 50) <= 1 for d in durations)


def test_an_odd_sized_webm_keeps_its_aspect_ratio(capsys, clips, out_dir):
    out = paint(capsys, clips["clip.webm"], "-s", "udnie", "-o", out_dir / "out.mp4",
                "--max-size", "256")
    assert "(165x256, 8 frames, 0.4 s)" in out
    with av.open(str(out_dir / "out.mp4")) as container:
        context = container.streams.video[0].codec_context
        assert (context.width, context.height) == (166, 256)  # padded to even for H.264


def test_a_file_whose_extension_lies_is_read_by_its_content(capsys, clips, out_dir):
    out = paint(capsys, clips["really-mp4.gif"], "-s", "udnie", "-o", out_dir / "out.webp")
    assert "8 frames" in out


def test_max_frames_trims_and_says_so(capsys, clips, out_dir):
    out = paint(capsys, clips["long.gif"], "-s", "udnie", "-o", out_dir / "out.gif",
                "--max-frames", "5")
    assert out.endswith("(96x64, 5 frames, 0.2 s) in " + out.split(" in ")[1].split(";")[0]
                        + "; painted the first 5 frames of 30.\n"), out
    assert len(frames_of(out_dir / "out.gif")[1]) == 5


def test_every_option_works_on_animations(capsys, clips, out_dir):
    output = out_dir / "out.webp"
    paint(capsys, clips["clip.gif"], "-s", "starry-night", "-s", "great-wave", "--weights",
          "2,1", "--strength", "0.6", "--keep-colors", "--max-size", "48", "-o", output)
    fmt, frames, durations, loop = frames_of(output)
    assert (fmt, len(frames), frames[0].size, loop) == ("WEBP", 8, (48, 32), 0)


def test_max_size_is_capped_by_the_animation_limit(capsys, clips, out_dir, tmp_path):
    config = tmp_path / "stylebot.toml"
    config.write_text("[limits]\nmax_animation_side = 64\n")
    code = run_cli(["--config", config, "stylize", clips["clip.webm"], "-s", "udnie",
                    "--max-size", "2048", "-o", out_dir / "out.gif"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "(41x64, 8 frames" in out


@pytest.mark.parametrize("source", ["clip.gif", "clip.mp4"])
def test_png_and_jpeg_outputs_get_the_first_frame(capsys, clips, out_dir, source):
    out = paint(capsys, clips[source], "-s", "udnie", "-o", out_dir / "out.jpg")
    assert out.startswith(f"Wrote {out_dir / 'out.jpg'} (96x64) in ")


def test_a_still_photo_still_goes_the_still_way(capsys, clips, out_dir):
    out = paint(capsys, clips["photo.jpg"], "-s", "udnie", "-o", out_dir / "out.webp")
    assert out.startswith(f"Wrote {out_dir / 'out.webp'} (96x64) in ")
    with Image.open(out_dir / "out.webp") as image:
        assert not getattr(image, "is_animated", False)


@pytest.mark.parametrize(("source", "output", "expected"), [
    ("photo.jpg", "out.gif", "Output file must end in .png, .jpg, .jpeg or .webp."),
    ("photo.jpg", "out", "Output file must end in .png, .jpg, .jpeg or .webp."),
    ("clip.gif", "out.txt",
     "An animation is written as .gif, .mp4 or .webp, not .txt; with no suffix it keeps its "
     "own kind."),
    ("cut.gif", "out.gif", "The photo is damaged or incomplete."),
    ("cut.mp4", "out.mp4", "The video is damaged or incomplete."),
    ("sound.mp4", "out.mp4", "The video has no picture to paint (only sound)."),
], ids=["still-to-gif", "still-no-suffix", "odd-suffix", "cut-gif", "cut-mp4", "sound-only"])
def test_bad_requests_fail_with_one_line_and_no_file(capsys, clips, out_dir, source, output,
                                                     expected):
    code = run_cli(["stylize", clips[source], "-s", "udnie", "-o", out_dir / output])
    out, err = capsys.readouterr()
    assert (code, out) == (1, "")
    assert one_error_line(err) == expected
    assert list(out_dir.iterdir()) == []


def test_max_frames_must_be_positive(capsys, clips, out_dir):
    code = run_cli(["stylize", clips["clip.gif"], "-s", "udnie", "-o", out_dir / "o.gif",
                    "--max-frames", "0"])
    assert code == 2
    assert usage_error(capsys.readouterr().err, "stylize") == "--max-frames must be at least 1."


def test_a_progress_bar_over_frames_on_a_terminal(clips, tmp_path, mirror_dir):
    """The real command with its stderr on a pseudo-terminal draws tqdm's bar over frames."""
    env = process_env(tmp_path / "home", tmp_path / "cache", mirror_dir)
    (tmp_path / "home").mkdir()
    output = tmp_path / "out.gif"
    main, secondary = os.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    try:
        process = subprocess.Popen(
            [STYLEBOT, "stylize", clips["clip.gif"], "-s", "udnie", "-o", output], env=env,
            stdout=subprocess.PIPE, stderr=secondary, text=True)
        os.close(secondary)
        terminal = b""
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(main, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                terminal += chunk
            elif process.poll() is not None:
                break
        stdout, _ = process.communicate(timeout=30)
    finally:
        os.close(main)
    assert process.returncode == 0, terminal
    assert "8 frames" in stdout
    assert re.search(rb"Painting: +\d+%\|.*\| [1-8]/8 \[", terminal), terminal
