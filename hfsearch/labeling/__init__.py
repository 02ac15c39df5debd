"""Labels, when a few are cheap: the label loop of a search, its label sources and the terminal prompt.

- `LabelSession`: one search's loop (`hfsearch.consensus.selection.LabelLoop` over the candidates' target predictions,
  starting from their label-free predicted accuracy);
- `LabelSource` and its kinds: `ColumnLabels` (``--label-column``), `PromptLabels` (the terminal), `DeferredLabels`
  (the Space drives the loop itself), `ArrayLabels` (labels held elsewhere); `STOP`;
- `AnswerStore`: the prompt's saved answers, so that an interrupted session resumes.
"""

from .prompt import AnswerStore, PromptLabels, parse_answer
from .session import LabelSession
from .sources import (
    STOP,
    ArrayLabels,
    ColumnLabels,
    DeferredLabels,
    LabelSource,
    RowView,
    describe_value,
    row_view,
)

__all__ = [
    "STOP",
    "AnswerStore",
    "ArrayLabels",
    "ColumnLabels",
    "DeferredLabels",
    "LabelSession",
    "LabelSource",
    "PromptLabels",
    "RowView",
    "describe_value",
    "parse_answer",
    "row_view",
]
