"""Loading the target split and candidates' source data with `datasets`.

`--dataset` may be a Hub id (resolved against ``HF_ENDPOINT``), a local registry id (``--hub-dir``), a folder of
csv/jsonl/parquet files, a single data file, or a folder written by ``Dataset.save_to_disk``.

Every problem with the data ends as a one-line `DatasetError` that names the file (and the line or byte when known)
and the fix: undecodable bytes (pass ``encoding``), malformed csv/json/parquet, a folder without data files, an
empty file. Ids are checked (`hfsearch.hub.ids`) before any folder is opened or request sent; in ``hub_dir`` mode a
``--dataset`` is a registry id or a relative path without ``..``.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import datasets
from datasets import Dataset, DatasetDict

from ..errors import DatasetError, HFSearchError, HubError, RepoIdError
from ..hub.ids import check_repo_id, repo_id_problem, unsafe_path_problem
from ..hub.layout import DATASETS, repo_dir
from ..utils.logging import get_logger
from . import files as datafiles
from .validate import first_invalid_utf8, normalise_mixed_columns, origin, set_origin

logger = get_logger(__name__)

_FILE_BUILDERS = {**datafiles.TABULAR, ".txt": "text"}
#: Builders that read text and accept an ``encoding``.
_TEXT_BUILDERS = ("csv", "json", "text")


def _is_save_to_disk(folder: Path) -> bool:
    return (folder / "dataset_dict.json").is_file() or (folder / "state.json").is_file()


def _load_local(path: Path, config: str | None, encoding: str | None) -> DatasetDict:
    if path.is_file():
        builder = _FILE_BUILDERS.get(path.suffix.lower())
        if builder is None:
            raise DatasetError(
                f"Unsupported data file {str(path)!r} ({path.suffix or 'no extension'}): use csv, tsv, json, jsonl, "
                "parquet or arrow."
            )
        if path.stat().st_size == 0:
            raise DatasetError(f"Data file {str(path)!r} is empty: it holds no rows.")
        kwargs: dict[str, Any] = {"delimiter": "\t"} if path.suffix.lower() == ".tsv" else {}
        if kwargs and _quotes_are_text(path, encoding):
            kwargs["quoting"] = csv.QUOTE_NONE
        if encoding is not None:
            kwargs["encoding"] = _encoding_for([builder], encoding, path)
        dd = _load(builder, data_files={"train": str(path)}, _files=[path], _encoding=encoding, **kwargs)
        return _checked(dd, str(path), {"train": [path]}, encoding, single_file=True)
    if _is_save_to_disk(path):
        try:
            loaded = datasets.load_from_disk(str(path))
        except Exception as exc:  # noqa: BLE001 - a broken save_to_disk folder
            raise DatasetError(f"Cannot read the saved dataset {str(path)!r}: {datafiles.first_line(exc)}") from None
        dd = loaded if isinstance(loaded, DatasetDict) else DatasetDict({"train": loaded})
        return _checked(dd, str(path), {}, encoding)
    found = datafiles.check_folder(path)
    kwargs = {}
    if encoding is not None:
        builders = sorted({_FILE_BUILDERS.get(f.suffix.lower(), "other") for f in found})
        kwargs["encoding"] = _encoding_for(builders, encoding, path)
    dd = _load(str(path), name=config, _files=found, _encoding=encoding, **kwargs)
    return _checked(dd, str(path), datafiles.split_files(path), encoding)


def _quotes_are_text(path: Path, encoding: str | None) -> bool:
    """Whether a TSV file's quote characters are text, not quoting: it has some, and read with none of them quoting,
    every line has the header's number of fields. A tweet starting with ``"`` would otherwise open a quoted field
    that swallows the lines after it, without an error."""
    try:
        with path.open(encoding=encoding or "utf-8-sig", errors="replace", newline="") as fh:
            text = fh.read()
    except (OSError, LookupError):
        return False
    if '"' not in text:
        return False
    rows = [r for r in csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE) if r]
    return bool(rows) and all(len(r) == len(rows[0]) for r in rows)


def _encoding_for(builders: list[str], encoding: str, path: Path) -> str:
    name = datafiles.check_codec(encoding)
    if any(b not in _TEXT_BUILDERS for b in builders):
        raise DatasetError(
            f"An encoding applies to csv, tsv, json, jsonl and txt files only; {str(path)!r} holds other files "
            f"({', '.join(b for b in builders if b not in _TEXT_BUILDERS)}): drop the encoding."
        )
    return name


def _load(*args: Any, _files: list[Path], _encoding: str | None, **kwargs: Any) -> DatasetDict:
    """`load_dataset_quiet` for local files: a failure is explained by finding the broken file and line."""
    try:
        return load_dataset_quiet(*args, **kwargs)
    except HFSearchError:
        for f in _files:  # which file, which line (an undecodable byte raises its own message)
            problem = datafiles.diagnose(f, _encoding)
            if problem is not None:
                raise DatasetError(f"Cannot read {str(f)!r}: {problem}; fix the file or remove it.") from None
        raise


def _checked(
    dd: DatasetDict, name: str, split_files: dict[str, list[Path]], encoding: str | None, *, single_file: bool = False
) -> DatasetDict:
    """Every split: mixed-type text columns made text, undecodable text reported, its origin recorded."""
    out = {}
    for split, ds in dd.items():
        ds = normalise_mixed_columns(ds)
        # only the JSON reader stores bytes without validating them (csv and text decode; parquet writers validate)
        bad = first_invalid_utf8(ds) if ds.info.builder_name == "json" else None
        if bad is not None:
            for f in split_files.get(split, []):
                if f.suffix.lower() in datafiles.TEXT_SUFFIXES:
                    datafiles.check_encoding(f, encoding)  # raises with the file, offset and line
            col, row = bad
            raise DatasetError(
                f"Column {col!r} of {name} (split {split!r}) has text that is not valid UTF-8 at row {row + 1}; "
                "pass the files' encoding (--encoding latin-1, cp1252…) or save them as UTF-8."
            )
        files = split_files.get(split, [])
        if single_file:
            where = name
        elif len(files) == 1:
            where = str(files[0])
        else:
            where = f"{name} (split {split!r})"
        out[split] = set_origin(ds, where)
    return DatasetDict(out)


def load_dataset_quiet(*args: Any, **kwargs: Any) -> DatasetDict:
    """`datasets.load_dataset` with its errors turned into one-line hfsearch errors."""
    name = args[0] if args else kwargs.get("path")
    try:
        with _quiet_datasets_errors():
            loaded = datasets.load_dataset(*args, **kwargs)
    except HFSearchError:
        raise
    except FileNotFoundError as exc:  # datasets raises DatasetNotFoundError (a FileNotFoundError subclass)
        raise DatasetError(f"Dataset {name!r} not found: {_first_line(exc)}") from None
    except ConnectionError as exc:
        raise HubError(f"Cannot reach the Hub to load dataset {name!r}: {_first_line(exc)}") from None
    except ValueError as exc:
        configs = re.search(r"available configs: (\[[^\]]*\])", str(exc))
        if "Config name is missing" in str(exc) and configs:  # datasets puts the choices on a second line
            raise DatasetError(
                f"Dataset {name!r} has several configs: pass --config, one of {configs.group(1)}."
            ) from None
        raise DatasetError(f"Cannot load dataset {name!r}: {_first_line(exc)}") from None
    except OSError as exc:
        raise HubError(f"Cannot load dataset {name!r}: {_first_line(exc)}") from None
    except Exception as exc:  # noqa: BLE001 - DatasetGenerationError, StopIteration…: a data problem, in one line
        cause = datafiles.root_cause(exc)
        raise DatasetError(f"Cannot read dataset {name!r}: {type(cause).__name__}: {_first_line(cause)}") from None
    if not isinstance(loaded, DatasetDict):
        loaded = DatasetDict({"train": loaded})
    return loaded


@contextmanager
def _quiet_datasets_errors() -> Iterator[None]:
    """`datasets` logs a broken file at ERROR level before raising; the error is reported once, by hfsearch, in one
    line (unless logging is verbose: INFO or lower)."""
    log = logging.getLogger("datasets")
    level = log.level
    if log.getEffectiveLevel() > logging.INFO:
        log.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        log.setLevel(level)


def _first_line(exc: BaseException) -> str:
    return datafiles.first_line(exc)


def load_dataset_dict(
    dataset: str,
    *,
    config: str | None = None,
    hub_dir: str | None = None,
    encoding: str | None = None,
    local: bool | None = None,
) -> DatasetDict:
    """Load every split of `dataset` (see module docstring for what `dataset` may be).

    Args:
        dataset (`str`): a Hub id, a local registry id, or a local data file or folder.
        config (`str`, *optional*): the dataset's config name.
        hub_dir (`str`, *optional*): a local registry laid out like the Hub; `dataset` is then a registry id, or a
            relative path without ``..`` (absolute paths, ``..``, ``~``, URLs are refused before any file access).
        encoding (`str`, *optional*): encoding of csv/json/jsonl/txt files (default UTF-8).
        local (`bool`, *optional*): ``True``: `dataset` is a local path chosen on purpose (an upload), in any mode;
            ``False``: `dataset` is an id only (e.g. one declared by a model card), never a local path;
            ``None`` (default): a local path if one exists (outside `hub_dir` mode), else an id.

    Raises:
        `RepoIdError`: `dataset` is not a safe id where an id is expected.
        `DatasetError`: the dataset does not exist or cannot be read (one line naming the file and the fix).
        `HubError`: the endpoint cannot be reached.

    Example:

    ```python
    >>> dd = load_dataset_dict("hfsearch/resources/data/sentiment/uci_yelp")
    >>> sorted(dd)
    ['test', 'train']
    ```
    """
    if not dataset or not str(dataset).strip():
        raise DatasetError("No dataset given: pass a Hub dataset id or a local path.")
    if encoding is not None:
        datafiles.check_codec(encoding)
    if local is True:
        path = Path(os.path.expanduser(dataset))
        if not path.exists():
            raise DatasetError(f"Data file or folder {dataset!r} not found.")
        return _load_local(path, config, encoding)
    if local is False:
        check_repo_id(dataset, "dataset")
    if hub_dir is not None:
        return _load_from_registry(dataset, hub_dir, config, encoding, allow_path=local is None)
    if local is None:
        path = Path(os.path.expanduser(dataset))
        if path.exists():
            return _load_local(path, config, encoding)
        why = repo_id_problem(dataset)
        if why is not None:  # neither a path nor an id: never sent to an endpoint
            raise DatasetError(
                f"Dataset {dataset!r} not found: no such local file or folder, and not a Hub id ({why})."
            )
    elif os.path.lexists(dataset):  # `datasets` would read that local folder instead of the Hub repo
        raise DatasetError(
            f"Dataset id {dataset!r} is also a local path in {os.getcwd()!r}; an id is never read from the disk: "
            "run from another folder."
        )
    kwargs = {"encoding": datafiles.check_codec(encoding)} if encoding is not None else {}
    dd = load_dataset_quiet(dataset, name=config, **kwargs)
    return _checked(dd, dataset, {}, encoding)


def _load_from_registry(
    dataset: str, hub_dir: str, config: str | None, encoding: str | None, *, allow_path: bool
) -> DatasetDict:
    """`dataset` in ``hub_dir`` mode: a registry id, else (when allowed) a relative local path without ``..``."""
    why = unsafe_path_problem(dataset)
    if why is not None:  # before any file access
        raise RepoIdError(
            f"Refused dataset {dataset!r} with --hub-dir: {why}; give a registry id (org/name) or a path relative to "
            "the current folder."
        )
    if repo_id_problem(dataset) is None:
        folder = repo_dir(hub_dir, dataset, DATASETS)
        if folder.is_dir():
            return _load_local(folder, config, encoding)
    if allow_path and Path(dataset).exists():
        return _load_local(Path(dataset), config, encoding)
    raise DatasetError(f"Dataset {dataset!r} not found in the local registry {hub_dir!r}.")


def choose_split(
    dd: DatasetDict, split: str | None, *, prefer: tuple[str, ...] = ("test",), name: str | None = None
) -> str:
    """The split to use: `split` if given (must exist), else the first of `prefer` present, else the first split."""
    names = list(dd.keys())
    of = f" of {name}" if name else ""
    if not names:
        raise DatasetError(f"The dataset{of} has no split.")
    if split is not None:
        if split not in dd:
            raise DatasetError(
                f"Unknown split {split!r}; available: {', '.join(names)} (in {name or 'the dataset'}); "
                "choose one with --split."
            )
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
    encoding: str | None = None,
    local: bool | None = None,
) -> tuple[Dataset, str]:
    """Load one split of `dataset`; returns ``(Dataset, split_name)`` (arguments as in `load_dataset_dict`).

    Raises:
        `DatasetError`: also when the split has no rows.
    """
    dd = load_dataset_dict(dataset, config=config, hub_dir=hub_dir, encoding=encoding, local=local)
    name = choose_split(dd, split, prefer=prefer, name=dataset)
    ds = dd[name]
    if len(ds) == 0:
        raise DatasetError(
            f"Split {name!r} of {origin(ds)} has no rows: add data or choose another split with --split."
        )
    return ds, name
