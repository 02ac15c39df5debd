"""Early elimination (``--budget auto``): race the candidates on growing seeded slices and drop the clearly worse.

A search's cost grows with the pool: every candidate runs over the whole sample. Racing (Maron & Moore, *Hoeffding
races*, NIPS 1993; successive halving, Jamieson & Talwalkar, AISTATS 2016, keeps a fixed share instead) spends the
rows where they matter:

1. every candidate runs on a small slice: the first `slice_sizes` rows of a seeded order of the target sample (and
   the same share of its labeled held-out rows);
2. the score and estimate stages run on that slice (only the accuracy estimators that ``auto`` combines), giving each
   candidate its ``auto`` prediction on the slice;
3. a candidate is dropped when its prediction lies clearly below the leader's: when even the top of the range its
   prediction on the *whole* sample may take (90 %, from the rows not seen yet: `race_bounds`) is below the bottom
   of the leader's range. That is the question racing must answer: ``--budget full`` ranks by the predictions on the
   whole sample, so a candidate whose whole-sample prediction cannot reach the leader's could not be its pick. (The
   selector's interval says how far a prediction may be from the *true* accuracy; that error is shared by the
   candidates and does not shrink with rows, so it cannot decide which of two is ahead.) The dropped candidate
   stays in the result with status ``"eliminated"``, the rows it saw, and the selector's interval widened for the
   slice (`slice_interval`) as its ``predicted`` (`hfsearch.rank.result.CandidateResult`);
4. the slice grows (×4) for the others, which only run the new rows (a slice is a prefix of the order; see
   `hfsearch.runner.prefix`) with their models still loaded where memory allows (`Runner.hold`), and the
   survivors finish on the whole sample, where the ordinary score, estimate and rank stages take over (the
   pool-based estimators then see the survivors).

The leader itself is never dropped, and a candidate without a prediction (no estimator available) is never judged:
it runs in full. Racing needs the ``auto`` ranking, one prediction per row (not token tasks) and at least
`MIN_ROWS` × 2 target rows; otherwise ``--budget auto`` runs every candidate in full and says why. Below `MIN_POOL`
candidates racing does not pay, and ``auto`` (the default) runs them in full without a word.
"""

from __future__ import annotations

import copy
import logging
import math
from typing import TYPE_CHECKING

from ..candidates import Skipped
from ..rank.result import CandidateResult
from ..runner.prefix import Prefix, head, rows_of
from ..runner.runner import hold_budget
from ..tasks.base import TaskAdapter
from . import estimate as _estimate
from . import run as _run_stage
from . import score as _score
from .budget import Budget
from .state import CandidateRun, SearchState

if TYPE_CHECKING:
    from ..data.sample import Sample
    from ..search import Search

logger = logging.getLogger(__name__)

#: Rows of the first slice: at least this many, else an eighth of the sample.
MIN_ROWS = 64
#: The first slice is this share of the sample (when that is more than `MIN_ROWS`).
FIRST_SHARE = 1 / 8
#: Each slice is this many times the previous one (the last is the whole sample).
GROWTH = 4
#: Held-out rows of a slice: its share of the held-out sample, but at least this many.
MIN_HELDOUT_ROWS = 32
#: Candidates a search needs for ``--budget auto`` to race them: below this, racing costs more than it saves (each
#: slice repeats the score stage, and reloaded the survivors when this was measured; ``bench/sweep.py``: 1.10×
#: the time of ``full`` at 10 candidates, 0.89× at 30), so ``auto`` runs them in full, as ``full`` does.
MIN_POOL = 20
#: The normal quantile of the interval's level (90 %, two-sided), for the slice's sampling error.
Z90 = 1.6449


def slice_sizes(n: int) -> list[int]:
    """Target rows of each round for a sample of `n` rows; the last is `n` (one round: no racing).

    ```python
    >>> slice_sizes(700), slice_sizes(512), slice_sizes(100)
    ([88, 352, 700], [64, 256, 512], [100])
    ```
    """
    first = max(MIN_ROWS, math.ceil(n * FIRST_SHARE))
    if 2 * first > n:
        return [n]
    sizes = [first]
    while sizes[-1] * GROWTH < n:
        sizes.append(sizes[-1] * GROWTH)
    return sizes + [n]


