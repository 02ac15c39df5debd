"""A local folder laid out like the Hub: the *local registry*.

Layout (the same one the test Hub stand-in serves over HTTP)::

    ROOT/
      models/<org>/<name>/      config.json, *.safetensors, tokenizer or processor files,
                                README.md (model card with YAML front matter),
                                hub.json (optional: {"downloads": int, "likes": int})
      datasets/<org>/<name>/    README.md (optional), data files (train.jsonl, test.jsonl, *.parquet, *.csv…)

A model card's front matter uses the Hub's keys: ``pipeline_tag``, ``datasets``, ``license``, ``language``,
``library_name``, ``tags``, ``model-index``. A model may hold evaluation results in ``.eval_results/*.yaml`` and a
benchmark dataset its ``eval.yaml`` (the Hub's formats, see `hfsearch.candidates.reported`).
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from ..utils.logging import get_logger
from .ids import check_repo_id

logger = get_logger(__name__)

MODELS = "models"
DATASETS = "datasets"


def read_front_matter(readme: Path) -> dict[str, Any]:
    """The YAML metadata block of a card (``---`` … ``---``), or ``{}``."""
    if not readme.is_file():
        return {}
    try:
        text = readme.read_text(encoding="utf-8-sig")  # a byte-order mark before "---" is still a card
    except UnicodeDecodeError:  # as a malformed card below: read as a card without metadata
        logger.warning("%s: the card is not UTF-8 text; read as empty", readme)
        return {}
    if not text.startswith("---"):
        return {}
    end = text.find("\n---", 3)
    if end < 0:
        return {}
    try:
        data = yaml.safe_load(text[3:end]) or {}
    except yaml.YAMLError:  # one malformed card must not end a listing: read as a card without metadata
        logger.warning("%s: the card's YAML metadata does not parse; read as empty", readme)
        return {}
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
    """The folder of `repo_id` under `root` (it may not exist).

    The id is checked first (`hfsearch.hub.ids.check_repo_id`): an id with ``..``, an absolute path, a backslash
    or a URL scheme never reaches the file system.

    Raises:
        `RepoIdError`: `repo_id` is not a Hub id.
    """
    check_repo_id(repo_id, "dataset" if kind == DATASETS else "model")
    return Path(root) / kind / repo_id


#: Dot-folders that are part of a repository as the Hub serves it (model evaluation results, see
#: `hfsearch.candidates.reported`); every other file or folder whose name starts with a dot is hidden.
SERVED_DOT_FOLDERS = (".eval_results",)


def is_hidden(rel: Path) -> bool:
    """Whether the repository-relative path `rel` is hidden (a dot-name other than `SERVED_DOT_FOLDERS`)."""
    parts = rel.parts
    return any(part.startswith(".") and not (i == 0 and part in SERVED_DOT_FOLDERS) for i, part in enumerate(parts))


def repo_files(folder: Path) -> list[Path]:
    """Every regular file of a repository, sorted, hidden files excluded (see `is_hidden`)."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and not is_hidden(p.relative_to(folder)))


_OID_CACHE: dict[tuple[str, int, int], str] = {}
#: Files at least this large have their id remembered across processes (`_oid_store`); smaller ones hash in no time.
OID_STORE_MIN_BYTES = 1 << 20
_STORE: dict[str, str] | None = None


def _oid_store_path() -> Path:
    """Where the ids of large files are remembered between processes (beside the output cache)."""
    from .. import constants

    if constants.HFSEARCH_CACHE:
        return Path(constants.HFSEARCH_CACHE) / "file-oids.json"
    from huggingface_hub import cached_assets_path

    return Path(cached_assets_path(library_name=constants.LIBRARY_NAME, namespace="file-oids")) / "file-oids.json"


