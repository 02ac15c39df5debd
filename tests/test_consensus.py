"""Dawid–Skene consensus, clone merging, leave-own-vote-out accuracies, permutation checks and expected metrics."""

from __future__ import annotations

import numpy as np
import pytest

from hfsearch.consensus import (
    ConsensusUnavailable,
    check_permutation,
    dawid_skene,
    detect_permutations,
    expected_metric,
    find_clone_groups,
    metric_interval,
)
from hfsearch.errors import HFSearchError


def annotate(rng, y, acc, c):
    """Votes right with probability `acc`, otherwise a uniformly chosen wrong class."""
    wrong = (y + rng.integers(1, c, len(y))) % c
    return np.where(rng.random(len(y)) < acc, y, wrong)


def test_recovers_simulated_annotator_accuracies():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 1000)
    accs = np.linspace(0.55, 0.95, 8)
    P = np.stack([annotate(rng, y, a, 3) for a in accs], axis=1)
    res = dawid_skene(P)
    measured = (P == y[:, None]).mean(axis=0)
    assert np.abs(res.model_accuracy - measured).max() < 0.03
    assert res.model_type == "one-coin"  # errors are uniform over the wrong classes
    assert (res.labels == y).mean() > 0.95
    assert np.allclose(res.q.sum(axis=1), 1.0)


def test_full_confusion_wins_when_errors_depend_on_the_class():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 1500)
    P = []
    for j in range(6):
        # class 0 is read as class 1 half of the time; classes 1 and 2 almost never confused
        conf = np.array([[0.5, 0.5, 0.0], [0.03, 0.94, 0.03], [0.02, 0.03, 0.95]])
        conf = np.roll(conf, j % 3, axis=(0, 1))  # different annotators confuse different classes
        P.append(np.array([rng.choice(3, p=conf[k]) for k in y]))
    P = np.stack(P, axis=1)
    res = dawid_skene(P)
    assert res.model_type == "full"
    assert res.bic["full"] < res.bic["one-coin"]
    measured = (P == y[:, None]).mean(axis=0)
    assert np.abs(res.model_accuracy - measured).max() < 0.03


def test_clones_are_merged_and_do_not_outvote_the_rest():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 1500)
    good = [annotate(rng, y, a, 2) for a in (0.85, 0.8, 0.75)]
    bad = annotate(rng, y, 0.55, 2)
    P = np.stack(good + [bad] * 10, axis=1)
    measured = (P == y[:, None]).mean(axis=0)
    res = dawid_skene(P)
    assert sorted(map(len, res.groups)) == [1, 1, 1, 10]
    assert np.abs(res.model_accuracy[:3] - measured[:3]).max() < 0.03
    assert np.allclose(res.model_accuracy[3:], res.model_accuracy[3])  # each clone gets its own (equal) value
    # without merging, the ten copies vote ten times and the good models look like the bad one
    unmerged = dawid_skene(P, clone_threshold=1.01)
    assert np.abs(unmerged.model_accuracy[:3] - measured[:3]).max() > 0.1


def test_group_keys_merge_models_with_the_same_weights():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    P = np.stack([annotate(rng, y, a, 2) for a in (0.9, 0.8, 0.7, 0.6)], axis=1)
    res = dawid_skene(P, group_keys=["a", "b", "c", "b"])
    assert [1, 3] in res.groups


def test_leave_own_vote_out_posterior_excludes_the_models_vote():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 400)
    P = np.stack([annotate(rng, y, a, 2) for a in (0.9, 0.75, 0.7, 0.65)], axis=1)
    res = dawid_skene(P)
    for m in range(4):
        g = res.voter_of_model[m]
        logq = np.log(res.class_prior)[None, :].repeat(len(y), axis=0)
        for h, members in enumerate(res.groups):
            if h != g:
                logq += np.log(res.confusion[h][:, P[:, members[0]]]).T
        q = np.exp(logq - logq.max(axis=1, keepdims=True))
        q /= q.sum(axis=1, keepdims=True)
        assert np.allclose(res.loo_posterior(m), q, atol=1e-8)
        assert res.loo_agreement[m] == pytest.approx(q[np.arange(len(y)), P[:, m]].mean())


def test_loo_agreement_underrates_the_best_model_of_a_small_pool_and_the_estimate_corrects_it():
    # Three voters, binary: without its own vote, the best model is judged by the two weakest ones, so its plain
    # leave-out agreement can even fall below a weaker model's; the corrected estimate keeps the order.
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 4000)
    P = np.stack([annotate(rng, y, a, 2) for a in (0.9, 0.7, 0.6)], axis=1)
    res = dawid_skene(P)
    measured = (P == y[:, None]).mean(axis=0)
    assert np.argmax(res.loo_agreement) != 0
    assert np.argmax(res.model_accuracy) == 0
    assert np.abs(res.model_accuracy - measured).max() < 0.04


