"""The Gradio app (``spaces_app/app.py``, ``hfsearch app``): a thin web shell over `hfsearch.Search`.

Everything the app shows is built here from a `SearchResult` (the ranking table with links and the recommended
model highlighted, a chart of the scores, per-candidate details, JSON/CSV downloads) and from a ``hfsearch bench``
output folder (its tables and plots). The app has no search logic of its own: it turns form fields into a
`SearchConfig`, runs `Search.execute` in a worker thread under a time budget, and renders the result.

Limits for a shared Space are read from environment variables (see `SpaceSettings`):

- ``HFSEARCH_SPACE_MAX_CANDIDATES`` (default 10) and ``HFSEARCH_SPACE_MAX_SAMPLES`` (default 1000): caps per search;
- ``HFSEARCH_SPACE_TIMEOUT`` (seconds, default 600): time budget of one search;
- ``HFSEARCH_SPACE_QUEUE_SIZE`` (default 16): requests waiting in the queue (one search runs at a time);
- ``HFSEARCH_SPACE_RESTRICTED`` (default: on when ``SPACE_ID`` is set, i.e. on a Hugging Face Space): refuse
  server-side paths (a local dataset folder, ``hub_dir`` other than the demo registry, another benchmark folder)
  and custom endpoints, so that visitors cannot read the server's files or make it call arbitrary URLs;
- ``HFSEARCH_SPACE_BUILD_DEMO`` (default on): build the demo registry in a background thread at start-up;
- ``HFSEARCH_BENCH_DIR``: the ``hfsearch bench --output`` folder shown in the *Benchmark* tab.

```python
>>> from hfsearch.space import launch
>>> launch(host="127.0.0.1", port=7860)  # doctest: +SKIP
```
"""

from __future__ import annotations

import contextvars
import ctypes
import html
import json
import logging
import math
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from . import constants
from .errors import HFSearchError

if TYPE_CHECKING:  # pragma: no cover
    import gradio as gr
    from matplotlib.figure import Figure

    from .rank.result import SearchResult
    from .search import Search, SearchConfig

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Environment variables read by `SpaceSettings.from_env`.
ENV_MAX_CANDIDATES = "HFSEARCH_SPACE_MAX_CANDIDATES"
ENV_MAX_SAMPLES = "HFSEARCH_SPACE_MAX_SAMPLES"
ENV_TIMEOUT = "HFSEARCH_SPACE_TIMEOUT"
ENV_QUEUE_SIZE = "HFSEARCH_SPACE_QUEUE_SIZE"
ENV_RESTRICTED = "HFSEARCH_SPACE_RESTRICTED"
ENV_BUILD_DEMO = "HFSEARCH_SPACE_BUILD_DEMO"
ENV_BENCH_DIR = "HFSEARCH_BENCH_DIR"

#: Data files a visitor may upload as the target dataset.
UPLOAD_TYPES = [".csv", ".tsv", ".jsonl", ".json", ".parquet"]

#: Pipeline stages, in order: (``Search`` method, progress message, fraction of the bar when it starts).
STAGES = (
    ("load_target", "Loading the target dataset", 0.0),
    ("discover", "Listing candidates", 0.1),
    ("run", "Downloading and running candidates", 0.2),
    ("score", "Scoring", 0.9),
)

_HIGHLIGHT = "#fff4d6"
_BEST_BAR = "#f59e0b"
_BAR = "#6b8fd6"


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    try:
        return int(value) if value else default
    except ValueError:
        logger.warning("Ignoring %s=%r (not an integer)", name, value)
        return default


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    try:
        return float(value) if value else default
    except ValueError:
        logger.warning("Ignoring %s=%r (not a number)", name, value)
        return default


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass
class SpaceSettings:
    """Limits and defaults of the app (see the module docstring for the environment variables).

    Args:
        max_candidates (`int`): most candidates one search may score.
        max_samples (`int`): most target rows one search may sample.
        default_candidates, default_samples (`int`): the form's initial values.
        timeout_s (`float`): time budget of one search, in seconds.
        queue_size (`int`): requests that may wait in the queue.
        restricted (`bool`): refuse server-side paths and custom endpoints (public Spaces).
        build_demo_registry (`bool`): build the demo registry in a background thread when the app is built.
        bench_dir (`str`, *optional*): ``hfsearch bench`` output folder of the *Benchmark* tab.
        demo_root (`str`, *optional*): demo registry folder (default `hfsearch.demo.demo_dir`).
        device (`str`, *optional*): ``"cpu"`` to force the CPU.
    """

    max_candidates: int = 10
    max_samples: int = 1000
    default_candidates: int = 5
    default_samples: int = 256
    timeout_s: float = 600.0
    queue_size: int = 16
    restricted: bool = False
    build_demo_registry: bool = True
    bench_dir: str | None = None
    demo_root: str | None = None
    device: str | None = None

    def __post_init__(self) -> None:
        self.default_candidates = max(1, min(self.default_candidates, self.max_candidates))
        self.default_samples = max(1, min(self.default_samples, self.max_samples))

    @classmethod
    def from_env(cls, **overrides: Any) -> SpaceSettings:
        """Settings from the environment; keyword arguments override them."""
        settings = cls(
            max_candidates=max(1, _env_int(ENV_MAX_CANDIDATES, cls.max_candidates)),
            max_samples=max(1, _env_int(ENV_MAX_SAMPLES, cls.max_samples)),
            timeout_s=max(1.0, _env_float(ENV_TIMEOUT, cls.timeout_s)),
            queue_size=max(1, _env_int(ENV_QUEUE_SIZE, cls.queue_size)),
            restricted=_env_flag(ENV_RESTRICTED, bool(os.environ.get("SPACE_ID"))),
            build_demo_registry=_env_flag(ENV_BUILD_DEMO, True),
            bench_dir=os.environ.get(ENV_BENCH_DIR) or None,
            demo_root=constants.HFSEARCH_DEMO_DIR,
        )
        for key, value in overrides.items():
            if not hasattr(settings, key):
                raise TypeError(f"Unknown setting {key!r}")
            setattr(settings, key, value)
        settings.__post_init__()
        return settings


