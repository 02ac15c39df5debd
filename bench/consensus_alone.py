"""A search whose candidates have consensus as their only signal, graded leave-one-workload-out on the zoo workloads.

No benchmark candidate has consensus alone (each has held-out or source data too), yet that is what a search gets
when the candidates' cards declare no dataset it can load, and what a pool of recorded predictions gives. This study
strips every other signal from the candidates of each workload and predicts them with the selector fitted on the
other workloads, three ways:

- *fitted weight*: the within-pool weight the training pools give consensus alone (`Selector.within_for`);
- *the pool's fit* (the default): the share of the candidates' pairwise agreement that the pool's Dawid–Skene fit
  explains (`DawidSkeneResult.agreement_explained`, recorded per target as ``consensus_fit``), with the unexplained
  share widening the interval;
- *weight 1*: consensus's own differences, unshrunk.

It also lists, per target, that share beside the within-pool slope of the true metric on consensus (what the weight
should have been). Reads the ``results.json`` of ``hfsearch bench`` runs; nothing is run again.

    python bench/consensus_alone.py OUT/sentiment OUT/entity-matching OUT/ner OUT/digits OUT/activity \
        --out bench/results/consensus_alone.md
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from selector_study import load as load_rows

from hfsearch.bench.metrics import regret
from hfsearch.select.selector import Row, Selector

WAYS = {"fitted weight": None, "the pool's fit (default)": "fit", "weight 1": 1.0}


def load(folder: Path) -> tuple[list[Row], dict[tuple[str, str], float | None]]:
    """The rows (as `selector_study.load` reads them) and each target's ``consensus_fit``."""
    name, _, rows = load_rows(folder)
    data = json.loads((folder / "results.json").read_text())
    return rows, {(name, t["target"]): t.get("consensus_fit") for t in data["targets"]}


def study(rows: list[Row], fits: dict[tuple[str, str], float | None]) -> tuple[dict, list[dict]]:
    sel = Selector.fit(rows)
    grades: dict[str, dict[str, dict[str, float]]] = {way: {} for way in WAYS}
    targets = []
    for wl in sel.workloads:
        other = sel.without(wl)
        by_target: dict[str, list[Row]] = {}
        for r in rows:
            if r.workload == wl and "consensus" in r.values:
                by_target.setdefault(r.target, []).append(r)
        acc: dict[str, dict[str, list[float]]] = {way: {"err": [], "cov": [], "width": [], "reg": []} for way in WAYS}
        for target, pool in sorted(by_target.items()):
            cons = np.array([r.values["consensus"] for r in pool])
            truth = np.array([r.truth for r in pool])
            dc, dy = cons - cons.mean(), truth - truth.mean()
            targets.append({"workload": wl, "target": target, "n": len(pool), "fit": fits.get((wl, target)),
                            # a consensus equal for every candidate (F1 0 for all) has no slope
                            "slope": float(dc @ dy / (dc @ dc)) if cons.std() > 1e-4 else float("nan")})
            for way, how in WAYS.items():
                share = fits.get((wl, target)) if how == "fit" else how
                preds = other.predict([{"consensus": c} for c in cons], metric=pool[0].metric, consensus_fit=share)
                got = acc[way]
                got["err"] += [100 * abs(p.value - y) for p, y in zip(preds, truth)]
                got["cov"] += [float(p.low <= y <= p.high) for p, y in zip(preds, truth)]
                got["width"] += [100 * (p.high - p.low) for p in preds]
                got["reg"].append(regret({r.model: p.value for r, p in zip(pool, preds)},
                                         {r.model: r.truth for r in pool}))
        for way in WAYS:
            grades[way][wl] = {k: float(np.mean(v)) for k, v in acc[way].items()}
    return grades, targets


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("folders", nargs="+", help="hfsearch bench --output folders (each with results.json)")
    p.add_argument("--out", default="bench/results/consensus_alone.md")
    args = p.parse_args()
    rows: list[Row] = []
    fits: dict[tuple[str, str], float | None] = {}
    for folder in args.folders:
        r, f = load(Path(folder))
        rows += r
        fits.update(f)
    grades, targets = study(rows, fits)
    names = sorted({r.workload for r in rows})
    lines = [
        "## Consensus alone: the pool's own fit against the fitted weight (`bench/consensus_alone.py`)",
        "",
        "Every candidate of each workload stripped of all signals but `consensus` and predicted by the selector fitted "
        "on the other workloads (leave-one-workload-out). Each cell: absolute error (points) / 90% interval coverage / "
        "regret (points); the mean interval width in points.",
        "",
        "| consensus's deviation | " + " | ".join(names) + " | mean error | mean coverage | mean regret | mean width |",
        "|---|" + "---:|" * (len(names) + 4),
    ]
    for way in WAYS:
        g = grades[way]
        cells = [f"{g[n]['err']:.1f} / {g[n]['cov']:.2f} / {g[n]['reg']:.1f}" for n in names]
        lines.append(f"| {way} | " + " | ".join(cells) + " | " + " | ".join(
            f"{np.mean([g[n][k] for n in names]):.{d}f}" for k, d in (("err", 1), ("cov", 2), ("reg", 1), ("width", 0))
        ) + " |")
    lines += [
        "",
        "Per target: the share of the candidates' pairwise agreement that the Dawid–Skene fit explains, and the slope "
        "of the true metric on consensus within the pool (least squares: the weight that would have been right).",
        "",
        "| workload | target | candidates | fit explains | slope of truth on consensus |",
        "|---|---|---:|---:|---:|",
    ]
    for t in sorted(targets, key=lambda t: (t["fit"] is None, t["fit"] or 0.0)):
        fit = "–" if t["fit"] is None else f"{t['fit']:.2f}"
        slope = "–" if not np.isfinite(t["slope"]) else f"{t['slope']:.2f}"
        lines.append(f"| {t['workload']} | {t['target']} | {t['n']} | {fit} | {slope} |")
    text = "\n".join(lines) + "\n"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
