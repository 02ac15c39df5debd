"""The default pick (``--rank-by auto``): the available accuracy estimators combined into one predicted metric with a
90 % interval, learnt from benchmark results and always graded on workloads it was not fitted on.

**Model.** For the estimators available for a candidate (a subset A of `INPUTS`), the prediction is a non-negative
combination with an intercept,

    ŷ = c_A + Σ_{k ∈ A} w_{A,k} · e_k,     w ≥ 0,

fitted by least squares (`scipy.optimize.nnls` on workload-centred data) on the benchmark rows where every estimator
of A is available, each workload weighing the same whatever its number of candidates. Non-negative weights keep
the combination a (shrunk) vote of estimators that each predict the metric, so no estimator can enter with a sign
that merely fits the training workloads. Candidates without any estimator get no prediction (and the reason).

**Interval.** The residuals are normalised by a per-candidate scale s = √(s₀² + d²), where d is the spread of the
available estimators around ŷ (they disagree: less certainty) and s₀ a floor; the interval is ŷ ± q·s, where q is
the 90 % quantile of |residual| / s over *cross-validated* predictions (each training workload predicted by the
combination fitted on the others: split-conformal calibration that respects workloads), clipped to [0, 1].

**Discipline.** The file shipped in the package (`hfsearch/resources/selector.json`) holds the rows it is fitted
on (a few thousand numbers) and nothing else learnt: the combinations are refitted from them when loaded, so
`without(workload)` gives exactly the selector that never saw a workload — what `hfsearch bench` grades.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

#: Version of the selector file format.
SELECTOR_VERSION = 1
#: The estimators the selector may combine (scorers of kind ``estimate``, and reported accuracies).
INPUTS = ("atc", "atc_ne", "doc", "consensus", "aline", "source_accuracy")
#: Coverage of the interval.
LEVEL = 0.9
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


def _usable(values: Mapping[str, Any], inputs: Iterable[str]) -> dict[str, float]:
    out = {}
    for k in inputs:
        v = values.get(k)
        if v is not None and isinstance(v, (int, float)) and math.isfinite(float(v)):
            out[k] = float(v)
    return out


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
    """

    rows: list[Row]
    inputs: tuple[str, ...] = INPUTS
    level: float = LEVEL
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._combos: dict[tuple[str, ...], Combination | None] = {}

    @property
    def workloads(self) -> list[str]:
        return sorted({r.workload for r in self.rows})

    # ---- fitting -----------------------------------------------------------------------------------------------
    @classmethod
    def fit(cls, rows: Iterable[Row], inputs: tuple[str, ...] = INPUTS, **metadata: Any) -> Selector:
        return cls(rows=[r for r in rows if r.values], inputs=inputs, metadata=dict(metadata))

    def without(self, workload: str) -> Selector:
        """The selector fitted on every workload but `workload` (what grades it on `workload`)."""
        return Selector([r for r in self.rows if r.workload != workload], self.inputs, self.level, dict(self.metadata))

    def combination(self, available: tuple[str, ...]) -> Combination | None:
        """The combination for candidates whose available estimators are `available` (fitted once, then kept).

        Fitted on the rows having all of them; if none has, the largest subset that some rows have is used.
        """
        key = tuple(k for k in self.inputs if k in available)
        if key not in self._combos:
            combo = fit_combination(self.rows, key) if key else None
            if combo is None and len(key) > 1:
                subsets = [tuple(k for k in key if k != drop) for drop in reversed(key)]
                combo = next((c for s in subsets if (c := self.combination(s)) is not None), None)
            self._combos[key] = combo
        return self._combos[key]

    # ---- predicting --------------------------------------------------------------------------------------------
    def point(self, values: Mapping[str, Any]) -> tuple[float, float, tuple[str, ...]] | None:
        """``(ŷ, scale, inputs used)`` for one candidate's estimator values, or ``None`` without any."""
        usable = _usable(values, self.inputs)
        combo = self.combination(tuple(usable))
        if combo is None:
            return None
        y = combo(usable)
        spread = [usable[k] - y for k in combo.inputs]
        d = math.sqrt(sum(v * v for v in spread) / len(spread)) if spread else 0.0
        return y, math.sqrt(SCALE_FLOOR**2 + d**2), combo.inputs

    @cached_property
    def quantile(self) -> float:
        """The conformal multiplier q: the `level` quantile of |y − ŷ| / s over cross-validated predictions (each
        workload predicted by the selector fitted on the others), workloads weighing the same."""
        ratios, weights = [], []
        for wl in self.workloads:
            other = self.without(wl)
            mine = [r for r in self.rows if r.workload == wl]
            got = [(r, p) for r in mine if (p := other.point(r.values)) is not None]
            for r, (y, s, _) in got:
                ratios.append(abs(r.truth - y) / s)
                weights.append(1.0 / len(got))
        if not ratios:
            return 1.645 * 3  # no calibration data: a wide, honest interval
        order = np.argsort(ratios)
        cum = np.cumsum(np.asarray(weights)[order]) / np.sum(weights)
        return float(np.asarray(ratios)[order][min(int(np.searchsorted(cum, self.level)), len(order) - 1)])

    def predict(self, values: Mapping[str, Any]) -> Prediction | None:
        """The predicted metric and its interval for one candidate (``None``: no estimator available)."""
        got = self.point(values)
        if got is None:
            return None
        y, s, used = got
        q = self.quantile
        return Prediction(value=float(np.clip(y, 0.0, 1.0)), low=float(np.clip(y - q * s, 0.0, 1.0)),
                          high=float(np.clip(y + q * s, 0.0, 1.0)), inputs=used)

    # ---- the file ----------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "version": SELECTOR_VERSION, "inputs": list(self.inputs), "level": self.level, "metadata": self.metadata,
            "workloads": self.workloads,
            "rows": [[r.workload, r.target, r.model, {k: round(v, 5) for k, v in r.values.items()}, round(r.truth, 5)]
                     for r in self.rows],
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
        if data.get("version") != SELECTOR_VERSION:
            raise ValueError(f"selector file version {data.get('version')!r}, expected {SELECTOR_VERSION}")
        rows = [Row(w, t, m, {k: float(v) for k, v in vals.items()}, float(y)) for w, t, m, vals, y in data["rows"]]
        return cls(rows=rows, inputs=tuple(data["inputs"]), level=float(data["level"]), metadata=data.get("metadata", {}))
