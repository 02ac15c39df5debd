"""Label-free accuracy proxies computed from the candidate's predictions on the target (no source data needed)."""

from __future__ import annotations

import numpy as np

from .base import ScoreInput, ScoreUnavailable, register_scorer, softmax


def _logits(inp: ScoreInput) -> np.ndarray:
    z = inp.target.logits
    if z is None:
        raise ScoreUnavailable("no target logits")
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 2 or z.shape[0] == 0 or z.shape[1] == 0:
        raise ScoreUnavailable(f"target logits have shape {z.shape}")
    if not np.all(np.isfinite(z)):
        raise ScoreUnavailable("target logits contain NaN or infinite values")
    return z


def _logsumexp(z: np.ndarray) -> np.ndarray:
    m = z.max(axis=1)
    return m + np.log(np.exp(z - m[:, None]).sum(axis=1))


@register_scorer("confidence", kind="non-similarity", higher_is_better=True, needs=("logits",))
def confidence(inp: ScoreInput, space: str | None = None) -> float:
    """Mean max-softmax probability on the target (higher is better).

    conf = (1/n) Σ_i max_c softmax(z_i)_c ∈ [1/C, 1] (Hendrycks & Gimpel, ICLR 2017; as an accuracy estimate:
    "average confidence", Guillory et al., ICCV 2021).
    """
    return float(softmax(_logits(inp)).max(axis=1).mean())


@register_scorer("entropy", kind="non-similarity", higher_is_better=False, needs=("logits",))
def entropy(inp: ScoreInput, space: str | None = None) -> float:
    """Mean prediction entropy on the target, in nats (LOWER is better; 0 ≤ value ≤ ln C).

    H = −(1/n) Σ_i Σ_c p_ic log p_ic with p_i = softmax(z_i). The value is the entropy itself (not negated); the
    registry declares ``higher_is_better=False`` so rankings order it correctly.
    """
    z = _logits(inp)
    logp = z - _logsumexp(z)[:, None]
    return float(-(np.exp(logp) * logp).sum(axis=1).mean())


@register_scorer("energy", kind="non-similarity", higher_is_better=True, needs=("logits",))
def energy(inp: ScoreInput, space: str | None = None) -> float:
    """Mean negative free energy on the target: (1/n) Σ_i log Σ_c exp(z_ic) (higher is better).

    The energy score of Liu et al., *Energy-based Out-of-distribution Detection* (NeurIPS 2020), E(x) =
    −T·logsumexp(z/T) with T = 1, negated: a higher value means more in-distribution inputs. It depends on the
    logits' scale, so it compares candidates of similar calibration best.
    """
    return float(_logsumexp(_logits(inp)).mean())


@register_scorer("nuclear_norm", kind="non-similarity", higher_is_better=True, needs=("logits",))
def nuclear_norm(inp: ScoreInput, space: str | None = None) -> float:
    """Normalised nuclear norm of the target prediction matrix (higher is better; value in (0, 1]).

    ‖P‖_* / √(n · min(n, C)) with P the n×C softmax matrix: Deng et al., *Confidence and Dispersity Speak:
    Characterising Prediction Matrix for Unsupervised Accuracy Estimation* (ICML 2023). √(n·min(n, C)) is the
    largest nuclear norm a row-stochastic n×C matrix can have, reached by confident predictions spread evenly over
    the classes, so the score rewards both confidence and dispersity.
    """
    return nuclear_norm_value(softmax(_logits(inp)))


def nuclear_norm_value(p: np.ndarray) -> float:
    """‖P‖_* / √(n · min(n, C)) of an n×C row-stochastic matrix `p`."""
    n, c = p.shape
    # singular values = sqrt of the eigenvalues of the small C×C Gram matrix
    w = np.linalg.eigvalsh(p.T @ p)
    return float(np.sqrt(np.clip(w, 0.0, None)).sum() / np.sqrt(n * min(n, c)))


