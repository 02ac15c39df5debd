"""Results a model reports on a dataset, read from the three places the Hub keeps them.

1. The model card's ``model-index`` (``README.md`` front matter): ``results[].dataset`` ``{type: <Hub id>, name,
   config, split, revision}`` with ``metrics[]`` ``{type, value, name, verified}``.
2. The model repository's ``.eval_results/*.yaml`` files (the Hub's evaluation-results format; spec
   ``huggingface/hub-docs: eval_results.yaml``, parsed by ``huggingface_hub.parse_eval_result_entries``): a YAML list of
   ``{dataset: {id, task_id, revision, config, split}, value, verifyToken, date, source: {url, name, user, org},
   notes}``. ``task_id`` names a task of the benchmark's ``eval.yaml`` (``tasks: [{id, config, split}]``), which is
   where the config and split of the value are found; the first version of the spec put ``config`` and ``split``
   in the entry itself, and both are read. The format names no metric: the value is the benchmark's headline score.
3. The leaderboard of a benchmark dataset (one with an ``eval.yaml``): ``HfApi.get_dataset_leaderboard`` (route
   ``GET /api/datasets/{id}/leaderboard``, ``base_model=false`` to include fine-tuned models), one entry per
   submitted result, ``{rank, modelId, value, filename, verified, source, author, pullRequest, notes}``.

`attach_reported` fills `Candidate.reported` for a search's target (dataset id, config and split); the
``reported_accuracy`` scorer then picks the result reported on exactly that data with `reported_accuracy_of`.
Values between 1 and 100 are read as percentages (an accuracy cannot exceed 1); the reported value is kept as well.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from ..hub import layout
from ..hub.ids import repo_id_problem
from ..utils.logging import get_logger
from .candidate import Candidate

logger = get_logger(__name__)

Origin = Literal["model-index", ".eval_results", "leaderboard"]
#: Order of preference among the places a result comes from (the card names its metric and split).
ORIGINS: tuple[str, ...] = ("model-index", ".eval_results", "leaderboard")
#: ``model-index`` metric types read as accuracy.
ACCURACY_TYPES = {"accuracy", "acc", "eval_accuracy", "test_accuracy"}
EVAL_RESULTS_DIR = ".eval_results"


@dataclass
class ReportedResult:
    """One result a model reports on one dataset.

    Args:
        dataset (`str`): Hub id of the dataset the result is on.
        value (`float`): the result, as a fraction (a reported percentage is divided by 100).
        origin (`str`): ``"model-index"``, ``".eval_results"`` or ``"leaderboard"``.
        where (`str`): the file or listing it was read from.
        metric (`str`, *optional*): the metric type (``model-index``); ``None`` for a benchmark's headline score.
        config, split (`str`, *optional*): the dataset config and split, when stated.
        task_id (`str`, *optional*): the benchmark task (``.eval_results``).
        verified (`bool`): the Hub marks it verified (``verifyToken`` / ``verified: true``).
        reported_value (`float`): the value as written.
        notes (`str`, *optional*): the entry's notes (evaluation set-up).
    """

    dataset: str
    value: float
    origin: Origin
    where: str
    metric: str | None = None
    config: str | None = None
    split: str | None = None
    task_id: str | None = None
    verified: bool = False
    reported_value: float | None = None
    notes: str | None = None

    def describe(self) -> str:
        """One line: where the number comes from, e.g. ``"model-index (README.md): accuracy on imdb, split test"``."""
        what = self.metric or "headline score"
        on = self.dataset + (f" ({self.config})" if self.config else "")
        split = f"split {self.split}" if self.split else "split not stated"
        return f"{self.origin} ({self.where}): {what} on {on}, {split}" + (", verified" if self.verified else "")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def as_fraction(value: Any) -> tuple[float, float] | None:
    """``(fraction, as written)`` of a reported value, or ``None`` if it is not a finite number in [0, 100]. A value
    written with a percent sign ("93.1%") is a percentage whatever its size ("0.5%" is 0.005)."""
    percent = isinstance(value, str) and value.strip().endswith("%")
    try:
        raw = float(value.strip().rstrip("%").strip() if percent else value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(raw) or not 0.0 <= raw <= 100.0:
        return None
    return (raw / 100.0 if raw > 1.0 or percent else raw), raw


def _text(value: Any) -> str | None:
    return None if value is None or str(value).strip() == "" else str(value).strip()


def model_index_results(card: dict[str, Any], where: str = "README.md") -> list[ReportedResult]:
    """Every numeric metric of a card's ``model-index``, one `ReportedResult` each (malformed entries skipped)."""
    out: list[ReportedResult] = []
    entries = card.get("model-index")
    for entry in entries if isinstance(entries, list) else []:
        for result in (entry or {}).get("results") or [] if isinstance(entry, dict) else []:
            if not isinstance(result, dict):
                continue
            ds = result.get("dataset") or {}
            dataset = _text(ds.get("type")) if isinstance(ds, dict) else None
            for metric in result.get("metrics") or []:
                if not isinstance(metric, dict) or dataset is None:
                    continue
                value = as_fraction(metric.get("value"))
                if value is None:
                    continue
                out.append(
                    ReportedResult(
                        dataset=dataset,
                        value=value[0],
                        reported_value=value[1],
                        origin="model-index",
                        where=where,
                        metric=(_text(metric.get("type")) or "").lower() or None,
                        config=_text(ds.get("config")),
                        split=_text(ds.get("split")),
                        verified=bool(metric.get("verified")),
                    )
                )
    return out


