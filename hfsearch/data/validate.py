"""Checks of loaded data, cell by cell: mixed-type columns, undecodable text, null / empty / non-text cells.

The loader (`hfsearch.data.loading`) calls `normalise_mixed_columns` and `check_utf8` on every split it returns and
records where the split came from (`set_origin`). Task adapters call `drop_invalid_rows` from their
`TaskAdapter.prepare` hook with the cells *they* cannot use (`null_rows`, `blank_or_non_text_rows`): a few bad
rows are dropped with ONE counted warning; more than `MAX_BAD_SHARE` of the rows stops the search with a one-line
`DatasetError` naming the file, the first offending rows and the fix.
"""

from __future__ import annotations

import json
import weakref

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from datasets import Dataset, Value

from ..errors import DatasetError

#: Largest share of unusable rows that is dropped with a warning; above it the search stops (the data is more
#: likely wrong than dirty: a wrong column, a broken export).
MAX_BAD_SHARE = 0.2
#: How many offending rows a message names.
ROWS_SHOWN = 5

_ORIGINS: weakref.WeakKeyDictionary[Dataset, str] = weakref.WeakKeyDictionary()


def set_origin(ds: Dataset, origin: str) -> Dataset:
    """Remember where `ds` was read from (a file, or a folder and split), for messages about its rows."""
    _ORIGINS[ds] = origin
    return ds


def origin(ds: Dataset) -> str:
    """Where `ds` was read from (`set_origin`), or ``"the data"``."""
    return _ORIGINS.get(ds, "the data")


def column_array(ds: Dataset, column: str) -> pa.ChunkedArray | pa.Array:
    """The Arrow storage of one column, in row order (an indices mapping from ``select`` is applied)."""
    return ds.select_columns([column]).with_format("arrow")[:][column]


# ---- mixed-type columns -----------------------------------------------------------------------------------------
def normalise_mixed_columns(ds: Dataset) -> Dataset:
    """Turn mixed-type JSON columns that mostly hold text into text columns (other cells become null).

    `datasets` stores a JSON column whose values have different types (``"a review"``, ``null``, ``5``) as a `Json`
    feature, which no task takes as text: the column would look absent. When most of its non-null values are
    strings it is a text column with bad cells; those cells become null, so that the task's check drops and counts
    them. Column order is kept; other columns are untouched.
    """
    mixed = [name for name, feat in ds.features.items() if type(feat).__name__ == "Json"]
    for name in mixed:
        stored = column_array(ds, name).to_pylist()  # JSON-encoded cells, None for missing
        values = [None if s is None else json.loads(s) for s in stored]
        n_text = sum(isinstance(v, str) for v in values)
        n_set = sum(v is not None for v in values)
        if n_set == 0 or n_text * 2 <= n_set:
            continue
        order = list(ds.column_names)
        texts = [v if isinstance(v, str) else None for v in values]
        ds = ds.remove_columns(name).add_column(name, texts, feature=Value("string")).select_columns(order)
    return ds


# ---- text that is not valid UTF-8 -------------------------------------------------------------------------------
def _string_like(t: pa.DataType) -> bool:
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return True
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return _string_like(t.value_type)
    return False


def first_invalid_utf8(ds: Dataset) -> tuple[str, int] | None:
    """``(column, row)`` of the first text cell that is not valid UTF-8, or ``None`` (Arrow validation, no copy).

    `datasets` can store undecodable bytes from a JSON file in a string column; they fail only when a row is read.
    """
    table = ds.data.table if hasattr(ds.data, "table") else ds.data
    for name in table.column_names:
        col = table.column(name)
        if not _string_like(col.type):
            continue
        offset = 0
        for chunk in col.chunks:
            try:
                chunk.validate(full=True)
            except pa.ArrowInvalid:
                lo, hi = 0, len(chunk)  # bisect to the first invalid row
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    try:
                        chunk.slice(lo, mid - lo).validate(full=True)
                        lo = mid
                    except pa.ArrowInvalid:
                        hi = mid
                return name, offset + lo
            offset += len(chunk)
    return None


# ---- unusable cells ---------------------------------------------------------------------------------------------
def _is_list(t: pa.DataType) -> bool:
    return pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)


def _rows_with_null_leaf(arr: pa.Array) -> np.ndarray:
    """Indices of the elements of `arr` that are null or (for lists) hold a null at any depth."""
    own = np.flatnonzero(np.asarray(pc.is_null(arr).to_numpy(zero_copy_only=False), dtype=bool))
    if not _is_list(arr.type) or len(arr) == 0:
        return own
    parents = np.asarray(pc.list_parent_indices(arr).to_numpy(zero_copy_only=False), dtype=np.int64)
    inner = _rows_with_null_leaf(arr.flatten())
    return np.union1d(own, parents[inner]) if len(inner) else own


