"""Hub evaluation data as a signal (`hfsearch.candidates.reported`, scorer ``reported_accuracy``): model-index,
``.eval_results/*.yaml`` files and benchmark leaderboards, read through the real client from the Hub stand-in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

from hfsearch.candidates.candidate import Candidate
from hfsearch.candidates.discover import Filters, discover
from hfsearch.candidates.reported import (
    attach_reported,
    eval_results_entries,
    model_index_results,
    reported_accuracy_of,
)
from hfsearch.hub import layout
from hfsearch.scores import SCORERS, ScoreInput, View
from hfsearch.testing.hub_server import HubServer

BENCH, PLAIN = "bench/sst-mini", "plain/reviews"


def _card(meta: dict[str, Any]) -> str:
    return "---\n" + yaml.safe_dump(meta, sort_keys=False) + "---\n# card\n"


def _model(root: Path, repo_id: str, meta: dict[str, Any], evals: dict[str, list[dict]] | None = None) -> None:
    folder = layout.repo_dir(root, repo_id)
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"model_type": "bert", "id2label": {"0": "neg", "1": "pos"}}))
    (folder / "README.md").write_text(_card({"pipeline_tag": "text-classification", **meta}))
    for name, entries in (evals or {}).items():
        (folder / ".eval_results").mkdir(exist_ok=True)
        (folder / ".eval_results" / name).write_text(yaml.safe_dump(entries, sort_keys=False))


def _model_index(dataset: str, split: str, metric: str, value: float) -> dict[str, Any]:
    return {"name": "m", "results": [{"task": {"type": "text-classification"},
                                      "dataset": {"name": dataset, "type": dataset, "split": split},
                                      "metrics": [{"type": metric, "value": value}]}]}


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("reported")
    bench = layout.repo_dir(root, BENCH, layout.DATASETS)
    bench.mkdir(parents=True)
    (bench / "test.jsonl").write_text(json.dumps({"text": "fine", "label": 1}) + "\n")
    (bench / "eval.yaml").write_text(yaml.safe_dump({
        "name": "SST mini", "evaluation_framework": "inspect-ai",
        "tasks": [{"id": "sst", "config": "default", "split": "test"}],
    }))
    plain = layout.repo_dir(root, PLAIN, layout.DATASETS)
    plain.mkdir(parents=True)
    (plain / "test.jsonl").write_text(json.dumps({"text": "ok", "label": 0}) + "\n")
    _model(root, "m/card-acc", {"model-index": [
        _model_index(BENCH, "test", "accuracy", 91.5),  # a percentage
        _model_index(PLAIN, "validation", "accuracy", 0.8),
        _model_index(PLAIN, "test", "f1", 0.7),
    ]})
    _model(root, "m/evals", {}, {
        "sst.yaml": [{"dataset": {"id": BENCH, "task_id": "sst"}, "value": 0.87, "verifyToken": "signed",
                      "source": {"url": "https://example.org/logs", "name": "Eval logs"}, "notes": "no-tools"}],
        "other.yaml": [{"dataset": {"id": "other/ds", "task_id": "t"}, "value": 0.5}],
    })
    _model(root, "m/old-spec", {}, {"r.yml": [{"dataset": {"id": PLAIN, "split": "test"}, "value": 77}]})
    _model(root, "m/finetune", {"base_model": "m/evals"},
           {"sst.yaml": [{"dataset": {"id": BENCH, "task_id": "sst"}, "value": 0.93}]})
    _model(root, "m/none", {})
    return root


@pytest.fixture(scope="module")
def server(registry: Path) -> Iterator[HubServer]:
    with HubServer(registry) as srv:
        yield srv


def _found(server: HubServer | None, dataset: str, split: str | None, *, hub_dir: str | None = None,
           leaderboard_only: tuple[str, ...] = ()) -> dict[str, Candidate]:
    endpoint = server.url if server else None
    found = discover("text-classification", "text-classification", filters=Filters(safetensors_only=False),
                     max_models=20, endpoint=endpoint, token=False, hub_dir=hub_dir)
    for c in found.candidates:
        if c.repo_id in leaderboard_only:
            c.eval_files = []  # as for a result submitted by pull request: on the leaderboard, not in the files
    attach_reported(found.candidates, dataset, split=split, endpoint=endpoint, token=False, hub_dir=hub_dir)
    return {c.repo_id: c for c in found.candidates}


def test_stand_in_serves_the_leaderboard_to_the_real_client(server: HubServer) -> None:
    api = HfApi(endpoint=server.url, token=False)
    default = api.get_dataset_leaderboard(BENCH)
    assert [(e.rank, e.model_id, e.value) for e in default] == [(1, "m/evals", 0.87)]  # derived models left out
    full = api.get_dataset_leaderboard(BENCH, base_model_only=False)
    assert [(e.model_id, e.value, e.verified) for e in full] == [("m/finetune", 0.93, False), ("m/evals", 0.87, True)]
    assert full[1].filename == ".eval_results/sst.yaml" and full[1].notes == "no-tools"
    with pytest.raises(HfHubHTTPError):
        api.get_dataset_leaderboard(PLAIN)


def test_reported_accuracy_on_a_benchmark_target(server: HubServer) -> None:
    cands = _found(server, BENCH, "test", leaderboard_only=("m/finetune",))
    assert cands["m/evals"].eval_files == [".eval_results/other.yaml", ".eval_results/sst.yaml"]
    got = {repo: reported_accuracy_of(c) for repo, c in cands.items()}
    card, _ = got["m/card-acc"]
    assert (card.value, card.reported_value, card.origin, card.split) == (0.915, 91.5, "model-index", "test")
    assert cands["m/card-acc"].source_accuracy == 0.915  # the card's first accuracy, written as a percentage
    evals, _ = got["m/evals"]
    assert (evals.value, evals.origin, evals.verified, evals.split, evals.config) == (0.87, ".eval_results", True,
                                                                                       "test", "default")
    assert evals.describe() == (".eval_results (.eval_results/sst.yaml): headline score on sst-mini".replace(
        "sst-mini", BENCH + " (default)") + ", split test, verified")
    board, _ = got["m/finetune"]
    assert (board.value, board.origin) == (0.93, "leaderboard") and board.where.startswith(f"leaderboard of {BENCH}")
    none, why = got["m/none"]
    assert none is None and why.startswith(f"reports no result on {BENCH} (looked at: model card model-index")
    inp = ScoreInput(candidate=cands["m/evals"], target=View())
    assert SCORERS.get("reported_accuracy")(inp) == 0.87
    unread = Candidate("m/evals", "text-classification", reported=cands["m/evals"].reported)
    assert "were not read for this search" in reported_accuracy_of(unread)[1]


def test_split_config_and_metric_must_match(server: HubServer) -> None:
    cands = _found(server, BENCH, "validation")
    card, why = reported_accuracy_of(cands["m/card-acc"])
    assert card is None and f"reports results on {BENCH} for split test, not validation" in why
    assert reported_accuracy_of(cands["m/evals"])[0] is None  # its split comes from the benchmark's eval.yaml
    plain = _found(server, PLAIN, "test")
    none, why = reported_accuracy_of(plain["m/card-acc"])  # accuracy on validation, only F1 on test
    assert none is None and why.startswith(f"reports f1 on {PLAIN} but no accuracy")
    assert f"{PLAIN} is not a benchmark (no eval.yaml)" in why
    old, _ = reported_accuracy_of(plain["m/old-spec"])  # the first spec's split in the entry itself, as a percentage
    assert (old.value, old.split, old.origin) == (0.77, "test", ".eval_results")
    unsplit = _found(server, PLAIN, None)
    assert reported_accuracy_of(unsplit["m/card-acc"])[0].split == "validation"  # no target split: any split


def test_local_registry_reads_the_same_and_local_paths_report_nothing(server: HubServer, registry: Path,
                                                                      tmp_path: Path) -> None:
    remote = _found(server, BENCH, "test")
    local = _found(None, BENCH, "test", hub_dir=str(registry))
    for repo in remote:
        a, b = reported_accuracy_of(remote[repo])[0], reported_accuracy_of(local[repo])[0]
        assert (a and (a.value, a.origin)) == (b and (b.value, b.origin))
    folder = _found(None, str(tmp_path), "test", hub_dir=str(registry))
    none, why = reported_accuracy_of(folder["m/card-acc"])
    assert none is None and "not a Hub dataset" in why


def test_parsers_follow_the_hub_formats() -> None:
    full = """
