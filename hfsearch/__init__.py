"""hfsearch: find the best pretrained Hugging Face checkpoint for an unlabeled dataset.

```python
>>> import hfsearch
>>> result = hfsearch.find("text-classification", "imdb")
>>> result.ranking.head()
```
"""

from .errors import HFSearchError
from .rank.result import SearchResult
from .search import DEFAULT_SCORES, Search, SearchConfig, find

__version__ = "0.1.0"


def list_scorers(pattern: str | None = None) -> list[str]:
    """Names of the registered scorers, optionally filtered by a wildcard (``'*div*'``)."""
    from .scores.base import SCORERS

    return SCORERS.names(pattern)


__all__ = ["find", "Search", "SearchConfig", "SearchResult", "HFSearchError", "DEFAULT_SCORES", "list_scorers", "__version__"]
