"""Regenerate ``benchmarks/data`` from the converted public datasets (``shared/data`` in the development set-up).

    python benchmarks/prepare_data.py /path/to/shared/data

What it does (deterministic; rerunning it gives byte-identical files):

- sentiment: the domains whose licence allows redistribution (UCI *Sentiment Labelled Sentences*, CC BY 4.0;
  Li et al. 2018 Amazon / Yelp sentences, CC BY-SA 4.0) are copied unchanged, with their SOURCE notes.
- entity_matching (ditto / DeepMatcher-Magellan, Apache-2.0): ``test.jsonl`` is ditto's ``valid`` ∪ ``test``
  (hfsearch does no model selection, so the validation rows serve as more *target* rows); the three large sets
  (Amazon-Google, Walmart-Amazon, DBLP-ACM) are subsampled, stratified by label with ``random.Random(0)``, to
  1,000 training rows and 600 target rows; the three small sets are kept whole.
Domains without a redistribution licence (rotten_tomatoes, sst2, customer_reviews, airline_reviews, imdb_reviews,
blog_posts) are not shipped: point a workload at your own copy instead (see ``benchmarks/README.md``).
"""

from __future__ import annotations

import json
import random
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent / "data"

SENTIMENT = {
    "uci_amazon": "UCI Sentiment Labelled Sentences (Kotzias et al., KDD 2015): Amazon cell-phone review sentences",
    "uci_imdb": "UCI Sentiment Labelled Sentences (Kotzias et al., KDD 2015): IMDB review sentences",
    "uci_yelp": "UCI Sentiment Labelled Sentences (Kotzias et al., KDD 2015): Yelp review sentences",
    "amazon_sentences": None,  # ships its own SOURCE.md
    "yelp_sentences": None,
}
UCI_ORIGIN = "GitHub Sudarshan-gurav/NLP @ 0d7c4448 : {file} (UCI ML repository \"Sentiment Labelled Sentences\")"
UCI_FILES = {"uci_amazon": "amazon_cells_labelled.txt", "uci_imdb": "imdb_labelled.txt", "uci_yelp": "yelp_labelled.txt"}

EM_SMALL = ("Beer", "Fodors-Zagats", "iTunes-Amazon")
EM_BIG = ("Amazon-Google", "Walmart-Amazon", "DBLP-ACM")
EM_TRAIN_ROWS, EM_TEST_ROWS = 1000, 600


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def stratified(rows: list[dict], n: int, seed: int) -> list[dict]:
    """`n` rows keeping the label proportions (largest remainders), in their original order."""
    if n >= len(rows):
        return list(rows)
    rng = random.Random(seed)
    by_label: dict[int, list[int]] = {}
    for i, r in enumerate(rows):
        by_label.setdefault(int(r["label"]), []).append(i)
    quota = {k: n * len(v) / len(rows) for k, v in by_label.items()}
    take = {k: int(q) for k, q in quota.items()}
    for k in sorted(quota, key=lambda k: quota[k] - take[k], reverse=True)[: n - sum(take.values())]:
        take[k] += 1
    keep: list[int] = []
    for k in sorted(by_label):
        idx = list(by_label[k])
        rng.shuffle(idx)
        keep.extend(idx[: take[k]])
    return [rows[i] for i in sorted(keep)]


def counts(rows: list[dict]) -> str:
    c: dict[int, int] = {}
    for r in rows:
        c[int(r["label"])] = c.get(int(r["label"]), 0) + 1
    return ", ".join(f"{k}: {v}" for k, v in sorted(c.items()))


def main(shared: Path) -> None:
    for name, what in SENTIMENT.items():
        src, dst = shared / "sentiment" / name, HERE / "sentiment" / name
        if dst.exists():
            shutil.rmtree(dst)
        dst.mkdir(parents=True)
        for split in ("train", "test"):
            shutil.copyfile(src / f"{split}.jsonl", dst / f"{split}.jsonl")
        if (src / "SOURCE.md").is_file():
            shutil.copyfile(src / "SOURCE.md", dst / "SOURCE.md")
        else:
            train, test = read(dst / "train.jsonl"), read(dst / "test.jsonl")
            (dst / "SOURCE.md").write_text(
                f"# {name}\n\n{what}.\n\n"
                f"- **Origin:** {UCI_ORIGIN.format(file=UCI_FILES[name])}\n"
                "- **Licence as stated by the source:** CC BY 4.0 (UCI Machine Learning Repository); cite Kotzias, "
                "Denil, de Freitas, Smyth, *From Group to Individual Labels using Deep Features*, KDD 2015.\n"
                "- **Task / labels:** binary sentiment: 0 = negative, 1 = positive (field `label`); text in `text`.\n"
                "- **Split:** seeded 70/30 shuffle of the source file (as converted in the project's shared data); "
                "copied unchanged.\n\n"
                f"| file | rows | per label |\n|---|---|---|\n"
                f"| train.jsonl | {len(train)} | {counts(train)} |\n| test.jsonl | {len(test)} | {counts(test)} |\n",
                encoding="utf-8",
            )
    for name in EM_SMALL + EM_BIG:
        src = shared / "entity_matching" / f"er_magellan_Structured_{name}"
        dst = HERE / "entity_matching" / name
        if dst.exists():
            shutil.rmtree(dst)
        train = read(src / "train.jsonl")
        target = read(src / "valid.jsonl") + read(src / "test.jsonl")
        n_train, n_target = len(train), len(target)
        if name in EM_BIG:
            train = stratified(train, EM_TRAIN_ROWS, seed=0)
            target = stratified(target, EM_TEST_ROWS, seed=0)
            note = (f"subsampled with `benchmarks/prepare_data.py` (stratified by label, `random.Random(0)`): "
                    f"{len(train)} of {n_train} training rows, {len(target)} of {n_target} valid ∪ test rows")
        else:
            note = f"kept whole: {n_train} training rows, {n_target} valid ∪ test rows"
        write(dst / "train.jsonl", train)
        write(dst / "test.jsonl", target)
        (dst / "SOURCE.md").write_text(
            f"# entity_matching/{name}\n\n"
            f"Magellan *Structured/{name}* entity-matching benchmark (DeepMatcher data repository), pairs of records "
            "serialized ditto-style (`COL <attr> VAL <value> …`); label 1 = the two records are the same entity.\n\n"
            f"- **Origin:** GitHub megagonlabs/ditto @ 52985564 : data/er_magellan/Structured/{name} "
            "(train.txt, valid.txt, test.txt), converted to jsonl with fields `text_a`, `text_b`, `label`.\n"
            "- **Licence:** Apache-2.0 (ditto repository); the benchmark data come from the DeepMatcher / Magellan data "
            "repository (Mudgal et al., SIGMOD 2018; Li et al., *Deep Entity Matching with Pre-Trained Language "
            "Models*, VLDB 2021).\n"
            f"- **Split:** `train.jsonl` = ditto train; `test.jsonl` = ditto valid ∪ test (no model selection is done, so "
            f"the validation rows are used as more target rows); {note}.\n\n"
            f"| file | rows | per label |\n|---|---|---|\n"
            f"| train.jsonl | {len(train)} | {counts(train)} |\n| test.jsonl | {len(target)} | {counts(target)} |\n",
            encoding="utf-8",
        )
    print(f"wrote {HERE}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"))