def heldout_rows(held: int, rows: int, n: int) -> int:
    """Held-out rows that go with `rows` of `n` target rows: the same share, at least `MIN_HELDOUT_ROWS`."""
    if rows >= n:
        return held
    return min(held, max(MIN_HELDOUT_ROWS, math.ceil(held * rows / n)))


def prefixes(search: Search, samples: dict[str, Sample], rows: int) -> dict[str, Prefix]:
    """The slices of a candidate's samples for a round of `rows` target rows (seeded by ``--seed``).

    The target and held-out samples are cut to their share; the source sample is only run in the last round (it
    feeds similarity scores, not the estimators racing compares), whole.
    """
    seed = search.cfg.seed
    n = len(samples["target"])
    out = {"target": Prefix.of(samples["target"], rows, seed)}
    if "heldout" in samples:
        held = samples["heldout"]
        out["heldout"] = Prefix.of(held, heldout_rows(len(held), rows, n), seed)
    if "source" in samples and rows >= n:
        out["source"] = Prefix.of(samples["source"], len(samples["source"]), seed)
    return out


def one_per_row(adapter: TaskAdapter) -> bool:
    """Whether the task makes one prediction per row (a slice of rows is then a slice of predictions and labels)."""
    return type(adapter).score_logits is TaskAdapter.score_logits


def wanted(search: Search, runs: list[CandidateRun]) -> bool:
    """Whether this search races its candidates; when ``--budget auto`` cannot, the warnings say why."""
    if search.cfg.budget != "auto":
        return False
    if len(runs) < MIN_POOL:  # auto's own rule, not a limitation: nothing to warn about
        logger.info("--budget auto: %d candidates run in full (racing pays from %d on)", len(runs), MIN_POOL)
        return False
    target = search.state.target
    assert target is not None
    why = None
    if search.rank_by != _estimate.AUTO:
        why = f"it ranks by the predicted metric (auto), not by {search.rank_by}"
    elif not one_per_row(search.adapter):
        why = f"{search.adapter.name} makes several predictions per row"
    elif len(slice_sizes(len(target))) == 1:
        why = f"{len(target)} target rows are too few to cut into slices (at least {2 * MIN_ROWS})"
    if why:
        search.state.warn(
            f"--budget auto ran every candidate in full: early elimination needs that {why}."
            if why.startswith("it ")
            else f"--budget auto ran every candidate in full: {why}."
        )
        return False
    return True


def race(search: Search, runs: list[CandidateRun]) -> None:
    """Run `runs` round by round on growing slices, dropping the clearly worse after each (see the module)."""
    target = search.state.target
    assert target is not None
    cfg, state = search.cfg, search.state
    budget = Budget(
        max_time=cfg.max_time, max_download=cfg.max_download, started=state.started, allow_pickle=cfg.allow_pickle
    )
    sizes = slice_sizes(len(target))
    runner = search.runner
    # the survivors of a round run again in the next: keep them loaded (as many as fit) rather than load them again
    runner.hold(hold_budget(runner.accelerator.device))
    try:
        _rounds(search, runs, sizes, budget)
    finally:
        runner.release()


def _rounds(search: Search, runs: list[CandidateRun], sizes: list[int], budget: Budget) -> None:
    state = search.state
    active = list(runs)
    slices: list[int] = []  # the slices that ran (a race down to one candidate skips the rest)
    for rows in sizes:
        last = rows == sizes[-1] or len(active) == 1  # a race of one goes straight to the whole sample
        rows = sizes[-1] if last else rows
        if last:  # nothing runs after this round: each model leaves memory once it has run it
            search.runner.hold(0)
        else:
            slices.append(rows)
        ran = {r.repo_id for r in _run_stage.run_candidates(search, active, rows=rows, budget=budget)}
        # candidates the time budget refused now but that ran an earlier slice stay, with that slice
        lagging = [r for r in active if r.repo_id in state.runs and r.repo_id not in ran]
        if last:
            stop(search, lagging)
            break
        active = [r for r in active if r.repo_id in state.runs]
        if lagging or budget.out_of_time():
            stop(search, active)
            return
        for res in eliminated(*score_slice(search, active, rows)):
            logger.info("%s eliminated after %d target rows: %s", res.repo_id, rows, res.status_reason)
            run = state.runs.pop(res.repo_id, None)
            if run is not None:
                state.early_runs[res.repo_id] = run
            state.early.append(res)
        active = [r for r in active if r.repo_id in state.runs]
        search.runner.release(keep=[r.repo_id for r in active])  # the eliminated leave memory now
    dropped = sum(r.status == "eliminated" for r in state.early)
    state.warn(
        f"--budget auto: {dropped} of {len(runs)} candidates eliminated early (slices of "
        f"{', '.join(map(str, slices))} of {sizes[-1]} target rows)."
    )


