"""Task adapters, one module per task; importing this package registers them all."""

from .base import TASKS, Encoded, TaskAdapter, get_task, register_task
from . import text  # noqa: F401  (registers text-classification)
from . import text_pair  # noqa: F401  (registers text-pair-classification)
from . import image  # noqa: F401  (registers image-classification)
from . import tokens  # noqa: F401  (registers token-classification)
from . import timeseries  # noqa: F401  (registers time-series-classification)

__all__ = ["TASKS", "Encoded", "TaskAdapter", "get_task", "register_task"]
