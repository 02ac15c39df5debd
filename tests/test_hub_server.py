"""The Hub stand-in (`hfsearch.testing.hub_server`) against the real clients.

`huggingface_hub` is driven in-process with an explicit ``endpoint=``; `transformers` and `datasets` read
``HF_ENDPOINT``/``HF_HUB_OFFLINE`` at import time, so they run in subprocesses with their own environment and a
temporary ``HF_HOME``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from huggingface_hub import HfApi, RepoFile, hf_hub_download
from huggingface_hub.errors import EntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError

from hfsearch.hub import layout
from hfsearch.testing.hub_server import HubServer

MODEL = "org/tiny-bert"
DATASET = "org/ds"
WORDS = ["the", "a", "good", "bad", "movie", "film", "great", "awful", "is", "was"]
SENTENCES = ["good movie", "the film was awful"]


def _card(**meta: Any) -> str:
    return "---\n" + json.dumps(meta) + "\n---\n# A test repository\n"


def _write_stub_model(folder: Path, *, downloads: int, **meta: Any) -> None:
    """A model repository without weights: enough for listing and filtering."""
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"model_type": "bert", "architectures": ["BertModel"]}))
    (folder / "README.md").write_text(_card(**meta))
    (folder / "hub.json").write_text(json.dumps({"downloads": downloads, "likes": 1}))


@pytest.fixture(scope="module")
def hub_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry with one tiny real BERT classifier, two weightless models and a jsonl dataset."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    root = tmp_path_factory.mktemp("registry")
    model_dir = layout.repo_dir(root, MODEL)
    model_dir.mkdir(parents=True)
    (model_dir / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]) + "\n")
    BertTokenizer(vocab=str(model_dir / "vocab.txt")).save_pretrained(model_dir)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(WORDS) + 5,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=32,
        id2label={0: "negative", 1: "positive"},
    )
    BertForSequenceClassification(config).save_pretrained(model_dir)
    (model_dir / "README.md").write_text(
        _card(pipeline_tag="text-classification", datasets=[DATASET], license="mit", language="en")
    )
    (model_dir / "hub.json").write_text(json.dumps({"downloads": 10, "likes": 3}))

    _write_stub_model(root / "models/acme/sentiment", downloads=50, pipeline_tag="text-classification")
    _write_stub_model(root / "models/org/tiny-ner", downloads=99, pipeline_tag="token-classification")

    ds_dir = layout.repo_dir(root, DATASET, layout.DATASETS)
    ds_dir.mkdir(parents=True)
    for split, rows in (("train", 6), ("test", 4)):
        lines = (json.dumps({"text": f"{SENTENCES[i % 2]} {i}", "label": i % 2}) for i in range(rows))
        (ds_dir / f"{split}.jsonl").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="module")
def server(hub_root: Path) -> Iterator[HubServer]:
    with HubServer(hub_root) as srv:
        yield srv


@pytest.fixture()
def api(server: HubServer) -> HfApi:
    server.clear_requests()
    return HfApi(endpoint=server.url, token=False)


def _run_client(code: str, server: HubServer, hf_home: Path, *, offline: bool = False) -> dict[str, Any]:
    """Run `code` in a fresh interpreter pointed at `server`; it prints one JSON object as its last line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_"))}
    env.update(
        HF_ENDPOINT=server.url,
        HF_HOME=str(hf_home),
        HF_HUB_OFFLINE="1" if offline else "0",
        HF_HUB_DISABLE_PROGRESS_BARS="1",
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_DATASETS_DISABLE_PROGRESS_BARS="1",
        TOKENIZERS_PARALLELISM="false",
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- huggingface_hub, in-process ----------------------------------------------------------------------------


def test_list_models_expand_sort_and_recorded_query(api: HfApi, server: HubServer, hub_root: Path) -> None:
    models = list(
        api.list_models(
            pipeline_tag="text-classification",
            sort="downloads",
            limit=5,
            expand=["cardData", "safetensors", "downloads"],
        )
    )
    assert [m.id for m in models] == ["acme/sentiment", MODEL]
    bert = models[1]
    assert bert.downloads == 10
    assert bert.card_data is not None and bert.card_data.datasets == [DATASET]
    params = layout.safetensors_param_count(layout.repo_dir(hub_root, MODEL)) or {}
    assert bert.safetensors is not None and bert.safetensors.total == sum(params.values()) > 0
    assert bert.sha is None and bert.siblings is None  # not expanded, so not returned

    (request,) = [r for r in server.requests if r["path"] == "/api/models"]
    assert request["query"]["pipeline_tag"] == ["text-classification"]
    assert request["query"]["sort"] == ["downloads"]
    assert request["query"]["limit"] == ["5"]
    assert sorted(request["query"]["expand"]) == ["cardData", "downloads", "safetensors"]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, ["acme/sentiment", "org/tiny-bert", "org/tiny-ner"]),
        ({"pipeline_tag": "token-classification"}, ["org/tiny-ner"]),
        ({"author": "acme"}, ["acme/sentiment"]),
        ({"search": "TINY-B"}, [MODEL]),
        ({"trained_dataset": DATASET}, [MODEL]),
        ({"filter": ["license:mit", "text-classification", "en"]}, [MODEL]),
        ({"filter": "safetensors"}, [MODEL]),
        ({"num_parameters": "min:1K,max:1M"}, [MODEL]),
        ({"sort": "downloads"}, ["org/tiny-ner", "acme/sentiment", MODEL]),
        ({"sort": "downloads", "limit": 1}, ["org/tiny-ner"]),
    ],
)
def test_list_models_filters(api: HfApi, kwargs: dict[str, Any], expected: list[str]) -> None:
    assert [m.id for m in api.list_models(**kwargs)] == expected


