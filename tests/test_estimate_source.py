"""Source-based accuracy estimators: temperature scaling, ATC, DoC and agreement-on-the-line."""

from __future__ import annotations

import doctest
import importlib
import re

import numpy as np
import pytest
from scipy.special import ndtr, ndtri

from hfsearch.errors import ScorerError
from hfsearch.estimate import (
    EstimatorUnavailable,
    aline,
    atc,
    atc_threshold,
    doc,
    fit_temperature,
    softmax,
)


def _margins(d: np.ndarray) -> np.ndarray:
    """Two-class logits [0, d]: max-softmax = sigmoid(|d|), predicted class 1 iff d > 0."""
    return np.stack([np.zeros_like(d), d], axis=1)


def _sample_labels(rng: np.random.Generator, p: np.ndarray) -> np.ndarray:
    u = rng.random(p.shape[0])[:, None]
    return np.minimum((u > p.cumsum(axis=1)).sum(axis=1), p.shape[1] - 1)


def _synthetic(rng: np.random.Generator, n: int, k: int = 4, signal: float = 2.0, scale: float = 1.0):
    """Logits of a noisy classifier and labels drawn from its own (temperature-2) softmax."""
    z = rng.normal(size=(n, k)) * signal
    y = _sample_labels(rng, softmax(z, 2.0))
    return z * scale, y


# ---------------------------------------------------------------- temperature scaling


@pytest.mark.parametrize("t0", [0.5, 2.0])
def test_fit_temperature_recovers_the_generating_temperature(t0):
    rng = np.random.default_rng(1)
    z = rng.normal(size=(20000, 5)) * 3
    y = _sample_labels(rng, softmax(z, t0))
    assert fit_temperature(z, y) == pytest.approx(t0, rel=0.06)


def test_fit_temperature_is_bounded_on_separable_data():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, 200)
    z = np.eye(3)[y] * 10.0  # every row right with a wide margin: the NLL keeps falling as T -> 0
    t = fit_temperature(z, y, bounds=(0.05, 20.0))
    assert 0.05 <= t < 0.051


def test_fit_temperature_ignores_unknown_labels():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(5000, 4)) * 3
    y = _sample_labels(rng, softmax(z, 1.5))
    y_masked = np.where(np.arange(5000) % 2 == 0, y, -1)
    assert fit_temperature(z, y_masked) == pytest.approx(fit_temperature(z[::2], y[::2]))


# ---------------------------------------------------------------- ATC


def test_atc_hand_computed_case_both_scores():
    d = np.arange(1, 21) * 0.1  # 20 source rows, margins 0.1 … 2.0, all predicted class 1
    correct = np.ones(20, dtype=bool)
    correct[[0, 2, 7, 11, 19]] = False  # 15 / 20 right
    ys = np.where(correct, 1, 0)
    zs = _margins(d)
    zt = _margins(np.array([0.05, 0.5, 0.55, 2.0]))
    # 1 − acc = 0.25: t is the 5th smallest source score (margin 0.5); rows strictly above it count
    for score in ("maxconf", "negentropy"):
        r = atc(zs, ys, zt, score=score, calibrate=False)
        assert r.source_accuracy == 0.75
        np.testing.assert_array_equal(r.per_row, [0.0, 0.0, 1.0, 1.0])
        assert r.value == 0.5
        assert r.temperature == 1.0
    p = 1.0 / (1.0 + np.exp(-0.5))
    assert atc(zs, ys, zt, score="maxconf", calibrate=False).threshold == pytest.approx(p)
    ne = p * np.log(p) + (1 - p) * np.log(1 - p)
    assert atc(zs, ys, zt, score="negentropy", calibrate=False).threshold == pytest.approx(ne)


