"""A local folder laid out like the Hub: the *local registry*.

Layout (the same one the test Hub stand-in serves over HTTP)::

    ROOT/
      models/<org>/<name>/      config.json, *.safetensors, tokenizer or processor files,
                                README.md (model card with YAML front matter),
                                hub.json (optional: {"downloads": int, "likes": int})
      datasets/<org>/<name>/    README.md (optional), data files (train.jsonl, test.jsonl, *.parquet, *.csv…)

A model card's front matter uses the Hub's keys: ``pipeline_tag``, ``datasets``, ``license``, ``language``,
``library_name``, ``tags``, ``model-index``.
"""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path
from typing import Any, Iterator

import yaml

MODELS = "models"
DATASETS = "datasets"


def read_front_matter(readme: Path) -> dict[str, Any]:
    """The YAML metadata block of a card (``---`` … ``---``), or ``{}``."""
    if not readme.is_file():
        return {}
    text = readme.read_text(encoding="utf-8")
    if not text.startswith("---"):
        return {}
    end = text.find("\n---", 3)
    if end < 0:
        return {}
    data = yaml.safe_load(text[3:end]) or {}
    return data if isinstance(data, dict) else {}


def iter_repos(root: str | Path, kind: str = MODELS) -> Iterator[tuple[str, Path]]:
    """Yield ``(repo_id, folder)`` for every repository of `kind` under `root`, sorted by id."""
    base = Path(root) / kind
    if not base.is_dir():
        return
    for org in sorted(p for p in base.iterdir() if p.is_dir()):
        for repo in sorted(p for p in org.iterdir() if p.is_dir()):
            yield f"{org.name}/{repo.name}", repo


def repo_dir(root: str | Path, repo_id: str, kind: str = MODELS) -> Path:
    return Path(root) / kind / repo_id


def repo_files(folder: Path) -> list[Path]:
    """Every regular file of a repository, sorted, hidden files excluded."""
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def file_oid(path: Path) -> str:
    """Git-style blob id of a file (what the Hub reports as ``oid`` / ``ETag`` for non-LFS files)."""
    data = path.read_bytes()
    h = hashlib.sha1(f"blob {len(data)}\0".encode())
    h.update(data)
    return h.hexdigest()


def repo_sha(folder: Path) -> str:
    """A 40-hex commit id that changes whenever any file of the repository changes."""
    h = hashlib.sha1()
    for p in repo_files(folder):
        h.update(p.relative_to(folder).as_posix().encode())
        h.update(file_oid(p).encode())
    return h.hexdigest()


def safetensors_param_count(folder: Path) -> dict[str, int] | None:
    """Parameter counts per dtype read from the headers of the ``*.safetensors`` files (no tensor is loaded)."""
    files = sorted(folder.glob("*.safetensors"))
    if not files:
        return None
    counts: dict[str, int] = {}
    for f in files:
        with f.open("rb") as fh:
            (n,) = struct.unpack("<Q", fh.read(8))
            header = json.loads(fh.read(n))
        for name, info in header.items():
            if name == "__metadata__":
                continue
            size = 1
            for dim in info["shape"]:
                size *= int(dim)
            counts[info["dtype"]] = counts.get(info["dtype"], 0) + size
    return counts


def read_hub_json(folder: Path) -> dict[str, Any]:
    p = folder / "hub.json"
    if p.is_file():
        try:
            return json.loads(p.read_text())
        except json.JSONDecodeError:
            return {}
    return {}


def model_info_dict(repo_id: str, folder: Path) -> dict[str, Any]:
    """The JSON the Hub's ``/api/models`` returns for a repository, built from the folder (``expand``-style fields)."""
    card = read_front_matter(folder / "README.md")
    hub = read_hub_json(folder)
    config: dict[str, Any] = {}
    if (folder / "config.json").is_file():
        config = json.loads((folder / "config.json").read_text())
    params = safetensors_param_count(folder)
    tags = list(card.get("tags") or [])
    if config.get("auto_map") and "custom_code" not in tags:
        tags.append("custom_code")
    info: dict[str, Any] = {
        "id": repo_id,
        "modelId": repo_id,
        "sha": repo_sha(folder),
        "pipeline_tag": card.get("pipeline_tag"),
        "library_name": card.get("library_name", "transformers"),
        "tags": tags,
        "downloads": int(hub.get("downloads", 0)),
        "likes": int(hub.get("likes", 0)),
        "private": False,
        "cardData": card,
        "siblings": [{"rfilename": p.relative_to(folder).as_posix()} for p in repo_files(folder)],
        "config": {k: config[k] for k in ("architectures", "model_type", "auto_map") if k in config},
    }
    if params is not None:
        info["safetensors"] = {"parameters": params, "total": sum(params.values())}
    return info
