from hfsearch.candidates.labels import align_labels, normalize


def test_normalize_ignores_case_and_punctuation():
    assert normalize("Very-Positive!") == "verypositive"
    assert normalize("LABEL_1") == "label1"


def test_exact_and_synonym_alignment():
    a = align_labels({0: "NEG", 1: "POS"}, ["negative", "positive"])
    assert a.ok and a.label_map == {0: 0, 1: 1}
    # order differs from the target's
    a = align_labels({0: "Positive", 1: "Negative"}, ["negative", "positive"])
    assert a.label_map == {0: 1, 1: 0}


def test_generic_labels_map_by_index_only_when_unambiguous():
    assert align_labels({0: "LABEL_0", 1: "LABEL_1"}, ["negative", "positive"]).label_map == {0: 0, 1: 1}
    # three generic labels for a binary target: a guess, so nothing maps
    a = align_labels({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}, ["negative", "positive"])
    assert not a.ok and a.label_map == {}
    # generic mixed with named labels: generic ones are not guessed
    a = align_labels({0: "LABEL_0", 1: "positive"}, ["negative", "positive"])
    assert a.label_map == {1: 1} and a.missing_target == ["negative"] and not a.ok


def test_extra_model_labels_are_reported_not_fatal():
    a = align_labels({0: "negative", 1: "neutral", 2: "positive"}, ["negative", "positive"])
    assert a.ok and a.label_map == {0: 0, 2: 1} and a.unmapped_model == ["neutral"]


def test_unalignable_label_space_gives_a_reason():
    a = align_labels({0: "sports", 1: "politics"}, ["negative", "positive"])
    assert not a.ok
    assert "no model label matches" in a.reason()


def test_ner_style_synonyms():
    a = align_labels({0: "PER", 1: "ORG", 2: "LOC", 3: "MISC"}, ["person", "organization", "location", "other"])
    assert a.label_map == {0: 0, 1: 1, 2: 2, 3: 3}


def test_labels_in_any_script_keep_their_letters():
    """Chinese, Russian or accented names are names, not "" (which made every such label collide)."""
    assert normalize("正面") == "正面" and normalize("Négatif!") == "négatif" and normalize("ПОЗИТИВ") == "позитив"
    a = align_labels({0: "负面", 1: "正面"}, ["正面", "负面"])
    assert a.ok and a.label_map == {0: 1, 1: 0}
    tags = align_labels({0: "O", 1: "B-人名", 2: "B-地名"}, ["O", "B-地名", "B-人名"])
    assert tags.label_map == {0: 0, 1: 2, 2: 1}  # a person is not a place


def test_plural_and_singular_class_names_meet_one_to_one():
    """Yelp's yelp_review_full names its classes "1 star", "2 star", "3 stars"…; a 5-star model says "2 stars". It
    was skipped for "no model label for target class '2 star'". Only one-to-one matches count: "cats" and "cat" on
    one side cannot both take "cat"."""
    yelp = ["1 star", "2 star", "3 stars", "4 stars", "5 stars"]
    model = {0: "1 star", 1: "2 stars", 2: "3 stars", 3: "4 stars", 4: "5 stars"}
    assert align_labels(model, yelp).label_map == {i: i for i in range(5)}
    clash = align_labels({0: "cats", 1: "cat"}, ["cat", "dog"])
    assert clash.label_map == {1: 0} and not clash.ok


def test_string_held_out_labels_with_a_missing_one_are_read_not_refused():
    """One null among string labels sent them down the integer branch: "invalid literal for int() … 'neg'", and the
    candidate lost its held-out slice. The missing label is -1 (left out), the others are aligned by name."""
    from datasets import Dataset

    from hfsearch.tasks import get_task

    rows = Dataset.from_dict({"label": ["neg", None, "pos", "neg"]})
    ids = get_task("text-classification").heldout_labels(rows, "label", rows.features, {0: "NEGATIVE", 1: "POSITIVE"})
    assert ids.tolist() == [0, -1, 1, 0]
