"""Seeded sampling and content fingerprints of samples (the cache keys of model outputs)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from datasets import Dataset

from ..errors import DatasetError


def sample_indices(n_rows: int, n: int, seed: int) -> np.ndarray:
    """`n` row indices drawn without replacement from `n_rows` (all rows, in order, when `n >= n_rows`)."""
    if n <= 0:
        raise DatasetError(f"--samples must be a positive number of rows (got {n}).")
    if n_rows == 0:
        raise DatasetError("The split is empty.")
    if n >= n_rows:
        return np.arange(n_rows)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_rows, size=n, replace=False))


def seeded_order(n: int, seed: int) -> np.ndarray:
    """A seeded permutation of ``range(n)``: its first `m` positions are a uniform random subset of the sample, so a
    slice that grows is always a prefix of the same order (what early elimination runs candidates on).

    ```python
    >>> order = seeded_order(10, seed=0)
    >>> sorted(order.tolist()) == list(range(10)), order[:3].tolist() == seeded_order(10, seed=0)[:3].tolist()
    (True, True)
    ```
    """
    return np.random.default_rng([seed, n, 0x5EED]).permutation(n)


def column_values(rows: Dataset, name: str) -> list[Any]:
    """The values of one column as a list, formatted in one batch: iterating ``rows[name]`` (a lazy `datasets`
    column) formats row by row, about 8× slower, which a search paid once per candidate."""
    return rows.select_columns([name])[:][name]


def fingerprint(rows: Dataset, columns: list[str]) -> str:
    """A content hash of the sampled rows' input columns: equal data gives equal keys, wherever it came from."""
    h = hashlib.sha256()
    for col in columns:
        h.update(col.encode())
        for value in column_values(rows, col):
            h.update(_encode(value))
    return h.hexdigest()[:32]


def _encode(value: Any) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8") + b"\x00"
    if isinstance(value, (bytes, bytearray)):
        return bytes(value) + b"\x00"
    if hasattr(value, "tobytes"):  # numpy arrays, PIL images
        try:
            return value.tobytes() + b"\x00"
        except TypeError:
            pass
    return json.dumps(value, sort_keys=True, default=str).encode() + b"\x00"


@dataclass
class Sample:
    """A seeded sample of one split, with only the input columns kept.

    Args:
        rows (`Dataset`): the sampled rows (input columns only: labels are dropped before scoring).
        columns (`list[str]`): the input columns.
        name (`str`): where it came from (``dataset[:config]/split``).
        indices (`np.ndarray`): row indices in the split.
        fingerprint (`str`): content hash (cache key).
        labels (`np.ndarray`, *optional*): kept aside for benchmark mode only; never given to scorers.
        label_names (`list[str]`, *optional*): the label space of the data, when known.
    """

    rows: Dataset
    columns: list[str]
    name: str
    indices: np.ndarray
    fingerprint: str
    labels: Any = None
    label_names: list[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: For a `subset`: the sample it was taken from and its rows' positions there (row-wise features of the parent,
    #: such as the reference encoder's, are then indexed instead of computed again).
    parent: Sample | None = field(default=None, repr=False, compare=False)
    positions: np.ndarray | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.rows)

    def subset(self, positions: np.ndarray, tag: str) -> Sample:
        """The rows at `positions` (positions in this sample, in that order) as a `Sample` of their own.

        Its fingerprint is derived from this sample's and `tag` (which must name the subset uniquely, e.g. the order
        and the range of positions) instead of re-hashing the rows.
        """
        positions = np.asarray(positions, dtype=np.int64)
        labels = None if self.labels is None else np.asarray(self.labels)[positions]
        fp = hashlib.sha256(f"{self.fingerprint}/{tag}".encode()).hexdigest()[:32]
        return Sample(
            rows=self.rows.select(positions),
            columns=self.columns,
            name=self.name,
            indices=np.asarray(self.indices)[positions],
            fingerprint=fp,
            labels=labels,
            label_names=self.label_names,
            extra=dict(self.extra),
            parent=self,
            positions=positions,
        )
