"""Load on the Space: many simultaneous users of ``/search`` through `gradio_client`, the server in its own process.

Used by ``bench/load_space.py`` (the full run, 20 users) and ``tests/test_space_load.py`` (a short one in CI). What is
recorded per request: when it was first answered (a place in the queue, the start of its search, or a refusal), when
its search started, and how it ended: ``completed``, ``refused`` (the queue was full: Gradio answers at once) or
``failed`` (anything else: an error, a dropped connection). The server's resident memory is sampled while it runs.

How Gradio 6 queues (``gradio/queueing.py``): ``/search`` has ``concurrency_limit=1``, so one search runs at a time;
``Blocks.queue(max_size=N)`` refuses a new request when N requests are already *waiting* (the running one is not
counted), with HTTP 503, which `gradio_client` raises as ``QueueError("Queue is full! Please try again.")`` and the
browser shows as "This application is currently busy. Please try again.". So with N = 16 the first 17 simultaneous
users are served (1 running + 16 waiting, the 17th at place 16 in the line) and the 18th to 20th are refused at once.

```python
>>> with SpaceServer(env={"HFSEARCH_SPACE_QUEUE_SIZE": "2"}) as server:           # doctest: +SKIP
...     records = run_users(server.url, 6, search_args)                          # doctest: +SKIP
...     report = LoadReport.of(records, server)                                   # doctest: +SKIP
```
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

Outcome = Literal["completed", "refused", "failed"]

#: Statuses of a `gradio_client` job that mean "your search is running".
_RUNNING = {"PROCESSING", "PROGRESS", "ITERATING", "LOG"}


@dataclass
class RequestRecord:
    """One user's request. Times are seconds after the request was sent.

    Args:
        user (`int`): the user's number (0-based, in the order the requests were sent).
        outcome (`str`): ``completed``, ``refused`` or ``failed``.
        answered_s (`float`): first answer: a place in the queue, the search's start, or the end.
        started_s (`float`, *optional*): when its search was seen running (``None`` if never).
        finished_s (`float`): when the request ended.
        first_rank (`int`, *optional*): 0-based place in the queue when first told (``None``: never queued).
        queue_size (`int`, *optional*): the queue's length at that moment.
        message (`str`): the error message of a refused or failed request.
    """

    user: int
    outcome: Outcome
    answered_s: float
    started_s: float | None
    finished_s: float
    first_rank: int | None = None
    queue_size: int | None = None
    message: str = ""

    @property
    def wait_s(self) -> float | None:
        """Seconds from sending to the start of the search (completed requests)."""
        if self.outcome != "completed":
            return None
        return self.started_s if self.started_s is not None else self.finished_s


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_bytes(pid: int, field_name: str = "VmRSS") -> int | None:
    """Resident memory of process `pid` (``VmRSS``; ``VmHWM``: its peak so far) from ``/proc`` (Linux), or ``None``."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class SpaceServer:
    """The app (``python -m hfsearch app``) in its own process on 127.0.0.1, with its memory sampled every 0.2 s.

    Args:
        env (`Mapping[str, str]`, *optional*): environment variables added to this process's (``HFSEARCH_SPACE_*``…).
        startup_timeout_s (`float`): how long to wait for the server to answer.
        log (`str` or `Path`, *optional*): file that receives the server's output (default: discarded).
    """

    def __init__(
        self, env: Mapping[str, str] | None = None, *, startup_timeout_s: float = 300.0, log: str | Path | None = None
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", **(env or {})}
        self.startup_timeout_s = startup_timeout_s
        self.log = Path(log) if log else None
        self.proc: subprocess.Popen[bytes] | None = None
        self.samples: list[tuple[float, int]] = []  # (time.monotonic(), rss bytes)
        self._stop = threading.Event()
        self._sampler: threading.Thread | None = None

    def __enter__(self) -> SpaceServer:  # noqa: PYI034 - Self needs Python 3.11
        out = self.log.open("wb") if self.log else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hfsearch", "app", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + self.startup_timeout_s
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the app exited with status {self.proc.returncode} while starting (see {self.log})")
            try:
                with urllib.request.urlopen(self.url + "config", timeout=5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    self.__exit__(None, None, None)
                    raise RuntimeError(f"the app did not answer within {self.startup_timeout_s:.0f} s") from None
                time.sleep(0.5)
        self._sampler = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)
        self._sampler.start()
        return self

    def _sample(self) -> None:
        assert self.proc is not None
        while not self._stop.is_set():
            rss = rss_bytes(self.proc.pid)
            if rss is not None:
                self.samples.append((time.monotonic(), rss))
            self._stop.wait(0.2)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def rss(self) -> int | None:
        return rss_bytes(self.proc.pid) if self.alive else None  # type: ignore[union-attr]

    def peak_rss(self) -> int | None:
        """The kernel's record of the server's peak resident memory (``VmHWM``)."""
        return rss_bytes(self.proc.pid, "VmHWM") if self.alive else None  # type: ignore[union-attr]

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def run_users(
    url: str,
    n_users: int,
    args: Sequence[Any],
    *,
    api_name: str = "/search",
    timeout_s: float = 900.0,
    poll_s: float = 0.02,
) -> list[RequestRecord]:
    """`n_users` clients send the same request at the same moment; returns one `RequestRecord` each.

    Every client connects first (its own session), then all send together (a barrier) and each polls its job's
    status until it ends or `timeout_s` passes (then it counts as ``failed``).

    Args:
        url (`str`): the app's URL.
        n_users (`int`): simultaneous users.
        args (`Sequence`): the endpoint's arguments.
        api_name (`str`): the endpoint.
        timeout_s (`float`): the most one request may take.
        poll_s (`float`): how often each client looks at its job's status.
    """
    from gradio_client import Client

    clients = [Client(url, verbose=False) for _ in range(n_users)]
    barrier = threading.Barrier(n_users)
    records: list[RequestRecord | None] = [None] * n_users

    def user(i: int) -> None:
        barrier.wait()
        t0 = time.monotonic()
        answered = started = None
        rank = size = None
        job = clients[i].submit(*args, api_name=api_name)
        while not job.future.done() and time.monotonic() - t0 < timeout_s:
            status = job.status()
            code = getattr(status.code, "name", str(status.code))
            now = time.monotonic() - t0
            if code == "IN_QUEUE" and status.rank is not None:
                if answered is None:
                    answered, rank, size = now, status.rank, status.queue_size
            elif code in _RUNNING:
                answered = now if answered is None else answered
                started = now if started is None else started
            time.sleep(poll_s)
        end = time.monotonic() - t0
        outcome: Outcome
        message = ""
        if not job.future.done():
            outcome, message = "failed", f"no answer within {timeout_s:.0f} s"
            job.cancel()
        else:
            exc = job.future.exception()
            if exc is None:
                outcome = "completed"
            elif type(exc).__name__ == "QueueError":
                outcome, message = "refused", str(exc)
            else:
                outcome, message = "failed", f"{type(exc).__name__}: {exc}"
        records[i] = RequestRecord(
            i, outcome, answered if answered is not None else end, started, end, rank, size, message
        )

    threads = [threading.Thread(target=user, args=(i,), name=f"user-{i}", daemon=True) for i in range(n_users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout_s + 60)
    for c in clients:
        with contextlib.suppress(Exception):
            c.close()
    return [r for r in records if r is not None]


def arrival_order(records: Sequence[RequestRecord]) -> list[RequestRecord]:
    """The requests in the order they reached the queue, as far as their answers tell: the one that ran at once,
    then the waiting ones by their place in line, then the refused (and failed) ones."""

    def key(r: RequestRecord) -> tuple[int, float, int]:
        if r.first_rank is None and r.started_s is not None:
            return (0, r.answered_s, r.user)
        if r.first_rank is not None:
            return (1, r.first_rank, r.user)
        return (2, r.answered_s, r.user)

    return sorted(records, key=key)


@dataclass
class LoadReport:
    """What a load run measured (see `LoadReport.to_markdown`).

    Args:
        rounds (`list[list[RequestRecord]]`): the requests of each crowd, one crowd after the other.
        rss_idle, rss_warm, rss_after (`int`, *optional*): the server's resident memory when it started, after one
            search, and at the end.
        rss_peaks (`list[int]`): the server's peak resident memory after each crowd (so far).
        alive_after (`bool`): the server process was still running at the end.
        followup_ok (`bool`, *optional*): a request sent after the crowds completed.
        settings (`dict`): shown above the tables.
    """

    rounds: list[list[RequestRecord]]
    rss_idle: int | None = None
    rss_warm: int | None = None
    rss_peaks: list[int | None] = field(default_factory=list)
    rss_after: int | None = None
    alive_after: bool = True
    followup_ok: bool | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def records(self) -> list[RequestRecord]:
        """Every request of every crowd."""
        return [r for records in self.rounds for r in records]

    @staticmethod
    def count(records: Sequence[RequestRecord], outcome: Outcome) -> int:
        return sum(r.outcome == outcome for r in records)

    @staticmethod
    def percentile(values: Sequence[float], q: float) -> float | None:
        return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else None

    def to_markdown(self, title: str = "## Load: simultaneous users of the Space (`bench/load_space.py`)") -> str:
        """The figures as a markdown section: one summary row per crowd, then each request of the first crowd."""
        mb = lambda b: "–" if b is None else f"{b / 2**20:.0f} MiB"
        sec = lambda s: "–" if s is None else f"{s:.1f} s"
        lines = [title, ""]
        if self.settings:
            lines += ["Settings: " + ", ".join(f"{k} = {v}" for k, v in self.settings.items()) + ".", ""]
        lines += [
            (
                "| crowd | requests | completed | refused (queue full) | failed | p50 wait | p95 wait | "
                "slowest first answer | server peak RSS so far |"
            ),
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for k, records in enumerate(self.rounds):
            waits = [r.wait_s for r in records if r.wait_s is not None]
            peak = self.rss_peaks[k] if k < len(self.rss_peaks) else None
            lines.append(
                f"| {k + 1} | {len(records)} | {self.count(records, 'completed')} | {self.count(records, 'refused')} | "
                f"{self.count(records, 'failed')} | {sec(self.percentile(waits, 50))} | "
                f"{sec(self.percentile(waits, 95))} | {sec(max((r.answered_s for r in records), default=None))} | "
                f"{mb(peak)} |"
            )
        later = "–" if self.followup_ok is None else ("completed" if self.followup_ok else "**failed**")
        lines += [
            "",
            (
                f"Server resident memory: {mb(self.rss_idle)} idle, {mb(self.rss_warm)} after one search, "
                f"{mb(self.rss_after)} at the end. Server alive at the end: {'yes' if self.alive_after else '**no**'}; "
                f"a request sent after the crowds: {later}."
            ),
            "",
            (
                "Each request of the first crowd, in the order it reached the queue (*wait*: from sending to the start "
                "of its search; *place*: its place in the waiting line when first told, as the page shows it):"
            ),
            "",
            "| # | outcome | first answer | place in line | wait | done | message |",
            "|---|---|---|---|---|---|---|",
        ]
        for k, r in enumerate(arrival_order(self.rounds[0] if self.rounds else []), start=1):
            place = (
                "running"
                if r.first_rank is None and r.started_s is not None
                else ("–" if r.first_rank is None else f"{r.first_rank + 1} of {r.queue_size}")
            )
            lines.append(
                f"| {k} | {r.outcome} | {sec(r.answered_s)} | {place} | {sec(r.wait_s)} | "
                f"{sec(r.finished_s)} | {r.message.replace('|', '/')} |"
            )
        return "\n".join(lines) + "\n"
