"""hfsearch: find the best pretrained Hugging Face checkpoint for an unlabeled dataset.

```python
>>> import hfsearch
>>> result = hfsearch.find("text-classification", "imdb")
>>> result.ranking.head()
```

Heavy dependencies (torch, transformers) are imported on first use, so ``hfsearch --help`` and ``hfsearch scorers``
stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import HFSearchError

__version__ = "0.1.0"

_LAZY = {
    "find": ("search", "find"),
    "Search": ("search", "Search"),
    "SearchConfig": ("config", "SearchConfig"),
    "DEFAULT_SCORES": ("config", "DEFAULT_SCORES"),
    "SearchResult": ("rank.result", "SearchResult"),
    "rank_outputs": ("pools", "rank_outputs"),
}

if TYPE_CHECKING:
    from .config import DEFAULT_SCORES, SearchConfig
    from .rank.result import SearchResult
    from .search import Search, find


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(f".{module}", __name__), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'hfsearch' has no attribute {name!r}")


def list_scorers(pattern: str | None = None) -> list[str]:
    """Names of the registered scorers, optionally filtered by a wildcard (``'*div*'``)."""
    from .scores import SCORERS

    return SCORERS.names(pattern)


__all__ = [
    "find",
    "Search",
    "SearchConfig",
    "SearchResult",
    "HFSearchError",
    "DEFAULT_SCORES",
    "list_scorers",
    "rank_outputs",
    "__version__",
]