def test_atc_of_a_model_never_right_on_its_source_is_zero():
    """k = 0: the threshold is above every score (+inf), so no target row counts as right, whatever its confidence."""
    assert atc_threshold(np.array([0.1, 0.3, 0.2]), np.zeros(3, dtype=bool)) == (float("inf"), 0.0)
    zs, zt = _margins(np.arange(1, 21) * 0.1), _margins(np.array([5.0, 9.0, 0.2]))
    for calibrate in (False, True):
        r = atc(zs, np.zeros(20, dtype=int), zt, calibrate=calibrate)  # predicts 1 everywhere, labels are 0
        assert r.source_accuracy == 0.0 and r.value == 0.0


def test_atc_splits_ties_at_the_threshold():
    # 10 distinct low scores and 10 identical high ones; 5 / 20 right -> t falls on the tied value
    d = np.concatenate([np.arange(1, 11) * 0.1, np.full(10, 3.0)])
    ys = np.where(np.arange(20) < 5, 1, 0)
    t, w = atc_threshold(_margins(d).max(axis=1), ys == 1)
    assert w == pytest.approx(0.5)
    zt = _margins(np.array([3.0, 3.0, 3.0, 3.0, 0.2, 0.3, 0.4, 0.5]))
    r = atc(_margins(d), ys, zt, calibrate=False)
    np.testing.assert_allclose(r.per_row, [0.5] * 4 + [0.0] * 4)
    assert r.value == pytest.approx(0.25)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("score", ["maxconf", "negentropy"])
def test_atc_on_its_own_source_returns_the_source_accuracy_exactly(seed, score):
    rng = np.random.default_rng(seed)
    zs = np.round(rng.normal(size=(60, 3)) * 2) / 2 if seed % 2 else rng.normal(size=(60, 3))  # odd: many ties
    ys = rng.integers(0, 3, 60)
    r = atc(zs, ys, zs, score=score)
    assert r.value == pytest.approx(r.source_accuracy, abs=1e-12)


@pytest.mark.parametrize("score", ["maxconf", "negentropy"])
def test_atc_same_distribution_recovers_accuracy(score):
    rng = np.random.default_rng(4)
    zs, ys = _synthetic(rng, 20000)
    zt, yt = _synthetic(rng, 20000)
    r = atc(zs, ys, zt, score=score)
    true_acc = float((zt.argmax(1) == yt).mean())
    assert 0.4 < true_acc < 0.9
    assert abs(r.value - true_acc) < 0.02
    assert abs(r.value - r.source_accuracy) < 0.02
    assert r.per_row.shape == (20000,) and r.value == pytest.approx(r.per_row.mean())
    assert r.temperature == pytest.approx(2.0, rel=0.06)  # labels were drawn from softmax(z / 2)


@pytest.mark.parametrize("score", ["maxconf", "negentropy"])
def test_atc_falls_when_the_target_is_less_confident(score):
    rng = np.random.default_rng(5)
    zs, ys = _synthetic(rng, 3000)
    zt, _ = _synthetic(rng, 3000)
    values = [atc(zs, ys, zt * s, score=score).value for s in (1.0, 0.6, 0.3)]
    assert values[0] > values[1] > values[2]


# ---------------------------------------------------------------- DoC


def test_doc_hand_computed_case():
    zs = np.log(np.array([[0.9, 0.1]] * 20 + [[0.3, 0.7]] * 20))  # conf_S = 0.8
    ys = np.zeros(40, dtype=int)  # the first 20 right, the last 20 wrong: acc_S = 0.5
    zt = np.log(np.array([[0.6, 0.4]] * 5 + [[0.2, 0.8]] * 5))  # conf_T = 0.7
    r = doc(zs, ys, zt)
    assert r.source_accuracy == pytest.approx(0.5)
    assert r.source_confidence == pytest.approx(0.8)
    assert r.target_confidence == pytest.approx(0.7)
    assert r.value == pytest.approx(0.4)  # 0.5 − (0.8 − 0.7)
    np.testing.assert_allclose(r.per_row, [0.3] * 5 + [0.5] * 5)  # each confidence less the 0.3 source gap
    assert r.shift == pytest.approx(0.3)


