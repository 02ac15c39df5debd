"""Workload files: the format parses, and bad files fail with one line before anything is trained."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hfsearch.bench.workload import load_workload, synthetic_downloads
from hfsearch.errors import WorkloadError

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS = REPO / "benchmarks"


def _domain(folder: Path, labels=(0, 1), pair: bool = False, n: int = 12) -> Path:
    folder.mkdir(parents=True)
    for split in ("train", "test"):
        rows = []
        for i in range(n):
            label = labels[i % len(labels)]
            rows.append({"text_a": f"a {i}", "text_b": f"b {i}", "label": label} if pair else {"text": f"row {i} of {split}", "label": label})
        (folder / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "wl.yaml"
    path.write_text(body)
    return path


BASE = """
name: t
task: text-classification
labels: [negative, positive]
domains:
  one: one
  two: two
candidates:
  - sources: [one, two]
    architectures: [tiny-bert]
targets: all
scorers: [adaptivity, jsd, confidence]
"""


@pytest.fixture()
def two_domains(tmp_path: Path) -> Path:
    _domain(tmp_path / "one")
    _domain(tmp_path / "two")
    return tmp_path


def _error(path: Path) -> str:
    with pytest.raises(WorkloadError) as info:
        load_workload(path)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_a_valid_workload(two_domains: Path):
    wl = load_workload(_write(two_domains, BASE))
    assert [c.name for c in wl.candidates] == ["tiny-bert-one", "tiny-bert-two"]
    assert wl.targets == ["one", "two"]
    assert wl.eligible("one") == ["tiny-bert-two"]  # leave-one-domain-out by default
    assert wl.metric == "accuracy" and wl.label_names == ["negative", "positive"]
    assert wl.org == "hfsearch-bench-t"
    assert set(wl.rows) == {"one", "two"} and len(wl.rows["one"]["train"]) == 12


def test_exclusion_is_an_option(two_domains: Path):
    wl = load_workload(_write(two_domains, BASE + "exclude_source_domain: false\n"))
    assert wl.eligible("one") == ["tiny-bert-one", "tiny-bert-two"]


def test_products_mixtures_seeds_and_names(two_domains: Path):
    body = BASE.replace(
        "  - sources: [one, two]\n    architectures: [tiny-bert]\n",
        "  - sources: [one, two]\n    architectures: [tiny-bert]\n    seeds: [0, 1]\n"
        "  - mixture: [one, two]\n    architecture: tiny-bert\n  - sources: [one]\n    architecture: tiny-bert\n"
        "    name: noisy\n    label_noise: 0.5\n    downloads: 5\n",
    ) + "exclude_source_domain: false\n"
    wl = load_workload(_write(two_domains, body))
    names = [c.name for c in wl.candidates]
    assert names == ["tiny-bert-one-s0", "tiny-bert-one-s1", "tiny-bert-two-s0", "tiny-bert-two-s1",
                     "tiny-bert-mix-one-two", "noisy"]
    mix = wl.candidates[4]
    assert mix.is_mixture and mix.sources == ["one", "two"]
    assert wl.candidates[5].downloads == 5 and wl.candidates[5].train["label_noise"] == 0.5


def test_string_labels_are_mapped_to_ids(tmp_path: Path):
    _domain(tmp_path / "one", labels=("negative", "positive"))
    _domain(tmp_path / "two")
    wl = load_workload(_write(tmp_path, BASE))
    assert {r["label"] for r in wl.rows["one"]["train"]} == {0, 1}


def test_shipped_workloads_are_valid():
    for name in ("ci", "sentiment", "entity-matching"):
        wl = load_workload(BENCHMARKS / f"{name}.yaml")
        assert wl.candidates and all(wl.eligible(t) for t in wl.targets)
    em = load_workload(BENCHMARKS / "entity-matching.yaml")
    assert em.is_pair and em.metric == "f1"
    sentiment = load_workload(BENCHMARKS / "sentiment.yaml")
    archs = {c.architecture for c in sentiment.candidates}
    assert archs == {"tiny-bert", "minilm", "minilm-l3", "minilm-probe"} and any(c.is_mixture for c in sentiment.candidates)
    # hub-like pools: at least 20 candidates, several runs of one family on one domain (seeds, epochs, noise)
    for wl in (sentiment, em):
        assert len(wl.candidates) >= 20
        runs = [(c.architecture, tuple(c.sources)) for c in wl.candidates]
        assert max(runs.count(r) for r in runs) >= 3
    assert any(c.train.get("class_weight") == "balanced" for c in em.candidates)


def test_synthetic_downloads_are_deterministic(two_domains: Path):
    wl = load_workload(_write(two_domains, BASE))
    a = [synthetic_downloads(wl, c) for c in wl.candidates]
    assert a == [synthetic_downloads(wl, c) for c in wl.candidates]
    assert all(10 <= d <= 1_000_000 for d in a)


# ---- one-line errors ---------------------------------------------------------------------------------------------
def test_missing_domain_folder(tmp_path: Path):
    _domain(tmp_path / "one")
    message = _error(_write(tmp_path, BASE))
    assert "domains.two" in message and "not found" in message


def test_candidate_names_an_unknown_domain(two_domains: Path):
    message = _error(_write(two_domains, BASE.replace("sources: [one, two]", "sources: [one, tow]")))
    assert "unknown domain 'tow'" in message and "Did you mean 'two'" in message


def test_label_mismatch_between_domains(tmp_path: Path):
    _domain(tmp_path / "one")
    _domain(tmp_path / "two", labels=(0, 1, 2))
    message = _error(_write(tmp_path, BASE))
    assert "label mismatch" in message and "'two'" in message


def test_label_mismatch_without_declared_labels(tmp_path: Path):
    _domain(tmp_path / "one", labels=("neg", "pos"))
    _domain(tmp_path / "two", labels=("negative", "positive"))
    message = _error(_write(tmp_path, BASE.replace("labels: [negative, positive]\n", "")))
    assert "label mismatch between domains" in message


def test_declared_domain_labels_differ(two_domains: Path):
    body = BASE.replace("  two: two\n", "  two: {path: two, labels: [bad, good]}\n")
    assert "label mismatch" in _error(_write(two_domains, body))


def test_unknown_scorer(two_domains: Path):
    message = _error(_write(two_domains, BASE.replace("adaptivity, jsd", "adaptivity, jsdd")))
    assert "scorers" in message and "jsdd" in message and "Did you mean 'jsd'" in message


def test_unknown_scorer_parameter(two_domains: Path):
    body = BASE + "score_params: {adaptivity: {tua: 0.5}}\n"
    message = _error(_write(two_domains, body))
    assert "'tua'" in message and "adaptivity" in message and "parameter" in message


def test_unknown_architecture(two_domains: Path):
    message = _error(_write(two_domains, BASE.replace("[tiny-bert]", "[tiny-bret]")))
    assert "tiny-bret" in message and "Did you mean" in message


def test_unknown_field_and_target(two_domains: Path):
    assert "unknown field 'scorer'" in _error(_write(two_domains, BASE.replace("scorers:", "scorer:")))
    assert "unknown domain 'three'" in _error(_write(two_domains, BASE.replace("targets: all", "targets: [three]")))


def test_target_left_without_candidates(two_domains: Path):
    body = BASE.replace("sources: [one, two]", "sources: [one]").replace("targets: all", "targets: [one]")
    assert "no candidate is left for target 'one'" in _error(_write(two_domains, body))


def test_pairs_and_single_texts_do_not_mix(tmp_path: Path):
    _domain(tmp_path / "one")
    _domain(tmp_path / "two", pair=True)
    assert "mix text pairs" in _error(_write(tmp_path, BASE))


def test_missing_split_and_bad_yaml(tmp_path: Path):
    _domain(tmp_path / "one")
    two = _domain(tmp_path / "two")
    (two / "test.jsonl").unlink()
    assert "no 'test' split" in _error(_write(tmp_path, BASE))
    assert "not valid YAML" in _error(_write(tmp_path, "name: [unclosed\n"))
    assert "not found" in _error(tmp_path / "missing.yaml")


def test_errors_come_before_any_training(two_domains: Path, monkeypatch):
    """A bad workload never reaches the zoo builder."""
    from hfsearch.bench.run import run_benchmark
    from hfsearch.zoo import build

    def boom(*args, **kwargs):
        raise AssertionError("build_zoo must not be called for an invalid workload")

    monkeypatch.setattr(build, "build_zoo", boom)
    bad = _write(two_domains, BASE.replace("adaptivity, jsd", "adaptivity, no_such_scorer"))
    with pytest.raises(WorkloadError):
        run_benchmark(bad, zoo_dir=two_domains / "zoo")
    assert not (two_domains / "zoo").exists()


def test_learning_rate_written_as_text(two_domains: Path):
    body = BASE.replace("    architectures: [tiny-bert]\n", "    architectures: [tiny-bert]\n    learning_rate: 1e-4\n")
    assert "learning_rate" in _error(_write(two_domains, body))
