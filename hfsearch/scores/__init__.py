"""Scorers: how well a candidate is expected to do on the target, each registered by name.

Importing this package registers every family:

- `adaptivity` — the paper's asymmetric ``adaptivity`` / ``adaptivity_norm`` and the row-level ``knn_coverage``;
- `divergence` — whole-dataset histogram baselines ``jsd``, ``kl``, ``kl_rev``, ``l2d``;
- `distance` — feature-space ``mmd``, ``wasserstein``, ``frechet``, ``cosine``;
- `confidence` — prediction-based ``confidence``, ``entropy``, ``energy``, ``nuclear_norm``, ``agreement``;
- `prior` — metadata ``source_accuracy``, ``popularity``, ``size``.

```python
>>> from hfsearch.scores import list_scorers, parse_scorers
>>> list_scorers("*kl*")
['kl', 'kl_rev']
>>> [s.column for s in parse_scorers("adaptivity,mmd:raw,confidence")]
['adaptivity', 'mmd:raw', 'confidence']

```
"""

from __future__ import annotations

from . import adaptivity, confidence, distance, divergence, estimators, prior  # noqa: F401  (registration)
from .base import (
    SCORERS,
    RawData,
    ScoreInput,
    ScorerInfo,
    ScorerSpec,
    ScoreUnavailable,
    View,
    parse_scorers,
    register_scorer,
    softmax,
)
from .lsh import LSHIndex


def list_scorers(pattern: str | None = None) -> list[str]:
    """Registered scorer names, sorted, optionally filtered by a shell-style wildcard (``'*div*'``)."""
    return SCORERS.names(pattern)


__all__ = [
    "SCORERS",
    "LSHIndex",
    "RawData",
    "ScoreInput",
    "ScoreUnavailable",
    "ScorerInfo",
    "ScorerSpec",
    "View",
    "list_scorers",
    "parse_scorers",
    "register_scorer",
    "softmax",
]
