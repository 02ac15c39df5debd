"""The leave-one-workload-out table of the default pick against every single scorer, across benchmark workloads.

Every workload's grades come from `hfsearch.bench.run.grade` with the selector fitted WITHOUT that workload, so
each ``auto`` number below is measured on a workload it was not fitted on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

AUTO = "auto"


def _mean(values: Sequence[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def _f(v: float | None, digits: int = 1) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def lowo_table(results: Sequence[Any]) -> str:
    """Markdown: mean regret per workload for ``auto`` and every scorer graded on all workloads, then the accuracy of
    ``auto``'s predictions (absolute error, interval coverage and width) and its Kendall τ against the ``size`` and
    ``confidence`` baselines.

    Args:
        results (`list[BenchResult]`): one graded benchmark per workload.
    """
    names = [r.workload.name for r in results]
    per: dict[str, dict[str, Any]] = {r.workload.name: {s.scorer: s for s in r.summaries} for r in results}
    common = [s for s in per[names[0]] if all(s in per[n] for n in names)]
    rows = []
    for scorer in common:
        regrets = [per[n][scorer].regret[0] for n in names]
        rows.append((scorer, regrets, _mean(regrets)))
    rows.sort(key=lambda r: (r[2] is None, r[2] if r[2] is not None else 0.0))
    metric = {r.workload.name: r.workload.metric for r in results}
    out = [
        "| scorer | " + " | ".join(f"{n} ({metric[n]})" for n in names) + " | mean |",
        "|---|" + "---:|" * (len(names) + 1),
    ]
    for scorer, regrets, mean in rows:
        name = f"**{scorer}**" if scorer == AUTO else scorer
        out.append(f"| {name} | " + " | ".join(_f(v) for v in regrets) + f" | {_f(mean)} |")
    out += [
        "",
        "Mean regret in points (lower is better; the metric each workload grades), every scorer on every "
        "workload; `auto` graded leave-one-workload-out.",
        "",
    ]
    out += [
        "| workload | auto regret | auto top-1 | auto τ | τ − size τ | τ − confidence τ | auto abs. error "
        "(points) | 90% interval coverage | interval width (points) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in names:
        a = per[n].get(AUTO)
        if a is None:
            continue
        tau = a.kendall_tau[0]
        gap = {}
        for other in ("size", "confidence"):
            o = per[n].get(other)
            gap[other] = (
                _f(tau - o.kendall_tau[0], 2)
                if o is not None and tau is not None and o.kendall_tau[0] is not None
                else "–"
            )
        out.append(
            f"| {n} | {_f(a.regret[0])} | {_f(a.top1[0], 2)} | {_f(tau, 2)} | {gap['size']} | "
            f"{gap['confidence']} | {_f(a.abs_error[0])} | {_f(a.interval_coverage, 2)} | "
            f"{_f(a.interval_width)} |"
        )
    return "\n".join(out) + "\n"