# ---------------------------------------------------------------------------------------------------------------
# Links and small formatting helpers
# ---------------------------------------------------------------------------------------------------------------


def hub_endpoint(endpoint: str | None = None) -> str:
    """The Hub web address that model pages are linked to (`endpoint`, else ``HF_ENDPOINT``, else huggingface.co)."""
    if endpoint:
        return endpoint.rstrip("/")
    from huggingface_hub import constants as hf_constants

    return str(hf_constants.ENDPOINT).rstrip("/")


def repo_url(repo_id: str, *, endpoint: str | None = None, hub_dir: str | None = None, kind: str = "model") -> str | None:
    """The web page of a repository, or ``None`` for one of a local registry (`hub_dir`) or a local path."""
    if hub_dir or not repo_id or repo_id.startswith(("/", ".", "~")) or os.path.isabs(repo_id):
        return None
    prefix = "/datasets" if kind == "dataset" else ""
    return f"{hub_endpoint(endpoint)}{prefix}/{repo_id}"


def _link(text: str, url: str | None) -> str:
    label = html.escape(text)
    if not url:
        return label
    return f'<a href="{html.escape(url, quote=True)}" target="_blank" rel="noopener noreferrer">{label}</a>'


def _md_link(text: str, url: str | None) -> str:
    label = _md_escape(text)
    return f"[{label}]({url})" if url else f"`{text}`"


def _md_escape(text: Any) -> str:
    """Escape what breaks a markdown table cell or inline text."""
    s = str(text).replace("\n", " ")
    for ch in ("\\", "|", "*", "_", "[", "]", "<", ">", "`"):
        s = s.replace(ch, "\\" + ch)
    return s


def format_score(value: Any, digits: int = 4) -> str:
    """A score for display: ``–`` when missing, 4 significant digits otherwise."""
    if value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value))):
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def _format_count(value: int | None) -> str:
    if value is None:
        return "unknown"
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= size:
            return f"{value / size:.1f}{unit}"
    return str(value)


# ---------------------------------------------------------------------------------------------------------------
# Rendering a SearchResult
# ---------------------------------------------------------------------------------------------------------------


def ranking_html(result: SearchResult, *, endpoint: str | None = None, hub_dir: str | None = None) -> str:
    """The ranking as an HTML table: model linked to its Hub page, each score with its rank, the best row highlighted.

    Cells of scores that could not be computed show ``–`` with the reason as a tooltip.
    """
    df = result.ranking
    if df.empty:
        return "<p><em>No candidate could be scored.</em></p>"
    ranks = result.ranks()
    details = {c.repo_id: c for c in result.candidates}
    best = result.best
    cols = result.score_columns
    head = ["<th>#</th>", "<th>model</th>"]
    for c in cols:
        arrow = "↑" if c.higher_is_better else "↓"
        mark = " ★" if c.name == result.rank_by else ""
        tip = f"{c.description} ({c.kind}; {'higher' if c.higher_is_better else 'lower'} is better)"
        head.append(f'<th title="{html.escape(tip, quote=True)}">{html.escape(c.name)} {arrow}{mark}</th>')
    head.append("<th>source sample</th>")
    body = []
    for row in df.to_dict(orient="records"):
        model = str(row["model"])
        cand = details.get(model)
        is_best = model == best
        style = f' style="background:{_HIGHLIGHT};font-weight:600"' if is_best else ""
        badge = ' <span class="hfs-badge" style="font-size:0.8em;color:#b45309">★ recommended</span>' if is_best else ""
        cells = [f"<td>{int(row['rank'])}</td>",
                 f'<td class="hfs-model" style="min-width:11em">{_link(model, repo_url(model, endpoint=endpoint, hub_dir=hub_dir))}{badge}</td>']
        for c in cols:
            value = row.get(c.name)
            text = format_score(value)
            if text == "–":
                reason = (cand.unavailable.get(c.name) if cand else None) or "not computed"
                cells.append(f'<td title="{html.escape(reason, quote=True)}" style="color:#888">–</td>')
                continue
            r = ranks.at[model, c.name] if model in ranks.index else float("nan")
            rank = "" if math.isnan(r) else f' <small style="color:#666">(#{int(r)})</small>'
            cells.append(f"<td>{html.escape(text)}{rank}</td>")
        source = row.get("source")
        cells.append(f"<td>{html.escape(str(source)) if source else '<em>none</em>'}</td>")
        body.append(f'<tr class="{"hfs-best" if is_best else "hfs-row"}"{style}>' + "".join(cells) + "</tr>")
    table = (
        '<div style="overflow-x:auto"><table class="hfs-ranking" style="border-collapse:collapse;width:100%;'
        'font-size:0.9em"><thead><tr>' + "".join(head) + "</tr></thead><tbody>" + "".join(body) + "</tbody></table></div>"
    )
    note = (
        f'<p style="font-size:0.85em;color:#666">Ordered by <b>{html.escape(result.rank_by)}</b> (★); '
        "(#k) is the candidate's rank under that score; ↑/↓: higher/lower is better; hover a header for its meaning "
        "and a – for why it is missing.</p>"
    )
    return (
        "<style>.hfs-ranking th,.hfs-ranking td{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left}"
        ".hfs-ranking th{cursor:help}</style>" + table + note
    )


