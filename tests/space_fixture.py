"""The Gradio app served in-process on a free port, for `test_space.py` and `test_space_browser.py`."""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

TARGET = "test-org/uci_yelp"
BEST = "test-org/bert-yelp"
LABELS = "negative, positive"
#: Scorers of the app tests: cheap ones, a similarity, a non-similarity and the prior.
SCORERS = ["adaptivity", "confidence", "popularity"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_app(**overrides) -> Iterator[str]:
    """Serve `hfsearch.app.build_demo` on 127.0.0.1; yields its URL."""
    from hfsearch.app import SpaceSettings, build_demo

    settings = SpaceSettings.from_env(**{"build_demo_registry": False, "max_candidates": 5, "max_samples": 400,
                                         "timeout_s": 120.0, "restricted": False, "bench_dir": None, **overrides})
    blocks = build_demo(settings)
    port = free_port()
    blocks.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, show_error=True,
                  max_file_size=settings.max_upload_bytes)  # as `hfsearch.app.launch` does
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        blocks.close()
