"""Ctrl-C that is never lost.

Python turns SIGINT into a `KeyboardInterrupt` raised wherever the main thread happens to be; raised inside a
finalizer (a progress bar's ``__del__`` run by the garbage collector) it is printed as "Exception ignored" and
dropped, and the search went on to the end. The CLI installs `_handler` for the duration of a command: it also
remembers the request, and every cooperative check of a search (between stages, candidates and batches:
`hfsearch.pipeline.events.Hooks.check`) raises it again until the command ends.

```python
>>> with catching_interrupts():      # doctest: +SKIP
...     run_the_command()            # Ctrl-C: KeyboardInterrupt now, or at the next check
```
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_requested = threading.Event()


def _handler(signum: int, frame: Any) -> None:
    _requested.set()
    raise KeyboardInterrupt


def check() -> None:
    """Raise `KeyboardInterrupt` if Ctrl-C was pressed during the current command (even if it was swallowed)."""
    if _requested.is_set():
        raise KeyboardInterrupt


@contextmanager
def catching_interrupts() -> Iterator[None]:
    """Remember Ctrl-C for the duration of the block (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _requested.clear()
    previous = signal.signal(signal.SIGINT, _handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        _requested.clear()
