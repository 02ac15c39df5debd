"""Faults: corrupt cache entries, corrupt weights, an unwritable cache, Ctrl-C — nothing breaks, nothing finished is lost."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import hfsearch
from hfsearch.candidates import Candidate
from hfsearch.cli import main
from hfsearch.errors import CacheError, CandidateError
from hfsearch.runner import OutputCache, Outputs
from hfsearch.runner.weights import check_weights
from hfsearch.search import Search, SearchConfig

TARGET = "test-org/uci_yelp"
LABELS = "negative,positive"


def _outputs(seed: int = 0) -> Outputs:
    rng = np.random.default_rng(seed)
    return Outputs(logits=rng.normal(size=(6, 2)).astype(np.float32), features=rng.normal(size=(6, 8)).astype(np.float16))


def _flip(path: Path, at: float = 0.6) -> None:
    blob = bytearray(path.read_bytes())
    blob[int(len(blob) * at)] ^= 0x5A
    path.write_bytes(bytes(blob))


# ---- the output cache --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("damage", ["flip", "truncate", "no-checksum"])
def test_a_damaged_cache_entry_is_deleted_and_reported_as_a_miss(tmp_path, damage):
    cache = OutputCache(tmp_path)
    key = "ab" * 20
    cache.put(key, _outputs())
    path = cache._path(key)
    if damage == "flip":
        _flip(path)
    elif damage == "truncate":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:  # an entry of the old layout: arrays without their checksum
        np.savez(path, logits=_outputs().logits, features=_outputs().features)
    assert cache.get(key) is None
    assert cache.corrupt == 1 and cache.misses == 1 and not path.exists()
    cache.put(key, _outputs())
    np.testing.assert_array_equal(cache.get(key).logits, _outputs().logits)  # recomputed entry is good again


def test_a_changed_array_fails_the_checksum_even_with_a_valid_zip(tmp_path):
    """The zip's own CRC is rewritten here; only the stored SHA-256 sees the change."""
    cache = OutputCache(tmp_path)
    key = "cd" * 20
    cache.put(key, _outputs())
    path = cache._path(key)
    with np.load(path) as data:
        stored = {k: data[k] for k in data.files}
    stored["logits"] = stored["logits"] + 1.0
    np.savez(path, **stored)
    assert cache.get(key) is None and cache.corrupt == 1


@pytest.mark.parametrize(("code", "why"), [(errno.ENOSPC, "the disk is full"), (errno.EROFS, "read-only file system"),
                                           (errno.EACCES, "no permission")])
def test_an_unwritable_cache_is_one_line_and_keeps_what_it_has(tmp_path, monkeypatch, code, why):
    cache = OutputCache(tmp_path / "outputs")
    cache.put("aa" * 20, _outputs(1))

    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(np, "savez", fail)
    with pytest.raises(CacheError) as info:
        cache.put("ab" * 20, _outputs(2))
    message = str(info.value)
    assert why in message and str(tmp_path / "outputs") in message and "HFSEARCH_CACHE" in message
    assert "\n" not in message
    monkeypatch.undo()
    np.testing.assert_array_equal(cache.get("aa" * 20).logits, _outputs(1).logits)  # the finished entry is intact
    assert not list((tmp_path / "outputs").rglob("*.tmp"))  # no half-written file left behind


def test_runner_recomputes_a_corrupted_output(registry, tmp_path):
    cfg = dict(task="text-classification", dataset=TARGET, models=["test-org/bert-yelp"], samples=32,
               labels=["negative", "positive"], scores=["confidence"], rank_by="confidence", cache_dir=str(tmp_path),
               progress=False)  # ranked by confidence: one output per model (no held-out slice for the estimators)
    first = Search(SearchConfig(**cfg))
    r1 = first.execute()
    (entry,) = list(tmp_path.rglob("*.npz"))
    _flip(entry)
    second = Search(SearchConfig(**cfg))
    r2 = second.execute()
    assert second.runner.stats.models_loaded == 1 and second.cache.corrupt == 1  # detected, recomputed
    assert r1.ranking.equals(r2.ranking)
    third = Search(SearchConfig(**cfg))
    third.execute()
    assert third.runner.stats.models_loaded == 0 and third.cache.corrupt == 0  # the rewritten entry is good


def test_cli_with_a_cache_folder_that_cannot_be_created(registry, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code = main(["find", "--task", "text-classification", "--dataset", TARGET, "--models", "test-org/bert-yelp",
                 "--labels", LABELS, "--samples", "16", "--scores", "confidence", "--cache-dir", str(blocker / "cache")])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("hfsearch:")]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err
    assert str(blocker / "cache") in lines[0] and "HFSEARCH_CACHE" in lines[0]


