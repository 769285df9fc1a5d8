"""The words around a painting: its caption and the queue-position status lines."""

from __future__ import annotations

from bot.features.stylize.painting import Rendered, RenderRequest
from bot.features.stylize.replies import Replier
from bot.jobs import PositionCallback


def describe_styles(request: RenderRequest) -> str:
    """'starry-night ×2 + great-wave': the styles with any weights that differ."""
    parts = []
    for style in request.styles:
        weight = "" if len(request.styles) == 1 or style.weight == 1 else f" ×{style.weight:g}"
        parts.append(f"{style.name}{weight}")
    return " + ".join(parts)


def caption(request: RenderRequest, rendered: Rendered) -> str:
    """One line under the painting: styles, strength, colours, size and time taken."""
    options = request.options
    bits = [f"🎨 {describe_styles(request)}", f"strength {options.strength:g}"]
    if options.keep_colours:
        bits.append("colours kept")
    bits += [f"{rendered.width}×{rendered.height}", f"{rendered.seconds:.1f} s"]
    return " · ".join(bits)


def position_reporter(replier: Replier) -> PositionCallback:
    """A job's on_position callback: the queue position while waiting, then 'Painting…'."""
    shown = False

    async def report(position: int) -> None:
        nonlocal shown
        if position > 0:
            shown = True
            await replier.status(f"⏳ You're number {position} in the queue.")
        elif shown:
            await replier.status("🎨 Painting…")

    return report
