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