# ---- weights -------------------------------------------------------------------------------------------------------
def test_truncated_weights_skip_the_candidate_with_the_file_named(registry, tmp_path):
    res = hfsearch.find("text-classification", TARGET, models="other-org/bert-broken,test-org/bert-yelp", labels=LABELS,
                        samples=16, scores="confidence", cache_dir=str(tmp_path), progress=False)
    assert list(res.ranking["model"]) == ["test-org/bert-yelp"]
    (skip,) = [s for s in res.skipped if s.repo_id == "other-org/bert-broken"]
    assert skip.stage == "load"
    assert skip.reason.startswith("load failed: corrupt weights file ") and "model.safetensors" in skip.reason
    assert "truncated" in skip.reason and "so that it is downloaded again" in skip.reason


def test_corrupt_bytes_in_the_hf_cache_are_caught_by_the_blob_checksum(registry, hub_server, tmp_path):
    from huggingface_hub import snapshot_download

    snap = Path(snapshot_download("test-org/bert-yelp", cache_dir=str(tmp_path / "hf"), endpoint=hub_server.url))
    check_weights(snap)  # an intact download passes
    weights = snap / "model.safetensors"
    blob = weights.resolve()
    assert blob.parent.name == "blobs"
    _flip(blob, at=0.9)  # inside the tensors: the header and the length stay valid
    search = Search(SearchConfig(task="text-classification", dataset=TARGET, samples=8, labels=["negative", "positive"],
                                 scores=["confidence"], cache_dir=str(tmp_path / "out"), progress=False))
    search.run_stages("target")
    target = search.target
    cand = Candidate(repo_id="test-org/bert-yelp", task="text-classification", sha="0" * 40, path=str(snap))
    with pytest.raises(CandidateError) as info:
        search.runner.run(cand, {"target": target})
    message = str(info.value)
    assert message.startswith(f"load failed: corrupt weights file {weights}") and info.value.stage == "load"
    assert "does not match its checksum" in message and f"delete {blob}" in message
    assert search.runner.stats.models_loaded == 0


# ---- Ctrl-C ----------------------------------------------------------------------------------------------------------
#: `python -m hfsearch` with every forward pass slowed down, so that the interrupt lands between two candidates.
SLOW_CLI = """
import runpy, sys, time
from hfsearch.runner import runner
forward = runner.Runner.forward_all
def slow(self, *args, **kwargs):
    time.sleep(2.5)
    return forward(self, *args, **kwargs)
runner.Runner.forward_all = slow
sys.argv = ["hfsearch", *sys.argv[1:]]
runpy.run_module("hfsearch", run_name="__main__")
"""


def _entries(root: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in root.rglob("*.npz")}


