"""The label stage of `find`: labels from a column (only the asked rows), the budget, 0 labels = label-free, and the
posterior following the revealed labels — against the Hub stand-in's tiny real checkpoints."""

from __future__ import annotations

import json

import numpy as np
import pytest

import hfsearch
from hfsearch.errors import ColumnError, ConfigError
from hfsearch.labeling import ArrayLabels, ColumnLabels, LabelSource
from hfsearch.search import Search, SearchConfig

TARGET = "test-org/uci_yelp"
GOOD, NOISY = "test-org/bert-yelp", "test-org/bert-amazon-noisy"
BOTH = [GOOD, NOISY, "other-org/bert-nosource"]
LABELS = ["negative", "positive"]


def _cfg(tmp, **kw):
    base = {"task": "text-classification", "dataset": TARGET, "split": "test", "models": BOTH, "samples": 80,
            "labels": LABELS, "scores": ["confidence"], "cache_dir": str(tmp), "progress": False}
    base.update(kw)
    return SearchConfig.create("keyword", **base)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("label-cache")


@pytest.fixture(scope="module")
def label_free(registry, cache):
    search = Search(_cfg(cache))
    return search, search.execute()


def test_label_column_reads_only_the_asked_rows_within_the_budget(label_free, cache):
    search = Search(_cfg(cache, label_budget=6, label_column="label"))
    result = search.execute()
    source = search.state.label_source
    assert isinstance(source, ColumnLabels)
    assert 0 < len(source.reads) <= 6 and len(set(source.reads)) == len(source.reads)
    assert result.labels_used == len(source.reads) - source.unreadable
    assert [r["row"] for r in result.labels["rows"]] == [r for r in source.reads]
    ranking = result.ranking
    assert "p_best" in ranking and ranking["p_best"].notna().all()
    assert ranking["p_best"].sum() == pytest.approx(1.0)
    data = json.loads(result.to_json())
    assert data["labels"]["labels_used"] == result.labels_used and data["labels"]["label_budget"] == 6
    assert "after" in result.recommendation() and "P(best)" in result.recommendation()
    # the labels read are the true ones of the rows asked (the column's ClassLabel ids)
    truth = search.target.labels
    assert all(r["label"] == truth[r["row"]] for r in result.labels["rows"])
    # the loop splits the prior's error as the search's selector measured it, not by the loop's default assumption
    share = search.selector.for_metric(search.metric).common_share
    assert search.state.labels.loop.belief.common_share == pytest.approx(share) and abs(share - 0.5) > 0.05


def test_zero_labels_given_is_the_label_free_answer(label_free, cache):
    _, free = label_free
    search = Search(_cfg(cache, label_budget=5), label_source=ArrayLabels([0] * 80, stop_after=0))
    result = search.execute()
    assert result.labels_used == 0
    cols = ["model", "predicted_accuracy", "predicted_low", "predicted_high"]
    assert result.ranking[cols].equals(free.ranking[cols])
    assert result.ranking["p_best"].notna().all()  # P(best) is still reported
    assert "p_best" not in free.ranking  # and only when a label budget was given


class Counting(LabelSource):
    """Answers from an array and counts the questions."""

    def __init__(self, labels):
        self.labels, self.asked = labels, []

    def ask(self, row, view, class_names):
        assert class_names == LABELS and view.fields["text"]  # the row as a person sees it
        self.asked.append(row)
        return None if len(self.asked) % 3 == 0 else int(self.labels[row])  # every third row skipped


def test_the_budget_is_never_exceeded_and_skips_are_free(label_free, cache):
    search, _ = label_free
    source = Counting(search.target.labels)
    result = Search(_cfg(cache, label_budget=7), label_source=source).execute()
    assert result.labels_used == 7
    assert len(source.asked) == 10  # 7 labels + 3 skips (rows 3, 6, 9)
    assert len(set(source.asked)) == 10


class Floats(LabelSource):
    """Answers as a pandas label column with a gap holds them: floats (1.0, 0.0), and the odd unusable value."""

    def __init__(self, labels):
        self.labels, self.asked = labels, 0

    def ask(self, row, view, class_names):
        self.asked += 1
        return "yes" if self.asked == 2 else float(self.labels[row])


