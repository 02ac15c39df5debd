"""Pool workloads (``kind: pools``): grade label-free and label-budget model selection on recorded predictions.

A pool is an ``.npz`` of many models' predictions on one labeled set (`hfsearch.pools`); no model is run. Each pool
is graded like a benchmark target: the label-free picks of the ``auto`` default (the selector applied to the pool's
Dawid–Skene ``consensus``, where the shipped selector can combine it), of ``consensus`` and of agreement with the
majority vote (regret in points, top-1, Kendall τ against the measured accuracies), a random pick as the floor, and the
label-budget curves (`hfsearch.bench.curves`: label loop vs uniform rows). A pool file that is absent is skipped with a
one-line message (the dev pools live in the project's shared data folder, never in the repository).

```yaml
name: pools
kind: pools
pools:                                   # name: .npz path (relative to this file, or absolute)
  glue_rte: ../../shared/data/pools/glue_rte.npz
budgets: [0, 10, 20, 50]                 # optional
repeats: 10                              # optional: seeded repetitions per strategy
seed: 0                                  # optional
```
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import HFSearchError, WorkloadError
from .curves import (
    DEFAULT_BUDGETS,
    DEFAULT_REPEATS,
    budget_curve,
    curves_table,
    plot_budget_curves,
)
from .metrics import evaluate_scorer, random_outcome
from .report import json_safe

_KEYS = {"name", "kind", "description", "pools", "budgets", "repeats", "seed"}


@dataclass
class PoolsWorkload:
    """A validated pool workload (see the module docstring)."""

    name: str
    file: Path
    pools: dict[str, Path]
    description: str = ""
    budgets: tuple[int, ...] = DEFAULT_BUDGETS
    repeats: int = DEFAULT_REPEATS
    seed: int = 0
    metric: str = "accuracy"


def is_pools_workload(data: Any) -> bool:
    return isinstance(data, Mapping) and data.get("kind") == "pools"


def parse_pools_workload(data: Mapping[str, Any], file: Path) -> PoolsWorkload:
    """Validate a ``kind: pools`` mapping (the files are checked when run: an absent one is skipped)."""
    import difflib

    where = str(file)
    for key in data:
        if key not in _KEYS:
            close = difflib.get_close_matches(str(key), sorted(_KEYS), n=1, cutoff=0.6)
            hint = f" Did you mean {close[0]!r}?" if close else f" Known: {', '.join(sorted(_KEYS))}."
            raise WorkloadError(f"{where}: unknown field {key!r}.{hint}")
    pools = data.get("pools")
    if not isinstance(pools, Mapping) or not pools:
        raise WorkloadError(
            f"{where}: pools: expected a mapping of name: .npz path, e.g. glue_rte: pools/glue_rte.npz."
        )
    paths = {}
    for name, value in pools.items():
        if not isinstance(value, str) or not value.strip():
            raise WorkloadError(f"{where}: pools.{name}: expected a path to an .npz file, got {value!r}.")
        path = Path(value).expanduser()
        paths[str(name)] = path if path.is_absolute() else (file.parent / path)
    budgets = data.get("budgets", list(DEFAULT_BUDGETS))
    if (
        not isinstance(budgets, list)
        or not budgets
        or not all(isinstance(b, int) and not isinstance(b, bool) and b >= 0 for b in budgets)
    ):
        raise WorkloadError(f"{where}: budgets: expected a list of whole numbers >= 0, got {budgets!r}.")
    repeats, seed = data.get("repeats", DEFAULT_REPEATS), data.get("seed", 0)
    for key, value, low in (("repeats", repeats, 1), ("seed", seed, 0)):
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise WorkloadError(f"{where}: {key}: expected a whole number >= {low}, got {value!r}.")
    return PoolsWorkload(
        name=str(data.get("name") or file.stem),
        file=file,
        pools=paths,
        description=str(data.get("description") or "").strip(),
        budgets=tuple(sorted(set(budgets))),
        repeats=int(repeats),
        seed=int(seed),
    )


@dataclass
class PoolResult:
    """The grades of one pool: ``label_free`` (one record per method) and the budget ``curves``."""

    name: str
    file: str
    n_rows: int
    n_models: int
    method: str
    prior: str
    label_free: list[dict[str, Any]]
    curves: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    best_accuracy: float = 0.0
    consensus_fit: float | None = None


@dataclass
class PoolsBenchResult:
    """A pool workload's result: one `PoolResult` per pool found, the pools skipped (absent) and the time taken."""

    workload: PoolsWorkload
    pools: list[PoolResult]
    skipped: dict[str, str]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        wl = self.workload
        return {
            "workload": {
                "name": wl.name,
                "kind": "pools",
                "file": str(wl.file),
                "budgets": list(wl.budgets),
                "repeats": wl.repeats,
                "seed": wl.seed,
            },
            "pools": [p.__dict__ for p in self.pools],
            "skipped": self.skipped,
            "seconds": round(self.seconds, 1),
        }


