"""A small content-keyed memo of intermediate results (histograms, distance matrices, estimator fits).

Keys are built from *content* (`array_key`, `texts_key`, `data_key`), never from object identity, so every scorer
stays a pure function: the same inputs give the same result whether or not it was cached.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np

from .base import RawData

_CACHE: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
_CACHE_BYTES = [0]
#: Limits of the intermediate-result cache (entries, bytes).
CACHE_MAX_ENTRIES = 256
CACHE_MAX_BYTES = 256 * 2**20


def _nbytes(value: Any) -> int:
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, (tuple, list)) and len(value) < 64:
        return sum(_nbytes(v) for v in value) + 64
    if hasattr(value, "__dataclass_fields__"):
        return sum(_nbytes(getattr(value, f)) for f in value.__dataclass_fields__) + 64
    return 1024


def _freeze(value: Any) -> None:
    """Make cached arrays read-only, so that no caller can change a cached result in place."""
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    elif isinstance(value, tuple) and len(value) < 64:
        for v in value:
            _freeze(v)
    elif hasattr(value, "__dataclass_fields__"):
        for f in value.__dataclass_fields__:
            _freeze(getattr(value, f))


def cached(key: Hashable, compute: Callable[[], Any]) -> Any:
    """A small LRU cache keyed by *content* (never by object identity), so every function stays pure: the same
    inputs give the same result whether or not it was cached. Bounded by `CACHE_MAX_ENTRIES` and
    `CACHE_MAX_BYTES`."""
    hit = _CACHE.get(key)
    if hit is not None:
        _CACHE.move_to_end(key)
        return hit[0]
    value = compute()
    _freeze(value)
    size = _nbytes(value)
    _CACHE[key] = (value, size)
    _CACHE_BYTES[0] += size
    while len(_CACHE) > 1 and (len(_CACHE) > CACHE_MAX_ENTRIES or _CACHE_BYTES[0] > CACHE_MAX_BYTES):
        _, (_, old) = _CACHE.popitem(last=False)
        _CACHE_BYTES[0] -= old
    return value


def clear_cache() -> None:
    """Forget every cached intermediate result."""
    _CACHE.clear()
    _CACHE_BYTES[0] = 0


try:  # xxh3 hashes ~5 GB/s; blake2b is the standard-library fallback
    import xxhash as _xxhash

    def _digest(buf: Any) -> str:
        return _xxhash.xxh3_128_hexdigest(buf)

except ImportError:  # pragma: no cover
    import hashlib

    def _digest(buf: Any) -> str:
        return hashlib.blake2b(buf, digest_size=16).hexdigest()


def array_key(a: np.ndarray) -> tuple:
    """A content key for an array: shape, dtype and a hash of its bytes."""
    a = np.ascontiguousarray(a)
    return ("array", a.shape, a.dtype.str, _digest(a.data))


def texts_key(texts: list[str]) -> tuple:
    """A content key for a list of strings (Python caches string hashes, so this is cheap)."""
    return ("texts", tuple(texts))


def data_key(x: Any) -> tuple:
    """A content key for `RawData` or a feature array."""
    if isinstance(x, RawData):
        return texts_key(x.texts or []) if x.kind == "text" else array_key(np.asarray(x.values))
    return array_key(np.asarray(x))
