"""Adaptivity, k-NN coverage and drift behaviour, on synthetic numeric data and on real text."""

from __future__ import annotations


import numpy as np
import pytest

from hfsearch.candidates.candidate import Candidate
from hfsearch.errors import ScorerError
from hfsearch.scores import SCORERS, RawData, ScoreInput, View
from hfsearch.scores.adaptivity import adaptivity_counts
from hfsearch.scores.histograms import (
    auto_partition_size,
    jsd_matrix,
    numeric_histograms,
    partition_histograms,
    partition_labels,
    tokenize,
)

BROAD = ["uci_yelp", "airline_reviews", "imdb_reviews", "blog_posts", "amazon_sentences"]


def numeric(kind: str, n: int, rng: np.random.Generator, f: int = 64) -> np.ndarray:
    """Rows of four distinct value distributions (think: four kinds of images)."""
    if kind == "A":
        return rng.beta(2, 5, (n, f))
    if kind == "B":
        return rng.beta(5, 2, (n, f))
    if kind == "C":
        return np.clip(rng.normal(0.5, 0.1, (n, f)), 0, 1)
    return rng.uniform(0, 1, (n, f))


def num(x: np.ndarray) -> RawData:
    return RawData("numeric", values=x)


def txt(x: list[str]) -> RawData:
    return RawData("text", texts=x)


def inp(source, target) -> ScoreInput:
    c = Candidate("org/model", "text-classification")
    return ScoreInput(candidate=c, target=View(raw=target), source=View(raw=source) if source is not None else None,
                      source_reason="no source declared")


# ------------------------------------------------------------------------------------------- building blocks
def test_partitions_and_auto_size():
    labels, k = partition_labels(512, 32, seed=0)
    assert k == 16 and np.bincount(labels).tolist() == [32] * 16
    labels, k = partition_labels(100, 32, seed=0)  # remainder spread, no tiny last partition
    assert k == 3 and sorted(np.bincount(labels).tolist()) == [33, 33, 34]
    assert auto_partition_size(512, 512) == 32
    assert auto_partition_size(512, 100_000) == 32
    assert auto_partition_size(50, 50) == 8
    assert auto_partition_size(20_000, 9_000) == 500
    a, _ = partition_labels(200, 10, seed=3)
    b, _ = partition_labels(200, 10, seed=3)
    assert (a == b).all()


def test_numeric_histogram_is_per_partition_minmax():
    v = np.array([[0.0, 1.0], [2.0, 3.0], [10.0, 10.0], [10.0, 10.0]])
    h = numeric_histograms(v, np.array([0, 0, 1, 1]), 2, bins=4)
    assert h[0].tolist() == [0.25, 0.25, 0.25, 0.25]  # 0..3 normalised within its own partition
    assert h[1].tolist() == [1.0, 0.0, 0.0, 0.0]  # constant partition: all mass in bin 0


def test_text_histogram_vocabulary_and_edge_bin():
    assert tokenize("The FOOD was great, the service wasn't!") == ["food", "great", "service", "wasn"]
    hs, ht = partition_histograms(txt(["apple banana", "apple"]), txt(["cherry", "the of"]), size=1, top_words=2)
    # vocabulary = 2 most frequent words of both datasets together: apple (2), then banana/cherry tie -> banana
    assert hs.tolist() == [[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]]
    assert ht.tolist() == [[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]]  # no vocabulary word: the edge-case bin


# ------------------------------------------------------------------------------------------- adaptivity
def test_adaptivity_matches_paper_formula_by_brute_force():
    rng = np.random.default_rng(0)
    s, t = num(numeric("A", 300, rng)), num(np.vstack([numeric("A", 100, rng), numeric("B", 100, rng)]))
    hs, ht = partition_histograms(s, t, size=20, bins=100, seed=0)
    tau = 0.01
    count = sum(1 for i in range(len(hs)) for j in range(len(ht)) if jsd_matrix(hs[i:i + 1], ht[j:j + 1])[0, 0] < tau)
    value = SCORERS.get("adaptivity")(inp(s, t), "raw", partition_size=20, tau=tau)
    assert value == pytest.approx(count / len(ht))
    assert SCORERS.get("adaptivity_norm")(inp(s, t), "raw", partition_size=20, tau=tau) == pytest.approx(
        count / (len(hs) * len(ht)))


def test_auto_tau_is_target_quantile_and_calibrated():
    rng = np.random.default_rng(1)
    x = numeric("C", 1024, rng)
    s, t = num(x[:512]), num(x[512:])
    count, ks, kt, tau = adaptivity_counts(s, t)
    _, ht = partition_histograms(s, t, size=32)
    d = jsd_matrix(ht, ht)[np.triu_indices(kt, 1)]
    assert tau == pytest.approx(np.quantile(d, 0.95), abs=1e-9)
    # same distribution on both sides: about 95% of the pairs are "close"
    assert 0.8 <= count / (ks * kt) <= 1.0
    count_med, _, _, _ = adaptivity_counts(s, t, tau_quantile=0.5)
    assert 0.3 <= count_med / (ks * kt) <= 0.7