def eval_results_entries(text: str, where: str) -> list[ReportedResult]:
    """The entries of one ``.eval_results/*.yaml`` file (entries without a dataset id or a numeric value skipped).

    Raises:
        `ValueError`: the file is not YAML.
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"{where} is not YAML: {str(exc).splitlines()[0]}") from None
    items = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
    out: list[ReportedResult] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("dataset"), dict):
            continue
        ds = item["dataset"]
        dataset, value = _text(ds.get("id")), as_fraction(item.get("value"))
        if dataset is None or value is None:
            continue
        out.append(
            ReportedResult(
                dataset=dataset,
                value=value[0],
                reported_value=value[1],
                origin=".eval_results",
                where=where,
                config=_text(ds.get("config")),
                split=_text(ds.get("split")),
                task_id=_text(ds.get("task_id")),
                verified=bool(item.get("verifyToken")),
                notes=_text(item.get("notes")),
            )
        )
    return out


def benchmark_tasks(text: str) -> dict[str, dict[str, str | None]]:
    """``{task id: {"config", "split"}}`` of a benchmark's ``eval.yaml`` (``{}`` when it declares no task)."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        return {}
    tasks = data.get("tasks") if isinstance(data, dict) else None
    out: dict[str, dict[str, str | None]] = {}
    for task in tasks if isinstance(tasks, list) else []:
        if isinstance(task, dict) and _text(task.get("id")):
            out[str(task["id"]).strip()] = {"config": _text(task.get("config")), "split": _text(task.get("split"))}
    return out


def resolve_tasks(results: Iterable[ReportedResult], dataset: str, tasks: dict[str, dict[str, str | None]]) -> None:
    """Fill the config and split of `dataset`'s results from its benchmark tasks (in place, stated values kept)."""
    for r in results:
        if r.dataset.lower() != dataset.lower():
            continue
        task = tasks.get(r.task_id) if r.task_id else (next(iter(tasks.values())) if len(tasks) == 1 else None)
        if task:
            r.config = r.config or task["config"]
            r.split = r.split or task["split"]


def leaderboard_results(
    entries: Iterable[Any], dataset: str, tasks: dict[str, dict[str, str | None]]
) -> dict[str, list[ReportedResult]]:
    """``{model id: results}`` from ``DatasetLeaderboardEntry`` objects of `dataset`'s leaderboard."""
    only = next(iter(tasks.values())) if len(tasks) == 1 else {"config": None, "split": None}
    out: dict[str, list[ReportedResult]] = {}
    for e in entries:
        value = as_fraction(getattr(e, "value", None))
        model = getattr(e, "model_id", None)
        if value is None or not model:
            continue
        out.setdefault(model, []).append(
            ReportedResult(
                dataset=dataset,
                value=value[0],
                reported_value=value[1],
                origin="leaderboard",
                where=f"leaderboard of {dataset}, rank {getattr(e, 'rank', '?')}",
                config=only["config"],
                split=only["split"],
                verified=bool(getattr(e, "verified", False)),
                notes=_text(getattr(e, "notes", None)),
            )
        )
    return out


