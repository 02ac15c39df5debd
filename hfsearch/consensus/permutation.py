"""Models whose label ids are permuted relative to the pool (e.g. a checkpoint whose ``0``/``1`` mean the opposite).

For each model, its (soft) confusion against the consensus labels, ``M[k, l] = Σ_i q_i(k) [pred_i = l]``, is
matched to a permutation by the Hungarian algorithm (``scipy.optimize.linear_sum_assignment``, maximising the
agreement). The rule, fixed in advance and not tuned on any pool — a model is **flagged** when all three hold:

1. the best permutation is not the identity;
2. it is clearly better than the identity: an exact one-sided sign test on the rows where the two mappings differ in
   correctness (expected counts, rounded) gives ``p < alpha`` (0.001 by default);
3. the model is informative once remapped: Cohen's kappa against the consensus is at least `min_kappa` (0.4,
   "moderate agreement" on the Landis & Koch scale). A merely bad model (kappa near 0 under every mapping), or a
   constant one, is therefore never called permuted, even when swapping its ids happens to raise its agreement.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment


@dataclass
class PermutationCheck:
    """The permutation test of one model.

    Attributes:
        model (`int`): column index of the model.
        flagged (`bool`): the model's ids look permuted (see the module's rule).
        mapping (`list[int]`): ``mapping[l]`` = the pool's class that the model's id ``l`` stands for (best match).
        agreement_identity, agreement_permuted (`float`): agreement with the consensus as is / once remapped.
        kappa_identity, kappa_permuted (`float`): Cohen's kappa as is / once remapped.
        p_value (`float`): sign test of "remapped agrees more often" (1.0 when the mapping is the identity).
    """

    model: int
    flagged: bool
    mapping: list[int]
    agreement_identity: float
    agreement_permuted: float
    kappa_identity: float
    kappa_permuted: float
    p_value: float

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _kappa(confusion: np.ndarray) -> tuple[float, float]:
    total = confusion.sum()
    if total <= 0:
        return 0.0, 0.0
    po = float(np.trace(confusion) / total)
    pe = float((confusion.sum(axis=1) * confusion.sum(axis=0)).sum() / total**2)
    return po, (0.0 if pe >= 1.0 - 1e-12 else (po - pe) / (1.0 - pe))


def check_permutation(
    pred: np.ndarray, reference: np.ndarray, *, model: int = 0, min_kappa: float = 0.4, alpha: float = 1e-3
) -> PermutationCheck:
    """Test one model's predictions against consensus labels for a permutation of its class ids.

    Args:
        pred (`np.ndarray`): ``(rows,)`` the model's class ids, ``-1`` = no prediction (left out).
        reference (`np.ndarray`): ``(rows,)`` consensus labels, or ``(rows, C)`` a posterior over them.
        model (`int`, *optional*): index reported back in the result.
        min_kappa (`float`, *optional*, defaults to 0.4): kappa needed once remapped.
        alpha (`float`, *optional*, defaults to 0.001): level of the sign test.

    Returns:
        `PermutationCheck`: the mapping, both agreements and kappas, the p-value and the flag.

    Example:

    ```python
    >>> y = np.array([0, 1] * 50)
    >>> check_permutation(1 - y, y).mapping, check_permutation(1 - y, y).flagged
    ([1, 0], True)
    ```
    """
    pred = np.asarray(pred).astype(np.int64)
    ref = np.asarray(reference)
    q = ref.astype(np.float64) if ref.ndim == 2 else None
    c = q.shape[1] if q is not None else int(max(ref.max(), pred.max())) + 1
    if q is None:
        q = np.eye(c)[ref.astype(np.int64)]
    c = max(c, int(pred.max()) + 1)
    if q.shape[1] < c:
        q = np.pad(q, ((0, 0), (0, c - q.shape[1])))
    has = pred >= 0
    qh, ph = q[has], pred[has]
    conf = qh.T @ np.eye(c)[ph]  # [k, l]: reference class k, model id l
    rows, cols = linear_sum_assignment(-conf.T)  # rows: model id l, cols: reference class
    mapping = np.arange(c)
    mapping[rows] = cols
    po_id, k_id = _kappa(conf)
    remapped = np.zeros_like(conf)
    for model_id in range(c):
        remapped[:, mapping[model_id]] += conf[:, model_id]
    po_perm, k_perm = _kappa(remapped)
    n_rows = max(len(ph), 1)
    if np.array_equal(mapping, np.arange(c)):
        p_value = 1.0
    else:
        moved = mapping[ph] != ph
        gain = float(qh[moved, mapping[ph][moved]].sum())
        loss = float(qh[moved, ph[moved]].sum())
        k, total = int(round(gain)), int(round(gain)) + int(round(loss))
        from scipy.stats import binomtest  # only here: scipy.stats costs ~0.3 s to import

        p_value = float(binomtest(k, total, 0.5, alternative="greater").pvalue) if total > 0 else 1.0
    flagged = p_value < alpha and k_perm >= min_kappa
    return PermutationCheck(
        model=model,
        flagged=bool(flagged),
        mapping=[int(x) for x in mapping],
        agreement_identity=po_id * len(ph) / n_rows,
        agreement_permuted=po_perm * len(ph) / n_rows,
        kappa_identity=k_id,
        kappa_permuted=k_perm,
        p_value=p_value,
    )


def detect_permutations(
    predictions: np.ndarray, reference: np.ndarray, *, min_kappa: float = 0.4, alpha: float = 1e-3
) -> list[PermutationCheck]:
    """`check_permutation` for every column of a ``(rows, models)`` prediction matrix.

    Args:
        predictions (`np.ndarray`): ``(rows, models)`` class ids, ``-1`` = no prediction.
        reference (`np.ndarray`): ``(rows,)`` consensus labels or ``(rows, C)`` posterior (e.g. Dawid–Skene's `q`).
        min_kappa (`float`, *optional*), alpha (`float`, *optional*): see `check_permutation`.

    Returns:
        `list[PermutationCheck]`: one per model, in column order.
    """
    p = np.asarray(predictions)
    return [check_permutation(p[:, j], reference, model=j, min_kappa=min_kappa, alpha=alpha) for j in range(p.shape[1])]
