"""Task adapters over checkpoint shapes the zoos do not have: an encoder–decoder classifier, a model that reads fewer
tokens than ``--max-length``, tokenizers that differ only in a sentencepiece file, and a device too small to hold a
model. Each builds a tiny random checkpoint on the all-MiniLM-L6-v2 tokenizer shipped with the package."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from datasets import Dataset

from hfsearch.candidates.candidate import Candidate
from hfsearch.data.sample import Sample
from hfsearch.errors import CandidateError
from hfsearch.runner.cache import OutputCache
from hfsearch.runner.runner import Runner
from hfsearch.tasks import get_task
from hfsearch.tasks.text import minilm_path

LABELS = {"id2label": {0: "neg", 1: "pos"}, "label2id": {"neg": 0, "pos": 1}}


def _run(path: str, texts: list[str], runner: Runner | None = None):
    from accelerate import Accelerator

    runner = runner or Runner(get_task("text-classification"), OutputCache(enabled=False), accelerator=Accelerator(cpu=True))
    rows = Dataset.from_dict({"text": texts})
    fingerprint = str(hash(tuple(texts)))  # the runner keeps outputs by sample fingerprint
    sample = Sample(rows=rows, columns=["text"], name="t", indices=np.arange(len(texts)), fingerprint=fingerprint)
    return runner.run(Candidate(repo_id="x/m", task="text-classification", path=path, sha="0"), {"target": sample})["target"]


def test_an_encoder_decoder_classifier_is_run_not_skipped(tmp_path):
    """BART / T5 classifiers return encoder and decoder hidden states, no ``hidden_states``."""
    from transformers import AutoTokenizer, BartConfig, BartForSequenceClassification

    tok = AutoTokenizer.from_pretrained(minilm_path())
    cfg = BartConfig(vocab_size=tok.vocab_size, d_model=16, encoder_layers=1, decoder_layers=1,
                     encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
                     max_position_embeddings=300, pad_token_id=tok.pad_token_id, eos_token_id=tok.sep_token_id,
                     bos_token_id=tok.cls_token_id, decoder_start_token_id=tok.sep_token_id, **LABELS)
    torch.manual_seed(0)
    BartForSequenceClassification(cfg).save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    out = _run(str(tmp_path), ["a good film", "terrible, just terrible and long", "ok"])
    assert out.logits.shape == (3, 2) and out.features.shape == (3, 16)


def test_a_model_that_reads_fewer_tokens_than_max_length_is_truncated_to_its_limit(tmp_path):
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    tok = AutoTokenizer.from_pretrained(minilm_path(), model_max_length=128)
    cfg = BertConfig(vocab_size=tok.vocab_size, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=128, **LABELS)
    torch.manual_seed(0)
    BertForSequenceClassification(cfg).save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    out = _run(str(tmp_path), ["short text", " ".join(["word"] * 200)])  # 202 tokens at the runner's 256
    assert out.logits.shape == (2, 2) and np.isfinite(out.logits).all()


def test_tokenizers_that_differ_only_in_a_sentencepiece_file_are_not_shared(tmp_path):
    from hfsearch.tasks.text import TOKENIZER_FILES

    adapter = get_task("text-classification")
    for name, content in (("a", b"model A"), ("b", b"model B")):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "tokenizer_config.json").write_text("{}")
        (folder / "spm.model").write_bytes(content)
    assert {"spm.model", "tokenizer.model", "added_tokens.json"} <= set(TOKENIZER_FILES)
    assert adapter.preprocessor_key(str(tmp_path / "a")) != adapter.preprocessor_key(str(tmp_path / "b"))


def test_a_model_the_device_cannot_hold_is_skipped_not_the_end_of_the_search(tmp_path, monkeypatch):
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    tok = AutoTokenizer.from_pretrained(minilm_path())
    cfg = BertConfig(vocab_size=tok.vocab_size, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=32, **LABELS)
    BertForSequenceClassification(cfg).save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)

    def out_of_memory(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(torch.nn.Module, "to", out_of_memory)
    with pytest.raises(CandidateError, match="out of memory") as err:
        _run(str(tmp_path), ["a text"])
    assert err.value.stage == "load"


def test_a_word_the_tagger_never_sees_is_no_entity_whatever_class_id_0_names(tmp_path):
    """Words cut by max_length, or with no sub-token at all, get uniform scores; their tag must be the model's "O",
    not its class 0 (B-LOC in some released CoNLL taggers)."""
    from accelerate import Accelerator
    from transformers import AutoTokenizer, BertConfig, BertForTokenClassification

    tok = AutoTokenizer.from_pretrained(minilm_path())
    tags = ["B-LOC", "I-LOC", "B-PER", "I-PER", "O"]
    cfg = BertConfig(vocab_size=tok.vocab_size, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=32, id2label=dict(enumerate(tags)), label2id={t: i for i, t in enumerate(tags)})
    torch.manual_seed(0)
    model = BertForTokenClassification(cfg)
    with torch.no_grad():
        model.classifier.bias[:] = torch.tensor([0.0, 0.0, 0.0, 0.0, 20.0])  # it says "O" wherever it looks
    model.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    adapter = get_task("token-classification")
    rows = Dataset.from_dict({"tokens": [[f"word{i}" for i in range(30)], ["a", "\u200b", "b"]]})
    sample = Sample(rows=rows, columns=["tokens"], name="t", indices=np.arange(2), fingerprint="fp")
    runner = Runner(adapter, OutputCache(enabled=False), accelerator=Accelerator(cpu=True), max_length=32)
    out = runner.run(Candidate(repo_id="x/t", task="token-classification", path=str(tmp_path), sha="0"),
                     {"target": sample})["target"]
    target = ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]
    pred = adapter.predictions(out.logits, adapter.align_labels(cfg.id2label, target).label_map)
    assert all(target[p] == "O" for p in pred)  # 30 + 3 words, some never seen: none an entity


def _batched_equals_one_by_one(path: str, texts: list[str]) -> None:
    """Batched (padded) logits must equal each text run alone (no padding): padding may not change a prediction."""
    from accelerate import Accelerator

    batched = _run(path, texts)
    alone = Runner(get_task("text-classification"), OutputCache(enabled=False), batch_size=1,
                   accelerator=Accelerator(cpu=True))
    single = np.concatenate([_run(path, [t], alone).logits for t in texts])
    np.testing.assert_allclose(batched.logits, single, atol=1e-4)
    assert batched.features.shape[0] == len(texts) and np.isfinite(batched.features).all()


TEXTS = ["a good film", "terrible, just terrible and far too long for anyone", "ok", "not bad at all, really"]


def _gpt2_classifier(path, tok, **config) -> None:
    from transformers import GPT2Config, GPT2ForSequenceClassification

    cfg = GPT2Config(vocab_size=tok.vocab_size, n_embd=16, n_layer=1, n_head=2, n_positions=300,
                     eos_token_id=tok.sep_token_id, bos_token_id=tok.cls_token_id, **{**LABELS, **config})
    torch.manual_seed(0)
    GPT2ForSequenceClassification(cfg).save_pretrained(path)
    tok.save_pretrained(path)


@pytest.mark.parametrize("case", ["no pad token", "a pad token the config lacks", "a left-padding tokenizer"])
def test_a_decoder_classifier_without_a_pad_id_runs_in_batches(tmp_path, case):
    """GPT-2 and Llama classifiers ship without a pad id: transformers refuses a batch of more than one row, and the
    classifier reads the last token that is not the config's pad id, so the padded positions must hold that id
    whatever the tokenizer pads with; and GPT-2's absolute positions must not be shifted by left padding."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(minilm_path(), padding_side="left" if "left" in case else "right")
    if case == "no pad token":
        tok.pad_token = None
    tok.eos_token = tok.sep_token
    _gpt2_classifier(tmp_path, tok, pad_token_id=None)
    _batched_equals_one_by_one(str(tmp_path), TEXTS)


def test_a_classifier_that_reads_the_last_position_sees_a_real_token_in_every_row(tmp_path):
    """XLNet summarises the sequence by its last position (``summary_type="last"``): right padding would classify a
    pad token, so its batches are left-aligned (its relative positions do not move)."""
    from transformers import AutoTokenizer, XLNetConfig, XLNetForSequenceClassification

    tok = AutoTokenizer.from_pretrained(minilm_path())
    cfg = XLNetConfig(vocab_size=tok.vocab_size, d_model=16, n_layer=1, n_head=2, d_inner=32,
                      pad_token_id=tok.pad_token_id, **LABELS)
    assert cfg.summary_type == "last"
    torch.manual_seed(0)
    XLNetForSequenceClassification(cfg).eval().save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    _batched_equals_one_by_one(str(tmp_path), TEXTS)
