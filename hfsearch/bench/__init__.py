"""Benchmark mode: grade hfsearch's scorers on workloads where the target labels are known.

- `hfsearch.bench.workload`: the YAML workload format (domains, candidates, targets, scorers), validated up front;
- `hfsearch.bench.run`: builds the workload's zoo, searches every target with labels hidden, grades each scorer;
- `hfsearch.bench.metrics`: top-1, regret, Kendall tau, Spearman rho, bootstrap intervals;
- `hfsearch.bench.report`: JSON, markdown and plots;
- `hfsearch.bench.truth`: each candidate's true accuracy / F1 on the labeled target;
- `hfsearch.bench.cli`: the ``hfsearch bench`` command.

```python
>>> from hfsearch.bench import run_benchmark, write_report
>>> result = run_benchmark("benchmarks/ci.yaml")
>>> write_report(result, "bench-out")            # results.json, report.md, plots/*.png
```
"""

from .metrics import bootstrap_ci, evaluate_scorer, kendall_tau, regret, spearman_rho, top1
from .workload import Workload, load_workload


def __getattr__(name: str):  # heavy modules (torch, matplotlib) load on first use
    if name in ("run_benchmark", "BenchResult"):
        from . import run

        return getattr(run, name)
    if name in ("write_report", "to_markdown"):
        from . import report

        return getattr(report, name)
    raise AttributeError(name)


__all__ = [
    "BenchResult",
    "Workload",
    "bootstrap_ci",
    "evaluate_scorer",
    "kendall_tau",
    "load_workload",
    "regret",
    "run_benchmark",
    "spearman_rho",
    "to_markdown",
    "top1",
    "write_report",
]
