"""Local data files: which files a folder holds, and what exactly is wrong with one that does not load.

`datasets` reports a broken file as "An error occurred while generating the dataset" (or reads undecodable bytes
without a word); these helpers find the file, the line or byte and say how to fix it, in one line. They run on the
failure path only, except `check_encoding`, which reads a text file once.
"""

from __future__ import annotations

import codecs
import csv
import json
from pathlib import Path

from ..errors import DatasetError

#: Extensions of tabular data files and the `datasets` builder that reads each.
TABULAR = {
    ".csv": "csv",
    ".tsv": "csv",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
    ".parquet": "parquet",
    ".arrow": "arrow",
}
#: Files read as text (an ``encoding`` applies to them).
TEXT_SUFFIXES = (".csv", ".tsv", ".json", ".jsonl", ".ndjson", ".txt")
#: `datasets` builders whose files hfsearch reads from a folder (tables, plain text, CoNLL, image folders).
_FOLDER_BUILDERS = {"csv", "json", "parquet", "arrow", "text", "conll", "imagefolder"}
#: What a user is told to put in a folder.
SUPPORTED = "csv, tsv, json, jsonl, parquet or arrow files (image files for image tasks)"
_CHUNK = 1 << 20


def _extension_builders() -> dict[str, str]:
    try:
        from datasets.packaged_modules import _EXTENSION_TO_MODULE

        found = {ext.lower(): mod for ext, (mod, _) in _EXTENSION_TO_MODULE.items() if mod in _FOLDER_BUILDERS}
    except (ImportError, AttributeError, ValueError):  # a future `datasets` without the table
        found = {}
    return {**found, **TABULAR, ".txt": "text"}


def is_data_file(path: Path) -> bool:
    """Whether `path` has the extension of a data file that `datasets` reads from a folder."""
    return path.suffix.lower() in _extension_builders()


