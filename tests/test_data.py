import json

import numpy as np
import pytest
from datasets import ClassLabel, Dataset, Features, Value

from hfsearch.data.loading import load_split
from hfsearch.data.sample import fingerprint, sample_indices
from hfsearch.errors import ColumnError, DatasetError
from hfsearch.tasks import get_task


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_local_folder_defaults_to_test_split(tmp_path):
    _write_jsonl(tmp_path / "train.jsonl", [{"text": "a", "label": 0}] * 3)
    _write_jsonl(tmp_path / "test.jsonl", [{"text": "b", "label": 1}] * 2)
    ds, split = load_split(str(tmp_path))
    assert split == "test" and len(ds) == 2
    ds, split = load_split(str(tmp_path), split="train")
    assert split == "train" and len(ds) == 3


def test_first_split_when_no_test(tmp_path):
    _write_jsonl(tmp_path / "train.jsonl", [{"text": "a"}] * 3)
    assert load_split(str(tmp_path))[1] == "train"


def test_unknown_split_lists_available(tmp_path):
    _write_jsonl(tmp_path / "train.jsonl", [{"text": "a"}] * 3)
    with pytest.raises(DatasetError, match="Unknown split 'validation'; available: train"):
        load_split(str(tmp_path), split="validation")


def test_single_file_and_save_to_disk(tmp_path):
    f = tmp_path / "rows.csv"
    f.write_text("text,label\nhello,0\nworld,1\n")
    ds, split = load_split(str(f))
    assert len(ds) == 2 and split == "train"
    Dataset.from_dict({"text": ["x", "y", "z"]}).save_to_disk(str(tmp_path / "saved"))
    ds, _ = load_split(str(tmp_path / "saved"))
    assert ds["text"] == ["x", "y", "z"]


def test_missing_dataset_in_local_registry(tmp_path):
    (tmp_path / "models").mkdir()
    with pytest.raises(DatasetError, match="not found in the local registry"):
        load_split("org/nothing", hub_dir=str(tmp_path))


def test_sampling_is_seeded_and_bounded():
    a = sample_indices(1000, 50, seed=3)
    assert np.array_equal(a, sample_indices(1000, 50, seed=3))
    assert not np.array_equal(a, sample_indices(1000, 50, seed=4))
    assert len(set(a.tolist())) == 50
    assert np.array_equal(sample_indices(10, 50, seed=0), np.arange(10))
    with pytest.raises(DatasetError, match="positive"):
        sample_indices(10, 0, seed=0)


def test_fingerprint_depends_on_content_only():
    a = Dataset.from_dict({"text": ["x", "y"]})
    b = Dataset.from_dict({"text": ["x", "y"], "other": [1, 2]})
    assert fingerprint(a, ["text"]) == fingerprint(b, ["text"])
    assert fingerprint(a, ["text"]) != fingerprint(Dataset.from_dict({"text": ["x", "z"]}), ["text"])


@pytest.fixture()
def text_task():
    return get_task("text-classification")


def test_text_column_detection(text_task):
    feats = Features({"text": Value("string"), "label": ClassLabel(names=["neg", "pos"])})
    assert text_task.resolve_columns(feats, None) == ["text"]
    assert text_task.label_column(feats) == "label"
    assert text_task.label_names(feats, "label") == ["neg", "pos"]
    pairs = Features({"text_a": Value("string"), "text_b": Value("string"), "label": Value("int64")})
    assert text_task.resolve_columns(pairs, None) == ["text_a", "text_b"]


def test_ambiguous_and_missing_columns(text_task):
    feats = Features({"title": Value("string"), "body": Value("string"), "label": Value("int64")})
    with pytest.raises(ColumnError, match="Ambiguous input column.*title, body"):
        text_task.resolve_columns(feats, None)
    assert text_task.resolve_columns(feats, ["body"]) == ["body"]
    with pytest.raises(ColumnError, match="Column 'nope' not found"):
        text_task.resolve_columns(feats, ["nope"])
    with pytest.raises(ColumnError, match="No input column"):
        text_task.resolve_columns(Features({"x": Value("int64")}), None)


