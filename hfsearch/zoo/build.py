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
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
import transformers

from ..hub.layout import DATASETS, MODELS, repo_dir
from ..utils.logging import get_logger, progress_enabled, third_party_progress
from .architectures import Architecture, Row, get_architecture
from .card import ModelCardInfo, render_dataset_card, render_model_card
from .recipe import (  # re-exported: public names of this module before the split
    BuiltModel,
    CandidateRecipe,
    DomainSpec,
    ZooRecipe,
)
from .recipe import demo_recipe as demo_recipe  # re-exported
from .recipe import shipped_domain as shipped_domain  # re-exported
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


def _fingerprint(splits: dict[str, list[Row]]) -> str:
    """Content hash of a domain's splits."""
    h = hashlib.sha256()
    for split in sorted(splits):
        h.update(split.encode())
        for row in splits[split]:
            h.update(json.dumps(row, sort_keys=True, ensure_ascii=False).encode())
    return h.hexdigest()
