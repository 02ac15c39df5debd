"""The terminal table: columns that do not fit are dropped from the right, and a long header over short values is put
on two lines instead of widening its column."""

from __future__ import annotations

from hfsearch.render.formats import render_text
from hfsearch.render.table import Column, Table


def demo_like() -> Table:
    columns = [Column("model", kind="id", keep=True), Column("predicted", title="predicted accuracy", kind="metric"),
               Column("interval", title="90% interval", kind="interval"), Column("extra", kind="metric")]
    rows = [{"model": "hfsearch-demo/tiny-bert-uci-amazon-noisy", "predicted": 0.447, "interval": (0.316, 0.577),
             "extra": 0.5},
            {"model": "hfsearch-demo/minilm-uci-amazon", "predicted": 0.835, "interval": (0.751, 0.92), "extra": 0.5}]
    return Table(columns=columns, rows=rows)


def test_a_long_header_goes_on_two_lines_and_the_interval_fits_in_70_columns():
    text = render_text(demo_like(), width=70)
    lines = text.splitlines()
    assert lines[0].split() == ["predicted"] and lines[1].split() == ["model", "accuracy", "90%", "interval"]
    assert "[0.751, 0.920]" in text and "0.835" in text
    assert max(len(line) for line in lines if "not shown" not in line) <= 70
    assert "not shown, the terminal is too narrow: extra" in text


def test_headers_stay_on_one_line_when_they_fit():
    table = demo_like()
    table = Table(columns=[table.columns[0], table.columns[2]], rows=table.rows)
    lines = render_text(table, width=200).splitlines()
    assert lines[0].split() == ["model", "90%", "interval"] and set(lines[1]) <= {"-", " "}


def test_output_redirected_to_a_file_keeps_every_column(tmp_path, monkeypatch, capsys):
    """Not a terminal and no COLUMNS: nothing to fit, so no column is dropped; COLUMNS still narrows it on request."""
    from hfsearch.output import show_table

    wide = demo_like()
    wide = Table(columns=wide.columns + [Column(f"signal_{k}", kind="metric") for k in range(12)],
                 rows=[{**r, **{f"signal_{k}": 0.5 for k in range(12)}} for r in wide.rows])
    monkeypatch.delenv("COLUMNS", raising=False)
    show_table(wide, "table")
    out = capsys.readouterr()
    assert "signal_11" in out.out and "not shown" not in out.out + out.err
    monkeypatch.setenv("COLUMNS", "80")
    show_table(wide, "table")
    assert "not shown, the terminal is too narrow" in capsys.readouterr().out


def test_the_recommendation_and_notes_fold_to_the_terminal_without_cutting_a_model_id(monkeypatch, capsys):
    """At 80 columns the recommendation line (caption) and the notes on stderr are folded at spaces, so a terminal
    does not break them mid-word; a redirected run keeps each on one line for scripts that grep it."""
    from dataclasses import replace

    from hfsearch.output import show_table

    model = "hfsearch-demo/tiny-bert-uci-amazon-noisy"
    caption = (f"recommended: {model} — predicted accuracy 0.873 (90% interval 0.686–1.000); the top two overlap "
               "(hfsearch-demo/minilm-uci-imdb: 0.752): label a few rows to separate them (--label-budget 20)")
    note = f"true accuracy (read after ranking): {model} 0.877; best in the pool {model} 0.890 (1.3 points more)"
    title = "hfsearch demo · target hfsearch-demo/uci_yelp (300 rows, labels hidden) · ranked by auto"
    table = replace(demo_like(), title=title, caption=caption, notes=[note])
    lines = render_text(table, width=80).splitlines()
    assert all(len(line) <= 80 for line in lines) and " ".join(x.strip() for x in lines[:2]) == title
    start = next(i for i, line in enumerate(lines) if line.startswith("recommended"))
    folded = " ".join(line.strip() for line in lines[start:])
    assert caption in folded and model in folded
    monkeypatch.setenv("COLUMNS", "80")
    show_table(table, "table")
    err = capsys.readouterr().err.splitlines()
    assert len(err) > 1 and all(len(line) <= 80 for line in err) and note == " ".join(x.strip() for x in err)
    monkeypatch.delenv("COLUMNS")
    show_table(table, "table")
    out = capsys.readouterr()
    assert caption in out.out.splitlines() and out.err.splitlines() == [note]


def test_notes_redirected_on_their_own_stay_on_one_line(monkeypatch, capsys):
    """`hfsearch find … 2>log` on a terminal: the table fits the terminal, the notes in the log are not folded."""
    import sys
    from dataclasses import replace

    from hfsearch.output import show_table

    note = "true accuracy (read after ranking): " + " ".join(["hfsearch-demo/tiny-bert-uci-amazon-noisy"] * 4)
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    show_table(replace(demo_like(), notes=[note]), "table")
    assert capsys.readouterr().err.splitlines() == [note]
