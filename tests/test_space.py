"""The Gradio app (`hfsearch.space`, `spaces_app/`): driven through `gradio_client` against the Hub stand-in, plus
its rendering helpers, limits and benchmark tab on their own."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest
import yaml
from space_fixture import BEST, LABELS, SCORERS, TARGET, running_app

gradio_client = pytest.importorskip("gradio_client")
gr = pytest.importorskip("gradio")

from hfsearch import space
from hfsearch.candidates.candidate import Skipped
from hfsearch.errors import HFSearchError
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
        s.load_target()
        s.discover()
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
    assert BEST in best_row and "recommended" in best_row and "(#1)" in best_row
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
    assert Path(csv_file).read_text().splitlines()[0].startswith("rank,model,adaptivity,confidence,popularity")
    assert plot is not None


def test_uploaded_file_and_explicit_models(client, tmp_path):
    rows = (REPO / "hfsearch" / "resources" / "data" / "sentiment" / "uci_yelp" / "test.jsonl").read_text().splitlines()
    upload = tmp_path / "my_reviews.jsonl"
    upload.write_text("\n".join(json.dumps({"text": json.loads(r)["text"]}) for r in rows[:200]) + "\n")
    *_, raw = _search(client, dataset="", upload=gradio_client.handle_file(str(upload)), split="", author="",
                      models=f"{BEST}\ntest-org/bert-amazon-noisy", scorers=["confidence", "adaptivity"], samples=150)
    assert raw["best"] == BEST
    assert raw["split"] == "train" and raw["n_samples"] == 150
    assert raw["rank_by"] == "confidence"


@pytest.mark.parametrize(
    "form, cfg",
    [
        pytest.param({"dataset": ""}, {"dataset": ""}, id="empty-dataset"),
        pytest.param({"split": "dev"}, {"split": "dev"}, id="unknown-split"),
        pytest.param({"candidates": 0}, {"max_models": 0}, id="zero-candidates"),
        pytest.param({"samples": 0}, {"samples": 0}, id="zero-samples"),
        pytest.param({"dataset": "nobody/no-such-dataset"}, {"dataset": "nobody/no-such-dataset"}, id="unknown-dataset"),
        pytest.param({"columns": "body"}, {"column": ["body"]}, id="missing-column"),
    ],
)
def test_bad_inputs_show_the_one_line_hfsearch_message(client, form, cfg):
    expected = _hfsearch_message(**cfg)
    message = _error_of(client, **form)
    assert message == expected
    assert "\n" not in message and "Traceback" not in message


def test_limits_and_unknown_task(client):
    assert "at most 5 candidates" in _error_of(client, candidates=50)
    assert "at most 400 rows" in _error_of(client, samples=10_000)
    assert "text-clasification is not in the list of choices" in _error_of(client, task="text-clasification")
    assert _error_of(client, scorers=[]) == "Select at least one scorer."


def test_benchmark_tab_through_the_api(client, tmp_path):
    status, images, _tables, report = client.predict(str(tmp_path / "missing"), api_name="/bench")
    assert "not found" in status and not images and report is None


def test_progress_reports_every_stage_and_candidate(client):
    # the same search as test_search_returns_the_ranking: every model output comes from the cache
    cfg = SearchConfig(task="text-classification", dataset=TARGET, split="test", samples=200, author="test-org",
                       labels=["negative", "positive"], scores=SCORERS, progress=False)
    seen: list[tuple[float, str]] = []
    result = space.execute_with_progress(Search(cfg), lambda f, msg: seen.append((f, msg)))
    assert result.best == BEST
    messages = [m for _, m in seen]
    assert messages[:3] == ["Loading the target dataset", "Listing candidates", "Downloading and running candidates"]
    assert messages[3].startswith("Candidate 1/2: downloading and running test-org/")
    assert messages[4].startswith("Candidate 2/2: ") and messages[5:] == ["Scoring"]
    assert [f for f, _ in seen] == sorted(f for f, _ in seen)


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
    html = space.ranking_html(_result(), endpoint="https://hub.example")
    assert 'href="https://hub.example/org/best"' in html
    best = html.split('class="hfs-best"', 1)[1].split("</tr>", 1)[0]
    assert "org/best" in best and "recommended" in best and "(#1)" in best
    assert "org/a&lt;b&gt;" in html and "<b>" not in html.replace("<b>adaptivity</b>", "")
    assert 'title="the model card declares no datasets"' in html
    assert "jsd ↓" in html and "adaptivity ↑ ★" in html
    # a local registry has no web page
    assert "href" not in space.ranking_html(_result(), hub_dir="/srv/registry").split("<tbody>")[1]


def test_details_and_summary_markdown():
    r = _result()
    details = space.details_markdown(r, endpoint="https://hub.example")
    assert "[d](https://hub.example/datasets/d)" in details
    assert "★ recommended" in details.split("#### 2.")[0]
    assert "the model card declares no datasets" in details
    assert "no safetensors weights \\| pickle" in details  # pipe escaped inside the table
    summary = space.summary_markdown(r, endpoint="https://hub.example")
    assert "Recommended: [org/best](https://hub.example/org/best)" in summary
    assert "labels compared by index" in summary
    fig = space.scores_figure(r)
    assert len([a for a in fig.axes if a.get_visible()]) == 2
    json_path, csv_path = space.write_downloads(r)
    assert json.loads(Path(json_path).read_text())["best"] == "org/best"
    assert Path(csv_path).read_text().startswith("rank,model,adaptivity,jsd,source")


def test_build_config_limits_and_restricted_mode(tmp_path):
    s = space.SpaceSettings(max_candidates=3, max_samples=100, restricted=True)
    cfg = space.build_config(s, task="text-classification", dataset="org/data", candidates=None, samples=None,
                             scorers=["confidence", "adaptivity"], models="", labels="neg, pos")
    assert cfg.max_models == 3 and cfg.samples == 100 and cfg.scores == ["confidence", "adaptivity"]
    assert cfg.labels == ["neg", "pos"] and cfg.models is None
    for kw, text in [
        ({"candidates": 4}, "at most 3 candidates"),
        ({"samples": 101}, "at most 100 rows"),
        ({"candidates": 2.5}, "whole number"),
        ({"models": "a/1, a/2, a/3, a/4"}, "4 models listed"),
        ({"endpoint": "http://10.0.0.1"}, "custom endpoint"),
        ({"hub_dir": str(tmp_path)}, "demo registry"),
        ({"dataset": str(tmp_path)}, "own disk"),
    ]:
        with pytest.raises(HFSearchError, match=text):
            space.build_config(s, task="text-classification", **{"dataset": "org/data", **kw})
    # the same inputs are fine on a private instance
    open_ = space.SpaceSettings(restricted=False)
    assert space.build_config(open_, task="text-classification", dataset=str(tmp_path), hub_dir=str(tmp_path)).hub_dir


def test_settings_from_env(monkeypatch):
    monkeypatch.setenv("HFSEARCH_SPACE_MAX_CANDIDATES", "4")
    monkeypatch.setenv("HFSEARCH_SPACE_TIMEOUT", "30")
    monkeypatch.setenv("HFSEARCH_SPACE_QUEUE_SIZE", "x")
    monkeypatch.setenv("SPACE_ID", "someone/hfsearch")
    monkeypatch.delenv("HFSEARCH_SPACE_RESTRICTED", raising=False)
    s = space.SpaceSettings.from_env()
    assert (s.max_candidates, s.timeout_s, s.queue_size, s.restricted) == (4, 30.0, 16, True)
    assert s.default_candidates == 4
    monkeypatch.setenv("HFSEARCH_SPACE_RESTRICTED", "0")
    assert space.SpaceSettings.from_env().restricted is False


def test_time_budget_stops_the_worker():
    stopped = threading.Event()

    def forever():
        try:
            while True:
                time.sleep(0.01)
        finally:
            stopped.set()

    t0 = time.perf_counter()
    with pytest.raises(HFSearchError, match="time budget of 0 s|time budget"):
        space.run_with_budget(forever, 0.3)
    assert time.perf_counter() - t0 < 2
    assert stopped.wait(5), "the worker thread was not interrupted"
    assert space.run_with_budget(lambda: 42, 5) == 42
    with pytest.raises(ZeroDivisionError):
        space.run_with_budget(lambda: 1 / 0, 5)


def test_unexpected_errors_become_one_line_messages():
    err = space._error(RuntimeError("boom\nsecond line\n  File x.py"))
    assert str(err.message) == "The search failed unexpectedly: RuntimeError: boom"
    assert space._error(HFSearchError("Unknown split 'dev'; available: test.")).message == (
        "Unknown split 'dev'; available: test."
    )


def test_load_bench_is_tolerant(tmp_path):
    assert "No benchmark folder" in space.load_bench("").status
    assert "not found" in space.load_bench(tmp_path / "nope").status
    empty = space.load_bench(tmp_path)
    assert "no `results.json`" in empty.status and "no plots" in empty.status and not empty.images
    out = tmp_path / "bench"
    (out / "plots" / "per_scorer").mkdir(parents=True)
    report = {"workload": {"name": "sentiment", "metric": "accuracy", "targets": ["a", "b"]},
              "leaderboard": [{"rank": 1, "scorer": "adaptivity", "regret": {"mean": 0.01, "low": 0.0, "high": 0.02}},
                              {"rank": 2, "scorer": "popularity", "regret": {"mean": 0.2, "low": 0.1, "high": 0.3}}]}
    (out / "results.json").write_text(json.dumps(report))
    (out / "plots" / "regret_per_target.png").write_bytes(_PNG)
    (out / "plots" / "per_scorer" / "adaptivity.png").write_bytes(_PNG)
    view = space.load_bench(out, copy_images_to=tmp_path / "copies")
    assert "**Best scorer:** `adaptivity`" in view.status and "0.01 [0, 0.02]" in view.status  # table from JSON
    assert [c for _, c in view.images] == ["plots/regret_per_target.png", "plots/per_scorer/adaptivity.png"]
    assert all(Path(p).is_file() for p, _ in view.images)
    (out / "report.md").write_text("## Benchmark: sentiment\n\n| scorer | regret |\n|---|---|\n| adaptivity | 0.01 |\n")
    (out / "results.json").write_text("{not json")
    view = space.load_bench(out, copy_images_to=tmp_path / "copies2")
    assert "## Benchmark: sentiment" in view.tables and "not readable" in view.status and view.report is None


def test_build_demo_has_the_inputs_and_the_api():
    blocks = space.build_demo(space.SpaceSettings(build_demo_registry=False))
    assert isinstance(blocks, gr.Blocks)
    info = blocks.get_api_info()
    params = [p["parameter_name"] for p in info["named_endpoints"]["/search"]["parameters"]]
    assert params[:2] == ["task", "dataset"] and "hub_dir" in params and "endpoint" in params
    scorers = next(b for b in blocks.blocks.values() if getattr(b, "elem_id", None) == "hfs-scorers")
    assert "adaptivity" in scorers.value and {"adaptivity", "jsd", "confidence"} <= {c[1] for c in scorers.choices}
    assert blocks._queue.max_size == space.SpaceSettings().queue_size


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
