"""What the *Search* tab shows of a `SearchResult`: the ranking (html, from the one result `Table`), a summary, the
per-candidate details, a chart of the scores and the JSON/CSV downloads."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from ..hub.links import repo_url
from ..render import format_value, render_html

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..rank.result import SearchResult

_BEST_BAR = "#f59e0b"
_BAR = "#6b8fd6"
_STYLE = (
    "<style>.hfs-table{border-collapse:collapse;width:100%;font-size:0.9em}"
    ".hfs-table th,.hfs-table td{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left}"
    ".hfs-table th{cursor:help}.hfs-table tr.hfs-best{background:#fff4d6;font-weight:600}"
    ".hfs-table td.hfs-missing{color:#888}.hfs-badge{color:#666;font-weight:400}"
    ".hfs-table caption{display:none}</style>"
)


def md_escape(text: object) -> str:
    """Escape what breaks a markdown table cell or inline text."""
    s = str(text).replace("\n", " ")
    for ch in ("\\", "|", "*", "_", "[", "]", "<", ">", "`"):
        s = s.replace(ch, "\\" + ch)
    return s


def md_link(text: str, url: str | None) -> str:
    return f"[{md_escape(text)}]({url})" if url else f"`{text}`"


def ranking_html(result: SearchResult, *, endpoint: str | None = None, hub_dir: str | None = None) -> str:
    """The ranking as html: models linked to their Hub page, each score with its rank (#k), the recommended row
    highlighted, and the reason a score is missing as the tooltip of its ``–``."""
    if not result.candidates:
        return "<p><em>No candidate could be scored.</em></p>"
    table = result.to_table(link=lambda m: repo_url(str(m), endpoint=endpoint, hub_dir=hub_dir))
    table.notes = []
    note = (
        f'<p style="font-size:0.85em;color:#666">Ordered by <b>{result.rank_name}</b> (★); #k is the '
        "candidate's rank under that score; ↑/↓: higher/lower is better; hover a header for its meaning and a – "
        "for why it is missing.</p>"
    )
    return _STYLE + '<div style="overflow-x:auto">' + render_html(table) + "</div>" + note


def summary_markdown(result: SearchResult, *, endpoint: str | None = None, hub_dir: str | None = None) -> str:
    """One paragraph: the recommendation, what was searched, how long it took, and any warning."""
    best = result.best
    lines = []
    if best:
        lines.append(f"### Recommended: {md_link(best, repo_url(best, endpoint=endpoint, hub_dir=hub_dir))}")
        tail = md_escape(result.recommendation().split(" — ", 1)[-1])
        lines.append(tail[:1].upper() + tail[1:] if " — " in result.recommendation() else "")
    else:
        lines.append("### No recommendation: no candidate has a value for the ranking score")
    lines.append(
        f"Ranked **{len(result.candidates)}** candidate(s) by **{md_escape(result.rank_name)}** on "
        f"`{result.dataset}` (split `{result.split}`, column(s) {', '.join(f'`{c}`' for c in result.columns)}, "
        f"{result.n_samples} sampled rows); {len(result.skipped)} skipped."
    )
    if result.timings:
        lines.append("Timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in result.timings.items()) + ".")
    lines.extend(f"⚠️ {md_escape(w)}" for w in result.warnings)
    return "\n\n".join(lines)


def details_markdown(result: SearchResult, *, endpoint: str | None = None, hub_dir: str | None = None) -> str:
    """Per-candidate details: declared source datasets, the source sample used, reasons for missing scores, skips."""
    out = []
    best = result.best
    order = list(result.ranking["model"]) if result.candidates else []
    by_id = {c.repo_id: c for c in result.candidates}
    for i, model in enumerate(order, start=1):
        c = by_id[model]
        star = " ★ recommended" if model == best else ""
        out.append(f"#### {i}. {md_escape(model)}{star}")
        declared = (
            ", ".join(
                md_link(d, repo_url(d, endpoint=endpoint, hub_dir=hub_dir, kind="dataset")) for d in c.declared_datasets
            )
            or "*none declared in the model card*"
        )
        items = [
            f"- **declared source datasets:** {declared}",
            f"- **source sample used:** {f'`{c.source}`' if c.source else '*none* (similarity scores unavailable)'}",
            f"- **parameters:** {_count(c.num_params)} · **downloads:** {_count(c.downloads)} · "
            f"**likes:** {_count(c.likes)}" + (f" · **sha:** `{c.sha[:10]}`" if c.sha else ""),
        ]
        if c.unavailable:
            items.append("- **scores not computed:**")
            items.extend(f"  - `{name}`: {md_escape(reason)}" for name, reason in c.unavailable.items())
        out.append("\n".join(items))
    if result.skipped:
        out.append(
            "#### Skipped candidates\n\n| model | stage | reason |\n|---|---|---|\n"
            + "\n".join(
                f"| {md_escape(s.repo_id)} | {md_escape(s.stage)} | {md_escape(s.reason)} |" for s in result.skipped
            )
        )
    if result.warnings:
        out.append("#### Warnings\n" + "\n".join(f"- {md_escape(w)}" for w in result.warnings))
    return "\n\n".join(out) or "*Nothing to show.*"


def _count(value: int | None) -> str:
    return "unknown" if value is None else format_value(value, "count")


def scores_figure(result: SearchResult, max_columns: int = 3) -> Figure:
    """One horizontal bar chart per score (candidates in ranking order, the recommended one highlighted)."""
    from matplotlib.figure import Figure

    df = result.ranking
    cols = result.shown_scores
    predicted = any(c.predicted is not None for c in result.candidates)
    n = max(1, len(cols) + predicted)
    ncols = min(max_columns, n)
    nrows = math.ceil(n / ncols)
    models = list(df["model"]) if not df.empty else []
    fig = Figure(figsize=(4.2 * ncols, max(1.9, 0.7 + 0.3 * len(models)) * nrows + 0.4), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    best = result.best
    labels = [m if len(m) <= 28 else "…" + m[-27:] for m in models]
    panels = axes.flat
    if predicted:
        ax = next(panels)
        y = list(range(len(models)))
        value = [float(v) if format_value(v) != "–" else 0.0 for v in df["predicted_accuracy"]]
        low = [v - float(lo) if format_value(lo) != "–" else 0.0 for v, lo in zip(value, df["predicted_low"])]
        high = [float(hi) - v if format_value(hi) != "–" else 0.0 for v, hi in zip(value, df["predicted_high"])]
        ax.barh(y, value, xerr=[low, high], color=[_BEST_BAR if m == best else _BAR for m in models], capsize=3)
        ax.set_yticks(y, labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_title(f"predicted {result.metric} (90% interval)", fontsize=10)
        ax.tick_params(axis="x", labelsize=8)
    for k, ax in enumerate(panels, start=int(predicted)):
        if k - predicted >= len(cols):
            ax.set_visible(False)
            continue
        c = cols[k - predicted]
        values = list(df[c.name]) if not df.empty else []
        y = list(range(len(models)))
        missing = [format_value(v) == "–" for v in values]
        ax.barh(
            y,
            [0.0 if m else float(v) for v, m in zip(values, missing)],
            color=[_BEST_BAR if m == best else _BAR for m in models],
        )
        for yi, m in zip(y, missing):
            if m:
                ax.text(0, yi, " n/a", va="center", fontsize=8, color="#888")
        ax.set_yticks(y, labels if k % ncols == 0 else [""] * len(y), fontsize=8)
        ax.invert_yaxis()
        ax.set_title(f"{c.name} ({'↑' if c.higher_is_better else '↓'} better)", fontsize=10)
        ax.tick_params(axis="x", labelsize=8)
        ax.axvline(0, color="#444", linewidth=0.6)
    fig.suptitle(f"Scores per candidate on {result.dataset} (orange: recommended)", fontsize=11)
    return fig


def write_downloads(result: SearchResult, folder: str | Path | None = None) -> tuple[str, str]:
    """Write ``hfsearch-result.json`` and ``hfsearch-ranking.csv``; returns their paths."""
    folder = Path(folder or tempfile.mkdtemp(prefix="hfsearch-space-"))
    folder.mkdir(parents=True, exist_ok=True)
    json_path = folder / "hfsearch-result.json"
    csv_path = folder / "hfsearch-ranking.csv"
    json_path.write_text(result.to_json(), encoding="utf-8")
    csv_path.write_text(result.to_csv(), encoding="utf-8")
    return str(json_path), str(csv_path)