# ---- choosing the result for a target ----------------------------------------------------------------------------
def _is_accuracy(r: ReportedResult) -> bool:
    return r.metric is None or r.metric in ACCURACY_TYPES


def reported_accuracy_of(candidate: Candidate) -> tuple[ReportedResult | None, str]:
    """The accuracy `candidate` reports on its search's target, and a reason when there is none.

    A result matches when it is on the target dataset (Hub ids compared case-insensitively), its config and split
    agree with the target's wherever both are known, and it is an accuracy (``model-index`` metric types
    ``accuracy``/``acc``; a benchmark's headline score from ``.eval_results`` or a leaderboard). Among matches:
    ``model-index`` first, then ``.eval_results``, then the leaderboard; a stated split before an unstated one;
    verified before unverified.
    """
    target = candidate.target_dataset
    if not candidate.reported_checked:
        return None, "reported results were not read for this search (see hfsearch.candidates.reported.attach_reported)"
    if not target:
        return None, "the target is not a Hub dataset, so no model can report a result on it"
    on_target = [r for r in candidate.reported if r.dataset.lower() == target.lower()]
    fitting = [
        r
        for r in on_target
        if not (candidate.target_config and r.config and r.config != candidate.target_config)
        and not (candidate.target_split and r.split and r.split != candidate.target_split)
    ]
    chosen = [r for r in fitting if _is_accuracy(r)]
    if chosen:
        chosen.sort(key=lambda r: (ORIGINS.index(r.origin), r.split is None, not r.verified))
        return chosen[0], ""
    looked = "; ".join(candidate.reported_checked) or "nothing to read"
    if fitting:
        metrics = sorted({r.metric or "?" for r in fitting})
        return None, f"reports {', '.join(metrics)} on {target} but no accuracy (looked at: {looked})"
    if on_target:
        splits = sorted({r.split or "?" for r in on_target})
        return None, (
            f"reports results on {target} for split {', '.join(splits)}, not {candidate.target_split} "
            f"(looked at: {looked})"
        )
    return None, f"reports no result on {target} (looked at: {looked})"


# ---- reading them ------------------------------------------------------------------------------------------------
def _hub_dataset_id(dataset: str, hub_dir: str | None) -> str | None:
    """`dataset` if it names a Hub (or local registry) dataset repository, else ``None`` (a local path)."""
    if dataset.count("/") != 1 or dataset.startswith((".", "/", "~")) or repo_id_problem(dataset) is not None:
        return None  # a local path such as "data/my reviews.jsonl": no Hub id, nothing to look up
    if hub_dir:
        return dataset if layout.repo_dir(hub_dir, dataset, layout.DATASETS).is_dir() else None
    return None if Path(dataset).exists() else dataset


