"""Recipes → a local registry of real, trained checkpoints (the *zoo*), rebuilt only where a recipe changed.

A [`ZooRecipe`] names the domains (datasets with train/test splits) and the candidate models to train on them.
[`build_zoo`] writes every domain as a dataset repository and every candidate as a model repository laid out like
the Hub (see `hfsearch.hub.layout`). Each model folder keeps ``hfsearch_recipe.json`` with the hash of everything
that determines its weights (recipe fields, architecture parameters, effective training settings, data content,
library and code versions); a candidate whose hash is unchanged is not trained again.

```python
>>> from hfsearch.zoo import build_zoo, demo_recipe
>>> built = build_zoo(demo_recipe(), "/tmp/demo-registry")  # about a minute on 2 cores, then instant
>>> [(m.repo_id, round(m.source_accuracy, 2)) for m in built][:1]
[('hfsearch-demo/minilm-uci-amazon', 0.89)]
```
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import torch
import transformers

from ..errors import HFSearchError
from ..hub.layout import DATASETS, MODELS, repo_dir
from ..utils.logging import get_logger, progress_enabled, third_party_progress
from .architectures import Architecture, Row, get_architecture
from .card import ModelCardInfo, render_dataset_card, render_model_card
from .train import TrainConfig, fit, predict, select_rows, torch_threads

logger = get_logger(__name__)

#: Bump when a change of this package changes what a recipe trains (invalidates every cached model).
CODE_VERSION = "1"
#: File in each model folder recording the recipe hash and the evaluation.
RECIPE_FILE = "hfsearch_recipe.json"
#: TrainConfig fields hashed only when not None (added later; see `recipe_hash`).
_HASHED_WHEN_SET = ("class_weight",)
#: Folder under the registry root where models are trained before they replace the old folder.
_TMP_DIR = ".zoo-tmp"


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


def build_zoo(recipe: ZooRecipe, root: str | Path, force: bool = False) -> list[BuiltModel]:
    """Write the recipe's datasets and models under registry `root`, training only the candidates that changed.

    Args:
        recipe ([`ZooRecipe`]): what to build.
        root (`str` or `Path`): registry root (``models/`` and ``datasets/`` are created in it).
        force (`bool`, *optional*): retrain every candidate even if its hash is unchanged.

    Returns:
        `list[BuiltModel]`: one entry per candidate, in recipe order.
    """
    recipe.validate()
    root = Path(root)
    data = {d.name: d.load() for d in recipe.domains}
    for spec in recipe.domains:
        _write_dataset_repo(recipe, spec, data[spec.name], root)
    fingerprints = {name: _fingerprint(splits) for name, splits in data.items()}
    with third_party_progress(progress_enabled()):  # no "Loading weights" bars in redirected output
        return [_build_candidate(recipe, c, data, fingerprints, root, force) for c in recipe.candidates]


def _build_candidate(
    recipe: ZooRecipe,
    candidate: CandidateRecipe,
    data: dict[str, dict[str, list[Row]]],
    fingerprints: dict[str, str],
    root: Path,
    force: bool,
) -> BuiltModel:
    repo_id = f"{recipe.org}/{candidate.name}"
    folder = repo_dir(root, repo_id, MODELS)
    arch = get_architecture(candidate.task or recipe.task, candidate.arch, candidate.params)
    config = arch.train_defaults.override(
        epochs=candidate.epochs,
        learning_rate=candidate.learning_rate,
        batch_size=candidate.batch_size,
        class_weight=candidate.class_weight,
    )
    label_names = _label_names(recipe, candidate, arch, data)
    key = recipe_hash(candidate, arch, config, label_names, {s: fingerprints[s] for s in candidate.sources})
    record = None if force else _cached_record(folder, key)
    if record is None:
        record = _train_candidate(recipe, candidate, arch, config, label_names, data, root, key)
        trained = True
    else:
        logger.info("%s is up to date", repo_id)
        trained = False
    _write_metadata(recipe, candidate, arch, label_names, record, folder)
    metrics = record["metrics"]
    return BuiltModel(
        repo_id=repo_id,
        path=folder,
        source_accuracy=metrics["all"][arch.primary_metric],
        metrics=metrics,
        train_seconds=record["train_seconds"],
        trained=trained,
    )


def recipe_hash(
    candidate: CandidateRecipe,
    arch: Architecture,
    config: TrainConfig,
    label_names: list[str],
    data_fingerprints: dict[str, str],
) -> str:
    """Hash of everything that determines a candidate's weights and evaluation (not its name or popularity).

    Training settings added after a release enter the hash only when set (``class_weight``), so the models built
    before keep their hash and are not retrained.
    """
    train = {k: v for k, v in asdict(config).items() if not (k in _HASHED_WHEN_SET and v is None)}
    payload = {
        "code": CODE_VERSION,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "arch": arch.spec(),
        "train": train,
        "sources": candidate.sources,
        "seed": candidate.seed,
        "label_noise": candidate.label_noise,
        "max_train_rows": candidate.max_train_rows,
        "label_names": label_names,
        "data": data_fingerprints,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _label_names(
    recipe: ZooRecipe, candidate: CandidateRecipe, arch: Architecture, data: dict[str, dict[str, list[Row]]]
) -> list[str]:
    names = candidate.label_names or recipe.label_names
    if names:
        return list(names)
    rows = [row for s in candidate.sources for split in ("train", "test") for row in data[s][split]]
    return [f"LABEL_{i}" for i in range(arch.num_labels(rows))]


def _cached_record(folder: Path, key: str) -> dict[str, Any] | None:
    path = folder / RECIPE_FILE
    if not (path.is_file() and (folder / "config.json").is_file() and any(folder.glob("*.safetensors"))):
        return None
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError:
        return None
    return record if record.get("hash") == key else None


def _train_candidate(
    recipe: ZooRecipe,
    candidate: CandidateRecipe,
    arch: Architecture,
    config: TrainConfig,
    label_names: list[str],
    data: dict[str, dict[str, list[Row]]],
    root: Path,
    key: str,
) -> dict[str, Any]:
    """Train, evaluate and save one candidate; returns the record stored in ``hfsearch_recipe.json``."""
    repo_id = f"{recipe.org}/{candidate.name}"
    available = [row for s in candidate.sources for row in data[s]["train"]]
    rows = select_rows(available, candidate.max_train_rows, candidate.seed)
    rows = arch.with_label_noise(rows, candidate.label_noise, len(label_names), candidate.seed)
    logger.info("Training %s (%s) on %d rows of %s", repo_id, arch.name, len(rows), ", ".join(candidate.sources))
    with torch_threads(arch.torch_threads):
        torch.manual_seed(candidate.seed)
        model, processor = arch.build(rows, label_names)
        collate = arch.collator(processor)
        features, lengths = arch.encode(processor, rows, config.max_length)
        stats = fit(model, features, lengths, collate, config, candidate.seed, desc=candidate.name)
        tests = {recipe.dataset_id(s): data[s]["test"] for s in candidate.sources}
        pooled = [row for test in tests.values() for row in test]
        features, lengths = arch.encode(processor, pooled, config.max_length)
        logits = predict(model, features, lengths, collate, config.eval_batch_size)
    metrics: dict[str, dict[str, float]] = {}
    start = 0
    for dataset_id, test in tests.items():
        metrics[dataset_id] = arch.metrics(logits[start : start + len(test)], test)
        start += len(test)
    metrics["all"] = arch.metrics(logits, pooled)
    logger.info(
        "%s: %s %.4f in %.1fs", repo_id, arch.primary_metric, metrics["all"][arch.primary_metric], stats.seconds
    )
    record = {
        "hash": key,
        "code_version": CODE_VERSION,
        "recipe": asdict(candidate),
        "architecture": arch.spec(),
        "train_config": asdict(config),
        "label_names": label_names,
        "train_rows": len(rows),
        "available_train_rows": len(available),
        "train_seconds": round(stats.seconds, 3),
        "final_loss": round(stats.final_loss, 6),
        "metrics": metrics,
    }
    _save_atomically(arch, model, processor, record, root, repo_dir(root, repo_id, MODELS))
    return record


def _save_atomically(
    arch: Architecture, model: Any, processor: Any, record: dict[str, Any], root: Path, folder: Path
) -> None:
    """Save into a private scratch folder, then swap it in, so a crash never leaves a half-written model."""
    scratch_root = root / _TMP_DIR
    scratch_root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{folder.name}-", dir=scratch_root))
    tmp.chmod(0o755)  # mkdtemp makes it private; the model folder is not
    try:
        arch.save(model, processor, tmp)
        (tmp / RECIPE_FILE).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
        if folder.exists():
            shutil.rmtree(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        with contextlib.suppress(OSError):  # still used by another build
            scratch_root.rmdir()


def _write_metadata(
    recipe: ZooRecipe,
    candidate: CandidateRecipe,
    arch: Architecture,
    label_names: list[str],
    record: dict[str, Any],
    folder: Path,
) -> None:
    """(Re)write the model card and ``hub.json``; files whose content is unchanged are left untouched."""
    metrics = {k: v for k, v in record["metrics"].items() if k != "all"}
    config = record["train_config"]
    training = {
        "training_rows": f"{record['train_rows']} of {record['available_train_rows']}",
        "epochs": config["epochs"],
        "learning_rate": config["learning_rate"],
        "batch_size": config["batch_size"],
        "max_length": config["max_length"],
        "seed": candidate.seed,
        "label_noise": _describe_noise(candidate.label_noise),
        **({"class_weight": config["class_weight"]} if config.get("class_weight") else {}),
        "training_seconds": record["train_seconds"],
    }
    if arch.params:
        training["size_parameters"] = arch.params
    info = ModelCardInfo(
        repo_id=f"{recipe.org}/{candidate.name}",
        task=arch.task,
        architecture=arch.name,
        description=arch.description,
        datasets=list(metrics),
        results=metrics,
        training=training,
        label_names=label_names,
        license=recipe.license,
        language=recipe.language,
        tags=list(arch.tags),
        base_model=arch.base_model,
    )
    _write_if_changed(folder / "README.md", render_model_card(info))
    hub = {k: v for k, v in (("downloads", candidate.downloads), ("likes", candidate.likes)) if v is not None}
    if hub:
        _write_if_changed(folder / "hub.json", json.dumps(hub, sort_keys=True) + "\n")
    elif (folder / "hub.json").exists():
        (folder / "hub.json").unlink()


def _describe_noise(fraction: float) -> str:
    if not fraction:
        return "none"
    return f"{fraction:g} (this fraction of training labels was replaced by another class: a deliberately worse model)"


def _write_dataset_repo(recipe: ZooRecipe, spec: DomainSpec, splits: dict[str, list[Row]], root: Path) -> None:
    folder = repo_dir(root, recipe.dataset_id(spec.name), DATASETS)
    folder.mkdir(parents=True, exist_ok=True)
    for split, rows in splits.items():
        _write_if_changed(folder / f"{split}.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    card = render_dataset_card(
        recipe.dataset_id(spec.name),
        task=recipe.task,
        split_sizes={split: len(rows) for split, rows in splits.items()},
        license=spec.license,
        source=spec.source_note(),
        language=recipe.language,
    )
    _write_if_changed(folder / "README.md", card)


def _write_if_changed(path: Path, text: str) -> None:
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    path.write_text(text, encoding="utf-8")


def _read_jsonl(path: Path) -> list[Row]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _fingerprint(splits: dict[str, list[Row]]) -> str:
    """Content hash of a domain's splits."""
    h = hashlib.sha256()
    for split in sorted(splits):
        h.update(split.encode())
        for row in splits[split]:
            h.update(json.dumps(row, sort_keys=True, ensure_ascii=False).encode())
    return h.hexdigest()


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
