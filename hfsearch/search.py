"""The search: its stages run in order, with hooks, and `find`, the public entry point.

    target -> discover -> align -> run -> score -> estimate -> label -> rank

Each stage is a function of the `Search` in `hfsearch.pipeline` (one module per stage); `Search` runs them in order,
times them, emits an event when each starts and ends, and checks between them whether it was asked to stop. The
benchmark reuses a `Search` to read the target labels that `find` keeps away from every scorer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .candidates import Candidate, Skipped
from .config import DEFAULT_SCORES, SearchConfig, describe_options
from .data.sample import Sample
from .pipeline import candidates as _candidates
from .pipeline import data as _data
from .pipeline import estimate as _estimate
from .pipeline import label as _label
from .pipeline import rank as _rank
from .pipeline import run as _run
from .pipeline import score as _score
from .pipeline.events import CandidateSkipped, Hook, Hooks, StageFinished, StageName, StageStarted
from .pipeline.state import SearchState
from .rank.result import CandidateResult, SearchResult
from .runner import OutputCache, Runner, make_accelerator
from .scores import SCORERS
from .scores.base import ScorerSpec, parse_scorers
from .tasks import TaskAdapter, get_task

logger = logging.getLogger(__name__)

#: The stages, in order.
STAGES: tuple[tuple[StageName, Callable[[Search], None]], ...] = (
    ("target", _data.load_target),
    ("discover", _candidates.discover),
    ("align", _candidates.align),
    ("run", _run.run),
    ("score", _score.score),
    ("estimate", _estimate.estimate),
    ("label", _label.label),
    ("rank", _rank.rank),
)

__all__ = ["DEFAULT_SCORES", "STAGES", "Search", "SearchConfig", "find"]


class Search:
    """One search, stage by stage. Most users call `find` instead.

    Args:
        cfg (`SearchConfig`): the options (validated here).
        hooks (`Iterable[Callable[[Event], None]]`, *optional*): subscribers to the search's events (see
            `hfsearch.pipeline.events`). With ``cfg.progress`` a progress bar over the candidates is added.
        accelerator (`accelerate.Accelerator`, *optional*): device and precision (default: from ``cfg.device``).
        label_source (`hfsearch.labeling.LabelSource`, *optional*): where the label stage gets labels when
            ``cfg.label_budget > 0`` (default: ``cfg.label_column``, else the terminal).

    Example:

    ```python
    >>> from hfsearch.search import Search, SearchConfig
    >>> search = Search(SearchConfig.create(task="text-classification", dataset="imdb"))  # doctest: +SKIP
    >>> result = search.execute()                                                         # doctest: +SKIP
    ```
    """

    def __init__(
        self, cfg: SearchConfig, *, hooks: Iterable[Hook] = (), accelerator: Any = None, label_source: Any = None
    ) -> None:
        self.cfg = cfg.validate("keyword")
        self.hooks = Hooks(hooks)
        if cfg.progress:
            from .utils.progress import CandidateProgressBar

            self.hooks.add(CandidateProgressBar())
        self.adapter: TaskAdapter = get_task(cfg.task).configure(**cfg.task_options())
        self.specs: list[ScorerSpec] = parse_scorers(cfg.scores, cfg.score_params)
        self.rank_by = cfg.rank_by or _estimate.AUTO
        self.selector = _estimate.shipped_selector()
        if self.rank_by == _estimate.AUTO:  # the combination needs its estimators: compute the ones not chosen
            chosen = {s.column for s in self.specs}
            extra = [k for k in self.selector.inputs if k not in chosen and k in SCORERS]
            self.specs += parse_scorers(extra, cfg.score_params) if extra else []
        self.metric: str = cfg.metric or self.adapter.metrics[0]
        self.label_source = _label.choose_source(self, label_source)  # fails now if labels cannot be had
        self.needs: set[str] = set().union(*(s.needs() for s in self.specs))
        self.cache = OutputCache(cfg.cache_dir, enabled=cfg.use_cache)
        if accelerator is None and cfg.device not in (None, "auto"):
            accelerator = make_accelerator(cfg.device)
        self.runner = Runner(
            self.adapter,
            self.cache,
            batch_size=cfg.batch_size,
            max_length=cfg.max_length,
            allow_pickle=cfg.allow_pickle,
            endpoint=cfg.endpoint,
            token=cfg.token,
            accelerator=accelerator,
        )
        self.state = SearchState()
        self.results: list[CandidateResult] = []
        self.result: SearchResult | None = None
        self.reference_memo: dict[str, np.ndarray | None] = {}

    # ---- running -----------------------------------------------------------------------------------------------
    def execute(self) -> SearchResult:
        """Run every stage in order; returns the `SearchResult`.

        Raises:
            `HFSearchError`: bad input or environment (one-line message).
            `SearchCancelled`: `cancel` was called, or a hook raised it.
        """
        self.run_stages(*(name for name, _ in STAGES))
        assert self.result is not None
        return self.result

    def run_stages(self, *names: StageName) -> None:
        """Run the named stages (in the order given); each must follow the ones it needs."""
        stages = dict(STAGES)
        for name in names:
            self.hooks.check()
            self.hooks.emit(StageStarted(name))
            t0 = time.perf_counter()
            stages[name](self)
            seconds = time.perf_counter() - t0
            self.state.timings[name] = seconds
            self.hooks.emit(StageFinished(name, seconds))

    def cancel(self, reason: str = "the search was cancelled") -> None:
        """Ask the search to stop at its next check (thread-safe; finished candidates stay cached)."""
        self.hooks.cancel(reason)

    def skip(self, skipped: Skipped) -> None:
        """Take a candidate out of the search with the reason (the stage records it and the search goes on)."""
        self.state.runs.pop(skipped.repo_id, None)
        self.state.skipped.append(skipped)
        logger.info("%s skipped [%s]: %s", skipped.repo_id, skipped.stage, skipped.reason)
        self.hooks.emit(CandidateSkipped(skipped.repo_id, skipped.stage, skipped.reason))

    # ---- what the stages produced ------------------------------------------------------------------------------
    @property
    def target(self) -> Sample | None:
        """The target sample (its labels, when the split has them, are for benchmark mode only)."""
        return self.state.target

    @property
    def target_label_names(self) -> list[str] | None:
        return self.state.label_names

    @property
    def candidates(self) -> list[Candidate]:
        """The candidates still in the search."""
        return self.state.candidates

    @property
    def skipped(self) -> list[Skipped]:
        return self.state.skipped

    def predictions(self, cand: Candidate) -> np.ndarray | None:
        """The candidate's predicted *target* label per target prediction (``-1`` where its label has no counterpart).

        One per target row, or as the task's `TaskAdapter.predictions` lays them out (one per word for tokens).
        """
        run = self.state.runs.get(cand.repo_id)
        out = run.outputs.get("target") if run is not None else None
        if out is None or out.logits is None or out.logits.size == 0:
            return None
        return self.adapter.predictions(out.logits, cand.label_map)


def find(task: str, dataset: str, **options: Any) -> SearchResult:
    """Rank Hub checkpoints for an unlabeled dataset.

        Args:
            task (`str`): ``text-classification``, ``time-series-classification``… (see ``hfsearch tasks``).
            dataset (`str`): Hub dataset id, local registry id (with `hub_dir`), data folder/file or
                ``save_to_disk`` folder.
            **options: any option of `hfsearch.config.SearchConfig` (below); comma-separated text is accepted for lists;
                also ``hooks`` (event subscribers) and ``label_source`` (a `hfsearch.labeling.LabelSource` answering the
                label loop's questions when ``label_budget > 0``).
    {options}

        Returns:
            `SearchResult`: ``.ranking`` (DataFrame), ``.best``, ``.skipped``, ``.to_json()``.

        Raises:
            `HFSearchError`: bad input (an unknown option gets a did-you-mean), or a Hub / data problem; one line.

        Example:

        ```python
        >>> import hfsearch
        >>> result = hfsearch.find("text-classification", "imdb", samples=256)  # doctest: +SKIP
        >>> result.best                                                         # doctest: +SKIP
        'some-org/some-sentiment-model'
        ```
    """
    hooks = options.pop("hooks", ())
    label_source = options.pop("label_source", None)
    cfg = SearchConfig.create("keyword", task=task, dataset=dataset, **options)
    return Search(cfg, hooks=hooks, label_source=label_source).execute()


find.__doc__ = (find.__doc__ or "").replace("{options}", describe_options())
