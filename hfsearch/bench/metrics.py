"""How good a scorer's choice and ordering are, given every candidate's true metric on a labeled target.

All functions take plain mappings ``{model: value}`` so that they can be tested by hand:

- `choose` / `regret` / `top1`: the model a scorer recommends (its best score) and what that choice costs;
- `kendall_tau` / `spearman_rho`: agreement between a scorer's order and the true order;
- `evaluate_scorer`: every number above for one scorer on one target (plus its *coverage*);
- `bootstrap_ci`: a seeded percentile confidence interval for a mean over targets.

Conventions:

- A score is oriented before any comparison: ``higher_is_better=False`` scores (divergences, distances, entropy)
  are negated, so "larger oriented score = recommended first" everywhere.
- ``None`` / NaN scores mean the scorer could not score that candidate: the candidate cannot be chosen and is left
  out of the rank correlations (coverage says how many were scored). Regret and top-1 are still measured against
  the best candidate of the *whole* pool, scored or not: failing to score the best model is a miss.
- Ties at the top of a score are broken fairly: the choice is a uniform draw among the tied best candidates, so
  `regret` and `top1` return the *expected* value over that draw (a prior that gives every model the same value
  scores like a random pick, not like whichever model sorts first by name).
- Regret is in *points*: ``100 × (best true metric − true metric of the choice)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

Scores = Mapping[str, "float | None"]
Truth = Mapping[str, float]


def _finite(v: object) -> bool:
    return v is not None and isinstance(v, (int, float, np.floating, np.integer)) and math.isfinite(float(v))


def _points(difference: float) -> float:
    """A metric difference in points, rounded to 1e-9 so that float noise never shows as a tiny non-zero regret."""
    return round(100.0 * difference, 9) + 0.0


def oriented(scores: Scores, higher_is_better: bool = True) -> dict[str, float]:
    """The finite scores, negated when lower is better (so that larger always means "recommended first")."""
    sign = 1.0 if higher_is_better else -1.0
    return {m: sign * float(v) for m, v in scores.items() if _finite(v)}  # type: ignore[arg-type]


def choose(scores: Scores, higher_is_better: bool = True, *, candidates: Sequence[str] | None = None) -> list[str]:
    """The models a scorer recommends: every candidate tied at its best (oriented) score, sorted by id.

    Args:
        scores (`dict[str, float | None]`): one score per model (``None`` = not scored).
        higher_is_better (`bool`): orientation of the score.
        candidates (`list[str]`, *optional*): restrict the choice to these models (those with a true metric).

    Returns:
        `list[str]`: the tied best models (empty when nothing was scored).

    Example:

    ```python
    >>> choose({"a": 0.2, "b": 0.9, "c": 0.9, "d": None})
    ['b', 'c']
    >>> choose({"a": 0.2, "b": 0.9}, higher_is_better=False)
    ['a']
    ```
    """
    o = oriented(scores, higher_is_better)
    if candidates is not None:
        keep = set(candidates)
        o = {m: v for m, v in o.items() if m in keep}
    if not o:
        return []
    best = max(o.values())
    return sorted(m for m, v in o.items() if v == best)


def _choice(scores: Scores, truth: Truth, higher_is_better: bool) -> tuple[list[str], float] | None:
    """The scorer's choice among the models with a true metric, and the best true metric (``None``: no choice)."""
    if not truth:
        return None
    chosen = choose(scores, higher_is_better, candidates=list(truth))
    return (chosen, max(truth.values())) if chosen else None


def regret(scores: Scores, truth: Truth, higher_is_better: bool = True) -> float | None:
    """Expected regret in points of following the scorer: ``100 × (max truth − truth of its choice)``.

    The maximum runs over every model with a true metric; the choice over the models the scorer scored (ties at the
    top averaged). ``None`` when the scorer scored none of the models with a true metric.

    Example:

    ```python
    >>> regret({"a": 3.0, "b": 1.0, "c": 2.0}, {"a": 0.5, "b": 0.75, "c": 0.625})   # picks a, best is b
    25.0
    ```
    """
    pick = _choice(scores, truth, higher_is_better)
    if pick is None:
        return None
    chosen, best = pick
    return _points(float(np.mean([best - truth[m] for m in chosen])))


def top1(scores: Scores, truth: Truth, higher_is_better: bool = True, *, tol: float = 1e-12) -> float | None:
    """Probability that the scorer's choice is a truly best model (1.0 / 0.0 without ties; a fraction with ties).

    Example:

    ```python
    >>> top1({"a": 3.0, "b": 1.0}, {"a": 0.9, "b": 0.8})
    1.0
    >>> top1({"a": 1.0, "b": 1.0}, {"a": 0.9, "b": 0.8})
    0.5
    ```
    """
    pick = _choice(scores, truth, higher_is_better)
    if pick is None:
        return None
    chosen, best = pick
    return float(np.mean([1.0 if truth[m] >= best - tol else 0.0 for m in chosen]))


def _paired(scores: Scores, truth: Truth, higher_is_better: bool) -> tuple[np.ndarray, np.ndarray]:
    o = oriented(scores, higher_is_better)
    models = sorted(m for m in o if m in truth and _finite(truth[m]))
    return np.array([o[m] for m in models], dtype=float), np.array([float(truth[m]) for m in models], dtype=float)


def kendall_tau(scores: Scores, truth: Truth, higher_is_better: bool = True) -> float | None:
    """Kendall's tau-b between the oriented score and the true metric, over the scored models.

    ``None`` with fewer than 2 scored models or when either side is constant (tau undefined).

    Example:

    ```python
    >>> round(kendall_tau({"a": 1, "b": 2, "c": 3}, {"a": 0.1, "b": 0.3, "c": 0.2}), 4)   # 2 concordant, 1 discordant
    0.3333
    ```
    """
    from scipy.stats import kendalltau

    x, y = _paired(scores, truth, higher_is_better)
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    value = float(kendalltau(x, y).statistic)
    return value if math.isfinite(value) else None


