"""text-pair-classification: exactly two text columns, or a one-line error."""

from __future__ import annotations

import pytest
from datasets import ClassLabel, Features, Value

from hfsearch.errors import ColumnError
from hfsearch.tasks import get_task

PAIRS = Features({"text_a": Value("string"), "text_b": Value("string"), "label": ClassLabel(names=["no", "yes"])})
RENAMED = Features({"left_record": Value("string"), "right_record": Value("string"), "id": Value("int64")})


def test_pair_columns_are_found_or_given():
    task = get_task("text-pair-classification")
    assert task.pipeline_tag == "text-classification"
    assert task.resolve_columns(PAIRS, None) == ["text_a", "text_b"]
    assert task.resolve_columns(RENAMED, ["left_record", "right_record"]) == ["left_record", "right_record"]


@pytest.mark.parametrize("features, columns, message", [
    (PAIRS, ["text_a"], "One text column given for a pair task"),
    (RENAMED, None, "No text pair found"),
    (RENAMED, ["left_record", "id"], "is not text"),
    (PAIRS, ["text_a", "text_b", "text_a"], "takes 2 input column(s)"),
])
def test_pair_task_errors_are_one_line(features, columns, message):
    with pytest.raises(ColumnError) as exc:
        get_task("text-pair-classification").resolve_columns(features, columns)
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_text_classification_still_takes_one_column():
    assert get_task("text-classification").resolve_columns(PAIRS, ["text_a"]) == ["text_a"]