def test_list_models_default_and_full_keys(server: HubServer) -> None:
    def fetch(query: str) -> dict[str, Any]:
        with urllib.request.urlopen(f"{server.url}/api/models?search=tiny-bert&{query}") as r:
            return json.loads(r.read())[0]

    assert "siblings" not in fetch("") and "cardData" not in fetch("")
    assert {"sha", "siblings"} <= fetch("full=true").keys()
    assert fetch("cardData=true")["cardData"]["license"] == "mit"
    assert fetch("expand=likes").keys() == {"_id", "id", "likes"}


def test_model_info(api: HfApi, hub_root: Path) -> None:
    folder = layout.repo_dir(hub_root, MODEL)
    info = api.model_info(MODEL)
    assert info.sha == layout.repo_sha(folder) and len(info.sha) == 40
    assert info.pipeline_tag == "text-classification"
    assert {s.rfilename for s in info.siblings or []} >= {"config.json", "model.safetensors", "tokenizer.json"}
    assert api.model_info(MODEL, revision=info.sha).sha == info.sha
    assert [b.target_commit for b in api.list_repo_refs(MODEL).branches] == [info.sha]

    sizes = {s.rfilename: s.size for s in api.model_info(MODEL, files_metadata=True).siblings or []}
    assert sizes["model.safetensors"] == (folder / "model.safetensors").stat().st_size

    with pytest.raises(RevisionNotFoundError):
        api.model_info(MODEL, revision="v2")
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("org/missing")


def test_dataset_info_and_listing(api: HfApi) -> None:
    info = api.dataset_info(DATASET)
    assert info.sha is not None and {s.rfilename for s in info.siblings or []} == {"train.jsonl", "test.jsonl"}
    assert [d.id for d in api.list_datasets(author="org")] == [DATASET]


def test_tree_and_paths_info(api: HfApi, hub_root: Path) -> None:
    folder = layout.repo_dir(hub_root, MODEL)
    files = {f.path: f for f in api.list_repo_tree(MODEL, recursive=True)}
    assert files.keys() == {p.relative_to(folder).as_posix() for p in layout.repo_files(folder)}
    config = files["config.json"]
    assert isinstance(config, RepoFile)
    assert config.blob_id == layout.file_oid(folder / "config.json")
    assert config.size == (folder / "config.json").stat().st_size

    found = api.get_paths_info(MODEL, ["config.json", "missing.bin"])
    assert [p.path for p in found] == ["config.json"]