def test_doc_per_row_keeps_the_mean_when_rows_are_clipped():
    # under-confident on the source (acc 1.0, conf 0.6, gap −0.4); target conf 0.58 -> DoC = 0.98
    zs = np.log(np.array([[0.6, 0.4]] * 30))
    ys = np.zeros(30, dtype=int)
    zt = np.log(np.array([[0.9, 0.1]] * 2 + [[0.5, 0.5]] * 8))
    r = doc(zs, ys, zt)
    assert r.value == pytest.approx(0.98)
    # shifting by the gap would give 1.3 -> 1 for the confident rows and a mean of 0.92; the shift is re-solved:
    # 2 · 1 + 8 · (0.5 − δ) = 9.8  ->  δ = −0.475
    np.testing.assert_allclose(r.per_row, [1.0] * 2 + [0.975] * 8)
    assert r.shift == pytest.approx(-0.475)
    assert r.per_row.mean() == pytest.approx(r.value, abs=1e-12)


def test_doc_calibrated_uses_the_fitted_temperature():
    rng = np.random.default_rng(6)
    zs, ys = _synthetic(rng, 4000, scale=3.0)  # logits 3x too sharp for their labels
    zt, _ = _synthetic(rng, 2000, scale=3.0)
    raw, cal = doc(zs, ys, zt), doc(zs, ys, zt, calibrate=True)
    assert raw.temperature == 1.0 and cal.temperature > 3.0
    assert cal.source_confidence < raw.source_confidence


# ---------------------------------------------------------------- ALine


def _nested_pool(rng, accuracies, rows, k=10):
    """Predictions where model i is right iff a shared per-row latent u < accuracy_i, and errs to its own class.

    Then agreement(i, j) = min(acc_i, acc_j) on every distribution, so agreement and accuracy lie on one probit line.
    """
    y = rng.integers(0, k, rows)
    u = rng.random(rows)
    wrong = (y[None, :] + 1 + np.arange(len(accuracies))[:, None]) % k
    preds = np.where(u[None, :] < np.asarray(accuracies)[:, None], y[None, :], wrong)
    return preds, y


def test_aline_recovers_accuracies_on_the_line():
    rng = np.random.default_rng(7)
    acc_id = np.array([0.55, 0.65, 0.72, 0.8, 0.88, 0.94])
    acc_ood = ndtr(0.8 * ndtri(acc_id) - 0.4)
    id_preds, id_y = _nested_pool(rng, acc_id, 20000)
    ood_preds, ood_y = _nested_pool(rng, acc_ood, 20000)
    true = (ood_preds == ood_y).mean(axis=1)
    r = aline(id_preds, id_y, ood_preds)
    assert r.r2 > 0.99
    assert r.slope == pytest.approx(0.8, abs=0.05) and r.bias == pytest.approx(-0.4, abs=0.05)
    np.testing.assert_allclose(r.aline_s, true, atol=0.03)
    np.testing.assert_allclose(r.aline_d, true, atol=0.03)
    # the OOD accuracies are far from the ID ones, so the estimators did work
    assert np.abs(r.id_accuracy - true).max() > 0.15


def test_aline_d_follows_a_model_off_the_accuracy_line():
    rng = np.random.default_rng(7)
    acc_id = np.array([0.55, 0.65, 0.72, 0.8, 0.88, 0.94])
    acc_ood = ndtr(0.8 * ndtri(acc_id) - 0.4)
    acc_ood[2] += 0.12  # model 2 is more robust than its ID accuracy says
    id_preds, id_y = _nested_pool(rng, acc_id, 20000)
    ood_preds, ood_y = _nested_pool(rng, acc_ood, 20000)
    true = (ood_preds == ood_y).mean(axis=1)
    r = aline(id_preds, id_y, ood_preds)
    # ALine-S only sees model 2's ID accuracy; ALine-D sees its target agreements with the others
    assert abs(r.aline_s[2] - true[2]) > 0.08
    assert abs(r.aline_d[2] - true[2]) < 0.03
    assert r.r2 < 0.95  # the broken line shows in the fit