def stop(search: Search, runs: list[CandidateRun]) -> None:
    """The time budget ran out mid-race: `runs` leave the search with their results on the longest slice they all
    completed (status ``"stopped"``); the search ends with the best answer so far."""
    if not runs:
        return
    state = search.state
    n = len(state.target)  # type: ignore[arg-type]
    rows = min(rows_of(r.outputs.get("target")) for r in runs)
    for r in runs:
        state.runs.pop(r.repo_id, None)
        if rows == 0:
            state.skipped.append(Skipped(r.repo_id, "budget", "not tried: the time budget ran out"))
    if rows == 0:
        return
    for r in runs:
        outputs = {"target": head(r.outputs["target"], rows)}
        if r.heldout is not None and "heldout" in r.outputs:
            outputs["heldout"] = head(r.outputs["heldout"], heldout_rows(len(r.heldout), rows, n))
        r.outputs = outputs
    for res in score_slice(search, runs, rows)[0]:
        res.status = "stopped"
        res.status_reason = (
            f"the time budget (--max-time {search.cfg.max_time} s) ran out while it raced on a "
            f"slice: predicted {_fmt(res.predicted)}"
        )
        state.early.append(res)


def score_slice(
    search: Search, runs: list[CandidateRun], rows: int
) -> tuple[list[CandidateResult], dict[str, tuple[float, float]]]:
    """The estimators and the ``auto`` prediction of `runs` on the slice of `rows` target rows.

    Reuses the score and estimate stages on a view of the search whose target, held-out samples and outputs are the
    slice's (the outputs of each run must hold exactly the slice's rows, in the order's order). The pool of the
    pool-based estimators is the candidates racing.

    Returns:
        The results (with the slice's size; ``predicted`` is the selector's interval widened for the slice,
        `slice_interval`), and per candidate with a prediction its racing bounds (`race_bounds`).
    """
    target = search.state.target
    assert target is not None
    seed, n = search.cfg.seed, len(target)
    view = copy.copy(search)
    view.state = SearchState(
        target=Prefix.of(target, rows, seed).view(),
        split=search.state.split,
        label_names=search.state.label_names,
        early=list(search.state.early),  # the survivors are still predicted against the eliminated
        early_runs=search.state.early_runs,
    )
    held: dict[str, tuple[int, int]] = {}
    for r in runs:
        held_view = None
        if r.heldout is not None and "heldout" in r.outputs:
            h = heldout_rows(len(r.heldout), rows, n)
            held_view, held[r.repo_id] = Prefix.of(r.heldout, h, seed).view(), (h, len(r.heldout))
        outputs = {k: v for k, v in r.outputs.items() if k in ("target", "heldout")}
        view.state.runs[r.repo_id] = CandidateRun(
            r.candidate,
            source=r.source,
            source_reason=r.source_reason,
            heldout=held_view,
            heldout_reason=r.heldout_reason,
            outputs=outputs,
        )
    view.specs = [s for s in search.specs if s.column in search.selector.inputs]
    view.needs = set().union(*(s.needs() for s in view.specs)) if view.specs else set()
    view.results = []
    _score.score(view)
    _estimate.estimate(view)
    bounds = {}
    for res in view.results:
        h, h_total = held.get(res.repo_id, (0, 0))
        res.rows, res.heldout_rows = rows, h or None
        if res.predicted is None:
            continue
        combo = search.selector.combination(tuple(res.predicted_from))
        weight = max(1.0, sum(combo.weights)) if combo is not None else 1.0
        bounds[res.repo_id] = race_bounds(res.predicted[0], rows, n, h, h_total, weight)
        res.predicted = slice_interval(res.predicted, rows, h)
    return view.results, bounds


