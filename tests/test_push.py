"""Results to the Hub (`hfsearch.hub.push`): pushed through the real ``huggingface_hub`` client to the stand-in's write
routes, then read back with the real clients (``hf_hub_download``, ``load_dataset``, ``dataset_info``)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pandas as pd
import pytest
import yaml
from huggingface_hub import HfApi, hf_hub_download

from hfsearch.candidates.candidate import Skipped
from hfsearch.errors import HubError
from hfsearch.hub import layout
from hfsearch.hub.push import push_bench, push_result
from hfsearch.rank.result import CandidateResult, ScoreColumn, SearchResult
from hfsearch.testing.hub_server import HubServer

TOKEN = "hf_pushTestSecretToken0123456789"


def _result(best_adaptivity: float = 3.25) -> SearchResult:
    cols = [ScoreColumn("adaptivity", "similarity", True, "Adaptivity of the source data to the target"),
            ScoreColumn("jsd", "similarity", False, "Jensen-Shannon divergence of whole-dataset histograms")]
    cands = [
        CandidateResult("org/minilm-yelp", "a" * 40, {"adaptivity": best_adaptivity, "jsd": 0.31},
                        source="org/yelp/train", downloads=10),
        CandidateResult("org/bert-imdb", "b" * 40, {"adaptivity": 1.5, "jsd": None},
                        unavailable={"jsd": "no source data"}, source=None),
    ]
    return SearchResult(
        task="text-classification", dataset="org/reviews", split="test", columns=["text"], n_samples=300,
        score_columns=cols, rank_by="adaptivity", candidates=cands,
        skipped=[Skipped("org/huge", "filter", "9,000,000,000 parameters > --max-params 500,000,000")],
        warnings=["org/bert-imdb: 1 model label has no target counterpart"],
    )


def _download(repo_id: str, filename: str, server: HubServer) -> Path:
    return Path(hf_hub_download(repo_id, filename, repo_type="dataset", endpoint=server.url, token=False))


def _all_written_text(folder: Path) -> str:
    return "\n".join(p.read_bytes().decode("utf-8", "replace") for p in folder.rglob("*") if p.is_file())


def test_push_result_writes_a_dataset_that_the_real_clients_read_back(hub_server: HubServer, capfd) -> None:
    repo_id = "results-org/reviews-search"
    result = _result()
    command = ["hfsearch", "find", "--task", "text-classification", "--dataset", "org/reviews", "--token", TOKEN]
    config = {"task": "text-classification", "dataset": "org/reviews", "token": TOKEN, "samples": 300}
    info = result.push_to_hub(repo_id, command=command, config=config, token=TOKEN, endpoint=hub_server.url)

    folder = layout.repo_dir(hub_server.root, repo_id, layout.DATASETS)
    assert info.oid == layout.repo_sha(folder) and info.repo_url.repo_id == repo_id
    assert sorted(p.name for p in layout.repo_files(folder)) == ["README.md", "config.json", "ranking.parquet",
                                                                "result.json"]
    card = _download(repo_id, "README.md", hub_server).read_text(encoding="utf-8")
    meta = yaml.safe_load(card.split("---")[1])
    assert meta["configs"][0]["data_files"] == [{"split": "ranking", "path": "ranking.parquet"}]
    assert "text-classification" in meta["tags"]
    assert f"**Recommended model: [org/minilm-yelp]({hub_server.url}/org/minilm-yelp)**" in card
    assert f"[org/reviews]({hub_server.url}/datasets/org/reviews)" in card and "(split `test`)" in card
    assert "| 1 | [org/minilm-yelp]" in card and "org/huge" in card and "no source data" in card

    import datasets

    table = datasets.load_dataset(repo_id, split="ranking")
    assert table["model"] == ["org/minilm-yelp", "org/bert-imdb"] and table["adaptivity"] == [3.25, 1.5]
    saved = json.loads(_download(repo_id, "config.json", hub_server).read_text())
    assert saved["command"].startswith("hfsearch find --task text-classification") and saved["config"]["samples"] == 300
    assert saved["versions"]["huggingface_hub"] and saved["versions"]["hfsearch"]
    assert json.loads(_download(repo_id, "result.json", hub_server).read_text())["best"] == "org/minilm-yelp"

    # the token reached the server only as a header: not in any file, request record, log or output
    assert TOKEN not in _all_written_text(hub_server.root)
    assert TOKEN not in json.dumps(hub_server.requests)
    out, err = capfd.readouterr()
    assert TOKEN not in out + err
    assert saved["config"]["token"] == "***" and "***" in saved["command"]

    # the same result again changes nothing; a new result is a new commit
    assert push_result(result, repo_id, command=command, config=config, token=TOKEN, endpoint=hub_server.url).oid == info.oid
    again = push_result(_result(4.0), repo_id, token=TOKEN, endpoint=hub_server.url)
    assert again.oid != info.oid and again.oid == layout.repo_sha(folder)


def test_local_registry_results_have_no_hub_links(hub_server: HubServer) -> None:
    push_result(_result(), "results-org/local-search", config={"hub_dir": "/srv/registry", "task": "x"}, token=TOKEN,
                endpoint=hub_server.url)
    card = _download("results-org/local-search", "README.md", hub_server).read_text(encoding="utf-8")
    assert "**Recommended model: `org/minilm-yelp`**" in card and "on `org/reviews`" in card and "](http" not in card


def test_private_repository_and_missing_token(hub_server: HubServer) -> None:
    push_result(_result(), "results-org/private-search", token=TOKEN, endpoint=hub_server.url, private=True)
    assert HfApi(endpoint=hub_server.url, token=TOKEN).dataset_info("results-org/private-search").private is True
    with pytest.raises(HubError, match="a token with write access is needed"):
        push_result(_result(), "results-org/anonymous", token=False, endpoint=hub_server.url)
    with pytest.raises(HubError, match="give the repository as ORG/NAME"):
        push_result(_result(), "no-namespace", token=TOKEN, endpoint=hub_server.url)


def test_push_errors_are_one_line_and_never_show_the_token(hub_server: HubServer) -> None:
    blocked = layout.repo_dir(hub_server.root, "results-org/blocked", layout.DATASETS)
    blocked.parent.mkdir(parents=True, exist_ok=True)
    blocked.write_text("not a repository folder")  # exists (create_repo passes) but cannot be committed to
    with pytest.raises(HubError) as refused:
        push_result(_result(), "results-org/blocked", token=TOKEN, endpoint=hub_server.url)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    with pytest.raises(HubError) as unreachable:
        push_result(_result(), "results-org/x", token=TOKEN, endpoint=closed)
    for exc in (refused.value, unreachable.value):
        assert TOKEN not in str(exc) and "\n" not in str(exc) and "results-org/" in str(exc)


def _bench_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "bench-out"
    (folder / "plots" / "by_scorer").mkdir(parents=True)
    results = {
        "schema_version": 1,
        "workload": {"name": "sentiment-mini", "task": "text-classification", "metric": "accuracy",
                     "description": "Three review domains.", "targets": ["uci_yelp"]},
        "zoo": [{"repo_id": "bench/minilm-imdb"}, {"repo_id": "bench/bert-amazon"}],
        "leaderboard": [
            {"rank": 1, "scorer": "adaptivity", "kind": "similarity", "higher_is_better": True,
             "regret": {"mean": 0.01, "low": 0.0, "high": 0.03}, "top1": {"mean": 1.0, "low": 1.0, "high": 1.0},
             "kendall_tau": {"mean": 0.6, "low": 0.2, "high": 0.9}, "spearman_rho": {"mean": 0.7, "low": 0.3, "high": 1.0},
             "coverage": 1.0, "n_targets": 1},
            {"rank": 2, "scorer": "random", "kind": "reference", "higher_is_better": True,
             "regret": {"mean": 0.08, "low": None, "high": None}, "top1": {"mean": 0.5, "low": None, "high": None},
             "kendall_tau": {"mean": 0.0, "low": None, "high": None},
             "spearman_rho": {"mean": 0.0, "low": None, "high": None}, "coverage": 1.0, "n_targets": 1},
        ],
        "targets": [{"target": "uci_yelp"}],
        "environment": {"hfsearch": "0.1.0", "torch": "2.13.0"},
    }
    (folder / "results.json").write_text(json.dumps(results))
    (folder / "report.md").write_text("# sentiment-mini\n\nadaptivity wins.\n")
    png = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360"
                        "0000000200015d0b2a0a0000000049454e44ae426082")
    (folder / "plots" / "regret_per_target.png").write_bytes(png)
    (folder / "plots" / "by_scorer" / "adaptivity.png").write_bytes(png)
    return folder


def test_push_bench_outputs(hub_server: HubServer, tmp_path: Path) -> None:
    repo_id = "results-org/bench-sentiment"
    info = push_bench(_bench_folder(tmp_path), repo_id, command="hfsearch bench ci.yaml -o out", token=TOKEN,
                      endpoint=hub_server.url)
    folder = layout.repo_dir(hub_server.root, repo_id, layout.DATASETS)
    assert info.oid == layout.repo_sha(folder)
    names = {p.relative_to(folder).as_posix() for p in layout.repo_files(folder)}
    assert names == {"README.md", "config.json", "leaderboard.parquet", "report.md", "results.json",
                     "plots/regret_per_target.png", "plots/by_scorer/adaptivity.png"}
    png = _download(repo_id, "plots/regret_per_target.png", hub_server).read_bytes()
    assert png == (tmp_path / "bench-out" / "plots" / "regret_per_target.png").read_bytes()
    card = _download(repo_id, "README.md", hub_server).read_text(encoding="utf-8")
    assert "![regret_per_target](plots/regret_per_target.png)" in card and "| 1 | `adaptivity` |" in card
    import datasets

    board = datasets.load_dataset(repo_id, split="leaderboard").to_pandas()
    assert list(board["scorer"]) == ["adaptivity", "random"] and board["regret_mean"].tolist() == [0.01, 0.08]
    assert pd.isna(board["regret_low"].iloc[1])
    assert json.loads(_download(repo_id, "config.json", hub_server).read_text())["workload"]["name"] == "sentiment-mini"
    with pytest.raises(HubError, match="No results.json"):
        push_bench(tmp_path, repo_id, token=TOKEN, endpoint=hub_server.url)
