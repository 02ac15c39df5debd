"""The one output sink: every command writes results through here (stdout), diagnostics go to stderr."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any, Literal

import pandas as pd

Format = Literal["table", "json", "csv", "markdown"]
FORMATS = ("table", "json", "csv", "markdown")


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def print_table(df: pd.DataFrame, *, title: str | None = None, highlight_first: bool = False, caption: str | None = None) -> None:
    """A rich table on stdout."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, caption=caption, show_lines=False)
    for col in df.columns:
        numeric = pd.api.types.is_numeric_dtype(df[col])
        table.add_column(str(col), justify="right" if numeric else "left", overflow="fold",
                         no_wrap=col in ("model", "name", "scorer"))
    for i, row in enumerate(df.itertuples(index=False)):
        table.add_row(*(_fmt(v) for v in row), style="bold green" if highlight_first and i == 0 else None)
    Console(file=sys.stdout, width=max(120, Console().width)).print(table)


def emit(text: str, output: str | None = None) -> None:
    """Write `text` to `output` (a path) or stdout."""
    if output:
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        Path(output).write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()


def err(message: str) -> None:
    """One line on stderr."""
    sys.stderr.write(message.rstrip() + "\n")
    sys.stderr.flush()


def dumps(obj: Any) -> str:
    return json.dumps(obj, indent=2, default=str)