def spearman_rho(scores: Scores, truth: Truth, higher_is_better: bool = True) -> float | None:
    """Spearman's rank correlation between the oriented score and the true metric, over the scored models.

    ``None`` with fewer than 2 scored models or when either side is constant.
    """
    from scipy.stats import spearmanr

    x, y = _paired(scores, truth, higher_is_better)
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    value = float(spearmanr(x, y).statistic)
    return value if math.isfinite(value) else None


@dataclass
class ScorerOutcome:
    """Every measure of one scorer on one target.

    Args:
        regret (`float`, *optional*): expected regret in points (``None``: nothing scored).
        top1 (`float`, *optional*): probability that the choice is a truly best model.
        kendall_tau, spearman_rho (`float`, *optional*): rank agreement over the scored models.
        coverage (`float`): scored models / models with a true metric.
        n_scored (`int`): models the scorer scored (and that have a true metric).
        chosen (`list[str]`): the scorer's choice (tied best models).
        abs_error (`float`, *optional*): for an estimator (a score that predicts the metric): mean |score − true
            metric| over the scored models, in points.
        interval_coverage (`float`, *optional*): for an estimator with intervals: the share of scored models whose
            true metric lies in the interval.
        interval_width (`float`, *optional*): the intervals' mean width, in points (a coverage means little without
            it: an interval spanning [0, 1] always covers).
    """

    regret: float | None
    top1: float | None
    kendall_tau: float | None
    spearman_rho: float | None
    coverage: float
    n_scored: int
    chosen: list[str]
    abs_error: float | None = None
    interval_coverage: float | None = None
    interval_width: float | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def evaluate_scorer(
    scores: Scores,
    truth: Truth,
    higher_is_better: bool = True,
    *,
    estimate: bool = False,
    intervals: Mapping[str, tuple[float, float]] | None = None,
) -> ScorerOutcome:
    """`regret`, `top1`, `kendall_tau`, `spearman_rho` and coverage of one scorer on one target; for an `estimate`
    (a score in the unit of the truth) also its mean absolute error in points, and with `intervals` their coverage.

    Example:

    ```python
    >>> o = evaluate_scorer({"a": 0.8, "b": 0.6}, {"a": 0.9, "b": 0.6}, estimate=True,
    ...                     intervals={"a": (0.7, 0.85), "b": (0.5, 0.7)})
    >>> o.regret, round(o.abs_error, 6), o.interval_coverage, round(o.interval_width, 6)
    (0.0, 5.0, 0.5, 17.5)
    ```
    """
    scored = [m for m in oriented(scores, higher_is_better) if m in truth]
    abs_error = interval_coverage = interval_width = None
    if estimate and scored:
        abs_error = float(np.mean([_points(abs(float(scores[m]) - truth[m])) for m in scored]))  # type: ignore[arg-type]
    if intervals:
        inside = [intervals[m][0] - 1e-12 <= truth[m] <= intervals[m][1] + 1e-12 for m in scored if m in intervals]
        interval_coverage = float(np.mean(inside)) if inside else None
        widths = [_points(intervals[m][1] - intervals[m][0]) for m in scored if m in intervals]
        interval_width = float(np.mean(widths)) if widths else None
    return ScorerOutcome(
        regret=regret(scores, truth, higher_is_better),
        top1=top1(scores, truth, higher_is_better),
        kendall_tau=kendall_tau(scores, truth, higher_is_better),
        spearman_rho=spearman_rho(scores, truth, higher_is_better),
        coverage=len(scored) / len(truth) if truth else 0.0,
        n_scored=len(scored),
        chosen=choose(scores, higher_is_better, candidates=list(truth)),
        abs_error=abs_error,
        interval_coverage=interval_coverage,
        interval_width=interval_width,
    )


def random_outcome(truth: Truth) -> ScorerOutcome:
    """The reference a scorer must beat: a uniform random pick (expected regret and top-1; tau and rho are 0)."""
    if not truth:
        return ScorerOutcome(None, None, None, None, 0.0, 0, [])
    values = np.array(list(truth.values()), dtype=float)
    best = values.max()
    return ScorerOutcome(
        regret=_points(float(best - values.mean())),
        top1=float(np.mean(values >= best - 1e-12)),
        kendall_tau=0.0,
        spearman_rho=0.0,
        coverage=1.0,
        n_scored=len(values),
        chosen=sorted(truth),
    )


def bootstrap_ci(
    values: Sequence[float | None], *, resamples: int = 2000, level: float = 0.95, seed: int = 0
) -> tuple[float | None, float | None, float | None]:
    """``(mean, low, high)``: the mean of the finite `values` and its seeded percentile bootstrap interval.

    The targets are resampled with replacement `resamples` times (``numpy.random.default_rng(seed)``); with a single
    value the interval collapses to it; with none, all three are ``None``.

    Example:

    ```python
    >>> bootstrap_ci([1.0, 1.0, 1.0])
    (1.0, 1.0, 1.0)
    ```
    """
    x = np.asarray([float(v) for v in values if v is not None and _finite(v)], dtype=np.float64)
    if len(x) == 0:
        return None, None, None
    mean = float(x.mean())
    if len(x) == 1 or resamples <= 0:
        return mean, mean, mean
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, len(x), size=(resamples, len(x)))].mean(axis=1)
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return mean, float(low), float(high)


def mean_or_none(values: Sequence[float | None]) -> float | None:
    """Mean of the finite values, ``None`` when there is none."""
    x = [float(v) for v in values if v is not None and _finite(v)]
    return float(np.mean(x)) if x else None