def data_files(folder: Path) -> list[Path]:
    """The data files under `folder` (recursively, hidden files and folders excluded), sorted."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and is_data_file(p) and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def check_folder(folder: Path) -> list[Path]:
    """The data files of `folder`; a one-line `DatasetError` listing what it holds when it has none."""
    found = data_files(folder)
    if found:
        _check_one_format(folder, found)
        return found
    held = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    shown = ", ".join(held[:6]) + (f" and {len(held) - 6} more" if len(held) > 6 else "")
    has = f"it holds only: {shown}" if held else "it is empty"
    raise DatasetError(
        f"Folder {str(folder)!r} holds no data files ({has}); put {SUPPORTED} in it, or pass one data file."
    )


def _check_one_format(folder: Path, found: list[Path]) -> None:
    """`datasets` reads a folder with the builder of its most common format and silently ignores the other files: a
    folder of one csv and two txt files was searched on the licence text. An image folder's ``metadata.*`` file is
    part of it, not another format."""
    builders = _extension_builders()
    image_folder = any(builders[f.suffix.lower()] == "imagefolder" for f in found)
    kinds: dict[str, list[str]] = {}
    for f in found:
        kind = builders[f.suffix.lower()]
        if image_folder and kind in ("csv", "json", "parquet") and f.stem == "metadata":
            continue
        kinds.setdefault(kind, []).append(f.relative_to(folder).as_posix())
    if len(kinds) > 1:
        held = "; ".join(f"{k}: {', '.join(v[:3])}{' …' if len(v) > 3 else ''}" for k, v in sorted(kinds.items()))
        raise DatasetError(
            f"Folder {str(folder)!r} mixes data formats ({held}), and only one of them would be read: keep one "
            "format in it, or pass one data file."
        )


def split_files(folder: Path) -> dict[str, list[Path]]:
    """The data files of each split of `folder`, as `datasets` assigns them by name (``train*``, ``test*``…)."""
    try:
        from datasets.data_files import DataFilesDict, get_data_patterns

        resolved = DataFilesDict.from_patterns(get_data_patterns(str(folder)), base_path=str(folder))
        return {str(split): [Path(f) for f in files] for split, files in resolved.items()}
    except Exception:  # noqa: BLE001 - only used to name files in messages
        return {}


def check_codec(encoding: str | None) -> str:
    """`encoding` (default ``utf-8``) if Python knows it, else a one-line `DatasetError`."""
    name = encoding or "utf-8"
    try:
        codecs.lookup(name)
    except LookupError:
        raise DatasetError(
            f"Unknown encoding {name!r}: give a Python codec name such as utf-8, latin-1 or cp1252."
        ) from None
    return name


def check_encoding(path: Path, encoding: str | None = None) -> None:
    """Raise a one-line `DatasetError` naming the byte offset and line of the first byte `encoding` cannot decode.

    Args:
        path (`Path`): a text data file (csv, tsv, json, jsonl, txt).
        encoding (`str`, *optional*, defaults to `"utf-8"`): the file's encoding.
    """
    name = check_codec(encoding)
    decoder = codecs.getincrementaldecoder(name)()
    start = lines = 0
    with path.open("rb") as fh:
        head = b""
        while True:
            chunk = fh.read(_CHUNK)
            if start == 0:
                head = chunk[:8192]
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                offset = start - pending + exc.start
                data = exc.object if isinstance(exc.object, bytes) else chunk
                line = lines + data[: exc.start].count(b"\n") + 1
                byte = data[exc.start] if exc.start < len(data) else None
                what = f"byte 0x{byte:02x}" if byte is not None else "an incomplete character"
                if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Excel's "Unicode text"
                    hint = "it starts with a UTF-16 byte-order mark: pass --encoding utf-16"
                elif b"\x00" in head and name.replace("-", "").lower() == "utf8":
                    hint = f"it looks binary, not like a {path.suffix.lstrip('.')} file"
                else:
                    hint = "pass its encoding (--encoding latin-1, cp1252…) or save it as UTF-8"
                raise DatasetError(
                    f"{path} is not valid {name} text: {what} at offset {offset} (line {line}) cannot be decoded; "
                    f"{hint}."
                ) from None
            except UnicodeError as exc:  # a decoder's own complaint (utf-16 without a byte-order mark, say)
                raise DatasetError(
                    f"{path} is not valid {name} text: {exc}; pass its encoding (--encoding utf-8, latin-1…)."
                ) from None
            if not chunk:
                return
            lines += chunk.count(b"\n")
            start += len(chunk)


def _diagnose_jsonl(path: Path, encoding: str) -> str | None:
    rows = 0
    with path.open(encoding=encoding) as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line.rstrip("\r\n"))
            except json.JSONDecodeError as exc:
                return f"line {n} is not valid JSON ({exc.msg} at character {exc.pos + 1})"
            if not isinstance(value, dict):
                return f'line {n} is a JSON {type(value).__name__}, not an object ({{"column": value, …}})'
            rows += 1
    return None if rows else "it holds no JSON object (no rows)"


def _diagnose_json(path: Path, encoding: str) -> str | None:
    try:
        with path.open(encoding=encoding) as fh:
            value = json.load(fh)
    except json.JSONDecodeError as exc:
        hint = "; if it has one object per line, name it .jsonl" if exc.msg.startswith("Extra data") else ""
        return f"invalid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg}){hint}"
    if isinstance(value, list):
        bad = next((i for i, v in enumerate(value) if not isinstance(v, dict)), None)
        if not value:
            return "it is an empty list (no rows)"
        if bad is not None:
            return f"item {bad + 1} of the list is a JSON {type(value[bad]).__name__}, not an object"
        return None
    if not isinstance(value, dict):
        return f"it holds a JSON {type(value).__name__}; expected a list of objects or an object of columns"
    return None


def _diagnose_csv(path: Path, encoding: str) -> str | None:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    with path.open(encoding=encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter, strict=True)
        header: list[str] | None = None
        rows = 0
        line = 1
        try:
            for row in reader:
                if header is None:
                    header = row
                elif row and len(row) != len(header):
                    return f"line {line} has {len(row)} fields, the header has {len(header)}"
                else:
                    rows += bool(row)
                line = reader.line_num + 1
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                return f"a quoted field opened on line {line} is never closed"
            return f"line {reader.line_num}: {exc}"
    if header is None:
        return "it is empty"
    return None if rows else f"it has a header line ({', '.join(header)[:60]}) but no data rows"


def _diagnose_parquet(path: Path) -> str | None:
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises ArrowInvalid, OSError…
        return f"not a readable parquet file ({first_line(exc)})"
    return None if meta.num_rows else "it has no rows"


def diagnose(path: Path, encoding: str | None = None) -> str | None:
    """What is wrong with one data file, in a few words (with its line when known), or ``None`` if nothing is found.

    Raises:
        `DatasetError`: the file is a text file with bytes that `encoding` cannot decode (see `check_encoding`).
    """
    suffix = path.suffix.lower()
    try:
        if path.stat().st_size == 0:
            return "it is empty"
        if suffix in TEXT_SUFFIXES:
            check_encoding(path, encoding)
        name = encoding or "utf-8"
        if suffix in (".jsonl", ".ndjson"):
            return _diagnose_jsonl(path, name)
        if suffix == ".json":
            return _diagnose_json(path, name)
        if suffix in (".csv", ".tsv"):
            return _diagnose_csv(path, name)
        if suffix == ".parquet":
            return _diagnose_parquet(path)
    except OSError as exc:
        return f"cannot be read ({first_line(exc)})"
    return None


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type name when it has none)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def root_cause(exc: BaseException) -> BaseException:
    """The innermost exception of a ``raise … from …`` / context chain."""
    seen = {id(exc)}
    while True:
        nxt = exc.__cause__ or exc.__context__
        if nxt is None or id(nxt) in seen:
            return exc
        seen.add(id(nxt))
        exc = nxt