def summary_markdown(result: SearchResult, *, endpoint: str | None = None, hub_dir: str | None = None) -> str:
    """One paragraph: the recommendation, what was searched, how long it took, and any warning."""
    best = result.best
    lines = []
    if best:
        lines.append(f"### Recommended: {_md_link(best, repo_url(best, endpoint=endpoint, hub_dir=hub_dir))}")
    else:
        lines.append("### No recommendation: no candidate has a value for the ranking score")
    lines.append(
        f"Ranked **{len(result.candidates)}** candidate(s) by **{_md_escape(result.rank_by)}** on "
        f"`{result.dataset}` (split `{result.split}`, column(s) {', '.join(f'`{c}`' for c in result.columns)}, "
        f"{result.n_samples} sampled rows); {len(result.skipped)} skipped."
    )
    if result.timings:
        parts = ", ".join(f"{k} {v:.1f}s" for k, v in result.timings.items())
        lines.append(f"Timings: {parts}.")
    for w in result.warnings:
        lines.append(f"⚠️ {_md_escape(w)}")
    return "\n\n".join(lines)


def details_markdown(result: SearchResult, *, endpoint: str | None = None, hub_dir: str | None = None) -> str:
    """Per-candidate details: declared source datasets, the source sample used, reasons for missing scores, skips."""
    out = []
    best = result.best
    order = list(result.ranking["model"]) if not result.ranking.empty else []
    by_id = {c.repo_id: c for c in result.candidates}
    for i, model in enumerate(order, start=1):
        c = by_id[model]
        star = " ★ recommended" if model == best else ""
        out.append(f"#### {i}. {_md_escape(model)}{star}")
        declared = ", ".join(
            _md_link(d, repo_url(d, endpoint=endpoint, hub_dir=hub_dir, kind="dataset")) for d in c.declared_datasets
        ) or "*none declared in the model card*"
        items = [
            f"- **declared source datasets:** {declared}",
            f"- **source sample used:** {f'`{c.source}`' if c.source else '*none* (similarity scores unavailable)'}",
            f"- **parameters:** {_format_count(c.num_params)} · **downloads:** {_format_count(c.downloads)} · "
            f"**likes:** {_format_count(c.likes)}" + (f" · **sha:** `{c.sha[:10]}`" if c.sha else ""),
        ]
        if c.unavailable:
            items.append("- **scores not computed:**")
            items.extend(f"  - `{name}`: {_md_escape(reason)}" for name, reason in c.unavailable.items())
        out.append("\n".join(items))
    if result.skipped:
        out.append("#### Skipped candidates")
        out.append("| model | stage | reason |\n|---|---|---|")
        out[-1] += "\n" + "\n".join(
            f"| {_md_escape(s.repo_id)} | {_md_escape(s.stage)} | {_md_escape(s.reason)} |" for s in result.skipped
        )
    if result.warnings:
        out.append("#### Warnings\n" + "\n".join(f"- {_md_escape(w)}" for w in result.warnings))
    return "\n\n".join(out) or "*Nothing to show.*"


