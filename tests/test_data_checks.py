"""Cell and file checks of loaded data: mixed columns, encodings, bad cells per task, where a split came from."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
from datasets import Dataset

from hfsearch.cli import main
from hfsearch.data.files import diagnose
from hfsearch.data.loading import load_dataset_dict, load_split
from hfsearch.data.validate import MAX_BAD_SHARE, first_invalid_utf8, null_rows, origin
from hfsearch.errors import DatasetError
from hfsearch.tasks import get_task


def _jsonl(rows) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def _mixed_rows(n: int = 20) -> list[dict]:
    rows = [{"text": f"a review number {i}", "label": i % 2} for i in range(n)]
    rows[3]["text"], rows[8]["text"], rows[16]["text"] = None, 5, ""
    return rows


def test_a_text_column_with_a_null_a_number_and_an_empty_string_is_found(tmp_path):
    (tmp_path / "d.jsonl").write_text(_jsonl(_mixed_rows()))
    ds, _ = load_split(str(tmp_path / "d.jsonl"))
    task = get_task("text-classification")
    assert task.resolve_columns(ds.features, None) == ["text"]  # was "No input column ... found"
    warnings: list[str] = []
    out, _, _ = task.prepare(ds, ["text"], "label", warnings)
    assert len(out) == 17 and None not in out["text"] and "" not in out["text"]
    assert out["label"] == [r["label"] for i, r in enumerate(_mixed_rows()) if i not in (3, 8, 16)]  # labels follow
    assert warnings == [f"dropped 3 of 20 rows of {tmp_path / 'd.jsonl'} with an empty or non-text 'text' (rows 4, 9, 17)"]


def test_a_mostly_numeric_mixed_column_stays_non_text(tmp_path):
    rows = [{"text": f"t{i}", "code": i if i != 2 else "n/a"} for i in range(10)]
    (tmp_path / "d.jsonl").write_text(_jsonl(rows))
    ds, _ = load_split(str(tmp_path / "d.jsonl"))
    assert get_task("text-classification").resolve_columns(ds.features, None) == ["text"]  # "code" is no candidate


def test_the_share_limit_is_the_documented_one():
    n = 50
    ds = Dataset.from_dict({"text": [None] * int(n * MAX_BAD_SHARE) + ["ok"] * (n - int(n * MAX_BAD_SHARE))})
    task = get_task("text-classification")
    out, _, _ = task.prepare(ds, ["text"], None, [])
    assert len(out) == n - int(n * MAX_BAD_SHARE)  # exactly the limit: dropped with a warning
    worse = Dataset.from_dict({"text": [None] * (int(n * MAX_BAD_SHARE) + 1) + ["ok"] * (n - int(n * MAX_BAD_SHARE) - 1)})
    with pytest.raises(DatasetError, match="more than 20% of the rows are unusable"):
        task.prepare(worse, ["text"], None, [])


def test_clean_data_is_returned_untouched(tmp_path):
    (tmp_path / "d.jsonl").write_text(_jsonl([{"text": "x", "label": 0}] * 5))
    ds, _ = load_split(str(tmp_path / "d.jsonl"))
    warnings: list[str] = []
    out, _, _ = get_task("text-classification").prepare(ds, ["text"], "label", warnings)
    assert out is ds and warnings == []


def test_a_text_pair_drops_rows_bad_on_either_side():
    ds = Dataset.from_dict({"text_a": ["a", "b", None, *"defghij"], "text_b": ["x", " ", *"zwvutsrq"]})
    warnings: list[str] = []
    out, _, _ = get_task("text-pair-classification").prepare(ds, ["text_a", "text_b"], None, warnings)
    assert out["text_a"] == ["a", *"defghij"]
    assert "'text_a' or 'text_b' (rows 2, 3)" in warnings[0]


def test_tokens_with_a_missing_or_empty_word_list_are_dropped():
    rows = {"tokens": [["EU", "rejects"], None, [], ["a", None], ["ok"], ["fine"], ["x"], ["y"], ["z"], ["w"], ["v"],
                       ["u"], ["t"], ["s"], ["r"]]}
    warnings: list[str] = []
    out, _, _ = get_task("token-classification").prepare(Dataset.from_dict(rows), ["tokens"], None, warnings)
    assert len(out) == 12 and "(rows 2, 3, 4)" in warnings[0]


def test_images_that_are_missing_are_dropped():
    img = np.zeros((4, 4), dtype=np.uint8).tolist()
    ds = Dataset.from_dict({"image": [img] * 9 + [None]})
    warnings: list[str] = []
    out, _, _ = get_task("image-classification").prepare(ds, ["image"], None, warnings)
    assert len(out) == 9 and "with a missing 'image' (row 10)" in warnings[0]


def test_series_gaps_drop_a_recording_but_stop_a_table_of_time_steps():
    task = get_task("time-series-classification").configure(window=2)
    rec = [[float(i), 0.0] for i in range(6)]
    rows = Dataset.from_dict({"series": [rec] * 10 + [[[1.0, None]] + rec[1:], None]})
    warnings: list[str] = []
    out, _, _ = task.prepare(rows, ["series"], None, warnings)
    assert len(out) == 10 * 3  # the 10 complete recordings, 3 windows each
    assert "dropped 2 of 12 rows of the data with a missing or gapped 'series' (rows 11, 12)" in warnings[0]
    table = Dataset.from_dict({"ax": [0.0, 1.0, None, 3.0], "ay": [0.0, 1.0, 2.0, 3.0]})
    with pytest.raises(DatasetError, match=r"\(row 3\): no row may be unusable; fill the gaps"):
        task.prepare(table, ["ax", "ay"], None, [])


def test_nested_nulls_are_found_at_any_depth():
    ds = Dataset.from_dict({"s": [[[1.0, 2.0]], [[1.0, None]], None, [[]], [[3.0]]]})
    assert null_rows(ds, "s").tolist() == [False, True, True, False, False]
    assert null_rows(ds.select([4, 1, 0]), "s").tolist() == [False, True, False]  # after select: row order


# ---- encodings ---------------------------------------------------------------------------------------------------
def test_encoding_reads_latin1_files(tmp_path):
    (tmp_path / "d.jsonl").write_bytes('{"text": "café crème"}\n{"text": "naïve"}\n'.encode("latin-1"))
    (tmp_path / "d.csv").write_bytes("text,label\ncafé,1\nnaïve,0\n".encode("cp1252"))
    with pytest.raises(DatasetError, match="--encoding"):
        load_split(str(tmp_path / "d.jsonl"))
    assert load_split(str(tmp_path / "d.jsonl"), encoding="latin-1")[0]["text"] == ["café crème", "naïve"]
    assert load_split(str(tmp_path / "d.csv"), encoding="cp1252")[0]["text"] == ["café", "naïve"]


def test_unknown_or_useless_encodings_are_one_line_errors(tmp_path):
    (tmp_path / "d.jsonl").write_text(_jsonl([{"text": "a"}]))
    with pytest.raises(DatasetError, match="Unknown encoding 'utf-9'"):
        load_split(str(tmp_path / "d.jsonl"), encoding="utf-9")
    (tmp_path / "p").mkdir()
    Dataset.from_dict({"text": ["a"]}).to_parquet(str(tmp_path / "p" / "test.parquet"))
    with pytest.raises(DatasetError, match="applies to csv, tsv, json, jsonl and txt files only"):
        load_split(str(tmp_path / "p"), encoding="latin-1")


def test_invalid_utf8_stored_in_arrow_is_found_with_its_row():
    good = pa.array(["fine", "also fine", "ok"])
    offsets, data = good.buffers()[1], bytearray(good.buffers()[2].to_pybytes())
    data[9] = 0xFF  # inside the second string ("fine" + "also…")
    broken = pa.Array.from_buffers(pa.string(), 3, [None, offsets, pa.py_buffer(bytes(data))])
    ds = Dataset(pa.table({"id": [1, 2, 3], "text": broken}))
    assert first_invalid_utf8(ds) == ("text", 1)
    assert first_invalid_utf8(Dataset.from_dict({"text": ["a", "b"]})) is None


# ---- files and splits ----------------------------------------------------------------------------------------------
def test_a_split_is_named_by_its_file_for_messages(tmp_path):
    (tmp_path / "train.jsonl").write_text(_jsonl([{"text": "a"}] * 3))
    (tmp_path / "test.jsonl").write_text(_jsonl([{"text": "b"}] * 2))
    dd = load_dataset_dict(str(tmp_path))
    assert origin(dd["test"]) == str(tmp_path / "test.jsonl")
    assert origin(dd["train"]) == str(tmp_path / "train.jsonl")


def test_an_empty_split_is_an_error_naming_the_file(tmp_path):
    (tmp_path / "test.csv").write_text("text,label\n")
    (tmp_path / "train.csv").write_text("text,label\nok,1\n")
    with pytest.raises(DatasetError, match=r"test.csv.*header line \(text, label\) but no data rows"):
        load_split(str(tmp_path))


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("a.jsonl", '{"a": 1}\n\n{"a": 2,}\n', "line 3 is not valid JSON"),
    ("a.json", '{"rows": [1, 2}', "invalid JSON at line 1, column 15"),
    ("a.json", '{"a": 1}\n{"a": 2}\n', "if it has one object per line, name it .jsonl"),
    ("a.csv", "a,b\n1,2\n3\n", "line 3 has 1 fields, the header has 2"),
    ("a.tsv", "a\tb\n1\t2\n", None),
    ("a.jsonl", '{"a": 1}\n', None),
])
def test_diagnose_names_the_line(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_text(content)
    found = diagnose(path)
    assert (found is None) if expected is None else (expected in found)


def test_dropped_rows_are_one_warning_line_on_the_cli(registry, tmp_path, capsys):
    (tmp_path / "d.jsonl").write_text(_jsonl(_mixed_rows()))
    code = main(["find", "--task", "text-classification", "--dataset", str(tmp_path / "d.jsonl"), "--models",
                 "test-org/bert-yelp", "--labels", "negative,positive", "--scores", "confidence",
                 "--cache-dir", str(tmp_path / "cache")])
    err = capsys.readouterr().err
    assert code == 0, err
    dropped = [line for line in err.splitlines() if "dropped" in line]
    expected = f"warning: dropped 3 of 20 rows of {tmp_path / 'd.jsonl'} with an empty or non-text 'text' (rows 4, 9, 17)"
    assert dropped == [expected]
