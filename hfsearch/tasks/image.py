"""Image classification (``AutoImageProcessor`` + ``AutoModelForImageClassification``).

**Input column.** A `datasets.Image` feature, an ``Array2D``/``Array3D`` feature, or nested lists of numbers (a
``(height, width)`` grid, or ``(height, width, channels)`` / ``(channels, height, width)`` with 1, 3 or 4 channels),
e.g. images stored in JSON lines. Numeric arrays follow the 8-bit convention: values are intensities on 0–255, except
a floating-point image whose values all lie in [0, 1] (decided per image), which is scaled by 255, and integer
intensities beyond 8 bits (a 16-bit PNG, a ``uint16`` array, whole numbers above 255), which are scaled rather than
clipped: by 255/4095 when the split's largest value fits 12 bits, else by 255/65535 (decided once per split, in
`prepare`, so every image, sample and racing slice of a split is on one scale). JSON stores floats
like 3.0 as floats, so write 0–255 intensities as integers. Everything is turned into a PIL image in
the mode the candidate's processor expects (one channel when its ``image_mean`` has one value, else RGB), so the
processor's own resizing and normalisation apply exactly as at training time.

**Raw view** (the paper's image workload histograms pixel values). Every image becomes one grayscale channel with
values in [0, 1] (intensity / 255), resized to a fixed `RAW_SIZE` × `RAW_SIZE` grid (bilinear), and flattened: a
``(rows, RAW_SIZE²)`` numeric array. Why a fixed grid: sources and targets may differ in resolution (8×8
scikit-learn digits against 28×28 MNIST), and the numeric raw scorers need rows that are comparable value by value
(``l2d``, ``mmd:raw`` compare per-pixel means and distances) and partitions with the same number of values per row (the
histograms). 28 × 28 is MNIST's own grid, the paper's image data; a smaller image is interpolated up, which spreads
its values between its pixel levels: that is part of the resolution/style shift the raw view is meant to detect,
not an artefact to hide. One channel: colour is dropped so that gray and colour datasets (MNIST vs MNIST-M) share one
value scale; the model space keeps whatever the model sees.

**Model space.** Pooled features are the mean of the model's last hidden state over its spatial positions
(``(B, C, H, W)`` for CNNs such as ResNet or ConvNeXt) or over its tokens (``(B, T, D)`` for ViT-like models).

**Reference space.** Unavailable: no pretrained image encoder loads offline here (torchvision, timm and Hub
checkpoints download their weights at run time, and none ships inside a Python package we can depend on), so
`embed_reference` raises `ReferenceUnavailable` and the search reports it; use the ``raw`` or ``model`` space.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from datasets import Dataset, Features, Image

from ..errors import ColumnError
from ..scores.base import RawData
from .base import Encoded, ReferenceUnavailable, TaskAdapter, files_key, register_task

#: Side of the fixed grayscale grid of the raw view (see the module docstring).
RAW_SIZE = 28
#: Image processor files hashed into the preprocessor key.
_PROCESSOR_FILES = ("preprocessor_config.json", "image_processor_config.json")


def _numeric_depth(feature: Any) -> int:
    """Nesting depth of a list-of-numbers feature (0 if it is not one)."""
    depth = 0
    while type(feature).__name__ in ("List", "Sequence", "LargeList") or (
        isinstance(feature, list) and len(feature) == 1
    ):
        feature = feature[0] if isinstance(feature, list) else feature.feature
        depth += 1
    dtype = getattr(feature, "dtype", "")
    numeric = type(feature).__name__ == "Value" and (dtype.startswith(("int", "uint", "float")) or dtype == "bool")
    return depth if numeric else 0


def is_image_feature(feature: Any) -> bool:
    """`Image`, ``Array2D``/``Array3D``, or nested lists of numbers of depth 2 or 3."""
    if isinstance(feature, Image):
        return True
    if type(feature).__name__ in ("Array2D", "Array3D"):
        return True
    return _numeric_depth(feature) in (2, 3)


#: The integer scales an image column can be on: 8-, 12- and 16-bit intensities.
INTEGER_SCALES = (255, 4095, 65535)


def is_undecoded(value: Any) -> bool:
    """Whether `value` is an undecoded `datasets` Image (``{"bytes": …, "path": …}``)."""
    return isinstance(value, dict) and ("bytes" in value or "path" in value)


def decode(value: Any) -> Any:
    """An undecoded `datasets` Image as a PIL image (read into memory, the file closed)."""
    import io

    from PIL import Image as PILImage

    src = io.BytesIO(value["bytes"]) if value.get("bytes") else value["path"]
    with PILImage.open(src) as img:
        return img.copy()


def integer_peak(value: Any) -> int | None:
    """The largest value of an image stored as integers beyond 8 bits (PIL modes ``I;16``/``I``, an integer array
    or lists of whole numbers); ``None`` for 8-bit PIL images and floating-point arrays."""
    from PIL import Image as PILImage

    if is_undecoded(value):
        return integer_peak(decode(value))
    if isinstance(value, PILImage.Image):
        if not value.mode.startswith("I"):
            return None
        extrema: Any = value.getextrema()  # (min, max) for a one-band image
        return int(extrema[1])
    arr = np.asarray(value)
    return int(arr.max()) if np.issubdtype(arr.dtype, np.integer) and arr.size else None


def column_scale(values: Any) -> int:
    """The integer scale of an image column: the smallest of `INTEGER_SCALES` that holds its largest integer value
    (255 when it has none). Decided once per column, so that a dim image of a 16-bit column is scaled like the
    bright ones, and an 8-bit column stored as ``int16`` is left as it is."""
    peak = max((p for p in (integer_peak(v) for v in values) if p is not None), default=0)
    return next((s for s in INTEGER_SCALES if peak <= s), INTEGER_SCALES[-1])


def to_array(value: Any, scale: int | None = None) -> np.ndarray:
    """An image as a ``(H, W)`` or ``(H, W, C)`` float array of 0–255 intensities (see the module docstring).
    Integer intensities are read on `scale` (`column_scale` of the image's split; of the image alone if ``None``)."""
    from PIL import Image as PILImage

    if isinstance(value, PILImage.Image):
        img = value
        if img.mode.startswith("I") or img.mode == "F":  # 16/32-bit grey: PIL's convert("L") would clip at 255
            return to_array(np.asarray(img), scale)
        if img.mode not in ("L", "RGB"):
            img = img.convert("RGB" if img.mode in ("RGBA", "P", "CMYK", "YCbCr", "LA", "HSV") else "L")
        return np.asarray(img, dtype=np.float32)
    if is_undecoded(value):
        return to_array(decode(value), scale)
    arr = np.asarray(value, dtype=np.float32)
    if arr.ndim == 3 and arr.shape[0] in (1, 3, 4) and arr.shape[-1] not in (1, 3, 4):
        arr = np.moveaxis(arr, 0, -1)  # channels first -> channels last
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim == 3 and arr.shape[-1] == 4:
        arr = arr[..., :3]  # drop alpha
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[-1] != 3):
        raise ColumnError(f"Cannot read an image of shape {np.shape(value)}: expected (H, W), (H, W, C) or (C, H, W).")
    if not np.all(np.isfinite(arr)):
        raise ColumnError("An image holds NaN or infinite values.")
    dtype = np.asarray(value).dtype
    if np.issubdtype(dtype, np.floating) and arr.size and arr.min() >= 0.0 and arr.max() <= 1.0:
        arr = arr * 255.0
    elif np.issubdtype(dtype, np.integer):
        scale = column_scale([value]) if scale is None else scale
        if scale != 255:
            arr = arr * (255.0 / scale)  # 12- or 16-bit intensities: scaled, not clipped at 255
    return np.clip(arr, 0.0, 255.0)


