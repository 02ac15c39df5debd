"""Scorer registry, divergences, symmetric distances and prediction-based scores."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from hfsearch.candidates.candidate import Candidate
from hfsearch.errors import ScorerError
from hfsearch.scores import SCORERS, RawData, ScoreInput, ScoreUnavailable, View, list_scorers, parse_scorers
from hfsearch.scores.histograms import (
    LN2,
    clear_cache,
    hellinger_sq_matrix,
    jsd,
    jsd_below,
    jsd_matrix,
    kl_divergence,
)

EXPECTED = {
    # name: (kind, higher_is_better, default space)
    "adaptivity": ("similarity", True, "raw"),
    "adaptivity_norm": ("similarity", True, "raw"),
    "knn_coverage": ("similarity", True, "reference"),
    "jsd": ("similarity", False, "raw"),
    "kl": ("similarity", False, "raw"),
    "kl_rev": ("similarity", False, "raw"),
    "l2d": ("similarity", False, "raw"),
    "mmd": ("similarity", False, "reference"),
    "wasserstein": ("similarity", False, "reference"),
    "frechet": ("similarity", False, "reference"),
    "cosine": ("similarity", True, "reference"),
    "confidence": ("non-similarity", True, None),
    "entropy": ("non-similarity", False, None),
    "energy": ("non-similarity", True, None),
    "nuclear_norm": ("non-similarity", True, None),
    "nuclear_norm_cal": ("non-similarity", True, None),
    "agreement": ("non-similarity", True, None),
    "source_accuracy": ("non-similarity", True, None),
    "popularity": ("prior", True, None),
    "size": ("prior", True, None),
}


SYMMETRIC = ["jsd", "l2d", "mmd", "wasserstein", "frechet", "cosine"]
DISTANCES = ["jsd", "l2d", "kl", "kl_rev", "mmd", "wasserstein", "frechet"]


def cand(**kw) -> Candidate:
    return Candidate(repo_id=kw.pop("repo_id", "org/model"), task="text-classification", **kw)


def features_input(xs: np.ndarray, xt: np.ndarray) -> ScoreInput:
    return ScoreInput(candidate=cand(), target=View(reference=xt, features=xt, raw=RawData("numeric", values=xt)),
                      source=View(reference=xs, features=xs, raw=RawData("numeric", values=xs)))


def text_input(source: list[str], target: list[str]) -> ScoreInput:
    return ScoreInput(candidate=cand(), target=View(raw=RawData("text", texts=target)),
                      source=View(raw=RawData("text", texts=source)))


# ------------------------------------------------------------------------------------------- registry
def test_registry_names_kinds_directions():
    assert set(EXPECTED) <= set(list_scorers())
    for name, (kind, hib, space) in EXPECTED.items():
        info = SCORERS.get(name)
        assert info.kind == kind, name
        assert info.higher_is_better is hib, name
        assert info.default_space == space, name
        assert info.description and info.fn.__doc__, name
        if kind == "similarity":
            assert "source" in info.needs
    assert "logits" in SCORERS.get("confidence").needs
    assert set(SCORERS.get("agreement").needs) == {"logits", "pool"}
    assert SCORERS.get("popularity").needs == ("metadata",)


def test_did_you_mean():
    with pytest.raises(ScorerError, match="adaptivity"):
        SCORERS.get("adaptivty")


def test_list_scorers_wildcards_and_parse():
    assert list_scorers("kl*") == ["kl", "kl_rev"]
    assert "adaptivity_norm" in list_scorers("adapt*")
    assert list_scorers("*zzz*") == []
    specs = parse_scorers("adaptivity, mmd:raw ,confidence", {"adaptivity": {"tau": 0.3}})
    assert [s.column for s in specs] == ["adaptivity", "mmd:raw", "confidence"]
    assert dict(specs[0].params) == {"tau": 0.3}
    assert specs[1].needs() >= {"raw", "source"}
    with pytest.raises(ScorerError):
        parse_scorers("confidence:raw")
    with pytest.raises(ScorerError):
        parse_scorers("adaptivity:pixels")


# ------------------------------------------------------------------------------------------- divergences
prob = arrays(np.float64, st.integers(2, 40), elements=st.floats(0, 1e3, allow_nan=False)).filter(
    lambda a: a.sum() > 1e-6
)


@settings(max_examples=60, deadline=None)
@given(prob, st.data())
def test_jsd_bounds_identity_symmetry(p, data):
    q = data.draw(arrays(np.float64, len(p), elements=st.floats(0, 1e3, allow_nan=False)).filter(lambda a: a.sum() > 1e-6))
    assert jsd(p, p) == pytest.approx(0.0, abs=1e-12)
    v = jsd(p, q)
    assert 0.0 <= v <= LN2 + 1e-12
    assert v == pytest.approx(jsd(q, p), abs=1e-12)
    m = jsd_matrix(np.stack([p, q]), np.stack([q, p]))
    assert m[0, 0] == pytest.approx(v, abs=1e-12) and m[1, 1] == pytest.approx(v, abs=1e-12)
    assert kl_divergence(p, p) == pytest.approx(0.0, abs=1e-12)
    assert kl_divergence(p, q) >= 0.0


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.01, 3.0), st.floats(0.001, 0.6))
def test_jsd_below_is_exact_and_hellinger_bound_holds(seed, alpha, tau):
    rng = np.random.default_rng(seed)
    centres = rng.dirichlet(np.full(30, alpha), 3)
    P = np.stack([rng.multinomial(200, centres[i % 3]) for i in range(40)]).astype(float)
    Q = np.stack([rng.multinomial(200, centres[i % 3]) for i in range(25)]).astype(float)
    P[0] = 0.0
    P[0, 0] = 1.0  # a point mass
    full = jsd_matrix(P, Q)
    assert (full >= LN2 * hellinger_sq_matrix(P, Q) - 1e-12).all()  # JSD >= ln2 * H^2
    assert (full <= hellinger_sq_matrix(P, Q) + 1e-12).all()  # and <= H^2
    for dense in (0.0, 1.0):  # gathered-pairs path and full-matrix path
        assert np.array_equal(jsd_below(P, Q, tau, dense_share=dense), full < tau)


def test_jsd_disjoint_is_ln2():
    assert jsd([1, 0], [0, 1]) == pytest.approx(math.log(2))


# ------------------------------------------------------------------------------------------- symmetric scorers
#: MMD is symmetric for a kernel that does not depend on which side is the target: the two-sample test's pooled
#: median bandwidth. The default takes the target's own (one kernel for every candidate of a search).
POOLED = {"bandwidth": "pooled"}


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**16), st.floats(0.0, 2.0))
def test_symmetric_scorers_are_symmetric(seed, shift):
    rng = np.random.default_rng(seed)
    xs = rng.normal(size=(60, 6))
    xt = rng.normal(size=(50, 6)) * 1.3 + shift
    for space in ("reference", "raw"):
        for name in SYMMETRIC:
            kw = POOLED if name == "mmd" else {}
            a = SCORERS.get(name)(features_input(xs, xt), space, **kw)
            b = SCORERS.get(name)(features_input(xt, xs), space, **kw)
            assert a == pytest.approx(b, rel=1e-6, abs=1e-6), (name, space)
    # kl and kl_rev are each other's swap
    kl = SCORERS.get("kl")(features_input(xs, xt), "raw")
    kl_rev = SCORERS.get("kl_rev")(features_input(xt, xs), "raw")
    assert kl == pytest.approx(kl_rev, rel=1e-9)


def test_symmetric_scorers_symmetric_on_text(sentiment):
    a, b = sentiment("uci_yelp", 200, 0), sentiment("airline_reviews", 200, 1)
    for name in ("jsd", "l2d", "mmd", "wasserstein", "frechet", "cosine"):
        kw = POOLED if name == "mmd" else {}
        x = SCORERS.get(name)(text_input(a, b), "raw", **kw)
        y = SCORERS.get(name)(text_input(b, a), "raw", **kw)
        assert x == pytest.approx(y, rel=1e-6, abs=1e-6), name


def test_identical_data_gives_best_value():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 8))
    other = rng.normal(size=(200, 8)) + 0.5
    same, diff = features_input(x, x), features_input(other, x)
    for space in ("reference", "raw"):
        for name in ["jsd", "l2d", "kl", "kl_rev", "wasserstein", "frechet"]:
            v = SCORERS.get(name)(same, space)
            assert v == pytest.approx(0.0, abs=1e-6), (name, space)
            assert SCORERS.get(name)(diff, space) > v
        assert SCORERS.get("mmd")(same, space) < SCORERS.get("mmd")(diff, space)
        assert SCORERS.get("cosine")(same, space) == pytest.approx(1.0)
        assert SCORERS.get("knn_coverage")(same, space) == 1.0
        assert SCORERS.get("knn_coverage")(diff, space) < 1.0
        for name in ("adaptivity", "adaptivity_norm"):
            assert SCORERS.get(name)(same, space) > SCORERS.get(name)(diff, space)


def test_text_identical_best(sentiment):
    a, b = sentiment("imdb_reviews", 256, 0), sentiment("blog_posts", 256, 0)
    for name in ["jsd", "l2d", "kl", "kl_rev", "wasserstein", "frechet"]:
        assert SCORERS.get(name)(text_input(a, a), "raw") == pytest.approx(0.0, abs=1e-9)
        assert SCORERS.get(name)(text_input(b, a), "raw") > 1e-6
    assert SCORERS.get("knn_coverage")(text_input(a, a), "raw") == 1.0
    assert SCORERS.get("cosine")(text_input(a, a), "raw") == pytest.approx(1.0)


def test_deterministic_and_pure():
    rng = np.random.default_rng(1)
    inp = features_input(rng.normal(size=(300, 12)), rng.normal(size=(256, 12)) + 0.2)
    cols = [(n, s) for n in list_scorers() if SCORERS.get(n).spaces for s in SCORERS.get(n).spaces if s != "model"]
    first = {c: SCORERS.get(c[0])(inp, c[1]) for c in cols}
    clear_cache()
    again = {c: SCORERS.get(c[0])(inp, c[1]) for c in cols}
    assert first == again
    # a different seed is a different (but valid) draw of partitions / projections
    assert SCORERS.get("wasserstein")(inp, "reference", seed=1) != first[("wasserstein", "reference")]


def test_mmd_bandwidth_param_and_errors():
    rng = np.random.default_rng(2)
    inp = features_input(rng.normal(size=(80, 4)), rng.normal(size=(80, 4)) + 1)
    assert SCORERS.get("mmd")(inp, "reference", bandwidth=1.0) > 0
    with pytest.raises(ScorerError):
        SCORERS.get("mmd")(inp, "reference", bandwidth=-1)


def test_unavailable_without_source_or_features():
    inp = ScoreInput(candidate=cand(), target=View(reference=np.zeros((10, 3))), source=None,
                     source_reason="card declares no dataset")
    for name in EXPECTED:
        if EXPECTED[name][0] == "similarity":
            with pytest.raises(ScoreUnavailable, match="no dataset"):
                SCORERS.get(name)(inp)
    inp = features_input(np.zeros((10, 3)), np.zeros((10, 3)))
    inp.source.reference = None
    with pytest.raises(ScoreUnavailable, match="reference"):
        SCORERS.get("mmd")(inp, "reference")
    with pytest.raises(ScoreUnavailable):  # text source vs numeric target
        SCORERS.get("jsd")(ScoreInput(candidate=cand(), target=View(raw=RawData("numeric", values=np.zeros((4, 2)))),
                                      source=View(raw=RawData("text", texts=["a b"] * 4))))


# ------------------------------------------------------------------------------------------- predictions
def logits_input(logits, **kw) -> ScoreInput:
    return ScoreInput(candidate=cand(**kw), target=View(logits=np.asarray(logits, dtype=float)))


def test_confidence_entropy_energy_known_values():
    z = [[0.0, 0.0], [math.log(3.0), 0.0]]  # softmax rows: (.5, .5) and (.75, .25)
    inp = logits_input(z)
    assert SCORERS.get("confidence")(inp) == pytest.approx((0.5 + 0.75) / 2)
    h2 = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
    assert SCORERS.get("entropy")(inp) == pytest.approx((math.log(2) + h2) / 2)
    assert SCORERS.get("energy")(inp) == pytest.approx((math.log(2) + math.log(4)) / 2)
    # shift invariance of softmax-based scores; energy shifts with the logits
    inp2 = logits_input(np.asarray(z) + 5.0)
    assert SCORERS.get("confidence")(inp2) == pytest.approx(SCORERS.get("confidence")(inp))
    assert SCORERS.get("energy")(inp2) == pytest.approx(SCORERS.get("energy")(inp) + 5.0)


def test_nuclear_norm_extremes():
    n, c = 30, 3
    confident_spread = np.full((n, c), -50.0)
    confident_spread[np.arange(n), np.arange(n) % c] = 50.0
    assert SCORERS.get("nuclear_norm")(logits_input(confident_spread)) == pytest.approx(1.0, abs=1e-9)
    uniform = np.zeros((n, c))
    assert SCORERS.get("nuclear_norm")(logits_input(uniform)) == pytest.approx(1.0 / c)
    collapsed = np.full((n, c), -50.0)
    collapsed[:, 0] = 50.0  # confident but all one class: rank 1
    assert SCORERS.get("nuclear_norm")(logits_input(collapsed)) == pytest.approx(1.0 / math.sqrt(c))


def test_calibrated_nuclear_norm_puts_an_over_confident_twin_on_the_same_scale():
    """Two models with the same predictions, one with logits 6x larger (over-confident): the nuclear norm prefers the
    over-confident one; calibrated on each model's labeled held-out slice (temperature scaling), they are equal."""
    rng = np.random.default_rng(0)
    held_z, target_z = rng.normal(size=(400, 3)), rng.normal(size=(300, 3))
    labels = np.argmax(held_z + rng.normal(scale=1.0, size=held_z.shape), axis=1)  # right about 70% of the time

    def inp(scale: float) -> ScoreInput:
        return ScoreInput(candidate=cand(), target=View(logits=scale * target_z),
                          heldout=View(logits=scale * held_z, labels=labels))

    plain, cal = SCORERS.get("nuclear_norm"), SCORERS.get("nuclear_norm_cal")
    assert plain(inp(6.0)) > plain(inp(1.0)) + 0.1
    assert cal(inp(6.0)) == pytest.approx(cal(inp(1.0)), abs=2e-3)
    assert cal(inp(6.0)) < plain(inp(6.0))  # the over-confident one is flattened
    with pytest.raises(ScoreUnavailable, match="held-out"):
        cal(logits_input(target_z))


