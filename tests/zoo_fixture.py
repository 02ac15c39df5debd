"""The test registry: tiny real checkpoints trained on real sentiment domains, plus repos that filters must reject.

Built once per test session into the Hub stand-in's root (and cached across sessions by the zoo builder's recipe
hash when the same root is reused).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from hfsearch.zoo.build import CandidateRecipe, DomainSpec, ZooRecipe, build_zoo

DATA = Path(__file__).resolve().parents[1] / "hfsearch" / "resources" / "data" / "sentiment"
ORG = "test-org"
LABELS = ["negative", "positive"]

#: Small but real: each candidate trains for a few seconds on a few hundred rows.
TINY = {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64}


def test_recipe() -> ZooRecipe:
    return ZooRecipe(
        org=ORG,
        label_names=LABELS,
        license="mit",
        domains=[
            DomainSpec("uci_yelp", path=DATA / "uci_yelp", license="cc-by-4.0"),
            DomainSpec("uci_amazon", path=DATA / "uci_amazon", license="cc-by-4.0"),
        ],
        candidates=[
            # trained on the target's domain (train split; the searches use the test split): must rank first
            CandidateRecipe("bert-yelp", "tiny-bert", ["uci_yelp"], downloads=10),
            # another domain and random labels: clearly worse, and the most downloaded (a prior must be beaten)
            CandidateRecipe("bert-amazon-noisy", "tiny-bert", ["uci_amazon"], label_noise=0.5,
                            downloads=1000),
        ],
    )


def _variant(root: Path, src: str, name: str, *, org: str = ORG, config: dict | None = None, card: dict | None = None,
             pickle: bool = False) -> None:
    """A copy of model `src` with a changed config/card (e.g. custom code, no safetensors, other labels)."""
    s = root / "models" / ORG / src
    d = root / "models" / org / name
    if d.exists():
        shutil.rmtree(d)
    shutil.copytree(s, d)
    if config:
        cfg = json.loads((d / "config.json").read_text())
        cfg.update(config)
        (d / "config.json").write_text(json.dumps(cfg, indent=2))
    if card:
        text = (d / "README.md").read_text()
        for old, new in card.items():
            text = text.replace(old, new)
        (d / "README.md").write_text(text)
    if pickle:
        import torch
        from safetensors.torch import load_file

        state = load_file(str(d / "model.safetensors"))
        torch.save(state, d / "pytorch_model.bin")
        (d / "model.safetensors").unlink()


def build_test_registry(root: Path) -> Path:
    build_zoo(test_recipe(), root)
    _variant(root, "bert-yelp", "bert-custom-code", config={"auto_map": {"AutoModel": "modeling_x.XModel"}})
    _variant(root, "bert-yelp", "bert-pickle", pickle=True)
    _variant(root, "bert-yelp", "bert-topics", config={"id2label": {"0": "sports", "1": "politics"},
                                                       "label2id": {"sports": 0, "politics": 1}})
    _variant(root, "bert-yelp", "bert-ner", card={"pipeline_tag: text-classification": "pipeline_tag: token-classification"})
    # outside test-org, used by name: a card naming a dataset that does not exist, and corrupt weights
    _variant(root, "bert-yelp", "bert-nosource", org="other-org", card={"- test-org/uci_yelp": "- test-org/missing-data"})
    _variant(root, "bert-yelp", "bert-broken", org="other-org")
    weights = root / "models" / "other-org" / "bert-broken" / "model.safetensors"
    blob = weights.read_bytes()  # keep the header (so its size is listed), cut the tensors short
    weights.write_bytes(blob[: 8 + int.from_bytes(blob[:8], "little") + 16])
    return root