def _oid_store() -> dict[str, str]:
    global _STORE
    if _STORE is None:
        try:
            data = json.loads(_oid_store_path().read_text(encoding="utf-8"))
            _STORE = {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
        except (OSError, ValueError):
            _STORE = {}
    return _STORE


def _remember(key: str, oid: str) -> None:
    """Add an id to the store (written atomically; a store that cannot be written is only a missed shortcut)."""
    store = _oid_store()
    store[key] = oid
    path = _oid_store_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(store), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass


def file_oid(path: Path) -> str:
    """Git-style blob id of a file (what the Hub reports as ``oid`` / ``ETag`` for non-LFS files).

    The file is hashed in chunks, and the result is remembered per (path, size, modification time): in memory, and
    for large files (weights) also on disk, so that neither serving a registry of large checkpoints nor a search of a
    local registry (``--hub-dir``, whose commit ids are these hashes) re-reads every weight file each time. A file
    modified in the last two seconds is not remembered on disk (its time stamp may not tell a rewrite apart yet).
    """
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    oid = _OID_CACHE.get(key)
    if oid is not None:
        return oid
    stored = f"{key[0]}|{key[1]}|{key[2]}"
    durable = st.st_size >= OID_STORE_MIN_BYTES and time.time() - st.st_mtime > 2
    oid = _oid_store().get(stored) if durable else None
    if oid is None:
        h = hashlib.sha1(f"blob {st.st_size}\0".encode())
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        oid = h.hexdigest()
        if durable:
            _remember(stored, oid)
    _OID_CACHE[key] = oid
    return oid


def repo_sha(folder: Path) -> str:
    """A 40-hex commit id that changes whenever any file of the repository changes."""
    h = hashlib.sha1()
    for p in repo_files(folder):
        h.update(p.relative_to(folder).as_posix().encode())
        h.update(file_oid(p).encode())
    return h.hexdigest()


def last_modified(folder: Path) -> str:
    """The newest modification time of the repository's files, ISO 8601 in UTC as the Hub writes it."""
    stamps = [p.stat().st_mtime for p in repo_files(folder)] or [folder.stat().st_mtime]
    return datetime.fromtimestamp(max(stamps), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def safetensors_param_count(folder: Path) -> dict[str, int] | None:
    """Parameter counts per dtype read from the headers of the ``*.safetensors`` files (no tensor is loaded).

    ``None`` when there is no safetensors file or a header cannot be parsed (the Hub reports no count then).
    """
    files = sorted(folder.glob("*.safetensors"))
    if not files:
        return None
    counts: dict[str, int] = {}
    for f in files:
        # a file that is not safetensors (a Git LFS pointer, a truncated download) has no count: it must not end the
        # listing, and its first 8 bytes must not make us read gigabytes
        try:
            with f.open("rb") as fh:
                (n,) = struct.unpack("<Q", fh.read(8))
                if n > f.stat().st_size - 8:
                    return None
                header = json.loads(fh.read(n))
            if not isinstance(header, dict):
                return None
            for name, info in header.items():
                if name == "__metadata__":
                    continue
                size = 1
                for dim in info["shape"]:
                    size *= int(dim)
                counts[str(info["dtype"])] = counts.get(str(info["dtype"]), 0) + size
        except (OSError, ValueError, struct.error, KeyError, TypeError, AttributeError):
            return None
    return counts


def read_hub_json(folder: Path) -> dict[str, Any]:
    p = folder / "hub.json"
    if p.is_file():
        try:
            data = json.loads(p.read_text())
        except (ValueError, UnicodeDecodeError):
            return {}
        if isinstance(data, dict):  # counts that are not numbers are left out, not a crash of the listing
            return {k: v for k, v in data.items() if k not in ("downloads", "likes") or _count(v)}
    return {}


def _count(v: Any) -> bool:
    try:
        int(v)
    except (TypeError, ValueError):
        return False
    return True


def is_private(folder: Path) -> bool:
    """Whether the repository was created private (``.hub_repo.json``, written by the stand-in's ``create_repo``)."""
    p = folder / ".hub_repo.json"
    try:
        return bool(json.loads(p.read_text()).get("private")) if p.is_file() else False
    except (OSError, ValueError, AttributeError):
        return False


#: The pipeline tag the Hub infers for a ``transformers`` model whose card names none, by its architecture's suffix.
INFERRED_TAGS = {
    "ForSequenceClassification": "text-classification",
    "ForTokenClassification": "token-classification",
    "ForImageClassification": "image-classification",
}


def inferred_pipeline_tag(config: dict[str, Any]) -> str | None:
    """The pipeline tag of a card without one, from ``config.json``'s ``architectures`` (as the Hub infers it)."""
    for arch in config.get("architectures") or []:
        for suffix, tag in INFERRED_TAGS.items():
            if isinstance(arch, str) and arch.endswith(suffix):
                return tag
    return None


def model_info_dict(repo_id: str, folder: Path) -> dict[str, Any]:
    """The JSON the Hub's ``/api/models`` returns for a repository, built from the folder (``expand``-style fields)."""
    card = read_front_matter(folder / "README.md")
    hub = read_hub_json(folder)
    config: dict[str, Any] = {}
    if (folder / "config.json").is_file():
        try:
            loaded = json.loads((folder / "config.json").read_text())
        except (ValueError, UnicodeDecodeError):  # listed as it is; loading the model says what is wrong
            loaded = {}
        config = loaded if isinstance(loaded, dict) else {}
    params = safetensors_param_count(folder)
    raw_tags = card.get("tags") or []
    tags = [raw_tags] if isinstance(raw_tags, str) else [str(t) for t in raw_tags]
    if config.get("auto_map") and "custom_code" not in tags:
        tags.append("custom_code")
    info: dict[str, Any] = {
        "id": repo_id,
        "modelId": repo_id,
        "sha": repo_sha(folder),
        "pipeline_tag": card.get("pipeline_tag") or inferred_pipeline_tag(config),
        "library_name": card.get("library_name", "transformers"),
        "tags": tags,
        "downloads": int(hub.get("downloads", 0)),
        "likes": int(hub.get("likes", 0)),
        "private": is_private(folder),
        "cardData": card,
        "siblings": [{"rfilename": p.relative_to(folder).as_posix()} for p in repo_files(folder)],
        "config": {k: config[k] for k in ("architectures", "model_type", "auto_map") if k in config},
    }
    if params is not None:
        info["safetensors"] = {"parameters": params, "total": sum(params.values())}
    return info


def dataset_info_dict(repo_id: str, folder: Path) -> dict[str, Any]:
    """The JSON the Hub's ``/api/datasets`` returns for a dataset repository, built from the folder."""
    card = read_front_matter(folder / "README.md")
    hub = read_hub_json(folder)
    return {
        "id": repo_id,
        "author": repo_id.split("/")[0],
        "sha": repo_sha(folder),
        "lastModified": last_modified(folder),
        "private": is_private(folder),
        "gated": False,
        "disabled": False,
        "downloads": int(hub.get("downloads", 0)),
        "likes": int(hub.get("likes", 0)),
        "tags": list(card.get("tags") or []),
        "cardData": card,
        "siblings": [{"rfilename": p.relative_to(folder).as_posix()} for p in repo_files(folder)],
    }
