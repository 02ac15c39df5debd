"""A crowd on the Space, short: 6 simultaneous users, a queue of 2, small searches on the test registry.

The app runs in its own process (as on a Space), so that its memory is its own and a crash would show. Asserted are
the guarantees, not timings: every request completes or is told at once that it waits or is refused, nothing fails,
one search runs at a time, the server survives and serves the next request, memory stays bounded.
"""

from __future__ import annotations

import itertools
import os

import pytest
from space_fixture import BEST, LABELS, TARGET

pytest.importorskip("gradio_client")

from hfsearch.testing.space_load import LoadReport, SpaceServer, run_users

USERS = 6
QUEUE = 2
#: One cheap search: one model, one scorer (its outputs are cached after the warm-up request).
ARGS = ["text-classification", TARGET, None, "", "test", "", 1, 64, ["confidence"], "confidence", BEST, "", "", "",
        "", LABELS]


@pytest.fixture(scope="module")
def server(registry, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("load")
    env = {"HFSEARCH_CACHE": str(tmp / "outputs"), "HFSEARCH_SPACE_QUEUE_SIZE": str(QUEUE),
           "HFSEARCH_SPACE_BUILD_DEMO": "0", "HFSEARCH_SPACE_RESTRICTED": "0", "HFSEARCH_SPACE_TIMEOUT": "300",
           "HFSEARCH_DEMO_DIR": str(tmp / "demo"), "HF_ENDPOINT": os.environ["HF_ENDPOINT"]}
    with SpaceServer(env, log=tmp / "server.log") as s:
        yield s


def test_a_crowd_is_served_or_refused_at_once_and_the_server_survives(server):
    (warm,) = run_users(server.url, 1, ARGS, timeout_s=300)
    assert warm.outcome == "completed", warm.message
    rss_warm = server.rss()

    records = run_users(server.url, USERS, ARGS, timeout_s=300)
    assert len(records) == USERS
    failed = [r for r in records if r.outcome == "failed"]
    assert not failed, failed
    done = sorted((r for r in records if r.outcome == "completed"), key=lambda r: r.finished_s)
    refused = [r for r in records if r.outcome == "refused"]
    assert len(done) >= 1 + QUEUE and refused  # one running + QUEUE waiting are served; the rest are refused
    assert all(r.message == "Queue is full! Please try again." for r in refused)
    # told at once: every request knew its fate (waiting, running or refused) before the first search finished
    assert max(r.answered_s for r in records) <= done[0].finished_s
    queued = [r for r in done if r.first_rank is not None]
    assert queued and all(0 <= r.first_rank < QUEUE and r.queue_size <= QUEUE for r in queued)
    # one search at a time: a search starts only when the one before it has finished (client-side clocks: 0.5 s slack)
    spans = sorted((r.wait_s, r.finished_s) for r in done)
    assert all(start >= prev_end - 0.5 for (_, prev_end), (start, _) in itertools.pairwise(spans))

    # the server survived, serves the next request, and its memory did not grow with the crowd
    assert server.alive
    (after,) = run_users(server.url, 1, ARGS, timeout_s=300)
    assert after.outcome == "completed"
    report = LoadReport([records], rss_warm=rss_warm, rss_peaks=[server.peak_rss()], rss_after=server.rss(),
                        alive_after=server.alive, followup_ok=True)
    if rss_warm is not None:  # Linux: /proc
        assert report.rss_peaks[0] - rss_warm < 512 * 2**20
    table = report.to_markdown()
    assert f"| 1 | {USERS} | {len(done)} | {len(refused)} | 0 |" in table
    assert table.count("| refused |") == len(refused) and "| 1 | completed |" in table


def test_every_search_runs_in_one_thread_with_the_callers_context():
    """Gradio's worker threads hand each search to the one search thread (memory is reused, not added up)."""
    import contextvars
    import threading

    from hfsearch.app.worker import in_search_thread

    var: contextvars.ContextVar[int] = contextvars.ContextVar("request")
    seen: list[tuple[str, int]] = []

    def request(i: int) -> None:
        var.set(i)  # what Gradio keeps in context variables (the request, the progress tracker) must follow
        in_search_thread(lambda: seen.append((threading.current_thread().name, var.get())))

    threads = [threading.Thread(target=request, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(v for _, v in seen) == [0, 1, 2, 3]
    assert len({name for name, _ in seen}) == 1 and seen[0][0].startswith("hfsearch-search")
    with pytest.raises(ZeroDivisionError):
        in_search_thread(lambda: 1 / 0)
