"""Prediction pools: rank models from their recorded predictions alone (no model is run).

A user who already ran many models on one dataset gives a ``.npz`` file with

- ``predictions``: ``(rows, models)`` integer class ids (``-1`` = no prediction), or ``(rows, models, classes)``
  probabilities (each row of a model sums to 1);
- ``labels`` (optional for ranking, needed for grading): ``(rows,)`` class ids;
- ``models`` (optional): ``(models,)`` names.

`rank_outputs` ranks the models label-free by default — the pool's Dawid–Skene consensus gives each model a predicted
accuracy (interval and P(best) from `hfsearch.consensus.selection`), with the agreement with the majority vote as a
baseline column, confidence/entropy when probabilities are given, clone groups and label-permutation flags — and,
when labels are given AND a ``label_budget`` is asked, reveals at most that many labels through the label loop.

>>> result = rank_outputs("pool.npz")
>>> result.to_frame().head()
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from .consensus import ConsensusUnavailable, dawid_skene, detect_permutations
from .consensus.dawid_skene import convergence_warning, fit_warning
from .consensus.selection import LabelLoop
from .errors import HFSearchError


class PoolFileError(HFSearchError):
    """A predictions file (or array) is missing, unreadable or malformed."""


@dataclass
class Pool:
    """A validated prediction pool.

    Attributes:
        predictions (`np.ndarray`): ``(rows, models)`` class ids (argmax of the probabilities when given).
        probabilities (`np.ndarray`, *optional*): ``(rows, models, classes)``.
        labels (`np.ndarray`, *optional*): ``(rows,)`` class ids.
        models (`list[str]`): one name per model.
        n_classes (`int`): number of classes.
        source (`str`): where the pool came from (file name or ``"<arrays>"``).
    """

    predictions: np.ndarray
    probabilities: np.ndarray | None
    labels: np.ndarray | None
    models: list[str]
    n_classes: int
    source: str = "<arrays>"

    @property
    def n_rows(self) -> int:
        return int(self.predictions.shape[0])

    def gold(self) -> np.ndarray:
        """``(rows,)`` gold labels; raises `PoolFileError` when the pool has none."""
        if self.labels is None:
            raise PoolFileError(f"{self.source}: no 'labels' array; add the gold labels to grade the models")
        return self.labels

    def accuracies(self) -> np.ndarray:
        """``(models,)`` measured accuracy of every model (needs labels)."""
        return (self.predictions == self.gold()[:, None]).mean(axis=0)


def _integral(a: np.ndarray) -> bool:
    return a.dtype.kind in "iub" or (
        a.dtype.kind == "f" and bool(np.all(np.isfinite(a))) and bool(np.all(a == np.round(a)))
    )


def validate_pool(
    predictions: Any, labels: Any = None, models: Any = None, *, n_classes: int | None = None, source: str = "<arrays>"
) -> Pool:
    """Check and normalise a pool's arrays; every problem is a one-line `PoolFileError` naming `source`.

    Args:
        predictions (`array-like`): ``(rows, models)`` class ids or ``(rows, models, classes)`` probabilities.
        labels (`array-like`, *optional*): ``(rows,)`` class ids.
        models (`array-like`, *optional*): ``(models,)`` names (default ``model_000`` …).
        n_classes (`int`, *optional*): number of classes (default: from the probabilities, else the largest id + 1).
        source (`str`, *optional*): name used in error messages (the file name).

    Returns:
        `Pool`: the validated pool.

    Example:

    ```python
    >>> validate_pool(np.array([[0, 1], [1, 1]]), labels=[0, 1]).models
    ['model_000', 'model_001']
    ```
    """
    try:
        p = np.asarray(predictions)
    except Exception as e:  # noqa: BLE001 — ragged lists and the like
        raise PoolFileError(f"{source}: 'predictions' is not a numeric array ({e})") from None
    if p.dtype.kind not in "iubf":
        raise PoolFileError(f"{source}: 'predictions' must be numeric, got dtype {p.dtype}")
    if p.ndim not in (2, 3) or 0 in p.shape:
        raise PoolFileError(
            f"{source}: 'predictions' must be (rows, models) class ids or (rows, models, classes) probabilities, "
            f"got shape {p.shape}"
        )
    if p.dtype.kind == "f" and np.isnan(p).any():
        raise PoolFileError(f"{source}: 'predictions' contains NaN; drop or fill those rows first")
    probs = None
    if p.ndim == 3:
        if not np.all(np.isfinite(p)) or (p < 0).any() or (p > 1).any():
            raise PoolFileError(
                f"{source}: 3-D 'predictions' must be probabilities in [0, 1] (got logits? apply softmax)"
            )
        sums = p.sum(axis=2)
        if np.abs(sums - 1.0).max() > 1e-3:
            raise PoolFileError(f"{source}: probabilities of a row must sum to 1 (found sums up to {sums.max():.3g})")
        probs = p.astype(np.float64)
        if n_classes is not None and n_classes != p.shape[2]:
            raise PoolFileError(f"{source}: probabilities have {p.shape[2]} classes but n_classes={n_classes}")
        c = p.shape[2]
        ids = probs.argmax(axis=2).astype(np.int64)
    else:
        if not _integral(p):
            raise PoolFileError(f"{source}: 2-D 'predictions' must hold integer class ids (got non-integer values)")
        ids = p.astype(np.int64)
        c = int(n_classes) if n_classes is not None else max(int(ids.max()) + 1, 2)
        bad = ids[(ids < -1) | (ids >= c)]
        if bad.size:
            raise PoolFileError(
                f"{source}: class id {int(bad[0])} in 'predictions' is out of range [0, {c}) (-1 = none)"
            )
    n, m = ids.shape
    y = None
    if labels is not None:
        y_arr = np.asarray(labels)
        if y_arr.ndim != 1 or len(y_arr) != n:
            raise PoolFileError(f"{source}: 'labels' has shape {y_arr.shape} but 'predictions' has {n} rows")
        if y_arr.dtype.kind == "f" and np.isnan(y_arr).any():
            raise PoolFileError(f"{source}: 'labels' contains NaN")
        if not _integral(y_arr):
            raise PoolFileError(f"{source}: 'labels' must hold integer class ids")
        y = y_arr.astype(np.int64)
        if probs is None and n_classes is None:
            c = max(c, int(y.max()) + 1)
        bad = y[(y < 0) | (y >= c)]
        if bad.size:
            raise PoolFileError(f"{source}: label {int(bad[0])} is out of range [0, {c})")
    names = [f"model_{j:03d}" for j in range(m)]
    if models is not None:
        names = [str(x) for x in np.asarray(models).reshape(-1)]
        if len(names) != m:
            raise PoolFileError(f"{source}: 'models' has {len(names)} names but 'predictions' has {m} models")
    return Pool(ids, probs, y, names, c, source)


def load_pool(path: str | Path, *, n_classes: int | None = None) -> Pool:
    """Read and validate a predictions file (``.npz`` with ``predictions``, optional ``labels`` and ``models``).

    Args:
        path (`str` or `Path`): the ``.npz`` file.
        n_classes (`int`, *optional*): number of classes, when the ids alone do not show it.

    Returns:
        `Pool`: the validated pool.

    Raises:
        `PoolFileError`: missing file, not an ``.npz``, missing ``predictions`` or any malformed array.
    """
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise PoolFileError(f"{path}: no such predictions file")
    hint = "write it with numpy.savez(path, predictions=..., labels=..., models=...)"
    if not zipfile.is_zipfile(path):
        raise PoolFileError(f"{name}: is not a readable .npz archive; {hint}")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except ValueError as e:  # object arrays need pickle, which is never enabled
        raise PoolFileError(f"{name}: holds object arrays ({e}); save plain numeric/str arrays") from None
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise PoolFileError(f"{name}: is not a readable .npz archive ({e}); {hint}") from None
    if not isinstance(arrays, dict) or "predictions" not in arrays:
        found = ", ".join(sorted(arrays)) or "nothing"
        raise PoolFileError(f"{name}: missing array 'predictions' (found: {found})")
    return validate_pool(
        arrays["predictions"], arrays.get("labels"), arrays.get("models"), n_classes=n_classes, source=name
    )


def majority_agreement(predictions: np.ndarray) -> np.ndarray:
    """``(models,)`` agreement with the pool's majority vote (own vote included, ties share the credit).

    The same definition as the ``agreement`` scorer (Baek et al., NeurIPS 2022; Jiang et al., ICLR 2022): the mean over
    rows with a vote of ``1[ŷ_i ∈ M_i] / |M_i|``, ``M_i`` the most-voted labels of row i.
    """
    p = np.asarray(predictions).astype(np.int64)
    n, m = p.shape
    c = max(int(p.max()) + 1, 1)
    votes = np.stack([(p == k).sum(axis=1) for k in range(c)], axis=1)
    top = votes.max(axis=1)
    voted = top > 0
    is_top = (votes == top[:, None]) & voted[:, None]
    credit = np.where(
        p >= 0, is_top[np.arange(n)[:, None], np.maximum(p, 0)] / np.maximum(is_top.sum(1), 1)[:, None], 0.0
    )
    return credit[voted].mean(axis=0) if voted.any() else np.zeros(m)


@dataclass
class PoolRanking:
    """What `rank_outputs` returns.

    Attributes:
        frame (`pandas.DataFrame`): one row per model, best first: ``rank, model, predicted_accuracy, low, high,
            p_best, agreement`` (+ ``confidence, entropy`` with probabilities), ``clone_group, permuted,
            label_mapping, accuracy_if_remapped, recommendable``.
        best (`str`): the recommended model.
        method (`str`): ``"dawid-skene (one-coin|full)"`` or ``"agreement"`` when no consensus is possible.
        labels_used (`int`): labels revealed (0 unless a label budget was asked).
        rows_labeled (`list[int]`): which rows were revealed, in order.
        warnings (`list[str]`): what could not be done and why.
        consensus_fit (`float`, *optional*): the share of the models' pairwise agreement that the Dawid–Skene fit
            explains (`DawidSkeneResult.agreement_explained`; ``None`` without a consensus): near 1 when the models
            err independently given the true label, as the method assumes.
    """

    frame: pd.DataFrame
    best: str
    method: str
    labels_used: int = 0
    rows_labeled: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    consensus_fit: float | None = None

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    def scores(self) -> dict[str, float]:
        """``{model: predicted_accuracy}`` (for grading with `hfsearch.bench.metrics`)."""
        return dict(zip(self.frame["model"], self.frame["predicted_accuracy"].astype(float)))

    def to_markdown(self, digits: int = 3) -> str:
        """The ranking as a markdown table."""
        return markdown_table(self.frame, digits)

    def to_dict(self) -> dict[str, Any]:
        return {
            "best": self.best,
            "method": self.method,
            "consensus_fit": self.consensus_fit,
            "labels_used": self.labels_used,
            "rows_labeled": self.rows_labeled,
            "warnings": self.warnings,
            "ranking": self.frame.replace({np.nan: None}).to_dict(orient="records"),
        }


def markdown_table(frame: pd.DataFrame, digits: int = 3) -> str:
    """A DataFrame as a markdown table (floats rounded to `digits` decimals, NaN as ``–``)."""
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "|".join("---" for _ in frame.columns) + "|"]
    for row in frame.itertuples(index=False):
        cells = []
        for v in row:
            if isinstance(v, (float, np.floating)):
                cells.append("–" if np.isnan(v) else f"{v:.{digits}f}")
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _remap(pred: np.ndarray, mapping: list[int]) -> np.ndarray:
    """Class ids translated by a permutation (``-1`` stays ``-1``)."""
    table = np.asarray(mapping, dtype=np.int64)
    return np.where(pred >= 0, table[np.maximum(pred, 0)], -1)


def rank_outputs(
    predictions: Any,
    labels: Any = None,
    models: Any = None,
    *,
    label_budget: int = 0,
    strategy: Literal["informative", "uniform"] = "informative",
    group_keys: Any = None,
    n_classes: int | None = None,
    level: float = 0.9,
    prior_sd: float = 0.05,
    seed: int = 0,
) -> PoolRanking:
    """Rank models from their recorded predictions, label-free unless a label budget is asked.

    Args:
        predictions (`np.ndarray`, `str` or `Path`): ``(rows, models)`` ids / ``(rows, models, classes)``
            probabilities, or a ``.npz`` file (then `labels` and `models` default to the file's).
        labels (`np.ndarray`, *optional*): gold labels; only read when ``label_budget > 0``, and then only the rows
            the label loop asks for.
        models (`Sequence[str]`, *optional*): model names.
        label_budget (`int`, *optional*, defaults to 0): labels the loop may reveal.
        strategy (`str`, *optional*, defaults to ``"informative"``): row choice of the loop (``"uniform"``: baseline).
        group_keys (`Sequence`, *optional*): one key per model (e.g. weights sha); equal keys are merged as clones.
        n_classes (`int`, *optional*): number of classes.
        level (`float`, *optional*, defaults to 0.9): coverage of the intervals.
        prior_sd (`float`, *optional*, defaults to 0.05): assumed sd of the label-free estimates (see `LabelLoop`).
        seed (`int`, *optional*, defaults to 0): seed of every random draw.

    Returns:
        `PoolRanking`: the ranking (DataFrame), the recommended model, the method used and the labels used.

    Example:

    ```python
    >>> res = rank_outputs(np.array([[0, 0, 1], [1, 1, 1], [0, 0, 0], [1, 0, 1]]))
    >>> res.method
    'dawid-skene (one-coin)'
    ```
    """
    if isinstance(predictions, (str, Path)):
        pool = load_pool(predictions, n_classes=n_classes)
        if labels is not None or models is not None:
            pool = validate_pool(
                pool.probabilities if pool.probabilities is not None else pool.predictions,
                labels if labels is not None else pool.labels,
                models if models is not None else pool.models,
                n_classes=n_classes,
                source=pool.source,
            )
    else:
        pool = validate_pool(predictions, labels, models, n_classes=n_classes)
    if label_budget < 0:
        raise PoolFileError(f"label_budget must be >= 0, got {label_budget}")
    if label_budget > 0 and pool.labels is None:
        raise PoolFileError(f"{pool.source}: label_budget={label_budget} needs labels to reveal; pass labels=...")
    p, c = pool.predictions, pool.n_classes
    warnings: list[str] = []
    agreement = majority_agreement(p)
    clone_group = np.arange(p.shape[1])
    fit: float | None = None
    try:
        ds = dawid_skene(p, pool.probabilities, n_classes=c, group_keys=group_keys)
        prior = ds.model_accuracy
        method = f"dawid-skene ({ds.model_type})"
        fit = ds.agreement_explained
        if (note := fit_warning(fit)) is not None:
            warnings.append(note)
        if (note := convergence_warning(ds)) is not None:
            warnings.append(note)
        for g, members in enumerate(ds.groups):
            clone_group[members] = g
        reference = ds.q
        checks = detect_permutations(p, reference)
        remapped = np.array(
            [
                ds.estimate_accuracy(_remap(p[:, j], ch.mapping), model=j) if ch.flagged else np.nan
                for j, ch in enumerate(checks)
            ]
        )
    except ConsensusUnavailable as e:
        warnings.append(f"no consensus ({e.reason}); ranked by agreement with the majority vote")
        prior, method = agreement.copy(), "agreement"
        checks, remapped = [], np.full(p.shape[1], np.nan)
    permuted = np.array([ch.flagged for ch in checks]) if checks else np.zeros(p.shape[1], bool)
    loop = LabelLoop(
        p,
        prior,
        budget=label_budget,
        strategy=strategy,
        recommendable=~permuted,
        level=level,
        prior_sd=prior_sd,
        n_classes=c,
        seed=seed,
    )
    while label_budget > 0 and (row := loop.next_row()) is not None:
        loop.observe(row, int(pool.labels[row]))  # type: ignore[index]
    r = loop.ranking()
    columns: dict[str, Any] = {
        "model": pool.models,
        "predicted_accuracy": r.accuracy,
        "low": r.low,
        "high": r.high,
        "p_best": r.p_best,
        "agreement": agreement,
    }
    if pool.probabilities is not None:
        pr = pool.probabilities
        columns["confidence"] = pr.max(axis=2).mean(axis=0)
        columns["entropy"] = -(pr * np.log(np.where(pr > 0, pr, 1.0))).sum(axis=2).mean(axis=0)
    columns.update(
        {
            "clone_group": clone_group,
            "permuted": permuted,
            "label_mapping": [str(ch.mapping) if ch.flagged else "" for ch in checks] or [""] * p.shape[1],
            "accuracy_if_remapped": remapped,
            "recommendable": ~permuted,
        }
    )
    frame = pd.DataFrame(columns)
    # Permuted models are placed where they would rank once remapped (flagged, never recommended), not last.
    key = np.where(permuted, np.nan_to_num(remapped, nan=-1.0), r.accuracy)
    frame = frame.iloc[np.argsort(-key, kind="stable")].reset_index(drop=True)
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    if permuted.any():
        warnings.append(f"{int(permuted.sum())} model(s) look label-permuted (see label_mapping); never recommended")
    return PoolRanking(
        frame, pool.models[r.best], method, loop.n_labeled, [row for row, _ in loop.history], warnings, fit
    )
