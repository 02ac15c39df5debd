"""The label loop's belief about each model's accuracy on the sample, and which model is best.

The quantity is the accuracy on the ``N`` rows at hand (a finite population). The loop asks for rows where the leading
models disagree, so labeled rows are not a random sample of all rows: averaging over them would call every model
worse than it is. The belief is built so that this choice does not bias it:

- **Strata.** Rows are grouped by the pattern of the leading models' predictions (the `leaders`, fixed at the start:
  the best label-free estimates). Within a stratum the belief treats rows as exchangeable, and the loop picks a row
  *uniformly at random inside* the stratum it chooses, so within every stratum the labels are a random sample: what
  is learned in a stratum is extrapolated only to the rest of that stratum.
- **Leaders** share one Dirichlet per stratum over the true label (their correctness is a function of the label), so
  P(best) among them moves exactly with the rows where they differ. Prior mean: the pool's vote-share label
  distribution, averaged over the stratum.
- **Other models** get a Beta per stratum on their rate of being right, around the row-level label-free probability
  ``p⁰_mi`` (the share of the other distinct voters that agree with them, calibrated per model so that its mean is the
  given estimate), shifted by what the stratum's labels show. Their strata are finer: the patterns of every model that
  has led so far. When the leaders change, a row asked where the earlier leaders disagreed is a hard row; in the
  coarser stratum where the new leaders all agree it is no random draw, and on the GLUE pools counting it as one pulled
  the best models' accuracy down by about 9 points after 10 labels. Inside the finer stratum it still is one.
- **Prior strength.** The label-free estimate counts as ``ν = mean p(1 − p) / τ²`` labels (τ: its sd), spread over the
  strata in proportion to their sizes, as a uniform sample would be: a small contested stratum learns from a few
  labels, the large stratum where everybody agrees does not swing on one.
- **Exact ends.** A per-model offset keeps 0 labels at the given estimate. It corrects the *prior part* of each
  stratum's belief only: on the unlabeled rows of a stratum it is weighted by the share of that stratum's Dirichlet mass
  that is still prior (``α⁰_s / Σα_s``), so it fades where labels have been seen (else a leader whose label-free
  estimate exceeds the structural prior would keep that excess on top of what its labels show, and overshoot) and
  with every row labeled the accuracy is the measured ``k_m / N``. The leaders' offsets are split into the level they
  share, on every stratum, and their differences, on the contested strata only: two leaders predict alike wherever
  they agree, so that is where their label-free difference must live, and it fades as those strata are labeled.
- **A calibration error of each model's own.** Labels in one stratum say nothing about another through the strata, yet
  a model whose label-free estimate is off is off everywhere. So the labeled rows' residuals against their label-free
  P(correct) (``r_im = c_im − q⁰_im``) estimate a per-model shift, with two guards against the loop's choice of rows:
  - *net of the row's mean* (``r_im − mean_m' r_im'``). The loop asks where the leaders disagree, which are the rows
    every model finds hard; there the pool's vote misleads everyone at once, and that common residual says how hard
    the row is, not how good the model is. Only the differences between models are extrapolated; the pool's common
    calibration error is learned only from rows drawn uniformly from all rows (``observe(..., uniform=True)``, as the
    ``"uniform"`` strategy does); until then its share ``common_share`` of the label-free variance stays in every
    interval (a search measures the share on its selector's cross-validated errors, `Selector.common_share`; 0.5
    is the assumption without such a measure), drawn once for all models so that it does not blur which one is best;
  - *on the logit scale*: ``δ_m = Σ r / (λ_m + Σ q⁰(1 − q⁰))``, which moves each unlabeled row by ``q⁰(1 − q⁰) δ_m``,
    so a shift learned on contested rows (q⁰ near ½) moves the rows every model gets right (q⁰ near 1) little.
    ``λ_m = s_m² / ((1 − common_share) τ_m²)`` (``s_m``: mean q⁰(1 − q⁰)): the prior precision of the model's own
    part of the label-free error, in logits.
  It is added to the prior part of the unlabeled rows like the offset (an empirical-Bayes shift: 0 with no label, and it
  cannot move the measured rows). With uniformly drawn rows, the model's own part and the common part together come
  to about a shift in accuracy of ``Σ r / (ν_m + k_m)`` (``ν_m = s_m / τ_m²``, ``k_m`` labels, ``r`` not netted);
  `bench/label_calibration.py` measures why the guards are needed with the rows the loop chooses.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.special import expit, logit

from .clones import find_clone_groups, group_votes


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


def _label_share(predictions: np.ndarray, n_classes: int) -> np.ndarray:
    """``(rows, C)`` label distribution of the pool's distinct voters per row (Jeffreys ``½`` pseudo-votes)."""
    p = np.asarray(predictions).astype(np.int64)
    votes, _ = group_votes(p, find_clone_groups(p, n_classes), n_classes)
    counts = np.stack([(votes == k).sum(axis=1) for k in range(n_classes)], axis=1) + 0.5
    return counts / counts.sum(axis=1, keepdims=True)


