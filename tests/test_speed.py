"""Fixed costs a search does not need: heavy imports kept off the hot path, weight hashes remembered across runs."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

from hfsearch.hub import layout


def test_stop_words_file_is_scikit_learns_list():
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    from hfsearch.scores.histograms import stop_words

    assert stop_words() == frozenset(ENGLISH_STOP_WORDS)


def test_a_search_imports_neither_scikit_learn_nor_scipy_stats():
    code = ("import sys, hfsearch.search, hfsearch.scores.histograms as h; h.stop_words(); "
            "print(sorted(m for m in ('sklearn', 'scipy.stats') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=dict(os.environ))
    assert out.stdout.strip() == "[]"


def test_weight_hashes_are_remembered_on_disk(tmp_path, monkeypatch):
    monkeypatch.setattr(layout, "_oid_store_path", lambda: tmp_path / "store" / "file-oids.json")
    monkeypatch.setattr(layout, "_STORE", None)
    monkeypatch.setattr(layout, "_OID_CACHE", {})
    weights = tmp_path / "model.safetensors"
    blob = os.urandom(layout.OID_STORE_MIN_BYTES)
    weights.write_bytes(blob)
    old = time.time() - 60
    os.utime(weights, (old, old))
    oid = layout.file_oid(weights)
    assert oid == hashlib.sha1(f"blob {len(blob)}\0".encode() + blob).hexdigest()  # git's blob id
    monkeypatch.setattr(layout, "_STORE", None)  # a new process: memory empty, the store on disk
    monkeypatch.setattr(layout, "_OID_CACHE", {})
    reads = []
    real_open = Path.open
    monkeypatch.setattr(Path, "open", lambda self, *a, **k: reads.append(self) or real_open(self, *a, **k))
    assert layout.file_oid(weights) == oid and weights not in reads  # not hashed again
    weights.write_bytes(os.urandom(layout.OID_STORE_MIN_BYTES + 1))  # changed: size and time differ
    os.utime(weights, (old + 1, old + 1))
    assert layout.file_oid(weights) != oid and weights in reads


def _reference_search(tmp_path, adapter):
    from types import SimpleNamespace

    from hfsearch.runner.cache import OutputCache

    return SimpleNamespace(
        reference_memo={}, adapter=adapter, cache=OutputCache(tmp_path / "cache", enabled=True),
        cfg=SimpleNamespace(batch_size=8), runner=SimpleNamespace(accelerator=SimpleNamespace(device="cpu")),
        state=SimpleNamespace(warn=lambda msg: None),
    )


def test_a_slice_takes_its_rows_of_the_whole_samples_reference_features(tmp_path, monkeypatch):
    import numpy as np
    from datasets import Dataset

    from hfsearch.data.sample import Sample
    from hfsearch.pipeline.score import reference_features
    from hfsearch.runner.prefix import Prefix
    from hfsearch.tasks import get_task

    class Counting(type(get_task("text-classification"))):
        embedded: list[int] = []

        def embed_reference(self, rows, columns, *, batch_size, device):
            self.embedded.append(len(rows))
            return np.arange(len(rows) * 3, dtype=np.float32).reshape(len(rows), 3) + len(rows[columns[0]][0])

    texts = [f"row {'x' * k}" for k in range(40)]
    whole = Sample(rows=Dataset.from_dict({"text": texts}), columns=["text"], name="t", indices=np.arange(40),
                   fingerprint="f" * 32)
    search = _reference_search(tmp_path, Counting())
    first = Prefix.of(whole, 10, seed=3).view()
    got = reference_features(search, first)
    assert Counting.embedded == [40]  # the whole sample, once, not the slice
    full = reference_features(search, whole)
    np.testing.assert_array_equal(got, full[first.positions])
    reference_features(search, Prefix.of(whole, 25, seed=3).view())
    assert Counting.embedded == [40]  # nothing embedded again
    search.reference_memo.clear()
    reference_features(search, whole)
    assert Counting.embedded == [40]  # read back from the disk cache
    monkeypatch.setattr(Counting, "reference_precision", lambda self, device: "other")
    search.reference_memo.clear()
    reference_features(search, whole)
    assert Counting.embedded == [40, 40]  # another precision is another cache entry


def test_series_statistics_are_exact_on_a_rerun_and_a_text_encoders_first_run_matches_its_rerun(tmp_path):
    """The cache keeps features in float16: pressure around 1000 hPa has an energy near 10^6 (inf in float16) and
    means that float16 rounds to half a hPa, so series statistics are recomputed, never cached; an encoder's
    features are, and its first run scores what a rerun reads back."""
    import numpy as np
    from datasets import Dataset

    from hfsearch.data.sample import Sample
    from hfsearch.pipeline.score import reference_features
    from hfsearch.tasks import get_task
    from hfsearch.tasks.timeseries import channel_statistics, read_series

    rng = np.random.default_rng(0)
    windows = 1013.25 + rng.normal(0, 0.3, (12, 16, 1))
    series = Sample(rows=Dataset.from_dict({"series": windows.tolist()}), columns=["series"], name="s",
                    indices=np.arange(12), fingerprint="s" * 32)
    search = _reference_search(tmp_path / "series", get_task("time-series-classification"))
    exact = channel_statistics(read_series(series.rows, "series"))
    assert exact.max() > np.finfo(np.float16).max  # the energy: inf in the cache's float16
    for _ in range(2):
        search.reference_memo.clear()
        np.testing.assert_array_equal(reference_features(search, series), exact)

    class Encoder(type(get_task("text-classification"))):
        def embed_reference(self, rows, columns, *, batch_size, device):
            return np.linspace(0.1, 0.9, len(rows) * 3, dtype=np.float32).reshape(len(rows), 3) / 3.0

    texts = Sample(rows=Dataset.from_dict({"text": [f"t{k}" for k in range(12)]}), columns=["text"], name="t",
                   indices=np.arange(12), fingerprint="t" * 32)
    search = _reference_search(tmp_path / "text", Encoder())
    first = reference_features(search, texts)
    search.reference_memo.clear()
    np.testing.assert_array_equal(first, reference_features(search, texts))


def test_reference_encoder_in_bf16_stays_within_a_cosine_of_fp32(monkeypatch):
    import numpy as np
    import pytest
    from datasets import Dataset

    from hfsearch.tasks import get_task
    from hfsearch.tasks import text as text_task

    if text_task.reference_precision("cpu") != "bf16":
        pytest.skip("this CPU has no native bf16: the reference encoder runs in fp32 here")
    adapter = get_task("text-classification")
    rows = Dataset.from_dict({"text": [f"the {w} was {v}" for w in ("food", "film", "phone", "service")
                                       for v in ("great", "awful", "fine, nothing special", "not worth it")]})
    assert adapter.reference_precision("cpu") == "bf16"
    bf16 = text_task.embed_texts(adapter, rows, ["text"], batch_size=8, device="cpu")
    monkeypatch.setattr(text_task, "reference_precision", lambda device: "fp32")
    fp32 = text_task.embed_texts(adapter, rows, ["text"], batch_size=8, device="cpu")
    assert not np.array_equal(bf16, fp32)  # it did run in another precision
    assert np.einsum("ij,ij->i", bf16, fp32).min() > 0.999


def test_column_values_match_the_dataset_column_after_a_select():
    from datasets import Dataset

    from hfsearch.data.sample import column_values

    ds = Dataset.from_dict({"text": [f"t{i}" for i in range(10)], "label": list(range(10))}).select([7, 2, 5])
    assert column_values(ds, "label") == [7, 2, 5] == list(ds["label"])
    assert column_values(ds.select([]), "text") == []


def test_identical_tokenizer_files_load_one_tokenizer(registry, tmp_path, monkeypatch):
    import json
    import shutil

    from hfsearch.runner.cache import OutputCache
    from hfsearch.runner.runner import Runner
    from hfsearch.tasks import get_task

    base = registry / "models" / "test-org" / "bert-yelp"
    same, other_class = tmp_path / "same", tmp_path / "other-class"
    shutil.copytree(base, same)  # a second fine-tune of one base model: the same tokenizer files
    shutil.copytree(base, other_class)  # the same files, but config.json names another model type
    config = json.loads((other_class / "config.json").read_text())
    (other_class / "config.json").write_text(json.dumps({**config, "model_type": "distilbert"}))
    adapter = get_task("text-classification")
    loads = []
    real = adapter.load_preprocessor
    monkeypatch.setattr(adapter, "load_preprocessor", lambda path: loads.append(path) or real(path))
    hashed = []
    real_key = adapter.preprocessor_key
    monkeypatch.setattr(adapter, "preprocessor_key", lambda path: hashed.append(path) or real_key(path))
    runner = Runner(adapter, OutputCache(tmp_path / "cache", enabled=False))
    first = runner.preprocessor(str(base))
    assert runner.preprocessor(str(same)) is first and loads == [str(base)]
    assert runner.stats.preprocessors_reused == 1
    # AutoTokenizer may choose its class by config.json's model type: not the same tokenizer, nor the same encoding
    assert runner.preprocessor(str(other_class)) is not first and loads == [str(base), str(other_class)]
    runner.preprocessor(str(base))  # the files of a folder are hashed once, however often it is asked for
    assert runner.preprocessor_key(str(base)) and hashed.count(str(base)) == 1
    assert adapter.preprocessor_key(str(other_class)) != adapter.preprocessor_key(str(base))
