"""Label-budget curves: how good the pick is after 0, 10, 20 and 50 labels, with the label loop's informative rows
against uniformly random rows at the same budget.

Per target (or prediction pool), the loop (`hfsearch.consensus.selection.simulate`) starts from the label-free
prediction of every candidate — the ``auto`` value and its 90 % interval, exactly what ``hfsearch find --label-budget``
starts from — and reveals the true label of each row it asks for. After each budget the recommended candidate is graded
like any scorer: top-1 (it is a truly best candidate) and regret (best true metric − its true metric, in points).
Each strategy is repeated with seeds ``seed … seed + repeats − 1`` and averaged. A candidate without a label-free
prediction enters the loop with the uninformative prior (`hfsearch.labeling.session.uninformed_prior`), as in
``find``; at 0 labels, candidates tied at the top of the prior share the pick (expected top-1 and regret of a uniform
choice among them, as for the scorers).

```python
>>> records = budget_curve(predictions, labels, prior, truth, budgets=(0, 20), repeats=10)
>>> [(r["strategy"], r["budget"], round(r["regret"], 1)) for r in records]   # doctest: +SKIP
```
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..consensus.selection import Strategy, simulate

#: Budgets graded by default (0 = the label-free pick).
DEFAULT_BUDGETS = (0, 10, 20, 50)
#: Seeded repetitions per strategy.
DEFAULT_REPEATS = 10
#: Row-choice strategies compared: the loop's, and uniformly random rows.
STRATEGIES: tuple[Strategy, ...] = ("informative", "uniform")


def budget_curve(
    predictions: np.ndarray,
    labels: np.ndarray,
    prior: np.ndarray,
    truth: np.ndarray,
    *,
    budgets: Sequence[int] = DEFAULT_BUDGETS,
    repeats: int = DEFAULT_REPEATS,
    seed: int = 0,
    level: float = 0.9,
    n_classes: int | None = None,
    recommendable: np.ndarray | None = None,
    strategies: Sequence[Strategy] = STRATEGIES,
    common_share: float = 0.5,
) -> list[dict[str, Any]]:
    """Top-1 and regret of the loop's pick after each budget, per strategy (means over the repetitions).

    Args:
        predictions (`np.ndarray`): ``(rows, models)`` predicted class ids (``-1``: none).
        labels (`np.ndarray`): ``(rows,)`` true class ids (only the rows the loop asks for are read).
        prior (`np.ndarray`): ``(models, 3)`` label-free value, low and high (NaN: no prediction: uninformative prior).
        truth (`np.ndarray`): ``(models,)`` true metric of every model.
        budgets (`Sequence[int]`, *optional*): label budgets graded.
        repeats (`int`, *optional*, defaults to 10): seeded repetitions per strategy.
        seed (`int`, *optional*, defaults to 0): first seed.
        level (`float`, *optional*, defaults to 0.9): coverage of the prior intervals.
        n_classes (`int`, *optional*): number of classes.
        recommendable (`np.ndarray`, *optional*): ``(models,)`` models that may be picked (e.g. not label-permuted).
        strategies (`Sequence[str]`, *optional*): ``"informative"`` and/or ``"uniform"``.
        common_share (`float`, *optional*, defaults to 0.5): the loop's share of the prior's error common to the pool
            (`LabelLoop`); the grading selector's `Selector.common_share` when the prior is its ``auto``.

    Returns:
        `list[dict]`: one record per (strategy, budget): ``top1``, ``regret`` (points), their standard errors over the
        repetitions (``top1_se``, ``regret_se``) and ``repeats``; and how close the loop's predicted accuracies are to
        the truth, over the models that had a label-free prediction (so that budget 0 grades exactly the label-free
        ``auto``): ``error`` (mean absolute error, points), ``coverage`` (share of true metrics inside the intervals),
        ``width`` (mean interval width, points) and ``pick_error`` (absolute error of the pick's prediction, points);
        NaN when no model had a label-free prediction.
    """
    from ..labeling.session import uninformed_prior

    p = np.array(prior, dtype=np.float64)
    informed = np.asarray(np.isfinite(p).all(axis=1))
    p[~informed] = uninformed_prior(level)
    t = np.asarray(truth, dtype=np.float64)
    best = float(np.nanmax(t))
    pred = np.asarray(predictions)
    ok = np.ones(len(t), bool) if recommendable is None else np.asarray(recommendable, bool)
    c = n_classes if n_classes is not None else max(int(pred.max()), int(np.max(labels))) + 1
    top_prior = np.flatnonzero(ok & (p[:, 0] >= np.max(np.where(ok, p[:, 0], -np.inf)) - 1e-12))
    at_zero = (float(np.mean(t[top_prior] >= best - 1e-12)), float(np.mean(100.0 * (best - t[top_prior]))))
    top = max(budgets)
    records = []
    for strategy in strategies:
        grades = np.zeros((repeats, len(budgets), 2))
        estimates = np.full((repeats, len(budgets), 4), np.nan)  # error, coverage, width, pick error
        for r in range(repeats):
            sim = simulate(
                pred,
                labels,
                p[:, 0],
                top,
                strategy,
                seed + r,
                prior_interval=p[:, 1:3],
                level=level,
                n_classes=c,
                recommendable=ok,
                common_share=common_share,
            )
            for k, b in enumerate(budgets):
                step = min(b, len(sim.best) - 1)
                pick = sim.best[step]
                grades[r, k] = at_zero if b == 0 else (float(t[pick] >= best - 1e-12), 100.0 * (best - t[pick]))
                estimates[r, k] = _estimate_grades(sim, step, t, informed, top_prior if b == 0 else np.array([pick]))
        se = grades.std(axis=0, ddof=1) / np.sqrt(repeats) if repeats > 1 else np.zeros(grades.shape[1:])
        records += [
            {
                "strategy": strategy,
                "budget": int(b),
                "top1": float(grades[:, k, 0].mean()),
                "regret": float(grades[:, k, 1].mean()),
                "top1_se": float(se[k, 0]),
                "regret_se": float(se[k, 1]),
                "repeats": int(repeats),
                **dict(zip(ESTIMATE_KEYS, map(float, estimates[:, k].mean(axis=0)))),
            }
            for k, b in enumerate(budgets)
        ]
    return records


def _estimate_grades(
    sim: Any, step: int, truth: np.ndarray, informed: np.ndarray, picks: np.ndarray
) -> tuple[float, float, float, float]:
    """Error, coverage and width (over the `informed` models) of the loop's predicted accuracies after `step` labels,
    and the mean error of the pick(s)' (NaN when no model is informed)."""
    if not informed.any():
        return (np.nan,) * 4
    acc, low, high = sim.accuracy[step], sim.low[step], sim.high[step]
    i = np.flatnonzero(informed)
    err = 100.0 * np.abs(acc[i] - truth[i])
    cov = (low[i] <= truth[i] + 1e-12) & (truth[i] <= high[i] + 1e-12)
    pick = 100.0 * float(np.mean(np.abs(acc[picks] - truth[picks])))
    return float(err.mean()), float(cov.mean()), float(100.0 * np.mean(high[i] - low[i])), pick


def keep_predictions(search: Any, truth: dict[str, float]) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """What the curves need from a finished benchmark search, kept compactly: each graded candidate's predicted class
    per target row (int16) and the rows' true classes. Empty when the task makes several predictions per row (token
    classification) or the labels are not one class id per row."""
    target = search.target
    labels = None if target is None else target.labels
    try:
        labels = None if labels is None else np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError):
        labels = None
    if labels is None or labels.ndim != 1:
        return {}, None
    out = {}
    for cand in search.candidates:
        if cand.repo_id in truth and (pred := search.predictions(cand)) is not None and len(pred) == len(labels):
            out[cand.repo_id] = np.asarray(pred, dtype=np.int16)
    return (out, labels) if out else ({}, None)


