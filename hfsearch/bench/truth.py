"""Ground truth for benchmark mode: how accurate each candidate really is on the labeled target.

Labels are read only here, after scoring; no scorer ever sees them. The metric itself is the task's
(`TaskAdapter.evaluate`): accuracy / F1 per row for classification, entity-level F1 for token classification.
"""

from __future__ import annotations

import numpy as np

from ..search import Search


def true_metrics(search: Search, metrics: tuple[str, ...] = ("accuracy",)) -> dict[str, dict[str, float]]:
    """``{metric: {repo_id: value}}`` for every scored candidate, from its mapped predictions on the target.

    Predictions of model labels with no target counterpart count as wrong.
    """
    assert search.target is not None
    labels = search.target.labels
    if labels is None:
        raise ValueError("the target has no labels: benchmark mode needs a labeled split")
    if not isinstance(labels, np.ndarray):
        labels = np.asarray(labels)
    out: dict[str, dict[str, float]] = {m: {} for m in metrics}
    for cand in search.candidates:
        pred = search.predictions(cand)
        if pred is None:
            continue
        for m in metrics:
            out[m][cand.repo_id] = search.adapter.evaluate(m, labels, pred, search.target_label_names)
    return out
