"""Bad input, table-driven: every case is one line ``hfsearch: error: ...`` on stderr, exit status 2, no traceback.

Each case lists the CLI arguments (``{tmp}`` is the test's folder), the files it writes there first (a name ending in
``/`` is an empty folder), and a fragment
the message must contain. The data cases fail while the target is loaded, before any candidate is looked up, so the
table needs no Hub; the id cases check that a bad id is refused before any request.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from hfsearch.cli import main


def _jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


GOOD = _jsonl([{"text": f"a review number {i}", "label": i % 2} for i in range(20)])
FIND = ["find", "--task", "text-classification"]


@dataclass
class Case:
    id: str
    args: list[str]
    fragment: str
    files: dict[str, str | bytes] = field(default_factory=dict)
    code: int = 2


def _npz(**arrays) -> bytes:
    """An .npz file's bytes (predictions files of ``hfsearch rank-outputs``)."""
    import io

    import numpy as np

    buf = io.BytesIO()
    np.savez(buf, **{k: np.asarray(v) for k, v in arrays.items()})
    return buf.getvalue()


PRED = [[0, 1, 1], [1, 1, 0], [0, 0, 0], [1, 0, 1]]
RANK = ["rank-outputs", "{tmp}/p.npz"]


def _mostly_bad() -> str:
    """10 rows of which 3 (rows 2, 5, 7 counting from 1) hold a null, a number and blank text."""
    rows = [{"text": f"review {i}", "label": 0} for i in range(10)]
    rows[1]["text"], rows[4]["text"], rows[6]["text"] = None, 5, "  "
    return _jsonl(rows)