def _calibrate(z: np.ndarray, can: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Shift per model with ``mean_i σ(z_i + shift) = target`` over all rows (bisection on [-30, 30])."""
    lo = np.full(z.shape[1], -30.0)
    hi = np.full(z.shape[1], 30.0)
    for _ in range(60):
        mid = (lo + hi) / 2
        above = np.where(can, expit(z + mid), 0.0).mean(axis=0) > target
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
    return (lo + hi) / 2


class AccuracyBelief:
    """Per-model accuracy on a sample of ``N`` rows, from a label-free estimate updated by revealed labels.

    Args:
        predictions (`np.ndarray`): ``(rows, models)`` class ids, ``-1`` = no prediction (always wrong).
        prior_accuracy (`np.ndarray`): ``(models,)`` label-free accuracy estimates.
        prior_sd (`np.ndarray`): ``(models,)`` their standard deviations.
        leaders (`np.ndarray`): indices of the models whose prediction patterns define the strata.
        row_correct (`np.ndarray`, *optional*): ``(rows, models)`` label-free P(correct) per row (default:
            `vote_share`).
        n_classes (`int`, *optional*): number of classes (default: inferred).
        n_draws (`int`, *optional*, defaults to 256): Monte-Carlo draws for P(best) and intervals.
        seed (`int`, *optional*, defaults to 0): seed of the draws.
        common_share (`float`, *optional*, defaults to 0.5): share of the label-free estimates' variance that is common
            to the pool (a level every model shares), which labels on the rows the loop chooses cannot measure.
        strata_models (`np.ndarray`, *optional*): models whose predictions also split the strata (the earlier
            leaders, see `with_leaders`); default: the leaders only.

    Attributes:
        mean, sd (`np.ndarray`): ``(models,)`` current accuracy belief; draws (`np.ndarray`): ``(n_draws, models)``.
        stratum (`np.ndarray`): ``(rows,)`` stratum of every row.
    """

    def __init__(
        self,
        predictions: np.ndarray,
        prior_accuracy: np.ndarray,
        prior_sd: np.ndarray,
        leaders: np.ndarray,
        *,
        row_correct: np.ndarray | None = None,
        n_classes: int | None = None,
        n_draws: int = 256,
        seed: int = 0,
        common_share: float = 0.5,
        strata_models: np.ndarray | None = None,
        _cache: dict | None = None,
    ) -> None:
        self.pred = np.asarray(predictions).astype(np.int64)
        n, m = self.pred.shape
        self.n_rows, self.n_models = n, m
        self.n_classes = c = int(n_classes) if n_classes is not None else max(int(self.pred.max()) + 1, 2)
        self.prior = np.asarray(prior_accuracy, dtype=np.float64)
        tau2 = np.maximum(np.asarray(prior_sd, dtype=np.float64), 1e-6) ** 2
        self.leaders = np.asarray(leaders, dtype=np.int64)
        self.others = np.setdiff1d(np.arange(m), self.leaders)
        self.can = self.pred >= 0
        self.n_draws, self.seed = int(n_draws), int(seed)

        # Two groupings of the rows. The leaders' strata are the patterns of the current leaders (their differences
        # are learnt where they disagree). The other models' strata are the patterns of every model that has led so
        # far (`with_leaders`): a row the loop drew at random inside a stratum of earlier leaders is still a random
        # draw inside the finer stratum it falls in, and would not be one inside a stratum of the new leaders alone
        # (a row asked where the old leaders disagreed is a hard row; counted as a random row of the large stratum
        # where the new leaders all agree, it would pull every model's rate there down).
        self.strata_models = self.leaders if strata_models is None else np.union1d(self.leaders, strata_models)
        _, first, self.stratum = np.unique(self.pred[:, self.leaders], axis=0, return_index=True, return_inverse=True)
        self.stratum = self.stratum.reshape(-1)
        if np.array_equal(self.strata_models, np.unique(self.leaders)):
            self.stratum_o = self.stratum
        else:
            self.stratum_o = np.unique(self.pred[:, self.strata_models], axis=0, return_inverse=True)[1].reshape(-1)
        n_so = int(self.stratum_o.max()) + 1
        onehot_o = csr_matrix((np.ones(n), (np.arange(n), self.stratum_o)), shape=(n, n_so))
        patterns = self.pred[first][:, self.leaders]
        self.pattern = patterns  # (strata, leaders) the leaders' predictions in each stratum
        n_s = len(patterns)
        onehot = csr_matrix((np.ones(n), (np.arange(n), self.stratum)), shape=(n, n_s))  # rows -> strata
        size = np.bincount(self.stratum, minlength=n_s).astype(np.float64)

        # Leaders: one Dirichlet over the label per stratum, prior mean = the pool's label share averaged over it.
        cache = {} if _cache is None else _cache
        if "share" not in cache:
            cache["share"] = _label_share(self.pred, c)
        share = cache["share"]
        f0 = np.asarray(onehot.T @ share) / size[:, None]  # (strata, C)
        hit = self._leader_hits(f0)  # (strata, leaders) P(leader right) under f0
        base = (size[:, None] * hit).sum(axis=0) / n
        spread = ((size[:, None] * hit * (1.0 - hit)).sum(axis=0) / n).mean()
        rate = spread / tau2[self.leaders].mean() / n  # prior labels per row (a uniform sample's spread)
        self.alpha = f0 * np.maximum(rate * size, 1e-9)[:, None]
        self.alpha0 = self.alpha.sum(axis=1)  # prior mass per stratum (the offset's weight is its share)
        self.offset = np.zeros(m)
        self.offset[self.leaders] = self.prior[self.leaders] - base
        # The leaders' offsets split into a level they share and their differences. Two leaders predict the same on
        # the rows where they agree, so their differences can only live on the contested strata, and fade as those
        # are labeled; where every leader predicts the same everywhere, the differences stay on every stratum.
        self.contested = (patterns != patterns[:, :1]).any(axis=1)
        if not (self.contested & (size > 0)).any():
            self.contested = np.ones(n_s, dtype=bool)
        self.contested0 = size[self.contested].sum() / n  # the contested strata's prior weight with no label
        self.level_offset = self.offset[self.leaders].mean()
        self.diff_offset = self.offset[self.leaders] - self.level_offset

        # Other models: a Beta per stratum around the calibrated row-level probability.
        eps = 0.5 / (n + 1)
        if "p0" not in cache:
            pi = vote_share(self.pred, c) if row_correct is None else np.asarray(row_correct, dtype=np.float64)
            z = logit(np.clip(pi, eps, 1.0 - eps))
            cache["p0"] = np.where(self.can, expit(z + _calibrate(z, self.can, self.prior)), 0.0)
        self.p0 = cache["p0"]
        self.cache = cache
        o = self.others
        self.offset[o] = self.prior[o] - self.p0[:, o].mean(axis=0)
        rows_in = np.asarray(onehot_o.T @ self.can[:, o].astype(np.float64))  # (strata, others)
        p0_in = np.asarray(onehot_o.T @ self.p0[:, o])
        mu = np.divide(p0_in, rows_in, out=np.full(rows_in.shape, 0.5), where=rows_in > 0)
        self.mu0 = np.clip(mu, eps, 1.0 - eps)
        nu_rate = np.maximum((self.p0[:, o] * (1.0 - self.p0[:, o])).mean(axis=0), 1.0 / n) / tau2[o] / n
        strength = np.maximum(rows_in * nu_rate[None, :], 1e-9)
        self.a_o, self.b_o = self.mu0 * strength, (1.0 - self.mu0) * strength

        self.strength0 = strength  # (strata, others) prior mass of each other model's Beta
        # Label-free P(correct) of every row (leaders: stratum hit under f0 plus the offset; others: p⁰), whose
        # residuals on labeled rows estimate each model's calibration error (see the module docstring).
        self.q0_lead = np.where(patterns >= 0, np.clip(hit + self.offset[self.leaders], eps, 1.0 - eps), 0.0)
        q0 = self.p0.copy()
        q0[:, self.leaders] = self.q0_lead[self.stratum]
        self.q0 = q0
        spread_m = np.where(self.can, q0 * (1.0 - q0), 0.0).sum(axis=0) / np.maximum(self.can.sum(axis=0), 1)
        self.spread = np.maximum(spread_m, 1.0 / n)
        self.nu = self.spread / tau2
        self.lam = self.spread * self.nu  # prior precision of the logit shift: its sd τ / mean q⁰(1 − q⁰)
        if not 0.0 <= common_share < 1.0:
            raise ValueError(f"common_share must be in [0, 1), got {common_share}")
        self.common_share = float(common_share)
        self.lam_own = self.lam / (1.0 - self.common_share)  # the model's own part of the prior variance
        self.v = np.where(self.can, q0 * (1.0 - q0), 0.0)  # (rows, models) slope of P(correct) in the logit shift
        self.v_lead = np.where(patterns >= 0, self.q0_lead * (1.0 - self.q0_lead), 0.0)  # (strata, leaders)
        self.resid = np.zeros(m)
        self.v_obs = np.zeros(m)  # Σ q⁰(1 − q⁰) over the labeled rows each model predicts
        self.uniform = np.zeros(n, dtype=bool)  # rows labeled as a uniform draw from all rows
        self.common_resid = np.zeros(m)  # Σ of their rows' mean residuals
        self.common_v = np.zeros(m)
        # per stratum: the mean share of the predicting models that predict each label, and their mean q⁰ (the
        # expected row effect of a label there, for the selection's look-ahead)
        cnt = np.maximum(self.can.sum(axis=1), 1).astype(np.float64)
        frac = np.stack([((self.pred == k) & self.can).sum(axis=1) / cnt for k in range(c)], axis=1)
        self.row_frac_s = np.asarray(onehot.T @ frac) / size[:, None]
        self.row_q0_s = np.asarray(onehot.T @ (np.where(self.can, q0, 0.0).sum(axis=1) / cnt)) / size

        self.labeled = np.zeros(n, dtype=bool)
        self.labels = np.full(n, -1, dtype=np.int64)
        self.correct = np.zeros(m)
        self.open_size = size.copy()  # unlabeled rows per stratum
        self.open_rows_o = rows_in.copy()  # unlabeled rows each other model predicts, per stratum
        self.open_p0 = p0_in  # Σ p⁰ over unlabeled rows, per stratum
        self.open_var0 = np.asarray(onehot_o.T @ (self.p0[:, o] * (1.0 - self.p0[:, o])))
        self._refresh()

    @property
    def n_labeled(self) -> int:
        return int(self.labeled.sum())

    def _leader_hits(self, f: np.ndarray) -> np.ndarray:
        """``(..., strata, leaders)`` probability each leader is right in each stratum under label distribution f."""
        pat = self.pattern
        idx = np.where(pat >= 0, pat, 0)
        out = np.take_along_axis(f, np.broadcast_to(idx, f.shape[:-1] + (pat.shape[1],)), axis=-1)
        return np.where(pat >= 0, out, 0.0)

    # -- moments ---------------------------------------------------------------------------------------------------
    def stratum_moments(
        self, alpha: np.ndarray, open_size: np.ndarray, pattern: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """One stratum's share of the leaders' accuracy mean ``(..., K)`` and covariance ``(..., K, K)``.

        Args:
            alpha (`np.ndarray`): ``(..., C)`` the stratum's Dirichlet parameters.
            open_size (`np.ndarray`): ``(...)`` its unlabeled rows.
            pattern (`np.ndarray`): ``(..., K)`` the leaders' predictions in it.

        The covariance adds the Dirichlet's (how often each label occurs there) and the multinomial spread of the
        unlabeled rows themselves; two leaders predicting the same label are right together.
        """
        n = self.n_rows
        a0 = alpha.sum(axis=-1, keepdims=True)
        f = alpha / a0
        hit = np.where(pattern >= 0, np.take_along_axis(f, np.where(pattern >= 0, pattern, 0), axis=-1), 0.0)
        w = open_size / n
        same = (pattern[..., :, None] == pattern[..., None, :]) & (pattern[..., :, None] >= 0)
        joint = np.where(same, hit[..., :, None], 0.0)
        single = joint - hit[..., :, None] * hit[..., None, :]
        cov = ((w**2)[..., None, None] / (a0[..., None] + 1.0) + (open_size / n**2)[..., None, None]) * single
        return w[..., None] * hit, cov

    def prior_weight(
        self, open_size: np.ndarray, alpha_sum: np.ndarray, strata: np.ndarray | None = None
    ) -> np.ndarray:
        """The leaders' offset weight: ``Σ_s open_s · α⁰_s / Σα_s / N`` over the strata (1 with no label, 0 with every
        row labeled). `strata` picks the strata of the last axis of `open_size` / `alpha_sum` (default: all)."""
        a0 = self.alpha0 if strata is None else self.alpha0[strata]
        return open_size * a0 / alpha_sum / self.n_rows

    def shift(self, resid: np.ndarray | None = None, v_obs: np.ndarray | None = None) -> np.ndarray:
        """``(models,)`` each model's own calibration error on the logit scale, ``δ = Σ r / (λ_own + Σ q⁰(1 − q⁰))``
        over the labeled rows (of the current labels by default; ``r``: residuals net of their row's mean)."""
        resid = self.resid if resid is None else resid
        return resid / (self.lam_own + (self.v_obs if v_obs is None else v_obs))

    def shift_var(self) -> np.ndarray:
        """``(models,)`` the posterior variance of each model's own logit calibration error (labels shrink it)."""
        return 1.0 / (self.lam_own + self.v_obs)

    def common_shift(self) -> np.ndarray:
        """``(models,)`` the pool's common calibration error on the logit scale, learned from uniformly drawn rows only
        (their mean residual; 0 without such rows)."""
        if self.common_share == 0.0:
            return np.zeros(self.n_models)
        return self.common_resid / (self.lam / self.common_share + self.common_v)

    def common_sd(self) -> np.ndarray:
        """``(models,)`` the sd of the pool's common logit calibration error (only uniformly drawn rows shrink it; drawn
        once for all models)."""
        if self.common_share == 0.0:
            return np.zeros(self.n_models)
        return np.sqrt(1.0 / (self.lam / self.common_share + self.common_v))

    def lead_slope(self, open_size: np.ndarray, alpha_sum: np.ndarray, strata: np.ndarray | None = None) -> np.ndarray:
        """``(..., leaders)`` the leaders' accuracy per unit of logit shift: ``prior_weight`` × q⁰(1 − q⁰) of each
        stratum, summed over none (per stratum, as `prior_weight`)."""
        v = self.v_lead if strata is None else self.v_lead[strata]
        return self.prior_weight(open_size, alpha_sum, strata)[..., None] * v

    def leader_moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean ``(K,)`` and covariance ``(K, K)`` of the leaders' accuracies (Gaussian summary of the strata)."""
        mean, cov, _, common, _ = self._leader_parts()
        return mean, cov + np.outer(common, common)

    def _leader_parts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The leaders' mean ``(K,)``, their own covariance ``(K, K)`` (without the common calibration error), the slope
        of their accuracy in a logit shift ``(K,)``, the sd of the common calibration error ``(K,)`` and the part of the
        mean added to the prior part of the strata ``(K,)`` (offsets and shifts)."""
        n = self.n_rows
        mean_s, cov_s = self.stratum_moments(self.alpha, self.open_size, self.pattern)
        lead = self.leaders
        weight = self.prior_weight(self.open_size, self.alpha.sum(axis=1))  # (strata,)
        slope = (weight[:, None] * self.v_lead).sum(axis=0)  # `lead_slope` over every stratum
        prior_part = self.lead_offset(weight) + (self.shift() + self.common_shift())[lead] * slope
        mean = self.correct[lead] / n + mean_s.sum(axis=0) + prior_part
        cov = cov_s.sum(axis=0) + np.diag(slope**2 * self.shift_var()[lead])
        return mean, cov, slope, slope * self.common_sd()[lead], prior_part

    def lead_offset(self, weight: np.ndarray) -> np.ndarray:
        """``(leaders,)`` the offsets on the prior part: the shared level on every stratum, the differences on the
        contested strata only (exact at 0 labels; 0 once those are labeled). `weight`: each stratum's current
        `prior_weight`."""
        return self.level_offset * weight.sum() + self.diff_offset * weight[self.contested].sum() / self.contested0

    def _refresh(self) -> None:
        n = self.n_rows
        n_u = float(n - self.n_labeled)
        mean = np.zeros(self.n_models)
        var = np.zeros(self.n_models)  # each model's own variance, and the common calibration error's part
        common = np.zeros(self.n_models)
        lm, lc, slope_l, common[self.leaders], prior_part = self._leader_parts()
        mean[self.leaders], var[self.leaders] = lm, np.diag(lc)
        o = self.others
        if len(o):
            theta = self.a_o / (self.a_o + self.b_o)
            shift = theta - self.mu0
            open_o = (self.open_p0 + self.open_rows_o * shift).sum(axis=0)
            slope = (self.open_var0 * self.strength0 / (self.a_o + self.b_o)).sum(axis=0) / n
            shift_o = (self.shift() + self.common_shift())[o]
            mean[o] = (self.correct[o] + open_o) / n + self.offset[o] * n_u / n + shift_o * slope
            beta_var = theta * (1.0 - theta) / (self.a_o + self.b_o + 1.0)
            var[o] = (
                ((self.open_rows_o / n) ** 2 * beta_var).sum(axis=0)
                + self.open_var0.sum(axis=0) / n**2
                + slope**2 * self.shift_var()[o]
            )
            common[o] = slope * self.common_sd()[o]
        upper = (self.correct + self.can[~self.labeled].sum(axis=0)) / n
        self.mean = np.clip(mean, self.correct / n, upper)
        own = np.sqrt(np.maximum(var, 0.0))
        self.sd = np.sqrt(own**2 + common**2)
        rng = np.random.default_rng([self.seed, self.n_labeled])
        shared = rng.standard_normal((self.n_draws, 1))  # the common calibration error: one draw for every model
        draws = self.mean[None, :] + own[None, :] * rng.standard_normal((self.n_draws, self.n_models))
        draws += common[None, :] * shared
        # Leaders: joint draws from the Dirichlets (exact pairing on the rows where they agree or differ).
        g = rng.gamma(np.broadcast_to(np.maximum(self.alpha, 1e-12), (self.n_draws,) + self.alpha.shape))
        total = g.sum(axis=-1, keepdims=True)
        mean_f = np.broadcast_to(self.alpha / self.alpha.sum(axis=-1, keepdims=True), g.shape)
        f = np.divide(g, total, out=mean_f.copy(), where=total > 0)  # all-underflow draws: the Dirichlet mean
        hit = self._leader_hits(f)  # (D, S, K)
        lead = self.correct[self.leaders] / n + (self.open_size[None, :, None] / n * hit).sum(axis=1)
        lead += prior_part + common[self.leaders] * shared
        lead += (
            slope_l * np.sqrt(self.shift_var()[self.leaders]) * rng.standard_normal((self.n_draws, len(self.leaders)))
        )
        draws[:, self.leaders] = lead
        self.draws = draws

    # -- updates ---------------------------------------------------------------------------------------------------
    def observe(self, row: int, label: int, *, uniform: bool = False, refresh: bool = True) -> None:
        """Record the true `label` of `row` (any row; the loop draws it at random inside a stratum). `uniform`: the row
        was drawn uniformly from all unlabeled rows, so its mean residual also measures the pool's common calibration
        error."""
        s = self.stratum[row]
        self.labeled[row] = True
        self.labels[row] = int(label)
        c = (self.pred[row] == label).astype(np.float64)
        self.correct += c
        r = np.where(self.can[row], c - self.q0[row], 0.0)
        row_mean = r[self.can[row]].mean() if self.can[row].sum() > 1 else 0.0
        self.resid += np.where(self.can[row], r - row_mean, 0.0)  # net of the row's mean: about the model, not the pool
        if uniform:
            self.uniform[row] = True
            self.common_resid += np.where(self.can[row], row_mean, 0.0)
            self.common_v += self.v[row]
        self.v_obs += self.v[row]
        self.alpha[s, label] += 1.0
        self.open_size[s] -= 1.0
        o, so = self.others, self.stratum_o[row]
        has = self.can[row, o]
        self.a_o[so] += np.where(has, c[o], 0.0)
        self.b_o[so] += np.where(has, 1.0 - c[o], 0.0)
        self.open_rows_o[so] -= has
        self.open_p0[so] -= self.p0[row, o]
        self.open_var0[so] -= self.p0[row, o] * (1.0 - self.p0[row, o])
        if refresh:
            self._refresh()

    def with_leaders(self, leaders: np.ndarray, prior_sd: np.ndarray) -> AccuracyBelief:
        """The same belief (same labels) with the row groups redrawn around other `leaders`."""
        other = AccuracyBelief(
            self.pred,
            self.prior,
            prior_sd,
            leaders,
            n_classes=self.n_classes,
            n_draws=self.n_draws,
            seed=self.seed,
            common_share=self.common_share,
            strata_models=self.strata_models,
            _cache=self.cache,
        )
        for row in np.flatnonzero(self.labeled):  # labels replayed in row order: the belief does not depend on order
            other.observe(int(row), int(self.labels[row]), uniform=bool(self.uniform[row]), refresh=False)
        other._refresh()
        return other
