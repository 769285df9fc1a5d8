"""`stylebot stylize`: paint one photo offline and write it atomically."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from bot.commands.animate import plan_animation, run_animation, still_content
from bot.config import Settings
from bot.engine import Engine, WeightedStyle
from bot.engine.base import check_strength
from bot.errors import EngineError, ImageError
from bot.imaging import (
    IMAGE_SUFFIXES,
    MAX_OUTPUT_SIDE,
    ImageLimits,
    format_for_path,
    read_image_bytes,
    save_image_atomic,
)
from bot.loaders import load_engine, make_catalog, make_resolver, preset_style
from bot.machine import usable_cores
from bot.stylization import StylizeOptions, parse_weights, style_from_file, stylize

#: Outputs that are always one still picture (of an animation, its first frame, as before).
STILL_ONLY_SUFFIXES = frozenset({".png", ".jpg", ".jpeg"})


def _usage(message: str) -> Exception:
    from bot.errors import UsageError

    return UsageError(message)


def weights_option(text: str | None, count: int) -> list[float]:
    """`--weights 2,1` as one positive weight per style (all 1 when absent)."""
    if text is None:
        return [1.0] * count
    try:
        return parse_weights(text, count, field="--weights", shown=repr(text))
    except ValueError as error:
        raise _usage(str(error)) from None


def inference_threads(requested: int | None) -> int | None:
    """`--threads`: absent = `engine.threads` from the config; 0 = auto, as in the config: all
    usable cores (one photo has the machine to itself); N = N."""
    return usable_cores() if requested == 0 else requested


def _looks_like_path(text: str) -> bool:
    return Path(text).suffix.lower() in IMAGE_SUFFIXES or "/" in text or "\\" in text


async def _styles(
    args: argparse.Namespace, settings: Settings, limits: ImageLimits, weights: list[float]
) -> tuple[list[WeightedStyle], Engine]:
    resolver = make_resolver(settings, progress=sys.stderr.isatty())
    catalog = make_catalog(settings)
    styles = []
    for text, weight in zip(args.style, weights, strict=True):
        path = Path(text)
        if path.exists() or _looks_like_path(text):
            styles.append(await asyncio.to_thread(style_from_file, path, limits, weight=weight))
        else:
            preset = catalog.get(text)
            styles.append(await preset_style(resolver, preset, limits, weight=weight))
    engine = await load_engine(
        settings, resolver, name=args.engine, hub_handle=args.hub_handle,
        threads=inference_threads(args.threads), precision=args.precision,
    )
    return styles, engine


def _check_output_folder(output: Path) -> None:
    """Refuse a missing output folder before painting rather than after."""
    folder = output.parent
    if not folder.is_dir():
        raise ImageError(f"The folder “{folder}” does not exist.")


def _check_hub_handle(args: argparse.Namespace, settings: Settings) -> None:
    """Refuse a hub handle that is neither a URL nor a folder without importing TensorFlow."""
    if (args.engine or settings.engine.name) != "hub":
        return
    handle = args.hub_handle or settings.engine.hub_handle
    if "://" not in handle and not Path(handle).expanduser().is_dir():
        raise EngineError(f"Could not load the TF Hub model from {handle}: no such folder.")


def run_stylize(args: argparse.Namespace, settings: Settings) -> int:
    """Validate everything cheap first, then load the engine, paint and write the output."""
    start = time.perf_counter()
    content_path = args.content_opt or args.content
    if content_path is None:
        raise _usage("give the photo to paint, as CONTENT or with -c.")
    if args.content_opt and args.content:
        raise _usage("give the photo once, either as CONTENT or with -c, not both.")
    max_side = settings.limits.default_output_side if args.max_size is None else args.max_size
    if not 1 <= max_side <= MAX_OUTPUT_SIDE:
        raise _usage(f"--max-size must be from 1 to {MAX_OUTPUT_SIDE}.")
    if args.threads is not None and args.threads < 0:
        raise _usage("--threads must be 0 (all usable cores) or more.")
    weights = weights_option(args.weights, len(args.style))
    max_frames = getattr(args, "max_frames", None)
    if max_frames is not None and max_frames < 1:
        raise _usage("--max-frames must be at least 1.")
    # .webp, .gif, .mp4, no suffix or an odd one: the photo's bytes decide (bot/commands/animate)
    maybe_animated = args.output.suffix.lower() not in STILL_ONLY_SUFFIXES
    if not maybe_animated:
        format_for_path(args.output)
    _check_output_folder(args.output)
    options = StylizeOptions(strength=args.strength, keep_colours=args.keep_colours,
                             max_side=max_side)
    check_strength(args.strength)
    _check_hub_handle(args, settings)
    limits = settings.image_limits()
    if maybe_animated:
        data = read_image_bytes(content_path, limits, what="photo")
        job = plan_animation(data, args.output, settings, limits, options, max_frames)
        if job is not None:
            styles, engine = asyncio.run(_styles(args, settings, limits, weights))
            return run_animation(job, engine, styles, start, verbose=args.verbose)
        content = still_content(data, limits)  # a still photo: as before
        format_for_path(args.output)
    else:
        content = still_content(read_image_bytes(content_path, limits, what="photo"), limits)
    styles, engine = asyncio.run(_styles(args, settings, limits, weights))
    try:
        painted = stylize(engine, content, styles, options)
        if args.verbose:
            print(engine.describe(), file=sys.stderr)
    finally:
        engine.close()
    save_image_atomic(painted, args.output)
    seconds = time.perf_counter() - start
    print(f"Wrote {args.output} ({painted.width}x{painted.height}) in {seconds:.2f} s.")
    return 0
