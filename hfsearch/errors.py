"""Exceptions that hfsearch raises on purpose, and `one_line`, the one way an exception becomes a message.

`HFSearchError` and its subclasses carry a one-line, user-facing message; the CLI prints it on stderr and exits
with status 2, never a traceback.
"""

from __future__ import annotations

from typing import Literal


class HFSearchError(Exception):
    """Base class for errors caused by user input or the environment (not by a bug)."""

    exit_code = 2

    def __str__(self) -> str:  # one line, always
        return " ".join(super().__str__().split())


class ConfigError(HFSearchError):
    """A search option is missing, unknown, out of range or in conflict with another one."""


class DatasetError(HFSearchError):
    """The target or source dataset cannot be loaded or understood."""


class ColumnError(DatasetError):
    """The input column(s) are missing or ambiguous."""


class TaskError(HFSearchError):
    """The task is not supported."""


class HubError(HFSearchError):
    """The Hub (or the configured endpoint / registry) cannot be reached or answered badly."""


class RepoIdError(HFSearchError):
    """A model or dataset id that is not a Hub id (``..``, an absolute path, a backslash, a URL scheme…)."""


class CacheError(HFSearchError):
    """The output cache folder cannot be written (read-only, full, no permission)."""


class NoCandidatesError(HFSearchError):
    """No candidate is left to score after discovery and filtering."""


class ScorerError(HFSearchError):
    """Unknown scorer, unknown feature space or bad scorer parameters."""


class WorkloadError(HFSearchError):
    """A benchmark workload file is invalid."""


class SearchCancelled(HFSearchError):
    """The search was stopped by its caller (a hook, a time budget); nothing that had finished is lost."""


#: Where a candidate can fail after discovery; `CandidateError.stage` and `Skipped.stage` take these values.
FailureStage = Literal["download", "load", "inference", "timeout"]


class CandidateError(Exception):
    """A single candidate failed (download, load, run); recorded as skipped, the search goes on.

    Args:
        message (`str`): what went wrong, one line.
        stage (`str`): where: ``"download"``, ``"load"``, ``"inference"`` or ``"timeout"``.
    """

    def __init__(self, message: str, *, stage: FailureStage) -> None:
        super().__init__(message)
        self.stage: FailureStage = stage

    def __str__(self) -> str:
        return " ".join(super().__str__().split())


def one_line(exc: BaseException) -> str:
    """An exception as one line for users: an `HFSearchError`'s own message, else ``Type: first line``."""
    if isinstance(exc, (HFSearchError, CandidateError)):
        return str(exc)
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
