"""Ranking and reports."""

from .result import CandidateResult, ScoreColumn, SearchResult

__all__ = ["CandidateResult", "ScoreColumn", "SearchResult"]
