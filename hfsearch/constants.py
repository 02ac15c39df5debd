"""Configuration read once from environment variables (in the style of ``huggingface_hub.constants``).

Every knob that a user may want to change without touching code lives here, so the rest of the package
never reads ``os.environ`` directly.
"""

from __future__ import annotations

import os

_TRUE = {"1", "true", "yes", "on"}


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in _TRUE


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
