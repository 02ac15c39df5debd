"""token-classification: tag alignment, entity F1, ragged per-word outputs, and `find` end to end on the Hub stand-in."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from datasets import ClassLabel, Dataset, Features, List, Value

import hfsearch
from hfsearch.candidates.labels import align_tags, bio_tags, entity_types, split_tag
from hfsearch.errors import ColumnError, DatasetError, NoCandidatesError
from hfsearch.search import Search, SearchConfig
from hfsearch.tasks import get_task
from hfsearch.tasks.entities import entity_f1, entity_prf, get_entities

TARGET = "ner-org/crossner_politics"
TYPES = ["PER", "LOC", "ORG", "MISC"]
IN_DOMAIN, NOISY = "ner-org/tagger-politics", "ner-org/tagger-science-noisy"


@pytest.fixture(scope="module")
def registry_ner(hub_server):
    from zoo_fixture_tasks import build_ner_registry

    return build_ner_registry(hub_server.root)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def search(registry_ner, hub_server, cache):
    hub_server.clear_requests()
    s = Search(SearchConfig(
        task="token-classification", dataset=TARGET, author="ner-org", labels=TYPES, samples=120,
        scores=["adaptivity", "confidence", "entropy", "agreement", "mmd:model"], cache_dir=cache, progress=False,
    ))
    result = s.execute()
    return s, result, list(hub_server.requests)


# ---- end to end ---------------------------------------------------------------------------------------------------
def test_discovery_queries_the_token_pipeline_tag(search):
    _, _, requests = search
    (listing,) = [r for r in requests if r["path"] == "/api/models"]
    assert listing["query"]["pipeline_tag"] == ["token-classification"]


def test_in_domain_tagger_ranks_first_under_adaptivity_and_confidence(search):
    _, res, _ = search
    assert set(res.ranking["model"]) == {IN_DOMAIN, NOISY}
    assert res.best == IN_DOMAIN
    ranks = res.ranks()
    assert ranks.loc[IN_DOMAIN, "adaptivity"] == 1
    assert ranks.loc[IN_DOMAIN, "confidence"] == 1
    assert ranks.loc[IN_DOMAIN, "entropy"] == 1


def test_scorers_see_one_prediction_per_word(search):
    s, _, _ = search
    n_words = sum(len(w) for w in s.target.rows["tokens"])
    stored = s.state.runs[IN_DOMAIN].outputs["target"].logits
    assert stored.ndim == 3 and stored.shape[:2] == (len(s.target), max(len(w) for w in s.target.rows["tokens"]))
    assert s.adapter.score_logits(stored).shape == (n_words, 9)
    assert s.predictions(s.candidates[0]).shape == (n_words,)


def test_truth_is_entity_f1(search):
    from hfsearch.bench.truth import true_metrics

    s, _, _ = search
    truth = true_metrics(s, ("f1", "accuracy"))
    assert truth["f1"][IN_DOMAIN] > truth["f1"][NOISY]
    assert 0.0 <= truth["f1"][NOISY] <= truth["f1"][IN_DOMAIN] <= 1.0
    assert truth["accuracy"][IN_DOMAIN] > 0.5


def test_synonym_tags_align_and_disjoint_tags_are_skipped(search, registry_ner, cache):
    res = hfsearch.find("token-classification", TARGET, labels=TYPES, samples=120, scores="confidence",
                        models="ner-variants/tagger-politics-synonyms,ner-variants/tagger-dates", cache_dir=cache,
                        progress=False)
    (cand,) = res.candidates
    assert cand.repo_id == "ner-variants/tagger-politics-synonyms"
    _, base, _ = search  # same weights under other names: the same predictions
    assert cand.scores["confidence"] == pytest.approx(
        base.ranking.set_index("model").loc[IN_DOMAIN, "confidence"])
    (skip,) = res.skipped
    assert skip.stage == "align" and "no entity type in common" in skip.reason


def test_no_shared_entity_type_is_one_line_error(registry_ner, cache):
    with pytest.raises(NoCandidatesError) as exc:
        hfsearch.find("token-classification", TARGET, labels=TYPES, samples=8, scores="confidence",
                      models="ner-variants/tagger-dates", cache_dir=cache, progress=False)
    assert "no entity type in common" in str(exc.value) and "\n" not in str(exc.value)


def test_unknown_tag_set_asks_for_labels(registry_ner, cache):
    s = Search(SearchConfig(task="token-classification", dataset=TARGET, samples=8, scores=["confidence"],
                            cache_dir=cache, progress=False))
    with pytest.raises(DatasetError) as exc:
        s.run_stages("target")
    assert "--labels" in str(exc.value) and "\n" not in str(exc.value)


# ---- ragged outputs -----------------------------------------------------------------------------------------------
def test_words_past_truncation_get_zeros_and_padding_nan(registry_ner):
    from transformers import AutoModelForTokenClassification

    folder = str(registry_ner / "models" / IN_DOMAIN)
    adapter = get_task("token-classification")
    tok = adapter.load_preprocessor(folder)
    model = AutoModelForTokenClassification.from_pretrained(folder, use_safetensors=True).eval()
    rows = Dataset.from_dict({"tokens": [["Obama", "visited", "Paris", "."], ["Merkel"], ["a"] * 12]})
    enc = adapter.encode(tok, rows, ["tokens"], max_length=8)  # row 3: words 7.. are cut
    out = np.full((3, 12, 9), -7.0, dtype=np.float32)
    with torch.inference_mode():
        for idx, batch in adapter.batches(enc, 2, tok):
            logits, pooled = adapter.forward(model, batch)
            out[idx] = logits.numpy()
            assert pooled.shape == (len(idx), model.config.hidden_size)
    assert np.isnan(out[0, 4:]).all() and np.isfinite(out[0, :4]).all()
    assert np.isnan(out[1, 1:]).all()
    assert np.isfinite(out[2]).all() and (out[2, :6] != 0).any()
    # cut words: uniform scores, ties broken toward the model's "O" (no entity), whatever class id 0 names
    from hfsearch.tasks.tokens import UNSEEN_TIE, outside_index

    cut = out[2, 7:]
    assert (cut == cut[0]).all() and np.ptp(cut[0]) == pytest.approx(UNSEEN_TIE)
    assert (cut.argmax(axis=1) == outside_index(model)).all()
    assert adapter.score_logits(out).shape == (4 + 1 + 12, 9)


def test_predictions_map_model_tags_to_target_tags():
    adapter = get_task("token-classification")
    target = bio_tags(TYPES)
    alignment = align_tags({0: "O", 1: "B-person", 2: "I-person", 3: "B-DATE"}, target)
    logits = np.full((2, 3, 4), np.nan, dtype=np.float32)
    logits[0, 0] = [0, 5, 0, 0]  # B-person -> B-PER
    logits[0, 1] = [0, 0, 5, 0]  # I-person -> I-PER
    logits[1, 0] = [0, 0, 0, 5]  # B-DATE: not a target type -> O
    pred = adapter.predictions(logits, alignment.label_map)
    assert [target[p] for p in pred] == ["B-PER", "I-PER", "O"]
    labels = np.empty(2, dtype=object)
    labels[:] = [["B-PER", "I-PER"], ["B-LOC"]]
    assert adapter.evaluate("f1", labels, pred, target) == pytest.approx(2 / 3)
    assert adapter.evaluate("accuracy", labels, pred, target) == pytest.approx(2 / 3)


# ---- labels -------------------------------------------------------------------------------------------------------
def test_tags_align_over_entity_types_with_synonyms_and_schemes():
    target = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
    a = align_tags({0: "O", 1: "S-person", 2: "E-person", 3: "B-OTHER", 4: "I-OTHER", 5: "B-DATE"}, target)
    assert a.ok and a.label_map == {0: 0, 1: 1, 2: 2, 3: 5, 4: 6, 5: 0}
    assert a.unmapped_model == ["DATE"] and a.missing_target == ["LOC"]
    assert "LOC" in a.note() and "DATE" in a.note()
    generic = align_tags({i: f"LABEL_{i}" for i in range(len(target))}, target)
    assert generic.ok and generic.label_map == {i: i for i in range(len(target))}


def test_disjoint_tag_sets_do_not_align():
    a = align_tags({0: "O", 1: "B-DATE", 2: "I-DATE"}, bio_tags(["PER", "LOC"]))
    assert not a.ok and a.label_map == {}
    assert a.reason() == "no entity type in common: the model tags DATE, the target PER, LOC"


def test_tag_helpers():
    assert split_tag("B-PER") == ("B", "PER") and split_tag("o") == ("O", "") and split_tag("PER") == ("I", "PER")
    assert split_tag("U_LOC") == ("U", "LOC")
    assert bio_tags(["PER"]) == ["O", "B-PER", "I-PER"]
    assert entity_types(["O", "B-PER", "I-PER", "B-LOC"]) == ["PER", "LOC"]
    adapter = get_task("token-classification")
    assert adapter.prepare_label_names(["PER", "LOC"]) == ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    assert adapter.prepare_label_names(["O", "B-X", "I-X"]) == ["O", "B-X", "I-X"]  # ClassLabel order kept


# ---- entity F1 ----------------------------------------------------------------------------------------------------
def test_entities_are_read_like_conlleval():
    assert len(get_entities(["B-PER", "I-PER", "O", "I-LOC", "I-LOC", "B-LOC"])) == 3
    assert [(s, e) for _, s, e in get_entities(["I-PER", "B-PER", "I-ORG", "E-ORG", "S-LOC"])] == [
        (0, 0), (1, 1), (2, 3), (4, 4)]
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-MISC", "O"]]
    pred = [["B-PER", "I-PER", "O", "B-ORG"], ["B-OTHER", "O"]]  # MISC = OTHER
    assert entity_prf(gold, pred) == pytest.approx((2 / 3, 2 / 3, 2 / 3))
    assert entity_f1([["O"]], [["O"]]) == 0.0
    with pytest.raises(ValueError):
        entity_f1([["O", "O"]], [["O"]])


def test_entity_f1_matches_seqeval_when_installed():
    seqeval = pytest.importorskip("seqeval.metrics")
    rng = np.random.default_rng(0)
    tags = ["O", "O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC", "I-ORG", "E-ORG", "S-MISC"]
    gold = [[tags[i] for i in rng.integers(0, len(tags), size=rng.integers(1, 15))] for _ in range(300)]
    pred = [[t if rng.random() < 0.7 else tags[rng.integers(0, len(tags))] for t in g] for g in gold]
    assert entity_f1(gold, pred) == pytest.approx(seqeval.f1_score(gold, pred))


# ---- columns ------------------------------------------------------------------------------------------------------
def test_word_and_tag_columns_are_detected():
    adapter = get_task("token-classification")
    conll = Features({"id": Value("string"), "tokens": List(Value("string")),
                      "pos_tags": List(ClassLabel(names=["NN", "VB"])),
                      "ner_tags": List(ClassLabel(names=["O", "B-PER", "I-PER"]))})
    assert adapter.resolve_columns(conll, None) == ["tokens"]
    assert adapter.label_column(conll) == "ner_tags"
    assert adapter.label_names(conll, "ner_tags") == ["O", "B-PER", "I-PER"]
    plain = Features({"words": List(Value("string")), "tags": List(Value("string"))})
    assert adapter.resolve_columns(plain, None) == ["words"] and adapter.label_column(plain) == "tags"


def test_no_word_list_column_is_one_line_column_error():
    adapter = get_task("token-classification")
    features = Features({"text": Value("string"), "label": Value("int64")})
    for columns in (None, ["text"]):
        with pytest.raises(ColumnError) as exc:
            adapter.resolve_columns(features, columns)
        assert "\n" not in str(exc.value)


def test_workload_checks_token_domains(tmp_path):
    from pathlib import Path

    from hfsearch.bench.workload import load_workload
    from hfsearch.errors import WorkloadError

    data = Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "ner"
    body = ("task: token-classification\nlabels: [{labels}]\nmetrics: [f1]\n"
            f"domains:\n  p: {data / 'crossner_politics'}\n  s: {data / 'crossner_science'}\n"
            "candidates:\n  - sources: [p, s]\n    architectures: [tiny-bert]\nscorers: [confidence]\n")
    (tmp_path / "ok.yaml").write_text(body.format(labels="PER, LOC, ORG, OTHER"))  # OTHER = MISC
    wl = load_workload(tmp_path / "ok.yaml")
    assert wl.rows["p"]["train"][0]["tags"][0] in ("O", "B-PER", "B-LOC", "B-ORG", "B-MISC")
    (tmp_path / "bad.yaml").write_text(body.format(labels="PER, LOC"))
    with pytest.raises(WorkloadError) as exc:
        load_workload(tmp_path / "bad.yaml")
    assert "ORG" in str(exc.value) and "\n" not in str(exc.value)
