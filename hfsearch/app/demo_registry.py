"""The demo registry of the Space: the small zoo of `hfsearch.demo`, built once, in the background or on demand."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from ..errors import HFSearchError, one_line
from .settings import SpaceSettings

logger = logging.getLogger(__name__)


class DemoRegistry:
    """The demo registry (`hfsearch.zoo.build_zoo` of `demo_recipe`), built once, in the background or on demand."""

    def __init__(self, root: str | None = None) -> None:
        from ..demo import demo_dir

        self.root = demo_dir(root)
        self.state = "not built"
        self.error: str | None = None
        self.seconds: float | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        try:
            from ..zoo.recipe import demo_recipe

            self.recipe: Any = demo_recipe()
        except Exception as exc:  # noqa: BLE001 - the app works without its examples
            self.recipe = None
            self.state = "unavailable"
            self.error = one_line(exc)

    @property
    def available(self) -> bool:
        return self.recipe is not None

    def is_demo(self, hub_dir: str | None) -> bool:
        if not hub_dir or not self.available:
            return False
        try:
            return Path(hub_dir).expanduser().resolve() == self.root.resolve()
        except OSError:
            return False

    def start(self) -> None:
        """Build in a background thread (no-op if already built or building)."""
        if not self.available or self.state == "ready" or (self._thread and self._thread.is_alive()):
            return
        self.state = "building"
        self._thread = threading.Thread(target=self._build_quietly, name="hfsearch-demo-registry", daemon=True)
        self._thread.start()

    def _build_quietly(self) -> None:
        try:
            self.ensure()
        except Exception as exc:  # noqa: BLE001 - recorded in self.error, shown by status()
            logger.warning("Demo registry not built: %s", one_line(exc))

    def ensure(self) -> Path:
        """Build the registry if needed (blocks while another thread builds it); returns its folder."""
        if not self.available:
            raise HFSearchError(f"The demo registry is unavailable: {self.error}")
        with self._lock:
            if self.state == "ready":
                return self.root
            from ..zoo.build import build_zoo

            self.state, self.error = "building", None
            t0 = time.perf_counter()
            try:
                build_zoo(self.recipe, self.root)
            except Exception as exc:
                self.state, self.error = "failed", one_line(exc)
                logger.exception("Building the demo registry failed")
                raise HFSearchError(f"Building the demo registry failed: {self.error}") from None
            self.seconds = time.perf_counter() - t0
            self.state = "ready"
            return self.root

    def status(self) -> str:
        if self.state == "unavailable":
            return f"Demo registry unavailable ({self.error}); the examples will not run."
        if self.state == "ready":
            took = f" in {self.seconds:.0f}s" if self.seconds is not None and self.seconds > 2 else ""
            return f"✅ Demo registry ready{took} (`{self.root}`): the examples below run offline."
        if self.state == "building":
            return (
                "⏳ Building the demo registry (5 small sentiment models trained on 2 review domains; about a "
                "minute on 2 CPU cores, once). An example search waits for it."
            )
        if self.state == "failed":
            return f"❌ Building the demo registry failed: {self.error}"
        return "The demo registry is built on the first example search (about a minute on 2 CPU cores, once)."

    def example(self, settings: SpaceSettings) -> list[Any] | None:
        """Form values of the offline example (see `EXAMPLE_FIELDS`), or ``None``."""
        if not self.available:
            return None
        r = self.recipe
        return [
            r.task,
            r.target_dataset_id(),
            "test",
            "",
            min(5, settings.max_candidates),
            min(300, settings.max_samples),
            str(self.root),
            ", ".join(r.label_names or []),
        ]
