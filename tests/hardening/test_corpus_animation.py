"""The hostile animation corpus through `stylebot stylize`: in-process per case, then all in one
process whose peak RSS must stay bounded."""

from __future__ import annotations

import contextlib
import io
import json
import os
import time
from pathlib import Path

import av
import pytest
from PIL import Image

from tests.commands import one_error_line, run_cli
from tests.hardening.corpus import CAP, STYLE, Case, build_animation_corpus
from tests.hardening.driver import start_driver

CASES = build_animation_corpus()
#: No case may take longer (the 4K clip decodes 30 frames of 8 megapixels; 120 frames painted).
CASE_SECONDS = 30.0
#: Peak RSS of the one process running every case. It measured 337 MB: 187 MB once the networks
#: are loaded and compiled, +142 MB for the 4K clip (FFmpeg's frame threads hold a few 12 MB YUV
#: frames, and each is scaled down as it is decoded); the 10 000-frame GIF adds 5 MB, as it is
#: streamed. The 4K clip decoded whole (30 frames x 25 MB of RGB) or the 30000x30000 screen
#: decoded (2.7 GB) would break 768 MB.
PEAK_RSS_BOUND_MB = 768


def argv(path: Path, output: Path) -> list[str]:
    return ["stylize", str(path), "-s", STYLE, "--max-size", str(CAP), "-o", str(output)]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("animations")
    for case in CASES:
        (folder / case.name).mkdir()
        (folder / case.name / case.filename).write_bytes(case.data)
    return folder


def frame_count(path: Path) -> tuple[int, tuple[int, int]]:
    if path.suffix == ".mp4":
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            frames = sum(1 for _ in container.decode(stream))
            return frames, (stream.codec_context.width, stream.codec_context.height)
    with Image.open(path) as image:
        return image.n_frames, image.size


def check_outcome(case: Case, code: int, stdout: str, stderr: str, output: Path) -> str:
    """The painted animation of the right size, frames and note; or exit 1, one line, no file."""
    expected = case.expected
    if expected.size is not None:
        assert code == 0, f"{case.name}: exit {code}, stderr {stderr!r}"
        assert stderr == "", f"{case.name}: {stderr!r}"
        width, height = expected.size
        assert stdout.startswith(f"Wrote {output} ({width}x{height}, {expected.frames} frames, "
                                 ), stdout
        ending = f"; {expected.note}.\n" if expected.note else " s.\n"
        assert stdout.endswith(ending), f"{case.name}: {stdout!r}"
        frames, size = frame_count(output)
        assert frames == expected.frames
        even = (width + width % 2, height + height % 2)
        assert size == (even if output.suffix == ".mp4" else (width, height))
        return expected.describe()
    assert code == 1, f"{case.name}: exit {code}, stdout {stdout!r}, stderr {stderr!r}"
    assert stdout == ""
    sentence = one_error_line(stderr)
    assert expected.matches(sentence), f"{case.name}: {sentence!r} is not {expected.refusal!r}"
    assert list(output.parent.iterdir()) == [], "a refused case left files behind"
    return f"refused: {sentence}"


pytestmark = pytest.mark.usefixtures("cli_env")


def test_the_corpus_has_every_hostile_animation():
    names = {case.name for case in CASES}
    assert {"anim-gif-10000-frames", "anim-gif-zero-durations", "anim-gif-screen-30000x30000",
            "anim-gif-truncated", "anim-mp4-cut-in-half", "anim-mp4-audio-only",
            "anim-4k-60fps", "anim-mp4-named-gif", "anim-webm-333x517"} <= names


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_case_through_the_cli(case: Case, inputs, tmp_path, driver):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    output = out_dir / case.output
    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run_cli(argv(inputs / case.name / case.filename, output))
    seconds = time.perf_counter() - start
    shown = check_outcome(case, code, out.getvalue(), err.getvalue(), output)
    assert seconds < CASE_SECONDS, f"{case.name} took {seconds:.1f} s"
    print(f"cli  {case.name:28} {seconds:5.2f} s  {shown}")


@pytest.fixture(scope="module")
def driver(inputs, tmp_path_factory, mirror_dir):
    """One `python -c DRIVER manifest` process over every case, beside the in-process ones."""
    folder = tmp_path_factory.mktemp("animation-driver")
    manifest = []
    for case in CASES:
        (folder / "out" / case.name).mkdir(parents=True)
        output = folder / "out" / case.name / case.output
        manifest.append({"name": case.name,
                         "argv": argv(inputs / case.name / case.filename, output)})
    handle = start_driver(folder, manifest, mirror_dir)
    yield handle
    handle.kill()


def test_every_animation_in_one_process_within_the_memory_bound(driver):
    status, _, wall = driver.wait()
    process_stderr = (driver.folder / "stderr").read_text(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, process_stderr
    assert process_stderr == "", process_stderr
    results = [json.loads(line) for line in (driver.folder / "stdout").read_text().splitlines()]
    assert [r["name"] for r in results] == [case.name for case in CASES]
    print(f"one process, {len(CASES)} animation cases in {wall:.1f} s:")
    previous_peak = 0
    for case, result in zip(CASES, results, strict=True):
        output = driver.folder / "out" / case.name / case.output
        shown = check_outcome(case, result["code"], result["stdout"], result["stderr"], output)
        assert result["seconds"] < CASE_SECONDS, f"{case.name} took {result['seconds']:.1f} s"
        grew = (result["peak_kb"] - previous_peak) / 1024
        previous_peak = result["peak_kb"]
        print(f"  {case.name:28} {result['seconds']:5.2f} s  peak "
              f"{result['peak_kb'] / 1024:4.0f} MB {f'(+{grew:.0f})' if grew >= 1 else '':7} "
              f"{shown}")
    peak_mb = results[-1]["peak_kb"] / 1024
    print(f"  peak RSS of the process: {peak_mb:.0f} MB (bound {PEAK_RSS_BOUND_MB} MB)")
    assert peak_mb < PEAK_RSS_BOUND_MB
