"""Accuracy estimators as scorers of kind ``estimate``: each value is a predicted metric on the target (accuracy, or F1
where the search predicts F1), so its error is measured in points.

- ``atc`` / ``atc_ne``: Average Thresholded Confidence (Garg et al., ICLR 2022) with the max-confidence / negative
  entropy score, calibrated (temperature scaling) and thresholded on the labeled held-out slice of the candidate's
  declared data;
- ``doc``: Difference of Confidences (Guillory et al., ICCV 2021) on the same slice.

Each turns its per-prediction belief into the search's metric through `ScoreInput.metric`
(`hfsearch.estimate.target.TargetMetric`): an ATC row above the threshold counts as right, and the F1 of a binary or
token task is computed from the implied counts. The maths lives in `hfsearch.estimate`; this module only wires it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..estimate import EstimatorUnavailable, atc, doc
from ..scores.histograms import array_key, cached
from .base import ScoreInput, ScoreUnavailable, register_scorer


def _inputs(inp: ScoreInput) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    held = inp.require_heldout()
    if inp.target.logits is None:
        raise ScoreUnavailable("no target logits")
    if inp.metric is None:
        raise ScoreUnavailable("no target-label predictions for this candidate (label alignment failed?)")
    assert held.logits is not None and held.labels is not None
    return held.logits, held.labels, inp.target.logits


def _predicted(inp: ScoreInput, per_row: np.ndarray) -> float:
    """The search's metric from per-prediction probabilities of being right (a prediction of a model label without
    a target counterpart is wrong whatever its confidence)."""
    correct = np.where(inp.metric.pred >= 0, per_row, 0.0)
    return float(inp.metric.from_correct(correct))


def _run(key: tuple, fn: Any) -> Any:
    try:
        return cached(key, fn)
    except EstimatorUnavailable as exc:
        raise ScoreUnavailable(exc.reason) from None


@register_scorer("atc", kind="estimate", higher_is_better=True, needs=("heldout", "logits"), calibrate=True)
def atc_maxconf(inp: ScoreInput, space: str | None = None, *, calibrate: bool = True) -> float:
    """Average Thresholded Confidence, max-softmax score: a predicted accuracy (or F1) on the target.

    On the candidate's labeled held-out slice, fit a temperature (NLL), then the threshold t such that the share of
    held-out rows whose max-softmax exceeds t equals the held-out accuracy; the predicted target accuracy is the
    share of target rows above t (Garg et al., *Leveraging Unlabeled Data to Predict Out-of-Distribution
    Performance*, ICLR 2022).
    """
    zs, ys, zt = _inputs(inp)
    res = _run(("atc", "maxconf", bool(calibrate), array_key(zs), array_key(ys), array_key(zt)),
               lambda: atc(zs, ys, zt, score="maxconf", calibrate=bool(calibrate)))
    return _predicted(inp, res.per_row)


@register_scorer("atc_ne", kind="estimate", higher_is_better=True, needs=("heldout", "logits"), calibrate=True)
def atc_negentropy(inp: ScoreInput, space: str | None = None, *, calibrate: bool = True) -> float:
    """Average Thresholded Confidence with the negative-entropy score (the variant Garg et al. recommend)."""
    zs, ys, zt = _inputs(inp)
    res = _run(("atc", "negentropy", bool(calibrate), array_key(zs), array_key(ys), array_key(zt)),
               lambda: atc(zs, ys, zt, score="negentropy", calibrate=bool(calibrate)))
    return _predicted(inp, res.per_row)


@register_scorer("doc", kind="estimate", higher_is_better=True, needs=("heldout", "logits"), calibrate=False)
def difference_of_confidences(inp: ScoreInput, space: str | None = None, *, calibrate: bool = False) -> float:
    """Difference of Confidences: held-out accuracy minus the drop of mean max-confidence from the held-out slice to
    the target (Guillory et al., *Predicting with Confidence on Unseen Distributions*, ICCV 2021)."""
    zs, ys, zt = _inputs(inp)
    res = _run(("doc", bool(calibrate), array_key(zs), array_key(ys), array_key(zt)),
               lambda: doc(zs, ys, zt, calibrate=bool(calibrate)))
    return _predicted(inp, res.per_row)
