"""The score stage: every chosen scorer on every candidate, from the outputs of the run stage.

A scorer that cannot be computed for a candidate gives ``None`` with the reason. When the reason does not depend on
the candidate (a sample too small for the scorer, say), the renderers state it once for the scorer (see
`SearchResult.notes`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ..consensus.dawid_skene import convergence_warning, fit_warning
from ..data.sample import Sample
from ..estimate.target import TargetMetric, target_probabilities
from ..rank.result import CandidateResult
from ..runner import Outputs
from ..runner.cache import cache_key
from ..scores.base import ScoreInput, ScorerSpec, ScoreUnavailable, View, softmax
from ..scores.estimators import pool_consensus
from ..tasks.base import ReferenceUnavailable
from .state import CandidateRun, Peer

if TYPE_CHECKING:
    from ..search import Search


def score(search: Search) -> None:
    """Fill ``search.results`` with one `CandidateResult` per candidate still in the search."""
    results = []
    for r, inp in score_inputs(search):
        scores, unavailable = compute(search.specs, inp)
        cand = r.candidate
        results.append(
            CandidateResult(
                repo_id=cand.repo_id,
                sha=cand.sha,
                scores=scores,
                unavailable=unavailable,
                source=r.source.name if r.source is not None else None,
                declared_datasets=cand.datasets,
                downloads=cand.downloads,
                likes=cand.likes,
                num_params=cand.num_params,
                label_map=cand.label_map,
            )
        )
    search.results = results


def compute(specs: list[ScorerSpec], inp: ScoreInput) -> tuple[dict[str, float | None], dict[str, str]]:
    """Every scorer of `specs` on one candidate's input: the values (``None`` when unavailable or not finite) and,
    for those, the reasons."""
    scores: dict[str, float | None] = {}
    unavailable: dict[str, str] = {}
    for spec in specs:
        try:
            value = spec(inp)
        except ScoreUnavailable as exc:
            scores[spec.column], unavailable[spec.column] = None, str(exc)
            continue
        finite = bool(np.isfinite(value))
        scores[spec.column] = float(value) if finite else None
        if not finite:
            unavailable[spec.column] = "not finite"
    return scores, unavailable


def score_inputs(search: Search) -> list[tuple[CandidateRun, ScoreInput]]:
    """What every scorer sees for every candidate still in the search (its views of the target, its source and
    held-out samples, the pool): one `ScoreInput` per candidate."""
    state = search.state
    target = state.target
    assert target is not None
    adapter, needs = search.adapter, search.needs
    raw_target = adapter.raw(target.rows, target.columns) if "raw" in needs else None
    ref_target = reference_features(search, target) if "reference" in needs else None
    pool = {r.repo_id: p for r in state.runs.values() if (p := search.predictions(r.candidate)) is not None}
    peers = {r.repo_id: peer for r in state.runs.values() if (peer := make_peer(search, r)) is not None}
    if any(s.info.name == "consensus" for s in search.specs):
        note_consensus_fit(search, peers)
    metric = search.metric
    raw_sources: dict[str, Any] = {}
    inputs = []
    for r in state.runs.values():
        tgt = r.outputs.get("target")
        target_view = View(
            raw=raw_target,
            logits=adapter.score_logits(tgt.logits) if tgt is not None and tgt.logits is not None else None,
            features=tgt.features.astype(np.float32) if tgt is not None else None,
            reference=ref_target,
        )
        source_view = None
        if r.source is not None:
            src = r.source
            so = r.outputs.get("source")
            source_view = replace(
                source_data_view(search, src, raw_sources),
                logits=adapter.score_logits(so.logits) if so is not None and so.logits is not None else None,
                features=so.features.astype(np.float32) if so is not None else None,
            )
        held = r.outputs.get("heldout")
        heldout_view = None
        if r.heldout is not None and held is not None and held.logits is not None:
            heldout_view = View(logits=adapter.score_logits(held.logits), labels=r.heldout.labels)
        peer = peers.get(r.repo_id)
        inputs.append(
            (
                r,
                ScoreInput(
                    candidate=r.candidate,
                    target=target_view,
                    source=source_view,
                    source_reason=r.source_reason,
                    pool=pool,
                    heldout=heldout_view,
                    heldout_reason=r.heldout_reason or "the model was not run on held-out data",
                    metric=TargetMetric(
                        metric, peer.pred, peer.probs, lambda q, p: adapter.expected_metric(metric, q, p, target)
                    )
                    if peer
                    else None,
                    peers=peers,
                ),
            )
        )
    sources = {r.repo_id: inp.source for r, inp in inputs if inp.source is not None}
    for repo_id, early in state.early_runs.items():  # eliminated by racing: still part of this search's pool
        if early.source is not None:
            sources.setdefault(repo_id, source_data_view(search, early.source, raw_sources))
    for _, inp in inputs:
        inp.sources = sources
    state.early_scores = early_scores(search, View(raw=raw_target, reference=ref_target), sources)
    return inputs


def note_consensus_fit(search: Search, peers: dict[str, Peer]) -> None:
    """Record how well the pool's Dawid–Skene fit explains the candidates' agreement (``state.consensus_fit``), and
    warn when it explains less than half of it."""
    try:
        fit = pool_consensus(peers)
    except ScoreUnavailable:  # no consensus: nothing to explain
        return
    search.state.consensus_fit = fit.agreement_explained
    for note in (fit_warning(fit.agreement_explained), convergence_warning(fit)):
        if note is not None:
            search.state.warn(f"consensus: {note}")


#: What a scorer may need and still read no model output.
MODEL_FREE = frozenset({"raw", "source", "reference", "metadata", "reported"})


def early_scores(search: Search, target: View, sources: dict[str, View]) -> dict[str, dict[str, float | None]]:
    """The scores that read no model output (the candidate's training data against the target, its card) of the
    candidates racing eliminated, on the current target rows: they cost no inference, and do not depend on the
    rows a model saw (`hfsearch.pipeline.estimate.pool_context` puts them beside the other scores of their slice)."""
    specs = [s for s in search.specs if s.needs() <= MODEL_FREE]
    out: dict[str, dict[str, float | None]] = {}
    for repo_id, r in search.state.early_runs.items() if specs else ():
        inp = ScoreInput(
            candidate=r.candidate, target=target, source=sources.get(repo_id), source_reason=r.source_reason
        )
        inp.sources = sources
        out[repo_id] = compute(specs, inp)[0]
    return out


def source_data_view(search: Search, src: Sample, raw_sources: dict[str, Any]) -> View:
    """The model-independent views of a source sample (raw rows and reference features, as the search needs them;
    raw rows computed once per sample in `raw_sources`)."""
    if "raw" in search.needs and src.fingerprint not in raw_sources:
        raw_sources[src.fingerprint] = search.adapter.raw(src.rows, src.columns)
    return View(
        raw=raw_sources.get(src.fingerprint),
        reference=reference_features(search, src) if "reference" in search.needs else None,
    )


def make_peer(search: Search, r: CandidateRun) -> Peer | None:
    """The candidate's target (and held-out) predictions in the target's label space, or ``None`` without logits."""
    adapter, cand = search.adapter, r.candidate
    out = r.outputs.get("target")
    if out is None or out.logits is None or out.logits.size == 0:
        return None
    n_target = len(search.state.label_names or []) or max((cand.label_map or {0: 0}).values()) + 1
    logits = adapter.score_logits(out.logits)
    probs = target_probabilities(softmax(np.nan_to_num(logits.astype(np.float64))), cand.label_map, n_target)
    fill = adapter.unmapped_label(search.state.label_names)

    def mapped(logits: np.ndarray) -> np.ndarray:
        pred = adapter.predictions(logits, cand.label_map)
        return pred if fill is None else np.where(pred < 0, fill, pred)

    peer = Peer(repo_id=cand.repo_id, sha=cand.sha, pred=mapped(out.logits), probs=probs)
    held = r.outputs.get("heldout")
    if r.heldout is not None and held is not None and held.logits is not None:
        lut = np.full(max(len(cand.id2label or {}), 1), -1, dtype=np.int64)
        for m, t in (cand.label_map or {}).items():
            if 0 <= m < len(lut):
                lut[m] = t
        labels = np.asarray(r.heldout.labels, dtype=np.int64)
        peer.heldout = r.heldout.name
        peer.heldout_pred = mapped(held.logits)
        peer.heldout_labels = np.where((labels >= 0) & (labels < len(lut)), lut[np.clip(labels, 0, len(lut) - 1)], -1)
    return peer


def reference_features(search: Search, sample: Sample) -> np.ndarray | None:
    """Reference-encoder features of a sample (cached on disk like model outputs; ``None`` without an encoder).

    A subset of a sample (a racing slice, say) takes its rows of the whole sample's features: they are needed at the
    end anyway, and each row's embedding does not depend on the others."""
    memo = search.reference_memo
    if sample.fingerprint in memo:
        return memo[sample.fingerprint]
    if sample.parent is not None and sample.positions is not None:
        whole = reference_features(search, sample.parent)
        memo[sample.fingerprint] = None if whole is None else whole[sample.positions]
        return memo[sample.fingerprint]
    adapter = search.adapter
    device = search.runner.accelerator.device
    key = cache_key(
        reference=adapter.reference_id,
        precision=adapter.reference_precision(device),
        data=sample.fingerprint,
        columns=sample.columns,
    )
    hit = search.cache.get(key) if adapter.reference_cached else None
    feats: np.ndarray | None
    if hit is not None:
        feats = hit.features.astype(np.float32)
    else:
        try:
            feats = adapter.embed_reference(
                sample.rows, sample.columns, batch_size=search.cfg.batch_size, device=device
            )
        except ReferenceUnavailable as exc:
            search.state.warn(str(exc))
            feats = None
        if feats is not None and adapter.reference_cached:
            # score what a rerun will read back (the cache keeps float16), so the first run and the rerun agree
            feats = feats.astype(np.float16).astype(np.float32)
            search.cache.put(key, Outputs(logits=None, features=feats))
    memo[sample.fingerprint] = feats
    return feats
