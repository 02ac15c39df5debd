"""Label alignment: map a model's ``id2label`` onto the target's class names.

Names are compared case-, space- and punctuation-insensitively, then through small synonym groups
(``pos``/``positive``, ``per``/``person``…). Generic names (``LABEL_0``…) map by index only when *every* model label
is generic and the model has exactly as many labels as the target: anything else would be a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_GENERIC = re.compile(r"^label_?(\d+)$")

#: Groups of names that mean the same class. Each name belongs to at most one group.
SYNONYMS: tuple[frozenset[str], ...] = (
    frozenset({"negative", "neg", "bad", "notpositive"}),
    frozenset({"positive", "pos", "good"}),
    frozenset({"neutral", "neu"}),
    frozenset({"match", "matching", "same", "duplicate", "isduplicate", "equivalent", "yes"}),
    frozenset({"nomatch", "nonmatch", "notmatch", "notmatching", "different", "notduplicate", "notequivalent", "no"}),
    frozenset({"entailment", "entail", "entails"}),
    frozenset({"contradiction", "contradict", "contradicts"}),
    frozenset({"per", "person", "people", "pers"}),
    frozenset({"org", "organization", "organisation", "corporation"}),
    frozenset({"loc", "location", "place", "gpe"}),
    frozenset({"misc", "miscellaneous", "other", "others"}),
)


def normalize(name: str) -> str:
    """Lower-case, strip everything but letters and digits."""
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def _group(name: str) -> int | None:
    for i, group in enumerate(SYNONYMS):
        if name in group:
            return i
    return None


@dataclass
class Alignment:
    """Result of aligning model labels to target labels.

    Args:
        label_map (`dict[int, int]`): model label index → target label index.
        unmapped_model (`list[str]`): model labels with no target counterpart (predictions of them count as wrong).
        missing_target (`list[str]`): target classes no model label maps to.
    """

    label_map: dict[int, int]
    unmapped_model: list[str]
    missing_target: list[str]

    @property
    def ok(self) -> bool:
        return not self.missing_target and bool(self.label_map)

    def reason(self) -> str:
        if not self.label_map:
            return "no model label matches a target class"
        return f"no model label for target class(es) {', '.join(repr(m) for m in self.missing_target)}"


def align_labels(id2label: dict[int, str] | None, target_names: list[str]) -> Alignment:
    """Align a model's `id2label` to `target_names` (see module docstring).

    Example:

    ```python
    >>> align_labels({0: "NEG", 1: "POS"}, ["negative", "positive"]).label_map
    {0: 0, 1: 1}
    >>> align_labels({0: "LABEL_0", 1: "LABEL_1"}, ["negative", "positive"]).label_map
    {0: 0, 1: 1}
    ```
    """
    id2label = {int(k): str(v) for k, v in (id2label or {}).items()}
    target_norm = [normalize(t) for t in target_names]
    generic = {i: _GENERIC.match(normalize(n)) for i, n in id2label.items()}
    label_map: dict[int, int] = {}
    if id2label and all(generic.values()) and len(id2label) == len(target_names):
        for i, m in generic.items():
            k = int(m.group(1))  # type: ignore[union-attr]
            if 0 <= k < len(target_names):
                label_map[i] = k
    else:
        by_name = {n: j for j, n in enumerate(target_norm)}
        by_group: dict[int, int] = {}
        for j, n in enumerate(target_norm):
            g = _group(n)
            if g is not None:
                by_group.setdefault(g, j)
        for i, name in id2label.items():
            n = normalize(name)
            if n in by_name:
                label_map[i] = by_name[n]
            elif (g := _group(n)) is not None and g in by_group:
                label_map[i] = by_group[g]
    mapped = set(label_map.values())
    return Alignment(
        label_map=label_map,
        unmapped_model=[id2label[i] for i in sorted(id2label) if i not in label_map],
        missing_target=[t for j, t in enumerate(target_names) if j not in mapped],
    )
