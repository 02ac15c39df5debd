"""Security: ids never reach outside their folder or to a URL, and tokens never appear in any output."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from huggingface_hub import ModelInfo

import hfsearch
from hfsearch.candidates import Candidate
from hfsearch.candidates.discover import candidate_from_info, discover
from hfsearch.data.loading import load_dataset_dict, load_split
from hfsearch.errors import CandidateError, DatasetError, HFSearchError, RepoIdError
from hfsearch.hub.ids import check_repo_id
from hfsearch.hub.layout import repo_dir
from hfsearch.runner import OutputCache, Runner
from hfsearch.tasks import get_task

GOOD_IDS = ["bert-base-uncased", "test-org/bert-yelp", "a.b_c-d/x.y-z_1", "stanfordnlp/imdb"]
BAD_IDS = {
    "../etc": "'..' is not allowed",
    "org/../../secret": "'..' is not allowed",
    "/etc/passwd": "absolute paths",
    "~/data": "absolute paths",
    "org\\name": "backslashes",
    "C:\\data": "backslashes",
    "http://evil.example/org/x": "urls",
    "file:///etc/passwd": "urls",
    "s3://bucket/key": "urls",
    "hf://datasets/x": "urls",
    "org/name\n": "control characters",
    "a/b/c": "more than one '/'",
    "org/.hidden": "starts or ends with '.'",
    "": "empty",
}


@pytest.mark.parametrize("repo_id", GOOD_IDS)
def test_hub_ids_pass(repo_id):
    assert check_repo_id(repo_id) == repo_id


@pytest.mark.parametrize(("repo_id", "why"), list(BAD_IDS.items()))
def test_unsafe_ids_are_refused_in_one_line(repo_id, why):
    with pytest.raises(RepoIdError) as info:
        check_repo_id(repo_id, "dataset")
    message = str(info.value)
    assert message.startswith("Refused dataset id") and why in message.lower() and "\n" not in message


@pytest.fixture()
def no_file_access(monkeypatch):
    """Any look at the file system fails the test (the id must be refused before)."""

    def forbidden(self, *args, **kwargs):
        raise AssertionError(f"file system touched: {self}")

    for name in ("exists", "is_dir", "is_file", "stat", "iterdir", "open"):
        monkeypatch.setattr(Path, name, forbidden)


@pytest.mark.parametrize("repo_id", ["../secret", "org/../../secret", "/etc", "file:///etc/passwd", "a\\b"])
def test_registry_ids_are_refused_before_any_file_access(repo_id, no_file_access):
    with pytest.raises(RepoIdError):
        repo_dir("/srv/registry", repo_id, "datasets")
    with pytest.raises(RepoIdError):
        load_split(repo_id, hub_dir="/srv/registry")


def test_local_false_never_reads_a_local_folder(tmp_path, monkeypatch, hub_server):
    """An id declared by a model card must not pick up a folder of the same name in the working directory."""
    (tmp_path / "org" / "name").mkdir(parents=True)
    (tmp_path / "org" / "name" / "test.jsonl").write_text(json.dumps({"text": "private"}) + "\n")
    monkeypatch.chdir(tmp_path)
    assert load_split("org/name")[0]["text"] == ["private"]  # given on purpose by the user: a local path
    with pytest.raises(DatasetError, match="is also a local path"):
        load_dataset_dict("org/name", local=False)  # an id: never read from the disk
    with pytest.raises(DatasetError, match="not found"):
        load_dataset_dict("org/other", local=False)  # looked up on the (stand-in) Hub only
    with pytest.raises(RepoIdError):
        load_dataset_dict(str(tmp_path / "org" / "name"), local=False)


def test_hub_dir_mode_keeps_relative_data_paths(tmp_path, monkeypatch):
    """README: ``--hub-dir ~/zoos/em --dataset benchmarks/data/...`` — a relative path without '..' still loads."""
    (tmp_path / "reg" / "models").mkdir(parents=True)
    (tmp_path / "data" / "mine").mkdir(parents=True)
    (tmp_path / "data" / "mine" / "test.jsonl").write_text(json.dumps({"text": "mine"}) + "\n")
    monkeypatch.chdir(tmp_path)
    assert load_split("data/mine", hub_dir="reg")[0]["text"] == ["mine"]
    with pytest.raises(RepoIdError, match="with --hub-dir"):
        load_split(str(tmp_path / "data" / "mine"), hub_dir="reg")


def test_card_datasets_that_are_not_hub_ids_are_ignored(capsys):
    info = ModelInfo(id="org/model", cardData={"datasets": ["/etc", "../x", "file:///y", "org/good"]}, tags=[])
    cand = candidate_from_info(info, "text-classification")
    assert cand.datasets == ["org/good"]
    assert "ignoring declared dataset" in capsys.readouterr().err  # the hfsearch logger writes to stderr


def test_listed_ids_that_are_not_hub_ids_are_skipped(monkeypatch):
    from huggingface_hub import HfApi

    listed = [ModelInfo(id="../../evil", tags=[], siblings=[{"rfilename": "model.safetensors"}]),
              ModelInfo(id="org/fine", tags=[], siblings=[{"rfilename": "model.safetensors"}])]
    monkeypatch.setattr(HfApi, "list_models", lambda self, **kwargs: listed)
    found = discover("text-classification", "text-classification", endpoint="http://127.0.0.1:9")
    assert [c.repo_id for c in found.candidates] == ["org/fine"]
    assert found.skipped[0].repo_id == "../../evil" and "not a Hub id" in found.skipped[0].reason


def test_the_stand_in_answers_not_found_for_traversal(hub_server):
    for path in ("/api/datasets/org/..%2F..%2Fetc", "/api/models/..%2Fx/y", "/datasets/org/..%2Fx/resolve/main/a.txt"):
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(hub_server.url + path, timeout=10)
        assert info.value.code == 404


# ---- tokens --------------------------------------------------------------------------------------------------------
SENTINEL_ENV = "hf_SENTINELenv0123456789abcdefghijkl"
SENTINEL_ARG = "hf_SENTINELarg0123456789abcdefghijkl"


def _files_containing(root: Path, needle: str) -> list[Path]:
    data = needle.encode()
    return [p for p in root.rglob("*") if p.is_file() and not p.is_symlink() and data in p.read_bytes()]


def test_token_from_the_environment_never_appears(registry, env_for_subprocess, tmp_path):
    env = dict(env_for_subprocess, HF_TOKEN=SENTINEL_ENV, HF_HOME=str(tmp_path / "hf_home"))
    out_file = tmp_path / "result.json"
    models = "test-org/bert-yelp,nobody/no-such-model,other-org/bert-broken"
    proc = subprocess.run(
        [sys.executable, "-m", "hfsearch", "--verbose", "find", "--task", "text-classification", "--dataset",
         "test-org/uci_yelp", "--models", models, "--labels", "negative,positive", "--samples", "16", "--scores",
         "confidence", "--format", "json", "--output", str(out_file)],
        env=env, check=False, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out_file.read_text())
    assert {s["repo_id"] for s in result["skipped"]} >= {"nobody/no-such-model", "other-org/bert-broken"}  # failures
    for text in (proc.stdout, proc.stderr, out_file.read_text()):
        assert SENTINEL_ENV not in text
    assert _files_containing(Path(env["HFSEARCH_CACHE"]), SENTINEL_ENV) == []
    assert _files_containing(tmp_path / "hf_home", SENTINEL_ENV) == []
    assert any(p.name == "model.safetensors" for p in (tmp_path / "hf_home").rglob("*"))  # it did download


def test_token_argument_never_appears_in_errors_logs_or_results(registry, hub_server, tmp_path, caplog, monkeypatch,
                                                                  request):
    from hfsearch.utils import logging as hlog

    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(hlog._root(), "propagate", True)  # hfsearch's own records reach caplog too
    request.addfinalizer(lambda level=hlog.get_verbosity(): hlog.set_verbosity(level))
    hlog.set_verbosity_debug()
    hub_server.clear_requests()
    res = hfsearch.find("text-classification", "test-org/uci_yelp", models="test-org/bert-yelp,nobody/no-such-model",
                        labels="negative,positive", samples=16, scores="confidence", token=SENTINEL_ARG,
                        cache_dir=str(tmp_path / "out"), progress=False)
    texts = [res.to_json(), res.to_csv(), res.to_markdown()]
    with pytest.raises(HFSearchError) as unreachable:  # a failing Hub query
        hfsearch.find("text-classification", "test-org/uci_yelp", models="test-org/bert-yelp", samples=8,
                      scores="confidence", token=SENTINEL_ARG, endpoint="http://127.0.0.1:9", progress=False)
    texts.append(str(unreachable.value))
    runner = Runner(get_task("text-classification"), OutputCache(tmp_path / "out"), endpoint=hub_server.url,
                    token=SENTINEL_ARG)
    with pytest.raises(CandidateError) as download:  # a failing download (the token is sent, the repo is absent)
        runner.local_path(Candidate(repo_id="nobody/never-downloaded", task="text-classification", sha="1" * 40))
    texts.append(str(download.value))
    assert any(r["authorized"] for r in hub_server.requests)  # the token was in use, and sent
    texts.extend(r.getMessage() for r in caplog.records)
    assert download.value.args[0].startswith("download failed")
    assert not [t for t in texts if SENTINEL_ARG in t]
    assert _files_containing(tmp_path, SENTINEL_ARG) == []
    assert os.environ.get("HF_TOKEN") is None
