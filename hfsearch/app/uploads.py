"""Limits on the files a visitor uploads to the app: at most so many bytes and so many rows, checked before the
search reads the file.

Gradio refuses a file over the byte cap while it is still being uploaded (``max_file_size``, passed by
`hfsearch.app.launch`); `check_upload` checks both caps again on the stored file, so an app launched another way is
bounded too. Counting rows streams the file and stops one row past the cap; a file that cannot be parsed is left to
the data loader, whose message names the offending line.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from ..errors import DatasetError


def count_rows(path: str | Path, stop_after: int | None = None) -> int | None:
    """The number of data rows in an uploaded file, or ``None`` when its format is not known or it cannot be parsed.

    Args:
        path (`str` or `Path`): a ``.jsonl``, ``.csv``, ``.tsv``, ``.json`` or ``.parquet`` file.
        stop_after (`int`, *optional*): stop counting once more than this many rows were seen (the result is then
            ``stop_after + 1``).

    Returns:
        `int | None`: rows (blank lines and the csv header are not rows).

    Example:

    ```python
    >>> from pathlib import Path
    >>> _ = Path("/tmp/rows.csv").write_text("text,label\\na,0\\n\\nb,1\\n")
    >>> count_rows("/tmp/rows.csv")
    2
    ```
    """
    path = Path(path)
    suffix = path.suffix.lower()
    limit = stop_after if stop_after is not None else float("inf")
    try:
        if suffix == ".jsonl":
            n = 0
            with path.open("rb") as fh:
                for line in fh:
                    n += bool(line.strip())
                    if n > limit:
                        break
            return n
        if suffix in (".csv", ".tsv"):
            n = -1  # the header
            with path.open(newline="", encoding="utf-8", errors="replace") as fh:
                for record in csv.reader(fh, delimiter="\t" if suffix == ".tsv" else ","):
                    n += any(field.strip() for field in record)
                    if n > limit:
                        break
            return max(n, 0)
        if suffix == ".json":
            with path.open("rb") as fh:
                data = json.load(fh)
            if isinstance(data, list):
                return len(data)
            if isinstance(data, dict):  # columns: {"text": [...], "label": [...]}
                lists = [v for v in data.values() if isinstance(v, list)]
                return len(lists[0]) if lists else None
            return None
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            return int(pq.read_metadata(path).num_rows)
    except Exception:  # noqa: BLE001 - malformed: the data loader reports it with the line
        return None
    return None


def check_upload(path: str | Path, *, max_bytes: int, max_rows: int) -> None:
    """Refuse an uploaded file above the app's caps, before anything else reads it.

    Args:
        path (`str` or `Path`): the stored upload (only its file name is shown to the visitor).
        max_bytes (`int`): the byte cap.
        max_rows (`int`): the row cap.

    Raises:
        `DatasetError`: one line naming the file, its size or rows, the cap and what to do instead.
    """
    path = Path(path)
    name = path.name
    size = os.path.getsize(path)
    if size > max_bytes:
        raise DatasetError(
            f"Uploaded file {name!r} is {_size(size)}; this app accepts uploads up to {_size(max_bytes)}: upload a "
            "sample of your data, or run `hfsearch find` on your own machine."
        )
    rows = count_rows(path, stop_after=max_rows)
    if rows is not None and rows > max_rows:
        raise DatasetError(
            f"Uploaded file {name!r} has more than {max_rows:,} rows, the most this app accepts: upload a sample of "
            "your data (a search reads a sample of it anyway), or run `hfsearch find` on your own machine."
        )


def _size(n: int) -> str:
    """Bytes for people: ``12.5 MB``, ``800 kB``, ``512 bytes`` (decimal units, as Gradio's ``max_file_size``)."""
    if n >= 10**6:
        return f"{n / 10**6:.3g} MB"
    if n >= 10**3:
        return f"{n / 10**3:.3g} kB"
    return f"{n} bytes"
