"""Time-series classifiers in transformers: finding a checkpoint's classification class, loading it without remote
code, what it reads (`SeriesSpec`), and where its pooled representation and class scores are
(`hfsearch.tasks.timeseries` is the task adapter that uses them).

transformers 5 has no public ``AutoModelForTimeSeriesClassification`` class, so the model class is looked up in the
public ``MODEL_FOR_TIME_SERIES_CLASSIFICATION_MAPPING`` from the checkpoint's ``AutoConfig``.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, cast

import torch


def classification_classes() -> dict[str, str]:
    """``{model_type: class name}`` of transformers' time-series classification mapping."""
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_TIME_SERIES_CLASSIFICATION_MAPPING_NAMES,
    )

    return dict(MODEL_FOR_TIME_SERIES_CLASSIFICATION_MAPPING_NAMES)


def load_series_classifier(path: str, *, allow_pickle: bool = False) -> Any:
    """Load a time-series classifier from a local folder, without remote code.

    transformers 5 has no ``AutoModelForTimeSeriesClassification``; the class comes from the public mapping
    ``MODEL_FOR_TIME_SERIES_CLASSIFICATION_MAPPING`` keyed by the checkpoint's ``AutoConfig``.

    Raises:
        `CandidateError`: not a classifier checkpoint (unknown model type, or the classification head is missing).
    """
    from transformers import AutoConfig
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_TIME_SERIES_CLASSIFICATION_MAPPING,
    )

    from ..errors import CandidateError

    config = AutoConfig.from_pretrained(path, trust_remote_code=False)
    try:
        # transformers annotates an auto mapping's value as a (fast, slow) pair; a model mapping returns one class.
        cls = cast("type[Any]", MODEL_FOR_TIME_SERIES_CLASSIFICATION_MAPPING[type(config)])
    except KeyError:
        raise CandidateError(
            f"load failed: model type {config.model_type!r} has no time-series classification class in transformers "
            f"(supported: {', '.join(classification_classes())})",
            stage="load",
        ) from None
    declared = list(getattr(config, "architectures", None) or [])
    if declared and cls.__name__ not in declared:
        raise CandidateError(
            f"load failed: the checkpoint is a {declared[0]}, not a time-series classifier ({cls.__name__})",
            stage="load",
        )
    model, info = cls.from_pretrained(
        path,
        config=config,
        trust_remote_code=False,
        use_safetensors=None if allow_pickle else True,
        output_loading_info=True,
    )
    missing = list(info.get("missing_keys") or [])
    if missing:
        raise CandidateError(
            f"load failed: {len(missing)} weight(s) missing from the checkpoint (e.g. {sorted(missing)[0]}): "
            "not a trained classifier",
            stage="load",
        )
    return model


@dataclass(frozen=True)
class SeriesSpec:
    """What a checkpoint reads: ``context_length`` time steps of ``num_input_channels`` channels."""

    context_length: int
    num_input_channels: int

    @classmethod
    def from_config(cls, config: Any) -> SeriesSpec:
        get = config.get if isinstance(config, dict) else lambda k, d=None: getattr(config, k, d)
        return cls(
            context_length=int(get("context_length", 0) or 0), num_input_channels=int(get("num_input_channels", 1) or 1)
        )


def forward_params(model: Any) -> set[str]:
    return set(inspect.signature(model.forward).parameters)


def head_linear(model: Any) -> torch.nn.Module:
    """The final ``nn.Linear`` of the model's classification head (its input is the pooled representation)."""
    head = getattr(model, "head", model)
    linears = [m for m in head.modules() if isinstance(m, torch.nn.Linear)]
    if not linears:
        linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    return linears[-1]


def output_logits(out: Any) -> torch.Tensor:
    """Class scores of a series classifier's output (``prediction_logits`` for PatchTST, ``prediction_outputs`` for
    PatchTSMixer, ``logits`` elsewhere)."""
    for key in ("logits", "prediction_logits", "prediction_outputs"):
        value = out.get(key) if hasattr(out, "get") else getattr(out, key, None)
        if value is not None:
            return value
    return out[0]
