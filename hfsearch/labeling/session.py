"""One search's label loop: the candidates' target predictions, their label-free predicted accuracy as the prior, and
the labels given so far.

The prior is each candidate's ``auto`` prediction with its calibrated 90 % interval (`CandidateResult.predicted`, from
the selector): the loop (`hfsearch.consensus.selection.LabelLoop`) starts exactly there — 0 labels change nothing —
and converges to the measured accuracy on the sample as labels come in. A candidate without a label-free prediction
(no estimator could be computed for it) enters with the uninformative prior `uninformed_prior` — accuracy uniform on
[0, 1] — so what is believed of it is what the labels say; it gets a predicted accuracy only once labels are given.
A `LabelSession` is driven by a label source in the pipeline's ``label`` stage (`hfsearch.pipeline.label`), or step
by step by the Space's labeling panel.

```python
>>> session = LabelSession.from_search(search)          # doctest: +SKIP
>>> row = session.next_row(); session.observe(row, 1)   # doctest: +SKIP
>>> session.apply(search.results)                       # doctest: +SKIP
```
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..consensus.selection import LabelLoop
from ..errors import TaskError
from .sources import RowView, row_view

if TYPE_CHECKING:
    from ..rank.result import CandidateResult
    from ..search import Search

#: The ranking column the loop updates (the predicted metric, see `hfsearch.pipeline.estimate`).
AUTO = "auto"


def uninformed_prior(level: float = 0.9) -> tuple[float, float, float]:
    """``(mean, low, high)`` of an accuracy uniform on [0, 1] as the loop reads a prior: mean 0.5, standard deviation
    1/√12, the central `level` interval of the normal with those moments."""
    from scipy.stats import norm

    half = float(norm.ppf(0.5 + level / 2.0)) / np.sqrt(12.0)
    return 0.5, 0.5 - half, 0.5 + half


class LabelSession:
    """The label loop over a search's candidates.

    Args:
        models (`Sequence[str]`): the candidates in the loop (those with target predictions).
        predictions (`np.ndarray`): ``(rows, models)`` predicted target class per target row (``-1``: none).
        prior (`np.ndarray`): ``(models, 3)`` label-free predicted accuracy, low and high of its interval (a row of NaN:
            no label-free prediction, `uninformed_prior` is used).
        class_names (`Sequence[str]`): the target's classes (answers are indices into them).
        budget (`int`): most labels asked.
        rows (`datasets.Dataset`, *optional*): the target sample (its input columns), to show a row to a person.
        columns (`Sequence[str]`, *optional*): the input columns.
        indices (`np.ndarray`, *optional*): each sample row's index in the split.
        level (`float`, *optional*, defaults to 0.9): coverage of the prior intervals and of the updated ones.
        seed (`int`, *optional*, defaults to 0): seed of the loop's random choices.
        common_share (`float`, *optional*, defaults to 0.5): share of the prior's error common to every candidate
            (`LabelLoop`); a search passes its selector's measure (`Selector.common_share`).

    Attributes:
        loop (`LabelLoop`): the loop itself (`next_row`, `observe`, `skip`, `ranking`).
    """

    def __init__(
        self,
        models: Sequence[str],
        predictions: np.ndarray,
        prior: np.ndarray,
        class_names: Sequence[str],
        budget: int,
        *,
        rows: Any = None,
        columns: Sequence[str] = (),
        indices: np.ndarray | None = None,
        level: float = 0.9,
        seed: int = 0,
        common_share: float = 0.5,
    ) -> None:
        self.models = list(models)
        self.class_names = list(class_names)
        self.prior = np.array(prior, dtype=np.float64)
        self.uninformed = np.asarray(~np.isfinite(self.prior).all(axis=1))
        self.prior[self.uninformed] = uninformed_prior(level)
        self.rows, self.columns = rows, list(columns)
        self.indices = indices
        self.loop = LabelLoop(
            predictions,
            self.prior[:, 0],
            self.prior[:, 1:3],
            budget=budget,
            level=level,
            n_classes=len(self.class_names),
            seed=seed,
            common_share=common_share,
        )

    @classmethod
    def from_search(cls, search: Search, budget: int | None = None) -> LabelSession | None:
        """The session of a search after its ``estimate`` stage (``None``: no candidate has target predictions).

        Raises:
            `TaskError`: the task makes several predictions per row (token classification): not supported.
        """
        from ..pipeline.score import make_peer

        state, target = search.state, search.state.target
        assert target is not None
        by_id = {r.repo_id: r for r in search.results}
        models, preds, prior = [], [], []
        for run in state.runs.values():
            result = by_id.get(run.repo_id)
            if result is None:
                continue
            peer = make_peer(search, run)
            if peer is None:
                continue
            if len(peer.pred) != len(target):
                raise TaskError(
                    f"--label-budget needs one prediction per target row; task {search.cfg.task!r} makes "
                    f"{len(peer.pred)} on {len(target)} rows (not supported yet)."
                )
            models.append(run.repo_id)
            preds.append(peer.pred)
            prior.append(result.predicted if result.predicted is not None else (np.nan,) * 3)
        if not models:
            return None
        names = list(state.label_names or [])
        n_classes = max(len(names), int(np.max(preds)) + 1, 2)
        names += [str(k) for k in range(len(names), n_classes)]
        return cls(
            models,
            np.stack(preds, axis=1),
            np.asarray(prior),
            names,
            search.cfg.label_budget if budget is None else budget,
            rows=target.rows,
            columns=target.columns,
            indices=target.indices,
            level=search.selector.level,
            seed=search.cfg.seed,
            common_share=search.selector.for_metric(search.metric).common_share,
        )

    # ---- the loop ------------------------------------------------------------------------------------------------
    @property
    def budget(self) -> int:
        return self.loop.budget

    @property
    def n_labeled(self) -> int:
        """Labels used so far."""
        return self.loop.n_labeled

    @property
    def remaining(self) -> int:
        return self.loop.remaining

    @property
    def n_rows(self) -> int:
        return int(self.loop.pred.shape[0])

    def next_row(self) -> int | None:
        """The row to label next (its position in the target sample), or ``None`` (budget spent, no row left)."""
        return self.loop.next_row()

    def observe(self, row: int, label: int) -> None:
        """Record the class id `label` of `row`.

        Raises:
            `ValueError`: the row is out of range or already labeled, or the label is not a class id.
            `RuntimeError`: the budget is spent.
        """
        self.loop.observe(row, label)

    def skip(self, row: int) -> None:
        """Never ask `row` again (free)."""
        self.loop.skip(row)

    def replay(self, answers: Sequence[tuple[int, int | None]]) -> int:
        """Apply answers of an earlier session (``(row, class id or None)``, in order) within the budget; answers for
        rows out of range or already given are ignored. Returns how many labels were applied."""
        applied = 0
        for row, label in answers:
            if not 0 <= row < self.n_rows:
                continue
            if label is None:
                self.skip(row)
            elif self.remaining > 0 and 0 <= label < len(self.class_names) and not self.loop.belief.labeled[row]:
                self.observe(row, label)
                applied += 1
        return applied

    def view(self, row: int) -> RowView:
        """Target row `row` as a person sees it."""
        index = int(self.indices[row]) if self.indices is not None else row
        if self.rows is None:
            return RowView(row=row, index=index)
        return row_view(self.rows, self.columns, row, index)

    # ---- the answer ----------------------------------------------------------------------------------------------
    def apply(self, results: Sequence[CandidateResult]) -> None:
        """Write the loop's current answer into the candidates' results: ``predicted`` (posterior accuracy and its
        interval), the ``auto`` score that orders the ranking, and ``p_best``. With 0 labels the predictions are the
        label-free ones, unchanged."""
        r = self.loop.ranking()
        index = {m: j for j, m in enumerate(self.models)}
        for result in results:
            j = index.get(result.repo_id)
            if j is None:
                continue
            value, low, high = float(r.accuracy[j]), float(r.low[j]), float(r.high[j])
            if self.n_labeled:
                result.predicted = (value, min(low, value), max(high, value))
                result.scores[AUTO] = value
                if self.uninformed[j]:
                    result.predicted_from = ["labels"]
                    result.unavailable.pop(AUTO, None)
            result.p_best = float(r.p_best[j])

    def summary(self) -> dict[str, Any]:
        """Labels used, the budget and the rows labeled (position, split index, class id), for the result's record."""
        rows = [
            {"row": int(i), "index": int(self.indices[i]) if self.indices is not None else int(i), "label": int(y)}
            for i, y in self.loop.history
        ]
        return {"labels_used": self.n_labeled, "label_budget": self.budget, "rows": rows}
