"""Child process for the peak-RSS figure: one lite stylization, JPEG -> PNG, at a long side."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from benchmarks.common import STYLE, jpeg_bytes, model, style_path
from bot.engine.lite import LiteEngine
from bot.imaging import ImageLimits, decode_image, encode_image
from bot.stylization import StylizeOptions, style_from_file, stylize


def _status_mb(field: str) -> float:
    """A /proc/self/status memory field in MiB.

    VmHWM is this process image's peak RSS; ru_maxrss is not usable here because Linux carries
    the parent's peak over fork/exec, so a big benchmark parent would mask the child's figure.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # kB
    raise KeyError(field)


def main(side: int, cache: Path) -> None:
    """Print JSON: RSS after imports and peak RSS (VmHWM) after one stylization, in MiB."""
    after_imports = _status_mb("VmRSS")
    data = jpeg_bytes(side, side * 3 // 4)
    limits = ImageLimits(max_output_side=2048)
    engine = LiteEngine(model("prediction"), model("fp16"), threads=2,
                        vector_dir=cache / "vectors", compile_cache=cache / "openvino")
    style = style_from_file(style_path(), limits)
    image = decode_image(data, limits)
    painted = stylize(engine, image, [style], StylizeOptions(max_side=side))
    png = encode_image(painted, "PNG")
    print(json.dumps({"style": STYLE, "size": list(painted.size), "png_bytes": len(png),
                      "imports_mb": after_imports, "peak_mb": _status_mb("VmHWM")}))


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]))