def scores_figure(result: SearchResult, max_columns: int = 3) -> Figure:
    """One horizontal bar chart per score (candidates in ranking order, the recommended one highlighted)."""
    from matplotlib.figure import Figure

    df = result.ranking
    cols = result.score_columns
    n = max(1, len(cols))
    ncols = min(max_columns, n)
    nrows = math.ceil(n / ncols)
    models = list(df["model"]) if not df.empty else []
    height_per_row = max(1.9, 0.7 + 0.3 * len(models))
    fig = Figure(figsize=(4.2 * ncols, height_per_row * nrows + 0.4), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    best = result.best
    labels = [m if len(m) <= 28 else "…" + m[-27:] for m in models]
    for k, ax in enumerate(axes.flat):
        if k >= len(cols):
            ax.set_visible(False)
            continue
        c = cols[k]
        values = [row for row in df[c.name]] if not df.empty else []
        y = list(range(len(models)))
        heights = [0.0 if format_score(v) == "–" else float(v) for v in values]
        colors = [_BEST_BAR if m == best else _BAR for m in models]
        ax.barh(y, heights, color=colors)
        for yi, v in zip(y, values):
            if format_score(v) == "–":
                ax.text(0, yi, " n/a", va="center", fontsize=8, color="#888")
        ax.set_yticks(y, labels if k % ncols == 0 else [""] * len(y), fontsize=8)
        ax.invert_yaxis()
        arrow = "↑ better" if c.higher_is_better else "↓ better"
        ax.set_title(f"{c.name} ({arrow})", fontsize=10)
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


# ---------------------------------------------------------------------------------------------------------------
# Benchmark folder
# ---------------------------------------------------------------------------------------------------------------


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
            return format_score(mean, 3)
        return f"{format_score(mean, 3)} [{format_score(low, 3)}, {format_score(high, 3)}]"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return "…"
    return format_score(value, 3)


def _records_table(records: list[dict[str, Any]], limit: int = 50) -> str:
    keys: list[str] = []
    for r in records[:limit]:
        for k, v in r.items():
            if k not in keys and (not isinstance(v, dict) or "mean" in v):
                keys.append(k)
    if not keys:
        return ""
    lines = ["| " + " | ".join(_md_escape(k) for k in keys) + " |", "|" + "---|" * len(keys)]
    for r in records[:limit]:
        lines.append("| " + " | ".join(_md_escape(_cell(r.get(k))) for k in keys) + " |")
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
        bits = [f"**Workload:** `{_md_escape(wl.get('name', '?'))}`"]
        if wl.get("description"):
            bits.append(_md_escape(wl["description"]))
        if wl.get("metric"):
            bits.append(f"metric: {_md_escape(wl['metric'])}")
        if isinstance(wl.get("targets"), list):
            bits.append(f"{len(wl['targets'])} target(s)")
        parts.append(" · ".join(bits))
    board = report.get("leaderboard")
    if isinstance(board, list) and board and isinstance(board[0], dict):
        top = board[0]
        regret = f" (mean regret {_cell(top.get('regret'))})" if "regret" in top else ""
        parts.append(f"**Best scorer:** `{_md_escape(top.get('scorer', '?'))}`{regret}")
        if with_tables:
            parts.append("**Leaderboard**\n\n" + _records_table(board))
    if not parts:  # an unknown layout: its scalar fields and its lists of records
        scalars = {k: v for k, v in report.items() if isinstance(v, (str, int, float, bool)) or v is None}
        parts.extend(f"- **{_md_escape(k)}:** {_md_escape(_cell(v))}" for k, v in scalars.items())
        if with_tables:
            for key, value in report.items():
                if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                    parts.append(f"**{_md_escape(key)}**\n\n{_records_table(value)}")
    return "\n\n".join(parts)


#: JSON files of a benchmark folder, in preference order (``hfsearch bench`` writes ``results.json``).
BENCH_JSON = ("results.json", "report.json")


def load_bench(folder: str | Path | None, *, copy_images_to: str | Path | None = None, max_images: int = 24) -> BenchView:
    """Read a ``hfsearch bench`` output folder: ``results.json``, markdown tables (``*.md``) and plots (``*.png``).

    Every file is optional; a missing or unreadable one is named in `BenchView.status`. Images are copied to
    `copy_images_to` (a temporary folder by default) so that a web app may serve them.
    """
    if not folder or not str(folder).strip():
        return BenchView(status=f"No benchmark folder configured: set `{ENV_BENCH_DIR}` or enter the folder that "
                                "`hfsearch bench WORKLOAD --output DIR` wrote.")
    root = Path(os.path.expanduser(str(folder).strip()))
    if not root.is_dir():
        return BenchView(status=f"Benchmark folder `{root}` not found. Run `hfsearch bench WORKLOAD --output {root}` "
                                "first.")
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


# ---------------------------------------------------------------------------------------------------------------
# Demo registry
# ---------------------------------------------------------------------------------------------------------------


class DemoRegistry:
    """The demo registry (`hfsearch.zoo.build_zoo` of `demo_recipe`), built once, in the background or on demand."""

    def __init__(self, root: str | None = None) -> None:
        from .demo import demo_dir

        self.root = demo_dir(root)
        self.state = "not built"
        self.error: str | None = None
        self.seconds: float | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        try:
            from .zoo.build import demo_recipe

            self.recipe: Any = demo_recipe()
        except Exception as exc:  # noqa: BLE001 - the app works without its examples
            self.recipe = None
            self.state = "unavailable"
            self.error = _one_line(exc)

    @property
    def available(self) -> bool:
        return self.recipe is not None

    def is_demo(self, hub_dir: str | None) -> bool:
        if not hub_dir or not self.available:
            return False
        try:
            return Path(hub_dir).expanduser().resolve() == self.root.resolve()
        except OSError:
            return False

    def start(self) -> None:
        """Build in a background thread (no-op if already built or building)."""
        if not self.available or self.state == "ready" or (self._thread and self._thread.is_alive()):
            return
        self.state = "building"
        self._thread = threading.Thread(target=self._build_quietly, name="hfsearch-demo-registry", daemon=True)
        self._thread.start()

    def _build_quietly(self) -> None:
        try:
            self.ensure()
        except Exception as exc:  # noqa: BLE001 - recorded in self.error, shown by status()
            logger.warning("Demo registry not built: %s", _one_line(exc))

    def ensure(self) -> Path:
        """Build the registry if needed (blocks while another thread builds it); returns its folder."""
        if not self.available:
            raise HFSearchError(f"The demo registry is unavailable: {self.error}")
        with self._lock:
            if self.state == "ready":
                return self.root
            from .zoo.build import build_zoo

            self.state, self.error = "building", None
            t0 = time.perf_counter()
            try:
                build_zoo(self.recipe, self.root)
            except Exception as exc:
                self.state, self.error = "failed", _one_line(exc)
                logger.exception("Building the demo registry failed")
                raise HFSearchError(f"Building the demo registry failed: {self.error}") from None
            self.seconds = time.perf_counter() - t0
            self.state = "ready"
            return self.root

    def status(self) -> str:
        if self.state == "unavailable":
            return f"Demo registry unavailable ({self.error}); the examples will not run."
        if self.state == "ready":
            took = f" in {self.seconds:.0f}s" if self.seconds is not None and self.seconds > 2 else ""
            return f"✅ Demo registry ready{took} (`{self.root}`): the examples below run offline."
        if self.state == "building":
            return ("⏳ Building the demo registry (5 small sentiment models trained on 2 review domains; about a "
                    "minute on 2 CPU cores, once). An example search waits for it.")
        if self.state == "failed":
            return f"❌ Building the demo registry failed: {self.error}"
        return "The demo registry is built on the first example search (about a minute on 2 CPU cores, once)."

    def example(self, settings: SpaceSettings) -> list[Any] | None:
        """Form values of the offline example (see `EXAMPLE_FIELDS`), or ``None``."""
        if not self.available:
            return None
        r = self.recipe
        return [
            r.task, r.target_dataset_id(), "test", "", min(5, settings.max_candidates),
            min(300, settings.max_samples), str(self.root), ", ".join(r.label_names or []),
        ]


# ---------------------------------------------------------------------------------------------------------------
# Running a search under a time budget
# ---------------------------------------------------------------------------------------------------------------


class SearchTimeout(BaseException):
    """Raised inside the worker thread of a search that ran past its time budget.

    A `BaseException` (like `KeyboardInterrupt`), so that the pipeline's per-candidate ``except Exception`` failure
    isolation does not swallow it and the search really stops.
    """


_WORKER: threading.Thread | None = None
_WORKER_LOCK = threading.Lock()


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, HFSearchError):
        return str(exc)
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text and text[0].strip() else type(exc).__name__


