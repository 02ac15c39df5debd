"""The run stage: every candidate over the target (and its source sample), one model in memory at a time.

Under ``accelerate launch`` or ``torchrun`` (several processes) the candidates are sharded across ranks: each rank
runs its share, then the outputs are gathered with ``gather_object`` so that every rank scores the same complete set
(only the main process prints or writes; see the CLI).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..candidates import Skipped
from ..data.sample import Sample
from ..errors import CandidateError
from . import race
from .budget import Budget
from .data import load_heldout, load_source
from .events import CandidateDone, CandidateStarted
from .state import CandidateRun

if TYPE_CHECKING:
    from ..search import Search


def run(search: Search) -> None:
    """Run the candidates still in the search (this rank's share when launched on several processes).

    With ``--budget auto`` (one process) the racing scheduler of `hfsearch.pipeline.race` runs them on growing slices
    and drops the clearly worse ones; otherwise every candidate runs over the whole sample.
    """
    state = distributed_state()
    runs = list(search.state.runs.values())
    if state is None:
        if race.wanted(search, runs):
            race.race(search, runs)
        else:
            run_candidates(search, runs)
        return
    if search.cfg.budget == "auto":
        search.state.warn(
            "--budget auto runs every candidate in full under several processes (early elimination "
            "needs every candidate's slice results in one place)."
        )
    mine = runs[state.process_index :: state.num_processes]
    run_candidates(search, mine)
    gather(search, runs, mine)


def plan(search: Search, r: CandidateRun) -> dict[str, Sample]:
    """The samples candidate `r` runs on, by role; its source and held-out samples are loaded on first use."""
    target = search.state.target
    assert target is not None
    needs = search.needs
    source_features = ("features" in needs and "source" in needs) or any(
        s.space == "model" and "source" in s.info.needs for s in search.specs
    )
    if r.source is None and r.source_reason is None:
        r.source, r.source_reason = load_source(search, r.candidate)
    samples = {"target": target}
    if r.source is not None and source_features:
        samples["source"] = r.source
    if "heldout" in needs:
        if r.heldout is None and r.heldout_reason is None:
            r.heldout, r.heldout_reason = load_heldout(search, r.candidate)
        if r.heldout is not None:
            samples["heldout"] = r.heldout
    return samples


def run_candidates(
    search: Search, runs: list[CandidateRun], *, rows: int | None = None, budget: Budget | None = None
) -> list[CandidateRun]:
    """Run each candidate over its samples; a failing candidate is skipped and the search goes on.

    Args:
        search (`Search`): the search.
        runs (`list[CandidateRun]`): the candidates, in the order they run.
        rows (`int`, *optional*): run only the first `rows` target rows of the seeded order (and the same share of the
            held-out rows, `race.prefixes`); ``None``: whole samples. Rows a candidate already has (an earlier round,
            or a prefix cached by an earlier search) are reused.
        budget (`Budget`, *optional*): the time and download budget (default: the search's options). A candidate
            the budget refuses is listed as not tried (``Skipped``, stage ``"budget"``).

    Returns:
        `list[CandidateRun]`: the candidates that ran (the others were skipped or refused).
    """
    target = search.state.target
    assert target is not None
    need_model = bool(search.needs & {"logits", "features", "pool"})
    budget = budget or Budget(
        max_time=search.cfg.max_time,
        max_download=search.cfg.max_download,
        started=search.state.started,
        allow_pickle=search.cfg.allow_pickle,
    )
    plans = [(r, plan(search, r)) for r in runs]
    runner = search.runner
    ran: list[CandidateRun] = []
    if need_model:
        check_cache_writable(search, plans)
    try:
        for i, (r, samples) in enumerate(plans):
            search.hooks.check()
            refused = budget.refuse(r.candidate) if need_model else None
            if refused is not None:
                if not r.outputs:  # one that raced on an earlier slice keeps it (see race.stop)
                    search.skip(Skipped(r.repo_id, "budget", refused))
                continue
            search.hooks.emit(CandidateStarted(r.repo_id, i, len(plans)))
            t0 = time.perf_counter()
            loaded = runner.stats.models_loaded
            if need_model:
                # overlap the next download with this candidate's inference, if the budget would start it
                if i + 1 < len(plans) and budget.prefetch_allowed(r.candidate, plans[i + 1][0].candidate):
                    runner.prefetch(plans[i + 1][0].candidate, plans[i + 1][1])
                try:  # rows a racing round (or an earlier search) already computed are reused, never rerun
                    r.outputs = runner.run_prefix(
                        r.candidate,
                        race.prefixes(search, samples, rows or len(target)),
                        have=r.outputs,
                        check=candidate_check(search, t0),
                    )
                except CandidateError as exc:
                    search.skip(Skipped(r.repo_id, exc.stage, str(exc)))
                    continue
                budget.charge(r.candidate, runner.weights_read.get(r.repo_id))
            ran.append(r)
            search.hooks.emit(
                CandidateDone(
                    r.repo_id, i, len(plans), time.perf_counter() - t0, from_cache=runner.stats.models_loaded == loaded
                )
            )
    finally:
        runner.close()
    return ran


def candidate_check(search: Search, started: float) -> Callable[[], None]:
    """The check called between a candidate's batches: the search's cancellation, then the candidate's deadline.

    With ``candidate_timeout`` set, a candidate still running that many seconds after `started` (a
    `time.perf_counter` value: download and load count too) raises `CandidateError` with ``stage="timeout"``: it is
    skipped and the search goes on. Outputs of the samples it had finished stay cached.
    """
    timeout = search.cfg.candidate_timeout
    if timeout is None:
        return search.hooks.check
    deadline = started + timeout

    def check() -> None:
        search.hooks.check()
        now = time.perf_counter()
        if now > deadline:
            raise CandidateError(
                f"timed out: still running after {now - started:.0f} s (candidate timeout {timeout} s); allow more "
                "time, or use fewer samples or a GPU",
                stage="timeout",
            )

    return check


def check_cache_writable(search: Search, plans: list[tuple[CandidateRun, dict[str, Sample]]]) -> None:
    """Raise `CacheError` before the first candidate runs if outputs must be written and the cache folder cannot be."""
    runner = search.runner
    if any(not runner.cache.contains(runner.key(r.candidate, s)) for r, samples in plans for s in samples.values()):
        runner.cache.check_writable()


def gather(search: Search, runs: list[CandidateRun], mine: list[CandidateRun]) -> None:
    """Share every rank's outputs, source choices and skips with all ranks (candidate order preserved)."""
    from accelerate.utils import gather_object

    state = search.state
    done = [
        (r.repo_id, r.outputs, r.source.name if r.source else None, r.source_reason, r.heldout_reason)
        for r in mine
        if r.repo_id in state.runs
    ]
    failed = [s for s in state.skipped if s.stage not in ("filter", "align")]
    gathered = gather_object([(done, failed)])
    by_id = {r.repo_id: r for r in runs}
    finished: dict[str, tuple[Any, str | None, str | None, str | None]] = {}
    state.skipped = [s for s in state.skipped if s.stage in ("filter", "align")]
    for rank_done, rank_failed in gathered:
        for repo_id, outputs, source_name, reason, heldout_reason in rank_done:
            finished[repo_id] = (outputs, source_name, reason, heldout_reason)
        state.skipped.extend(rank_failed)
    state.runs = {}
    for r in runs:
        if r.repo_id not in finished:
            continue
        outputs, source_name, reason, heldout_reason = finished[r.repo_id]
        run_ = by_id[r.repo_id]
        run_.outputs = outputs
        if run_.source is None and source_name is not None:  # seeded: the same sample the other rank drew
            run_.source, run_.source_reason = load_source(search, run_.candidate)
        elif source_name is None:
            run_.source, run_.source_reason = None, reason
        if run_.heldout is None and "heldout" in outputs:
            run_.heldout, run_.heldout_reason = load_heldout(search, run_.candidate)
        elif "heldout" not in outputs:
            run_.heldout, run_.heldout_reason = None, heldout_reason
        state.runs[r.repo_id] = run_


def distributed_state() -> Any:
    """accelerate's `PartialState` when launched with several processes, else ``None``."""
    from .. import constants

    if constants.world_size() <= 1:
        return None
    import torch
    from accelerate import PartialState

    state = PartialState(cpu=not torch.cuda.is_available())
    return state if state.num_processes > 1 else None
