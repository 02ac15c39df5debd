"""The default pick (``--rank-by auto``): the available accuracy estimators combined into one predicted metric with a
90 % interval, learnt from benchmark results and always graded on workloads it was not fitted on.

**Model.** Two kinds of features: the estimators (`ESTIMATORS`: each predicts the metric) and pool-relative signals
(`RELATIVE`: a similarity of the candidate's training data to the target, the calibrated prediction matrix's nuclear
norm), each entered as its z-score among the candidates of the same search (`relative_features`), oriented so that
higher means "better". A candidate's prediction is the pool's *level* plus its *deviation* from it:

- **level** (``level_rule="conservative"``, the default): the mean over the pool of each candidate's lowest
  available estimate. Every estimator here reads confidence or agreement, and a shift the model cannot see leaves
  both high: on the benchmark workloads they overestimate by 0–40 points, never by a predictable amount, so a level
  learnt from some workloads (``level_rule="learnt"``: the pool mean of the per-candidate combinations below, fitted
  with an intercept) carries their shifts to the next one. The conservative level learns nothing.
- **deviation** (the within-pool model, `fit_within`): a non-negative combination of the candidate's deviations from
  the pool's mean on the estimators and the z-scores, fitted by least squares (`scipy.optimize.nnls`) on the
  benchmark pools' deviations from their mean true metric, each workload weighing the same, on the features the
  candidate has among those of its pool (`Selector.within_for`: a signal fitted beside five others holds only its
  share of the credit, so a candidate without the others must not keep that share). Deviations
  are in points whatever the metric, so accuracy and F1 workloads are fitted together (``per_metric=False``);
  non-negative weights keep it a (shrunk) vote of signals that each say "better", so none can enter with a sign that
  merely fits the training workloads.

Candidates without any estimator get no prediction (and the reason).

**Consensus alone** (a search whose candidates declare no data the other signals need; a pool of recorded
predictions): no benchmark candidate has consensus as its only signal, so the weight fitted for it would be what the
training pools' consensus meant beside their other signals: 0.22, pulled down by the small image and activity pools
where Dawid–Skene's errors are shared by blocs of voters. The search knows better, from its own votes: the share of
the variance of the candidates' pairwise agreement that the Dawid–Skene fit reproduces (``consensus_fit``,
`hfsearch.consensus.dawid_skene.explained_agreement`). A candidate whose only signal is consensus deviates from the
level by that share (clipped to [0, 1]) of its consensus deviation, and the unexplained share widens its scale:
s² + (1 − share) · deviation². Without ``consensus_fit`` the fitted weight stands.

**Interval.** The residuals are normalised by a per-candidate scale s = √(s₀² + d²), where d is the spread of the
available estimators around the per-candidate combination ŷ_A = c_A + Σ_{k ∈ A} w_{A,k} · x_k (non-negative least
squares with an intercept on the rows having the candidate's features A: how far its estimates sit from what such
estimates meant on the benchmark) and s₀ a floor; the interval is the prediction ± q·s, where q is the 90 % quantile
of |residual| / s over *cross-validated* predictions (each training workload predicted by the selector fitted on the
others: split-conformal calibration that respects workloads), clipped to [0, 1].

**The split of the error** (`Selector.common_share`): on the same cross-validated predictions, the share of the
squared error that each held-out pool has in common (its mean error). The label loop needs it: its labels measure
differences between candidates, not the level they share.

**Discipline.** The file shipped in the package (`hfsearch/resources/selector.json`) holds the rows it is fitted
on (a few thousand numbers) and nothing else learnt: the combinations are refitted from them when loaded, so
`without(workload)` gives exactly the selector that never saw a workload — what `hfsearch bench` grades.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

#: Version of the selector file format (3: the level rule and the metric split are stored; a version-2 file is read
#: with the rules it was made with, a learnt level per metric).
SELECTOR_VERSION = 3
#: How the pool's level is set (see the module's docstring).
LEVEL_RULES = ("conservative", "learnt")
#: The estimators the selector may combine (scorers of kind ``estimate``, and reported accuracies).
ESTIMATORS = ("atc", "atc_ne", "doc", "consensus", "aline", "source_accuracy")
#: Signals in [0, 1] used as they are, comparable across searches (the share of target rows the candidate's training
#: data covers): they can move a whole pool up or down, where a shift fools every confidence.
ABSOLUTE: tuple[str, ...] = ("knn_coverage",)
#: Pool-relative signals, with the sign that makes higher mean better; each enters as a z-score within the pool.
#: The nuclear norm is read after calibration (`nuclear_norm_cal`, temperature-scaled on the held-out slice): raw
#: confidence confounds architectures (an over-confident small model looks better than a calibrated large one).
RELATIVE: tuple[tuple[str, int], ...] = (("adaptivity", 1), ("knn_coverage", 1), ("nuclear_norm_cal", 1))
#: Every score the selector reads.
INPUTS = (
    ESTIMATORS
    + tuple(n for n in ABSOLUTE if n not in ESTIMATORS)
    + tuple(n for n, _ in RELATIVE if n not in ESTIMATORS + ABSOLUTE)
)
#: Prefix of a relative feature's name.
Z = "z:"
#: Coverage of the interval.
LEVEL = 0.9
#: Largest share of the error `Selector.common_share` reports (the label loop needs each model to keep some of its own).
MAX_COMMON_SHARE = 0.95
#: The pool-based estimator whose fit the search measures (see "Consensus alone" above).
CONSENSUS = "consensus"
#: Floor of the per-candidate scale (metric units): disagreement below this says nothing more.
SCALE_FLOOR = 0.02
#: The shipped selector.
DEFAULT_PATH = Path(__file__).resolve().parents[1] / "resources" / "selector.json"


@dataclass(frozen=True)
class Row:
    """One candidate on one target of a benchmark workload: its estimator values and its true metric."""

    workload: str
    target: str
    model: str
    values: dict[str, float]
    truth: float
    metric: str = "accuracy"


@dataclass(frozen=True)
class Prediction:
    """A predicted metric with its interval, and the estimators it was computed from."""

    value: float
    low: float
    high: float
    inputs: tuple[str, ...]


@dataclass(frozen=True)
class Combination:
    """ŷ = intercept + Σ weights · e over `inputs`."""

    inputs: tuple[str, ...]
    weights: tuple[float, ...]
    intercept: float

    def __call__(self, values: Mapping[str, float]) -> float:
        return self.intercept + sum(w * values[k] for k, w in zip(self.inputs, self.weights))


def _finite(v: Any) -> bool:
    """A finite real number (Python or numpy; a bool is not a score)."""
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and math.isfinite(float(v))


def _metric(v: Any) -> bool:
    """A finite value in [0, 1]: what every estimator and absolute signal predicts. Anything else is an input error
    (an accuracy written in percent, say) and would throw the whole pool's level and deviations off scale."""
    return _finite(v) and -1e-9 <= float(v) <= 1.0 + 1e-9  # rounding at the ends is not an error


