"""A small generic registry with wildcard listing and did-you-mean errors.

Used for scorers, task adapters and anything else that is extended by registering a name.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from .errors import HFSearchError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to objects.

    Args:
        kind (`str`): what is registered (``"scorer"``, ``"task"``), used in error messages.
        error_cls (`type`, *optional*): exception raised for unknown names.

    Example:

    ```python
    >>> tasks = Registry("task")
    >>> @tasks.register("text-classification")
    ... class TextAdapter: ...
    >>> tasks.get("text-clasification")
    Traceback (most recent call last):
    ...
    hfsearch.errors.HFSearchError: Unknown task 'text-clasification'. Did you mean 'text-classification'?
    ```
    """

    def __init__(self, kind: str, error_cls: type[HFSearchError] = HFSearchError) -> None:
        self.kind = kind
        self.error_cls = error_cls
        self._items: dict[str, T] = {}
        self._aliases: dict[str, str] = {}

    def register(self, name: str, *, aliases: tuple[str, ...] = ()) -> Callable[[T], T]:
        def decorator(obj: T) -> T:
            self.add(name, obj, aliases=aliases)
            return obj

        return decorator

    def add(self, name: str, obj: T, *, aliases: tuple[str, ...] = ()) -> None:
        if name in self._items or name in self._aliases:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._items[name] = obj
        for alias in aliases:
            self._aliases[alias] = name

    def resolve(self, name: str) -> str:
        if name in self._items:
            return name
        if name in self._aliases:
            return self._aliases[name]
        choices = list(self._items) + list(self._aliases)
        close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
        hint = f" Did you mean {close[0]!r}?" if close else f" Known: {', '.join(sorted(self._items))}."
        raise self.error_cls(f"Unknown {self.kind} {name!r}.{hint}")

    def get(self, name: str) -> T:
        return self._items[self.resolve(name)]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in self._items or name in self._aliases)

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def names(self, pattern: str | None = None) -> list[str]:
        """Registered names, optionally filtered by a shell-style wildcard (``'*div*'``)."""
        names = sorted(self._items)
        if pattern:
            names = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
        return names

    def items(self) -> list[tuple[str, T]]:
        return [(n, self._items[n]) for n in self.names()]