def test_logit_scorers_unavailable_without_logits():
    for name in ("confidence", "entropy", "energy", "nuclear_norm"):
        with pytest.raises(ScoreUnavailable, match="logits"):
            SCORERS.get(name)(ScoreInput(candidate=cand(), target=View()))


def test_agreement_with_hand_made_pool():
    pool = {
        "a": np.array([0, 1, 1, 2, -1, 0]),
        "b": np.array([0, 1, 0, 2, -1, 1]),
        "c": np.array([0, 0, 0, 1, -1, -1]),
    }
    # majority per row: 0 | 1 | 0 | 2 | none (row excluded) | tie {0, 1}
    expect = {"a": (1 + 1 + 0 + 1 + 0.5) / 5, "b": (1 + 1 + 1 + 1 + 0.5) / 5, "c": (1 + 0 + 1 + 0 + 0) / 5}
    for name, value in expect.items():
        inp = ScoreInput(candidate=cand(repo_id=name), target=View(logits=np.zeros((6, 2))), pool=pool)
        assert SCORERS.get("agreement")(inp) == pytest.approx(value)
    with pytest.raises(ScoreUnavailable):
        SCORERS.get("agreement")(ScoreInput(candidate=cand(repo_id="z"), target=View(), pool=pool))
    with pytest.raises(ScoreUnavailable):
        SCORERS.get("agreement")(ScoreInput(candidate=cand(repo_id="a"), target=View(), pool={"a": pool["a"]}))


