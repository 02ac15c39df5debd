"""Task adapters, one module per task; importing this package registers them all."""

from .base import TASKS, Encoded, TaskAdapter, get_task, register_task
from . import text  # noqa: F401  (registers text-classification)

__all__ = ["TASKS", "Encoded", "TaskAdapter", "get_task", "register_task"]
