"""The default pick: accuracy estimators combined into one predicted metric with an interval (`Selector`), and how it
is fitted on benchmark results (`hfsearch.select.fit`)."""

from .selector import (
    DEFAULT_PATH,
    ESTIMATORS,
    INPUTS,
    RELATIVE,
    Combination,
    Prediction,
    Row,
    Selector,
    features,
    fit_combination,
    relative_features,
)

__all__ = [
    "DEFAULT_PATH",
    "ESTIMATORS",
    "INPUTS",
    "RELATIVE",
    "Combination",
    "Prediction",
    "Row",
    "Selector",
    "features",
    "fit_combination",
    "relative_features",
]