def test_fewer_than_three_distinct_voters_is_unavailable():
    rng = np.random.default_rng(6)
    y = rng.integers(0, 2, 200)
    a = annotate(rng, y, 0.8, 2)
    with pytest.raises(ConsensusUnavailable) as err:
        dawid_skene(np.stack([a, annotate(rng, y, 0.7, 2)], axis=1))
    assert isinstance(err.value, HFSearchError) and "\n" not in str(err.value) and "3 distinct voters" in err.value.reason
    with pytest.raises(ConsensusUnavailable):  # five copies of one model and one other: 2 voters
        dawid_skene(np.stack([a] * 5 + [annotate(rng, y, 0.7, 2)], axis=1))


def test_known_labels_are_clamped():
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 300)
    P = np.stack([annotate(rng, y, a, 2) for a in (0.7, 0.65, 0.6)], axis=1)
    known = {0: int(1 - P[0, 0]), 5: int(y[5])}
    res = dawid_skene(P, known_labels=known)
    assert res.q[0, known[0]] == 1.0 and res.q[5, known[5]] == 1.0
    arr = np.full(300, -1)
    arr[[0, 5]] = [known[0], known[5]]
    assert np.allclose(dawid_skene(P, known_labels=arr).q, res.q)


def test_find_clone_groups_needs_enough_shared_rows():
    p = np.array([[0, 0, 1]] * 30)
    assert find_clone_groups(p, 2) == [[0, 1], [2]]
    sparse = np.full((30, 2), -1)
    sparse[:3] = 0  # both predict the same 3 rows only: every row either predicts is shared, so they are clones
    assert find_clone_groups(sparse, 2) == [[0, 1]]
    sparse[3:, 0] = 1  # model 0 now predicts 30 rows, shares 3 with model 1
    assert find_clone_groups(sparse, 2) == [[0], [1]]


