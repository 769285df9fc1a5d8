"""stylebot: paint photos in the style of artworks, from the command line or Discord."""

import sys

__version__ = "0.1.0"

# `import openvino` starts Intel's usage telemetry (a Google Analytics event per import)
# unless `openvino_telemetry` cannot be imported, in which case OpenVINO falls back to its
# own no-op stub. A None entry in sys.modules makes that import fail, before any of our
# modules imports openvino. Nothing here uses openvino_telemetry.
sys.modules.setdefault("openvino_telemetry", None)  # type: ignore[arg-type]
