"""Time-series classification: windows of multichannel sensor data (activity recognition), univariate series and
fixed-length feature vectors.

**Inputs** (auto-detected; ``--column`` chooses). Series are laid out ``(time, channels)``:

1. *windows*: a column whose rows are ``(time, channels)`` arrays (``Array2D``, or nested lists such as
   ``[[ax, ay, az], [ax, ay, az], …]``);
2. *univariate series or feature vectors*: a column of fixed-length 1-D lists, read as a one-channel series of that
   length (engineered features per window work the same way: a model trained on them takes ``context_length =
   number of features`` and one channel);
3. *a long recording as a table*: one row per time step, one numeric column per channel (``--column ax,ay,az``;
   auto-detected as every numeric column but the label and id-like ones such as ``time`` or ``subject``).

With ``window`` (``--window N``) and ``stride`` (``--stride S``, default ``N``), each row of forms 1–2 (a recording)
is cut into windows of ``N`` time steps every ``S`` steps, and a table of form 3 is cut along its rows (a window's
label is then its most frequent step label). Without ``window``, rows of forms 1–2 must all have one length, and
form 3 is an error. A recording shorter than one window yields no window; if none yields one, the search stops with
a one-line error.

**Models.** ``transformers`` classifiers of series, found through ``MODEL_FOR_TIME_SERIES_CLASSIFICATION_MAPPING``
(``PatchTSTForClassification``, ``PatchTSMixerForTimeSeriesClassification``): transformers 5 has no public
``AutoModelForTimeSeriesClassification`` class, so the model class is looked up in that (public) mapping from the
checkpoint's ``AutoConfig`` — always with ``trust_remote_code=False`` and safetensors weights. A checkpoint whose
weights lack the classification head (a forecasting or pre-training PatchTST) is rejected, never run with a random
head. A model reads ``config.num_input_channels`` channels and ``config.context_length`` time steps: a channel
mismatch, or windows shorter than the context, skip the candidate with the reason (``--window`` fixes the latter);
longer windows are cut to their last ``context_length`` steps (as PatchTST's own patchifier keeps the most recent
steps).

**Discovery.** The Hub has no ``time-series-classification`` pipeline tag (its task list, huggingface.js
``pipelines.ts``, has only ``time-series-forecasting``); PatchTST checkpoints on the Hub carry
``pipeline_tag: time-series-forecasting`` or none, with tags such as ``time-series``, ``time series`` and the model
type (``patchtst``), which the Hub adds to every ``transformers`` repository from its ``config.json``. Candidates are
therefore listed with ``filter=<model type>`` for each model type that has a classification class (``patchtst``,
``patchtsmixer``), and kept only when their ``config.architectures`` names a classification class (forecasting and
pre-training checkpoints of the same model type are dropped). The local registry (``--hub-dir``) answers the same
queries.

**Feature spaces.** ``raw``: every window flattened (all values of a partition, min–max normalised, 100 bins: the
paper's numeric histograms). ``reference``: fixed per-channel statistics (mean, standard deviation, minimum, maximum
and energy = mean square of each channel) — no pretrained general-purpose series encoder loads offline, so this
fixed, model-free description of each window is the shared space. ``model``: the input of each candidate's final
classification layer (its pooled representation).
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from datasets import (
    Array2D,
    Array3D,
    Array4D,
    Array5D,
    ClassLabel,
    Dataset,
    Features,
    Value,
)

from ..candidates.candidate import Candidate
from ..data.validate import drop_invalid_rows, invalid_mask
from ..errors import ColumnError, DatasetError, TaskError
from ..scores.base import RawData
from .base import Encoded, TaskAdapter, register_task, require_columns
from .series_models import (  # re-exported: public names of this module before the split
    SeriesSpec,
    classification_classes,
    forward_params,
    head_linear,
    load_series_classifier,
    output_logits,
)

#: Column names that never hold a channel of a recording table (form 3), unless chosen with ``--column``.
ID_LIKE = re.compile(
    r"^(time|timestamp|ts|t|date|datetime|index|idx|id|.*_id|subject|user|participant|session|recording|side|"
    r"source_index|trial|fold|split|__index_level_0__)$",
    re.IGNORECASE,
)
_NUMERIC = (
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "float32",
    "float64",
    "double",
    "float",
    "bfloat16",
)
#: Preferred names of a series column when several qualify.
PREFERRED = ("series", "past_values", "signal", "signals", "values", "window", "features", "x")
#: Name of the series column built from a recording table (form 3).
SERIES_COLUMN = "series"


# ---- feature inspection ------------------------------------------------------------------------------------------
def _is_numeric_value(feature: Any) -> bool:
    return isinstance(feature, Value) and feature.dtype in _NUMERIC


def series_depth(feature: Any) -> int:
    """Nesting depth of a numeric array feature: 0 for a number, 1 for a list of numbers, 2 for ``(time, channels)``;
    -1 for anything else."""
    if _is_numeric_value(feature):
        return 0
    if isinstance(feature, Array2D):
        return 2 if feature.dtype in _NUMERIC else -1
    if isinstance(feature, (Array3D, Array4D, Array5D)):
        return -1
    inner = getattr(feature, "feature", None)
    if inner is not None and not isinstance(feature, (Value, ClassLabel)):
        if isinstance(inner, dict):
            return -1
        d = series_depth(inner)
        return d + 1 if d >= 0 else -1
    return -1


def as_series(value: Any, column: str, row: int) -> np.ndarray:
    """One row of a series column as a float32 array, or a one-line `DatasetError` naming the row when its time
    steps hold different numbers of values (numpy says only "inhomogeneous shape"). `row` counts from 0, the
    message from 1."""
    try:
        return np.asarray(value, dtype=np.float32)
    except (ValueError, TypeError):
        steps = value if isinstance(value, (list, tuple, np.ndarray)) else []
        counts = sorted({len(v) if isinstance(v, (list, tuple, np.ndarray)) else 1 for v in steps})
        if len(counts) > 1:
            raise DatasetError(
                f"Row {row + 1} of column {column!r} has time steps with different numbers of channels "
                f"({', '.join(map(str, counts))}): every time step needs one value per channel."
            ) from None
        raise DatasetError(f"Row {row + 1} of column {column!r} is not a series of numbers.") from None


def _stack(values: Any, column: str) -> np.ndarray:
    """Rows of a series column as one ``(rows, time, channels)`` float32 array (rows must have one shape)."""
    arr = np.asarray(values)
    if arr.dtype == object:
        rows = [as_series(v, column, i) for i, v in enumerate(arr)]
        shapes = {r.shape for r in rows}
        if len({s[1:] for s in shapes}) > 1:
            channels = sorted({s[1] if len(s) > 1 else 1 for s in shapes})
            raise DatasetError(
                f"Rows of column {column!r} have different channel counts: {', '.join(map(str, channels))}."
            )
        if len(shapes) > 1:
            lengths = sorted({s[0] for s in shapes if s})
            raise DatasetError(
                f"Rows of column {column!r} have different lengths ({lengths[0]} to {lengths[-1]} time steps): "
                "they look like recordings; cut them into windows with --window N (and --stride S)."
            )
        arr = np.stack(rows) if rows else np.zeros((0, 0, 1), np.float32)
    arr = arr.astype(np.float32, copy=False)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3:
        raise DatasetError(
            f"Column {column!r} is not a series column: expected (time, channels) rows, got shape {arr.shape[1:]}."
        )
    return arr


def read_series(rows: Dataset, column: str) -> np.ndarray:
    """``(rows, time, channels)`` float32 array of a windows column (forms 1–2)."""
    return _stack(rows.with_format("numpy")[:][column], column)


# ---- windowing ---------------------------------------------------------------------------------------------------
def window_starts(length: int, window: int, stride: int) -> np.ndarray:
    """Start indices of the windows of `window` steps every `stride` steps in a recording of `length` steps.

    Example:

    ```python
    >>> window_starts(10, 4, 3).tolist()
    [0, 3, 6]
    >>> window_starts(3, 4, 1).tolist()   # shorter than one window: none
    []
    ```
    """
    if length < window:
        return np.zeros(0, dtype=np.int64)
    return np.arange(0, length - window + 1, stride, dtype=np.int64)


def _mode(codes: np.ndarray) -> int:
    counts = np.bincount(codes)
    return int(counts.argmax())


@register_task
class TimeSeriesClassification(TaskAdapter):
    """Classify windows of (multichannel) series: activity recognition from wearable sensors, machine states…"""

    name = "time-series-classification"
    #: Not a Hub pipeline tag (the Hub has none for this task): used for the local registry's cards and in reports.
    pipeline_tag = "time-series-classification"
    description = (
        "Classify sensor windows (time, channels) or feature vectors; cut long recordings with --window/--stride "
        "(PatchTST, PatchTSMixer)."
    )
    n_inputs = (1, 256)
    preferred_inputs = PREFERRED
    reference_id = "channel-stats-v1(mean,std,min,max,energy)"

    def __init__(self, window: int | None = None, stride: int | None = None) -> None:
        self.window = window
        self.stride = stride
        #: ``(time, channels)`` of the target's windows, set by `bind_target`.
        self.target_shape: tuple[int, int] | None = None

    # ---- options ---------------------------------------------------------------------------------------------------
    def configure(self, **options: Any) -> TimeSeriesClassification:
        unknown = sorted(set(options) - {"window", "stride"})
        if unknown:
            raise TaskError(
                f"Task {self.name!r} has no option {', '.join('--' + u.replace('_', '-') for u in unknown)}."
            )
        window, stride = options.get("window"), options.get("stride")
        for flag, value in (("window", window), ("stride", stride)):
            if value is not None and (not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1):
                raise TaskError(f"--{flag} must be a positive number of time steps (got {value!r}).")
        if stride is not None and window is None:
            raise TaskError("--stride needs --window (the window length in time steps).")
        return type(self)(
            window=int(window) if window is not None else None, stride=int(stride) if stride is not None else None
        )

    # ---- discovery -------------------------------------------------------------------------------------------------
    def hub_queries(self) -> list[dict[str, Any]]:
        return [{"filter": model_type} for model_type in classification_classes()]

    def accepts(self, info: Any) -> bool:
        config = getattr(info, "config", None) or {}
        archs = set(config.get("architectures") or [])
        return bool(archs & set(classification_classes().values()))

    # ---- columns ---------------------------------------------------------------------------------------------------
    def is_input_feature(self, name: str, feature: Any) -> bool:
        return series_depth(feature) in (1, 2)

    def resolve_columns(self, features: Features, columns: list[str] | None) -> list[str]:
        names = list(features)
        label = self.label_column(features)
        if columns:
            require_columns(features, columns)
            depths = {c: series_depth(features[c]) for c in columns}
            if len(columns) == 1 and depths[columns[0]] in (1, 2):
                return list(columns)
            if all(d == 0 for d in depths.values()):
                return list(columns)
            bad = [c for c, d in depths.items() if d not in (0, 1, 2)]
            if bad:
                raise ColumnError(
                    f"Column {bad[0]!r} ({features[bad[0]]}) is not numeric: a time series column holds "
                    "(time, channels) arrays, 1-D lists, or one number per time step."
                )
            raise ColumnError(
                "Give either one series column (arrays per row) or several numeric columns (one value per "
                f"time step), not a mix: {', '.join(columns)}."
            )
        arrays = [n for n in names if n != label and self.is_input_feature(n, features[n])]
        if len(arrays) == 1:
            return arrays
        if len(arrays) > 1:
            preferred = [n for n in PREFERRED if n in arrays]
            if preferred:
                return [preferred[0]]
            raise ColumnError(
                f"Ambiguous series column for task {self.name!r}: {', '.join(arrays)}. Choose with --column."
            )
        scalars = [n for n in names if n != label and series_depth(features[n]) == 0 and not ID_LIKE.match(n)]
        if scalars:
            return scalars
        raise ColumnError(
            f"No series column for task {self.name!r} found; columns are: {', '.join(names)}. Use --column."
        )

    # ---- preparing the split (windowing) ---------------------------------------------------------------------------
    def prepare(
        self, ds: Dataset, columns: list[str], label_column: str | None, warnings: list[str]
    ) -> tuple[Dataset, list[str], str | None]:
        table_form = len(columns) > 1 or series_depth(ds.features[columns[0]]) == 0
        bad = self.invalid_rows(ds, columns)
        if table_form:  # rows are time steps: dropping one would join two moments of a recording
            drop_invalid_rows(
                ds,
                bad,
                what="a missing",
                warnings=warnings,
                max_share=0.0,
                fix="fill the gaps (time steps cannot be dropped from a recording)",
            )
            if self.window is None:
                raise DatasetError(
                    f"The rows are single time steps (columns {', '.join(columns)}): "
                    "cut the recording into windows with --window N (and --stride S)."
                )
            return self._window_table(ds, columns, label_column, warnings)
        kept = np.flatnonzero(~invalid_mask(len(ds), bad))  # the rows' numbers in the data, for messages
        ds = drop_invalid_rows(ds, bad, what="a missing or gapped", warnings=warnings)
        column = columns[0]
        if self.window is None:
            self._check_equal_lengths(ds, column, kept)
            return ds, columns, label_column
        return self._window_rows(ds, column, label_column, warnings, kept)

    def _check_equal_lengths(self, ds: Dataset, column: str, kept: np.ndarray) -> None:
        if isinstance(ds.features[column], Array2D) or len(ds) == 0:
            return
        lengths = self._row_lengths(ds, column)
        if len(set(lengths.tolist())) > 1:
            raise DatasetError(
                f"Rows of column {column!r} have different lengths ({lengths.min()} to {lengths.max()} time steps): "
                "they look like recordings; cut them into windows with --window N (and --stride S)."
            )
        self._check_channels(ds, column, kept)

    @staticmethod
    def _check_channels(ds: Dataset, column: str, kept: np.ndarray) -> None:
        """Every time step of every row holds one value per channel, and every row has the same channels."""
        import pyarrow as pa
        import pyarrow.compute as pc

        col = ds.with_format("arrow")[:][column]
        value_type = getattr(col.type, "value_type", None)
        if value_type is None or not (pa.types.is_list(value_type) or pa.types.is_large_list(value_type)):
            return  # one value per step: a one-channel series
        counts = pc.list_value_length(pc.list_flatten(col)).to_numpy(zero_copy_only=False)
        if len(np.unique(counts)) <= 1:
            return
        for i, row in enumerate(ds[column]):  # only on the way to an error: name the first bad row
            as_series(row, column, int(kept[i]))
        widths = sorted({len(row[0]) for row in ds[column] if row})
        raise DatasetError(f"Rows of column {column!r} have different channel counts: {', '.join(map(str, widths))}.")

    @staticmethod
    def _row_lengths(ds: Dataset, column: str) -> np.ndarray:
        import pyarrow.compute as pc

        col = ds.with_format("arrow")[:][column]
        return np.asarray(pc.list_value_length(col).to_numpy(zero_copy_only=False), dtype=np.int64)

    def _output(
        self, windows: np.ndarray, column: str, labels: Any, label_column: str | None, label_feature: Any
    ) -> Dataset:
        w, c = windows.shape[1], windows.shape[2]
        data: dict[str, Any] = {column: windows}
        feats: dict[str, Any] = {column: Array2D(shape=(w, c), dtype="float32")}
        if label_column is not None:
            data[label_column] = labels
            feats[label_column] = label_feature
        return Dataset.from_dict(data, features=Features(feats))

    def _window_rows(
        self, ds: Dataset, column: str, label_column: str | None, warnings: list[str], kept: np.ndarray
    ) -> tuple[Dataset, list[str], str | None]:
        window, stride = int(self.window), int(self.stride or self.window)  # type: ignore[arg-type]
        values = ds.with_format("numpy")[:][column]
        recordings = [as_series(v, column, int(kept[i])) for i, v in enumerate(values)]
        recordings = [r[:, None] if r.ndim == 1 else r for r in recordings]
        channels = {r.shape[1] for r in recordings if r.ndim == 2}
        if len(channels) > 1:
            raise DatasetError(f"Rows of column {column!r} have different channel counts: {sorted(channels)}.")
        labels = ds[label_column] if label_column is not None else None
        pieces, out_labels, short = [], [], 0
        for i, rec in enumerate(recordings):
            starts = window_starts(len(rec), window, stride)
            if len(starts) == 0:
                short += 1
                continue
            idx = starts[:, None] + np.arange(window)[None, :]
            pieces.append(rec[idx])
            if labels is not None:
                out_labels.extend([labels[i]] * len(starts))
        if not pieces:
            longest = max((len(r) for r in recordings), default=0)
            what = "The recording is" if len(recordings) == 1 else f"All {len(recordings)} recordings are"
            raise DatasetError(f"{what} shorter than one window: {longest} time steps < --window {window}.")
        if short:
            warnings.append(
                f"{short} of {len(recordings)} recordings are shorter than --window {window} and yield no window."
            )
        windows = np.concatenate(pieces)
        label_feature = ds.features[label_column] if label_column is not None else None
        return self._output(windows, column, out_labels, label_column, label_feature), [column], label_column

    def _window_table(
        self, ds: Dataset, columns: list[str], label_column: str | None, warnings: list[str]
    ) -> tuple[Dataset, list[str], str | None]:
        window, stride = int(self.window), int(self.stride or self.window)  # type: ignore[arg-type]
        table = ds.with_format("numpy")[:]
        rec = np.stack([np.asarray(table[c], dtype=np.float32) for c in columns], axis=1)
        starts = window_starts(len(rec), window, stride)
        if len(starts) == 0:
            raise DatasetError(f"The recording is shorter than one window: {len(rec)} time steps < --window {window}.")
        windows = rec[starts[:, None] + np.arange(window)[None, :]]
        out_labels: Any = None
        label_feature = None
        if label_column is not None:
            raw = np.asarray(ds[label_column])
            names, codes = np.unique(raw, return_inverse=True)
            out_labels = [names[_mode(codes[s : s + window])].item() for s in starts]
            label_feature = ds.features[label_column]
        return (
            self._output(windows, SERIES_COLUMN, out_labels, label_column, label_feature),
            [SERIES_COLUMN],
            label_column,
        )

    def bind_target(self, target: Any) -> None:
        arr = read_series(target.rows, target.columns[0]) if len(target.rows) else None
        self.target_shape = (int(arr.shape[1]), int(arr.shape[2])) if arr is not None else None

    # ---- raw view and reference space ------------------------------------------------------------------------------
    def raw(self, rows: Dataset, columns: list[str]) -> RawData:
        arr = read_series(rows, columns[0])
        return RawData(kind="numeric", values=arr.reshape(len(arr), -1))

    reference_cached = False  # statistics: as quick to recompute as to read, and exact (pressure ~1000 hPa, say)

    def embed_reference(self, rows: Dataset, columns: list[str], *, batch_size: int, device: Any) -> np.ndarray:
        return channel_statistics(read_series(rows, columns[0]))

    # ---- models ----------------------------------------------------------------------------------------------------
    def load_model(self, path: str, *, allow_pickle: bool = False) -> Any:
        return load_series_classifier(path, allow_pickle=allow_pickle)

    def load_preprocessor(self, path: str) -> SeriesSpec:
        return SeriesSpec.from_config(json.loads((Path(path) / "config.json").read_text()))

    def preprocessor_key(self, path: str) -> str:
        return "series-float32"  # one encoding of the sample serves every model (cropping happens per batch)

    def check_compatible(self, candidate: Candidate, model: Any) -> None:
        from ..errors import CandidateError

        if self.target_shape is None:
            return
        length, channels = self.target_shape
        spec = SeriesSpec.from_config(model.config)
        if spec.num_input_channels != channels:
            raise CandidateError(
                f"channel mismatch: the model reads {spec.num_input_channels} channel(s), the data has {channels}",
                stage="load",
            )
        if spec.context_length and length < spec.context_length:
            raise CandidateError(
                f"window too short: the model reads {spec.context_length} time steps, the data's windows have {length} "
                f"(cut the data with --window {spec.context_length})",
                stage="load",
            )

    def encode(self, preprocessor: Any, rows: Dataset, columns: list[str], *, max_length: int) -> Encoded:
        arr = read_series(rows, columns[0])
        return Encoded(inputs={"values": arr}, lengths=np.ones(len(arr), dtype=np.int64))

    def batches(
        self, encoded: Encoded, batch_size: int, preprocessor: Any = None
    ) -> Iterator[tuple[np.ndarray, dict[str, Any]]]:
        from ..errors import CandidateError

        values: np.ndarray = encoded.inputs["values"]
        spec: SeriesSpec | None = preprocessor if isinstance(preprocessor, SeriesSpec) else None
        if spec is not None:
            if values.shape[2] != spec.num_input_channels:
                raise CandidateError(
                    f"channel mismatch: the model reads {spec.num_input_channels} channel(s), "
                    f"the data has {values.shape[2]}",
                    stage="inference",
                )
            if spec.context_length and values.shape[1] < spec.context_length:
                raise CandidateError(
                    f"window too short: the model reads {spec.context_length} time steps, the data's windows have "
                    f"{values.shape[1]} (cut the data with --window {spec.context_length})",
                    stage="inference",
                )
            if spec.context_length and values.shape[1] > spec.context_length:
                values = values[:, -spec.context_length :, :]
        for start in range(0, len(values), batch_size):
            idx = np.arange(start, min(start + batch_size, len(values)))
            x = values[idx]
            batch: dict[str, Any] = {"past_values": torch.from_numpy(fill_missing(x))}
            if np.isnan(x).any():
                batch["past_observed_mask"] = torch.from_numpy(~np.isnan(x))
            yield idx, batch

    def forward(self, model: Any, batch: dict[str, Any]) -> tuple[Any, Any]:
        linear = head_linear(model)
        captured: dict[str, torch.Tensor] = {}
        handle = linear.register_forward_pre_hook(lambda _m, args: captured.__setitem__("x", args[0]))
        try:
            kwargs = dict(batch)
            if "past_observed_mask" in kwargs and "past_observed_mask" not in forward_params(model):
                kwargs.pop("past_observed_mask")
            out = model(**kwargs)
        finally:
            handle.remove()
        return output_logits(out), captured["x"].reshape(len(batch["past_values"]), -1)


def fill_missing(x: np.ndarray) -> np.ndarray:
    """`x` (windows × time × channels) with each missing step (NaN) set to its window's channel mean, 0 where a whole
    channel is missing: a 0 in a signal around 1000 hPa would be a spike the model reads (PatchTSMixer ignores the
    observed mask, and PatchTST only scales by it)."""
    if not np.isnan(x).any():
        return x
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN channel: its mean is NaN, filled with 0 below
        mean = np.nanmean(x, axis=1, keepdims=True)
    return np.nan_to_num(np.where(np.isnan(x), mean, x)).astype(x.dtype, copy=False)


def channel_statistics(windows: np.ndarray) -> np.ndarray:
    """``(rows, 5 * channels)`` per-channel mean, standard deviation, minimum, maximum and energy (mean square).

    Example:

    ```python
    >>> channel_statistics(np.array([[[1.0], [3.0]]])).round(3).tolist()
    [[2.0, 1.0, 1.0, 3.0, 5.0]]
    ```
    """
    x = np.asarray(windows, dtype=np.float64)
    if x.ndim == 2:
        x = x[:, :, None]
    stats = [np.nanmean(x, 1), np.nanstd(x, 1), np.nanmin(x, 1), np.nanmax(x, 1), np.nanmean(x * x, 1)]
    return np.concatenate(stats, axis=1).astype(np.float32)
