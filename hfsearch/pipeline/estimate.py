"""The estimate stage: every candidate's predicted metric on the target, with a 90 % interval (``auto``).

The accuracy estimators (``atc``, ``doc``, ``consensus``…) were computed as scorers of kind ``estimate``; here the
shipped `hfsearch.select.Selector` combines the ones available for each candidate. The result is the ``auto`` score
(what ``--rank-by auto``, the default, orders by) and the candidate's ``predicted``, ``predicted_low`` and
``predicted_high``. A candidate without any estimator gets no prediction and the reason.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..select import Selector

if TYPE_CHECKING:
    from ..search import Search

#: The name of the combined score (a ranking column like the scorers').
AUTO = "auto"


@lru_cache(maxsize=4)
def shipped_selector(path: str | None = None) -> Selector:
    """The selector shipped with the package (or in `path`), loaded once."""
    return Selector.load(path)


def estimate(search: Search) -> None:
    """Add the ``auto`` prediction to every candidate result of the score stage (the candidates racing eliminated
    still count in the pool: `pool_context`)."""
    selector = search.selector
    pool: list[dict[str, Any]] = [dict(r.scores) for r in search.results]
    predictions = selector.predict(
        pool + pool_context(search), metric=search.metric, consensus_fit=search.state.consensus_fit
    )[: len(pool)]
    for result, prediction in zip(search.results, predictions):
        if prediction is None:
            result.scores[AUTO] = None
            missing = ", ".join(k for k in selector.inputs if k in result.unavailable) or "none computed"
            result.unavailable[AUTO] = f"no accuracy estimator available ({missing})"
            continue
        result.scores[AUTO] = prediction.value
        result.predicted = (prediction.value, prediction.low, prediction.high)
        result.predicted_from = list(prediction.inputs)


def pool_context(search: Search) -> list[dict[str, Any]]:
    """The scores of the candidates ``--budget auto`` eliminated, as members of the pool (they get no prediction).

    The prediction is pool-relative (z-scores among the candidates, the pool's level), so without them the few
    candidates left after racing would be compared with each other only, where a z-score turns small differences
    into whole standard deviations, and the pick could differ from ``--budget full``'s. An eliminated candidate
    enters with the scores of the slice it was dropped after (rates over rows: unbiased, only noisier), except those
    that read no model output (adaptivity, knn_coverage…), recomputed on the current rows by the score stage since
    they depend on the target's size (`hfsearch.pipeline.score.early_scores`). Missing and non-finite values are left
    out by the selector, as for any candidate.
    """
    state = search.state
    return [
        {**early.scores, **state.early_scores.get(early.repo_id, {})}
        for early in state.early
        if early.status == "eliminated"
    ]
