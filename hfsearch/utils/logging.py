"""Logging and progress bars, following the conventions of ``huggingface_hub.utils.logging``.

One library logger, ``hfsearch``, with its own stderr handler; every module logs through a child of it
(``get_logger(__name__)``). Its level comes from ``HFSEARCH_VERBOSITY`` (``debug``, ``info``, ``warning`` — the
default —, ``error``, ``critical``) and can be changed with the ``set_verbosity_*`` functions, or for a whole command
with `configure` (what ``--quiet`` / ``--verbose`` call).

Progress bars show on a terminal only, unless asked for (``HFSEARCH_PROGRESS=1``, or `configure(progress=True)`):
redirected output (``hfsearch demo > log.txt 2>&1``) gets the log lines, never a bar per training step.
``HFSEARCH_DISABLE_PROGRESS_BARS=1`` / ``HF_HUB_DISABLE_PROGRESS_BARS=1`` turn them off everywhere.

Notices that third-party libraries print about something hfsearch does on purpose (a classification head that is
newly initialised when the zoo adds one) are hidden around those calls only, with `expected_warnings`.

```python
>>> from hfsearch.utils import logging
>>> logger = logging.get_logger(__name__)
>>> logging.set_verbosity_info()
>>> logging.get_verbosity() == logging.INFO
True
>>> logging.set_verbosity_warning()
```
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import warnings
from collections.abc import Iterable, Iterator
from logging import CRITICAL, DEBUG, ERROR, INFO, WARNING  # noqa: F401  (re-exported, as huggingface_hub does)
from typing import Any, Literal

from .. import constants

log_levels = {"debug": DEBUG, "info": INFO, "warning": WARNING, "error": ERROR, "critical": CRITICAL}

#: What `configure` accepts besides a level name or number.
Verbosity = Literal["quiet", "normal", "verbose", "debug"]
_NAMED = {"quiet": ERROR, "normal": WARNING, "verbose": INFO, "debug": DEBUG}

#: Libraries whose loggers `configure` tunes together with hfsearch's.
THIRD_PARTY = ("transformers", "datasets", "huggingface_hub", "accelerate", "evaluate", "urllib3", "httpx")

_DEFAULT_LEVEL = WARNING
_FORMAT = "%(levelname)s %(name)s: %(message)s"
_lock = threading.Lock()
_handler: logging.Handler | None = None
#: Set by `configure`/`set_progress`: ``None`` leaves the choice to the environment and the terminal.
_progress_override: bool | None = None


def _library_name() -> str:
    return __name__.split(".")[0]


def _default_level() -> int:
    """The level named by ``HFSEARCH_VERBOSITY``, else WARNING (an unknown name is reported and ignored)."""
    name = (constants.HFSEARCH_VERBOSITY or "").strip().lower()
    if not name:
        return _DEFAULT_LEVEL
    if name in log_levels:
        return log_levels[name]
    logging.getLogger().warning(
        "Unknown HFSEARCH_VERBOSITY=%s, use one of: %s", constants.HFSEARCH_VERBOSITY, ", ".join(log_levels)
    )
    return _DEFAULT_LEVEL


class _StderrHandler(logging.StreamHandler):
    """Writes to the *current* ``sys.stderr`` (so redirections made after import, e.g. by pytest, are honoured)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:  # set by StreamHandler.__init__; the current stderr is always used
        pass


def _root() -> logging.Logger:
    """The ``hfsearch`` logger, configured on first use: a stderr handler, the default level, no propagation."""
    global _handler
    logger = logging.getLogger(_library_name())
    if _handler is None:
        with _lock:
            if _handler is None:
                handler = _StderrHandler()
                handler.setFormatter(logging.Formatter(_FORMAT))
                logger.addHandler(handler)
                logger.setLevel(_default_level())
                logger.propagate = False
                _handler = handler
    return logger


