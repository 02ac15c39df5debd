"""One contract for every registered scorer and every registered task adapter.

A scorer or a task registered tomorrow is checked by these tests the day it is registered: a task without an
example below fails `test_every_task_has_an_example` until one is added.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from datasets import ClassLabel, Dataset, Features, Sequence, Value

from hfsearch.candidates.candidate import Candidate
from hfsearch.data.sample import Sample, fingerprint
from hfsearch.estimate.target import TargetMetric, target_probabilities
from hfsearch.pipeline.state import Peer
from hfsearch.scores import SCORERS, RawData, ScoreInput, ScoreUnavailable, View, softmax
from hfsearch.scores.base import NEEDS, SPACES
from hfsearch.tasks import TASKS

KINDS = {"similarity", "non-similarity", "prior", "estimate"}
rng = np.random.default_rng(0)
WORDS = "good bad great awful movie food service price phone battery screen slow fast cheap".split()


def _texts(n: int, shift: int = 0) -> list[str]:
    return [" ".join(WORDS[(i * 3 + j + shift) % len(WORDS)] for j in range(6)) for i in range(n)]


def _view(n: int, *, shift: int = 0, labels: bool = False, rng: np.random.Generator = rng) -> View:
    logits = rng.normal(size=(n, 2)) * 2
    return View(raw=RawData(kind="text", texts=_texts(n, shift)), logits=logits,
                features=rng.normal(size=(n, 8)).astype(np.float32) + shift,
                reference=rng.normal(size=(n, 8)).astype(np.float32) + shift,
                labels=rng.integers(0, 2, n) if labels else None)


def _full_input(name: str = "org/a") -> ScoreInput:
    """Everything a scorer may need, for candidate `name` among three (the same seeded data at every call)."""
    rng = np.random.default_rng(1)
    names = ["org/a", "org/b", "org/c"]
    target = _view(120, rng=rng)
    peers = {}
    for k, m in enumerate(names):
        probs = softmax(rng.normal(size=(120, 2)) * 2)
        peers[m] = Peer(repo_id=m, sha=str(k) * 40, pred=probs.argmax(1), probs=probs, heldout="org/src/test",
                        heldout_pred=rng.integers(0, 2, 60), heldout_labels=rng.integers(0, 2, 60))
    peer = peers[name]
    cand = Candidate(repo_id=name, task="text-classification", sha="0" * 40, datasets=["org/src"], num_params=1000,
                     downloads=10, likes=1, source_accuracy=0.8, label_map={0: 0, 1: 1}, id2label={0: "neg", 1: "pos"})
    source = _view(200, shift=1, rng=rng)
    return ScoreInput(
        candidate=cand, target=target, source=source, pool={m: p.pred for m, p in peers.items()},
        heldout=_view(60, labels=True, rng=rng), peers=peers, sources={m: source for m in names},
        metric=TargetMetric("accuracy", peer.pred, peer.probs,
                            lambda q, p: float(np.mean(q[np.arange(len(p)), np.maximum(p, 0)] * (p >= 0)))),
    )


@pytest.mark.parametrize("name", SCORERS.names())
def test_every_scorer_declares_itself(name):
    info = SCORERS.get(name)
    assert info.name == name and info.kind in KINDS
    assert set(info.needs) <= set(NEEDS) and set(info.spaces) <= set(SPACES)
    assert info.description and "\n" not in info.description
    assert isinstance(info.higher_is_better, bool)


@pytest.mark.parametrize("name", SCORERS.names())
def test_every_scorer_gives_a_finite_value_or_a_one_line_reason(name):
    info = SCORERS.get(name)
    for space in info.spaces or (None,):
        inp = _full_input()
        try:
            value = info(inp, space)
        except ScoreUnavailable as exc:
            assert str(exc) and "\n" not in str(exc), (name, space)
            continue
        assert math.isfinite(value), (name, space)
        assert info(_full_input(), space) == pytest.approx(value, rel=1e-9, abs=1e-12), "not deterministic"
        if info.kind == "estimate":  # a predicted metric
            assert 0.0 <= value <= 1.0, (name, value)


@pytest.mark.parametrize("name", SCORERS.names())
def test_every_scorer_says_why_when_its_inputs_are_missing(name):
    info = SCORERS.get(name)
    bare = ScoreInput(candidate=Candidate(repo_id="org/x", task="text-classification"), target=View(),
                      source_reason="the model card declares no datasets")
    for space in info.spaces or (None,):
        try:
            value = info(bare, space)
        except ScoreUnavailable as exc:
            assert str(exc) and "\n" not in str(exc)
        else:
            assert math.isfinite(value)


# ---- task adapters ---------------------------------------------------------------------------------------------------
def _examples() -> dict[str, tuple[Dataset, list[str]]]:
    """A tiny labeled dataset per task, and the input columns it must resolve to."""
    text = Dataset.from_dict({"text": _texts(6), "label": [0, 1, 0, 1, 1, 0]},
                             features=Features({"text": Value("string"), "label": ClassLabel(names=["neg", "pos"])}))
    pair = Dataset.from_dict({"text_a": _texts(6), "text_b": _texts(6, 2), "label": [0, 1, 0, 1, 1, 0]},
                             features=Features({"text_a": Value("string"), "text_b": Value("string"),
                                                "label": ClassLabel(names=["non-match", "match"])}))
    image = Dataset.from_dict({"image": [rng.integers(0, 255, (8, 8)).tolist() for _ in range(6)],
                               "label": [0, 1, 2, 0, 1, 2]})
    tags = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    tokens = Dataset.from_dict(
        {"tokens": [["Ann", "lives", "in", "Rome"], ["Bob", "Smith", "left"], ["Paris", "is", "big"]],
         "ner_tags": [[1, 0, 0, 3], [1, 2, 0], [3, 0, 0]]},
        features=Features({"tokens": Sequence(Value("string")), "ner_tags": Sequence(ClassLabel(names=tags))}))
    series = Dataset.from_dict({"series": [rng.normal(size=(32, 3)).tolist() for _ in range(6)],
                                "label": [0, 1, 0, 1, 0, 1]})
    return {
        "text-classification": (text, ["text"]),
        "text-pair-classification": (pair, ["text_a", "text_b"]),
        "image-classification": (image, ["image"]),
        "token-classification": (tokens, ["tokens"]),
        "time-series-classification": (series, ["series"]),
    }


def test_every_task_has_an_example():
    missing = sorted(set(TASKS.names()) - set(_examples()))
    assert not missing, f"add an example dataset for task(s) {missing} to tests/test_contracts.py"


@pytest.mark.parametrize("name", TASKS.names())
def test_every_task_adapter_reads_its_example(name):
    adapter = TASKS.get(name)
    ds, expected = _examples()[name]
    assert adapter.name == name and adapter.pipeline_tag and adapter.description and adapter.metrics
    columns = adapter.resolve_columns(ds.features, None)
    assert columns == expected
    label = adapter.label_column(ds.features)
    assert label is not None and label not in columns
    ds2, columns2, label2 = adapter.prepare(ds, columns, label, [])
    raw = adapter.raw(ds2, columns2)
    assert len(raw) == len(ds2)


@pytest.mark.parametrize("name", TASKS.names())
def test_every_task_predicts_the_metric_it_grades(name):
    """The estimators' expected metric under a one-hot posterior of the true labels equals the ground truth metric:
    what an estimator predicts and what the benchmark measures are the same quantity."""
    adapter = TASKS.get(name)
    ds, _ = _examples()[name]
    columns = adapter.resolve_columns(ds.features, None)
    label = adapter.label_column(ds.features)
    ds, columns, label = adapter.prepare(ds, columns, label, [])
    labels = adapter.labels_array(ds, label)
    gold = np.concatenate([np.asarray(v) for v in labels]) if labels.dtype == object else np.asarray(labels)
    names = adapter.prepare_label_names(adapter.label_names(ds.features, label)
                                        or [f"c{i}" for i in range(int(gold.max()) + 1)])
    n_classes = len(names)
    preds = rng.integers(0, n_classes, len(gold))
    target = Sample(rows=ds.select_columns(columns), columns=columns, name="t", indices=np.arange(len(ds)),
                    fingerprint=fingerprint(ds, columns), label_names=names)
    q = np.eye(n_classes)[gold]
    for seed in range(20):
        preds = np.random.default_rng(seed).integers(0, n_classes, len(gold))
        for metric in adapter.metrics:
            expected = adapter.expected_metric(metric, q, preds, target)
            truth = adapter.evaluate(metric, labels, preds, names)
            assert expected == pytest.approx(truth, abs=1e-9), (name, metric, seed)


def test_target_probabilities_follow_the_label_map():
    probs = np.array([[0.2, 0.5, 0.3]])
    out = target_probabilities(probs, {0: 1, 1: 0}, 2)  # model label 2 has no target counterpart
    np.testing.assert_allclose(out, [[0.5, 0.2]])
