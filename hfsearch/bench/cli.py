"""``hfsearch bench WORKLOAD… --output DIR``: the command-line shell over `hfsearch.bench.run` (no logic of its own).

With one workload, its report goes to ``DIR``; with several (or ``--fit-selector``), each goes to ``DIR/<name>``.
``--fit-selector`` then fits the default pick (`hfsearch.select.Selector`) on all of them, writes it into the package
and regrades ``auto`` on every workload with the selector fitted on the others (leave-one-workload-out).

Wired into ``hfsearch/cli.py`` with `add_bench_parser` (the parser) and `bench_command` (the handler).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

FORMATS = ("table", "json", "markdown")


def add_bench_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``bench`` sub-command to an argparse `subparsers` object; returns its parser."""
    p = subparsers.add_parser(
        "bench",
        help="grade the scorers on workloads with known labels (zoo, regret, top-1, Kendall tau, estimator error)",
        description="Build each workload's model zoo (cached), rank it for every target with the labels hidden, then "
        "grade each scorer against the true metric: regret, top-1, Kendall tau, Spearman rho, and the "
        "absolute error and interval coverage of the accuracy estimators. Writes results.json, report.md "
        "and plots/ under --output (under --output/<name> with several workloads).",
    )
    p.add_argument("workload", nargs="+", help="workload YAML file(s) (see benchmarks/README.md)")
    p.add_argument("--output", "-o", required=True, help="folder for results.json, report.md and plots/")
    p.add_argument("--format", choices=FORMATS, default="table", help="what is printed on stdout (default: table)")
    p.add_argument("--rebuild", action="store_true", help="retrain every candidate of the zoo")
    p.add_argument("--zoo-dir", help="local registry holding the zoo (one workload; default: HF assets cache)")
    p.add_argument("--zoo-root", help="folder holding one zoo per workload, in <zoo-root>/<workload name>")
    p.add_argument("--cache-dir", help="model-output cache of the searches (default: hfsearch's)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--device", choices=["cpu", "auto"], default="auto", help="'cpu' forces the CPU")
    p.add_argument(
        "--fit-selector",
        action="store_true",
        help="fit the default pick (--rank-by auto) on these workloads and write it into the package",
    )
    p.add_argument("--selector-out", help="where --fit-selector writes the selector (default: the package's file)")
    p.add_argument(
        "--push-to-hub",
        metavar="ORG/NAME",
        help="also write the results (results.json, report.md, plots, card) to this dataset repository",
    )
    p.set_defaults(func=bench_command)
    return p


def bench_command(args: argparse.Namespace) -> int:
    """Run ``hfsearch bench``; returns the exit status (errors are raised as `HFSearchError` for the CLI to print)."""
    from ..cli import quiet_third_party
    from ..errors import HFSearchError
    from ..output import emit, err
    from .pools import load_pools_workload, pools_markdown, run_pools_benchmark, write_pools_report
    from .report import to_json, to_markdown, write_report
    from .run import grade, run_benchmark
    from .workload import load_workload

    pool_workloads, workloads = [], []  # every check before any training
    for w in args.workload:
        pools = load_pools_workload(w)
        if pools is not None:
            pool_workloads.append(pools)
        else:
            workloads.append(load_workload(w))
    several = len(workloads) + len(pool_workloads) > 1 or args.fit_selector
    if args.zoo_dir and len(workloads) > 1:
        raise HFSearchError("--zoo-dir names one zoo: with several workloads use --zoo-root.")
    quiet_third_party()  # per-file bars of saving/loading checkpoints are noise here
    human = args.format == "table"
    results = []
    for wl in workloads:
        zoo = args.zoo_dir or (str(Path(args.zoo_root) / wl.name) if args.zoo_root else None)
        result = run_benchmark(
            wl,
            zoo_dir=zoo,
            rebuild=args.rebuild,
            cache_dir=args.cache_dir,
            device="cpu" if args.device == "cpu" else None,
            log=err if human else (lambda _line: None),
            progress=human,
        )
        results.append(result)
        write_report(result, Path(args.output) / wl.name if several else args.output, plots=not args.no_plots)
    selector = None
    if args.fit_selector:
        from ..select import Selector
        from ..select.fit import rows_from_targets
        from ..select.selector import DEFAULT_PATH
        from .pools import pool_rows

        rows = [row for r in results for row in rows_from_targets(r.workload.name, r.workload.metric, r.targets)]
        rows += [row for pw in pool_workloads for row in pool_rows(pw)]
        selector = Selector.fit(
            rows,
            workloads={
                **{
                    r.workload.name: {"file": str(r.workload.file), "fingerprint": r.workload.fingerprint()}
                    for r in results
                },
                **{
                    name: {"file": str(path), "kind": "prediction pool"}
                    for pw in pool_workloads
                    for name, path in pw.pools.items()
                    if path.is_file()
                },
            },
            command="hfsearch bench --fit-selector " + " ".join(args.workload),
        )
        path = selector.save(args.selector_out or DEFAULT_PATH)
        err(f"selector fitted on {len(selector.rows)} rows of {len(selector.workloads)} workloads: {path}")
        for result in results:  # leave-one-workload-out grades of auto with the new selector
            grade(result, selector.without(result.workload.name))
            write_report(result, Path(args.output) / result.workload.name, plots=not args.no_plots)
    pool_results = []
    for pw in pool_workloads:
        pool_result = run_pools_benchmark(pw, log=err if human else None, warn=err, selector=selector)
        pool_results.append(pool_result)
        write_pools_report(
            pool_result, Path(args.output) / pw.name if several else args.output, plots=not args.no_plots
        )
    if args.fit_selector:
        from ..select.report import lowo_table

        table = Path(args.output) / "selector.md"
        table.write_text("## The default pick, leave-one-workload-out\n\n" + lowo_table(results), encoding="utf-8")
        err(f"leave-one-workload-out table: {table}")
    if args.push_to_hub:
        import sys

        from ..hub.push import push_bench

        for result in results:
            folder = Path(args.output) / result.workload.name if several else Path(args.output)
            repo = args.push_to_hub if len(results) == 1 else f"{args.push_to_hub}-{result.workload.name}"
            commit = push_bench(folder, repo, command=["hfsearch", *sys.argv[1:]])
            err(f"pushed to {commit.repo_url}")
    if args.format == "json":
        import json

        texts = [to_json(r) for r in results] + [json.dumps(p.to_dict(), indent=2, default=float) for p in pool_results]
        emit(texts[0] if len(texts) == 1 else "[" + ",\n".join(texts) + "]")
    elif args.format == "markdown":
        emit("\n\n".join([to_markdown(r) for r in results] + [pools_markdown(p) for p in pool_results]))
    else:
        for result in results:
            _show(result, args.output)
        for pool_result in pool_results:
            _show_pools(pool_result, args.output)
    return 0


