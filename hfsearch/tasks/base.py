"""Task adapters: everything that depends on what a sample *is*.

One adapter per task (registered in `TASKS`). The runner and the scorers are task-agnostic: they call the adapter to
find the input columns, build the raw-input view the paper histograms, load a model, encode the sample once per
preprocessor, batch it, and run a forward pass that returns logits and pooled features.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Iterator

import numpy as np
from datasets import ClassLabel, Dataset, Features, Value

from ..candidates.candidate import Candidate
from ..errors import ColumnError, TaskError
from ..registry import Registry
from ..scores.base import RawData

#: Column names treated as labels (dropped before scoring, used as ground truth in benchmark mode).
LABEL_NAMES = ("label", "labels", "target", "class", "y", "tags", "ner_tags", "gold_label")


@dataclass
class Encoded:
    """A sample encoded by one preprocessor (tokenizer, image processor…), reused by every model sharing it."""

    inputs: dict[str, Any]
    lengths: np.ndarray  # per-row cost proxy used to bucket batches (token count, 1 for fixed-size inputs)


class TaskAdapter(ABC):
    """Base class of task adapters."""

    #: hfsearch task name (``--task``).
    name: ClassVar[str]
    #: Hub ``pipeline_tag`` used for discovery.
    pipeline_tag: ClassVar[str]
    #: Description for ``hfsearch tasks``.
    description: ClassVar[str] = ""

    # ---- columns -----------------------------------------------------------------------------------------------
    @abstractmethod
    def is_input_feature(self, name: str, feature: Any) -> bool:
        """Whether column `name` with `feature` can be this task's input."""

    #: How many input columns the task takes (``(min, max)``).
    n_inputs: ClassVar[tuple[int, int]] = (1, 1)
    #: Conventional input names, in preference order, used to break ties.
    preferred_inputs: ClassVar[tuple[str, ...]] = ()

    def resolve_columns(self, features: Features, columns: list[str] | None) -> list[str]:
        """The input column(s): `columns` if given (validated), else auto-detected.

        Raises:
            `ColumnError`: a given column is missing, or auto-detection finds none or several.
        """
        names = list(features)
        label = self.label_column(features)
        if columns:
            missing = [c for c in columns if c not in features]
            if missing:
                raise ColumnError(f"Column {missing[0]!r} not found; columns are: {', '.join(names)}.")
            lo, hi = self.n_inputs
            if not lo <= len(columns) <= hi:
                want = str(lo) if lo == hi else f"{lo} to {hi}"
                raise ColumnError(f"Task {self.name!r} takes {want} input column(s), got {len(columns)}: {', '.join(columns)}.")
            return list(columns)
        candidates = [n for n in names if n != label and self.is_input_feature(n, features[n])]
        if not candidates:
            raise ColumnError(f"No input column for task {self.name!r} found; columns are: {', '.join(names)}. Use --column.")
        if len(candidates) == 1:
            return candidates
        preferred = [n for n in self.preferred_inputs if n in candidates]
        if preferred:
            return [preferred[0]]
        raise ColumnError(
            f"Ambiguous input column for task {self.name!r}: {', '.join(candidates)}. Choose with --column."
        )

    def label_column(self, features: Features) -> str | None:
        """The label column, if any: a `ClassLabel` feature, else a conventionally named one."""
        for name, feat in features.items():
            if isinstance(feat, ClassLabel):
                return name
        for name in LABEL_NAMES:
            if name in features:
                return name
        return None

    def label_names(self, features: Features, column: str | None) -> list[str] | None:
        """Names of the target classes when the dataset declares them (`ClassLabel`)."""
        if column is None:
            return None
        feat = features[column]
        if isinstance(feat, ClassLabel):
            return list(feat.names)
        return None

    def labels_array(self, rows: Dataset, column: str) -> np.ndarray:
        """Ground-truth labels (benchmark mode only)."""
        return np.asarray(rows[column])

    # ---- raw view ----------------------------------------------------------------------------------------------
    @abstractmethod
    def raw(self, rows: Dataset, columns: list[str]) -> RawData:
        """The raw-input view of `rows` that the paper's histograms are built from."""

    # ---- models ------------------------------------------------------------------------------------------------
    @abstractmethod
    def load_model(self, path: str, *, allow_pickle: bool = False) -> Any:
        """Load the model from a local folder (already downloaded), ``trust_remote_code=False``."""

    @abstractmethod
    def load_preprocessor(self, path: str) -> Any:
        """Load the tokenizer / processor from a local folder."""

    def preprocessor_key(self, path: str) -> str:
        """A key identifying the preprocessor so that candidates sharing it reuse one encoding of the sample."""
        return path

    @abstractmethod
    def encode(self, preprocessor: Any, rows: Dataset, columns: list[str], *, max_length: int) -> Encoded:
        """Encode the whole sample once (no padding yet)."""

    @abstractmethod
    def batches(self, encoded: Encoded, batch_size: int, preprocessor: Any) -> Iterator[tuple[np.ndarray, dict[str, Any]]]:
        """Yield ``(row_indices, model_inputs)`` batches, grouped by length to minimise padding."""

    @abstractmethod
    def forward(self, model: Any, batch: dict[str, Any]) -> tuple[Any, Any]:
        """Run the model on a batch; return ``(logits, pooled_features)`` as tensors, one row per sample."""

    def check_compatible(self, candidate: Candidate, model: Any) -> None:
        """Raise `CandidateError` if the model cannot run on this task's data (e.g. channel mismatch)."""

    # ---- reference space ---------------------------------------------------------------------------------------
    #: Identifies the shared reference encoder (part of its cache key); ``None`` if the task has none.
    reference_id: ClassVar[str | None] = None

    def embed_reference(self, rows: Dataset, columns: list[str], *, batch_size: int, device: Any) -> np.ndarray:
        """Features of a fixed encoder shared by every candidate (the ``reference`` space)."""
        raise ReferenceUnavailable(f"task {self.name!r} has no reference encoder")


TASKS: Registry[TaskAdapter] = Registry("task", TaskError)


def register_task(cls: type[TaskAdapter]) -> type[TaskAdapter]:
    """Class decorator: register an adapter under its ``name``."""
    TASKS.add(cls.name, cls())
    return cls


def get_task(name: str) -> TaskAdapter:
    """The adapter for task `name` (did-you-mean error if unknown)."""
    if not name:
        raise TaskError("No task given.")
    try:
        return TASKS.get(name)
    except TaskError as exc:
        raise TaskError(f"{exc} Supported tasks: {', '.join(TASKS.names())}.") from None


def is_string(feature: Any) -> bool:
    return isinstance(feature, Value) and feature.dtype in ("string", "large_string")


class ReferenceUnavailable(Exception):
    """The task has no reference encoder that loads offline."""
