"""Parsing a workload mapping (the YAML file's content) into a `Workload`: every field is checked, every problem is
a one-line `WorkloadError` naming the file and the field; no data is read here (see `load_workload`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, overload

from ..errors import HFSearchError, WorkloadError
from .workload_spec import INPUT_KINDS, KIND_LABEL_COLUMN, LABEL_COLUMN, METRICS, CandidateSpec, Domain, Workload

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
