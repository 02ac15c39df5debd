"""The default pick (`hfsearch.select.Selector`): the combination, its interval, leave-one-workload-out, the file."""

from __future__ import annotations

import json

import numpy as np
import pytest

import hfsearch
from hfsearch.select import Row, Selector, features, fit_combination, relative_features
from hfsearch.select.selector import DEFAULT_PATH, SELECTOR_VERSION

TARGET = "test-org/uci_yelp"
LABELS = "negative,positive"


def _rows(workloads: int = 4, targets: int = 3, models: int = 8, seed: int = 0) -> list[Row]:
    """Synthetic benchmark rows: atc is unbiased with noise 0.03, doc biased by +0.05 with noise 0.08."""
    rng = np.random.default_rng(seed)
    rows = []
    for w in range(workloads):
        for t in range(targets):
            for m in range(models):
                y = rng.uniform(0.5, 0.95)
                rows.append(Row(f"w{w}", f"t{t}", f"m{m}", {"atc": y + rng.normal(0, 0.03),
                                                               "doc": y + 0.05 + rng.normal(0, 0.08)}, y))
    return rows


def test_the_combination_weighs_the_sharper_estimator_more():
    combo = fit_combination(_rows(), ("atc", "doc"))
    w = dict(zip(combo.inputs, combo.weights))
    assert w["atc"] > 2 * w["doc"] >= 0 and 0.8 < w["atc"] + w["doc"] < 1.1


def test_relative_features_are_oriented_z_scores_within_the_pool():
    pool = [{"adaptivity": 1.0, "atc": 0.7}, {"adaptivity": 3.0}, {"adaptivity": 2.0}, {"adaptivity": None}]
    rel = relative_features(pool, (("adaptivity", 1),))
    z = 1.0 / np.std([1.0, 3.0, 2.0])
    assert rel[0]["z:adaptivity"] == pytest.approx(-z) and rel[1]["z:adaptivity"] == pytest.approx(z)
    assert rel[2]["z:adaptivity"] == pytest.approx(0.0) and rel[3] == {}
    assert relative_features(pool, (("adaptivity", -1),))[0]["z:adaptivity"] == pytest.approx(z)
    assert features(pool, ("atc",), (("adaptivity", 1),))[0] == {"atc": 0.7, "z:adaptivity": pytest.approx(-z)}
    # two candidates: their z-scores would be -1 and +1 whatever the gap, so the signal is left out
    assert relative_features(pool[:2] + pool[3:], (("adaptivity", 1),)) == [{}, {}, {}]


def test_leave_one_workload_out_never_sees_the_workload():
    sel = Selector.fit(_rows())
    assert set(sel.without("w1").workloads) == {"w0", "w2", "w3"}
    assert all(r.workload != "w1" for r in sel.without("w1").training)


def test_the_interval_covers_about_ninety_percent_of_an_unseen_workload():
    sel = Selector.fit(_rows(workloads=6, seed=1))
    unseen = _rows(workloads=1, targets=20, seed=2)
    preds = sel.predict([r.values for r in unseen])
    inside = [p.low <= r.truth <= p.high for r, p in zip(unseen, preds)]
    errors = [abs(p.value - r.truth) for r, p in zip(unseen, preds)]
    assert 0.8 <= np.mean(inside) <= 1.0 and np.mean(errors) < 0.04


def test_the_level_is_the_pools_lowest_estimate_and_learns_no_shift():
    """The training workloads' estimators overestimate by 0.3 (a shift); the new pool's are unbiased. A learnt level
    carries the 0.3 over; the conservative level (the default) is the pool mean of each candidate's lowest estimate,
    whatever the training workloads were."""
    shifted = [Row(r.workload, r.target, r.model, r.values, r.truth - 0.3) for r in _rows(workloads=4, seed=6)]
    unseen = _rows(workloads=1, targets=1, models=12, seed=7)
    pool = [r.values for r in unseen]
    preds = Selector.fit(shifted).predict(pool)
    lowest = np.mean([min(v.values()) for v in pool])
    assert np.mean([p.value for p in preds]) == pytest.approx(lowest, abs=1e-6)
    assert np.mean([abs(p.value - r.truth) for r, p in zip(unseen, preds)]) < 0.05
    learnt = Selector.fit(shifted, level_rule="learnt").predict(pool)
    assert np.mean([r.truth - p.value for r, p in zip(unseen, learnt)]) > 0.2
    with pytest.raises(ValueError, match="level_rule"):
        Selector.fit(shifted, level_rule="median")


