"""The discover stage (list and filter candidates, read their configs) and the align stage (label spaces)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..candidates import Candidate, Filters, Skipped, fetch_config
from ..candidates import discover as discover_candidates
from ..candidates.order import likely_winners_first
from ..candidates.reported import attach_reported
from ..errors import NoCandidatesError, one_line
from .state import CandidateRun

if TYPE_CHECKING:
    from ..search import Search


def discover(search: Search) -> None:
    """List the candidates (Hub query, explicit list or local registry), apply the filters, read each ``config.json``,
    and put them in the order they will run (`likely_winners_first`)."""
    cfg, adapter, state = search.cfg, search.adapter, search.state
    filters = Filters(
        safetensors_only=not cfg.allow_pickle,
        max_params=cfg.max_params,
        allow_custom_code=cfg.allow_custom_code,
        licenses=cfg.licenses,
        languages=cfg.languages,
    )
    found = discover_candidates(
        cfg.task,
        adapter.pipeline_tag,
        models=cfg.models,
        author=cfg.author,
        search=cfg.search,
        max_models=cfg.max_models,
        filters=filters,
        hub_dir=cfg.hub_dir,
        endpoint=cfg.endpoint,
        token=cfg.token,
        queries=adapter.hub_queries(),
        accept=adapter.accepts,
    )
    state.query = found.query
    for skip in found.skipped:
        search.skip(skip)
    for cand in found.candidates:
        try:
            cand.config = fetch_config(cand, endpoint=cfg.endpoint, token=cfg.token)
        except Exception as exc:  # noqa: BLE001 - one unreadable repo must not stop the search
            search.skip(Skipped(cand.repo_id, "download", f"config.json not readable: {one_line(exc)}"))
            continue
        id2label = cand.config.get("id2label")
        try:
            cand.id2label = {int(k): v for k, v in id2label.items()} if isinstance(id2label, dict) else None
        except (TypeError, ValueError):
            search.skip(Skipped(cand.repo_id, "align", "config.json's id2label keys are not class ids (0, 1, …)"))
            continue
        state.runs[cand.repo_id] = CandidateRun(cand)
    _require_candidates(search)
    if "reported" in search.needs:  # what each candidate reports on this very dataset (cards, .eval_results, board)
        for note in attach_reported(
            state.candidates,
            cfg.dataset,
            config=cfg.config,
            split=state.split,
            hub_dir=cfg.hub_dir,
            endpoint=cfg.endpoint,
            token=cfg.token,
        ):
            state.warn(note)
    # likely winners first: a budget that runs out, or early elimination, then spends its rows on them
    state.runs = {c.repo_id: state.runs[c.repo_id] for c in likely_winners_first(state.candidates)}


def align(search: Search) -> None:
    """Map every candidate's labels onto the target's; candidates that cannot be aligned are skipped with the reason."""
    state = search.state
    for run in list(state.runs.values()):
        _align(search, run.candidate)  # a candidate that cannot be aligned is skipped (and leaves state.runs)
    _require_candidates(search)


def _align(search: Search, cand: Candidate) -> bool:
    state = search.state
    names = state.label_names
    if not names:
        n = len(cand.id2label or {})
        cand.label_map = {i: i for i in range(n)}
        state.warn("Target label names unknown (no ClassLabel, no --labels): model labels compared by index.")
        return True
    alignment = search.adapter.align_labels(cand.id2label, names)
    if not alignment.ok:
        search.skip(Skipped(cand.repo_id, "align", alignment.reason()))
        return False
    if alignment.note():
        state.warn(f"{cand.repo_id}: {alignment.note()}")
    cand.label_map = alignment.label_map
    return True


def _require_candidates(search: Search) -> None:
    if not search.state.runs:
        detail = "; ".join(f"{s.repo_id}: {s.reason}" for s in search.state.skipped[:3])
        cfg = search.cfg
        filters = (("license", cfg.licenses), ("language", cfg.languages))
        asked = [f"--{flag} {','.join(values)}" for flag, values in filters if values]
        if not detail and asked and not cfg.models:  # the Hub was asked for these: it listed nothing
            detail = f"the Hub lists no {search.adapter.name} model with {' and '.join(asked)}"
        raise NoCandidatesError("No candidate left after discovery and filters" + (f" ({detail})." if detail else "."))
