"""The records of a benchmark run: one `TargetResult` per target, one `ScorerSummary` per scorer, the `BenchResult`.

They are what `hfsearch.bench.run.run_benchmark` returns and what ``results.json`` holds (`BenchResult.to_dict`).
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import __version__ as HFSEARCH_VERSION
from .metrics import ScorerOutcome
from .workload import Workload

#: Name of the reference row "pick a candidate uniformly at random" in every table.
RANDOM = "random"
#: Version of the JSON schema written by `BenchResult.to_dict`.
SCHEMA_VERSION = 1

Log = Callable[[str], None]


@dataclass
class TargetResult:
    """Everything measured on one target.

    Args:
        target (`str`): the target domain.
        dataset (`str`): its registry dataset id.
        n_rows (`int`): target rows scored (labels hidden from every scorer).
        candidates (`list[str]`): repo ids served on it (after exclusion), in workload order.
        excluded (`list[str]`): repo ids not served because they were trained on the target.
        skipped (`list[dict]`): candidates the search could not score, and why.
        truth (`dict[str, dict[str, float]]`): ``{metric: {repo_id: value}}``.
        scores (`dict[str, dict[str, float | None]]`): ``{scorer column: {repo_id: score}}``.
        unavailable (`dict[str, dict[str, str]]`): ``{scorer column: {repo_id: reason}}``.
        outcomes (`dict[str, ScorerOutcome]`): per scorer column (plus ``"random"``), on the primary metric.
        best (`list[str]`): the truly best candidate(s) on the primary metric.
        seconds (`float`): search + grading time.
        by_architecture (`dict[str, dict[str, ScorerOutcome]]`): the same grades among the candidates of one
            architecture only (the paper's setting: one model family, different training data).
        intervals (`dict[str, dict[str, tuple[float, float]]]`): ``{"auto": {repo_id: (low, high)}}``, the 90 %
            interval of each candidate's predicted metric.
        predictions (`dict[str, np.ndarray]`): each candidate's predicted class per target row (kept in memory for the
            label-budget curves; not written to ``results.json``).
        labels (`np.ndarray`, *optional*): the target rows' true classes (idem).
        curves (`list[dict]`): top-1 and regret after 0, 10, 20, 50 labels, label loop vs uniform rows
            (`hfsearch.bench.curves`).
        consensus_fit (`float`, *optional*): the share of the candidates' pairwise agreement that the pool's
            Dawid–Skene fit explains (what the selector reads for candidates with consensus alone).
    """

    target: str
    dataset: str
    n_rows: int
    candidates: list[str]
    excluded: list[str]
    skipped: list[dict[str, str]]
    truth: dict[str, dict[str, float]]
    scores: dict[str, dict[str, float | None]]
    unavailable: dict[str, dict[str, str]]
    outcomes: dict[str, ScorerOutcome]
    best: list[str]
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)
    by_architecture: dict[str, dict[str, ScorerOutcome]] = field(default_factory=dict)
    intervals: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)
    predictions: dict[str, Any] = field(default_factory=dict, repr=False)
    labels: Any = field(default=None, repr=False)
    curves: list[dict[str, Any]] = field(default_factory=list)
    consensus_fit: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "intervals": {k: {m: list(v) for m, v in d.items()} for k, d in self.intervals.items()},
            "dataset": self.dataset,
            "n_rows": self.n_rows,
            "candidates": self.candidates,
            "excluded": self.excluded,
            "skipped": self.skipped,
            "truth": self.truth,
            "best": self.best,
            "scores": self.scores,
            "unavailable": self.unavailable,
            "outcomes": {k: v.to_dict() for k, v in self.outcomes.items()},
            "outcomes_by_architecture": {
                a: {k: v.to_dict() for k, v in o.items()} for a, o in self.by_architecture.items()
            },
            "seconds": round(self.seconds, 2),
            "timings": {k: round(v, 2) for k, v in self.timings.items()},
            "budget_curves": self.curves,
            "consensus_fit": self.consensus_fit,
        }


@dataclass
class ScorerSummary:
    """A scorer's grades averaged over targets (means with bootstrap intervals ``[low, high]``)."""

    scorer: str
    kind: str
    higher_is_better: bool
    regret: tuple[float | None, float | None, float | None]
    top1: tuple[float | None, float | None, float | None]
    kendall_tau: tuple[float | None, float | None, float | None]
    spearman_rho: tuple[float | None, float | None, float | None]
    coverage: float | None
    n_targets: int
    n_tau: int
    rank: int = 0
    note: str = ""
    abs_error: tuple[float | None, float | None, float | None] = (None, None, None)
    interval_coverage: float | None = None
    interval_width: float | None = None

    def to_dict(self) -> dict[str, Any]:
        def ci(t: tuple[float | None, float | None, float | None]) -> dict[str, float | None]:
            return {"mean": t[0], "low": t[1], "high": t[2]}

        return {
            "rank": self.rank,
            "scorer": self.scorer,
            "kind": self.kind,
            "higher_is_better": self.higher_is_better,
            "regret": ci(self.regret),
            "top1": ci(self.top1),
            "kendall_tau": ci(self.kendall_tau),
            "spearman_rho": ci(self.spearman_rho),
            "coverage": self.coverage,
            "n_targets": self.n_targets,
            "n_targets_with_tau": self.n_tau,
            "note": self.note,
            "abs_error": ci(self.abs_error),
            "interval_coverage": self.interval_coverage,
            "interval_width": self.interval_width,
        }


