"""Text-pair classification (entity matching, paraphrase, NLI): `text-classification` that insists on a pair.

``text-classification`` already takes two columns (``--column text_a,text_b``) and finds the usual pair names by
itself, but it also accepts a single text, so a pair dataset with unusual column names can silently be scored on one
side only. This task name removes the guess: exactly two input columns, auto-detected from the usual pair names or
given with ``--column``, and a one-line `ColumnError` otherwise. Discovery, models and outputs are those of
``text-classification`` (pipeline tag ``text-classification``).
"""

from __future__ import annotations

from datasets import Features

from ..errors import ColumnError
from .base import is_string, register_task
from .text import PAIR_COLUMNS, TextClassification


@register_task
class TextPairClassification(TextClassification):
    """Sequence classification of a pair of texts (``AutoModelForSequenceClassification``)."""

    name = "text-pair-classification"
    pipeline_tag = "text-classification"
    description = "Classify a pair of texts (entity matching, paraphrase, NLI): exactly two columns, --column a,b."
    n_inputs = (2, 2)

    def resolve_columns(self, features: Features, columns: list[str] | None) -> list[str]:
        if columns is not None and len(columns) == 1:
            raise ColumnError(
                f"One text column given for a pair task ({columns[0]!r}): pass two, e.g. --column text_a,text_b."
            )
        if not columns:
            for a, b in PAIR_COLUMNS:
                if a in features and b in features and is_string(features[a]) and is_string(features[b]):
                    return [a, b]
            names = ", ".join(features)
            raise ColumnError(
                f"No text pair found for task {self.name!r} (columns: {names}); choose two with --column a,b."
            )
        cols = super().resolve_columns(features, columns)
        bad = [c for c in cols if not is_string(features[c])]
        if bad:
            raise ColumnError(f"Column {bad[0]!r} is not text (got {features[bad[0]]}).")
        return cols