def get_logger(name: str | None = None) -> logging.Logger:
    """A logger under the ``hfsearch`` logger (the library logger itself when `name` is ``None``).

    Args:
        name (`str`, *optional*):
            Usually ``__name__`` of the calling module.

    Example:

    ```python
    >>> from hfsearch.utils.logging import get_logger
    >>> get_logger("hfsearch.zoo.build").name
    'hfsearch.zoo.build'
    ```
    """
    root = _root()
    return root if name is None or name == root.name else logging.getLogger(name)


def get_verbosity() -> int:
    """The current level of the ``hfsearch`` logger (``logging.WARNING`` by default)."""
    return _root().getEffectiveLevel()


def set_verbosity(verbosity: int) -> None:
    """Set the level of the ``hfsearch`` logger.

    Args:
        verbosity (`int`):
            A `logging` level, e.g. ``hfsearch.utils.logging.INFO``.
    """
    _root().setLevel(verbosity)


def set_verbosity_debug() -> None:
    """Set the verbosity to ``logging.DEBUG``."""
    set_verbosity(DEBUG)


def set_verbosity_info() -> None:
    """Set the verbosity to ``logging.INFO``."""
    set_verbosity(INFO)


def set_verbosity_warning() -> None:
    """Set the verbosity to ``logging.WARNING`` (the default)."""
    set_verbosity(WARNING)


def set_verbosity_error() -> None:
    """Set the verbosity to ``logging.ERROR``."""
    set_verbosity(ERROR)


def disable_propagation() -> None:
    """Stop hfsearch's records at its own handler (the default)."""
    _root().propagate = False


def enable_propagation() -> None:
    """Also pass hfsearch's records to the root logger (e.g. to collect them with your own handlers)."""
    _root().propagate = True


def _as_level(verbosity: int | str) -> int:
    if isinstance(verbosity, int):
        return verbosity
    key = verbosity.strip().lower()
    if key in _NAMED:
        return _NAMED[key]
    if key in log_levels:
        return log_levels[key]
    raise ValueError(f"unknown verbosity {verbosity!r}; use one of {', '.join([*_NAMED, *log_levels])}")


def configure(verbosity: Verbosity | str | int | None = None, *, progress: bool | None = None) -> None:
    """Set up logging and progress for a whole command (what ``--quiet`` / ``--verbose`` call).

    ================  ================  ==========================  ======================
    verbosity         hfsearch logger   transformers, datasets, …   progress bars
    ================  ================  ==========================  ======================
    ``"quiet"``       ERROR             ERROR                       off
    ``"normal"``      WARNING           ERROR                       terminal only
    ``"verbose"``     INFO              WARNING                     terminal only
    ``"debug"``       DEBUG             INFO                        terminal only
    ================  ================  ==========================  ======================

    Args:
        verbosity (`str` or `int`, *optional*):
            One of the names above, a level name (``"info"``) or a `logging` level; ``None`` keeps
            ``HFSEARCH_VERBOSITY`` (or WARNING) and treats it like the matching row.
        progress (`bool`, *optional*):
            Force progress bars on or off; ``None`` keeps the default (``"quiet"`` turns them off).

    Raises:
        `ValueError`: an unknown verbosity name.
    """
    global _progress_override
    level = _default_level() if verbosity is None else _as_level(verbosity)
    set_verbosity(level)
    third_party = ERROR if level >= WARNING else (WARNING if level == INFO else INFO)
    for name in THIRD_PARTY:
        logging.getLogger(name).setLevel(third_party)
    if progress is not None:
        _progress_override = progress
    elif level >= ERROR:
        _progress_override = False


def set_progress(enabled: bool | None) -> None:
    """Force progress bars on (``True``) or off (``False``), or back to automatic (``None``)."""
    global _progress_override
    _progress_override = enabled


def _env_flag(value: str | None) -> bool | None:
    if value is None or not value.strip():
        return None
    return value.strip().lower() in {"1", "true", "yes", "on"}


