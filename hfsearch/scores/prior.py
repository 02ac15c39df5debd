"""Scores from the candidate's metadata alone: reported accuracies, popularity and size."""

from __future__ import annotations

import math

from .base import ScoreInput, ScoreUnavailable, register_scorer


@register_scorer("source_accuracy", kind="non-similarity", higher_is_better=True, needs=("metadata",))
def source_accuracy(inp: ScoreInput, space: str | None = None) -> float:
    """Accuracy the model card reports on the model's own (source) test split (higher is better).

    The paper's non-similarity baseline (Zhou et al., SSDBM 2022): a model that is good on its own data is assumed
    good on yours. Read from the card's ``model-index``; unavailable when the card reports none.
    """
    acc = inp.candidate.source_accuracy
    if acc is None or not math.isfinite(float(acc)):
        raise ScoreUnavailable("the model card reports no accuracy")
    return float(acc)


@register_scorer("reported_accuracy", kind="non-similarity", higher_is_better=True, needs=("metadata", "reported"))
def reported_accuracy(inp: ScoreInput, space: str | None = None) -> float:
    """Accuracy the model reports on your own dataset (and split), from its card, .eval_results or a leaderboard.

    Read from the card's ``model-index`` (a result whose dataset is the target's Hub id), the model repository's
    ``.eval_results/*.yaml`` files, or the target's leaderboard when it is a benchmark dataset — in that order of
    preference, the split and config agreeing with the target's wherever both are stated (see
    `hfsearch.candidates.reported`). When a model reports a result on exactly your data, that is the most direct
    evidence there is; most models report none (unavailable, with what was looked at). Higher is better.
    """
    from ..candidates.reported import reported_accuracy_of

    found, why = reported_accuracy_of(inp.candidate)
    if found is None:
        raise ScoreUnavailable(why)
    return float(found.value)


@register_scorer("popularity", kind="prior", higher_is_better=True, needs=("metadata",))
def popularity(inp: ScoreInput, space: str | None = None) -> float:
    """Hub downloads, ties broken by likes (higher is better).

    value = downloads + likes / (likes + 1): the fractional part grows with likes and stays below 1, so the order is
    (downloads, likes) lexicographically (exactly up to ~10⁹ downloads). A static prior that any method must beat.
    """
    downloads = inp.candidate.downloads
    if downloads is None:
        raise ScoreUnavailable("no download count in the metadata")
    likes = max(int(inp.candidate.likes or 0), 0)
    return float(downloads) + likes / (likes + 1.0)


@register_scorer("size", kind="prior", higher_is_better=True, needs=("metadata",))
def size(inp: ScoreInput, space: str | None = None) -> float:
    """Number of parameters (higher is better: the naive "bigger is better" prior).

    Taken from the safetensors metadata; unavailable when unknown.
    """
    n = inp.candidate.num_params
    if n is None:
        raise ScoreUnavailable("parameter count unknown")
    return float(n)
