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


@dataclass
class ScoreColumn:
    """A score column of the ranking."""

    name: str
    kind: str
    higher_is_better: bool
    description: str = ""


@dataclass
class CandidateResult:
    """Scores of one candidate (``None`` where a score could not be computed; `unavailable` says why)."""

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

    def _order(self) -> list[CandidateResult]:
        cols = [c for c in self.score_columns if c.name == self.rank_by] + [
            c for c in self.score_columns if c.name != self.rank_by
        ]

        def key(r: CandidateResult) -> tuple:
            parts: list[Any] = []
            for c in cols:
                v = r.scores.get(c.name)
                if v is None or (isinstance(v, float) and math.isnan(v)):
                    parts.append((1, 0.0))
                else:
                    parts.append((0, -v if c.higher_is_better else v))
            return (*parts, r.repo_id)

        return sorted(self.candidates, key=key)

    @property
    def ranking(self) -> pd.DataFrame:
        rows = []
        for i, r in enumerate(self._order(), start=1):
            row: dict[str, Any] = {"rank": i, "model": r.repo_id}
            for c in self.score_columns:
                row[c.name] = r.scores.get(c.name)
            for metric, values in self.ground_truth.items():
                row[metric] = values.get(r.repo_id)
            row["source"] = r.source
            rows.append(row)
        columns = ["rank", "model"] + [c.name for c in self.score_columns] + list(self.ground_truth) + ["source"]
        return pd.DataFrame(rows, columns=columns)

    def ranks(self) -> pd.DataFrame:
        """Rank of every candidate under every scorer (1 = best; ties share the best rank)."""
        df = self.ranking.set_index("model")
        out = pd.DataFrame(index=df.index)
        for c in self.score_columns:
            out[c.name] = df[c.name].astype(float).rank(ascending=not c.higher_is_better, method="min", na_option="keep")
        return out

    @property
    def best(self) -> str | None:
        order = self._order()
        if not order or order[0].scores.get(self.rank_by) is None:
            return None
        return order[0].repo_id

    def notes(self) -> list[str]:
        """What the user should know besides the ranking, one line each: skipped candidates, scores that could not be
        computed (one line per scorer and reason, however many candidates share it) and warnings."""
        out = [f"skipped {s.repo_id} [{s.stage}]: {s.reason}" for s in self.skipped]
        for c in self.score_columns:
            by_reason: dict[str, list[str]] = {}
            for r in self.candidates:
                if c.name in r.unavailable:
                    by_reason.setdefault(r.unavailable[c.name], []).append(r.repo_id)
            for reason, models in by_reason.items():
                who = "every candidate" if len(models) == len(self.candidates) and len(models) > 1 else ", ".join(models)
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
        cols = [Column("rank", kind="int", keep=True), Column("model", kind="id", keep=True, link=link)]
        for c in self.score_columns:
            cols.append(Column(c.name, kind="score", higher_is_better=c.higher_is_better,
                               description=f"{c.description} ({c.kind}; {'higher' if c.higher_is_better else 'lower'} "
                                           "is better)", mark="★" if c.name == self.rank_by else ""))
        cols += [Column(m, kind="metric", description=f"true {m} (benchmark mode)") for m in self.ground_truth]
        cols.append(Column("source", kind="text", description="the source sample the similarity scores used"))
        records = self.ranking.to_dict(orient="records")
        by_id = {r.repo_id: r for r in self.candidates}
        ranks = self.ranks() if records else None
        tips, badges = {}, {}
        for i, row in enumerate(records):
            cand = by_id[row["model"]]
            for c in self.score_columns:
                if _clean(row.get(c.name)) is None:
                    tips[(i, c.name)] = cand.unavailable.get(c.name, "not computed")
                elif ranks is not None and not math.isnan(ranks.at[row["model"], c.name]):
                    badges[(i, c.name)] = f"#{int(ranks.at[row['model'], c.name])}"
        best = self.best
        for i, row in enumerate(records):
            if row["model"] == best:
                badges[(i, "model")] = "★ recommended"
        table = Table(
            columns=cols, rows=records,
            title=title if title is not None else (f"{self.task} · {self.dataset} ({self.split}, {self.n_samples} rows) "
                                                   f"· ranked by {self.rank_by}"),
            caption=f"recommended: {best}" if best else "no recommendation: no candidate has a value for the ranking score",
            notes=self.notes(), highlight={i for i, r in enumerate(records) if r["model"] == best},
            tips=tips, badges=badges,
        )
        return table.select(columns)

    def to_dict(self) -> dict[str, Any]:
        ranking = [
            {k: _clean(v) for k, v in row.items()} for row in self.ranking.to_dict(orient="records")
        ]
        details = {r.repo_id: r for r in self.candidates}
        for row in ranking:
            r = details[row["model"]]
            row["sha"] = r.sha
            row["declared_datasets"] = r.declared_datasets
            row["unavailable"] = r.unavailable
            row["downloads"] = r.downloads
            row["num_params"] = r.num_params
        return {
            "task": self.task,
            "dataset": self.dataset,
            "split": self.split,
            "columns": self.columns,
            "n_samples": self.n_samples,
            "rank_by": self.rank_by,
            "best": self.best,
            "scores": [c.__dict__ for c in self.score_columns],
            "ranking": ranking,
            "skipped": [s.to_dict() for s in self.skipped],
            "warnings": self.warnings,
            "query": self.query,
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "config": self.config,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, default=str)

    def to_csv(self) -> str:
        return render_csv(self.to_table())

    def to_markdown(self) -> str:
        return render_markdown(self.to_table(title=""))
