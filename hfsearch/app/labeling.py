"""The *Search* tab's labeling panel: after a search with "Labels you can give" > 0, the rows the label loop chooses are
shown one at a time with a button per class, *Skip* and *Stop and rank*; every answer updates the ranking at once.

The panel drives the same `hfsearch.labeling.LabelSession` as ``hfsearch find --label-budget`` (the search ran with a
`DeferredLabels` source, which asks nothing, so the session waits in the search's state); the session and the result
live in the visitor's Gradio state, never shared between visitors.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .render import (
    details_markdown,
    ranking_html,
    scores_figure,
    summary_markdown,
    write_downloads,
)

if TYPE_CHECKING:
    import gradio as gr

    from ..labeling import LabelSession
    from ..rank.result import SearchResult

#: Class buttons the panel has (a target with more classes answers with the dropdown instead).
MAX_CLASS_BUTTONS = 12


@dataclass
class LabelPanel:
    """One visitor's labeling session: the loop, the result it updates, and the row on screen.

    Args:
        session (`LabelSession`): the label loop of the search.
        result (`SearchResult`): the ranking it updates.
        link (`dict`): ``endpoint`` / ``hub_dir`` for the model links.
    """

    session: LabelSession
    result: SearchResult
    link: dict[str, Any] = field(default_factory=dict)
    row: int | None = None
    stopped: bool = False

    @classmethod
    def start(cls, search: Any, link: dict[str, Any]) -> LabelPanel | None:
        """The panel of a finished search that has a label session (``None`` otherwise)."""
        session = search.state.labels
        if session is None or search.result is None:
            return None
        panel = cls(session, search.result, dict(link))
        panel.row = session.next_row()
        return panel

    @property
    def done(self) -> bool:
        return self.stopped or self.row is None

    def _advance(self) -> None:
        self.session.apply(self.result.candidates)
        self.result.labels = self.session.summary()
        self.row = None if self.stopped else self.session.next_row()

    def answer(self, label: int) -> None:
        """The class id of the row on screen."""
        if self.row is not None and not self.stopped and 0 <= label < len(self.session.class_names):
            self.session.observe(self.row, int(label))
            self._advance()

    def skip(self) -> None:
        """Never ask the row on screen again (free)."""
        if self.row is not None and not self.stopped:
            self.session.skip(self.row)
            self._advance()

    def stop(self) -> None:
        """Rank with the labels given so far."""
        self.stopped = True
        self._advance()

    def progress(self) -> str:
        s = self.session
        if self.done:
            why = "stopped" if self.stopped else ("budget spent" if s.remaining == 0 else "no row left to ask")
            return (
                f"**Labeling done** ({why}): {s.n_labeled} of {s.budget} labels used. The ranking below includes them."
            )
        return (
            f"**Label {s.n_labeled + 1} of {s.budget}** — rows are chosen where the leading candidates disagree. "
            "The ranking updates with every answer."
        )

    def question(self) -> str:
        if self.row is None or self.stopped:
            return ""
        view = self.session.view(self.row)
        cells = "".join(
            f"<p><b>{html.escape(k)}</b><br>{html.escape(v)}</p>"
            if len(view.fields) > 1
            else f"<p style='font-size:1.1em'>{html.escape(v)}</p>"
            for k, v in view.fields.items()
        )
        return f"<div id='hfs-label-row' data-row='{view.index}'>{cells}<small>split row {view.index}</small></div>"


# ---- Gradio wiring -------------------------------------------------------------------------------------------------
@dataclass
class PanelComponents:
    """The panel's components (built by `build_panel` inside the results column)."""

    group: Any
    progress: Any
    row: Any
    buttons: list[Any]
    choice: Any
    give: Any
    skip: Any
    stop: Any

    def outputs(self) -> list[Any]:
        return [self.group, self.progress, self.row, *self.buttons, self.choice, self.give, self.skip, self.stop]


