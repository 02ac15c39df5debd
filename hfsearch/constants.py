"""Configuration read from environment variables, in one place (in the style of ``huggingface_hub.constants``).

Every knob a user may change without touching code lives here, so the rest of the package never reads
``os.environ`` directly. Values fixed for the life of the process are read at import time; the ones a launcher or a
test may set later (the distributed rank, the Space's limits) are read when asked.
"""

from __future__ import annotations

import logging
import os

logger = logging.getLogger(__name__)

_TRUE = {"1", "true", "yes", "on"}


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return value.strip().lower() in _TRUE


def env_int(name: str, default: int) -> int:
    """An integer environment variable (`default` when unset or not an integer, with a warning)."""
    value = os.environ.get(name, "").strip()
    try:
        return int(value) if value else default
    except ValueError:
        logger.warning("Ignoring %s=%r (not an integer)", name, value)
        return default


def env_float(name: str, default: float) -> float:
    """A number environment variable (`default` when unset or not a number, with a warning)."""
    value = os.environ.get(name, "").strip()
    try:
        return float(value) if value else default
    except ValueError:
        logger.warning("Ignoring %s=%r (not a number)", name, value)
        return default


def env_flag(name: str, default: bool) -> bool:
    """A boolean environment variable (``1``, ``true``, ``yes``, ``on``)."""
    return _flag(name, default)


def env_str(name: str) -> str | None:
    """A text environment variable (``None`` when unset or empty)."""
    value = os.environ.get(name, "").strip()
    return value or None


#: Library name used for ``huggingface_hub.cached_assets_path``.
LIBRARY_NAME = "hfsearch"

#: Overrides the on-disk cache of model outputs (default: the HF assets cache).
HFSEARCH_CACHE = os.environ.get("HFSEARCH_CACHE")

#: Turn off every progress bar (also honours ``HF_HUB_DISABLE_PROGRESS_BARS``).
DISABLE_PROGRESS_BARS = _flag("HFSEARCH_DISABLE_PROGRESS_BARS") or _flag("HF_HUB_DISABLE_PROGRESS_BARS")

#: Level of the ``hfsearch`` logger: ``debug``, ``info``, ``warning`` (default), ``error`` or ``critical``
#: (as ``HF_HUB_VERBOSITY`` for huggingface_hub; see `hfsearch.utils.logging`).
HFSEARCH_VERBOSITY = os.environ.get("HFSEARCH_VERBOSITY")

#: Progress bars: ``1`` shows them even when stderr is not a terminal (e.g. redirected to a log file), ``0`` never;
#: unset, they show on a terminal only (see `hfsearch.utils.logging.progress_enabled`).
HFSEARCH_PROGRESS = os.environ.get("HFSEARCH_PROGRESS")

#: Where the demo keeps the local model zoo it builds (default: the HF assets cache).
HFSEARCH_DEMO_DIR = os.environ.get("HFSEARCH_DEMO_DIR")

#: Default number of target rows sampled.
DEFAULT_SAMPLES = 512
#: Default number of candidates kept after filtering.
DEFAULT_MAX_MODELS = 10
#: Default upper bound on parameter count.
DEFAULT_MAX_PARAMS = 500_000_000
#: Default seed for every random choice.
DEFAULT_SEED = 0
#: Default inference batch size (per device).
DEFAULT_BATCH_SIZE = 32
#: Default maximum sequence length for text tasks.
DEFAULT_MAX_LENGTH = 256

# ---- the Space (read by `hfsearch.app.settings.SpaceSettings.from_env`) -------------------------------------------
#: Most candidates one search may score.
ENV_SPACE_MAX_CANDIDATES = "HFSEARCH_SPACE_MAX_CANDIDATES"
#: Most target rows one search may sample.
ENV_SPACE_MAX_SAMPLES = "HFSEARCH_SPACE_MAX_SAMPLES"
#: Time budget of one search, in seconds.
ENV_SPACE_TIMEOUT = "HFSEARCH_SPACE_TIMEOUT"
#: Requests that may wait in the queue.
ENV_SPACE_QUEUE_SIZE = "HFSEARCH_SPACE_QUEUE_SIZE"
#: Largest file a visitor may upload, in MB (10^6 bytes).
ENV_SPACE_MAX_UPLOAD_MB = "HFSEARCH_SPACE_MAX_UPLOAD_MB"
#: Most data rows in an uploaded file.
ENV_SPACE_MAX_UPLOAD_ROWS = "HFSEARCH_SPACE_MAX_UPLOAD_ROWS"
#: Visitor sessions whose state Gradio keeps in memory (the oldest is dropped first).
ENV_SPACE_MAX_SESSIONS = "HFSEARCH_SPACE_MAX_SESSIONS"
#: Refuse server-side paths and custom endpoints (default: on when ``SPACE_ID`` is set, i.e. on a Hugging Face Space).
ENV_SPACE_RESTRICTED = "HFSEARCH_SPACE_RESTRICTED"
#: Build the demo registry in a background thread at start-up (default on).
ENV_SPACE_BUILD_DEMO = "HFSEARCH_SPACE_BUILD_DEMO"
#: The ``hfsearch bench --output`` folder shown in the *Benchmark* tab.
ENV_BENCH_DIR = "HFSEARCH_BENCH_DIR"


def on_a_space() -> bool:
    """Whether this process runs on a Hugging Face Space (``SPACE_ID`` is set there)."""
    return bool(os.environ.get("SPACE_ID"))


# ---- processes ---------------------------------------------------------------------------------------------------
def world_size() -> int:
    """Processes of a distributed launch (``WORLD_SIZE``, set by ``torchrun`` / ``accelerate launch``; 1 otherwise)."""
    return env_int("WORLD_SIZE", 1)


def rank() -> int:
    """This process's rank in a distributed launch (``RANK``; 0 otherwise)."""
    return env_int("RANK", 0)


def debug() -> bool:
    """``HFSEARCH_DEBUG=1``: let internal errors raise with their traceback instead of a one-line message."""
    return _flag("HFSEARCH_DEBUG")


def environment_report() -> dict[str, str | None]:
    """The settings worth pasting into a bug report (``hfsearch env``).

    A token is reported as set or not, never shown.
    """
    report: dict[str, str | None] = {}
    for var in ("HF_ENDPOINT", "HF_HOME", "HF_HUB_OFFLINE", "HFSEARCH_CACHE"):
        report[var] = os.environ.get(var)
    report["HF_TOKEN"] = "set" if os.environ.get("HF_TOKEN") else "not set"
    return report
