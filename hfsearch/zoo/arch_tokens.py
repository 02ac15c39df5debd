"""Zoo architecture for ``token-classification``: a tiny BERT tagger trained from scratch.

Rows are ``{"tokens": [words…], "tags": [tags…]}`` with BIO tags as strings (``"B-PER"``) or ids into the label set.
The recipe's label names may be entity types (``[PER, LOC, ORG, MISC]``, expanded to ``O, B-PER, I-PER, …``) or the
tags themselves. Words are fed with ``is_split_into_words=True``; each word's tag is learnt on its first sub-token
(the others are ignored, label -100), which is how the ``token-classification`` task reads the model back. The
WordPiece vocabulary is trained on the candidate's own words, like the text zoo's ``tiny-bert``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from transformers import BertConfig, BertForTokenClassification, PreTrainedModel, PreTrainedTokenizerBase

from ..candidates.labels import bio_tags, entity_type_key, is_tag_set, split_tag
from ..errors import HFSearchError
from ..tasks.entities import entity_f1
from .architectures import Architecture, Row, label_maps, register_architecture, train_wordpiece
from .train import Collate, Features, TrainConfig, add_label_noise

#: Columns of a token-classification row.
TOKENS_COLUMN = "tokens"
TAGS_COLUMN = "tags"
#: Label id ignored by the loss (sub-tokens after a word's first, special tokens, padding).
IGNORE = -100


def tag_names(label_names: list[str]) -> list[str]:
    """The model's tags: `label_names` if they are tags, else BIO tags of these entity types."""
    return list(label_names) if is_tag_set(label_names) else bio_tags(label_names)


