"""The Gradio layout of the app: a *Search* tab over `hfsearch.Search` and a *Benchmark* tab over a
``hfsearch bench`` folder. The form's values become a `SearchConfig` in `hfsearch.app.form`; the search runs with
progress and a time budget in `hfsearch.app.worker`; results are rendered by `hfsearch.app.render`."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import constants
from ..errors import HFSearchError, one_line
from ..hub.links import hub_endpoint
from .bench_view import load_bench
from .demo_registry import DemoRegistry
from .form import build_config
from .labeling import LabelPanel, build_panel, panel_updates, wire_panel
from .render import details_markdown, md_escape, ranking_html, scores_figure, summary_markdown, write_downloads
from .settings import SpaceSettings
from .worker import in_search_thread, run_search

if TYPE_CHECKING:
    import gradio as gr

logger = logging.getLogger(__name__)

#: Files a visitor may upload as the target dataset.
UPLOAD_TYPES = [".csv", ".tsv", ".jsonl", ".json", ".parquet"]


#: Form fields filled by an example, in order.
EXAMPLE_FIELDS = ("task", "dataset", "split", "columns", "candidates", "samples", "hub_dir", "labels")

_INTRO = """# 🔎 hfsearch — which pretrained checkpoint fits my data?

Give an **unlabeled** dataset (a Hub id or a file) and a task: hfsearch lists candidate checkpoints, runs each on a
sample of your data and ranks them with label-free scores — *adaptivity* (Zhou et al., SSDBM 2022: how well a model's
training data covers yours), distribution distances, prediction confidence and a popularity prior — and recommends
one. No labels are read. The same search runs from Python (`hfsearch.find(...)`) and the CLI (`hfsearch find`).
"""


def _scorer_choices() -> list[tuple[str, str]]:
    from .. import scores as _scores  # noqa: F401  (registers every scorer)
    from ..scores.base import SCORERS

    choices = []
    for name, info in SCORERS.items():
        arrow = "↑" if info.higher_is_better else "↓"
        choices.append((f"{name} {arrow} ({info.kind})", name))
    return choices


def _scorer_help() -> str:
    from ..scores.base import SCORERS

    rows = [
        f"| `{n}` | {i.kind} | {'higher' if i.higher_is_better else 'lower'} | {md_escape(i.description)} |"
        for n, i in SCORERS.items()
    ]
    return "| scorer | kind | better | what it measures |\n|---|---|---|---|\n" + "\n".join(rows)


#: The task selected when the form opens (if registered).
DEFAULT_TASK = "text-classification"


def _task_help(name: str | None) -> str:
    """One line on the selected task (its adapter's description)."""
    from ..tasks import TASKS

    if not name or name not in TASKS:
        return ""
    desc = getattr(TASKS.get(name), "description", "") or ""
    return f"<small>{html.escape(desc)}</small>" if desc else ""


def error_message(exc: BaseException) -> gr.Error:
    import gradio as gr

    # duration=None: the message stays until closed (a search may take minutes; a 10 s toast is easily missed)
    if isinstance(exc, HFSearchError):
        return gr.Error(str(exc), duration=None, print_exception=False)
    logger.error("Search failed", exc_info=(type(exc), exc, exc.__traceback__))
    return gr.Error(f"The search failed unexpectedly: {one_line(exc)}", duration=None, print_exception=False)


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
        label_budget: float | None = 0,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio's way of asking for a progress tracker
    ) -> tuple:
        values = dict(
            task=task,
            dataset=dataset,
            config=config,
            split=split,
            column=columns,
            max_models=candidates,
            samples=samples,
            scores=scorers,
            rank_by=rank_by,
            models=models,
            author=author,
            search=name_filter,
            endpoint=endpoint,
            hub_dir=hub_dir,
            labels=labels,
            label_budget=label_budget,
        )
        # Every search runs (and is rendered) in the app's one search thread, whichever of Gradio's worker threads
        # took the request: the memory a search leaves in its thread is reused by the next one, not added up.
        return in_search_thread(run, values, upload, progress)

    def run(values: dict[str, Any], upload: Any, progress: gr.Progress) -> tuple:
        try:
            cfg = build_config(settings, values, upload=upload, demo=demo)
            if demo is not None and demo.is_demo(cfg.hub_dir):
                if demo.state != "ready":
                    progress(0.0, desc="Preparing the demo registry (built once, about a minute)")
                demo.ensure()
            from ..labeling import DeferredLabels
            from ..search import Search

            # With a label budget, the search asks nothing (DeferredLabels): the labeling panel continues its loop.
            search = Search(cfg, label_source=DeferredLabels() if cfg.label_budget else None)
            result = run_search(search, settings.timeout_s, lambda f, msg: progress(f, desc=msg))
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
                LabelPanel.start(search, link),
            )
        except gr.Error:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure becomes a one-line message
            raise error_message(exc) from None

    return search


