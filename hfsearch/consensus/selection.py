"""The label loop: ask for the few labels that best tell the leading models apart, one row at a time.

In the spirit of Model Selector (Okanovic et al., *All models are wrong, some are useful: Model Selection with
Limited Labels*, AISTATS 2025, arXiv 2410.13609): keep a belief over "which model is best", label rows whose answer is
expected to reduce the entropy of that belief the most, update, repeat. Differences, each to avoid a tuned constant
or a bias:

- the belief is `belief.AccuracyBelief`: it starts exactly at a given label-free estimate (not uniform) and needs
  no grid-searched noise level ε;
- rows are grouped by the leading models' prediction pattern; the expected information gain (EIG) on P(best) among
  the leaders is computed per group (exactly, from the group's Dirichlet predictive, with a Gaussian summary of the
  leaders' accuracies), and the row is drawn uniformly inside the group with the highest gain — all rows of a group
  are exchangeable under the belief, so this is the argmax with ties broken at random, and it keeps the labels of
  each group a random sample of it (no selection bias in what is learned).

>>> loop = LabelLoop(pred, prior_accuracy, budget=20)
>>> i = loop.next_row(); loop.observe(i, y_i)      # or loop.skip(i); stop any time
>>> loop.ranking().to_frame(model_names)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy.special import ndtri  # the normal quantile (scipy.stats costs ~0.3 s to import)

from .belief import AccuracyBelief

Strategy = Literal["informative", "uniform"]


@dataclass
class LoopRanking:
    """The loop's current answer, one entry per model (arrays in model order).

    Attributes:
        accuracy (`np.ndarray`): posterior mean accuracy on the sample.
        low, high (`np.ndarray`): the central interval at the loop's `level`.
        p_best (`np.ndarray`): probability of being the most accurate (0 for models that may not be recommended).
        n_labeled (`int`): labels used so far.
        best (`int`): the recommended model (highest accuracy among those that may be recommended).
    """

    accuracy: np.ndarray
    low: np.ndarray
    high: np.ndarray
    p_best: np.ndarray
    n_labeled: int
    best: int

    def to_frame(self, models: Sequence[str] | None = None) -> pd.DataFrame:
        """A DataFrame sorted best first: ``model, accuracy, low, high, p_best``."""
        names = list(models) if models is not None else [str(j) for j in range(len(self.accuracy))]
        frame = pd.DataFrame(
            {"model": names, "accuracy": self.accuracy, "low": self.low, "high": self.high, "p_best": self.p_best}
        )
        return frame.sort_values("accuracy", ascending=False, kind="stable").reset_index(drop=True)


class LabelLoop:
    """Choose rows to label, take labels one at a time, and keep a ranking with P(best) and intervals.

    Args:
        predictions (`np.ndarray`): ``(rows, models)`` class ids, ``-1`` = no prediction.
        prior_accuracy (`np.ndarray`): ``(models,)`` label-free accuracy estimates (the answer at 0 labels).
        prior_interval (`np.ndarray`, *optional*): ``(models, 2)`` their intervals at `level`; without it every
            estimate gets the sd `prior_sd`.
        budget (`int`, *optional*, defaults to 20): most labels the loop will ever ask for.
        strategy (`str`, *optional*, defaults to ``"informative"``): ``"informative"`` (expected information gain on
            P(best)) or ``"uniform"`` (a random unlabeled row; the baseline).
        row_correct (`np.ndarray`, *optional*): ``(rows, models)`` label-free P(correct) per row (default: vote share).
        recommendable (`np.ndarray`, *optional*): ``(models,)`` bools; others get P(best) = 0 and are never best.
        level (`float`, *optional*, defaults to 0.9): coverage of the intervals.
        prior_sd (`float`, *optional*, defaults to 0.05): sd of a label-free estimate when no interval is given — an
            a-priori assumption (a few points is the error label-free estimators typically make), not a tuned value.
        n_draws (`int`, *optional*, defaults to 256): Monte-Carlo draws behind P(best) and the intervals.
        max_leaders (`int`, *optional*, defaults to 8): how many of the models most likely to be best (P(best),
            re-picked after every label) the loop tries to tell apart; their prediction patterns define the row groups.
        n_classes (`int`, *optional*): number of classes (default: inferred).
        seed (`int`, *optional*, defaults to 0): seeds the draws, the uniform strategy and tie-breaks.
        common_share (`float`, *optional*, defaults to 0.5): share of the label-free estimates' error that the models
            have in common (see `AccuracyBelief`). With an ``auto`` prior, the selector measures it on its
            cross-validated predictions (`Selector.common_share`); 0.5 is the assumption without such a measure.
    """

    def __init__(
        self,
        predictions: np.ndarray,
        prior_accuracy: np.ndarray,
        prior_interval: np.ndarray | None = None,
        *,
        budget: int = 20,
        strategy: Strategy = "informative",
        row_correct: np.ndarray | None = None,
        recommendable: np.ndarray | None = None,
        level: float = 0.9,
        prior_sd: float = 0.05,
        n_draws: int = 256,
        max_leaders: int = 8,
        n_classes: int | None = None,
        seed: int = 0,
        common_share: float = 0.5,
    ) -> None:
        if strategy not in ("informative", "uniform"):
            raise ValueError(f"unknown strategy {strategy!r}; use 'informative' or 'uniform'")
        self.pred = np.asarray(predictions).astype(np.int64)
        n, m = self.pred.shape
        self.prior = np.asarray(prior_accuracy, dtype=np.float64)
        if self.prior.shape != (m,):
            raise ValueError(f"prior_accuracy has shape {self.prior.shape}, expected ({m},)")
        self.z_level = float(ndtri(0.5 + level / 2.0))
        self.prior_interval = None if prior_interval is None else np.asarray(prior_interval, dtype=np.float64)
        if self.prior_interval is not None:
            sd = (self.prior_interval[:, 1] - self.prior_interval[:, 0]) / (2 * self.z_level)
        else:
            sd = np.full(m, float(prior_sd))
        self.recommendable = np.ones(m, bool) if recommendable is None else np.asarray(recommendable, bool)
        candidates = np.flatnonzero(self.recommendable) if self.recommendable.any() else np.arange(m)
        self.max_leaders = max(int(max_leaders), 1)
        self.prior_sd = np.maximum(sd, 1e-6)
        leaders = candidates[np.argsort(-self.prior[candidates], kind="stable")[: self.max_leaders]]
        self.belief = AccuracyBelief(
            self.pred,
            self.prior,
            self.prior_sd,
            np.sort(leaders),
            row_correct=row_correct,
            n_classes=n_classes,
            n_draws=n_draws,
            seed=seed,
            common_share=common_share,
        )
        self.n_classes = self.belief.n_classes
        self.budget = int(budget)
        self.strategy = strategy
        self.level = float(level)
        self.rng = np.random.default_rng([seed, 1])
        self.normal = self.rng.standard_normal((256, len(leaders)))  # common random numbers for the EIG
        self.skipped = np.zeros(n, dtype=bool)
        self.history: list[tuple[int, int]] = []

    # -- state -------------------------------------------------------------------------------------------------------
    @property
    def n_labeled(self) -> int:
        """Labels used so far."""
        return len(self.history)

    @property
    def remaining(self) -> int:
        """Labels the loop may still ask for."""
        return max(self.budget - self.n_labeled, 0)

    def _open_rows(self) -> np.ndarray:
        return np.flatnonzero(~self.belief.labeled & ~self.skipped)

    def p_best(self) -> np.ndarray:
        """``(models,)`` probability that each model is the most accurate (among those that may be recommended)."""
        b = self.belief
        out = np.zeros(b.n_models)
        idx = np.flatnonzero(self.recommendable)
        if len(idx) == 0:
            return out
        counts = np.bincount(b.draws[:, idx].argmax(axis=1), minlength=len(idx))
        out[idx] = counts / counts.sum()
        return out

    def ranking(self) -> LoopRanking:
        """The current accuracies, intervals, P(best) and recommendation (0 labels: exactly the prior)."""
        b = self.belief
        if self.n_labeled == 0:
            acc = self.prior.copy()
            if self.prior_interval is not None:
                low, high = self.prior_interval[:, 0].copy(), self.prior_interval[:, 1].copy()
            else:
                low, high = acc - self.z_level * b.sd, acc + self.z_level * b.sd
        else:
            acc = b.mean.copy()
            alpha = (1.0 - self.level) / 2.0
            low, high = np.quantile(b.draws, [alpha, 1.0 - alpha], axis=0)
        low, high = np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)
        masked = np.where(self.recommendable & np.isfinite(acc), acc, -np.inf)  # a NaN would win argmax
        return LoopRanking(acc, low, high, self.p_best(), self.n_labeled, int(np.argmax(masked)))

    # -- the loop ----------------------------------------------------------------------------------------------------
    def next_row(self) -> int | None:
        """The row to label next, or ``None`` once the budget is spent or no row is left."""
        if self.remaining == 0:
            return None
        rows = self._open_rows()
        if len(rows) == 0:
            return None
        if self.strategy == "informative":
            group = self._best_group(rows)
            if group is not None:
                rows = rows[self.belief.stratum[rows] == group]
        return int(self.rng.choice(rows))

    def observe(self, row: int, label: int) -> None:
        """Record the true `label` of `row` (counts against the budget).

        Any row may be labeled; rows the loop did not propose are treated as a random pick within their group.
        """
        row, label = int(row), int(label)
        if self.remaining == 0:
            raise RuntimeError(f"the label budget ({self.budget}) is spent")
        if not 0 <= row < self.belief.n_rows or self.belief.labeled[row]:
            raise ValueError(f"row {row} is out of range or already labeled")
        if not 0 <= label < self.n_classes:
            raise ValueError(f"label {label} is not a class id in [0, {self.n_classes})")
        self.belief.observe(row, label, uniform=self.strategy == "uniform")
        self.skipped[row] = False
        self.history.append((row, label))
        self._update_leaders()

    def _update_leaders(self) -> None:
        """Re-pick the leaders (the `max_leaders` models most likely to be best); regroup the rows if they changed."""
        pb = self.p_best()
        b = self.belief
        current = np.isin(np.arange(b.n_models), b.leaders)
        # P(best) first; among models never drawn best, current leaders stay (no churn), then the higher accuracy.
        candidates = np.flatnonzero(self.recommendable) if self.recommendable.any() else np.arange(b.n_models)
        key = (pb + 1e-6 * current + 1e-9 * b.mean)[candidates]
        leaders = np.sort(candidates[np.argsort(-key, kind="stable")[: len(b.leaders)]])
        if not np.array_equal(leaders, b.leaders):
            self.belief = b.with_leaders(leaders, self.prior_sd)

    def skip(self, row: int) -> None:
        """Never ask for `row` again (the labeler could not answer); does not count against the budget."""
        self.skipped[int(row)] = True

    def _best_group(self, rows: np.ndarray) -> int | None:
        """The row group (stratum) with the largest expected information gain on P(best) among the leaders."""
        b = self.belief
        open_groups = np.unique(b.stratum[rows])
        pattern = b.pattern[open_groups]
        contested = open_groups[(pattern != pattern[:, :1]).any(axis=1)]
        if len(contested) == 0 or len(b.leaders) < 2:
            return None
        pat = b.pattern[contested]  # (G, K)
        # Hypotheses per group: each label a leader predicts there, plus "another label" (all leaders wrong).
        labels = np.where(pat >= 0, pat, -1)
        missing = np.array([next((k for k in range(self.n_classes) if k not in set(row)), -1) for row in labels])
        hyp = np.concatenate([labels, missing[:, None]], axis=1)  # (G, K+1); -1 = impossible
        first = np.array([[j == list(row).index(v) if v >= 0 else False for j, v in enumerate(row)] for row in hyp])
        alpha = b.alpha[contested]  # (G, C)
        f = alpha / alpha.sum(axis=1, keepdims=True)
        prob = np.where(first, np.take_along_axis(f, np.maximum(hyp, 0), axis=1), 0.0)  # each distinct label once
        prob[:, -1] = np.where(hyp[:, -1] >= 0, np.clip(1.0 - prob[:, :-1].sum(axis=1), 0.0, 1.0), 0.0)  # the rest
        mean, cov = b.leader_moments()
        m_old, c_old = b.stratum_moments(alpha, b.open_size[contested], pat)
        g, h = hyp.shape
        alpha_new = np.repeat(alpha[:, None, :], h, axis=1)
        gi, hi = np.nonzero(hyp >= 0)
        alpha_new[gi, hi, hyp[gi, hi]] += 1.0
        open_new = np.repeat(b.open_size[contested][:, None] - 1.0, h, axis=1)
        m_new, c_new = b.stratum_moments(alpha_new, open_new, np.repeat(pat[:, None, :], h, axis=1))
        right = (pat[:, None, :] == hyp[:, :, None]) & (hyp[:, :, None] >= 0)  # (G, H, K) leader right under hyp
        n = b.n_rows
        # the leaders' offsets on the prior part: one open row less in the group's stratum, one more label in its
        # Dirichlet (the group is contested, so both the shared level's and the differences' weights change)
        w_old = b.prior_weight(b.open_size[contested], alpha.sum(axis=1), contested)
        w_new = b.prior_weight(open_new, alpha_new.sum(axis=2), contested[:, None])
        lead = b.leaders
        per_weight = b.level_offset + b.diff_offset / b.contested0  # (K,)
        # and each leader's own calibration shift (on the logit scale, net of the row's mean residual)
        v_all = b.lead_slope(b.open_size, b.alpha.sum(axis=1)).sum(axis=0)  # (K,)
        v_old = b.lead_slope(b.open_size[contested], alpha.sum(axis=1), contested)  # (G, K)
        v_new = w_new[..., None] * b.v_lead[contested][:, None, :]  # (G, H, K)
        predicts = pat >= 0  # (G, K)
        step = np.where(predicts[:, None, :], right - b.q0_lead[contested][:, None, :], 0.0)
        # net of the row's mean residual (the pool's share predicting the label minus its mean q⁰, per group)
        hyp_share = np.take_along_axis(b.row_frac_s[contested], np.maximum(hyp, 0), axis=1)  # (G, H)
        row_eff = hyp_share - b.row_q0_s[contested][:, None]
        step = np.where(predicts[:, None, :], step - row_eff[:, :, None], 0.0)
        e_new = (b.resid[lead] + step) / (b.lam_own[lead] + b.v_obs[lead] + b.v_lead[contested][:, None, :])
        e_old = b.shift()[lead]
        mean_new = (
            mean
            + (m_new - m_old[:, None, :])
            + right / n
            + (w_new - w_old[:, None])[..., None] * per_weight
            + e_new * (v_all + (v_new - v_old[:, None, :]))
            - e_old * v_all
            + b.common_shift()[lead] * (v_new - v_old[:, None, :])
        )
        cov_new = cov + (c_new - c_old[:, None, :, :])
        h_now = self._entropy(mean[None, :], cov[None, :, :])[0]
        h_new = self._entropy(mean_new.reshape(g * h, -1), cov_new.reshape(g * h, *cov.shape)).reshape(g, h)
        gain = h_now - (prob * h_new).sum(axis=1) / np.maximum(prob.sum(axis=1), 1e-12)
        if gain.max() <= 1e-12:
            return None
        best = np.flatnonzero(gain >= gain.max() - 1e-12)
        return int(contested[self.rng.choice(best)])

    def _entropy(self, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
        """Entropy of P(best) among the leaders for Gaussian beliefs ``(P, K)``, ``(P, K, K)`` (fixed draws)."""
        k = mean.shape[1]
        vals, vecs = np.linalg.eigh(cov)
        root = vecs * np.sqrt(np.clip(vals, 0.0, None))[:, None, :]
        sample = mean[:, None, :] + np.matmul(self.normal[None, :, :], root.transpose(0, 2, 1))  # (P, S, K)
        winners = sample.argmax(axis=2) + k * np.arange(len(mean))[:, None]
        freq = np.bincount(winners.ravel(), minlength=len(mean) * k).reshape(len(mean), k) / sample.shape[1]
        return -(freq * np.log(np.where(freq > 0, freq, 1.0))).sum(axis=1)


@dataclass
class SimulationResult:
    """What `simulate` returns.

    Attributes:
        rows (`list[int]`): rows labeled, in order.
        best (`list[int]`): the recommended model after 0, 1, …, len(rows) labels.
        accuracy (`np.ndarray`): ``(len(rows) + 1, models)`` posterior accuracies after each label.
        low, high (`np.ndarray`): ``(len(rows) + 1, models)`` their intervals at the loop's level.
        p_best (`np.ndarray`): ``(len(rows) + 1, models)`` P(best) after each label.
    """

    rows: list[int] = field(default_factory=list)
    best: list[int] = field(default_factory=list)
    accuracy: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    low: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    high: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    p_best: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))


def simulate(
    predictions: np.ndarray,
    labels: np.ndarray,
    prior_accuracy: np.ndarray,
    budget: int,
    strategy: Strategy = "informative",
    seed: int = 0,
    **kwargs: object,
) -> SimulationResult:
    """Run a `LabelLoop` to its budget, revealing each asked label from `labels` (for benchmarks).

    Args:
        predictions (`np.ndarray`): ``(rows, models)`` class ids.
        labels (`np.ndarray`): ``(rows,)`` true labels (only the asked ones are read).
        prior_accuracy (`np.ndarray`): ``(models,)`` label-free estimates.
        budget (`int`): labels to reveal.
        strategy (`str`, *optional*): ``"informative"`` or ``"uniform"``.
        seed (`int`, *optional*): the loop's seed.
        kwargs: passed to `LabelLoop` (e.g. ``prior_interval``, ``recommendable``, ``row_correct``).

    Returns:
        `SimulationResult`: the rows asked and the recommendation and beliefs after each label.
    """
    loop = LabelLoop(predictions, prior_accuracy, budget=budget, strategy=strategy, seed=seed, **kwargs)  # type: ignore[arg-type]
    labels = np.asarray(labels).astype(np.int64)
    first = loop.ranking()
    out = SimulationResult(best=[first.best])
    acc, low, high, pbest = [first.accuracy], [first.low], [first.high], [first.p_best]
    while (row := loop.next_row()) is not None:
        loop.observe(row, int(labels[row]))
        r = loop.ranking()
        out.rows.append(row)
        out.best.append(r.best)
        acc.append(r.accuracy)
        low.append(r.low)
        high.append(r.high)
        pbest.append(r.p_best)
    out.accuracy, out.low, out.high, out.p_best = np.array(acc), np.array(low), np.array(high), np.array(pbest)
    return out


def synthetic_pool(
    seed: int, *, correlated: bool = True, n: int = 600, m: int = 30
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A pool of `m` binary classifiers on `n` rows with known truth, for simulations of the loop.

    Accuracies are drawn in [0.55, 0.92]. With `correlated`, errors share a hard subset (30 % of rows, where every
    model is 30 points less accurate and 13 points more elsewhere), as real models' errors do: the rows where the
    leaders disagree are then mostly hard rows. Otherwise every model errs independently on every row.

    Returns:
        `tuple`: predictions ``(n, m)``, labels ``(n,)`` and every model's true accuracy ``(m,)``.
    """
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    accs = rng.uniform(0.55, 0.92, m)
    if correlated:
        hard = rng.random(n) < 0.3
        p = np.where(hard[:, None], accs - 0.3, np.minimum(accs + 0.13, 0.99))
    else:
        p = np.broadcast_to(accs, (n, m))
    pred = np.where(rng.random((n, m)) < p, labels[:, None], 1 - labels[:, None])
    return pred, labels, (pred == labels[:, None]).mean(axis=0)