@dataclass
class BenchResult:
    """The result of a benchmark run: the workload, the zoo, every target and the scorer leaderboard."""

    workload: Workload
    zoo: list[dict[str, Any]]
    targets: list[TargetResult]
    summaries: list[ScorerSummary]
    paired: list[dict[str, Any]]
    timings: dict[str, float]
    registry: str
    by_architecture: dict[str, list[ScorerSummary]] = field(default_factory=dict)
    curves: list[dict[str, Any]] = field(default_factory=list)
    curves_note: str = ""

    def leaderboard(self) -> list[dict[str, Any]]:
        """The scorers, best first (rank 1 = lowest mean regret), with the random pick as a reference row."""
        return [s.to_dict() for s in self.summaries]

    def to_dict(self) -> dict[str, Any]:
        wl = self.workload
        return {
            "schema_version": SCHEMA_VERSION,
            "workload": {
                "name": wl.name,
                "file": str(wl.file),
                "description": wl.description,
                "task": wl.task,
                "labels": wl.label_names,
                "metric": wl.metric,
                "metrics": wl.metrics,
                "samples": wl.samples,
                "seed": wl.seed,
                "targets": wl.targets,
                "exclude_source_domain": wl.exclude_source_domain,
                "scorers": wl.scorers,
                "score_params": wl.score_params,
                "fingerprint": wl.fingerprint(),
                "popularity": (
                    f"synthetic, seed {wl.popularity_seed}, log10 downloads in "
                    f"[{wl.popularity_range[0]:g}, {wl.popularity_range[1]:g}]"
                )
                if wl.popularity_seed is not None
                else "none",
                "bootstrap": {
                    "resamples": wl.bootstrap_resamples,
                    "level": wl.bootstrap_level,
                    "seed": wl.bootstrap_seed,
                },
                "domains": {
                    n: {
                        "where": d.where,
                        "train_rows": len(wl.rows[n]["train"]),
                        "test_rows": len(wl.rows[n]["test"]),
                        "license": d.license,
                    }
                    for n, d in wl.domains.items()
                },
            },
            "zoo": self.zoo,
            "leaderboard": self.leaderboard(),
            "leaderboard_by_architecture": {a: [s.to_dict() for s in rows] for a, rows in self.by_architecture.items()},
            "paired": self.paired,
            "budget_curves": {"mean": self.curves, "note": self.curves_note},
            "targets": [t.to_dict() for t in self.targets],
            "timings": {k: round(v, 2) for k, v in self.timings.items()},
            "registry": self.registry,
            "environment": {"hfsearch": HFSEARCH_VERSION, "python": platform.python_version(), **_versions()},
        }


def _versions() -> dict[str, str]:
    import torch
    import transformers

    return {"torch": torch.__version__, "transformers": transformers.__version__}
