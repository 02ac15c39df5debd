"""Candidates: discovery on the Hub or a local registry, filters, label alignment."""

from .candidate import Candidate, Skipped
from .discover import Discovery, Filters, discover, fetch_config
from .labels import Alignment, align_labels

__all__ = ["Candidate", "Skipped", "Discovery", "Filters", "discover", "fetch_config", "Alignment", "align_labels"]