def test_resolve_headers_and_range(server: HubServer, hub_root: Path) -> None:
    folder = layout.repo_dir(hub_root, MODEL)
    url = f"{server.url}/{MODEL}/resolve/main/config.json"
    data = (folder / "config.json").read_bytes()

    with urllib.request.urlopen(urllib.request.Request(url, method="HEAD")) as r:
        assert r.headers["X-Repo-Commit"] == layout.repo_sha(folder)
        assert r.headers["ETag"] == f'"{layout.file_oid(folder / "config.json")}"'
        assert int(r.headers["Content-Length"]) == len(data)

    with urllib.request.urlopen(urllib.request.Request(url, headers={"Range": "bytes=2-9"})) as r:
        assert r.status == 206 and r.read() == data[2:10]
        assert r.headers["Content-Range"] == f"bytes 2-9/{len(data)}"

    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{server.url}/{MODEL}/resolve/main/nope.bin")
    assert err.value.code == 404 and err.value.headers["X-Error-Code"] == "EntryNotFound"


def test_missing_repo_and_file_raise_client_errors(server: HubServer, tmp_path: Path) -> None:
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download("org/missing", "config.json", endpoint=server.url, cache_dir=tmp_path, token=False)
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(MODEL, "nope.bin", endpoint=server.url, cache_dir=tmp_path, token=False)


def test_serves_repositories_added_after_start(api: HfApi, hub_root: Path) -> None:
    added = hub_root / "models/late/comer"
    _write_stub_model(added, downloads=0, pipeline_tag="fill-mask")
    try:
        assert [m.id for m in api.list_models(pipeline_tag="fill-mask")] == ["late/comer"]
        assert api.model_info("late/comer").sha == layout.repo_sha(added)
    finally:
        shutil.rmtree(added.parent)


# --- transformers and datasets, in subprocesses ---------------------------------------------------------------

_LOAD_MODEL = """
import json, os, torch
from huggingface_hub import snapshot_download
from transformers import AutoModelForSequenceClassification, AutoTokenizer

def logits(source):
    tok = AutoTokenizer.from_pretrained(source)
    model = AutoModelForSequenceClassification.from_pretrained(source).eval()
    with torch.no_grad():
        return model(**tok({sentences!r}, padding=True, return_tensors="pt")).logits.flatten().tolist()

out = {{"hub": logits({repo!r})}}
if {local!r}:
    out["local"] = logits({local!r})
    out["snapshot"] = sorted(os.listdir(snapshot_download({repo!r})))
print(json.dumps(out))
"""


def test_transformers_loads_through_server_then_offline_from_cache(
    server: HubServer, hub_root: Path, tmp_path: Path
) -> None:
    folder = layout.repo_dir(hub_root, MODEL)
    online = _run_client(_LOAD_MODEL.format(sentences=SENTENCES, repo=MODEL, local=str(folder)), server, tmp_path)
    assert online["hub"] == pytest.approx(online["local"])
    assert online["snapshot"] == sorted(p.relative_to(folder).as_posix() for p in layout.repo_files(folder))

    server.clear_requests()
    offline = _run_client(_LOAD_MODEL.format(sentences=SENTENCES, repo=MODEL, local=""), server, tmp_path, offline=True)
    assert offline["hub"] == pytest.approx(online["hub"])
    assert server.requests == []


def test_load_dataset_through_server(server: HubServer, tmp_path: Path) -> None:
    code = f"""
import json, datasets
ds = datasets.load_dataset({DATASET!r})
print(json.dumps({{split: ds[split].num_rows for split in ds}}))
"""
    assert _run_client(code, server, tmp_path) == {"train": 6, "test": 4}


def test_command_line_serves_in_foreground(hub_root: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "hfsearch.testing.hub_server", str(hub_root), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(f"{url}/api/models/{MODEL}") as r:
            assert json.loads(r.read())["id"] == MODEL
    finally:
        proc.terminate()
        proc.wait(timeout=10)
