"""The benchmark's metric functions against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hfsearch.bench.metrics import (
    bootstrap_ci,
    choose,
    evaluate_scorer,
    kendall_tau,
    random_outcome,
    regret,
    spearman_rho,
    top1,
)

# Four candidates; true accuracies on the target (b is the best).
TRUTH = {"a": 0.70, "b": 0.90, "c": 0.80, "d": 0.60}


def test_regret_in_points_of_the_chosen_model():
    # The scorer prefers c (0.80) while b (0.90) is best: regret 10 points, no top-1.
    scores = {"a": 0.3, "b": 0.5, "c": 0.9, "d": 0.1}
    assert regret(scores, TRUTH) == pytest.approx(10.0)
    assert top1(scores, TRUTH) == 0.0


def test_regret_zero_and_top1_when_the_best_is_chosen():
    scores = {"a": 0.3, "b": 0.95, "c": 0.9, "d": 0.1}
    assert regret(scores, TRUTH) == 0.0
    assert top1(scores, TRUTH) == 1.0


def test_lower_is_better_scores_are_negated():
    # A divergence: the smallest value (d) is chosen -> regret 90 - 60 = 30 points.
    div = {"a": 0.2, "b": 0.3, "c": 0.4, "d": 0.1}
    assert choose(div, higher_is_better=False) == ["d"]
    assert regret(div, TRUTH, higher_is_better=False) == pytest.approx(30.0)


def test_ties_at_the_top_are_averaged():
    # a and b tie at the top: expected regret (20 + 0) / 2 = 10, top-1 probability 1/2.
    scores = {"a": 1.0, "b": 1.0, "c": 0.0, "d": 0.0}
    assert choose(scores) == ["a", "b"]
    assert regret(scores, TRUTH) == pytest.approx(10.0)
    assert top1(scores, TRUTH) == pytest.approx(0.5)


def test_kendall_tau_of_a_known_ranking():
    # Score order a<b<c<d vs truth order d<a<c<b. Pairs (6): a-b C, a-c C, a-d D, b-c D, b-d D, c-d D
    # -> (2 - 4) / 6 = -1/3.  Spearman: score ranks 1,2,3,4; truth ranks 2,4,3,1; sum d^2 = 1+4+0+9 = 14,
    # rho = 1 - 6*14 / (4*15) = -0.4.
    scores = {"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0}
    assert kendall_tau(scores, TRUTH) == pytest.approx(-1 / 3)
    assert spearman_rho(scores, TRUTH) == pytest.approx(-0.4)
    # A perfect ordering and its reverse.
    assert kendall_tau({m: v for m, v in TRUTH.items()}, TRUTH) == pytest.approx(1.0)
    assert kendall_tau({m: v for m, v in TRUTH.items()}, TRUTH, higher_is_better=False) == pytest.approx(-1.0)


def test_kendall_tau_b_with_ties():
    # x = (1, 1, 2), y = (1, 2, 3): pairs (1,2) tied in x, (1,3) C, (2,3) C -> n_c = 2, n_d = 0,
    # tau_b = 2 / sqrt((3 - 1) * 3) = 0.8165.
    assert kendall_tau({"p": 1, "q": 1, "r": 2}, {"p": 0.1, "q": 0.2, "r": 0.3}) == pytest.approx(2 / math.sqrt(6))


def test_null_scores_are_left_out_and_coverage_reported():
    # The scorer could not score b (the best): it can only choose among a, c, d -> picks c, regret 10.
    scores = {"a": 0.1, "b": None, "c": 0.7, "d": float("nan")}
    out = evaluate_scorer(scores, TRUTH)
    assert out.n_scored == 2 and out.coverage == pytest.approx(0.5)
    assert out.chosen == ["c"] and out.regret == pytest.approx(10.0) and out.top1 == 0.0
    assert out.kendall_tau == pytest.approx(1.0)  # a < c in both score and truth


def test_undefined_cases_are_none():
    assert regret({"a": None}, TRUTH) is None
    assert top1({}, TRUTH) is None
    assert kendall_tau({"a": 1.0}, TRUTH) is None  # one scored model
    assert kendall_tau({"a": 1.0, "b": 1.0}, TRUTH) is None  # constant score
    assert spearman_rho({"a": 1.0, "b": 2.0}, {"a": 0.5, "b": 0.5}) is None  # constant truth


def test_random_reference():
    out = random_outcome(TRUTH)
    # best 90, mean 75 -> expected regret 15 points; one best of four.
    assert out.regret == pytest.approx(15.0)
    assert out.top1 == pytest.approx(0.25)
    assert out.kendall_tau == 0.0


def test_bootstrap_ci_is_seeded_and_brackets_the_mean():
    values = [0.0, 10.0, 5.0, 2.5, None, 7.5]
    mean, low, high = bootstrap_ci(values, resamples=500, seed=3)
    assert mean == pytest.approx(5.0)
    assert low < mean < high
    assert (mean, low, high) == bootstrap_ci(values, resamples=500, seed=3)
    assert bootstrap_ci([4.0]) == (4.0, 4.0, 4.0)
    assert bootstrap_ci([None, float("nan")]) == (None, None, None)
    # The percentile interval of the mean of a two-point sample {0, 1}: means are k/2, k ~ Binomial(2, 1/2).
    _, low, high = bootstrap_ci([0.0, 1.0], resamples=4000, seed=0)
    assert (low, high) == (0.0, 1.0)


def test_scores_as_numpy_values():
    scores = {"a": np.float32(0.1), "b": np.float64(0.9), "c": np.int64(0)}
    assert choose(scores) == ["b"]


def test_an_estimator_is_graded_on_its_error_and_its_intervals_coverage_and_width():
    """An interval spanning [0, 1] always covers: the width is reported beside the coverage so that it shows."""
    truth = {"a": 0.9, "b": 0.6}
    out = evaluate_scorer({"a": 0.8, "b": 0.6}, truth, estimate=True, intervals={"a": (0.7, 0.85), "b": (0.5, 0.7)})
    assert out.abs_error == pytest.approx(5.0) and out.interval_coverage == pytest.approx(0.5)
    assert out.interval_width == pytest.approx(17.5)
    vacuous = evaluate_scorer({"a": 0.8, "b": 0.6}, truth, estimate=True, intervals={"a": (0, 1), "b": (0, 1)})
    assert vacuous.interval_coverage == 1.0 and vacuous.interval_width == pytest.approx(100.0)
    assert evaluate_scorer({"a": 0.8}, truth, estimate=True).interval_width is None
