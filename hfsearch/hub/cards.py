"""Dataset cards (``README.md`` with YAML front matter) for the repositories `hfsearch.hub.push` writes.

A search result's card says what was searched (task, target dataset and split, sample), which model is recommended
(with links), the whole ranking with every score and its direction, the candidates that were not scored and why, and
how to reproduce it. A benchmark's card shows the scorer leaderboard, the plots and the environment. The front matter
declares the parquet file as the dataset's data, so ``load_dataset(repo_id)`` reads the table directly.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml

#: Front-matter tags of every repository hfsearch writes.
TAGS = ["hfsearch", "model-search"]


def front_matter(meta: dict[str, Any]) -> str:
    """``---\\n<yaml>---\\n`` for `meta` (keys kept in order, unicode kept)."""
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000) + "---\n"


def fmt(value: Any, digits: int = 4) -> str:
    """A table cell: ``–`` for missing values, `digits` significant digits for floats, ``|`` escaped."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def model_link(repo_id: str, endpoint: str | None) -> str:
    """A link to the model on the Hub at `endpoint`, or the id in backticks (``None``: a local registry)."""
    return f"[{repo_id}]({endpoint.rstrip('/')}/{repo_id})" if endpoint else f"`{repo_id}`"


def dataset_link(dataset: str, endpoint: str | None) -> str:
    """A link to `dataset` on the Hub, or the name in backticks for a local path or registry."""
    if endpoint and dataset.count("/") == 1 and not Path(dataset).exists() and not dataset.startswith((".", "/")):
        return f"[{dataset}]({endpoint.rstrip('/')}/datasets/{dataset})"
    return f"`{dataset}`"


def result_card(
    result: Any, *, repo_id: str, endpoint: str | None, command: str | None, versions: dict[str, str]
) -> str:
    """The card of a pushed search result: its ranking is the result's `Table` rendered as markdown (the same table
    the CLI and the Space show).

    Args:
        result (`SearchResult`): the result (with ``ground_truth`` when labels were read afterwards).
        repo_id (`str`): the dataset repository the card belongs to.
        endpoint (`str`, *optional*): the Hub the links point to; ``None`` when the candidates and the dataset came
            from a local registry (no links then).
        command (`str`, *optional*): the command line that produced the result.
        versions (`dict[str, str]`): library versions.
    """
    from dataclasses import replace

    from ..render import Column, Table, render_markdown

    task, dataset, split = result.task, result.dataset, result.split
    meta = {
        "pretty_name": f"hfsearch: {task} checkpoints for {dataset} ({split})",
        "tags": [*TAGS, task],
        "configs": [{"config_name": "default", "data_files": [{"split": "ranking", "path": "ranking.parquet"}]}],
    }
    out = [front_matter(meta), f"# Model search: `{task}` on {dataset_link(dataset, endpoint)} (split `{split}`)", ""]
    out.append(
        f"Which pretrained checkpoint to use for this data, found by **hfsearch** without reading any "
        f"label: {result.n_samples} rows sampled from split `{split}` (columns "
        f"{', '.join(f'`{c}`' for c in result.columns)}), {len(result.candidates)} candidates scored, ranked by "
        f"{result.rank_name}."
    )
    best = result.best
    out += [
        "",
        f"**Recommended model: {model_link(best, endpoint)}**" if best else "**No model could be recommended.**",
    ]
    if best:
        out += ["", fmt(result.recommendation())]
    link = (lambda m: f"{endpoint.rstrip('/')}/{m}") if endpoint else None
    ranking = replace(result.to_table(link=link, title=""), caption="", notes=[])
    out += ["", "## Ranking", "", render_markdown(ranking)]
    if result.notes():
        out += ["", "## Notes", "", *[f"- {fmt(n)}" for n in result.notes()]]
    scores = Table(
        [Column("score", kind="id"), Column("kind"), Column("better"), Column("what it measures")],
        [
            {
                "score": f"`{c.name}`",
                "kind": c.kind,
                "better": "higher" if c.higher_is_better else "lower",
                "what it measures": c.description,
            }
            for c in result.score_columns
        ],
    )
    out += ["", "## Scores", "", render_markdown(scores)]
    if result.ground_truth:
        out += [
            "",
            f"The true {', '.join(result.ground_truth)} columns were measured with the labels after ranking; "
            "no score saw them.",
        ]
    out += _reproduce(command, versions, repo_id, "ranking")
    out += [
        "",
        "## Files",
        "",
        "- `ranking.parquet`: the ranking above, one row per candidate (the dataset's `ranking` split);",
        "- `result.json`: the whole result (scores, reasons, skipped candidates, query, timings);",
        "- `config.json`: the command, the search configuration and the library versions.",
    ]
    return "\n".join(out) + "\n"


def bench_card(
    results: dict[str, Any], *, repo_id: str, command: str | None, versions: dict[str, str], plots: list[str]
) -> str:
    """The card of a pushed benchmark (``hfsearch bench`` outputs).

    Args:
        results (`dict`): the content of ``results.json``.
        repo_id (`str`): the dataset repository the card belongs to.
        command (`str`, *optional*): the command line that produced the benchmark.
        versions (`dict[str, str]`): library versions.
        plots (`list[str]`): repository paths of the plots.
    """
    wl = results.get("workload") or {}
    name, metric = wl.get("name", "benchmark"), wl.get("metric", "accuracy")
    meta = {
        "pretty_name": f"hfsearch benchmark: {name}",
        "tags": [*TAGS, "benchmark", *([wl["task"]] if wl.get("task") else [])],
        "configs": [
            {"config_name": "default", "data_files": [{"split": "leaderboard", "path": "leaderboard.parquet"}]}
        ],
    }
    out = [front_matter(meta), f"# hfsearch benchmark: {name}", ""]
    if wl.get("description"):
        out += [str(wl["description"]).strip(), ""]
    targets = ", ".join(f"`{t.get('target')}`" for t in results.get("targets") or [])
    out.append(
        f"Task `{wl.get('task')}`; {len(results.get('zoo') or [])} candidate checkpoints ranked with the labels hidden "
        f"for {len(results.get('targets') or [])} target(s) ({targets}); every scorer graded "
        f"against the true {metric}: regret (in {metric} points, lower is better), top-1, Kendall tau."
    )
    rows = [
        [
            str(s.get("rank")),
            f"`{s.get('scorer')}`",
            s.get("kind", ""),
            fmt((s.get("regret") or {}).get("mean")),
            fmt((s.get("top1") or {}).get("mean"), 2),
            fmt((s.get("kendall_tau") or {}).get("mean"), 3),
            fmt(s.get("coverage"), 2),
        ]
        for s in results.get("leaderboard") or []
    ]
    out += [
        "",
        "## Scorer leaderboard",
        "",
        table(["rank", "scorer", "kind", "regret", "top-1", "Kendall tau", "coverage"], rows),
    ]
    out += ["", "The full report is `report.md`; every number is in `results.json`."]
    if plots:
        out += ["", "## Plots", "", *[f"![{Path(p).stem}]({p})" for p in plots]]
    out += _reproduce(command, versions, repo_id, "leaderboard")
    return "\n".join(out) + "\n"


def _reproduce(command: str | None, versions: dict[str, str], repo_id: str, split: str) -> list[str]:
    out = ["", "## Reproduce", ""]
    if command:
        out += ["```bash", command, "```", ""]
    out += ["Library versions:", "", table(["library", "version"], [[k, v] for k, v in versions.items()])]
    out += [
        "",
        "Read the table back:",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        f'table = load_dataset("{repo_id}", split="{split}")',
        "```",
    ]
    return out
