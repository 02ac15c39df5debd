"""The label loop's belief about each model's accuracy on the sample, and which model is best.

The quantity is the accuracy on the ``N`` rows at hand (a finite population). The loop chooses rows where the leading
models disagree, so the labeled rows are NOT a random sample: a plain average over them would call every model worse
than it is (those rows are hard for everyone). The belief is built to stay unbiased anyway:

- **A label-free control variate.** ``p⁰_mi`` = how likely model m is right on row i before any label: the share of
  the *other* distinct voters that predict what m predicts (clone groups merged, its own group left out; a linear
  opinion pool stays calibrated-ish where a product of voters, Dawid–Skene, is overconfident), shifted on the log-odds
  scale per model so that ``mean_i p⁰_mi = a_m``, the given label-free estimate (any residual of that fit is kept as an
  offset on the unlabeled part). Then ``Acc_m = mean_i p⁰_mi + R_m`` with ``R_m`` the mean residual
  ``c_mi − p⁰_mi`` over all rows.
- **Active-testing weights.** Rows are drawn from a proposal ``q_t`` (mostly the information gain, see `selection.py`)
  and ``R_m`` is estimated with the LURE weights of Farquhar, Gal & Rainforth (*On Statistical Bias In Active
  Learning: How and When to Fix It*, ICLR 2021), as in Active Testing (Kossen et al., ICML 2021): unbiased for
  sampling without replacement under any proposal that gives every remaining row a chance.
- **A prior worth ν labels.** The label-free estimate enters as a pseudo-observation ``R_m ~ N(0, τ_m²)``, errors
  correlated across models as their predictions agree (`_agreement_root`), with weight
  ``ν_m = mean_i p⁰(1 − p⁰) / τ_m²`` (the labels whose average would be as precise as the estimate) scaled by the
  unlabeled fraction, so 0 labels reproduces ``a_m`` and its interval, and all rows labeled gives ``k_m / N`` exactly.
- **Uncertainty and P(best)** come from a Bayesian bootstrap (Rubin, 1981) over the labeled rows: the same Dirichlet
  weights for every model, so models that agree on a row move together, with a finite-population correction
  ``sqrt(1 − M/N)``. Draws use fixed random numbers (seeded), so the belief is deterministic.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, logit

from .clones import find_clone_groups, group_votes, pairwise_agreement

def vote_share(predictions: np.ndarray, n_classes: int) -> np.ndarray:
    """``(rows, models)`` share of the other distinct voters that predict what each model predicts.

    Clone groups (see `find_clone_groups`) count once and a model's own group is left out; ``1/C`` where no other
    voter predicts, 0 where the model itself does not predict.

    Args:
        predictions (`np.ndarray`): ``(rows, models)`` class ids, ``-1`` = no prediction.
        n_classes (`int`): number of classes.

    Returns:
        `np.ndarray`: values in ``[0, 1]``.

    Example:

    ```python
    >>> vote_share(np.array([[0, 0, 1], [1, 1, 1]]), 2)   # models 0 and 1 are clones: each sees only model 2
    array([[0., 0., 0.],
           [1., 1., 1.]])
    ```
    """
    p = np.asarray(predictions).astype(np.int64)
    n, m = p.shape
    groups = find_clone_groups(p, n_classes)
    votes, _ = group_votes(p, groups, n_classes)
    counts = np.stack([(votes == k).sum(axis=1) for k in range(n_classes)], axis=1).astype(np.float64)
    voters = (votes >= 0).sum(axis=1).astype(np.float64)
    out = np.zeros((n, m))
    rows = np.arange(n)
    for g, members in enumerate(groups):
        own = votes[:, g]
        others = voters - (own >= 0)
        for j in members:
            has = p[:, j] >= 0
            agree = counts[rows, np.where(has, p[:, j], 0)] - ((own == p[:, j]) & has)
            share = np.divide(agree, others, out=np.full(n, 1.0 / n_classes), where=others > 0)
            out[:, j] = np.where(has, share, 0.0)
    return out


def _agreement_root(predictions: np.ndarray, n_classes: int) -> np.ndarray:
    """``L`` with ``L Lᵀ`` = the models' agreement-correlation matrix (share of rows where two models agree).

    The label-free estimates of two models err together where they predict the same thing: their prior errors are
    drawn with this correlation, so near-duplicates share their error and only the rows where they differ can
    separate them.
    """
    same, _ = pairwise_agreement(predictions, n_classes)
    d = np.sqrt(np.maximum(np.diag(same).astype(np.float64), 1.0))
    corr = same / d[:, None] / d[None, :]
    vals, vecs = np.linalg.eigh(corr)
    return vecs * np.sqrt(np.clip(vals, 0.0, None))[None, :]


def lure_weights(q_selected: np.ndarray, n_rows: int) -> np.ndarray:
    """LURE weights ``v_j`` of ``M`` rows drawn one by one without replacement from ``n_rows``.

    ``v_j = 1 + (N − M)/(N − j) · (1 / ((N − j + 1) q_j) − 1)`` for the j-th draw (1-based), ``q_j`` the probability
    the proposal gave the row drawn; ``(1/M) Σ_j v_j L_j`` is unbiased for ``(1/N) Σ_i L_i`` (Farquhar et al., 2021).
    A uniform proposal gives every weight 1.

    Example:

    ```python
    >>> lure_weights(np.array([1 / 4, 1 / 3]), 4)
    array([1., 1.])
    ```
    """
    q = np.asarray(q_selected, dtype=np.float64)
    m = len(q)
    j = np.arange(1, m + 1)
    n = float(n_rows)
    return 1.0 + (n - m) / np.maximum(n - j, 1e-12) * (1.0 / ((n - j + 1) * q) - 1.0)


class AccuracyBelief:
    """Per-model accuracy on a sample of ``N`` rows, from a label-free estimate updated by revealed labels.

    Args:
        predictions (`np.ndarray`): ``(rows, models)`` class ids, ``-1`` = no prediction (always wrong).
        prior_accuracy (`np.ndarray`): ``(models,)`` label-free accuracy estimates.
        prior_sd (`np.ndarray`): ``(models,)`` their standard deviations.
        row_correct (`np.ndarray`, *optional*): ``(rows, models)`` label-free P(correct) per row (default:
            `vote_share`).
        n_classes (`int`, *optional*): number of classes (default: inferred).
        n_draws (`int`, *optional*, defaults to 512): bootstrap draws.
        seed (`int`, *optional*, defaults to 0): seed of the fixed random numbers.

    Attributes:
        mean, sd (`np.ndarray`): ``(models,)`` current accuracy belief.
        draws (`np.ndarray`): ``(n_draws, models)`` joint draws of the accuracies.
        p (`np.ndarray`): ``(rows, models)`` label-free P(correct) per row (``p⁰``).
    """

    def __init__(
        self,
        predictions: np.ndarray,
        prior_accuracy: np.ndarray,
        prior_sd: np.ndarray,
        *,
        row_correct: np.ndarray | None = None,
        n_classes: int | None = None,
        n_draws: int = 512,
        seed: int = 0,
    ) -> None:
        self.pred = np.asarray(predictions).astype(np.int64)
        n, m = self.pred.shape
        self.n_rows, self.n_models = n, m
        self.n_classes = int(n_classes) if n_classes is not None else max(int(self.pred.max()) + 1, 2)
        self.prior = np.asarray(prior_accuracy, dtype=np.float64)
        self.prior_sd = np.maximum(np.asarray(prior_sd, dtype=np.float64), 1e-6)
        self.can = self.pred >= 0
        pi = vote_share(self.pred, self.n_classes) if row_correct is None else np.asarray(row_correct, float)
        eps = 0.5 / (n + 1)
        z = logit(np.clip(pi, eps, 1.0 - eps))
        self.p = np.where(self.can, expit(z + self._calibrate(z, self.prior)), 0.0)
        self.base = self.p.sum(axis=0) / n
        self.offset = self.prior - self.base
        self.strength = np.maximum((self.p * (1.0 - self.p)).mean(axis=0), 1.0 / n) / self.prior_sd**2
        rng = np.random.default_rng(seed)
        self._pseudo = self.prior_sd * (rng.standard_normal((n_draws, m)) @ _agreement_root(self.pred, self.n_classes).T)
        self._rng = rng
        self._g_rows = np.zeros((n_draws, 0))
        self.rows: list[int] = []
        self.q_selected: list[float] = []
        self.labeled = np.zeros(n, dtype=bool)
        self.labels = np.full(n, -1, dtype=np.int64)
        self._residuals = np.zeros((0, m))
        self._refresh()

    def _calibrate(self, z: np.ndarray, target: np.ndarray) -> np.ndarray:
        """Shift per model with ``mean_i σ(z_i + shift) = target`` (bisection on [-30, 30])."""
        lo = np.full(self.n_models, -30.0)
        hi = np.full(self.n_models, 30.0)
        for _ in range(60):
            mid = (lo + hi) / 2
            above = np.where(self.can, expit(z + mid), 0.0).sum(axis=0) / self.n_rows > target
            hi = np.where(above, mid, hi)
            lo = np.where(above, lo, mid)
        return (lo + hi) / 2

    @property
    def n_labeled(self) -> int:
        return len(self.rows)

    def observe(self, row: int, label: int, q_selected: float) -> None:
        """Record the true `label` of `row`, drawn with probability `q_selected` by the proposal of that step."""
        self.labeled[row] = True
        self.labels[row] = int(label)
        self.rows.append(int(row))
        self.q_selected.append(float(q_selected))
        residual = (self.pred[row] == label).astype(np.float64) - self.p[row]
        self._residuals = np.vstack([self._residuals, residual[None, :]])
        g = -np.log(1.0 - self._rng.random((self._g_rows.shape[0], 1)))  # Gamma(1) bootstrap weight of the row
        self._g_rows = np.hstack([self._g_rows, g])
        self._refresh()

    def _refresh(self) -> None:
        n, k = self.n_rows, self.n_labeled
        unlabeled = (n - k) / n
        nu = self.strength * unlabeled  # the prior speaks for the unlabeled rows only
        v = lure_weights(np.array(self.q_selected), n) if k else np.zeros(0)
        weighted = v[:, None] * self._residuals  # (M, models)
        self.residual = weighted.sum(axis=0) / (nu + k) if k else np.zeros(self.n_models)
        point = self.base + self.residual + self.offset * unlabeled
        correct = (self._residuals + self.p[self.rows]).sum(axis=0) if k else np.zeros(self.n_models)
        upper = (correct + self.can[~self.labeled].sum(axis=0)) / n
        self.mean = np.clip(point, correct / n, upper)
        g0 = np.maximum(nu, 1e-12)[None, :]  # the prior's weight: its mean (a Gamma(ν) draw adds little)
        num = g0 * self._pseudo + self._g_rows @ weighted
        den = g0 + self._g_rows.sum(axis=1, keepdims=True)
        spread = num / den - self.residual[None, :]
        self.draws = self.mean[None, :] + np.sqrt(unlabeled) * spread
        self.sd = self.draws.std(axis=0)