def run_with_budget(fn: Callable[[], T], timeout_s: float, *, wait_previous_s: float = 30.0) -> T:
    """Run `fn` in a worker thread (with this thread's context variables, so Gradio's progress tracking works).

    Raises:
        `HFSearchError`: `fn` did not finish within `timeout_s` seconds (the worker is then interrupted at its next
            Python instruction), or a previous interrupted search is still stopping.
    """
    global _WORKER
    with _WORKER_LOCK:
        previous = _WORKER
    if previous is not None and previous.is_alive():
        previous.join(wait_previous_s)
        if previous.is_alive():
            raise HFSearchError("A previous search that ran out of time is still stopping; please retry in a minute.")
    box: dict[str, Any] = {}
    ctx = contextvars.copy_context()

    def target() -> None:
        try:
            box["value"] = ctx.run(fn)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=target, name="hfsearch-space-search", daemon=True)
    with _WORKER_LOCK:
        _WORKER = worker
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        _interrupt(worker)
        raise HFSearchError(
            f"The search ran past this app's time budget of {timeout_s:.0f} s and was stopped. Use fewer candidates "
            "or samples, or run `hfsearch find` on your own machine."
        )
    if "error" in box:
        raise box["error"]
    return box["value"]


def _interrupt(thread: threading.Thread) -> None:
    """Raise `SearchTimeout` in `thread` at its next Python bytecode (a running C call finishes first)."""
    if thread.ident is None:
        return
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(SearchTimeout))


def execute_with_progress(search: Search, report: Callable[[float, str], None] | None = None) -> SearchResult:
    """`Search.execute`, calling ``report(fraction, message)`` as each stage starts and as each candidate starts.

    The stages are observed by wrapping the instance's stage methods (``execute`` calls them through ``self``), so
    the pipeline itself is untouched. Gradio's ``track_tqdm`` is not used: it keeps one stack of every tqdm bar
    created during the call, and the nested bars of `datasets` (``map_nested``, shard loading) leave entries on it
    that make the candidates loop fail (``TypeError: 'NoneType' object is not an iterator``) or take items from
    another bar's iterator.
    """
    if report is None:
        return search.execute()
    for name, message, fraction in STAGES:
        method = getattr(search, name, None)
        if method is None:
            continue

        def wrapped(*args: Any, _method: Any = method, _f: float = fraction, _msg: str = message, **kwargs: Any) -> Any:
            report(_f, _msg)
            return _method(*args, **kwargs)

        setattr(search, name, wrapped)  # instance attributes: `execute` calls the wrappers
    load_source = getattr(search, "load_source", None)
    if load_source is not None:  # called once per candidate, first thing in `run`
        started: dict[str, int] = {}
        run_start, run_end = STAGES[2][2], STAGES[3][2]

        def source_then_run(cand: Any, *args: Any, **kwargs: Any) -> Any:
            if cand.repo_id not in started:
                started[cand.repo_id] = len(started)
                n = max(len(search.candidates), len(started))
                k = started[cand.repo_id]
                report(run_start + (run_end - run_start) * k / n,
                       f"Candidate {k + 1}/{n}: downloading and running {cand.repo_id}")
            return load_source(cand, *args, **kwargs)

        search.load_source = source_then_run  # type: ignore[method-assign]
    return search.execute()


# ---------------------------------------------------------------------------------------------------------------
# Form -> SearchConfig
# ---------------------------------------------------------------------------------------------------------------


def _split(text: str | Sequence[str] | None) -> list[str] | None:
    if text is None:
        return None
    items = text.replace("\n", ",").split(",") if isinstance(text, str) else list(text)
    out = [str(v).strip() for v in items if str(v).strip()]
    return out or None


def _as_int(value: Any, default: int, name: str) -> int:
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise HFSearchError(f"{name} must be a whole number (got {value!r}).") from None
    if not math.isfinite(f) or f != int(f):
        raise HFSearchError(f"{name} must be a whole number (got {value!r}).")
    return int(f)


def _upload_path(upload: Any) -> str | None:
    if upload is None:
        return None
    if isinstance(upload, (list, tuple)):
        upload = upload[0] if upload else None
    if isinstance(upload, dict):
        upload = upload.get("path") or upload.get("name")
    path = getattr(upload, "name", upload)
    return str(path) if path else None


