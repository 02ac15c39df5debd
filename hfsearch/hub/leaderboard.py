"""The leaderboard of a benchmark dataset in a local registry.

It is served as the Hub's ``/api/datasets/{id}/leaderboard`` serves it.

A dataset is a benchmark when its folder holds an ``eval.yaml``; its leaderboard lists every result that a model of
the registry reports on it in ``.eval_results/*.yaml`` (see `hfsearch.candidates.reported`), best value first. Used by
the Hub stand-in's route and by searches over a local registry (``--hub-dir``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import layout


class NoLeaderboard(LookupError):
    """The dataset is not a benchmark (no ``eval.yaml``)."""


def leaderboard(root: str | Path, dataset_id: str, *, base_model_only: bool = True) -> list[dict[str, Any]]:
    """The leaderboard entries of `dataset_id` in the registry `root`, in the Hub API's JSON shape.

    Args:
        root (`str` or `Path`): the registry folder.
        dataset_id (`str`): the benchmark dataset.
        base_model_only (`bool`, *optional*, defaults to `True`): as on the Hub, leave out models whose card
            declares a ``base_model`` (fine-tuned or derived ones).

    Returns:
        `list[dict]`: ``{rank, modelId, value, filename, verified, source, author, pullRequest, notes}`` each, ranked
        by value (highest first, ties by model id); ``DatasetLeaderboardEntry(**entry)`` parses one.

    Raises:
        `NoLeaderboard`: the dataset has no ``eval.yaml``.
    """
    from ..candidates.reported import EVAL_RESULTS_DIR, eval_results_entries

    if not (layout.repo_dir(root, dataset_id, layout.DATASETS) / "eval.yaml").is_file():
        raise NoLeaderboard(f"{dataset_id} is not a benchmark (no eval.yaml), so it has no leaderboard")
    rows: list[dict[str, Any]] = []
    for repo_id, folder in layout.iter_repos(root, layout.MODELS):
        if base_model_only and layout.read_front_matter(folder / "README.md").get("base_model"):
            continue
        for f in sorted((folder / EVAL_RESULTS_DIR).glob("*.y*ml")):
            rel = f.relative_to(folder).as_posix()
            try:
                entries = eval_results_entries(f.read_text(encoding="utf-8"), rel)
            except (OSError, ValueError):
                continue
            for e in entries:
                if e.dataset.lower() == dataset_id.lower():
                    rows.append(
                        {
                            "modelId": repo_id,
                            "value": e.reported_value,
                            "filename": rel,
                            "verified": e.verified,
                            "source": None,
                            "author": {"name": repo_id.split("/")[0], "type": "org"},
                            "pullRequest": None,
                            "notes": e.notes,
                        }
                    )
    rows.sort(key=lambda r: (-float(r["value"]), r["modelId"]))
    return [{"rank": i, **r} for i, r in enumerate(rows, start=1)]
