"""Where the label loop's labels come from: a *label source* answers one target row at a time.

A source is asked only for the rows the loop chooses, one at a time, and never for more than the label budget:

- `ColumnLabels`: labels already in the data (``--label-column COL``), read row by row, only for the asked rows;
- `hfsearch.labeling.prompt.PromptLabels`: a person at the terminal (``hfsearch find --label-budget N``);
- `DeferredLabels`: nothing now; the caller drives the loop itself afterwards (the Space's labeling panel);
- any subclass of `LabelSource` (Python API: ``hfsearch.find(..., label_budget=20, label_source=my_source)``).

An answer is a class id (an index into the target's class names), ``None`` (skip this row: it costs nothing and is
never asked again) or `STOP` (rank with the labels given so far).

```python
>>> class Oracle(LabelSource):
...     def __init__(self, labels): self.labels = labels
...     def ask(self, row, view, class_names): return int(self.labels[row])
```
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np


class _Stop:
    """The answer "stop asking and rank with the labels given so far" (`STOP`, the one instance)."""

    def __repr__(self) -> str:
        return "STOP"


#: Answer of a source that wants to stop (rank with what was given).
STOP: Final = _Stop()

#: What a source may answer: a class id, ``None`` (skip the row) or `STOP`.
Answer = int | None | _Stop

#: Longest text shown for one field of a row.
MAX_FIELD_CHARS = 1200


@dataclass
class RowView:
    """A target row as a person sees it.

    Attributes:
        row (`int`): its position in the target sample (what the loop counts in).
        index (`int`): its index in the split.
        fields (`dict[str, str]`): each input column, as text (long values cut, images and arrays described).
    """

    row: int
    index: int
    fields: dict[str, str] = field(default_factory=dict)

    def to_text(self) -> str:
        """The fields as ``column: value`` lines (one field: the value alone)."""
        if len(self.fields) == 1:
            return next(iter(self.fields.values()))
        return "\n".join(f"{k}: {v}" for k, v in self.fields.items())


def describe_value(value: Any, max_chars: int = MAX_FIELD_CHARS) -> str:
    """One input cell as text: strings as they are (cut), word lists joined, images and arrays by their shape."""
    if value is None:
        return "(missing)"
    if isinstance(value, str):
        text = value
    elif hasattr(value, "size") and hasattr(value, "mode") and not isinstance(value, np.ndarray):  # a PIL image
        w, h = value.size
        text = f"(image {w}×{h}, {value.mode})"
    elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        text = " ".join(value)
    elif isinstance(value, (list, tuple, np.ndarray)):
        arr = np.asarray(value, dtype=object)
        try:
            arr = np.asarray(value, dtype=np.float64)
            text = f"(array of shape {tuple(arr.shape)}, mean {float(np.nanmean(arr)):.3g})" if arr.size else "(empty)"
        except (TypeError, ValueError):
            text = f"(list of {len(value)} values)"
    else:
        text = str(value)
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"


def row_view(rows: Any, columns: Sequence[str], row: int, index: int | None = None) -> RowView:
    """The `RowView` of position `row` of a `datasets.Dataset` (only its input `columns` are read)."""
    record = rows[int(row)]
    return RowView(
        row=int(row),
        index=int(row if index is None else index),
        fields={c: describe_value(record.get(c)) for c in columns},
    )


class LabelSource:
    """Base class of label sources (see the module docstring). Subclasses implement `ask`."""

    def ask(self, row: int, view: RowView, class_names: Sequence[str]) -> Answer:
        """The label of target row `row` (position in the sample): a class id, ``None`` (skip) or `STOP`."""
        raise NotImplementedError

    def begin(self, budget: int, answered: int) -> None:
        """Called once before the first question (`answered`: labels already given in an earlier session)."""

    def recorded(self) -> list[tuple[int, int | None]]:
        """Answers given in an earlier session, in order (``(row, class id or None for a skip)``), to resume."""
        return []

    def record(self, row: int, answer: int | None) -> None:
        """Called after each answer (a source that keeps them, for resuming, writes it here)."""

    def end(self, used: int, budget: int) -> None:
        """Called once when the loop ends (budget spent, `STOP`, or no row left)."""


class DeferredLabels(LabelSource):
    """A source that answers nothing now: the search keeps its `LabelSession` (``Search.state.labels``) and the caller
    asks the rows later, at its own pace (the Space's labeling panel)."""

    def ask(self, row: int, view: RowView, class_names: Sequence[str]) -> Answer:
        return STOP


class ColumnLabels(LabelSource):
    """Labels already in the data, read only for the rows the loop asks for (``--label-column``).

    Args:
        values (`datasets.Dataset`): the sampled target rows, holding only the label column, in sample order.
        column (`str`): the label column.
        feature (`datasets.ClassLabel` or `Value`, *optional*): its feature (class names of a `ClassLabel`).
        class_names (`Sequence[str]`, *optional*): the target's class names (to map names and `ClassLabel` ids).

    Attributes:
        reads (`list[int]`): the rows read so far (the budget caps it: asked rows only).
        unreadable (`int`): asked rows whose value is missing or not a target class (skipped).
    """

    def __init__(self, values: Any, column: str, feature: Any = None, class_names: Sequence[str] | None = None) -> None:
        self._values = values
        self.column = column
        self.feature_names = list(getattr(feature, "names", None) or []) or None
        self.class_names = list(class_names) if class_names else None
        self.reads: list[int] = []
        self.unreadable = 0

    def ask(self, row: int, view: RowView, class_names: Sequence[str]) -> Answer:
        self.reads.append(int(row))
        answer = self.to_class_id(self._values[int(row)][self.column], class_names or self.class_names or [])
        if answer is None:
            self.unreadable += 1
        return answer

    def to_class_id(self, value: Any, class_names: Sequence[str]) -> int | None:
        """A column value as a target class id (``None``: missing or no such class)."""
        from ..candidates.labels import normalize

        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        names = {normalize(str(n)): i for i, n in enumerate(class_names)}
        if isinstance(value, str):
            text = value.strip()
            if normalize(text) in names:
                return names[normalize(text)]
            if text.lstrip("-").isdigit():
                value = int(text)
            else:
                return None
        if isinstance(value, (bool, np.bool_)):
            value = int(value)
        if not isinstance(value, (int, np.integer)) and not (isinstance(value, float) and float(value).is_integer()):
            return None
        k = int(value)
        if self.feature_names is not None and 0 <= k < len(self.feature_names) and names:
            return names.get(normalize(self.feature_names[k]))  # a ClassLabel id, mapped by its name
        n_classes = len(class_names) if class_names else None
        return k if k >= 0 and (n_classes is None or k < n_classes) else None


class ArrayLabels(LabelSource):
    """Labels from an array, revealed only for the asked rows (tests, simulations, labels kept elsewhere).

    Args:
        labels (`Sequence[int]` or `Mapping[int, int]`): class id per target row (``None`` / ``-1``: skip).
        stop_after (`int`, *optional*): answer `STOP` after this many answers.
    """

    def __init__(self, labels: Sequence[int | None] | Mapping[int, int | None], stop_after: int | None = None) -> None:
        self.labels = labels
        self.stop_after = stop_after
        self.reads: list[int] = []

    def ask(self, row: int, view: RowView, class_names: Sequence[str]) -> Answer:
        if self.stop_after is not None and len(self.reads) >= self.stop_after:
            return STOP
        self.reads.append(int(row))
        value = self.labels[int(row)]
        return None if value is None or int(value) < 0 else int(value)