def to_uint8(value: Any, scale: int | None = None) -> np.ndarray:
    """`to_array` rounded to 8-bit intensities."""
    return np.rint(to_array(value, scale)).astype(np.uint8)


def to_pil(value: Any, mode: str = "RGB") -> Any:
    """An image (PIL, array or nested lists) as a PIL image in `mode` (``"L"`` or ``"RGB"``)."""
    from PIL import Image as PILImage

    img = PILImage.fromarray(to_uint8(value))  # uint8 (H, W) -> "L", (H, W, 3) -> "RGB"
    return img if img.mode == mode else img.convert(mode)


def processor_mode(processor: Any) -> str:
    """``"L"`` when the processor normalises one channel, else ``"RGB"``."""
    mean = getattr(processor, "image_mean", None)
    return "L" if isinstance(mean, (list, tuple)) and len(mean) == 1 else "RGB"


def raw_pixels(values: list[Any], size: int = RAW_SIZE) -> np.ndarray:
    """``(rows, size²)`` grayscale intensities in [0, 1] on a fixed ``size`` × ``size`` grid (bilinear resize)."""
    from PIL import Image as PILImage

    out = np.empty((len(values), size * size), dtype=np.float32)
    for i, value in enumerate(values):
        arr = to_array(value)
        gray = arr if arr.ndim == 2 else arr @ np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601 luma
        img = PILImage.fromarray(np.ascontiguousarray(gray, dtype=np.float32))  # mode "F"
        if img.size != (size, size):
            img = img.resize((size, size), PILImage.Resampling.BILINEAR)
        out[i] = np.clip(np.asarray(img, dtype=np.float32).ravel() / 255.0, 0.0, 1.0)
    return out


