"""The `evaluate` modules shipped in `hfsearch.evaluate_modules`: loaded by path, offline, with the numbers of the
computations they replace (scikit-learn, hfsearch's entity F1, the seqeval package) and of hfsearch's scorers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from sklearn.metrics import accuracy_score, f1_score

from hfsearch import evaluate_modules
from hfsearch.candidates.labels import entity_type_key, split_tag
from hfsearch.scores import SCORERS, RawData, ScoreInput, View
from hfsearch.scores.adaptivity import adaptivity_counts
from hfsearch.tasks import get_task
from hfsearch.tasks.entities import entity_f1
from hfsearch.testing.hub_server import HubServer

DATA = Path(__file__).resolve().parents[1] / "hfsearch" / "resources" / "data" / "sentiment"


def _texts(domain: str, split: str = "train") -> list[str]:
    return [json.loads(line)["text"] for line in (DATA / domain / f"{split}.jsonl").open()]


def _old_f1(labels: np.ndarray, pred: np.ndarray) -> float:
    """The benchmark's F1 before the evaluate modules: scikit-learn, binary for 0/1 labels, else macro."""
    classes = [int(c) for c in np.unique(labels)]
    scored = [1] if set(classes) <= {0, 1} else classes
    return float(f1_score(labels, pred, labels=scored, average="macro", zero_division=0))


def _old_tag_accuracy(gold: list[list[str]], pred: list[list[str]]) -> float:
    """The token task's accuracy before the evaluate modules: same prefix and entity type (up to synonyms)."""
    same = []
    for gs, ps in zip(gold, pred):
        for g, p in zip(gs, ps):
            (pg, tg), (pp, tp) = split_tag(g), split_tag(p)
            same.append(pg == pp and (pg == "O" or entity_type_key(tg) == entity_type_key(tp)))
    return float(np.mean(same))


def _predictions(rng: np.random.Generator, labels: np.ndarray, classes: int, *, wrong: float, missing: float) -> np.ndarray:
    """Predictions that are right except for a `wrong` share of other classes and a `missing` share of -1."""
    pred = labels.copy()
    flip = rng.random(len(labels)) < wrong
    pred[flip] = (labels[flip] + rng.integers(1, classes, flip.sum())) % classes
    pred[rng.random(len(labels)) < missing] = -1
    return pred


@pytest.mark.parametrize("classes", [2, 3, 5])
@pytest.mark.parametrize("seed", [0, 1])
def test_classification_truth_equals_scikit_learn(classes: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, 400)
    pred = _predictions(rng, labels, classes, wrong=0.3, missing=0.1)
    adapter = get_task("text-classification")
    assert adapter.evaluate("accuracy", labels, pred, None) == pytest.approx(accuracy_score(labels, pred), abs=1e-12)
    assert adapter.evaluate("f1", labels, pred, None) == pytest.approx(_old_f1(labels, pred), abs=1e-12)
    # binary labels score the positive class only: -1 predictions are misses, not a third class
    if classes == 2:
        expected = f1_score(labels, np.where(pred == -1, 0, pred), pos_label=1, average="binary")
        assert adapter.evaluate("f1", labels, pred, None) == pytest.approx(expected, abs=1e-12)


def test_f1_scores_only_classes_present_in_the_references() -> None:
    labels = np.array([0, 0, 2, 2, 2])  # class 1 absent from the references, predicted once
    pred = np.array([0, 1, 2, 2, -1])
    got = get_task("text-classification").evaluate("f1", labels, pred, None)
    assert got == pytest.approx(_old_f1(labels, pred)) and got == pytest.approx((2 / 3 + 0.8) / 2)