def test_metadata_scores():
    inp = ScoreInput(candidate=cand(downloads=100, likes=3, num_params=10**6, source_accuracy=0.91), target=View())
    assert SCORERS.get("source_accuracy")(inp) == pytest.approx(0.91)
    assert SCORERS.get("size")(inp) == 1e6
    more_likes = ScoreInput(candidate=cand(downloads=100, likes=4), target=View())
    more_downloads = ScoreInput(candidate=cand(downloads=101, likes=0), target=View())
    p = SCORERS.get("popularity")
    assert p(inp) < p(more_likes) < p(more_downloads)
    bare = ScoreInput(candidate=cand(), target=View())
    for name in ("source_accuracy", "size", "popularity"):
        with pytest.raises(ScoreUnavailable):
            SCORERS.get(name)(bare)


def test_mmd_grows_with_the_shift_so_a_far_source_never_ranks_above_a_near_one():
    """One kernel per target: a bandwidth re-chosen from each source–target pair widens with the shift, and MMD
    then falls again as the source moves away (16-d Gaussians: shift 8 scored below shift 4)."""
    from hfsearch.candidates.candidate import Candidate
    from hfsearch.scores import SCORERS, ScoreInput, View

    rng = np.random.default_rng(0)
    target = rng.standard_normal((400, 16))
    cand = Candidate(repo_id="x/y", task="text-classification")
    values = [SCORERS.get("mmd")(ScoreInput(candidate=cand, target=View(reference=target),
                                             source=View(reference=rng.standard_normal((400, 16)) + shift)))
              for shift in (0.0, 1.0, 2.0, 4.0, 8.0)]
    assert values == sorted(values) and values[-1] > values[-2]


