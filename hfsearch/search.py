"""The pipeline: discover -> sample -> run -> score -> rank.

`find` is the public entry point; `Search` holds the stages so that the benchmark can reuse them (it reads the
target labels that `find` keeps away from every scorer).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

from . import constants
from .candidates import Candidate, Filters, Skipped, discover, fetch_config
from .data.loading import load_split
from .data.sample import Sample, fingerprint, sample_indices
from .errors import CandidateError, DatasetError, HFSearchError, NoCandidatesError
from .rank.result import CandidateResult, ScoreColumn, SearchResult
from .runner import OutputCache, Outputs, Runner
from .scores.base import ScoreInput, ScorerSpec, ScoreUnavailable, View, parse_scorers
from .tasks import TaskAdapter, get_task
from .tasks.base import ReferenceUnavailable

logger = logging.getLogger(__name__)

#: Scorers computed when none are chosen.
DEFAULT_SCORES = ("adaptivity", "jsd", "l2d", "confidence", "entropy", "popularity")


def _split_list(value: str | Sequence[str] | None) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",")]
    else:
        items = [str(v).strip() for v in value]
    return [v for v in items if v] or None


@dataclass
class SearchConfig:
    """Every option of a search (the CLI flags map one to one onto these fields)."""

    task: str
    dataset: str
    config: str | None = None
    split: str | None = None
    column: list[str] | None = None
    labels: list[str] | None = None
    samples: int = constants.DEFAULT_SAMPLES
    seed: int = constants.DEFAULT_SEED
    models: list[str] | None = None
    author: str | None = None
    search: str | None = None
    max_models: int = constants.DEFAULT_MAX_MODELS
    max_params: int | None = constants.DEFAULT_MAX_PARAMS
    licenses: list[str] | None = None
    languages: list[str] | None = None
    allow_pickle: bool = False
    allow_custom_code: bool = False
    hub_dir: str | None = None
    endpoint: str | None = None
    token: str | bool | None = None
    scores: list[str] = field(default_factory=lambda: list(DEFAULT_SCORES))
    score_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    rank_by: str | None = None
    batch_size: int = constants.DEFAULT_BATCH_SIZE
    max_length: int = constants.DEFAULT_MAX_LENGTH
    cache_dir: str | None = None
    use_cache: bool = True
    progress: bool = True
    device: str | None = None
    rank: int = 0
    world_size: int = 1
    window: int | None = None
    stride: int | None = None


#: `SearchConfig` fields that are options of the task adapter (passed to `TaskAdapter.configure` when set).
TASK_OPTIONS = ("window", "stride")


class Search:
    """One search, stage by stage. Most users call `find` instead."""

    def __init__(self, cfg: SearchConfig, *, accelerator: Any = None) -> None:
        if cfg.samples is None or cfg.samples <= 0:
            raise DatasetError(f"--samples must be a positive number of rows (got {cfg.samples}).")
        if cfg.max_models is not None and cfg.max_models <= 0:
            raise NoCandidatesError(f"--max-models must be positive (got {cfg.max_models}).")
        self.cfg = cfg
        _quiet_third_party(cfg.progress)
        self.adapter: TaskAdapter = get_task(cfg.task).configure(
            **{k: getattr(cfg, k) for k in TASK_OPTIONS if getattr(cfg, k, None) is not None}
        )
        self.specs: list[ScorerSpec] = parse_scorers(cfg.scores, cfg.score_params)
        self.rank_by = self._rank_by()
        self.needs: set[str] = set().union(*(s.needs() for s in self.specs))
        self.cache = OutputCache(cfg.cache_dir, enabled=cfg.use_cache)
        self.runner = Runner(
            self.adapter, self.cache, batch_size=cfg.batch_size, max_length=cfg.max_length,
            allow_pickle=cfg.allow_pickle, endpoint=cfg.endpoint, token=cfg.token, accelerator=accelerator,
        )
        self.target: Sample | None = None
        self.target_label_names: list[str] | None = None
        self.candidates: list[Candidate] = []
        self.candidates_all: list[Candidate] = []
        self.skipped: list[Skipped] = []
        self.warnings: list[str] = []
        self.query: dict[str, Any] = {}
        self.outputs: dict[str, dict[str, Outputs]] = {}
        self.sources: dict[str, Sample] = {}
        self.source_of: dict[str, str | None] = {}
        self.source_reason: dict[str, str] = {}
        self.timings: dict[str, float] = {}
        self._reference: dict[str, np.ndarray] = {}

    def _rank_by(self) -> str:
        columns = [s.column for s in self.specs]
        if self.cfg.rank_by is None:
            return columns[0]
        if self.cfg.rank_by not in columns:
            raise HFSearchError(f"--rank-by {self.cfg.rank_by!r} is not among the chosen scores: {', '.join(columns)}.")
        return self.cfg.rank_by

    # ---- stage 1: target ---------------------------------------------------------------------------------------
    def load_target(self) -> Sample:
        cfg = self.cfg
        ds, split = load_split(cfg.dataset, config=cfg.config, split=cfg.split, hub_dir=cfg.hub_dir)
        columns = self.adapter.resolve_columns(ds.features, cfg.column)
        label_col = self.adapter.label_column(ds.features)
        if label_col in columns:
            label_col = None
        ds, columns, label_col = self.adapter.prepare(ds, columns, label_col, self.warnings)
        names = self.adapter.prepare_label_names(cfg.labels or self.adapter.label_names(ds.features, label_col))
        idx = sample_indices(len(ds), cfg.samples, cfg.seed)
        rows = ds.select(idx)
        labels = self.adapter.labels_array(rows, label_col) if label_col else None
        rows = rows.select_columns(columns)  # any label column is dropped before scoring
        name = f"{cfg.dataset}{':' + cfg.config if cfg.config else ''}/{split}"
        self.target = Sample(rows=rows, columns=columns, name=name, indices=idx,
                             fingerprint=fingerprint(rows, columns), labels=labels, label_names=names)
        self.target_label_names = names
        self.split = split
        self.adapter.bind_target(self.target)
        return self.target

    # ---- stage 2: candidates -----------------------------------------------------------------------------------
    def discover(self) -> list[Candidate]:
        cfg = self.cfg
        filters = Filters(
            safetensors_only=not cfg.allow_pickle, max_params=cfg.max_params, allow_custom_code=cfg.allow_custom_code,
            licenses=cfg.licenses, languages=cfg.languages,
        )
        found = discover(
            cfg.task, self.adapter.pipeline_tag, models=cfg.models, author=cfg.author, search=cfg.search,
            max_models=cfg.max_models, filters=filters, hub_dir=cfg.hub_dir, endpoint=cfg.endpoint, token=cfg.token,
            queries=self.adapter.hub_queries(), accept=self.adapter.accepts,
        )
        self.query = found.query
        self.skipped.extend(found.skipped)
        for cand in found.candidates:
            try:
                cand.config = fetch_config(cand, endpoint=cfg.endpoint, token=cfg.token)
            except Exception as exc:  # noqa: BLE001
                self.skipped.append(Skipped(cand.repo_id, "download", f"config.json not readable: {_one_line(exc)}"))
                continue
            id2label = cand.config.get("id2label")
            cand.id2label = {int(k): v for k, v in id2label.items()} if isinstance(id2label, dict) else None
            if not self._align(cand):
                continue
            self.candidates.append(cand)
        self.candidates_all = list(self.candidates)
        if not self.candidates:
            detail = "; ".join(f"{s.repo_id}: {s.reason}" for s in self.skipped[:3])
            raise NoCandidatesError(
                "No candidate left after discovery and filters" + (f" ({detail})." if detail else ".")
            )
        return self.candidates

    def _align(self, cand: Candidate) -> bool:
        names = self.target_label_names
        if not names:
            n = len(cand.id2label or {})
            cand.label_map = {i: i for i in range(n)}
            msg = "Target label names unknown (no ClassLabel, no --labels): model labels compared by index."
            if msg not in self.warnings:
                self.warnings.append(msg)
            return True
        alignment = self.adapter.align_labels(cand.id2label, names)
        if not alignment.ok:
            self.skipped.append(Skipped(cand.repo_id, "align", alignment.reason()))
            return False
        if alignment.note():
            self.warnings.append(f"{cand.repo_id}: {alignment.note()}")
        cand.label_map = alignment.label_map
        return True

    # ---- stage 3: source data ----------------------------------------------------------------------------------
    def load_source(self, cand: Candidate) -> Sample | None:
        """A seeded sample of the candidate's first loadable declared dataset (train split preferred)."""
        assert self.target is not None
        if not cand.datasets:
            self.source_reason[cand.repo_id] = "the model card declares no datasets"
            return None
        errors = []
        for ds_id in cand.datasets:
            if ds_id in self.sources:
                return self.sources[ds_id]
            try:
                ds, split = load_split(ds_id, hub_dir=self.cfg.hub_dir, prefer=("train",))
                columns = [c for c in self.target.columns if c in ds.features]
                if len(columns) != len(self.target.columns):
                    columns = self.adapter.resolve_columns(ds.features, None)
                ds, columns, _ = self.adapter.prepare(ds, columns, None, [])
                idx = sample_indices(len(ds), len(self.target), self.cfg.seed)
                rows = ds.select(idx).select_columns(columns)
            except HFSearchError as exc:
                errors.append(f"{ds_id}: {exc}")
                continue
            except Exception as exc:  # noqa: BLE001 - a source that does not load only disables similarity scores
                errors.append(f"{ds_id}: {_one_line(exc)}")
                continue
            sample = Sample(rows=rows, columns=columns, name=f"{ds_id}/{split}", indices=idx,
                            fingerprint=fingerprint(rows, columns))
            self.sources[ds_id] = sample
            return sample
        self.source_reason[cand.repo_id] = "no declared dataset loads (" + "; ".join(errors) + ")"
        return None

    # ---- stage 4: run ------------------------------------------------------------------------------------------
    def run(self, candidates: Iterable[Candidate] | None = None) -> None:
        from huggingface_hub.utils import tqdm

        assert self.target is not None
        cands = list(candidates if candidates is not None else self.candidates)
        need_model = bool(self.needs & {"logits", "features", "pool"})
        source_features = "features" in self.needs and "source" in self.needs or any(
            s.space == "model" and "source" in s.info.needs for s in self.specs
        )
        plans = []
        for cand in cands:
            src = self.load_source(cand)
            self.source_of[cand.repo_id] = src.name if src is not None else None
            samples = {"target": self.target}
            if src is not None and source_features:
                samples["source"] = src
            plans.append((cand, samples))
        bar = tqdm(plans, desc="candidates", unit="model", disable=not self.cfg.progress or constants.DISABLE_PROGRESS_BARS)
        try:
            for i, (cand, samples) in enumerate(bar):
                bar.set_postfix_str(cand.repo_id, refresh=False)
                if not need_model:
                    self.outputs[cand.repo_id] = {}
                    continue
                if i + 1 < len(plans):  # overlap the next download with this candidate's inference
                    self.runner.prefetch(*plans[i + 1])
                try:
                    self.outputs[cand.repo_id] = self.runner.run(cand, samples)
                except CandidateError as exc:
                    stage = str(exc).split(" ", 1)[0]
                    self.skipped.append(Skipped(cand.repo_id, stage if stage in ("download", "load", "inference") else "run", str(exc)))
                    logger.warning("%s skipped: %s", cand.repo_id, exc)
        finally:
            self.runner.close()
        self.candidates = [c for c in cands if c.repo_id in self.outputs]

    # ---- stage 5: score ----------------------------------------------------------------------------------------
    def reference(self, sample: Sample) -> np.ndarray | None:
        """Reference-encoder features of a sample (cached on disk like model outputs)."""
        if sample.fingerprint in self._reference:
            return self._reference[sample.fingerprint]
        from .runner.cache import cache_key

        key = cache_key(reference=self.adapter.reference_id, data=sample.fingerprint, columns=sample.columns)
        hit = self.cache.get(key)
        if hit is not None:
            feats = hit.features.astype(np.float32)
        else:
            try:
                feats = self.adapter.embed_reference(
                    sample.rows, sample.columns, batch_size=self.cfg.batch_size, device=self.runner.accelerator.device
                )
            except ReferenceUnavailable as exc:
                if str(exc) not in self.warnings:
                    self.warnings.append(str(exc))
                feats = None  # type: ignore[assignment]
            if feats is not None:
                self.cache.put(key, Outputs(logits=np.zeros((len(feats), 0), np.float32), features=feats))
        self._reference[sample.fingerprint] = feats
        return feats

    def predictions(self, cand: Candidate) -> np.ndarray | None:
        """The candidate's predicted *target* label per target prediction (``-1`` where its label has no counterpart).

        One per target row, or as the task's `TaskAdapter.predictions` lays them out (one per word for tokens).
        """
        out = self.outputs.get(cand.repo_id, {}).get("target")
        if out is None or out.logits.size == 0:
            return None
        return self.adapter.predictions(out.logits, cand.label_map)

    def score(self) -> SearchResult:
        assert self.target is not None
        t0 = time.perf_counter()
        raw_target = self.adapter.raw(self.target.rows, self.target.columns) if "raw" in self.needs else None
        ref_target = self.reference(self.target) if "reference" in self.needs else None
        pool = {c.repo_id: p for c in self.candidates if (p := self.predictions(c)) is not None}
        raw_sources: dict[str, Any] = {}
        results = []
        for cand in self.candidates:
            outs = self.outputs.get(cand.repo_id, {})
            tgt = outs.get("target")
            target_view = View(raw=raw_target, logits=self.adapter.score_logits(tgt.logits) if tgt is not None else None,
                               features=tgt.features.astype(np.float32) if tgt is not None else None,
                               reference=ref_target)
            src_name = self.source_of.get(cand.repo_id)
            source_view = None
            if src_name is not None:
                src = next(s for s in self.sources.values() if s.name == src_name)
                if "raw" in self.needs and src.fingerprint not in raw_sources:
                    raw_sources[src.fingerprint] = self.adapter.raw(src.rows, src.columns)
                so = outs.get("source")
                source_view = View(
                    raw=raw_sources.get(src.fingerprint),
                    logits=self.adapter.score_logits(so.logits) if so is not None else None,
                    features=so.features.astype(np.float32) if so is not None else None,
                    reference=self.reference(src) if "reference" in self.needs else None,
                )
            inp = ScoreInput(candidate=cand, target=target_view, source=source_view,
                             source_reason=self.source_reason.get(cand.repo_id), pool=pool)
            scores: dict[str, float | None] = {}
            unavailable: dict[str, str] = {}
            for spec in self.specs:
                try:
                    value = spec(inp)
                    scores[spec.column] = None if not np.isfinite(value) else float(value)
                    if scores[spec.column] is None:
                        unavailable[spec.column] = "not finite"
                except ScoreUnavailable as exc:
                    scores[spec.column] = None
                    unavailable[spec.column] = str(exc)
            results.append(CandidateResult(
                repo_id=cand.repo_id, sha=cand.sha, scores=scores, unavailable=unavailable, source=src_name,
                declared_datasets=cand.datasets, downloads=cand.downloads, likes=cand.likes,
                num_params=cand.num_params, label_map=cand.label_map,
            ))
        self.timings["score"] = time.perf_counter() - t0
        return SearchResult(
            task=self.cfg.task, dataset=self.cfg.dataset, split=self.split, columns=self.target.columns,
            n_samples=len(self.target),
            score_columns=[ScoreColumn(s.column, s.info.kind, s.info.higher_is_better, s.info.description) for s in self.specs],
            rank_by=self.rank_by, candidates=results, skipped=self.skipped, warnings=self.warnings,
            query=self.query, timings=dict(self.timings),
        )

    def execute(self) -> SearchResult:
        """All stages in order.

        Under ``accelerate launch`` or ``torchrun`` (several processes), the *candidates* are sharded across ranks:
        each rank runs its share, the outputs are gathered with ``gather_object`` and every rank scores the same
        complete set (only the main process prints or writes; see the CLI).
        """
        for stage in ("load_target", "discover"):
            t0 = time.perf_counter()
            getattr(self, stage)()
            self.timings[stage] = time.perf_counter() - t0
        t0 = time.perf_counter()
        state = _distributed_state()
        if state is None:
            self.run()
        else:
            mine = self.candidates[state.process_index :: state.num_processes]
            self.run(mine)
            self._gather(state)
        self.timings["run"] = time.perf_counter() - t0
        return self.score()

    def _gather(self, state: Any) -> None:
        """Share every rank's outputs, source choices and skips with all ranks (candidate order preserved)."""
        from accelerate.utils import gather_object

        order = [c.repo_id for c in self.candidates_all]
        mine = [(c.repo_id, self.outputs[c.repo_id], self.source_of.get(c.repo_id), self.source_reason.get(c.repo_id))
                for c in self.candidates]
        skipped = [s for s in self.skipped if s.stage not in ("filter", "align")]
        gathered = gather_object([(mine, skipped)])
        by_id = {c.repo_id: c for c in self.candidates_all}
        done: dict[str, Any] = {}
        self.skipped = [s for s in self.skipped if s.stage in ("filter", "align")]
        for rank_items, rank_skipped in gathered:
            for repo_id, outs, src, reason in rank_items:
                done[repo_id] = (outs, src, reason)
            self.skipped.extend(rank_skipped)
        for repo_id, (outs, src, reason) in done.items():
            self.outputs[repo_id] = outs
            self.source_of[repo_id] = src
            if reason:
                self.source_reason[repo_id] = reason
            if src is not None and src not in {s.name for s in self.sources.values()}:
                self.load_source(by_id[repo_id])  # seeded: the same sample the other rank drew
        self.candidates = [by_id[r] for r in order if r in done]