def _tag_sentences(rng: np.random.Generator, n: int) -> tuple[list[list[str]], list[list[str]]]:
    """Seeded gold BIO sentences and noisy predictions (wrong types, cut and shifted entities, spurious ones)."""
    types = ["PER", "LOC", "ORG", "MISC"]
    gold, pred = [], []
    for _ in range(n):
        tags: list[str] = []
        while len(tags) < rng.integers(3, 15):
            if rng.random() < 0.35:
                t = types[rng.integers(len(types))]
                tags += [f"B-{t}"] + [f"I-{t}"] * int(rng.integers(0, 3))
            else:
                tags.append("O")
        noisy = list(tags)
        for i in range(len(noisy)):
            r = rng.random()
            if r < 0.08:
                noisy[i] = "O"
            elif r < 0.14:
                noisy[i] = f"{'BI'[rng.integers(2)]}-{types[rng.integers(len(types))]}"
        gold.append(tags)
        pred.append(noisy)
    return gold, pred


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_token_truth_equals_entity_f1_and_tag_accuracy(seed: int) -> None:
    gold, pred = _tag_sentences(np.random.default_rng(seed), 120)
    names = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC", "I-MISC"]
    labels = np.empty(len(gold), dtype=object)
    labels[:] = [[names.index(t) for t in s] for s in gold]
    flat = np.array([names.index(t) for s in pred for t in s])
    flat[::17] = -1  # model tags with no target counterpart are read as "O"
    read = [names[p] if p >= 0 else "O" for p in flat]
    bounds = np.cumsum([0, *[len(s) for s in gold]])
    pred = [read[bounds[k] : bounds[k + 1]] for k in range(len(gold))]
    adapter = get_task("token-classification")
    assert adapter.evaluate("f1", labels, flat, names) == pytest.approx(entity_f1(gold, pred), abs=1e-12)
    assert adapter.evaluate("accuracy", labels, flat, names) == pytest.approx(_old_tag_accuracy(gold, pred), abs=1e-12)


def test_seqeval_module_equals_the_seqeval_package() -> None:
    seqeval = pytest.importorskip("seqeval.metrics")
    gold, pred = _tag_sentences(np.random.default_rng(3), 200)
    got = evaluate_modules.load("seqeval").compute(predictions=pred, references=gold)
    assert got["overall_f1"] == pytest.approx(seqeval.f1_score(gold, pred), abs=1e-12)
    assert got["overall_precision"] == pytest.approx(seqeval.precision_score(gold, pred), abs=1e-12)
    assert got["overall_recall"] == pytest.approx(seqeval.recall_score(gold, pred), abs=1e-12)
    assert got["overall_accuracy"] == pytest.approx(seqeval.accuracy_score(gold, pred), abs=1e-12)
    report = seqeval.classification_report(gold, pred, output_dict=True)
    for t in ("PER", "LOC", "ORG", "MISC"):
        assert got[t]["f1"] == pytest.approx(report[t]["f1-score"], abs=1e-12)
        assert got[t]["number"] == report[t]["support"]


def test_modules_are_loaded_once_and_unknown_names_fail_in_one_line() -> None:
    assert evaluate_modules.load("f1") is evaluate_modules.load("f1")
    with pytest.raises(Exception, match="No evaluate module 'bleu' in hfsearch; use one of"):
        evaluate_modules.path("bleu")


# ---- adaptivity as a measurement ---------------------------------------------------------------------------------
def _scorer(name: str, space: str, source: RawData, target: RawData) -> float:
    inp = ScoreInput(candidate=None, target=View(raw=target), source=View(raw=source))  # type: ignore[arg-type]
    return SCORERS.get(name)(inp, space)


@pytest.mark.parametrize(("src", "tgt"), [("uci_imdb", "uci_yelp"), ("uci_yelp", "uci_amazon")])
def test_adaptivity_measurement_equals_the_scorers_on_real_texts(src: str, tgt: str) -> None:
    import evaluate

    source, target = _texts(src)[:480], _texts(tgt, "test")[:256]
    module = evaluate.load(str(evaluate_modules.path("adaptivity")), module_type="measurement")
    got = module.compute(source=source, target=target)
    s, t = RawData(kind="text", texts=source), RawData(kind="text", texts=target)
    count, ks, kt, tau = adaptivity_counts(s, t)
    assert (got["close_pairs"], got["source_partitions"], got["target_partitions"]) == (count, ks, kt)
    assert got["tau"] == tau
    assert got["adaptivity"] == _scorer("adaptivity", "raw", s, t) == count / kt
    assert got["adaptivity_norm"] == _scorer("adaptivity_norm", "raw", s, t)
    assert got["knn_coverage"] == _scorer("knn_coverage", "raw", s, t)
    assert 0 < got["adaptivity_norm"] < 1 and 0 < got["knn_coverage"] <= 1
    # asymmetric, and parameters reach the scorer's computation
    swapped = module.compute(source=target, target=source)
    assert swapped["adaptivity"] != got["adaptivity"]
    fixed = module.compute(source=source, target=target, tau=0.3, partition_size=32)
    assert fixed["tau"] == 0.3 and fixed["adaptivity"] == adaptivity_counts(s, t, tau=0.3, partition_size=32)[0] / kt


