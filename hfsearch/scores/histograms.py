"""Partitions, histograms and divergences shared by the raw-space (and histogram-based embedding) scorers.

Everything here is pure and deterministic for a given seed, and vectorised with numpy. The paper's
(Zhou et al., *Benchmark of DNN Model Search at Deployment Time*, SSDBM 2022, arXiv 2206.00188) histograms:

- **numeric** rows (flattened pixels, sensor windows): all values of a partition are flattened, min–max
  normalised to [0, 1] *within the partition* (as the authors' ``data_to_probability`` does), and counted in a
  normalised ``bins``-bin histogram. A constant partition (max = min) puts all its mass in bin 0.
- **text** rows: lowercase words of two or more word characters (scikit-learn's default ``token_pattern``),
  minus scikit-learn's ``ENGLISH_STOP_WORDS``. The vocabulary is the ``top_words`` most frequent words of the
  two datasets *together* (counts added, ties broken alphabetically, as the authors' ``ct1 + ct2``): a common
  coordinate system for both sides. A histogram holds the frequencies of those words plus one extra bin that
  receives all the mass of a partition containing none of them (the authors' edge-case bin), so every
  histogram is a probability vector of length ``top_words + 1``.
- **embeddings** (``reference``/``model`` spaces): rows are projected on ``projections`` fixed seeded random
  unit directions; each direction gets ``bins // projections`` equal bins over the range of the two datasets
  pooled; the concatenation, normalised, is the histogram (a "sliced" histogram with ``bins`` bins in all).

Partitions: rows are shuffled with ``numpy.random.default_rng(seed)`` and cut into ``max(1, n // size)``
near-equal contiguous chunks (sizes differ by at most one row). The authors cut exact ``size``-row chunks plus
a shorter remainder; spreading the remainder avoids a tiny, noisy last partition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ScorerError
from .base import RawData, ScoreUnavailable
from .memo import (  # noqa: F401  (re-exported: the scorers import them from here)
    CACHE_MAX_BYTES,
    CACHE_MAX_ENTRIES,
    array_key,
    cached,
    clear_cache,
    data_key,
    texts_key,
)

LN2 = float(np.log(2.0))
_TOKEN = re.compile(r"(?u)\b\w\w+\b")


#: scikit-learn's ``ENGLISH_STOP_WORDS``, as a file of the package (importing scikit-learn costs ~0.5 s per search).
STOP_WORDS_FILE = Path(__file__).resolve().parents[1] / "resources" / "stop_words_en.txt"


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """scikit-learn's ``ENGLISH_STOP_WORDS`` (318 words), read from `STOP_WORDS_FILE`."""
    lines = STOP_WORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip() for w in lines if w.strip() and not w.startswith("#"))


# --------------------------------------------------------------------------------------------- divergences
def _xlogx_sum(p: np.ndarray, axis: int = -1) -> np.ndarray:
    """sum p log p along `axis`, with 0 log 0 = 0."""
    return (p * np.log(np.where(p > 0, p, 1.0))).sum(axis=axis)


def normalize_rows(h: np.ndarray) -> np.ndarray:
    """Rows divided by their sums (rows that sum to zero stay zero)."""
    h = np.asarray(h, dtype=np.float64)
    s = h.sum(axis=-1, keepdims=True)
    return np.divide(h, s, out=np.zeros_like(h), where=s > 0)


