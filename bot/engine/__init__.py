"""Stylization engines: `lite` (OpenVINO on Magenta's TFLite files) and `hub` (TensorFlow Hub)."""

from __future__ import annotations

from pathlib import Path

from bot.defaults import ENGINE_NAMES
from bot.engine.base import Engine, WeightedStyle
from bot.errors import EngineError

# The hub engine's packages, installed by the `hub` extra (the lite engine needs none of them).
_HUB_PACKAGES = frozenset({"tensorflow", "tensorflow_hub", "tf_keras"})
HUB_NOT_INSTALLED = 'The hub engine needs TensorFlow: pip install "stylebot[hub]".'

__all__ = ["ENGINE_NAMES", "Engine", "WeightedStyle", "create_engine"]


def create_engine(
    name: str,
    *,
    prediction_model: Path | None = None,
    transfer_model: Path | None = None,
    hub_handle: str | None = None,
    threads: int | None = None,
    vector_dir: Path | None = None,
    compile_cache: Path | None = None,
    precision: str = "auto",
) -> Engine:
    """Build the named engine; only `hub` imports TensorFlow, and only when chosen."""
    if name == "lite":
        if prediction_model is None or transfer_model is None:
            raise EngineError("The lite engine needs its prediction and transfer model files.")
        from bot.engine.lite import LiteEngine

        return LiteEngine(
            prediction_model,
            transfer_model,
            threads=threads,
            vector_dir=vector_dir,
            compile_cache=compile_cache,
            precision=precision,
        )
    if name == "hub":
        from bot.engine.hub import DEFAULT_HUB_HANDLE, HubEngine

        try:
            return HubEngine(hub_handle or DEFAULT_HUB_HANDLE, threads=threads)
        except ImportError as exc:  # only a missing TensorFlow package is the user's to fix
            if (exc.name or "").partition(".")[0] not in _HUB_PACKAGES:
                raise
            raise EngineError(HUB_NOT_INSTALLED) from None
    raise EngineError(f"Unknown engine {name!r}; choose one of {', '.join(ENGINE_NAMES)}.")
