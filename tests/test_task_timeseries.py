"""Time-series classification end to end: tiny real PatchTST / PatchTSMixer checkpoints trained on the shipped watch
windows, served by the Hub stand-in under ``ts-org/``; windowing, compatibility checks and discovery by tags."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from datasets import ClassLabel, Dataset, Features, List, Value

import hfsearch
from hfsearch.errors import ColumnError, DatasetError, TaskError
from hfsearch.search import Search, SearchConfig
from hfsearch.tasks import get_task
from hfsearch.tasks.timeseries import channel_statistics, window_starts

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data" / "activity" / "watch_exercises"
EXAMPLE = ROOT / "benchmarks" / "data" / "activity" / "watch_recordings_example"
ORG = "ts-org"
TASK = "time-series-classification"
LABELS = ["PEN", "ABD", "FEL", "IR", "ER", "TRAP", "ROW"]
TARGET = f"{ORG}/right-s01-03"
#: Tiny models: a few seconds of training each on ~150 windows.
TINY_TST = {"d_model": 16, "num_hidden_layers": 1, "num_attention_heads": 2, "ffn_dim": 32, "patch_stride": 16}
TINY_MIXER = {"d_model": 16, "num_layers": 1, "patch_stride": 16}


def _rows(domain: str, channels: slice = slice(None)) -> dict[str, list[dict]]:
    from datasets import load_dataset

    dd = load_dataset("parquet", data_files={s: str(DATA / domain / f"{s}.parquet") for s in ("train", "test")})
    out = {}
    for split in ("train", "test"):
        arr = np.asarray(dd[split].with_format("numpy")[:]["series"], dtype=np.float32)[:, :, channels]
        out[split] = [{"series": a.tolist(), "label": int(y)} for a, y in zip(arr, dd[split]["label"])]
    return out


def build_ts_registry(root: Path) -> Path:
    """``ts-org``: an in-domain model for the target (right arm, subjects 1-3), one from the other arm, one reading
    only the 3 accelerometer channels, and a forecasting PatchTST that discovery must not list."""
    from transformers import PatchTSTConfig, PatchTSTForPrediction

    from hfsearch.zoo.architectures import label_maps
    from hfsearch.zoo.build import CandidateRecipe, DomainSpec, ZooRecipe, build_zoo

    recipe = ZooRecipe(
        org=ORG, task=TASK, label_names=LABELS, license="bsd-3-clause", language=[],
        domains=[
            DomainSpec("right-s01-03", rows=_rows("right-s01-03"), license="bsd-3-clause"),
            DomainSpec("left-s01-03", rows=_rows("left-s01-03"), license="bsd-3-clause"),
            DomainSpec("right-s01-03-acc", rows=_rows("right-s01-03", slice(0, 3)), license="bsd-3-clause"),
        ],
        candidates=[
            CandidateRecipe("patchtst-right", "patchtst", ["right-s01-03"], params=TINY_TST, epochs=12, downloads=5),
            CandidateRecipe("patchtsmixer-left", "patchtsmixer", ["left-s01-03"], params=TINY_MIXER, epochs=12,
                            downloads=500),
            CandidateRecipe("patchtst-acc-only", "patchtst", ["right-s01-03-acc"], params=TINY_TST, epochs=1,
                            downloads=50),
        ],
    )
    build_zoo(recipe, root)
    forecaster = root / "models" / ORG / "patchtst-forecaster"
    if not forecaster.exists():
        config = PatchTSTConfig(num_input_channels=6, context_length=128, prediction_length=16, d_model=16,
                                num_hidden_layers=1, num_attention_heads=2, ffn_dim=32, patch_length=16, patch_stride=16,
                                **label_maps(LABELS))
        PatchTSTForPrediction(config).save_pretrained(forecaster)
        (forecaster / "README.md").write_text(
            "---\npipeline_tag: time-series-forecasting\ntags: [patchtst, time-series]\nlicense: apache-2.0\n---\n# forecaster\n"
        )
        (forecaster / "hub.json").write_text(json.dumps({"downloads": 10_000}))
    return root


@pytest.fixture(scope="module")
def ts_registry(hub_server) -> Path:
    return build_ts_registry(hub_server.root)


@pytest.fixture(scope="module")
def searched(ts_registry, hub_server, tmp_path_factory):
    """One search through the Hub stand-in (HTTP, as on the Hub), its requests, and the true accuracies."""
    from hfsearch.bench.truth import true_metrics

    hub_server.clear_requests()
    search = Search(SearchConfig(
        task=TASK, dataset=TARGET, author=ORG, samples=120, scores=["adaptivity_norm", "adaptivity", "confidence", "jsd", "l2d", "mmd", "entropy"],
        rank_by="adaptivity_norm", cache_dir=str(tmp_path_factory.mktemp("cache")), progress=False,
    ))
    res = search.execute()
    return res, list(hub_server.requests), true_metrics(search)["accuracy"]


@pytest.fixture(scope="module")
def result(searched):
    return searched[:2]


# ---- end to end ---------------------------------------------------------------------------------------------------
def test_discovery_lists_by_model_type_tags_and_keeps_classifiers_only(result):
    res, requests = result
    listings = [r["query"] for r in requests if r["path"] == "/api/models"]
    assert sorted(q["filter"][0] for q in listings) == ["patchtsmixer", "patchtst"]
    assert all("pipeline_tag" not in q for q in listings)
    seen = set(res.ranking["model"]) | {s.repo_id for s in res.skipped}
    assert f"{ORG}/patchtst-forecaster" not in seen  # a forecasting head is not a candidate
    assert res.query["queries"] == [{"filter": "patchtsmixer"}, {"filter": "patchtst"}]


def test_channel_mismatch_is_skipped_with_the_reason(result):
    res, _ = result
    skipped = {s.repo_id: s for s in res.skipped}
    reason = skipped[f"{ORG}/patchtst-acc-only"].reason
    assert "channel mismatch" in reason and "3 channel" in reason and "has 6" in reason
    assert set(res.ranking["model"]) == {f"{ORG}/patchtst-right", f"{ORG}/patchtsmixer-left"}


def test_in_domain_model_ranks_first_under_adaptivity_and_confidence(result):
    res, _ = result
    ranks = res.ranks()
    best = f"{ORG}/patchtst-right"
    assert res.best == best
    # adaptivity_norm: the share of close source-target partition pairs (the source's size divided out); the raw
    # adaptivity counts close source partitions per target partition, so it also grows with the source's size
    assert ranks.loc[best, "adaptivity_norm"] == 1
    assert ranks.loc[best, "confidence"] == 1
    row = res.ranking.set_index("model").loc[best]
    assert row["source"] == f"{ORG}/right-s01-03/train"
    assert np.isfinite(row["mmd"])  # the per-channel statistics space is computed


def test_ground_truth_agrees(searched):
    acc = searched[2]
    assert acc[f"{ORG}/patchtst-right"] > acc[f"{ORG}/patchtsmixer-left"] + 0.2


def test_recordings_are_windowed_end_to_end(ts_registry, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # with --hub-dir a local dataset is a relative path (absolute ones are refused)
    res = hfsearch.find(TASK, str(EXAMPLE.relative_to(ROOT)), hub_dir=str(ts_registry), window=128, stride=64, samples=400,
                        scores="adaptivity,confidence", cache_dir=str(tmp_path), progress=False)
    lengths = [len(s) for s in Dataset.from_parquet(str(EXAMPLE / "test.parquet"))["series"]]
    assert res.n_samples == sum(len(window_starts(n, 128, 64)) for n in lengths)
    assert set(res.ranking["model"]) == {f"{ORG}/patchtst-right", f"{ORG}/patchtsmixer-left"}


def test_windows_shorter_than_the_model_context_skip_the_candidate(ts_registry, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    res = hfsearch.find(TASK, str(EXAMPLE.relative_to(ROOT)), hub_dir=str(ts_registry), window=64, samples=50, scores="confidence",
                        cache_dir=str(tmp_path), progress=False, models=[f"{ORG}/patchtst-right"])
    assert res.ranking.empty or f"{ORG}/patchtst-right" not in set(res.ranking["model"])
    reason = {s.repo_id: s.reason for s in res.skipped}[f"{ORG}/patchtst-right"]
    assert "window too short" in reason and "--window 128" in reason


def test_a_forecaster_named_explicitly_is_refused_not_run_with_a_random_head(ts_registry, tmp_path):
    res = hfsearch.find(TASK, TARGET, hub_dir=str(ts_registry), models=[f"{ORG}/patchtst-forecaster", f"{ORG}/patchtst-right"],
                        samples=40, scores="confidence", cache_dir=str(tmp_path), progress=False)
    reason = {s.repo_id: s.reason for s in res.skipped}[f"{ORG}/patchtst-forecaster"]
    assert "PatchTSTForPrediction, not a time-series classifier" in reason
    assert list(res.ranking["model"]) == [f"{ORG}/patchtst-right"]


# ---- windowing ----------------------------------------------------------------------------------------------------
def _adapter(**options):
    return get_task(TASK).configure(**options)


def test_window_starts_lengths_and_stride():
    assert window_starts(10, 4, 3).tolist() == [0, 3, 6]
    assert window_starts(8, 4, 4).tolist() == [0, 4]
    assert window_starts(4, 4, 1).tolist() == [0]
    assert window_starts(3, 4, 1).tolist() == []


def test_recordings_are_cut_into_windows_with_their_labels():
    ds = Dataset.from_dict(
        {"signal": [np.arange(20, dtype=float).reshape(10, 2).tolist(), np.ones((7, 2)).tolist()], "y": [0, 1]},
        features=Features({"signal": List(List(Value("float32"))), "y": ClassLabel(names=["a", "b"])}),
    )
    adapter = _adapter(window=4, stride=3)
    columns = adapter.resolve_columns(ds.features, None)
    warnings: list[str] = []
    out, cols, label = adapter.prepare(ds, columns, "y", warnings)
    assert cols == ["signal"] and label == "y"
    arr = np.asarray(out.with_format("numpy")[:]["signal"])
    assert arr.shape == (3 + 2, 4, 2)  # 10 steps -> starts 0, 3, 6; 7 steps -> 0, 3
    assert arr[1, 0].tolist() == [6.0, 7.0]  # second window of the first recording starts at step 3
    assert out["y"] == [0, 0, 0, 1, 1] and isinstance(out.features["y"], ClassLabel)
    assert warnings == []


def test_a_recording_shorter_than_one_window_is_a_clear_error():
    ds = Dataset.from_dict({"series": [np.zeros((50, 6)).tolist()]})
    adapter = _adapter(window=128)
    with pytest.raises(DatasetError) as err:
        adapter.prepare(ds, ["series"], None, [])
    assert str(err.value) == "The recording is shorter than one window: 50 time steps < --window 128."
    several = Dataset.from_dict({"series": [np.zeros((50, 6)).tolist(), np.zeros((300, 6)).tolist()]})
    warnings: list[str] = []
    out, _, _ = adapter.prepare(several, ["series"], None, warnings)
    assert len(out) == 2 and "1 of 2 recordings are shorter than --window 128" in warnings[0]


def test_a_recording_table_is_windowed_along_its_rows():
    n = 25
    ds = Dataset.from_dict({"time": list(range(n)), "ax": np.arange(n, dtype=float), "ay": -np.arange(n, dtype=float),
                            "label": ["walk"] * 14 + ["run"] * 11})
    adapter = _adapter(window=10, stride=5)
    columns = adapter.resolve_columns(ds.features, None)
    assert columns == ["ax", "ay"]  # "time" is id-like, "label" the label
    label = adapter.label_column(ds.features)
    out, cols, _ = adapter.prepare(ds, columns, label, [])
    arr = np.asarray(out.with_format("numpy")[:][cols[0]])
    assert arr.shape == (4, 10, 2) and arr[2, 0].tolist() == [10.0, -10.0]
    assert out[label] == ["walk", "walk", "run", "run"]  # most frequent step label of each window
    with pytest.raises(DatasetError, match="single time steps"):
        _adapter().prepare(ds, columns, label, [])


def test_ragged_rows_without_window_and_bad_options():
    ds = Dataset.from_dict({"series": [np.zeros((50, 6)).tolist(), np.zeros((60, 6)).tolist()]})
    with pytest.raises(DatasetError, match="50 to 60 time steps.*--window"):
        _adapter().prepare(ds, ["series"], None, [])
    with pytest.raises(TaskError, match="--stride needs --window"):
        _adapter(stride=4)
    with pytest.raises(TaskError, match="positive"):
        _adapter(window=0)
    with pytest.raises(TaskError, match="does not take --window"):
        get_task("text-classification").configure(window=128)
    with pytest.raises(ColumnError, match="not numeric"):
        _adapter().resolve_columns(Features({"series": Value("string")}), ["series"])


def test_a_row_whose_time_steps_hold_different_channel_counts_is_named_in_one_line():
    """With or without --window: a step with 2 values among steps with 3 was an internal error (numpy's
    "inhomogeneous shape"), or, without a window, "different lengths (4 to 4 time steps)"."""
    good, gapped = [[1, 2, 3]] * 4, [[1, 2, 3], None, [4, 5, 6], [1, 2, 3]]
    ragged = [[1, 2, 3], [1, 2], [4, 5, 6], [1, 2, 3]]
    ds = Dataset.from_dict({"series": [good] * 8 + [gapped] + [good] * 2 + [ragged]})
    for adapter in (_adapter(), _adapter(window=2)):
        warnings: list[str] = []
        with pytest.raises(DatasetError) as err:
            adapter.prepare(ds, ["series"], None, warnings)
        assert str(err.value) == (  # the row's number in the data, though the gapped row 9 was dropped before
            "Row 12 of column 'series' has time steps with different numbers of channels (2, 3): every time step "
            "needs one value per channel."
        )
        assert "(row 9)" in warnings[0]
    other = Dataset.from_dict({"series": [np.zeros((4, 3)).tolist(), np.zeros((4, 2)).tolist()]})
    with pytest.raises(DatasetError, match="different channel counts: 2, 3"):
        _adapter().prepare(other, ["series"], None, [])


def test_feature_vectors_are_a_one_channel_series():
    ds = Dataset.from_dict({"features": [[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 1.0, 1.0]], "label": [0, 1]})
    adapter = _adapter()
    columns = adapter.resolve_columns(ds.features, None)
    assert columns == ["features"]
    out, _, _ = adapter.prepare(ds, columns, "label", [])
    raw = adapter.raw(out, columns)
    assert raw.kind == "numeric" and raw.values.shape == (2, 4)
    enc = adapter.encode(None, out, columns, max_length=0)
    assert enc.inputs["values"].shape == (2, 4, 1)
    ref = adapter.embed_reference(out, columns, batch_size=8, device="cpu")
    assert ref.shape == (2, 5) and ref[0].tolist() == pytest.approx([2.5, 1.118034, 1.0, 4.0, 7.5])
    assert channel_statistics(np.ones((1, 3, 2))).shape == (1, 10)


def test_a_missing_time_step_is_filled_with_its_window_channel_mean_not_zero():
    """Around 1000 hPa a 0 is a spike the model reads; the mean of the window's other steps is not."""
    from hfsearch.tasks.timeseries import fill_missing

    x = np.full((2, 4, 2), 1000.0, dtype=np.float32)
    x[0, :, 1] = [1.0, 2.0, 3.0, 6.0]
    x[0, 1, 0] = np.nan  # one step missing
    x[0, 2, 1] = np.nan
    x[1, :, 1] = np.nan  # a whole channel missing: 0, as before
    got = fill_missing(x)
    assert got[0, 1, 0] == 1000.0 and got[0, 2, 1] == pytest.approx(3.0) and (got[1, :, 1] == 0).all()
    assert got.dtype == np.float32 and not np.isnan(got).any()
    clean = np.ones((1, 3, 1), dtype=np.float32)
    assert fill_missing(clean) is clean