@register_task
class ImageClassification(TaskAdapter):
    """Image classification with ``AutoModelForImageClassification`` and the model's own image processor."""

    name = "image-classification"
    pipeline_tag = "image-classification"
    description = "Classify images (datasets Image column, or arrays / nested lists of pixel values)."
    preferred_inputs = ("image", "img", "pixel_values", "pixels", "picture")

    def is_input_feature(self, name: str, feature: Any) -> bool:
        return is_image_feature(feature)

    def resolve_columns(self, features: Features, columns: list[str] | None) -> list[str]:
        cols = super().resolve_columns(features, columns)
        if not is_image_feature(features[cols[0]]):
            raise ColumnError(
                f"Column {cols[0]!r} is not an image (got {features[cols[0]]}); image-classification needs "
                "an Image feature or arrays / nested lists of pixel values."
            )
        return cols

    def prepare(
        self, ds: Dataset, columns: list[str], label_column: str | None, warnings: list[str]
    ) -> tuple[Dataset, list[str], str | None]:
        """Drop unusable rows, then put a column of integer intensities beyond 8 bits on 0–255 once, on the scale of
        the whole split (`column_scale`): every sample, slice and racing round then reads the same pixels."""
        ds, columns, label_column = super().prepare(ds, columns, label_column, warnings)
        column = columns[0]
        if len(ds) == 0 or isinstance(ds.features[column], Image) and integer_peak(ds[0][column]) is None:
            return ds, columns, label_column  # an 8-bit image file (PIL mode L, RGB…): nothing to rescale
        scale = column_scale(ds[column])
        if scale == 255:
            return ds, columns, label_column
        eight_bit = ds.map(
            lambda row: {column: to_uint8(row[column], scale)},
            desc=f"{column}: {scale.bit_length()}-bit intensities to 8 bits",
        )
        return eight_bit, columns, label_column

    # ---- raw view ------------------------------------------------------------------------------------------------
    def raw(self, rows: Dataset, columns: list[str]) -> RawData:
        return RawData(kind="numeric", values=raw_pixels(rows[columns[0]]))

    # ---- models --------------------------------------------------------------------------------------------------
    def load_model(self, path: str, *, allow_pickle: bool = False) -> Any:
        from transformers import AutoModelForImageClassification

        return AutoModelForImageClassification.from_pretrained(
            path, trust_remote_code=False, use_safetensors=None if allow_pickle else True
        )

    def load_preprocessor(self, path: str) -> Any:
        import importlib.util

        from transformers import AutoImageProcessor

        kwargs = {} if importlib.util.find_spec("torchvision") else {"backend": "pil"}
        return AutoImageProcessor.from_pretrained(path, trust_remote_code=False, **kwargs)

    preprocessor_from_key = True  # the processor is made from the hashed files (and config.json's class)

    def preprocessor_key(self, path: str) -> str:
        return files_key(path, _PROCESSOR_FILES)

    def encode(self, preprocessor: Any, rows: Dataset, columns: list[str], *, max_length: int) -> Encoded:
        """The images, decoded once into PIL images of the processor's mode; the processor runs per batch (so a
        large sample never sits in memory as full-resolution float tensors)."""
        mode = processor_mode(preprocessor)
        images = [to_pil(v, mode) for v in rows[columns[0]]]  # on 0-255 since `prepare`, whatever the slice
        return Encoded(inputs={"images": images}, lengths=np.ones(len(images), dtype=np.int64))

    def batches(
        self, encoded: Encoded, batch_size: int, preprocessor: Any
    ) -> Iterator[tuple[np.ndarray, dict[str, Any]]]:
        images = encoded.inputs["images"]
        for start in range(0, len(images), batch_size):
            idx = np.arange(start, min(start + batch_size, len(images)))
            pixels = preprocessor([images[i] for i in idx], return_tensors="pt")["pixel_values"]
            yield idx, {"pixel_values": pixels}

    def forward(self, model: Any, batch: dict[str, Any]) -> tuple[Any, Any]:
        pixels = batch["pixel_values"]
        channels = getattr(model.config, "num_channels", pixels.shape[1])
        if pixels.shape[1] != channels:  # processor and model disagree: adapt gray <-> colour
            pixels = (
                pixels.repeat(1, channels, 1, 1)
                if pixels.shape[1] == 1
                else pixels.mean(1, keepdim=True).repeat(1, channels, 1, 1)
            )
        out = model(pixel_values=pixels.to(next(model.parameters()).dtype), output_hidden_states=True)
        hidden = out.hidden_states[-1]
        pooled = hidden.mean(dim=(2, 3)) if hidden.ndim == 4 else hidden.mean(dim=1)
        return out.logits, pooled

    # ---- reference space -----------------------------------------------------------------------------------------
    reference_id = None

    def embed_reference(self, rows: Dataset, columns: list[str], *, batch_size: int, device: Any) -> np.ndarray:
        raise ReferenceUnavailable(
            "image-classification has no reference encoder: no pretrained image encoder loads offline (torchvision, "
            "timm and Hub weights are downloaded at run time), so the 'reference' space is unavailable for images; "
            "use the 'raw' or 'model' space."
        )
