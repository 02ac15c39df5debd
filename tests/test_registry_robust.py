"""A local registry (``--hub-dir``) holds what people copy around: cards in other encodings, weights that are Git LFS
pointers, cards without a pipeline tag. One such repository must not end a search, and a card the Hub would list must
be listed."""

from __future__ import annotations

import json

import numpy as np
from safetensors.numpy import save_file

from hfsearch.candidates.discover import discover
from hfsearch.candidates.reported import _hub_dataset_id
from hfsearch.hub.layout import read_front_matter, safetensors_param_count

TASK = "text-classification"
CONFIG = {"model_type": "bert", "architectures": ["BertForSequenceClassification"]}


def _repo(root, name: str, card: bytes, weights: bytes | None = None) -> None:
    folder = root / "models" / "org" / name
    folder.mkdir(parents=True)
    (folder / "README.md").write_bytes(card)
    (folder / "config.json").write_text(json.dumps(CONFIG))
    if weights is None:
        save_file({"w": np.zeros((2, 3), np.float32)}, str(folder / "model.safetensors"))
    else:
        (folder / "model.safetensors").write_bytes(weights)


LFS_POINTER = b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"0" * 64 + b"\nsize 438000000\n"


def test_odd_repositories_are_listed_and_none_ends_the_search(tmp_path):
    tagged = f"---\npipeline_tag: {TASK}\n---\n".encode()
    _repo(tmp_path, "plain", tagged)
    _repo(tmp_path, "lfs-pointer", tagged, weights=LFS_POINTER)  # `git clone` without git-lfs
    _repo(tmp_path, "latin1-card", f"---\npipeline_tag: {TASK}\n---\nCaf\u00e9 cr\u00e8me\n".encode("latin-1"))
    _repo(tmp_path, "bom-card", b"\xef\xbb\xbf" + tagged)
    _repo(tmp_path, "no-tag", b"---\nlicense: mit\n---\n")  # the Hub infers the tag from the architecture
    found = discover(TASK, TASK, max_models=10, hub_dir=str(tmp_path))
    listed = {c.repo_id for c in found.candidates} | {s.repo_id for s in found.skipped}
    assert listed == {f"org/{n}" for n in ("plain", "lfs-pointer", "latin1-card", "bom-card", "no-tag")}
    params = {c.repo_id: c.num_params for c in found.candidates}
    assert params["org/plain"] == 6 and params.get("org/lfs-pointer") is None


def test_safetensors_headers_that_are_not_safetensors_have_no_count(tmp_path):
    for name, header in (("list", b"[1, 2]"), ("no-shape", b'{"w": {"dtype": "F32"}}')):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "model.safetensors").write_bytes(len(header).to_bytes(8, "little") + header)
        assert safetensors_param_count(folder) is None
    assert read_front_matter(tmp_path / "missing.md") == {}


def test_a_local_data_path_is_not_looked_up_as_a_hub_dataset(tmp_path):
    """A path the loader accepts ("data/my reviews.jsonl") ended the search with "Refused dataset id" when the
    reported accuracy was scored."""
    assert _hub_dataset_id("data/my reviews.jsonl", str(tmp_path)) is None
    assert _hub_dataset_id("data/my reviews.jsonl", None) is None