def relative_features(
    pool: Sequence[Mapping[str, Any]], relative: Sequence[tuple[str, int]] = RELATIVE
) -> list[dict[str, float]]:
    """Each candidate's pool-relative features: for every signal in `relative`, the z-score of its (oriented)
    value among the candidates of `pool` that have one (0 when all are equal). With fewer than three candidates
    having it, the signal is left out: two values always have z-scores of −1 and +1, however small their difference,
    so a z-score would turn noise into a full standard deviation."""
    out: list[dict[str, float]] = [{} for _ in pool]
    for name, sign in relative:
        have = [i for i, v in enumerate(pool) if _finite(v.get(name))]
        if len(have) < 3:
            continue
        x = np.array([sign * float(pool[i][name]) for i in have])
        sd = float(x.std())
        for i, z in zip(have, (x - x.mean()) / sd if sd > 1e-12 else np.zeros(len(x))):
            out[i][Z + name] = float(z)
    return out


def features(
    pool: Sequence[Mapping[str, Any]],
    estimators: Sequence[str] = ESTIMATORS,
    relative: Sequence[tuple[str, int]] = RELATIVE,
    absolute: Sequence[str] = ABSOLUTE,
) -> list[dict[str, float]]:
    """The selector's features of every candidate of one search: its finite estimator and absolute values, and its
    pool-relative features."""
    rel = relative_features(pool, relative)
    raw = list(estimators) + [a for a in absolute if a not in estimators]
    return [{**{k: float(v[k]) for k in raw if _metric(v.get(k))}, **r} for v, r in zip(pool, rel)]