def build_demo(settings: SpaceSettings | None = None) -> gr.Blocks:
    """The Gradio app: a *Search* tab over `hfsearch.Search` and a *Benchmark* tab over a ``hfsearch bench`` folder."""
    import gradio as gr

    from ..config import DEFAULT_SCORES

    settings = settings or SpaceSettings.from_env()
    demo_registry: DemoRegistry | None
    try:
        demo_registry = DemoRegistry(settings.demo_root)
    except Exception as exc:  # noqa: BLE001
        logger.warning("Demo registry unavailable: %s", one_line(exc))
        demo_registry = None
    if demo_registry is not None and settings.build_demo_registry:
        demo_registry.start()

    scorer_choices = _scorer_choices()
    scorer_names = [v for _, v in scorer_choices]
    default_scores = [s for s in DEFAULT_SCORES if s in scorer_names] or scorer_names[:1]
    from ..tasks import TASKS

    task_names = TASKS.names()
    default_task = DEFAULT_TASK if DEFAULT_TASK in task_names else (task_names[0] if task_names else None)
    limits = (
        f"Limits of this app: at most {settings.max_candidates} candidates and {settings.max_samples} samples per "
        f"search, {settings.timeout_s:.0f} s per search, uploads up to {settings.max_upload_mb:g} MB and "
        f"{settings.max_upload_rows:,} rows. One search runs at a time and {settings.queue_size} more may wait; "
        'when the queue is full a new search is refused at once ("busy, try again").'
    )

    with gr.Blocks(title="hfsearch — find the best checkpoint for your data") as blocks:
        gr.Markdown(_INTRO)
        with gr.Tab("Search", id="search"):
            with gr.Row():
                with gr.Column(scale=2):
                    with gr.Row():
                        with gr.Column(min_width=200):
                            task = gr.Dropdown(task_names, value=default_task, label="Task", elem_id="hfs-task")
                            task_help = gr.Markdown(_task_help(default_task), elem_id="hfs-task-help")
                        dataset = gr.Textbox(
                            label="Dataset (Hub id)",
                            placeholder="e.g. stanfordnlp/imdb",
                            elem_id="hfs-dataset",
                            scale=2,
                        )
                    upload = gr.File(
                        label="…or upload a data file (csv, tsv, jsonl, json, parquet)",
                        file_types=UPLOAD_TYPES,
                        elem_id="hfs-upload",
                        height=130,
                    )
                    with gr.Row():
                        config = gr.Textbox(label="Config", placeholder="default", elem_id="hfs-config")
                        split = gr.Textbox(label="Split", placeholder="test, else the first", elem_id="hfs-split")
                        columns = gr.Textbox(
                            label="Input column(s)", placeholder="auto-detected", elem_id="hfs-columns"
                        )
                    with gr.Row():
                        candidates = gr.Number(
                            value=settings.default_candidates,
                            precision=0,
                            label="Candidates",
                            info=f"at most {settings.max_candidates}",
                            elem_id="hfs-candidates",
                        )
                        samples = gr.Number(
                            value=settings.default_samples,
                            precision=0,
                            label="Samples",
                            info=f"target rows, at most {settings.max_samples}",
                            elem_id="hfs-samples",
                        )
                        label_budget = gr.Number(
                            value=0,
                            precision=0,
                            label="Labels you can give",
                            info=f"0: label-free; N: answer up to N rows after the ranking (at "
                            f"most {settings.max_labels})",
                            elem_id="hfs-label-budget",
                        )
                    scorers = gr.CheckboxGroup(
                        scorer_choices,
                        value=default_scores,
                        label="Scorers",
                        info="The ranking follows the first selected scorer unless 'Rank by' "
                        "is set (↑ higher is better, ↓ lower is better).",
                        elem_id="hfs-scorers",
                    )
                    with gr.Accordion("Advanced", open=False):
                        rank_by = gr.Dropdown(
                            [("(first selected scorer)", "")] + [(n, n) for n in scorer_names],
                            value="",
                            label="Rank by",
                            elem_id="hfs-rank-by",
                        )
                        models = gr.Textbox(
                            label="Explicit model list (comma or newline separated; skips the Hub query)",
                            lines=2,
                            elem_id="hfs-models",
                        )
                        with gr.Row():
                            author = gr.Textbox(label="Author / organisation", placeholder="any", elem_id="hfs-author")
                            name_filter = gr.Textbox(label="Name contains", placeholder="any", elem_id="hfs-search")
                        labels = gr.Textbox(
                            label="Target class names (when the dataset does not declare them)",
                            placeholder="negative, positive",
                            elem_id="hfs-labels",
                        )
                        endpoint = gr.Textbox(
                            label="Hub endpoint",
                            placeholder=hub_endpoint(),
                            interactive=not settings.restricted,
                            elem_id="hfs-endpoint",
                        )
                        hub_dir = gr.Textbox(
                            label="Local registry folder (hub_dir)",
                            elem_id="hfs-hub-dir",
                            placeholder="a folder laid out like the Hub",
                        )
                        with gr.Accordion("What the scorers measure", open=False):
                            gr.Markdown(_scorer_help())
                    run_btn = gr.Button("Search", variant="primary", elem_id="hfs-run")
                    gr.Markdown(limits)
                    demo_status = gr.Markdown(
                        demo_registry.status() if demo_registry else "", elem_id="hfs-demo-status"
                    )
                    example = demo_registry.example(settings) if demo_registry else None
                    if example is not None:
                        gr.Examples(
                            examples=[example],
                            inputs=[task, dataset, split, columns, candidates, samples, hub_dir, labels],
                            label="Offline example: rank the demo zoo for Yelp reviews (no network needed)",
                            example_labels=["demo zoo → hfsearch-demo/uci_yelp"],
                        )
                with gr.Column(scale=3):
                    panel = build_panel()
                    label_state = gr.State(None)
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

            task.change(
                _task_help,
                inputs=task,
                outputs=task_help,
                queue=False,
                show_progress="hidden",
                api_visibility="private",
            )
            handler = make_search_handler(settings, demo_registry)
            event = run_btn.click(
                handler,
                inputs=[
                    task,
                    dataset,
                    upload,
                    config,
                    split,
                    columns,
                    candidates,
                    samples,
                    scorers,
                    rank_by,
                    models,
                    author,
                    name_filter,
                    endpoint,
                    hub_dir,
                    labels,
                    label_budget,
                ],
                outputs=[summary, ranking, plot, details, json_btn, csv_btn, raw, label_state],
                api_name="search",
                concurrency_limit=1,
                concurrency_id="search",
            )
            event.then(
                panel_updates,
                inputs=label_state,
                outputs=panel.outputs(),
                queue=False,
                show_progress="hidden",
                api_visibility="private",
            )
            wire_panel(panel, label_state, [summary, ranking, plot, details, json_btn, csv_btn, raw])
            if demo_registry is not None and demo_registry.available:
                # While the registry builds in the background, its status line refreshes every few seconds.
                timer = gr.Timer(3.0, active=demo_registry.state == "building")

                def poll() -> tuple:
                    return demo_registry.status(), gr.Timer(active=demo_registry.state == "building")

                timer.tick(
                    poll, outputs=[demo_status, timer], queue=False, show_progress="hidden", api_visibility="private"
                )
                event.then(
                    poll, outputs=[demo_status, timer], queue=False, show_progress="hidden", api_visibility="private"
                )
                blocks.load(
                    poll, outputs=[demo_status, timer], queue=False, show_progress="hidden", api_visibility="private"
                )

        with gr.Tab("Benchmark", id="bench"):
            gr.Markdown(
                "Results of `hfsearch bench`: how well each scorer's ranking matched the candidates' true "
                "accuracy on labeled workloads."
            )
            with gr.Row():
                bench_dir = gr.Textbox(
                    value=settings.bench_dir or "",
                    label="Benchmark output folder",
                    placeholder=f"set {constants.ENV_BENCH_DIR} or enter a folder",
                    interactive=not settings.restricted,
                    scale=4,
                    elem_id="hfs-bench-dir",
                )
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
                    raise error_message(exc) from None
                return view.status, view.images, view.tables, view.report

            bench_outputs = [bench_status, bench_gallery, bench_tables, bench_report]
            bench_btn.click(
                show_bench,
                inputs=bench_dir,
                outputs=bench_outputs,
                api_name="bench",
                concurrency_limit=4,
                concurrency_id="bench",
            )
            blocks.load(
                show_bench,
                inputs=bench_dir,
                outputs=bench_outputs,
                api_visibility="private",
                concurrency_limit=4,
                concurrency_id="bench",
            )

    blocks.queue(default_concurrency_limit=1, max_size=settings.queue_size)
    return blocks
