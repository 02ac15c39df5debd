"""Pool workloads (``kind: pools``) through ``hfsearch bench``, the budget curves on their own, and the
``hfsearch rank-outputs`` command — on small constructed pools (the real ones are graded in BENCHMARKS.md)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hfsearch.bench.curves import budget_curve
from hfsearch.cli import main

ACCS = (0.93, 0.8, 0.75, 0.7, 0.65, 0.6)


def make_pool(seed: int = 0, n: int = 300, accs=ACCS):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    preds = np.stack([np.where(rng.random(n) < a, y, 1 - y) for a in accs], axis=1)
    return preds, y


def write_pool(path, **extra):
    preds, y = make_pool()
    arrays = {"predictions": preds, "labels": y, "models": np.array([f"m{j}" for j in range(preds.shape[1])])}
    arrays.update(extra)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return preds, y


def test_budget_curve_reaches_the_best_and_starts_at_the_prior():
    preds, y = make_pool(1, n=60)
    truth = (preds == y[:, None]).mean(axis=0)
    wrong = np.array([0.6, 0.62, 0.7, 0.75, 0.8, 0.85])  # the prior prefers the worst models
    prior = np.stack([wrong, wrong - 0.1, wrong + 0.1], axis=1)
    recs = budget_curve(preds, y, prior, truth, budgets=(0, 60), repeats=1, seed=0)
    at = {(r["strategy"], r["budget"]): r for r in recs}
    assert at[("informative", 0)]["regret"] == pytest.approx(100 * (truth.max() - truth[5]))
    assert at[("informative", 60)]["regret"] == 0.0 and at[("uniform", 60)]["top1"] == 1.0  # every row labeled
    # no label-free prediction at all: uninformative priors tie, so 0 labels is a uniform pick
    flat = budget_curve(preds, y, np.full((6, 3), np.nan), truth, budgets=(0,), repeats=1)
    assert flat[0]["regret"] == pytest.approx(100 * np.mean(truth.max() - truth))


def test_budget_curve_grades_the_loops_predicted_accuracies():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, size=60)
    acc = np.array([0.95, 0.9, 0.8, 0.7, 0.6, 0.55])
    preds = np.where(rng.random((60, 6)) < acc, y[:, None], 1 - y[:, None])
    truth = (preds == y[:, None]).mean(axis=0)
    value = np.array([0.7, 0.7, 0.7, 0.7, np.nan, 0.7])  # one candidate without a label-free prediction
    prior = np.stack([value, value - 0.1, value + 0.1], axis=1)
    recs = budget_curve(preds, y, prior, truth, budgets=(0, 60), repeats=1, seed=0)
    at = {(r["strategy"], r["budget"]): r for r in recs}
    informed = np.isfinite(value)
    # 0 labels: exactly the label-free prediction, graded on the candidates that have one
    assert at[("uniform", 0)]["error"] == pytest.approx(100 * np.mean(np.abs(0.7 - truth[informed])))
    inside = np.abs(truth[informed] - 0.7) <= 0.1
    assert at[("uniform", 0)]["coverage"] == pytest.approx(inside.mean())
    assert at[("uniform", 0)]["width"] == pytest.approx(20.0)
    # every row labeled: the loop's accuracies are the measured ones, and their intervals hold them
    for strategy in ("informative", "uniform"):
        done = at[(strategy, 60)]
        assert done["error"] < 1.0 and done["pick_error"] < 1.0 and done["coverage"] == 1.0
        assert done["width"] < at[(strategy, 0)]["width"] / 4
    # nothing to grade without any label-free prediction
    assert np.isnan(budget_curve(preds, y, np.full((6, 3), np.nan), truth, budgets=(0,), repeats=1)[0]["error"])


def _workload(tmp_path, pools: dict[str, str], **extra) -> str:
    lines = ["name: tiny-pools", "kind: pools", "pools:"] + [f"  {k}: {v}" for k, v in pools.items()]
    lines += [f"{k}: {v}" for k, v in {"budgets": "[0, 10]", "repeats": 2, **extra}.items()]
    path = tmp_path / "pools.yaml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_pool_workload_is_graded_and_absent_pools_are_skipped(tmp_path, capsys):
    write_pool(tmp_path / "a.npz")
    wl = _workload(tmp_path, {"a": "a.npz", "gone": "../elsewhere/gone.npz"})
    out = tmp_path / "out"
    assert main(["bench", wl, "--output", str(out), "--format", "markdown"]) == 0
    printed, err = capsys.readouterr()
    assert "skipped pool gone:" in err and "gone.npz not found" in err
    report = (out / "report.md").read_text()
    assert printed.strip() == report.strip()
    assert "### a (300 rows, 6 models; best accuracy" in report
    assert "| consensus (dawid-skene" in report and "| agreement (majority vote) |" in report
    assert "| informative (the label loop) |" in report and "| uniform random |" in report
    res = json.loads((out / "results.json").read_text())
    (pool,) = res["pools"]
    assert pool["n_models"] == 6 and {r["budget"] for r in pool["curves"]} == {0, 10}
    consensus = next(r for r in pool["label_free"] if r["method"].startswith("consensus"))
    assert consensus["chosen"] == "m0" and consensus["regret"] == 0.0  # six independent models: consensus works
    # a predicted accuracy is graded as one: its error in points against the measured accuracies
    assert 0.0 <= consensus["abs_error"] < 15.0 and consensus["interval_width"] is None
    auto = next(r for r in pool["label_free"] if r["method"].startswith("auto"))
    assert 0.0 <= auto["interval_coverage"] <= 1.0 and 0.0 < auto["interval_width"] <= 100.0
    # independent models: the fit explains their agreement, so auto keeps consensus's differences instead of shrinking
    # them by the weight the zoos' consensus got beside other signals
    assert pool["consensus_fit"] > 0.8 and "The Dawid–Skene fit explains" in report
    assert abs(auto["abs_error"] - consensus["abs_error"]) < 1.0
    assert "| abs. error (points) | 90% interval coverage | interval width (points) |" in report
    assert list(res["skipped"]) == ["gone"]
    assert (out / "plots" / "budget_curves.png").stat().st_size > 1000


def test_a_workload_whose_pools_are_all_absent_is_skipped(tmp_path, capsys):
    wl = _workload(tmp_path, {"gone": "gone.npz"})
    assert main(["bench", wl, "--output", str(tmp_path / "out"), "--format", "json"]) == 0
    assert "none of its 1 pool files exists" in capsys.readouterr().err
    assert "Workload skipped: no pool file found." in (tmp_path / "out" / "report.md").read_text()


@pytest.mark.parametrize("extra,fragment", [
    ({"repeats": 0}, "repeats: expected a whole number >= 1"),
    ({"budgets": "[10, -1]"}, "budgets: expected a list of whole numbers >= 0"),
    ({"repeat": 3}, "unknown field 'repeat'. Did you mean 'repeats'?"),
])
def test_bad_pool_workloads_are_one_line(tmp_path, capsys, extra, fragment):
    write_pool(tmp_path / "a.npz")
    wl = _workload(tmp_path, {"a": "a.npz"}, **extra)
    assert main(["bench", wl, "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and fragment in err[0], err


def test_a_malformed_pool_file_names_the_pool(tmp_path, capsys):
    preds, _ = make_pool()
    np.savez(tmp_path / "a.npz", predictions=preds, labels=np.zeros(7, int))
    assert main(["bench", _workload(tmp_path, {"a": "a.npz"}), "--output", str(tmp_path / "out")]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("hfsearch: error: pool a: a.npz: 'labels' has shape (7,) but 'predictions' has 300 rows")


def test_rank_outputs_command(tmp_path, capsys):
    write_pool(tmp_path / "a.npz")
    assert main(["rank-outputs", str(tmp_path / "a.npz"), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["best"] == "m0" and data["labels_used"] == 0 and data["ranking"][0]["model"] == "m0"
    assert main(["rank-outputs", str(tmp_path / "a.npz"), "--label-budget", "7", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["labels_used"] == 7 and len(data["rows_labeled"]) == 7
    assert main(["rank-outputs", str(tmp_path / "a.npz"), "--top", "2", "--format", "markdown"]) == 0
    text = capsys.readouterr().out
    assert "| 1 | m0 |" in text and "| 3 |" not in text and "recommended: m0" in text
