"""From an estimator's per-prediction belief to a predicted metric on the target (accuracy, or F1 where graded by F1).

Every accuracy estimator ends in the same place: a belief, for each prediction the candidate makes on the target,
about the true target label. Two shapes are accepted:

- ``correct`` `(n,)`: the probability that each prediction is right (ATC's thresholded indicator, DoC's shifted
  confidence). The remaining mass is spread over the other target classes in proportion to the model's own
  probabilities for them (`correctness_posterior`), which is what an F1 needs to count misses;
- ``posterior`` `(n, C)`: a distribution over the true target class of each prediction (Dawid–Skene's consensus).

The task turns a posterior into its metric (`TaskAdapter.expected_metric`): expected accuracy, the F1 of expected
counts for classification, entity F1 for token classification. So every estimator is reported in the unit the
workload is graded in, and its error is measured in points.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..consensus.metric import expected_metric


def target_probabilities(probs: np.ndarray, label_map: dict[int, int] | None, n_target: int) -> np.ndarray:
    """Model-space probabilities `(n, K)` summed onto the target's classes `(n, n_target)` through `label_map`
    (model index → target index); mass on model labels without a target counterpart is dropped."""
    out = np.zeros((len(probs), n_target), dtype=np.float64)
    for m, t in (label_map or {}).items():
        if 0 <= m < probs.shape[1] and 0 <= t < n_target:
            out[:, t] += probs[:, m]
    return out


def correctness_posterior(correct: np.ndarray, pred: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """A posterior over the true class from the probability `correct` that each prediction `pred` is right.

    q[i, pred_i] = correct_i; the rest, 1 − correct_i, goes to the other classes in proportion to `probs[i]` (the
    model's target-space probabilities), uniformly where those are all zero. A prediction without a target
    counterpart (``pred_i = -1``) is wrong for sure: q[i] = probs[i] normalised.

    Args:
        correct (`np.ndarray`): `(n,)` values in [0, 1].
        pred (`np.ndarray`): `(n,)` target class ids, ``-1`` for none.
        probs (`np.ndarray`): `(n, C)` target-space probabilities of the model.

    Returns:
        `np.ndarray`: `(n, C)` rows summing to 1.
    """
    n, c = probs.shape
    correct = np.clip(np.asarray(correct, dtype=np.float64), 0.0, 1.0)
    pred = np.asarray(pred, dtype=np.int64)
    has = pred >= 0
    rows = np.arange(n)
    other = np.array(probs, dtype=np.float64, copy=True)
    other[rows[has], pred[has]] = 0.0
    total = other.sum(axis=1, keepdims=True)
    uniform = np.ones((n, c)) / max(c - 1, 1)
    uniform[rows[has], pred[has]] = 0.0
    if c == 1:
        uniform[:] = 1.0
    spread = np.where(total > 0, other / np.where(total > 0, total, 1.0), uniform)
    q = spread * np.where(has, 1.0 - correct, 1.0)[:, None]
    q[rows[has], pred[has]] = correct[has]
    return q / q.sum(axis=1, keepdims=True)


def expected_accuracy(q: np.ndarray, pred: np.ndarray) -> float:
    """Expected accuracy of `pred` under the posterior `q` (see `hfsearch.consensus.metric.expected_metric`)."""
    return expected_metric(q, pred, "accuracy") if len(pred) else float("nan")


def expected_f1(q: np.ndarray, pred: np.ndarray, positive: int = 1) -> float:
    """F1 of expected counts under the posterior `q`, defined as the ground truth defines F1.

    For class c: E[TP_c] = Σ_{i: pred_i = c} q[i, c], E[FP_c] = Σ_{i: pred_i = c} (1 − q[i, c]), E[FN_c] =
    Σ_{i: pred_i ≠ c} q[i, c]; F1_c = 2 E[TP_c] / (2 E[TP_c] + E[FP_c] + E[FN_c]). Two classes: the F1 of the
    `positive` class (as the ground truth of entity matching); more: the macro mean over the classes expected to
    occur (expected support ≥ ½), as the ground truth's macro F1 over the classes present. With a one-hot `q` this
    is exactly the ground truth (`TaskAdapter.evaluate`).
    """
    pred = np.asarray(pred, dtype=np.int64)
    n, c = q.shape
    onehot = np.zeros((n, c))
    has = pred >= 0
    onehot[np.arange(n)[has], pred[has]] = 1.0
    tp = (onehot * q).sum(axis=0)
    denom = 2 * tp + (onehot * (1.0 - q)).sum(axis=0) + ((1.0 - onehot) * q).sum(axis=0)
    f1 = np.divide(2 * tp, denom, out=np.zeros(c), where=denom > 0)
    if c == 2:
        return float(f1[positive])
    present = q.sum(axis=0) >= 0.5
    return float(f1[present].mean()) if present.any() else 0.0


@dataclass
class TargetMetric:
    """How estimates of one candidate become its predicted metric on the target.

    Args:
        name (`str`): the metric (``"accuracy"`` or ``"f1"``).
        pred (`np.ndarray`): `(n,)` the candidate's predicted target class per prediction (``-1``: none).
        probs (`np.ndarray`): `(n, C)` its target-space probabilities.
        expected (`Callable[[np.ndarray, np.ndarray], float]`): the task's metric of predictions under a posterior
            (``expected(q, pred)``, see `TaskAdapter.expected_metric`).
    """

    name: str
    pred: np.ndarray
    probs: np.ndarray
    expected: Callable[[np.ndarray, np.ndarray], float]

    def from_correct(self, correct: np.ndarray) -> float:
        """The metric implied by per-prediction probabilities of being right."""
        return self.expected(correctness_posterior(correct, self.pred, self.probs), self.pred)

    def from_posterior(self, q: np.ndarray) -> float:
        """The metric implied by a posterior over the true classes."""
        return self.expected(q, self.pred)