@register_architecture("token-classification", "tiny-bert")
class TinyBertTagger(Architecture):
    """A small BERT token classifier (hidden size 64, 2 layers) with its own WordPiece vocabulary."""

    description = "BERT token classifier trained from scratch with a WordPiece vocabulary learnt on its training words"
    tags: ClassVar[tuple[str, ...]] = ("bert", "ner", "from-scratch")
    label_column = TAGS_COLUMN
    primary_metric = "f1"
    torch_threads: ClassVar[int | None] = 1
    train_defaults = TrainConfig(epochs=6, learning_rate=2e-3, batch_size=32)
    default_params = {
        "vocab_size": 4000,
        "hidden_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 128,
        "max_position_embeddings": 256,
    }

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._tags: list[str] | None = None
        self._tokenizer: PreTrainedTokenizerBase | None = None
        self._max_length = 128

    # ---- labels --------------------------------------------------------------------------------------------------
    def num_labels(self, rows: Sequence[Row]) -> int:
        raise HFSearchError("token-classification zoo candidates need label names (the entity types, e.g. PER, LOC).")

    def with_label_noise(self, rows: Sequence[Row], fraction: float, num_labels: int, seed: int) -> list[Row]:
        """Copies of `rows` where a seeded `fraction` of all word tags is replaced by another tag of the rows."""
        vocab = sorted({str(t) for r in rows for t in r[TAGS_COLUMN]})
        index = {t: i for i, t in enumerate(vocab)}
        flat = [index[str(t)] for r in rows for t in r[TAGS_COLUMN]]
        noisy = iter(add_label_noise(flat, fraction, len(vocab), seed))
        return [{**r, TAGS_COLUMN: [vocab[next(noisy)] for _ in r[TAGS_COLUMN]]} for r in rows]

    def _tag_ids(self, tags: Sequence[Any]) -> list[int]:
        assert self._tags is not None, "build() first"
        exact = {t: i for i, t in enumerate(self._tags)}
        loose = {(p, entity_type_key(e)): i for i, (p, e) in enumerate(split_tag(t) for t in self._tags)}
        ids = []
        for tag in tags:
            if isinstance(tag, (int, np.integer)) and not isinstance(tag, bool):
                ids.append(int(tag))
                continue
            i = exact.get(str(tag))
            if i is None:
                p, e = split_tag(str(tag))
                i = loose.get((p, entity_type_key(e) if p != "O" else ""))
            if i is None:
                raise HFSearchError(f"Tag {tag!r} is not in the candidate's tag set {self._tags}.")
            ids.append(i)
        return ids

    # ---- model ---------------------------------------------------------------------------------------------------
    def build(self, rows: Sequence[Row], label_names: list[str]) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
        params = dict(self.params)
        self._tags = tag_names(label_names)
        words = (" ".join(str(w) for w in r[TOKENS_COLUMN]) for r in rows)
        tokenizer = train_wordpiece(words, params.pop("vocab_size"), params["max_position_embeddings"])
        config = BertConfig(
            vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, **params, **label_maps(self._tags)
        )
        self._tokenizer = tokenizer
        return BertForTokenClassification(config), tokenizer

    def _encode_words(self, processor: Any, rows: Sequence[Row], max_length: int) -> tuple[Any, list[list[int]]]:
        """Tokenizer output and, per row, the position of each word's first sub-token (-1: not in the input)."""
        enc = processor(
            [[str(w) for w in r[TOKENS_COLUMN]] for r in rows],
            is_split_into_words=True,
            truncation=True,
            max_length=max_length,
        )
        first = []
        for i, r in enumerate(rows):
            pos = [-1] * len(r[TOKENS_COLUMN])
            for j, w in enumerate(enc.word_ids(i)):
                if w is not None and pos[w] == -1:
                    pos[w] = j
            first.append(pos)
        return enc, first

    def encode(self, processor: Any, rows: Sequence[Row], max_length: int) -> tuple[list[Features], np.ndarray]:
        self._tokenizer, self._max_length = processor, max_length
        if not rows:
            return [], np.zeros(0, dtype=np.int64)
        enc, first = self._encode_words(processor, rows, max_length)
        keys = [k for k in ("input_ids", "token_type_ids", "attention_mask") if k in enc]
        features: list[Features] = [{k: enc[k][i] for k in keys} for i in range(len(rows))]
        if TAGS_COLUMN in rows[0]:
            for feature, row, pos in zip(features, rows, first):
                labels = [IGNORE] * len(feature["input_ids"])
                for tag_id, j in zip(self._tag_ids(row[TAGS_COLUMN]), pos):
                    if j >= 0:
                        labels[j] = tag_id
                feature["labels"] = labels
        return features, np.array([len(f["input_ids"]) for f in features], dtype=np.int64)

    def collator(self, processor: Any) -> Collate:
        pad_id = int(processor.pad_token_id)

        def collate(features: list[Features]) -> dict[str, torch.Tensor]:
            width = max(len(f["input_ids"]) for f in features)
            batch: dict[str, torch.Tensor] = {}
            for key, pad in (("input_ids", pad_id), ("token_type_ids", 0), ("attention_mask", 0), ("labels", IGNORE)):
                if key in features[0]:
                    batch[key] = torch.tensor(
                        [f[key] + [pad] * (width - len(f[key])) for f in features], dtype=torch.long
                    )
            return batch

        return collate

    def metrics(self, logits: list[np.ndarray], rows: Sequence[Row]) -> dict[str, float]:
        """Entity-level micro F1 (primary) and word-level tag accuracy, on each word's first sub-token."""
        assert self._tokenizer is not None and self._tags is not None
        _, first = self._encode_words(self._tokenizer, rows, self._max_length)
        gold, pred = [], []
        hits = total = 0
        for row, pos, z in zip(rows, first, logits):
            g = [self._tags[i] for i in self._tag_ids(row[TAGS_COLUMN])]
            p = [self._tags[int(z[j].argmax())] if j >= 0 else "O" for j in pos]
            gold.append(g)
            pred.append(p)
            hits += sum(a == b for a, b in zip(g, p))
            total += len(g)
        return {"f1": entity_f1(gold, pred), "accuracy": hits / total if total else 0.0}

    def save(self, model: PreTrainedModel, processor: Any, folder: Any) -> None:
        """Weights, config and a ``BertTokenizerFast``-loadable tokenizer (tokenizer.json and vocab.txt)."""
        super().save(model, processor, folder)
        processor.backend_tokenizer.model.save(str(folder))
