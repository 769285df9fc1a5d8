"""Names and numbers the settings share with the layers below them: engines, image limits."""

# The engines `create_engine` builds; `engine.name` and `stylebot stylize --engine` offer these.
ENGINE_NAMES = ("lite", "hub")
# The hub engine's model when `engine.hub_handle` names none.
HUB_HANDLE = "https://tfhub.dev/google/magenta/arbitrary-image-stylization-v1-256/2"

# Image limits: the defaults of `[limits]` and of `ImageLimits`.
MAX_INPUT_BYTES = 25 * 1024 * 1024  # largest accepted input file (25 MiB)
MAX_INPUT_PIXELS = 40_000_000  # largest accepted input image, width x height
OUTPUT_SIDE = 1024  # output side when none is asked for, and the default largest one
MIN_OUTPUT_SIDE = 64  # bounds of any output side
MAX_OUTPUT_SIDE = 2048
