"""Early elimination (``--budget auto``): racing on growing seeded slices, the prefix cache, budgets and the order.

The pool (a local registry in a temporary folder, copied from the session's test registry): ``good`` (a tiny BERT
trained on the target's domain), ``close`` (the same with every weight nudged: a different model of about the same
accuracy) and ``noisy`` (trained on another domain with half its labels flipped: clearly worse).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from hfsearch.candidates import Candidate, Skipped
from hfsearch.candidates.order import likely_winners_first
from hfsearch.candidates.reported import ReportedResult
from hfsearch.config import SearchConfig, options
from hfsearch.data.sample import seeded_order
from hfsearch.errors import ConfigError
from hfsearch.pipeline import race
from hfsearch.pipeline.budget import Budget
from hfsearch.rank.result import CandidateResult
from hfsearch.runner import Outputs
from hfsearch.runner.cache import OutputCache
from hfsearch.runner.runner import Runner
from hfsearch.runner.prefix import concat
from hfsearch.search import Search

GOOD, CLOSE, NOISY = "race-org/good", "race-org/close", "race-org/noisy"
POOL = [GOOD, CLOSE, NOISY]
SAMPLES = 300  # the target split's size: slices of 64 and 256 rows, then all 300


@pytest.fixture(scope="module")
def race_hub(registry: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from safetensors.torch import load_file, save_file

    root = tmp_path_factory.mktemp("race-hub")
    for ds in ("uci_yelp", "uci_amazon"):
        shutil.copytree(registry / "datasets" / "test-org" / ds, root / "datasets" / "test-org" / ds)
    for repo, src in ((GOOD, "bert-yelp"), (CLOSE, "bert-yelp"), (NOISY, "bert-amazon-noisy")):
        shutil.copytree(registry / "models" / "test-org" / src, root / "models" / repo)
    weights = root / "models" / CLOSE / "model.safetensors"
    gen = torch.Generator().manual_seed(0)
    state = {k: v + 0.1 * v.std() * torch.randn(v.shape, generator=gen) if v.is_floating_point() and v.numel() > 1
             else v for k, v in load_file(str(weights)).items()}
    save_file(state, str(weights), metadata={"format": "pt"})
    return root


MIN_POOL = race.MIN_POOL  # the shipped threshold


@pytest.fixture(autouse=True)
def race_small_pools(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pool here has 3 candidates: let ``auto`` race from 2 on (it waits for `race.MIN_POOL` by default)."""
    monkeypatch.setattr(race, "MIN_POOL", 2)


def search(race_hub: Path, tmp_path: Path, **options) -> Search:
    cfg = SearchConfig.create(task="text-classification", dataset="test-org/uci_yelp", split="test",
                              hub_dir=str(race_hub), models=POOL, samples=SAMPLES, labels="negative,positive",
                              cache_dir=str(tmp_path / "outputs"), progress=False, **options)
    s = Search(cfg)
    s.execute()
    return s


def by_id(s: Search) -> dict[str, CandidateResult]:
    assert s.result is not None
    return {r.repo_id: r for r in s.result.candidates}


def test_clearly_worse_candidate_is_dropped_after_the_first_slice_and_a_close_one_is_not(race_hub, tmp_path):
    s = search(race_hub, tmp_path, budget="auto")
    res = by_id(s)
    first = race.slice_sizes(SAMPLES)[0]
    noisy = res[NOISY]
    assert noisy.status == "eliminated" and noisy.rows == first
    assert noisy.heldout_rows == race.heldout_rows(300, first, SAMPLES)
    value, low, high = noisy.predicted
    assert low <= value <= high and "leader" in noisy.status_reason
    for repo in (GOOD, CLOSE):  # close to each other: both run on the whole sample
        assert res[repo].status == "complete" and res[repo].rows == SAMPLES
    result = s.result
    assert result.best in (GOOD, CLOSE)
    assert list(result.ranking["model"])[-1] == NOISY  # a slice's result ranks after the complete ones
    assert any(n.startswith(f"eliminated {NOISY} after {first} target rows") for n in result.notes())
    assert {"status", "rows"} <= {c.key for c in result.to_table().columns}
    row = next(r for r in result.to_dict()["ranking"] if r["model"] == NOISY)
    assert row["status"] == "eliminated" and row["rows"] == first and row["status_reason"]
    # it only ever ran its slice: 64 target + 64 held-out rows, the others 300 + 300
    assert s.runner.stats.rows_computed == 2 * first + 2 * (2 * SAMPLES)