def null_rows(ds: Dataset, column: str) -> np.ndarray:
    """Rows whose cell in `column` is null, or a list holding a null (a series with a gap, a null token)."""
    col = column_array(ds, column)
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    bad = np.zeros(len(col), dtype=bool)
    bad[_rows_with_null_leaf(col)] = True
    return bad


def empty_list_rows(ds: Dataset, column: str) -> np.ndarray:
    """Rows whose list cell in `column` is null or has no element (a sentence without tokens)."""
    col = column_array(ds, column)
    lengths = pc.fill_null(pc.list_value_length(col), 0)
    return np.asarray(lengths.to_numpy(zero_copy_only=False)) == 0


def blank_or_non_text_rows(ds: Dataset, column: str) -> np.ndarray:
    """Rows whose cell in `column` is null, not a string, or only white space."""
    col = column_array(ds, column)
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        return np.ones(len(ds), dtype=bool)
    blank = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(col)), 0)
    return np.asarray(pc.fill_null(blank, True).to_numpy(zero_copy_only=False), dtype=bool)


def _rows_text(rows: np.ndarray) -> str:
    shown = ", ".join(str(int(r) + 1) for r in rows[:ROWS_SHOWN])
    return f"row{'s' if len(rows) > 1 else ''} {shown}{', …' if len(rows) > ROWS_SHOWN else ''}"


def invalid_mask(n: int, bad: dict[str, np.ndarray]) -> np.ndarray:
    """The rows of `n` that any of the per-column `bad` masks marks (what `drop_invalid_rows` drops)."""
    mask = np.zeros(n, dtype=bool)
    for m in bad.values():
        mask |= np.asarray(m, dtype=bool)
    return mask


def drop_invalid_rows(
    ds: Dataset,
    bad: dict[str, np.ndarray],
    *,
    what: str,
    warnings: list[str],
    max_share: float = MAX_BAD_SHARE,
    fix: str = "fix or remove those rows, or choose another column with --column",
) -> Dataset:
    """Drop the rows that `bad` marks, with one counted warning; stop when more than `max_share` of them are bad.

    Args:
        ds (`Dataset`): the loaded split.
        bad (`dict[str, np.ndarray]`): per input column, a boolean mask of its unusable cells.
        what (`str`): what an unusable cell is, for the message (``"an empty or non-text"``).
        warnings (`list[str]`): the one warning is appended here.
        max_share (`float`, *optional*, defaults to `MAX_BAD_SHARE`): largest share of rows that may be dropped
            (``0``: none; any bad cell stops).
        fix (`str`, *optional*): what the user should do, ending the error message.

    Returns:
        `Dataset`: `ds` itself when every row is usable, else the usable rows (order kept).

    Raises:
        `DatasetError`: more than `max_share` of the rows (or all of them) are unusable.

    Example:

    ```python
    >>> ds = Dataset.from_dict({"text": ["good", None, "fine", "ok", "nice"]})
    >>> notes = []
    >>> len(drop_invalid_rows(ds, {"text": blank_or_non_text_rows(ds, "text")}, what="an empty or non-text",
    ...                       warnings=notes, max_share=0.5))
    4
    >>> notes
    ["dropped 1 of 5 rows of the data with an empty or non-text 'text' (row 2)"]
    ```
    """
    n = len(ds)
    if n == 0 or not bad:
        return ds
    mask = invalid_mask(n, bad)
    rows = np.flatnonzero(mask)
    if len(rows) == 0:
        return ds
    cols = " or ".join(repr(c) for c, m in bad.items() if np.any(m))
    where = origin(ds)
    share = len(rows) / n
    if share > max_share or len(rows) == n:
        limit = (
            "every row is"
            if len(rows) == n
            else ("no row may be" if max_share == 0 else f"more than {max_share:.0%} of the rows are")
        )
        raise DatasetError(
            f"{len(rows)} of {n} rows of {where} have {what} {cols} ({_rows_text(rows)}): {limit} unusable; {fix}."
        )
    warnings.append(f"dropped {len(rows)} of {n} rows of {where} with {what} {cols} ({_rows_text(rows)})")
    kept = ds.select(np.flatnonzero(~mask))
    set_origin(kept, where)
    return kept
