"""Accuracy estimators as scorers of kind ``estimate``: each value is a predicted metric on the target (accuracy, or F1
where the search predicts F1), so its error is measured in points.

- ``atc`` / ``atc_ne``: Average Thresholded Confidence (Garg et al., ICLR 2022) with the max-confidence / negative
  entropy score, calibrated (temperature scaling) and thresholded on the labeled held-out slice of the candidate's
  declared data;
- ``doc``: Difference of Confidences (Guillory et al., ICCV 2021) on the same slice;
- ``consensus``: the pool's agreement turned into each candidate's accuracy by Dawid–Skene EM over every candidate's
  target predictions (clones merged into one voter, each candidate's own vote left out of the posterior it is graded
  against; `hfsearch.consensus`);
- ``aline``: Agreement-on-the-line, ALine-D (Baek et al., NeurIPS 2022), for candidates that share one labeled
  held-out slice (the same declared dataset), at least three of them.

Each turns its per-prediction belief into the search's metric through `ScoreInput.metric`
(`hfsearch.estimate.target.TargetMetric`): an ATC row above the threshold counts as right, and the F1 of a binary or
token task is computed from the implied counts. The maths lives in `hfsearch.estimate`; this module only wires it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..consensus import ConsensusUnavailable, DawidSkeneResult, dawid_skene
from ..estimate import EstimatorUnavailable, aline, atc, doc
from ..estimate.doc import confidence_at_mean
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
    res = _run(
        ("atc", "maxconf", bool(calibrate), array_key(zs), array_key(ys), array_key(zt)),
        lambda: atc(zs, ys, zt, score="maxconf", calibrate=bool(calibrate)),
    )
    return _predicted(inp, res.per_row)


@register_scorer("atc_ne", kind="estimate", higher_is_better=True, needs=("heldout", "logits"), calibrate=True)
def atc_negentropy(inp: ScoreInput, space: str | None = None, *, calibrate: bool = True) -> float:
    """Average Thresholded Confidence with the negative-entropy score (the variant Garg et al. recommend)."""
    zs, ys, zt = _inputs(inp)
    res = _run(
        ("atc", "negentropy", bool(calibrate), array_key(zs), array_key(ys), array_key(zt)),
        lambda: atc(zs, ys, zt, score="negentropy", calibrate=bool(calibrate)),
    )
    return _predicted(inp, res.per_row)


@register_scorer("doc", kind="estimate", higher_is_better=True, needs=("heldout", "logits"), calibrate=False)
def difference_of_confidences(inp: ScoreInput, space: str | None = None, *, calibrate: bool = False) -> float:
    """Difference of Confidences: held-out accuracy minus the drop of mean max-confidence from the held-out slice to
    the target (Guillory et al., *Predicting with Confidence on Unseen Distributions*, ICCV 2021)."""
    zs, ys, zt = _inputs(inp)
    res = _run(
        ("doc", bool(calibrate), array_key(zs), array_key(ys), array_key(zt)),
        lambda: doc(zs, ys, zt, calibrate=bool(calibrate)),
    )
    return _predicted(inp, res.per_row)


def _require_peer(inp: ScoreInput) -> None:
    if inp.candidate.repo_id not in inp.peers or inp.metric is None:
        raise ScoreUnavailable("no target-label predictions for this candidate (label alignment failed?)")


@register_scorer("consensus", kind="estimate", higher_is_better=True, needs=("pool", "logits"))
def consensus(inp: ScoreInput, space: str | None = None) -> float:
    """Predicted accuracy (or F1) from the pool's agreement: Dawid–Skene EM over every candidate's predictions.

    The true target label of each row is a latent variable; each candidate is an annotator with a confusion matrix
    (one-coin or full, chosen by BIC). Near-duplicates (same weights, or ≥ 99 % identical predictions) vote once.
    A candidate is graded against the posterior computed WITHOUT its own vote (Dawid & Skene, *Maximum Likelihood
    Estimation of Observer Error-Rates Using the EM Algorithm*, 1979). Needs at least 3 distinct candidates.
    """
    _require_peer(inp)
    res = pool_consensus(inp.peers)
    j = sorted(inp.peers).index(inp.candidate.repo_id)  # the fit's columns are the peers in name order
    return float(inp.metric.from_correct(res.loo_correct[:, j]))


def pool_consensus(peers: dict[str, Any]) -> DawidSkeneResult:
    """The Dawid–Skene fit over every candidate's target predictions, as `consensus` computes it (cached by content,
    so the scorer and the estimate stage share one fit)."""
    if not peers:
        raise ScoreUnavailable("no candidate has target-label predictions")
    names = sorted(peers)
    n_classes = peers[names[0]].probs.shape[1]
    preds = np.stack([peers[n].pred for n in names], axis=1)
    shas = [peers[n].sha or n for n in names]
    try:
        return cached(  # type: ignore[no-any-return]
            ("consensus", array_key(preds), tuple(shas), n_classes),
            lambda: dawid_skene(preds, n_classes=n_classes, group_keys=shas),
        )
    except ConsensusUnavailable as exc:
        raise ScoreUnavailable(str(exc)) from None


@register_scorer("aline", kind="estimate", higher_is_better=True, needs=("heldout", "logits", "pool"))
def agreement_on_the_line(inp: ScoreInput, space: str | None = None) -> float:
    """Predicted accuracy (or F1) by agreement-on-the-line (ALine-D): among the candidates that share this one's
    labeled held-out slice, the probit-linear relation between in-distribution and target agreement, which accuracy
    follows too (Baek et al., *Agreement-on-the-Line*, NeurIPS 2022). Needs at least 3 such candidates."""
    inp.require_heldout()
    me = inp.peers.get(inp.candidate.repo_id)
    if me is None or me.heldout is None or inp.metric is None:
        raise ScoreUnavailable("no target-label predictions on a held-out slice for this candidate")
    group = sorted(n for n, p in inp.peers.items() if p.heldout == me.heldout and p.heldout_pred is not None)
    if len(group) < 3:
        raise ScoreUnavailable(f"needs at least 3 candidates sharing the held-out slice {me.heldout}, got {len(group)}")
    id_pred = np.stack([inp.peers[n].heldout_pred for n in group])
    target_pred = np.stack([inp.peers[n].pred for n in group])
    labels = me.heldout_labels
    res = _run(
        ("aline", array_key(id_pred), array_key(labels), array_key(target_pred)),
        lambda: aline(id_pred, labels, target_pred),
    )
    value = float(res.aline_d[group.index(inp.candidate.repo_id)])
    if inp.metric.name == "accuracy":
        return value
    confidence = inp.metric.probs.max(axis=1) if inp.metric.probs.size else np.zeros(len(inp.metric.pred))
    return _predicted(inp, confidence_at_mean(confidence, value))
