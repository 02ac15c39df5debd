"""Symmetric histogram baselines: JSD, KL (both directions) and L2D between whole datasets.

The paper's baselines (Zhou et al., SSDBM 2022, arXiv 2206.00188): the JSD between whole-dataset histograms and
L2D, the Euclidean distance between per-feature means after min–max normalisation (for text, between the
top-300 word distributions). All are distances: lower is better.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import RawData, ScoreInput, ScoreUnavailable, register_scorer
from .histograms import as_features, kl_divergence, whole_histograms
from .histograms import jsd as _jsd

SPACES = ("raw", "reference", "model")


def _pair(inp: ScoreInput, space: str | None) -> tuple[Any, Any]:
    space = space or "raw"
    return inp.require_source().space(space), inp.target.space(space)


@register_scorer(
    "jsd",
    kind="similarity",
    higher_is_better=False,
    needs=("source",),
    spaces=SPACES,
    bins=100,
    top_words=300,
    projections=10,
    seed=0,
)
def jsd(
    inp: ScoreInput, space: str | None, *, bins: int = 100, top_words: int = 300, projections: int = 10, seed: int = 0
) -> float:
    """Jensen–Shannon divergence between the whole-dataset histograms of source and target (lower is better).

    JSD(p, q) = ½ KL(p ‖ m) + ½ KL(q ‖ m), m = ½(p + q), natural log, 0 ≤ JSD ≤ ln 2 (Lin, 1991; the paper's
    symmetric baseline). Histograms: raw text — frequencies of the top ``top_words`` words of both datasets
    (+ the edge-case bin); raw numeric — all values on the pooled [min, max] range of the two datasets, ``bins``
    bins (a shared range, so a shift between the datasets shows); reference/model — the sliced histogram over
    ``projections`` seeded random directions (``bins`` bins in all, pooled ranges).
    """
    s, t = _pair(inp, space)
    hs, ht = whole_histograms(s, t, bins=bins, seed=seed, top_words=top_words, projections=projections)
    return _jsd(hs, ht)


def _kl(
    inp: ScoreInput,
    space: str | None,
    reverse: bool,
    bins: int,
    top_words: int,
    projections: int,
    seed: int,
    eps: float,
) -> float:
    s, t = _pair(inp, space)
    hs, ht = whole_histograms(s, t, bins=bins, seed=seed, top_words=top_words, projections=projections)
    return kl_divergence(hs, ht, eps) if reverse else kl_divergence(ht, hs, eps)


@register_scorer(
    "kl",
    kind="similarity",
    higher_is_better=False,
    needs=("source",),
    spaces=SPACES,
    bins=100,
    top_words=300,
    projections=10,
    seed=0,
    eps=1e-6,
)
def kl(
    inp: ScoreInput,
    space: str | None,
    *,
    bins: int = 100,
    top_words: int = 300,
    projections: int = 10,
    seed: int = 0,
    eps: float = 1e-6,
) -> float:
    """KL(target ‖ source) between the whole-dataset histograms, smoothed (lower is better).

    KL(p̃_T ‖ p̃_S) = Σ p̃_T log(p̃_T / p̃_S), p̃ = (p + eps) / Σ(p + eps) (Kullback & Leibler, 1951). This
    direction penalises target mass where the source has little: "does the source cover the target?". Same
    histograms as ``jsd``. ``kl_rev`` is the other direction.
    """
    return _kl(inp, space, False, bins, top_words, projections, seed, eps)


@register_scorer(
    "kl_rev",
    kind="similarity",
    higher_is_better=False,
    needs=("source",),
    spaces=SPACES,
    bins=100,
    top_words=300,
    projections=10,
    seed=0,
    eps=1e-6,
)
def kl_rev(
    inp: ScoreInput,
    space: str | None,
    *,
    bins: int = 100,
    top_words: int = 300,
    projections: int = 10,
    seed: int = 0,
    eps: float = 1e-6,
) -> float:
    """KL(source ‖ target) between the whole-dataset histograms, smoothed (lower is better).

    KL(p̃_S ‖ p̃_T) = Σ p̃_S log(p̃_S / p̃_T), the reverse of ``kl``: penalises source mass absent from the target.
    """
    return _kl(inp, space, True, bins, top_words, projections, seed, eps)


def _minmax_center(x: np.ndarray) -> np.ndarray:
    """Per-feature mean after min–max normalising the whole array by its own global min and max (the authors'
    ``data_to_center``)."""
    lo, hi = float(np.min(x)), float(np.max(x))
    return ((x - lo) / (hi - lo if hi > lo else 1.0)).mean(axis=0)


@register_scorer("l2d", kind="similarity", higher_is_better=False, needs=("source",), spaces=SPACES, top_words=300)
def l2d(inp: ScoreInput, space: str | None, *, top_words: int = 300) -> float:
    """L2D: Euclidean distance between the datasets' "centres" (lower is better; the paper's baseline).

    Numeric rows and reference/model features: ‖c_S − c_T‖₂ with c = per-feature mean after min–max
    normalising each dataset by its own global min and max (the authors' ``data_to_center``). Raw text: the
    Euclidean distance between the two whole-dataset distributions over the top ``top_words`` words of both
    (+ the edge-case bin), as the authors' ``l2d_btw_domains``.
    """
    s, t = _pair(inp, space)
    if isinstance(t, RawData):
        if not isinstance(s, RawData) or s.kind != t.kind:
            raise ScoreUnavailable("source and target are in different spaces")
        if t.kind == "text":
            ps, pt = whole_histograms(s, t, top_words=top_words)
            return float(np.linalg.norm(ps - pt))
        xs = np.asarray(s.values, dtype=np.float64).reshape(len(s), -1)
        xt = np.asarray(t.values, dtype=np.float64).reshape(len(t), -1)
    else:
        xs, xt = as_features(s), as_features(t)
    if xs.shape[1] != xt.shape[1]:
        raise ScoreUnavailable(f"source and target have different widths ({xs.shape[1]} vs {xt.shape[1]})")
    return float(np.linalg.norm(_minmax_center(xs) - _minmax_center(xt)))
