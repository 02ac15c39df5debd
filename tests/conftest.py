"""Test set-up: an isolated HF home and a Hub stand-in on 127.0.0.1, configured before any HF library is imported.

``HF_ENDPOINT`` is read at import time by huggingface_hub/transformers/datasets, so the port is reserved and the
environment set here, at conftest import, before anything imports them.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
from pathlib import Path

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="hfsearch-tests-"))
_HUB_ROOT = _SESSION_DIR / "hub"
(_HUB_ROOT / "models").mkdir(parents=True)
(_HUB_ROOT / "datasets").mkdir(parents=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_PORT = _free_port()
os.environ["HF_ENDPOINT"] = f"http://127.0.0.1:{_PORT}"
os.environ["HF_HOME"] = str(_SESSION_DIR / "hf_home")
os.environ["HFSEARCH_CACHE"] = str(_SESSION_DIR / "outputs")
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
os.environ.pop("HF_HUB_OFFLINE", None)
os.environ.pop("HF_TOKEN", None)
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import pytest  # noqa: E402

from hfsearch.testing.hub_server import HubServer  # noqa: E402

_SERVER = HubServer(_HUB_ROOT, port=_PORT)
_SERVER.start()

sys.path.insert(0, str(Path(__file__).parent))


def pytest_sessionfinish(session, exitstatus):  # noqa: ARG001
    _SERVER.stop()
    shutil.rmtree(_SESSION_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def hub_server() -> HubServer:
    """The running Hub stand-in (empty until `registry` fills it)."""
    return _SERVER


@pytest.fixture(scope="session")
def registry(hub_server: HubServer) -> Path:
    """The stand-in's root, filled once with tiny real checkpoints and datasets (see `tests/zoo_fixture.py`)."""
    from zoo_fixture import build_test_registry

    build_test_registry(_HUB_ROOT)
    return _HUB_ROOT


@pytest.fixture()
def env_for_subprocess(tmp_path: Path) -> dict[str, str]:
    """Environment for running the CLI in a subprocess against the stand-in."""
    env = dict(os.environ)
    env["HFSEARCH_CACHE"] = str(tmp_path / "outputs")
    env["COLUMNS"] = "200"
    return env


#: The project's shared data folder (``shared/`` beside the checkout, as in CI).
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="module")
def sentiment():
    """``sentiment(domain, n, seed)``: n seeded rows of a real sentiment corpus (skips when the data is absent)."""
    import json

    import numpy as np

    root = SHARED_DATA / "sentiment"
    if not root.exists():
        pytest.skip(f"real text corpora not found at {root}")
    cache: dict[str, list[str]] = {}

    def load(domain: str, n: int, seed: int) -> list[str]:
        if domain not in cache:
            path = root / domain / "train.jsonl"
            if not path.exists():
                pytest.skip(f"{path} not found")
            cache[domain] = [json.loads(line)["text"] for line in path.open()]
        rows = cache[domain]
        pick = np.random.default_rng(seed).choice(len(rows), min(n, len(rows)), replace=False)
        return [rows[i] for i in pick]

    return load
