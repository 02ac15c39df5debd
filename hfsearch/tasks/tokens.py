"""Token classification (named-entity recognition) over pre-split sentences (``AutoModelForTokenClassification``).

Inputs are a column of word lists (``tokens``); labels, when present, a column of per-word tags (``ner_tags``,
``tags``). Everything is per *word*: the model's logits of a word are those of its first sub-token (words are fed with
``is_split_into_words=True``), the usual convention of token-classification training.

**How ragged outputs are stored.** The runner stores one fixed-shape array per row. A row's logits are
``(max_words, num_model_labels)``, `max_words` being the longest sentence of that sample: positions past the end of
the sentence hold NaN (the padding mask), and a word the model never saw (cut by ``max_length`` truncation, or a
word its tokenizer maps to no sub-token) holds zeros (a uniform prediction). The mask therefore depends on the data
only, never on the model, so every candidate yields the same number of word predictions, in the same order.
`score_logits` drops the padding and hands the scorers one row per word: ``confidence``, ``entropy``, ``energy`` and
``nuclear_norm`` are means over all words of the target (a sentence's value is the mean over its words; sentences
weigh by their length, like the micro-averaged entity F1 they estimate), and ``agreement`` compares per-word
predictions. Pooled features (``model`` space) are one vector per sentence: the mean of the last hidden state over
its sub-tokens.

**Labels.** Models are aligned with the target over entity *types* (`align_tags`: ``B-``/``I-`` prefixes stripped,
synonyms such as ``PER``/``person`` and ``MISC``/``OTHER`` merged); types only one side knows are reported. The target's
tag set comes from a ``Sequence(ClassLabel)`` tag column or from ``--labels`` (entity types ``PER,LOC,ORG,MISC``,
expanded to BIO tags, or the tags themselves).

**Ground truth** (benchmark mode): ``f1`` is entity-level micro F1 (CoNLL / seqeval, `hfsearch.tasks.entities`),
``accuracy`` the per-word tag accuracy. A predicted tag of a type the target does not annotate counts as ``O``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import numpy as np
import torch
from datasets import ClassLabel, Dataset, Features

from ..candidates.labels import TagAlignment, align_tags, bio_tags, is_tag_set, split_tag
from ..data.sample import column_values
from ..data.validate import empty_list_rows, null_rows
from ..errors import CandidateError, ColumnError, DatasetError
from ..scores.base import RawData
from .base import Encoded, TaskAdapter, files_key, invert_label_map, is_string, register_task
from .entities import get_entities
from .text import (
    TOKENIZER_FILES,
    TextClassification,
    gather_padded,
    length_batches,
    mean_pooled,
    model_max_length,
    pack,
)

#: Label-column names of token tasks, in preference order.
TAG_COLUMNS = ("ner_tags", "tags", "labels", "label", "ner_labels", "entities")
#: Padding value of the per-word logits (a whole row of it marks a position past the end of the sentence).
PAD = float("nan")
#: ``word_pos`` codes: the word has no sub-token in the model's input / the position is past the sentence's end.
_UNSEEN, _PADDED = -1, -2
#: What an unseen word's "O" logit exceeds the others by: enough to win argmax, too little to move a probability.
UNSEEN_TIE = 1e-4


def outside_index(model: Any) -> int | None:
    """The model's class id of the "outside" tag (``O``), if it names one."""
    for k, name in (getattr(model.config, "id2label", None) or {}).items():
        if str(name).strip().upper() == "O":
            return int(k)
    return None


def sequence_item(feature: Any) -> Any:
    """The item feature of a sequence feature (``List``/``Sequence``/``LargeList``), else ``None``."""
    if type(feature).__name__ in ("List", "Sequence", "LargeList"):
        return getattr(feature, "feature", None)
    if isinstance(feature, list) and len(feature) == 1:  # the legacy ``[Value("string")]`` spelling
        return feature[0]
    return None


def is_string_sequence(feature: Any) -> bool:
    item = sequence_item(feature)
    return item is not None and is_string(item)


def is_tag_sequence(feature: Any) -> bool:
    item = sequence_item(feature)
    return item is not None and (
        is_string(item) or isinstance(item, ClassLabel) or getattr(item, "dtype", "").startswith("int")
    )


