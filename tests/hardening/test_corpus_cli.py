"""The hostile corpus through `stylebot stylize`: in-process per case, then all in one process."""

from __future__ import annotations

import contextlib
import io
import json
import os
import time
from pathlib import Path

import pytest
from PIL import Image

from tests.commands import one_error_line, run_cli
from tests.hardening.corpus import CAP, STYLE, Case, build_corpus
from tests.hardening.driver import start_driver

CASES = build_corpus()
#: Peak resident memory of the one process that runs the whole corpus. It measured 345-417 MB,
#: reached while the first case loads and compiles the networks; the 36-megapixel grey PNG's
#: decoded planes (~36 MB grey + ~108 MB RGB) fit under that. 1 GB leaves headroom for
#: allocator slack and library versions, while any bomb that got decoded (3.6 gigapixels =
#: 10.8 GB as RGB, 400 megapixels = 1.2 GB) or 500 animation frames held at once would break it.
PEAK_RSS_BOUND_MB = 1024


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """Every case written to its own file name in one folder (names are unique per case)."""
    folder = tmp_path_factory.mktemp("corpus")
    for case in CASES:
        (folder / case.name).mkdir()
        (folder / case.name / case.filename).write_bytes(case.data)
    return folder


def input_path(inputs: Path, case: Case) -> Path:
    return inputs / case.name / case.filename


def argv(path: Path, output: Path) -> list[str]:
    return ["stylize", str(path), "-s", STYLE, "--max-size", str(CAP), "-o", str(output)]


def check_outcome(case: Case, code: int, stdout: str, stderr: str, output: Path) -> str:
    """Assert the CLI's outcome is the case's: the image of the right size, or exit 1 with
    exactly the one expected `error:` line and no output file. Returns a short description."""
    expected = case.expected
    if expected.size is not None:
        assert code == 0, f"{case.name}: exit {code}, stderr {stderr!r}"
        assert stderr == "", f"{case.name}: {stderr!r}"
        width, height = expected.size
        assert stdout.startswith(f"Wrote {output} ({width}x{height}) in "), stdout
        with Image.open(output) as painted:
            painted.load()
            assert (painted.format, painted.mode, painted.size) == ("PNG", "RGB", expected.size)
        return f"image {width}x{height}"
    assert code == 1, f"{case.name}: exit {code}, stdout {stdout!r}, stderr {stderr!r}"
    assert stdout == ""
    sentence = one_error_line(stderr)
    assert expected.matches(sentence), f"{case.name}: {sentence!r} is not {expected.refusal!r}"
    assert not output.exists()
    assert [p.name for p in output.parent.iterdir()] == [], "a refused case left files behind"
    return f"refused: {sentence}"


pytestmark = pytest.mark.usefixtures("cli_env")


def test_the_corpus_has_every_kind_of_case():
    names = {case.name for case in CASES}
    assert len(CASES) >= 30
    assert {"zero-bytes", "truncated-jpeg", "truncated-png", "truncated-gif", "truncated-webp",
            "png-header-60000x60000", "bomb-20000x20000-1bit", "1x1", "1x5000", "rgb-16bit-png",
            "cmyk-jpeg", "palette-transparency", "la-png", "i16-png", "1bit-png",
            "exif-rotated", "animated-gif-500", "animated-webp-500", "polyglot-gif-html-zip",
            "long-name", "says-png-is-html"} <= names
    assert len(next(c for c in CASES if c.name == "long-name").filename) == 250
    kinds = {case.expected.kind for case in CASES} | {case.bot_expected.kind for case in CASES}
    assert kinds == {"image", "refused"}


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_case_through_the_cli(case: Case, inputs, tmp_path, driver):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    output = out_dir / "painted.png"
    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run_cli(argv(input_path(inputs, case), output))
    seconds = time.perf_counter() - start
    shown = check_outcome(case, code, out.getvalue(), err.getvalue(), output)
    print(f"cli  {case.name:26} {seconds:5.2f} s  {shown}")


@pytest.fixture(scope="module")
def driver(inputs, tmp_path_factory, mirror_dir):
    """Start `python -c DRIVER manifest` over every case, with its own HOME and cache."""
    folder = tmp_path_factory.mktemp("driver")
    manifest = []
    for case in CASES:
        (folder / "out" / case.name).mkdir(parents=True)
        output = folder / "out" / case.name / "painted.png"
        manifest.append({"name": case.name, "argv": argv(input_path(inputs, case), output)})
    handle = start_driver(folder, manifest, mirror_dir)
    yield handle
    handle.kill()


def test_whole_corpus_in_one_process_within_the_memory_bound(driver):
    """One real process paints or refuses every case in turn; its peak RSS stays bounded."""
    status, usage, wall = driver.wait()
    process_stderr = (driver.folder / "stderr").read_text(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, process_stderr
    assert process_stderr == "", "the driver process wrote to its stderr:\n" + process_stderr

    results = [json.loads(line) for line in (driver.folder / "stdout").read_text().splitlines()]
    assert [r["name"] for r in results] == [case.name for case in CASES]
    print(f"one process, {len(CASES)} cases in {wall:.1f} s:")
    previous_peak = 0
    for case, result in zip(CASES, results, strict=True):
        output = driver.folder / "out" / case.name / "painted.png"
        shown = check_outcome(case, result["code"], result["stdout"], result["stderr"], output)
        grew = (result["peak_kb"] - previous_peak) / 1024
        previous_peak = result["peak_kb"]
        growth = f"(+{grew:.0f})" if grew >= 1 else ""
        print(f"  {case.name:26} {result['seconds']:5.2f} s  peak "
              f"{result['peak_kb'] / 1024:4.0f} MB {growth:7} {shown}")
    peak_mb = results[-1]["peak_kb"] / 1024
    print(f"  peak RSS of the process: {peak_mb:.0f} MB (bound {PEAK_RSS_BOUND_MB} MB)")
    assert peak_mb < PEAK_RSS_BOUND_MB
