"""Task adapters: everything that depends on what a sample *is*.

One adapter per task (registered in `TASKS`). The runner and the scorers are task-agnostic: they call the adapter to
find the input columns, build the raw-input view the paper histograms, load a model, encode the sample once per
preprocessor, batch it, and run a forward pass that returns logits and pooled features.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from datasets import ClassLabel, Dataset, Features, Value

from ..candidates.candidate import Candidate
from ..candidates.labels import Alignment, align_labels
from ..data.sample import column_values
from ..data.validate import drop_invalid_rows, null_rows
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
            require_columns(features, columns)
            lo, hi = self.n_inputs
            if not lo <= len(columns) <= hi:
                want = str(lo) if lo == hi else f"{lo} to {hi}"
                raise ColumnError(
                    f"Task {self.name!r} takes {want} input column(s), got {len(columns)}: {', '.join(columns)}."
                )
            if len(set(columns)) != len(columns):
                raise ColumnError(f"--column names a column twice: {', '.join(columns)}.")
            return list(columns)
        candidates = [n for n in names if n != label and self.is_input_feature(n, features[n])]
        if not candidates:
            raise ColumnError(
                f"No input column for task {self.name!r} found; columns are: {', '.join(names)}. Use --column."
            )
        if len(candidates) == 1:
            return candidates
        preferred = [n for n in self.preferred_inputs if n in candidates]
        if preferred:
            return [preferred[0]]
        raise ColumnError(
            f"Ambiguous input column for task {self.name!r}: {', '.join(candidates)}. Choose with --column."
        )

    def label_column(self, features: Features) -> str | None:
        """The label column, if any: a `ClassLabel` feature (the conventionally named one when there are several, so
        that ``source: ClassLabel[web, news]`` beside ``label`` is not taken for the target), else a conventionally
        named column."""
        class_labels = [name for name, feat in features.items() if isinstance(feat, ClassLabel)]
        for name in LABEL_NAMES:
            if name in class_labels:
                return name
        if len(class_labels) == 1:
            return class_labels[0]
        for name in LABEL_NAMES:
            if name in features:
                return name
        return class_labels[0] if class_labels else None

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

    # ---- task options, discovery and data preparation (generic hooks; defaults leave everything unchanged) -------
    def configure(self, **options: Any) -> TaskAdapter:
        """The adapter to use for one search, given the task's options (``window=…, stride=…`` for time series).

        Options left at ``None`` are not passed. The default takes none and returns the shared adapter itself; an
        adapter that takes options returns a new instance, so that no state is shared between searches.

        Raises:
            `TaskError`: an option the task does not take.
        """
        if options:
            flags = ", ".join("--" + k.replace("_", "-") for k in sorted(options))
            raise TaskError(f"Task {self.name!r} does not take {flags}.")
        return self

    def hub_queries(self) -> list[dict[str, Any]]:
        """``HfApi.list_models`` filters that find this task's checkpoints (one listing per entry, merged).

        Default: one query by the task's ``pipeline_tag``. A task without a Hub pipeline tag lists by ``filter=`` tags.
        """
        return [{"pipeline_tag": self.pipeline_tag}]

    def accepts(self, info: Any) -> bool:
        """Whether a listed `huggingface_hub.ModelInfo` is a checkpoint of this task (default: every listed one).

        Lets a task listed by broad tags drop checkpoints of other heads (e.g. forecasting vs classification).
        """
        return True

    def prepare(
        self, ds: Dataset, columns: list[str], label_column: str | None, warnings: list[str]
    ) -> tuple[Dataset, list[str], str | None]:
        """Turn a loaded split into the task's examples before sampling (target and sources alike).

        Default: drops the rows whose input cells the task cannot use (`invalid_rows`), with one counted warning, and
        stops when more than `hfsearch.data.validate.MAX_BAD_SHARE` of them are unusable. Time series cut recordings
        into windows here. Returns ``(dataset, input columns, label column)``; notes for the user are appended to
        `warnings`.

        Raises:
            `DatasetError`: the data cannot be turned into examples (one line saying why and what to pass).
        """
        ds = drop_invalid_rows(ds, self.invalid_rows(ds, columns), what=self.invalid_cells, warnings=warnings)
        return ds, columns, label_column

    #: What an unusable input cell is, in messages ("dropped 3 of 120 rows of data.jsonl with a missing 'image'").
    invalid_cells: ClassVar[str] = "a missing"

    def invalid_rows(self, ds: Dataset, columns: list[str]) -> dict[str, np.ndarray]:
        """Per input column, a boolean mask of the rows the task cannot use (vectorised over Arrow).

        Default: null cells, and lists holding a null (`hfsearch.data.validate.null_rows`). Text tasks also refuse
        empty and non-string cells.
        """
        return {c: null_rows(ds, c) for c in columns}

    def bind_target(self, target: Any) -> None:
        """Called with the target `Sample` once it is drawn, before any candidate runs (e.g. to record its shape for
        `check_compatible`). Optional hook; the default does nothing."""
        return None

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

    #: Whether `load_preprocessor` reads nothing but what `preprocessor_key` hashes, so that two folders with one key
    #: get the same preprocessor and the runner loads it once; otherwise (the default) each folder loads its own.
    preprocessor_from_key: ClassVar[bool] = False

    @abstractmethod
    def encode(self, preprocessor: Any, rows: Dataset, columns: list[str], *, max_length: int) -> Encoded:
        """Encode the whole sample once (no padding yet)."""

    @abstractmethod
    def batches(
        self, encoded: Encoded, batch_size: int, preprocessor: Any
    ) -> Iterator[tuple[np.ndarray, dict[str, Any]]]:
        """Yield ``(row_indices, model_inputs)`` batches, grouped by length to minimise padding."""

    @abstractmethod
    def forward(self, model: Any, batch: dict[str, Any]) -> tuple[Any, Any]:
        """Run the model on a batch; return ``(logits, pooled_features)`` as tensors, one row per sample."""

    def check_compatible(self, candidate: Candidate, model: Any) -> None:
        """Raise `CandidateError` if the model cannot run on this task's data (e.g. channel mismatch).

        Optional hook; the default accepts every model.
        """
        return None

    # ---- labels and outputs ------------------------------------------------------------------------------------
    # Hooks with defaults for tasks that predict one label per row (text, images). A task whose rows carry several
    # predictions (one per word: token classification) overrides them; the pipeline and the scorers only see what
    # these hooks return.

    #: Ground-truth metrics the task can compute (benchmark mode, see `evaluate`).
    metrics: ClassVar[tuple[str, ...]] = ("accuracy", "f1")

    def prepare_label_names(self, names: list[str] | None) -> list[str] | None:
        """The target's label space as the task uses it (from ``--labels`` or the dataset's `ClassLabel` names).

        Raises:
            `DatasetError`: the task cannot work without the label names and none are known.
        """
        return names

    def align_labels(self, id2label: dict[int, str] | None, target_names: list[str]) -> Alignment:
        """Map the model's labels onto the target's (`hfsearch.candidates.labels.align_labels` by default)."""
        return align_labels(id2label, target_names)

    def score_logits(self, logits: np.ndarray) -> np.ndarray:
        """The stored logits of a sample as the scorers see them: ``(predictions, num_model_labels)``.

        The runner stores one fixed-shape array per row; by default that is already one prediction per row.
        """
        return logits

    def predictions(self, logits: np.ndarray, label_map: dict[int, int] | None) -> np.ndarray:
        """Predicted *target* label ids, one per prediction of `score_logits` (``-1``: no target counterpart)."""
        logits = self.score_logits(logits)
        pred = logits.argmax(axis=1)
        lut = np.full(logits.shape[1], -1, dtype=np.int64)
        for m, t in (label_map or {}).items():
            if 0 <= m < len(lut):
                lut[m] = t
        return lut[pred]

    def unmapped_label(self, label_names: list[str] | None) -> int | None:
        """The target class a prediction without a target counterpart stands for (``None``: it is simply wrong, as
        for classification; token classification reads it as ``O``)."""
        return None

    def expected_metric(self, metric: str, q: np.ndarray, pred: np.ndarray, target: Any) -> float:
        """`metric` of the predictions `pred` (target class ids, ``-1``: none) if the true classes follow the posterior
        `q` `(predictions, classes)`: how the accuracy estimators turn their belief into a predicted metric (see
        `hfsearch.estimate.target`). `target` is the target `Sample` (for tasks whose metric needs its structure)."""
        from ..estimate.target import expected_accuracy, expected_f1

        if metric == "accuracy":
            return expected_accuracy(q, pred)
        if metric == "f1":
            return expected_f1(q, pred)
        raise ValueError(f"unknown metric {metric!r} for task {self.name!r} (known: {', '.join(self.metrics)})")

    def heldout_labels(
        self, rows: Dataset, column: str, features: Features, id2label: dict[int, str] | None
    ) -> np.ndarray:
        """The labels of a candidate's held-out source rows as the candidate's own label ids, one per prediction
        (``-1`` where a label has no counterpart among the model's labels).

        Class names (a `ClassLabel`, or string labels) are aligned with the model's ``id2label``; plain integers
        without names are taken as the model's ids (a checkpoint fine-tuned on a dataset keeps its label ids).
        """
        values = column_values(rows, column)
        feature = features[column]
        k = len(id2label or {})
        if isinstance(feature, ClassLabel):
            names: list[str] = list(feature.names)
            ids = [int(v) for v in values]
        elif any(isinstance(v, str) for v in values) and all(isinstance(v, str) or v is None for v in values):
            names = sorted({str(v) for v in values if v is not None})
            index = {n: i for i, n in enumerate(names)}
            ids = [index[str(v)] if v is not None else -1 for v in values]  # a missing label counts as no label
        else:
            return np.array([int(v) if v is not None and 0 <= int(v) < k else -1 for v in values], dtype=np.int64)
        to_model = invert_label_map(align_labels(id2label, names).label_map, id2label, names)
        return np.array([to_model.get(i, -1) for i in ids], dtype=np.int64)

    def evaluate(self, metric: str, labels: Any, predictions: np.ndarray, label_names: list[str] | None) -> float:
        """Ground truth (benchmark mode only): `metric` of `predictions` (from `predictions`) against `labels`.

        ``accuracy``; ``f1``: binary F1 of the positive class (id 1) for a two-class label space (entity matching),
        else macro F1 over the classes present in `labels`. Predictions of model labels with no target counterpart
        (``-1``) count as wrong. Computed by the `evaluate` modules shipped in `hfsearch.evaluate_modules` (loaded by
        path, offline).
        """
        from ..evaluate_modules import load

        labels = _class_ids(labels)
        predictions = _class_ids(predictions)
        if metric == "accuracy":
            return float(load("accuracy").compute(predictions=predictions, references=labels)["accuracy"])
        if metric == "f1":
            classes = [int(c) for c in np.unique(labels)]
            binary = len(label_names) == 2 if label_names else set(classes) <= {0, 1}
            scored = [1] if binary else classes  # -1 predictions count as misses
            result = load("f1").compute(
                predictions=predictions, references=labels, labels=scored, average="macro", zero_division=0
            )
            return float(result["f1"])
        raise ValueError(f"unknown metric {metric!r} for task {self.name!r} (known: {', '.join(self.metrics)})")

    # ---- reference space ---------------------------------------------------------------------------------------
    #: Identifies the shared reference encoder (part of its cache key); ``None`` if the task has none.
    reference_id: ClassVar[str | None] = None

    #: Whether the reference features are worth caching on disk: an encoder's forward passes are, and its bounded
    #: features lose nothing that matters in the cache's float16. Cheap statistics of raw values (which may sit on
    #: large offsets, or overflow float16) are recomputed exactly instead.
    reference_cached: ClassVar[bool] = True

    def embed_reference(self, rows: Dataset, columns: list[str], *, batch_size: int, device: Any) -> np.ndarray:
        """Features of a fixed encoder shared by every candidate (the ``reference`` space)."""
        raise ReferenceUnavailable(f"task {self.name!r} has no reference encoder")

    def reference_precision(self, device: Any) -> str:
        """The precision the reference encoder computes in on `device` (part of its cache key): ``"fp32"`` unless
        the task's encoder runs in bf16 where the device computes bf16 natively."""
        return "fp32"


TASKS: Registry[TaskAdapter] = Registry("task", TaskError)


def register_task(cls: type[TaskAdapter]) -> type[TaskAdapter]:
    """Class decorator: register an adapter under its ``name``."""
    TASKS.add(cls.name, cls())
    return cls


def get_task(name: str) -> TaskAdapter:
    """The adapter for task `name` (did-you-mean error if unknown)."""
    if not name:
        raise TaskError("No task given.")
    return TASKS.get(name)  # the registry's error suggests a close name, else lists the known ones


def require_columns(features: Features, columns: list[str]) -> None:
    """Raise `ColumnError` naming the first of `columns` that the dataset does not have, and the ones it has."""
    missing = [c for c in columns if c not in features]
    if missing:
        raise ColumnError(f"Column {missing[0]!r} not found; columns are: {', '.join(features)}.")


def files_key(path: str, names: tuple[str, ...]) -> str:
    """A content key of the preprocessor files `names` present in the folder `path` (name and bytes of each), and of
    the ``model_type`` and ``tokenizer_class`` in its ``config.json`` (the ``Auto*`` classes fall back on them to
    choose the preprocessor's class): candidates whose tokenizer or image processor files are identical share one
    encoding of the sample and one preprocessor object."""
    h = hashlib.sha256()
    try:
        config = json.loads((Path(path) / "config.json").read_text())
    except (OSError, ValueError):
        config = {}
    if isinstance(config, dict):
        h.update(repr((config.get("model_type"), config.get("tokenizer_class"))).encode())
    for name in names:
        f = Path(path) / name
        if f.is_file():
            h.update(name.encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:24]


def invert_label_map(label_map: dict[int, int], id2label: dict[int, str] | None, names: list[str]) -> dict[int, int]:
    """Data label index → model label index, from a model → data `label_map`. Where several model labels map to one
    data label (a token model's extra entity types all read as ``O``), the one of the same name wins, else the first."""
    from ..candidates.labels import normalize

    out: dict[int, int] = {}
    for m in sorted(label_map):
        t = label_map[m]
        same = normalize((id2label or {}).get(m, "")) == normalize(names[t])
        if t not in out or (same and normalize((id2label or {}).get(out[t], "")) != normalize(names[t])):
            out[t] = m
    return out


def _class_ids(values: Any) -> np.ndarray:
    """`values` as an int64 array of class ids (ground-truth metrics compare ids).

    Raises:
        `ValueError`: the values are not whole numbers (e.g. label strings that were never mapped to ids).
    """
    arr = np.asarray(values)
    if arr.dtype.kind in "iub":
        return arr.astype(np.int64)
    try:
        ids = arr.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"ground-truth metrics need class ids, got values of type {arr.dtype}") from None
    if not np.all(np.isfinite(ids)) or not np.all(ids == np.round(ids)):
        raise ValueError("ground-truth metrics need class ids, got non-integer values")
    return ids.astype(np.int64)


def is_string(feature: Any) -> bool:
    return isinstance(feature, Value) and feature.dtype in ("string", "large_string")


class ReferenceUnavailable(Exception):
    """The task has no reference encoder that loads offline."""
