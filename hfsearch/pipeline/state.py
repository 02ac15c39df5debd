"""What a search knows as it goes: the target sample and one `CandidateRun` per candidate (no parallel dicts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..candidates import Candidate, Skipped
from ..data.sample import Sample
from ..runner import Outputs


@dataclass
class CandidateRun:
    """One candidate's way through the pipeline.

    Args:
        candidate (`Candidate`): the checkpoint and its metadata (its ``label_map`` is set by the align stage).
        source (`Sample`, *optional*): the sample of its declared training data (``None``: `source_reason` says why).
        source_reason (`str`, *optional*): why no source sample is available.
        outputs (`dict[str, Outputs]`): its outputs by sample role (``"target"``, ``"source"``).
    """

    candidate: Candidate
    source: Sample | None = None
    source_reason: str | None = None
    outputs: dict[str, Outputs] = field(default_factory=dict)

    @property
    def repo_id(self) -> str:
        return self.candidate.repo_id


@dataclass
class SearchState:
    """Everything the stages produce, in one place.

    Args:
        target (`Sample`, *optional*): the target sample (set by the target stage).
        split (`str`, *optional*): the target split used.
        label_names (`list[str]`, *optional*): the target's class names, when known.
        runs (`dict[str, CandidateRun]`): the candidates still in the search, in discovery order.
        skipped (`list[Skipped]`): candidates that left the search, and why.
        warnings (`list[str]`): notes for the user (each once).
        query (`dict`): the Hub query that listed the candidates.
        sources (`dict[str, Sample]`): source samples by dataset id (shared by candidates declaring the same data).
        timings (`dict[str, float]`): seconds per stage.
    """

    target: Sample | None = None
    split: str | None = None
    label_names: list[str] | None = None
    runs: dict[str, CandidateRun] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    query: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, Sample] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def warn(self, message: str) -> None:
        """Add a warning once."""
        if message not in self.warnings:
            self.warnings.append(message)

    @property
    def candidates(self) -> list[Candidate]:
        return [r.candidate for r in self.runs.values()]
