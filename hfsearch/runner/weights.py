"""Checks of a checkpoint's weight files before they are loaded: truncated or corrupt files are named, not crashed on.

Two checks, both before `transformers` reads a byte of the tensors:
- the structure of every ``*.safetensors`` file: its header parses and the file is as long as the header says;
- the content of files in the Hugging Face cache, whose blobs are named by their checksum (``blobs/<sha256>`` for
  LFS files, ``blobs/<git blob sha1>`` for the others): the bytes must hash to the name. Each file is hashed once
  per process.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
from pathlib import Path

_HEX = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_VERIFIED: set[tuple[str, int, int]] = set()
#: Weight files checked (pickles only when they are allowed and present).
WEIGHT_PATTERNS = ("*.safetensors", "*.bin")


class CorruptWeights(Exception):
    """A weight file is truncated or corrupt (the message names it and says how to get a good copy)."""


def safetensors_problem(path: Path) -> str | None:
    """Why the ``.safetensors`` file at `path` cannot be complete, or ``None`` (header and length only)."""
    size = path.stat().st_size
    if size < 8:
        return f"{size} bytes, shorter than a safetensors header"
    with path.open("rb") as fh:
        (n,) = struct.unpack("<Q", fh.read(8))
        if 8 + n > size:
            return f"header of {n} bytes but the file has {size}"
        try:
            header = json.loads(fh.read(n))
        except ValueError as exc:
            return f"header is not valid JSON ({exc})"
    if not isinstance(header, dict):
        return "header is not a JSON object"
    end = 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            end = max(end, int(info["data_offsets"][1]))
        except (KeyError, IndexError, TypeError, ValueError):
            return f"header entry {name!r} has no data offsets"
    if 8 + n + end > size:
        return f"truncated: the header promises {8 + n + end} bytes, the file has {size}"
    return None


def content_problem(path: Path) -> str | None:
    """Why a file of the HF cache does not match the checksum its blob is named by, or ``None`` (also when the file
    is not such a blob)."""
    real = path.resolve()
    if real.parent.name != "blobs" or not _HEX.fullmatch(real.name):
        return None
    st = real.stat()
    memo = (str(real), st.st_size, st.st_mtime_ns)
    if memo in _VERIFIED:
        return None
    h = hashlib.sha256() if len(real.name) == 64 else hashlib.sha1(f"blob {st.st_size}\0".encode())
    with real.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            h.update(chunk)
    if h.hexdigest() != real.name:
        return f"its content does not match its checksum ({real.name[:12]}…)"
    _VERIFIED.add(memo)
    return None


def check_weights(folder: str | Path) -> None:
    """Raise `CorruptWeights` naming the first truncated or corrupt weight file of the checkpoint in `folder`.

    Args:
        folder (`str` or `Path`): a downloaded snapshot or a local checkpoint folder.

    Raises:
        `CorruptWeights`: one line with the file, what is wrong and how to get a good copy.
    """
    root = Path(folder)
    for pattern in WEIGHT_PATTERNS:
        for f in sorted(root.glob(pattern)):
            try:
                why = (safetensors_problem(f) if f.suffix == ".safetensors" else None) or content_problem(f)
            except OSError as exc:
                why = f"unreadable ({exc.strerror or type(exc).__name__})"
            if why is not None:
                raise CorruptWeights(f"corrupt weights file {f}: {why}; {_fix(f)}")


def _fix(path: Path) -> str:
    if "snapshots" in path.parts:  # the HF cache: the blob must go, or the snapshot link is simply recreated
        return f"delete {path.resolve()} so that it is downloaded again"
    return "replace it with a complete copy"
