"""What a search knows as it goes: the target sample and one `CandidateRun` per candidate (no parallel dicts)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..candidates import Candidate, Skipped
from ..data.sample import Sample
from ..rank.result import CandidateResult
from ..runner import Outputs


@dataclass
class CandidateRun:
    """One candidate's way through the pipeline.

    Args:
        candidate (`Candidate`): the checkpoint and its metadata (its ``label_map`` is set by the align stage).
        source (`Sample`, *optional*): the sample of its declared training data (``None``: `source_reason` says why).
        source_reason (`str`, *optional*): why no source sample is available.
        heldout (`Sample`, *optional*): labeled held-out rows of its declared data (labels as its own label ids).
        heldout_reason (`str`, *optional*): why no held-out sample is available.
        outputs (`dict[str, Outputs]`): its outputs by sample role (``"target"``, ``"source"``, ``"heldout"``).
    """

    candidate: Candidate
    source: Sample | None = None
    source_reason: str | None = None
    heldout: Sample | None = None
    heldout_reason: str | None = None
    outputs: dict[str, Outputs] = field(default_factory=dict)

    @property
    def repo_id(self) -> str:
        return self.candidate.repo_id


@dataclass
class Peer:
    """One candidate's outputs as the pool-based estimators (``consensus``, ``aline``) see them, in the TARGET's label
    space.

    Args:
        repo_id (`str`), sha (`str`, *optional*): the candidate (same weights ⇒ same sha: clones are merged).
        pred (`np.ndarray`): `(n,)` predicted target class per target prediction (``-1``: no counterpart).
        probs (`np.ndarray`): `(n, C)` target-space probabilities.
        heldout (`str`, *optional*): the held-out slice it was run on (candidates sharing one can be compared there).
        heldout_pred, heldout_labels (`np.ndarray`, *optional*): its predictions on that slice and the slice's labels,
            as target class ids (``-1``: no counterpart).
    """

    repo_id: str
    sha: str | None
    pred: np.ndarray
    probs: np.ndarray
    heldout: str | None = None
    heldout_pred: np.ndarray | None = None
    heldout_labels: np.ndarray | None = None


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
        datasets (`dict[str, DatasetDict]`): declared datasets loaded so far (each loaded once per search).
        heldouts (`dict[str, Any]`): held-out rows drawn per declared dataset (shared by the candidates declaring it).
        timings (`dict[str, float]`): seconds per stage.
        label_source (`LabelSource`, *optional*): the ``label_column`` source (set by the target stage when asked).
        labels (`LabelSession`, *optional*): the label loop (set by the label stage; the Space continues it).
        early (`list[CandidateResult]`): candidates that left before the whole sample, with their results on the
            slice they saw (``status`` ``"eliminated"`` by ``--budget auto``, or ``"stopped"`` by a budget).
        early_runs (`dict[str, CandidateRun]`): the candidates racing eliminated (by repo id): they stay in the pool
            the survivors are predicted against (`hfsearch.pipeline.estimate.pool_context`), and a pool-relative
            threshold (adaptivity's ``tau="pool"``) still counts their training data.
        early_scores (`dict[str, dict]`): their scores that read no model output (their data against the target,
            their card), on the current target rows (`hfsearch.pipeline.score.early_scores`).
        consensus_fit (`float`, *optional*): the share of the candidates' pairwise agreement that the pool's
            Dawid–Skene fit explains (`hfsearch.consensus.DawidSkeneResult.agreement_explained`; set by the score
            stage when ``consensus`` is computed); the estimate stage's selector reads it.
        started (`float`): when the search began (`time.perf_counter`; what ``--max-time`` counts from).
    """

    target: Sample | None = None
    split: str | None = None
    label_names: list[str] | None = None
    runs: dict[str, CandidateRun] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    query: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, Sample] = field(default_factory=dict)
    datasets: dict[str, Any] = field(default_factory=dict)
    heldouts: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    label_source: Any = None
    labels: Any = None
    early: list[CandidateResult] = field(default_factory=list)
    early_runs: dict[str, CandidateRun] = field(default_factory=dict)
    early_scores: dict[str, dict[str, Any]] = field(default_factory=dict)
    consensus_fit: float | None = None
    started: float = field(default_factory=time.perf_counter)

    def warn(self, message: str) -> None:
        """Add a warning once."""
        if message not in self.warnings:
            self.warnings.append(message)

    @property
    def candidates(self) -> list[Candidate]:
        return [r.candidate for r in self.runs.values()]