def test_adaptivity_params_and_errors():
    rng = np.random.default_rng(2)
    s, t = num(numeric("A", 64, rng)), num(numeric("A", 64, rng))
    with pytest.raises(ScorerError):
        SCORERS.get("adaptivity")(inp(s, t), method="fast")
    with pytest.raises(ScorerError):
        SCORERS.get("adaptivity")(inp(s, t), tau_quantile=0)
    from hfsearch.scores import ScoreUnavailable

    with pytest.raises(ScoreUnavailable, match="2 target partitions"):
        SCORERS.get("adaptivity")(inp(s, t), partition_size=64, tau="auto")  # one partition: no auto tau
    assert SCORERS.get("adaptivity")(inp(s, t), partition_size=64, tau=0.5) == 1.0
    with pytest.raises(ScoreUnavailable, match="no source declared"):
        SCORERS.get("adaptivity")(inp(None, t))


def test_pair_count_is_symmetric_only_normalisation_differs():
    """adaptivity(S→T)·k_T = adaptivity(T→S)·k_S for one fixed tau (the pair set is the same)."""
    rng = np.random.default_rng(3)
    a = num(numeric("A", 640, rng))
    b = num(np.vstack([numeric("A", 100, rng), numeric("D", 156, rng)]))
    hs, ht = partition_histograms(a, b, size=32)
    tau = float(np.median(jsd_matrix(hs, ht)))  # a tau at which about half of the pairs are close
    st_count, ks, kt, _ = adaptivity_counts(a, b, tau=tau, partition_size=32)
    ts_count, ks2, kt2, _ = adaptivity_counts(b, a, tau=tau, partition_size=32)
    assert (ks, kt) == (kt2, ks2) == (20, 8)
    assert st_count == ts_count > 0
    assert st_count / kt != ts_count / kt2  # adaptivity itself is asymmetric


def test_adaptivity_asymmetry_broad_source_numeric():
    """The paper's asymmetry: a broad (large) source that contains the target's kind of data scores higher than
    the narrow target used as a source for the broad set (fixed tau, as in the paper)."""
    rng = np.random.default_rng(4)
    broad = num(np.vstack([numeric(k, 512, rng) for k in "ABCD"]))
    narrow = num(numeric("A", 512, rng))
    hs, ht = partition_histograms(broad, narrow, size=32)
    tau = float(np.median(jsd_matrix(hs, ht)))  # one fixed tau for both directions
    forward = SCORERS.get("adaptivity")(inp(broad, narrow), "raw", tau=tau)
    backward = SCORERS.get("adaptivity")(inp(narrow, broad), "raw", tau=tau)
    assert forward > backward > 0
    assert forward == pytest.approx(4 * backward)  # same pair count, divided by 16 vs 64 target partitions


def test_adaptivity_asymmetry_broad_source_text(sentiment):
    broad = txt([s for d in BROAD for s in sentiment(d, 300, 7)])
    narrow = txt(sentiment("uci_yelp", 300, 8))
    forward = SCORERS.get("adaptivity")(inp(broad, narrow), "raw", tau=0.6)  # the paper's text threshold
    backward = SCORERS.get("adaptivity")(inp(narrow, broad), "raw", tau=0.6)
    assert forward > backward > 0


# ------------------------------------------------------------------------------------------- coverage (containment)
def test_knn_coverage_containment_asymmetry_numeric():
    rng = np.random.default_rng(5)
    broad = np.vstack([numeric(k, 128, rng, f=16) for k in "ABCD"])
    narrow = numeric("A", 512, rng, f=16)
    f = SCORERS.get("knn_coverage")
    forward = f(inp(num(broad), num(narrow)), "raw")
    backward = f(inp(num(narrow), num(broad)), "raw")
    assert forward > 0.5 and backward < 0.4 and forward > backward + 0.25


@pytest.mark.parametrize("narrow_domain", ["uci_yelp", "airline_reviews", "blog_posts"])
def test_knn_coverage_containment_asymmetry_text(sentiment, narrow_domain):
    """Same sample sizes on both sides: the broad set (five domains, one of them the target's) covers the narrow
    target much better than the narrow set covers the broad one."""
    broad = [s for d in BROAD for s in sentiment(d, 103, 3)][:512]
    narrow = sentiment(narrow_domain, 512, 1)
    f = SCORERS.get("knn_coverage")
    forward = f(inp(txt(broad), txt(narrow)), "raw")
    backward = f(inp(txt(narrow), txt(broad)), "raw")
    assert forward > backward + 0.2


# ------------------------------------------------------------------------------------------- drift
WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)


def _drift_values(source, targets, columns):
    return {(name, tuple(params.items())): [SCORERS.get(name)(inp(source, t), "raw", **params) for t in targets]
            for name, params in columns}


def _assert_monotone(values, increasing, tol):
    for a, b in zip(values, values[1:]):
        assert (b >= a - tol) if increasing else (b <= a + tol), values
    assert (values[-1] > values[0]) if increasing else (values[-1] < values[0]), values


