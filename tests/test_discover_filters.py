"""Licence and language filters narrow the Hub listing itself (``filter=license:<id>``, a language code), so a model
outside the most downloaded few is still found: filtering only after a listing cut at 3 × --max-models found none."""

from __future__ import annotations

import json

import numpy as np
from safetensors.numpy import save_file

from hfsearch.candidates.discover import Filters, discover, scoped_queries

TASK = "text-classification"


def _repo(root, name: str, *, license: str, language: str, downloads: int) -> None:
    folder = root / "models" / "org" / name
    folder.mkdir(parents=True)
    (folder / "README.md").write_text(
        f"---\npipeline_tag: {TASK}\nlicense: {license}\nlanguage:\n- {language}\n---\n# {name}\n"
    )
    (folder / "config.json").write_text(json.dumps({"model_type": "bert", "architectures": ["BertForSequenceClassification"]}))
    save_file({"w": np.zeros((2, 2), np.float32)}, str(folder / "model.safetensors"))
    (folder / "hub.json").write_text(json.dumps({"downloads": downloads}))


def test_a_rarely_downloaded_model_of_the_wanted_licence_or_language_is_found(tmp_path):
    for i in range(15):
        _repo(tmp_path, f"popular-{i}", license="apache-2.0", language="en", downloads=1000 + i)
    _repo(tmp_path, "rare-mit", license="mit", language="fr", downloads=1)

    def found(**filters):
        found = discover(TASK, TASK, max_models=2, filters=Filters(**filters), hub_dir=str(tmp_path))
        return [c.repo_id for c in found.candidates]

    assert found() == ["org/popular-14", "org/popular-13"]
    assert found(licenses=["MIT"]) == ["org/rare-mit"]
    assert found(languages=["fr"]) == ["org/rare-mit"]
    assert found(licenses=["mit"], languages=["en"]) == []
    assert len(found(licenses=["mit", "apache-2.0"])) == 2


def test_the_hub_is_asked_for_each_licence_and_language(registry, hub_server):
    hub_server.clear_requests()
    found = discover(TASK, TASK, author="test-org", filters=Filters(licenses=["MIT", "apache-2.0"], languages=["en"]),
                     endpoint=hub_server.url)
    listing = [r["query"] for r in hub_server.requests if r["path"] == "/api/models"]
    assert sorted(q["filter"] for q in listing) == [["license:apache-2.0", "en"], ["license:mit", "en"]]
    assert all(q["pipeline_tag"] == [TASK] and q["author"] == ["test-org"] for q in listing)
    assert found.query["queries"] == scoped_queries([{"pipeline_tag": TASK}], Filters(licenses=["MIT", "apache-2.0"],
                                                                                          languages=["en"]))


def test_scoped_queries_keep_the_task_filters():
    queries = [{"filter": "patchtst"}, {"filter": ["patchtsmixer"]}]
    assert scoped_queries(queries, Filters()) == queries
    assert scoped_queries(queries, Filters(licenses=[" MIT "])) == [
        {"filter": ["patchtst", "license:mit"]}, {"filter": ["patchtsmixer", "license:mit"]}]


def test_a_card_listing_several_licences_passes_the_filter_of_any(tmp_path):
    """`license: [mit, apache-2.0]` read as "unknown", so --license mit dropped the model after the Hub listed it."""
    _repo(tmp_path, "dual", license="[mit, apache-2.0]", language="en", downloads=5)
    for wanted in (["MIT"], ["apache-2.0"]):
        found = discover(TASK, TASK, max_models=2, filters=Filters(licenses=wanted), hub_dir=str(tmp_path))
        assert [c.repo_id for c in found.candidates] == ["org/dual"]
        assert found.candidates[0].license == "mit, apache-2.0"
    found = discover(TASK, TASK, max_models=2, filters=Filters(licenses=["gpl-3.0"]), hub_dir=str(tmp_path))
    assert found.candidates == []
