"""A dynamic p-stable LSH index of partition histograms, for adaptivity without all-pairs JSD.

Why it works: the Jensen–Shannon divergence is sandwiched by the squared Hellinger distance
H²(p, q) = ½‖√p − √q‖² (about 0.69·H² ≤ JSD ≤ H²), so partitions with a small JSD are Euclidean neighbours of
their square-root histograms. Each √histogram ``x`` is hashed with Datar et al.'s p-stable Euclidean LSH
(SoCG 2004)

    h(x) = floor((a · x + b) / r),   a ~ N(0, I),  b ~ U[0, r),

``K`` hashes concatenated form one band key; ``L`` bands give a pair L chances to collide. A query retrieves
every indexed partition that shares a band with it and verifies it with the exact JSD, so the index never
reports a false pair; it can only miss some (its *recall*). The authors of the adaptivity measure (Zhou et al.,
arXiv 2010.09474 and 2206.00188) tuned r = 1.3, K = 11, L = 46 on 100-bin histograms; those are the defaults.

The index is *dynamic*: `LSHIndex.insert` adds the source partitions of a new model (hashing only them), and
inserting models one by one gives exactly the index built from all of them at once. `LSHIndex.save` /
`LSHIndex.load` use a plain ``.npz`` file (no pickle), so a registry of many models can be searched for a target
without comparing it with every model's partitions.

Example:

```python
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> parts_a, parts_b = rng.dirichlet(np.ones(100), 20), rng.dirichlet(np.ones(100), 20)
>>> index = LSHIndex(dim=100, seed=0)
>>> index.insert("org/model-a", parts_a)            # source partitions of one model
>>> index.insert("org/model-b", parts_b)            # another model: no rebuild
>>> index.query(parts_a[:5], tau=0.01)              # pairs with JSD < tau, per model
{'org/model-a': 5, 'org/model-b': 0}

```
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable

import numpy as np

from .histograms import LN2, normalize_rows
from .histograms import _xlogx_sum as _neg_entropy  # Σ p log p per row

_FORMAT = "hfsearch-lsh-v1"


class LSHIndex:
    """p-stable Euclidean LSH over square-root histograms, with exact-JSD verification.

    Args:
        dim (`int`): number of histogram bins.
        r (`float`, *optional*, defaults to 1.3): bucket width.
        K (`int`, *optional*, defaults to 11): hashes per band (AND).
        L (`int`, *optional*, defaults to 46): bands (OR).
        seed (`int`, *optional*, defaults to 0): seed of the projections ``a`` and offsets ``b``.
    """

    def __init__(self, dim: int, *, r: float = 1.3, K: int = 11, L: int = 46, seed: int = 0) -> None:
        if dim <= 0 or r <= 0 or K <= 0 or L <= 0:
            raise ValueError("dim, r, K and L must be positive")
        self.dim, self.r, self.K, self.L, self.seed = int(dim), float(r), int(K), int(L), int(seed)
        rng = np.random.default_rng(seed)
        self._a = rng.standard_normal((self.dim, self.K * self.L))
        self._b = rng.uniform(0.0, self.r, self.K * self.L)
        # odd 64-bit multipliers that fold a band's K integer hashes into one 64-bit key
        self._mix = (rng.integers(1, 2**62, size=self.K, dtype=np.int64) * 2 + 1).astype(np.uint64)
        self.keys: list[str] = []
        self._key_pos: dict[str, int] = {}
        self._hist: list[np.ndarray] = []  # chunks of (n_i, dim) histograms
        self._owner: list[np.ndarray] = []  # chunks of key index per item
        self._codes: list[np.ndarray] = []  # chunks of (n_i, L) band keys
        self._table: tuple[np.ndarray, np.ndarray] | None = None  # (n, L) sorted band keys and their item ids
        self._flat: tuple[np.ndarray, ...] | None = None  # histograms, key index, Σ p log p, √histograms

    # ------------------------------------------------------------------ hashing
    def band_codes(self, histograms: np.ndarray) -> np.ndarray:
        """``(n, L)`` uint64 band keys of `histograms` (rows are normalised, then square-rooted)."""
        h = np.asarray(histograms, dtype=np.float64)
        if h.ndim != 2 or h.shape[1] != self.dim:
            raise ValueError(f"expected (n, {self.dim}) histograms, got {h.shape}")
        x = np.sqrt(normalize_rows(h))
        ints = np.floor((x @ self._a + self._b) / self.r).astype(np.int64)  # all K*L hashes in one product
        ints = ints.reshape(len(h), self.L, self.K).astype(np.uint64)
        with np.errstate(over="ignore"):
            return (ints * self._mix).sum(axis=2, dtype=np.uint64)  # wraps mod 2**64, as intended

    # ------------------------------------------------------------------ building
    def insert(self, key: str, histograms: np.ndarray) -> None:
        """Add the partition histograms of one model (or append more for an existing key)."""
        h = normalize_rows(np.asarray(histograms, dtype=np.float64))
        if h.ndim != 2 or h.shape[1] != self.dim:
            raise ValueError(f"expected (n, {self.dim}) histograms, got {h.shape}")
        if key not in self._key_pos:
            self._key_pos[key] = len(self.keys)
            self.keys.append(key)
        self._hist.append(h)
        self._owner.append(np.full(len(h), self._key_pos[key], dtype=np.int64))
        self._codes.append(self.band_codes(h))
        self._table = self._flat = None  # sorted views are rebuilt lazily; no stored hash is recomputed

    @classmethod
    def build(cls, items: Iterable[tuple[str, np.ndarray]], dim: int, **params: float) -> LSHIndex:
        """An index of all `items` (``(key, histograms)`` pairs) at once."""
        index = cls(dim, **params)  # type: ignore[arg-type]
        for key, h in items:
            index.insert(key, h)
        return index

    def __len__(self) -> int:
        return int(sum(len(o) for o in self._owner))

    def _sorted(self) -> tuple[np.ndarray, np.ndarray]:
        if self._table is None:
            codes = np.concatenate(self._codes) if self._codes else np.zeros((0, self.L), np.uint64)
            order = np.argsort(codes, axis=0, kind="stable")
            self._table = (np.take_along_axis(codes, order, axis=0), order)
        return self._table

    def _all(self) -> tuple[np.ndarray, ...]:
        if self._flat is None:
            hist = np.concatenate(self._hist) if self._hist else np.zeros((0, self.dim))
            owner = np.concatenate(self._owner) if self._owner else np.zeros(0, np.int64)
            self._flat = (hist, owner, _neg_entropy(hist), np.sqrt(hist))
        return self._flat

    # ------------------------------------------------------------------ querying
    def candidates(self, histograms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distinct ``(query_row, item)`` pairs that collide in at least one band (before verification)."""
        q = self.band_codes(histograms)
        codes, order = self._sorted()
        n = len(codes)
        if n == 0 or len(q) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        rows_out, items_out = [], []
        for band in range(self.L):
            col = codes[:, band]
            lo = np.searchsorted(col, q[:, band], side="left")
            hi = np.searchsorted(col, q[:, band], side="right")
            cnt = hi - lo
            total = int(cnt.sum())
            if total == 0:
                continue
            rows = np.repeat(np.arange(len(q)), cnt)
            # positions lo_j, lo_j+1, ..., hi_j-1 for every query j, without a Python loop
            starts = np.repeat(lo - np.concatenate(([0], np.cumsum(cnt)[:-1])), cnt)
            pos = starts + np.arange(total)
            rows_out.append(rows)
            items_out.append(order[pos, band])
        if not rows_out:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        flat = np.concatenate(rows_out) * n + np.concatenate(items_out)
        if len(q) * n <= 1 << 26:  # a bitmap of all pairs is cheaper than sorting the hits
            seen = np.zeros(len(q) * n, dtype=bool)
            seen[flat] = True
            pair = np.flatnonzero(seen)
        else:
            pair = np.unique(flat)
        return pair // n, pair % n

    def query_pairs(self, histograms: np.ndarray, tau: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Verified pairs: ``(query_row, item, jsd)`` with JSD < `tau` among the colliding candidates."""
        h = normalize_rows(np.asarray(histograms, dtype=np.float64))
        rows, items = self.candidates(h)
        if len(rows) == 0:
            return rows, items, np.zeros(0)
        hist, _, hi, sq_hist = self._all()
        hq, sq = _neg_entropy(h), np.sqrt(h)
        keep_r, keep_i, keep_d = [], [], []
        step = 1 << 15
        for s in range(0, len(rows), step):
            r, i = rows[s : s + step], items[s : s + step]
            # JSD >= ln2 * H^2 (see histograms.jsd_below): drop the candidates that cannot be close cheaply
            h2 = 1.0 - np.einsum("ij,ij->i", sq[r], sq_hist[i])
            ok = LN2 * (h2 - 1e-9) < tau
            r, i = r[ok], i[ok]
            d = -_neg_entropy(0.5 * (h[r] + hist[i])) + 0.5 * (hq[r] + hi[i])  # JSD = H(m) - (H(p) + H(q)) / 2
            close = d < tau
            keep_r.append(r[close])
            keep_i.append(i[close])
            keep_d.append(d[close])
        return np.concatenate(keep_r), np.concatenate(keep_i), np.concatenate(keep_d)

    def query(self, histograms: np.ndarray, tau: float) -> dict[str, int]:
        """Number of (indexed partition, query partition) pairs with JSD < `tau`, per key (every key listed).

        Divide by the number of query partitions to get each model's adaptivity.
        """
        _, items, _ = self.query_pairs(histograms, tau)
        owner = self._all()[1]
        counts = np.bincount(owner[items], minlength=len(self.keys))
        return {k: int(c) for k, c in zip(self.keys, counts)}

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the index to an ``.npz`` file (arrays and a JSON header; no pickle)."""
        hist, owner = self._all()[:2]
        codes = np.concatenate(self._codes) if self._codes else np.zeros((0, self.L), np.uint64)
        header = {
            "format": _FORMAT,
            "dim": self.dim,
            "r": self.r,
            "K": self.K,
            "L": self.L,
            "seed": self.seed,
            "keys": self.keys,
        }
        with open(path, "wb") as f:
            np.savez_compressed(
                f,
                header=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8),
                hist=hist,
                owner=owner,
                codes=codes,
            )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> LSHIndex:
        """Read an index written by `save`."""
        with np.load(path, allow_pickle=False) as z:
            header = json.loads(z["header"].tobytes().decode())
            if header.get("format") != _FORMAT:
                raise ValueError(f"{path} is not an hfsearch LSH index")
            index = cls(header["dim"], r=header["r"], K=header["K"], L=header["L"], seed=header["seed"])
            index.keys = list(header["keys"])
            index._key_pos = {k: i for i, k in enumerate(index.keys)}
            if len(z["owner"]):
                index._hist = [z["hist"]]
                index._owner = [z["owner"]]
                index._codes = [z["codes"]]
        return index


def collision_probability(distance: float | np.ndarray, r: float = 1.3, K: int = 11, L: int = 46) -> np.ndarray:
    """Probability that two points at Euclidean `distance` collide in at least one band (Datar et al. 2004).

    p(c) = 1 − 2Φ(−r/c) − 2c/(√(2π) r) (1 − exp(−r²/(2c²))),   P = 1 − (1 − p^K)^L.
    """
    from scipy.special import ndtr  # standard normal CDF

    c = np.maximum(np.asarray(distance, dtype=np.float64), 1e-12)
    t = r / c
    p = 1 - 2 * ndtr(-t) - 2 / (np.sqrt(2 * np.pi) * t) * (1 - np.exp(-(t**2) / 2))
    return 1 - (1 - p**K) ** L
