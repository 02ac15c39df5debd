"""``hfsearch rank-outputs FILE.npz``: rank models from predictions they already made (`hfsearch.pools.rank_outputs`).

The command-line shell only: the file is validated by `hfsearch.pools.load_pool` (every problem is one line and exit
status 2), the ranking is rendered through the one `Table` schema like every other result.

Wired into ``hfsearch/cli.py`` with `add_rank_outputs_parser`.
"""

from __future__ import annotations

import argparse
from typing import Any

from .render import FORMATS, Column, Table


def add_rank_outputs_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``rank-outputs`` sub-command to an argparse `subparsers` object; returns its parser."""
    p = subparsers.add_parser(
        "rank-outputs",
        help="rank models from their recorded predictions (.npz), label-free or with a few labels",
        description="Rank models from predictions they already made on one dataset (an .npz with 'predictions': rows × "
        "models class ids or rows × models × classes probabilities; optional 'labels' and 'models'). "
        "Label-free by default (Dawid-Skene consensus of the pool, agreement with the majority vote, clone "
        "groups and label-permutation flags); with --label-budget N and 'labels' in the file, at most N "
        "labels are revealed, on the rows chosen by the label loop.",
    )
    p.add_argument("file", help="the .npz predictions file")
    p.add_argument(
        "--label-budget",
        type=int,
        default=0,
        metavar="N",
        help="labels the loop may reveal from the file's 'labels' (default: 0, label-free)",
    )
    p.add_argument(
        "--strategy",
        choices=("informative", "uniform"),
        default="informative",
        help="how the loop chooses rows: informative (default) or uniform (random rows, the baseline)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the loop's random choices (default: 0)")
    p.add_argument("--top", type=int, default=None, metavar="K", help="show only the K best models")
    p.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    p.add_argument("--output", "-o", help="write the result to this file instead of stdout (table → markdown)")
    p.set_defaults(func=rank_outputs_command)
    return p


def ranking_table(ranking: Any, top: int | None = None) -> Table:
    """A `PoolRanking` as a `Table` (best first)."""
    frame = ranking.frame
    rows = frame.head(top).to_dict(orient="records") if top else frame.to_dict(orient="records")
    for row in rows:
        row["interval"] = (row["low"], row["high"])
        row["permuted"] = bool(row["permuted"])
    cols = [
        Column("rank", kind="int", keep=True),
        Column("model", kind="id", keep=True),
        Column("predicted_accuracy", title="predicted accuracy", kind="metric", higher_is_better=True, mark="★"),
        Column("interval", title="90% interval", kind="interval"),
        Column("p_best", title="P(best)", kind="percent"),
        Column("agreement", kind="score", higher_is_better=True, description="agreement with the pool's majority vote"),
    ]
    if "confidence" in frame:
        cols += [
            Column("confidence", kind="score", higher_is_better=True),
            Column("entropy", kind="score", higher_is_better=False),
        ]
    cols += [
        Column("clone_group", title="clone group", kind="int"),
        Column("permuted", kind="text"),
        Column("label_mapping", title="label mapping", kind="text"),
    ]
    labels = f"{ranking.labels_used} label(s) revealed" if ranking.labels_used else "label-free"
    best = next((r for r in frame.to_dict(orient="records") if r["model"] == ranking.best), None)
    caption = f"recommended: {ranking.best}"
    if best is not None:
        caption += (
            f" — predicted accuracy {best['predicted_accuracy']:.3f} (90% interval {best['low']:.3f}–"
            f"{best['high']:.3f}), P(best) {best['p_best']:.0%}"
        )
    fit = "" if ranking.consensus_fit is None else f" · the fit explains {ranking.consensus_fit:.0%} of their agreement"
    return Table(
        columns=cols,
        rows=rows,
        title=f"{ranking.method} · {labels} · {len(frame)} models" + fit,
        caption=caption,
        notes=list(ranking.warnings),
        highlight={i for i, r in enumerate(rows) if r["model"] == ranking.best},
    )


def rank_outputs_command(args: argparse.Namespace) -> int:
    """Run ``hfsearch rank-outputs``; returns the exit status (bad input is raised as `HFSearchError`)."""
    from .errors import HFSearchError
    from .output import emit, show_table
    from .pools import load_pool, rank_outputs

    if args.label_budget < 0:
        raise HFSearchError(f"--label-budget must be at least 0 (got {args.label_budget}).")
    if args.top is not None and args.top < 1:
        raise HFSearchError(f"--top must be at least 1 (got {args.top}).")
    pool = load_pool(args.file)
    if args.label_budget and pool.labels is None:
        raise HFSearchError(
            f"{pool.source}: --label-budget {args.label_budget} reveals labels from the file's 'labels' "
            "array, which it does not have (add it, or drop --label-budget)."
        )
    ranking = rank_outputs(
        pool.probabilities if pool.probabilities is not None else pool.predictions,
        pool.labels,
        pool.models,
        n_classes=pool.n_classes,
        label_budget=args.label_budget,
        strategy=args.strategy,
        seed=args.seed,
    )
    if args.format == "json":
        import json

        data = ranking.to_dict()
        data["ranking"] = data["ranking"][: args.top] if args.top else data["ranking"]
        emit(json.dumps(data, indent=2, default=_jsonable), args.output)
    else:
        show_table(ranking_table(ranking, args.top), args.format, args.output)
    return 0


def _jsonable(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    return str(value)
