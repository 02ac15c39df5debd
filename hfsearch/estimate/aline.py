"""Agreement-on-the-line: ALine-S and ALine-D (Baek, Jiang, Raghunathan, Kolter, NeurIPS 2022, arXiv 2206.13089).

When a group of models shares one in-distribution (ID) dataset, their OOD accuracies often lie on a line against
their ID accuracies in probit space (Φ^{-1}, "accuracy-on-the-line", Miller et al. 2021), and whenever they do,
the pairwise *agreements* lie on a line with the same slope and bias. Agreement needs no labels, so the line can
be fitted on the unlabeled target and used to predict every model's target accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import ndtr, ndtri

from .base import MIN_SOURCE_ROWS, EstimatorUnavailable, as_labels

#: Fewest models ALine accepts: with 2 models there is one pair, so neither a line nor ALine-D's system is fixed.
MIN_MODELS = 3
#: The ID agreements' probit spread (standard deviation over pairs) must be at least this many times their
#: binomial sampling noise. Observed variance = true variance + noise variance, and least squares shrinks the
#: slope by the reliability true/observed (errors-in-variables), so a ratio of 2 bounds that shrinkage by 25%.
MIN_SPREAD_RATIO = 2.0


@dataclass(frozen=True)
class ALineResult:
    """What `aline` returns (arrays are indexed by model, in the order given).

    Args:
        aline_s (`np.ndarray`): `(M,)` ALine-S target accuracy estimates Φ(a · Φ^{-1}(acc_ID) + b).
        aline_d (`np.ndarray`): `(M,)` ALine-D target accuracy estimates (least-squares solution, see `aline`).
        id_accuracy (`np.ndarray`): `(M,)` accuracies on the labeled ID rows.
        id_agreement (`np.ndarray`): `(M, M)` pairwise agreement rates on the ID rows (1 on the diagonal).
        ood_agreement (`np.ndarray`): `(M, M)` pairwise agreement rates on the target rows.
        slope (`float`): a, slope of the probit agreement line Φ^{-1}(agr_OOD) = a Φ^{-1}(agr_ID) + b.
        bias (`float`): b.
        r2 (`float`): coefficient of determination of that line over the M(M−1)/2 pairs; the paper's check that
            agreement-on-the-line holds (it reports R² ≳ 0.95 where it does).
        residual (`float`): root-mean-square residual of the line, in probit units.
        aline_d_residual (`float`): root-mean-square residual of ALine-D's least-squares system, in probit units.
        spread (`float`): standard deviation of Φ^{-1}(agr_ID) over pairs.
        noise (`float`): root-mean-square binomial standard error of Φ^{-1}(agr_ID) (delta method).
        id_rows (`int`): labeled ID rows used.
        target_rows (`int`): target rows used.
    """

    aline_s: np.ndarray
    aline_d: np.ndarray
    id_accuracy: np.ndarray
    id_agreement: np.ndarray
    ood_agreement: np.ndarray
    slope: float
    bias: float
    r2: float
    residual: float
    aline_d_residual: float
    spread: float
    noise: float
    id_rows: int
    target_rows: int


def _predictions(outputs: Any, name: str) -> np.ndarray:
    """`(M, rows)` int predictions from `(M, rows)` label ids or `(M, rows, K)` logits (argmax). A label id of -1 is a
    prediction of a class the target does not have (a 3-class model's "neutral" on a binary target): it is never
    right, and two models that both predict it agree."""
    try:
        a = np.asarray(outputs, dtype=np.float64)
    except (TypeError, ValueError):
        raise EstimatorUnavailable(f"{name} must be one equal-length array per model") from None
    if a.ndim == 3:
        if a.shape[2] < 2:
            raise EstimatorUnavailable(f"{name} logits have {a.shape[2]} class column(s); at least 2 are needed")
        if not np.all(np.isfinite(a)):
            raise EstimatorUnavailable(f"{name} logits contain NaN or infinite values")
        return np.argmax(a, axis=2)
    if a.ndim != 2:
        raise EstimatorUnavailable(
            f"{name} must be (models, rows) label ids or (models, rows, K) logits, got shape {a.shape}"
        )
    if not np.all(np.isfinite(a)) or np.any(a != np.round(a)) or np.any(a < -1):
        raise EstimatorUnavailable(f"{name} must be integer label ids (-1: a class the target does not have)")
    return a.astype(np.int64)


def _agreement(p: np.ndarray) -> np.ndarray:
    """`(M, M)` share of rows on which each pair of models predicts the same label (O(M · rows) memory)."""
    return np.stack([(p == p[i]).mean(axis=1) for i in range(p.shape[0])])


def _probit(p: np.ndarray, rows: int) -> np.ndarray:
    """Φ^{-1}(p) with p clipped to [1/(2·rows), 1 − 1/(2·rows)] (half a count), so rates of 0 or 1 stay finite."""
    eps = 0.5 / rows
    return ndtri(np.clip(p, eps, 1.0 - eps))


def aline(
    id_outputs: Any,
    id_labels: Any,
    target_outputs: Any,
    min_spread_ratio: float = MIN_SPREAD_RATIO,
    min_id_rows: int = MIN_SOURCE_ROWS,
) -> ALineResult:
    """Predict each model's target accuracy from ID accuracy and ID/target agreement (ALine-S and ALine-D).

    Baek et al. (NeurIPS 2022, arXiv 2206.13089). For M ≥ 3 models h_1…h_M sharing a labeled ID slice:

    1. pairwise agreements agr_D(h_i, h_j) = (1/|D|) Σ_x 1[h_i(x) = h_j(x)] on ID and on the (unlabeled) target;
    2. fit, by least squares over the pairs i < j, Φ^{-1}(agr_OOD(i, j)) = a · Φ^{-1}(agr_ID(i, j)) + b;
    3. **ALine-S**: acc_OOD(h_i) = Φ(a · Φ^{-1}(acc_ID(h_i)) + b) (the agreement line applied to accuracy);
    4. **ALine-D**: since accuracy and agreement share a and b, subtracting the two line equations removes b:
       for every pair, with q_i = Φ^{-1}(acc_ID(h_i)),
       ½(x_i + x_j) = Φ^{-1}(agr_OOD(i, j)) + a · (½(q_i + q_j) − Φ^{-1}(agr_ID(i, j))),
       with x_i = Φ^{-1}(acc_OOD(h_i)); the M(M−1)/2 equations are solved for x by least squares (full column rank
       for M ≥ 3) and acc_OOD(h_i) = Φ(x_i). ALine-D uses each pair's observed target agreement, not only the line.

    Rates of 0 or 1 are clipped by half a count before Φ^{-1}. The estimates are only as good as the line: check
    ``r2`` (the paper finds the method reliable when agreement-on-the-line holds, R² high) before trusting them.

    Args:
        id_outputs (`array-like`): each model's outputs on the shared ID slice, `(M, m)` predicted label ids (-1: a
            class the target does not have) or `(M, m, K)` logits (argmax is taken).
        id_labels (`array-like`): `(m,)` ID labels in the same label space (negative = unknown, row ignored).
        target_outputs (`array-like`): each model's outputs on the target, `(M, n)` label ids or `(M, n, K)` logits.
        min_spread_ratio (`float`, *optional*, defaults to 2.0): the standard deviation of Φ^{-1}(agr_ID) over
            pairs must be at least this multiple of its binomial sampling noise, √(mean_ij se_ij²) with
            se_ij = √(p(1 − p)/m) / φ(Φ^{-1}(p)) (delta method), or no line is fitted. At 2, sampling noise is at
            most a quarter of the observed variance, so the fitted slope is attenuated by at most 25%.
        min_id_rows (`int`, *optional*, defaults to 20): fewest labeled ID rows accepted.

    Returns:
        `ALineResult`: ``aline_s`` and ``aline_d`` (M,), the line (``slope``, ``bias``, ``r2``, ``residual``) and
        the agreement matrices.

    Raises:
        `EstimatorUnavailable`: fewer than 3 models, mismatched shapes, too few labeled ID rows, or ID agreements
            with too little spread to fit a line.

    Example:

    ```python
    >>> import numpy as np
    >>> from hfsearch.estimate import aline
    >>> u = (np.arange(1000) + 0.5) / 1000   # shared per-row difficulty: nested errors
    >>> y = np.zeros(1000, dtype=int)
    >>> wrong = lambda i: i + 1               # each model errs to its own class
    >>> ids = [np.where(u < a, 0, wrong(i)) for i, a in enumerate([0.6, 0.75, 0.85, 0.93])]
    >>> ood = [np.where(u < a, 0, wrong(i)) for i, a in enumerate([0.4, 0.55, 0.7, 0.82])]
    >>> r = aline(ids, y, ood)
    >>> bool(r.r2 > 0.99)
    True
    ```
    """
    p_id = _predictions(id_outputs, "ID outputs")
    p_ood = _predictions(target_outputs, "target outputs")
    n_models = p_id.shape[0]
    if n_models < MIN_MODELS or p_ood.shape[0] < MIN_MODELS:
        raise EstimatorUnavailable(f"needs at least {MIN_MODELS} models sharing a source dataset, got {n_models}")
    if p_ood.shape[0] != n_models:
        raise EstimatorUnavailable(f"{n_models} models have ID outputs but {p_ood.shape[0]} have target outputs")
    if p_ood.shape[1] == 0:
        raise EstimatorUnavailable("target outputs have no rows")
    y = as_labels(id_labels, p_id.shape[1], name="ID labels")
    keep = y >= 0
    m = int(keep.sum())
    if m == 0:
        raise EstimatorUnavailable("source held-out slice has no labels")
    if m < min_id_rows:
        raise EstimatorUnavailable(f"needs at least {min_id_rows} labeled source rows, got {m}")
    p_id, y = p_id[:, keep], y[keep]
    n = p_ood.shape[1]

    acc_id = (p_id == y[None, :]).mean(axis=1)
    agr_id, agr_ood = _agreement(p_id), _agreement(p_ood)
    iu, ju = np.triu_indices(n_models, k=1)
    x = _probit(agr_id[iu, ju], m)
    t = _probit(agr_ood[iu, ju], n)

    # sampling noise of the probit ID agreements (delta method), clipped rates as in _probit
    pc = ndtr(x)
    se = np.sqrt(pc * (1.0 - pc) / m) / (np.exp(-0.5 * x**2) / np.sqrt(2.0 * np.pi))
    noise = float(np.sqrt(np.mean(se**2)))
    spread = float(np.std(x))
    if spread == 0.0 or spread < min_spread_ratio * noise:
        raise EstimatorUnavailable(
            f"ID agreements between the models are too similar to fit a line (probit spread {spread:.3g} < "
            f"{min_spread_ratio:g} x sampling noise {noise:.3g}); use more diverse models or more ID rows"
        )

    xc = x - x.mean()
    slope = float((xc * (t - t.mean())).sum() / (xc**2).sum())
    bias = float(t.mean() - slope * x.mean())
    res = t - (slope * x + bias)
    ss_tot = float(((t - t.mean()) ** 2).sum())
    r2 = 1.0 - float((res**2).sum()) / ss_tot if ss_tot > 0 else 1.0

    q = _probit(acc_id, m)
    aline_s = ndtr(slope * q + bias)

    pairs = len(iu)
    design = np.zeros((pairs, n_models))
    design[np.arange(pairs), iu] = 0.5
    design[np.arange(pairs), ju] = 0.5
    rhs = t + slope * (0.5 * (q[iu] + q[ju]) - x)
    sol = np.linalg.lstsq(design, rhs, rcond=None)[0]
    d_res = design @ sol - rhs

    return ALineResult(
        aline_s=aline_s,
        aline_d=ndtr(sol),
        id_accuracy=acc_id,
        id_agreement=agr_id,
        ood_agreement=agr_ood,
        slope=slope,
        bias=bias,
        r2=float(r2),
        residual=float(np.sqrt(np.mean(res**2))),
        aline_d_residual=float(np.sqrt(np.mean(d_res**2))),
        spread=spread,
        noise=noise,
        id_rows=m,
        target_rows=n,
    )
