"""The metric a model's predictions would score, in expectation over a posterior on the true labels.

``expected_metric(q, pred)`` with ``q`` a ``(rows, C)`` posterior (e.g. Dawid–Skene's, or a one-hot of known labels):

- ``"accuracy"``: ``mean_i q[i, pred_i]`` — exact, since accuracy is linear in the labels.
- ``"f1"``: binary F1 of the `positive` class when ``C == 2``, macro F1 otherwise, computed as the **ratio of
  expected counts** ``2·E[TP] / (2·E[TP] + E[FP] + E[FN])`` per class. F1 is not linear, so this is the first-order
  (large-sample) value of ``E[F1]``; it is deterministic and ``O(rows·C)``. `metric_interval` samples labels instead.

A prediction of ``-1`` (no prediction) is wrong for every label: never a true positive, a false negative for its row's
true class.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

Metric = Literal["accuracy", "f1"]


def _check(q: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    q = np.asarray(q, dtype=np.float64)
    pred = np.asarray(pred).astype(np.int64)
    if q.ndim != 2 or pred.shape != (q.shape[0],):
        raise ValueError(f"q must be (rows, C) and pred (rows,); got {q.shape} and {pred.shape}")
    if np.any((pred < -1) | (pred >= q.shape[1])):
        raise ValueError(f"predictions must lie in [0, {q.shape[1]}) or be -1")
    return q, pred


def _f1_from_counts(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, classes: np.ndarray | None) -> np.ndarray:
    """F1 per draw from ``(..., C)`` counts, averaged over `classes` (macro) — classes with no support and no
    prediction (``2TP + FP + FN = 0``) are left out of the average, as scikit-learn does."""
    if classes is not None:
        tp, fp, fn = tp[..., classes], fp[..., classes], fn[..., classes]
    denom = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(denom, dtype=np.float64), where=denom > 1e-12)
    present = denom > 1e-12
    k = present.sum(axis=-1)
    return np.divide((f1 * present).sum(axis=-1), k, out=np.zeros(k.shape), where=k > 0)


def expected_metric(q: np.ndarray, pred: np.ndarray, metric: Metric = "accuracy", positive: int = 1) -> float:
    """Expected accuracy or F1 of `pred` when the true labels follow `q`.

    Args:
        q (`np.ndarray`): ``(rows, C)`` posterior over each row's true label (rows sum to 1).
        pred (`np.ndarray`): ``(rows,)`` predicted class ids, ``-1`` = no prediction (always wrong).
        metric (`str`, *optional*, defaults to ``"accuracy"``): ``"accuracy"`` or ``"f1"``.
        positive (`int`, *optional*, defaults to 1): the positive class of binary F1 (used when ``C == 2``).

    Returns:
        `float`: the expected metric (F1: ratio of expected counts).

    Example:

    ```python
    >>> q = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]])
    >>> expected_metric(q, np.array([0, 1, 1]))            # (0.9 + 0.8 + 0.5) / 3
    0.7333333333333334
    >>> round(expected_metric(q, np.array([0, 1, 1]), "f1"), 4)   # TP 1.3, FP 0.7, FN 0.1
    0.7647
    ```
    """
    q, pred = _check(q, pred)
    n, c = q.shape
    if metric == "accuracy":
        has = pred >= 0
        return float(q[np.arange(n)[has], pred[has]].sum() / max(n, 1))
    if metric != "f1":
        raise ValueError(f"unknown metric {metric!r}; use 'accuracy' or 'f1'")
    onehot = np.zeros((n, c))
    onehot[np.arange(n)[pred >= 0], pred[pred >= 0]] = 1.0
    tp = (onehot * q).sum(axis=0)
    fp = (onehot * (1.0 - q)).sum(axis=0)
    fn = ((1.0 - onehot) * q).sum(axis=0)
    classes = np.array([positive]) if c == 2 else None
    return float(_f1_from_counts(tp, fp, fn, classes))


def metric_interval(
    q: np.ndarray,
    pred: np.ndarray,
    metric: Metric = "accuracy",
    positive: int = 1,
    *,
    level: float = 0.9,
    n_draws: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """A Monte-Carlo interval of the metric: labels drawn row by row from `q` (seeded), the metric of each draw.

    It reflects only the uncertainty `q` states about the labels (not whether `q` itself is right).

    Args:
        q (`np.ndarray`), pred (`np.ndarray`), metric (`str`), positive (`int`): as in `expected_metric`.
        level (`float`, *optional*, defaults to 0.9): central coverage of the interval.
        n_draws (`int`, *optional*, defaults to 1000): label draws.
        seed (`int`, *optional*, defaults to 0): seed of ``numpy.random.default_rng``.

    Returns:
        `tuple[float, float]`: ``(low, high)`` percentiles of the metric over the draws.

    Example:

    ```python
    >>> metric_interval(np.eye(2)[[0, 1, 1]], np.array([0, 1, 0]))   # labels known: no spread
    (0.6666666666666666, 0.6666666666666666)
    ```
    """
    q, pred = _check(q, pred)
    n, c = q.shape
    rng = np.random.default_rng(seed)
    cum = np.cumsum(q, axis=1)
    cum[:, -1] = 1.0
    values = np.empty(n_draws)
    chunk = max(1, int(2_000_000 // max(n * c, 1)))
    for start in range(0, n_draws, chunk):
        u = rng.random((min(chunk, n_draws - start), n))
        y = (u[:, :, None] > cum[None, :, :]).sum(axis=2)  # (draws, rows) sampled labels
        if metric == "accuracy":
            values[start : start + len(u)] = (y == pred[None, :]).mean(axis=1)
            continue
        true = np.eye(c)[y]  # (draws, rows, C)
        hat = np.zeros((n, c))
        hat[np.arange(n)[pred >= 0], pred[pred >= 0]] = 1.0
        tp = (true * hat).sum(axis=1)
        fp = ((1.0 - true) * hat).sum(axis=1)
        fn = (true * (1.0 - hat)).sum(axis=1)
        values[start : start + len(u)] = _f1_from_counts(tp, fp, fn, np.array([positive]) if c == 2 else None)
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(values, [alpha, 1.0 - alpha])
    return float(low), float(high)
