"""The rank stage: the scored candidates become a `SearchResult` (ordered by the ranking score)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..rank.result import ScoreColumn, SearchResult
from .estimate import AUTO

#: What the ``auto`` column is.
AUTO_DESCRIPTION = "predicted metric on the target: the accuracy estimators combined (hfsearch.select)"

if TYPE_CHECKING:
    from ..search import Search


def rank(search: Search) -> None:
    """Build ``search.result`` from the candidate results of the score stage."""
    state, cfg = search.state, search.cfg
    assert state.target is not None
    for r in search.results:  # the rows the complete candidates' scores are computed on
        run = state.runs.get(r.repo_id)
        r.rows = len(state.target) if r.rows is None else r.rows
        if r.heldout_rows is None and run is not None and run.heldout is not None and "heldout" in run.outputs:
            r.heldout_rows = len(run.heldout)
    search.result = SearchResult(
        task=cfg.task,
        dataset=cfg.dataset,
        split=state.split or "",
        columns=state.target.columns,
        n_samples=len(state.target),
        score_columns=[
            ScoreColumn(s.column, s.info.kind, s.info.higher_is_better, s.info.description) for s in search.specs
        ]
        + [ScoreColumn(AUTO, "estimate", True, AUTO_DESCRIPTION)],
        rank_by=search.rank_by,
        candidates=list(search.results) + list(state.early),
        skipped=list(state.skipped),
        warnings=list(state.warnings),
        query=dict(state.query),
        timings=dict(state.timings),
        config=cfg.to_dict(),
        metric=search.metric,
        labels=state.labels.summary() if state.labels is not None else {},
    )
