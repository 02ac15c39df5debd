"""``hfsearch demo``: the main job on an embedded default, with no network.

Builds (once, then cached) a small zoo of real checkpoints trained on real sentiment domains shipped with the package,
exposes it as a local registry, runs `find` on a held-out domain with its labels hidden, then reads the labels to
show each candidate's true accuracy next to its scores.
"""

from __future__ import annotations

import time
from pathlib import Path

from . import constants
from .bench.truth import true_metrics
from .config import Via
from .rank.result import SearchResult
from .search import DEFAULT_SCORES, Search, SearchConfig

#: The demo's scorers: the paper's measures, the label-free baselines and the popularity prior.
DEMO_SCORES = list(DEFAULT_SCORES)


def demo_dir(root: str | None = None) -> Path:
    """Where the demo registry lives: `root`, ``HFSEARCH_DEMO_DIR`` or the HF assets cache."""
    if root:
        return Path(root)
    if constants.HFSEARCH_DEMO_DIR:
        return Path(constants.HFSEARCH_DEMO_DIR)
    from huggingface_hub import cached_assets_path

    return Path(cached_assets_path(library_name=constants.LIBRARY_NAME, namespace="demo-registry"))


def run_demo(
    root: str | None = None, samples: int = 300, progress: bool = True, label_budget: int = 0, *, via: Via = "keyword"
) -> SearchResult:
    """Build the demo zoo if needed and rank it for the held-out target domain.

    With `label_budget`, the label loop then reads at most that many labels of the target's ``label`` column, on the
    rows it chooses (as ``hfsearch find --label-budget N --label-column label`` would).

    The options are checked before the zoo is built; an error names them as `via` says (``"flag"`` from the CLI).

    Returns:
        `SearchResult` whose ``ground_truth["accuracy"]`` holds each candidate's true accuracy on the target.
    """
    from .zoo.build import build_zoo
    from .zoo.recipe import demo_recipe

    recipe = demo_recipe()
    registry = demo_dir(root)
    assert recipe.label_names is not None, "the demo recipe names its classes"
    cfg = SearchConfig(
        task=recipe.task,
        dataset=recipe.target_dataset_id(),
        split="test",
        hub_dir=str(registry),
        samples=samples,
        labels=list(recipe.label_names),
        scores=DEMO_SCORES,
        progress=progress,
        max_models=20,
        label_budget=label_budget,
        label_column="label" if label_budget else None,
    ).validate(via)
    t0 = time.perf_counter()
    build_zoo(recipe, registry)
    built = time.perf_counter() - t0
    search = Search(cfg)
    result = search.execute()
    result.ground_truth = true_metrics(search, ("accuracy",))
    result.timings["build_zoo"] = built
    return result