def test_a_model_that_predicts_only_the_easy_rows_does_not_chain_the_others_into_one_voter():
    """A 3-class model on a binary target leaves its "neutral" rows out (-1), often the hard ones: on the rows it
    predicts it agrees with every decent model, but it is nobody's clone, and must not merge models that are not."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 1000)
    easy = rng.random(1000) < 0.6
    models = [np.where(rng.random(1000) < np.where(easy, 0.995, a), y, 1 - y) for a in (0.8, 0.7, 0.65, 0.6)]
    P = np.column_stack([*models, np.where(easy, y, -1)])
    assert find_clone_groups(P, 2) == [[0], [1], [2], [3], [4]]
    assert len(dawid_skene(P, n_classes=2).groups) == 5


# -- label permutations -------------------------------------------------------------------------------------------

def test_swapped_binary_model_is_flagged_with_its_mapping():
    rng = np.random.default_rng(8)
    y = rng.integers(0, 2, 500)
    swapped = 1 - annotate(rng, y, 0.9, 2)
    check = check_permutation(swapped, y)
    assert check.flagged and check.mapping == [1, 0]
    assert check.agreement_permuted > 0.85 > 0.15 > check.agreement_identity


def test_permuted_multiclass_model_is_flagged_with_the_right_mapping():
    rng = np.random.default_rng(9)
    y = rng.integers(0, 3, 600)
    ids = np.array([2, 0, 1])  # the model calls class k "ids[k]"
    check = check_permutation(ids[annotate(rng, y, 0.85, 3)], y)
    assert check.flagged
    assert [check.mapping[ids[k]] for k in range(3)] == [0, 1, 2]


def test_bad_or_constant_models_are_not_flagged():
    rng = np.random.default_rng(10)
    y = rng.integers(0, 2, 500)
    assert not check_permutation(annotate(rng, y, 0.45, 2), y).flagged  # merely bad (below chance)
    assert not check_permutation(np.zeros(500, int), y).flagged  # constant
    assert not check_permutation(annotate(rng, y, 0.8, 2), y).flagged  # good


def test_detect_permutations_against_a_consensus_posterior():
    rng = np.random.default_rng(11)
    y = rng.integers(0, 2, 800)
    P = np.stack([annotate(rng, y, a, 2) for a in (0.9, 0.85, 0.8, 0.75)] + [1 - annotate(rng, y, 0.85, 2)], axis=1)
    res = dawid_skene(P)
    flags = [c.flagged for c in detect_permutations(P, res.q)]
    assert flags == [False, False, False, False, True]


# -- expected metrics -----------------------------------------------------------------------------------------------

def test_expected_accuracy_by_hand():
    q = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5], [1.0, 0.0]])
    assert expected_metric(q, np.array([0, 1, 1, -1])) == pytest.approx((0.9 + 0.8 + 0.5 + 0.0) / 4)


def test_expected_binary_f1_by_hand():
    q = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]])
    # positive = 1: TP = 0.8 + 0.5, FP = 0.2 + 0.5, FN = 0.1  ->  F1 = 2.6 / 3.4
    assert expected_metric(q, np.array([0, 1, 1]), "f1") == pytest.approx(2.6 / 3.4)
    # positive = 0: TP = 0.9, FP = 0.1, FN = 0.2 + 0.5 -> 1.8 / 2.6
    assert expected_metric(q, np.array([0, 1, 1]), "f1", positive=0) == pytest.approx(1.8 / 2.6)


def test_expected_macro_f1_with_known_labels_matches_sklearn():
    from sklearn.metrics import f1_score

    y = np.array([0, 1, 2, 2, 1, 0, 2])
    pred = np.array([0, 2, 2, 1, 1, 0, -1])
    q = np.eye(3)[y]
    assert expected_metric(q, pred, "f1") == pytest.approx(f1_score(y, pred, average="macro", labels=[0, 1, 2]))


def test_metric_interval_is_seeded_and_brackets_the_value():
    rng = np.random.default_rng(12)
    q = rng.dirichlet([1, 1], size=200)
    pred = rng.integers(0, 2, 200)
    low, high = metric_interval(q, pred, seed=3)
    assert low < expected_metric(q, pred) < high
    assert metric_interval(q, pred, seed=3) == (low, high)
    f_low, f_high = metric_interval(q, pred, "f1", seed=3)
    assert f_low < expected_metric(q, pred, "f1") < f_high
    assert metric_interval(np.eye(2)[[0, 1, 1]], np.array([0, 1, 0])) == pytest.approx((2 / 3, 2 / 3))


def test_the_fit_explains_the_agreement_of_independent_voters_and_not_of_blocs_that_share_errors():
    """Voters that err independently given the true label agree as the fitted model implies; voters copying one of two
    shared noisy labels (two blocs trained on the same shifted data, say) agree within a bloc far more than any
    independent voters could, and the fit cannot reproduce it."""
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 2000)
    independent = np.stack([annotate(rng, y, a, 3) for a in np.linspace(0.5, 0.9, 8)], axis=1)
    fit = dawid_skene(independent)
    assert fit.agreement_explained > 0.9
    shared = [annotate(rng, y, 0.6, 3) for _ in range(2)]  # each bloc's common mistakes
    blocs = np.stack([np.where(rng.random(len(y)) < 0.9, shared[j % 2], annotate(rng, y, 0.6, 3)) for j in range(8)], 1)
    assert dawid_skene(blocs).agreement_explained < 0.5


def test_explained_agreement_by_hand():
    """Three voters on four rows, two classes: the observed pairwise agreements 1/4, 2/4, 3/4 against what a given
    prior and confusion imply, computed by hand."""
    from hfsearch.consensus.dawid_skene import explained_agreement

    votes = np.array([[0, 0, 1], [0, 1, 1], [1, 1, 1], [1, 0, 0]])
    observed = np.array([2 / 4, 1 / 4, 3 / 4])  # pairs (0,1), (0,2), (1,2)
    prior = np.array([0.5, 0.5])
    conf = np.array([[[0.9, 0.1], [0.1, 0.9]], [[0.8, 0.2], [0.2, 0.8]], [[0.7, 0.3], [0.3, 0.7]]])
    implied = np.array([0.9 * 0.8 + 0.1 * 0.2, 0.9 * 0.7 + 0.1 * 0.3, 0.8 * 0.7 + 0.2 * 0.3])
    want = 1 - (observed - implied).var() / observed.var()
    assert explained_agreement(votes, None, prior, conf) == pytest.approx(want)
    soft = np.eye(2)[votes]  # one-hot soft votes give the same observed rates
    assert explained_agreement(votes, soft, prior, conf) == pytest.approx(want)
    missing = votes.copy()
    missing[3, 2] = -1  # a row voter 2 skipped counts for neither of its pairs
    got = explained_agreement(missing, None, prior, conf)
    obs = np.array([2 / 4, 1 / 3, 2 / 3])
    assert got == pytest.approx(1 - (obs - implied).var() / obs.var())


def test_a_fit_stopped_at_its_iteration_limit_says_so():
    """EM cut off before it converges gives accuracies where it stood: the user is told, and a converged fit is not
    flagged."""
    from hfsearch.consensus.dawid_skene import convergence_warning

    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 400)
    P = np.stack([annotate(rng, y, a, 3) for a in (0.5, 0.6, 0.7, 0.8, 0.9)], axis=1)
    cut = dawid_skene(P, max_iter=1)
    assert not cut.converged and cut.n_iter == 1
    assert convergence_warning(cut) == (
        "the Dawid-Skene EM stopped after 1 iteration without converging: the consensus accuracies are approximate"
    )
    full = dawid_skene(P)
    assert full.converged and convergence_warning(full) is None
