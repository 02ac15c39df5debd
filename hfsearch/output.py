"""The one output sink: every command writes results through here (stdout or a file), diagnostics go to stderr."""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from .render import Table, render
from .render.formats import wrap


def emit(text: str, output: str | None = None) -> None:
    """Write `text` to `output` (a path) or stdout."""
    text = text if text.endswith("\n") else text + "\n"
    if output:
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


def err(message: str) -> None:
    """A message on stderr (errors are one line; table notes may be folded to the terminal width)."""
    sys.stderr.write(message.rstrip() + "\n")
    sys.stderr.flush()


def dumps(obj: Any) -> str:
    return json.dumps(obj, indent=2, default=str)


def terminal_width(stream: Any = None) -> int | None:
    """Columns of the terminal (``COLUMNS`` when set); ``None`` when `stream` (stdout by default) is not a terminal
    and ``COLUMNS`` is not set: output redirected to a file or a pipe keeps every column, with no terminal to fit."""
    if not os.environ.get("COLUMNS") and not (stream or sys.stdout).isatty():
        return None
    return shutil.get_terminal_size((120, 24)).columns


def show_table(table: Table, fmt: str, output: str | None = None) -> None:
    """Write `table` in `fmt`: ``table`` fits the terminal (notes on stderr); other formats carry their notes
    themselves. With `output`, ``table`` is written as markdown."""
    if fmt == "table" and output:
        fmt = "markdown"
    if fmt == "table":
        width = terminal_width()
        emit(render(replace(table, notes=[]), "table", width=width, color=sys.stdout.isatty()))
        note_width = terminal_width(sys.stderr)  # notes go to stderr, which may be redirected on its own
        for note in table.notes:
            err(wrap(note, note_width))
        return
    emit(render(table, fmt), output)  # type: ignore[arg-type]