@register_task
class TokenClassification(TaskAdapter):
    """Per-word tagging (NER) of word-split sentences with ``AutoModelForTokenClassification``."""

    name = "token-classification"
    pipeline_tag = "token-classification"
    description = "Tag every word of word-split sentences (NER); models aligned over entity types; entity-level F1."
    preferred_inputs = ("tokens", "words")
    metrics = ("f1", "accuracy")

    # ---- columns -------------------------------------------------------------------------------------------------
    invalid_cells = "a missing or empty word list in"

    def is_input_feature(self, name: str, feature: Any) -> bool:
        return is_string_sequence(feature)

    def invalid_rows(self, ds: Dataset, columns: list[str]) -> dict[str, np.ndarray]:
        """Sentences that are null, hold a null word, or have no word."""
        return {c: null_rows(ds, c) | empty_list_rows(ds, c) for c in columns}

    def label_column(self, features: Features) -> str | None:
        for name in TAG_COLUMNS:
            if name in features and is_tag_sequence(features[name]):
                return name
        for name, feat in features.items():
            if isinstance(sequence_item(feat), ClassLabel) and "ner" in name.lower():
                return name
        return None

    def resolve_columns(self, features: Features, columns: list[str] | None) -> list[str]:
        cols = super().resolve_columns(features, columns)
        if not is_string_sequence(features[cols[0]]):
            raise ColumnError(
                f"Column {cols[0]!r} is not a list of words (got {features[cols[0]]}); token-classification "
                "needs pre-split sentences."
            )
        return cols

    def label_names(self, features: Features, column: str | None) -> list[str] | None:
        if column is None:
            return None
        item = sequence_item(features[column])
        return list(item.names) if isinstance(item, ClassLabel) else None

    def prepare_label_names(self, names: list[str] | None) -> list[str]:
        if not names:
            raise DatasetError(
                "token-classification needs the target's entity types: the tag column is not a sequence "
                "of ClassLabel; pass --labels, e.g. --labels PER,LOC,ORG,MISC (or the BIO tags)."
            )
        names = [str(n).strip() for n in names]
        return list(names) if is_tag_set(names) else bio_tags(names)

    def align_labels(self, id2label: dict[int, str] | None, target_names: list[str]) -> TagAlignment:
        return align_tags(id2label, target_names)

    def labels_array(self, rows: Dataset, column: str) -> np.ndarray:
        values = column_values(rows, column)
        out = np.empty(len(values), dtype=object)
        out[:] = [list(v) for v in values]
        return out

    # ---- raw view ------------------------------------------------------------------------------------------------
    def raw(self, rows: Dataset, columns: list[str]) -> RawData:
        sentences = column_values(rows, columns[0])
        return RawData(kind="text", texts=[" ".join(str(w) for w in words) for words in sentences])

    # ---- models --------------------------------------------------------------------------------------------------
    def load_model(self, path: str, *, allow_pickle: bool = False) -> Any:
        from transformers import AutoModelForTokenClassification

        return AutoModelForTokenClassification.from_pretrained(
            path, trust_remote_code=False, use_safetensors=None if allow_pickle else True
        )

    def load_preprocessor(self, path: str) -> Any:
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(path, trust_remote_code=False)
        if not getattr(tok, "is_fast", False):
            raise CandidateError(
                "load failed: token-classification needs a fast tokenizer (for word ids)", stage="load"
            )
        if getattr(tok, "add_prefix_space", None) is False:  # byte-level BPE (RoBERTa, GPT-2) on pre-split words
            tok = AutoTokenizer.from_pretrained(path, trust_remote_code=False, add_prefix_space=True)
        return tok

    preprocessor_from_key = True  # the tokenizer is made from the hashed files (and config.json's class)

    def preprocessor_key(self, path: str) -> str:
        return files_key(path, TOKENIZER_FILES)

    def encode(self, preprocessor: Any, rows: Dataset, columns: list[str], *, max_length: int) -> Encoded:
        sentences = [[str(w) for w in words] for words in column_values(rows, columns[0])]
        n_words = np.array([len(s) for s in sentences], dtype=np.int64)
        max_length = model_max_length(preprocessor, max_length)
        enc = preprocessor(sentences, is_split_into_words=True, truncation=True, max_length=max_length, padding=False)
        first: list[list[int]] = []
        for i, count in enumerate(n_words.tolist()):
            pos = [_UNSEEN] * count
            for j, w in enumerate(enc.word_ids(i)):
                if w is not None and w < count and pos[w] == _UNSEEN:
                    pos[w] = j
            first.append(pos)
        inputs: dict[str, Any] = {}
        lengths = None
        for key in ("input_ids", "token_type_ids"):
            if key in enc:
                inputs[key] = pack(enc[key])
                if key == "input_ids":
                    lengths = inputs[key][2]
        assert lengths is not None
        inputs["word_pos"] = pack(first)
        inputs["max_words"] = max(1, int(n_words.max()) if len(n_words) else 1)
        inputs["pad_token_id"] = preprocessor.pad_token_id if preprocessor.pad_token_id is not None else 0
        return Encoded(inputs=inputs, lengths=lengths)

    def batches(
        self, encoded: Encoded, batch_size: int, preprocessor: Any = None
    ) -> Iterator[tuple[np.ndarray, dict[str, Any]]]:
        pad = encoded.inputs["pad_token_id"]
        flat, offsets, lengths = encoded.inputs["input_ids"]
        wflat, woff, wlen = encoded.inputs["word_pos"]
        width_words = encoded.inputs["max_words"]
        for idx in length_batches(encoded.lengths, batch_size):
            ids = gather_padded(flat, offsets, lengths, idx, pad)
            mask = (np.arange(ids.shape[1])[None, :] < lengths[idx, None]).astype(np.int64)
            pos = np.full((len(idx), width_words), _PADDED, dtype=np.int64)
            got = gather_padded(wflat, woff, wlen, idx, _PADDED)
            pos[:, : got.shape[1]] = got
            batch = {
                "input_ids": torch.from_numpy(ids),
                "attention_mask": torch.from_numpy(mask),
                "word_pos": torch.from_numpy(pos),
            }
            if "token_type_ids" in encoded.inputs:
                tflat, toff, tlen = encoded.inputs["token_type_ids"]
                batch["token_type_ids"] = torch.from_numpy(gather_padded(tflat, toff, tlen, idx, 0))
            yield idx, batch

    def forward(self, model: Any, batch: dict[str, Any]) -> tuple[Any, Any]:
        inputs = {k: v for k, v in batch.items() if k != "word_pos"}
        word_pos = batch["word_pos"]
        out = model(**inputs, output_hidden_states=True)
        logits = out.logits  # (B, T, C)
        index = word_pos.clamp(min=0).unsqueeze(-1).expand(-1, -1, logits.shape[-1])
        words = torch.gather(logits, 1, index)  # (B, W, C): each word's first sub-token
        # a word the model never saw (cut by max_length, or no sub-token at all): uniform logits, ties broken toward
        # the model's "O", so that it is no entity, not whatever class id 0 names (B-LOC in some checkpoints)
        unseen = torch.zeros(words.shape[-1], dtype=words.dtype, device=words.device)
        outside = outside_index(model)
        if outside is not None:
            unseen[outside] = UNSEEN_TIE
        words = torch.where((word_pos == _UNSEEN).unsqueeze(-1), unseen.expand_as(words), words)
        words = torch.where((word_pos == _PADDED).unsqueeze(-1), torch.full_like(words, PAD), words)
        return words, mean_pooled(out, inputs["attention_mask"])

    # ---- outputs -------------------------------------------------------------------------------------------------
    def score_logits(self, logits: np.ndarray) -> np.ndarray:
        """One row per word of the sample (sentence by sentence, word by word): the padding rows are dropped."""
        logits = np.asarray(logits)
        if logits.ndim != 3:
            return logits
        flat = logits.reshape(-1, logits.shape[-1])
        return flat[~np.isnan(flat).all(axis=1)]

    def evaluate(self, metric: str, labels: Any, predictions: np.ndarray, label_names: list[str] | None) -> float:
        gold = [[_tag_name(t, label_names) for t in sentence] for sentence in labels]
        sizes = [len(s) for s in gold]
        if int(np.sum(sizes)) != len(predictions):
            raise ValueError(f"{len(predictions)} word predictions for {int(np.sum(sizes))} gold tags")
        names = label_names or []
        flat = [names[p] if 0 <= p < len(names) else "O" for p in np.asarray(predictions).tolist()]
        bounds = np.cumsum([0, *sizes])
        pred = [flat[bounds[k] : bounds[k + 1]] for k in range(len(sizes))]
        if metric not in ("f1", "accuracy"):
            raise ValueError(f"unknown metric {metric!r} for task {self.name!r} (known: {', '.join(self.metrics)})")
        from ..evaluate_modules import load

        result = load("seqeval").compute(predictions=pred, references=gold)  # entity F1 and per-word accuracy
        return float(result["overall_f1" if metric == "f1" else "overall_accuracy"])

    def unmapped_label(self, label_names: list[str] | None) -> int | None:
        """A tag of a type the target does not annotate is read as ``O``."""
        return next((i for i, n in enumerate(label_names or []) if split_tag(n)[0] == "O"), None)

    def expected_metric(self, metric: str, q: np.ndarray, pred: np.ndarray, target: Any) -> float:
        """Word accuracy, or entity F1 under the posterior `q` over each word's tag.

        A predicted entity (type, start, end) is right with the probability that a gold chunk of its type starts at its
        first word (a ``B-`` tag there, or an ``I-`` tag after a word of another type), continues over its other words
        (``I-`` tags) and ends with it (the next word is not ``I-`` of its type), words taken independently under q;
        the number of gold entities is that of the most probable tag sequence. With a one-hot q this is seqeval's F1
        for BIO tags. F1 = 2 E[TP] / (predicted +
        gold entities). Predictions of a type the target does not annotate count as ``O``, as in `evaluate`.
        """
        from ..estimate.target import expected_accuracy

        names = list(target.label_names or [])
        outside = next((i for i, n in enumerate(names) if split_tag(n)[0] == "O"), None)
        pred = np.asarray(pred, dtype=np.int64)
        if outside is not None:
            pred = np.where(pred < 0, outside, pred)
        if metric == "accuracy":
            return expected_accuracy(q, pred)
        if metric != "f1":
            raise ValueError(f"unknown metric {metric!r} for task {self.name!r} (known: {', '.join(self.metrics)})")
        sizes = [len(words) for words in target.rows[target.columns[0]]]
        if sum(sizes) != len(pred):
            raise ValueError(f"{len(pred)} word predictions for {sum(sizes)} words")
        from ..candidates.labels import entity_type_key

        by_key: dict[tuple[str, str], list[int]] = {}  # (BIO prefix, entity type key) -> tag indices
        for i, n in enumerate(names):
            prefix, etype = split_tag(n)
            if prefix != "O":
                by_key.setdefault(("B" if prefix in "BSU" else "I", entity_type_key(etype)), []).append(i)

        def mass(row: int, key: str, prefixes: str) -> float:
            return float(sum(q[row, i] for p in prefixes for i in by_key.get((p, key), [])))

        likely = q.argmax(axis=1)
        tp = n_pred = n_gold = 0.0
        start = 0
        for size in sizes:
            stop = start + size
            for key, b, e in get_entities([names[p] if p >= 0 else "O" for p in pred[start:stop]]):
                b, e = start + b, start + e
                # the gold chunk starts at b (a B- tag, or an I- tag after a word of another type)…
                exact = mass(b, key, "B") + mass(b, key, "I") * (1.0 - mass(b - 1, key, "BI") if b > start else 1.0)
                for i in range(b + 1, e + 1):  # …goes on over the span…
                    exact *= mass(i, key, "I")
                if e + 1 < stop:  # …and ends with it
                    exact *= 1.0 - mass(e + 1, key, "I")
                tp += exact
                n_pred += 1
            n_gold += len(get_entities([names[p] for p in likely[start:stop]]))
            start = stop
        return 2 * tp / (n_pred + n_gold) if n_pred + n_gold > 0 else 0.0

    def heldout_labels(
        self, rows: Dataset, column: str, features: Features, id2label: dict[int, str] | None
    ) -> np.ndarray:
        """One model tag id per word (sentence by sentence, as `score_logits` orders the predictions)."""
        item = sequence_item(features[column])
        names = list(item.names) if isinstance(item, ClassLabel) else None
        tags = [_tag_name(t, names) for sentence in column_values(rows, column) for t in sentence]
        distinct = sorted(set(tags))
        if not is_tag_set(distinct):
            return np.full(len(tags), -1, dtype=np.int64)
        index = {t: i for i, t in enumerate(distinct)}
        to_model = invert_label_map(align_tags(id2label, distinct).label_map, id2label, distinct)
        return np.array([to_model.get(index[t], -1) for t in tags], dtype=np.int64)

    # ---- reference space -----------------------------------------------------------------------------------------
    reference_id = TextClassification.reference_id

    def embed_reference(self, rows: Dataset, columns: list[str], *, batch_size: int, device: Any) -> np.ndarray:
        """all-MiniLM-L6-v2 embeddings of the sentences (words joined by spaces), as for text classification."""
        from .base import TASKS
        from .text import embed_texts

        texts = Dataset.from_dict({"text": self.raw(rows, columns).texts})
        text_adapter = cast(TextClassification, TASKS.get("text-classification"))
        return embed_texts(text_adapter, texts, ["text"], batch_size=batch_size, device=device)

    def reference_precision(self, device: Any) -> str:
        from .text import reference_precision

        return reference_precision(device)


def _tag_name(tag: Any, names: list[str] | None) -> str:
    if isinstance(tag, (int, np.integer)) and not isinstance(tag, bool):
        if names is None or not 0 <= int(tag) < len(names):
            raise ValueError(f"tag id {tag} outside the target's tag names")
        return names[int(tag)]
    return str(tag)
