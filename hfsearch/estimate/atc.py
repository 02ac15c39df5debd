"""Average Thresholded Confidence (Garg, Balakrishnan, Lipton, Neyshabur, Sedghi, ICLR 2022, arXiv 2201.04234)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ..errors import ScorerError
from .base import MIN_SOURCE_ROWS, accuracy, as_logits, check_same_classes, labeled_source
from .calibration import T_BOUNDS, fit_temperature, log_softmax

ATCScore = Literal["maxconf", "negentropy"]
ATC_SCORES: tuple[str, ...] = ("maxconf", "negentropy")


@dataclass(frozen=True)
class ATCResult:
    """What `atc` returns.

    Args:
        value (`float`): predicted target accuracy, in [0, 1]; equals ``per_row.mean()``.
        threshold (`float`): the source-fitted threshold t, in the score's units (max probability for
            ``"maxconf"``, Σ_c p_c log p_c for ``"negentropy"``).
        temperature (`float`): the temperature applied to all logits (1.0 when not calibrated).
        source_accuracy (`float`): accuracy on the labeled source rows.
        per_row (`np.ndarray`): `(n,)` predicted-correct indicator per target row: 1.0 when s_i > t, 0.0 when
            s_i < t, and the tie weight w ∈ [0, 1] when s_i == t exactly (see `atc`).
        score (`str`): the score function used.
        tie_weight (`float`): w, the weight given to scores exactly equal to t.
        source_rows (`int`): number of labeled source rows used.
    """

    value: float
    threshold: float
    temperature: float
    source_accuracy: float
    per_row: np.ndarray
    score: str
    tie_weight: float
    source_rows: int


def _scores(z: np.ndarray, T: float, score: str) -> np.ndarray:
    """Per-row confidence score, on a scale where ATC thresholds are computed without float saturation.

    ``"maxconf"`` uses log max_c p_c (a monotone transform of max_c p_c, so thresholding is unchanged, but it keeps
    confident rows distinct where max_c p_c would round to exactly 1.0); ``"negentropy"`` uses Σ_c p_c log p_c.
    """
    logp = log_softmax(z, T)
    if score == "maxconf":
        return logp.max(axis=1)
    return (np.exp(logp) * logp).sum(axis=1)


def atc_threshold(source_scores: np.ndarray, correct: np.ndarray) -> tuple[float, float]:
    """Fit the ATC threshold t (and tie weight w) so the source share of confident rows equals the source accuracy.

    With k = Σ_i correct_i correct rows out of m and the scores sorted ascending s_(1) ≤ … ≤ s_(m), take the
    (1 − k/m) quantile t = s_(m−k) (t = s_(1) when k = m) and the weight w = (k − #{s > t}) / #{s = t}. Then

        (1/m) (#{i : s_i > t} + w · #{i : s_i = t}) = k / m   exactly.

    Without ties w = 0 for k < m, which is Garg et al.'s rule "count s > t"; ties at t (e.g. saturated scores) are
    split by w, the expected share under a randomised threshold, so the source is matched exactly even for
    discrete scores. When k = m, t is the smallest source score and w = 1 (target rows at least as confident
    as every source row count as correct). When k = 0, t = +∞: no target row counts as correct.

    Args:
        source_scores (`np.ndarray`): `(m,)` scores of the labeled source rows.
        correct (`np.ndarray`): `(m,)` booleans, whether each source row is predicted right.

    Returns:
        `tuple[float, float]`: the threshold t and the tie weight w ∈ [0, 1].

    Example:

    ```python
    >>> import numpy as np
    >>> from hfsearch.estimate.atc import atc_threshold
    >>> atc_threshold(np.array([0.1, 0.2, 0.3, 0.4, 0.5]), np.array([1, 0, 1, 0, 1], bool))
    (0.2, 0.0)
    ```
    """
    s = np.sort(np.asarray(source_scores, dtype=np.float64))
    m = s.shape[0]
    k = int(np.count_nonzero(correct))
    if k == 0:  # never right on its own data: no target row may count as right either
        return float("inf"), 0.0
    t = s[max(m - k - 1, 0)]
    above = int(np.count_nonzero(s > t))
    ties = int(np.count_nonzero(s == t))
    w = (k - above) / ties
    return float(t), float(min(max(w, 0.0), 1.0))


def atc(
    zs: Any,
    ys: Any,
    zt: Any,
    score: ATCScore = "maxconf",
    calibrate: bool = True,
    temperature_bounds: tuple[float, float] = T_BOUNDS,
    min_source_rows: int = MIN_SOURCE_ROWS,
) -> ATCResult:
    """Average Thresholded Confidence: predict target accuracy from a threshold fitted on labeled source data.

    Garg et al. (ICLR 2022, arXiv 2201.04234). With a score s(x) (higher = more confident) of the softmax:

    1. (``calibrate=True``) fit a temperature T on the labeled source rows (`fit_temperature`) and use
       softmax(z / T) everywhere, as the paper does with a held-out source calibration set;
    2. on the source, choose t so that the share of rows with s > t equals the source accuracy:
       E_S[1(s(x) > t)] = E_S[1(argmax f(x) = y)] (`atc_threshold` explains ties);
    3. predict ATC = E_T[1(s(x) > t)], the share of target rows above the threshold.

    Scores: ``"maxconf"`` s = max_c p_c (ATC-MC) and ``"negentropy"`` s = Σ_c p_c log p_c (ATC-NE, the paper's
    recommended variant).

    Args:
        zs (`array-like`): `(m, K)` logits on the labeled source held-out slice.
        ys (`array-like`): `(m,)` source labels as model label ids (negative = unknown, ignored).
        zt (`array-like`): `(n, K)` logits on the unlabeled target.
        score (`str`, *optional*, defaults to `"maxconf"`): ``"maxconf"`` or ``"negentropy"``.
        calibrate (`bool`, *optional*, defaults to `True`): temperature-scale on the source first.
        temperature_bounds (`tuple[float, float]`, *optional*, defaults to `(0.05, 20.0)`): search range for T.
        min_source_rows (`int`, *optional*, defaults to 20): fewest labeled source rows accepted.

    Returns:
        `ATCResult`: ``value`` (predicted target accuracy), ``threshold``, ``temperature``,
        ``source_accuracy`` and ``per_row`` (the per-target-row predicted-correct indicator, mean = value).

    Raises:
        `EstimatorUnavailable`: bad or NaN logits, class-count mismatch, or too few labeled source rows.
        `hfsearch.errors.ScorerError`: unknown ``score``.

    Example:

    ```python
    >>> import numpy as np
    >>> from hfsearch.estimate import atc
    >>> rng = np.random.default_rng(0)
    >>> zs, zt = rng.normal(size=(500, 3)) * 2, rng.normal(size=(300, 3))  # the target is less confident
    >>> ys = rng.integers(0, 3, 500)
    >>> r = atc(zs, ys, zt, calibrate=False)
    >>> r.value < r.source_accuracy
    True
    ```
    """
    if score not in ATC_SCORES:
        raise ScorerError(f"unknown ATC score {score!r}; choose one of {', '.join(ATC_SCORES)}")
    z_s, y_s = labeled_source(zs, ys, min_source_rows)
    z_t = as_logits(zt, "target logits")
    check_same_classes(z_s, z_t)
    T = fit_temperature(z_s, y_s, temperature_bounds, min_source_rows) if calibrate else 1.0
    correct = np.argmax(z_s, axis=1) == y_s
    t, w = atc_threshold(_scores(z_s, T, score), correct)
    s_t = _scores(z_t, T, score)
    per_row = np.where(s_t > t, 1.0, np.where(s_t == t, w, 0.0))
    threshold = float(np.exp(t)) if score == "maxconf" else t
    return ATCResult(
        value=float(per_row.mean()),
        threshold=threshold,
        temperature=T,
        source_accuracy=accuracy(z_s, y_s),
        per_row=per_row,
        score=score,
        tie_weight=w,
        source_rows=int(len(y_s)),
    )
