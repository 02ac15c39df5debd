"""On-disk cache of model outputs, keyed by model commit + data fingerprint + settings."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import constants


@dataclass
class Outputs:
    """A model's outputs on one sample: ``logits`` (float32, rows × labels; ``None`` for an encoder without a head,
    such as the reference encoder) and ``features`` (float16, rows × dim)."""

    logits: np.ndarray | None
    features: np.ndarray


def default_cache_dir() -> Path:
    """``HFSEARCH_CACHE`` or ``huggingface_hub.cached_assets_path(library_name="hfsearch", namespace="outputs")``."""
    if constants.HFSEARCH_CACHE:
        return Path(constants.HFSEARCH_CACHE)
    from huggingface_hub import cached_assets_path

    return Path(cached_assets_path(library_name=constants.LIBRARY_NAME, namespace="outputs"))


def cache_key(**parts: object) -> str:
    """A stable hash of the keyword parts (model sha, data fingerprint, max length…)."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:40]


class OutputCache:
    """Stores `Outputs` as ``.npz`` files, written atomically (a killed run leaves no half file).

    Args:
        root (`str`, *optional*): cache folder (default `default_cache_dir`).
        enabled (`bool`): ``False`` turns the cache off (nothing read or written).
    """

    def __init__(self, root: str | Path | None = None, enabled: bool = True) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()
        self.enabled = enabled
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npz"

    def contains(self, key: str) -> bool:
        return self.enabled and self._path(key).is_file()

    def get(self, key: str) -> Outputs | None:
        if not self.enabled:
            return None
        path = self._path(key)
        if not path.is_file():
            self.misses += 1
            return None
        try:
            with np.load(path) as data:
                out = Outputs(logits=data["logits"] if "logits" in data.files else None, features=data["features"])
        except (OSError, ValueError, KeyError):  # corrupt entry: recompute
            self.misses += 1
            return None
        self.hits += 1
        return out

    def put(self, key: str, out: Outputs) -> None:
        if not self.enabled:
            return
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                arrays = {"features": out.features.astype(np.float16)}
                if out.logits is not None:
                    arrays["logits"] = out.logits.astype(np.float32)
                np.savez(fh, **arrays)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