def _show_pools(result: Any, output: str) -> None:
    from ..output import show_table
    from ..render import Column, Table

    rows = []
    for p in result.pools:
        at = {(r["strategy"], r["budget"]): r["regret"] for r in p.curves}
        for r in p.label_free:
            rows.append(
                {
                    "pool": p.name,
                    "pick": r["method"],
                    "regret": r["regret"],
                    "top-1": r["top1"],
                    "kendall tau": r["kendall_tau"],
                }
            )
        for strategy in ("informative", "uniform"):
            if (strategy, 20) in at:
                rows.append(
                    {
                        "pool": p.name,
                        "pick": f"{strategy} rows, 20 labels",
                        "regret": at[(strategy, 20)],
                        "top-1": next(r["top1"] for r in p.curves if r["strategy"] == strategy and r["budget"] == 20),
                        "kendall tau": None,
                    }
                )
    columns = [
        Column("pool", kind="id", keep=True),
        Column("pick", kind="text", keep=True),
        Column("regret", kind="score"),
        Column("top-1", kind="score"),
        Column("kendall tau", kind="score"),
    ]
    show_table(
        Table(
            columns,
            rows,
            title=f"hfsearch bench · {result.workload.name} · {len(result.pools)} pools · regret in accuracy points",
            caption=f"written under {output}",
            notes=[f"skipped {k}: {v}" for k, v in result.skipped.items()],
        ),
        "table",
    )


def _show(result: Any, output: str) -> None:
    from ..output import show_table
    from ..render import Column, Table

    wl = result.workload
    rows = [
        {
            "rank": s.rank,
            "scorer": s.scorer,
            "kind": s.kind,
            "regret": s.regret[0],
            "regret CI": s.regret[1:],
            "top-1": s.top1[0],
            "kendall tau": s.kendall_tau[0],
            "tau CI": s.kendall_tau[1:],
            "abs. error": s.abs_error[0],
            "interval coverage": s.interval_coverage,
            "interval width": s.interval_width,
            "coverage": s.coverage,
        }
        for s in result.summaries
    ]
    columns = [
        Column("rank", kind="int", keep=True),
        Column("scorer", kind="id", keep=True),
        Column("kind"),
        Column("regret", kind="score"),
        Column("regret CI", kind="interval"),
        Column("top-1", kind="score"),
        Column("kendall tau", kind="score"),
        Column("tau CI", kind="interval"),
        Column("abs. error", kind="score"),
        Column("interval coverage", kind="percent"),
        Column("interval width", kind="score"),
        Column("coverage", kind="score"),
    ]
    show_table(
        Table(
            columns,
            rows,
            title=f"hfsearch bench · {wl.name} · {len(result.targets)} targets · regret and "
            f"abs. error in {wl.metric} points (lower is better)",
            highlight={0},
            caption=f"written under {output}",
        ),
        "table",
    )
