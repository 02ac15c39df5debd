"""Label alignment: map a model's ``id2label`` onto the target's class names.

Names are compared case-, space- and punctuation-insensitively, then through small synonym groups
(``pos``/``positive``, ``per``/``person``…), then, for what is left, with plural "s" dropped one to one (Yelp's
``2 star`` and a model's ``2 stars``). Generic names (``LABEL_0``…) map by index only when *every* model label
is generic and the model has exactly as many labels as the target: anything else would be a guess.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

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


def _words(name: str) -> list[str]:
    """The case-folded (NFKC) runs of letters and digits of `name`, in any script."""
    return re.findall(r"[^\W_]+", unicodedata.normalize("NFKC", str(name)).casefold())


def normalize(name: str) -> str:
    """Case-fold (NFKC), strip everything but letters and digits, in any script: "正面" stays "正面", not ""."""
    return "".join(_words(name))


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

    def note(self) -> str:
        """A remark on an alignment that is usable but partial (empty for class labels: those must all map)."""
        return ""


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
        label_map.update(_singular_matches(id2label, target_names, label_map))
    mapped = set(label_map.values())
    return Alignment(
        label_map=label_map,
        unmapped_model=[id2label[i] for i in sorted(id2label) if i not in label_map],
        missing_target=[t for j, t in enumerate(target_names) if j not in mapped],
    )


def singular(name: str) -> str:
    """`normalize` with each word's plural "s" dropped: "2 stars" and "2 star" (Yelp's own class names) meet."""
    return "".join(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in _words(name))


def _singular_matches(id2label: dict[int, str], target_names: list[str], taken: dict[int, int]) -> dict[int, int]:
    """Model labels left unmapped that meet a target class left unmatched by `singular` form, one to one only."""
    free = set(range(len(target_names))) - set(taken.values())
    targets: dict[str, list[int]] = {}
    for j in sorted(free):
        targets.setdefault(singular(target_names[j]), []).append(j)
    models: dict[str, list[int]] = {}
    for i, name in id2label.items():
        if i not in taken:
            models.setdefault(singular(name), []).append(i)
    return {ms[0]: targets[key][0] for key, ms in models.items() if len(ms) == 1 and len(targets.get(key, [])) == 1}


# ---------------------------------------------------------------------------------------------- entity tags
#: Tag prefixes of the BIO / IOBES / BILOU schemes, and how each maps onto BIO when the other side lacks it.
TAG_PREFIXES = ("B", "I", "E", "S", "L", "U")
_TO_BIO = {"B": "B", "I": "I", "E": "I", "L": "I", "S": "B", "U": "B"}
_OUTSIDE = frozenset({"o", "outside", "none", "null"})


def split_tag(tag: str) -> tuple[str, str]:
    """``(prefix, entity type)`` of a tag: ``"B-PER"`` → ``("B", "PER")``, ``"O"`` → ``("O", "")``.

    Prefixes are separated by ``-`` or ``_`` (``B-PER``, ``B_PER``); a tag without one (IO scheme, ``"PER"``) gets
    prefix ``"I"``; ``O``/``outside`` (any case) is the outside tag.
    """
    tag = str(tag).strip()
    if normalize(tag) in _OUTSIDE:
        return "O", ""
    if len(tag) > 2 and tag[0].upper() in TAG_PREFIXES and tag[1] in "-_":
        return tag[0].upper(), tag[2:]
    return "I", tag


def entity_type_key(entity_type: str) -> str:
    """A canonical key for an entity type: its synonym group (``PER`` = ``person``, ``MISC`` = ``OTHER``), else
    its normalised name."""
    n = normalize(entity_type)
    g = _group(n)
    return f"group:{g}" if g is not None else n


def is_tag_set(names: list[str]) -> bool:
    """Whether `names` are tags (contain ``O`` or prefixed entity tags) rather than bare entity types."""
    return any(
        split_tag(n)[0] == "O" or (len(str(n)) > 2 and str(n)[1] in "-_" and str(n)[0].upper() in TAG_PREFIXES)
        for n in names
    )


def bio_tags(entity_types: list[str]) -> list[str]:
    """``["O", "B-T1", "I-T1", "B-T2", …]`` for entity types ``[T1, T2, …]`` (BIO scheme, in that order)."""
    return ["O"] + [f"{p}-{t}" for t in entity_types for p in ("B", "I")]


def entity_types(tags: list[str]) -> list[str]:
    """The distinct entity types of a tag set, in order of first appearance (``O`` excluded)."""
    out: list[str] = []
    for tag in tags:
        prefix, etype = split_tag(tag)
        if prefix != "O" and etype not in out:
            out.append(etype)
    return out


@dataclass
class TagAlignment(Alignment):
    """Alignment of a token classifier's tags with the target's, over entity *types*.

    `unmapped_model` lists the model's entity types that the target does not annotate (their tags map to the
    target's ``O``: such words are outside any target entity); `missing_target` lists the target's entity types the
    model does not predict (their entities count as missed). Usable when at least one type is shared.
    """

    model_types: list[str] = field(default_factory=list)
    target_types: list[str] = field(default_factory=list)
    shared_types: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.shared_types)

    def reason(self) -> str:
        return (
            f"no entity type in common: the model tags {', '.join(self.model_types) or 'nothing'}, "
            f"the target {', '.join(self.target_types) or 'nothing'}"
        )

    def note(self) -> str:
        parts = []
        if self.missing_target:
            parts.append(
                f"target entity type(s) {', '.join(self.missing_target)} not predicted by the model (counted as missed)"
            )
        if self.unmapped_model:
            parts.append(f"model entity type(s) {', '.join(self.unmapped_model)} not in the target (read as O)")
        return "; ".join(parts)


def align_tags(id2label: dict[int, str] | None, target_tags: list[str]) -> TagAlignment:
    """Align a token classifier's tags (`id2label`) with the target's tag names over entity types.

    Entity types are compared like class names (case, punctuation, synonym groups: ``PER``/``person``,
    ``MISC``/``OTHER``…); the B-/I- (or IOBES, BILOU) prefixes are matched separately: the model's prefix is kept
    when the target uses it for that type, else mapped onto BIO (``S``/``U`` → ``B``, ``E``/``L`` → ``I``).
    The model's ``O`` maps to the target's ``O``, and so do tags of entity types the target does not annotate.
    Generic labels (``LABEL_0``…) map by index only when there are exactly as many as target tags.

    Example:

    ```python
    >>> model_tags = {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-OTHER", 4: "B-DATE"}
    >>> a = align_tags(model_tags, ["O", "B-PER", "I-PER", "B-MISC", "I-MISC"])
    >>> a.label_map, a.unmapped_model
    ({0: 0, 1: 1, 2: 2, 3: 3, 4: 0}, ['DATE'])
    ```
    """
    id2label = {int(k): str(v) for k, v in (id2label or {}).items()}
    target_types = entity_types(target_tags)
    generic = [_GENERIC.match(normalize(n)) for n in id2label.values()]
    if id2label and all(generic) and len(id2label) == len(target_tags):
        by_index = {i: int(m.group(1)) for i, m in zip(id2label, generic) if m and int(m.group(1)) < len(target_tags)}
        return TagAlignment(
            label_map=by_index,
            unmapped_model=[],
            missing_target=[],
            model_types=list(target_types),
            target_types=target_types,
            shared_types=list(target_types),
        )
    outside = next((j for j, t in enumerate(target_tags) if split_tag(t)[0] == "O"), None)
    by_key: dict[str, dict[str, int]] = {}  # type key -> prefix -> target index
    for j, tag in enumerate(target_tags):
        prefix, etype = split_tag(tag)
        if prefix != "O":
            by_key.setdefault(entity_type_key(etype), {}).setdefault(prefix, j)
    label_map: dict[int, int] = {}
    model_types: list[str] = []
    shared: set[str] = set()
    unmapped: list[str] = []
    for i, name in id2label.items():
        prefix, etype = split_tag(name)
        if prefix == "O":
            if outside is not None:
                label_map[i] = outside
            continue
        if etype not in model_types:
            model_types.append(etype)
        key = entity_type_key(etype)
        prefixes = by_key.get(key)
        if prefixes is None:
            if etype not in unmapped:
                unmapped.append(etype)
            if outside is not None:
                label_map[i] = outside
            continue
        shared.add(key)
        target = prefixes.get(prefix)
        if target is None:
            target = prefixes.get(_TO_BIO[prefix])
        if target is None:  # the target uses another scheme for this type: any of its tags (B first)
            target = prefixes.get("B", next(iter(prefixes.values())))
        label_map[i] = target
    missing = [t for t in target_types if entity_type_key(t) not in shared]
    shared_types = [t for t in target_types if entity_type_key(t) in shared]
    return TagAlignment(
        label_map=label_map if shared else {},
        unmapped_model=unmapped,
        missing_target=missing,
        model_types=model_types,
        target_types=target_types,
        shared_types=shared_types,
    )
