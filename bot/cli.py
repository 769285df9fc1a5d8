"""The `stylebot` command: stylize, presets, download, run and serve."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.defaults import ENGINE_NAMES
from bot.errors import StylebotError, UsageError


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="stylebot", description="Paint photos in the style of artworks."
    )
    parser.add_argument("--config", type=Path, metavar="FILE",
                        help="TOML settings file (default $STYLEBOT_CONFIG)")
    # `--config` is accepted after the subcommand too; given in both places, the later one wins
    # (SUPPRESS: a subcommand without it leaves the top-level value alone).
    config = argparse.ArgumentParser(add_help=False)
    config.add_argument("--config", type=Path, metavar="FILE", default=argparse.SUPPRESS,
                        help="TOML settings file (default $STYLEBOT_CONFIG)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add_command(name: str, summary: str) -> argparse.ArgumentParser:
        command = commands.add_parser(name, help=summary, parents=[config])
        command.set_defaults(command_parser=command)  # its usage goes with its usage errors
        return command

    stylize = add_command("stylize", "paint one photo in one or more styles")
    stylize.add_argument("content", nargs="?", type=Path, help="the photo to paint")
    stylize.add_argument("-c", "--content", dest="content_opt", type=Path, metavar="CONTENT",
                         help="the photo to paint (instead of the positional argument)")
    stylize.add_argument("-s", "--style", action="append", required=True, metavar="STYLE",
                         help="a style image path or preset name; repeat to blend styles")
    stylize.add_argument("-o", "--output", type=Path, required=True,
                         help="output file: .png, .jpg, .jpeg or .webp")
    stylize.add_argument("--weights", help="comma-separated weights for the styles, e.g. 2,1")
    stylize.add_argument("--strength", type=float, default=1.0,
                         help="from 0 (the photo unchanged) to 1 (the full style); default 1")
    stylize.add_argument("--keep-colors", "--keep-colours", dest="keep_colours",
                         action="store_true", help="keep the photo's colours, take the style's "
                         "brushwork")
    stylize.add_argument("--max-size", type=int, metavar="PX",
                         help="cap on the output's long side (never upscaled; at most 2048)")
    stylize.add_argument("--engine", choices=ENGINE_NAMES, help="stylization engine")
    stylize.add_argument("--hub-handle", metavar="H", help="TF Hub handle or SavedModel folder")
    stylize.add_argument("--threads", type=int, metavar="N",
                         help="inference threads; 0 = all usable cores; default: "
                         "engine.threads (0)")
    stylize.add_argument("--precision", choices=("auto", "f32", "bf16"),
                         help="the lite transfer net's precision (default: engine.precision)")
    stylize.add_argument("-v", "--verbose", action="store_true",
                         help="also say on stderr which precision and CPU features ran")

    add_command("presets", "list the preset styles")
    download = add_command("download", "fetch the model files and preset images")
    download.add_argument("--into-cache", action="store_true",
                          help="copy the files found in the mirror into the cache too, so that "
                          "the cache alone holds everything (the Docker image's build does)")
    add_command("run", "run the Discord bot")
    from bot.commands.serve import add_serve_arguments

    add_serve_arguments(add_command("serve", "run the painting service (Ray Serve)"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _dispatch(args)
    except UsageError as exc:  # the same two lines as argparse's own errors of that command
        command_parser = args.command_parser
        command_parser.print_usage(sys.stderr)
        print(f"{command_parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    except StylebotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted.", file=sys.stderr)
        return 130
    except Exception as exc:  # one line for the user, never a traceback
        print(f"error: unexpected {type(exc).__name__}: {_first_line(exc)}", file=sys.stderr)
        return 1


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else "no details"


def _dispatch(args: argparse.Namespace) -> int:
    from bot.config import load_settings

    settings = load_settings(args.config)
    if args.command == "stylize":
        from bot.commands.stylize import run_stylize

        return run_stylize(args, settings)
    if args.command == "presets":
        from bot.commands.presets import run_presets

        return run_presets(settings)
    if args.command == "download":
        from bot.commands.download import run_download

        return run_download(settings, into_cache=args.into_cache)
    if args.command == "serve":
        from bot.commands.serve import run_serve

        return run_serve(settings, args)
    from bot.commands.run import run_bot

    return run_bot(settings, args.config)