def centred(pool_feats: Sequence[Mapping[str, float]], names: Sequence[str]) -> list[dict[str, float]]:
    """Each candidate's deviation from its pool on every feature in `names` (the pool's mean over the candidates that
    have the feature; 0 for a candidate that lacks it, i.e. "as the pool")."""
    out: list[dict[str, float]] = [{} for _ in pool_feats]
    for k in names:
        have = [i for i, f in enumerate(pool_feats) if k in f]
        if len(have) < 2:
            continue
        mean = sum(pool_feats[i][k] for i in have) / len(have)
        for i in have:
            out[i][k] = pool_feats[i][k] - mean
    return out


def fit_within(pools: Sequence[Sequence[Row]], names: tuple[str, ...]) -> Combination:
    """Non-negative weights of the within-pool model: a candidate's deviation from its pool's mean true metric as a
    combination of its deviations on the features `names` (no intercept; each workload weighing the same)."""
    from scipy.optimize import nnls

    x_rows, y_rows, workload = [], [], []
    for pool in pools:
        if len(pool) < 2:
            continue
        dev = centred([r.values for r in pool], names)
        y_mean = sum(r.truth for r in pool) / len(pool)
        for r, d in zip(pool, dev):
            x_rows.append([d.get(k, 0.0) for k in names])
            y_rows.append(r.truth - y_mean)
            workload.append(r.workload)
    if not x_rows or not names:  # nothing to fit (scipy's nnls aborts the process on a matrix without columns)
        return Combination(inputs=names, weights=tuple(0.0 for _ in names), intercept=0.0)
    counts: dict[str, int] = {}
    for w in workload:
        counts[w] = counts.get(w, 0) + 1
    sw = np.sqrt(np.array([1.0 / counts[w] for w in workload]))
    coef, _ = nnls(np.asarray(x_rows) * sw[:, None], np.asarray(y_rows) * sw)
    return Combination(inputs=names, weights=tuple(float(c) for c in coef), intercept=0.0)


def fit_combination(rows: Sequence[Row], inputs: tuple[str, ...]) -> Combination | None:
    """The non-negative least-squares combination of `inputs` on the `rows` that have all of them (each workload
    weighing the same); ``None`` when no row has them all."""
    from scipy.optimize import nnls

    use = [r for r in rows if all(k in r.values for k in inputs)]
    if not use:
        return None
    counts: dict[str, int] = {}
    for r in use:
        counts[r.workload] = counts.get(r.workload, 0) + 1
    w = np.array([1.0 / counts[r.workload] for r in use])
    x = np.array([[r.values[k] for k in inputs] for r in use], dtype=np.float64)
    y = np.array([r.truth for r in use], dtype=np.float64)
    xm, ym = (w[:, None] * x).sum(0) / w.sum(), float((w * y).sum() / w.sum())
    sw = np.sqrt(w)[:, None]
    coef, _ = nnls((x - xm) * sw, (y - ym) * sw[:, 0])
    return Combination(inputs=inputs, weights=tuple(float(c) for c in coef), intercept=float(ym - coef @ xm))