def test_survivors_stay_loaded_between_rounds(race_hub, tmp_path, monkeypatch):
    s = search(race_hub, tmp_path / "held", budget="auto")
    rounds = len(race.slice_sizes(SAMPLES))  # good and close run every round, noisy only the first
    assert s.runner.stats.models_loaded == len(POOL)  # each loaded once
    assert s.runner.stats.models_reused == 2 * (rounds - 1)
    assert s.runner.held == []  # freed when the race ends
    monkeypatch.setattr(race, "hold_budget", lambda device: 0)  # nothing fits: reloaded every round
    again = search(race_hub, tmp_path / "reload", budget="auto")
    assert again.runner.stats.models_loaded == 1 + 2 * rounds and again.runner.stats.models_reused == 0
    for repo in (GOOD, CLOSE):  # the same outputs either way
        assert by_id(s)[repo].scores["atc"] == pytest.approx(by_id(again)[repo].scores["atc"])
        assert by_id(s)[repo].predicted == pytest.approx(by_id(again)[repo].predicted)


def test_hold_budget_is_a_share_of_free_memory_capped_on_the_cpu():
    import torch

    from hfsearch.runner import runner

    budget = runner.hold_budget(torch.device("cpu"))
    assert 0 < budget <= runner.HOLD_CAP


def test_racing_picks_what_full_picks(race_hub, tmp_path):
    full, auto = search(race_hub, tmp_path / "a", budget="full"), search(race_hub, tmp_path / "b", budget="auto")
    assert auto.result.best == full.result.best
    f, a = by_id(full), by_id(auto)
    for repo in (GOOD, CLOSE):  # the survivors' predictions on the whole sample are the same as without racing
        assert a[repo].scores["atc"] == pytest.approx(f[repo].scores["atc"])


def test_a_held_out_slice_complete_from_the_first_round_keeps_its_rows_paired_with_their_labels(race_hub, tmp_path):
    """With at most `race.MIN_HELDOUT_ROWS` held-out rows, every round reads the whole held-out sample: its outputs
    are in the sample's order, and so must be the labels they are graded against, in every round and at the end."""
    small = race.MIN_HELDOUT_ROWS - 2
    full = search(race_hub, tmp_path / "a", budget="full", heldout_samples=small)
    auto = search(race_hub, tmp_path / "b", budget="auto", heldout_samples=small)
    f, a = by_id(full), by_id(auto)
    assert a[NOISY].status == "eliminated" and a[NOISY].heldout_rows == small
    for repo in (GOOD, CLOSE):
        assert a[repo].status == "complete"
        assert a[repo].scores["atc"] == pytest.approx(f[repo].scores["atc"])
        assert a[repo].scores["doc"] == pytest.approx(f[repo].scores["doc"])


def test_rerun_with_more_rows_reuses_the_cached_prefix(race_hub, tmp_path):
    search(race_hub, tmp_path, budget="auto")  # noisy: 64 target and 64 held-out rows cached
    again = search(race_hub, tmp_path, budget="full")  # now every candidate needs all its rows
    first = race.slice_sizes(SAMPLES)[0]
    assert again.runner.stats.rows_computed == 2 * (SAMPLES - first)  # only noisy's missing rows
    assert again.runner.stats.models_loaded == 1
    fresh = search(race_hub, tmp_path / "fresh", budget="full", use_cache=False)
    assert by_id(again)[NOISY].scores["atc"] == pytest.approx(by_id(fresh)[NOISY].scores["atc"])
    assert by_id(again)[NOISY].status == "complete"


