"""The estimate stage: every candidate's predicted metric on the target, with a 90 % interval (``auto``).

The accuracy estimators (``atc``, ``doc``, ``consensus``…) were computed as scorers of kind ``estimate``; here the
shipped `hfsearch.select.Selector` combines the ones available for each candidate. The result is the ``auto`` score
(what ``--rank-by auto``, the default, orders by) and the candidate's ``predicted``, ``predicted_low`` and
``predicted_high``. A candidate without any estimator gets no prediction and the reason.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

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
    """Add the ``auto`` prediction to every candidate result of the score stage."""
    selector = search.selector
    predictions = selector.predict([r.scores for r in search.results], metric=search.metric)
    for result, prediction in zip(search.results, predictions):
        if prediction is None:
            result.scores[AUTO] = None
            missing = ", ".join(k for k in selector.inputs if k in result.unavailable) or "none computed"
            result.unavailable[AUTO] = f"no accuracy estimator available ({missing})"
            continue
        result.scores[AUTO] = prediction.value
        result.predicted = (prediction.value, prediction.low, prediction.high)
        result.predicted_from = list(prediction.inputs)
