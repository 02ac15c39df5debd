"""The Gradio app (`hfsearch.app`, `spaces_app/`): driven through `gradio_client` against the Hub stand-in, plus
its rendering helpers, limits and benchmark tab on their own."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from pathlib import Path

import pytest
import yaml
from space_fixture import BEST, LABELS, SCORERS, TARGET, running_app

gradio_client = pytest.importorskip("gradio_client")
gr = pytest.importorskip("gradio")

from hfsearch import app
from hfsearch.app import bench_view, form, layout, worker
from hfsearch.app import render as app_render
from hfsearch.candidates.candidate import Skipped
from hfsearch.errors import HFSearchError, SearchCancelled
from hfsearch.rank.result import CandidateResult, ScoreColumn, SearchResult
from hfsearch.search import Search, SearchConfig

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def client(registry):
    with running_app() as url:
        yield gradio_client.Client(url, verbose=False)


def _form(**kw):
    """The /search endpoint's arguments, in order, with test defaults."""
    values = dict(
        task="text-classification", dataset=TARGET, upload=None, config="", split="test", columns="",
        candidates=5, samples=200, scorers=SCORERS, rank_by="", models="", author="test-org", name_filter="",
        endpoint="", hub_dir="", labels=LABELS,
    )
    values.update(kw)
    return list(values.values())


def _search(client, **kw):
    return client.predict(*_form(**kw), api_name="/search")


def _error_of(client, **kw) -> str:
    with pytest.raises(Exception) as info:  # gradio_client.exceptions.AppError
        _search(client, **kw)
    assert type(info.value).__name__ == "AppError", repr(info.value)
    return str(info.value)


def _hfsearch_message(**cfg) -> str:
    """The one-line message the Python API raises for the same input."""
    base = dict(task="text-classification", dataset=TARGET, split="test", samples=64, labels=["negative", "positive"],
                author="test-org", scores=SCORERS, progress=False)
    base.update(cfg)
    with pytest.raises(HFSearchError) as info:
        s = Search(SearchConfig(**base))
        s.run_stages("target", "discover", "align")
    return str(info.value)


# ---- end to end through gradio_client ----------------------------------------------------------------------------


def test_search_returns_the_ranking(client):
    summary, ranking, plot, details, json_file, csv_file, raw = _search(client)
    assert raw["best"] == BEST
    assert raw["ranking"][0]["model"] == BEST
    assert {r["model"] for r in raw["ranking"]} == {BEST, "test-org/bert-amazon-noisy"}
    # the table: model linked to its page on the endpoint, the recommended row highlighted, a rank per scorer
    endpoint = os.environ["HF_ENDPOINT"].rstrip("/")
    assert f'href="{endpoint}/{BEST}"' in ranking
    best_row = ranking.split('class="hfs-best"', 1)[1].split("</tr>", 1)[0]
    assert BEST in best_row and "recommended" in best_row and "#1" in best_row
    for name in SCORERS:
        assert f">{name} " in ranking
    assert f"Recommended: [{BEST}]({endpoint}/{BEST})" in summary
    # details: declared source, source sample used, skipped candidates with reasons
    assert "test-org/uci\\_yelp" in details or "test-org/uci_yelp" in details
    assert "uci_yelp/train" in details
    assert "custom code" in details and "safetensors" in details
    # downloads: the JSON result and the CSV ranking
    json_file, csv_file = (f["value"] if isinstance(f, dict) else f for f in (json_file, csv_file))  # button updates
    data = json.loads(Path(json_file).read_text())
    assert data["best"] == BEST
    assert Path(csv_file).read_text().splitlines()[0].startswith(
        "rank,model,predicted_accuracy,predicted_low,predicted_high,adaptivity,confidence,popularity")
    # the answer first: the predicted accuracy with its interval, in the summary and the table
    assert "predicted accuracy" in summary.lower() and ">predicted accuracy ↑ ★<" in ranking
    assert raw["ranking"][0]["predicted_low"] <= raw["ranking"][0]["predicted_accuracy"] <= raw["ranking"][0]["predicted_high"]
    assert plot is not None


