"""The *Search* form → a validated `SearchConfig` (errors name the form's fields), within the app's limits."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import SearchConfig, options
from ..errors import ConfigError
from ..hub.ids import check_repo_id, repo_id_problem
from .uploads import check_upload

if TYPE_CHECKING:
    from .demo_registry import DemoRegistry
    from .settings import SpaceSettings

#: The search options the form edits, in the order of the ``/search`` endpoint's parameters (after the upload).
FORM_OPTIONS = (
    "task",
    "dataset",
    "config",
    "split",
    "column",
    "max_models",
    "samples",
    "scores",
    "rank_by",
    "models",
    "author",
    "search",
    "endpoint",
    "hub_dir",
    "labels",
    "label_budget",
)


def upload_path(upload: Any) -> str | None:
    """The local path of a Gradio file value (a path, a dict with ``path``, or a file object)."""
    if upload is None:
        return None
    if isinstance(upload, (list, tuple)):
        upload = upload[0] if upload else None
    if isinstance(upload, dict):
        upload = upload.get("path") or upload.get("name")
    path = getattr(upload, "name", upload)
    return str(path) if path else None


def looks_local(dataset: str) -> bool:
    return dataset.startswith(("/", ".", "~")) or os.path.isabs(dataset) or Path(os.path.expanduser(dataset)).exists()


def build_config(
    settings: SpaceSettings, values: dict[str, Any], *, upload: Any = None, demo: DemoRegistry | None = None
) -> SearchConfig:
    """The config of the form's `values` (keyed by option name, see `FORM_OPTIONS`).

    Raises:
        `ConfigError`: a bad value (named by its form label), a value above this app's limits, or, in restricted mode,
            a server-side path or a custom endpoint.
        `DatasetError`: an uploaded file above the app's byte or row cap.
        `RepoIdError`: in restricted mode, a model or dataset id with ``..``, an absolute path or a URL scheme
            (refused before any file or network access).
    """
    values = {k: v for k, v in values.items() if k in FORM_OPTIONS}
    label = {k: options()[k].name_for("field") for k in FORM_OPTIONS}
    uploaded = upload_path(upload)
    if uploaded:
        check_upload(uploaded, max_bytes=settings.max_upload_bytes, max_rows=settings.max_upload_rows)
        values["dataset"] = uploaded
    local = True if uploaded else (False if settings.restricted else None)  # a typed id never reads the server's disk
    for name, default in (("max_models", settings.default_candidates), ("samples", settings.default_samples)):
        if values.get(name) in (None, ""):
            values[name] = default
    if values.get("scores") is not None and not list(values["scores"]):
        raise ConfigError(f"{label['scores']}: select at least one scorer.")
    cfg = SearchConfig.create(
        "field", limits=settings.limits, device=settings.device, progress=False, local_dataset=local, **values
    )
    if cfg.models and len(cfg.models) > settings.max_candidates:
        raise ConfigError(
            f"{label['models']}: this app scores at most {settings.max_candidates} candidates per search "
            f"({len(cfg.models)} models listed)."
        )
    if settings.restricted:
        if cfg.endpoint:
            raise ConfigError(f"{label['endpoint']}: this app does not accept a custom endpoint (restricted mode).")
        if not uploaded:
            check_dataset_id(cfg.dataset, label["dataset"])
        is_demo = demo is not None and demo.is_demo(cfg.hub_dir)
        for model in cfg.models or []:
            if not (is_demo and any(ch in model for ch in "*?[")):  # wildcards select from the demo registry only
                check_repo_id(model, "model")
        if cfg.hub_dir and not is_demo:
            raise ConfigError(f"{label['hub_dir']}: this app only accepts the demo registry (restricted mode).")
        if not uploaded and cfg.dataset and not cfg.hub_dir and looks_local(cfg.dataset):
            raise ConfigError(
                f"{label['dataset']}: this app does not read datasets from its own disk (restricted "
                "mode): give a Hub id or upload a file."
            )
    return cfg


def check_dataset_id(dataset: str, label: str = "Dataset") -> None:
    """In restricted mode: the typed dataset must be a Hub id (checked on the text alone, before any access).

    Raises:
        `ConfigError`: a path (``/…``, ``~…``, ``./…``, ``../…``): the app does not read its own disk.
        `RepoIdError`: anything else that is not a Hub id (a URL scheme, ``..``, a backslash…).
    """
    if repo_id_problem(dataset) is None:
        return
    if dataset.startswith(("/", "~", ".")) or os.path.isabs(dataset):
        raise ConfigError(
            f"{label}: this app does not read datasets from its own disk (restricted mode): give a Hub "
            "id or upload a file."
        )
    check_repo_id(dataset, "dataset")
