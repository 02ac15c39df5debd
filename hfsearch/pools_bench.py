"""Grade label-free and label-budget model selection on prediction pools that carry labels.

For each pool: the label-free pick of the consensus (`rank_outputs`) and of agreement with the majority vote are
graded against the measured accuracies (regret in points, top-1, Kendall tau; `hfsearch.bench.metrics`), with a
random pick as the reference; then the label loop runs from the consensus estimate with labels revealed up to each
budget, for the informative strategy and for uniformly random rows, averaged over seeded repetitions. A third curve,
"labels only", picks the model most often right on the uniform rows (ties: the consensus' choice), i.e. what the
labels say without any label-free estimate.

    python -m hfsearch.pools_bench ../shared/data/pools/glue_rte.npz --repeats 20 --out reports/pools
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .bench.metrics import evaluate_scorer, random_outcome
from .consensus.selection import Strategy, simulate
from .errors import HFSearchError
from .pools import Pool, load_pool, majority_agreement, markdown_table, rank_outputs

DEFAULT_BUDGETS = (0, 10, 20, 50)


@dataclass
class PoolBenchResult:
    """Grades of one pool.

    Attributes:
        name (`str`): the pool (file name).
        n_rows, n_models (`int`): its size.
        label_free (`pandas.DataFrame`): one row per method (consensus, agreement, random): regret, top1,
            kendall_tau, chosen.
        curves (`pandas.DataFrame`): one row per (strategy, budget): mean top1, mean regret and their standard errors
            over the repetitions.
        repeats (`int`): repetitions per strategy.
    """

    name: str
    n_rows: int
    n_models: int
    label_free: pd.DataFrame
    curves: pd.DataFrame
    repeats: int
    method: str = ""
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "n_rows": self.n_rows,
            "n_models": self.n_models,
            "repeats": self.repeats,
            "method": self.method,
            "label_free": self.label_free.to_dict(orient="records"),
            "curves": self.curves.to_dict(orient="records"),
            "notes": self.notes,
        }


def _outcome_row(method: str, scores: dict[str, float], truth: dict[str, float]) -> dict[str, object]:
    o = evaluate_scorer(scores, truth)
    return {
        "method": method,
        "regret": o.regret,
        "top1": o.top1,
        "kendall_tau": o.kendall_tau,
        "chosen": ", ".join(o.chosen),
    }


def bench_pool(
    pool: Pool | str | Path,
    *,
    budgets: Sequence[int] = DEFAULT_BUDGETS,
    repeats: int = 20,
    seed: int = 0,
    strategies: Sequence[Strategy] = ("informative", "uniform"),
) -> PoolBenchResult:
    """Grade the label-free picks and the label-budget curves of one pool.

    Args:
        pool (`Pool`, `str` or `Path`): a pool with labels, or its ``.npz`` file.
        budgets (`Sequence[int]`, *optional*): label budgets at which the pick is graded (0 = label-free).
        repeats (`int`, *optional*, defaults to 20): seeded repetitions per strategy (seeds ``seed … seed+repeats-1``).
        seed (`int`, *optional*, defaults to 0): first seed.
        strategies (`Sequence[str]`, *optional*): row-choice strategies of the label loop.

    Returns:
        `PoolBenchResult`: the label-free table and the curves.
    """
    if not isinstance(pool, Pool):
        pool = load_pool(pool)
    acc = pool.accuracies()
    truth = dict(zip(pool.models, acc.astype(float)))
    best_acc = float(acc.max())
    ranking = rank_outputs(
        pool.probabilities if pool.probabilities is not None else pool.predictions,
        models=pool.models,
        n_classes=pool.n_classes,
        seed=seed,
    )
    frame = ranking.frame.set_index("model").loc[pool.models]
    prior = frame["predicted_accuracy"].to_numpy(float)
    recommendable = frame["recommendable"].to_numpy(bool)
    consensus_scores = {m: (float(v) if ok else None) for m, v, ok in zip(pool.models, prior, recommendable)}
    rows = [
        _outcome_row(f"consensus ({ranking.method})", consensus_scores, truth),  # type: ignore[arg-type]
        _outcome_row("agreement (majority vote)", dict(zip(pool.models, majority_agreement(pool.predictions))), truth),
    ]
    rnd = random_outcome(truth)
    rows.append({"method": "random pick", "regret": rnd.regret, "top1": rnd.top1, "kendall_tau": 0.0, "chosen": ""})
    label_free = pd.DataFrame(rows)

    top_budget = max(budgets)
    records: list[dict[str, object]] = []
    labels_only: list[list[tuple[float, float]]] = []
    for strategy in strategies:
        per_rep = []
        for r in range(repeats):
            sim = simulate(
                pool.predictions,
                pool.gold(),
                prior,
                top_budget,
                strategy,
                seed + r,
                recommendable=recommendable,
                n_classes=pool.n_classes,
            )
            per_rep.append(
                [
                    (
                        float(acc[sim.best[min(b, len(sim.best) - 1)]] >= best_acc - 1e-12),
                        100.0 * (best_acc - float(acc[sim.best[min(b, len(sim.best) - 1)]])),
                    )
                    for b in budgets
                ]
            )
            if strategy == "uniform":
                labels_only.append(
                    [_labels_only_pick(pool, sim.rows[:b], prior, recommendable, acc, best_acc) for b in budgets]
                )
        records += _curve_records(strategy, budgets, per_rep)
    if labels_only:
        records += _curve_records("labels only (uniform rows)", budgets, labels_only)
    return PoolBenchResult(
        pool.source,
        pool.n_rows,
        len(pool.models),
        label_free,
        pd.DataFrame(records),
        repeats,
        ranking.method,
        ranking.warnings,
    )


def _labels_only_pick(
    pool: Pool, rows: list[int], prior: np.ndarray, ok: np.ndarray, acc: np.ndarray, best_acc: float
) -> tuple[float, float]:
    correct = (pool.predictions[rows] == pool.gold()[rows, None]).sum(axis=0) if rows else np.zeros(len(prior))
    key = np.where(ok, correct + 1e-6 * prior, -np.inf)  # ties: the consensus' order
    pick = int(np.argmax(key))
    return float(acc[pick] >= best_acc - 1e-12), 100.0 * (best_acc - float(acc[pick]))


def _curve_records(strategy: str, budgets: Sequence[int], per_rep: list[list[tuple[float, float]]]) -> list[dict]:
    arr = np.asarray(per_rep, dtype=float)  # (repeats, budgets, 2)
    n = arr.shape[0]
    se = arr.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.zeros(arr.shape[1:])
    return [
        {
            "strategy": strategy,
            "budget": int(b),
            "top1": arr[:, k, 0].mean(),
            "top1_se": se[k, 0],
            "regret": arr[:, k, 1].mean(),
            "regret_se": se[k, 1],
        }
        for k, b in enumerate(budgets)
    ]


def to_markdown(results: Sequence[PoolBenchResult]) -> str:
    """Both tables of every pool, as markdown."""
    out = []
    for res in results:
        out.append(f"### {res.name} ({res.n_rows} rows, {res.n_models} models; label-free: {res.method})\n")
        out.append(markdown_table(res.label_free, 3) + "\n")
        wide = res.curves.pivot(index="strategy", columns="budget", values=["top1", "regret"])
        cols = [f"{v} @{b}" for v, b in wide.columns]
        flat = pd.DataFrame(wide.to_numpy(), columns=cols)
        flat.insert(0, "strategy", wide.index)
        out.append(f"Label budget curves (mean of {res.repeats} seeded repetitions; regret in points):\n")
        out.append(markdown_table(flat, 2) + "\n")
        out.extend(f"- {note}" for note in res.notes)
    return "\n".join(out)


def plot_curves(results: Sequence[PoolBenchResult], path: str | Path) -> Path:
    """Top-1 and regret against the label budget, one column per pool, one line per strategy (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(results), figsize=(4.2 * len(results), 6.5), squeeze=False)
    for j, res in enumerate(results):
        for strategy, g in res.curves.groupby("strategy", sort=False):
            for i, metric in enumerate(("top1", "regret")):
                ax = axes[i, j]
                ax.errorbar(g["budget"], g[metric], yerr=g[f"{metric}_se"], marker="o", capsize=3, label=strategy)
                ax.set_xlabel("labels")
                ax.set_ylabel("top-1" if metric == "top1" else "regret (points)")
        axes[0, j].set_title(res.name)
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m hfsearch.pools_bench POOL.npz … [--repeats 20] [--budgets 0 10 20 50] [--out DIR]``."""
    parser = argparse.ArgumentParser(prog="python -m hfsearch.pools_bench", description=__doc__.splitlines()[0])
    parser.add_argument("pools", nargs="+", help=".npz prediction pools with labels")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--budgets", type=int, nargs="+", default=list(DEFAULT_BUDGETS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="folder for pools.md, pools.json and pools.png")
    args = parser.parse_args(argv)
    try:
        results = [bench_pool(p, budgets=args.budgets, repeats=args.repeats, seed=args.seed) for p in args.pools]
    except HFSearchError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    text = to_markdown(results)
    print(text)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "pools.md").write_text(text + "\n")
        (args.out / "pools.json").write_text(json.dumps([r.to_dict() for r in results], indent=2, default=float))
        plot_curves(results, args.out / "pools.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