def target_curves(
    t: Any, truth: dict[str, float], wl: Any, *, level: float = 0.9, common_share: float = 0.5
) -> list[dict[str, Any]]:
    """The budget curves of one benchmark target (a `TargetResult` whose ``auto`` scores and intervals are set), from
    the ``auto`` prediction of each candidate; empty when the workload's metric is not accuracy (the loop works in
    accuracy) or the predictions were not kept. `level` and `common_share`: those of the selector that made ``auto``."""
    if wl.metric != "accuracy" or not t.predictions or t.labels is None:
        return []
    models = [m for m in truth if m in t.predictions]
    auto, interval = t.scores.get("auto", {}), t.intervals.get("auto", {})
    prior = np.array(
        [[auto[m], *interval[m]] if auto.get(m) is not None and m in interval else [np.nan] * 3 for m in models],
        dtype=np.float64,
    )
    pred = np.stack([t.predictions[m] for m in models], axis=1).astype(np.int64)
    return budget_curve(
        pred,
        t.labels,
        prior,
        np.array([truth[m] for m in models]),
        seed=wl.seed,
        level=level,
        n_classes=max(len(wl.label_names), int(pred.max()) + 1, int(t.labels.max()) + 1),
        common_share=common_share,
    )


def curves_note(wl: Any, targets: Sequence[Any]) -> str:
    """Why a workload has no budget curves (empty when it has them)."""
    if wl.metric != "accuracy":
        return (
            f"not computed: the label loop updates accuracy, and this workload is graded on {wl.metric} "
            "(a label budget is refused with --metric f1 for the same reason)"
        )
    if not any(t.curves for t in targets):
        return "not computed: the task makes several predictions per row (not supported by the label loop)"
    return ""


