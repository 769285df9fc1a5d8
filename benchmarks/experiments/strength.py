"""How far from the photo each strength scheme lands, on every preset (mean abs diff /255)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.common import REPO, cpu_summary, mirror, model
from bot.engine.base import WeightedStyle
from bot.engine.lite import LiteEngine
from bot.engine.vectors import apply_strength
from bot.imaging import pad_to_multiple, to_float_array

STRENGTHS = (0.0, 0.25, 0.5, 0.75, 1.0)
PHOTOS = ("coffee", "chelsea", "astronaut")


def schemes(engine: LiteEngine, photo: Image.Image, style: WeightedStyle) -> dict[str, list]:
    """Distance to the photo at each strength for the three schemes, in /255 units."""
    pixels = to_float_array(photo)
    padded, (height, width) = pad_to_multiple(pixels, 64)
    style_vector = engine.style_vector(style)
    own = engine._vector_of(photo, crop=False)

    def paint(vector: np.ndarray) -> np.ndarray:
        return engine._transfer(np.ascontiguousarray(padded), vector)[:height, :width]

    full = paint(style_vector)
    rows: dict[str, list] = {"vector blend (before)": [], "pixel blend": [],
                             "vector + pixel blend (chosen)": []}
    for s in STRENGTHS:
        mixed = paint(apply_strength(style_vector, own, s))
        outputs = {"vector blend (before)": mixed,
                   "pixel blend": s * full + (1 - s) * pixels,
                   "vector + pixel blend (chosen)": s * mixed + (1 - s) * pixels}
        for name, out in outputs.items():
            quantised = np.clip(np.rint(out * 255), 0, 255)
            rows[name].append(float(np.abs(quantised - np.rint(pixels * 255)).mean()))
    return rows


def main() -> None:
    """Print the mean over presets and photos of each scheme's distance at each strength."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--side", type=int, default=512, help="photo long side (default 512)")
    args = parser.parse_args()
    print(cpu_summary())
    slugs = sorted(p.stem for p in (mirror() / "presets").glob("*.jpg"))
    totals: dict[str, list[list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        engine = LiteEngine(model("prediction"), model("fp16"), vector_dir=Path(tmp))
        for name in PHOTOS:
            photo = content_photo(name, args.side)
            for slug in slugs:
                with Image.open(mirror() / "presets" / f"{slug}.jpg") as image:
                    style = WeightedStyle(image.convert("RGB"), key=slug)
                for scheme, row in schemes(engine, photo, style).items():
                    totals.setdefault(scheme, []).append(row)
    print(f"\nmean abs difference to the photo (0-255), mean over {len(slugs)} presets x "
          f"{len(PHOTOS)} photos at {args.side} px (min-max over them)")
    print("scheme".ljust(30) + "".join(f"{s:>16}" for s in STRENGTHS))
    for scheme, rows in totals.items():
        table = np.array(rows)
        cells = [f"{m:.1f} ({lo:.0f}-{hi:.0f})" for m, lo, hi in
                 zip(table.mean(0), table.min(0), table.max(0), strict=True)]
        print(scheme.ljust(30) + "".join(c.rjust(16) for c in cells))
        steps = np.diff(table, axis=1)
        print(" " * 30 + f"monotonic in every case: {bool(np.all(steps > 0))}")


def content_photo(name: str, side: int) -> Image.Image:
    """An example photo scaled to `side` on its long edge."""
    with Image.open(REPO / "examples" / f"{name}.jpg") as image:
        image = image.convert("RGB")
    scale = side / max(image.size)
    return image.resize((round(image.width * scale), round(image.height * scale)),
                        Image.Resampling.LANCZOS)


if __name__ == "__main__":
    main()
