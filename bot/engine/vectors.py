"""Style vectors: blended by weight, cached in memory and optionally on disk by key."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.atomic import atomic_write

VECTOR_SIZE = 100


def blend(vectors: Sequence[np.ndarray], weights: np.ndarray) -> np.ndarray:
    """Return the weighted sum of style vectors (weights already normalised)."""
    return np.tensordot(weights, np.stack(vectors), axes=1).astype(np.float32)


def apply_strength(style: np.ndarray, content: np.ndarray, strength: float) -> np.ndarray:
    """Magenta's strength control: `s * style + (1 - s) * content`, in vector space."""
    return (strength * style + (1.0 - strength) * content).astype(np.float32)


class VectorCache:
    """A bounded in-memory LRU of style vectors, backed by .npy files when given a folder."""

    def __init__(self, folder: Path | None = None, capacity: int = 512) -> None:
        self._folder = Path(folder) if folder else None
        self._capacity = capacity
        self._memory: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def _file(self, key: str) -> Path | None:
        if self._folder is None:
            return None
        return self._folder / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".npy")

    def get(self, key: str) -> np.ndarray | None:
        """Return the cached vector for `key`, from memory or disk, or None."""
        with self._lock:
            vector = self._memory.get(key)
            if vector is not None:
                self._memory.move_to_end(key)
                return vector
        path = self._file(key)
        if path is None or not path.is_file():
            return None
        try:
            vector = np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            return None  # a damaged cache file is recomputed and rewritten
        if vector.shape != (VECTOR_SIZE,):
            return None
        self._remember(key, vector)
        return vector

    def put(self, key: str, vector: np.ndarray) -> None:
        """Cache `vector` under `key` in memory and, if there is a folder, on disk."""
        vector = np.asarray(vector, dtype=np.float32).reshape(VECTOR_SIZE)
        self._remember(key, vector)
        path = self._file(key)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_write(path) as handle:
                np.save(handle, vector, allow_pickle=False)
        except OSError:
            pass  # The disk cache is an optimisation; memory still holds the vector.

    def _remember(self, key: str, vector: np.ndarray) -> None:
        with self._lock:
            self._memory[key] = vector
            self._memory.move_to_end(key)
            while len(self._memory) > self._capacity:
                self._memory.popitem(last=False)

    def __len__(self) -> int:
        return len(self._memory)
