"""The *Benchmark* tab: a tolerant reader of a ``hfsearch bench`` output folder (tables, plots, results.json)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import constants
from ..render import format_value
from .render import md_escape


@dataclass
class BenchView:
    """What the *Benchmark* tab shows from a ``hfsearch bench`` output folder."""

    status: str
    tables: str = ""
    images: list[tuple[str, str]] = field(default_factory=list)  # (path, caption)
    report: dict[str, Any] | None = None


def _cell(value: Any) -> str:
    """A report value for a table cell: ``mean [low, high]`` for an interval, joined lists, short numbers."""
    if isinstance(value, dict) and "mean" in value:
        mean, low, high = value.get("mean"), value.get("low"), value.get("high")
        if low is None or high is None or low == high:
            return format_value(mean, "score")
        return f"{format_value(mean, 'score')} [{format_value(low, 'score')}, {format_value(high, 'score')}]"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return "…"
    return format_value(value, "score")


def _records_table(records: list[dict[str, Any]], limit: int = 50) -> str:
    keys: list[str] = []
    for r in records[:limit]:
        for k, v in r.items():
            if k not in keys and (not isinstance(v, dict) or "mean" in v):
                keys.append(k)
    if not keys:
        return ""
    lines = ["| " + " | ".join(md_escape(k) for k in keys) + " |", "|" + "---|" * len(keys)]
    for r in records[:limit]:
        lines.append("| " + " | ".join(md_escape(_cell(r.get(k))) for k in keys) + " |")
    if len(records) > limit:
        lines.append(f"\n*… {len(records) - limit} more rows*")
    return "\n".join(lines)


def _report_summary(report: Any, *, with_tables: bool) -> str:
    """A tolerant summary of ``results.json``: the workload, the best scorer and (`with_tables`) the leaderboard."""
    if not isinstance(report, dict):
        return ""
    parts = []
    wl = report.get("workload")
    if isinstance(wl, dict):
        bits = [f"**Workload:** `{md_escape(wl.get('name', '?'))}`"]
        if wl.get("description"):
            bits.append(md_escape(wl["description"]))
        if wl.get("metric"):
            bits.append(f"metric: {md_escape(wl['metric'])}")
        if isinstance(wl.get("targets"), list):
            bits.append(f"{len(wl['targets'])} target(s)")
        parts.append(" · ".join(bits))
    board = report.get("leaderboard")
    if isinstance(board, list) and board and isinstance(board[0], dict):
        top = board[0]
        regret = f" (mean regret {_cell(top.get('regret'))})" if "regret" in top else ""
        parts.append(f"**Best scorer:** `{md_escape(top.get('scorer', '?'))}`{regret}")
        if with_tables:
            parts.append("**Leaderboard**\n\n" + _records_table(board))
    if not parts:  # an unknown layout: its scalar fields and its lists of records
        scalars = {k: v for k, v in report.items() if isinstance(v, (str, int, float, bool)) or v is None}
        parts.extend(f"- **{md_escape(k)}:** {md_escape(_cell(v))}" for k, v in scalars.items())
        if with_tables:
            for key, value in report.items():
                if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                    parts.append(f"**{md_escape(key)}**\n\n{_records_table(value)}")
    return "\n\n".join(parts)


#: JSON files of a benchmark folder, in preference order (``hfsearch bench`` writes ``results.json``).
BENCH_JSON = ("results.json", "report.json")


def load_bench(
    folder: str | Path | None, *, copy_images_to: str | Path | None = None, max_images: int = 24
) -> BenchView:
    """Read a ``hfsearch bench`` output folder: ``results.json``, markdown tables (``*.md``) and plots (``*.png``).

    Every file is optional; a missing or unreadable one is named in `BenchView.status`. Images are copied to
    `copy_images_to` (a temporary folder by default) so that a web app may serve them.
    """
    if not folder or not str(folder).strip():
        return BenchView(
            status=f"No benchmark folder configured: set `{constants.ENV_BENCH_DIR}` or enter the folder that "
            "`hfsearch bench WORKLOAD --output DIR` wrote."
        )
    root = Path(os.path.expanduser(str(folder).strip()))
    if not root.is_dir():
        return BenchView(
            status=f"Benchmark folder `{root}` not found. Run `hfsearch bench WORKLOAD --output {root}` first."
        )
    notes = []
    report: dict[str, Any] | None = None
    json_path = next((root / n for n in BENCH_JSON if (root / n).is_file()), None)
    if json_path is not None:
        try:
            loaded = json.loads(json_path.read_text(encoding="utf-8"))
            report = loaded if isinstance(loaded, dict) else {"results": loaded}
        except (OSError, ValueError) as exc:
            notes.append(f"`{json_path.name}` is not readable ({type(exc).__name__})")
    else:
        notes.append("no `results.json`")
    markdown = sorted(root.rglob("*.md"), key=lambda p: (len(p.relative_to(root).parts), p.name != "report.md", str(p)))
    tables = []
    for path in markdown[:20]:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            notes.append(f"`{path.name}` is not readable")
            continue
        rel = path.relative_to(root).as_posix()
        tables.append(text if text.lstrip().startswith("#") else f"#### {rel}\n\n{text}")
    if not markdown:
        notes.append("no markdown report")
    pngs = sorted(root.rglob("*.png"), key=lambda p: (len(p.relative_to(root).parts), str(p)))[:max_images]
    images: list[tuple[str, str]] = []
    if pngs:
        dest = Path(copy_images_to or tempfile.mkdtemp(prefix="hfsearch-bench-"))
        dest.mkdir(parents=True, exist_ok=True)
        for path in pngs:
            rel = path.relative_to(root).as_posix()
            target = dest / rel.replace("/", "__")
            try:
                shutil.copyfile(path, target)
            except OSError:
                notes.append(f"`{rel}` is not readable")
                continue
            images.append((str(target), rel))
    else:
        notes.append("no plots")
    summary = _report_summary(report, with_tables=not tables) if report is not None else ""
    status = f"Benchmark results from `{root}`" + (f" ({'; '.join(notes)})" if notes else "") + "."
    if summary:
        status += "\n\n" + summary
    return BenchView(status=status, tables="\n\n---\n\n".join(tables), images=images, report=report)