@pytest.mark.slow
def test_ctrl_c_exits_130_and_the_rerun_recomputes_nothing_finished(registry, env_for_subprocess, tmp_path):
    outputs = Path(env_for_subprocess["HFSEARCH_CACHE"])
    models = "test-org/bert-yelp,test-org/bert-amazon-noisy,other-org/bert-nosource"
    args = ["find", "--task", "text-classification", "--dataset", TARGET, "--models", models, "--labels", LABELS,
            "--samples", "48", "--scores", "confidence", "--rank-by", "confidence", "--format", "json"]
    proc = subprocess.Popen([sys.executable, "-c", SLOW_CLI, *args], env=env_for_subprocess, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not _entries(outputs) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()[1]  # still running: the first candidate's output is on disk
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("hfsearch: interrupted") and "rerun" in lines[0], err
    finished = _entries(outputs)
    assert 1 <= len(finished) < 3
    assert not list(outputs.rglob("*.tmp"))  # the interrupted candidate left no half file

    rerun = subprocess.run([sys.executable, "-m", "hfsearch", *args], env=env_for_subprocess, check=False,
                           capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert len(json.loads(rerun.stdout)["ranking"]) == 3
    after = _entries(outputs)
    assert len(after) == 3
    assert {p: after[p] for p in finished} == finished  # finished outputs were read, not recomputed


# ---- --candidate-timeout -------------------------------------------------------------------------------------------
SLOW_MODEL = "test-org/bert-amazon-noisy"


@pytest.fixture()
def slow_forward(monkeypatch):
    """Every forward pass of `SLOW_MODEL` starts `seconds[0]` late (the other candidates run at full speed)."""
    from hfsearch.runner import runner

    seconds = [0.0]
    run, run_prefix, forward = runner.Runner.run, runner.Runner.run_prefix, runner.Runner.forward_all

    def tracking_run(self, cand, samples, **kwargs):
        self._test_current = cand.repo_id
        return run(self, cand, samples, **kwargs)

    def tracking_run_prefix(self, cand, prefixes, **kwargs):
        self._test_current = cand.repo_id
        return run_prefix(self, cand, prefixes, **kwargs)

    def slow(self, *args, **kwargs):
        if getattr(self, "_test_current", None) == SLOW_MODEL:
            time.sleep(seconds[0])
        return forward(self, *args, **kwargs)

    monkeypatch.setattr(runner.Runner, "run", tracking_run)
    monkeypatch.setattr(runner.Runner, "run_prefix", tracking_run_prefix)
    monkeypatch.setattr(runner.Runner, "forward_all", slow)
    return seconds


def test_a_candidate_past_its_timeout_is_skipped_and_the_search_goes_on(registry, tmp_path, slow_forward):
    slow_forward[0] = 3.5
    cfg = dict(task="text-classification", dataset=TARGET, models=["test-org/bert-yelp", SLOW_MODEL,
                                                                    "other-org/bert-nosource"],
               samples=16, labels=["negative", "positive"], scores=["confidence"], rank_by="confidence",
               cache_dir=str(tmp_path), progress=False)
    search = Search(SearchConfig(**cfg, candidate_timeout=3))
    result = search.execute()
    assert sorted(result.ranking["model"]) == ["other-org/bert-nosource", "test-org/bert-yelp"]  # before and after
    (skip,) = result.skipped
    assert skip.repo_id == SLOW_MODEL and skip.stage == "timeout"
    assert skip.reason.startswith("timed out: still running after ") and "candidate timeout 3 s" in skip.reason
    assert len(_entries(tmp_path)) == 2  # the finished candidates' outputs are cached, the stopped one wrote none

    slow_forward[0] = 0.0
    rerun = Search(SearchConfig(**cfg))  # no timeout: only the stopped candidate is computed
    assert len(rerun.execute().ranking) == 3 and rerun.runner.stats.models_loaded == 1


def test_without_a_timeout_a_slow_candidate_is_waited_for(registry, tmp_path, slow_forward):
    slow_forward[0] = 1.5
    result = hfsearch.find("text-classification", TARGET, models=SLOW_MODEL, labels=LABELS, samples=16,
                           scores="confidence", rank_by="confidence", cache_dir=str(tmp_path), progress=False)
    assert list(result.ranking["model"]) == [SLOW_MODEL] and not result.skipped


# ---- a cache folder that cannot be written, noticed before any model runs ------------------------------------------
@pytest.mark.parametrize(("code", "why"), [(errno.EROFS, "read-only file system"), (errno.EACCES, "no permission")])
def test_an_unwritable_cache_is_reported_before_the_first_candidate_runs(registry, tmp_path, monkeypatch, code, why):
    from hfsearch.runner import cache as cache_module

    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(cache_module.tempfile, "mkstemp", refuse)
    started = []
    search = Search(SearchConfig(task="text-classification", dataset=TARGET, models=["test-org/bert-yelp"], samples=16,
                                 labels=["negative", "positive"], scores=["confidence"], rank_by="confidence",
                                 cache_dir=str(tmp_path / "outputs"), progress=False),
                    hooks=[lambda e: started.append(e) if type(e).__name__ == "CandidateStarted" else None])
    with pytest.raises(CacheError) as info:
        search.execute()
    message = str(info.value)
    assert why in message and str(tmp_path / "outputs") in message and "HFSEARCH_CACHE" in message
    assert search.runner.stats.models_loaded == 0 and not started  # nothing ran (and nothing was downloaded)


def test_a_full_disk_is_reported_before_the_first_candidate_runs(tmp_path, monkeypatch):
    from hfsearch.runner import cache as cache_module

    cache = OutputCache(tmp_path / "outputs")
    cache.check_writable()  # a writable folder with free space passes (and is left empty)
    assert not list((tmp_path / "outputs").iterdir())
    real = os.statvfs

    class Full:
        def __init__(self, path):
            self.f_frsize, self.f_bavail = real(path).f_frsize, 3

    monkeypatch.setattr(cache_module.os, "statvfs", Full)
    with pytest.raises(CacheError, match="the disk is full"):
        cache.check_writable()
    OutputCache(tmp_path / "off", enabled=False).check_writable()  # --no-cache: never checked


def test_a_read_only_cache_that_holds_every_output_is_fine(registry, tmp_path, monkeypatch):
    """Nothing to write, nothing to check: a shared read-only cache of finished outputs still serves searches."""
    from hfsearch.runner import cache as cache_module

    cfg = dict(task="text-classification", dataset=TARGET, models=["test-org/bert-yelp"], samples=16,
               labels=["negative", "positive"], scores=["confidence"], rank_by="confidence", cache_dir=str(tmp_path),
               progress=False)
    first = Search(SearchConfig(**cfg)).execute()

    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(cache_module.tempfile, "mkstemp", refuse)
    again = Search(SearchConfig(**cfg))
    assert again.execute().ranking.equals(first.ranking) and again.runner.stats.models_loaded == 0


def test_a_ctrl_c_dropped_by_a_finalizer_still_stops_the_search_at_its_next_check():
    """Python prints and drops a KeyboardInterrupt raised inside a ``__del__`` (a progress bar collected at the wrong
    moment): during a CLI command the request is remembered, and the next cooperative check raises it again."""
    from hfsearch.pipeline.events import Hooks
    from hfsearch.utils import interrupt

    class Finalizer:
        def __del__(self):
            interrupt._handler(signal.SIGINT, None)  # what Ctrl-C runs, here inside a finalizer

    with interrupt.catching_interrupts():
        Hooks().check()  # nothing pressed yet
        Finalizer()  # collected at once: its KeyboardInterrupt is "ignored" by Python
        with pytest.raises(KeyboardInterrupt):
            Hooks().check()
    Hooks().check()  # the request ends with the command