def test_the_conventionally_named_class_label_is_the_target_among_several(text_task):
    from datasets import ClassLabel, Features, Value

    two = Features({"text": Value("string"), "source": ClassLabel(names=["web", "news"]),
                    "label": ClassLabel(names=["negative", "positive"])})
    assert text_task.label_column(two) == "label"
    one = Features({"text": Value("string"), "sentiment": ClassLabel(names=["neg", "pos"]), "label": Value("int64")})
    assert text_task.label_column(one) == "sentiment"  # the one ClassLabel is the target, as before


def test_a_dataset_with_several_configs_says_to_pass_one(tmp_path):
    """datasets puts the available configs on a second line, which a one-line error used to cut off."""
    (tmp_path / "README.md").write_text(
        "---\nconfigs:\n- config_name: sst2\n  data_files:\n  - split: test\n    path: sst2/test.csv\n"
        "- config_name: cola\n  data_files:\n  - split: test\n    path: cola/test.csv\n---\n"
    )
    for name in ("sst2", "cola"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "test.csv").write_text("text,label\ngood,1\nbad,0\n")
    with pytest.raises(DatasetError) as err:
        load_split(str(tmp_path))
    assert str(err.value) == f"Dataset {str(tmp_path)!r} has several configs: pass --config, one of ['sst2', 'cola']."
    ds, *_ = load_split(str(tmp_path), config="cola")
    assert ds["text"] == ["good", "bad"]


def test_a_tsv_quote_is_text_unless_it_quotes(tmp_path):
    """A tweet opening with '"' swallowed the lines after it into one quoted field (4 rows out of 6, no error); a
    TSV whose quotes do quote (pandas writes a tab inside a field so) keeps them quoting."""
    tweets = tmp_path / "tweets.tsv"
    tweets.write_text('text\tlabel\n"hello world\t1\nsecond row\t0\nthird "quoted" row\t1\nfourth\t0\n')
    ds, *_ = load_split(str(tweets))
    assert ds["text"] == ['"hello world', "second row", 'third "quoted" row', "fourth"]
    quoted = tmp_path / "quoted.tsv"
    quoted.write_text('text\tlabel\n"a\ttab inside"\t1\nplain\t0\n')
    ds, *_ = load_split(str(quoted))
    assert ds["text"] == ["a\ttab inside", "plain"]


def test_a_folder_mixing_formats_is_refused_not_read_in_part(tmp_path):
    """datasets reads the most common format and drops the rest without a word: one csv beside two txt files was
    searched on the licence text. An image folder's metadata.csv is part of it."""
    (tmp_path / "data.csv").write_text("text,label\ngood,1\nbad,0\n")
    (tmp_path / "LICENSE.txt").write_text("MIT License\n")
    (tmp_path / "NOTES.txt").write_text("notes\n")
    with pytest.raises(DatasetError, match=r"mixes data formats \(csv: data.csv; text: LICENSE.txt, NOTES.txt\)"):
        load_split(str(tmp_path))
    from hfsearch.data.files import check_folder

    images = tmp_path / "images"
    images.mkdir()
    (images / "a.png").write_bytes(b"")
    (images / "metadata.csv").write_text("file_name,label\na.png,1\n")
    assert len(check_folder(images)) == 2


def test_a_utf16_csv_is_told_its_encoding_not_called_binary(tmp_path):
    """Excel's "Unicode text" export starts with a UTF-16 byte-order mark; its zero bytes looked binary."""
    path = tmp_path / "export.csv"
    path.write_bytes("text,label\ngood,1\nbad,0\n".encode("utf-16"))
    with pytest.raises(DatasetError, match="UTF-16 byte-order mark: pass --encoding utf-16"):
        load_split(str(path))
    ds, *_ = load_split(str(path), encoding="utf-16")
    assert ds["text"] == ["good", "bad"]
