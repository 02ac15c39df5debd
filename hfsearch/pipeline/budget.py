"""Spending limits of a search: a time budget (``--max-time``) and a download budget (``--max-download``).

The run stage asks the `Budget` before it starts each candidate. When the time is spent, no further candidate is
started (the first always is) and the search ends with the best answer among those already run; a candidate whose
weights would exceed the download budget is not fetched (smaller ones after it still may be). Either way the
candidates that were not tried are listed with the reason (`Skipped`, stage ``"budget"``). Candidates run in the
order of `hfsearch.candidates.order.likely_winners_first`, so a budget cuts the least promising ones.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from ..candidates import Candidate
from ..runner.weights import WEIGHT_PATTERNS


def expected_bytes(cand: Candidate, allow_pickle: bool = False) -> int | None:
    """Bytes of weights the candidate needs: its files for a local candidate, else what the Hub says (``None``:
    unknown)."""
    if cand.path:
        patterns = WEIGHT_PATTERNS if allow_pickle else ("*.safetensors",)
        return sum(f.stat().st_size for p in patterns for f in Path(cand.path).glob(p) if f.is_file())
    return cand.weights_bytes


def megabytes(n: float) -> str:
    return f"{n / 1e6:,.0f} MB" if n >= 1e6 else f"{n / 1e3:,.0f} kB"


@dataclass
class Budget:
    """What a search may still spend.

    Args:
        max_time (`float`, *optional*): seconds from `started` after which no candidate is started.
        max_download (`int`, *optional*): bytes of weights the candidates run may need in all.
        started (`float`): when the search began (`time.perf_counter`).
        allow_pickle (`bool`): whether pickle weights count (they are only fetched when allowed).
    """

    max_time: float | None = None
    max_download: int | None = None
    started: float = field(default_factory=time.perf_counter)
    allow_pickle: bool = False
    used_bytes: int = 0
    charged: set[str] = field(default_factory=set)

    @property
    def limited(self) -> bool:
        return self.max_time is not None or self.max_download is not None

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def out_of_time(self) -> bool:
        """Whether the time budget is spent."""
        return self.max_time is not None and self.elapsed() >= self.max_time

    def refuse(self, cand: Candidate) -> str | None:
        """Why `cand` must not be started now (``None``: it may)."""
        if self.out_of_time() and self.charged:  # the first candidate always runs: an answer needs one
            return f"not tried: the time budget (--max-time {self.max_time:g} s) ran out after {self.elapsed():.0f} s"
        if self.max_download is None or cand.repo_id in self.charged:
            return None
        need = expected_bytes(cand, self.allow_pickle)
        if need is None:  # the Hub did not say: it may run while the budget lasts, and is charged what it read
            if self.used_bytes >= self.max_download:
                return (
                    f"not tried: its size is unknown and the download budget (--max-download "
                    f"{megabytes(self.max_download)}) is spent"
                )
            return None
        if self.used_bytes + need > self.max_download:
            return (
                f"not tried: its weights ({megabytes(need)}) would exceed the download budget (--max-download "
                f"{megabytes(self.max_download)}, {megabytes(self.used_bytes)} used)"
            )
        return None

    def prefetch_allowed(self, current: Candidate, nxt: Candidate) -> bool:
        """Whether `nxt` may be fetched while `current` runs: only if the budget would start it once `current` is
        charged (a prefetch is a download, and a refused candidate must not have been fetched). Under a download
        budget, a candidate of unknown size, or one after it, is fetched only when its turn comes."""
        if self.out_of_time():
            return False
        if self.max_download is None or nxt.repo_id in self.charged:
            return True
        now, need = expected_bytes(current, self.allow_pickle), expected_bytes(nxt, self.allow_pickle)
        if now is None or need is None:
            return False
        used = self.used_bytes + (0 if current.repo_id in self.charged else now)
        return used + need <= self.max_download  # what `refuse` will ask once `current` is charged

    def charge(self, cand: Candidate, read: int | None = None) -> None:
        """Count the candidate's weights against the download budget (once per candidate): the bytes it `read` when
        the runner loaded it, else what `expected_bytes` says."""
        if cand.repo_id in self.charged:
            return
        self.charged.add(cand.repo_id)
        self.used_bytes += read if read is not None else expected_bytes(cand, self.allow_pickle) or 0
