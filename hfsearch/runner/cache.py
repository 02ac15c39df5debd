"""On-disk cache of model outputs, keyed by model commit + data fingerprint + settings."""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import constants
from ..errors import CacheError

logger = logging.getLogger(__name__)


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


#: Free space below which the cache folder counts as full (`OutputCache.check_writable`).
MIN_FREE_BYTES = 1 << 20
#: Version of the file layout; entries of another layout (or without a checksum) are discarded and recomputed.
FORMAT = 2


def checksum(out: Outputs) -> str:
    """SHA-256 of the arrays' dtypes, shapes and bytes, as stored (logits float32, features float16)."""
    h = hashlib.sha256(f"hfsearch-outputs-v{FORMAT}".encode())
    features = np.ascontiguousarray(out.features, dtype=np.float16)
    arrays: list[np.ndarray] = (
        [features] if out.logits is None else [np.ascontiguousarray(out.logits, dtype=np.float32), features]
    )
    for arr in arrays:
        h.update(f"{arr.dtype.str}{arr.shape}".encode())
        h.update(arr.tobytes())
    return h.hexdigest()


class OutputCache:
    """Stores `Outputs` as ``.npz`` files, written atomically and checked on read.

    Each file carries the SHA-256 of its arrays (`checksum`). A file that is truncated, corrupt or of another
    format is deleted on read and counted in `corrupt`; the caller recomputes it. Writes go to a temporary file
    that is synced and then renamed, so a killed run leaves either the old entry or the new one, never half a
    file; entries already written are never touched by a later failure.

    Args:
        root (`str`, *optional*): cache folder (default `default_cache_dir`).
        enabled (`bool`): ``False`` turns the cache off (nothing read or written).

    Example:

    ```python
    >>> cache = OutputCache("/tmp/hfsearch-outputs")
    >>> cache.put("k" * 40, Outputs(logits=np.zeros((2, 3)), features=np.ones((2, 4))))
    >>> cache.get("k" * 40).features.shape
    (2, 4)
    ```
    """

    def __init__(self, root: str | Path | None = None, enabled: bool = True) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()
        self.enabled = enabled
        self.hits = 0
        self.misses = 0
        self.corrupt = 0

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npz"

    def contains(self, key: str) -> bool:
        return self.enabled and self._path(key).is_file()

    def get(self, key: str) -> Outputs | None:
        """The stored outputs of `key`, or ``None`` (missing, or corrupt: then the file is deleted)."""
        if not self.enabled:
            return None
        path = self._path(key)
        if not path.is_file():
            self.misses += 1
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                out = Outputs(logits=data["logits"] if "logits" in data.files else None, features=data["features"])
                stored = str(data["sha256"]) if "sha256" in data.files else None
            why = None if stored == checksum(out) else ("no checksum" if stored is None else "checksum mismatch")
        except Exception as exc:  # noqa: BLE001 - zipfile.BadZipFile, EOFError, ValueError, OSError…: unreadable
            why = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else 'unreadable'}"
        if why is not None:
            self._discard(path, why)
            self.misses += 1
            return None
        self.hits += 1
        return out

    def _discard(self, path: Path, why: str) -> None:
        self.corrupt += 1
        logger.warning("discarded cached output %s (%s); it is recomputed", path, why)
        try:
            path.unlink()
        except OSError:  # read-only cache: the entry is recomputed in memory, and put() reports the folder
            pass

    def check_writable(self) -> None:
        """Check now that outputs can be written here (a search calls it before its first model runs).

        Creates the folder, writes and deletes a small probe file, and checks that some free space is left.

        Raises:
            `CacheError`: the folder cannot be created or written, or its disk is full: one line naming the folder
                and ``HFSEARCH_CACHE`` (as `put` does).
        """
        if not self.enabled:
            return
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(dir=self.root, prefix=".write-check-", suffix=".tmp")
            try:
                os.write(fd, b"hfsearch")
            finally:
                os.close(fd)
                os.unlink(probe)
            stats = os.statvfs(self.root)
            if stats.f_bavail * stats.f_frsize < MIN_FREE_BYTES:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        except OSError as exc:
            raise CacheError(cache_error_message(self.root, exc)) from None

    def put(self, key: str, out: Outputs) -> None:
        """Store `out` under `key` (atomically).

        Raises:
            `CacheError`: the cache folder cannot be written (read-only, full, no permission), one line naming the
                folder and ``HFSEARCH_CACHE``.
        """
        if not self.enabled:
            return
        path = self._path(key)
        logits = None if out.logits is None else np.ascontiguousarray(out.logits, dtype=np.float32)
        features = np.ascontiguousarray(out.features, dtype=np.float16)
        digest = checksum(Outputs(logits=logits, features=features))
        tmp: str | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                if logits is None:
                    np.savez(fh, features=features, sha256=np.array(digest))
                else:
                    np.savez(fh, features=features, sha256=np.array(digest), logits=logits)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
            tmp = None
        except OSError as exc:
            raise CacheError(cache_error_message(self.root, exc)) from None
        finally:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)


def cache_error_message(root: Path, exc: OSError) -> str:
    """One line: which cache folder cannot be written, why, and what to do."""
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        why = "the disk is full"
    elif exc.errno == errno.EROFS:
        why = "it is on a read-only file system"
    elif exc.errno in (errno.EACCES, errno.EPERM):
        why = "no permission to write there"
    else:
        why = exc.strerror or type(exc).__name__
    return (
        f"Cannot write the output cache {str(root)!r}: {why}. Set HFSEARCH_CACHE (or --cache-dir) to a writable "
        "folder with free space, or pass --no-cache; outputs already cached are kept."
    )