@register_scorer("nuclear_norm_cal", kind="non-similarity", higher_is_better=True, needs=("logits", "heldout"))
def nuclear_norm_calibrated(inp: ScoreInput, space: str | None = None) -> float:
    """`nuclear_norm` of the calibrated prediction matrix: softmax(z / T) on the target, with the temperature T fitted
    by temperature scaling (Guo et al., ICML 2017) on the candidate's labeled held-out slice, as `atc` calibrates.

    The nuclear norm reads confidence, and checkpoints of different architectures or training recipes are confident
    to different degrees at the same accuracy (a small model trained from scratch is often over-confident, a briefly
    fine-tuned one under-confident); calibrating each on its own labeled data first puts them on one scale. Needs the
    held-out slice (else unavailable, and `nuclear_norm` remains).
    """
    from ..estimate import EstimatorUnavailable
    from ..estimate.calibration import fit_temperature
    from ..estimate.calibration import softmax as tempered_softmax
    from .histograms import array_key, cached

    held = inp.require_heldout()
    assert held.logits is not None and held.labels is not None
    try:
        t = cached(
            ("temperature", array_key(held.logits), array_key(held.labels)),
            lambda: fit_temperature(held.logits, held.labels),
        )
    except EstimatorUnavailable as exc:
        raise ScoreUnavailable(exc.reason) from None
    return nuclear_norm_value(tempered_softmax(_logits(inp), t))


@register_scorer("agreement", kind="non-similarity", higher_is_better=True, needs=("logits", "pool"))
def agreement(inp: ScoreInput, space: str | None = None) -> float:
    """Agreement of the candidate's target-label predictions with the majority vote of all candidates.

    agreement = (1/|R|) Σ_{i ∈ R} 1[ŷ_i ∈ M_i] / |M_i| (higher is better), where M_i is the set of target labels
    with the most votes on row i among all candidates in the pool (the candidate itself included; ``-1`` — no
    target counterpart — is not a vote), R the rows with at least one vote. A tie shares the credit
    (1/|M_i|) instead of favouring one label. Agreement-on-the-line / ensemble agreement as an accuracy proxy:
    Baek et al., NeurIPS 2022; Jiang et al., ICLR 2022. Needs at least two candidates.
    """
    pool = inp.pool or {}
    own = pool.get(inp.candidate.repo_id)
    if own is None:
        raise ScoreUnavailable("no target-label predictions for this candidate (label alignment failed?)")
    if len(pool) < 2:
        raise ScoreUnavailable("agreement needs at least 2 candidates with target-label predictions")
    own = np.asarray(own, dtype=np.int64)
    preds = []
    for name, p in sorted(pool.items()):
        p = np.asarray(p, dtype=np.int64)
        if p.shape != own.shape:
            raise ScoreUnavailable(f"predictions of {name} have {p.shape} rows, expected {own.shape}")
        preds.append(p)
    stack = np.stack(preds)  # (models, rows)
    n_labels = int(stack.max()) + 1
    if n_labels <= 0:
        raise ScoreUnavailable("no candidate predicts a target label")
    rows = np.broadcast_to(np.arange(stack.shape[1]), stack.shape)
    ok = stack >= 0
    votes = np.bincount(rows[ok] * n_labels + stack[ok], minlength=stack.shape[1] * n_labels)
    votes = votes.reshape(stack.shape[1], n_labels)
    top = votes.max(axis=1)
    voted = top > 0
    if not voted.any():
        raise ScoreUnavailable("no row has a vote")
    is_top = (votes == top[:, None]) & voted[:, None]
    n_top = is_top.sum(axis=1)
    own_top = np.zeros(len(own), dtype=bool)
    has = own >= 0
    own_top[has] = is_top[np.arange(len(own))[has], own[has]]
    credit = np.where(own_top, 1.0 / np.maximum(n_top, 1), 0.0)
    return float(credit[voted].mean())
