"""Loading the target split and candidates' source data with `datasets`.

`--dataset` may be a Hub id (resolved against ``HF_ENDPOINT``), a local registry id (``--hub-dir``), a folder of
csv/jsonl/parquet files, a single data file, or a folder written by ``Dataset.save_to_disk``.
"""

from __future__ import annotations

import os
from pathlib import Path

import datasets
from datasets import Dataset, DatasetDict

from ..errors import DatasetError, HubError
from ..hub.layout import DATASETS, repo_dir
from ..utils.logging import get_logger

logger = get_logger(__name__)

_FILE_BUILDERS = {".csv": "csv", ".tsv": "csv", ".json": "json", ".jsonl": "json", ".parquet": "parquet"}


def _is_save_to_disk(folder: Path) -> bool:
    return (folder / "dataset_dict.json").is_file() or (folder / "state.json").is_file()


def _load_local(path: Path, config: str | None) -> DatasetDict:
    if path.is_file():
        builder = _FILE_BUILDERS.get(path.suffix.lower())
        if builder is None:
            raise DatasetError(f"Unsupported data file {str(path)!r}: use csv, jsonl, json or parquet.")
        kwargs = {"delimiter": "\t"} if path.suffix.lower() == ".tsv" else {}
        return load_dataset_quiet(builder, data_files={"train": str(path)}, **kwargs)
    if _is_save_to_disk(path):
        loaded = datasets.load_from_disk(str(path))
        return loaded if isinstance(loaded, DatasetDict) else DatasetDict({"train": loaded})
    return load_dataset_quiet(str(path), name=config)


def load_dataset_quiet(*args, **kwargs) -> DatasetDict:
    """`datasets.load_dataset` with its errors turned into one-line hfsearch errors."""
    name = args[0] if args else kwargs.get("path")
    try:
        loaded = datasets.load_dataset(*args, **kwargs)
    except DatasetError:
        raise
    except FileNotFoundError as exc:  # datasets raises DatasetNotFoundError (a FileNotFoundError subclass)
        raise DatasetError(f"Dataset {name!r} not found: {_first_line(exc)}") from None
    except ValueError as exc:
        raise DatasetError(f"Cannot load dataset {name!r}: {_first_line(exc)}") from None
    except ConnectionError as exc:
        raise HubError(f"Cannot reach the Hub to load dataset {name!r}: {_first_line(exc)}") from None
    except OSError as exc:
        raise HubError(f"Cannot load dataset {name!r}: {_first_line(exc)}") from None
    if not isinstance(loaded, DatasetDict):
        loaded = DatasetDict({"train": loaded})
    return loaded


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def load_dataset_dict(dataset: str, *, config: str | None = None, hub_dir: str | None = None) -> DatasetDict:
    """Load every split of `dataset` (see module docstring for what `dataset` may be).

    Raises:
        `DatasetError`: the dataset does not exist or cannot be read.
        `HubError`: the endpoint cannot be reached.
    """
    if not dataset or not str(dataset).strip():
        raise DatasetError("No dataset given: pass a Hub dataset id or a local path.")
    local = Path(os.path.expanduser(dataset))
    if local.exists():
        return _load_local(local, config)
    if hub_dir is not None:
        folder = repo_dir(hub_dir, dataset, DATASETS)
        if folder.is_dir():
            return _load_local(folder, config)
        raise DatasetError(f"Dataset {dataset!r} not found in the local registry {hub_dir!r}.")
    return load_dataset_quiet(dataset, name=config)


def choose_split(dd: DatasetDict, split: str | None, *, prefer: tuple[str, ...] = ("test",)) -> str:
    """The split to use: `split` if given (must exist), else the first of `prefer` present, else the first split."""
    names = list(dd.keys())
    if not names:
        raise DatasetError("The dataset has no split.")
    if split is not None:
        if split not in dd:
            raise DatasetError(f"Unknown split {split!r}; available: {', '.join(names)}.")
        return split
    for p in prefer:
        if p in dd:
            return p
    return names[0]


def load_split(
    dataset: str,
    *,
    config: str | None = None,
    split: str | None = None,
    hub_dir: str | None = None,
    prefer: tuple[str, ...] = ("test",),
) -> tuple[Dataset, str]:
    """Load one split of `dataset`; returns ``(Dataset, split_name)``."""
    dd = load_dataset_dict(dataset, config=config, hub_dir=hub_dir)
    name = choose_split(dd, split, prefer=prefer)
    return dd[name], name