def find(
    task: str,
    dataset: str,
    *,
    config: str | None = None,
    split: str | None = None,
    column: str | Sequence[str] | None = None,
    labels: str | Sequence[str] | None = None,
    samples: int = constants.DEFAULT_SAMPLES,
    seed: int = constants.DEFAULT_SEED,
    models: str | Sequence[str] | None = None,
    author: str | None = None,
    search: str | None = None,
    max_models: int = constants.DEFAULT_MAX_MODELS,
    max_params: int | None = constants.DEFAULT_MAX_PARAMS,
    licenses: str | Sequence[str] | None = None,
    languages: str | Sequence[str] | None = None,
    allow_pickle: bool = False,
    allow_custom_code: bool = False,
    hub_dir: str | None = None,
    endpoint: str | None = None,
    token: str | bool | None = None,
    scores: str | Sequence[str] | None = None,
    score_params: dict[str, dict[str, Any]] | None = None,
    rank_by: str | None = None,
    batch_size: int = constants.DEFAULT_BATCH_SIZE,
    max_length: int = constants.DEFAULT_MAX_LENGTH,
    cache_dir: str | None = None,
    use_cache: bool = True,
    progress: bool = True,
    device: str | None = None,
    window: int | None = None,
    stride: int | None = None,
) -> SearchResult:
    """Rank Hub checkpoints for an unlabeled dataset.

    Args:
        task (`str`): ``text-classification``, ``time-series-classification``… (see ``hfsearch tasks``).
        dataset (`str`): Hub dataset id, local registry id (with `hub_dir`), data folder/file or ``save_to_disk`` folder.
        config, split (`str`, *optional*): dataset config and split (default: ``test``, else the first split).
        column (`str` or `list[str]`, *optional*): input column(s); auto-detected when omitted.
        labels (`list[str]`, *optional*): target class names, when the dataset does not declare them.
        samples (`int`): rows sampled from the target (and from each source), seeded by `seed`.
        models (`list[str]`, *optional*): explicit candidates (bypasses the Hub query).
        author, search (`str`, *optional*): Hub query filters.
        max_models (`int`): candidates kept after filtering.
        max_params (`int`, *optional*): parameter cap.
        licenses, languages (`list[str]`, *optional*): card filters.
        allow_pickle (`bool`): allow non-safetensors weights.
        allow_custom_code (`bool`): keep models declaring custom code (never executed: ``trust_remote_code=False``).
        hub_dir (`str`, *optional*): a local registry folder laid out like the Hub (air-gapped use).
        endpoint, token (`str`, *optional*): Hub endpoint and token (default ``HF_ENDPOINT``, ``HF_TOKEN``).
        scores (`list[str]`, *optional*): scorers, ``name`` or ``name:space`` (default `DEFAULT_SCORES`).
        score_params (`dict`, *optional*): per-scorer parameters, e.g. ``{"adaptivity": {"tau": 0.6}}``.
        rank_by (`str`, *optional*): the score that orders the ranking (default: the first).
        batch_size, max_length (`int`): inference settings.
        cache_dir (`str`, *optional*), use_cache (`bool`): output cache.
        progress (`bool`): show progress bars.
        device (`str`, *optional*): ``"cpu"`` to force the CPU.
        window, stride (`int`, *optional*): time series only: cut each recording into windows of `window` time steps
            every `stride` steps (default `stride`: `window`).

    Returns:
        `SearchResult`: ``.ranking`` (DataFrame), ``.best``, ``.skipped``, ``.to_json()``.

    Example:

    ```python
    >>> import hfsearch
    >>> result = hfsearch.find("text-classification", "imdb", samples=256)
    >>> result.best
    'some-org/some-sentiment-model'
    ```
    """
    cfg = SearchConfig(
        task=task, dataset=dataset, config=config, split=split, column=_split_list(column), labels=_split_list(labels),
        samples=samples, seed=seed, models=_split_list(models), author=author, search=search, max_models=max_models,
        max_params=max_params, licenses=_split_list(licenses), languages=_split_list(languages),
        allow_pickle=allow_pickle, allow_custom_code=allow_custom_code, hub_dir=hub_dir, endpoint=endpoint, token=token,
        scores=_split_list(scores) or list(DEFAULT_SCORES), score_params=score_params or {}, rank_by=rank_by,
        batch_size=batch_size, max_length=max_length, cache_dir=cache_dir, use_cache=use_cache, progress=progress,
        device=device, window=window, stride=stride,
    )
    from .runner import make_accelerator

    return Search(cfg, accelerator=make_accelerator(device) if device else None).execute()


def _distributed_state() -> Any:
    """accelerate's `PartialState` when launched with several processes, else ``None``."""
    import os

    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return None
    from accelerate import PartialState

    state = PartialState(cpu=not _cuda_available())
    return state if state.num_processes > 1 else None


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def _quiet_third_party(progress: bool) -> None:
    """Silence the per-file bars of datasets/transformers (ours stay, unless `progress` is off)."""
    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()
    if not progress:
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