@dataclass
class _Reader:
    """Reads eval files, ``eval.yaml`` and leaderboards from a local registry or a Hub endpoint."""

    hub_dir: str | None = None
    endpoint: str | None = None
    token: str | bool | None = None
    notes: list[str] = field(default_factory=list)

    def _api(self) -> Any:
        from huggingface_hub import HfApi

        return HfApi(endpoint=self.endpoint, token=self.token)

    def eval_files(self, cand: Candidate) -> list[tuple[str, str]]:
        """``(repo path, text)`` of the candidate's ``.eval_results/*.yaml`` files (unreadable files skipped)."""
        out = []
        for rel in cand.eval_files:
            try:
                if cand.path:
                    text = (Path(cand.path) / rel).read_text(encoding="utf-8")
                else:
                    from huggingface_hub import hf_hub_download

                    local = hf_hub_download(
                        cand.repo_id, rel, revision=cand.sha, endpoint=self.endpoint, token=self.token
                    )
                    text = Path(local).read_text(encoding="utf-8")
            except Exception as exc:  # noqa: BLE001 - one unreadable file must not stop the search
                logger.info("%s: cannot read %s: %s", cand.repo_id, rel, exc)
                continue
            out.append((rel, text))
        return out

    def benchmark(self, dataset: str) -> dict[str, dict[str, str | None]] | None:
        """The tasks of `dataset`'s ``eval.yaml``, or ``None`` when it has none (not a benchmark)."""
        try:
            if self.hub_dir:
                p = layout.repo_dir(self.hub_dir, dataset, layout.DATASETS) / "eval.yaml"
                return benchmark_tasks(p.read_text(encoding="utf-8")) if p.is_file() else None
            from huggingface_hub import hf_hub_download

            local = hf_hub_download(dataset, "eval.yaml", repo_type="dataset", endpoint=self.endpoint, token=self.token)
            return benchmark_tasks(Path(local).read_text(encoding="utf-8"))
        except Exception as exc:  # noqa: BLE001 - EntryNotFound (no benchmark), offline, unreachable
            if type(exc).__name__ not in ("EntryNotFoundError", "RemoteEntryNotFoundError"):
                self.notes.append(f"cannot read the eval.yaml of {dataset}: {type(exc).__name__}")
            return None

    def leaderboard(self, dataset: str) -> list[Any]:
        """The entries of `dataset`'s leaderboard, fine-tuned models included (``[]`` when unavailable)."""
        from huggingface_hub.hf_api import DatasetLeaderboardEntry

        try:
            if self.hub_dir:
                from ..hub.leaderboard import leaderboard

                return [DatasetLeaderboardEntry(**e) for e in leaderboard(self.hub_dir, dataset, base_model_only=False)]
            return list(self._api().get_dataset_leaderboard(dataset, base_model_only=False))
        except Exception as exc:  # noqa: BLE001 - no leaderboard, offline, unreachable
            self.notes.append(f"leaderboard of {dataset} unavailable ({type(exc).__name__})")
            return []


def attach_reported(
    candidates: list[Candidate],
    dataset: str,
    *,
    config: str | None = None,
    split: str | None = None,
    hub_dir: str | None = None,
    endpoint: str | None = None,
    token: str | bool | None = None,
) -> list[str]:
    """Record the search's target on every candidate and read what each reports about it.

    Fills `Candidate.target_dataset` / ``target_config`` / ``target_split``, adds the candidates' ``.eval_results``
    entries and, when the target is a benchmark dataset (it has an ``eval.yaml``), its leaderboard entries to
    `Candidate.reported` (the ``model-index`` results are read at discovery), and says on each candidate what was
    looked at (`Candidate.reported_checked`). Nothing raises: what cannot be read is noted.

    Args:
        candidates (`list[Candidate]`): the discovered candidates (changed in place).
        dataset (`str`): the search's dataset (a Hub id, a local registry id with `hub_dir`, or a local path).
        config, split (`str`, *optional*): the target's config and split.
        hub_dir, endpoint, token: where the candidates were discovered (as for `discover`).

    Returns:
        `list[str]`: notes on what could not be read (for the search's warnings).
    """
    target = _hub_dataset_id(dataset, hub_dir)
    reader = _Reader(hub_dir=hub_dir, endpoint=endpoint, token=token)
    for cand in candidates:
        cand.target_dataset, cand.target_config, cand.target_split = target, config, split
        cand.reported = [r for r in cand.reported if r.origin == "model-index"]  # read at discovery; the rest anew
        cand.reported_checked = ["model card model-index"]
    if target is None:
        return reader.notes
    tasks = reader.benchmark(target)
    board = leaderboard_results(reader.leaderboard(target), target, tasks or {}) if tasks is not None else {}
    for cand in candidates:
        files = reader.eval_files(cand)
        for rel, text in files:
            try:
                cand.reported.extend(eval_results_entries(text, rel))
            except ValueError as exc:
                reader.notes.append(f"{cand.repo_id}: {exc}")
        cand.reported.extend(board.get(cand.repo_id, []))
        if tasks:
            resolve_tasks(cand.reported, target, tasks)
        cand.reported_checked = [
            "model card model-index",
            f"{len(files)} {EVAL_RESULTS_DIR} file(s)",
            f"leaderboard of {target}" if tasks is not None else f"{target} is not a benchmark (no eval.yaml)",
        ]
    return reader.notes
