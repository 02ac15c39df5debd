"""Reports of a benchmark run: ``results.json`` (every number), ``report.md`` (tables) and ``plots/*.png``.

```python
>>> from hfsearch.bench.report import write_report
>>> paths = write_report(result, "bench-out")
>>> sorted(p.name for p in paths)
['regret_per_target.png', 'report.md', 'results.json', 'score_vs_truth.png', ...]
```
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from .curves import curves_table, plot_budget_curves
from .run import RANDOM, BenchResult


def _f(v: float | None, digits: int = 2) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{v:.{digits}f}"


def _ci(t: tuple[float | None, float | None, float | None], digits: int = 2) -> str:
    mean, low, high = t
    if mean is None:
        return "–"
    if low is None or high is None or low == high:
        return _f(mean, digits)
    return f"{_f(mean, digits)} [{_f(low, digits)}, {_f(high, digits)}]"


def json_safe(obj: Any) -> Any:
    """`obj` with every NaN or infinite float replaced by ``None`` (strict JSON has neither)."""
    if isinstance(obj, float):
        return None if math.isnan(obj) or math.isinf(obj) else obj
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def to_json(result: BenchResult) -> str:
    """Every number of the run, as indented JSON (NaN written as ``null``)."""
    return json.dumps(json_safe(result.to_dict()), indent=2, default=str)


def _short(repo_id: str) -> str:
    return repo_id.split("/", 1)[-1]


def to_markdown(result: BenchResult, *, timings: bool = True) -> str:
    """A ``## Benchmark: <workload>`` section: set-up, the scorer leaderboard, per-target regrets, paired wins."""
    wl = result.workload
    metric = wl.metric
    level = round(wl.bootstrap_level * 100)
    lines = [f"## Benchmark: {wl.name}", ""]
    if wl.description:
        lines += [wl.description, ""]
    n_cands = len(result.zoo)
    archs = sorted({z["architecture"] for z in result.zoo})
    mixtures = sum(len(z["sources"]) > 1 for z in result.zoo)
    lines += [
        f"- Workload: `{_rel(wl.file)}` (fingerprint `{wl.fingerprint()}`), task `{wl.task}`, labels {wl.label_names}.",
        (
            f"- Zoo: {n_cands} candidates ({', '.join(archs)}; {mixtures} trained on mixtures of domains), "
            f"{len(wl.domains)} domains; each domain in turn is the target"
        )
        + (
            ", and candidates trained on it are excluded (leave-one-domain-out)."
            if wl.exclude_source_domain
            else " (candidates trained on it are kept)."
        ),
        (
            f"- Per target: {wl.samples} seeded rows of its test split (seed {wl.seed}; all rows when the split is "
            "smaller), labels hidden from every scorer; "
            f"ground truth = each candidate's {' and '.join(wl.metrics)} on those rows; grades use **{metric}**."
        ),
        (
            f"- Regret = best {metric} − {metric} of the scorer's choice, in points (ties at the top of a score are "
            "averaged); top-1 = the choice is a truly best model; Kendall τ-b and Spearman ρ between score and true "
            f"{metric} over the candidates the scorer could score (coverage). "
            f"Means over {len(result.targets)} targets, "
            f"{level}% bootstrap intervals ({wl.bootstrap_resamples} resamples, seed {wl.bootstrap_seed})."
        ),
    ]
    if wl.popularity_seed is not None:
        lines.append(
            "- `popularity` uses *synthetic* download counts (deterministic from the workload seed and the "
            "model name, unrelated to quality): it is a sanity baseline that should score like a random pick. "
            "`size` is the real parameter count."
        )
    lines += [
        "",
        "### Scorers, best first (mean over targets)",
        "",
        f"| rank | scorer | kind | regret ({metric}, points) | top-1 | Kendall τ | Spearman ρ | abs. error "
        f"(points) | 90% interval coverage | interval width (points) | coverage |",
        "|---:|---|---|---|---|---|---|---|---:|---:|---:|",
    ]
    for s in result.summaries:
        name = f"*{s.scorer}* (uniform pick)" if s.scorer == RANDOM else f"`{s.scorer}`"
        kind = s.kind + ("" if s.higher_is_better or s.scorer == RANDOM else " ↓")
        lines.append(
            f"| {s.rank} | {name} | {kind} | {_ci(s.regret, 1)} | {_ci(s.top1, 2)} | {_ci(s.kendall_tau, 2)} | "
            f"{_ci(s.spearman_rho, 2)} | {_ci(s.abs_error, 1)} | {_f(s.interval_coverage, 2)} | "
            f"{_f(s.interval_width, 1)} | {_f(s.coverage, 2)} |"
        )
    lines += [
        "",
        "↓ = lower score is better (the score is negated before ranking). Abs. error: for the scorers of kind "
        f"*estimate* (a predicted {metric}), the mean |predicted − true| over the candidates; `auto` is graded "
        "with the selector fitted on the OTHER workloads only (leave-one-workload-out).",
        "",
    ]

    if result.by_architecture:
        archs = list(result.by_architecture)
        lines += [
            "### Within one architecture (mean over targets)",
            "",
            (
                "The same grades among the candidates of one architecture only: the paper's setting, where models "
                "share a family and differ in their training data. Similarity scorers depend on the training data "
                "alone, so this isolates what they can see."
            ),
            "",
            "| scorer | " + " | ".join(f"{a}: regret | {a}: top-1 | {a}: τ" for a in archs) + " |",
            "|---|" + "---|---|---|" * len(archs),
        ]
        per = {a: {s.scorer: s for s in rows} for a, rows in result.by_architecture.items()}
        for s in result.summaries:
            cells = []
            for a in archs:
                row = per[a].get(s.scorer)
                cells += [_ci(row.regret, 1), _f(row.top1[0]), _f(row.kendall_tau[0])] if row else ["–"] * 3
            name = f"*{s.scorer}*" if s.scorer == RANDOM else s.scorer
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        counts = {
            a: [t.by_architecture[a][RANDOM].n_scored for t in result.targets if a in t.by_architecture] for a in archs
        }
        lines += [
            "",
            "Candidates per target and architecture: "
            + "; ".join(f"{a} {min(c)}–{max(c)}" if min(c) != max(c) else f"{a} {c[0]}" for a, c in counts.items())
            + ".",
            "",
        ]

    # per-target regret table
    targets = result.targets
    lines += [
        f"### Regret per target ({metric}, points)",
        "",
        "| scorer | " + " | ".join(t.target for t in targets) + " |",
        "|---|" + "---:|" * len(targets),
    ]
    best_row = (
        "| *best model* | "
        + " | ".join(
            f"{', '.join(_short(b) for b in t.best[:2])}{'…' if len(t.best) > 2 else ''} "
            f"({_f(100 * max(t.truth[metric].values()), 1)})"
            if t.truth.get(metric)
            else "–"
            for t in targets
        )
        + " |"
    )
    lines.append(best_row)
    for s in result.summaries:
        cells = [_f(t.outcomes[s.scorer].regret, 1) if s.scorer in t.outcomes else "–" for t in targets]
        lines.append(f"| {'*' + s.scorer + '*' if s.scorer == RANDOM else s.scorer} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"### Kendall τ per target (score vs true {metric})",
        "",
        "| scorer | " + " | ".join(t.target for t in targets) + " |",
        "|---|" + "---:|" * len(targets),
    ]
    for s in result.summaries:
        if s.scorer == RANDOM:
            continue
        cells = [_f(t.outcomes[s.scorer].kendall_tau, 2) if s.scorer in t.outcomes else "–" for t in targets]
        lines.append(f"| {s.scorer} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Candidates per target: "
        + ", ".join(f"{t.target} {len(t.truth.get(metric, {}))}" for t in targets)
        + "; target rows: "
        + ", ".join(f"{t.target} {t.n_rows}" for t in targets)
        + ".",
        "",
    ]

    lines += budget_section(result)

    if result.paired:
        lines += [
            "### Adaptivity against each other scorer (per target, on regret)",
            "",
            "| scorer | versus | wins | ties | losses |",
            "|---|---|---:|---:|---:|",
        ]
        for p in result.paired:
            lines.append(f"| {p['scorer']} | {p['versus']} | {p['wins']} | {p['ties']} | {p['losses']} |")
        lines.append("")

    # zoo
    lines += [
        "### The zoo",
        "",
        f"| model | architecture | trained on | source {metric} | downloads |",
        "|---|---|---|---:|---:|",
    ]
    for z in result.zoo:
        src_metric = z["source_metrics"].get(metric, z["source_accuracy"])
        dl = (
            f"{z['downloads']:,}" + (" (synthetic)" if z["synthetic_downloads"] else "")
            if z["downloads"] is not None
            else "–"
        )
        lines.append(
            f"| {_short(z['repo_id'])} | {z['architecture']} | {' + '.join(z['sources'])} | "
            f"{_f(100 * src_metric, 1) if src_metric is not None else '–'} | {dl} |"
        )
    lines.append("")
    if timings:
        t = result.timings
        lines += [
            (
                f"Time on this machine: zoo {_f(t.get('build_zoo'), 0)} s "
                f"({sum(z['trained_now'] for z in result.zoo)} candidates trained in this run; training time "
                f"recorded when built: {_f(sum(z['train_seconds'] for z in result.zoo), 0)} s), evaluation "
                f"{_f(t.get('evaluate'), 0)} s, total {_f(t.get('total'), 0)} s."
            ),
            "",
        ]
    lines += [f"Reproduce: `hfsearch bench {_rel(wl.file)} --output bench/out/{wl.name}`.", ""]
    return "\n".join(lines)


