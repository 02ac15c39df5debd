"""The Space's limits: uploads capped in bytes and rows, unsafe ids refused in restricted mode before any access, and
a token (``HF_TOKEN``) that never appears in anything the ``/search`` endpoint returns, errors included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from space_fixture import BEST, LABELS, SCORERS, TARGET, running_app

gradio_client = pytest.importorskip("gradio_client")

from hfsearch import app
from hfsearch.app import form
from hfsearch.app.uploads import check_upload, count_rows
from hfsearch.errors import ConfigError, DatasetError, RepoIdError

ROWS = [{"text": f"review number {i}", "label": i % 2} for i in range(30)]


def _write(path: Path, rows: list[dict]) -> Path:
    suffix = path.suffix
    if suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows) + "\n\n")
    elif suffix in (".csv", ".tsv"):
        sep = "," if suffix == ".csv" else "\t"
        path.write_text("text" + sep + "label\n" + "".join(f'"{r["text"]}\nsecond line"{sep}{r["label"]}\n' for r in rows))
    elif suffix == ".json":
        path.write_text(json.dumps(rows))
    elif suffix == ".parquet":
        import pandas as pd

        pd.DataFrame(rows).to_parquet(path)
    return path


# ---- counting and capping, without a server ------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".tsv", ".json", ".parquet"])
def test_rows_are_counted_per_format(tmp_path, suffix):
    path = _write(tmp_path / f"data{suffix}", ROWS)
    assert count_rows(path) == 30  # blank lines, the header and quoted line breaks are not rows
    if suffix in (".jsonl", ".csv", ".tsv"):
        assert count_rows(path, stop_after=10) == 11  # streamed: stops one row past the cap


def test_columns_json_and_unknown_or_broken_files(tmp_path):
    (tmp_path / "cols.json").write_text(json.dumps({"text": ["a", "b", "c"], "label": [0, 1, 0]}))
    assert count_rows(tmp_path / "cols.json") == 3
    (tmp_path / "broken.json").write_text('[{"text": "a"},')
    assert count_rows(tmp_path / "broken.json") is None  # left to the loader, which names the line
    (tmp_path / "x.xlsx").write_bytes(b"PK")
    assert count_rows(tmp_path / "x.xlsx") is None


def test_check_upload_refuses_files_over_the_caps_in_one_line(tmp_path):
    path = _write(tmp_path / "reviews.jsonl", ROWS)
    check_upload(path, max_bytes=10**6, max_rows=30)  # at the caps: accepted
    with pytest.raises(DatasetError) as rows:
        check_upload(path, max_bytes=10**6, max_rows=29)
    assert str(rows.value).startswith("Uploaded file 'reviews.jsonl' has more than 29 rows, the most this app accepts")
    with pytest.raises(DatasetError) as size:
        check_upload(path, max_bytes=100, max_rows=10**6)
    message = str(size.value)
    assert message.startswith("Uploaded file 'reviews.jsonl' is 1.") and "up to 100 bytes" in message
    assert str(tmp_path) not in message + str(rows.value)  # the server's folders are not shown


def test_upload_caps_from_the_environment(monkeypatch):
    monkeypatch.setenv("HFSEARCH_SPACE_MAX_UPLOAD_MB", "2.5")
    monkeypatch.setenv("HFSEARCH_SPACE_MAX_UPLOAD_ROWS", "5000")
    s = app.SpaceSettings.from_env()
    assert (s.max_upload_bytes, s.max_upload_rows) == (2_500_000, 5000)
    monkeypatch.setenv("HFSEARCH_SPACE_MAX_UPLOAD_ROWS", "many")
    assert app.SpaceSettings.from_env().max_upload_rows == app.SpaceSettings.max_upload_rows


def test_launch_caps_uploads_while_they_arrive_and_the_sessions_kept(monkeypatch):
    import gradio as gr

    seen = {}
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, **kwargs: seen.update(kwargs))
    app.launch(settings=app.SpaceSettings(build_demo_registry=False, max_upload_mb=3, max_sessions=50))
    assert seen["max_file_size"] == 3_000_000 and seen["state_session_capacity"] == 50


# ---- restricted mode: ids refused on their text alone --------------------------------------------------------------
@pytest.fixture()
def no_file_access(monkeypatch):
    """Any look at the file system fails the test (an id must be refused before)."""

    def forbidden(*args, **kwargs):
        raise AssertionError(f"file system touched: {args}")

    for name in ("exists", "is_dir", "is_file", "stat", "iterdir", "open"):
        monkeypatch.setattr(Path, name, forbidden)


@pytest.mark.parametrize(
    ("values", "error", "fragment"),
    [
        ({"dataset": "file:///etc/passwd"}, RepoIdError, "Refused dataset id 'file:///etc/passwd': URLs"),
        ({"dataset": "s3://bucket/data"}, RepoIdError, "Refused dataset id 's3://bucket/data': URLs"),
        ({"dataset": "org/../../secret"}, RepoIdError, "Refused dataset id 'org/../../secret': '..' is not allowed"),
        ({"dataset": "../secret"}, ConfigError, "Dataset: this app does not read datasets from its own disk"),
        ({"dataset": "/etc"}, ConfigError, "Dataset: this app does not read datasets from its own disk"),
        ({"models": "org/ok, ../../x"}, RepoIdError, "Refused model id '../../x': '..' is not allowed"),
        ({"models": "/srv/models/x"}, RepoIdError, "Refused model id '/srv/models/x': absolute paths"),
        ({"models": "https://evil.example/org/x"}, RepoIdError, "Refused model id 'https://evil.example/org/x': URLs"),
        ({"models": "org/*"}, RepoIdError, "Refused model id 'org/*'"),  # wildcards: the demo registry only
    ],
)
def test_restricted_mode_refuses_unsafe_ids_before_any_file_access(values, error, fragment, no_file_access):
    settings = app.SpaceSettings(restricted=True)
    with pytest.raises(error) as info:
        form.build_config(settings, {"task": "text-classification", "dataset": "org/data", **values})
    assert str(info.value).startswith(fragment) and "\n" not in str(info.value)


def test_restricted_mode_accepts_hub_ids():
    cfg = form.build_config(app.SpaceSettings(restricted=True),
                            {"task": "text-classification", "dataset": "org/data", "models": "org/a\nb-c/d.e"})
    assert cfg.dataset == "org/data" and cfg.models == ["org/a", "b-c/d.e"] and cfg.local_dataset is False


# ---- through gradio_client ------------------------------------------------------------------------------------------
def _form(**kw):
    values = dict(task="text-classification", dataset=TARGET, upload=None, config="", split="test", columns="",
                  candidates=5, samples=64, scorers=SCORERS, rank_by="", models="", author="test-org", name_filter="",
                  endpoint="", hub_dir="", labels=LABELS)
    values.update(kw)
    return list(values.values())


def _error_of(client, **kw) -> str:
    with pytest.raises(Exception) as info:  # gradio_client.exceptions.AppError
        client.predict(*_form(**kw), api_name="/search")
    assert type(info.value).__name__ == "AppError", repr(info.value)
    return str(info.value)


@pytest.fixture(scope="module")
def restricted_client(registry):
    with running_app(restricted=True, max_upload_mb=0.002, max_upload_rows=20) as url:
        yield gradio_client.Client(url, verbose=False)


def test_the_space_refuses_big_uploads(restricted_client, tmp_path):
    rows = _write(tmp_path / "many_rows.jsonl", [{"text": "ok"}] * 25)  # 400 bytes, 25 rows
    message = _error_of(restricted_client, dataset="", split="", author="", upload=gradio_client.handle_file(str(rows)))
    assert message.startswith("Uploaded file 'many_rows.jsonl' has more than 20 rows, the most this app accepts")
    big = tmp_path / "big.jsonl"
    big.write_text(json.dumps({"text": "x" * 3000}) + "\n")  # one row, 3 kB
    with pytest.raises(ValueError, match="exceeds the maximum file size of 2000 bytes"):  # the client knows the cap
        restricted_client.predict(*_form(dataset="", split="", author="", upload=gradio_client.handle_file(str(big))),
                                  api_name="/search")
    import httpx  # a client that ignores the cap: the server stops reading the upload and answers 413

    with big.open("rb") as fh:
        answer = httpx.post(restricted_client.src.rstrip("/") + "/gradio_api/upload", files={"files": fh}, timeout=30)
    assert answer.status_code == 413 and "maximum allowed size of 2000 bytes" in answer.text


def test_the_space_refuses_unsafe_ids_before_any_request(restricted_client, hub_server):
    hub_server.clear_requests()
    assert _error_of(restricted_client, dataset="file:///etc/passwd").startswith("Refused dataset id 'file:///etc/passwd'")
    assert _error_of(restricted_client, author="", models="test-org/bert-yelp\n../../../etc").startswith(
        "Refused model id '../../../etc'")
    assert _error_of(restricted_client, dataset="/etc").startswith("Dataset: this app does not read datasets")
    assert hub_server.requests == []  # refused before the Hub was asked anything


SENTINEL = "hf_SENTINELspace0123456789abcdefghij"


def test_the_token_never_appears_in_what_search_returns(registry, hub_server, monkeypatch):
    """HF_TOKEN is set for the app; every output of /search (files included) and every error is searched for it."""
    monkeypatch.setenv("HF_TOKEN", SENTINEL)
    texts: list[str] = []
    files = 0
    with running_app() as url:
        client = gradio_client.Client(url, verbose=False)
        hub_server.clear_requests()
        outputs = client.predict(*_form(author="", models=f"{BEST}\nnobody/no-such-model\nother-org/bert-broken"),
                                 api_name="/search")
        assert outputs[-1]["best"] == BEST  # the search ran, with the token
        assert any(r["authorized"] for r in hub_server.requests)  # … which was sent to the Hub
        for value in outputs:
            texts.append(json.dumps(value, default=str))
            path = value.get("value") if isinstance(value, dict) else value
            if isinstance(path, str) and path.startswith("/") and "\n" not in path and Path(path).is_file():
                texts.append(Path(path).read_text(errors="replace"))  # the JSON and CSV downloads
                files += 1
        assert files == 2 and "nobody/no-such-model" in texts[3]  # the failures are reported (with their reasons)
        for bad in ({"endpoint": "http://127.0.0.1:9"}, {"dataset": "nobody/no-such-dataset"},
                    {"models": "nobody/no-such-model", "author": ""}, {"split": "dev"}):
            texts.append(_error_of(client, **bad))
    assert len(texts) == 7 + 2 + 4
    assert not [t for t in texts if SENTINEL in t]