def _grade(
    method: str,
    scores: dict[str, float | None],
    truth: dict[str, float],
    *,
    estimate: bool = False,
    intervals: dict[str, tuple[float, float]] | None = None,
) -> dict[str, Any]:
    """The pick's grades; for an `estimate` (a predicted accuracy) also its error, and its intervals' coverage and
    width."""
    o = evaluate_scorer(scores, truth, estimate=estimate, intervals=intervals)
    return {
        "method": method,
        "regret": o.regret,
        "top1": o.top1,
        "kendall_tau": o.kendall_tau,
        "chosen": ", ".join(o.chosen),
        "abs_error": o.abs_error,
        "interval_coverage": o.interval_coverage,
        "interval_width": o.interval_width,
    }


def grade_pool(name: str, path: Path, wl: PoolsWorkload, selector: Any) -> PoolResult:
    """Every grade of one pool file (it must carry labels)."""
    from ..pools import load_pool, majority_agreement, rank_outputs

    pool = load_pool(path)
    acc = pool.accuracies()
    truth = dict(zip(pool.models, acc.astype(float)))
    arrays = pool.probabilities if pool.probabilities is not None else pool.predictions
    ranking = rank_outputs(arrays, models=pool.models, n_classes=pool.n_classes, seed=wl.seed)
    frame = ranking.frame.set_index("model").loc[pool.models]
    ok = frame["recommendable"].to_numpy(bool)
    consensus = frame["predicted_accuracy"].to_numpy(float)
    rows, notes = [], list(ranking.warnings)
    auto = (
        selector.predict(
            [{"consensus": float(v)} for v in consensus], metric="accuracy", consensus_fit=ranking.consensus_fit
        )
        if ranking.method.startswith("dawid")
        else [None] * len(consensus)
    )
    if any(a is not None for a in auto):
        rows.append(
            _grade(
                "auto (selector on consensus)",
                {m: (a.value if a is not None and k else None) for m, a, k in zip(pool.models, auto, ok)},
                truth,
                estimate=True,
                intervals={m: (a.low, a.high) for m, a, k in zip(pool.models, auto, ok) if a is not None and k},
            )
        )
        prior = np.array([[a.value, a.low, a.high] if a is not None else [np.nan] * 3 for a in auto])
        prior_name = "auto (value and 90% interval)"
        common_share = selector.for_metric("accuracy").common_share
    else:
        notes.append("auto: the shipped selector cannot combine consensus alone (no benchmark row has it): not graded")
        z = 1.6448536269514722  # the loop's default sd of a label-free estimate, as rank_outputs uses it
        prior = np.stack([consensus, consensus - z * 0.05, consensus + z * 0.05], axis=1)
        prior_name = "consensus ± the loop's default sd 0.05 (no auto)"
        common_share = 0.5  # the loop's assumption when no selector measured it
    rows.append(
        _grade(
            f"consensus ({ranking.method})",
            {m: (float(v) if k else None) for m, v, k in zip(pool.models, consensus, ok)},
            truth,
            estimate=True,
        )
    )
    rows.append(
        _grade("agreement (majority vote)", dict(zip(pool.models, majority_agreement(pool.predictions))), truth)
    )
    rnd = random_outcome(truth)
    rows.append({"method": "random pick", "regret": rnd.regret, "top1": rnd.top1, "kendall_tau": 0.0, "chosen": ""})
    curves = budget_curve(
        pool.predictions,
        pool.gold(),
        prior,
        acc,
        budgets=wl.budgets,
        repeats=wl.repeats,
        seed=wl.seed,
        n_classes=pool.n_classes,
        recommendable=ok,
        common_share=common_share,
    )
    return PoolResult(
        name,
        str(path),
        pool.n_rows,
        len(pool.models),
        ranking.method,
        prior_name,
        rows,
        curves,
        notes,
        float(acc.max()),
        ranking.consensus_fit,
    )


def pool_rows(wl: PoolsWorkload) -> list[Any]:
    """The selector's training rows of the pools of `wl` (each pool its own workload): every model's label-free
    consensus estimate and its true accuracy. Absent pool files give no rows."""
    from ..pools import load_pool, rank_outputs
    from ..select import Row

    rows = []
    for name, path in wl.pools.items():
        if not path.is_file():
            continue
        pool = load_pool(path)
        arrays = pool.probabilities if pool.probabilities is not None else pool.predictions
        ranking = rank_outputs(arrays, models=pool.models, n_classes=pool.n_classes, seed=wl.seed)
        if not ranking.method.startswith("dawid"):
            continue
        frame = ranking.frame.set_index("model").loc[pool.models]
        for model, value, ok, truth in zip(
            pool.models, frame["predicted_accuracy"], frame["recommendable"], pool.accuracies()
        ):
            if ok:
                rows.append(Row(name, name, str(model), {"consensus": float(value)}, float(truth)))
    return rows


