"""How far each accuracy estimator's pool level sits from the truth, per target: the evidence for the selector's
conservative level (`hfsearch.select.selector`, ``level_rule="conservative"``).

Reads the ``results.json`` of ``hfsearch bench`` runs and writes, per workload and target, the mean over the pool of
(estimate − true metric) in points for every estimator, and the same for each candidate's lowest estimate. Nothing is
run again and nothing is fitted.

    python bench/estimator_bias.py bench-out/sentiment bench-out/entity-matching ... \\
        --out bench/results/estimator_bias.md
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from selector_study import load

from hfsearch.select.selector import ESTIMATORS

LOWEST = "lowest"


def biases(folder: Path) -> list[tuple[str, str, int, dict[str, float]]]:
    """(workload, target, candidates, {estimator: mean bias in points}) for every target of one bench run."""
    name, _, rows = load(folder)
    by_target: dict[str, list] = {}
    for r in rows:
        by_target.setdefault(r.target, []).append(r)
    out = []
    for target, pool in by_target.items():
        per: dict[str, list[float]] = {}
        for r in pool:
            vals = {k: v for k, v in r.values.items() if k in ESTIMATORS}
            for k, v in vals.items():
                per.setdefault(k, []).append(100 * (v - r.truth))
            if vals:
                per.setdefault(LOWEST, []).append(100 * (min(vals.values()) - r.truth))
        out.append((name, target, len(pool), {k: float(np.mean(v)) for k, v in per.items()}))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("folders", nargs="+", help="hfsearch bench --output folders (each with results.json)")
    p.add_argument("--out", default="bench/results/estimator_bias.md")
    args = p.parse_args()
    rows = [r for f in args.folders for r in biases(Path(f))]
    cols = [*ESTIMATORS, LOWEST]
    lines = [
        "## The estimators' bias, per target (`bench/estimator_bias.py`)",
        "",
        "Mean over the pool of (estimate − true metric), in points: positive = the estimator overestimates. "
        "*lowest*: each candidate's lowest available estimate, whose pool mean is the selector's level. "
        "From the `results.json` of the runs in *The default pick*; nothing fitted.",
        "",
        "| workload | target | candidates | " + " | ".join(cols) + " |",
        "|---|---|---:|" + "---:|" * len(cols),
    ]
    for wl, target, n, b in rows:
        cells = [f"{b[k]:+.1f}" if k in b else "–" for k in cols]
        lines.append(f"| {wl} | {target} | {n} | " + " | ".join(cells) + " |")
    lines.append("")
    for k in cols:
        vals = [b[k] for *_, b in rows if k in b]
        if vals:
            lines.append(f"- `{k}`: {min(vals):+.1f} to {max(vals):+.1f} points over {len(vals)} targets, "
                         f"mean {np.mean(vals):+.1f}, mean absolute {np.mean(np.abs(vals)):.1f}.")
    text = "\n".join(lines) + "\n"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
