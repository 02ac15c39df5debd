"""The label stage (runs when ``label_budget > 0``): ask for the few labels that best tell the leading candidates
apart, and update every candidate's predicted accuracy, its interval and its probability of being the best.

The loop starts from the ``estimate`` stage's label-free predictions (value and calibrated 90 % interval), so 0 labels
give exactly the label-free answer; it chooses each row where the leading candidates disagree, weighted by the current
belief about which is best (`hfsearch.consensus.selection.LabelLoop`), and never asks more than the budget. The labels
come from a label source (`hfsearch.labeling`): the data's ``label_column`` (only the asked rows are read), the person
at the terminal, or one given to `Search` (the Space drives the loop itself afterwards).

The loop works in accuracy: with another predicted metric (``--metric f1``, or token classification's entity F1) a
label budget is refused rather than mixing units.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from numbers import Integral, Real
from typing import TYPE_CHECKING

from .. import constants
from ..errors import ConfigError
from ..labeling import (
    STOP,
    AnswerStore,
    ColumnLabels,
    LabelSession,
    LabelSource,
    PromptLabels,
)

if TYPE_CHECKING:
    from ..search import Search


def _terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def choose_source(search: Search, given: LabelSource | None) -> LabelSource | None:
    """The label source of a search, decided before anything runs (so that a search that cannot get labels fails at
    once, not after running every candidate). ``None`` with a ``label_column``: the target stage builds it.

    Raises:
        `ConfigError`: a label budget with another metric than accuracy, or with no way to get labels (no label column,
            no source given, stdin not a terminal, or several processes).
    """
    cfg = search.cfg
    if not cfg.label_budget:
        return given
    if search.metric != "accuracy":
        raise ConfigError(
            f"label_budget (--label-budget) updates the predicted accuracy, but this search predicts "
            f"{search.metric} (the default of task {cfg.task!r}): add metric='accuracy' "
            "(--metric accuracy) or drop the label budget."
        )
    if given is not None or cfg.label_column:
        return given
    if not _terminal():
        raise ConfigError(
            "label_budget (--label-budget) needs labels: give label_column (--label-column COL) to read "
            "them from the data, or run in a terminal to answer them (stdin is not a terminal)."
        )
    if constants.world_size() > 1:
        raise ConfigError(
            "labels are answered at the terminal by one process: run without accelerate launch/torchrun, "
            "or give label_column (--label-column COL)."
        )
    return PromptLabels()


def label(search: Search) -> None:
    """Run the label loop over the candidates with a predicted accuracy and write its answer into their results."""
    cfg, state = search.cfg, search.state
    if not cfg.label_budget:
        return
    target = state.target
    assert target is not None
    session = LabelSession.from_search(search)
    if session is None:
        state.warn("no labels were asked: no candidate has target predictions for them to grade")
        return
    source = search.label_source or state.label_source
    if source is None:  # choose_source guarantees one; a Search built by hand may lack it
        raise ConfigError("label_budget (--label-budget) needs a label source: give label_column or label_source.")
    if isinstance(source, PromptLabels) and source.store is None and search.cache.enabled:
        source.store = AnswerStore(search.cache.root / "labels", target.fingerprint, session.class_names, target.name)
    unreadable = ask_labels(session, source, check=search.hooks.check)
    if unreadable:
        state.warn(
            f"label source: {unreadable} answer(s) were not class ids (0-{len(session.class_names) - 1}, or None to "
            "skip) and were skipped"
        )
    if isinstance(source, ColumnLabels) and source.unreadable:
        state.warn(
            f"label column {source.column!r}: {source.unreadable} asked row(s) held no usable label "
            f"(missing, or not one of {', '.join(session.class_names)}) and were skipped"
        )
    session.apply(search.results)
    state.labels = session


def ask_labels(session: LabelSession, source: LabelSource, check: Callable[[], None] | None = None) -> int:
    """Drive `session` with `source` until the budget is spent, no row is left or the source answers `STOP`.

    Answers the source recorded in an earlier session are replayed first (within the budget). An answer is a class id
    (an int, or a float with an integer value, as a pandas column with a gap holds them), ``None`` to skip the row, or
    `STOP`. Returns how many answers were none of these (each skipped the row).
    """
    answered = session.replay(source.recorded())
    source.begin(session.budget, answered)
    unreadable = 0
    while (row := session.next_row()) is not None:
        if check is not None:
            check()
        answer = source.ask(row, session.view(row), session.class_names)
        if answer is STOP:
            break
        k = class_id(answer, len(session.class_names))
        if k is not None:
            session.observe(row, k)
            source.record(row, k)
        else:  # None (skip), or not a class id: never asked again, free
            unreadable += answer is not None
            session.skip(row)
            source.record(row, None)
    source.end(session.n_labeled, session.budget)
    return unreadable


def class_id(answer: object, n_classes: int) -> int | None:
    """`answer` as a class id in ``[0, n_classes)``: an int (not a bool) or an integer-valued float; else ``None``."""
    if isinstance(answer, bool) or not isinstance(answer, (Integral, Real)):
        return None
    value = float(answer)
    if not math.isfinite(value) or not value.is_integer() or not 0 <= value < n_classes:
        return None
    return int(value)