def run_pools_benchmark(
    wl: PoolsWorkload,
    log: Callable[[str], None] | None = None,
    warn: Callable[[str], None] | None = None,
    selector: Any = None,
) -> PoolsBenchResult:
    """Grade every pool of `wl`; an absent file is skipped with a one-line message (all absent: the workload is
    skipped, its report says so). ``auto`` is graded with `selector` (default: the shipped one) fitted without the
    pool being graded (leave-one-workload-out).

    Raises:
        `HFSearchError`: a pool file is malformed or has no labels (one line naming the pool).
    """
    from ..pipeline.estimate import shipped_selector

    say = log or (lambda _line: None)
    tell = warn or say  # skipped pools are told even when progress lines are not
    t0 = time.perf_counter()
    results, skipped = [], {}
    for name, path in wl.pools.items():
        if not path.is_file():
            skipped[name] = f"{path} not found"
            tell(
                f"[{wl.name}] skipped pool {name}: {skipped[name]} (the dev pools live in ../shared/data/pools beside "
                "the repository)"
            )
            continue
        try:
            result = grade_pool(name, path, wl, (selector or shipped_selector()).without(name))
        except HFSearchError as exc:
            raise type(exc)(f"pool {name}: {exc}") from None
        say(f"[{wl.name}] pool {name}: {result.n_models} models on {result.n_rows} rows graded")
        results.append(result)
    if not results:
        tell(f"[{wl.name}] skipped: none of its {len(skipped)} pool files exists")
    return PoolsBenchResult(wl, results, skipped, time.perf_counter() - t0)


def _f(v: float | None, digits: int) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def pools_markdown(result: PoolsBenchResult) -> str:
    """A ``## Benchmark: <name>`` section: per pool, the label-free grades and the budget curves."""
    wl = result.workload
    lines = [f"## Benchmark: {wl.name} (prediction pools)", ""]
    if wl.description:
        lines += [wl.description, ""]
    lines += [
        (
            f"Recorded predictions of many models on one labeled set; no model is run. Label-free picks graded "
            f"against the measured accuracies (regret in accuracy points, top-1, Kendall τ); the label-budget curves "
            f"reveal the true label of each asked row, {wl.repeats} seeded repetitions per strategy."
        ),
        "",
    ]
    lines += [f"- skipped `{name}`: {why}" for name, why in result.skipped.items()]
    if result.skipped:
        lines.append("")
    if not result.pools:
        lines += ["Workload skipped: no pool file found.", ""]
    for p in result.pools:
        lines += [
            f"### {p.name} ({p.n_rows} rows, {p.n_models} models; best accuracy {p.best_accuracy:.3f})",
            "",
            "| label-free pick | regret (points) | top-1 | Kendall τ | abs. error (points) | 90% interval coverage "
            "| interval width (points) | chosen |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for r in p.label_free:
            lines.append(
                f"| {r['method']} | {_f(r['regret'], 1)} | {_f(r['top1'], 2)} | {_f(r['kendall_tau'], 2)} | "
                f"{_f(r.get('abs_error'), 1)} | {_f(r.get('interval_coverage'), 2)} | "
                f"{_f(r.get('interval_width'), 1)} | {r['chosen']} |"
            )
        if p.consensus_fit is not None:
            lines += [
                "",
                f"The Dawid–Skene fit explains {p.consensus_fit:.0%} of the variance of the models' pairwise agreement "
                "(`auto` moves each model from the pool's level by that share of its consensus deviation).",
            ]
        lines += ["", f"Label budget (prior: {p.prior}):", "", *curves_table(p.curves, wl.budgets), ""]
        lines += [f"- {n}" for n in p.notes]
        lines.append("")
    try:
        shown = Path(wl.file).resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        shown = Path(wl.file)
    lines += [f"Time: {result.seconds:.0f} s. Reproduce: `hfsearch bench {shown} --output bench/out/{wl.name}`.", ""]
    return "\n".join(lines)


def write_pools_report(result: PoolsBenchResult, output: str | Path, *, plots: bool = True) -> list[Path]:
    """Write ``results.json``, ``report.md`` and (with `plots`) ``plots/budget_curves.png`` under `output`."""
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "results.json", out / "report.md"]
    paths[0].write_text(json.dumps(json_safe(result.to_dict()), indent=2, default=float) + "\n", encoding="utf-8")
    paths[1].write_text(pools_markdown(result), encoding="utf-8")
    if plots and result.pools:
        paths.append(
            plot_budget_curves([(p.name, p.curves) for p in result.pools], out / "plots" / "budget_curves.png")
        )
    return paths


def load_pools_workload(path: str | Path) -> PoolsWorkload | None:
    """The pool workload in `path`, or ``None`` when the file is a zoo workload (no ``kind: pools``); a file that
    cannot be read is left to `hfsearch.bench.workload.load_workload`, which reports it."""
    import yaml

    file = Path(path)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    return parse_pools_workload(data, file) if is_pools_workload(data) else None
