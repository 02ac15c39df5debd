"""Ablation of the default pick: which features the selector combines, graded leave-one-workload-out.

Reads the ``results.json`` of ``hfsearch bench`` runs (every scorer's value for every candidate and target, and the
truth), then, for each feature set below, fits the selector on all workloads but one and grades it on that one
(regret, top-1, Kendall τ, absolute error, interval coverage), for every workload. Nothing is run again.

    python bench/selector_study.py bench-out/sentiment bench-out/entity-matching ... \
        --out bench/results/selector_study.md
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from hfsearch.bench.metrics import kendall_tau, regret, top1
from hfsearch.select.selector import ABSOLUTE, ESTIMATORS, RELATIVE, Row, Selector

CONFIGS: dict[str, dict] = {
    "direct: estimators only": dict(estimators=ESTIMATORS, relative=(), absolute=(), model="direct"),
    "direct: + relative + coverage": dict(estimators=ESTIMATORS, relative=RELATIVE, absolute=ABSOLUTE, model="direct"),
    "within: estimators only": dict(estimators=ESTIMATORS, relative=(), absolute=(), model="within"),
    "within: + relative similarity": dict(estimators=ESTIMATORS, relative=RELATIVE, absolute=(), model="within"),
    "within: + relative + coverage, conservative level, all metrics (default)": dict(
        estimators=ESTIMATORS, relative=RELATIVE, absolute=ABSOLUTE, model="within"),
    "within: + relative + coverage, learnt level, all metrics": dict(
        estimators=ESTIMATORS, relative=RELATIVE, absolute=ABSOLUTE, model="within", level_rule="learnt"),
    "within: + relative + coverage, conservative level, per metric": dict(
        estimators=ESTIMATORS, relative=RELATIVE, absolute=ABSOLUTE, model="within", per_metric=True),
    "within: + relative + coverage, learnt level, per metric (the previous default)": dict(
        estimators=ESTIMATORS, relative=RELATIVE, absolute=ABSOLUTE, model="within", level_rule="learnt",
        per_metric=True),
    "the previous default, nuclear norm uncalibrated (the default two turns ago)": dict(
        estimators=ESTIMATORS, relative=tuple((n.replace("nuclear_norm_cal", "nuclear_norm"), s) for n, s in RELATIVE),
        absolute=ABSOLUTE, model="within", level_rule="learnt", per_metric=True),
}


def load(folder: Path) -> tuple[str, str, list[Row]]:
    data = json.loads((folder / "results.json").read_text())
    wl = data["workload"]
    rows = []
    for t in data["targets"]:
        for model, truth in t["truth"][wl["metric"]].items():
            values = {k: v[model] for k, v in t["scores"].items()
                      if v.get(model) is not None and k != "auto" and np.isfinite(v[model])}
            rows.append(Row(wl["name"], t["target"], model, values, float(truth), wl["metric"]))
    return wl["name"], wl["metric"], rows


def grade(rows: list[Row], config: dict) -> dict[str, dict[str, float]]:
    sel = Selector.fit(rows, **config)
    out = {}
    for wl in sel.workloads:
        other = sel.without(wl)
        by_target: dict[str, list[Row]] = {}
        for r in rows:
            if r.workload == wl:
                by_target.setdefault(r.target, []).append(r)
        reg, top, tau, err, cov, width = [], [], [], [], [], []
        for target_rows in by_target.values():
            preds = other.predict([r.values for r in target_rows], metric=target_rows[0].metric)
            scores = {r.model: (p.value if p else None) for r, p in zip(target_rows, preds)}
            truth = {r.model: r.truth for r in target_rows}
            reg.append(regret(scores, truth))
            top.append(top1(scores, truth))
            tau.append(kendall_tau(scores, truth))
            for r, p in zip(target_rows, preds):
                if p is not None:
                    err.append(100 * abs(p.value - r.truth))
                    cov.append(p.low <= r.truth <= p.high)
                    width.append(100 * (p.high - p.low))

        def mean(v: list) -> float:
            v = [x for x in v if x is not None]
            return float(np.mean(v)) if v else float("nan")

        out[wl] = {"regret": mean(reg), "top1": mean(top), "tau": mean(tau), "error": mean(err), "coverage": mean(cov),
                   "width": mean(width)}
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("folders", nargs="+", help="hfsearch bench --output folders (each with results.json)")
    p.add_argument("--out", default="bench/results/selector_study.md")
    args = p.parse_args()
    rows: list[Row] = []
    for folder in args.folders:
        rows += load(Path(folder))[2]
    names = sorted({r.workload for r in rows})
    lines = ["| features | " + " | ".join(names) + " | mean regret | mean abs. error | mean coverage | mean width |",
             "|---|" + "---:|" * (len(names) + 4)]
    for label, config in CONFIGS.items():
        g = grade(rows, config)
        cells = [f"{g[n]['regret']:.1f} / {g[n]['error']:.1f} / {g[n]['coverage']:.2f}" for n in names]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {np.mean([g[n]['regret'] for n in names]):.1f} | "
                     f"{np.nanmean([g[n]['error'] for n in names]):.1f} | "
                     f"{np.nanmean([g[n]['coverage'] for n in names]):.2f} | "
                     f"{np.nanmean([g[n]['width'] for n in names]):.0f} |")
    text = ("## The default pick: which features (`bench/selector_study.py`)\n\nEach cell: regret (points) / absolute "
            "error of the predicted metric (points) / 90% interval coverage, and the mean interval width in points, on a workload the selector was NOT "
            "fitted on (leave-one-workload-out).\n\n" + "\n".join(lines) + "\n")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