def test_uploaded_file_and_explicit_models(client, tmp_path):
    rows = (REPO / "hfsearch" / "resources" / "data" / "sentiment" / "uci_yelp" / "test.jsonl").read_text().splitlines()
    upload = tmp_path / "my_reviews.jsonl"
    upload.write_text("\n".join(json.dumps({"text": json.loads(r)["text"]}) for r in rows[:200]) + "\n")
    *_, raw = _search(client, dataset="", upload=gradio_client.handle_file(str(upload)), split="", author="",
                      models=f"{BEST}\ntest-org/bert-amazon-noisy", scorers=["confidence", "adaptivity"], samples=150)
    assert raw["best"] == BEST
    assert raw["split"] == "train" and raw["n_samples"] == 150
    assert raw["rank_by"] == "auto"  # the default: the predicted accuracy


@pytest.mark.parametrize(
    "form, cfg",
    [
        pytest.param({"split": "dev"}, {"split": "dev"}, id="unknown-split"),
        pytest.param({"dataset": "nobody/no-such-dataset"}, {"dataset": "nobody/no-such-dataset"}, id="unknown-dataset"),
        pytest.param({"columns": "body"}, {"column": ["body"]}, id="missing-column"),
    ],
)
def test_data_problems_show_the_same_one_line_message_as_the_api(client, form, cfg):
    expected = _hfsearch_message(**cfg)
    message = _error_of(client, **form)
    assert message == expected
    assert "\n" not in message and "Traceback" not in message


@pytest.mark.parametrize(
    "form, message",
    [
        pytest.param({"dataset": ""}, "Dataset is required.", id="empty-dataset"),
        pytest.param({"candidates": 0}, "Candidates must be at least 1 (got 0).", id="zero-candidates"),
        pytest.param({"samples": 0}, "Samples must be at least 1 (got 0).", id="zero-samples"),
    ],
)
def test_bad_options_are_named_by_their_form_label(client, form, message):
    assert _error_of(client, **form) == message


def test_limits_and_unknown_task(client):
    assert _error_of(client, candidates=50).startswith("Candidates: this app allows at most 5 (got 50)")
    assert _error_of(client, samples=10_000).startswith("Samples: this app allows at most 400 (got 10000)")
    assert "text-clasification is not in the list of choices" in _error_of(client, task="text-clasification")
    assert _error_of(client, scorers=[]) == "Scorers: select at least one scorer."


def test_benchmark_tab_through_the_api(client, tmp_path):
    status, images, _tables, report = client.predict(str(tmp_path / "missing"), api_name="/bench")
    assert "not found" in status and not images and report is None


def test_progress_reports_every_stage_and_candidate(client):
    # the same search as test_search_returns_the_ranking: every model output comes from the cache
    cfg = SearchConfig(task="text-classification", dataset=TARGET, split="test", samples=200, author="test-org",
                       labels=["negative", "positive"], scores=SCORERS, progress=False)
    seen: list[tuple[float, str]] = []
    result = worker.run_search(Search(cfg), 120, lambda f, msg: seen.append((f, msg)))
    assert result.best == BEST
    messages = [m for _, m in seen]
    assert messages[:4] == ["Loading the target dataset", "Listing candidates", "Aligning label spaces",
                            "Downloading and running candidates"]
    assert messages[4].startswith("Candidate 1/2: downloading and running test-org/")
    assert messages[5].startswith("Candidate 2/2: ") and messages[6:] == ["Scoring", "Ranking"]
    assert [f for f, _ in seen] == sorted(f for f, _ in seen)


def test_time_budget_stops_the_search_cooperatively(client):
    """The budget cancels the search at its next check (no exception injected into a thread)."""
    cfg = SearchConfig(task="text-classification", dataset=TARGET, split="test", samples=50, author="test-org",
                       labels=["negative", "positive"], scores=SCORERS, progress=False, use_cache=False)
    search = Search(cfg, hooks=[lambda e: time.sleep(0.4) if type(e).__name__ == "CandidateStarted" else None])
    t0 = time.perf_counter()
    with pytest.raises(SearchCancelled, match="time budget of 0 s"):
        worker.run_search(search, 0.3)
    assert time.perf_counter() - t0 < 30
    assert threading.active_count() < 50


# ---- helpers, without a server -----------------------------------------------------------------------------------


