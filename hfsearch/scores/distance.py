"""Symmetric feature-space measures: MMD, sliced Wasserstein, Fréchet distance and cosine similarity of means.

They run on feature matrices: ``reference`` (a shared encoder; the default), ``model`` (the candidate's own
features) or ``raw`` (numeric values; for text, square-root word frequencies over the shared top words, see
`hfsearch.scores.histograms.feature_matrices`). MMD, Wasserstein and Fréchet are distances (lower is better);
cosine is a similarity (higher is better).
"""

from __future__ import annotations

import numpy as np

from ..errors import ScorerError
from .base import ScoreInput, ScoreUnavailable, register_scorer
from .histograms import array_key, cached, feature_matrices, random_directions

SPACES = ("reference", "model", "raw")


def _features(inp: ScoreInput, space: str | None, top_words: int = 300) -> tuple[np.ndarray, np.ndarray]:
    space = space or "reference"
    return feature_matrices(inp.require_source().space(space), inp.target.space(space), top_words=top_words)


def _sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """‖a_i − b_j‖² via ‖a‖² + ‖b‖² − 2 a·b, the product in float32 (twice as fast; relative error ~1e-6)."""
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    d = np.einsum("ij,ij->i", a, a)[:, None] + np.einsum("ij,ij->i", b, b)[None, :] - 2.0 * (a32 @ b32.T)
    return np.maximum(d, 0.0)


