"""The terminal prompt of ``hfsearch find --label-budget N``: one row at a time, numbered class choices, skip, stop.

Answers are saved after each one (`AnswerStore`: a small JSON file in the output cache, keyed by the target sample's
content and class names), so an interrupted session resumes where it stopped: rerun the same command and the rows
already answered are not asked again.

```text
Row 3 of at most 20 (split row 1187):
  The fries were cold and the waiter forgot us.
  1) negative   2) positive   s) skip   q) stop and rank
label> 1
```
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from .sources import STOP, Answer, LabelSource, RowView

#: Version of the answers file.
ANSWERS_VERSION = 1


class AnswerStore:
    """The answers given for one target sample, kept on disk so that a labeling session can resume.

    Args:
        folder (`str` or `Path`): where answer files live (``<output cache>/labels``).
        fingerprint (`str`): content hash of the target sample (its input columns).
        class_names (`Sequence[str]`): the target's classes (answers are class ids into them).
        target (`str`, *optional*): the sample's name, written into the file for people.
    """

    def __init__(self, folder: str | Path, fingerprint: str, class_names: Sequence[str], target: str = "") -> None:
        key = hashlib.sha256(json.dumps([fingerprint, list(class_names)]).encode()).hexdigest()[:24]
        self.path = Path(folder) / f"{key}.json"
        self.header = {
            "version": ANSWERS_VERSION,
            "target": target,
            "fingerprint": fingerprint,
            "classes": list(class_names),
        }
        self.answers: list[tuple[int, int | None]] = self._read()

    def _read(self) -> list[tuple[int, int | None]]:
        self.entries: list[dict[str, Any]] = []
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []  # none yet, or unreadable: start afresh (the file is rewritten on the next answer)
        if (
            not isinstance(data, dict)
            or data.get("version") != ANSWERS_VERSION
            or not isinstance(data.get("answers"), list)
        ):
            return []
        out = []
        for item in data["answers"]:
            if isinstance(item, dict) and isinstance(item.get("row"), int):
                label = item.get("label")
                out.append((item["row"], label if isinstance(label, int) else None))
                self.entries.append(item)
        return out

    def add(self, row: int, label: int | None, index: int | None = None) -> None:
        """Record one answer (``None``: skipped) and rewrite the file atomically."""
        label = None if label is None else int(label)
        self.answers.append((int(row), label))
        entry: dict[str, Any] = {"row": int(row), "label": label}
        if index is not None:
            entry["index"] = int(index)
        self.entries.append(entry)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({**self.header, "answers": self.entries}, f, indent=1)
        os.replace(tmp, self.path)


class PromptLabels(LabelSource):
    """Ask a person at the terminal (questions on stderr, answers from stdin).

    Args:
        store (`AnswerStore`, *optional*): where answers are saved (``None``: not saved, e.g. with ``--no-cache``).
        stdin (`IO[str]`, *optional*): where answers are read (default `sys.stdin`).
        out (`IO[str]`, *optional*): where questions are written (default `sys.stderr`: stdout carries the result).
    """

    def __init__(
        self, store: AnswerStore | None = None, stdin: IO[str] | None = None, out: IO[str] | None = None
    ) -> None:
        self.store = store
        self.stdin = stdin or sys.stdin
        self.out = out or sys.stderr
        self.asked = 0
        self.budget = 0
        self._index: dict[int, int] = {}

    def _say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def begin(self, budget: int, answered: int) -> None:
        self.budget = budget
        self.asked = answered
        where = f" (answers are saved in {self.store.path})" if self.store is not None else " (answers are not saved)"
        resumed = f"; resuming: {answered} given earlier" if answered else ""
        self._say(f"\nLabel up to {budget} rows, chosen where the leading models disagree{resumed}{where}.")
        self._say(
            "Answer with the class (its number or name), s to skip a row, q to stop and rank with the labels "
            "given so far."
        )

    def recorded(self) -> list[tuple[int, int | None]]:
        return list(self.store.answers) if self.store is not None else []

    def record(self, row: int, answer: int | None) -> None:
        if self.store is not None:
            self.store.add(row, answer, self._index.get(row))

    def ask(self, row: int, view: RowView, class_names: Sequence[str]) -> Answer:
        self._index[row] = view.index
        self._say(f"\nRow {self.asked + 1} of at most {self.budget} (split row {view.index}):")
        for line in view.to_text().splitlines() or [""]:
            self._say(f"  {line}")
        if names_are_numbers(class_names):  # "1" must mean the class named 1, not the first class
            choices = "class: " + "   ".join(str(name) for name in class_names)
        else:
            choices = "   ".join(f"{k + 1}) {name}" for k, name in enumerate(class_names))
        self._say(f"  {choices}   s) skip   q) stop and rank")
        while True:
            self.out.write("label> ")
            self.out.flush()
            line = self.stdin.readline()
            if not line:  # end of input: stop, rank with what was given
                self._say()
                return STOP
            answer = parse_answer(line, class_names)
            if answer == "invalid":
                wanted = "a class name" if names_are_numbers(class_names) else f"1-{len(class_names)}"
                self._say(f"  please answer {wanted}, s or q")
                continue
            if isinstance(answer, int):
                self.asked += 1
            return answer

    def end(self, used: int, budget: int) -> None:
        self._say(f"{used} label(s) used of {budget}; ranking.\n")


def names_are_numbers(class_names: Sequence[str]) -> bool:
    """Whether some class is named by a number (digits, "0" … "9"): typed numbers are then class names, never
    1-based positions, which would silently record the wrong class."""
    from ..candidates.labels import normalize

    return any(normalize(str(n)).isdigit() for n in class_names)


def parse_answer(text: str, class_names: Sequence[str]) -> Any:
    """A typed answer: a class name, or a class number (1-based) unless some class is named by a number (see
    `names_are_numbers`) → class id; ``s`` → ``None``, ``q`` → `STOP`, else ``"invalid"``."""
    from ..candidates.labels import normalize

    text = text.strip()
    low = text.lower()
    if low in ("q", "quit", "stop"):
        return STOP
    if low in ("s", "skip"):
        return None
    names = [normalize(str(n)) for n in class_names]
    if text and normalize(text) in names:
        return names.index(normalize(text))
    if text.isdigit() and 1 <= int(text) <= len(class_names) and not names_are_numbers(class_names):
        return int(text) - 1
    return "invalid"
