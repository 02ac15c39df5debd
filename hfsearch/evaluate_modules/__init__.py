"""`evaluate` modules shipped inside hfsearch, loaded by path so that nothing is ever downloaded.

- ``accuracy``, ``f1`` (metrics, scikit-learn) and ``seqeval`` (entity-level F1): the ground truth of benchmark mode
  (`hfsearch.tasks.base.TaskAdapter.evaluate`);
- ``adaptivity`` (a measurement): the paper's adaptivity and k-NN coverage of a source sample to a target sample,
  with the values of hfsearch's scorers.

Each folder holds ``<name>.py`` (the module) and a ``README.md`` card with the YAML front matter of `evaluate`'s
Spaces; ``adaptivity`` also holds ``app.py`` and ``requirements.txt`` so that the folder can be pushed as a Space.

```python
>>> import evaluate
>>> from hfsearch import evaluate_modules
>>> accuracy = evaluate.load(str(evaluate_modules.path("accuracy")))
>>> accuracy.compute(predictions=[0, 1, -1], references=[0, 1, 1])["accuracy"]
0.6666666666666666
>>> evaluate_modules.load("accuracy") is evaluate_modules.load("accuracy")  # loaded once, then cached
True
```
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import HFSearchError

if TYPE_CHECKING:
    import evaluate

#: Module name → `evaluate` module type.
MODULES: dict[str, str] = {"accuracy": "metric", "f1": "metric", "seqeval": "metric", "adaptivity": "measurement"}

_ROOT = Path(__file__).resolve().parent


def path(name: str) -> Path:
    """The folder of the shipped module `name` (what ``evaluate.load`` takes).

    Args:
        name (`str`):
            One of ``accuracy``, ``f1``, ``seqeval``, ``adaptivity``.

    Raises:
        `HFSearchError`: no such module.
    """
    if name not in MODULES:
        raise HFSearchError(f"No evaluate module {name!r} in hfsearch; use one of {', '.join(MODULES)}.")
    return _ROOT / name


@functools.cache
def load(name: str) -> evaluate.EvaluationModule:
    """The shipped module `name`, loaded by path with ``evaluate.load`` once per process (kept in memory).

    Args:
        name (`str`):
            One of ``accuracy``, ``f1``, ``seqeval``, ``adaptivity``.

    Returns:
        `evaluate.EvaluationModule`: ready for ``compute``; results are kept in memory, no cache file is written.
    """
    import evaluate

    return evaluate.load(str(path(name)), module_type=MODULES[name], keep_in_memory=True)


__all__ = ["MODULES", "load", "path"]