- dataset:
    id: cais/hle
    task_id: default
    revision: 5503434ddd753f426f4b38109466949a1217c2bb
  value: 20.90
  verifyToken: eyJhbGciOi
  date: "2025-01-15"
  source:
    url: https://huggingface.co/spaces/SaylorTwift/smollm3-mmlu-pro
    name: Eval traces
    user: SaylorTwift
  notes: "no-tools"
- dataset:
    id: Idavidrein/gpqa
    task_id: gpqa_diamond
  value: 0.412
- dataset: {task_id: no-id}
  value: 0.3
- dataset: {id: x/y}
  value: not a number
"""
    got = eval_results_entries(full, ".eval_results/hle.yaml")
    assert [(r.dataset, r.task_id, r.value, r.reported_value, r.verified) for r in got] == [
        ("cais/hle", "default", pytest.approx(0.209), 20.9, True), ("Idavidrein/gpqa", "gpqa_diamond", 0.412, 0.412, False)]
    assert got[0].notes == "no-tools"
    old = eval_results_entries("- dataset: {id: Idavidrein/gpqa, config: gpqa_diamond, split: train}\n  value: 0.4\n",
                               "x.yaml")
    assert (old[0].config, old[0].split, old[0].task_id) == ("gpqa_diamond", "train", None)
    with pytest.raises(ValueError, match="is not YAML"):
        eval_results_entries("- dataset: [", "bad.yaml")
    card = {"model-index": [_model_index("imdb", "test", "Accuracy", 0.93), {"results": "garbage"}, None]}
    assert [(r.dataset, r.metric, r.value) for r in model_index_results(card)] == [("imdb", "accuracy", 0.93)]


def test_a_value_written_with_a_percent_sign_is_a_percentage():
    """'93.1%' in a card's model-index was dropped as not a number; '0.5%' is half a point, not 50%."""
    from hfsearch.candidates.reported import as_fraction

    assert as_fraction("93.1%") == pytest.approx((0.931, 93.1))
    assert as_fraction(" 0.5 % ") == pytest.approx((0.005, 0.5))
    assert as_fraction("0.93") == pytest.approx((0.93, 0.93)) and as_fraction("x%") is None