def budget_section(result: BenchResult) -> list[str]:
    """``### Label budget`` lines: top-1 and regret after 0, 10, 20, 50 labels, label loop vs uniform rows."""
    metric = result.workload.metric
    lines = ["### Label budget: the label loop against uniform random rows", ""]
    if not result.curves:
        return lines + [f"Budget curves {result.curves_note or 'not computed'}.", ""]
    targets = [t for t in result.targets if t.curves]
    repeats = targets[0].curves[0]["repeats"]
    budgets = sorted({r["budget"] for r in result.curves})
    lines += [
        (
            "Each target starts from every candidate's label-free `auto` prediction and its 90% interval "
            "(the selector fitted without this workload), then reveals the true label of each row asked: "
            "rows chosen by the label loop (where the leading candidates disagree, weighted by P(best)) "
            "or uniformly random rows. The pick after each "
            f"budget is graded like a scorer (top-1; regret in {metric} points). Mean over {len(targets)} targets of "
            f"{repeats} seeded repetitions each; budget 0 is the label-free `auto` pick (ties shared). A candidate "
            f"without an `auto` prediction starts from an uninformative prior (accuracy uniform on [0, 1])."
        ),
        "",
        *curves_table(result.curves, budgets, metric),
        "",
        "| target | " + " | ".join(f"loop @{b} | uniform @{b}" for b in budgets if b) + " |",
        "|---|" + "---:|---:|" * sum(1 for b in budgets if b),
    ]
    for t in targets:
        cells = []
        for b in budgets:
            if b:
                cells += [
                    next((f"{r['regret']:.1f}" for r in t.curves if r["strategy"] == s and r["budget"] == b), "–")
                    for s in ("informative", "uniform")
                ]
        lines.append(f"| {t.target} | " + " | ".join(cells) + " |")
    lines += ["", f"(regret per target, {metric} points; plot: `plots/budget_curves.png`)", ""]
    return lines