def build_config(
    settings: SpaceSettings,
    *,
    task: str,
    dataset: str | None,
    upload: Any = None,
    config: str | None = None,
    split: str | None = None,
    columns: str | None = None,
    candidates: Any = None,
    samples: Any = None,
    scorers: Sequence[str] | None = None,
    rank_by: str | None = None,
    models: str | None = None,
    author: str | None = None,
    search: str | None = None,
    endpoint: str | None = None,
    hub_dir: str | None = None,
    labels: str | None = None,
    demo: DemoRegistry | None = None,
) -> SearchConfig:
    """Turn the form's fields into a `SearchConfig`, enforcing the app's limits.

    Values the pipeline validates itself (an empty dataset, an unknown split, zero candidates or samples…) are
    passed through, so the app shows the same one-line message as the CLI and the Python API.
    """
    from .search import DEFAULT_SCORES, SearchConfig

    n_candidates = _as_int(candidates, settings.default_candidates, "The number of candidates")
    n_samples = _as_int(samples, settings.default_samples, "The number of samples")
    if n_candidates > settings.max_candidates:
        raise HFSearchError(
            f"This app scores at most {settings.max_candidates} candidates per search (got {n_candidates}); "
            "run `hfsearch find` locally for more."
        )
    if n_samples > settings.max_samples:
        raise HFSearchError(
            f"This app samples at most {settings.max_samples} rows per search (got {n_samples}); "
            "run `hfsearch find` locally for more."
        )
    model_list = _split(models)
    if model_list and len(model_list) > settings.max_candidates:
        raise HFSearchError(
            f"This app scores at most {settings.max_candidates} candidates per search ({len(model_list)} models listed)."
        )
    uploaded = _upload_path(upload)
    dataset = uploaded or (dataset or "").strip()
    hub_dir = (hub_dir or "").strip() or None
    endpoint = (endpoint or "").strip() or None
    is_demo = demo is not None and demo.is_demo(hub_dir)
    if settings.restricted:
        if endpoint:
            raise HFSearchError("This app does not accept a custom endpoint (restricted mode).")
        if hub_dir and not is_demo:
            raise HFSearchError("This app only accepts the demo registry as a local registry (restricted mode).")
        if not uploaded and dataset and not hub_dir and _looks_local(dataset):
            raise HFSearchError(
                "This app does not read datasets from its own disk (restricted mode): give a Hub id or upload a file."
            )
    chosen = list(scorers) if scorers else []
    if scorers is not None and not chosen:
        raise HFSearchError("Select at least one scorer.")
    rank_by = (rank_by or "").strip() or None
    return SearchConfig(
        task=(task or "").strip(),
        dataset=dataset,
        config=(config or "").strip() or None,
        split=(split or "").strip() or None,
        column=_split(columns),
        labels=_split(labels),
        samples=n_samples,
        models=model_list,
        author=(author or "").strip() or None,
        search=(search or "").strip() or None,
        max_models=n_candidates,
        hub_dir=hub_dir,
        endpoint=endpoint,
        scores=chosen or list(DEFAULT_SCORES),
        rank_by=rank_by,
        progress=True,
        device=settings.device,
    )


def _looks_local(dataset: str) -> bool:
    return dataset.startswith(("/", ".", "~")) or os.path.isabs(dataset) or Path(os.path.expanduser(dataset)).exists()


# ---------------------------------------------------------------------------------------------------------------
# The Gradio app
# ---------------------------------------------------------------------------------------------------------------

#: Form fields filled by an example, in order.
EXAMPLE_FIELDS = ("task", "dataset", "split", "columns", "candidates", "samples", "hub_dir", "labels")

_INTRO = """# 🔎 hfsearch — which pretrained checkpoint fits my data?

Give an **unlabeled** dataset (a Hub id or a file) and a task: hfsearch lists candidate checkpoints, runs each on a
sample of your data and ranks them with label-free scores — *adaptivity* (Zhou et al., SSDBM 2022: how well a model's
training data covers yours), distribution distances, prediction confidence and a popularity prior — and recommends
one. No labels are read. The same search runs from Python (`hfsearch.find(...)`) and the CLI (`hfsearch find`).
"""


def _scorer_choices() -> list[tuple[str, str]]:
    from . import scores as _scores  # noqa: F401  (registers every scorer)
    from .scores.base import SCORERS

    choices = []
    for name, info in SCORERS.items():
        arrow = "↑" if info.higher_is_better else "↓"
        choices.append((f"{name} {arrow} ({info.kind})", name))
    return choices


def _scorer_help() -> str:
    from .scores.base import SCORERS

    rows = [f"| `{n}` | {i.kind} | {'higher' if i.higher_is_better else 'lower'} | {_md_escape(i.description)} |"
            for n, i in SCORERS.items()]
    return "| scorer | kind | better | what it measures |\n|---|---|---|---|\n" + "\n".join(rows)


#: The task selected when the form opens (if registered).
DEFAULT_TASK = "text-classification"


def _task_help(name: str | None) -> str:
    """One line on the selected task (its adapter's description)."""
    from .tasks import TASKS

    if not name or name not in TASKS:
        return ""
    desc = getattr(TASKS.get(name), "description", "") or ""
    return f"<small>{html.escape(desc)}</small>" if desc else ""


def _error(exc: BaseException) -> gr.Error:
    import gradio as gr

    # duration=None: the message stays until closed (a search may take minutes; a 10 s toast is easily missed)
    if isinstance(exc, HFSearchError):
        return gr.Error(str(exc), duration=None, print_exception=False)
    logger.error("Search failed", exc_info=(type(exc), exc, exc.__traceback__))
    return gr.Error(f"The search failed unexpectedly: {_one_line(exc)}", duration=None, print_exception=False)


