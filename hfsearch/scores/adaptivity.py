"""Asymmetric source → target measures: the paper's *adaptivity* and a row-level k-NN *coverage*.

Adaptivity (Zhou, Jain, Wang, Das, Yang, Zou, *Benchmark of DNN Model Search at Deployment Time*, SSDBM 2022,
arXiv 2206.00188; code ``asu-cactus/Discovery_of_DL_Model_Version``): shuffle the source S (the candidate's
training data) and the target T (the user's data) with a fixed seed, cut each into partitions, turn every
partition into a histogram P (see `hfsearch.scores.histograms`), and count the close pairs:

    adaptivity(S → T)      = |{(i, j) : JSD(P_i^S, P_j^T) < tau}| / k_T
    adaptivity_norm(S → T) = |{(i, j) : JSD(P_i^S, P_j^T) < tau}| / (k_S · k_T)   ∈ [0, 1]

with k_S, k_T the numbers of source and target partitions.

What is (and is not) asymmetric. For one tau the *pair count* is the same in both directions, so
adaptivity(S → T)·k_T = adaptivity(T → S)·k_S exactly: the paper's asymmetry comes from dividing by k_T only, i.e.
a large source (many partitions) that resembles the target scores high, and the same pair swapped scores low. With
equal-size samples (hfsearch samples ~512 rows per side) the only other source of asymmetry is how tau is chosen.
Partitions are random shuffles, so a partition of a broad, multi-domain source is itself a mixture and does not
resemble a one-domain target partition: adaptivity does not detect "the source *contains* the target's kind of
data". `knn_coverage` does (row by row), and is the measure to use for that question.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import ScorerError
from .base import ScoreInput, ScoreUnavailable, register_scorer
from .histograms import (
    array_key,
    auto_partition_size,
    cached,
    data_key,
    feature_matrices,
    jsd_below,
    jsd_matrix,
    partition_histograms,
)

SIMILARITY_SPACES = ("raw", "reference", "model")
_DEFAULTS: dict[str, Any] = dict(
    partition_size="auto",
    bins=100,
    tau="pool",  # chosen leave-one-workload-out over the dev workloads: bench/results/tau_rule.md
    tau_quantile=0.95,
    seed=0,
    method="exact",
    top_words=300,
    projections=10,
    r=1.3,
    K=11,
    L=46,
    pool_quantile=0.01,
)


def auto_tau(target_histograms: np.ndarray, quantile: float = 0.95) -> float:
    """The `quantile` of the JSDs between distinct pairs of target partitions (needs ≥ 2 target partitions).

    tau_auto = Q_q({JSD(P_j^T, P_j'^T) : j < j'}),  q = 0.95 by default.

    A source partition covers a target partition when their JSD is no larger than what a fraction q of the pairs
    of the target's *own* partitions reach: a level-(1 − q) test, with the target's partitions as the null sample,
    that cannot tell them apart. Properties: the threshold depends on the target only (for text, through histograms
    over the vocabulary shared with the source, which moves it slightly), so every candidate is judged against
    (nearly) the same tau, as with the paper's fixed tau; it adapts to the histogram noise of the data (32 short
    sentences give sparse, noisy word histograms: tau ≈ 0.46 for uci_yelp, ≈ 0.14 for the longer airline
    reviews); and when the source has the target's distribution, adaptivity_norm ≈ q. Why 0.95 rather than the
    median: the median calls half of the target's own partition pairs "not close", and on the sentiment corpora it
    left only the same corpus (0.72) and one near-duplicate domain (yelp_sentences, 0.32) above 0 for a uci_yelp
    target; q = 0.95 is the usual 5% test level, gives 0.98 / 0.81 there and small non-zero values to related
    review domains (0.01–0.04) while unrelated corpora stay at 0. Caveat: because tau follows the target, values
    for *different* targets are on different scales (compare candidates for one target, not targets).
    """
    k = len(target_histograms)
    if k < 2:
        raise ScoreUnavailable("tau='auto' needs at least 2 target partitions; give a smaller partition_size or a tau")
    d = jsd_matrix(target_histograms, target_histograms)[np.triu_indices(k, 1)]
    return float(np.quantile(d, quantile)) + 1e-12  # "no larger than": ties at the quantile count


def pool_tau(pool: Sequence[Any], target: Any, quantile: float, *, size: int, **hist: Any) -> float:
    """The `quantile` of the JSDs between every source partition of every candidate in `pool` and every target
    partition: a threshold relative to the pool being ranked, so that the candidates whose sources are closest to the
    target count close pairs and the others do not (the same tau for every candidate of one search)."""
    if not pool:
        raise ScoreUnavailable("tau='pool' needs the candidates' source data")
    d = np.concatenate([jsd_matrix(*partition_histograms(s, target, size=size, **hist)).ravel() for s in pool])
    return float(np.quantile(d, quantile)) + 1e-12


def _check(method: str, quantile: float, name: str = "tau_quantile") -> None:
    if method not in ("exact", "lsh"):
        raise ScorerError(f"adaptivity method must be 'exact' or 'lsh', not {method!r}")
    if not 0.0 < float(quantile) <= 1.0:
        raise ScorerError(f"{name} must be in (0, 1], not {quantile!r}")


def adaptivity_counts(
    source: Any,
    target: Any,
    *,
    partition_size: int | str = "auto",
    bins: int = 100,
    tau: float | str = "auto",
    tau_quantile: float = 0.95,
    seed: int = 0,
    method: str = "exact",
    top_words: int = 300,
    projections: int = 10,
    r: float = 1.3,
    K: int = 11,
    L: int = 46,
    pool: Sequence[Any] | None = None,
    pool_quantile: float = 0.1,
) -> tuple[int, int, int, float]:
    """``(close_pairs, k_source, k_target, tau)`` for two datasets in one space (`RawData` or feature arrays).

    `pool` (the sources of every candidate of the search, this one included) is what ``tau="pool"`` is relative to.
    """
    _check(method, tau_quantile, "tau_quantile")
    _check(method, pool_quantile, "pool_quantile")
    if partition_size == "auto":
        size = auto_partition_size(len(source), len(target))
    else:
        size = int(partition_size)
        if size <= 0:
            raise ScorerError(f"partition_size must be positive or 'auto', not {partition_size!r}")
    hs, ht = partition_histograms(
        source,
        target,
        size=size,
        bins=int(bins),
        seed=int(seed),
        top_words=int(top_words),
        projections=int(projections),
    )
    hist = dict(bins=int(bins), seed=int(seed), top_words=int(top_words), projections=int(projections))
    if tau == "pool" and not pool:  # one pair of datasets, no search around it: the target-relative rule
        tau = "auto"
    if tau == "auto":
        t = auto_tau(ht, tau_quantile)
    elif tau == "pool":
        t = cached(
            (
                "pool-tau",
                tuple(data_key(p) for p in pool or ()),
                data_key(target),
                size,
                float(pool_quantile),
                tuple(sorted(hist.items())),
            ),
            lambda: pool_tau(pool or [], target, float(pool_quantile), size=size, **hist),
        )
    else:
        try:
            t = float(tau)
        except (TypeError, ValueError):
            raise ScorerError(f"adaptivity tau must be a number, 'auto' or 'pool', not {tau!r}") from None
    if method == "exact":
        count = int(jsd_below(hs, ht, t).sum())
    else:
        from .lsh import LSHIndex

        index = LSHIndex(hs.shape[1], r=r, K=K, L=L, seed=seed)
        index.insert("source", hs)
        count = index.query(ht, t)["source"]
    return count, len(hs), len(ht), t


@register_scorer(
    "adaptivity",
    kind="similarity",
    higher_is_better=True,
    needs=("source",),
    spaces=SIMILARITY_SPACES,
    **_DEFAULTS,
)
def adaptivity(inp: ScoreInput, space: str | None, **params: Any) -> float:
    """Adaptivity of the candidate's source data to the target (Zhou et al., SSDBM 2022, arXiv 2206.00188).

    adaptivity(S → T) = |{(i, j) : JSD(P_i^S, P_j^T) < tau}| / k_T — higher is better; 0 ≤ value ≤ k_S.

    S is the candidate's training data, T the user's data, P the partition histograms (raw space: the paper's
    value / shared-top-word histograms; reference/model spaces: sliced histograms over ``projections`` seeded
    random directions, ``bins`` bins in all).

    Args:
        partition_size (`int` or ``"auto"``): rows per partition. ``"auto"`` = clip(min(n_S, n_T) // 16, 8, 500):
            the paper's 500 cuts a 512-row sample into one partition, so the size is chosen to give the smaller
            side 16 partitions (one size for both sides so their histograms have the same noise), and falls back
            to the paper's 500 rows once samples exceed 8,000 rows.
        tau (`float`, ``"pool"`` or ``"auto"``): JSD threshold. ``"pool"`` (the default): the `pool_quantile`
            quantile of the JSDs between every candidate's source partitions and the target's, one threshold per
            search, so that the candidates whose sources are closest count close pairs and adaptivity ranks the
            pool (`pool_tau`; chosen over the target rule by ``bench/tau_rule.py``, leave-one-workload-out, see
            BENCHMARKS.md). ``"auto"``: the `tau_quantile` quantile of the JSDs between pairs of target partitions
            ("as close as the target's partitions are to each other"), see `auto_tau`; it depends on the target
            only, and where no source partition is as close as that (another corpus) every candidate scores 0, a
            tie. A number: the paper's fixed values, 0.002 (images, partitions of 800), 0.6–0.7 (entity-matching
            text).
        pool_quantile (`float`, defaults to 0.01): quantile for ``tau="pool"``. Without a pool (a candidate scored
            on its own, outside a search), ``"pool"`` falls back to ``"auto"``.
        tau_quantile (`float`, defaults to 0.95): quantile for ``tau="auto"`` (0.5: the median).
        bins (`int`, defaults to 100), top_words (`int`, defaults to 300), seed (`int`, defaults to 0).
        method (`str`): ``"exact"`` (default; every pair decided exactly — JSD ≥ ln 2 · H², so one matrix product
            of √histograms rules out most pairs before any logarithm, see `histograms.jsd_below`) or ``"lsh"``
            (`hfsearch.scores.lsh.LSHIndex` with ``r, K, L``: never counts a false pair, may miss some). The index
            only pays off when close pairs are rare (small tau, e.g. pixel histograms); at the text ``tau="auto"``
            about a third of all pairs are close and the paper's r, K, L find only ~6% of them
            (bench/results/lsh.md), so keep ``"exact"`` there.
    """
    s = inp.require_source().space(space or "raw")
    t = inp.target.space(space or "raw")
    count, _, kt, _ = adaptivity_counts(s, t, pool=_pool(inp, space), **params)
    return count / kt


@register_scorer(
    "adaptivity_norm",
    kind="similarity",
    higher_is_better=True,
    needs=("source",),
    spaces=SIMILARITY_SPACES,
    **_DEFAULTS,
)
def adaptivity_norm(inp: ScoreInput, space: str | None, **params: Any) -> float:
    """Adaptivity divided by the number of source partitions: the fraction of close partition pairs.

    adaptivity_norm(S → T) = |{(i, j) : JSD(P_i^S, P_j^T) < tau}| / (k_S · k_T) ∈ [0, 1] — higher is better.
    Same parameters as ``adaptivity``; comparable across candidates whose source samples differ in size.
    """
    s = inp.require_source().space(space or "raw")
    t = inp.target.space(space or "raw")
    count, ks, kt, _ = adaptivity_counts(s, t, pool=_pool(inp, space), **params)
    return count / (ks * kt)


def _pool(inp: ScoreInput, space: str | None) -> list[Any]:
    """Every candidate's source data in `space` (the pool a ``tau="pool"`` threshold is relative to). In the
    ``model`` space each candidate's features live in its own space, not comparable with this candidate's target
    features: no pool there (``tau="pool"`` falls back to ``"auto"``)."""
    if space == "model":
        return []
    out = []
    for name in sorted(inp.sources):
        try:
            out.append(inp.sources[name].space(space or "raw"))
        except ScoreUnavailable:
            continue
    return out


def knn_coverage_value(xs: np.ndarray, xt: np.ndarray, k: int = 5) -> float:
    """Fraction of target rows whose k-NN ball (among target rows) holds at least one source row."""
    from .distance import centred_on_target, sq_dists_cached

    n = len(xt)
    if n <= k:
        raise ScoreUnavailable(f"knn_coverage needs more than k={k} target rows")
    xs, xt = centred_on_target(xs, xt)

    def radii() -> np.ndarray:
        d_tt = sq_dists_cached(xt, xt).copy()
        np.fill_diagonal(d_tt, np.inf)  # a row is not its own neighbour
        return np.partition(d_tt, k - 1, axis=1)[:, k - 1]

    radius = cached(("knn-radius", array_key(xt), k), radii)
    nearest = sq_dists_cached(xs, xt).min(axis=0)
    # squared distances from the expansion |x|² + |y|² − 2x·y (float32 product): allow for its rounding, so that
    # identical rows (distance ~0, not exactly 0) count as covered
    tol = 1e-5 * (np.einsum("ij,ij->i", xt, xt) + 1.0)
    return float(np.mean(nearest <= radius + tol))


@register_scorer(
    "knn_coverage",
    kind="similarity",
    higher_is_better=True,
    needs=("source",),
    spaces=("reference", "model", "raw"),
    k=5,
    top_words=300,
)
def knn_coverage(inp: ScoreInput, space: str | None, *, k: int = 5, top_words: int = 300) -> float:
    """k-NN coverage of the target by the source: does the source contain the target's kind of data?

    coverage(S → T) = (1/|T|) Σ_{t ∈ T} 1[ min_{s ∈ S} ‖s − t‖ ≤ NND_k(t) ] ∈ [0, 1] — higher is better,

    where NND_k(t) is the distance from t to its k-th nearest *other* target row (Euclidean). It is the
    "coverage" of Naeem et al., *Reliable Fidelity and Diversity Metrics for Generative Models* (ICML 2020), a
    refinement of the precision/recall manifolds of Kynkäänniemi et al. (NeurIPS 2019), with the target as the
    real set. Asymmetric by containment: a broad source that includes the target's kind of rows covers a narrow
    target, while the narrow set covers only its own part of a broad target. Spaces: reference (default), model,
    raw (text: square-root word frequencies over the shared top words; numeric: the values).

    Args:
        k (`int`, defaults to 5): neighbourhood size (Naeem et al. use 5).
    """
    s = inp.require_source().space(space or "reference")
    t = inp.target.space(space or "reference")
    xs, xt = feature_matrices(s, t, top_words=top_words)
    if int(k) < 1:
        raise ScorerError(f"knn_coverage k must be ≥ 1, not {k!r}")
    return knn_coverage_value(xs, xt, int(k))
