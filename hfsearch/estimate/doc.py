"""Difference of Confidences (Guillory, Dragan, Darrell, Schmidt, *Predicting with Confidence on Unseen
Distributions*, ICCV 2021)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import brentq

from .base import MIN_SOURCE_ROWS, accuracy, as_logits, check_same_classes, labeled_source
from .calibration import T_BOUNDS, fit_temperature, softmax


@dataclass(frozen=True)
class DoCResult:
    """What `doc` returns.

    Args:
        value (`float`): predicted target accuracy, in [0, 1]; equals ``per_row.mean()``.
        source_accuracy (`float`): accuracy on the labeled source rows.
        source_confidence (`float`): mean max-softmax on the labeled source rows.
        target_confidence (`float`): mean max-softmax on the target rows.
        temperature (`float`): the temperature applied to all logits (1.0 when not calibrated).
        shift (`float`): δ in ``per_row = clip(conf_t − δ, 0, 1)``; the source gap conf_s − acc_s unless clipping
            moved it.
        per_row (`np.ndarray`): `(n,)` per-target-row predicted probability of being right (see `doc`).
        source_rows (`int`): number of labeled source rows used.
    """

    value: float
    source_accuracy: float
    source_confidence: float
    target_confidence: float
    temperature: float
    shift: float
    per_row: np.ndarray
    source_rows: int


def _per_row(conf_t: np.ndarray, value: float, gap: float) -> tuple[np.ndarray, float]:
    """Shift the target confidences by δ and clip to [0, 1], with δ chosen so the mean equals ``value``.

    f(δ) = mean(clip(c − δ, 0, 1)) is continuous and non-increasing, from 1 at δ = min c − 1 to 0 at δ = max c,
    so a root of f(δ) = value exists; when no row needs clipping it is δ = gap exactly.
    """
    if value <= 0.0:
        return np.zeros_like(conf_t), float(conf_t.max())
    if value >= 1.0:
        return np.ones_like(conf_t), float(conf_t.min() - 1.0)

    def f(delta: float) -> float:
        return float(np.clip(conf_t - delta, 0.0, 1.0).mean()) - value

    delta = gap if abs(f(gap)) <= 1e-12 else brentq(f, conf_t.min() - 1.0, conf_t.max(), xtol=1e-14)
    return np.clip(conf_t - delta, 0.0, 1.0), float(delta)


def confidence_at_mean(conf: np.ndarray, value: float) -> np.ndarray:
    """Per-row probabilities of being right whose mean is `value`: the confidences `conf` shifted by one constant and
    clipped to [0, 1] (as DoC's `per_row`). Turns an accuracy estimate into the per-row belief an F1 needs."""
    conf = np.asarray(conf, dtype=np.float64)
    if conf.size == 0:  # no rows: nothing to believe (numpy's mean of nothing would warn and give NaN)
        return conf
    return _per_row(conf, float(value), float(conf.mean() - value))[0]


def doc(
    zs: Any,
    ys: Any,
    zt: Any,
    calibrate: bool = False,
    temperature_bounds: tuple[float, float] = T_BOUNDS,
    min_source_rows: int = MIN_SOURCE_ROWS,
) -> DoCResult:
    """Difference of Confidences: correct the source accuracy by how much average confidence drops on the target.

    Guillory et al. (ICCV 2021), the direct (regression-free) form:

        DoC = clip(acc_S − (conf_S − conf_T), 0, 1),   conf_D = (1/|D|) Σ_{x ∈ D} max_c softmax(z(x) / T)_c.

    Equivalently the target's average confidence minus the model's over-confidence gap measured on the source.
    By default the raw softmax (T = 1) is used, as in the paper, since the source gap already corrects
    miscalibration; ``calibrate=True`` fits T on the source first (`fit_temperature`).

    ``per_row`` spreads the estimate over target rows: per_row_i = clip(conf_T,i − δ, 0, 1), with
    δ = conf_S − acc_S (each row's confidence less the source gap) when no row needs clipping; otherwise δ is
    solved so that mean(per_row) = value still holds exactly (a monotone 1-D root).

    Args:
        zs (`array-like`): `(m, K)` logits on the labeled source held-out slice.
        ys (`array-like`): `(m,)` source labels as model label ids (negative = unknown, ignored).
        zt (`array-like`): `(n, K)` logits on the unlabeled target.
        calibrate (`bool`, *optional*, defaults to `False`): temperature-scale on the source first.
        temperature_bounds (`tuple[float, float]`, *optional*, defaults to `(0.05, 20.0)`): search range for T.
        min_source_rows (`int`, *optional*, defaults to 20): fewest labeled source rows accepted.

    Returns:
        `DoCResult`: ``value``, the confidences and accuracy it came from, and ``per_row``.

    Raises:
        `EstimatorUnavailable`: bad or NaN logits, class-count mismatch, or too few labeled source rows.

    Example:

    ```python
    >>> import numpy as np
    >>> from hfsearch.estimate import doc
    >>> zs = np.log(np.array([[0.9, 0.1]] * 20 + [[0.3, 0.7]] * 20))  # conf_S = 0.8
    >>> ys = np.array([0] * 20 + [0] * 20)                            # acc_S = 0.5
    >>> zt = np.log(np.array([[0.6, 0.4]] * 10))                      # conf_T = 0.6
    >>> round(doc(zs, ys, zt).value, 6)                               # 0.5 - (0.8 - 0.6)
    0.3
    ```
    """
    z_s, y_s = labeled_source(zs, ys, min_source_rows)
    z_t = as_logits(zt, "target logits")
    check_same_classes(z_s, z_t)
    T = fit_temperature(z_s, y_s, temperature_bounds, min_source_rows) if calibrate else 1.0
    acc_s = accuracy(z_s, y_s)
    conf_s = float(softmax(z_s, T).max(axis=1).mean())
    c_t = softmax(z_t, T).max(axis=1)
    conf_t = float(c_t.mean())
    value = float(np.clip(acc_s - (conf_s - conf_t), 0.0, 1.0))
    per_row, shift = _per_row(c_t, value, conf_s - acc_s)
    return DoCResult(
        value=value,
        source_accuracy=acc_s,
        source_confidence=conf_s,
        target_confidence=conf_t,
        temperature=T,
        shift=shift,
        per_row=per_row,
        source_rows=int(len(y_s)),
    )
