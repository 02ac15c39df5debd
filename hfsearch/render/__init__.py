"""One renderer for every result: a typed `Table`, shown as terminal text, markdown, csv, json or html."""

from .formats import (
    FORMATS,
    Format,
    fit_columns,
    render,
    render_csv,
    render_html,
    render_json,
    render_markdown,
    render_text,
)
from .table import Column, ColumnKind, Table, format_value

__all__ = [
    "FORMATS",
    "Column",
    "ColumnKind",
    "Format",
    "Table",
    "fit_columns",
    "format_value",
    "render",
    "render_csv",
    "render_html",
    "render_json",
    "render_markdown",
    "render_text",
]
