"""Running one search for the app: progress through the search's events, a time budget through cooperative
cancellation (`Search.cancel`: the search stops at its next check, between batches at the latest; no exception is
ever injected into a thread), and one thread for every search (`in_search_thread`)."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from ..pipeline.events import CandidateStarted, Event, StageStarted

if TYPE_CHECKING:
    from ..rank.result import SearchResult
    from ..search import Search

T = TypeVar("T")

#: Progress shown when each stage starts: (fraction of the bar, message).
STAGE_PROGRESS = {
    "target": (0.0, "Loading the target dataset"),
    "discover": (0.1, "Listing candidates"),
    "align": (0.15, "Aligning label spaces"),
    "run": (0.2, "Downloading and running candidates"),
    "score": (0.9, "Scoring"),
    "rank": (0.97, "Ranking"),
}


class ProgressHook:
    """A search hook that reports ``(fraction, message)`` as each stage and each candidate starts."""

    def __init__(self, report: Callable[[float, str], None]) -> None:
        self.report = report

    def __call__(self, event: Event) -> None:
        if isinstance(event, StageStarted) and event.stage in STAGE_PROGRESS:
            fraction, message = STAGE_PROGRESS[event.stage]
            self.report(fraction, message)
        elif isinstance(event, CandidateStarted):
            start, end = STAGE_PROGRESS["run"][0], STAGE_PROGRESS["score"][0]
            self.report(
                start + (end - start) * event.index / max(event.total, 1),
                f"Candidate {event.index + 1}/{event.total}: downloading and running {event.repo_id}",
            )


def budget_message(timeout_s: float) -> str:
    return (
        f"The search ran past this app's time budget of {timeout_s:.0f} s and was stopped. Use fewer candidates "
        "or samples, or run `hfsearch find` on your own machine."
    )


def run_search(search: Search, timeout_s: float, report: Callable[[float, str], None] | None = None) -> SearchResult:
    """Execute `search` in this thread; after `timeout_s` seconds it is asked to stop.

    Raises:
        `SearchCancelled`: the time budget ran out (its message says so and what to do).
    """
    if report is not None:
        search.hooks.add(ProgressHook(report))
    timer = threading.Timer(timeout_s, search.cancel, kwargs={"reason": budget_message(timeout_s)})
    timer.daemon = True
    timer.start()
    try:
        return search.execute()
    finally:
        timer.cancel()


_SEARCH_THREAD: ThreadPoolExecutor | None = None
_SEARCH_THREAD_LOCK = threading.Lock()


def in_search_thread(fn: Callable[..., T], *args: Any) -> T:
    """Call ``fn(*args)`` in the app's one search thread (with the caller's context variables) and wait for it.

    Gradio hands each request to one of its many worker threads. A search leaves memory behind in the thread that
    ran it (allocator arenas, per-thread caches of torch and tokenizers), so searches spread over 40 threads grow
    the server by up to 40 times that; run in one thread, each search reuses what the previous one left. Searches
    run one at a time anyway (the ``/search`` event has ``concurrency_limit=1``).

    Raises:
        Whatever ``fn`` raises.
    """
    global _SEARCH_THREAD
    with _SEARCH_THREAD_LOCK:
        if _SEARCH_THREAD is None:
            _SEARCH_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hfsearch-search")
    return _SEARCH_THREAD.submit(contextvars.copy_context().run, fn, *args).result()
