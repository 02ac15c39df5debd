"""The default pick: accuracy estimators combined into one predicted metric with an interval (`Selector`), and how it
is fitted on benchmark results (`hfsearch.select.fit`)."""

from .selector import DEFAULT_PATH, INPUTS, Combination, Prediction, Row, Selector, fit_combination

__all__ = ["DEFAULT_PATH", "INPUTS", "Combination", "Prediction", "Row", "Selector", "fit_combination"]
