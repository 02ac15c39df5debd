"""Bad input: a one-line error on stderr, exit status 2, no traceback — and nothing is half-written."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from hfsearch.cli import main


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _assert_one_line_error(code: int, err: str, pattern: str) -> None:
    assert code == 2, err
    lines = [l for l in err.strip().splitlines() if l.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert pattern.lower() in lines[0].lower(), lines[0]


@pytest.fixture()
def data_dir(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    (d / "test.jsonl").write_text("".join(json.dumps({"text": f"row {i}", "label": i % 2}) + "\n" for i in range(10)))
    return d


def test_unsupported_task(capsys, data_dir):
    code, _, err = _run(capsys, "find", "--task", "text-clasification", "--dataset", str(data_dir))
    _assert_one_line_error(code, err, "did you mean 'text-classification'")


def test_unknown_dataset_on_the_hub(capsys, hub_server):
    code, _, err = _run(capsys, "find", "--task", "text-classification", "--dataset", "nobody/no-such-dataset")
    _assert_one_line_error(code, err, "no-such-dataset")


def test_unknown_split(capsys, data_dir):
    code, _, err = _run(capsys, "find", "--task", "text-classification", "--dataset", str(data_dir), "--split", "dev")
    _assert_one_line_error(code, err, "unknown split 'dev'; available: test")


def test_ambiguous_and_missing_column(capsys, tmp_path):
    (tmp_path / "test.jsonl").write_text(json.dumps({"title": "a", "body": "b"}) + "\n")
    code, _, err = _run(capsys, "find", "--task", "text-classification", "--dataset", str(tmp_path))
    _assert_one_line_error(code, err, "ambiguous input column")
    code, _, err = _run(capsys, "find", "--task", "text-classification", "--dataset", str(tmp_path), "--column", "text")
    _assert_one_line_error(code, err, "column 'text' not found")


def test_zero_samples(capsys, data_dir):
    code, _, err = _run(capsys, "find", "--task", "text-classification", "--dataset", str(data_dir), "--samples", "0")
    _assert_one_line_error(code, err, "--samples must be at least 1 (got 0)")


def test_unknown_scorer_did_you_mean(capsys, data_dir):
    code, _, err = _run(capsys, "find", "--task", "text-classification", "--dataset", str(data_dir), "--scores", "adaptivty")
    _assert_one_line_error(code, err, "did you mean 'adaptivity'")


def test_hub_unreachable(capsys, data_dir):
    code, _, err = _run(capsys, "find", "--task", "text-classification", "--dataset", str(data_dir),
                        "--endpoint", "http://127.0.0.1:9")
    _assert_one_line_error(code, err, "cannot query http://127.0.0.1:9")


def test_zero_candidates_after_filters(capsys, registry, data_dir):
    code, _, err = _run(capsys, "find", "--task", "text-classification", "--dataset", str(data_dir),
                        "--max-params", "10", "--labels", "negative,positive")
    _assert_one_line_error(code, err, "no candidate left")


def test_a_licence_the_hub_lists_no_model_under_is_named(capsys, registry, data_dir):
    """With the licence asked of the Hub, an empty listing has no skipped models to quote: the error names the
    filter (a typo such as "apache 2.0" is then plain to see)."""
    code, _, err = _run(capsys, "find", "--task", "text-classification", "--dataset", str(data_dir),
                        "--license", "apache 2.0", "--labels", "negative,positive")
    _assert_one_line_error(code, err, "the hub lists no text-classification model with --license apache 2.0")


def test_offline_mode_without_cache(tmp_path, data_dir):
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "empty_home"))
    proc = subprocess.run(
        [sys.executable, "-m", "hfsearch", "find", "--task", "text-classification", "--dataset", str(data_dir)],
        env=env, capture_output=True, text=True, timeout=120,
    )
    _assert_one_line_error(proc.returncode, proc.stderr, "offline mode")
