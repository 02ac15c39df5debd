"""One table schema for every result hfsearch shows, and one way to format a value.

A `Table` is what the CLI prints, the Space shows and the benchmark reports: columns that know their kind (how
their values are formatted, whether higher is better, whether they may be dropped when space is short) and rows
of plain values. `hfsearch.render.formats` turns it into text, markdown, csv, json or html.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from ..errors import ConfigError

#: How a column's values are formatted: ``score`` 4 significant digits, ``metric`` 3 decimals (accuracies),
#: ``percent`` a share as ``87%``, ``interval`` a ``(low, high)`` pair, ``count`` a large count as ``9.4k``,
#: ``int``, ``id`` (never cut), ``text``.
ColumnKind = Literal["id", "text", "int", "score", "metric", "percent", "interval", "count"]
NUMERIC_KINDS = ("int", "score", "metric", "percent", "interval", "count")
MISSING = "–"


def format_value(value: Any, kind: ColumnKind = "text") -> str:
    """`value` as a table cell: ``–`` when missing (``None``, NaN), else formatted by `kind` (see `ColumnKind`)."""
    if value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value))):
        return MISSING
    if kind == "interval":
        if not isinstance(value, (tuple, list)) or len(value) != 2 or any(v is None for v in value):
            return MISSING
        return f"[{format_value(value[0], 'metric')}, {format_value(value[1], 'metric')}]"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        if kind == "metric":
            return f"{value:.3f}"
        if kind == "percent":
            return f"{100 * value:.0f}%"
        if kind == "count":
            for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
                if abs(value) >= size:
                    return f"{value / size:.1f}{unit}"
            return f"{value:g}"
        if kind == "int" and float(value).is_integer():
            return str(int(value))
        if isinstance(value, float):
            return f"{value:.4g}"
        return str(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


@dataclass
class Column:
    """A column of a `Table`.

    Args:
        key (`str`): the key of the column's values in each row.
        title (`str`, *optional*): the header (default: `key`).
        kind (`str`): how values are formatted (`ColumnKind`).
        higher_is_better (`bool`, *optional*): for scores: the direction (shown as ↑ / ↓ where there is room).
        description (`str`): what the column means (a tooltip in html).
        keep (`bool`): never dropped when the table is too wide (ranks and model ids).
        link (`Callable[[Any], str | None]`, *optional*): a web address for a cell value (html and markdown).
        mark (`str`): a sign after the header in html (``★`` on the column that orders the ranking).
    """

    key: str
    title: str | None = None
    kind: ColumnKind = "text"
    higher_is_better: bool | None = None
    description: str = ""
    keep: bool = False
    link: Callable[[Any], str | None] | None = None
    mark: str = ""

    @property
    def header(self) -> str:
        return self.title or self.key

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS


@dataclass
class Table:
    """Rows of values under typed columns, with a title, a caption and notes.

    Args:
        columns (`list[Column]`): the columns, in order.
        rows (`list[dict]`): one mapping per row, ``column key -> value``.
        title (`str`): shown above the table.
        caption (`str`): shown under it (e.g. the recommendation).
        notes (`list[str]`): lines shown after it (skipped candidates, missing scores, warnings).
        highlight (`set[int]`): indices of rows to emphasise (the recommended model).
        tips (`dict[tuple[int, str], str]`): hover text of a cell (html), e.g. why a score is missing.
        badges (`dict[tuple[int, str], str]`): small text after a cell's value (html), e.g. a rank ``#2``.
    """

    columns: list[Column]
    rows: list[dict[str, Any]]
    title: str = ""
    caption: str = ""
    notes: list[str] = field(default_factory=list)
    highlight: set[int] = field(default_factory=set)
    tips: dict[tuple[int, str], str] = field(default_factory=dict)
    badges: dict[tuple[int, str], str] = field(default_factory=dict)

    def select(self, keys: Sequence[str] | None) -> Table:
        """The table with only the columns `keys` (in that order; ``None``: all), e.g. from ``--columns``.

        Raises:
            `ConfigError`: an unknown column (with a did-you-mean).
        """
        if not keys:
            return self
        by_key = {c.key: c for c in self.columns}
        chosen = []
        for key in keys:
            if key not in by_key:
                close = difflib.get_close_matches(key, list(by_key), n=1, cutoff=0.6)
                hint = f" Did you mean {close[0]!r}?" if close else f" Columns: {', '.join(by_key)}."
                raise ConfigError(f"--columns: unknown column {key!r}.{hint}")
            chosen.append(by_key[key])
        return replace(self, columns=chosen)

    def cells(self, row: dict[str, Any]) -> list[str]:
        """The formatted cells of one row."""
        return [format_value(row.get(c.key), c.kind) for c in self.columns]
