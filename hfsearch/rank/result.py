"""The result of a search: the ranking, the skipped candidates and why, and every score's provenance."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..candidates.candidate import Skipped


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
    extra: dict[str, Any] = field(default_factory=dict)


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
        return self.ranking.to_csv(index=False)

    def to_markdown(self, digits: int = 4) -> str:
        df = self.ranking
        head = "| " + " | ".join(df.columns) + " |"
        sep = "|" + "|".join("---" for _ in df.columns) + "|"
        lines = [head, sep]
        for row in df.itertuples(index=False):
            cells = []
            for v in row:
                if isinstance(v, float):
                    cells.append("–" if math.isnan(v) else f"{v:.{digits}g}")
                else:
                    cells.append("–" if v is None else str(v))
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)
