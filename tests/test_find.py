"""`find` end to end against the Hub stand-in: the real huggingface_hub/transformers/datasets clients over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import hfsearch
from hfsearch.search import Search, SearchConfig

TARGET = "test-org/uci_yelp"
LABELS = "negative,positive"


@pytest.fixture(scope="module")
def result(registry, hub_server, tmp_path_factory):
    hub_server.clear_requests()
    return hfsearch.find(
        "text-classification", TARGET, author="test-org", samples=200, labels=LABELS,
        scores="adaptivity,confidence,entropy,jsd,popularity", cache_dir=str(tmp_path_factory.mktemp("cache")),
        progress=False,
    ), list(hub_server.requests)


def test_query_carries_the_right_filters(result):
    _, requests = result
    listing = [r for r in requests if r["path"] == "/api/models"]
    assert len(listing) == 1
    q = listing[0]["query"]
    assert q["pipeline_tag"] == ["text-classification"]
    assert q["sort"] == ["downloads"]
    assert q["author"] == ["test-org"]
    assert {"cardData", "safetensors", "downloads", "likes"} <= set(q["expand"])


def test_filtered_and_unalignable_models_are_reported(result):
    res, _ = result
    skipped = {s.repo_id: s for s in res.skipped}
    assert skipped["test-org/bert-custom-code"].stage == "filter" and "custom code" in skipped["test-org/bert-custom-code"].reason
    assert skipped["test-org/bert-pickle"].stage == "filter" and "safetensors" in skipped["test-org/bert-pickle"].reason
    assert skipped["test-org/bert-topics"].stage == "align"
    scored = set(res.ranking["model"])
    assert scored == {"test-org/bert-yelp", "test-org/bert-amazon-noisy"}
    assert "test-org/bert-ner" not in scored | set(skipped)  # other pipeline tag: never listed


def test_in_domain_model_ranks_first_under_adaptivity_and_confidence(result):
    res, _ = result
    assert res.best == "test-org/bert-yelp"
    ranks = res.ranks()
    assert ranks.loc["test-org/bert-yelp", "adaptivity"] == 1
    assert ranks.loc["test-org/bert-yelp", "confidence"] == 1
    assert ranks.loc["test-org/bert-yelp", "jsd"] == 1  # lower-is-better handled
    # the popularity prior prefers the noisy, most-downloaded model: a baseline to beat, not an oracle
    assert ranks.loc["test-org/bert-amazon-noisy", "popularity"] == 1
    row = res.ranking.set_index("model").loc["test-org/bert-yelp"]
    assert row["source"] == "test-org/uci_yelp/train"


def test_result_serialises(result):
    res, _ = result
    data = json.loads(res.to_json())
    assert data["best"] == "test-org/bert-yelp"
    assert data["ranking"][0]["rank"] == 1 and data["ranking"][0]["declared_datasets"] == ["test-org/uci_yelp"]
    assert res.to_csv().splitlines()[0].startswith("rank,model,predicted_accuracy,predicted_low,predicted_high,adaptivity")


def test_second_run_recomputes_nothing(registry, tmp_path):
    cfg = dict(task="text-classification", dataset=TARGET, author="test-org", samples=64, labels=["negative", "positive"],
               scores=["adaptivity", "confidence", "mmd:model", "mmd:reference"], cache_dir=str(tmp_path), progress=False)
    first = Search(SearchConfig(**cfg))
    r1 = first.execute()
    assert first.runner.stats.models_loaded == 2
    second = Search(SearchConfig(**cfg))
    r2 = second.execute()
    assert second.runner.stats.models_loaded == 0  # every output came from the cache
    assert second.runner.stats.cache_hits == 6  # target, source features and held-out slice of both candidates
    assert r1.ranking.equals(r2.ranking)
    # outputs computed in another precision (bf16 on a GPU, say) must not answer for this run, nor it for them
    from types import SimpleNamespace

    from hfsearch.runner import Runner

    runner, cand = second.runner, second.state.runs[r1.best].candidate
    bf16 = Runner(runner.adapter, runner.cache, accelerator=SimpleNamespace(mixed_precision="bf16"))
    assert runner.cache.contains(runner.key(cand, second.state.target))
    assert not runner.cache.contains(bf16.key(cand, second.state.target))


def test_missing_source_data_nulls_similarity_only(registry, tmp_path):
    res = hfsearch.find("text-classification", TARGET, models="other-org/bert-nosource", labels=LABELS, samples=64,
                        scores="adaptivity,confidence", cache_dir=str(tmp_path), progress=False)
    (cand,) = res.candidates
    assert cand.scores["adaptivity"] is None
    assert "test-org/missing-data" in cand.unavailable["adaptivity"]
    assert cand.scores["confidence"] is not None


def test_broken_candidate_is_skipped_and_search_goes_on(registry, tmp_path):
    res = hfsearch.find("text-classification", TARGET, models="other-org/bert-broken,test-org/bert-yelp", labels=LABELS,
                        samples=32, scores="confidence", cache_dir=str(tmp_path), progress=False)
    assert list(res.ranking["model"]) == ["test-org/bert-yelp"]
    (skip,) = [s for s in res.skipped if s.repo_id == "other-org/bert-broken"]
    assert skip.stage == "load"


def test_local_registry_gives_the_same_ranking(registry, tmp_path):
    res = hfsearch.find("text-classification", TARGET, hub_dir=str(registry), author="test-org", samples=200,
                        labels=LABELS, scores="adaptivity,confidence", cache_dir=str(tmp_path), progress=False)
    assert res.best == "test-org/bert-yelp"


def test_cli_json_end_to_end(registry, env_for_subprocess):
    proc = subprocess.run(
        [sys.executable, "-m", "hfsearch", "find", "--task", "text-classification", "--dataset", TARGET,
         "--author", "test-org", "--labels", LABELS, "--samples", "100", "--scores", "adaptivity,confidence",
         "--format", "json"],
        env=env_for_subprocess, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["best"] == "test-org/bert-yelp"
    assert [r["model"] for r in data["ranking"]][0] == "test-org/bert-yelp"


def test_one_malformed_repo_neither_ends_the_listing_nor_the_search(registry, tmp_path):
    """A card whose YAML does not parse, a hub.json with a count that is not a number, a config.json whose id2label
    keys are not class ids: each concerns one repository; the search lists and runs the others, and says why the
    bad one was skipped. Authors match case-insensitively, as on the Hub."""
    import shutil

    root = tmp_path / "hub"
    for part in ("datasets/test-org/uci_yelp", "datasets/test-org/uci_amazon", "models/test-org/bert-yelp"):
        shutil.copytree(registry / part, root / part)
    good = root / "models/test-org/bert-yelp"
    (good / "hub.json").write_text(json.dumps({"downloads": "many"}))
    for name, edit in (("bad-card", "card"), ("bad-keys", "keys")):
        bad = root / "models/test-org" / name
        shutil.copytree(good, bad)
        if edit == "card":
            readme = (bad / "README.md").read_text()
            (bad / "README.md").write_text(readme.replace("---\n", "---\ndatasets: [unclosed\n", 1))
        else:
            config = json.loads((bad / "config.json").read_text())
            config["id2label"] = {"neg": "negative", "pos": "positive"}
            (bad / "config.json").write_text(json.dumps(config))
    res = hfsearch.find("text-classification", TARGET, hub_dir=str(root), author="Test-Org", labels=LABELS,
                        samples=32, scores="confidence", cache_dir=str(tmp_path / "cache"), progress=False)
    # bad-card: its metadata is unreadable, so it is listed by its architecture (as the Hub infers a pipeline tag)
    assert sorted(res.ranking["model"]) == ["test-org/bad-card", "test-org/bert-yelp"]
    (skip,) = res.skipped
    assert skip.repo_id == "test-org/bad-keys" and "id2label keys are not class ids" in skip.reason
