"""The label loop: ask for the few labels that best tell the leading models apart, one row at a time.

In the spirit of Model Selector (Okanovic et al., *All models are wrong, some are useful: Model Selection with
Limited Labels*, AISTATS 2025, arXiv 2410.13609): keep a belief over "which model is best", label rows whose answer is
expected to reduce the entropy of that belief the most, update, repeat. Differences, each to avoid a tuned constant
or a bias:

- the belief is `belief.AccuracyBelief`: it starts exactly at a given label-free estimate (not uniform) and needs
  no grid-searched noise level ε;
- the expected information gain (EIG) on P(best) is scored for the rows where the leading models (P(best) > 0, at
  most `max_leaders`) disagree, with a one-label Gaussian what-if of the belief;
- the row is *drawn* with probability ``q = (1 − explore)·EIG/ΣEIG + explore/|open rows|`` rather than taken by
  argmax: the weights that keep the accuracy estimates unbiased (Active Testing) need every row to have a chance.
  In practice the draw lands on the few rows where the leaders disagree.

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
from scipy.stats import norm

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
        explore (`float`, *optional*, defaults to 0.1): share of the proposal spread uniformly over the open rows.
        n_draws (`int`, *optional*, defaults to 512): Monte-Carlo draws behind P(best) and the intervals.
        max_leaders (`int`, *optional*, defaults to 8): models considered when scoring rows.
        n_classes (`int`, *optional*): number of classes (default: inferred).
        seed (`int`, *optional*, defaults to 0): seeds the draws, the uniform strategy and tie-breaks.
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
        explore: float = 0.1,
        n_draws: int = 512,
        max_leaders: int = 8,
        n_classes: int | None = None,
        seed: int = 0,
    ) -> None:
        if strategy not in ("informative", "uniform"):
            raise ValueError(f"unknown strategy {strategy!r}; use 'informative' or 'uniform'")
        self.pred = np.asarray(predictions).astype(np.int64)
        n, m = self.pred.shape
        self.prior = np.asarray(prior_accuracy, dtype=np.float64)
        if self.prior.shape != (m,):
            raise ValueError(f"prior_accuracy has shape {self.prior.shape}, expected ({m},)")
        self.z_level = float(norm.ppf(0.5 + level / 2.0))
        self.prior_interval = None if prior_interval is None else np.asarray(prior_interval, dtype=np.float64)
        if self.prior_interval is not None:
            sd = (self.prior_interval[:, 1] - self.prior_interval[:, 0]) / (2 * self.z_level)
        else:
            sd = np.full(m, float(prior_sd))
        self.belief = AccuracyBelief(self.pred, self.prior, np.maximum(sd, 1e-6), row_correct=row_correct,
                                     n_classes=n_classes, n_draws=n_draws, seed=seed)
        self.n_classes = self.belief.n_classes
        self.budget = int(budget)
        self.strategy = strategy
        self.recommendable = np.ones(m, bool) if recommendable is None else np.asarray(recommendable, bool)
        self.max_leaders = int(max_leaders)
        self.explore = float(explore)
        self.level = float(level)
        self.rng = np.random.default_rng(seed + 1)
        self.draws = self.rng.standard_normal((int(n_draws), m))
        self.skipped = np.zeros(n, dtype=bool)
        self._proposal: dict[int, float] = {}
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
        masked = np.where(self.recommendable, acc, -np.inf)
        return LoopRanking(acc, low, high, self.p_best(), self.n_labeled, int(np.argmax(masked)))

    # -- the loop ----------------------------------------------------------------------------------------------------
    def next_row(self) -> int | None:
        """The row to label next, or ``None`` once the budget is spent or no row is left."""
        if self.remaining == 0:
            return None
        rows = self._open_rows()
        if len(rows) == 0:
            return None
        q = np.full(len(rows), 1.0 / len(rows))
        if self.strategy == "informative":
            gain = self._gains(rows)
            if gain.sum() > 0:
                q = (1.0 - self.explore) * gain / gain.sum() + self.explore / len(rows)
        pick = int(self.rng.choice(len(rows), p=q / q.sum()))
        self._proposal = {int(rows[pick]): float(q[pick] / q.sum())}
        return int(rows[pick])

    def observe(self, row: int, label: int) -> None:
        """Record the true `label` of `row` (counts against the budget).

        A row other than the one `next_row` proposed is treated as drawn uniformly from the open rows.
        """
        row, label = int(row), int(label)
        if self.remaining == 0:
            raise RuntimeError(f"the label budget ({self.budget}) is spent")
        if not 0 <= row < self.belief.n_rows or self.belief.labeled[row]:
            raise ValueError(f"row {row} is out of range or already labeled")
        if not 0 <= label < self.n_classes:
            raise ValueError(f"label {label} is not a class id in [0, {self.n_classes})")
        open_rows = max(int((~self.belief.labeled & ~self.skipped).sum()), 1)
        q = self._proposal.get(row, 1.0 / open_rows)
        self._proposal = {}
        self.belief.observe(row, label, q)
        self.skipped[row] = False
        self.history.append((row, label))

    def skip(self, row: int) -> None:
        """Never ask for `row` again (the labeler could not answer); does not count against the budget."""
        self.skipped[int(row)] = True

    def _gains(self, rows: np.ndarray) -> np.ndarray:
        """Expected information gain on P(best) of each open row (0 where the leading models agree)."""
        b = self.belief
        pb = self.p_best()
        order = np.argsort(-pb, kind="stable")[: self.max_leaders]
        leaders = order[pb[order] > 0]
        if len(leaders) < 2:
            masked = np.where(self.recommendable, b.mean, -np.inf)
            leaders = np.argsort(-masked, kind="stable")[:2]
        preds = self.pred[np.ix_(rows, leaders)]
        contested = np.flatnonzero((preds != preds[:, :1]).any(axis=1))
        gain = np.zeros(len(rows))
        for chunk in np.array_split(contested, max(1, len(contested) // 256)):
            if len(chunk):
                gain[chunk] = self._gain(rows[chunk], leaders, pb)
        return np.maximum(gain, 0.0)

    def _gain(self, rows: np.ndarray, leaders: np.ndarray, pb: np.ndarray) -> np.ndarray:
        """Expected reduction of the entropy of P(best) among `leaders` from labeling each of `rows`."""
        b, c = self.belief, self.n_classes
        k = len(leaders)
        w = pb[leaders] / pb[leaders].sum() if pb[leaders].sum() > 0 else np.full(k, 1.0 / k)
        preds = self.pred[np.ix_(rows, leaders)]  # (R, K)
        p = b.p[np.ix_(rows, leaders)]
        # P(y = label predicted by leader h): mixture over leaders, each right with its own P(correct) on the row.
        same = preds[:, :, None] == preds[:, None, :]  # (R, K, K): leader j predicts what leader h predicts
        wrong_share = np.where(preds >= 0, (1.0 - p) / max(c - 1, 1), 1.0 / c)
        py = np.einsum("j,rjh->rh", w, np.where(same, p[:, :, None], wrong_share[:, :, None]))
        py = np.where(preds >= 0, py, 0.0)
        dup = same.sum(axis=1)
        hyp_weight = py / dup  # the same label predicted by several leaders is counted once
        other = np.clip(1.0 - hyp_weight.sum(axis=1), 0.0, 1.0)  # y is none of the leaders' labels
        weights = np.concatenate([hyp_weight, other[:, None]], axis=1)  # (R, K+1)
        correct = np.concatenate([same.transpose(0, 2, 1), np.zeros((len(rows), 1, k), bool)], axis=1)
        correct &= (preds >= 0)[:, None, :]
        mean, sd = self._what_if(rows, correct.astype(np.float64), leaders)  # (R, K+1, K)
        draws = self.draws[:256, leaders]  # (S, K): 256 draws score rows well enough, at half the cost
        sample = mean[:, :, None, :] + sd[:, :, None, :] * draws[None, None, :, :]  # (R, H, S, K)
        winners = sample.argmax(axis=3)
        freq = np.stack([(winners == j).mean(axis=2) for j in range(k)], axis=2)  # (R, H, K)
        ent = -(freq * np.log(np.where(freq > 0, freq, 1.0))).sum(axis=2)
        now = b.mean[leaders] + b.sd[leaders] * draws
        f0 = np.bincount(now.argmax(axis=1), minlength=k) / len(draws)
        h0 = float(-(f0 * np.log(np.where(f0 > 0, f0, 1.0))).sum())
        return h0 - (weights * ent).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-12)

    def _what_if(self, rows: np.ndarray, correct: np.ndarray, models: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Gaussian what-if of one more label: ``(R, H, K)`` means and sds of `models` (the row weighs one label)."""
        b = self.belief
        weight = b.strength[models] * (b.n_rows - b.n_labeled) / b.n_rows + b.n_labeled  # labels' worth so far
        residual = correct - b.p[np.ix_(rows, models)][:, None, :]
        mean = b.mean[models] + (residual - b.residual[models]) / (weight + 1.0)
        sd = b.sd[models] * np.sqrt(weight / (weight + 1.0))
        return mean, np.broadcast_to(sd, mean.shape)


@dataclass
class SimulationResult:
    """What `simulate` returns.

    Attributes:
        rows (`list[int]`): rows labeled, in order.
        best (`list[int]`): the recommended model after 0, 1, …, len(rows) labels.
        accuracy (`np.ndarray`): ``(len(rows) + 1, models)`` posterior accuracies after each label.
        p_best (`np.ndarray`): ``(len(rows) + 1, models)`` P(best) after each label.
    """

    rows: list[int] = field(default_factory=list)
    best: list[int] = field(default_factory=list)
    accuracy: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
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
    acc, pbest = [first.accuracy], [first.p_best]
    while (row := loop.next_row()) is not None:
        loop.observe(row, int(labels[row]))
        r = loop.ranking()
        out.rows.append(row)
        out.best.append(r.best)
        acc.append(r.accuracy)
        pbest.append(r.p_best)
    out.accuracy, out.p_best = np.array(acc), np.array(pbest)
    return out
