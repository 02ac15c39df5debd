"""Exceptions that hfsearch raises on purpose.

`HFSearchError` and its subclasses carry a one-line, user-facing message; the CLI prints it on stderr and exits
with status 2, never a traceback.
"""

from __future__ import annotations


class HFSearchError(Exception):
    """Base class for errors caused by user input or the environment (not by a bug)."""

    exit_code = 2

    def __str__(self) -> str:  # one line, always
        return " ".join(super().__str__().split())


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


class CandidateError(Exception):
    """A single candidate failed (download, load, run); recorded as skipped, the search goes on."""