def build_panel() -> PanelComponents:
    """The (hidden) labeling panel."""
    import gradio as gr

    with gr.Group(visible=False, elem_id="hfs-label-panel") as group:
        progress = gr.Markdown(elem_id="hfs-label-progress")
        row = gr.HTML(elem_id="hfs-label-text")
        with gr.Row():
            buttons = [
                gr.Button(f"class {k}", visible=False, elem_id=f"hfs-label-{k}", min_width=80)
                for k in range(MAX_CLASS_BUTTONS)
            ]
        with gr.Row():
            choice = gr.Dropdown([], label="Class", visible=False, elem_id="hfs-label-choice", scale=3)
            give = gr.Button("Give label", visible=False, elem_id="hfs-label-give", scale=1)
        with gr.Row():
            skip = gr.Button("Skip this row", elem_id="hfs-label-skip", variant="secondary")
            stop = gr.Button("Stop and rank", elem_id="hfs-label-stop", variant="stop")
    return PanelComponents(group, progress, row, buttons, choice, give, skip, stop)


def panel_updates(panel: LabelPanel | None) -> list[Any]:
    """Updates of `PanelComponents.outputs` for `panel` (hidden when there is none)."""
    import gradio as gr

    if panel is None:
        return [
            gr.Group(visible=False),
            "",
            "",
            *[gr.Button(visible=False)] * MAX_CLASS_BUTTONS,
            gr.Dropdown(visible=False),
            gr.Button(visible=False),
            gr.Button(visible=True),
            gr.Button(visible=True),
        ]
    names = panel.session.class_names
    asking = not panel.done
    few = len(names) <= MAX_CLASS_BUTTONS
    buttons = [
        gr.Button(value=names[k] if k < len(names) else f"class {k}", visible=asking and few and k < len(names))
        for k in range(MAX_CLASS_BUTTONS)
    ]
    return [
        gr.Group(visible=True),
        panel.progress(),
        panel.question(),
        *buttons,
        gr.Dropdown(choices=[(n, i) for i, n in enumerate(names)], value=None, visible=asking and not few),
        gr.Button(visible=asking and not few),
        gr.Button(visible=asking),
        gr.Button(visible=asking),
    ]


def result_updates(panel: LabelPanel) -> list[Any]:
    """The result outputs (summary, ranking, plot, details, downloads, raw JSON) after the panel's latest answer."""
    import gradio as gr

    result = panel.result
    json_path, csv_path = write_downloads(result)
    return [
        summary_markdown(result, **panel.link),
        ranking_html(result, **panel.link),
        scores_figure(result),
        details_markdown(result, **panel.link),
        gr.DownloadButton(value=json_path, visible=True),
        gr.DownloadButton(value=csv_path, visible=True),
        result.to_dict(),
    ]


def wire_panel(components: PanelComponents, state: gr.State, result_outputs: list[Any]) -> None:
    """Connect the panel's buttons: each answer updates the loop, the result outputs and the panel."""

    def act(panel: LabelPanel | None, what: str, value: Any = None) -> list[Any]:
        import gradio as gr

        if panel is None:
            return [*[gr.skip()] * len(result_outputs), *panel_updates(None), None]
        if what == "answer" and value is not None:
            panel.answer(int(value))
        elif what == "skip":
            panel.skip()
        elif what == "stop":
            panel.stop()
        return [*result_updates(panel), *panel_updates(panel), panel]

    outputs = [*result_outputs, *components.outputs(), state]
    common = {
        "outputs": outputs,
        "show_progress": "minimal",
        "api_visibility": "private",
        "concurrency_limit": 4,
        "concurrency_id": "label",
    }
    for k, button in enumerate(components.buttons):
        button.click(lambda panel, k=k: act(panel, "answer", k), inputs=state, **common)
    components.give.click(
        lambda panel, choice: act(panel, "answer", choice), inputs=[state, components.choice], **common
    )
    components.skip.click(lambda panel: act(panel, "skip"), inputs=state, **common)
    components.stop.click(lambda panel: act(panel, "stop"), inputs=state, **common)