def make_search_handler(settings: SpaceSettings, demo: DemoRegistry | None) -> Callable[..., tuple]:
    """The function behind the *Search* button (exposed as the ``/search`` API endpoint)."""
    import gradio as gr

    def search(
        task: str,
        dataset: str,
        upload: Any,
        config: str,
        split: str,
        columns: str,
        candidates: float | None,
        samples: float | None,
        scorers: list[str],
        rank_by: str,
        models: str,
        author: str,
        name_filter: str,
        endpoint: str,
        hub_dir: str,
        labels: str,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio's way of asking for a progress tracker
    ) -> tuple:
        try:
            cfg = build_config(
                settings, task=task, dataset=dataset, upload=upload, config=config, split=split, columns=columns,
                candidates=candidates, samples=samples, scorers=scorers, rank_by=rank_by, models=models,
                author=author, search=name_filter, endpoint=endpoint, hub_dir=hub_dir, labels=labels, demo=demo,
            )

            def work() -> SearchResult:
                from .search import Search

                if demo is not None and demo.is_demo(cfg.hub_dir):
                    if demo.state != "ready":
                        progress(0.0, desc="Preparing the demo registry (built once, about a minute)")
                    demo.ensure()
                search_ = Search(cfg)
                return execute_with_progress(search_, lambda f, msg: progress(f, desc=msg))

            result = run_with_budget(work, settings.timeout_s)
            progress(1.0, desc="Rendering")
            link = {"endpoint": cfg.endpoint, "hub_dir": cfg.hub_dir}
            json_path, csv_path = write_downloads(result)
            return (
                summary_markdown(result, **link),
                ranking_html(result, **link),
                scores_figure(result),
                details_markdown(result, **link),
                gr.DownloadButton(value=json_path, visible=True),
                gr.DownloadButton(value=csv_path, visible=True),
                result.to_dict(),
            )
        except gr.Error:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure becomes a one-line message
            raise _error(exc) from None

    return search


