"""Which threshold rule makes adaptivity rank a pool? Chosen leave-one-workload-out on the dev workloads.

For every target of every workload, the paper's raw-space adaptivity is computed under each rule:

- ``target``: tau = the 0.95 quantile of the JSDs between the target's own partitions (the old default, `auto`);
- ``pool q``: tau = the q quantile of the JSDs between every candidate's source partitions and the target's (one
  threshold per search, relative to the pool being ranked), for q in a small grid.

Each rule is graded by its regret among candidates of one architecture (the paper's setting: one model family,
different training data; adaptivity sees only the training data) and over the whole pool, against the true metric
read from a ``hfsearch bench`` output (``<results>/<workload>/results.json``). The rule for workload W is the one with
the lowest mean within-architecture regret on the OTHER workloads; the table reports W's regret under it.

    python bench/tau_rule.py benchmarks/sentiment.yaml benchmarks/entity-matching.yaml ... \
        --zoo-root ~/zoos --results bench-out --out bench/results/tau_rule.md
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

GRID = (0.01, 0.05, 0.1, 0.25, 0.5)


def rules() -> dict[str, dict]:
    out = {"target": {"tau": "auto"}}
    out.update({f"pool {q:g}": {"tau": "pool", "pool_quantile": q} for q in GRID})
    return out


def adaptivity_by_rule(wl, zoo: Path) -> dict[str, dict[str, dict[str, float | None]]]:
    """``{target: {rule: {repo_id: adaptivity}}}`` for one workload."""
    from hfsearch.bench.run import zoo_recipe
    from hfsearch.pipeline.score import score_inputs
    from hfsearch.scores import SCORERS, ScoreUnavailable
    from hfsearch.search import Search, SearchConfig

    recipe = zoo_recipe(wl)
    info = SCORERS.get("adaptivity")
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    for target in wl.targets:
        eligible = [f"{wl.org}/{n}" for n in wl.eligible(target)]
        cfg = SearchConfig.create(task=wl.task, dataset=recipe.dataset_id(target), split="test",
                                  labels=list(wl.label_names), samples=wl.samples, seed=wl.seed, models=eligible,
                                  max_models=len(eligible), hub_dir=str(zoo), scores=["adaptivity"],
                                  rank_by="adaptivity", progress=False)
        search = Search(cfg)
        search.run_stages("target", "discover", "align", "run")
        inputs = score_inputs(search)
        out[target] = {}
        for name, params in rules().items():
            values: dict[str, float | None] = {}
            for run, inp in inputs:
                try:
                    values[run.repo_id] = info(inp, "raw", **params)
                except ScoreUnavailable:
                    values[run.repo_id] = None
            out[target][name] = values
    return out


def grade(values: dict[str, dict[str, dict[str, float | None]]], truth: dict[str, dict[str, float]],
          arch_of: dict[str, str]) -> dict[str, dict[str, float]]:
    """``{rule: {"within": mean within-architecture regret, "pool": mean regret, "random_within", "random"}}``."""
    from hfsearch.bench.metrics import random_outcome, regret

    out: dict[str, dict[str, list[float]]] = {}
    for target, by_rule in values.items():
        t = truth[target]
        for rule, scores in by_rule.items():
            row = out.setdefault(rule, {"within": [], "pool": [], "random_within": [], "random": []})
            row["pool"].append(regret(scores, t))
            row["random"].append(random_outcome(t).regret)
            for arch in sorted(set(arch_of.values())):
                sub = {m: v for m, v in t.items() if arch_of.get(m) == arch}
                if len(sub) >= 2:
                    row["within"].append(regret({m: scores.get(m) for m in sub}, sub))
                    row["random_within"].append(random_outcome(sub).regret)
    return {r: {k: float(np.mean([v for v in vals if v is not None])) for k, vals in d.items()} for r, d in out.items()}


def main() -> None:
    from hfsearch.bench.workload import load_workload

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("workloads", nargs="+")
    p.add_argument("--zoo-root", required=True)
    p.add_argument("--results", required=True, help="hfsearch bench output root (<results>/<name>/results.json)")
    p.add_argument("--out", default="bench/results/tau_rule.md")
    args = p.parse_args()
    grades = {}
    for path in args.workloads:
        wl = load_workload(path)
        data = json.loads((Path(args.results) / wl.name / "results.json").read_text())
        truth = {t["target"]: t["truth"][wl.metric] for t in data["targets"]}
        arch_of = {f"{wl.org}/{c.name}": c.architecture for c in wl.candidates}
        grades[wl.name] = grade(adaptivity_by_rule(wl, Path(args.zoo_root) / wl.name), truth, arch_of)
        print(wl.name, {r: round(g["within"], 2) for r, g in grades[wl.name].items()}, flush=True)
    names = list(grades)
    rule_names = list(rules())
    lines = ["| workload | " + " | ".join(rule_names) + " | random | LOWO rule | its regret |",
             "|---|" + "---:|" * (len(rule_names) + 3)]
    chosen_regret = []
    for w in names:
        others = [o for o in names if o != w] or [w]
        best = min(rule_names, key=lambda r: np.mean([grades[o][r]["within"] for o in others]))
        chosen_regret.append(grades[w][best]["within"])
        lines.append(f"| {w} | " + " | ".join(f"{grades[w][r]['within']:.1f}" for r in rule_names)
                     + f" | {grades[w][rule_names[0]]['random_within']:.1f} | {best} | {grades[w][best]['within']:.1f} |")
    overall = min(rule_names, key=lambda r: np.mean([grades[o][r]["within"] for o in names]))
    lines += ["", f"Regret (points) among candidates of one architecture, mean over targets and architectures. "
                  f"Rule chosen on all workloads (the default): **{overall}**. Mean regret of the leave-one-workload-out "
                  f"choice: {np.mean(chosen_regret):.1f}; of the target rule: "
                  f"{np.mean([grades[w]['target']['within'] for w in names]):.1f}; of a random pick: "
                  f"{np.mean([grades[w]['target']['random_within'] for w in names]):.1f}.", ""]
    lines += ["| workload | " + " | ".join(rule_names) + " | random |", "|---|" + "---:|" * (len(rule_names) + 1)]
    for w in names:
        lines.append(f"| {w} (whole pool) | " + " | ".join(f"{grades[w][r]['pool']:.1f}" for r in rule_names)
                     + f" | {grades[w][rule_names[0]]['random']:.1f} |")
    text = "## Adaptivity: which threshold rule (`bench/tau_rule.py`)\n\n" + "\n".join(lines) + "\n"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