def test_an_f1_search_is_predicted_from_the_f1_workloads_only_when_the_level_is_learnt_per_metric(tmp_path):
    """Estimators overestimate F1 by 0.3 on the F1 workloads and are unbiased on the accuracy ones: one level learnt
    across both would misplace each; per metric, each is right (and the rules and the metric survive the file)."""
    acc = _rows(workloads=3, seed=3)
    f1 = [Row(r.workload.replace("w", "f"), r.target, r.model, r.values, r.truth - 0.3, "f1") for r in
          _rows(workloads=3, seed=4)]
    sel = Selector.load(Selector.fit(acc + f1, level_rule="learnt", per_metric=True).save(tmp_path / "s.json"))
    assert sel.metrics == ["accuracy", "f1"] and sel.level_rule == "learnt" and sel.per_metric
    unseen = _rows(workloads=1, targets=5, seed=5)
    for metric, bias in (("accuracy", 0.0), ("f1", -0.3)):
        preds = sel.predict([r.values for r in unseen], metric=metric)
        assert np.mean([abs(p.value - (r.truth + bias)) for r, p in zip(unseen, preds)]) < 0.05
    mixed = sel.predict([r.values for r in unseen])  # no metric: every row, a level between the two
    assert np.mean([abs(p.value - r.truth) for r, p in zip(unseen, mixed)]) > 0.1


def test_no_estimator_no_prediction():
    sel = Selector.fit(_rows())
    assert sel.predict([{"adaptivity": 3.0}, {}]) == [None, None]


def test_the_file_round_trips_and_refitting_reproduces_it(tmp_path):
    sel = Selector.fit(_rows(), command="test")
    path = sel.save(tmp_path / "selector.json")
    again = Selector.fit(Selector.load(path).rows, command="test").save(tmp_path / "again.json")
    assert path.read_text() == again.read_text()
    loaded = Selector.load(path)
    pool = [r.values for r in _rows(workloads=1)]
    assert [p.value for p in loaded.predict(pool)] == pytest.approx([p.value for p in sel.predict(pool)], abs=1e-4)


def test_the_shipped_selector_loads_and_says_what_it_was_fitted_on():
    data = json.loads(DEFAULT_PATH.read_text())
    assert data["version"] == SELECTOR_VERSION
    sel = Selector.load()
    assert sel.workloads == sorted(data["workloads"]) and sel.rows
    assert set(data["metadata"].get("workloads", {})) == set(sel.workloads)


def test_a_search_with_one_candidate_predicts_or_says_why(registry, tmp_path):
    res = hfsearch.find("text-classification", TARGET, models="test-org/bert-yelp", labels=LABELS, samples=48,
                        cache_dir=str(tmp_path), progress=False)
    (cand,) = res.candidates
    if cand.predicted is None:
        assert cand.unavailable["auto"].startswith("no accuracy estimator available")
    else:
        value, low, high = cand.predicted
        assert 0.0 <= low <= value <= high <= 1.0
        assert "predicted accuracy" in res.recommendation()


def test_a_candidate_without_source_data_gets_a_stated_reason(registry, tmp_path):
    res = hfsearch.find("text-classification", TARGET, models="other-org/bert-nosource", labels=LABELS, samples=32,
                        cache_dir=str(tmp_path), progress=False)
    (cand,) = res.candidates
    assert "test-org/missing-data" in cand.unavailable["atc"] and "test-org/missing-data" in cand.unavailable["doc"]
    # what is left: the accuracy its card reports on its own data, with a wider interval
    assert cand.predicted_from == ["source_accuracy"]
    assert cand.predicted[2] - cand.predicted[1] > 0.2


