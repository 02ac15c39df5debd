"""A plain, fast and deterministic torch training loop for the zoo's candidate models.

The loop knows nothing about tasks: an architecture (see `hfsearch.zoo.architectures`) turns rows into encoded
features, collates them into tensors and computes metrics; this module shuffles, batches, steps and predicts.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from torch import nn
from transformers import get_linear_schedule_with_warmup

from ..errors import HFSearchError
from ..utils.logging import get_logger, progress_bar

logger = get_logger(__name__)

#: One encoded example: what an architecture's ``encode`` returns per row (``labels`` included when known).
Features = dict[str, Any]
#: Turns a list of encoded examples into a batch of tensors.
Collate = Callable[[list[Features]], dict[str, torch.Tensor]]

#: Accepted values of `TrainConfig.class_weight`.
CLASS_WEIGHTS = (None, "balanced")
#: Label id that the losses ignore (sub-tokens after a word's first, special tokens, padding).
IGNORE_INDEX = -100

#: How many batches of similar length are formed from one shuffled chunk (bucketing window).
_BUCKET_BATCHES = 50


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings of one training run.

    Args:
        epochs (`int`): passes over the training rows.
        learning_rate (`float`): peak AdamW learning rate.
        batch_size (`int`): training batch size.
        warmup_ratio (`float`, *optional*): fraction of the steps spent warming the learning rate up linearly.
        weight_decay (`float`, *optional*): AdamW weight decay (not applied to biases and LayerNorm weights).
        max_length (`int`, *optional*): truncation length of token sequences.
        eval_batch_size (`int`, *optional*): batch size for prediction.
        class_weight (`str`, *optional*): ``"balanced"`` weighs each class's loss by ``n / (k * n_c)`` (`n` labelled
            positions, `k` classes present, `n_c` of class `c`), as scikit-learn's ``class_weight="balanced"``: a
            rare class (matches in entity matching) counts as much as a frequent one. ``None``: plain cross-entropy.
    """

    epochs: int
    learning_rate: float
    batch_size: int
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    max_length: int = 128
    eval_batch_size: int = 64
    class_weight: str | None = None

    def __post_init__(self) -> None:
        if self.class_weight not in CLASS_WEIGHTS:
            raise HFSearchError(f"class_weight must be one of {CLASS_WEIGHTS}, got {self.class_weight!r}.")

    def override(self, **changes: Any) -> TrainConfig:
        """A copy with the given fields changed; ``None`` values keep the current setting."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


@dataclass(frozen=True)
class TrainStats:
    """What a training run did.

    Args:
        seconds (`float`): wall-clock training time.
        steps (`int`): optimiser steps.
        final_loss (`float`): mean loss over the last epoch.
    """

    seconds: float
    steps: int
    final_loss: float


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with `n` intra-op torch threads (``None`` keeps the current setting), then restore it."""
    previous = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def select_rows(rows: Sequence[dict[str, Any]], max_rows: int | None, seed: int) -> list[dict[str, Any]]:
    """A seeded random subset of at most `max_rows` rows (all rows, in their order, when `max_rows` is ``None``)."""
    if max_rows is None or max_rows >= len(rows):
        return list(rows)
    keep = np.sort(np.random.default_rng(seed).permutation(len(rows))[:max_rows])
    return [rows[i] for i in keep]


def add_label_noise(labels: Sequence[int], fraction: float, num_labels: int, seed: int) -> list[int]:
    """Replace a seeded random `fraction` of `labels` by a different label drawn uniformly from the others.

    With two classes, ``fraction=0.5`` makes the labels carry no information: the model trained on them is at
    chance level, a deliberately poor candidate.

    Example:

    ```python
    >>> add_label_noise([0, 0, 1, 1], fraction=0.5, num_labels=2, seed=0)
    [1, 0, 1, 0]
    ```
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"label_noise must lie in [0, 1], got {fraction}")
    noisy = [int(y) for y in labels]
    if fraction == 0.0 or num_labels < 2:
        return noisy
    rng = np.random.default_rng(seed)
    for i in rng.permutation(len(noisy))[: round(fraction * len(noisy))]:
        shift = int(rng.integers(1, num_labels))
        noisy[i] = (noisy[i] + shift) % num_labels
    return noisy


def bucketed_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator | None) -> list[np.ndarray]:
    """Row indices in batches of similar length, to keep dynamic padding short.

    With `rng`, rows are shuffled, cut into windows of ``50 * batch_size`` rows, sorted by length inside each window
    and the batches are shuffled; without it, rows are simply sorted by length (for prediction).
    """
    if rng is None:
        order = np.argsort(-lengths, kind="stable")
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    shuffled = rng.permutation(len(lengths))
    window = batch_size * _BUCKET_BATCHES
    batches: list[np.ndarray] = []
    for start in range(0, len(shuffled), window):
        chunk = shuffled[start : start + window]
        chunk = chunk[np.argsort(-lengths[chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


def balanced_class_weights(features: Sequence[Features], num_classes: int) -> torch.Tensor:
    """Per-class loss weights ``n / (k * n_c)`` from the ``labels`` of `features` (ints, or lists with -100 ignored).

    Classes absent from the labels get weight 1 (they never enter the loss).

    Example:

    ```python
    >>> balanced_class_weights([{"labels": 0}, {"labels": 0}, {"labels": 0}, {"labels": 1}], num_classes=2)
    tensor([0.6667, 2.0000])
    ```
    """
    labels = np.concatenate([np.ravel(np.asarray(f["labels"], dtype=np.int64)) for f in features])
    labels = labels[labels != IGNORE_INDEX]
    counts = np.bincount(labels, minlength=num_classes)[:num_classes].astype(np.float64)
    present = counts > 0
    weights = np.ones(num_classes)
    weights[present] = counts.sum() / (present.sum() * counts[present])
    return torch.tensor(weights, dtype=torch.float32)


def _loss_fn(
    model: nn.Module, features: Sequence[Features], config: TrainConfig
) -> Callable[[Any, dict], torch.Tensor]:
    """The training loss: the model's own, or cross-entropy weighted by `config.class_weight`."""
    if config.class_weight is None:
        return lambda output, batch: output.loss
    num_classes = getattr(getattr(model, "config", None), "num_labels", None)
    if not features or "labels" not in features[0] or not num_classes:
        raise HFSearchError("class_weight needs a classifier trained on `labels` (text or token classification).")
    weights = balanced_class_weights(features, int(num_classes))

    def weighted(output: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        logits = output_logits(output)
        return nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), batch["labels"].reshape(-1), weight=weights, ignore_index=IGNORE_INDEX
        )

    return weighted