def test_time_budget_mid_race_stops_with_the_best_answer_so_far(race_hub, tmp_path, monkeypatch):
    monkeypatch.setattr(Budget, "out_of_time", lambda self: len(self.charged) >= len(POOL))  # after round one
    s = search(race_hub, tmp_path, budget="auto", max_time=3600)
    res = by_id(s)
    first = race.slice_sizes(SAMPLES)[0]
    assert {r.status for r in res.values()} == {"stopped"} and {r.rows for r in res.values()} == {first}
    assert s.result.best in (GOOD, CLOSE)
    assert f"from its first {first} target rows only" in s.result.recommendation()


def test_download_budget_lists_what_was_not_tried(race_hub, tmp_path):
    size = (race_hub / "models" / GOOD / "model.safetensors").stat().st_size
    s = search(race_hub, tmp_path, budget="full", max_download=size + 1)  # room for one candidate's weights
    not_tried = [k for k in s.result.skipped if k.stage == "budget"]
    assert len(not_tried) == 2 and all("--max-download" in k.reason for k in not_tried)
    assert len(s.result.candidates) == 1 and s.result.best is not None


def test_budget_auto_falls_back_to_full_and_says_why(race_hub, tmp_path):
    s = search(race_hub, tmp_path, budget="auto", rank_by="confidence")
    assert all(r.status == "complete" for r in s.result.candidates)
    assert any("--budget auto ran every candidate in full" in w for w in s.result.warnings)


def test_default_budget_runs_a_small_pool_in_full_without_a_warning(race_hub, tmp_path, monkeypatch):
    monkeypatch.setattr(race, "MIN_POOL", MIN_POOL)
    assert SearchConfig.create(task="text-classification", dataset="x").budget == "auto"
    assert len(POOL) < race.MIN_POOL
    s = search(race_hub, tmp_path)  # the default budget
    assert all(r.status == "complete" and r.rows == SAMPLES for r in s.result.candidates)
    assert not any("--budget" in w for w in s.result.warnings)
    assert f"from {race.MIN_POOL} candidates on" in options()["budget"].help  # the help states the threshold


# ---- units -------------------------------------------------------------------------------------------------------
def test_slices_grow_to_the_whole_sample():
    assert race.slice_sizes(1000) == [125, 500, 1000]
    assert race.slice_sizes(100) == [100]  # too small to race
    assert race.heldout_rows(400, 125, 1000) == 50 and race.heldout_rows(400, 1000, 1000) == 400
    assert race.heldout_rows(400, 64, 10_000) == race.MIN_HELDOUT_ROWS


