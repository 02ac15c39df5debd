"""Gather the label-budget curves of ``hfsearch bench`` output folders into one markdown section (stdout).

    python bench/label_budget.py bench-out/ci bench-out/digits bench-out/sentiment bench-out/pools \
        --plot bench/results/plots/label_budgets.png > bench/results/labels.md

Each folder is the ``--output`` of one workload (zoo or ``kind: pools``); its ``results.json`` holds the curves.
``--plot`` also draws every workload's (and pool's) curves side by side. The reading of the tables is hand-written in
``bench/results/labels_notes.md`` (assembled after them), so rerunning this script keeps it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

BUDGETS = (0, 10, 20, 50)


def _row(name: str, curves: list[dict], note: str = "") -> list[str]:
    at = {(r["strategy"], r["budget"]): r for r in curves}
    out = []
    for strategy, label in (("informative", "label loop"), ("uniform", "uniform rows")):
        cells = [f"{at[(strategy, b)]['top1']:.2f}" if (strategy, b) in at else "–" for b in BUDGETS]
        cells += [f"{at[(strategy, b)]['regret']:.1f}" if (strategy, b) in at else "–" for b in BUDGETS]
        out.append(f"| {name} | {label} | " + " | ".join(cells) + f" | {note} |")
        note = ""
    return out


def _estimate_row(name: str, curves: list[dict]) -> list[str]:
    """The predicted accuracy after each budget: absolute error (points) / coverage / width (points)."""
    at = {(r["strategy"], r["budget"]): r for r in curves}

    def cell(rec: dict | None) -> str:
        if rec is None or not isinstance(rec.get("error"), float) or rec["error"] != rec["error"]:
            return "–"
        return f"{rec['error']:.1f} / {rec['coverage']:.2f} / {rec['width']:.0f}"

    return [f"| {name} | {label} | " + " | ".join(cell(at.get((strategy, b))) for b in BUDGETS) + " |"
            for strategy, label in (("informative", "label loop"), ("uniform", "uniform rows"))]


def main(folders: list[str], plot: str | None = None) -> None:
    lines = [
        "## Label budgets: the label loop against uniform random rows (`hfsearch bench`, `bench/label_budget.py`)", "",
        ("Top-1 and regret (accuracy points) of the pick after 0, 10, 20 and 50 revealed labels: rows chosen by the "
         "label loop of `--label-budget` (where the leading candidates disagree, weighted by P(best)) or uniformly "
         "random rows at the same budget, each from the same label-free start; means over the targets of a zoo workload "
         "(each the mean of 10 seeded repetitions per strategy) or over 10 repetitions on a pool."), "",
        "| workload | rows | " + " | ".join(f"top-1 @{b}" for b in BUDGETS) + " | "
        + " | ".join(f"regret @{b}" for b in BUDGETS) + " | label-free start |",
        "|---|---|" + "---:|" * (2 * len(BUDGETS)) + "---|",
    ]
    panels = []
    estimates: list[str] = []
    for folder in folders:
        res = json.loads((Path(folder) / "results.json").read_text())
        wl = res["workload"]
        if wl.get("kind") == "pools":
            for pool in res["pools"]:
                lines += _row(f"{wl['name']}: {pool['name']} ({pool['n_models']} models)", pool["curves"], pool["prior"])
                estimates += _estimate_row(f"pools: {pool['name']}", pool["curves"])
                panels.append((f"pool {pool['name']}", pool["curves"]))
            lines += [f"| {wl['name']}: {name} | – | skipped: {why} |" for name, why in res.get("skipped", {}).items()]
            continue
        mean = res.get("budget_curves", {}).get("mean") or []
        if not mean:
            note = res.get("budget_curves", {}).get("note") or "not computed"
            lines.append(f"| {wl['name']} | – | {note} |")
            continue
        targets = len([t for t in res["targets"] if t.get("budget_curves")])
        start = "auto of the selector fitted without this workload; uninformative where it has no prediction"
        lines += _row(f"{wl['name']} ({targets} targets)", mean, start)
        estimates += _estimate_row(f"{wl['name']} ({targets} targets)", mean)
        panels.append((f"{wl['name']}: mean of {targets} targets", mean))
    if estimates:
        lines += [
            "", "The predicted accuracy after the same budgets, as the loop reports it (`--label-budget`): mean absolute "
            "error against the true accuracy (points) / share of true accuracies inside the 90% interval / mean interval "
            "width (points), over the candidates that have a label-free prediction (so @0 is the label-free `auto`).", "",
            "| workload | rows | " + " | ".join(f"@{b}" for b in BUDGETS) + " |", "|---|---|" + "---:|" * len(BUDGETS),
            *estimates,
        ]
    if plot and panels:
        from hfsearch.bench.curves import plot_budget_curves

        lines += ["", f"![label budget curves]({plot})"]
        plot_budget_curves(panels, plot)
    print("\n".join(lines))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Gather the label-budget curves of hfsearch bench outputs (markdown).")
    parser.add_argument("folders", nargs="+", help="--output folders of hfsearch bench (zoo or pools workloads)")
    parser.add_argument("--plot", help="also draw every workload's curves into this PNG")
    args = parser.parse_args()
    missing = [f for f in args.folders if not (Path(f) / "results.json").is_file()]
    if missing:
        parser.error(f"no results.json in {', '.join(missing)} (give the --output folders of hfsearch bench)")
    main(args.folders, args.plot)