def test_adaptivity_measurement_on_numeric_rows() -> None:
    rng = np.random.default_rng(0)
    source, target = rng.normal(0, 1, (300, 6)), rng.normal(0.3, 1, (200, 6))
    got = evaluate_modules.load("adaptivity").compute(source=source.tolist(), target=target.tolist())
    s, t = RawData(kind="numeric", values=source), RawData(kind="numeric", values=target)
    assert got["adaptivity"] == _scorer("adaptivity", "raw", s, t)
    assert got["knn_coverage"] == _scorer("knn_coverage", "raw", s, t)
    with pytest.raises(ValueError, match="same kind"):
        evaluate_modules.load("adaptivity").compute(source=["a text"] * 40, target=target.tolist())


def test_adaptivity_is_a_measurement_with_a_space_card() -> None:
    import evaluate

    folder = evaluate_modules.path("adaptivity")
    with pytest.raises(TypeError, match="measurement"):
        evaluate.load(str(folder), module_type="metric")
    text = (folder / "README.md").read_text(encoding="utf-8")
    meta = yaml.safe_load(text.split("---")[1])
    assert meta["sdk"] == "gradio" and meta["app_file"] == "app.py" and (folder / meta["app_file"]).is_file()
    assert {"evaluate", "measurement"} <= set(meta["tags"]) and meta["description"]
    for name in ("accuracy", "f1", "seqeval"):
        card = yaml.safe_load((evaluate_modules.path(name) / "README.md").read_text(encoding="utf-8").split("---")[1])
        assert {"evaluate", "metric"} <= set(card["tags"])


# ---- offline -------------------------------------------------------------------------------------------------------
_OFFLINE = r"""
import json, socket
attempts = []
_connect = socket.socket.connect
def guarded(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        attempts.append(str(address))
    return _connect(self, address)
socket.socket.connect = guarded
import evaluate
from hfsearch import evaluate_modules
out = {}
for name, kind in evaluate_modules.MODULES.items():
    out[name] = type(evaluate.load(str(evaluate_modules.path(name)), module_type=kind)).__name__
out["accuracy"] = evaluate_modules.load("accuracy").compute(predictions=[0, 1, -1], references=[0, 1, 1])
texts = [json.loads(line)["text"] for line in open(DATA + "/uci_yelp/train.jsonl")]
out["adaptivity"] = evaluate_modules.load("adaptivity").compute(source=texts[:300], target=texts[300:428])["adaptivity"]
print(json.dumps({"out": out, "attempts": attempts}))
"""


def test_modules_load_and_compute_without_any_network(tmp_path: Path) -> None:
    """A poisoned ``HF_ENDPOINT`` (a stand-in that records every request), no ``HF_HUB_OFFLINE``, and every socket
    connection to an IP address recorded: loading and computing reach neither."""
    (tmp_path / "empty" / "models").mkdir(parents=True)
    with HubServer(tmp_path / "empty") as poisoned:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_"))}
        env.update(HF_ENDPOINT=poisoned.url, HF_HOME=str(tmp_path / "hf_home"), HF_HUB_DISABLE_TELEMETRY="1")
        code = f"DATA = {str(DATA)!r}\n" + _OFFLINE
        proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert poisoned.requests == []
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["attempts"] == []
    assert result["out"]["accuracy"] == {"accuracy": pytest.approx(2 / 3)}
    assert result["out"]["adaptivity"] > 0
    assert list((tmp_path / "hf_home" / "modules" / "evaluate_modules").rglob("adaptivity.py"))