def test_drift_monotone_numeric():
    rng = np.random.default_rng(6)
    source = num(numeric("A", 1024, rng))
    targets = []
    for w in WEIGHTS:
        nb = int(round(w * 1024))
        targets.append(num(np.vstack([numeric("A", 1024 - nb, rng), numeric("B", nb, rng)])))
    # (cosine of mean features is left out here: every feature of A and B has the same mean, so the mean vectors
    # stay parallel whatever the mixture; it is tested on text)
    down = [("adaptivity", {}), ("adaptivity", {"tau": 0.05}), ("adaptivity_norm", {}), ("knn_coverage", {})]
    up = [("jsd", {}), ("l2d", {}), ("kl", {}), ("kl_rev", {}), ("mmd", {}), ("wasserstein", {}), ("frechet", {})]
    values = _drift_values(source, targets, down + up)
    for name, params in down:
        _assert_monotone(values[(name, tuple(params.items()))], increasing=False, tol=1e-9)
    for name, params in up:
        _assert_monotone(values[(name, tuple(params.items()))], increasing=True, tol=1e-9)


def test_drift_monotone_text(sentiment):
    """Target drifts from the source's domain (imdb) to another (blog posts), rows mixed in fixed steps."""
    source = txt(sentiment("imdb_reviews", 512, 1))
    a, b = sentiment("imdb_reviews", 1024, 2)[512:], sentiment("blog_posts", 512, 3)
    targets = [txt(a[: 512 - int(w * 512)] + b[: int(w * 512)]) for w in WEIGHTS]
    down = [("adaptivity", {"tau": 0.3}), ("knn_coverage", {}), ("cosine", {})]
    up = [("jsd", {}), ("l2d", {}), ("mmd", {}), ("wasserstein", {}), ("frechet", {})]
    values = _drift_values(source, targets, down + up)
    for name, params in down:
        _assert_monotone(values[(name, tuple(params.items()))], increasing=False, tol=1e-9)
    for name, params in up:
        _assert_monotone(values[(name, tuple(params.items()))], increasing=True, tol=1e-9)


# ------------------------------------------------------------------------------------------- embedding spaces
def test_embedding_spaces_run_and_rank_identical_first():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(512, 32))
    near, far = x + rng.normal(scale=0.3, size=x.shape), rng.normal(size=(512, 32)) + 1.5
    t = View(reference=x, features=x)
    res = {}
    for name, src in (("same", x), ("near", near), ("far", far)):
        i = ScoreInput(candidate=Candidate("o/m", "t"), target=t, source=View(reference=src, features=src))
        res[name] = {n: SCORERS.get(n)(i, sp) for n in ("adaptivity", "knn_coverage", "jsd") for sp in ("reference", "model")}
    for key in res["same"]:
        better = (lambda a, b: a >= b) if key != "jsd" else (lambda a, b: a <= b)
        assert better(res["same"][key], res["near"][key]) and better(res["near"][key], res["far"][key]), key


def test_model_space_adaptivity_does_not_read_other_candidates_feature_spaces():
    """Each candidate's model-space features live in its own space: another model's source features (another width,
    or the same width on another scale) must not set this candidate's threshold, or make its score unavailable."""
    from hfsearch.candidates.candidate import Candidate
    from hfsearch.scores import SCORERS, ScoreInput, View
    from hfsearch.scores.histograms import clear_cache

    rng = np.random.default_rng(0)
    src, tgt = rng.standard_normal((512, 768)), rng.standard_normal((512, 768))

    def score(others: dict) -> float:
        clear_cache()
        sources = {"org/c": View(features=src), **others}
        inp = ScoreInput(candidate=Candidate(repo_id="org/c", task="text-classification"), target=View(features=tgt),
                         source=View(features=src), sources=sources)
        return SCORERS.get("adaptivity")(inp, "model")

    alone = score({})
    assert score({"org/narrow": View(features=rng.standard_normal((512, 384)))}) == alone
    assert score({"org/far": View(features=50 * rng.standard_normal((512, 768)) + 50)}) == alone


def test_nan_features_make_histogram_scores_unavailable_not_a_perfect_match():
    from hfsearch.candidates.candidate import Candidate
    from hfsearch.scores import SCORERS, ScoreInput, ScoreUnavailable, View

    rng = np.random.default_rng(0)
    src = rng.standard_normal((256, 32)) + 3.0
    src[0] = np.nan
    inp = ScoreInput(candidate=Candidate(repo_id="x/y", task="text-classification"),
                     target=View(features=rng.standard_normal((256, 32))), source=View(features=src))
    for name in ("jsd", "kl", "adaptivity_norm"):
        with pytest.raises(ScoreUnavailable, match="NaN or infinite"):
            SCORERS.get(name)(inp, "model")


def test_too_few_bins_per_direction_and_a_bad_pool_quantile_are_named():
    from hfsearch.errors import ScorerError
    from hfsearch.scores.histograms import sliced_histograms

    x = np.zeros((4, 3))
    with pytest.raises(ScorerError, match="twice projections"):
        sliced_histograms([x], [(np.zeros(4, dtype=np.int64), 1)], bins=5, projections=10, seed=0)
    with pytest.raises(ScorerError, match="pool_quantile must be in"):
        adaptivity_counts(x, x, pool=[x], tau="pool", pool_quantile=2)
