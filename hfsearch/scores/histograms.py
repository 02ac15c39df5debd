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
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Hashable

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from .base import RawData, ScoreUnavailable

LN2 = float(np.log(2.0))
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
STOP_WORDS = frozenset(ENGLISH_STOP_WORDS)

# --------------------------------------------------------------------------------------------- caching
_CACHE: "OrderedDict[Hashable, Any]" = OrderedDict()
_CACHE_SIZE = 64


def cached(key: Hashable, compute: Callable[[], Any]) -> Any:
    """A small LRU cache keyed by *content* (never by object identity), so results stay pure."""
    try:
        value = _CACHE[key]
        _CACHE.move_to_end(key)
        return value
    except KeyError:
        pass
    value = compute()
    _CACHE[key] = value
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return value


def clear_cache() -> None:
    """Forget every cached intermediate result."""
    _CACHE.clear()


try:  # xxh3 hashes ~5 GB/s; blake2b is the standard-library fallback
    import xxhash as _xxhash

    def _digest(buf: Any) -> str:
        return _xxhash.xxh3_128_hexdigest(buf)

except ImportError:  # pragma: no cover
    import hashlib

    def _digest(buf: Any) -> str:
        return hashlib.blake2b(buf, digest_size=16).hexdigest()


def array_key(a: np.ndarray) -> tuple:
    """A content key for an array: shape, dtype and a hash of its bytes."""
    a = np.ascontiguousarray(a)
    return ("array", a.shape, a.dtype.str, _digest(a.data))


def texts_key(texts: list[str]) -> tuple:
    """A content key for a list of strings (Python caches string hashes, so this is cheap)."""
    return ("texts", tuple(texts))


# --------------------------------------------------------------------------------------------- divergences
def _xlogx_sum(p: np.ndarray, axis: int = -1) -> np.ndarray:
    """sum p log p along `axis`, with 0 log 0 = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = p * np.log(p)
    return np.where(p > 0, t, 0.0).sum(axis=axis)


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
    """Pairwise JSD between the rows of `P` ``(a, B)`` and of `Q` ``(b, B)``: an ``(a, b)`` matrix.

    Uses JSD = H(m) − ½ (H(p) + H(q)) with the ``(a, b, B)`` mixture computed in chunks of at most
    `max_elements` values.
    """
    P = np.asarray(P, dtype=np.float64)
    Q = np.asarray(Q, dtype=np.float64)
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
    P = np.asarray(P, dtype=np.float64)
    Q = np.asarray(Q, dtype=np.float64)
    m = 0.5 * (P + Q)
    return np.clip(-_xlogx_sum(m) + 0.5 * (_xlogx_sum(P) + _xlogx_sum(Q)), 0.0, LN2)


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
        v = np.where(np.isfinite(v), v, np.nan)
    f = v.shape[1]
    mins = np.full(k, np.inf)
    maxs = np.full(k, -np.inf)
    np.minimum.at(mins, labels, np.nanmin(v, axis=1))
    np.maximum.at(maxs, labels, np.nanmax(v, axis=1))
    span = maxs - mins
    span = np.where(span > 0, span, 1.0)
    x = (v - mins[labels, None]) / span[labels, None]
    idx = np.clip((x * bins).astype(np.int64), 0, bins - 1)  # NaN -> some int; masked below
    idx += (labels * bins)[:, None]
    ok = np.isfinite(x)
    counts = np.bincount(idx[ok], minlength=k * bins).reshape(k, bins).astype(np.float64)
    return normalize_rows(counts)


def value_histogram(values: np.ndarray, bins: int, lo: float, hi: float) -> np.ndarray:
    """A normalised histogram of all finite values on the fixed range [lo, hi]."""
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    span = hi - lo if hi > lo else 1.0
    idx = np.clip(((v - lo) / span * bins).astype(np.int64), 0, bins - 1)
    return normalize_rows(np.bincount(idx, minlength=bins).astype(np.float64))


# --------------------------------------------------------------------------------------------- text
def tokenize(text: str) -> list[str]:
    """Lowercase words of 2+ word characters, English stop words removed."""
    return [w for w in _TOKEN.findall(text.lower()) if w not in STOP_WORDS]


@dataclass(frozen=True)
class TextIndex:
    """The tokens of a list of texts: a local vocabulary and, per token, its word id and its row."""

    words: tuple[str, ...]
    counts: np.ndarray  # count per local word
    token_word: np.ndarray  # local word id per token
    token_row: np.ndarray  # row per token
    n_rows: int


def text_index(texts: list[str]) -> TextIndex:
    """Tokenise once per distinct list of texts (cached by content)."""

    def build() -> TextIndex:
        vocab: dict[str, int] = {}
        word_ids: list[int] = []
        rows: list[int] = []
        for r, t in enumerate(texts):
            toks = tokenize(t if isinstance(t, str) else str(t))
            word_ids.extend(vocab.setdefault(w, len(vocab)) for w in toks)
            rows.extend([r] * len(toks))
        tw = np.asarray(word_ids, dtype=np.int64)
        return TextIndex(
            words=tuple(vocab),
            counts=np.bincount(tw, minlength=len(vocab)),
            token_word=tw,
            token_row=np.asarray(rows, dtype=np.int64),
            n_rows=len(texts),
        )

    return cached(texts_key(texts), build)


def shared_vocabulary(a: TextIndex, b: TextIndex, top_words: int = 300) -> tuple[str, ...]:
    """The `top_words` most frequent words of both datasets together (counts added; ties alphabetical)."""
    total: dict[str, int] = dict(zip(a.words, a.counts.tolist()))
    for w, c in zip(b.words, b.counts.tolist()):
        total[w] = total.get(w, 0) + c
    ranked = sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple(w for w, _ in ranked[:top_words])


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
    per = max(1, bins // projections)
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

    `source`/`target` are `RawData` (raw space) or ``(rows, dim)`` arrays (embedding spaces).
    """
    if isinstance(source, RawData) != isinstance(target, RawData):
        raise ScoreUnavailable("source and target are in different spaces")
    if isinstance(target, RawData):
        if source.kind != target.kind:
            raise ScoreUnavailable(f"source is {source.kind}, target is {target.kind}")
        ls, ks = partition_labels(len(source), size, seed)
        lt, kt = partition_labels(len(target), size, seed)
        if target.kind == "numeric":
            hs = cached(("numhist", array_key(source.values), size, seed, bins),
                        lambda: numeric_histograms(source.values, ls, ks, bins))
            ht = cached(("numhist", array_key(target.values), size, seed, bins),
                        lambda: numeric_histograms(target.values, lt, kt, bins))
            return hs, ht
        ia, ib = text_index(source.texts or []), text_index(target.texts or [])
        vocab = shared_vocabulary(ia, ib, top_words)
        return (with_overflow(text_counts(ia, vocab, ls, ks)), with_overflow(text_counts(ib, vocab, lt, kt)))
    xs, xt = as_features(source), as_features(target)
    ls, ks = partition_labels(len(xs), size, seed)
    lt, kt = partition_labels(len(xt), size, seed)
    hs, ht = sliced_histograms([xs, xt], [(ls, ks), (lt, kt)], bins=bins, projections=projections, seed=seed)
    return hs, ht


