"""Progress displays built on the search's events (see `hfsearch.pipeline.events`)."""

from __future__ import annotations

from typing import Any

from ..pipeline.events import CandidateDone, CandidateSkipped, CandidateStarted, Event, StageFinished


class CandidateProgressBar:
    """A hook that shows one progress bar over the candidates of the run stage (drawn when
    `hfsearch.utils.logging.progress_enabled`: on a terminal, unless turned off)."""

    def __init__(self) -> None:
        self._bar: Any = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, CandidateStarted):
            if self._bar is not None and event.index == 0:  # a new round of early elimination (--budget auto)
                self._bar.reset(total=event.total)
            if self._bar is None:
                from .logging import progress_bar

                self._bar = progress_bar(total=event.total, desc="candidates", unit="model")
            self._bar.set_postfix_str(event.repo_id, refresh=True)
        elif isinstance(event, (CandidateDone, CandidateSkipped)) and self._bar is not None:
            self._bar.update(1)
        elif isinstance(event, StageFinished) and event.stage == "run" and self._bar is not None:
            self._bar.close()
            self._bar = None
