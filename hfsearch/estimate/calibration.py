"""Softmax and scalar temperature scaling (Guo et al., *On Calibration of Modern Neural Networks*, ICML 2017)."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar

from .base import MIN_SOURCE_ROWS, labeled_source

#: Bounds of the temperature search. On separable data the NLL keeps falling as T -> 0, so T must be bounded;
#: 0.05 sharpens logits 20x and 20 flattens them 20x, far beyond what real checkpoints need.
T_BOUNDS: tuple[float, float] = (0.05, 20.0)


def log_softmax(logits: np.ndarray, T: float = 1.0) -> np.ndarray:
    """Row-wise log-softmax of ``logits / T``, computed stably.

    Args:
        logits (`np.ndarray`): `(rows, K)` logits.
        T (`float`, *optional*, defaults to 1.0): temperature (> 0).

    Returns:
        `np.ndarray`: `(rows, K)` log-probabilities.
    """
    z = np.asarray(logits, dtype=np.float64) / T
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def softmax(logits: np.ndarray, T: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``logits / T``: p_ic = exp(z_ic / T) / Σ_k exp(z_ik / T).

    Args:
        logits (`np.ndarray`): `(rows, K)` logits.
        T (`float`, *optional*, defaults to 1.0): temperature (> 0); T > 1 flattens, T < 1 sharpens.

    Returns:
        `np.ndarray`: `(rows, K)` probabilities; each row sums to 1.

    Example:

    ```python
    >>> import numpy as np
    >>> from hfsearch.estimate import softmax
    >>> softmax(np.array([[0.0, np.log(3.0)]])).round(2)
    array([[0.25, 0.75]])
    ```
    """
    return np.exp(log_softmax(logits, T))


def nll(logits: np.ndarray, labels: np.ndarray, T: float = 1.0) -> float:
    """Mean negative log-likelihood of ``labels`` under softmax(logits / T).

    Args:
        logits (`np.ndarray`): `(m, K)` logits.
        labels (`np.ndarray`): `(m,)` label ids (all known).
        T (`float`, *optional*, defaults to 1.0): temperature.

    Returns:
        `float`: −(1/m) Σ_i log softmax(z_i / T)_{y_i}, in nats.
    """
    logp = log_softmax(logits, T)
    return float(-logp[np.arange(len(labels)), labels].mean())


def fit_temperature(
    logits: Any,
    labels: Any,
    bounds: tuple[float, float] = T_BOUNDS,
    min_rows: int = MIN_SOURCE_ROWS,
) -> float:
    """Fit the scalar temperature T that minimises the NLL of the labels (temperature scaling, Guo et al. 2017).

    T* = argmin_{T ∈ bounds} −(1/m) Σ_i log softmax(z_i / T)_{y_i}. The search runs over log T with bounded Brent
    (`scipy.optimize.minimize_scalar`). The NLL is convex in β = 1/T (a log-sum-exp of functions linear in β
    minus a linear term), hence unimodal in log T, so the bounded search finds the global minimum on the interval.
    Dividing by T does not change the argmax, so accuracy is unchanged; only confidences move. Rows with a
    negative label are ignored. Deterministic.

    Args:
        logits (`array-like`): `(m, K)` logits of a labeled held-out slice.
        labels (`array-like`): `(m,)` label ids (model label space; negative = unknown, ignored).
        bounds (`tuple[float, float]`, *optional*, defaults to `(0.05, 20.0)`): search interval for T. When the
            data are separable (every row right with a margin) the NLL decreases towards T -> 0 and T* is the lower
            bound.
        min_rows (`int`, *optional*, defaults to 20): fewest labeled rows accepted.

    Returns:
        `float`: the fitted temperature T*.

    Raises:
        `EstimatorUnavailable`: bad logits or labels, or too few labeled rows.

    Example:

    ```python
    >>> import numpy as np
    >>> from hfsearch.estimate import fit_temperature
    >>> from hfsearch.estimate import softmax
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=(20000, 5)) * 3
    >>> y = (rng.random(20000)[:, None] > softmax(z, T=2.0).cumsum(1)).sum(1)  # labels drawn at temperature 2
    >>> abs(fit_temperature(z, y) - 2.0) < 0.1
    True
    ```
    """
    z, y = labeled_source(logits, labels, min_rows)
    lo, hi = bounds
    if not 0 < lo < hi:
        raise ValueError(f"temperature bounds must satisfy 0 < low < high, got {bounds}")
    rows = np.arange(len(y))
    d = z - z[rows, y][:, None]  # logit gaps to the true class (0 in the true column)
    top = np.argmax(d, axis=1)

    def objective(log_t: float) -> float:
        # NLL_i = log Σ_c exp(d_ic / T), as m + log1p(Σ_{c ≠ top} exp(d_ic/T − m)) so that rows right by a wide
        # margin keep a tiny positive loss instead of rounding to 0 (the search then reaches the lower bound)
        dt = d / np.exp(log_t)
        m = dt[rows, top]
        e = np.exp(dt - m[:, None])
        e[rows, top] = 0.0
        return float(np.mean(m + np.log1p(e.sum(axis=1))))

    res = minimize_scalar(objective, bounds=(np.log(lo), np.log(hi)), method="bounded", options={"xatol": 1e-4})
    return float(np.exp(res.x))