CASES = [
    Case("demo-negative-label-budget", ["demo", "--dir", "{tmp}/demo", "--label-budget", "-1"],
         "--label-budget must be at least 0"),
    Case("missing-file", [*FIND, "--dataset", "{tmp}/nope.jsonl"], "no such local file or folder"),
    Case("unknown-split", [*FIND, "--dataset", "{tmp}/d", "--split", "dev"], "unknown split 'dev'; available: test",
         {"d/test.jsonl": GOOD}),
    Case("unknown-column", [*FIND, "--dataset", "{tmp}/d.jsonl", "--column", "body"], "column 'body' not found",
         {"d.jsonl": GOOD}),
    Case("ambiguous-column", [*FIND, "--dataset", "{tmp}/d.jsonl"], "ambiguous input column",
         {"d.jsonl": _jsonl([{"title": "a", "body": "b"}] * 3)}),
    Case("unknown-task", ["find", "--task", "text-clasification", "--dataset", "{tmp}/d.jsonl"],
         "did you mean 'text-classification'", {"d.jsonl": GOOD}),
    Case("unknown-scorer", [*FIND, "--dataset", "{tmp}/d.jsonl", "--scores", "adaptivty"], "did you mean 'adaptivity'",
         {"d.jsonl": GOOD}),
    Case("unsupported-extension", [*FIND, "--dataset", "{tmp}/d.xlsx"], "unsupported data file", {"d.xlsx": b"PK\x03\x04"}),
    Case("empty-file", [*FIND, "--dataset", "{tmp}/d.jsonl"], "is empty: it holds no rows", {"d.jsonl": ""}),
    Case("header-only-csv", [*FIND, "--dataset", "{tmp}/d.csv"], "has a header line (text, label) but no data rows",
         {"d.csv": "text,label\n"}),
    Case("jsonl-one-bad-line", [*FIND, "--dataset", "{tmp}/d.jsonl"], "d.jsonl': line 3 is not valid json",
         {"d.jsonl": _jsonl([{"text": "a"}, {"text": "b"}]) + '{"text": "c"\n' + _jsonl([{"text": "d"}])}),
    Case("jsonl-line-not-object", [*FIND, "--dataset", "{tmp}/d.jsonl"], "line 2 is a json list, not an object",
         {"d.jsonl": '{"text": "a"}\n[1, 2]\n'}),
    Case("json-malformed", [*FIND, "--dataset", "{tmp}/d.json"], "invalid json at line 2, column",
         {"d.json": '[{"text": "a"},\n {"text": ]'}),
    Case("parquet-not-parquet", [*FIND, "--dataset", "{tmp}/d.parquet"], "not a readable parquet file",
         {"d.parquet": "text,label\nhello,1\n"}),
    Case("binary-garbage-jsonl", [*FIND, "--dataset", "{tmp}/d.jsonl"], "looks binary, not like a jsonl file",
         {"d.jsonl": bytes(range(256)) * 8}),
    Case("undecodable-jsonl", [*FIND, "--dataset", "{tmp}/d.jsonl"], "byte 0xe9 at offset 43 (line 2)",
         {"d.jsonl": b'{"text": "plain", "label": 0}\n{"text": "caf\xe9 au lait", "label": 1}\n'}),
    Case("undecodable-csv", [*FIND, "--dataset", "{tmp}/d.csv"], "--encoding latin-1",
         {"d.csv": b"text,label\nna\xefve review,1\nfine,0\n"}),
    Case("utf16-without-bom", [*FIND, "--dataset", "{tmp}/d.csv", "--encoding", "utf-16"],
         "is not valid utf-16 text: UTF-16 stream does not start with BOM", {"d.csv": "text,label\nfine,1\nok,0\n"}),
    Case("column-twice", [*FIND, "--dataset", "{tmp}/d.jsonl", "--column", "text,text"],
         "--column names a column twice: text, text", {"d.jsonl": GOOD}),
    Case("csv-ragged-row", [*FIND, "--dataset", "{tmp}/d.csv"], "line 3 has 3 fields, the header has 2",
         {"d.csv": "text,label\ngood,1\nbad,0,extra\n"}),
    Case("csv-unclosed-quote", [*FIND, "--dataset", "{tmp}/d.csv"], "quoted field opened on line 3 is never closed",
         {"d.csv": 'text,label\nok,1\n"never closed,0\nmore,1\n'}),
    Case("folder-without-data", [*FIND, "--dataset", "{tmp}/d"], "holds no data files (it holds only: notes.md, task.toml)",
         {"d/notes.md": "# notes\n", "d/task.toml": "x = 1\n"}),
    Case("empty-folder", [*FIND, "--dataset", "{tmp}/d"], "holds no data files (it is empty)", {"d/": ""}),
    Case("folder-with-one-broken-file", [*FIND, "--dataset", "{tmp}/d", "--split", "test"], "test.jsonl': line 1",
         {"d/train.jsonl": GOOD, "d/test.jsonl": "{oops}\n"}),
    Case("too-many-bad-cells", [*FIND, "--dataset", "{tmp}/d.jsonl"],
         "3 of 10 rows of {tmp}/d.jsonl have an empty or non-text 'text' (rows 2, 5, 7): more than 20%",
         {"d.jsonl": _mostly_bad()}),
    Case("non-text-column", [*FIND, "--dataset", "{tmp}/d.jsonl", "--column", "label"], "every row is unusable",
         {"d.jsonl": GOOD}),
    Case("samples-zero", [*FIND, "--dataset", "{tmp}/d.jsonl", "--samples", "0"], "--samples must be at least 1 (got 0)",
         {"d.jsonl": GOOD}),
    # numeric options out of range and conflicting options: checked from the one declaration of every option
    Case("batch-size-zero", [*FIND, "--dataset", "{tmp}/d.jsonl", "--batch-size", "0"],
         "--batch-size must be at least 1 (got 0)", {"d.jsonl": GOOD}),
    Case("max-length-not-a-number", [*FIND, "--dataset", "{tmp}/d.jsonl", "--max-length", "abc"],
         "--max-length must be a whole number (got 'abc')", {"d.jsonl": GOOD}),
    Case("max-params-fraction", [*FIND, "--dataset", "{tmp}/d.jsonl", "--max-params", "1.5"],
         "--max-params must be a whole number (got 1.5)", {"d.jsonl": GOOD}),
    Case("heldout-samples-zero", [*FIND, "--dataset", "{tmp}/d.jsonl", "--heldout-samples", "0"],
         "--heldout-samples must be at least 1 (got 0)", {"d.jsonl": GOOD}),
    Case("budget-unknown", [*FIND, "--dataset", "{tmp}/d.jsonl", "--budget", "fast"],
         "--budget must be one of auto, full (got 'fast')", {"d.jsonl": GOOD}),
    Case("max-time-zero", [*FIND, "--dataset", "{tmp}/d.jsonl", "--max-time", "0"],
         "--max-time must be at least 1 (got 0)", {"d.jsonl": GOOD}),
    Case("max-download-text", [*FIND, "--dataset", "{tmp}/d.jsonl", "--max-download", "1XB"],
         "--max-download must be a number of bytes such as 500MB, 5GB, 2GiB or 5e9 (got '1XB')", {"d.jsonl": GOOD}),
    Case("max-download-part-byte", [*FIND, "--dataset", "{tmp}/d.jsonl", "--max-download", "0.5B"],
         "--max-download must be at least 1 (got 0)", {"d.jsonl": GOOD}),
    Case("source-samples-negative", [*FIND, "--dataset", "{tmp}/d.jsonl", "--source-samples=-5"],
         "--source-samples must be at least 1 (got -5)", {"d.jsonl": GOOD}),
    Case("window-zero", [*FIND, "--dataset", "{tmp}/d.jsonl", "--window", "0"], "--window must be at least 1 (got 0)",
         {"d.jsonl": GOOD}),
    Case("candidate-timeout-zero", [*FIND, "--dataset", "{tmp}/d.jsonl", "--candidate-timeout", "0"],
         "--candidate-timeout must be at least 1 (got 0)", {"d.jsonl": GOOD}),
    Case("candidate-timeout-not-a-number", [*FIND, "--dataset", "{tmp}/d.jsonl", "--candidate-timeout", "1m"],
         "--candidate-timeout must be a whole number (got '1m')", {"d.jsonl": GOOD}),
    Case("stride-without-window", [*FIND, "--dataset", "{tmp}/d.jsonl", "--stride", "8"], "--stride needs --window",
         {"d.jsonl": GOOD}),
    Case("window-for-a-text-task", [*FIND, "--dataset", "{tmp}/d.jsonl", "--window", "8"], "does not take --window",
         {"d.jsonl": GOOD}),
    Case("device-unknown", [*FIND, "--dataset", "{tmp}/d.jsonl", "--device", "gpu"],
         "--device must be one of auto, cpu, cuda (got 'gpu')", {"d.jsonl": GOOD}),
    Case("metric-unknown", [*FIND, "--dataset", "{tmp}/d.jsonl", "--metric", "auc"],
         "--metric must be one of accuracy, f1 (got 'auc')", {"d.jsonl": GOOD}),
    Case("models-and-author", [*FIND, "--dataset", "{tmp}/d.jsonl", "--models", "a/b", "--author", "me"],
         "--models lists the candidates explicitly, so --author would be ignored", {"d.jsonl": GOOD}),
    Case("missing-dataset-flag", ["find", "--task", "text-classification"],
         "the following arguments are required: --dataset"),
    Case("score-param-malformed", [*FIND, "--dataset", "{tmp}/d.jsonl", "--score-param", "tau"],
         "expects scorer.param=value", {"d.jsonl": GOOD}),
    Case("rank-by-not-chosen", [*FIND, "--dataset", "{tmp}/d.jsonl", "--scores", "confidence", "--rank-by", "jsd"],
         "--rank-by 'jsd' is not among the chosen scores", {"d.jsonl": GOOD}),
    Case("hub-dir-dotdot-dataset", [*FIND, "--hub-dir", "{tmp}/reg", "--dataset", "org/../../secret"],
         "refused dataset 'org/../../secret' with --hub-dir: '..' is not allowed",
         {"reg/models/.keep": "", "secret/test.jsonl": GOOD}),
    Case("hub-dir-absolute-dataset", [*FIND, "--hub-dir", "{tmp}/reg", "--dataset", "{tmp}/secret"],
         "absolute paths are not allowed", {"reg/models/.keep": "", "secret/test.jsonl": GOOD}),
    Case("hub-dir-url-model", [*FIND, "--hub-dir", "{tmp}/reg", "--dataset", "org/data", "--models", "file:///etc/x"],
         "refused model id 'file:///etc/x': urls", {"reg/models/.keep": "", "reg/datasets/org/data/test.jsonl": GOOD}),
    Case("dotdot-model-id", [*FIND, "--dataset", "{tmp}/d.jsonl", "--models", "org/../../x"],
         "refused model id 'org/../../x'", {"d.jsonl": GOOD}),
    Case("url-dataset", [*FIND, "--dataset", "s3://bucket/data"], "not a hub id (urls and url schemes"),
    # label budgets: refused before anything runs when no labels can be had (stdin is not a terminal here)
    Case("label-budget-without-a-source", [*FIND, "--dataset", "{tmp}/d.jsonl", "--label-budget", "5"],
         "needs labels: give label_column (--label-column col)", {"d.jsonl": GOOD}),
    Case("label-budget-negative", [*FIND, "--dataset", "{tmp}/d.jsonl", "--label-budget=-1"],
         "--label-budget must be at least 0 (got -1)", {"d.jsonl": GOOD}),
    Case("label-column-without-budget", [*FIND, "--dataset", "{tmp}/d.jsonl", "--label-column", "label"],
         "--label-column is only read with --label-budget n", {"d.jsonl": GOOD}),
    Case("label-column-missing", [*FIND, "--dataset", "{tmp}/d.jsonl", "--label-budget", "5", "--label-column", "gold"],
         "column 'gold' not found", {"d.jsonl": GOOD}),
    Case("label-column-is-the-input", [*FIND, "--dataset", "{tmp}/d.jsonl", "--column", "text", "--label-budget", "5",
                                       "--label-column", "text"], "the labels cannot be an input", {"d.jsonl": GOOD}),
    Case("label-budget-with-f1", [*FIND, "--dataset", "{tmp}/d.jsonl", "--label-budget", "5", "--label-column", "label",
                                  "--metric", "f1"], "--label-budget updates the predicted accuracy only",
         {"d.jsonl": GOOD}),
    Case("label-budget-with-rank-by", [*FIND, "--dataset", "{tmp}/d.jsonl", "--label-budget", "5", "--label-column",
                                       "label", "--scores", "confidence", "--rank-by", "confidence"],
         "only with --rank-by auto", {"d.jsonl": GOOD}),
    # hfsearch rank-outputs: malformed predictions files
    Case("rank-outputs-missing-file", RANK, "no such predictions file"),
    Case("rank-outputs-not-npz", RANK, "is not a readable .npz archive", {"p.npz": "predictions,labels\n0,1\n"}),
    Case("rank-outputs-no-predictions", RANK, "missing array 'predictions' (found: labels)",
         {"p.npz": _npz(labels=[0, 1])}),
    Case("rank-outputs-nan", RANK, "'predictions' contains nan",
         {"p.npz": _npz(predictions=[[0.0, 1.0], [float("nan"), 0.0]])}),
    Case("rank-outputs-class-out-of-range", RANK, "class id -3 in 'predictions' is out of range",
         {"p.npz": _npz(predictions=[[0, 1], [-3, 0]])}),
    Case("rank-outputs-rows-vs-labels", RANK, "'labels' has shape (3,) but 'predictions' has 4 rows",
         {"p.npz": _npz(predictions=PRED, labels=[0, 1, 1])}),
    Case("rank-outputs-shape", RANK, "must be (rows, models) class ids or (rows, models, classes) probabilities",
         {"p.npz": _npz(predictions=[0, 1, 1])}),
    Case("rank-outputs-models-mismatch", RANK, "'models' has 2 names but 'predictions' has 3 models",
         {"p.npz": _npz(predictions=PRED, models=["a", "b"])}),
    Case("rank-outputs-budget-without-labels", [*RANK, "--label-budget", "3"],
         "--label-budget 3 reveals labels from the file's 'labels' array, which it does not have",
         {"p.npz": _npz(predictions=PRED)}),
    Case("rank-outputs-budget-negative", [*RANK, "--label-budget", "-2"], "--label-budget must be at least 0",
         {"p.npz": _npz(predictions=PRED, labels=[0, 1, 0, 1])}),
]