def plot_budgets(result: BenchResult, folder: Path) -> Path | None:
    """``budget_curves.png``: the workload's mean curves, then one panel per target (at most 6)."""
    if not result.curves:
        return None
    panels = [(f"{result.workload.name}: mean of {sum(bool(t.curves) for t in result.targets)} targets", result.curves)]
    panels += [(t.target, t.curves) for t in result.targets if t.curves][:6]
    return plot_budget_curves(panels, folder / "budget_curves.png", result.workload.metric)


def _rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def plot_score_vs_truth(result: BenchResult, folder: Path) -> list[Path]:
    """One figure per scorer (a panel per target: score vs true metric) and an overview of all scorers.

    The overview puts every (target, candidate) point of a scorer on one panel: x = the oriented score standardised
    within its target (so targets share an axis), y = the candidate's true metric minus the target's best (points).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    wl = result.workload
    metric = wl.metric
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    scorers = [s for s in result.summaries if s.scorer != RANDOM]
    colors = plt.get_cmap("tab10")
    arch_of = {z["repo_id"]: z["architecture"] for z in result.zoo}
    markers = {a: m for a, m in zip(sorted(set(arch_of.values())), "os^Dv<>p")}

    n = len(scorers)
    cols = min(4, n) or 1
    rows = math.ceil(n / cols) or 1
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.0 * rows), squeeze=False)
    for ax, s in zip(axes.flat, scorers):
        for ti, t in enumerate(result.targets):
            truth = t.truth.get(metric, {})
            vals = {m: v for m, v in t.scores.get(s.scorer, {}).items() if v is not None and m in truth}
            if not vals:
                continue
            x = np.array([vals[m] for m in vals], dtype=float) * (1 if s.higher_is_better else -1)
            x = (x - x.mean()) / x.std() if x.std() > 0 else x * 0
            best = max(truth.values())
            y = np.array([100 * (truth[m] - best) for m in vals])
            ax.scatter(x, y, s=14, color=colors(ti % 10), label=t.target, alpha=0.8)
        ax.set_title(f"{s.scorer}  τ={_f(s.kendall_tau[0])}", fontsize=9)
        ax.tick_params(labelsize=7)
        ax.axhline(0, color="grey", lw=0.5)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=min(6, len(labels)), fontsize=8, frameon=False)
    fig.suptitle(f"{wl.name}: oriented score (z-scored per target) vs {metric} − best {metric} (points)", fontsize=10)
    fig.tight_layout(rect=(0, 0.05, 1, 0.96))
    path = folder / "score_vs_truth.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    paths.append(path)

    per = folder / "scorers"
    per.mkdir(exist_ok=True)
    for s in scorers:
        k = len(result.targets)
        c = min(3, k)
        r = math.ceil(k / c)
        fig, axes = plt.subplots(r, c, figsize=(3.8 * c, 3.2 * r), squeeze=False)
        for ax, t in zip(axes.flat, result.targets):
            truth = t.truth.get(metric, {})
            for m, v in t.scores.get(s.scorer, {}).items():
                if v is None or m not in truth:
                    continue
                ax.scatter(
                    v,
                    100 * truth[m],
                    marker=markers.get(arch_of.get(m, ""), "o"),
                    s=22,
                    color="tab:red" if m in t.best else "tab:blue",
                )
            chosen = t.outcomes[s.scorer].chosen if s.scorer in t.outcomes else []
            for m in chosen:
                v = t.scores.get(s.scorer, {}).get(m)
                if v is not None and m in truth:
                    ax.scatter(v, 100 * truth[m], s=90, facecolors="none", edgecolors="black")
            ax.set_title(
                f"{t.target} (regret {_f(t.outcomes[s.scorer].regret, 1) if s.scorer in t.outcomes else '–'})",
                fontsize=8,
            )
            ax.tick_params(labelsize=7)
        for ax in list(axes.flat)[k:]:
            ax.axis("off")
        fig.suptitle(
            f"{wl.name} · {s.scorer} ({'higher' if s.higher_is_better else 'lower'} is better) vs true "
            f"{metric} (%) · red = best model, circle = chosen, marker = architecture "
            f"({', '.join(f'{m} {a}' for a, m in markers.items())})",
            fontsize=8,
        )
        fig.tight_layout(rect=(0, 0, 1, 0.93))
        path = per / f"{_slug(s.scorer)}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        paths.append(path)
    return paths


def plot_regret(result: BenchResult, folder: Path) -> Path:
    """Heat map of regret (points), scorers (best first) × targets, with the mean column."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    wl = result.workload
    folder.mkdir(parents=True, exist_ok=True)
    names = [s.scorer for s in result.summaries]
    targets = [t.target for t in result.targets]
    grid = np.full((len(names), len(targets) + 1), np.nan)
    for i, s in enumerate(result.summaries):
        for j, t in enumerate(result.targets):
            o = t.outcomes.get(s.scorer)
            if o is not None and o.regret is not None:
                grid[i, j] = o.regret
        if s.regret[0] is not None:
            grid[i, -1] = s.regret[0]
    fig, ax = plt.subplots(figsize=(1.1 * (len(targets) + 1) + 3, 0.32 * len(names) + 1.6))
    im = ax.imshow(grid, cmap="Reds", aspect="auto", vmin=0)
    ax.set_xticks(range(len(targets) + 1), [*targets, "mean"], rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            if not np.isnan(grid[i, j]):
                ax.text(
                    j,
                    i,
                    f"{grid[i, j]:.1f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if grid[i, j] > np.nanmax(grid) * 0.6 else "black",
                )
    ax.axvline(len(targets) - 0.5, color="black", lw=1)
    fig.colorbar(im, ax=ax, label=f"regret ({wl.metric}, points)")
    ax.set_title(f"{wl.name}: regret per target (scorers best first)", fontsize=10)
    fig.tight_layout()
    path = folder / "regret_per_target.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_report(result: BenchResult, output: str | Path, *, plots: bool = True) -> list[Path]:
    """Write ``results.json``, ``report.md`` and (with `plots`) ``plots/*.png`` under `output`; returns the paths."""
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    p = out / "results.json"
    p.write_text(to_json(result) + "\n", encoding="utf-8")
    paths.append(p)
    p = out / "report.md"
    p.write_text(to_markdown(result), encoding="utf-8")
    paths.append(p)
    if plots:
        paths.append(plot_regret(result, out / "plots"))
        budget_plot = plot_budgets(result, out / "plots")
        if budget_plot is not None:
            paths.append(budget_plot)
        paths.extend(plot_score_vs_truth(result, out / "plots"))
    return paths
