"""Reading a workload's domains (local folders or Hub datasets) and checking their rows: splits, input columns and
labels agree across domains (class names become ids).
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import HFSearchError, WorkloadError
from .workload_spec import INPUT_KINDS, KIND_LABEL_COLUMN, LABEL_COLUMN, Domain, Workload


# ---- data checks -----------------------------------------------------------------------------------------------
def read_domain(domain: Domain) -> dict[str, list[dict[str, Any]]]:
    """The ``train`` and ``test`` rows of a domain, with columns renamed to the canonical ones.

    Local folders with ``train.jsonl``/``test.jsonl`` are read directly; other folders (csv, parquet) and Hub ids go
    through `datasets` (`hfsearch.data.loading`).
    """
    out: dict[str, list[dict[str, Any]]] = {}
    folder = domain.path
    direct = folder is not None and all((folder / f"{domain.splits[s]}.jsonl").is_file() for s in ("train", "test"))
    if direct:
        for split in ("train", "test"):
            with (folder / f"{domain.splits[split]}.jsonl").open(encoding="utf-8") as fh:  # type: ignore[operator]
                try:
                    out[split] = [json.loads(line) for line in fh if line.strip()]
                except json.JSONDecodeError as exc:
                    raise WorkloadError(
                        f"domain {domain.name!r}: {domain.splits[split]}.jsonl is not valid JSON lines "
                        f"(line {exc.lineno})."
                    ) from None
    else:
        from ..data.loading import load_dataset_dict

        try:
            dd = load_dataset_dict(str(folder) if folder is not None else domain.dataset, config=domain.config)  # type: ignore[arg-type]
        except HFSearchError as exc:
            raise WorkloadError(f"domain {domain.name!r}: {exc}") from None
        for split in ("train", "test"):
            name = domain.splits[split]
            if name not in dd:
                raise WorkloadError(
                    f"domain {domain.name!r} ({domain.where}) has no {name!r} split "
                    f"(splits: {', '.join(dd) or 'none'}); map one with 'splits'."
                )
            out[split] = [dict(r) for r in dd[name]]
    if domain.columns:
        rename = {v: k for k, v in domain.columns.items()}
        out = {s: [{rename.get(k, k): v for k, v in r.items()} for r in rows] for s, rows in out.items()}
    return out


def check_domains(wl: Workload) -> None:
    """Read every domain and check splits, columns and labels agree across domains (fills ``wl.rows``).

    Labels may be integers (ids into the workload's ``labels``) or class-name strings (converted to ids). A domain
    whose labels fall outside the workload's label space, or whose declared names differ, is a label mismatch.
    """
    kinds: dict[str, str] = {}
    label_sets: dict[str, set[Any]] = {}
    for name, domain in wl.domains.items():
        rows = read_domain(domain)
        where = f"{wl.file}: domain {name!r} ({domain.where})"
        for split in ("train", "test"):
            if not rows.get(split):
                raise WorkloadError(f"{where}: the {domain.splits[split]!r} split is empty.")
        first = rows["train"][0]
        kind = next((k for k, cols in INPUT_KINDS.items() if all(c in first for c in cols)), None)
        if kind is None:
            raise WorkloadError(
                f"{where}: rows need 'text' or 'text_a' + 'text_b' (or 'series' for time series, "
                "'image' for images, 'tokens' + 'tags' for token classification) "
                f"(found: {', '.join(first)}); rename columns with 'columns'."
            )
        needed = INPUT_KINDS[kind]
        label_col = KIND_LABEL_COLUMN.get(kind, LABEL_COLUMN)
        for split, split_rows in rows.items():
            for i, r in enumerate(split_rows):
                missing = [c for c in (*needed, label_col) if c not in r or r[c] is None]
                if missing:
                    raise WorkloadError(f"{where}: row {i} of {domain.splits[split]!r} lacks {', '.join(missing)}.")
                if kind == "tokens" and len(r["tokens"]) != len(r["tags"]):
                    raise WorkloadError(
                        f"{where}: row {i} of {domain.splits[split]!r} has {len(r['tokens'])} tokens "
                        f"but {len(r['tags'])} tags."
                    )
        kinds[name] = kind
        if kind == "tokens":
            label_sets[name] = {str(t) for s in rows.values() for r in s for t in r["tags"]}
        else:
            label_sets[name] = {r[LABEL_COLUMN] for s in rows.values() for r in s}
        if domain.label_names is not None and wl.label_names and domain.label_names != wl.label_names:
            raise WorkloadError(
                f"{where}: label mismatch: the domain's labels {domain.label_names} differ from the "
                f"workload's {wl.label_names}."
            )
        wl.rows[name] = {s: rows[s] for s in ("train", "test")}
    if set(kinds.values()) == {"pair", "text"}:
        pairs = sorted(n for n, k in kinds.items() if k == "pair")
        single = sorted(n for n, k in kinds.items() if k == "text")
        raise WorkloadError(
            f"{wl.file}: domains mix text pairs ({', '.join(pairs)}) and single texts ({', '.join(single)})."
        )
    if len(set(kinds.values())) > 1:
        by_kind = {k: sorted(n for n, v in kinds.items() if v == k) for k in sorted(set(kinds.values()))}
        raise WorkloadError(
            f"{wl.file}: domains mix input kinds: "
            + "; ".join(f"{k} ({', '.join(v)})" for k, v in by_kind.items())
            + "."
        )
    wl.is_pair = next(iter(kinds.values())) == "pair"
    if next(iter(kinds.values())) == "tokens":
        _check_tags(wl, label_sets)
        return
    _align_labels(wl, label_sets)
    if "f1" in wl.metrics and len(wl.label_names) < 2:
        raise WorkloadError(f"{wl.file}: metric 'f1' needs at least two classes.")


def _check_tags(wl: Workload, tag_sets: dict[str, set[str]]) -> None:
    """Token domains: every tag is ``O`` or ``<prefix>-<type>`` with an entity type of the workload's ``labels``.

    ``labels`` are the entity types (``[PER, LOC, ORG, MISC]``) or the tags themselves; types are compared up to
    synonyms (``MISC`` = ``OTHER``, ``PER`` = ``person``, see `hfsearch.candidates.labels.entity_type_key`), so
    domains that spell a type differently share it. Tags stay strings (the zoo and the truth map them).
    """
    from ..candidates.labels import entity_type_key, entity_types, is_tag_set, split_tag

    if not wl.label_names:
        raise WorkloadError(
            f"{wl.file}: labels: a token-classification workload needs its entity types, e.g. "
            "labels: [PER, LOC, ORG, MISC]."
        )
    types = entity_types(wl.label_names) if is_tag_set(wl.label_names) else list(wl.label_names)
    known = {entity_type_key(t) for t in types}
    for name, tags in tag_sets.items():
        bad = sorted(t for t in tags if split_tag(t)[0] != "O" and entity_type_key(split_tag(t)[1]) not in known)
        if bad:
            raise WorkloadError(
                f"{wl.file}: label mismatch: domain {name!r} has tag(s) {bad[:5]} whose entity type is "
                f"not among the workload's labels {types}."
            )


def _align_labels(wl: Workload, label_sets: dict[str, set[Any]]) -> None:
    """Check every domain's labels lie in the workload's label space, and convert class-name labels to ids."""
    names = wl.label_names
    if not names:  # no declared names: every domain must use the same set of label values
        sets = {n: frozenset(s) for n, s in label_sets.items()}
        distinct = set(sets.values())
        if len(distinct) > 1:
            ref_name = next(iter(sets))
            odd = next(n for n, s in sets.items() if s != sets[ref_name])
            raise WorkloadError(
                f"{wl.file}: label mismatch between domains: {ref_name!r} has labels "
                f"{sorted(sets[ref_name], key=str)}, {odd!r} has {sorted(sets[odd], key=str)}; "
                "declare the class names with 'labels'."
            )
        values = sorted(next(iter(distinct)), key=str)
        if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            if values != list(range(len(values))):
                raise WorkloadError(f"{wl.file}: integer labels must be 0..n-1, got {values}; declare 'labels'.")
            wl.label_names = [f"LABEL_{i}" for i in values]
        else:
            wl.label_names = [str(v) for v in values]
        names = wl.label_names
    index = {n: i for i, n in enumerate(names)}
    for name, label_values in label_sets.items():
        bad = sorted(
            (
                v
                for v in label_values
                if not (
                    (isinstance(v, int) and not isinstance(v, bool) and 0 <= v < len(names))
                    or (isinstance(v, str) and v in index)
                )
            ),
            key=str,
        )
        if bad:
            raise WorkloadError(
                f"{wl.file}: label mismatch: domain {name!r} has label(s) {bad[:5]} outside the "
                f"workload's label space {names} (ids 0..{len(names) - 1} or these names)."
            )
        if any(isinstance(v, str) for v in label_values):
            for split_rows in wl.rows[name].values():
                for r in split_rows:
                    if isinstance(r[LABEL_COLUMN], str):
                        r[LABEL_COLUMN] = index[r[LABEL_COLUMN]]
