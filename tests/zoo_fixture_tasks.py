"""Tiny real checkpoints for the image- and token-classification tests, written into the Hub stand-in's root.

Repos live under their own organisations (``img-org``, ``ner-org`` and ``*-variants``), so the text tests' queries
(``author="test-org"``, pipeline tag ``text-classification``) never see them. Data: the shipped benchmark subsets
(``benchmarks/data/digits``, ``benchmarks/data/ner``), see their ``SOURCE.md``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from hfsearch.zoo.build import CandidateRecipe, DomainSpec, ZooRecipe, build_zoo

DATA = Path(__file__).resolve().parents[1] / "benchmarks" / "data"
IMG_ORG, NER_ORG = "img-org", "ner-org"
DIGITS = [str(d) for d in range(10)]
ENTITY_TYPES = ["PER", "LOC", "ORG", "MISC"]

TINY_CNN = {"embedding_size": 8, "hidden_sizes": [8, 16]}
TINY_VIT = {"hidden_size": 16, "intermediate_size": 32}
TINY_TAGGER = {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64,
               "vocab_size": 2000}


def _parquet_domain(name: str, max_rows: int | None = None) -> DomainSpec:
    import pyarrow.parquet as pq

    folder = DATA / "digits" / name
    rows = {s: pq.read_table(folder / f"{s}.parquet").to_pylist()[:max_rows] for s in ("train", "test")}
    return DomainSpec(name, rows=rows, license="cc-by-sa-3.0", source=(folder / "SOURCE.md").read_text())


def image_recipe() -> ZooRecipe:
    return ZooRecipe(
        org=IMG_ORG,
        task="image-classification",
        label_names=DIGITS,
        license="mit",
        domains=[_parquet_domain("mnist_skew1"), _parquet_domain("sk_digits_skew3")],
        candidates=[
            # trained on the target's domain (its train split; searches use the test split): must rank first
            CandidateRecipe("cnn-mnist-skew1", "tiny-cnn", ["mnist_skew1"], params=TINY_CNN, epochs=6, downloads=10),
            # 8x8 digits, half its labels flipped, the most downloaded: clearly worse on MNIST
            CandidateRecipe("vit-digits8-noisy", "tiny-vit", ["sk_digits_skew3"], params=TINY_VIT, epochs=4,
                            label_noise=0.5, downloads=1000),
        ],
    )


def ner_recipe() -> ZooRecipe:
    return ZooRecipe(
        org=NER_ORG,
        task="token-classification",
        label_names=ENTITY_TYPES,
        license="mit",
        domains=[DomainSpec(name, path=DATA / "ner" / name, license="mit")
                 for name in ("crossner_politics", "crossner_science")],
        candidates=[
            CandidateRecipe("tagger-politics", "tiny-bert", ["crossner_politics"], params=TINY_TAGGER, epochs=4,
                            max_train_rows=400, downloads=10),
            CandidateRecipe("tagger-science-noisy", "tiny-bert", ["crossner_science"], params=TINY_TAGGER, epochs=3,
                            label_noise=0.5, max_train_rows=300, downloads=1000),
        ],
    )


def relabel(root: Path, src: str, dst: str, rename: dict[str, str]) -> None:
    """A copy of model `src` whose ``id2label`` names are rewritten (entity types renamed, or replaced)."""
    s, d = root / "models" / src, root / "models" / dst
    if d.exists():
        shutil.rmtree(d)
    shutil.copytree(s, d)
    cfg = json.loads((d / "config.json").read_text())
    id2label = {}
    for i, tag in cfg["id2label"].items():
        prefix, _, etype = tag.partition("-")
        id2label[i] = f"{prefix}-{rename.get(etype, etype)}" if etype else tag
    cfg["id2label"] = id2label
    cfg["label2id"] = {v: int(k) for k, v in id2label.items()}
    (d / "config.json").write_text(json.dumps(cfg, indent=2))


def build_image_registry(root: Path) -> Path:
    build_zoo(image_recipe(), root)
    return root


def build_ner_registry(root: Path) -> Path:
    build_zoo(ner_recipe(), root)
    # same weights, other spellings of the entity types: alignment must see through them
    relabel(root, f"{NER_ORG}/tagger-politics", "ner-variants/tagger-politics-synonyms",
            {"PER": "person", "MISC": "OTHER", "LOC": "location"})
    # a tag set sharing no entity type with the target
    relabel(root, f"{NER_ORG}/tagger-politics", "ner-variants/tagger-dates",
            {"PER": "DATE", "LOC": "TIME", "ORG": "MONEY", "MISC": "PERCENT"})
    return root
