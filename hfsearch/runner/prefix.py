"""Slices that grow: a candidate's outputs on the first rows of a seeded order of a sample.

Early elimination (``--budget auto``) runs every candidate on a small seeded slice of the target first and grows the
slice for the candidates that remain. The rows of a sample are put in one seeded order (`seeded_order`), so each
slice is a *prefix* of that order and a bigger slice only adds rows: outputs already computed are never computed
again. The cache stores them that way too: one entry per (candidate, sample, order) holding the outputs of the
first rows computed so far, extended in place (replaced atomically) when a later run asks for more; once the
prefix covers the whole sample it is also stored as the sample's ordinary entry, so a ``--budget full`` run reads
it as well, and an ordinary entry answers any prefix.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from ..data.sample import Sample, seeded_order
from .cache import Outputs


@dataclass(frozen=True)
class Prefix:
    """The first `rows` rows of `sample` in the seeded `order`.

    Args:
        sample (`Sample`): the whole sample.
        order (`np.ndarray`): a permutation of its positions (`seeded_order`).
        rows (`int`): how many rows of the order the slice holds (at most ``len(sample)``).
    """

    sample: Sample
    order: np.ndarray
    rows: int

    @classmethod
    def of(cls, sample: Sample, rows: int, seed: int) -> Prefix:
        """The first `rows` rows of `sample` in the order seeded by `seed`."""
        return cls(sample, seeded_order(len(sample), seed), min(int(rows), len(sample)))

    @property
    def complete(self) -> bool:
        """Whether the slice is the whole sample."""
        return self.rows >= len(self.sample)

    @property
    def order_key(self) -> str:
        """A short hash of the order (part of cache keys and fingerprints)."""
        return hashlib.sha256(np.ascontiguousarray(self.order, dtype=np.int64).tobytes()).hexdigest()[:16]

    def part(self, start: int, stop: int | None = None) -> Sample:
        """Rows ``start:stop`` of the order (default: up to `rows`) as a `Sample` of their own."""
        stop = self.rows if stop is None else stop
        return self.sample.subset(self.order[start:stop], f"order={self.order_key}/{start}:{stop}")

    def view(self) -> Sample:
        """The slice itself (rows ``0:rows`` of the order; its labels, when the sample has labels, sliced alike). A
        complete slice is the sample, in its own order: outputs holding every row of a sample are always in sample
        order (`Runner.run_prefix`, `to_sample_order`), so its rows and labels must be too."""
        return self.sample if self.complete else self.part(0)

    def take(self, full: Outputs) -> Outputs:
        """The slice's rows of outputs computed on the whole sample (in sample order)."""
        idx = self.order[: self.rows]
        return Outputs(logits=None if full.logits is None else full.logits[idx], features=full.features[idx])

    def to_sample_order(self, out: Outputs) -> Outputs:
        """Outputs of the complete prefix, put back in the sample's own order (as `Runner.run` returns them)."""
        assert self.complete and len(out.features) == len(self.sample)
        inverse = np.empty_like(self.order)
        inverse[self.order] = np.arange(len(self.order))
        return Outputs(logits=None if out.logits is None else out.logits[inverse], features=out.features[inverse])


def rows_of(out: Outputs | None) -> int:
    """How many rows `out` holds (0 for ``None``)."""
    return 0 if out is None else len(out.features)


def head(out: Outputs, rows: int) -> Outputs:
    """The first `rows` rows of `out`."""
    return Outputs(logits=None if out.logits is None else out.logits[:rows], features=out.features[:rows])


def concat(first: Outputs | None, second: Outputs) -> Outputs:
    """`first` followed by `second` (row-wise). Per-row logits of different widths (token tasks pad each slice to its
    longest sentence) are padded with NaN, as the runner pads them."""
    if first is None or rows_of(first) == 0:
        return second
    logits = None
    if first.logits is not None and second.logits is not None:
        a, b = first.logits, second.logits
        if a.shape[1:] != b.shape[1:]:
            shape = tuple(max(x, y) for x, y in zip(a.shape[1:], b.shape[1:]))
            a, b = _pad(a, shape), _pad(b, shape)
        logits = np.concatenate([a, b])
    return Outputs(logits=logits, features=np.concatenate([first.features, second.features]))


def _pad(arr: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    out = np.full((arr.shape[0], *shape), np.nan, dtype=arr.dtype)
    out[(slice(None), *(slice(0, s) for s in arr.shape[1:]))] = arr
    return out