def sq_dists_cached(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances between the rows of `a` and `b`, cached by content (shared by ``mmd`` and
    ``knn_coverage``, and by every candidate for the target's own distances)."""
    return cached(("sqd", array_key(a), array_key(b)), lambda: _sq_dists(a, b))


def _median(values: np.ndarray) -> float:
    h = len(values) // 2
    part = np.partition(values, (h - 1, h))
    return float(part[h] if len(values) % 2 else 0.5 * (part[h - 1] + part[h]))


def centred_on_target(xs: np.ndarray, xt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both matrices minus the target's mean row: distances are unchanged, but their float32 expansion
    ‖a‖² + ‖b‖² − 2a·b then rounds on the scale of the data's spread, not of its offset (sensor features around
    1000, say, where the rounding of ‖a‖² alone exceeds the distances being compared)."""
    mu = xt.mean(axis=0)
    return xs - mu, xt - mu


def mmd2_unbiased(xs: np.ndarray, xt: np.ndarray, bandwidth: float | str = "median") -> float:
    """Unbiased MMD² with the RBF kernel k(x, y) = exp(−‖x − y‖² / (2σ²)).

    ``bandwidth="median"``: σ = the median distance between distinct rows of the **target** sample, one kernel for
    every candidate of a search, so that their MMDs are comparable: a bandwidth taken from each source–target pair
    (``"pooled"``, the two-sample test's median heuristic, Gretton et al. 2012) widens with the shift, and a far
    source then scores a smaller MMD than a near one.
    """
    if len(xs) < 2 or len(xt) < 2:
        raise ScoreUnavailable("mmd needs at least 2 rows on each side")
    xs, xt = centred_on_target(xs, xt)
    d_tt = sq_dists_cached(xt, xt)
    d_ss = _sq_dists(xs, xs)
    d_st = sq_dists_cached(xs, xt)
    n, m = len(xs), len(xt)
    if bandwidth in ("median", "pooled"):
        if bandwidth == "median":  # one per target: computed once, every candidate reads it
            med = cached(("mmd-median", array_key(xt)), lambda: _median(d_tt[np.triu_indices(m, 1)]))
        else:
            med = _median(np.concatenate([d_ss[np.triu_indices(n, 1)], d_tt[np.triu_indices(m, 1)], d_st.ravel()]))
        sigma2 = med if med > 0 else 1.0  # σ² = (median distance)²
    else:
        sigma = float(bandwidth)
        if sigma <= 0:
            raise ScorerError(f"mmd bandwidth must be positive, 'median' or 'pooled', not {bandwidth!r}")
        sigma2 = sigma * sigma
    g = np.float32(-1.0 / (2.0 * sigma2))

    def kernel_sum(d: np.ndarray) -> float:  # float32 exp (twice as fast), float64 accumulation
        return float(np.exp(d.astype(np.float32) * g).sum(dtype=np.float64))

    k_ss = (kernel_sum(d_ss) - n) / (n * (n - 1))
    k_tt = (kernel_sum(d_tt) - m) / (m * (m - 1))
    k_st = kernel_sum(d_st) / (n * m)
    return float(k_ss + k_tt - 2.0 * k_st)


@register_scorer(
    "mmd",
    kind="similarity",
    higher_is_better=False,
    needs=("source",),
    spaces=SPACES,
    bandwidth="median",
    top_words=300,
)
def mmd(inp: ScoreInput, space: str | None, *, bandwidth: float | str = "median", top_words: int = 300) -> float:
    """Maximum mean discrepancy between source and target features (lower is better).

    MMD²_u = 1/(n(n−1)) Σ_{i≠j} k(s_i, s_j) + 1/(m(m−1)) Σ_{i≠j} k(t_i, t_j) − 2/(nm) Σ_{i,j} k(s_i, t_j),
    RBF kernel k(x, y) = exp(−‖x − y‖²/(2σ²)) (Gretton et al., *A Kernel Two-Sample Test*, JMLR 2012). σ is the
    median pairwise distance of the target's rows, one kernel for every candidate, so that their MMDs compare;
    ``bandwidth="pooled"`` takes it from each source–target pair instead (the two-sample test's heuristic, which
    widens with the shift), a number sets it. The unbiased estimate can be slightly negative when the two samples
    come from the same distribution.
    """
    xs, xt = _features(inp, space, top_words)
    return mmd2_unbiased(xs, xt, bandwidth)


def sliced_wasserstein(xs: np.ndarray, xt: np.ndarray, projections: int = 64, seed: int = 0) -> float:
    """SW₂ = ( mean_θ W₂²(θ·S, θ·T) )^½ over `projections` seeded unit directions θ; the 1-D W₂ compares the
    quantile functions of the projections on a common grid of max(n, m) levels."""
    a = random_directions(xs.shape[1], int(projections), int(seed))
    ps, pt = np.sort(xs @ a, axis=0), np.sort(xt @ a, axis=0)
    grid_n = max(len(ps), len(pt))
    levels = (np.arange(grid_n) + 0.5) / grid_n

    def quantiles(p: np.ndarray) -> np.ndarray:
        if len(p) == grid_n:
            return p
        idx = np.minimum((levels * len(p)).astype(np.int64), len(p) - 1)  # empirical quantile function
        return p[idx]

    return float(np.sqrt(np.mean((quantiles(ps) - quantiles(pt)) ** 2)))


@register_scorer(
    "wasserstein",
    kind="similarity",
    higher_is_better=False,
    needs=("source",),
    spaces=SPACES,
    projections=64,
    seed=0,
    top_words=300,
)
def wasserstein(
    inp: ScoreInput, space: str | None, *, projections: int = 64, seed: int = 0, top_words: int = 300
) -> float:
    """Sliced 2-Wasserstein distance between source and target features (lower is better).

    SW₂(S, T) = ( E_θ W₂²(θᵀS, θᵀT) )^½, estimated with ``projections`` fixed seeded unit directions θ
    (Rabin et al. 2011; Bonneel et al., *Sliced and Radon Wasserstein Barycenters of Measures*, 2015).
    """
    xs, xt = _features(inp, space, top_words)
    return sliced_wasserstein(xs, xt, projections, seed)


def _projection(d: int, dim: int | None, seed: int) -> np.ndarray | None:
    if dim is None or d <= int(dim):
        return None

    def build() -> np.ndarray:
        q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, int(dim))))
        return q  # orthonormal basis of a random dim-dimensional subspace

    return cached(("subspace", d, int(dim), seed), build)


def _gaussian(x: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
    mu = x.mean(axis=0)
    c = np.cov(x, rowvar=False) if len(x) > 1 else np.zeros((x.shape[1], x.shape[1]))
    c = np.atleast_2d(c) + eps * np.eye(x.shape[1])
    return mu, c


def _psd_sqrt(c: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(c)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(xs: np.ndarray, xt: np.ndarray, dim: int | None = 64, seed: int = 0, eps: float = 1e-6) -> float:
    """Fréchet distance between Gaussian fits, on a seeded random `dim`-dimensional subspace when wider."""
    p = _projection(xs.shape[1], dim, seed)

    def target_stats() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        zt = xt if p is None else xt @ p
        mu, c = _gaussian(zt, eps)
        return mu, c, _psd_sqrt(c)

    mu_t, c_t, sqrt_t = cached(("frechet-target", array_key(xt), dim, seed, eps), target_stats)
    zs = xs if p is None else xs @ p
    mu_s, c_s = _gaussian(zs, eps)
    # tr sqrt(C_s^½ C_t C_s^½) = tr sqrt(C_t^½ C_s C_t^½): eigenvalues of a symmetric PSD product
    m = sqrt_t @ c_s @ sqrt_t
    tr_cross = float(np.sum(np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0.0, None))))
    value = float(np.sum((mu_s - mu_t) ** 2) + np.trace(c_s) + np.trace(c_t) - 2.0 * tr_cross)
    return max(value, 0.0)


@register_scorer(
    "frechet",
    kind="similarity",
    higher_is_better=False,
    needs=("source",),
    spaces=SPACES,
    dim=64,
    seed=0,
    eps=1e-6,
    top_words=300,
)
def frechet(
    inp: ScoreInput, space: str | None, *, dim: int | None = 64, seed: int = 0, eps: float = 1e-6, top_words: int = 300
) -> float:
    """Fréchet (2-Wasserstein) distance between Gaussian fits of source and target features (lower is better).

    FD = ‖μ_S − μ_T‖² + tr(C_S) + tr(C_T) − 2 tr( (C_T^½ C_S C_T^½)^½ ) (Dowson & Landau 1982; FID, Heusel et al.
    2017), computed with symmetric eigendecompositions (no ``sqrtm``), covariances regularised by ``eps``·I.
    Features wider than ``dim`` (default 64) are first projected on a fixed seeded random ``dim``-dimensional
    orthonormal subspace: a 512-row sample cannot estimate a 384×384 covariance well, and it keeps the cost low.
    ``dim=None`` uses all features.
    """
    xs, xt = _features(inp, space, top_words)
    return frechet_distance(xs, xt, dim, seed, eps)


@register_scorer(
    "cosine",
    kind="similarity",
    higher_is_better=True,
    needs=("source",),
    spaces=SPACES,
    top_words=300,
)
def cosine(inp: ScoreInput, space: str | None, *, top_words: int = 300) -> float:
    """Cosine similarity of the mean source and mean target feature vectors (higher is better).

    cos(μ_S, μ_T) = μ_S · μ_T / (‖μ_S‖ ‖μ_T‖) ∈ [−1, 1]; 0 when a mean is the zero vector.
    """
    xs, xt = _features(inp, space, top_words)
    a, b = xs.mean(axis=0), xt.mean(axis=0)
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    return float(a @ b / (na * nb)) if na > 0 and nb > 0 else 0.0