def _result() -> SearchResult:
    cols = [ScoreColumn("adaptivity", "similarity", True, "paper's measure"),
            ScoreColumn("jsd", "similarity", False, "divergence")]
    cands = [
        CandidateResult("org/a<b>", "0" * 40, {"adaptivity": 0.2, "jsd": 0.5}, source="d/train", declared_datasets=["d"]),
        CandidateResult("org/best", "1" * 40, {"adaptivity": 0.9, "jsd": 0.1}, source="d/train", declared_datasets=["d"],
                        num_params=1_200_000, downloads=10),
        CandidateResult("org/nosrc", None, {"adaptivity": None, "jsd": None},
                        unavailable={"adaptivity": "the model card declares no datasets",
                                     "jsd": "the model card declares no datasets"}),
    ]
    return SearchResult(task="text-classification", dataset="me/data", split="test", columns=["text"], n_samples=10,
                        score_columns=cols, rank_by="adaptivity", candidates=cands,
                        skipped=[Skipped("org/pickled", "filter", "no safetensors weights | pickle")],
                        warnings=["labels compared by index"])


def test_ranking_html_links_highlights_and_escapes():
    html = app_render.ranking_html(_result(), endpoint="https://hub.example")
    assert 'href="https://hub.example/org/best"' in html
    best = html.split('class="hfs-best"', 1)[1].split("</tr>", 1)[0]
    assert "org/best" in best and "recommended" in best and "#1" in best
    assert "org/a&lt;b&gt;" in html and "<b>" not in html.replace("<b>adaptivity</b>", "")
    assert 'title="the model card declares no datasets"' in html
    assert "jsd ↓" in html and "adaptivity ↑ ★" in html
    # a local registry has no web page
    assert "href" not in app_render.ranking_html(_result(), hub_dir="/srv/registry").split("<tbody>")[1]


def test_details_and_summary_markdown():
    r = _result()
    details = app_render.details_markdown(r, endpoint="https://hub.example")
    assert "[d](https://hub.example/datasets/d)" in details
    assert "★ recommended" in details.split("#### 2.")[0]
    assert "the model card declares no datasets" in details
    assert "no safetensors weights \\| pickle" in details  # pipe escaped inside the table
    summary = app_render.summary_markdown(r, endpoint="https://hub.example")
    assert "Recommended: [org/best](https://hub.example/org/best)" in summary
    assert "labels compared by index" in summary
    fig = app_render.scores_figure(r)
    assert len([a for a in fig.axes if a.get_visible()]) == 2
    json_path, csv_path = app_render.write_downloads(r)
    assert json.loads(Path(json_path).read_text())["best"] == "org/best"
    assert Path(csv_path).read_text().startswith("rank,model,adaptivity,jsd,source")


def test_build_config_limits_and_restricted_mode(tmp_path):
    s = app.SpaceSettings(max_candidates=3, max_samples=100, restricted=True)

    def build(**values):
        upload = values.pop("upload", None)
        return form.build_config(s, {"task": "text-classification", "dataset": "org/data", **values}, upload=upload)

    cfg = build(scores=["confidence", "adaptivity"], models="", labels="neg, pos")
    assert cfg.max_models == s.default_candidates and cfg.samples == s.default_samples
    assert cfg.scores == ["confidence", "adaptivity"] and cfg.labels == ["neg", "pos"] and cfg.models is None
    for kw, text in [
        ({"max_models": 4}, "Candidates: this app allows at most 3 (got 4)"),
        ({"samples": 101}, "Samples: this app allows at most 100 (got 101)"),
        ({"max_models": 2.5}, "Candidates must be a whole number"),
        ({"models": "a/1, a/2, a/3, a/4"}, "4 models listed"),
        ({"endpoint": "http://10.0.0.1"}, "Hub endpoint: this app does not accept a custom endpoint"),
        ({"hub_dir": str(tmp_path)}, "demo registry"),
        ({"dataset": str(tmp_path)}, "own disk"),
        ({"models": "a/1", "author": "me"}, "Explicit model list lists the candidates explicitly"),
    ]:
        with pytest.raises(HFSearchError, match=re.escape(text)):
            build(**kw)
    # the same inputs are fine on a private instance
    open_ = app.SpaceSettings(restricted=False)
    assert form.build_config(open_, {"task": "text-classification", "dataset": str(tmp_path),
                                     "hub_dir": str(tmp_path)}).hub_dir


def test_every_form_option_is_declared_with_a_label():
    from hfsearch.config import options

    for name in form.FORM_OPTIONS:
        assert options()[name].label, name


