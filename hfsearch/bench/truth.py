"""Ground truth for benchmark mode: how accurate each candidate really is on the labeled target.

Labels are read only here, after scoring; no scorer ever sees them.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

from ..search import Search


def true_metrics(search: Search, metrics: tuple[str, ...] = ("accuracy",)) -> dict[str, dict[str, float]]:
    """``{metric: {repo_id: value}}`` for every scored candidate, from its mapped predictions on the target.

    Predictions of model labels with no target counterpart count as wrong.
    """
    assert search.target is not None
    labels = search.target.labels
    if labels is None:
        raise ValueError("the target has no labels: benchmark mode needs a labeled split")
    labels = np.asarray(labels)
    out: dict[str, dict[str, float]] = {m: {} for m in metrics}
    for cand in search.candidates:
        pred = search.predictions(cand)
        if pred is None:
            continue
        for m in metrics:
            if m == "accuracy":
                out[m][cand.repo_id] = float(accuracy_score(labels, pred))
            elif m == "f1":  # binary F1 of the positive class (entity matching), macro F1 otherwise
                classes = [int(c) for c in np.unique(labels)]
                scored = [1] if set(classes) <= {0, 1} else classes  # -1 predictions count as misses
                out[m][cand.repo_id] = float(f1_score(labels, pred, labels=scored, average="macro", zero_division=0))
            else:
                raise ValueError(f"unknown metric {m!r}")
    return out
