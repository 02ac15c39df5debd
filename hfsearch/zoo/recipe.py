"""What a zoo is made of: its domains ([`DomainSpec`]), the candidates to train on them ([`CandidateRecipe`]), the
whole [`ZooRecipe`] and the [`BuiltModel`]s that [`hfsearch.zoo.build.build_zoo`] returns; plus the shipped datasets
and the recipe of ``hfsearch demo``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import HFSearchError
from .architectures import Row


@dataclass
class DomainSpec:
    """A dataset of the zoo: a folder of ``<split>.jsonl`` files or rows given in memory.

    Args:
        name (`str`): repository name of the dataset (``uci_amazon``).
        path (`str` or `Path`, *optional*): folder holding ``train.jsonl`` and ``test.jsonl`` (other splits are kept).
        rows (`dict[str, list[dict]]`, *optional*): the splits given directly, instead of `path`.
        org (`str`, *optional*): organisation of the dataset repository (default: the recipe's).
        license (`str`, *optional*): licence identifier written in the dataset card.
        source (`str`, *optional*): origin note for the dataset card (default: ``SOURCE.md`` of `path`, if any).
    """

    name: str
    path: str | Path | None = None
    rows: Mapping[str, Sequence[Row]] | None = None
    org: str | None = None
    license: str = "unknown"
    source: str | None = None

    def __post_init__(self) -> None:
        if (self.path is None) == (self.rows is None):
            raise HFSearchError(f"Domain {self.name!r}: give exactly one of `path` and `rows`.")

    def load(self) -> dict[str, list[Row]]:
        """The splits of the domain, ``{split: rows}``; ``train`` and ``test`` are required."""
        if self.rows is not None:
            splits = {split: list(rows) for split, rows in self.rows.items()}
        else:
            folder = Path(self.path)  # type: ignore[arg-type]
            splits = {f.stem: _read_jsonl(f) for f in sorted(folder.glob("*.jsonl"))}
        missing = {"train", "test"} - set(splits)
        if missing:
            raise HFSearchError(f"Domain {self.name!r} has no {' or '.join(sorted(missing))} split.")
        return splits

    def source_note(self) -> str:
        """Origin and licence of the data, for the dataset card."""
        if self.source is not None:
            return self.source
        note = Path(self.path) / "SOURCE.md" if self.path is not None else None
        return note.read_text(encoding="utf-8") if note is not None and note.is_file() else ""


@dataclass
class CandidateRecipe:
    """One candidate model of the zoo.

    Args:
        name (`str`): repository name of the model.
        arch (`str`): registered architecture (``"tiny-bert"``, ``"minilm"``; see `list_architectures`).
        sources (`list[str]`): domains it trains on (several = their mixture); evaluated on their test splits.
        task (`str`, *optional*): task of the architecture (default: the recipe's).
        seed (`int`, *optional*): seeds initialisation, batch order, row selection and label noise.
        epochs, learning_rate, batch_size (*optional*): overrides of the architecture's training defaults.
        label_noise (`float`, *optional*): fraction of training labels replaced by another label (a deliberately
            worse candidate).
        max_train_rows (`int`, *optional*): train on a seeded random subset of at most this many rows.
        class_weight (`str`, *optional*): ``"balanced"`` weighs the loss of each class inversely to its frequency
            (see [`TrainConfig`]); for imbalanced tasks such as entity matching.
        label_names (`list[str]`, *optional*): class names in id order (default: the recipe's).
        params (`dict`, *optional*): overrides of the architecture's size parameters (``{"hidden_size": 32}``).
        downloads, likes (`int`, *optional*): popularity written to ``hub.json`` (no effect on training).
    """

    name: str
    arch: str
    sources: list[str]
    task: str | None = None
    seed: int = 0
    epochs: int | None = None
    learning_rate: float | None = None
    batch_size: int | None = None
    label_noise: float = 0.0
    max_train_rows: int | None = None
    class_weight: str | None = None
    label_names: list[str] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    downloads: int | None = None
    likes: int | None = None


@dataclass
class ZooRecipe:
    """A zoo: domains, candidates trained on them and, optionally, a held-out target domain.

    Args:
        org (`str`): organisation of the model (and, by default, dataset) repositories.
        domains (`list[DomainSpec]`): every dataset of the zoo.
        candidates (`list[CandidateRecipe]`): models to train.
        task (`str`, *optional*): default task of the candidates.
        label_names (`list[str]`, *optional*): class names in id order (default: ``LABEL_<i>``).
        target (`str`, *optional*): a domain no candidate may train on (the search target of a demo or test).
        license (`str`, *optional*): licence of the trained models.
        language (`list[str]`, *optional*): language of the data.
    """

    org: str
    domains: list[DomainSpec]
    candidates: list[CandidateRecipe]
    task: str = "text-classification"
    label_names: list[str] | None = None
    target: str | None = None
    license: str = "apache-2.0"
    language: list[str] = field(default_factory=lambda: ["en"])

    def domain(self, name: str) -> DomainSpec:
        for spec in self.domains:
            if spec.name == name:
                return spec
        raise HFSearchError(f"Unknown domain {name!r} (domains: {', '.join(d.name for d in self.domains)}).")

    def dataset_id(self, name: str) -> str:
        """Registry id (``org/name``) of domain `name`."""
        return f"{self.domain(name).org or self.org}/{name}"

    def target_dataset_id(self) -> str:
        """Registry id of the held-out target domain."""
        if self.target is None:
            raise HFSearchError("This zoo recipe has no target domain.")
        return self.dataset_id(self.target)

    def validate(self) -> None:
        """Check names are unique, sources exist and no candidate trains on the target."""
        for kind, names in (
            ("domain", [d.name for d in self.domains]),
            ("candidate", [c.name for c in self.candidates]),
        ):
            duplicates = sorted({n for n in names if names.count(n) > 1})
            if duplicates:
                raise HFSearchError(f"Duplicate {kind} name(s) in the zoo recipe: {duplicates}.")
        for candidate in self.candidates:
            if not candidate.sources:
                raise HFSearchError(f"Candidate {candidate.name!r} has no source domain.")
            for source in candidate.sources:
                self.domain(source)
                if source == self.target:
                    raise HFSearchError(f"Candidate {candidate.name!r} trains on the held-out target {source!r}.")


@dataclass
class BuiltModel:
    """A model of the zoo, as built (or found up to date) by [`build_zoo`].

    Args:
        repo_id (`str`): registry id.
        path (`Path`): the model folder.
        source_accuracy (`float`): primary metric on the pooled test splits of its sources.
        metrics (`dict[str, dict[str, float]]`): metrics per source dataset id (and ``"all"``, pooled).
        train_seconds (`float`): training time when it was trained.
        trained (`bool`): whether this call trained it (``False``: reused from the cache).
    """

    repo_id: str
    path: Path
    source_accuracy: float
    metrics: dict[str, dict[str, float]]
    train_seconds: float
    trained: bool


def _read_jsonl(path: Path) -> list[Row]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def shipped_domain(name: str, category: str = "sentiment") -> Path:
    """Folder of a dataset shipped in ``hfsearch/resources/data/<category>/<name>``."""
    path = Path(str(resources.files("hfsearch") / "resources" / "data" / category / name))
    if not path.is_dir():
        raise HFSearchError(f"No shipped dataset {category}/{name}.")
    return path


def demo_recipe() -> ZooRecipe:
    """The zoo of ``hfsearch demo``: sentiment candidates from two review domains, served on a held-out third.

    Candidates train on ``uci_amazon`` and ``uci_imdb`` (both architectures) and one is deliberately poor (tiny-bert
    with 30% of its training labels flipped: better than chance on its own test split, near chance on the target);
    ``uci_yelp`` is the target, on which no candidate trains. It builds in about a minute on 2 CPU cores.
    """
    domains = [
        DomainSpec(name, path=shipped_domain(name), license="cc-by-4.0")
        for name in ("uci_amazon", "uci_imdb", "uci_yelp")
    ]
    # Popularity is set against quality: the noisy model is the most downloaded and the best ones the least, as
    # happens on the Hub (an early, popular checkpoint is not the best fit for a new domain). A search method must
    # beat this prior, so the demo must not reward it for free.
    candidates = [
        CandidateRecipe("minilm-uci-amazon", "minilm", ["uci_amazon"], epochs=1, downloads=850, likes=3),
        CandidateRecipe("minilm-uci-imdb", "minilm", ["uci_imdb"], epochs=1, downloads=2_300, likes=5),
        CandidateRecipe("tiny-bert-uci-amazon", "tiny-bert", ["uci_amazon"], downloads=9_400, likes=12),
        CandidateRecipe("tiny-bert-uci-imdb", "tiny-bert", ["uci_imdb"], downloads=41_000, likes=30),
        CandidateRecipe(
            "tiny-bert-uci-amazon-noisy", "tiny-bert", ["uci_amazon"], label_noise=0.3, downloads=120_000, likes=85
        ),
    ]
    return ZooRecipe(
        org="hfsearch-demo",
        domains=domains,
        candidates=candidates,
        task="text-classification",
        label_names=["negative", "positive"],
        target="uci_yelp",
        license="cc-by-4.0",
    )
