"""Entity spans of tag sequences and entity-level precision / recall / F1 (the CoNLL / seqeval measure).

`get_entities` reads chunks the way ``conlleval`` and seqeval's default (non-strict) mode do: a chunk starts at a
``B``/``S`` tag, at an ``I``/``E`` tag that follows ``O`` or a tag of another type, and ends before any tag that does
not continue it. Tags are ``O`` or ``<prefix>-<type>`` with prefix ``B``/``I``/``E``/``S`` (IOBES) or ``L``/``U``
(BILOU, read as ``E``/``S``); a tag without a prefix (IO scheme) is read as ``I``. Entity types are compared through
`hfsearch.candidates.labels.entity_type_key`, so ``MISC`` and ``OTHER`` (or ``PER`` and ``person``) are one type.

F1 is micro-averaged over all entities of all sentences: a predicted entity is correct when a gold entity has the same
type, start and end. With no gold and no predicted entity, precision, recall and F1 are 0 (as seqeval reports them).

```python
>>> entity_f1([["B-PER", "I-PER", "O", "B-LOC"]], [["B-PER", "I-PER", "O", "B-ORG"]])
0.5
```
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..candidates.labels import entity_type_key, split_tag

#: BILOU prefixes read as their IOBES equivalents.
_PREFIX = {"B": "B", "I": "I", "E": "E", "S": "S", "L": "E", "U": "S", "O": "O"}


def _end_of_chunk(prev_tag: str, tag: str, prev_type: str, type_: str) -> bool:
    if prev_tag in ("E", "S"):
        return True
    if prev_tag in ("B", "I") and tag in ("B", "S", "O"):
        return True
    return prev_tag != "O" and prev_type != type_


def _start_of_chunk(prev_tag: str, tag: str, prev_type: str, type_: str) -> bool:
    if tag in ("B", "S"):
        return True
    if tag in ("I", "E") and prev_tag in ("E", "S", "O"):
        return True
    return tag != "O" and prev_type != type_


def get_entities(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """Entities of one tag sequence as ``(type key, start, end)`` with `end` inclusive.

    Example:

    ```python
    >>> get_entities(["B-PER", "I-PER", "O", "I-LOC", "B-LOC"])
    [('group:7', 0, 1), ('group:9', 3, 3), ('group:9', 4, 4)]
    ```
    """
    chunks: list[tuple[str, int, int]] = []
    prev_tag, prev_type, begin = "O", "", 0
    for i, tag in enumerate([*tags, "O"]):
        prefix, etype = split_tag(tag)
        prefix = _PREFIX[prefix]
        type_ = entity_type_key(etype) if prefix != "O" else ""
        if _end_of_chunk(prev_tag, prefix, prev_type, type_):
            chunks.append((prev_type, begin, i - 1))
        if _start_of_chunk(prev_tag, prefix, prev_type, type_):
            begin = i
        prev_tag, prev_type = prefix, type_
    return chunks


def entity_counts(gold: Iterable[Sequence[str]], pred: Iterable[Sequence[str]]) -> tuple[int, int, int]:
    """``(correct, predicted, gold)`` entity counts over aligned sentences.

    Raises:
        `ValueError`: a predicted sentence has another length than its gold sentence.
    """
    correct = n_pred = n_gold = 0
    for k, (g, p) in enumerate(zip(gold, pred, strict=True)):
        if len(g) != len(p):
            raise ValueError(f"sentence {k}: {len(p)} predicted tags for {len(g)} gold tags")
        ge = set(get_entities(g))
        pe = set(get_entities(p))
        correct += len(ge & pe)
        n_pred += len(pe)
        n_gold += len(ge)
    return correct, n_pred, n_gold


def entity_prf(gold: Iterable[Sequence[str]], pred: Iterable[Sequence[str]]) -> tuple[float, float, float]:
    """Micro-averaged entity-level ``(precision, recall, f1)``."""
    correct, n_pred, n_gold = entity_counts(gold, pred)
    precision = correct / n_pred if n_pred else 0.0
    recall = correct / n_gold if n_gold else 0.0
    f1 = 2 * correct / (n_pred + n_gold) if n_pred + n_gold else 0.0
    return precision, recall, f1


def entity_f1(gold: Iterable[Sequence[str]], pred: Iterable[Sequence[str]]) -> float:
    """Micro-averaged entity-level F1 (see the module docstring)."""
    return entity_prf(gold, pred)[2]
