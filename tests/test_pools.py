"""Prediction pools: file validation (one-line errors), label-free ranking, label budget, permutations, bench helper."""

from __future__ import annotations

import numpy as np
import pytest

import hfsearch
from hfsearch.errors import HFSearchError
from hfsearch.pools import PoolFileError, load_pool, majority_agreement, rank_outputs, validate_pool
from hfsearch.pools_bench import bench_pool, plot_curves, to_markdown

ACCS = (0.9, 0.8, 0.75, 0.7, 0.65, 0.6)


def make_pool(seed: int = 0, n: int = 400, accs=ACCS, c: int = 2):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, c, n)
    cols = [np.where(rng.random(n) < a, y, (y + rng.integers(1, c, n)) % c) for a in accs]
    return np.stack(cols, axis=1), y


def write(tmp_path, name="pool.npz", **arrays):
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


def one_line_error(path, match):
    with pytest.raises(PoolFileError) as err:
        load_pool(path)
    msg = str(err.value)
    assert "\n" not in msg and path.name in msg and match in msg, msg
    assert isinstance(err.value, HFSearchError)


def test_malformed_files_give_one_line_errors(tmp_path):
    P, y = make_pool()
    one_line_error(write(tmp_path, "rows.npz", predictions=P, labels=y[:-3]), "'labels' has shape")
    nan = P.astype(float)
    nan[3, 1] = np.nan
    one_line_error(write(tmp_path, "nan.npz", predictions=nan, labels=y), "NaN")
    bad = P.copy()
    bad[0, 0] = -4
    one_line_error(write(tmp_path, "range.npz", predictions=bad, labels=y), "out of range")
    probs = np.stack([1 - P, P], axis=2).astype(float)
    one_line_error(write(tmp_path, "label_range.npz", predictions=probs, labels=y + 1), "out of range")
    one_line_error(write(tmp_path, "shape.npz", predictions=P[:, 0], labels=y), "must be (rows, models)")
    one_line_error(write(tmp_path, "names.npz", predictions=P, models=np.array(["a", "b"])), "'models' has 2 names")
    one_line_error(write(tmp_path, "missing.npz", labels=y), "missing array 'predictions'")
    one_line_error(write(tmp_path, "frac.npz", predictions=P + 0.5), "integer class ids")
    one_line_error(write(tmp_path, "logits.npz", predictions=probs * 3 - 1), "probabilities")
    text = tmp_path / "notes.npz"
    text.write_text("not an archive")
    one_line_error(text, "not a readable .npz")
    with pytest.raises(PoolFileError, match="no such predictions file"):
        load_pool(tmp_path / "absent.npz")


def test_a_valid_file_round_trips(tmp_path):
    P, y = make_pool()
    pool = load_pool(write(tmp_path, predictions=P, labels=y, models=np.array([f"m{j}" for j in range(6)])))
    assert pool.models[0] == "m0" and pool.n_classes == 2 and pool.n_rows == 400
    assert np.allclose(pool.accuracies(), (P == y[:, None]).mean(axis=0))
    with pytest.raises(PoolFileError, match="no 'labels'"):
        validate_pool(P).accuracies()


def test_label_free_ranking_puts_the_truly_best_model_first(tmp_path):
    P, y = make_pool(1)
    res = rank_outputs(write(tmp_path, predictions=P, labels=y))
    assert res.best == "model_000" and res.labels_used == 0
    frame = res.to_frame()
    measured = dict(zip([f"model_{j:03d}" for j in range(6)], (P == y[:, None]).mean(axis=0)))
    assert frame["model"].iloc[0] == max(measured, key=measured.get) == "model_000"
    assert abs(frame["predicted_accuracy"].iloc[0] - measured["model_000"]) < 0.05
    assert frame["model"].tolist()[-1] == "model_005"
    assert frame["predicted_accuracy"].is_monotonic_decreasing
    assert (frame["low"] <= frame["predicted_accuracy"]).all() and (frame["predicted_accuracy"] <= frame["high"]).all()
    assert res.method.startswith("dawid-skene")
    assert hfsearch.rank_outputs is rank_outputs