def jsd(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen–Shannon divergence (natural log) of two discrete distributions: 0 ≤ JSD ≤ ln 2.

    JSD(p, q) = ½ KL(p ‖ m) + ½ KL(q ‖ m), m = ½ (p + q).
    """
    p = normalize_rows(np.asarray(p, dtype=np.float64))
    q = normalize_rows(np.asarray(q, dtype=np.float64))
    m = 0.5 * (p + q)
    value = -_xlogx_sum(m) + 0.5 * (_xlogx_sum(p) + _xlogx_sum(q))
    return float(min(max(value, 0.0), LN2))


def jsd_matrix(P: np.ndarray, Q: np.ndarray, *, max_elements: int = 1 << 22) -> np.ndarray:
    """Pairwise JSD between the rows of `P` ``(a, B)`` and of `Q` ``(b, B)``: an ``(a, b)`` matrix (rows are
    normalised to sum to one).

    Uses JSD = H(m) − ½ (H(p) + H(q)) with the ``(a, b, B)`` mixture computed in chunks of at most
    `max_elements` values.
    """
    P = normalize_rows(P)
    Q = normalize_rows(Q)
    hp = _xlogx_sum(P)  # = -H(p)
    hq = _xlogx_sum(Q)
    out = np.empty((len(P), len(Q)))
    step = max(1, max_elements // max(1, Q.shape[0] * Q.shape[1]))
    for s in range(0, len(P), step):
        m = 0.5 * (P[s : s + step, None, :] + Q[None, :, :])
        out[s : s + step] = -_xlogx_sum(m) + 0.5 * (hp[s : s + step, None] + hq[None, :])
    return np.clip(out, 0.0, LN2)


def jsd_pairs(P: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """JSD between ``P[k]`` and ``Q[k]`` for every k (row-aligned pairs)."""
    P = normalize_rows(P)
    Q = normalize_rows(Q)
    m = 0.5 * (P + Q)
    return np.clip(-_xlogx_sum(m) + 0.5 * (_xlogx_sum(P) + _xlogx_sum(Q)), 0.0, LN2)


def hellinger_sq_matrix(P: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """Pairwise squared Hellinger distances H² = ½‖√p − √q‖² = 1 − Σ√(pq), by one matrix product."""
    return np.clip(1.0 - np.sqrt(normalize_rows(P)) @ np.sqrt(normalize_rows(Q)).T, 0.0, 1.0)


def jsd_below(P: np.ndarray, Q: np.ndarray, tau: float, *, dense_share: float = 0.25) -> np.ndarray:
    """``(a, b)`` booleans: JSD(P_i, Q_j) < tau, computed exactly but only where it can hold.

    Per bin, ½[p ln(2p/(p+q)) + q ln(2q/(p+q))] ≥ ln 2 · ½(√p − √q)² (a one-variable inequality, tight at
    q = 0), so JSD ≥ ln 2 · H². Every pair with ln 2 · H² ≥ tau is therefore not close; H² for all pairs costs one
    BLAS product, and the logarithms are computed only for the remaining pairs (all of them, by `jsd_matrix`,
    when more than `dense_share` of the pairs remain). The result equals ``jsd_matrix(P, Q) < tau``.
    """
    P, Q = normalize_rows(P), normalize_rows(Q)
    maybe = LN2 * (hellinger_sq_matrix(P, Q) - 1e-9) < tau  # 1e-9: rounding of the product
    if maybe.mean() > dense_share:
        return jsd_matrix(P, Q) < tau
    out = np.zeros(maybe.shape, dtype=bool)
    rows, cols = np.nonzero(maybe)
    hp, hq = _xlogx_sum(P), _xlogx_sum(Q)
    step = 1 << 15
    for s in range(0, len(rows), step):
        r, c = rows[s : s + step], cols[s : s + step]
        d = -_xlogx_sum(0.5 * (P[r] + Q[c])) + 0.5 * (hp[r] + hq[c])
        out[r[d < tau], c[d < tau]] = True
    return out


def kl_divergence(p: np.ndarray, q: np.ndarray, eps: float = 1e-6) -> float:
    """Smoothed KL(p ‖ q) = Σ p̃ log(p̃ / q̃), with p̃ = (p + eps) / Σ(p + eps) (additive smoothing)."""
    p = np.asarray(p, dtype=np.float64) + eps
    q = np.asarray(q, dtype=np.float64) + eps
    p /= p.sum()
    q /= q.sum()
    return float(max(np.sum(p * np.log(p / q)), 0.0))


# --------------------------------------------------------------------------------------------- partitions
def partition_labels(n: int, size: int, seed: int) -> tuple[np.ndarray, int]:
    """Partition id of every row: a seeded shuffle cut into ``max(1, n // size)`` near-equal chunks."""
    if n <= 0:
        raise ScoreUnavailable("empty sample")
    size = max(1, int(size))
    k = max(1, n // size)
    perm = np.random.default_rng(seed).permutation(n)
    labels = np.empty(n, dtype=np.int64)
    labels[perm] = (np.arange(n) * k) // n
    return labels, k


def auto_partition_size(n_source: int, n_target: int, *, per_side: int = 16, lo: int = 8, hi: int = 500) -> int:
    """``clip(min(n_source, n_target) // per_side, lo, hi)``: one size for both sides (equal-size partitions keep
    the JSDs comparable) giving the smaller side ``per_side`` partitions, never more than the paper's 500 rows."""
    return int(np.clip(min(n_source, n_target) // per_side, lo, hi))


# --------------------------------------------------------------------------------------------- numeric
def numeric_histograms(values: np.ndarray, labels: np.ndarray, k: int, bins: int = 100) -> np.ndarray:
    """``(k, bins)`` histograms: per partition, all values flattened, min–max normalised, binned."""
    v = np.asarray(values, dtype=np.float64).reshape(len(values), -1)
    if not np.all(np.isfinite(v)):
        raise ScoreUnavailable("numeric values contain NaN or infinite entries")
    mins = np.full(k, np.inf)
    maxs = np.full(k, -np.inf)
    np.minimum.at(mins, labels, v.min(axis=1))
    np.maximum.at(maxs, labels, v.max(axis=1))
    span = maxs - mins
    span = np.where(span > 0, span, 1.0)  # a constant partition puts everything in bin 0
    idx = np.clip(((v - mins[labels, None]) / span[labels, None] * bins).astype(np.int64), 0, bins - 1)
    idx += (labels * bins)[:, None]
    counts = np.bincount(idx.ravel(), minlength=k * bins).reshape(k, bins).astype(np.float64)
    return normalize_rows(counts)


def value_histogram(values: np.ndarray, bins: int, lo: float, hi: float) -> np.ndarray:
    """A normalised histogram of all values on the fixed range [lo, hi]."""
    v = np.asarray(values, dtype=np.float64).ravel()
    if not np.all(np.isfinite(v)):
        raise ScoreUnavailable("numeric values contain NaN or infinite entries")
    span = hi - lo if hi > lo else 1.0
    idx = np.clip(((v - lo) / span * bins).astype(np.int64), 0, bins - 1)
    return normalize_rows(np.bincount(idx, minlength=bins).astype(np.float64))


# --------------------------------------------------------------------------------------------- text
def tokenize(text: str) -> list[str]:
    """Lowercase words of 2+ word characters, English stop words removed."""
    stop = stop_words()
    return [w for w in _TOKEN.findall(text.lower()) if w not in stop]


@dataclass(frozen=True)
class TextIndex:
    """The tokens of a list of texts: a local vocabulary and, per token, its word id and its row."""

    words: tuple[str, ...]
    counts: np.ndarray  # count per local word
    token_word: np.ndarray  # local word id per token
    token_row: np.ndarray  # row per token
    n_rows: int


def text_index(texts: list[str]) -> TextIndex:
    """Tokenise once per distinct list of texts (cached by content).

    The per-token work runs in C (``re.findall``, ``map`` over dicts); stop words are dropped per distinct word.
    """

    def build() -> TextIndex:
        toks = [_TOKEN.findall((t if isinstance(t, str) else str(t)).lower()) for t in texts]
        lengths = np.fromiter(map(len, toks), dtype=np.int64, count=len(toks))
        flat = list(chain.from_iterable(toks))
        words = list(dict.fromkeys(flat))  # distinct words in order of first appearance
        pos = {w: i for i, w in enumerate(words)}
        ids = np.fromiter(map(pos.__getitem__, flat), dtype=np.int64, count=len(flat))
        stop = stop_words()
        is_stop = np.fromiter((w in stop for w in words), dtype=bool, count=len(words))
        keep_word = ~is_stop
        new_id = np.cumsum(keep_word) - 1  # ids among the kept words
        keep_tok = keep_word[ids] if len(ids) else np.zeros(0, bool)
        token_word = new_id[ids[keep_tok]] if len(ids) else np.zeros(0, np.int64)
        token_row = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)[keep_tok]
        kept = tuple(w for w, k in zip(words, keep_word.tolist()) if k)
        return TextIndex(
            words=kept,
            counts=np.bincount(token_word, minlength=len(kept)),
            token_word=token_word,
            token_row=token_row,
            n_rows=len(texts),
        )

    return cached(texts_key(texts), build)


def shared_vocabulary(a: TextIndex, b: TextIndex, top_words: int = 300) -> tuple[str, ...]:
    """The `top_words` most frequent words of both datasets together (counts added; ties alphabetical)."""

    def build() -> tuple[str, ...]:
        total: dict[str, int] = dict(zip(a.words, a.counts.tolist()))
        for w, c in zip(b.words, b.counts.tolist()):
            total[w] = total.get(w, 0) + c
        if not total:
            return ()
        words = np.array(list(total), dtype=object)
        counts = np.fromiter(total.values(), dtype=np.int64, count=len(total))
        if len(counts) > top_words:  # only words at least as frequent as the top_words-th can be chosen
            kth = np.partition(counts, len(counts) - top_words)[len(counts) - top_words]
            sel = counts >= kth
            words, counts = words[sel], counts[sel]
        order = sorted(range(len(words)), key=lambda i: (-counts[i], words[i]))
        return tuple(words[i] for i in order[:top_words])

    return build()


def text_pair(source: RawData, target: RawData, top_words: int = 300) -> tuple[TextIndex, TextIndex, tuple[str, ...]]:
    """Token indexes of both text datasets and their shared vocabulary (cached by content)."""
    ia, ib = text_index(source.texts or []), text_index(target.texts or [])
    vocab = cached(
        ("vocab", data_key(source), data_key(target), top_words), lambda: shared_vocabulary(ia, ib, top_words)
    )
    return ia, ib, vocab


def text_counts(index: TextIndex, vocab: tuple[str, ...], labels: np.ndarray, k: int) -> np.ndarray:
    """``(k, len(vocab))`` raw counts of the vocabulary words per partition (`labels`: partition per row)."""
    pos = {w: i for i, w in enumerate(vocab)}
    lut = np.array([pos.get(w, -1) for w in index.words], dtype=np.int64)
    shared = lut[index.token_word] if len(index.token_word) else np.zeros(0, np.int64)
    keep = shared >= 0
    V = len(vocab)
    flat = labels[index.token_row[keep]] * V + shared[keep]
    return np.bincount(flat, minlength=k * V).reshape(k, V).astype(np.float64)


def with_overflow(counts: np.ndarray) -> np.ndarray:
    """Append the edge-case bin (all mass when a row has no vocabulary word) and normalise."""
    empty = counts.sum(axis=1, keepdims=True) == 0
    return normalize_rows(np.hstack([counts, empty.astype(np.float64)]))


def bag_of_words(index: TextIndex, vocab: tuple[str, ...]) -> np.ndarray:
    """``(rows, len(vocab) + 1)`` per-row word-frequency vectors over `vocab` (plus the edge-case bin)."""
    labels = np.arange(index.n_rows)
    return with_overflow(text_counts(index, vocab, labels, index.n_rows))


# --------------------------------------------------------------------------------------------- embeddings
def random_directions(dim: int, k: int, seed: int) -> np.ndarray:
    """``(dim, k)`` fixed seeded Gaussian directions, each of unit norm."""

    def build() -> np.ndarray:
        a = np.random.default_rng(seed).standard_normal((dim, k))
        return a / np.linalg.norm(a, axis=0, keepdims=True)

    return cached(("directions", dim, k, seed), build)


def as_features(x: Any) -> np.ndarray:
    if isinstance(x, RawData):
        raise ScoreUnavailable("expected features, got raw data")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or len(x) == 0:
        raise ScoreUnavailable(f"features must be a non-empty (rows, dim) array, got shape {x.shape}")
    if not np.isfinite(x).all():  # a NaN row would land in bin 0 on both sides and make far data look identical
        raise ScoreUnavailable("features contain NaN or infinite values")
    return x


def sliced_histograms(
    xs: list[np.ndarray], label_sets: list[tuple[np.ndarray, int]], *, bins: int, projections: int, seed: int
) -> list[np.ndarray]:
    """Per dataset in `xs` (sharing one feature dimension), ``(k, bins)`` sliced histograms of its partitions.

    Rows are projected on `projections` seeded unit directions; each direction gets ``bins // projections``
    equal bins over the pooled range of all `xs`.
    """
    d = xs[0].shape[1]
    if any(x.shape[1] != d for x in xs):
        raise ScoreUnavailable("source and target features have different dimensions")
    if bins < 2 * projections:  # one bin per direction would make every histogram the same
        raise ScorerError(f"bins ({bins}) must be at least twice projections ({projections}): two bins per direction")
    per = bins // projections
    A = random_directions(d, projections, seed)
    zs = [x @ A for x in xs]
    lo = np.min([z.min(axis=0) for z in zs], axis=0)
    hi = np.max([z.max(axis=0) for z in zs], axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    out = []
    offsets = np.arange(projections) * per
    for z, (labels, k) in zip(zs, label_sets):
        idx = np.clip(((z - lo) / span * per).astype(np.int64), 0, per - 1) + offsets
        flat = (labels * (projections * per))[:, None] + idx
        counts = np.bincount(flat.ravel(), minlength=k * projections * per).reshape(k, projections * per)
        out.append(normalize_rows(counts.astype(np.float64)))
    return out


# --------------------------------------------------------------------------------------------- dispatch
def _same_kind(source: Any, target: Any) -> None:
    if isinstance(source, RawData) != isinstance(target, RawData):
        raise ScoreUnavailable("source and target are in different spaces")
    if isinstance(target, RawData) and source.kind != target.kind:
        raise ScoreUnavailable(f"source is {source.kind}, target is {target.kind}")


def partition_histograms(
    source: Any,
    target: Any,
    *,
    size: int,
    bins: int = 100,
    seed: int = 0,
    top_words: int = 300,
    projections: int = 10,
) -> tuple[np.ndarray, np.ndarray]:
    """``(source_histograms, target_histograms)`` of the seeded partitions of two datasets in one space.

    `source`/`target` are `RawData` (raw space) or ``(rows, dim)`` arrays (embedding spaces). Cached by content.
    """
    _same_kind(source, target)
    if isinstance(target, RawData) and target.kind == "numeric":
        # each side's histograms depend on that side only (per-partition normalisation)
        def side(x: RawData) -> np.ndarray:
            labels, k = partition_labels(len(x), size, seed)
            return cached(
                ("numhist", data_key(x), size, seed, bins),
                lambda: numeric_histograms(np.asarray(x.values), labels, k, bins),
            )

        return side(source), side(target)

    def build() -> tuple[np.ndarray, np.ndarray]:
        if isinstance(target, RawData):
            ls, ks = partition_labels(len(source), size, seed)
            lt, kt = partition_labels(len(target), size, seed)
            ia, ib, vocab = text_pair(source, target, top_words)
            return with_overflow(text_counts(ia, vocab, ls, ks)), with_overflow(text_counts(ib, vocab, lt, kt))
        xs, xt = as_features(source), as_features(target)
        ls, ks = partition_labels(len(xs), size, seed)
        lt, kt = partition_labels(len(xt), size, seed)
        hs, ht = sliced_histograms([xs, xt], [(ls, ks), (lt, kt)], bins=bins, projections=projections, seed=seed)
        return hs, ht

    key = ("parthist", data_key(source), data_key(target), size, bins, seed, top_words, projections)
    return cached(key, build)


def whole_histograms(
    source: Any, target: Any, *, bins: int = 100, seed: int = 0, top_words: int = 300, projections: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """One histogram per dataset (the symmetric baselines ``jsd``/``kl``). Cached by content.

    Text: the shared top-word histogram of each whole dataset. Numeric: all values of each dataset binned on
    the pooled range of the two (a shared range, so a shift between the datasets shows). Embeddings: the sliced
    histogram of all rows.
    """
    _same_kind(source, target)

    def build() -> tuple[np.ndarray, np.ndarray]:
        if isinstance(target, RawData):
            if target.kind == "numeric":
                vs = np.asarray(source.values, dtype=np.float64)
                vt = np.asarray(target.values, dtype=np.float64)
                if not (np.all(np.isfinite(vs)) and np.all(np.isfinite(vt))):
                    raise ScoreUnavailable("numeric values contain NaN or infinite entries")
                if vs.size == 0 or vt.size == 0:
                    raise ScoreUnavailable(f"the {'source' if vs.size == 0 else 'target'} holds no values")
                lo, hi = float(min(vs.min(), vt.min())), float(max(vs.max(), vt.max()))
                return value_histogram(vs, bins, lo, hi), value_histogram(vt, bins, lo, hi)
            ia, ib, vocab = text_pair(source, target, top_words)
            if ia.n_rows == 0 or ib.n_rows == 0:
                raise ScoreUnavailable(f"the {'source' if ia.n_rows == 0 else 'target'} holds no values")
            one_s, one_t = np.zeros(ia.n_rows, np.int64), np.zeros(ib.n_rows, np.int64)
            return (
                with_overflow(text_counts(ia, vocab, one_s, 1))[0],
                with_overflow(text_counts(ib, vocab, one_t, 1))[0],
            )
        xs, xt = as_features(source), as_features(target)
        hs, ht = sliced_histograms(
            [xs, xt],
            [(np.zeros(len(xs), np.int64), 1), (np.zeros(len(xt), np.int64), 1)],
            bins=bins,
            projections=projections,
            seed=seed,
        )
        return hs[0], ht[0]

    key = ("wholehist", data_key(source), data_key(target), bins, seed, top_words, projections)
    return cached(key, build)


def feature_matrices(source: Any, target: Any, *, top_words: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """``(source_rows, target_rows)`` as real feature matrices, for the feature-based scorers.

    Embedding spaces: the arrays as they are. Raw numeric: the values (rows flattened). Raw text: per row, the
    square roots of its word frequencies over the shared top-word vocabulary (plus the edge-case bin), the
    "Hellinger embedding" in which Euclidean distance is √2 × the Hellinger distance between rows.
    """
    if isinstance(target, RawData) or isinstance(source, RawData):
        if not (isinstance(target, RawData) and isinstance(source, RawData)) or source.kind != target.kind:
            raise ScoreUnavailable("source and target are in different spaces")
        if target.kind == "numeric":
            xs = np.asarray(source.values, dtype=np.float64).reshape(len(source), -1)
            xt = np.asarray(target.values, dtype=np.float64).reshape(len(target), -1)
        else:

            def build() -> tuple[np.ndarray, np.ndarray]:
                ia, ib, vocab = text_pair(source, target, top_words)
                return np.sqrt(bag_of_words(ia, vocab)), np.sqrt(bag_of_words(ib, vocab))

            xs, xt = cached(("hellinger-rows", data_key(source), data_key(target), top_words), build)
    else:
        xs, xt = as_features(source), as_features(target)
    if xs.shape[1] != xt.shape[1]:
        raise ScoreUnavailable(f"source and target have different widths ({xs.shape[1]} vs {xt.shape[1]})")
    if len(xs) == 0 or len(xt) == 0:
        raise ScoreUnavailable("empty sample")
    if not (np.all(np.isfinite(xs)) and np.all(np.isfinite(xt))):
        raise ScoreUnavailable("features contain NaN or infinite values")
    return xs, xt
