"""What a scorer sees and how it is registered.

A scorer is a function ``fn(inp: ScoreInput, space: str | None, **params) -> float`` registered with
`register_scorer`. It declares its *kind* (``similarity``, ``non-similarity``, ``prior``), whether higher is
better, what it *needs* (so the pipeline computes only what the chosen scorers use), and, for similarity
scorers, the feature *spaces* it can run in (the first one is its default):

- ``raw``: the paper's raw-input view (word histograms for text, value histograms for numeric inputs);
- ``reference``: a fixed encoder shared by every candidate (all-MiniLM-L6-v2 for text);
- ``model``: each candidate's own pooled features.

When a scorer cannot be computed for a candidate it raises `ScoreUnavailable` with the reason; the ranking
then holds ``null`` for it and the reason is reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ..candidates.candidate import Candidate
from ..errors import ScorerError
from ..registry import Registry

ScorerKind = Literal["similarity", "non-similarity", "prior", "estimate"]
Space = Literal["raw", "reference", "model"]
SPACES: tuple[str, ...] = ("raw", "reference", "model")
#: Everything a scorer may declare in ``needs``.
NEEDS = ("raw", "source", "logits", "features", "reference", "metadata", "pool", "heldout", "reported")


class ScoreUnavailable(Exception):
    """Raised by a scorer that cannot be computed for this candidate (the message says why)."""


@dataclass
class RawData:
    """The raw-input view of a sample, as the paper histograms it.

    Args:
        kind (`str`): ``"text"`` (histograms over shared frequent words) or ``"numeric"`` (value histograms).
        texts (`list[str]`, *optional*): one string per row (pairs are serialized into one string).
        values (`np.ndarray`, *optional*): ``(rows, values_per_row)`` float array for numeric inputs.
    """

    kind: Literal["text", "numeric"]
    texts: list[str] | None = None
    values: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.texts) if self.kind == "text" else len(self.values)  # type: ignore[arg-type]


@dataclass
class View:
    """Everything computed on one sample (the target, or a candidate's source) for one candidate.

    Args:
        raw (`RawData`, *optional*): raw-input view.
        logits (`np.ndarray`, *optional*): ``(rows, num_model_labels)``, in the model's own label order.
        features (`np.ndarray`, *optional*): ``(rows, dim)`` pooled features of the candidate (``model`` space).
        reference (`np.ndarray`, *optional*): ``(rows, dim)`` features of the shared reference encoder.
        labels (`np.ndarray`, *optional*): ``(predictions,)`` labels as the model's own label ids (``-1``: no
            counterpart); only on the labeled held-out slice of the candidate's declared data.
    """

    raw: RawData | None = None
    logits: np.ndarray | None = None
    features: np.ndarray | None = None
    reference: np.ndarray | None = None
    labels: np.ndarray | None = None

    def space(self, name: str) -> RawData | np.ndarray:
        """The data of this view in feature space `name`."""
        if name == "raw":
            value: Any = self.raw
        elif name == "model":
            value = self.features
        elif name == "reference":
            value = self.reference
        else:
            raise ScorerError(f"Unknown feature space {name!r}; use one of {', '.join(SPACES)}.")
        if value is None:
            raise ScoreUnavailable(f"no {name!r} features")
        return value


@dataclass
class ScoreInput:
    """What one scorer gets for one candidate.

    Args:
        candidate (`Candidate`): the candidate and its metadata.
        target (`View`): the user's (unlabeled) data.
        source (`View`, *optional*): a sample of the candidate's declared training data; ``None`` when none loads.
        source_reason (`str`, *optional*): why `source` is missing.
        pool (`dict[str, np.ndarray]`): for every scored candidate, its predicted *target* label per target row
            (``-1`` where the model's label has no target counterpart); used by ``agreement``.
        heldout (`View`, *optional*): the candidate on a labeled held-out slice of its declared data (``logits`` and
            ``labels`` in the model's label space): what ``atc`` and ``doc`` calibrate on.
        heldout_reason (`str`, *optional*): why `heldout` is missing.
        metric (`hfsearch.estimate.target.TargetMetric`, *optional*): turns an estimator's per-prediction belief into
            the predicted metric of this candidate on the target.
        peers (`dict[str, hfsearch.pipeline.state.Peer]`): every scored candidate's outputs as the pool-based
            estimators need them (``consensus``, ``aline``).
        sources (`dict[str, View]`): every candidate's source view (what a pool-relative threshold compares with).
    """

    candidate: Candidate
    target: View
    source: View | None = None
    source_reason: str | None = None
    pool: dict[str, np.ndarray] = field(default_factory=dict)
    heldout: View | None = None
    heldout_reason: str | None = None
    metric: Any = None
    peers: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, View] = field(default_factory=dict)

    def require_source(self) -> View:
        if self.source is None:
            raise ScoreUnavailable(self.source_reason or "no source data")
        return self.source

    def require_heldout(self) -> View:
        """The labeled held-out slice of the candidate's declared data (with logits and model-space labels)."""
        if self.heldout is None or self.heldout.logits is None or self.heldout.labels is None:
            raise ScoreUnavailable(self.heldout_reason or "no labeled held-out source data")
        return self.heldout


ScoreFn = Callable[..., float]


@dataclass(frozen=True)
class ScorerInfo:
    """A registered scorer."""

    name: str
    fn: ScoreFn
    kind: ScorerKind
    higher_is_better: bool
    needs: tuple[str, ...]
    description: str
    spaces: tuple[str, ...] = ()
    defaults: dict[str, Any] = field(default_factory=dict)

    @property
    def default_space(self) -> str | None:
        return self.spaces[0] if self.spaces else None

    def column(self, space: str | None) -> str:
        """Column name in the ranking: ``name``, or ``name:space`` for a non-default space."""
        if space is None or space == self.default_space:
            return self.name
        return f"{self.name}:{space}"

    def __call__(self, inp: ScoreInput, space: str | None = None, **params: Any) -> float:
        kwargs = {**self.defaults, **params}
        return float(self.fn(inp, space or self.default_space, **kwargs))


SCORERS: Registry[ScorerInfo] = Registry("scorer", ScorerError)


def register_scorer(
    name: str,
    *,
    kind: ScorerKind,
    higher_is_better: bool,
    needs: tuple[str, ...],
    spaces: tuple[str, ...] = (),
    description: str | None = None,
    **defaults: Any,
) -> Callable[[ScoreFn], ScoreFn]:
    """Register a scorer function.

    Example:

    ```python
    >>> @register_scorer("confidence", kind="non-similarity", higher_is_better=True, needs=("logits",))
    ... def confidence(inp, space):
    ...     '''Mean max-softmax probability on the target.'''
    ...     return softmax(inp.target.logits).max(1).mean()
    ```
    """
    unknown = set(needs) - set(NEEDS)
    if unknown:
        raise ValueError(f"unknown needs {sorted(unknown)}")
    bad = set(spaces) - set(SPACES)
    if bad:
        raise ValueError(f"unknown spaces {sorted(bad)}")

    def decorator(fn: ScoreFn) -> ScoreFn:
        doc = description or (fn.__doc__ or name).strip().splitlines()[0]
        SCORERS.add(
            name,
            ScorerInfo(
                name=name,
                fn=fn,
                kind=kind,
                higher_is_better=higher_is_better,
                needs=tuple(needs),
                description=doc,
                spaces=tuple(spaces),
                defaults=dict(defaults),
            ),
        )
        return fn

    return decorator


@dataclass(frozen=True)
class ScorerSpec:
    """A scorer chosen by the user: ``name`` or ``name:space``, with parameters."""

    info: ScorerInfo
    space: str | None
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def column(self) -> str:
        return self.info.column(self.space)

    @classmethod
    def parse(cls, text: str, params: dict[str, Any] | None = None) -> ScorerSpec:
        name, _, space_text = text.strip().partition(":")
        info = SCORERS.get(name.strip())
        space = space_text.strip() or None
        if space is not None:
            if not info.spaces:
                raise ScorerError(f"Scorer {info.name!r} does not run in a feature space (got {space!r}).")
            if space not in info.spaces:
                raise ScorerError(f"Scorer {info.name!r} runs in {', '.join(info.spaces)}, not {space!r}.")
        else:
            space = info.default_space
        unknown = sorted(set(params or {}) - set(info.defaults))
        if unknown:
            known = ", ".join(sorted(info.defaults)) or "none"
            raise ScorerError(f"Scorer {info.name!r} has no parameter {unknown[0]!r} (parameters: {known}).")
        return cls(info=info, space=space, params=tuple(sorted((params or {}).items())))

    def needs(self) -> set[str]:
        needs = set(self.info.needs)
        if self.space == "model":
            needs.add("features")
        elif self.space == "reference":
            needs.add("reference")
        elif self.space == "raw":
            needs.add("raw")
        return needs

    def __call__(self, inp: ScoreInput) -> float:
        return self.info(inp, self.space, **dict(self.params))


def parse_scorers(texts: list[str] | str, params: dict[str, dict[str, Any]] | None = None) -> list[ScorerSpec]:
    """Parse ``"adaptivity,mmd:reference,confidence"`` (or a list) into scorer specs."""
    if isinstance(texts, str):
        texts = [t for t in texts.split(",") if t.strip()]
    params = params or {}
    specs = []
    for t in texts:
        name = t.split(":")[0].strip()
        specs.append(ScorerSpec.parse(t, params.get(name)))
    if not specs:
        raise ScorerError("No scorer selected.")
    return specs


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