def test_labels_are_not_read_without_a_budget_and_the_budget_is_respected():
    P, y = make_pool(2)
    free = rank_outputs(P, labels=y)
    blind = rank_outputs(P)
    assert free.frame.equals(blind.frame) and free.labels_used == 0
    used = rank_outputs(P, labels=y, label_budget=7)
    assert used.labels_used == 7 and len(set(used.rows_labeled)) == 7
    with pytest.raises(PoolFileError, match="needs labels"):
        rank_outputs(P, label_budget=5)


def test_permuted_model_is_flagged_never_recommended_and_not_ranked_last():
    P, y = make_pool(3, n=600, accs=(0.8, 0.78, 0.75, 0.7, 0.6))
    rng = np.random.default_rng(3)
    swapped = 1 - np.where(rng.random(600) < 0.95, y, 1 - y)  # the best model, with its label ids swapped
    res = rank_outputs(np.column_stack([P, swapped]))
    row = res.frame.set_index("model").loc["model_005"]
    assert row["permuted"] and not row["recommendable"] and row["p_best"] == 0
    assert row["label_mapping"] == "[1, 0]" and row["accuracy_if_remapped"] > 0.85
    assert res.best != "model_005"
    assert int(row["rank"]) == 1  # placed where it would rank once remapped, with the flag
    assert any("permuted" in w for w in res.warnings)


def test_probabilities_add_confidence_columns_and_clones_share_a_group():
    P, y = make_pool(4)
    probs = np.where(np.eye(2)[P] == 1, 0.8, 0.2)
    probs = np.concatenate([probs, probs[:, :1]], axis=1)  # model_006 is a copy of model_000
    res = rank_outputs(probs)
    frame = res.frame.set_index("model")
    assert {"confidence", "entropy"} <= set(frame.columns)
    assert frame.loc["model_000", "confidence"] == pytest.approx(0.8)
    assert frame.loc["model_000", "clone_group"] == frame.loc["model_006", "clone_group"]


def test_too_few_voters_falls_back_to_agreement():
    P, _ = make_pool(5, accs=(0.9, 0.6))
    res = rank_outputs(P)
    assert res.method == "agreement" and any("no consensus" in w for w in res.warnings)
    assert res.frame["predicted_accuracy"].tolist() == sorted(majority_agreement(P), reverse=True)


def test_majority_agreement_by_hand():
    P = np.array([[0, 0, 1], [1, 0, 1], [0, 1, -1]])
    # row 3 is a tie between 0 and 1: each voter of it gets half a credit
    assert np.allclose(majority_agreement(P), [(1 + 1 + 0.5) / 3, (1 + 0 + 0.5) / 3, (0 + 1 + 0) / 3])


def test_bench_pool_grades_and_plots(tmp_path):
    P, y = make_pool(6, n=300)
    res = bench_pool(validate_pool(P, y, source="tiny"), budgets=(0, 5), repeats=2)
    assert set(res.curves["strategy"]) == {"informative", "uniform", "labels only (uniform rows)"}
    first = res.label_free.iloc[0]
    assert first["top1"] == 1.0 and first["regret"] == 0.0 and first["kendall_tau"] > 0.8
    assert (res.curves.loc[res.curves["budget"] == 0, "top1"] == 1.0).all()
    text = to_markdown([res])
    assert "### tiny" in text and "top1 @5" in text
    assert plot_curves([res], tmp_path / "curves.png").stat().st_size > 1000


def test_a_consensus_fit_stopped_at_its_iteration_limit_is_reported(monkeypatch):
    """The pools report says when Dawid-Skene stopped before converging (and says nothing when it converged)."""
    import functools

    import hfsearch.pools as pools

    rng = np.random.default_rng(5)
    y = rng.integers(0, 3, 300)
    P = np.stack([np.where(rng.random(300) < a, y, (y + 1) % 3) for a in (0.55, 0.65, 0.75, 0.85, 0.95)], axis=1)
    assert not any("without converging" in w for w in rank_outputs(P).warnings)
    monkeypatch.setattr(pools, "dawid_skene", functools.partial(pools.dawid_skene, max_iter=1))
    assert any("stopped after 1 iteration without converging" in w for w in rank_outputs(P).warnings)
