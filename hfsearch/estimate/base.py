"""Shared pieces of the label-free accuracy estimators: the "cannot estimate" exception and input validation.

Every estimator takes plain numpy arrays in the MODEL's label space:

- ``zs`` `(m, K)`: logits of the candidate on a labeled held-out slice of its source dataset;
- ``ys`` `(m,)`: the source labels as model label ids (a negative id means "unknown": the row is ignored);
- ``zt`` `(n, K)`: logits of the candidate on the unlabeled target sample.

When an estimate cannot be made from what was given (no labeled rows, NaN logits, mismatched shapes, too few
models, ...) the estimator raises `EstimatorUnavailable` with a one-line reason; the pipeline records the reason
and goes on, as it does for `hfsearch.scores.ScoreUnavailable`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Fewest labeled source rows an estimator accepts. With fewer, the source accuracy alone has a standard error
#: above ~0.1 (sqrt(0.25 / 20) = 0.11), so the estimate would be noise.
MIN_SOURCE_ROWS = 20


class EstimatorUnavailable(Exception):
    """An estimator cannot be computed from the inputs it was given; ``reason`` says why, on one line.

    Args:
        reason (`str`): what is missing or wrong, e.g. ``"needs at least 20 labeled source rows, got 7"``.

    Example:

    ```python
    >>> from hfsearch.estimate import EstimatorUnavailable
    >>> str(EstimatorUnavailable("source held-out slice has no labels"))
    'source held-out slice has no labels'
    ```
    """

    def __init__(self, reason: str) -> None:
        self.reason = " ".join(str(reason).split())
        super().__init__(self.reason)

    def __str__(self) -> str:
        return self.reason


def as_logits(logits: Any, name: str = "logits") -> np.ndarray:
    """Validate a logit matrix and return it as a float64 array.

    Args:
        logits (`array-like`): `(rows, K)` logits.
        name (`str`, *optional*, defaults to `"logits"`): how the array is named in the reason.

    Returns:
        `np.ndarray`: the `(rows, K)` float64 array.

    Raises:
        `EstimatorUnavailable`: missing, not two-dimensional, empty, fewer than 2 classes, or NaN/infinite values.
    """
    if logits is None:
        raise EstimatorUnavailable(f"no {name}")
    try:
        z = np.asarray(logits, dtype=np.float64)
    except (TypeError, ValueError):
        raise EstimatorUnavailable(f"{name} are not a numeric array") from None
    if z.ndim != 2:
        raise EstimatorUnavailable(f"{name} must be a (rows, classes) matrix, got shape {z.shape}")
    if z.shape[0] == 0:
        raise EstimatorUnavailable(f"{name} have no rows")
    if z.shape[1] < 2:
        raise EstimatorUnavailable(f"{name} have {z.shape[1]} class column(s); at least 2 are needed")
    if not np.all(np.isfinite(z)):
        bad = int((~np.isfinite(z)).any(axis=1).sum())
        raise EstimatorUnavailable(f"{name} contain NaN or infinite values in {bad} row(s)")
    return z


def as_labels(labels: Any, rows: int, num_classes: int | None = None, name: str = "source labels") -> np.ndarray:
    """Validate a label vector (model label ids; negative = unknown) and return it as int64.

    Args:
        labels (`array-like`): `(rows,)` integer label ids.
        rows (`int`): the number of rows the matching logits or predictions have.
        num_classes (`int`, *optional*): when given, known labels must lie in ``[0, num_classes)``.
        name (`str`, *optional*, defaults to `"source labels"`): how the vector is named in the reason.

    Returns:
        `np.ndarray`: the `(rows,)` int64 labels, negative where unknown.

    Raises:
        `EstimatorUnavailable`: missing, wrong length, non-integer values, or ids outside the model's classes.
    """
    if labels is None:
        raise EstimatorUnavailable(f"no {name}")
    try:
        y = np.asarray(labels, dtype=np.float64)
    except (TypeError, ValueError):
        raise EstimatorUnavailable(f"{name} are not numeric label ids") from None
    if y.ndim != 1 or y.shape[0] != rows:
        raise EstimatorUnavailable(f"{name} have shape {y.shape} but the logits have {rows} rows")
    if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
        raise EstimatorUnavailable(f"{name} must be integer label ids (negative for unknown)")
    y = y.astype(np.int64)
    if num_classes is not None and np.any(y >= num_classes):
        raise EstimatorUnavailable(
            f"{name} contain id {int(y.max())}, outside the model's {num_classes} classes; map dataset labels to "
            "model label ids first"
        )
    return y


def labeled_source(zs: Any, ys: Any, min_rows: int = MIN_SOURCE_ROWS) -> tuple[np.ndarray, np.ndarray]:
    """Validate the source slice and keep its labeled rows.

    Args:
        zs (`array-like`): `(m, K)` source held-out logits.
        ys (`array-like`): `(m,)` source labels as model label ids; negative ids are dropped.
        min_rows (`int`, *optional*, defaults to `MIN_SOURCE_ROWS`): fewest labeled rows accepted.

    Returns:
        `tuple[np.ndarray, np.ndarray]`: the labeled logits `(m', K)` and labels `(m',)`.

    Raises:
        `EstimatorUnavailable`: bad logits or labels, no labeled row, or fewer than ``min_rows`` of them.
    """
    z = as_logits(zs, "source logits")
    y = as_labels(ys, z.shape[0], z.shape[1])
    keep = y >= 0
    n = int(keep.sum())
    if n == 0:
        raise EstimatorUnavailable("source held-out slice has no labels")
    if n < min_rows:
        raise EstimatorUnavailable(f"needs at least {min_rows} labeled source rows, got {n}")
    return z[keep], y[keep]


def check_same_classes(zs: np.ndarray, zt: np.ndarray) -> None:
    """Raise `EstimatorUnavailable` unless source and target logits have the same number of classes.

    Args:
        zs (`np.ndarray`): `(m, K)` source logits.
        zt (`np.ndarray`): `(n, K')` target logits.
    """
    if zs.shape[1] != zt.shape[1]:
        raise EstimatorUnavailable(
            f"source logits have {zs.shape[1]} classes but target logits have {zt.shape[1]}; both must come from "
            "the same model head"
        )


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Top-1 accuracy of argmax predictions: (1/m) Σ_i 1[argmax_c z_ic = y_i].

    Args:
        logits (`np.ndarray`): `(m, K)` logits.
        labels (`np.ndarray`): `(m,)` label ids (all known).

    Returns:
        `float`: accuracy in [0, 1].
    """
    return float(np.mean(np.argmax(logits, axis=1) == labels))