def build_demo(settings: SpaceSettings | None = None) -> gr.Blocks:
    """The Gradio app: a *Search* tab over `hfsearch.Search` and a *Benchmark* tab over a ``hfsearch bench`` folder."""
    import gradio as gr

    from .search import DEFAULT_SCORES

    settings = settings or SpaceSettings.from_env()
    demo_registry: DemoRegistry | None
    try:
        demo_registry = DemoRegistry(settings.demo_root)
    except Exception as exc:  # noqa: BLE001
        logger.warning("Demo registry unavailable: %s", _one_line(exc))
        demo_registry = None
    if demo_registry is not None and settings.build_demo_registry:
        demo_registry.start()

    scorer_choices = _scorer_choices()
    scorer_names = [v for _, v in scorer_choices]
    default_scores = [s for s in DEFAULT_SCORES if s in scorer_names] or scorer_names[:1]
    from .tasks import TASKS

    task_names = TASKS.names()
    default_task = DEFAULT_TASK if DEFAULT_TASK in task_names else (task_names[0] if task_names else None)
    limits = (f"Limits of this app: at most {settings.max_candidates} candidates and {settings.max_samples} samples per "
              f"search, {settings.timeout_s:.0f} s per search, one search at a time.")

    with gr.Blocks(title="hfsearch — find the best checkpoint for your data") as blocks:
        gr.Markdown(_INTRO)
        with gr.Tab("Search", id="search"):
            with gr.Row():
                with gr.Column(scale=2):
                    with gr.Row():
                        with gr.Column(min_width=200):
                            task = gr.Dropdown(task_names, value=default_task, label="Task", elem_id="hfs-task")
                            task_help = gr.Markdown(_task_help(default_task), elem_id="hfs-task-help")
                        dataset = gr.Textbox(label="Dataset (Hub id)", placeholder="e.g. stanfordnlp/imdb",
                                             elem_id="hfs-dataset", scale=2)
                    upload = gr.File(label="…or upload a data file (csv, tsv, jsonl, json, parquet)",
                                     file_types=UPLOAD_TYPES, elem_id="hfs-upload", height=130)
                    with gr.Row():
                        config = gr.Textbox(label="Config", placeholder="default", elem_id="hfs-config")
                        split = gr.Textbox(label="Split", placeholder="test, else the first", elem_id="hfs-split")
                        columns = gr.Textbox(label="Input column(s)", placeholder="auto-detected",
                                             elem_id="hfs-columns")
                    with gr.Row():
                        candidates = gr.Number(value=settings.default_candidates, precision=0,
                                               label="Candidates", info=f"at most {settings.max_candidates}",
                                               elem_id="hfs-candidates")
                        samples = gr.Number(value=settings.default_samples, precision=0, label="Samples",
                                            info=f"target rows, at most {settings.max_samples}", elem_id="hfs-samples")
                    scorers = gr.CheckboxGroup(scorer_choices, value=default_scores, label="Scorers",
                                               info="The ranking follows the first selected scorer unless 'Rank by' "
                                                    "is set (↑ higher is better, ↓ lower is better).",
                                               elem_id="hfs-scorers")
                    with gr.Accordion("Advanced", open=False):
                        rank_by = gr.Dropdown([("(first selected scorer)", "")] + [(n, n) for n in scorer_names],
                                              value="", label="Rank by", elem_id="hfs-rank-by")
                        models = gr.Textbox(label="Explicit model list (comma or newline separated; skips the Hub "
                                                  "query)", lines=2, elem_id="hfs-models")
                        with gr.Row():
                            author = gr.Textbox(label="Author / organisation", placeholder="any",
                                                elem_id="hfs-author")
                            name_filter = gr.Textbox(label="Name contains", placeholder="any", elem_id="hfs-search")
                        labels = gr.Textbox(label="Target class names (when the dataset does not declare them)",
                                            placeholder="negative, positive", elem_id="hfs-labels")
                        endpoint = gr.Textbox(label="Hub endpoint", placeholder=hub_endpoint(),
                                              interactive=not settings.restricted, elem_id="hfs-endpoint")
                        hub_dir = gr.Textbox(label="Local registry folder (hub_dir)", elem_id="hfs-hub-dir",
                                             placeholder="a folder laid out like the Hub")
                        with gr.Accordion("What the scorers measure", open=False):
                            gr.Markdown(_scorer_help())
                    run_btn = gr.Button("Search", variant="primary", elem_id="hfs-run")
                    gr.Markdown(limits)
                    demo_status = gr.Markdown(demo_registry.status() if demo_registry else "", elem_id="hfs-demo-status")
                    example = demo_registry.example(settings) if demo_registry else None
                    if example is not None:
                        gr.Examples(
                            examples=[example],
                            inputs=[task, dataset, split, columns, candidates, samples, hub_dir, labels],
                            label="Offline example: rank the demo zoo for Yelp reviews (no network needed)",
                            example_labels=["demo zoo → hfsearch-demo/uci_yelp"],
                        )
                with gr.Column(scale=3):
                    summary = gr.Markdown("*Run a search to see the ranking.*", elem_id="hfs-summary")
                    ranking = gr.HTML(elem_id="hfs-ranking", label="Ranking")
                    with gr.Row():
                        json_btn = gr.DownloadButton("Download JSON", visible=False, elem_id="hfs-json")
                        csv_btn = gr.DownloadButton("Download CSV", visible=False, elem_id="hfs-csv")
                    plot = gr.Plot(label="Scores per candidate", elem_id="hfs-plot")
                    with gr.Accordion("Per-candidate details", open=True):
                        details = gr.Markdown(elem_id="hfs-details")
                    with gr.Accordion("Raw result (JSON)", open=False):
                        raw = gr.JSON(elem_id="hfs-raw")

            task.change(_task_help, inputs=task, outputs=task_help, queue=False, show_progress="hidden",
                        api_visibility="private")
            handler = make_search_handler(settings, demo_registry)
            event = run_btn.click(
                handler,
                inputs=[task, dataset, upload, config, split, columns, candidates, samples, scorers, rank_by, models,
                        author, name_filter, endpoint, hub_dir, labels],
                outputs=[summary, ranking, plot, details, json_btn, csv_btn, raw],
                api_name="search",
                concurrency_limit=1,
                concurrency_id="search",
            )
            if demo_registry is not None and demo_registry.available:
                # While the registry builds in the background, its status line refreshes every few seconds.
                timer = gr.Timer(3.0, active=demo_registry.state == "building")

                def poll() -> tuple:
                    return demo_registry.status(), gr.Timer(active=demo_registry.state == "building")

                timer.tick(poll, outputs=[demo_status, timer], queue=False, show_progress="hidden",
                           api_visibility="private")
                event.then(poll, outputs=[demo_status, timer], queue=False, show_progress="hidden",
                           api_visibility="private")
                blocks.load(poll, outputs=[demo_status, timer], queue=False, show_progress="hidden",
                            api_visibility="private")

        with gr.Tab("Benchmark", id="bench"):
            gr.Markdown("Results of `hfsearch bench`: how well each scorer's ranking matched the candidates' true "
                        "accuracy on labeled workloads.")
            with gr.Row():
                bench_dir = gr.Textbox(value=settings.bench_dir or "", label="Benchmark output folder",
                                       placeholder=f"set {ENV_BENCH_DIR} or enter a folder",
                                       interactive=not settings.restricted, scale=4, elem_id="hfs-bench-dir")
                bench_btn = gr.Button("Load", scale=1, elem_id="hfs-bench-load")
            bench_status = gr.Markdown(elem_id="hfs-bench-status")
            bench_gallery = gr.Gallery(label="Plots", columns=2, height="auto", elem_id="hfs-bench-plots")
            bench_tables = gr.Markdown(elem_id="hfs-bench-tables")
            with gr.Accordion("results.json", open=False):
                bench_report = gr.JSON()

            def show_bench(folder: str) -> tuple:
                if settings.restricted:
                    folder = settings.bench_dir or ""
                try:
                    view = load_bench(folder)
                except Exception as exc:  # noqa: BLE001
                    raise _error(exc) from None
                return view.status, view.images, view.tables, view.report

            bench_outputs = [bench_status, bench_gallery, bench_tables, bench_report]
            bench_btn.click(show_bench, inputs=bench_dir, outputs=bench_outputs, api_name="bench",
                            concurrency_limit=4, concurrency_id="bench")
            blocks.load(show_bench, inputs=bench_dir, outputs=bench_outputs, api_visibility="private",
                        concurrency_limit=4, concurrency_id="bench")

    blocks.queue(default_concurrency_limit=1, max_size=settings.queue_size)
    return blocks


def launch(
    host: str = "127.0.0.1",
    port: int | None = 7860,
    share: bool = False,
    *,
    settings: SpaceSettings | None = None,
    **kwargs: Any,
) -> Any:
    """Build and serve the app (blocks until interrupted unless ``prevent_thread_lock=True`` is passed).

    Args:
        host (`str`): interface to listen on (``0.0.0.0`` to serve a LAN or a container).
        port (`int`, *optional*): port (``None``: Gradio picks a free one from 7860).
        share (`bool`): also open a temporary public ``gradio.live`` link.
        settings (`SpaceSettings`, *optional*): limits (default: from the environment).
        **kwargs: passed to `gradio.Blocks.launch`.

    Returns:
        The `gradio.Blocks` app (its ``local_url`` says where it listens).
    """
    blocks = build_demo(settings)
    blocks.launch(server_name=host, server_port=port, share=share, show_error=True, **kwargs)
    return blocks
