"""The terminal prompt of ``hfsearch find --label-budget N``, driven through a pseudo-terminal (standard library only):
answer two rows, quit, rerun the same command and check that it resumes where it stopped."""

from __future__ import annotations

import io
import json
import os
import pty
import select
import subprocess
import sys
import time

import pytest

from hfsearch.labeling import STOP, AnswerStore, PromptLabels, RowView, parse_answer

TARGET = "test-org/uci_yelp"


class Terminal:
    """A child process on a pseudo-terminal: `expect` text in its output, `send` a line."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
        os.close(slave)
        self.seen = ""
        self.pos = 0  # where the next `expect` starts looking

    def expect(self, text: str, timeout: float = 240.0) -> str:
        """Wait until `text` appears after the previous match; returns the output up to and including it."""
        end = time.monotonic() + timeout
        while text not in self.seen[self.pos:]:
            left = end - time.monotonic()
            if left <= 0 or self.proc.poll() is not None and not select.select([self.master], [], [], 0)[0]:
                raise AssertionError(f"never saw {text!r}; output so far:\n{self.seen[-3000:]}")
            ready, _, _ = select.select([self.master], [], [], min(left, 1.0))
            if ready:
                try:
                    self.seen += os.read(self.master, 65536).decode(errors="replace")
                except OSError:  # the child closed the terminal
                    pass
        start = self.pos
        self.pos = self.seen.index(text, self.pos) + len(text)
        return self.seen[start:self.pos]

    def send(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())

    def finish(self, timeout: float = 240.0) -> int:
        end = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < end:
            if select.select([self.master], [], [], 0.5)[0]:
                try:
                    self.seen += os.read(self.master, 65536).decode(errors="replace")
                except OSError:
                    break
        code = self.proc.wait(timeout=max(end - time.monotonic(), 1))
        os.close(self.master)
        return code


def _asked_rows(text: str) -> list[str]:
    return [line.split("split row ")[1].rstrip("):\r") for line in text.splitlines() if "(split row " in line]


@pytest.mark.slow
def test_the_prompt_asks_saves_and_resumes(registry, env_for_subprocess, tmp_path):
    out = tmp_path / "result.json"
    args = [sys.executable, "-m", "hfsearch", "find", "--task", "text-classification", "--dataset", TARGET,
            "--split", "test", "--models", "test-org/bert-yelp,test-org/bert-amazon-noisy,other-org/bert-nosource",
            "--labels", "negative,positive", "--samples", "40", "--scores", "confidence", "--label-budget", "3",
            "--format", "json", "--output", str(out)]
    term = Terminal(args, env_for_subprocess)
    term.expect("Label up to 3 rows")
    shown = term.expect("label> ")
    assert "Row 1 of at most 3" in shown and "1) negative   2) positive   s) skip   q) stop and rank" in shown
    term.send("7")  # not a class: asked again
    term.expect("please answer 1-2, s or q")
    term.send("1")
    term.expect("Row 2 of at most 3")
    term.expect("label> ", timeout=60)
    term.send("positive")  # a class name works too
    term.expect("Row 3 of at most 3")
    term.expect("label> ", timeout=60)
    term.send("q")
    assert term.finish() == 0, term.seen[-2000:]
    first = _asked_rows(term.seen)
    assert len(first) == 3
    data = json.loads(out.read_text())
    assert data["labels"]["labels_used"] == 2 and data["labels"]["label_budget"] == 3
    assert [r["label"] for r in data["labels"]["rows"]] == [0, 1]
    assert all(r["p_best"] is not None for r in data["ranking"])

    # the same command again: the two answers are replayed, only the third label is asked
    term = Terminal(args, env_for_subprocess)
    term.expect("resuming: 2 given earlier")
    term.expect("label> ")
    assert "Row 3 of at most 3" in term.seen and "Row 1 of" not in term.seen
    second = _asked_rows(term.seen)
    assert len(second) == 1 and second[0] not in first[:2]
    term.send("s")  # a skip is free: the third label is asked on another row
    term.expect("Row 3 of at most 3")
    term.expect("label> ", timeout=60)
    term.send("2")
    assert term.finish() == 0, term.seen[-2000:]
    data = json.loads(out.read_text())
    assert data["labels"]["labels_used"] == 3  # the budget, never more
    assert [r["label"] for r in data["labels"]["rows"]] == [0, 1, 1]


def test_parse_answer():
    names = ["negative", "positive"]
    assert parse_answer("1", names) == 0 and parse_answer(" 2 \n", names) == 1
    assert parse_answer("Positive", names) == 1
    assert parse_answer("s", names) is None and parse_answer("q", names) is STOP
    assert parse_answer("3", names) == "invalid" and parse_answer("", names) == "invalid"
    digits = ["0", "1", "2"]  # MNIST-like class names: a typed digit is the class of that name, never a position
    assert [parse_answer(t, digits) for t in ("0", "1", "2", "3")] == [0, 1, 2, "invalid"]


def test_the_prompt_shows_classes_named_by_numbers_by_their_names():
    out = io.StringIO()
    src = PromptLabels(None, stdin=io.StringIO("1\n"), out=out)
    src.begin(1, 0)
    assert src.ask(0, RowView(row=0, index=5, fields={"image": "<28x28 image>"}), ["0", "1", "2"]) == 1
    assert "class: 0   1   2   s) skip" in out.getvalue() and "1) 0" not in out.getvalue()


def test_prompt_source_saves_every_answer(tmp_path):
    store = AnswerStore(tmp_path, "fp", ["a", "b"], "t/test")
    src = PromptLabels(store, stdin=io.StringIO("2\ns\nq\n"), out=io.StringIO())
    src.begin(5, 0)
    view = RowView(row=4, index=40, fields={"text": "hello"})
    assert src.ask(4, view, ["a", "b"]) == 1
    src.record(4, 1)
    assert src.ask(7, RowView(7, 70, {"text": "x"}), ["a", "b"]) is None
    src.record(7, None)
    assert src.ask(9, RowView(9, 90, {"text": "y"}), ["a", "b"]) is STOP
    again = AnswerStore(tmp_path, "fp", ["a", "b"])
    assert again.answers == [(4, 1), (7, None)]
    assert json.loads(again.path.read_text())["answers"][0] == {"row": 4, "label": 1, "index": 40}
    assert AnswerStore(tmp_path, "other sample", ["a", "b"]).answers == []  # keyed by the sample's content
    eof = PromptLabels(None, stdin=io.StringIO(""), out=io.StringIO())
    assert eof.ask(1, view, ["a", "b"]) is STOP  # end of input: stop and rank
