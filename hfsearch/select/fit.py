"""Fitting the default pick on benchmark results, and grading it leave-one-workload-out.

``hfsearch bench --fit-selector benchmarks/a.yaml benchmarks/b.yaml … --output DIR`` runs each workload (zoos and
model outputs are cached), collects one `Row` per candidate and target (its estimator values and its true metric),
fits the `Selector` on all of them and writes it into the package (`hfsearch/resources/selector.json`). Every grade
of ``auto`` it reports is leave-one-workload-out: workload W is graded with the selector fitted on the others.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from .selector import INPUTS, Row


def rows_from_targets(
    workload: str, metric: str, targets: Iterable[Any], inputs: tuple[str, ...] = INPUTS
) -> list[Row]:
    """The rows of one benchmark workload: per target and candidate with a true `metric`, the finite estimator values.

    `targets` are `hfsearch.bench.run.TargetResult`s (``.target``, ``.scores``, ``.truth``).
    """
    rows = []
    for t in targets:
        for model, truth in t.truth.get(metric, {}).items():
            values = {}
            for k in inputs:
                v = t.scores.get(k, {}).get(model)
                if v is not None and math.isfinite(float(v)):
                    values[k] = float(v)
            rows.append(Row(workload, t.target, model, values, float(truth), metric))
    return rows
