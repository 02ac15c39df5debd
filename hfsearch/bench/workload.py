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

import hashlib
from pathlib import Path

from ..errors import WorkloadError
from .workload_domains import check_domains, read_domain
from .workload_parse import parse_workload
from .workload_spec import (
    INPUT_KINDS,
    KIND_LABEL_COLUMN,
    LABEL_COLUMN,
    METRICS,
    PAIR_COLUMNS,
    TEXT_COLUMNS,
    CandidateSpec,
    Domain,
    Workload,
)

__all__ = [
    "INPUT_KINDS",
    "KIND_LABEL_COLUMN",
    "LABEL_COLUMN",
    "METRICS",
    "PAIR_COLUMNS",
    "TEXT_COLUMNS",
    "CandidateSpec",
    "Domain",
    "Workload",
    "check_domains",
    "load_workload",
    "parse_workload",
    "read_domain",
    "synthetic_downloads",
]


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


def synthetic_downloads(wl: Workload, candidate: CandidateSpec) -> int:
    """Deterministic synthetic download count of a candidate without one (log-uniform in ``10**[low, high]``).

    Seeded by the workload's ``popularity.synthetic_seed`` and the candidate's name only: it carries no
    information about quality, so the popularity prior is a sanity baseline here (it should score like a random pick).
    """
    digest = hashlib.sha256(f"{wl.popularity_seed}:{candidate.name}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    low, high = wl.popularity_range
    return round(10 ** (low + (high - low) * u))