def test_aline_r2_collapses_when_target_errors_are_unrelated():
    rng = np.random.default_rng(14)
    id_preds, id_y = _nested_pool(rng, [0.55, 0.65, 0.75, 0.85, 0.95], 5000)
    ood_preds, _ = _nested_pool(rng, [0.5, 0.6, 0.7, 0.8, 0.9], 5000)
    shuffled = np.stack([p[rng.permutation(5000)] for p in ood_preds])  # no shared difficulty on the target
    assert aline(id_preds, id_y, ood_preds).r2 > 0.99
    assert aline(id_preds, id_y, shuffled).r2 < 0.5


@pytest.mark.parametrize("rows,available", [(200, False), (20000, True)])
def test_aline_spread_must_exceed_sampling_noise(rows, available):
    rng = np.random.default_rng(15)
    id_preds, id_y = _nested_pool(rng, [0.75, 0.8, 0.85], rows)  # ID agreements 0.75, 0.75, 0.8
    ood_preds, _ = _nested_pool(rng, [0.65, 0.7, 0.75], 2000)
    if available:
        r = aline(id_preds, id_y, ood_preds)
        assert r.spread >= 2.0 * r.noise
    else:
        with pytest.raises(EstimatorUnavailable, match="too similar"):
            aline(id_preds, id_y, ood_preds)


def test_aline_accepts_logits_and_ignores_unlabeled_rows():
    rng = np.random.default_rng(8)
    id_preds, id_y = _nested_pool(rng, [0.6, 0.75, 0.9], 3000, k=5)
    ood_preds, _ = _nested_pool(rng, [0.4, 0.6, 0.8], 3000, k=5)
    by_ids = aline(id_preds, id_y, ood_preds)
    logits = np.eye(5)[id_preds] * 2.0  # (M, m, K)
    masked = np.concatenate([id_y, -np.ones(10, dtype=int)])
    extra = np.concatenate([logits, np.zeros((3, 10, 5))], axis=1)
    by_logits = aline(extra, masked, np.eye(5)[ood_preds])
    np.testing.assert_allclose(by_logits.aline_d, by_ids.aline_d)
    assert by_logits.id_rows == 3000


def test_aline_reads_a_class_the_target_does_not_have_as_a_wrong_prediction():
    """-1 (a 3-class model's "neutral" on a binary target, say) is a prediction that is never right, not an error
    that makes ALine unavailable for the whole group."""
    rng = np.random.default_rng(8)
    id_preds, id_y = _nested_pool(rng, [0.6, 0.75, 0.9], 3000, k=5)
    ood_preds, ood_y = _nested_pool(rng, [0.4, 0.6, 0.8], 3000, k=5)
    # model 0 errs to a class of its own, which no other model predicts: as -1 the same errors and agreements
    none_id, none_ood = id_preds.copy(), ood_preds.copy()
    none_id[0] = np.where(id_preds[0] == id_y, id_preds[0], -1)
    none_ood[0] = np.where(ood_preds[0] == ood_y, ood_preds[0], -1)
    np.testing.assert_allclose(aline(none_id, id_y, none_ood).aline_d, aline(id_preds, id_y, ood_preds).aline_d)
    with pytest.raises(EstimatorUnavailable, match="integer label ids"):
        aline(id_preds - 2, id_y, ood_preds)


def test_aline_needs_three_models():
    rng = np.random.default_rng(9)
    preds, y = _nested_pool(rng, [0.6, 0.9], 500)
    with pytest.raises(EstimatorUnavailable, match="at least 3 models"):
        aline(preds, y, preds)


