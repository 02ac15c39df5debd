"""A `Table` as text for a terminal, markdown, csv, json or html — no optional packages needed."""

from __future__ import annotations

import csv
import html
import io
import json
import math
import textwrap
from dataclasses import replace
from typing import Any, Literal

from .table import MISSING, Table, format_value

Format = Literal["table", "markdown", "csv", "json", "html"]
FORMATS: tuple[str, ...] = ("table", "json", "csv", "markdown", "html")


def render(table: Table, fmt: Format, *, width: int | None = None, color: bool = False) -> str:
    """`table` in format `fmt` (``table`` is the terminal text of `render_text`)."""
    if fmt == "table":
        return render_text(table, width=width, color=color)
    if fmt == "markdown":
        return render_markdown(table)
    if fmt == "csv":
        return render_csv(table)
    if fmt == "json":
        return render_json(table)
    if fmt == "html":
        return render_html(table)
    raise ValueError(f"unknown format {fmt!r}")


# ---- terminal ----------------------------------------------------------------------------------------------------
def fit_columns(table: Table, width: int) -> tuple[Table, list[str]]:
    """Drop columns from the right (never `Column.keep` ones) until the table fits `width` characters.

    Returns:
        ``(table, dropped headers)``.
    """
    dropped: list[str] = []
    current = table
    while _text_width(current) > width:
        droppable = [c for c in current.columns if not c.keep]
        if not droppable:
            break
        last = droppable[-1]
        dropped.insert(0, last.header)
        current = replace(current, columns=[c for c in current.columns if c is not last])
    return current, dropped


def _cell_widths(table: Table) -> list[int]:
    widths = [0] * len(table.columns)
    for row in table.rows:
        for i, cell in enumerate(table.cells(row)):
            widths[i] = max(widths[i], len(cell))
    return widths


def _split_header(header: str, width: int) -> tuple[str, str]:
    """A header wider than its column's cells, on two lines (split at the space that makes them most even), so that
    a long title ("predicted accuracy" over values like 0.835) does not widen its column; ``("", header)`` when it
    fits or has no space."""
    spaces = [i for i, ch in enumerate(header) if ch == " "]
    if len(header) <= width or not spaces:
        return "", header
    cut = min(spaces, key=lambda i: max(i, len(header) - i - 1))
    return header[:cut], header[cut + 1 :]


def _headers(table: Table) -> list[tuple[str, str]]:
    return [_split_header(c.header, w) for c, w in zip(table.columns, _cell_widths(table))]


def _widths(table: Table) -> list[int]:
    return [max(w, len(top), len(bottom)) for w, (top, bottom) in zip(_cell_widths(table), _headers(table))]


def _text_width(table: Table) -> int:
    widths = _widths(table)
    return sum(widths) + 2 * max(len(widths) - 1, 0)


def render_text(table: Table, *, width: int | None = None, color: bool = False) -> str:
    """Aligned columns for a terminal. Model ids are never cut: columns that do not fit `width` are dropped, and a
    note says which (choose them with ``--columns``). `color` emphasises highlighted rows with ANSI bold."""
    dropped: list[str] = []
    if width is not None:
        table, dropped = fit_columns(table, width)
    widths = _widths(table)

    def line(cells: list[str], numeric: list[bool]) -> str:
        parts = [c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric)]
        return "  ".join(parts).rstrip()

    numeric = [c.numeric for c in table.columns]
    out = []
    if table.title:
        out.append(wrap(table.title, width))
    headers = _headers(table)
    if any(top for top, _ in headers):
        out.append(line([top for top, _ in headers], numeric))
    out.append(line([bottom for _, bottom in headers], numeric))
    out.append("  ".join("-" * w for w in widths))
    for i, row in enumerate(table.rows):
        text = line(table.cells(row), numeric)
        out.append(f"\033[1m{text}\033[0m" if color and i in table.highlight else text)
    if not table.rows:
        out.append("(no rows)")
    if table.caption:
        out.append(wrap(table.caption, width))
    if dropped:
        out.append(
            wrap(
                f"(not shown, the terminal is too narrow: {', '.join(dropped)}; choose columns with --columns or "
                "use --format json)",
                width,
            )
        )
    return "\n".join(out)


def wrap(text: str, width: int | None) -> str:
    """`text` folded at spaces to `width` columns, continuation lines indented; model ids and flags are never cut,
    so a word longer than the width keeps its own line. ``None`` (no terminal) leaves it on one line."""
    if width is None or len(text) <= width:
        return text
    return textwrap.fill(
        text, width=max(width, 20), subsequent_indent="  ", break_long_words=False, break_on_hyphens=False
    )


