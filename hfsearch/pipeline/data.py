"""The target stage (load and sample the user's split, labels set aside) and the candidates' source samples."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from datasets import DatasetDict, Features

from ..candidates import Candidate
from ..data.loading import choose_split, load_dataset_dict, load_split
from ..data.sample import Sample, fingerprint, sample_indices
from ..errors import one_line
from ..labeling import ColumnLabels
from ..tasks.base import require_columns

if TYPE_CHECKING:
    from ..search import Search


def load_target(search: Search) -> None:
    """Load the target split, resolve its columns and label names, and draw the seeded sample.

    Any label column is dropped from the rows the scorers see; its values are kept aside on the `Sample` for benchmark
    mode only. With ``label_column`` (and a label budget), that column is the label column, and the label stage's
    source reads it row by row, only for the rows the label loop asks for.
    """
    cfg, adapter, state = search.cfg, search.adapter, search.state
    ds, split = load_split(
        cfg.dataset,
        config=cfg.config,
        split=cfg.split,
        hub_dir=cfg.hub_dir,
        encoding=cfg.encoding,
        local=cfg.local_dataset,
    )
    features = ds.features
    if cfg.label_column:
        require_columns(ds.features, [cfg.label_column])
        features = Features({k: v for k, v in ds.features.items() if k != cfg.label_column})
    columns = adapter.resolve_columns(features, cfg.column)
    label_col = cfg.label_column or adapter.label_column(ds.features)
    if label_col in columns:
        label_col = None
    ds, columns, label_col = adapter.prepare(ds, columns, label_col, state.warnings)
    names = adapter.prepare_label_names(cfg.labels or adapter.label_names(ds.features, label_col))
    idx = sample_indices(len(ds), cfg.samples, cfg.seed)
    rows = ds.select(idx)
    labels = adapter.labels_array(rows, label_col) if label_col else None
    rows = rows.select_columns(columns)
    name = f"{cfg.dataset}{':' + cfg.config if cfg.config else ''}/{split}"
    state.target = Sample(
        rows=rows,
        columns=columns,
        name=name,
        indices=idx,
        fingerprint=fingerprint(rows, columns),
        labels=labels,
        label_names=names,
    )
    state.split = split
    state.label_names = names
    if cfg.label_column and cfg.label_budget and label_col:
        state.label_source = ColumnLabels(
            ds.select(idx).select_columns([label_col]), label_col, ds.features[label_col], names
        )
    adapter.bind_target(state.target)


#: Splits that may serve as a labeled held-out slice of a candidate's declared data, in preference order (never the
#: split a model is trained on).
HELDOUT_SPLITS = ("validation", "valid", "dev", "test")


def _dataset(search: Search, ds_id: str) -> DatasetDict:
    """Every split of a declared dataset, loaded once per search."""
    memo = search.state.datasets
    if ds_id not in memo:
        memo[ds_id] = load_dataset_dict(ds_id, hub_dir=search.cfg.hub_dir, local=False)  # an id, never a path
    return memo[ds_id]


def _columns(search: Search, features: Any) -> list[str]:
    target = search.state.target
    assert target is not None
    columns = [c for c in target.columns if c in features]
    if len(columns) != len(target.columns):
        columns = search.adapter.resolve_columns(features, None)
    return columns


def load_source(search: Search, cand: Candidate) -> tuple[Sample | None, str | None]:
    """A seeded sample of ``source_samples`` rows of the candidate's first loadable declared dataset (train split
    preferred), drawn independently of the target's size: the source's breadth is what adaptivity measures.

    Returns:
        ``(sample, None)``, or ``(None, reason)`` when the card declares no dataset or none loads.
    """
    state = search.state
    if not cand.datasets:
        return None, "the model card declares no datasets"
    errors = []
    for ds_id in cand.datasets:
        if ds_id in state.sources:
            return state.sources[ds_id], None
        try:
            dd = _dataset(search, ds_id)
            split = choose_split(dd, None, prefer=("train",))
            ds = dd[split]
            columns = _columns(search, ds.features)
            ds, columns, _ = search.adapter.prepare(ds, columns, None, [])
            idx = sample_indices(len(ds), search.cfg.source_samples, search.cfg.seed)
            rows = ds.select(idx).select_columns(columns)
        except Exception as exc:  # noqa: BLE001 - a source that does not load only disables similarity scores
            errors.append(f"{ds_id}: {one_line(exc)}")
            continue
        sample = Sample(
            rows=rows, columns=columns, name=f"{ds_id}/{split}", indices=idx, fingerprint=fingerprint(rows, columns)
        )
        state.sources[ds_id] = sample
        return sample, None
    return None, "no declared dataset loads (" + "; ".join(errors) + ")"


def load_heldout(search: Search, cand: Candidate) -> tuple[Sample | None, str | None]:
    """A seeded sample of ``heldout_samples`` labeled rows of a held-out split (`HELDOUT_SPLITS`) of the candidate's
    declared data, its labels as the candidate's own label ids (`TaskAdapter.heldout_labels`).

    The rows are drawn once per dataset and shared by every candidate declaring it (`_heldout_rows`); only the labels
    depend on the candidate.

    Returns:
        ``(sample, None)``, or ``(None, reason)`` (no declared data, no held-out split, no labels…).
    """
    if not cand.datasets:
        return None, "the model card declares no datasets"
    reasons = []
    for ds_id in cand.datasets:
        drawn = _heldout_rows(search, ds_id)
        if isinstance(drawn, str):
            reasons.append(drawn)
            continue
        name, picked, label_col, features, sample = drawn
        try:
            labels = search.adapter.heldout_labels(picked, label_col, features, cand.id2label)
        except Exception as exc:  # noqa: BLE001
            reasons.append(f"{name}: {one_line(exc)}")
            continue
        if not (labels >= 0).any():
            reasons.append(f"the labels of {name} match none of the model's labels")
            continue
        return replace(sample, labels=labels), None
    return None, "; ".join(reasons)


def _heldout_rows(search: Search, ds_id: str) -> tuple[str, Any, str, Any, Sample] | str:
    """The held-out rows of a declared dataset, drawn once per search: ``(name, picked rows with labels, label column,
    features, Sample without labels)``, or the reason there are none."""
    memo = search.state.heldouts
    if ds_id not in memo:
        memo[ds_id] = _draw_heldout(search, ds_id)
    return memo[ds_id]


def _draw_heldout(search: Search, ds_id: str) -> tuple[str, Any, str, Any, Sample] | str:
    try:
        dd = _dataset(search, ds_id)
    except Exception as exc:  # noqa: BLE001 - an unusable source only disables the estimators that need it
        return f"{ds_id}: {one_line(exc)}"
    split = next((s for s in HELDOUT_SPLITS if s in dd), None)
    if split is None:
        return f"{ds_id} has no held-out split (splits: {', '.join(dd)}; looked for {', '.join(HELDOUT_SPLITS)})"
    ds = dd[split]
    try:
        columns = _columns(search, ds.features)
        label_col = search.adapter.label_column(ds.features)
        if label_col is None or label_col in columns:
            return f"{ds_id}/{split} has no label column"
        ds, columns, label_col = search.adapter.prepare(ds, columns, label_col, [])
        assert label_col is not None
        idx = sample_indices(len(ds), search.cfg.heldout_samples, search.cfg.seed)
        picked = ds.select(idx)
        rows = picked.select_columns(columns)
    except Exception as exc:  # noqa: BLE001
        return f"{ds_id}/{split}: {one_line(exc)}"
    name = f"{ds_id}/{split}"
    return (
        name,
        picked,
        label_col,
        ds.features,
        Sample(rows=rows, columns=columns, name=name, indices=idx, fingerprint=fingerprint(rows, columns)),
    )