def test_settings_from_env(monkeypatch):
    monkeypatch.setenv("HFSEARCH_SPACE_MAX_CANDIDATES", "4")
    monkeypatch.setenv("HFSEARCH_SPACE_TIMEOUT", "30")
    monkeypatch.setenv("HFSEARCH_SPACE_QUEUE_SIZE", "x")
    monkeypatch.setenv("SPACE_ID", "someone/hfsearch")
    monkeypatch.delenv("HFSEARCH_SPACE_RESTRICTED", raising=False)
    s = app.SpaceSettings.from_env()
    assert (s.max_candidates, s.timeout_s, s.queue_size, s.restricted) == (4, 30.0, 16, True)
    assert s.default_candidates == 4
    monkeypatch.setenv("HFSEARCH_SPACE_RESTRICTED", "0")
    assert app.SpaceSettings.from_env().restricted is False


def test_unexpected_errors_become_one_line_messages():
    err = layout.error_message(RuntimeError("boom\nsecond line\n  File x.py"))
    assert str(err.message) == "The search failed unexpectedly: RuntimeError: boom"
    assert layout.error_message(HFSearchError("Unknown split 'dev'; available: test.")).message == (
        "Unknown split 'dev'; available: test."
    )


def test_load_bench_is_tolerant(tmp_path):
    assert "No benchmark folder" in bench_view.load_bench("").status
    assert "not found" in bench_view.load_bench(tmp_path / "nope").status
    empty = bench_view.load_bench(tmp_path)
    assert "no `results.json`" in empty.status and "no plots" in empty.status and not empty.images
    out = tmp_path / "bench"
    (out / "plots" / "per_scorer").mkdir(parents=True)
    report = {"workload": {"name": "sentiment", "metric": "accuracy", "targets": ["a", "b"]},
              "leaderboard": [{"rank": 1, "scorer": "adaptivity", "regret": {"mean": 0.01, "low": 0.0, "high": 0.02}},
                              {"rank": 2, "scorer": "popularity", "regret": {"mean": 0.2, "low": 0.1, "high": 0.3}}]}
    (out / "results.json").write_text(json.dumps(report))
    (out / "plots" / "regret_per_target.png").write_bytes(_PNG)
    (out / "plots" / "per_scorer" / "adaptivity.png").write_bytes(_PNG)
    view = bench_view.load_bench(out, copy_images_to=tmp_path / "copies")
    assert "**Best scorer:** `adaptivity`" in view.status and "0.01 [0, 0.02]" in view.status  # table from JSON
    assert [c for _, c in view.images] == ["plots/regret_per_target.png", "plots/per_scorer/adaptivity.png"]
    assert all(Path(p).is_file() for p, _ in view.images)
    (out / "report.md").write_text("## Benchmark: sentiment\n\n| scorer | regret |\n|---|---|\n| adaptivity | 0.01 |\n")
    (out / "results.json").write_text("{not json")
    view = bench_view.load_bench(out, copy_images_to=tmp_path / "copies2")
    assert "## Benchmark: sentiment" in view.tables and "not readable" in view.status and view.report is None


def test_build_demo_has_the_inputs_and_the_api():
    blocks = app.build_demo(app.SpaceSettings(build_demo_registry=False))
    assert isinstance(blocks, gr.Blocks)
    info = blocks.get_api_info()
    params = [p["parameter_name"] for p in info["named_endpoints"]["/search"]["parameters"]]
    assert params[:2] == ["task", "dataset"] and "hub_dir" in params and "endpoint" in params
    scorers = next(b for b in blocks.blocks.values() if getattr(b, "elem_id", None) == "hfs-scorers")
    assert "adaptivity" in scorers.value and {"adaptivity", "jsd", "confidence"} <= {c[1] for c in scorers.choices}
    assert blocks._queue.max_size == app.SpaceSettings().queue_size


def test_space_repo_files():
    readme = (REPO / "spaces_app" / "README.md").read_text()
    meta = yaml.safe_load(readme.split("---", 2)[1])
    assert meta["sdk"] == "gradio" and meta["app_file"] == "app.py"
    assert meta["sdk_version"] == gr.__version__
    for key in ("title", "emoji", "colorFrom", "colorTo", "short_description"):
        assert meta[key], key
    assert len(meta["short_description"]) <= 60
    assert meta["colorFrom"] in {"red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray"}
    reqs = (REPO / "spaces_app" / "requirements.txt").read_text()
    assert "transformers" in reqs and "torch" in reqs
    import runpy

    app = runpy.run_path(str(REPO / "spaces_app" / "app.py"), run_name="spaces_app")
    assert callable(app["build_demo"]) and callable(app["launch"]) and callable(app["main"])


# a 1x1 PNG
_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)