def race_bounds(
    value: float, rows: int, n: int, heldout: int | None = None, heldout_total: int | None = None, weight: float = 1.0
) -> tuple[float, float]:
    """Where a candidate's prediction on the *whole* sample is expected to lie (90 %), given `value` on a slice.

    Racing must reproduce the pick of ``--budget full``, which ranks by the predictions on the whole sample; those
    differ from the slice's only by the rows not seen yet. Each estimator is a rate over rows (target rows, and for
    ATC/DoC held-out rows too), so the difference has a standard deviation of at most
    ``sqrt(v(1-v)·((1/rows - 1/n) + (1/heldout - 1/heldout_total)))`` (sampling without replacement from the sample),
    times the combination's total `weight` when it exceeds 1 (the estimators' errors may add up).

    ```python
    >>> [round(b, 3) for b in race_bounds(0.8, 100, 400)]
    [0.743, 0.857]
    >>> race_bounds(0.8, 400, 400)
    (0.8, 0.8)
    ```
    """
    share = max(0.0, 1 / rows - 1 / n)
    if heldout and heldout_total:
        share += max(0.0, 1 / heldout - 1 / heldout_total)
    half = Z90 * weight * math.sqrt(max(value * (1 - value), 0.0) * share)
    return value - half, value + half


def slice_interval(predicted: tuple[float, float, float], rows: int, heldout: int | None) -> tuple[float, float, float]:
    """The selector's 90 % interval (for a prediction on the whole sample) widened for a slice: its half-widths
    combined in quadrature with the sampling error of rates measured on `rows` target and `heldout` held-out rows,
    ``z · sqrt(v(1-v)(1/rows + 1/heldout))``. What an eliminated candidate shows as its interval.

    ```python
    >>> low, high = slice_interval((0.8, 0.75, 0.85), 100, None)[1:]
    >>> round(low, 3), round(high, 3)
    (0.717, 0.883)
    ```
    """
    value, low, high = predicted
    var = max(value * (1 - value), 0.0) * (1 / rows + (1 / heldout if heldout else 0.0))
    extra = (Z90**2) * var
    return (
        value,
        max(0.0, value - math.sqrt((value - low) ** 2 + extra)),
        min(1.0, value + math.sqrt((high - value) ** 2 + extra)),
    )


def eliminated(results: list[CandidateResult], bounds: dict[str, tuple[float, float]]) -> list[CandidateResult]:
    """The results whose racing bounds lie entirely below the leader's, marked ``"eliminated"`` with the reason.

    The leader is the highest prediction (ties: the first by repo id). Candidates without a prediction are never
    eliminated, nor is anyone when fewer than two have one.
    """
    predicted = sorted(
        ((r.predicted[0], r) for r in results if r.repo_id in bounds and r.predicted is not None),
        key=lambda vr: (-vr[0], vr[1].repo_id),
    )
    judged = [r for _, r in predicted]
    if len(judged) < 2:
        return []
    leader = judged[0]
    floor = bounds[leader.repo_id][0]
    out = []
    for r in judged[1:]:
        low, high = bounds[r.repo_id]
        if high < floor:
            r.status = "eliminated"
            r.status_reason = (
                f"on the whole sample its prediction would be {low:.3f}–{high:.3f} (90%), below the leader "
                f"{leader.repo_id}'s {floor:.3f}–{bounds[leader.repo_id][1]:.3f}; predicted {_fmt(r.predicted)} "
                f"(--budget auto)"
            )
            out.append(r)
    return out


def _fmt(predicted: tuple[float, float, float] | None) -> str:
    if predicted is None:
        return "nothing (no estimator available)"
    value, low, high = predicted
    return f"{value:.3f} [{low:.3f}, {high:.3f}]"
