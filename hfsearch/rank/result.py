"""The result of a search: the ranking, the skipped candidates and why, and every score's provenance.

`SearchResult` is the one result schema: `to_dict` / `to_json` give everything, `to_table` the `Table` that every
shell renders (the CLI's terminal table, markdown, csv, the Space's html), so all of them show the same thing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..candidates.candidate import Skipped
from ..render import Column, Table, render_csv, render_markdown

#: The combined score (see `hfsearch.pipeline.estimate`), and the ranking columns that show it.
AUTO = "auto"
PREDICTED = ("predicted_accuracy", "predicted_low", "predicted_high")


@dataclass
class ScoreColumn:
    """A score column of the ranking."""

    name: str
    kind: str
    higher_is_better: bool
    description: str = ""


@dataclass
class CandidateResult:
    """Scores of one candidate (``None`` where a score could not be computed; `unavailable` says why).

    `predicted` is ``(value, low, high)``: its predicted metric on the target and the 90 % interval (the ``auto``
    combination of the estimators in `predicted_from`, updated by the labels when a label budget was given), or
    ``None`` when no estimator was available. `p_best` is its probability of being the most accurate candidate (set by
    the label loop; ``None`` without a label budget).

    `status` says how far the candidate went: ``"complete"`` (scored on the whole sample), ``"eliminated"``
    (``--budget auto`` dropped it after a slice: its interval lay clearly below the leader's) or ``"stopped"`` (a
    time budget ended the search while it was on a slice). The scores of the last two are those of the slice: the
    first `rows` target rows of the seeded order and `heldout_rows` held-out rows, and `predicted` is their
    interval, widened for the slice's size (see `hfsearch.pipeline.race`); `status_reason` says why, in words.
    """

    repo_id: str
    sha: str | None
    scores: dict[str, float | None]
    unavailable: dict[str, str] = field(default_factory=dict)
    source: str | None = None
    declared_datasets: list[str] = field(default_factory=list)
    downloads: int | None = None
    likes: int | None = None
    num_params: int | None = None
    label_map: dict[int, int] | None = None
    predicted: tuple[float, float, float] | None = None
    predicted_from: list[str] = field(default_factory=list)
    p_best: float | None = None
    status: str = "complete"
    rows: int | None = None
    heldout_rows: int | None = None
    status_reason: str | None = None

    @property
    def complete(self) -> bool:
        """Whether the candidate was scored on the whole sample."""
        return self.status == "complete"


def _missing(v: Any) -> bool:
    """No usable value: ``None`` or NaN."""
    return v is None or (isinstance(v, float) and math.isnan(v))


def _clean(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


@dataclass
class SearchResult:
    """What `hfsearch.find` returns.

    Attributes:
        ranking (`pandas.DataFrame`): one row per scored candidate, best first: ``rank``, ``model``, one column per
            score, ``source`` (the source sample used).
        best (`str`): the recommended model (rank 1), or ``None`` if nothing was scored.
        skipped (`list[Skipped]`): candidates not scored and why.
        config (`dict`): the options of the search (`SearchConfig.to_dict`: never the token).
        metric (`str`): what ``predicted_accuracy`` predicts: ``accuracy``, or ``f1`` (see ``--metric``).
        labels (`dict`): the label loop's record when a label budget was given: ``labels_used``, ``label_budget`` and
            the ``rows`` labeled (position in the sample, index in the split, class id); empty otherwise.
    """

    task: str
    dataset: str
    split: str
    columns: list[str]
    n_samples: int
    score_columns: list[ScoreColumn]
    rank_by: str
    candidates: list[CandidateResult]
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    query: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    ground_truth: dict[str, dict[str, float]] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    metric: str = "accuracy"
    labels: dict[str, Any] = field(default_factory=dict)

    @property
    def labels_used(self) -> int:
        """Labels the label loop used (0: the ranking is label-free)."""
        return int(self.labels.get("labels_used", 0))

    @property
    def has_p_best(self) -> bool:
        return any(r.p_best is not None for r in self.candidates)

    def _order(self) -> list[CandidateResult]:
        cols = [c for c in self.score_columns if c.name == self.rank_by] + [
            c for c in self.score_columns if c.name != self.rank_by
        ]

        def key(r: CandidateResult) -> tuple:
            parts: list[Any] = []
            for c in cols:
                v = r.scores.get(c.name)
                if v is None or _missing(v):  # `v is None` also narrows the type for the negation below
                    parts.append((1, 0.0))
                else:
                    parts.append((0, -v if c.higher_is_better else v))
            # a candidate without a value of `rank_by` comes last; one scored on a slice only after complete ones
            return (_missing(r.scores.get(self.rank_by)), not r.complete, *parts, r.repo_id)

        return sorted(self.candidates, key=key)

    @property
    def shown_scores(self) -> list[ScoreColumn]:
        """The score columns of the ranking (``auto`` is shown as ``predicted_accuracy``, not again as a score)."""
        return [c for c in self.score_columns if c.name != AUTO]

    @property
    def ranking(self) -> pd.DataFrame:
        """One row per candidate, best first: ``rank``, ``model``, ``predicted_accuracy`` with its 90 % interval
        (``predicted_low``, ``predicted_high``; the metric is `metric`), every score, the ground truth (benchmark
        mode), the ``source`` sample used, the ``status`` (``complete``, ``eliminated``, ``stopped``: see
        `CandidateResult`) and the target ``rows`` its scores are computed on."""
        rows = []
        for i, r in enumerate(self._order(), start=1):
            value, low, high = r.predicted if r.predicted is not None else (None, None, None)
            row: dict[str, Any] = {
                "rank": i,
                "model": r.repo_id,
                "predicted_accuracy": value,
                "predicted_low": low,
                "predicted_high": high,
            }
            if self.has_p_best:
                row["p_best"] = r.p_best
            for c in self.shown_scores:
                row[c.name] = r.scores.get(c.name)
            for metric, values in self.ground_truth.items():
                row[metric] = values.get(r.repo_id)
            row["source"] = r.source
            row["status"] = r.status
            row["rows"] = r.rows if r.rows is not None else (self.n_samples if r.complete else None)
            rows.append(row)
        columns = (
            ["rank", "model", *PREDICTED]
            + (["p_best"] if self.has_p_best else [])
            + [c.name for c in self.shown_scores]
            + list(self.ground_truth)
            + ["source", "status", "rows"]
        )
        return pd.DataFrame(rows, columns=columns)

    def ranks(self) -> pd.DataFrame:
        """Rank of every candidate under every scorer (1 = best; ties share the best rank)."""
        df = self.ranking.set_index("model")
        out = pd.DataFrame(index=df.index)
        for c in self.shown_scores:
            out[c.name] = (
                df[c.name].astype(float).rank(ascending=not c.higher_is_better, method="min", na_option="keep")
            )
        return out

    @property
    def best(self) -> str | None:
        order = self._order()
        if not order or _missing(order[0].scores.get(self.rank_by)):
            return None
        return order[0].repo_id

    def recommendation(self) -> str:
        """The recommendation in plain words: the model, its predicted metric and interval, and how sure it is."""
        best = self.best
        if best is None:
            return f"no recommendation: no candidate has a value for {self.rank_by}"
        order = self._order()
        top = order[0]
        if self.rank_by != AUTO or top.predicted is None:
            return f"recommended: {best} (ranked by {self.rank_by})"
        value, low, high = top.predicted
        text = f"recommended: {best} — predicted {self.metric} {value:.3f} (90% interval {low:.3f}–{high:.3f})"
        if self.labels:
            used = self.labels_used
            text += f" after {used} label{'' if used == 1 else 's'}" if used else " (no label given)"
            if top.p_best is not None:
                text += f", P(best) {top.p_best:.0%}"
        if not top.complete:
            text += f", from its first {top.rows} target rows only (a budget stopped the search)"
        runner = next((r for r in order[1:] if r.predicted is not None), None)
        if runner is None:
            return text
        assert runner.predicted is not None
        if top.p_best is not None:  # the loop's joint belief says more than two marginal intervals
            if top.p_best >= 0.9:
                return f"{text}; ahead of the next ({runner.repo_id}: {runner.predicted[0]:.3f})"
            return (
                f"{text}; not settled against {runner.repo_id} ({runner.predicted[0]:.3f}): label more rows to "
                "separate them"
            )
        if runner.predicted[2] >= low:
            return (
                f"{text}; the top two overlap ({runner.repo_id}: {runner.predicted[0]:.3f}): label a few rows to "
                "separate them (--label-budget 20)"
            )
        # a candidate further down (one a budget stopped on a slice, say) may still reach the top's interval
        rival = next((r for r in order[2:] if r.predicted is not None and r.predicted[2] >= low), None)
        if rival is not None:
            assert rival.predicted is not None
            return (
                f"{text}; its interval overlaps that of {rival.repo_id} ({rival.predicted[0]:.3f}, {rival.status}): "
                "label a few rows to separate them (--label-budget 20)"
            )
        return f"{text}; clearly ahead of the others (next: {runner.repo_id}, {runner.predicted[0]:.3f})"

    @property
    def rank_name(self) -> str:
        """What orders the ranking, in words."""
        return f"predicted {self.metric} (auto)" if self.rank_by == AUTO else self.rank_by

    def notes(self) -> list[str]:
        """What the user should know besides the ranking, one line each: skipped candidates, scores that could not be
        computed (one line per scorer and reason, however many candidates share it) and warnings."""
        out = [f"skipped {s.repo_id} [{s.stage}]: {s.reason}" for s in self.skipped]
        truth = self.ground_truth.get(self.metric) or {}
        best = self.best
        if best is not None and truth.get(best) is not None:  # demo and benchmark mode: how good the pick really is
            top = max(truth, key=lambda m: truth[m] if truth[m] is not None else -math.inf)
            text = f"true {self.metric} (read after ranking): {best} {truth[best]:.3f}"
            if top != best and truth[top] is not None:
                text += (
                    f"; best in the pool {top} {truth[top]:.3f} ({100 * (truth[top] - truth[best]):.1f} points more)"
                )
            else:
                text += ", the best in the pool"
            out.append(text)
        if self.labels:
            out.append(
                f"labels: {self.labels_used} used of a budget of {self.labels.get('label_budget', 0)}, on rows "
                "chosen where the leading candidates disagree; predicted accuracy, interval and P(best) updated"
            )
        out += [
            f"{r.status} {r.repo_id} after {r.rows} target rows: {r.status_reason}"
            for r in self.candidates
            if not r.complete
        ]
        for c in self.score_columns:
            by_reason: dict[str, list[str]] = {}
            for r in self.candidates:
                if c.name in r.unavailable and r.complete:  # a slice's missing scores are said by its status line
                    by_reason.setdefault(r.unavailable[c.name], []).append(r.repo_id)
            for reason, models in by_reason.items():
                who = (
                    "every candidate" if len(models) == len(self.candidates) and len(models) > 1 else ", ".join(models)
                )
                out.append(f"{c.name} unavailable for {who}: {reason}")
        out.extend(f"warning: {w}" for w in self.warnings)
        return out

    # ---- one schema for every renderer -------------------------------------------------------------------------
    def to_table(self, columns: Sequence[str] | None = None, *, link: Any = None, title: str | None = None) -> Table:
        """The ranking as a `Table` (rank, model, each score, ground truth in benchmark mode, source sample).

        Args:
            columns (`list[str]`, *optional*): keep only these column keys, in this order (``--columns``).
            link (`Callable[[str], str | None]`, *optional*): a model id's web page (html and markdown links).
            title (`str`, *optional*): a title (default: what was searched and how it is ordered).
        """
        unit = "F1" if self.metric == "f1" else self.metric
        cols = [Column("rank", kind="int", keep=True), Column("model", kind="id", keep=True, link=link)]
        if any(r.predicted is not None for r in self.candidates):
            cols += [
                Column(
                    "predicted_accuracy",
                    title=f"predicted {unit}",
                    kind="metric",
                    higher_is_better=True,
                    description=f"predicted {unit} on your data (the accuracy estimators combined)",
                    mark="★" if self.rank_by == AUTO else "",
                ),
                Column(
                    "predicted",
                    title="90% interval",
                    kind="interval",
                    description="90% interval of the prediction, calibrated on benchmark workloads",
                ),
            ]
        if self.has_p_best:
            cols.append(
                Column(
                    "p_best",
                    title="P(best)",
                    kind="percent",
                    description=f"probability of being the most accurate candidate, after {self.labels_used} label(s)",
                )
            )
        # the truth (demo and benchmark mode) next to the prediction: dropped for width only after every score, and
        # never before the prediction itself (the notes then still compare the pick with the pool's best)
        cols += [
            Column(m, title=f"true {m}", kind="metric", description=f"true {m}, read after ranking")
            for m in self.ground_truth
        ]
        for c in self.shown_scores:
            cols.append(
                Column(
                    c.name,
                    kind="score",
                    higher_is_better=c.higher_is_better,
                    description=f"{c.description} ({c.kind}; {'higher' if c.higher_is_better else 'lower'} is better)",
                    mark="★" if c.name == self.rank_by else "",
                )
            )
        cols.append(Column("source", kind="text", description="the source sample the similarity scores used"))
        if any(not r.complete for r in self.candidates):
            cols.append(
                Column(
                    "status",
                    kind="text",
                    description="complete: scored on the whole sample; eliminated "
                    "(--budget auto) or stopped (a budget): scored on the first rows only",
                )
            )
            cols.append(Column("rows", kind="int", description="target rows the scores are computed on"))
        records = self.ranking.to_dict(orient="records")
        for row in records:
            row["predicted"] = (row["predicted_low"], row["predicted_high"])
        by_id = {r.repo_id: r for r in self.candidates}
        ranks = self.ranks() if records else None
        tips, badges = {}, {}
        for i, row in enumerate(records):
            cand = by_id[row["model"]]
            if cand.predicted is None and AUTO in cand.unavailable:
                tips[(i, "predicted_accuracy")] = cand.unavailable[AUTO]
            for c in self.shown_scores:
                if _clean(row.get(c.name)) is None:
                    tips[(i, c.name)] = cand.unavailable.get(c.name, "not computed")
                elif ranks is not None and not math.isnan(ranks.at[row["model"], c.name]):
                    badges[(i, c.name)] = f"#{int(ranks.at[row['model'], c.name])}"
        best = self.best
        for i, row in enumerate(records):
            if row["model"] == best:
                badges[(i, "model")] = "★ recommended"
        table = Table(
            columns=cols,
            rows=records,
            title=title
            if title is not None
            else (f"{self.task} · {self.dataset} ({self.split}, {self.n_samples} rows) · ranked by {self.rank_name}"),
            caption=self.recommendation(),
            notes=self.notes(),
            highlight={i for i, r in enumerate(records) if r["model"] == best},
            tips=tips,
            badges=badges,
        )
        return table.select(columns)

    def to_dict(self) -> dict[str, Any]:
        ranking = [{k: _clean(v) for k, v in row.items()} for row in self.ranking.to_dict(orient="records")]
        details = {r.repo_id: r for r in self.candidates}
        for row in ranking:
            r = details[row["model"]]
            row["sha"] = r.sha
            row["declared_datasets"] = r.declared_datasets
            row["unavailable"] = r.unavailable
            row["downloads"] = r.downloads
            row["num_params"] = r.num_params
            row["predicted_from"] = r.predicted_from
            row["heldout_rows"] = r.heldout_rows
            row["status_reason"] = r.status_reason
        return {
            "task": self.task,
            "dataset": self.dataset,
            "split": self.split,
            "columns": self.columns,
            "n_samples": self.n_samples,
            "rank_by": self.rank_by,
            "metric": self.metric,
            "best": self.best,
            "recommendation": self.recommendation(),
            "scores": [c.__dict__ for c in self.score_columns],
            "ranking": ranking,
            "skipped": [s.to_dict() for s in self.skipped],
            "warnings": self.warnings,
            "query": self.query,
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "config": self.config,
            "labels": self.labels,
        }

    def push_to_hub(self, repo_id: str, **kwargs: Any) -> Any:
        """Push this result to a dataset repository on the Hub (see `hfsearch.hub.push.push_result`).

        Args:
            repo_id (`str`): ``ORG/NAME`` of the dataset repository (created if missing).
            **kwargs: ``command``, ``config``, ``token``, ``endpoint``, ``private``.

        Returns:
            `huggingface_hub.CommitInfo`: the commit URL, with ``.oid`` and ``.repo_url``.

        Example:

        ```python
        >>> result.push_to_hub("my-org/imdb-model-search")  # doctest: +SKIP
        ```
        """
        from ..hub.push import push_result

        return push_result(self, repo_id, **kwargs)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, default=str)

    def to_csv(self) -> str:
        return render_csv(self.to_table())

    def to_markdown(self) -> str:
        return render_markdown(self.to_table(title=""))