def test_race_bounds_shrink_with_rows_and_vanish_on_the_whole_sample():
    widths = [np.subtract(*race.race_bounds(0.7, m, 1000, m // 2, 400)[::-1]) for m in (100, 400, 800)]
    assert widths[0] > widths[1] > widths[2] > 0
    assert race.race_bounds(0.7, 1000, 1000) == (0.7, 0.7)
    assert np.subtract(*race.race_bounds(0.7, 100, 1000, weight=2.0)[::-1]) > widths[0] / 2


def result(repo: str, value: float | None) -> CandidateResult:
    return CandidateResult(repo, None, {}, predicted=None if value is None else (value, value - 0.2, value + 0.2))


def test_only_candidates_clearly_below_the_leader_are_eliminated():
    results = [result("a", 0.85), result("b", 0.80), result("c", 0.50), result("d", None)]
    bounds = {"a": (0.80, 0.90), "b": (0.74, 0.86), "c": (0.45, 0.55)}
    out = race.eliminated(results, bounds)
    assert [r.repo_id for r in out] == ["c"] and out[0].status == "eliminated" and "leader a" in out[0].status_reason
    assert race.eliminated([result("a", 0.9), result("d", None)], {"a": (0.85, 0.95)}) == []  # nobody to compare


def test_prefix_outputs_concatenate_and_pad_token_logits():
    a = Outputs(logits=np.ones((2, 3, 2), np.float32), features=np.zeros((2, 4), np.float16))
    b = Outputs(logits=np.ones((1, 5, 2), np.float32), features=np.ones((1, 4), np.float16))
    out = concat(a, b)
    assert out.logits.shape == (3, 5, 2) and np.isnan(out.logits[0, 3:]).all() and out.features.shape == (3, 4)
    order = seeded_order(50, seed=3)
    assert sorted(order.tolist()) == list(range(50)) and not np.array_equal(order, np.arange(50))
    assert np.array_equal(order, seeded_order(50, seed=3))


def test_likely_winners_run_first():
    cands = [Candidate("o/popular", "t", downloads=1000), Candidate("o/reports", "t", source_accuracy=0.9),
             Candidate("o/nothing", "t"), Candidate("o/reports-less", "t", source_accuracy=0.7, downloads=5),
             Candidate("o/big", "t", num_params=10**8),
             Candidate("o/on-target", "t", source_accuracy=0.5, target_dataset="org/data", reported_checked=["card"],
                       reported=[ReportedResult(dataset="org/data", value=0.6, origin="model-index", where="card")])]
    assert [c.repo_id for c in likely_winners_first(cands)] == ["o/on-target", "o/reports", "o/reports-less",
                                                                 "o/popular", "o/big", "o/nothing"]


def test_budget_refuses_what_does_not_fit(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"x" * 1000)
    cand = Candidate("o/m", "t", path=str(folder))
    assert Budget(max_download=999).refuse(cand) is not None
    budget = Budget(max_download=1500)
    assert budget.refuse(cand) is None
    budget.charge(cand)
    assert "--max-download" in (budget.refuse(Candidate("o/n", "t", path=str(folder))) or "")
    late = Budget(max_time=1, started=0.0)
    assert late.refuse(cand) is None  # the first candidate always runs
    late.charge(cand)
    assert "--max-time" in (late.refuse(Candidate("o/n", "t", weights_bytes=10)) or "")


def test_budget_options_are_validated():
    with pytest.raises(ConfigError, match="budget must be one of auto, full"):
        SearchConfig.create(task="text-classification", dataset="x", budget="fast")
    with pytest.raises(ConfigError, match="max_time must be at least 1"):
        SearchConfig.create(task="text-classification", dataset="x", max_time=0)
    assert SearchConfig.create(task="text-classification", dataset="x", max_download="5e8").max_download == 500_000_000
    sizes = {"5e8": 500_000_000, "500MB": 500_000_000, "5 GB": 5 * 10**9, "2GiB": 2 * 2**30, "1.5kb": 1500, "7": 7,
             "1.001GB": 1_001_000_000, "2.01KB": 2010, "1.2GiB": 1_288_490_188}  # decimal, not float, arithmetic
    for text, size in sizes.items():
        assert SearchConfig.create(task="text-classification", dataset="x", max_download=text).max_download == size


def test_only_root_model_weights_count_as_safetensors():
    """A pickle checkpoint with safetensors only in a subfolder, or only an adapter's, is not a safetensors model:
    without --allow-pickle it must not take a candidate's place and fail at load."""
    from huggingface_hub import ModelInfo

    from hfsearch.candidates.discover import candidate_from_info

    def cand(*files: str) -> Candidate:
        return candidate_from_info(ModelInfo(id="o/m", siblings=[{"rfilename": f} for f in files]), "t")

    assert cand("config.json", "model.safetensors").has_safetensors
    assert cand("model.safetensors.index.json", "model-00001-of-00002.safetensors").has_safetensors
    assert not cand("pytorch_model.bin", "checkpoint-500/model.safetensors").has_safetensors
    assert not cand("adapter_model.safetensors").has_safetensors


def test_discovery_reads_weight_sizes_from_the_hub_metadata():
    from huggingface_hub import ModelInfo

    from hfsearch.candidates.discover import candidate_from_info

    info = ModelInfo(id="o/m", safetensors={"parameters": {"F32": 10, "BF16": 4}, "total": 14}, siblings=[])
    assert candidate_from_info(info, "text-classification").weights_bytes == 48
    assert json.dumps(candidate_from_info(ModelInfo(id="o/n"), "t").to_dict()["weights_bytes"]) == "null"


def test_survivors_are_predicted_against_the_whole_pool(race_hub, tmp_path):
    """The prediction is pool-relative: after racing, the survivors are still compared with the eliminated (with the
    scores of the slice they saw, and those that read no model on the whole sample), so their predictions are those
    of a full search, not of a pool of two: they differ only by what the eliminated candidate's estimates on its
    slice move the pool's level (its lowest estimate, over the pool's size) and a little of the within-pool part."""
    from hfsearch.pipeline.estimate import pool_context
    from hfsearch.select.selector import ESTIMATORS

    full, auto = search(race_hub, tmp_path / "a", budget="full"), search(race_hub, tmp_path / "b", budget="auto")
    f, a = by_id(full), by_id(auto)
    assert a[NOISY].status == "eliminated"
    assert set(auto.state.early_runs) == {NOISY} and set(auto.state.early_scores) == {NOISY}

    def lowest(scores: dict) -> float:
        return min(v for k, v in scores.items() if k in ESTIMATORS and v is not None and np.isfinite(v))

    (context,) = pool_context(auto)
    level_shift = abs(lowest(context) - lowest(f[NOISY].scores)) / len(POOL)
    for repo in (GOOD, CLOSE):
        assert any(k.startswith("z:") for k in a[repo].predicted_from)  # pool-relative features: a pool of three
        assert a[repo].scores["adaptivity"] == f[repo].scores["adaptivity"]  # its threshold counts noisy's data
        assert a[repo].predicted[0] == pytest.approx(f[repo].predicted[0], abs=level_shift + 0.005)


def _ranked(*cands: CandidateResult, rank_by: str = "auto"):
    from hfsearch.rank.result import ScoreColumn, SearchResult

    cols = [ScoreColumn("auto", "estimate", True), ScoreColumn("atc", "estimate", True)]
    return SearchResult(task="text-classification", dataset="d", split="test", columns=["text"], n_samples=500,
                        score_columns=cols, rank_by=rank_by, candidates=list(cands))


def _cand(repo: str, value: float | None, interval=(0.0, 0.0), **kw) -> CandidateResult:
    atc = kw.pop("atc", value)
    return CandidateResult(repo, None, {"auto": value, "atc": atc},
                           predicted=None if value is None else (value, *interval), **kw)


def test_the_recommendation_is_not_called_clear_while_a_candidate_stopped_on_a_slice_reaches_its_interval():
    top, second = _cand("o/top", 0.85, (0.82, 0.88)), _cand("o/second", 0.70, (0.65, 0.75))
    assert "clearly ahead" in _ranked(top, second).recommendation()
    stopped = _cand("o/stopped", 0.90, (0.75, 0.99), status="stopped", rows=50, status_reason="time budget")
    line = _ranked(top, second, stopped).recommendation()
    assert "clearly ahead" not in line and "overlaps that of o/stopped (0.900, stopped)" in line


def test_a_candidate_without_a_value_is_ranked_after_those_with_one_even_when_they_stopped_early():
    res = _ranked(_cand("o/no-estimator", None),
                  _cand("o/stopped", 0.80, (0.75, 0.85), status="stopped", rows=100, status_reason="time budget"))
    assert list(res.ranking["model"]) == ["o/stopped", "o/no-estimator"] and res.best == "o/stopped"
    nan = _ranked(_cand("o/a", 0.8, atc=float("nan")), _cand("o/b", 0.7, atc=None), rank_by="atc")
    assert nan.best is None and nan.recommendation().startswith("no recommendation")


class _FetchLog(Runner):
    """A runner whose downloads and loads are recorded, not done: what the budget lets through is what matters."""

    def __init__(self, read: int | None = None) -> None:
        from types import SimpleNamespace

        super().__init__(SimpleNamespace(name="text-classification"), OutputCache(tempfile.mkdtemp()))
        self.fetched: list[str] = []
        self.read = read

    def _download(self, cand):  # noqa: ANN001, ANN202
        self.fetched.append(cand.repo_id)
        return "/nowhere"

    @contextmanager
    def loaded(self, cand):  # noqa: ANN001, ANN202
        self.local_path(cand)
        if self.read is not None:
            self.weights_read[cand.repo_id] = self.read
        time.sleep(0.2)  # long enough for a prefetch of the next candidate to start
        yield None, None, "x"

    def compute(self, model, pre, path, sample, *, check=None):  # noqa: ANN001, ANN202
        return Outputs(logits=np.zeros((len(sample), 2), np.float32), features=np.zeros((len(sample), 4), np.float16))


def _run_budgeted(runner: Runner, cands: list[Candidate], max_download: int):
    from types import SimpleNamespace

    from datasets import Dataset

    from hfsearch.data.sample import Sample
    from hfsearch.pipeline.run import run_candidates
    from hfsearch.pipeline.state import CandidateRun, SearchState

    rows = Dataset.from_dict({"text": [f"t{i}" for i in range(10)]})
    state = SearchState(target=Sample(rows=rows, columns=["text"], name="t", indices=np.arange(10), fingerprint="f"))
    for c in cands:
        state.runs[c.repo_id] = CandidateRun(c)
    skipped: list[Skipped] = []
    search = SimpleNamespace(
        state=state, needs={"logits", "features"}, specs=[], runner=runner,
        cfg=SimpleNamespace(max_time=None, max_download=max_download, allow_pickle=False, candidate_timeout=None,
                            seed=0),
        hooks=SimpleNamespace(check=lambda: None, emit=lambda e: None),
        skip=lambda s: (state.runs.pop(s.repo_id, None), skipped.append(s)),
    )
    ran = run_candidates(search, list(state.runs.values()))
    return [r.repo_id for r in ran], skipped


def test_a_candidate_the_download_budget_refuses_is_not_prefetched():
    runner = _FetchLog()
    cands = [Candidate(f"o/m{i}", "text-classification", sha="s", weights_bytes=600_000_000) for i in range(3)]
    ran, skipped = _run_budgeted(runner, cands, max_download=1_000_000_000)
    assert ran == ["o/m0"] and [s.repo_id for s in skipped] == ["o/m1", "o/m2"]
    assert runner.fetched == ["o/m0"]  # o/m1 was not prefetched while o/m0 ran


def test_candidates_of_unknown_size_are_charged_what_they_read_and_stop_when_the_budget_is_spent():
    runner = _FetchLog(read=400_000_000)
    cands = [Candidate(f"o/m{i}", "text-classification", sha="s") for i in range(5)]  # the Hub gave no size
    ran, skipped = _run_budgeted(runner, cands, max_download=1_000_000_000)
    assert ran == ["o/m0", "o/m1", "o/m2"]  # 1.2 GB read by then: the budget is spent
    assert [s.repo_id for s in skipped] == ["o/m3", "o/m4"] and "size is unknown" in skipped[0].reason
    assert sorted(runner.fetched) == ran  # nothing fetched beyond what ran


def test_the_note_names_only_the_slices_that_ran(race_hub, tmp_path, monkeypatch):
    """Down to one candidate after the first slice, the race goes straight to the whole sample: the note must not
    list the slices it skipped."""
    real = race.eliminated

    def all_but_the_leader(results, bounds):  # noqa: ANN001, ANN202
        leader = max((r for r in results if r.predicted is not None), key=lambda r: r.predicted[0])
        out = [r for r in results if r is not leader and r.predicted is not None]
        for r in out:
            r.status, r.status_reason = "eliminated", f"below the leader {leader.repo_id}"
        return out if out else real(results, bounds)

    monkeypatch.setattr(race, "eliminated", all_but_the_leader)
    s = search(race_hub, tmp_path, budget="auto")
    first = race.slice_sizes(SAMPLES)[0]
    note = next(w for w in s.state.warnings if w.startswith("--budget auto"))
    assert f"(slices of {first} of {SAMPLES} target rows)" in note