@dataclass
class Selector:
    """A fitted default pick. Load the shipped one with `Selector.load`, fit one with `Selector.fit`.

    Args:
        rows (`list[Row]`): the benchmark rows it is fitted on.
        inputs (`tuple[str, ...]`): the estimators it may combine.
        level (`float`): interval coverage.
        metadata (`dict`): provenance (workload files, their fingerprints, the command, versions).
        model (`str`): ``"within"`` (level plus within-pool deviation) or ``"direct"`` (the per-candidate
            combination alone, relative features included).
        level_rule (`str`): ``"conservative"`` (the pool mean of each candidate's lowest estimate) or ``"learnt"``
            (the pool mean of the per-candidate combinations); ``model="within"`` only.
        per_metric (`bool`): fit on the training rows of the search's metric only (`for_metric`).
    """

    rows: list[Row]
    estimators: tuple[str, ...] = ESTIMATORS
    relative: tuple[tuple[str, int], ...] = RELATIVE
    absolute: tuple[str, ...] = ABSOLUTE
    level: float = LEVEL
    metadata: dict[str, Any] = field(default_factory=dict)
    model: str = "within"
    level_rule: str = "conservative"
    per_metric: bool = False

    def __post_init__(self) -> None:
        if self.level_rule not in LEVEL_RULES:
            raise ValueError(f"level_rule {self.level_rule!r}: expected one of {', '.join(LEVEL_RULES)}")
        self._combos: dict[tuple[str, ...], Combination | None] = {}
        self._within: dict[tuple[str, ...], Combination] = {}
        self._by_metric: dict[str, Selector] = {}

    @property
    def inputs(self) -> tuple[str, ...]:
        """Every score this selector reads."""
        names = list(self.estimators) + list(self.absolute) + [n for n, _ in self.relative]
        return tuple(dict.fromkeys(names))

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The features of the per-candidate (level) combination."""
        names = [*self.estimators, *self.absolute]
        if self.model == "direct":
            names += [Z + n for n, _ in self.relative]
        return tuple(dict.fromkeys(names))

    @property
    def within_names(self) -> tuple[str, ...]:
        """The features of the within-pool model: estimators and pool-relative signals."""
        return tuple(dict.fromkeys([*self.estimators, *(Z + n for n, _ in self.relative)]))

    @property
    def within(self) -> Combination:
        """The within-pool model (see `fit_within`) on every feature, fitted on the training pools."""
        return self.within_for(self.within_names)

    def within_for(self, available: Sequence[str]) -> Combination:
        """The within-pool model on the features of `within_names` that a candidate has (fitted once, then kept): a
        feature the candidate lacks must not keep the weight it took from the ones it has, or a candidate with
        consensus alone would get the small share of the credit consensus holds beside five other signals."""
        key = tuple(k for k in self.within_names if k in available)
        if key not in self._within:
            self._within[key] = fit_within(list(self.pools.values()), key)
        return self._within[key]

    @cached_property
    def pools(self) -> dict[tuple[str, str], list[Row]]:
        """The training pools, by (workload, target): their rows with their features (estimator values, and z-scores
        within the pool)."""
        groups: dict[tuple[str, str], list[Row]] = {}
        for r in self.rows:
            groups.setdefault((r.workload, r.target), []).append(r)
        out = {}
        for key, rows in groups.items():
            feats = features([r.values for r in rows], self.estimators, self.relative, self.absolute)
            out[key] = [Row(r.workload, r.target, r.model, f, r.truth, r.metric) for r, f in zip(rows, feats)]
        return out

    @property
    def training(self) -> list[Row]:
        """Every training row with its features (see `pools`)."""
        return [r for pool in self.pools.values() for r in pool]

    @property
    def workloads(self) -> list[str]:
        return sorted({r.workload for r in self.rows})

    # ---- fitting -----------------------------------------------------------------------------------------------
    @classmethod
    def fit(
        cls,
        rows: Iterable[Row],
        *,
        estimators: tuple[str, ...] = ESTIMATORS,
        relative: tuple[tuple[str, int], ...] = RELATIVE,
        absolute: tuple[str, ...] = ABSOLUTE,
        model: str = "within",
        level_rule: str = "conservative",
        per_metric: bool = False,
        **metadata: Any,
    ) -> Selector:
        return cls(
            rows=list(rows),
            estimators=estimators,
            relative=relative,
            absolute=absolute,
            metadata=dict(metadata),
            model=model,
            level_rule=level_rule,
            per_metric=per_metric,
        )

    def without(self, workload: str) -> Selector:
        """The selector fitted on every workload but `workload` (what grades it on `workload`)."""
        return self._on([r for r in self.rows if r.workload != workload])

    def _on(self, rows: list[Row]) -> Selector:
        """The same selector fitted on `rows` (its fitted parts are recomputed from them when needed)."""
        return replace(self, rows=rows, metadata=dict(self.metadata))

    def combination(self, available: tuple[str, ...]) -> Combination | None:
        """The combination for candidates whose available estimators are `available` (fitted once, then kept).

        Fitted on the rows having all of them; if none has, the largest subset that some rows have is used.
        """
        key = tuple(k for k in self.feature_names if k in available)
        if key not in self._combos:
            combo = fit_combination(self.training, key) if any(k in self.estimators for k in key) else None
            if combo is None and len(key) > 1:
                subsets = [tuple(k for k in key if k != drop) for drop in reversed(key)]
                combo = next((c for s in subsets if (c := self.combination(s)) is not None), None)
            self._combos[key] = combo
        return self._combos[key]

    # ---- predicting --------------------------------------------------------------------------------------------
    def point(self, feats: Mapping[str, float]) -> tuple[float, float, tuple[str, ...]] | None:
        """``(ŷ, scale, features used)`` for one candidate's features (see `features`), or ``None`` without an
        estimator. The scale grows with the disagreement of the estimators around ŷ."""
        combo = self.combination(tuple(feats))
        if combo is None:
            return None
        y = combo(feats)
        spread = [feats[k] - y for k in combo.inputs if k in self.estimators]
        d = math.sqrt(sum(v * v for v in spread) / len(spread)) if spread else 0.0
        return y, math.sqrt(SCALE_FLOOR**2 + d**2), combo.inputs

    def pool_points(
        self, pool_feats: Sequence[Mapping[str, float]], consensus_fit: float | None = None
    ) -> list[tuple[float, float, tuple[str, ...]] | None]:
        """`point` for every candidate of one search. With ``model="within"`` (the default), each candidate's
        prediction is the pool's level (see `level_rule`) plus the within-pool model's deviation: the order comes from
        how the signals relate to the metric inside a pool. `consensus_fit`: the share of the pool's pairwise
        agreement that its Dawid–Skene fit explains, which sets the deviation of a candidate whose only signal is
        consensus (see the module's docstring)."""
        points = [self.point(f) for f in pool_feats]
        if self.model != "within":
            return points
        if self.level_rule == "conservative":
            have = [min(f[k] for k in self.estimators if k in f) for f, p in zip(pool_feats, points) if p is not None]
        else:
            have = [p[0] for p in points if p is not None]
        if not have:
            return points
        level = sum(have) / len(have)
        pooled = [k for k in self.within_names if sum(k in f for f in pool_feats) >= 2]
        dev = centred(pool_feats, pooled)
        out: list[tuple[float, float, tuple[str, ...]] | None] = []
        for p, d in zip(points, dev):
            if p is None:
                out.append(None)
                continue
            within, scale = self.within_for(list(d)), p[1]
            if within.inputs == (CONSENSUS,) and consensus_fit is not None and math.isfinite(consensus_fit):
                share = min(max(float(consensus_fit), 0.0), 1.0)
                within = Combination(inputs=(CONSENSUS,), weights=(share,), intercept=0.0)
                scale = math.sqrt(scale**2 + (1.0 - share) * d.get(CONSENSUS, 0.0) ** 2)
            used = tuple(
                dict.fromkeys([*p[2], *(k for k, w in zip(within.inputs, within.weights) if w > 0 and k in d)])
            )
            out.append((level + within({k: d.get(k, 0.0) for k in within.inputs}), scale, used))
        return out

    @cached_property
    def cross_validated(self) -> list[tuple[str, str, float, float, float]]:
        """``(workload, target, truth, ŷ, s)`` of every training candidate, each predicted by the selector fitted on
        the other workloads: what the interval (`quantile`) and the split of the error (`common_share`) are
        calibrated on."""
        out = []
        for wl in self.workloads:
            other = self.without(wl)
            for target in sorted(t for w, t in self.pools if w == wl):
                pool = self.pools[wl, target]
                for r, p in zip(pool, other.pool_points([r.values for r in pool])):
                    if p is not None:
                        out.append((wl, target, r.truth, p[0], p[1]))
        return out

    @cached_property
    def quantile(self) -> float:
        """The conformal multiplier q: the `level` quantile of |y − ŷ| / s over cross-validated predictions (each
        workload predicted by the selector fitted on the others), workloads weighing the same."""
        got = self.cross_validated
        if not got:
            return 1.645 * 3  # no calibration data: a wide, honest interval
        counts: dict[str, int] = {}
        for wl, *_ in got:
            counts[wl] = counts.get(wl, 0) + 1
        ratios = [abs(t - y) / s for _, _, t, y, s in got]
        weights = [1.0 / counts[wl] for wl, *_ in got]
        order = np.argsort(ratios)
        cum = np.cumsum(np.asarray(weights)[order]) / np.sum(weights)
        return float(np.asarray(ratios)[order][min(int(np.searchsorted(cum, self.level)), len(order) - 1)])

    @cached_property
    def common_share(self) -> float:
        """The share of the cross-validated squared error that the candidates of one search have in common: Σ over
        each held-out pool of n · (its mean error)², over Σ of every squared error, each workload weighing the same.
        A level every candidate of a search shares (a shift that fools every estimator alike) against each
        candidate's own error; the label loop needs the split (`LabelLoop`'s ``common_share``), since labels on the
        rows it chooses measure only differences between models. Pools of one candidate say nothing about the split
        and are left out; 0.5 without calibration data; at most `MAX_COMMON_SHARE` (each model keeps an error of its
        own, which the loop needs)."""
        err: dict[tuple[str, str], list[float]] = {}
        for wl, target, t, y, _ in self.cross_validated:
            err.setdefault((wl, target), []).append(y - t)
        common: dict[str, float] = {}
        total: dict[str, float] = {}
        for (wl, _), e in err.items():
            if len(e) < 2:
                continue
            common[wl] = common.get(wl, 0.0) + len(e) * float(np.mean(e)) ** 2
            total[wl] = total.get(wl, 0.0) + float(np.sum(np.square(e)))
        shares = [common[wl] / total[wl] for wl in total if total[wl] > 0]
        return min(float(np.mean(shares)), MAX_COMMON_SHARE) if shares else 0.5

    @property
    def metrics(self) -> list[str]:
        """The metrics of the training rows (accuracy, f1…)."""
        return sorted({r.metric for r in self.rows})

    def for_metric(self, metric: str | None) -> Selector:
        """The selector fitted on the rows of `metric` only, with ``per_metric`` (itself without, when all rows are of
        that metric, or none is): an accuracy and an F1 are different quantities, and a level learnt on one misplaces
        the other."""
        if not self.per_metric or metric is None or self.metrics == [metric] or metric not in self.metrics:
            return self
        if metric not in self._by_metric:
            self._by_metric[metric] = self._on([r for r in self.rows if r.metric == metric])
        return self._by_metric[metric]

    def predict(
        self, pool: Sequence[Mapping[str, Any]], metric: str | None = None, consensus_fit: float | None = None
    ) -> list[Prediction | None]:
        """The predicted metric and its interval for every candidate of one search, from their scores (``None``:
        no estimator available for that candidate). The pool matters: relative features compare candidates.
        `metric` (``accuracy``, ``f1``): predict from the training rows of that metric (see `for_metric`).
        `consensus_fit`: the pool's `DawidSkeneResult.agreement_explained`, for candidates with consensus alone."""
        selector = self.for_metric(metric)
        if selector is not self:
            return selector.predict(pool, consensus_fit=consensus_fit)
        q = self.quantile
        out: list[Prediction | None] = []
        feats = features(pool, self.estimators, self.relative, self.absolute)
        for got in self.pool_points(feats, consensus_fit):
            if got is None:
                out.append(None)
                continue
            y, s, used = got
            out.append(
                Prediction(
                    value=float(np.clip(y, 0.0, 1.0)),
                    low=float(np.clip(y - q * s, 0.0, 1.0)),
                    high=float(np.clip(y + q * s, 0.0, 1.0)),
                    inputs=used,
                )
            )
        return out

    # ---- the file ----------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "version": SELECTOR_VERSION,
            "estimators": list(self.estimators),
            "relative": [[name, sign] for name, sign in self.relative],
            "absolute": list(self.absolute),
            "model": self.model,
            "level_rule": self.level_rule,
            "per_metric": self.per_metric,
            "level": self.level,
            "metadata": self.metadata,
            "workloads": self.workloads,
            "rows": [
                [
                    r.workload,
                    r.target,
                    r.model,
                    {k: round(v, 5) for k, v in r.values.items()},
                    round(r.truth, 5),
                    r.metric,
                ]
                for r in self.rows
            ],
        }

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1, sort_keys=False) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path | None = None) -> Selector:
        """The selector in `path` (default: the one shipped with the package)."""
        data = json.loads(Path(path or DEFAULT_PATH).read_text(encoding="utf-8"))
        version = data.get("version")
        if version not in (2, SELECTOR_VERSION):
            raise ValueError(f"selector file version {version!r}, expected {SELECTOR_VERSION}")
        rows = [
            Row(w, t, m, {k: float(v) for k, v in vals.items()}, float(y), *(str(x) for x in rest))
            for w, t, m, vals, y, *rest in data["rows"]
        ]
        return cls(
            rows=rows,
            estimators=tuple(data["estimators"]),
            relative=tuple((str(n), int(sign)) for n, sign in data["relative"]),
            absolute=tuple(data.get("absolute", ())),
            level=float(data["level"]),
            model=str(data.get("model", "direct")),
            level_rule=str(data.get("level_rule", "learnt")),
            per_metric=bool(data.get("per_metric", version == 2)),
            metadata=data.get("metadata", {}),
        )