def test_a_search_with_fewer_signals_gets_the_within_pool_model_fitted_on_those_signals():
    """Two signals share the credit for the order in the training pools; a search that has only one of them must not
    keep that one's share of a model fitted with both (its deviations would be shrunk for nothing)."""
    rng = np.random.default_rng(8)
    rows = []
    for w in range(4):
        for m in range(12):
            y = rng.uniform(0.5, 0.95)
            rows.append(Row(f"w{w}", "t", f"m{m}", {"atc": y + rng.normal(0, 0.02), "doc": y + rng.normal(0, 0.02)}, y))
    sel = Selector.fit(rows, estimators=("atc", "doc"), relative=(), absolute=())
    both = dict(zip(sel.within.inputs, sel.within.weights))
    alone = sel.within_for(["doc"])
    assert alone.inputs == ("doc",) and alone.weights[0] > 0.9 > both["doc"] + 0.3
    unseen = [{"doc": v} for v in (0.55, 0.7, 0.85, 0.95)]
    preds = [p.value for p in sel.predict(unseen)]
    assert preds[-1] - preds[0] == pytest.approx(alone.weights[0] * 0.4, abs=1e-6)  # the spread is doc's, not shrunk
    # in a pool where some candidates have both signals and some only one, each gets the model of what it has
    mixed = [{"atc": 0.6, "doc": 0.62}, {"atc": 0.8, "doc": 0.79}, {"atc": 0.9, "doc": 0.9}, {"doc": 0.55}, {"doc": 0.95}]
    got = [p.value for p in sel.predict(mixed)]
    assert got[4] - got[3] == pytest.approx(alone.weights[0] * 0.4, abs=1e-6)
    assert got[1] - got[0] == pytest.approx(both["atc"] * 0.2 + both["doc"] * 0.17, abs=1e-6)
    assert got[3] < got[0] < got[1] < got[2] < got[4]


def test_a_version_2_file_loads_with_the_rules_it_was_made_with(tmp_path):
    """Files written before the level rule was stored learnt their level per metric; they still predict that way."""
    data = Selector.fit(_rows()).to_dict()
    data["version"] = 2
    del data["level_rule"], data["per_metric"]
    path = tmp_path / "v2.json"
    path.write_text(json.dumps(data))
    old = Selector.load(path)
    assert old.level_rule == "learnt" and old.per_metric
    assert Selector.load(Selector.fit(_rows()).save(tmp_path / "v3.json")).level_rule == "conservative"
    data["version"] = 1
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="version 1"):
        Selector.load(path)


def test_the_common_share_splits_the_cross_validated_error_into_the_pools_level_and_the_candidates_own():
    """Hand-computed: one workload's pool errs by +0.1 for every candidate (all common), the other's by ±0.1 around
    zero (all own); the workloads weigh the same."""
    sel = Selector.fit(_rows())
    sel.__dict__["cross_validated"] = [
        ("a", "t", 0.5, 0.6, 0.05), ("a", "t", 0.7, 0.8, 0.05),
        ("b", "t", 0.5, 0.6, 0.05), ("b", "t", 0.7, 0.6, 0.05),
    ]
    assert sel.common_share == pytest.approx(0.5)
    del sel.__dict__["common_share"]  # a cached property: recomputed from the new predictions
    sel.__dict__["cross_validated"] = [("a", "t", 0.5, 0.6, 0.05), ("a", "t", 0.6, 0.7, 0.05), ("a", "t", 0.7, 0.65, 0.05)]
    assert sel.common_share == pytest.approx(3 * 0.05**2 / (2 * 0.1**2 + 0.05**2))
    # a pool of one candidate says nothing about the split; an error every candidate shares exactly stays below 1,
    # which the label loop accepts
    del sel.__dict__["common_share"]
    sel.__dict__["cross_validated"] = [("a", "t1", 0.5, 0.6, 0.05), ("a", "t2", 0.7, 0.9, 0.05)]
    assert sel.common_share == 0.5
    del sel.__dict__["common_share"]
    sel.__dict__["cross_validated"] = [("a", "t", 0.5, 0.6, 0.05), ("a", "t", 0.7, 0.8, 0.05)]
    assert sel.common_share == pytest.approx(0.95)


