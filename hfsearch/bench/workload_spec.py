"""The validated form of a benchmark workload: its `Workload`, `Domain`s and `CandidateSpec`s, and the row
formats a domain may hold (parsed by `hfsearch.bench.workload_parse`, read by `hfsearch.bench.workload_domains`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Ground-truth metrics a workload may ask for (computed by `hfsearch.bench.truth.true_metrics`).
METRICS = ("accuracy", "f1")
#: Column names of a single-text row and of a text-pair row (the zoo architectures' input format).
TEXT_COLUMNS = ("text",)
PAIR_COLUMNS = ("text_a", "text_b")
LABEL_COLUMN = "label"
#: Input columns of a row, by kind (the zoo architectures' input formats), tried in order: a row of kind "series"
#: (time-series-classification) holds a (time, channels) array in ``series``.
INPUT_KINDS: dict[str, tuple[str, ...]] = {"pair": PAIR_COLUMNS, "text": TEXT_COLUMNS, "series": ("series",)}
#: Image rows (image-classification) hold pixels in ``image``; token rows (token-classification) a word list in
#: ``tokens`` and one tag per word in ``tags`` (their label column).
INPUT_KINDS.update({"image": ("image",), "tokens": ("tokens",)})
#: Label column of a row, by kind (default `LABEL_COLUMN`).
KIND_LABEL_COLUMN: dict[str, str] = {"tokens": "tags"}


@dataclass
class Domain:
    """One dataset of the workload: a local folder (``train``/``test`` splits) or a Hub dataset id.

    Args:
        name (`str`): the domain's name in the workload (also the registry dataset name).
        path (`Path`, *optional*): local folder (csv/jsonl/parquet per split).
        dataset (`str`, *optional*): Hub dataset id (instead of `path`).
        config (`str`, *optional*): Hub dataset config.
        splits (`dict[str, str]`): which split is ``train`` and which ``test`` (default: the same names).
        columns (`dict[str, str]`): renames into the canonical columns (``{"text": "review"}``).
        label_names (`list[str]`, *optional*): the domain's own class names (must equal the workload's).
        license (`str`): licence identifier for the dataset card.
        source (`str`, *optional*): origin note (default: the folder's ``SOURCE.md``).
    """

    name: str
    path: Path | None = None
    dataset: str | None = None
    config: str | None = None
    splits: dict[str, str] = field(default_factory=lambda: {"train": "train", "test": "test"})
    columns: dict[str, str] = field(default_factory=dict)
    label_names: list[str] | None = None
    license: str = "unknown"
    source: str | None = None

    @property
    def where(self) -> str:
        return str(self.path) if self.path is not None else f"hub:{self.dataset}"


@dataclass
class CandidateSpec:
    """One candidate model of the workload (the product of a ``candidates`` entry is expanded into these).

    Args:
        name (`str`): repository name in the zoo.
        architecture (`str`): zoo architecture (``tiny-bert``, ``minilm``).
        sources (`list[str]`): training domains (several = trained on their mixture).
        seed (`int`): training seed.
        train (`dict`): training overrides (epochs, learning_rate, batch_size, label_noise, max_train_rows,
            class_weight, params).
        downloads, likes (`int`, *optional*): popularity metadata (synthetic when not given, see ``popularity``).
    """

    name: str
    architecture: str
    sources: list[str]
    seed: int = 0
    train: dict[str, Any] = field(default_factory=dict)
    downloads: int | None = None
    likes: int | None = None

    @property
    def is_mixture(self) -> bool:
        return len(self.sources) > 1


@dataclass
class Workload:
    """A validated benchmark workload (see ``benchmarks/README.md`` for the file format)."""

    name: str
    file: Path
    task: str
    label_names: list[str]
    metrics: list[str]
    domains: dict[str, Domain]
    candidates: list[CandidateSpec]
    targets: list[str]
    scorers: list[str]
    score_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    exclude_source_domain: bool = True
    samples: int = 400
    seed: int = 0
    description: str = ""
    org: str = ""
    max_train_rows: int | None = None
    license: str = "unknown"
    popularity_seed: int | None = 0
    popularity_range: tuple[float, float] = (1.0, 6.0)
    bootstrap_resamples: int = 2000
    bootstrap_level: float = 0.95
    bootstrap_seed: int = 0
    batch_size: int = 32
    max_length: int = 256
    is_pair: bool = False
    rows: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict, repr=False)

    @property
    def metric(self) -> str:
        """The primary ground-truth metric (regret, top-1 and rank correlations use it)."""
        return self.metrics[0]

    def eligible(self, target: str) -> list[str]:
        """Names of the candidates served on `target` (with ``exclude_source_domain``: none trained on it)."""
        return [c.name for c in self.candidates if not (self.exclude_source_domain and target in c.sources)]

    def mixture_domain(self, sources: list[str]) -> str:
        """Name of the registry dataset holding the union of `sources` (the declared data of a mixture model)."""
        return "mix-" + "-".join(sources)

    def fingerprint(self) -> str:
        """Hash of everything that determines the benchmark's numbers (data, candidates, scorers, seeds)."""
        payload = {
            "task": self.task,
            "labels": self.label_names,
            "metrics": self.metrics,
            "targets": self.targets,
            "scorers": self.scorers,
            "score_params": self.score_params,
            "exclude": self.exclude_source_domain,
            "samples": self.samples,
            "seed": self.seed,
            "popularity": [self.popularity_seed, self.popularity_range],
            "candidates": [c.__dict__ for c in self.candidates],
            "data": {n: _rows_hash(r) for n, r in sorted(self.rows.items())},
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _rows_hash(splits: Mapping[str, list[dict[str, Any]]]) -> str:
    h = hashlib.sha256()
    for split in sorted(splits):
        h.update(split.encode())
        for row in splits[split]:
            h.update(json.dumps(row, sort_keys=True, ensure_ascii=False).encode())
    return h.hexdigest()[:16]
