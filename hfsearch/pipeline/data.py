"""The target stage (load and sample the user's split, labels set aside) and the candidates' source samples."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..candidates import Candidate
from ..data.loading import load_split
from ..data.sample import Sample, fingerprint, sample_indices
from ..errors import HFSearchError, one_line

if TYPE_CHECKING:
    from ..search import Search


def load_target(search: Search) -> None:
    """Load the target split, resolve its columns and label names, and draw the seeded sample.

    Any label column is dropped from the rows the scorers see; its values are kept aside on the `Sample` for benchmark
    mode only.
    """
    cfg, adapter, state = search.cfg, search.adapter, search.state
    ds, split = load_split(cfg.dataset, config=cfg.config, split=cfg.split, hub_dir=cfg.hub_dir)
    columns = adapter.resolve_columns(ds.features, cfg.column)
    label_col = adapter.label_column(ds.features)
    if label_col in columns:
        label_col = None
    ds, columns, label_col = adapter.prepare(ds, columns, label_col, state.warnings)
    names = adapter.prepare_label_names(cfg.labels or adapter.label_names(ds.features, label_col))
    idx = sample_indices(len(ds), cfg.samples, cfg.seed)
    rows = ds.select(idx)
    labels = adapter.labels_array(rows, label_col) if label_col else None
    rows = rows.select_columns(columns)
    name = f"{cfg.dataset}{':' + cfg.config if cfg.config else ''}/{split}"
    state.target = Sample(rows=rows, columns=columns, name=name, indices=idx,
                          fingerprint=fingerprint(rows, columns), labels=labels, label_names=names)
    state.split = split
    state.label_names = names
    adapter.bind_target(state.target)


def load_source(search: Search, cand: Candidate) -> tuple[Sample | None, str | None]:
    """A seeded sample of the candidate's first loadable declared dataset (train split preferred).

    Returns:
        ``(sample, None)``, or ``(None, reason)`` when the card declares no dataset or none loads.
    """
    state = search.state
    assert state.target is not None
    if not cand.datasets:
        return None, "the model card declares no datasets"
    errors = []
    for ds_id in cand.datasets:
        if ds_id in state.sources:
            return state.sources[ds_id], None
        try:
            ds, split = load_split(ds_id, hub_dir=search.cfg.hub_dir, prefer=("train",))
            columns = [c for c in state.target.columns if c in ds.features]
            if len(columns) != len(state.target.columns):
                columns = search.adapter.resolve_columns(ds.features, None)
            ds, columns, _ = search.adapter.prepare(ds, columns, None, [])
            idx = sample_indices(len(ds), len(state.target), search.cfg.seed)
            rows = ds.select(idx).select_columns(columns)
        except HFSearchError as exc:
            errors.append(f"{ds_id}: {exc}")
            continue
        except Exception as exc:  # noqa: BLE001 - a source that does not load only disables similarity scores
            errors.append(f"{ds_id}: {one_line(exc)}")
            continue
        sample = Sample(rows=rows, columns=columns, name=f"{ds_id}/{split}", indices=idx,
                        fingerprint=fingerprint(rows, columns))
        state.sources[ds_id] = sample
        return sample, None
    return None, "no declared dataset loads (" + "; ".join(errors) + ")"
