"""Task adapters, one module per task; importing this package registers them all."""

from . import (
    image,  # noqa: F401  (registers image-classification)
    text,  # noqa: F401  (registers text-classification)
    text_pair,  # noqa: F401  (registers text-pair-classification)
    timeseries,  # noqa: F401  (registers time-series-classification)
    tokens,  # noqa: F401  (registers token-classification)
)
from .base import TASKS, Encoded, TaskAdapter, get_task, register_task

__all__ = ["TASKS", "Encoded", "TaskAdapter", "get_task", "register_task"]