def test_float_class_ids_are_labels_and_other_answers_are_skipped_with_a_warning(label_free, cache):
    search, _ = label_free
    source = Floats(search.target.labels)
    s = Search(_cfg(cache, label_budget=5), label_source=source)
    result = s.execute()
    assert result.labels_used == 5 and source.asked == 6  # 1.0 / 0.0 count; "yes" skipped the row
    assert any("1 answer(s) were not class ids" in w for w in s.state.warnings)


def test_the_posterior_follows_the_revealed_labels(label_free, cache, tmp_path):
    """A column whose 'labels' are the noisy model's own predictions: with a few of them, that model becomes the
    recommendation and its predicted accuracy climbs towards 1 — whatever the label-free prior said."""
    search, free = label_free
    assert free.best == GOOD
    noisy = next(c for c in search.candidates if c.repo_id == NOISY)
    pred = search.predictions(noisy)
    rows = [{"text": t, "says": LABELS[int(p)]} for t, p in zip(search.target.rows["text"], pred)]
    path = tmp_path / "target.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = hfsearch.find("text-classification", str(path), models=BOTH, samples=len(rows), labels=LABELS,
                           scores="confidence", cache_dir=str(cache), progress=False, label_budget=25,
                           label_column="says")
    assert result.best == NOISY
    row = result.ranking.set_index("model")
    before = free.ranking.set_index("model")
    assert row.loc[NOISY, "predicted_accuracy"] > before.loc[NOISY, "predicted_accuracy"] + 0.1
    assert row.loc[NOISY, "p_best"] > 0.9
    assert row.loc[GOOD, "predicted_accuracy"] < before.loc[GOOD, "predicted_accuracy"]


def test_a_search_that_cannot_get_labels_fails_before_running(registry, cache):
    with pytest.raises(ConfigError, match="needs labels: give label_column"):
        Search(_cfg(cache, label_budget=3))  # pytest's stdin is not a terminal
    with pytest.raises(ConfigError, match="updates the predicted accuracy only"):
        _cfg(cache, label_budget=3, label_column="label", metric="f1")
    with pytest.raises(ConfigError, match="only read with label_budget"):
        _cfg(cache, label_column="label")
    with pytest.raises(ColumnError, match="'gold' not found"):
        Search(_cfg(cache, label_budget=3, label_column="gold")).run_stages("target")


def test_without_a_label_column_no_source_reads_labels(label_free, cache):
    search = Search(_cfg(cache, label_budget=4), label_source=ArrayLabels(np.zeros(80, int)))
    search.run_stages("target")
    assert search.state.label_source is None  # only --label-column builds a column source


def test_the_space_panel_drives_the_same_loop(label_free, cache):
    """The Space's search asks nothing (DeferredLabels); its panel then answers, skips and stops, and the result
    follows (no browser here: see test_space_browser.py for the page)."""
    pytest.importorskip("gradio")
    from hfsearch.app.labeling import MAX_CLASS_BUTTONS, LabelPanel, panel_updates
    from hfsearch.labeling import DeferredLabels

    search = Search(_cfg(cache, label_budget=3), label_source=DeferredLabels())
    result = search.execute()
    assert result.labels_used == 0 and search.state.labels is not None
    panel = LabelPanel.start(search, {})
    first = panel.row
    assert first is not None and "Label 1 of 3" in panel.progress() and "data-row" in panel.question()
    updates = panel_updates(panel)
    buttons = updates[3:3 + MAX_CLASS_BUTTONS]
    assert [b.value for b in buttons[:2]] == LABELS and [b.visible for b in buttons[:3]] == [True, True, False]
    truth = search.target.labels
    panel.answer(int(truth[first]))
    assert result.labels_used == 1 and panel.row != first and "Label 2 of 3" in panel.progress()
    panel.skip()
    assert result.labels_used == 1 and "Label 2 of 3" in panel.progress()
    panel.stop()
    assert panel.done and "stopped" in panel.progress() and "after 1 label" in result.recommendation()
    panel.answer(0)  # after stop: ignored
    assert result.labels_used == 1

