"""Pieces shared by the routes of the Hub stand-in (`hfsearch.testing.hub_server`, `hfsearch.testing.hub_upload`):
the error answered to clients, and the parsing of listing filters and ``Range`` headers."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any


class HubRouteError(Exception):
    """An error answered to the client as JSON, with the Hub's ``X-Error-Code`` header when `code` is set.

    Args:
        status (`HTTPStatus`):
            The HTTP status of the answer.
        message (`str`):
            The human-readable message, sent as ``{"error": message}`` and ``X-Error-Message``.
        code (`str`, *optional*):
            The Hub's error code (``RepoNotFound``, ``RevisionNotFound``, ``EntryNotFound``).
    """

    def __init__(self, status: HTTPStatus, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


def as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def search_tags(info: dict[str, Any]) -> set[str]:
    """Everything a ``filter=`` value matches, as on the Hub: tags, library, task, model type, language,
    ``dataset:<id>`` for each dataset of the card, ``license:<id>``, and ``safetensors``."""
    card = info.get("cardData") or {}
    tags = set(as_list(info.get("tags")))
    tags.update(as_list(info.get("library_name")) + as_list(info.get("pipeline_tag")))
    tags.update(as_list((info.get("config") or {}).get("model_type")))
    tags.update(as_list(card.get("language")))
    tags.update(f"dataset:{d}" for d in as_list(card.get("datasets")))
    tags.update(f"license:{lic}" for lic in as_list(card.get("license")))
    if info.get("safetensors"):
        tags.add("safetensors")
    return tags


_UNITS = {"": 1, "K": 10**3, "M": 10**6, "B": 10**9, "T": 10**12}


def parameter_bounds(spec: str) -> tuple[float, float] | None:
    """``"min:6B,max:128B"`` (either part optional) as inclusive bounds, or `None` when `spec` is empty."""
    if not spec:
        return None
    bounds = {"min": 0.0, "max": float("inf")}
    for part in spec.split(","):
        side, _, amount = part.strip().partition(":")
        amount = amount.strip().upper()
        unit = amount[-1:] if amount[-1:] in _UNITS else ""
        try:
            bounds[side.strip()] = float(amount[: len(amount) - len(unit)]) * _UNITS[unit]
        except (KeyError, ValueError):
            raise HubRouteError(HTTPStatus.BAD_REQUEST, f"Invalid num_parameters: {spec!r}.") from None
    return bounds["min"], bounds["max"]


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive byte range of a single-range ``Range`` header, `None` to send the whole file.

    Raises:
        `HubRouteError`: 416 when the range starts beyond the end of the file.
    """
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[len("bytes=") :].strip().partition("-")
    try:
        if first:
            start, end = int(first), int(last) if last else size - 1
        else:
            start, end = max(size - int(last), 0), size - 1
    except ValueError:
        return None
    if start >= size or end < start:
        raise HubRouteError(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, f"Range {header!r} outside {size} bytes.")
    return start, min(end, size - 1)