def _optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    decay: list[nn.Parameter] = []
    no_decay: list[nn.Parameter] = []
    for name, param in model.named_parameters():
        if param.requires_grad:
            (no_decay if param.ndim < 2 or "LayerNorm" in name else decay).append(param)
    groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=config.learning_rate)


def fit(
    model: nn.Module,
    features: list[Features],
    lengths: np.ndarray,
    collate: Collate,
    config: TrainConfig,
    seed: int,
    desc: str = "train",
) -> TrainStats:
    """Train `model` in place on encoded `features` (each carrying ``labels``) with AdamW and linear warmup/decay.

    Args:
        model (`torch.nn.Module`): a model whose forward returns an output with a ``loss`` when given ``labels``.
        features (`list[dict]`): encoded training examples.
        lengths (`np.ndarray`): one length per example, for bucketing by length.
        collate (`Callable`): turns a list of examples into a batch of tensors.
        config ([`TrainConfig`]): optimisation settings.
        seed (`int`): seeds the batch order (seed torch yourself before building the model).
        desc (`str`, *optional*): label of the progress bar.

    Returns:
        [`TrainStats`]: time, steps and last-epoch loss.
    """
    rng = np.random.default_rng(seed)
    epochs = [bucketed_batches(lengths, config.batch_size, rng) for _ in range(config.epochs)]
    total = sum(len(batches) for batches in epochs)
    loss_fn = _loss_fn(model, features, config)
    optimizer = _optimizer(model, config)
    scheduler = get_linear_schedule_with_warmup(optimizer, round(config.warmup_ratio * total), total)
    model.train()
    start = time.perf_counter()
    epoch_loss = 0.0
    with progress_bar(total=total, desc=desc, leave=False, unit="step") as bar:  # on a terminal only
        for batches in epochs:
            losses = []
            for idx in batches:
                batch = collate([features[i] for i in idx])
                loss = loss_fn(model(**batch), batch)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                losses.append(loss.item())
                bar.update(1)
            epoch_loss = float(np.mean(losses)) if losses else 0.0
            logger.debug("%s: epoch loss %.4f", desc, epoch_loss)
    model.eval()
    return TrainStats(seconds=time.perf_counter() - start, steps=total, final_loss=epoch_loss)


@torch.inference_mode()
def predict(
    model: nn.Module, features: list[Features], lengths: np.ndarray, collate: Collate, batch_size: int
) -> list[np.ndarray]:
    """Logits of `model` for every example, in input order, one array per example (shapes may differ by task).

    ``labels`` are dropped from the batches; padding positions are kept (the architecture's metrics drop them).
    """
    model.eval()
    result: list[np.ndarray] = [np.empty(0, dtype=np.float32)] * len(features)
    for idx in bucketed_batches(lengths, batch_size, rng=None):
        batch = collate([{k: v for k, v in features[i].items() if k != "labels"} for i in idx])
        logits = output_logits(model(**batch)).float().numpy()
        for row, i in enumerate(idx):
            result[i] = logits[row]
    return result


def output_logits(output: Any) -> torch.Tensor:
    """The class scores of a model output: ``logits``, else its first field that is set (without labels there is no
    loss, so that is the prediction: ``prediction_logits`` of PatchTST, ``prediction_outputs`` of PatchTSMixer)."""
    logits = output.get("logits") if hasattr(output, "get") else getattr(output, "logits", None)
    return logits if logits is not None else output[0]
