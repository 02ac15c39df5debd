"""image-classification: column detection, the raw view, real checkpoints, and `find` end to end on the Hub stand-in."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from datasets import Array3D, ClassLabel, Dataset, Features, Image, List, Value

from hfsearch.errors import ColumnError
from hfsearch.search import Search, SearchConfig
from hfsearch.tasks import get_task
from hfsearch.tasks.base import ReferenceUnavailable
from hfsearch.tasks.image import RAW_SIZE, raw_pixels, to_array, to_pil

DIGITS = [str(d) for d in range(10)]
TARGET = "img-org/mnist_skew1"
IN_DOMAIN, NOISY = "img-org/cnn-mnist-skew1", "img-org/vit-digits8-noisy"


@pytest.fixture(scope="module")
def registry_images(hub_server):
    from zoo_fixture_tasks import build_image_registry

    return build_image_registry(hub_server.root)


@pytest.fixture(scope="module")
def search(registry_images, hub_server, tmp_path_factory):
    hub_server.clear_requests()
    s = Search(SearchConfig(
        task="image-classification", dataset=TARGET, author="img-org", labels=DIGITS, samples=150,
        scores=["adaptivity", "confidence", "entropy", "l2d", "mmd:model", "agreement", "adaptivity:reference"],
        cache_dir=str(tmp_path_factory.mktemp("cache")), progress=False,
    ))
    result = s.execute()
    return s, result, list(hub_server.requests)


# ---- end to end ---------------------------------------------------------------------------------------------------
def test_discovery_queries_the_image_pipeline_tag(search):
    _, _, requests = search
    (listing,) = [r for r in requests if r["path"] == "/api/models"]
    assert listing["query"]["pipeline_tag"] == ["image-classification"]
    assert listing["query"]["author"] == ["img-org"]


def test_in_domain_model_ranks_first_under_adaptivity_and_confidence(search):
    _, res, _ = search
    assert set(res.ranking["model"]) == {IN_DOMAIN, NOISY}
    assert res.best == IN_DOMAIN
    ranks = res.ranks()
    assert ranks.loc[IN_DOMAIN, "adaptivity"] == 1
    assert ranks.loc[IN_DOMAIN, "confidence"] == 1
    assert ranks.loc[IN_DOMAIN, "l2d"] == 1  # the 8x8 source differs pixel by pixel once on the common grid
    assert ranks.loc[IN_DOMAIN, "mmd:model"] == 1


def test_reference_space_is_reported_unavailable(search):
    _, res, _ = search
    (cand,) = [c for c in res.candidates if c.repo_id == IN_DOMAIN]
    assert cand.scores["adaptivity:reference"] is None
    notes = [w for w in res.warnings if "no reference encoder" in w]
    assert len(notes) == 1 and "\n" not in notes[0]


def test_truth_is_accuracy_of_mapped_predictions(search):
    from hfsearch.bench.truth import true_metrics

    s, _, _ = search
    truth = true_metrics(s, ("accuracy", "f1"))
    assert truth["accuracy"][IN_DOMAIN] > 0.4 > truth["accuracy"][NOISY]
    assert len(s.predictions(s.candidates[0])) == len(s.target)


# ---- checkpoints --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["cnn-mnist-skew1", "vit-digits8-noisy"])
def test_zoo_checkpoints_load_with_auto_classes(registry_images, name):
    from transformers import AutoImageProcessor, AutoModelForImageClassification

    folder = registry_images / "models" / "img-org" / name
    model = AutoModelForImageClassification.from_pretrained(folder, use_safetensors=True).eval()
    proc = AutoImageProcessor.from_pretrained(folder)
    adapter = get_task("image-classification")
    rows = Dataset.from_dict({"image": [np.zeros((8, 8), np.uint8).tolist(), np.full((28, 28), 255).tolist()]})
    enc = adapter.encode(proc, rows, ["image"], max_length=0)
    ((_, batch),) = list(adapter.batches(enc, 8, proc))
    logits, pooled = adapter.forward(model, batch)
    assert logits.shape == (2, 10) and pooled.ndim == 2 and pooled.shape[0] == 2
    assert model.config.id2label[3] == "3"


def test_gray_processor_feeds_a_colour_model():
    import torch
    from transformers import ViTConfig, ViTForImageClassification

    model = ViTForImageClassification(ViTConfig(image_size=8, patch_size=4, num_channels=3, hidden_size=8,
                                                num_hidden_layers=1, num_attention_heads=2, intermediate_size=8))
    logits, pooled = get_task("image-classification").forward(model.eval(), {"pixel_values": torch.zeros(2, 1, 8, 8)})
    assert logits.shape == (2, 2) and pooled.shape == (2, 8)


# ---- raw view -----------------------------------------------------------------------------------------------------
def test_raw_view_puts_every_resolution_on_one_grid():
    small = (np.arange(64).reshape(8, 8) * 4).astype(np.uint8)
    big = np.full((28, 28), 255, np.uint8)
    colour_first = np.zeros((3, 32, 32), np.uint8)  # channels first, MNIST-M size
    unit_float = np.full((5, 5), 0.5, np.float32)  # floats in [0, 1] are scaled by 255
    raw = get_task("image-classification").raw(Dataset.from_dict({"image": [small.tolist(), big.tolist()]}), ["image"])
    assert raw.kind == "numeric" and raw.values.shape == (2, RAW_SIZE * RAW_SIZE)
    assert raw.values.min() >= 0.0 and raw.values.max() <= 1.0 and np.allclose(raw.values[1], 1.0)
    values = raw_pixels([colour_first, unit_float])
    assert values.shape == (2, RAW_SIZE * RAW_SIZE)
    assert np.allclose(values[0], 0.0) and np.allclose(values[1], 0.5, atol=1 / 255)


def test_pil_images_and_undecoded_images_read_like_arrays():
    from PIL import Image as PILImage

    arr = (np.arange(16).reshape(4, 4) * 16).astype(np.uint8)
    img = PILImage.fromarray(arr)
    assert np.array_equal(to_array(img), arr.astype(np.float32))
    assert np.allclose(raw_pixels([img]), raw_pixels([arr.tolist()]))
    rgba = PILImage.fromarray(np.zeros((4, 4, 4), np.uint8))
    assert to_array(rgba).shape == (4, 4, 3)


def test_a_16_bit_image_is_scaled_to_8_bits_not_clipped():
    """A 16-bit PNG (PIL mode I;16), a uint16 array or whole numbers above 255 keep their contrast: PIL's own
    convert("L") clips at 255, which turned everything above 255 of 65535 white."""
    import io

    from PIL import Image as PILImage

    levels = np.array([[0, 1000, 32768, 65535]], dtype=np.uint16)
    buf = io.BytesIO()
    PILImage.fromarray(levels).save(buf, format="PNG")
    png = {"bytes": buf.getvalue(), "path": None}  # an undecoded datasets Image
    expected = levels.astype(np.float32) * 255 / 65535
    for value in (png, PILImage.fromarray(levels), levels, levels.astype(np.int64).tolist()):
        np.testing.assert_allclose(to_array(value), expected, atol=1e-3)
    pil = to_pil(png, "L")
    assert np.asarray(pil).tolist() == [[0, 4, 128, 255]]
    eight_bit = np.array([[0, 128, 255]])
    assert to_array(eight_bit).tolist() == [[0, 128, 255]]  # 8-bit whole numbers are unchanged
    assert to_array(eight_bit.astype(np.int16)).tolist() == [[0, 128, 255]]  # whatever their dtype
    twelve_bit = np.array([[0, 2048, 4095]], dtype=np.uint16)  # a 12-bit scan: full range, not 0-16
    np.testing.assert_allclose(to_array(twelve_bit), [[0, 127.53, 255]], atol=0.01)


def test_a_16_bit_split_is_put_on_one_scale_whatever_the_slice():
    """The scale is decided once per split, in `prepare`: a dim 16-bit image (all values <= 255) is read like the
    bright ones, and a racing slice holding only dim images reads the same pixels as the whole sample."""
    dim, bright = np.array([[0, 100, 200]] * 3), np.array([[0, 30000, 65535]] * 3)
    adapter = get_task("image-classification")
    ds = Dataset.from_dict({"image": [dim.tolist(), bright.tolist()]})
    prepared, columns, _ = adapter.prepare(ds, ["image"], None, [])
    raw = adapter.raw(prepared, columns).values
    assert raw[0].max() < 0.01 and raw[1].max() == pytest.approx(1.0)  # 200 of 65535, not 200 of 255
    gray = SimpleNamespace(image_mean=[0.5])
    whole = adapter.encode(gray, prepared, columns, max_length=0).inputs["images"]
    alone = adapter.encode(gray, prepared.select([0]), columns, max_length=0).inputs["images"]
    assert np.array_equal(np.asarray(whole[0]), np.asarray(alone[0])) and np.asarray(alone[0]).max() <= 1
    eight_bit = Dataset.from_dict({"image": [dim.tolist()]})
    assert adapter.prepare(eight_bit, ["image"], None, [])[0]["image"] == eight_bit["image"]  # left as it is


def test_unreadable_image_shape_is_one_line_column_error():
    with pytest.raises(ColumnError) as exc:
        to_array(np.zeros((2, 3, 4, 5)))
    assert "\n" not in str(exc.value)


# ---- columns ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("features, expected", [
    (Features({"img": Image(), "label": ClassLabel(names=DIGITS)}), ["img"]),
    (Features({"pixels": List(List(Value("uint8"))), "label": Value("int64")}), ["pixels"]),
    (Features({"x": Array3D((3, 8, 8), "float32"), "label": Value("int64")}), ["x"]),
    (Features({"image": List(List(Value("int64"))), "thumb": Image(), "label": Value("int64")}), ["image"]),
])
def test_image_column_detection(features, expected):
    assert get_task("image-classification").resolve_columns(features, None) == expected


def test_no_image_column_is_one_line_column_error():
    features = Features({"text": Value("string"), "flat": List(Value("float32")), "label": Value("int64")})
    with pytest.raises(ColumnError) as exc:
        get_task("image-classification").resolve_columns(features, None)
    assert "No input column" in str(exc.value) and "\n" not in str(exc.value)
    with pytest.raises(ColumnError) as exc:
        get_task("image-classification").resolve_columns(features, ["text"])
    assert "is not an image" in str(exc.value) and "\n" not in str(exc.value)


def test_no_offline_reference_encoder_says_so():
    with pytest.raises(ReferenceUnavailable, match="no reference encoder"):
        get_task("image-classification").embed_reference(Dataset.from_dict({"image": [[[0]]]}), ["image"],
                                                         batch_size=1, device="cpu")


def test_workload_reads_image_domains(tmp_path):
    from pathlib import Path

    from hfsearch.bench.workload import load_workload

    data = Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "digits"
    wl_file = tmp_path / "wl.yaml"
    wl_file.write_text(
        "task: image-classification\nlabels: [" + ", ".join(f'"{d}"' for d in DIGITS) + "]\n"
        f"domains:\n  a: {data / 'mnist_skew1'}\n  b: {data / 'sk_digits_skew3'}\n"
        "candidates:\n  - sources: [a, b]\n    architectures: [tiny-cnn, tiny-vit]\n"
        "scorers: [adaptivity, confidence]\n"
    )
    wl = load_workload(wl_file)
    row = wl.rows["b"]["train"][0]
    assert np.asarray(row["image"]).shape == (8, 8) and 0 <= row["label"] <= 9
    assert wl.eligible("a") == ["tiny-cnn-b", "tiny-vit-b"]
