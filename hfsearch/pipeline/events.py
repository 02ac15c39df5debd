"""What a search tells the outside while it runs: events, the hooks that receive them, and cooperative cancellation.

A search emits an event when a stage starts or finishes and when a candidate starts, is done or is skipped. Callers
subscribe instead of patching methods: the CLI's progress bar, the Space's progress bar and logging are hooks.

```python
>>> from hfsearch.search import Search
>>> seen = []
>>> search = Search(cfg, hooks=[seen.append])           # doctest: +SKIP
>>> result = search.execute()                           # doctest: +SKIP
>>> [type(e).__name__ for e in seen][:2]                # doctest: +SKIP
['StageStarted', 'StageFinished']
```

Stopping a search is cooperative: `Hooks.cancel` (from any thread) or a hook raising `SearchCancelled` stops it at the
next check — between stages, between candidates and between batches of a forward pass. Outputs of finished
candidates are already in the cache, so a rerun recomputes nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal, Union

from ..errors import SearchCancelled
from ..utils import interrupt

logger = logging.getLogger(__name__)

#: The stages of a search, in order.
StageName = Literal["target", "discover", "align", "run", "score", "estimate", "label", "rank"]


@dataclass(frozen=True)
class StageStarted:
    """A stage begins."""

    stage: StageName


@dataclass(frozen=True)
class StageFinished:
    """A stage ended after `seconds`."""

    stage: StageName
    seconds: float


@dataclass(frozen=True)
class CandidateStarted:
    """Candidate `index` (0-based) of `total` starts to run."""

    repo_id: str
    index: int
    total: int


@dataclass(frozen=True)
class CandidateDone:
    """A candidate's outputs are ready (`from_cache`: nothing was computed)."""

    repo_id: str
    index: int
    total: int
    seconds: float
    from_cache: bool


@dataclass(frozen=True)
class CandidateSkipped:
    """A candidate left the search at `stage` (see `hfsearch.candidates.Skipped`)."""

    repo_id: str
    stage: str
    reason: str


Event = Union[StageStarted, StageFinished, CandidateStarted, CandidateDone, CandidateSkipped]
Hook = Callable[[Event], None]


class Hooks:
    """The subscribers of one search, and its cancellation flag.

    Args:
        hooks (`Iterable[Callable[[Event], None]]`, *optional*): called with every event, in order. A hook that raises
            `SearchCancelled` stops the search; any other exception in a hook is logged and ignored (a broken progress
            display must not lose a search).
    """

    def __init__(self, hooks: Iterable[Hook] = ()) -> None:
        self._hooks: list[Hook] = list(hooks)
        self._cancelled = threading.Event()
        self._reason = "the search was cancelled"

    def add(self, hook: Hook) -> None:
        """Subscribe `hook`."""
        self._hooks.append(hook)

    def emit(self, event: Event) -> None:
        """Send `event` to every hook."""
        for hook in self._hooks:
            try:
                hook(event)
            except SearchCancelled:
                raise
            except Exception:  # noqa: BLE001 - see the class docstring
                logger.warning("A search hook failed on %s", type(event).__name__, exc_info=True)

    def cancel(self, reason: str = "the search was cancelled") -> None:
        """Ask the search to stop at its next check (thread-safe)."""
        self._reason = reason
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def check(self) -> None:
        """Raise `SearchCancelled` if the search was asked to stop (`KeyboardInterrupt` if Ctrl-C was pressed during a
        CLI command, even where Python dropped it: `hfsearch.utils.interrupt`)."""
        interrupt.check()
        if self._cancelled.is_set():
            raise SearchCancelled(self._reason)
