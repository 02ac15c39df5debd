"""Web addresses of Hub pages (models and datasets), for tables, cards and the Space."""

from __future__ import annotations

import os


def hub_endpoint(endpoint: str | None = None) -> str:
    """The Hub web address that pages are linked to (`endpoint`, else ``HF_ENDPOINT``, else huggingface.co)."""
    if endpoint:
        return endpoint.rstrip("/")
    from huggingface_hub import constants as hf_constants

    return str(hf_constants.ENDPOINT).rstrip("/")


def repo_url(
    repo_id: str, *, endpoint: str | None = None, hub_dir: str | None = None, kind: str = "model"
) -> str | None:
    """The web page of a repository, or ``None`` for one of a local registry (`hub_dir`) or a local path."""
    if hub_dir or not repo_id or repo_id.startswith(("/", ".", "~")) or os.path.isabs(repo_id):
        return None
    prefix = "/datasets" if kind == "dataset" else ""
    return f"{hub_endpoint(endpoint)}{prefix}/{repo_id}"