def test_aline_refuses_models_that_agree_too_uniformly():
    rng = np.random.default_rng(10)
    preds, y = _nested_pool(rng, [0.8, 0.8, 0.8, 0.8], 500)  # identical models: every agreement is 1
    with pytest.raises(EstimatorUnavailable, match="too similar to fit a line"):
        aline(preds, y, preds)


# ---------------------------------------------------------------- bad inputs


def _good(rng):
    return rng.normal(size=(40, 3)), rng.integers(0, 3, 40), rng.normal(size=(30, 3))


BAD_INPUTS = {
    "nan source": (lambda zs, ys, zt: (np.where(np.arange(40)[:, None] == 3, np.nan, zs), ys, zt), "NaN"),
    "inf target": (lambda zs, ys, zt: (zs, ys, np.where(zt > 1.5, np.inf, zt)), "infinite"),
    "label length": (lambda zs, ys, zt: (zs, ys[:-1], zt), "rows"),
    "class mismatch": (lambda zs, ys, zt: (zs, ys, zt[:, :2]), "3 classes but target logits have 2"),
    "no labels": (lambda zs, ys, zt: (zs, -np.ones_like(ys), zt), "no labels"),
    "too few labels": (lambda zs, ys, zt: (zs, np.where(np.arange(40) < 7, ys, -1), zt), "at least 20 .* got 7"),
    "label outside classes": (lambda zs, ys, zt: (zs, np.where(np.arange(40) == 0, 5, ys), zt), "outside"),
    "one-dimensional": (lambda zs, ys, zt: (zs, ys, zt[:, 0]), "matrix"),
    "empty target": (lambda zs, ys, zt: (zs, ys, zt[:0]), "no rows"),
}


SOURCE_ONLY = [c for c in BAD_INPUTS if "target" not in c and c not in ("class mismatch", "one-dimensional")]
CASES = [(e, c) for e in (atc, doc) for c in BAD_INPUTS] + [(fit_temperature, c) for c in SOURCE_ONLY]


@pytest.mark.parametrize("estimator,case", CASES, ids=[f"{e.__name__}-{c}" for e, c in CASES])
def test_bad_inputs_are_unavailable_with_a_one_line_reason(estimator, case):
    make, pattern = BAD_INPUTS[case]
    zs, ys, zt = make(*_good(np.random.default_rng(11)))
    with pytest.raises(EstimatorUnavailable, match=pattern) as info:
        fit_temperature(zs, ys) if estimator is fit_temperature else estimator(zs, ys, zt)
    assert "\n" not in str(info.value) and str(info.value) == info.value.reason


def test_aline_bad_shapes_are_unavailable():
    rng = np.random.default_rng(12)
    preds, y = _nested_pool(rng, [0.6, 0.75, 0.9], 100)
    with pytest.raises(EstimatorUnavailable, match="3 models have ID outputs but 4"):
        aline(preds, y, np.concatenate([preds, preds[:1]]))
    with pytest.raises(EstimatorUnavailable, match="rows"):
        aline(preds, y[:-1], preds)
    with pytest.raises(EstimatorUnavailable, match="NaN"):
        aline(np.full((3, 100, 4), np.nan), y, preds)


def test_unknown_atc_score_is_a_user_error():
    zs, ys, zt = _good(np.random.default_rng(13))
    with pytest.raises(ScorerError, match="maxconf, negentropy"):
        atc(zs, ys, zt, score="energy")


def test_docstring_examples_run():
    """The ``>>>`` examples (inside HF-style ``` fences) stay true."""
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    names = ["", ".base", ".calibration", ".atc", ".doc", ".aline"]
    for name in names:
        for test in finder.find(importlib.import_module("hfsearch.estimate" + name)):
            for ex in test.examples:
                if ex.want.strip():
                    ex.want = re.sub(r"^\s*```.*$", "", ex.want, flags=re.M).rstrip() + "\n"
            runner.run(test, out=lambda s: None)
    result = runner.summarize(verbose=False)
    assert result.attempted > 20 and result.failed == 0
