"""Benchmark workload files: which domains, which candidates, which targets, which scorers (YAML).

A workload is validated completely — files, columns, labels, architectures, scorers, targets — before anything is
trained; every problem is a one-line [`~hfsearch.errors.WorkloadError`] naming the file and the field. The format is
documented in ``benchmarks/README.md``; a minimal file:

```yaml
name: tiny
task: text-classification
labels: [negative, positive]
domains:
  amazon: data/sentiment/uci_amazon        # folder with train.jsonl + test.jsonl (relative to this file)
  yelp: data/sentiment/uci_yelp
candidates:
  - sources: [amazon, yelp]                # one candidate per source domain …
    architectures: [tiny-bert]             # … per architecture …
    seeds: [0]                             # … per seed
targets: all
scorers: [adaptivity, jsd, confidence]
```

```python
>>> from hfsearch.bench.workload import load_workload
>>> wl = load_workload("benchmarks/ci.yaml")
>>> wl.eligible("uci_yelp")          # leave-one-domain-out: nothing trained on the target
['tiny-bert-uci_amazon', 'tiny-bert-uci_imdb']
```
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, overload

from ..errors import HFSearchError, WorkloadError

#: Ground-truth metrics a workload may ask for (computed by `hfsearch.bench.truth.true_metrics`).
METRICS = ("accuracy", "f1")
#: Column names of a single-text row and of a text-pair row (the zoo architectures' input format).
TEXT_COLUMNS = ("text",)
PAIR_COLUMNS = ("text_a", "text_b")
LABEL_COLUMN = "label"
#: Input columns of a row, by kind (the zoo architectures' input formats), tried in order: a row of kind "series"
#: (time-series-classification) holds a (time, channels) array in ``series``.
INPUT_KINDS: dict[str, tuple[str, ...]] = {"pair": PAIR_COLUMNS, "text": TEXT_COLUMNS, "series": ("series",)}
#: Image rows (image-classification) hold pixels in ``image``; token rows (token-classification) a word list in
#: ``tokens`` and one tag per word in ``tags`` (their label column).
INPUT_KINDS.update({"image": ("image",), "tokens": ("tokens",)})
#: Label column of a row, by kind (default `LABEL_COLUMN`).
KIND_LABEL_COLUMN: dict[str, str] = {"tokens": "tags"}
#: Repository names: what the Hub accepts (letters, digits, ``-``, ``_``, ``.``; no ``--`` or ``..``).
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")

_TOP_KEYS = {
    "name",
    "description",
    "task",
    "labels",
    "metrics",
    "seed",
    "samples",
    "domains",
    "candidates",
    "targets",
    "exclude_source_domain",
    "scorers",
    "score_params",
    "popularity",
    "bootstrap",
    "zoo",
    "inference",
}
_DOMAIN_KEYS = {"path", "dataset", "config", "splits", "columns", "labels", "license", "source"}
_CANDIDATE_KEYS = {
    "sources",
    "mixture",
    "architectures",
    "architecture",
    "seeds",
    "seed",
    "epochs",
    "learning_rate",
    "batch_size",
    "label_noise",
    "max_train_rows",
    "class_weight",
    "params",
    "downloads",
    "likes",
    "name",
}
_ZOO_KEYS = {"org", "max_train_rows", "license"}
_INFERENCE_KEYS = {"batch_size", "max_length"}
_BOOTSTRAP_KEYS = {"resamples", "level", "seed"}
_POPULARITY_KEYS = {"synthetic_seed", "low", "high"}


def _fail(where: str, message: str) -> WorkloadError:
    return WorkloadError(f"{where}: {message}")


def _check_keys(where: str, data: Mapping[str, Any], allowed: set[str]) -> None:
    for key in data:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), sorted(allowed), n=1, cutoff=0.6)
            hint = f" Did you mean {close[0]!r}?" if close else f" Known: {', '.join(sorted(allowed))}."
            raise _fail(where, f"unknown field {key!r}.{hint}")


def _as_list(where: str, value: Any, kind: type = str) -> list[Any]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, kind) or isinstance(item, bool):
            raise _fail(where, f"expected {kind.__name__} value(s), got {item!r}.")
    return list(items)


@overload
def _int(where: str, value: Any, *, minimum: int | None = None, optional: Literal[False]) -> int: ...


@overload
def _int(where: str, value: Any, *, minimum: int | None = None, optional: bool = True) -> int | None: ...


def _int(where: str, value: Any, *, minimum: int | None = None, optional: bool = True) -> int | None:
    if value is None and optional:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise _fail(where, f"expected an integer, got {value!r}.")
    if minimum is not None and value < minimum:
        raise _fail(where, f"must be at least {minimum}, got {value}.")
    return value


@dataclass
class Domain:
    """One dataset of the workload: a local folder (``train``/``test`` splits) or a Hub dataset id.

    Args:
        name (`str`): the domain's name in the workload (also the registry dataset name).
        path (`Path`, *optional*): local folder (csv/jsonl/parquet per split).
        dataset (`str`, *optional*): Hub dataset id (instead of `path`).
        config (`str`, *optional*): Hub dataset config.
        splits (`dict[str, str]`): which split is ``train`` and which ``test`` (default: the same names).
        columns (`dict[str, str]`): renames into the canonical columns (``{"text": "review"}``).
        label_names (`list[str]`, *optional*): the domain's own class names (must equal the workload's).
        license (`str`): licence identifier for the dataset card.
        source (`str`, *optional*): origin note (default: the folder's ``SOURCE.md``).
    """

    name: str
    path: Path | None = None
    dataset: str | None = None
    config: str | None = None
    splits: dict[str, str] = field(default_factory=lambda: {"train": "train", "test": "test"})
    columns: dict[str, str] = field(default_factory=dict)
    label_names: list[str] | None = None
    license: str = "unknown"
    source: str | None = None

    @property
    def where(self) -> str:
        return str(self.path) if self.path is not None else f"hub:{self.dataset}"


@dataclass
class CandidateSpec:
    """One candidate model of the workload (the product of a ``candidates`` entry is expanded into these).

    Args:
        name (`str`): repository name in the zoo.
        architecture (`str`): zoo architecture (``tiny-bert``, ``minilm``).
        sources (`list[str]`): training domains (several = trained on their mixture).
        seed (`int`): training seed.
        train (`dict`): training overrides (epochs, learning_rate, batch_size, label_noise, max_train_rows,
            class_weight, params).
        downloads, likes (`int`, *optional*): popularity metadata (synthetic when not given, see ``popularity``).
    """

    name: str
    architecture: str
    sources: list[str]
    seed: int = 0
    train: dict[str, Any] = field(default_factory=dict)
    downloads: int | None = None
    likes: int | None = None

    @property
    def is_mixture(self) -> bool:
        return len(self.sources) > 1


@dataclass
class Workload:
    """A validated benchmark workload (see ``benchmarks/README.md`` for the file format)."""

    name: str
    file: Path
    task: str
    label_names: list[str]
    metrics: list[str]
    domains: dict[str, Domain]
    candidates: list[CandidateSpec]
    targets: list[str]
    scorers: list[str]
    score_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    exclude_source_domain: bool = True
    samples: int = 400
    seed: int = 0
    description: str = ""
    org: str = ""
    max_train_rows: int | None = None
    license: str = "unknown"
    popularity_seed: int | None = 0
    popularity_range: tuple[float, float] = (1.0, 6.0)
    bootstrap_resamples: int = 2000
    bootstrap_level: float = 0.95
    bootstrap_seed: int = 0
    batch_size: int = 32
    max_length: int = 256
    is_pair: bool = False
    rows: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict, repr=False)

    @property
    def metric(self) -> str:
        """The primary ground-truth metric (regret, top-1 and rank correlations use it)."""
        return self.metrics[0]

    def eligible(self, target: str) -> list[str]:
        """Names of the candidates served on `target` (with ``exclude_source_domain``: none trained on it)."""
        return [c.name for c in self.candidates if not (self.exclude_source_domain and target in c.sources)]

    def mixture_domain(self, sources: list[str]) -> str:
        """Name of the registry dataset holding the union of `sources` (the declared data of a mixture model)."""
        return "mix-" + "-".join(sources)

    def fingerprint(self) -> str:
        """Hash of everything that determines the benchmark's numbers (data, candidates, scorers, seeds)."""
        payload = {
            "task": self.task,
            "labels": self.label_names,
            "metrics": self.metrics,
            "targets": self.targets,
            "scorers": self.scorers,
            "score_params": self.score_params,
            "exclude": self.exclude_source_domain,
            "samples": self.samples,
            "seed": self.seed,
            "popularity": [self.popularity_seed, self.popularity_range],
            "candidates": [c.__dict__ for c in self.candidates],
            "data": {n: _rows_hash(r) for n, r in sorted(self.rows.items())},
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _rows_hash(splits: Mapping[str, list[dict[str, Any]]]) -> str:
    h = hashlib.sha256()
    for split in sorted(splits):
        h.update(split.encode())
        for row in splits[split]:
            h.update(json.dumps(row, sort_keys=True, ensure_ascii=False).encode())
    return h.hexdigest()[:16]


# ---- parsing ---------------------------------------------------------------------------------------------------
def load_workload(path: str | Path, *, check_data: bool = True) -> Workload:
    """Read and validate a workload file; with `check_data`, also read every domain's rows and check them.

    Raises:
        [`~hfsearch.errors.WorkloadError`]: one line naming the file and the field at fault.
    """
    import yaml

    file = Path(path)
    if file.is_dir():
        raise WorkloadError(f"{file}: is a folder, expected a workload .yaml file.")
    if not file.is_file():
        raise WorkloadError(f"Workload file {str(file)!r} not found.")
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1})" if mark is not None else ""
        raise WorkloadError(f"{file}: not valid YAML{at}: {getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(data, dict):
        raise WorkloadError(f"{file}: expected a mapping of fields at the top level.")
    wl = parse_workload(data, file)
    if check_data:
        check_domains(wl)
    return wl


def parse_workload(data: Mapping[str, Any], file: Path) -> Workload:
    """Validate the structure of a workload mapping (no data is read); see `load_workload`."""
    where = str(file)
    _check_keys(where, data, _TOP_KEYS)
    for required in ("task", "domains", "candidates"):
        if required not in data:
            raise _fail(where, f"missing required field {required!r}.")
    name = str(data.get("name") or file.stem)
    if not _NAME.match(name) or "--" in name or ".." in name:
        raise _fail(f"{where}: name", f"{name!r} is not a valid name (letters, digits, '-', '_', '.').")

    task = str(data["task"])
    try:
        from ..tasks import get_task

        get_task(task)
    except HFSearchError as exc:
        raise _fail(f"{where}: task", str(exc)) from None

    labels = _as_list(f"{where}: labels", data.get("labels"))
    metrics = _as_list(f"{where}: metrics", data.get("metrics") or ["accuracy"])
    for m in metrics:
        if m not in METRICS:
            raise _fail(f"{where}: metrics", f"unknown metric {m!r}; use {', '.join(METRICS)}.")
    metrics = list(dict.fromkeys(metrics))

    domains = _parse_domains(where, data["domains"], file.parent)
    zoo = data.get("zoo") or {}
    if not isinstance(zoo, dict):
        raise _fail(f"{where}: zoo", "expected a mapping.")
    _check_keys(f"{where}: zoo", zoo, _ZOO_KEYS)
    org = str(zoo.get("org") or f"hfsearch-bench-{name}")
    if not _NAME.match(org):
        raise _fail(f"{where}: zoo.org", f"{org!r} is not a valid organisation name.")
    max_rows = _int(f"{where}: zoo.max_train_rows", zoo.get("max_train_rows"), minimum=1)

    candidates = _parse_candidates(where, data["candidates"], domains, task)
    targets_raw = data.get("targets", "all")
    if targets_raw == "all" or targets_raw is None:
        targets = list(domains)
    else:
        targets = _as_list(f"{where}: targets", targets_raw)
        for t in targets:
            if t not in domains:
                raise _fail(f"{where}: targets", _unknown_domain(t, domains))
    if not targets:
        raise _fail(f"{where}: targets", "no target domain.")
    exclude = data.get("exclude_source_domain", True)
    if not isinstance(exclude, bool):
        raise _fail(f"{where}: exclude_source_domain", f"expected true or false, got {exclude!r}.")

    scorers, params = _parse_scorers(where, data.get("scorers", "all"), data.get("score_params") or {})
    samples = _int(f"{where}: samples", data.get("samples", 400), minimum=2, optional=False)
    seed = _int(f"{where}: seed", data.get("seed", 0), minimum=0, optional=False)

    pop = data.get("popularity", {"synthetic_seed": 0})
    pop_seed: int | None
    low, high = 1.0, 6.0
    if pop in (None, "none", False):
        pop_seed = None
    elif isinstance(pop, dict):
        _check_keys(f"{where}: popularity", pop, _POPULARITY_KEYS)
        pop_seed = _int(f"{where}: popularity.synthetic_seed", pop.get("synthetic_seed", 0), minimum=0, optional=False)
        low, high = float(pop.get("low", 1.0)), float(pop.get("high", 6.0))
        if not 0 <= low < high <= 9:
            raise _fail(f"{where}: popularity", "need 0 <= low < high <= 9 (log10 of downloads).")
    else:
        raise _fail(f"{where}: popularity", f"expected a mapping or 'none', got {pop!r}.")

    boot = data.get("bootstrap") or {}
    if not isinstance(boot, dict):
        raise _fail(f"{where}: bootstrap", "expected a mapping.")
    _check_keys(f"{where}: bootstrap", boot, _BOOTSTRAP_KEYS)
    level = float(boot.get("level", 0.95))
    if not 0.5 <= level < 1.0:
        raise _fail(f"{where}: bootstrap.level", f"must lie in [0.5, 1), got {level}.")
    inference = data.get("inference") or {}
    if not isinstance(inference, dict):
        raise _fail(f"{where}: inference", "expected a mapping.")
    _check_keys(f"{where}: inference", inference, _INFERENCE_KEYS)

    wl = Workload(
        name=name,
        file=file,
        task=task,
        label_names=labels,
        metrics=metrics,
        domains=domains,
        candidates=candidates,
        targets=targets,
        scorers=scorers,
        score_params=params,
        exclude_source_domain=exclude,
        samples=samples,
        seed=seed,
        description=str(data.get("description") or "").strip(),
        org=org,
        max_train_rows=max_rows,
        license=str(zoo.get("license") or "unknown"),
        popularity_seed=pop_seed,
        popularity_range=(low, high),
        bootstrap_resamples=_int(
            f"{where}: bootstrap.resamples", boot.get("resamples", 2000), minimum=0, optional=False
        ),
        bootstrap_level=level,
        bootstrap_seed=_int(f"{where}: bootstrap.seed", boot.get("seed", 0), minimum=0, optional=False),
        batch_size=_int(f"{where}: inference.batch_size", inference.get("batch_size", 32), minimum=1, optional=False),
        max_length=_int(f"{where}: inference.max_length", inference.get("max_length", 256), minimum=8, optional=False),
    )
    for t in wl.targets:
        if not wl.eligible(t):
            raise _fail(
                f"{where}: targets",
                f"no candidate is left for target {t!r} once the models trained on it "
                "are excluded (exclude_source_domain: true).",
            )
    return wl


def _unknown_domain(name: str, domains: Mapping[str, Any]) -> str:
    close = difflib.get_close_matches(name, list(domains), n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else f" Domains: {', '.join(domains)}."
    return f"unknown domain {name!r}.{hint}"


def _parse_domains(where: str, raw: Any, base: Path) -> dict[str, Domain]:
    if not isinstance(raw, dict) or not raw:
        raise _fail(f"{where}: domains", "expected a non-empty mapping of domain name -> folder or settings.")
    domains: dict[str, Domain] = {}
    for name, spec in raw.items():
        at = f"{where}: domains.{name}"
        name = str(name)
        if not _NAME.match(name) or "--" in name or ".." in name or name.startswith("mix-"):
            raise _fail(at, f"{name!r} is not a valid domain name (letters, digits, '-', '_', '.'; not 'mix-…').")
        if isinstance(spec, str):
            spec = {"path": spec}
        if not isinstance(spec, dict):
            raise _fail(at, "expected a folder path or a mapping with 'path' or 'dataset'.")
        _check_keys(at, spec, _DOMAIN_KEYS)
        if ("path" in spec) == ("dataset" in spec):
            raise _fail(at, "give exactly one of 'path' (local folder) and 'dataset' (Hub dataset id).")
        path = None
        if "path" in spec:
            path = Path(str(spec["path"])).expanduser()
            if not path.is_absolute():
                path = (base / path).resolve()
            if not path.is_dir():
                raise _fail(at, f"folder {str(path)!r} not found.")
        splits = spec.get("splits") or {}
        if not isinstance(splits, dict) or set(splits) - {"train", "test"}:
            raise _fail(f"{at}.splits", "expected a mapping with keys 'train' and/or 'test' (the source split names).")
        columns = spec.get("columns") or {}
        canonical = [
            *dict.fromkeys(c for cols in INPUT_KINDS.values() for c in cols),
            LABEL_COLUMN,
            *KIND_LABEL_COLUMN.values(),
        ]
        if not isinstance(columns, dict) or set(columns) - set(canonical):
            raise _fail(f"{at}.columns", f"expected renames into {', '.join(canonical)}.")
        domains[name] = Domain(
            name=name,
            path=path,
            dataset=str(spec["dataset"]) if "dataset" in spec else None,
            config=spec.get("config"),
            splits={"train": "train", "test": "test", **{k: str(v) for k, v in splits.items()}},
            columns={str(k): str(v) for k, v in columns.items()},
            label_names=_as_list(f"{at}.labels", spec.get("labels")) or None,
            license=str(spec.get("license") or "unknown"),
            source=spec.get("source"),
        )
    return domains


def _parse_candidates(where: str, raw: Any, domains: Mapping[str, Domain], task: str) -> list[CandidateSpec]:
    from ..zoo.architectures import get_architecture

    if not isinstance(raw, list) or not raw:
        raise _fail(f"{where}: candidates", "expected a non-empty list of candidate entries.")
    out: list[CandidateSpec] = []
    for i, entry in enumerate(raw):
        at = f"{where}: candidates[{i}]"
        if not isinstance(entry, dict):
            raise _fail(at, "expected a mapping (sources or mixture, architectures, seeds…).")
        _check_keys(at, entry, _CANDIDATE_KEYS)
        if ("sources" in entry) == ("mixture" in entry):
            raise _fail(
                at, "give exactly one of 'sources' (one candidate per domain) and 'mixture' (one on their union)."
            )
        if "architecture" in entry and "architectures" in entry:
            raise _fail(at, "give 'architecture' or 'architectures', not both.")
        if "seed" in entry and "seeds" in entry:
            raise _fail(at, "give 'seed' or 'seeds', not both.")
        archs = _as_list(f"{at}.architectures", entry.get("architectures", entry.get("architecture")))
        if not archs:
            raise _fail(at, "missing 'architectures'.")
        train = {
            k: entry[k]
            for k in (
                "epochs",
                "learning_rate",
                "batch_size",
                "label_noise",
                "max_train_rows",
                "class_weight",
                "params",
            )
            if entry.get(k) is not None
        }
        for arch in archs:
            try:
                get_architecture(task, arch, train.get("params"))
            except HFSearchError as exc:
                raise _fail(f"{at}.architectures", str(exc)) from None
        seeds = _as_list(f"{at}.seeds", entry.get("seeds", entry.get("seed", 0)), int)
        if train.get("class_weight", "balanced") != "balanced":
            raise _fail(f"{at}.class_weight", f"expected 'balanced', got {train['class_weight']!r}.")
        if "label_noise" in train and not 0.0 <= float(train["label_noise"]) <= 1.0:
            raise _fail(f"{at}.label_noise", "must lie in [0, 1].")
        for key in ("epochs", "batch_size", "max_train_rows"):
            if key in train:
                _int(f"{at}.{key}", train[key], minimum=1)
        if "learning_rate" in train and (
            isinstance(train["learning_rate"], bool)
            or not isinstance(train["learning_rate"], (int, float))
            or train["learning_rate"] <= 0
        ):
            raise _fail(
                f"{at}.learning_rate",
                f"expected a positive number, got {train['learning_rate']!r} "
                "(write 1.0e-4, not 1e-4: YAML reads the latter as text).",
            )
        if "mixture" in entry:
            groups = [_as_list(f"{at}.mixture", entry["mixture"])]
            if len(groups[0]) < 2 or len(set(groups[0])) != len(groups[0]):
                raise _fail(f"{at}.mixture", "a mixture needs at least two distinct domains.")
        else:
            groups = [[s] for s in _as_list(f"{at}.sources", entry["sources"])]
            if not groups:
                raise _fail(f"{at}.sources", "no source domain.")
        for group in groups:
            for d in group:
                if d not in domains:
                    raise _fail(f"{at}", _unknown_domain(d, domains))
        explicit_name = entry.get("name")
        if explicit_name is not None and len(groups) * len(archs) * len(seeds) != 1:
            raise _fail(f"{at}.name", "'name' is only allowed on an entry that makes exactly one candidate.")
        for group in groups:
            for arch in archs:
                for seed in seeds:
                    label = group[0] if len(group) == 1 else "mix-" + "-".join(group)
                    name = str(explicit_name or f"{arch}-{label}" + (f"-s{seed}" if seed or len(seeds) > 1 else ""))
                    if not _NAME.match(name) or "--" in name or ".." in name:
                        raise _fail(f"{at}", f"candidate name {name!r} is not a valid repository name.")
                    out.append(
                        CandidateSpec(
                            name=name,
                            architecture=arch,
                            sources=list(group),
                            seed=seed,
                            train=dict(train),
                            downloads=_int(f"{at}.downloads", entry.get("downloads"), minimum=0),
                            likes=_int(f"{at}.likes", entry.get("likes"), minimum=0),
                        )
                    )
    names = [c.name for c in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise _fail(f"{where}: candidates", f"duplicate candidate(s) {dup} (same sources, architecture and seed).")
    return out


def _parse_scorers(where: str, raw: Any, params: Any) -> tuple[list[str], dict[str, dict[str, Any]]]:
    from ..scores import SCORERS, parse_scorers

    if raw is None:
        raw = "all"
    names: list[str] = []
    for item in _as_list(f"{where}: scorers", raw):  # "all" = every registered scorer in its default space
        names.extend(SCORERS.names() if item.strip() == "all" else [item])
    names = list(dict.fromkeys(n.strip() for n in names))
    if not names:
        raise _fail(f"{where}: scorers", "no scorer.")
    if not isinstance(params, dict):
        raise _fail(f"{where}: score_params", "expected a mapping scorer -> {param: value}.")
    try:
        specs = parse_scorers(names, params)
    except HFSearchError as exc:
        raise _fail(f"{where}: scorers", str(exc)) from None
    for scorer, values in params.items():
        if not isinstance(values, dict):
            raise _fail(f"{where}: score_params.{scorer}", "expected a mapping {param: value}.")
        if scorer not in {s.info.name for s in specs}:
            raise _fail(f"{where}: score_params", f"parameters for {scorer!r}, which is not among the scorers.")
        info = SCORERS.get(scorer)
        for key in values:
            if key not in info.defaults:
                known = ", ".join(sorted(info.defaults)) or "none"
                raise _fail(f"{where}: score_params.{scorer}", f"unknown parameter {key!r} (known: {known}).")
    columns = [s.column for s in specs]
    dup = sorted({c for c in columns if columns.count(c) > 1})
    if dup:
        raise _fail(f"{where}: scorers", f"scorer(s) listed twice: {', '.join(dup)}.")
    return names, {k: dict(v) for k, v in params.items()}


# ---- data checks -----------------------------------------------------------------------------------------------
def read_domain(domain: Domain) -> dict[str, list[dict[str, Any]]]:
    """The ``train`` and ``test`` rows of a domain, with columns renamed to the canonical ones.

    Local folders with ``train.jsonl``/``test.jsonl`` are read directly; other folders (csv, parquet) and Hub ids go
    through `datasets` (`hfsearch.data.loading`).
    """
    out: dict[str, list[dict[str, Any]]] = {}
    folder = domain.path
    direct = folder is not None and all((folder / f"{domain.splits[s]}.jsonl").is_file() for s in ("train", "test"))
    if direct:
        for split in ("train", "test"):
            with (folder / f"{domain.splits[split]}.jsonl").open(encoding="utf-8") as fh:  # type: ignore[operator]
                try:
                    out[split] = [json.loads(line) for line in fh if line.strip()]
                except json.JSONDecodeError as exc:
                    raise WorkloadError(
                        f"domain {domain.name!r}: {domain.splits[split]}.jsonl is not valid JSON lines "
                        f"(line {exc.lineno})."
                    ) from None
    else:
        from ..data.loading import load_dataset_dict

        try:
            dd = load_dataset_dict(str(folder) if folder is not None else domain.dataset, config=domain.config)  # type: ignore[arg-type]
        except HFSearchError as exc:
            raise WorkloadError(f"domain {domain.name!r}: {exc}") from None
        for split in ("train", "test"):
            name = domain.splits[split]
            if name not in dd:
                raise WorkloadError(
                    f"domain {domain.name!r} ({domain.where}) has no {name!r} split "
                    f"(splits: {', '.join(dd) or 'none'}); map one with 'splits'."
                )
            out[split] = [dict(r) for r in dd[name]]
    if domain.columns:
        rename = {v: k for k, v in domain.columns.items()}
        out = {s: [{rename.get(k, k): v for k, v in r.items()} for r in rows] for s, rows in out.items()}
    return out


def check_domains(wl: Workload) -> None:
    """Read every domain and check splits, columns and labels agree across domains (fills ``wl.rows``).

    Labels may be integers (ids into the workload's ``labels``) or class-name strings (converted to ids). A domain
    whose labels fall outside the workload's label space, or whose declared names differ, is a label mismatch.
    """
    kinds: dict[str, str] = {}
    label_sets: dict[str, set[Any]] = {}
    for name, domain in wl.domains.items():
        rows = read_domain(domain)
        where = f"{wl.file}: domain {name!r} ({domain.where})"
        for split in ("train", "test"):
            if not rows.get(split):
                raise WorkloadError(f"{where}: the {domain.splits[split]!r} split is empty.")
        first = rows["train"][0]
        kind = next((k for k, cols in INPUT_KINDS.items() if all(c in first for c in cols)), None)
        if kind is None:
            raise WorkloadError(
                f"{where}: rows need 'text' or 'text_a' + 'text_b' (or 'series' for time series, "
                "'image' for images, 'tokens' + 'tags' for token classification) "
                f"(found: {', '.join(first)}); rename columns with 'columns'."
            )
        needed = INPUT_KINDS[kind]
        label_col = KIND_LABEL_COLUMN.get(kind, LABEL_COLUMN)
        for split, split_rows in rows.items():
            for i, r in enumerate(split_rows):
                missing = [c for c in (*needed, label_col) if c not in r or r[c] is None]
                if missing:
                    raise WorkloadError(f"{where}: row {i} of {domain.splits[split]!r} lacks {', '.join(missing)}.")
                if kind == "tokens" and len(r["tokens"]) != len(r["tags"]):
                    raise WorkloadError(
                        f"{where}: row {i} of {domain.splits[split]!r} has {len(r['tokens'])} tokens "
                        f"but {len(r['tags'])} tags."
                    )
        kinds[name] = kind
        if kind == "tokens":
            label_sets[name] = {str(t) for s in rows.values() for r in s for t in r["tags"]}
        else:
            label_sets[name] = {r[LABEL_COLUMN] for s in rows.values() for r in s}
        if domain.label_names is not None and wl.label_names and domain.label_names != wl.label_names:
            raise WorkloadError(
                f"{where}: label mismatch: the domain's labels {domain.label_names} differ from the "
                f"workload's {wl.label_names}."
            )
        wl.rows[name] = {s: rows[s] for s in ("train", "test")}
    if set(kinds.values()) == {"pair", "text"}:
        pairs = sorted(n for n, k in kinds.items() if k == "pair")
        single = sorted(n for n, k in kinds.items() if k == "text")
        raise WorkloadError(
            f"{wl.file}: domains mix text pairs ({', '.join(pairs)}) and single texts ({', '.join(single)})."
        )
    if len(set(kinds.values())) > 1:
        by_kind = {k: sorted(n for n, v in kinds.items() if v == k) for k in sorted(set(kinds.values()))}
        raise WorkloadError(
            f"{wl.file}: domains mix input kinds: "
            + "; ".join(f"{k} ({', '.join(v)})" for k, v in by_kind.items())
            + "."
        )
    wl.is_pair = next(iter(kinds.values())) == "pair"
    if next(iter(kinds.values())) == "tokens":
        _check_tags(wl, label_sets)
        return
    _align_labels(wl, label_sets)
    if "f1" in wl.metrics and len(wl.label_names) < 2:
        raise WorkloadError(f"{wl.file}: metric 'f1' needs at least two classes.")


def _check_tags(wl: Workload, tag_sets: dict[str, set[str]]) -> None:
    """Token domains: every tag is ``O`` or ``<prefix>-<type>`` with an entity type of the workload's ``labels``.

    ``labels`` are the entity types (``[PER, LOC, ORG, MISC]``) or the tags themselves; types are compared up to
    synonyms (``MISC`` = ``OTHER``, ``PER`` = ``person``, see `hfsearch.candidates.labels.entity_type_key`), so
    domains that spell a type differently share it. Tags stay strings (the zoo and the truth map them).
    """
    from ..candidates.labels import entity_type_key, entity_types, is_tag_set, split_tag

    if not wl.label_names:
        raise WorkloadError(
            f"{wl.file}: labels: a token-classification workload needs its entity types, e.g. "
            "labels: [PER, LOC, ORG, MISC]."
        )
    types = entity_types(wl.label_names) if is_tag_set(wl.label_names) else list(wl.label_names)
    known = {entity_type_key(t) for t in types}
    for name, tags in tag_sets.items():
        bad = sorted(t for t in tags if split_tag(t)[0] != "O" and entity_type_key(split_tag(t)[1]) not in known)
        if bad:
            raise WorkloadError(
                f"{wl.file}: label mismatch: domain {name!r} has tag(s) {bad[:5]} whose entity type is "
                f"not among the workload's labels {types}."
            )


def _align_labels(wl: Workload, label_sets: dict[str, set[Any]]) -> None:
    """Check every domain's labels lie in the workload's label space, and convert class-name labels to ids."""
    names = wl.label_names
    if not names:  # no declared names: every domain must use the same set of label values
        sets = {n: frozenset(s) for n, s in label_sets.items()}
        distinct = set(sets.values())
        if len(distinct) > 1:
            ref_name = next(iter(sets))
            odd = next(n for n, s in sets.items() if s != sets[ref_name])
            raise WorkloadError(
                f"{wl.file}: label mismatch between domains: {ref_name!r} has labels "
                f"{sorted(sets[ref_name], key=str)}, {odd!r} has {sorted(sets[odd], key=str)}; "
                "declare the class names with 'labels'."
            )
        values = sorted(next(iter(distinct)), key=str)
        if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            if values != list(range(len(values))):
                raise WorkloadError(f"{wl.file}: integer labels must be 0..n-1, got {values}; declare 'labels'.")
            wl.label_names = [f"LABEL_{i}" for i in values]
        else:
            wl.label_names = [str(v) for v in values]
        names = wl.label_names
    index = {n: i for i, n in enumerate(names)}
    for name, label_values in label_sets.items():
        bad = sorted(
            (
                v
                for v in label_values
                if not (
                    (isinstance(v, int) and not isinstance(v, bool) and 0 <= v < len(names))
                    or (isinstance(v, str) and v in index)
                )
            ),
            key=str,
        )
        if bad:
            raise WorkloadError(
                f"{wl.file}: label mismatch: domain {name!r} has label(s) {bad[:5]} outside the "
                f"workload's label space {names} (ids 0..{len(names) - 1} or these names)."
            )
        if any(isinstance(v, str) for v in label_values):
            for split_rows in wl.rows[name].values():
                for r in split_rows:
                    if isinstance(r[LABEL_COLUMN], str):
                        r[LABEL_COLUMN] = index[r[LABEL_COLUMN]]


def synthetic_downloads(wl: Workload, candidate: CandidateSpec) -> int:
    """Deterministic synthetic download count of a candidate without one (log-uniform in ``10**[low, high]``).

    Seeded by the workload's ``popularity.synthetic_seed`` and the candidate's name only: it carries no
    information about quality, so the popularity prior is a sanity baseline here (it should score like a random pick).
    """
    digest = hashlib.sha256(f"{wl.popularity_seed}:{candidate.name}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    low, high = wl.popularity_range
    return round(10 ** (low + (high - low) * u))
