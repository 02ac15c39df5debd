"""Zoo architectures for ``image-classification``: a tiny ViT and a tiny ResNet, trained from scratch.

Rows are ``{"image": <pixels>, "label": <int>}`` with pixels as nested lists (or arrays, or PIL images), read exactly
as the ``image-classification`` task reads them at search time (`hfsearch.tasks.image.to_pil`): the zoo trains on what
the search will feed. Both save a real Hub-style checkpoint (``config.json``, ``model.safetensors``,
``preprocessor_config.json`` of a ``ViTImageProcessor``) that loads with ``AutoModelForImageClassification`` and
``AutoImageProcessor``. Default input: one channel, 28 × 28 (MNIST's grid; smaller images are resized up by the
processor, as they would be for any Hub model).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from transformers import (
    PreTrainedModel,
    ResNetConfig,
    ResNetForImageClassification,
    ViTConfig,
    ViTForImageClassification,
)

from ..tasks.image import processor_mode, to_pil
from .architectures import Architecture, Row, label_maps, register_architecture
from .train import Collate, Features, TrainConfig

#: Column holding a row's image.
IMAGE_COLUMN = "image"


def image_processor(size: int, channels: int) -> Any:
    """A ``ViTImageProcessor`` (PIL backend, no torchvision needed) resizing to `size` × `size`, mean/std 0.5."""
    Processor: type[Any]
    try:
        from transformers.models.vit.image_processing_pil_vit import ViTImageProcessorPil as Processor
    except ImportError:  # pragma: no cover - older layouts
        from transformers import ViTImageProcessor as Processor
    return Processor(size={"height": size, "width": size}, image_mean=[0.5] * channels, image_std=[0.5] * channels)


class ImageClassificationArchitecture(Architecture):
    """Shared logic of the image classifiers: processor, encoding, collation, accuracy."""

    tags: ClassVar[tuple[str, ...]] = ("image-classification", "from-scratch")
    torch_threads = 1  # tiny convolutions/attention: threads that wait on each other only slow them down
    train_defaults = TrainConfig(epochs=8, learning_rate=2e-3, batch_size=64, eval_batch_size=256)

    def processor(self) -> Any:
        return image_processor(int(self.params["image_size"]), int(self.params["num_channels"]))

    def encode(self, processor: Any, rows: Sequence[Row], max_length: int) -> tuple[list[Features], np.ndarray]:
        if not rows:
            return [], np.zeros(0, dtype=np.int64)
        mode = processor_mode(processor)
        pixels = processor([to_pil(r[IMAGE_COLUMN], mode) for r in rows], return_tensors="np")["pixel_values"]
        features: list[Features] = [{"pixel_values": pixels[i]} for i in range(len(rows))]
        if self.label_column in rows[0]:
            for feature, row in zip(features, rows):
                feature["labels"] = int(row[self.label_column])
        return features, np.ones(len(rows), dtype=np.int64)

    def collator(self, processor: Any) -> Collate:
        def collate(features: list[Features]) -> dict[str, torch.Tensor]:
            batch = {
                "pixel_values": torch.from_numpy(np.stack([f["pixel_values"] for f in features]).astype(np.float32))
            }
            if "labels" in features[0]:
                batch["labels"] = torch.tensor([f["labels"] for f in features], dtype=torch.long)
            return batch

        return collate

    def metrics(self, logits: list[np.ndarray], rows: Sequence[Row]) -> dict[str, float]:
        return self.accuracy(logits, rows)


@register_architecture("image-classification", "tiny-vit")
class TinyViT(ImageClassificationArchitecture):
    """A ViT with 7 × 7 patches, hidden size 32 and 2 layers (about 30k parameters)."""

    description = "Vision Transformer (7x7 patches, 2 layers, hidden size 32) trained from scratch"
    tags = ("vit", "image-classification", "from-scratch")
    default_params = {
        "image_size": 28,
        "patch_size": 7,
        "num_channels": 1,
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 64,
    }

    def build(self, rows: Sequence[Row], label_names: list[str]) -> tuple[PreTrainedModel, Any]:
        config = ViTConfig(**self.params, **label_maps(label_names))
        return ViTForImageClassification(config), self.processor()


@register_architecture("image-classification", "tiny-cnn")
class TinyCNN(ImageClassificationArchitecture):
    """A two-stage ResNet with basic blocks, 16 and 32 channels (about 40k parameters)."""

    description = "ResNet (basic blocks, 2 stages of 16 and 32 channels) trained from scratch"
    tags = ("resnet", "cnn", "image-classification", "from-scratch")
    default_params = {
        "image_size": 28,
        "num_channels": 1,
        "embedding_size": 16,
        "hidden_sizes": [16, 32],
        "depths": [1, 1],
    }

    def build(self, rows: Sequence[Row], label_names: list[str]) -> tuple[PreTrainedModel, Any]:
        params = dict(self.params)
        params.pop("image_size")
        config = ResNetConfig(layer_type="basic", downsample_in_first_stage=False, **params, **label_maps(label_names))
        return ResNetForImageClassification(config), self.processor()