# ---- markdown, csv, json -----------------------------------------------------------------------------------------
def _md(text: Any) -> str:
    return str(text).replace("\n", " ").replace("|", "\\|")


def render_markdown(table: Table) -> str:
    """A GitHub-flavoured markdown table (title as a heading, caption and notes as paragraphs)."""
    out = []
    if table.title:
        out += [f"### {_md(table.title)}", ""]
    out.append("| " + " | ".join(_md(c.header) for c in table.columns) + " |")
    out.append("|" + "|".join("---:" if c.numeric else "---" for c in table.columns) + "|")
    for row in table.rows:
        cells = []
        for c, cell in zip(table.columns, table.cells(row)):
            url = c.link(row.get(c.key)) if c.link and cell != MISSING else None
            cells.append(f"[{_md(cell)}]({url})" if url else _md(cell))
        out.append("| " + " | ".join(cells) + " |")
    if table.caption:
        out += ["", _md(table.caption)]
    if table.notes:
        out += [""] + [f"- {_md(n)}" for n in table.notes]
    return "\n".join(out)


def render_csv(table: Table) -> str:
    """Raw values (not rounded) under the column keys; an interval column becomes ``<key>_low`` and ``<key>_high``."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    header: list[str] = []
    for c in table.columns:
        header += [f"{c.key}_low", f"{c.key}_high"] if c.kind == "interval" else [c.key]
    writer.writerow(header)
    for row in table.rows:
        cells: list[Any] = []
        for c in table.columns:
            value = row.get(c.key)
            if c.kind == "interval":
                pair = value if isinstance(value, (tuple, list)) and len(value) == 2 else (None, None)
                cells += ["" if _missing(v) else v for v in pair]
            else:
                cells.append("" if _missing(value) else _csv_value(value))
        writer.writerow(cells)
    return buf.getvalue()


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _csv_value(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    return value


def render_json(table: Table) -> str:
    """The rows as a JSON list of records (raw values; NaN as null)."""
    rows = [
        {c.key: (None if _missing(row.get(c.key)) else row.get(c.key)) for c in table.columns} for row in table.rows
    ]
    return json.dumps(rows, indent=2, default=str)


# ---- html --------------------------------------------------------------------------------------------------------
def render_html(table: Table) -> str:
    """An html table: linked ids, ↑/↓ on score headers, the highlighted rows marked ``hfs-best``, tooltips on cells
    with a tip (why a value is missing), badges after values (ranks)."""
    head = []
    for c in table.columns:
        arrow = "" if c.higher_is_better is None else (" ↑" if c.higher_is_better else " ↓")
        tip = f' title="{html.escape(c.description, quote=True)}"' if c.description else ""
        mark = f" {html.escape(c.mark)}" if c.mark else ""
        head.append(f"<th{tip}>{html.escape(c.header)}{arrow}{mark}</th>")
    body = []
    for i, row in enumerate(table.rows):
        cells = []
        for c, cell in zip(table.columns, table.cells(row)):
            text = html.escape(cell)
            url = c.link(row.get(c.key)) if c.link and cell != MISSING else None
            if url:
                text = f'<a href="{html.escape(url, quote=True)}" target="_blank" rel="noopener noreferrer">{text}</a>'
            badge = table.badges.get((i, c.key))
            if badge:
                text += f' <small class="hfs-badge">{html.escape(badge)}</small>'
            cell_tip = table.tips.get((i, c.key))
            attrs = f' title="{html.escape(cell_tip, quote=True)}"' if cell_tip else ""
            if cell == MISSING:
                attrs += ' class="hfs-missing"'
            cells.append(f"<td{attrs}>{text}</td>")
        cls = "hfs-best" if i in table.highlight else "hfs-row"
        body.append(f'<tr class="{cls}">' + "".join(cells) + "</tr>")
    caption = f"<caption>{html.escape(table.title)}</caption>" if table.title else ""
    out = (
        f'<table class="hfs-table">{caption}<thead><tr>{"".join(head)}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )
    if table.caption:
        out += f'<p class="hfs-caption">{html.escape(table.caption)}</p>'
    if table.notes:
        out += '<ul class="hfs-notes">' + "".join(f"<li>{html.escape(n)}</li>" for n in table.notes) + "</ul>"
    return out


__all__ = [
    "FORMATS",
    "Format",
    "fit_columns",
    "format_value",
    "render",
    "render_csv",
    "render_html",
    "render_json",
    "render_markdown",
    "render_text",
]