def test_knn_coverage_sees_a_shift_on_a_large_offset():
    """Sensor statistics around 1000 (air pressure): a source one unit off (7 sd of a window mean) covers nothing,
    as it does at offset 0; the float32 rounding of ‖x‖² ~ 10^12 must not make it look like full coverage."""
    from hfsearch.candidates.candidate import Candidate
    from hfsearch.scores import SCORERS, ScoreInput, View
    from hfsearch.tasks.timeseries import channel_statistics

    rng = np.random.default_rng(0)

    def stats(level: float) -> np.ndarray:
        return channel_statistics(level + rng.standard_normal((300, 50, 1)))

    cand = Candidate(repo_id="x/y", task="time-series-classification")
    target = stats(1000.0)
    cover = {level: SCORERS.get("knn_coverage")(ScoreInput(candidate=cand, target=View(reference=target),
                                                           source=View(reference=stats(level))))
             for level in (1000.0, 1001.0)}
    assert cover[1000.0] > 0.9 and cover[1001.0] < 0.1


def test_an_empty_numeric_source_makes_jsd_unavailable_not_a_crash():
    """numpy's min() of nothing raised ValueError inside the histogram; the score says why it is missing instead."""
    from hfsearch.estimate.doc import confidence_at_mean
    from hfsearch.scores.histograms import whole_histograms

    empty, full = RawData(kind="numeric", values=np.zeros((0, 4))), RawData(kind="numeric", values=np.ones((3, 4)))
    with pytest.raises(ScoreUnavailable, match="the source holds no values"):
        whole_histograms(empty, full)
    with pytest.raises(ScoreUnavailable, match="the source holds no values"):  # text: not all mass in "other"
        whole_histograms(RawData(kind="text", texts=[]), RawData(kind="text", texts=["a good film", "bad movie"]))
    assert confidence_at_mean(np.array([]), 0.7).shape == (0,)
    assert confidence_at_mean(np.array([0.9, 0.5]), 0.6).mean() == pytest.approx(0.6)
