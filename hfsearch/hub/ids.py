"""One check for every model or dataset id that meets the file system or the network.

An id names a repository on the Hub (``name`` or ``org/name``) or in a local registry laid out like it
(`hfsearch.hub.layout`). Ids come from users, from the Space, from listings and from model cards (``datasets:``),
so they are checked *before* any folder is opened or any request is sent: ``..``, absolute paths, ``~``,
backslashes, URL schemes (``http://``, ``file:``, ``s3://``) and control characters are refused.
"""

from __future__ import annotations

import re
from typing import Literal

from ..errors import RepoIdError

#: The Hub's rule for one part of an id: letters, digits, ``-``, ``_``, ``.``, not starting or ending with ``-``/``.``.
_PART = re.compile(r"[A-Za-z0-9_](?:[\w.-]{0,94}[A-Za-z0-9_])?", re.ASCII)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_FORM = "a Hub id is 'name' or 'org/name' made of letters, digits, '-', '_' and '.'"


def repo_id_problem(repo_id: object) -> str | None:
    """Why `repo_id` is not a safe Hub id, or ``None`` when it is one.

    Args:
        repo_id (`object`): the id to check.

    Returns:
        `str | None`: a short reason (``"'..' is not allowed"``…), or ``None``.

    Example:

    ```python
    >>> repo_id_problem("org/model") is None
    True
    >>> repo_id_problem("../etc")
    "'..' is not allowed"
    ```
    """
    if not isinstance(repo_id, str):
        return f"an id is text, not {type(repo_id).__name__}"
    if not repo_id.strip():
        return "the id is empty"
    why = unsafe_path_problem(repo_id)
    if why is not None:
        return why
    if ".." in repo_id:
        return "'..' is not allowed"
    parts = repo_id.split("/")
    if len(parts) > 2:
        return "more than one '/'"
    bad = next((p for p in parts if not _PART.fullmatch(p)), None)
    if bad is not None:
        return f"{bad!r} is empty, starts or ends with '.' or '-', or has other characters"
    if "--" in repo_id:
        return "'--' is not allowed on the Hub"
    if repo_id.endswith(".git"):
        return "a '.git' ending is not allowed on the Hub"
    return None


def unsafe_path_problem(text: str) -> str | None:
    """Why `text` could reach outside the folder it is joined to, or a URL, or ``None``.

    Refused: control characters, backslashes, URL schemes (``http:``, ``file:``, ``s3:``, drive letters), absolute
    paths, ``~`` and ``..`` parts. A relative path such as ``data/reviews`` passes (it is not a Hub id either).
    """
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        return "control characters are not allowed"
    if "\\" in text:
        return "backslashes are not allowed"
    if _SCHEME.match(text) or "://" in text:
        return "URLs and URL schemes (http:, file:, s3:…) are not allowed"
    if text.startswith(("/", "~")):
        return "absolute paths are not allowed"
    if ".." in text.split("/"):
        return "'..' is not allowed"
    return None


def check_repo_id(repo_id: str, kind: Literal["model", "dataset"] = "model") -> str:
    """Return `repo_id` if it is a safe Hub id, else raise `RepoIdError` (one line: what is wrong, what to give).

    Call it before `repo_id` is joined to a folder or sent to an endpoint.

    Args:
        repo_id (`str`): a model or dataset id.
        kind (`str`, *optional*, defaults to `"model"`): ``"model"`` or ``"dataset"`` (for the message).

    Raises:
        `RepoIdError`: the id contains ``..``, is an absolute path, has a backslash or URL scheme, or is malformed.

    Example:

    ```python
    >>> check_repo_id("test-org/bert-yelp")
    'test-org/bert-yelp'
    >>> check_repo_id("file:///etc/passwd", "dataset")
    Traceback (most recent call last):
    ...
    hfsearch.errors.RepoIdError: Refused dataset id 'file:///etc/passwd': URLs and URL schemes ... are not allowed; ...
    ```
    """
    why = repo_id_problem(repo_id)
    if why is not None:
        shown = repo_id if isinstance(repo_id, str) and len(repo_id) <= 120 else f"{str(repo_id)[:117]}..."
        raise RepoIdError(f"Refused {kind} id {shown!r}: {why}; {_FORM}.")
    return repo_id
