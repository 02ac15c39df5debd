"""``hfsearch bench WORKLOAD --output DIR``: the command-line shell over `hfsearch.bench.run` (no logic of its own).

Wired into ``hfsearch/cli.py`` with `add_bench_parser` (the parser) and `bench_command` (the handler).
"""

from __future__ import annotations

import argparse
from typing import Any

FORMATS = ("table", "json", "markdown")


def add_bench_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``bench`` sub-command to an argparse `subparsers` object; returns its parser."""
    p = subparsers.add_parser(
        "bench",
        help="grade the scorers on a workload with known labels (zoo, regret, top-1, Kendall tau)",
        description="Build the workload's model zoo (cached), rank it for every target with the labels hidden, then "
                    "grade each scorer against the true accuracy: regret, top-1, Kendall tau, Spearman rho. Writes "
                    "results.json, report.md and plots/ under --output.",
    )
    p.add_argument("workload", help="workload YAML file (see benchmarks/README.md)")
    p.add_argument("--output", "-o", required=True, help="folder for results.json, report.md and plots/")
    p.add_argument("--format", choices=FORMATS, default="table", help="what is printed on stdout (default: table)")
    p.add_argument("--rebuild", action="store_true", help="retrain every candidate of the zoo")
    p.add_argument("--zoo-dir", help="local registry holding the zoo (default: HF assets cache, bench/<workload>)")
    p.add_argument("--cache-dir", help="model-output cache of the searches (default: hfsearch's)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--device", choices=["cpu", "auto"], default="auto", help="'cpu' forces the CPU")
    p.set_defaults(func=bench_command)
    return p


def bench_command(args: argparse.Namespace) -> int:
    """Run ``hfsearch bench``; returns the exit status (errors are raised as `HFSearchError` for the CLI to print)."""
    from ..output import emit, err, show_table
    from ..render import Column, Table
    from .report import to_json, to_markdown, write_report
    from .run import run_benchmark
    from .workload import load_workload
    from ..cli import quiet_third_party

    wl = load_workload(args.workload)  # every check before any training
    quiet_third_party()  # per-file bars of saving/loading checkpoints are noise here
    human = args.format == "table"
    result = run_benchmark(
        wl, zoo_dir=args.zoo_dir, rebuild=args.rebuild, cache_dir=args.cache_dir,
        device="cpu" if args.device == "cpu" else None, log=err if human else (lambda _line: None), progress=human,
    )
    paths = write_report(result, args.output, plots=not args.no_plots)
    if args.format == "json":
        emit(to_json(result))
    elif args.format == "markdown":
        emit(to_markdown(result))
    else:
        rows = [{"rank": s.rank, "scorer": s.scorer, "kind": s.kind, "regret": s.regret[0],
                 "regret CI": s.regret[1:], "top-1": s.top1[0], "kendall tau": s.kendall_tau[0],
                 "tau CI": s.kendall_tau[1:], "spearman": s.spearman_rho[0], "coverage": s.coverage}
                for s in result.summaries]
        columns = [Column("rank", kind="int", keep=True), Column("scorer", kind="id", keep=True), Column("kind"),
                   Column("regret", kind="score"), Column("regret CI", kind="interval"), Column("top-1", kind="score"),
                   Column("kendall tau", kind="score"), Column("tau CI", kind="interval"),
                   Column("spearman", kind="score"), Column("coverage", kind="score")]
        show_table(Table(columns, rows, title=f"hfsearch bench · {wl.name} · {len(result.targets)} targets · regret "
                                              f"in {wl.metric} points (lower is better)", highlight={0},
                         caption=f"written: {', '.join(str(p) for p in paths[:2])} and plots/"), "table")
    return 0