def whole_histograms(
    source: Any, target: Any, *, bins: int = 100, seed: int = 0, top_words: int = 300, projections: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """One histogram per dataset (the symmetric baselines ``jsd``/``kl``).

    Text: the shared top-word histogram of each whole dataset. Numeric: all values of each dataset binned on
    the pooled range of the two (a shared range, so a shift between the datasets shows). Embeddings: the sliced
    histogram of all rows.
    """
    if isinstance(target, RawData):
        if not isinstance(source, RawData) or source.kind != target.kind:
            raise ScoreUnavailable("source and target are in different spaces")
        if target.kind == "numeric":
            vs = np.asarray(source.values, dtype=np.float64)
            vt = np.asarray(target.values, dtype=np.float64)
            lo = float(min(np.nanmin(vs), np.nanmin(vt)))
            hi = float(max(np.nanmax(vs), np.nanmax(vt)))
            return value_histogram(vs, bins, lo, hi), value_histogram(vt, bins, lo, hi)
        ia, ib = text_index(source.texts or []), text_index(target.texts or [])
        vocab = shared_vocabulary(ia, ib, top_words)
        one_s = np.zeros(ia.n_rows, np.int64)
        one_t = np.zeros(ib.n_rows, np.int64)
        return (with_overflow(text_counts(ia, vocab, one_s, 1))[0],
                with_overflow(text_counts(ib, vocab, one_t, 1))[0])
    xs, xt = as_features(source), as_features(target)
    hs, ht = sliced_histograms(
        [xs, xt], [(np.zeros(len(xs), np.int64), 1), (np.zeros(len(xt), np.int64), 1)],
        bins=bins, projections=projections, seed=seed,
    )
    return hs[0], ht[0]
