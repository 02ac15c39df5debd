"""Near-duplicate models merged into one voter, so that clones do not outvote the rest of a pool.

Two models are clones when the caller says so (same group key, e.g. the same weights sha) or when their predictions
are identical on at least `threshold` (99 % by default) of the rows that either predicts: a row one model predicts and
the other leaves out (``-1``, a class the target does not have) counts as a difference, so a model that predicts only
the easy rows is not a clone of every model that gets those right. Clone pairs are joined by connected components
(single linkage): with a 99 % threshold, models two links apart still agree on >= 98 % of rows.
Each group then votes once, with the row-wise mode of its members' predictions (or their mean probabilities).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def pairwise_agreement(predictions: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Agreement counts between every pair of models.

    Args:
        predictions (`np.ndarray`): ``(rows, models)`` class ids, ``-1`` = no prediction.
        n_classes (`int`): number of classes ``C`` (ids lie in ``[0, C)``).

    Returns:
        `tuple[np.ndarray, np.ndarray]`: ``(same, both)``, each ``(models, models)``: rows where the two models
        predict the same class, and rows where both predict something.

    Example:

    ```python
    >>> same, both = pairwise_agreement(np.array([[0, 0, 1], [1, 1, 1], [0, 1, -1]]), 2)
    >>> int(same[0, 1]), int(both[0, 2])
    (2, 2)
    ```
    """
    p = np.asarray(predictions)
    valid = (p >= 0).astype(np.float64)
    same = np.zeros((p.shape[1], p.shape[1]), dtype=np.float64)
    for c in range(n_classes):
        onehot = (p == c).astype(np.float64)
        same += onehot.T @ onehot
    both = valid.T @ valid
    return np.rint(same).astype(np.int64), np.rint(both).astype(np.int64)


def find_clone_groups(
    predictions: np.ndarray,
    n_classes: int,
    *,
    keys: Sequence[Any] | None = None,
    threshold: float = 0.99,
    min_overlap: int = 20,
) -> list[list[int]]:
    """Group near-duplicate models (same key, or predictions identical on >= `threshold` of the rows either predicts).

    Args:
        predictions (`np.ndarray`): ``(rows, models)`` class ids, ``-1`` = no prediction.
        n_classes (`int`): number of classes.
        keys (`Sequence`, *optional*): one key per model (e.g. the weights' sha); equal non-``None`` keys are clones.
        threshold (`float`, *optional*, defaults to 0.99): agreement, over the rows either model predicts, that makes
            two models clones.
        min_overlap (`int`, *optional*, defaults to 20): shared rows needed before agreement can merge two models
            (fewer when the pool has fewer rows predicted by either model), so that two models meeting on 3 rows are
            not called clones.

    Returns:
        `list[list[int]]`: the groups (model indices, ascending), ordered by their first member; singletons included.

    Example:

    ```python
    >>> find_clone_groups(np.tile([[0, 0, 1, 0]], (30, 1)), 2)
    [[0, 1, 3], [2]]
    ```
    """
    p = np.asarray(predictions)
    m = p.shape[1]
    if keys is not None and len(keys) != m:
        raise ValueError(f"keys has {len(keys)} entries for {m} models")
    same, both = pairwise_agreement(p, n_classes)
    count = (p >= 0).sum(axis=0)
    either = count[:, None] + count[None, :] - both
    need = np.maximum(np.minimum(min_overlap, either), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(either > 0, same / np.maximum(either, 1), 0.0)
    edges = (rate >= threshold) & (both >= need)
    if keys is not None:
        by_key: dict[Any, list[int]] = {}
        for j, k in enumerate(keys):
            if k is not None:
                by_key.setdefault(k, []).append(j)
        for members in by_key.values():
            for a in members[1:]:
                edges[members[0], a] = edges[a, members[0]] = True
    np.fill_diagonal(edges, False)
    rows, cols = np.nonzero(edges)
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(m, m))
    _, labels = connected_components(graph, directed=False)
    groups: dict[int, list[int]] = {}
    for j, g in enumerate(labels):
        groups.setdefault(int(g), []).append(j)
    return sorted(groups.values(), key=lambda g: g[0])


def group_votes(
    predictions: np.ndarray, groups: list[list[int]], n_classes: int, probabilities: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """One vote per group: the row-wise mode of its members (first member breaks ties), or their mean probabilities.

    Args:
        predictions (`np.ndarray`): ``(rows, models)`` class ids, ``-1`` = no prediction.
        groups (`list[list[int]]`): output of `find_clone_groups`.
        n_classes (`int`): number of classes.
        probabilities (`np.ndarray`, *optional*): ``(rows, models, classes)``; averaged over the members that predict.

    Returns:
        `tuple[np.ndarray, np.ndarray | None]`: ``(votes, soft)``: ``(rows, groups)`` class ids (``-1`` where no member
        predicts) and, with `probabilities`, ``(rows, groups, classes)`` mean probabilities (zeros where none predicts).
    """
    p = np.asarray(predictions)
    n = p.shape[0]
    votes = np.full((n, len(groups)), -1, dtype=np.int64)
    soft = None if probabilities is None else np.zeros((n, len(groups), n_classes), dtype=np.float64)
    for g, members in enumerate(groups):
        sub = p[:, members]
        counts = np.stack([(sub == c).sum(axis=1) for c in range(n_classes)], axis=1).astype(np.float64)
        first = sub[:, 0]
        counts[np.arange(n)[first >= 0], first[first >= 0]] += 0.5  # the first member breaks ties
        votes[:, g] = np.where(counts.sum(axis=1) > 0, counts.argmax(axis=1), -1)
        if soft is not None and probabilities is not None:
            valid = (sub >= 0).astype(np.float64)
            total = np.einsum("nm,nmc->nc", valid, probabilities[:, members, :])
            k = valid.sum(axis=1, keepdims=True)
            soft[:, g, :] = np.divide(total, k, out=np.zeros_like(total), where=k > 0)
    return votes, soft
