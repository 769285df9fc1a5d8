"""The `stylebot` command line: argument parsing, usage errors (exit 2), real processes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from bot.cli import build_parser
from bot.commands.stylize import inference_threads
from bot.machine import usable_cores
from tests.commands import (
    STYLEBOT,
    one_error_line,
    process_env,
    run_cli,
    run_process,
    usage_error,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def cli_env(monkeypatch, tmp_path):
    monkeypatch.setenv("STYLEBOT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("STYLEBOT_CONFIG", raising=False)


@pytest.fixture
def content(tmp_path, photo) -> Path:
    path = tmp_path / "photo.jpg"
    photo("chelsea", (96, 64)).save(path)
    return path


@pytest.fixture
def env(tmp_path, mirror_dir) -> dict[str, str]:
    """Environment for a real process: the mirror, a private HOME and an empty cache."""
    (tmp_path / "home").mkdir()
    return process_env(tmp_path / "home", tmp_path / "cache", mirror_dir)


# --- parsing ------------------------------------------------------------------------------------


def test_both_spellings_of_keep_colours_parse():
    parser = build_parser()
    base = ["stylize", "p.jpg", "-s", "udnie", "-o", "o.png"]
    assert parser.parse_args(base).keep_colours is False
    assert parser.parse_args([*base, "--keep-colors"]).keep_colours is True
    assert parser.parse_args([*base, "--keep-colours"]).keep_colours is True


def test_styles_repeat_in_order_and_content_has_two_forms():
    parser = build_parser()
    args = parser.parse_args(["stylize", "-c", "p.jpg", "-s", "a", "-s", "b.png", "-o", "o.png"])
    assert args.style == ["a", "b.png"]
    assert args.content_opt == Path("p.jpg") and args.content is None
    args = parser.parse_args(["stylize", "p.jpg", "-s", "a", "-o", "o.png"])
    assert args.content == Path("p.jpg") and args.content_opt is None
    assert args.strength == 1.0 and args.max_size is None and args.weights is None


# --- usage errors: exit 2 ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["{photo}", "-o", "{out}"], "the following arguments are required: -s/--style"),
        (["{photo}", "-s", "udnie", "-s", "nantes", "--weights", "1", "-o", "{out}"],
         "--weights gives 1 weights for 2 styles."),
        (["{photo}", "-s", "udnie", "--weights", "2,1", "-o", "{out}"],
         "--weights gives 2 weights for 1 styles."),
        (["{photo}", "-s", "udnie", "-s", "nantes", "--weights", "2,x", "-o", "{out}"],
         "--weights must be numbers separated by commas, not '2,x'."),
        (["{photo}", "-s", "udnie", "-s", "nantes", "--weights", "2,0", "-o", "{out}"],
         "--weights must all be positive."),
        (["{photo}", "-s", "udnie", "-s", "nantes", "--weights", "inf,1", "-o", "{out}"],
         "--weights must all be positive."),  # infinite: the blend would be NaN
        (["{photo}", "-c", "{photo}", "-s", "udnie", "-o", "{out}"],
         "give the photo once, either as CONTENT or with -c, not both."),
        (["-s", "udnie", "-o", "{out}"], "give the photo to paint, as CONTENT or with -c."),
        (["{photo}", "-s", "udnie", "--max-size", "0", "-o", "{out}"],
         "--max-size must be from 1 to 2048."),
        (["{photo}", "-s", "udnie", "--max-size", "5000", "-o", "{out}"],
         "--max-size must be from 1 to 2048."),
        (["{photo}", "-s", "udnie", "--max-size", "-3", "-o", "{out}"],
         "--max-size must be from 1 to 2048."),
        (["{photo}", "-s", "udnie", "--threads", "-1", "-o", "{out}"],
         "--threads must be 0 (all usable cores) or more."),
        (["{photo}", "-s", "udnie", "--strength", "lots", "-o", "{out}"],
         "argument --strength: invalid float value: 'lots'"),
    ],
    ids=["no-style", "too-few-weights", "too-many-weights", "weights-not-numbers",
         "weight-zero", "weight-infinite", "content-twice", "no-content", "max-size-0",
         "max-size-5000", "max-size-negative", "threads-negative", "strength-not-number"],
)
def test_usage_errors_exit_2_with_the_subcommands_usage_and_one_error_line(
    capsys, tmp_path, content, argv, expected
):
    """argparse's own errors and the command's checks look the same: `stylize`'s usage, then
    `stylebot stylize: error: ...`."""
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    filled = [a.format(photo=content, out=out_dir / "out.png") for a in argv]
    assert run_cli(["stylize", *filled]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(build_parser().parse_args(["stylize", "-s", "a", "-o", "o.png"])
                          .command_parser.format_usage())
    assert usage_error(err, "stylize") == expected
    assert list(out_dir.iterdir()) == []


def test_threads_0_means_all_usable_cores_as_in_the_config(capsys, tmp_path, content,
                                                          mirror_dir, monkeypatch):
    monkeypatch.setenv("STYLEBOT_MIRROR", str(mirror_dir))
    assert inference_threads(0) == usable_cores()
    assert inference_threads(None) is None  # engine.threads from the config decides
    assert inference_threads(3) == 3
    output = tmp_path / "o.png"
    assert run_cli(["stylize", content, "-s", "udnie", "--max-size", "64", "--threads", "0",
                    "-o", output]) == 0
    assert capsys.readouterr().out.startswith(f"Wrote {output} (64x43) in ")


# --- --config before or after the subcommand ---------------------------------------------------


@pytest.mark.parametrize("command", ["stylize", "presets", "download", "run"])
def test_config_is_accepted_before_and_after_every_subcommand(command):
    parser = build_parser()
    extra = ["p.jpg", "-s", "a", "-o", "o.png"] if command == "stylize" else []
    assert parser.parse_args([command, *extra]).config is None
    before = parser.parse_args(["--config", "a.toml", command, *extra])
    after = parser.parse_args([command, "--config", "b.toml", *extra])
    both = parser.parse_args(["--config", "a.toml", command, "--config", "b.toml", *extra])
    assert (before.config, after.config, both.config) == (
        Path("a.toml"), Path("b.toml"), Path("b.toml"))  # after the subcommand wins


def test_presets_reads_the_config_given_after_the_subcommand(capsys, tmp_path, mirror_dir,
                                                              monkeypatch, photo):
    monkeypatch.setenv("STYLEBOT_MIRROR", str(mirror_dir))
    (tmp_path / "mine").mkdir()
    photo("coffee", (64, 48)).save(tmp_path / "mine" / "morning.jpg")
    config = tmp_path / "stylebot.toml"
    config.write_text('[paths]\npresets_dir = "mine"\n')
    assert run_cli(["presets", "--config", config]) == 0
    assert "morning" in capsys.readouterr().out
    argv = ["--config", tmp_path / "a.toml", "presets", "--config", tmp_path / "b.toml"]
    assert run_cli(argv) == 1
    assert capsys.readouterr().err == f"error: Config file {tmp_path / 'b.toml'} does not exist.\n"


def test_a_missing_command_is_a_usage_error(capsys):
    assert run_cli([]) == 2
    assert "usage: stylebot" in capsys.readouterr().err


# --- real processes ---------------------------------------------------------------------------


def test_python_m_bot_help_exits_0(env):
    result = run_process([sys.executable, "-m", "bot", "--help"], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: stylebot")
    for command in ("stylize", "presets", "download", "run"):
        assert command in result.stdout
    assert result.stderr == ""


def test_console_script_paints_and_exits_0(env, tmp_path, content):
    assert STYLEBOT.is_file(), f"{STYLEBOT} is not installed; run pip install -e ."
    output = tmp_path / "painted.webp"
    result = run_process(
        [STYLEBOT, "stylize", content, "-s", "the-kiss", "--max-size", "64", "-o", output], env
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith(f"Wrote {output} (64x43) in ")
    with Image.open(output) as image:
        assert (image.format, image.size) == ("WEBP", (64, 43))
    assert not (tmp_path / "home" / ".cache").exists()  # everything went to STYLEBOT_CACHE_DIR


def test_console_script_usage_error_exits_2(env, tmp_path, content):
    result = run_process([STYLEBOT, "stylize", content, "-o", tmp_path / "o.png"], env)
    assert result.returncode == 2
    assert result.stdout == ""
    assert usage_error(result.stderr, "stylize") == (
        "the following arguments are required: -s/--style")


def test_hub_engine_with_a_missing_folder_fails_with_one_line(env, tmp_path, content):
    handle = tmp_path / "no-saved-model"
    result = run_process(
        [STYLEBOT, "stylize", content, "-s", "udnie", "--engine", "hub", "--hub-handle", handle,
         "-o", tmp_path / "o.png"],
        env,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    message = one_error_line(result.stderr)
    assert message.startswith(f"Could not load the TF Hub model from {handle}: ")
    assert not (tmp_path / "o.png").exists()


def test_without_mirror_or_network_stylize_fails_with_one_line(env, tmp_path, content):
    """No mirror, an empty cache and no internet: the model download fails, promptly."""
    empty_mirror = tmp_path / "empty-mirror"
    empty_mirror.mkdir()
    env["STYLEBOT_MIRROR"] = str(empty_mirror)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    # the photo doubles as the style image, so the first thing fetched is a model file; the
    # timeout is the "no hang" guard (one failed attempt, no retries), not a speed target
    result = run_process(
        [STYLEBOT, "stylize", content, "-s", content, "-o", out_dir / "o.png"], env, timeout=40
    )
    assert result.returncode == 1
    message = one_error_line(result.stderr)
    assert message.startswith("Downloading magenta_arbitrary-image-stylization-v1-256_")
    assert " failed: " in message
    assert list(out_dir.iterdir()) == []
    leftovers = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert leftovers == []


# --- the lite install: no TensorFlow ----------------------------------------------------------

#: `stylebot ARGS` in a Python where TensorFlow is not installed: a None entry in sys.modules
#: makes `import tensorflow` raise ModuleNotFoundError(name='tensorflow'), as a missing package
#: does (the test venv has the hub extra, so this is how a lite install is had here).
WITHOUT_TENSORFLOW = (
    "import sys; sys.modules['tensorflow'] = None; "
    "from bot.cli import main; sys.exit(main(sys.argv[1:]))"
)


def test_hub_engine_without_tensorflow_says_how_to_install_it(env, tmp_path, content):
    output = tmp_path / "o.png"
    result = run_process(
        [sys.executable, "-c", WITHOUT_TENSORFLOW, "stylize", content, "-s", "udnie",
         "--engine", "hub", "-o", output],
        env,
    )
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    assert result.stderr == 'error: The hub engine needs TensorFlow: pip install "stylebot[hub]".\n'
    assert not output.exists()


LITE_PAINT_THEN_LIST_MODULES = (
    "import sys; from bot.cli import main; code = main(sys.argv[1:]); "
    "print(sorted(m for m in sys.modules if m.partition('.')[0] in "
    "{'tensorflow', 'tensorflow_hub', 'tf_keras', 'keras'})); sys.exit(code)"
)


def test_a_lite_paint_never_imports_tensorflow(env, tmp_path, content):
    output = tmp_path / "o.png"
    result = run_process(
        [sys.executable, "-c", LITE_PAINT_THEN_LIST_MODULES, "stylize", content, "-s", "udnie",
         "--max-size", "64", "-o", output],
        env,
    )
    assert result.returncode == 0, result.stderr
    wrote, modules = result.stdout.splitlines()
    assert wrote.startswith(f"Wrote {output} (64x43) in ")
    assert modules == "[]"


def test_every_output_the_readme_examples_write_is_git_ignored():
    readme = (ROOT / "README.md").read_text() + (ROOT / "benchmarks" / "README.md").read_text()
    outputs = {name for name in re.findall(r"(?:-o|--output) ([\w./-]+\.(?:png|jpe?g|webp))",
                                            readme) if not name.startswith("docs/")}
    assert {"scream.png", "kiss.webp", "blend.jpg", "half.png", "udnie-colours.png",
            "small.png", "hub.png", "chelsea-starry-night.png"} <= outputs
    result = subprocess.run(["git", "check-ignore", "--no-index", *sorted(outputs)], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    assert sorted(result.stdout.split()) == sorted(outputs), result.stderr
