"""Dawid–Skene consensus: the pool's agreement turned into a posterior over true labels and a per-model accuracy.

Dawid & Skene, *Maximum Likelihood Estimation of Observer Error-Rates Using the EM Algorithm* (Applied Statistics,
1979). Every voter ``j`` has a confusion matrix ``π_j[k, l] = P(vote l | true class k)``; rows are independent with a
class prior ``ρ``; EM alternates the row posterior ``q_i(k) ∝ ρ_k Π_j π_j[k, v_ij]`` and the MAP parameters.

Choices made here (none tuned on any data):

- **Two models, chosen by BIC.** *one-coin* (one accuracy per voter, errors uniform over the other classes;
  ``V + C − 1`` parameters) and *full* (a confusion matrix per voter; ``V·C(C−1) + C − 1``). Both are latent-class
  models fitted on the same rows, for which BIC (``−2 log L + p log n``) is the standard, deterministic and consistent
  selector; held-out likelihood would cost several extra EM fits per call and a random split for no clear gain.
  Full matrices are not fitted beyond 50 classes (their ``C²`` parameters per voter would never pay for themselves).
- **Smoothing:** Jeffreys ``Dirichlet(½)`` pseudo-counts on every confusion cell (one-coin: ``Beta(½, ½)`` on
  correct/wrong) and on the class prior; the M-step takes the posterior mean, so no probability is ever 0.
- **Initialisation:** the (soft) majority vote. **Clones** are merged into one voter first (`clones.py`).
- **Per-model accuracy** is computed with the model's own group's vote LEFT OUT of the row posterior
  (``q^{-g}_i ∝ q_i / (π_g[:, v_ig])``), so a model is not credited for agreeing with itself. The voters' parameters
  are not refitted without it (that would cost one EM per group); its influence on them is second order.
- **Semi-supervised:** rows with a known label keep a posterior clamped to it during EM.
- **Soft votes:** with probabilities, a vote enters the likelihood as ``Π_l π_j[k, l]^{p_ijl}`` (hard votes are the
  one-hot case); the model's own prediction is still its argmax.
- **How well the model fits** (`agreement_explained`): the model implies how often every two voters agree,
  ``Σ_k ρ_k Σ_l π_a[k, l] π_b[k, l]``, if they err independently given the true label, as it assumes. The share of the
  variance of the observed pairwise agreement rates that these reproduce is near 1 when the assumption holds, and low
  where blocs of voters share their errors (models trained on the same shifted data): there the per-model accuracies
  are not to be trusted. It is a diagnostic computed from the votes alone, with nothing fitted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy.sparse import csr_matrix
from scipy.special import logsumexp

from ..errors import HFSearchError
from .clones import find_clone_groups, group_votes

ModelType = Literal["auto", "one-coin", "full"]
_MAX_FULL_CLASSES = 50
_JEFFREYS = 0.5


class ConsensusUnavailable(HFSearchError):
    """The pool cannot support a consensus (e.g. fewer than 3 distinct voters); `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class DawidSkeneResult:
    """What `dawid_skene` returns.

    Attributes:
        q (`np.ndarray`): ``(rows, C)`` posterior over each row's true label (clamped rows are one-hot).
        class_prior (`np.ndarray`): ``(C,)`` estimated class frequencies.
        confusion (`np.ndarray`): ``(voters, C, C)``, ``P(vote l | true k)`` per voter (merged clone group).
        voter_accuracy (`np.ndarray`): ``(voters,)`` ``Σ_k ρ_k π[k, k]``.
        model_type (`str`): the model BIC chose, ``"one-coin"`` or ``"full"``.
        bic (`dict[str, float]`): BIC of each fitted model.
        groups (`list[list[int]]`): model indices merged into each voter.
        voter_of_model (`np.ndarray`): ``(models,)`` voter index of each model (``-1``: the model never predicts).
        model_accuracy (`np.ndarray`): ``(models,)`` mean over rows of `loo_correct`: the per-model estimate.
        loo_correct (`np.ndarray`): ``(rows, models)`` probability that the model's prediction is the true label:
            the posterior computed without its group's vote, updated by its own prediction through a confusion
            matrix measured against that leave-out posterior only (0 where it does not predict). See
            `_own_vote_posterior`.
        loo_agreement (`np.ndarray`): ``(models,)`` mean leave-out posterior probability of the model's prediction
            (``mean_i q^{-g}_i[pred_i]``); biased toward ``1/C`` wherever the rest of the pool is unsure, which is why
            `model_accuracy` corrects it.
        n_iter (`int`), converged (`bool`), log_likelihood (`float`): of the chosen fit.
        agreement_explained (`float`, *optional*): the share of the variance of the voters' pairwise agreement rates
            that the fitted model reproduces (see `explained_agreement`): near 1 when the voters err independently
            given the true label, as the model assumes; low (even negative) where blocs of voters share errors;
            ``None`` with fewer than two pairs of voters that vote on a common row.
    """

    q: np.ndarray
    class_prior: np.ndarray
    confusion: np.ndarray
    voter_accuracy: np.ndarray
    model_type: str
    bic: dict[str, float]
    groups: list[list[int]]
    voter_of_model: np.ndarray
    model_accuracy: np.ndarray
    loo_correct: np.ndarray
    loo_agreement: np.ndarray
    n_iter: int
    converged: bool
    log_likelihood: float
    agreement_explained: float | None = None
    _log_joint: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 0)))
    _contrib: Any = field(repr=False, default=None)
    _known: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def labels(self) -> np.ndarray:
        """``(rows,)`` the consensus label (argmax of `q`)."""
        return self.q.argmax(axis=1)

    def loo_posterior(self, model: int) -> np.ndarray:
        """``(rows, C)`` row posterior with `model`'s group's vote left out (the full `q` if it never votes)."""
        g = int(self.voter_of_model[model])
        if g < 0:
            return self.q.copy()
        out = _softmax(self._log_joint - self._contrib(g))
        out[self._known >= 0] = self.q[self._known >= 0]
        return out

    def estimate_accuracy(self, pred: np.ndarray, model: int | None = None) -> float:
        """Accuracy estimate of any prediction vector (e.g. a model's ids once remapped), like `model_accuracy`.

        Args:
            pred (`np.ndarray`): ``(rows,)`` class ids, ``-1`` = no prediction.
            model (`int`, *optional*): leave this model's group out of the posterior (its own predictions' source).
        """
        q = self.q if model is None else self.loo_posterior(model)
        return float(_own_vote_posterior(q, np.asarray(pred).astype(np.int64), self.model_type)[0].mean())


#: Below this share of the voters' agreement explained, hfsearch warns that the per-model accuracies are unreliable.
EXPLAINED_WARNING = 0.5


def fit_warning(explained: float | None) -> str | None:
    """The note a user gets when a Dawid–Skene fit explains less than `EXPLAINED_WARNING` of the voters' pairwise
    agreement (``None`` otherwise)."""
    if explained is None or explained >= EXPLAINED_WARNING:
        return None
    return (
        f"the Dawid-Skene fit explains {max(explained, 0.0):.0%} of how often the models agree with each other: "
        "groups of them share their errors, so the consensus accuracies are unreliable here"
    )


def convergence_warning(result: DawidSkeneResult) -> str | None:
    """The note a user gets when the chosen Dawid–Skene fit stopped at its iteration limit before converging
    (``None`` when it converged): its accuracies are where EM stood, not a fixed point."""
    if result.converged:
        return None
    return (
        f"the Dawid-Skene EM stopped after {result.n_iter} iteration{'' if result.n_iter == 1 else 's'} without "
        "converging: the consensus accuracies are approximate"
    )


def explained_agreement(
    votes: np.ndarray, soft: np.ndarray | None, class_prior: np.ndarray, confusion: np.ndarray
) -> float | None:
    """The share of the variance of the voters' pairwise agreement rates that a Dawid–Skene fit reproduces.

    Voters ``a`` and ``b`` who err independently given the true label agree with probability
    ``Σ_k ρ_k Σ_l π_a[k, l] π_b[k, l]``; the observed rate is the share of the rows both vote on where their votes
    match (with soft votes, ``Σ_l p_al p_bl``, whose expectation is the same). Over all pairs, the result is
    ``1 − var(observed − implied) / var(observed)``: 1 when the fit reproduces every difference between pairs, 0 when it
    explains none of them, negative when it explains less than their mean would. 1 when every pair agrees equally;
    ``None`` with fewer than two pairs of voters that vote on a common row.

    Args:
        votes (`np.ndarray`): ``(rows, voters)`` class ids, ``-1`` = no vote.
        soft (`np.ndarray`, *optional*): ``(rows, voters, C)`` soft votes (zeros where a voter does not vote).
        class_prior (`np.ndarray`): ``(C,)``. confusion (`np.ndarray`): ``(voters, C, C)``, ``P(vote l | true k)``.
    """
    n, v = votes.shape
    has = (votes >= 0).astype(np.float64)
    both = has.T @ has
    if soft is not None:
        flat = np.ascontiguousarray(soft.transpose(1, 0, 2)).reshape(v, -1)
        matches = flat @ flat.T
    else:
        voted = votes >= 0
        matches = np.stack([((votes == votes[:, [a]]) & voted & voted[:, [a]]).sum(axis=0) for a in range(v)])
    c = confusion.shape[1]
    scaled = (confusion * np.sqrt(class_prior)[None, :, None]).reshape(v, c * c)
    implied = scaled @ scaled.T
    a, b = np.triu_indices(v, k=1)
    keep = both[a, b] > 0
    if keep.sum() < 2:
        return None
    observed = matches[a, b][keep] / both[a, b][keep]
    spread = float(observed.var())
    if spread <= 1e-12:
        return 1.0
    return float(1.0 - (observed - implied[a, b][keep]).var() / spread)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _known_array(known: Mapping[int, int] | np.ndarray | Sequence[int] | None, n: int, c: int) -> np.ndarray:
    out = np.full(n, -1, dtype=np.int64)
    if known is None:
        return out
    if isinstance(known, Mapping):
        for i, y in known.items():
            out[int(i)] = int(y)
    else:
        arr = np.asarray(known, dtype=np.int64)
        if arr.shape != (n,):
            raise ValueError(f"known labels have shape {arr.shape}, expected ({n},)")
        out[:] = arr
    if np.any((out < -1) | (out >= c)):
        raise ValueError(f"known labels must lie in [0, {c}) or be -1 (unknown)")
    return out


def _vote_matrix(votes: np.ndarray, soft: np.ndarray | None, c: int) -> Any:
    """``(rows, voters·C)`` matrix ``O`` with ``O[i, j·C + l]`` = weight of voter j's vote for class l on row i."""
    n, v = votes.shape
    if soft is not None:
        return soft.reshape(n, v * c)
    rows, cols = np.nonzero(votes >= 0)
    return csr_matrix((np.ones(len(rows)), (rows, cols * c + votes[rows, cols])), shape=(n, v * c))


@dataclass
class _Fit:
    q: np.ndarray
    prior: np.ndarray
    confusion: np.ndarray
    log_joint: np.ndarray
    ll: float
    n_iter: int
    converged: bool


def _m_step(o: Any, q: np.ndarray, v: int, c: int, model: str) -> tuple[np.ndarray, np.ndarray]:
    counts = np.asarray(o.T @ q).reshape(v, c, c).transpose(0, 2, 1)  # [j, k, l] = Σ_i q_ik O[i, j, l]
    prior = (q.sum(axis=0) + _JEFFREYS) / (q.shape[0] + c * _JEFFREYS)
    if model == "one-coin":
        correct = np.trace(counts, axis1=1, axis2=2)
        total = counts.sum(axis=(1, 2))
        acc = (correct + _JEFFREYS) / (total + 2 * _JEFFREYS)
        off = (1.0 - acc) / max(c - 1, 1)
        conf = np.repeat(off[:, None, None], c, axis=1).repeat(c, axis=2)
        conf[:, np.arange(c), np.arange(c)] = acc[:, None]
    else:
        conf = (counts + _JEFFREYS) / (counts.sum(axis=2, keepdims=True) + c * _JEFFREYS)
    return prior, conf


def _log_joint(o: Any, prior: np.ndarray, conf: np.ndarray) -> np.ndarray:
    v, c, _ = conf.shape
    w = np.log(conf).transpose(0, 2, 1).reshape(v * c, c)  # [j·C + l, k] = log π_j[k, l]
    return np.log(prior)[None, :] + np.asarray(o @ w)


def _fit(o: Any, q0: np.ndarray, known: np.ndarray, v: int, c: int, model: str, max_iter: int, tol: float) -> _Fit:
    q = q0.copy()
    clamp = known >= 0
    ll_prev = -np.inf
    converged = False
    it = 0
    while it < max_iter:
        it += 1
        prior, conf = _m_step(o, q, v, c, model)
        lj = _log_joint(o, prior, conf)
        q_new = _softmax(lj)
        q_new[clamp] = np.eye(c)[known[clamp]]
        ll = float(logsumexp(lj[~clamp], axis=1).sum() + lj[clamp, known[clamp]].sum())
        delta = float(np.abs(q_new - q).max()) if q.size else 0.0
        q = q_new
        if delta < tol or abs(ll - ll_prev) <= tol * max(1.0, abs(ll)):
            converged = True
            break
        ll_prev = ll
    prior, conf = _m_step(o, q, v, c, model)
    lj = _log_joint(o, prior, conf)
    ll = float(logsumexp(lj[~clamp], axis=1).sum() + lj[clamp, known[clamp]].sum())
    return _Fit(q, prior, conf, lj, ll, it, converged)


def _own_vote_posterior(q_loo: np.ndarray, pred: np.ndarray, model: str) -> tuple[np.ndarray, float]:
    """Row-wise P(pred is the true label) for one model, its own vote weighed by a confusion measured without it.

    ``mean_i q^{-g}_i[pred_i]`` alone is not the model's accuracy: where the other voters are unsure it tends to
    ``1/C`` whatever the model's skill (a good model in a weak pool is under-rated, a bad one over-rated). Its
    expectation is known: ``A = S π`` with ``A[k, l] = Σ_i q_i(k) [pred_i = l]``, ``S[k, y] = Σ_i q_i(k) q_i(y)``
    and ``π`` the model's confusion against the truth. So ``π`` is recovered by solving ``S π = A`` (one-coin: the
    scalar version, ``agree = a·B + (1 − a)(1 − B)/(C − 1)`` with ``B = mean_i Σ_k q_i(k)²``), then each row's
    posterior ``∝ q^{-g}_i(k) π[k, pred_i]``. ``π`` never sees the model's own vote in the row posteriors it is fitted
    to, so a random model gets a flat ``π`` and no credit for agreeing with itself; with a confident leave-out
    posterior (``S`` diagonal) this is the plain agreement with the rest of the pool.
    """
    n, c = q_loo.shape
    has = pred >= 0
    out = np.zeros(n)
    if not has.any():
        return out, 0.0
    qh, ph = q_loo[has], pred[has]
    agree = float(qh[np.arange(len(ph)), ph].mean())
    onehot = np.eye(c)[ph]
    if model == "one-coin":
        b = float((qh**2).sum(axis=1).mean())
        denom = c * b - 1.0
        acc = agree if denom <= 1e-6 else ((c - 1) * agree - (1.0 - b)) / denom
        acc = float(np.clip(acc, 1e-6, 1.0 - 1e-6))
        conf = np.full((c, c), (1.0 - acc) / max(c - 1, 1))
        np.fill_diagonal(conf, acc)
    else:
        s = qh.T @ qh
        a = qh.T @ onehot
        conf = np.linalg.lstsq(s, a, rcond=1e-10)[0]
        conf = np.clip(conf, 1e-6, None)
        conf /= conf.sum(axis=1, keepdims=True)
    post = qh * conf[:, ph].T
    post /= post.sum(axis=1, keepdims=True)
    out[has] = post[np.arange(len(ph)), ph]
    return out, agree * has.mean()


def dawid_skene(
    predictions: np.ndarray,
    probabilities: np.ndarray | None = None,
    *,
    n_classes: int | None = None,
    known_labels: Mapping[int, int] | np.ndarray | None = None,
    group_keys: Sequence[Any] | None = None,
    model: ModelType = "auto",
    clone_threshold: float = 0.99,
    max_iter: int = 200,
    tol: float = 1e-7,
) -> DawidSkeneResult:
    """Fit Dawid–Skene EM on a pool's predictions and estimate each model's accuracy without labels.

    Args:
        predictions (`np.ndarray`): ``(rows, models)`` class ids in ``[0, C)``, ``-1`` = no prediction.
        probabilities (`np.ndarray`, *optional*): ``(rows, models, C)``; used as soft votes.
        n_classes (`int`, *optional*): ``C`` (default: inferred from the ids, at least 2).
        known_labels (`dict[int, int]` or `np.ndarray`, *optional*): labels of some rows (array: ``-1`` = unknown);
            their posterior is clamped to the label.
        group_keys (`Sequence`, *optional*): one key per model (e.g. weights sha); equal keys are merged as clones.
        model (`str`, *optional*, defaults to ``"auto"``): ``"one-coin"``, ``"full"`` or ``"auto"`` (lower BIC).
        clone_threshold (`float`, *optional*, defaults to 0.99): prediction agreement that merges two models.
        max_iter (`int`, *optional*, defaults to 200), tol (`float`, *optional*): EM stopping rule (max change of
            any posterior, or relative change of the log-likelihood).

    Returns:
        `DawidSkeneResult`: posterior, parameters, chosen model, clone groups and leave-own-vote-out accuracies.

    Raises:
        `ConsensusUnavailable`: fewer than 3 distinct voters remain after merging clones.

    Example:

    ```python
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 2000)
    >>> P = np.stack([np.where(rng.random(2000) < a, y, 1 - y) for a in (0.9, 0.8, 0.7, 0.6, 0.75)], axis=1)
    >>> res = dawid_skene(P)
    >>> res.model_type, np.round(res.model_accuracy, 1)
    ('one-coin', array([0.9, 0.8, 0.7, 0.6, 0.8]))
    ```
    """
    p = np.asarray(predictions)
    if p.ndim != 2:
        raise ValueError(f"predictions must be 2-D (rows, models), got shape {p.shape}")
    p = p.astype(np.int64)
    n, m = p.shape
    probs = None if probabilities is None else np.asarray(probabilities, dtype=np.float64)
    c = int(n_classes) if n_classes is not None else (probs.shape[2] if probs is not None else max(int(p.max()) + 1, 2))
    if probs is not None and probs.shape != (n, m, c):
        raise ValueError(f"probabilities have shape {probs.shape}, expected {(n, m, c)}")
    if np.any((p < -1) | (p >= c)):
        raise ValueError(f"class ids must lie in [0, {c}) or be -1")
    known = _known_array(known_labels, n, c)

    predicting = np.flatnonzero((p >= 0).any(axis=0))
    groups = [
        [int(predicting[j]) for j in g]
        for g in find_clone_groups(
            p[:, predicting],
            c,
            keys=None if group_keys is None else [group_keys[j] for j in predicting.tolist()],
            threshold=clone_threshold,
        )
    ]
    if len(groups) < 3:
        raise ConsensusUnavailable(
            f"a consensus needs at least 3 distinct voters; this pool has {len(groups)} after merging "
            f"{m - len(predicting)} silent model(s) and near-duplicates "
            f"(>= {clone_threshold:.0%} identical predictions)"
        )
    voter_of_model = np.full(m, -1, dtype=np.int64)
    for g, members in enumerate(groups):
        voter_of_model[members] = g
    votes, soft = group_votes(p, groups, c, probs)
    v = len(groups)
    o = _vote_matrix(votes, soft, c)

    counts = np.asarray(o @ np.tile(np.eye(c), (v, 1)))  # (rows, C) summed votes
    q0 = (counts + 1e-9) / (counts + 1e-9).sum(axis=1, keepdims=True)
    q0[known >= 0] = np.eye(c)[known[known >= 0]]
    used = (counts.sum(axis=1) > 0) | (known >= 0)
    o_used = o[np.flatnonzero(used)]
    kinds = ["one-coin", "full"] if model == "auto" else [model]
    if model == "auto" and c > _MAX_FULL_CLASSES:
        kinds = ["one-coin"]
    fits: dict[str, _Fit] = {}
    bic: dict[str, float] = {}
    n_used = max(int(used.sum()), 1)
    for kind in kinds:
        fits[kind] = _fit(o_used, q0[used], known[used], v, c, kind, max_iter, tol)
        params = (v if kind == "one-coin" else v * c * (c - 1)) + (c - 1)
        bic[kind] = -2.0 * fits[kind].ll + params * np.log(n_used)
    chosen = min(bic, key=bic.get)  # type: ignore[arg-type]
    fit = fits[chosen]

    log_joint = np.tile(np.log(fit.prior), (n, 1))
    log_joint[used] = fit.log_joint
    q = _softmax(log_joint)
    q[known >= 0] = np.eye(c)[known[known >= 0]]
    log_conf = np.log(fit.confusion)

    def contrib(g: int) -> np.ndarray:
        if soft is not None:
            return soft[:, g, :] @ log_conf[g].T
        out = np.zeros((n, c))
        has = votes[:, g] >= 0
        out[has] = log_conf[g][:, votes[has, g]].T
        return out

    loo = np.zeros((n, m))
    agreement = np.zeros(m)
    for g, members in enumerate(groups):
        q_g = _softmax(log_joint - contrib(g))
        q_g[known >= 0] = q[known >= 0]
        for j in members:
            loo[:, j], agreement[j] = _own_vote_posterior(q_g, p[:, j], chosen)
    return DawidSkeneResult(
        q=q,
        class_prior=fit.prior,
        confusion=fit.confusion,
        voter_accuracy=np.einsum("k,vkk->v", fit.prior, fit.confusion),
        model_type=chosen,
        bic=bic,
        groups=groups,
        voter_of_model=voter_of_model,
        model_accuracy=loo.mean(axis=0),
        loo_correct=loo,
        loo_agreement=agreement,
        n_iter=fit.n_iter,
        converged=fit.converged,
        log_likelihood=fit.ll,
        agreement_explained=explained_agreement(votes, soft, fit.prior, fit.confusion),
        _log_joint=log_joint,
        _contrib=contrib,
        _known=known,
    )