def mean_curves(per_target: Sequence[Sequence[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The curves averaged over targets (standard errors across targets); targets without curves are left out."""
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for records in per_target:
        for rec in records:
            groups.setdefault((rec["strategy"], rec["budget"]), []).append(rec)
    out = []
    for (strategy, budget), recs in groups.items():
        top1 = np.array([r["top1"] for r in recs])
        regret = np.array([r["regret"] for r in recs])
        n = len(recs)
        se = [float(a.std(ddof=1) / np.sqrt(n)) if n > 1 else 0.0 for a in (top1, regret)]
        out.append(
            {
                "strategy": strategy,
                "budget": budget,
                "top1": float(top1.mean()),
                "regret": float(regret.mean()),
                "top1_se": se[0],
                "regret_se": se[1],
                "n_targets": n,
                **{key: _nanmean([r.get(key, np.nan) for r in recs]) for key in ESTIMATE_KEYS},
            }
        )
    return out


#: What `budget_curve` grades of the loop's predicted accuracies.
ESTIMATE_KEYS = ("error", "coverage", "width", "pick_error")


def _nanmean(values: Sequence[float]) -> float:
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    return float(v.mean()) if len(v) else float("nan")


def _cell(records: Sequence[dict[str, Any]], strategy: str, budget: int, key: str, digits: int) -> str:
    rec = next((r for r in records if r["strategy"] == strategy and r["budget"] == budget), None)
    value = None if rec is None else rec.get(key)
    return "–" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def curves_table(
    records: Sequence[dict[str, Any]], budgets: Sequence[int] = DEFAULT_BUDGETS, metric: str = "accuracy"
) -> list[str]:
    """Markdown lines: one row per strategy, top-1 and regret at each budget."""
    strategies = [s for s in STRATEGIES if any(r["strategy"] == s for r in records)]
    head = (
        "| rows labeled | "
        + " | ".join(f"top-1 @{b}" for b in budgets)
        + " | "
        + " | ".join(f"regret @{b}" for b in budgets)
        + " |"
    )
    lines = [head, "|---|" + "---:|" * (2 * len(budgets))]
    for s in strategies:
        lines.append(
            f"| {_strategy_name(s)} | "
            + " | ".join(_cell(records, s, b, "top1", 2) for b in budgets)
            + " | "
            + " | ".join(_cell(records, s, b, "regret", 1) for b in budgets)
            + " |"
        )
    if not any(np.isfinite(r.get("error", np.nan)) for r in records):
        return lines
    lines += [
        "",
        f"The predicted {metric} after each budget (the candidates with a label-free prediction): mean absolute error "
        "(points) / share of true values inside the 90% interval.",
        "",
        "| rows labeled | " + " | ".join(f"@{b}" for b in budgets) + " |",
        "|---|" + "---:|" * len(budgets),
    ]
    for s in strategies:
        cells = [f"{_cell(records, s, b, 'error', 1)} / {_cell(records, s, b, 'coverage', 2)}" for b in budgets]
        lines.append(f"| {_strategy_name(s)} | " + " | ".join(cells) + " |")
    return lines


def _strategy_name(strategy: str) -> str:
    return "informative (the label loop)" if strategy == "informative" else "uniform random"


def plot_budget_curves(
    panels: Sequence[tuple[str, Sequence[dict[str, Any]]]], path: str | Path, metric: str = "accuracy"
) -> Path:
    """Top-1 and regret against the label budget, one column per panel (a workload's mean, or a pool), one line per
    strategy with standard-error bars (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(panels), figsize=(4.2 * len(panels), 6.2), squeeze=False)
    for j, (title, records) in enumerate(panels):
        for strategy in STRATEGIES:
            recs = sorted((r for r in records if r["strategy"] == strategy), key=lambda r: r["budget"])
            if not recs:
                continue
            x = [r["budget"] for r in recs]
            for i, key in enumerate(("top1", "regret")):
                axes[i, j].errorbar(
                    x,
                    [r[key] for r in recs],
                    yerr=[r[f"{key}_se"] for r in recs],
                    marker="o",
                    capsize=3,
                    label="label loop" if strategy == "informative" else "uniform rows",
                )
        axes[0, j].set_title(title, fontsize=10)
        axes[0, j].set_ylabel("top-1")
        axes[0, j].set_ylim(-0.05, 1.05)
        axes[1, j].set_ylabel(f"regret ({metric}, points)")
        axes[1, j].set_xlabel("labels")
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