def _materialise(case: Case, tmp: Path) -> list[str]:
    for name, content in case.files.items():
        path = tmp / name
        if name.endswith("/"):  # an empty folder
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return [a.replace("{tmp}", str(tmp)) for a in case.args]


def assert_one_line_error(code: int, err: str, expected_code: int, fragment: str) -> None:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert code == expected_code, err
    assert "Traceback" not in err, err
    assert len(lines) == 1, err
    assert lines[0].startswith("hfsearch: error: "), lines[0]
    assert fragment.lower() in lines[0].lower(), lines[0]


def test_the_table_has_at_least_30_distinct_cases():
    assert len(CASES) >= 30 and len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, tmp_path, capsys, hub_server):
    args = _materialise(case, tmp_path)
    hub_server.clear_requests()
    code = main(args)
    _, err = capsys.readouterr()
    assert_one_line_error(code, err, case.code, case.fragment.replace("{tmp}", str(tmp_path)))
    assert hub_server.requests == []  # refused or failed before any request


SUBPROCESS = ["binary-garbage-jsonl", "jsonl-one-bad-line", "hub-dir-dotdot-dataset", "rank-outputs-nan"]


@pytest.mark.parametrize("case_id", SUBPROCESS)
def test_bad_input_in_a_subprocess(case_id, tmp_path, env_for_subprocess):
    """The real process: third-party logging, warnings and exit status included."""
    case = next(c for c in CASES if c.id == case_id)
    args = _materialise(case, tmp_path)
    proc = subprocess.run([sys.executable, "-m", "hfsearch", *args], env=env_for_subprocess, check=False,
                          capture_output=True, text=True, timeout=180)
    assert_one_line_error(proc.returncode, proc.stderr, case.code, case.fragment)
    assert proc.stdout == ""
