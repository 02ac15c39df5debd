"""The order candidates run in: likely winners first, from what the Hub says before any weight is fetched.

A search that may stop early (a time or download budget, see `hfsearch.pipeline.budget`) should spend it on the
candidates most likely to win, and early elimination sets its bar sooner when a strong candidate runs early. Before
any weights are downloaded the only evidence is metadata, used in this order (each breaks the ties of the one
before; missing values come last):

1. an accuracy the model reports on the target dataset itself (card ``model-index``, ``.eval_results``, the target's
   leaderboard: `hfsearch.candidates.reported.reported_accuracy_of`; only read when ``reported_accuracy`` is scored);
2. the accuracy its card reports on its own test data (``source_accuracy``);
3. downloads (the popularity prior);
4. the parameter count (the size prior: among otherwise equal candidates, the bigger one tends to be the better);
5. the discovery order (stable).

Only the order changes: every candidate is still run unless a budget says otherwise, and the ranking does not depend
on the order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .candidate import Candidate
from .reported import reported_accuracy_of


def _value(x: float | None) -> float:
    """A metadata value as a sort key: missing (or not finite) sorts after every known value."""
    return float(x) if x is not None and math.isfinite(float(x)) else -math.inf


def prior_key(cand: Candidate) -> tuple[float, float, float, float]:
    """What the Hub says about `cand` before it runs: (reported accuracy on the target, card accuracy on its own
    data, downloads, parameters); higher is more promising."""
    reported, _ = reported_accuracy_of(cand) if cand.reported_checked else (None, "")
    return (
        _value(reported.value if reported is not None else None),
        _value(cand.source_accuracy),
        _value(cand.downloads),
        _value(cand.num_params),
    )


def likely_winners_first(candidates: Sequence[Candidate]) -> list[Candidate]:
    """`candidates` with the most promising first (see the module docstring); ties keep their order.

    Example:

    ```python
    >>> a = Candidate("org/a", "text-classification", downloads=10)
    >>> b = Candidate("org/b", "text-classification", source_accuracy=0.9)
    >>> [c.repo_id for c in likely_winners_first([a, b])]
    ['org/b', 'org/a']
    ```
    """
    keyed = [(prior_key(c), i, c) for i, c in enumerate(candidates)]
    keyed.sort(key=lambda t: (tuple(-v for v in t[0]), t[1]))
    return [c for _, _, c in keyed]
