"""The zoo builder: real tiny checkpoints, Hub-style cards, recipe-hash caching, pairs and label noise."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer, BertTokenizerFast

from hfsearch.errors import HFSearchError
from hfsearch.hub.layout import read_front_matter, read_hub_json
from hfsearch.zoo import (
    CandidateRecipe,
    DomainSpec,
    ZooRecipe,
    build_zoo,
    demo_recipe,
    get_architecture,
    list_architectures,
    shipped_domain,
)
from hfsearch.zoo.build import RECIPE_FILE
from hfsearch.zoo.train import add_label_noise, bucketed_batches, select_rows

LABELS = ["negative", "positive"]
#: Enough to beat chance clearly on uci_amazon (about 0.74 accuracy) in about 3 CPU seconds.
CLEAN = {"max_train_rows": 300, "epochs": 5, "batch_size": 16, "learning_rate": 2e-3}


def _rows(name: str, split: str) -> list[dict]:
    with (shipped_domain(name) / f"{split}.jsonl").open() as fh:
        return [json.loads(line) for line in fh]


def _pair_rows(split: str, n: int) -> list[dict]:
    """Pairs of real review sentences; the label is the sentiment of the first one."""
    rows = _rows("uci_amazon", split)[:n]
    other = _rows("uci_imdb", split)
    return [
        {"text_a": r["text"], "text_b": other[i % len(other)]["text"], "label": r["label"]} for i, r in enumerate(rows)
    ]


def _recipe() -> ZooRecipe:
    return ZooRecipe(
        org="zoo-test",
        label_names=LABELS,
        target="uci_yelp",
        domains=[
            DomainSpec("uci_amazon", path=shipped_domain("uci_amazon"), license="cc-by-4.0"),
            DomainSpec("uci_yelp", path=shipped_domain("uci_yelp"), license="cc-by-4.0"),
            DomainSpec(
                "pairs",
                rows={"train": _pair_rows("train", 200), "test": _pair_rows("test", 100)},
                source="Pairs of UCI sentiment sentences, built by the test.",
            ),
        ],
        candidates=[
            CandidateRecipe("clean", "tiny-bert", ["uci_amazon"], downloads=10, likes=1, **CLEAN),
            CandidateRecipe("noisy", "tiny-bert", ["uci_amazon"], label_noise=0.5, downloads=5000, **CLEAN),
            CandidateRecipe("pair", "tiny-bert", ["pairs"], epochs=1),
        ],
    )


@pytest.fixture(scope="module")
def zoo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("zoo")
    built = build_zoo(_recipe(), root)
    return root, {b.repo_id.split("/")[1]: b for b in built}


def _mtimes(root: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in sorted(root.rglob("*")) if p.is_file()}


def test_checkpoint_reloads_with_auto_classes(zoo):
    root, built = zoo
    path = built["clean"].path
    assert path == root / "models" / "zoo-test" / "clean"
    model = AutoModelForSequenceClassification.from_pretrained(path)
    tokenizer = AutoTokenizer.from_pretrained(path)
    assert model.config.id2label == {0: "negative", 1: "positive"}
    assert model.config.label2id == {"negative": 0, "positive": 1}
    with torch.no_grad():
        logits = model(**tokenizer(["great phone", "it broke"], padding=True, return_tensors="pt")).logits
    assert logits.shape == (2, 2)


def test_files_are_safetensors_and_bert_tokenizer(zoo):
    path = zoo[1]["clean"].path
    names = {p.name for p in path.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "vocab.txt"} <= names
    assert not {"pytorch_model.bin", "training_args.bin"} & names
    assert (path / "model.safetensors").stat().st_size < 2_000_000
    vocab = (path / "vocab.txt").read_text().splitlines()
    assert vocab[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert 1000 < len(vocab) <= 3000
    assert BertTokenizerFast.from_pretrained(path).convert_ids_to_tokens([2, 3]) == ["[CLS]", "[SEP]"]


def test_model_card_front_matter(zoo):
    path = zoo[1]["clean"].path
    card = read_front_matter(path / "README.md")
    assert card["pipeline_tag"] == "text-classification"
    assert card["library_name"] == "transformers"
    assert card["datasets"] == ["zoo-test/uci_amazon"]
    assert card["language"] == ["en"]
    assert "tiny-bert" in card["tags"]
    (result,) = card["model-index"][0]["results"]
    assert result["task"] == {"type": "text-classification"}
    assert result["dataset"] == {"name": "uci_amazon", "type": "zoo-test/uci_amazon", "split": "test"}
    assert result["metrics"][0]["type"] == "accuracy"
    assert result["metrics"][0]["value"] == pytest.approx(zoo[1]["clean"].source_accuracy, abs=1e-4)
    assert read_hub_json(path) == {"downloads": 10, "likes": 1}
    assert not (zoo[1]["pair"].path / "hub.json").exists()


def test_dataset_repos_are_written(zoo):
    root = zoo[0]
    folder = root / "datasets" / "zoo-test" / "uci_amazon"
    assert (folder / "train.jsonl").read_text() == (shipped_domain("uci_amazon") / "train.jsonl").read_text()
    card = read_front_matter(folder / "README.md")
    assert card["license"] == "cc-by-4.0" and card["task_categories"] == ["text-classification"]
    assert "Kotzias" in (folder / "README.md").read_text()
    assert (root / "datasets" / "zoo-test" / "uci_yelp" / "test.jsonl").is_file()
    assert "built by the test" in (root / "datasets" / "zoo-test" / "pairs" / "README.md").read_text()


def test_trained_model_beats_chance_on_its_domain(zoo):
    clean = zoo[1]["clean"]
    assert clean.trained and clean.train_seconds > 0
    assert clean.source_accuracy > 0.65
    assert clean.metrics["zoo-test/uci_amazon"]["accuracy"] == clean.source_accuracy


def test_label_noise_makes_a_clearly_worse_model(zoo):
    assert zoo[1]["noisy"].source_accuracy < zoo[1]["clean"].source_accuracy - 0.1


def test_pairs_train_and_tokenize_as_pairs(zoo):
    pair = zoo[1]["pair"]
    assert set(pair.metrics["zoo-test/pairs"]) == {"accuracy", "f1"}
    tokenizer = AutoTokenizer.from_pretrained(pair.path)
    enc = tokenizer("the first text", "the second one")
    tokens = tokenizer.convert_ids_to_tokens(enc["input_ids"])
    assert tokens[0] == "[CLS]" and tokens.count("[SEP]") == 2 and tokens[-1] == "[SEP]"
    assert enc["token_type_ids"][tokens.index("[SEP]") + 1] == 1


def test_second_build_trains_nothing(zoo):
    root, _ = zoo
    before = _mtimes(root)
    again = build_zoo(_recipe(), root)
    assert [b.trained for b in again] == [False, False, False]
    assert _mtimes(root) == before


def test_changing_one_candidate_retrains_only_it(tmp_path):
    recipe = _recipe()
    recipe.candidates = recipe.candidates[:2]  # clean, noisy
    build_zoo(recipe, tmp_path)
    noisy = tmp_path / "models" / "zoo-test" / "noisy"
    noisy_before = _mtimes(noisy)
    recipe.candidates[0] = replace(recipe.candidates[0], seed=1, downloads=11)
    recipe.candidates[1] = replace(recipe.candidates[1], downloads=6000)  # popularity only: no retraining
    rebuilt = build_zoo(recipe, tmp_path)
    assert [b.trained for b in rebuilt] == [True, False]
    assert json.loads((tmp_path / "models" / "zoo-test" / "clean" / RECIPE_FILE).read_text())["recipe"]["seed"] == 1
    assert read_hub_json(noisy) == {"downloads": 6000}
    changed = {p for p, t in _mtimes(noisy).items() if noisy_before.get(p) != t}
    assert changed == {str(noisy / "hub.json")}


def test_training_is_deterministic(zoo, tmp_path):
    recipe = _recipe()
    recipe.candidates = recipe.candidates[:1]
    (again,) = build_zoo(recipe, tmp_path)
    first = zoo[1]["clean"].path
    for name in ("model.safetensors", "tokenizer.json", "vocab.txt"):
        assert (again.path / name).read_bytes() == (first / name).read_bytes(), name
    assert again.source_accuracy == zoo[1]["clean"].source_accuracy


def test_recipe_validation():
    recipe = _recipe()
    recipe.candidates.append(CandidateRecipe("cheat", "tiny-bert", ["uci_yelp"]))
    with pytest.raises(HFSearchError, match="held-out target"):
        recipe.validate()
    with pytest.raises(HFSearchError, match="Unknown domain"):
        replace(_recipe(), candidates=[CandidateRecipe("x", "tiny-bert", ["nope"])]).validate()
    with pytest.raises(HFSearchError, match="exactly one"):
        DomainSpec("both", path="a", rows={"train": []})


def test_architecture_registry():
    assert {"text-classification/tiny-bert", "text-classification/minilm"} <= set(list_architectures())
    text = ["text-classification/minilm", "text-classification/minilm-l3", "text-classification/minilm-probe",
            "text-classification/tiny-bert"]
    assert list_architectures("text-classification/*") == text
    with pytest.raises(HFSearchError, match="Did you mean 'text-classification/tiny-bert'"):
        get_architecture("text-classification", "tiny-brt")
    with pytest.raises(HFSearchError, match="Unknown parameter"):
        get_architecture("text-classification", "tiny-bert", {"hidden": 32})
    assert get_architecture("text-classification", "tiny-bert", {"hidden_size": 32}).params["hidden_size"] == 32


def test_label_noise_and_row_selection():
    labels = [i % 2 for i in range(1000)]
    noisy = add_label_noise(labels, 0.3, num_labels=2, seed=0)
    assert sum(a != b for a, b in zip(labels, noisy, strict=True)) == 300
    assert noisy == add_label_noise(labels, 0.3, num_labels=2, seed=0) != add_label_noise(labels, 0.3, 2, seed=1)
    three = add_label_noise([0] * 100, 1.0, num_labels=3, seed=0)
    assert set(three) == {1, 2}
    rows = [{"i": i} for i in range(50)]
    picked = select_rows(rows, 10, seed=0)
    assert len(picked) == 10 and picked == sorted(picked, key=lambda r: r["i"]) == select_rows(rows, 10, seed=0)
    assert select_rows(rows, None, seed=0) == rows


def test_bucketed_batches_cover_every_row_once():
    lengths = np.array([random.Random(i).randint(1, 60) for i in range(203)])
    batches = bucketed_batches(lengths, 16, np.random.default_rng(0))
    assert sorted(np.concatenate(batches).tolist()) == list(range(203))
    assert max(len(b) for b in batches) == 16
    ordered = bucketed_batches(lengths, 16, rng=None)
    assert lengths[ordered[0]].min() >= lengths[ordered[-1]].max()


def test_demo_recipe_holds_the_target_out_and_sets_a_prior_to_beat():
    recipe = demo_recipe()
    recipe.validate()
    assert recipe.target_dataset_id() == "hfsearch-demo/uci_yelp"
    assert all("uci_yelp" not in c.sources for c in recipe.candidates)
    assert {c.arch for c in recipe.candidates} == {"tiny-bert", "minilm"}
    most_downloaded = max(recipe.candidates, key=lambda c: c.downloads or 0)
    assert most_downloaded.label_noise > 0
    for name in ("uci_amazon", "uci_imdb", "uci_yelp"):
        assert "CC BY 4.0" in (shipped_domain(name) / "SOURCE.md").read_text()


@pytest.mark.slow
def test_minilm_fine_tunes_offline(tmp_path):
    recipe = _recipe()
    recipe.candidates = [CandidateRecipe("minilm", "minilm", ["uci_amazon"], epochs=2, max_train_rows=300)]
    (built,) = build_zoo(recipe, tmp_path)
    assert built.source_accuracy > 0.75
    card = read_front_matter(built.path / "README.md")
    assert card["base_model"] == "sentence-transformers/all-MiniLM-L6-v2"
    model = AutoModelForSequenceClassification.from_pretrained(built.path)
    assert model.config.num_hidden_layers == 6 and model.config.id2label[1] == "positive"
    assert (built.path / "vocab.txt").is_file()