def test_a_shift_no_estimator_sees_makes_the_selectors_error_common_to_the_pool():
    """Measured on the selector's own cross-validated predictions: when each target moves every candidate's truth by
    an amount its estimators do not see, most of the error is the pool's; when the truths are only noisy, little is.
    The label loop takes this share (its labels measure only differences between models). Without a shift some error
    is still common: the conservative level, the pool mean of each candidate's lowest estimate, sits below the truth."""
    rng = np.random.default_rng(3)
    shift = {(w, t): rng.normal(0, 0.1) for w in range(6) for t in range(3)}
    rows = _rows(workloads=6, seed=4)
    shifted = [Row(r.workload, r.target, r.model, r.values, r.truth + shift[int(r.workload[1:]), int(r.target[1:])])
               for r in rows]
    common, own = Selector.fit(shifted).common_share, Selector.fit(rows).common_share
    assert common > 0.75 and own < 0.6 and common - own > 0.3


def test_with_consensus_alone_the_pools_own_fit_sets_how_far_candidates_move_from_the_level():
    """No training candidate has consensus as its only signal, so its fitted weight says what consensus meant beside
    other signals. A search that measured how well its Dawid–Skene fit explains the candidates' agreement uses that
    share instead: all of consensus's deviation where the fit explains everything, none where it explains nothing,
    and the unexplained share widens the interval."""
    rng = np.random.default_rng(9)
    rows = []
    for w in range(4):
        for m in range(12):
            y = rng.uniform(0.5, 0.95)
            slope = 0.2 if w < 2 else 1.0  # two training workloads where consensus's differences were mostly noise
            rows.append(Row(f"w{w}", "t", f"m{m}", {"atc": y + rng.normal(0, 0.02),
                                                      "consensus": 0.7 + (y - 0.72) / slope + rng.normal(0, 0.02)}, y))
    sel = Selector.fit(rows, estimators=("atc", "consensus"), relative=(), absolute=())
    fitted = sel.within_for(["consensus"]).weights[0]
    assert 0.0 < fitted < 0.9
    pool = [{"consensus": v} for v in (0.5, 0.6, 0.7, 0.8, 0.9)]
    level = 0.7  # the pool's mean of its lowest (only) estimate

    def spread(preds):
        return preds[-1].value - preds[0].value

    assert spread(sel.predict(pool)) == pytest.approx(fitted * 0.4, abs=1e-6)  # not measured: the fitted weight
    trusted = sel.predict(pool, consensus_fit=1.0)
    assert [p.value for p in trusted] == pytest.approx([0.5, 0.6, 0.7, 0.8, 0.9], abs=1e-9)
    assert sel.predict(pool, consensus_fit=1.7)[0].value == pytest.approx(0.5)  # a share is at most 1
    ignored = sel.predict(pool, consensus_fit=-0.3)  # the fit explains less than the mean: no differences at all
    assert [p.value for p in ignored] == pytest.approx([level] * 5, abs=1e-9)
    half = sel.predict(pool, consensus_fit=0.5)
    assert [p.value for p in half] == pytest.approx([level + 0.5 * (v - level) for v in (0.5, 0.6, 0.7, 0.8, 0.9)])
    # the unexplained share widens the intervals of the candidates far from the level, not the one at it
    assert half[0].high - half[0].low > trusted[0].high - trusted[0].low
    assert half[2].high - half[2].low == pytest.approx(trusted[2].high - trusted[2].low)
    # a candidate with another signal keeps the fitted model
    mixed = sel.predict([{"consensus": 0.5, "atc": 0.55}, {"consensus": 0.9, "atc": 0.85}, {"consensus": 0.7}],
                        consensus_fit=1.0)
    both = dict(zip(sel.within.inputs, sel.within.weights))
    assert mixed[1].value - mixed[0].value == pytest.approx(both["atc"] * 0.3 + both["consensus"] * 0.4, abs=1e-6)
    assert mixed[2].value == pytest.approx((0.5 + 0.85 + 0.7) / 3)  # at the level: its consensus is the pool's mean


def test_an_estimate_outside_zero_one_is_left_out_and_numpy_numbers_count():
    """A card that writes its accuracy in percent (92.5) must not throw the pool's level and deviations off scale;
    a caller's numpy scores are numbers like any other."""
    feats = features([{"atc": np.float32(0.7), "doc": np.float64(0.72), "source_accuracy": 92.5},
                      {"atc": 0.6, "source_accuracy": -0.1, "knn_coverage": np.float32(0.4)}])
    assert feats[0] == {"atc": pytest.approx(0.7), "doc": pytest.approx(0.72)}
    assert feats[1] == {"atc": 0.6, "knn_coverage": pytest.approx(0.4)}