def progress_enabled(requested: bool = True) -> bool:
    """Whether a progress bar should be drawn now.

    Off when bars are disabled (``HFSEARCH_DISABLE_PROGRESS_BARS`` / ``HF_HUB_DISABLE_PROGRESS_BARS``) or when
    the caller does not want one (`requested` is ``False``, e.g. for ``--format json``); else as forced by
    `configure` / `set_progress`, else as ``HFSEARCH_PROGRESS`` says, else only when stderr is a terminal.

    Args:
        requested (`bool`, *optional*, defaults to `True`):
            Whether the caller wants a bar at all.
    """
    if constants.DISABLE_PROGRESS_BARS or not requested:
        return False
    if _progress_override is not None:
        return _progress_override
    forced = _env_flag(constants.HFSEARCH_PROGRESS)
    if forced is not None:
        return forced
    stream = sys.stderr
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError):  # closed or replaced by an object without isatty
        return False


def progress_bar(iterable: Iterable[Any] | None = None, *, requested: bool = True, **kwargs: Any) -> Any:
    """A ``huggingface_hub.utils.tqdm`` bar that is drawn only when `progress_enabled` says so.

    Args:
        iterable (`Iterable`, *optional*):
            What to iterate over, as for ``tqdm``.
        requested (`bool`, *optional*, defaults to `True`):
            Whether the caller wants a bar at all.
        **kwargs:
            Passed to ``tqdm`` (``total``, ``desc``, ``unit``, ``leave``…); ``disable`` is decided here.

    Example:

    ```python
    >>> from hfsearch.utils.logging import progress_bar
    >>> with progress_bar(total=3, desc="train") as bar:
    ...     for _ in range(3):
    ...         bar.update(1)
    ```
    """
    from huggingface_hub.utils import tqdm

    kwargs["disable"] = not progress_enabled(requested)
    return tqdm(iterable, **kwargs)


@contextlib.contextmanager
def expected_warnings(*libraries: str) -> Iterator[None]:
    """Hide the log notices and Python warnings of `libraries` inside the block, then restore them.

    For calls whose notices describe something hfsearch does on purpose, e.g. "Some weights … were newly
    initialized" when the zoo puts a fresh classification head on a pretrained encoder. Only the block is
    affected; at hfsearch's DEBUG verbosity nothing is hidden.

    Args:
        *libraries (`str`):
            Top-level logger / module names; defaults to ``("transformers",)``.

    Example:

    ```python
    >>> from hfsearch.utils.logging import expected_warnings
    >>> with expected_warnings("transformers"):
    ...     pass  # e.g. AutoModelForSequenceClassification.from_pretrained(encoder, num_labels=2)
    ```
    """
    names = libraries or ("transformers",)
    if get_verbosity() <= DEBUG:
        yield
        return
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    with warnings.catch_warnings():
        for name in names:
            warnings.filterwarnings("ignore", module=rf"{name}(\.|$)")
        for lg in loggers:
            lg.setLevel(ERROR)
        try:
            yield
        finally:
            for lg, level in zip(loggers, levels):
                lg.setLevel(level)


@contextlib.contextmanager
def third_party_progress(enabled: bool) -> Iterator[None]:
    """Inside the block, the progress bars of transformers, datasets and huggingface_hub are off unless `enabled`.

    Restores each library's own setting afterwards. Used around the zoo build, whose model loading would otherwise
    draw transformers' "Loading weights" bars into redirected output.

    Args:
        enabled (`bool`):
            Usually `progress_enabled()`; ``True`` leaves the libraries' settings untouched.
    """
    if enabled:
        yield
        return
    import datasets
    import huggingface_hub.utils as hub_utils
    from transformers.utils import logging as tf_logging

    states = (
        tf_logging.is_progress_bar_enabled(),
        datasets.is_progress_bar_enabled(),
        not hub_utils.are_progress_bars_disabled(),
    )
    tf_logging.disable_progress_bar()
    datasets.disable_progress_bars()
    hub_utils.disable_progress_bars()
    try:
        yield
    finally:
        for on, enable in zip(
            states, (tf_logging.enable_progress_bar, datasets.enable_progress_bars, hub_utils.enable_progress_bars)
        ):
            if on:
                enable()
