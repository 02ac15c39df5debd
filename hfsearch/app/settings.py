"""The Space's limits and defaults, from the environment (variable names in `hfsearch.constants`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import constants


@dataclass
class SpaceSettings:
    """Limits and defaults of the app.

    Args:
        max_candidates (`int`): most candidates one search may score (``HFSEARCH_SPACE_MAX_CANDIDATES``, default 10).
        max_samples (`int`): most target rows one search may sample (``HFSEARCH_SPACE_MAX_SAMPLES``, default 1000).
        default_candidates, default_samples (`int`): the form's initial values.
        max_labels (`int`): most labels one visitor may be asked for (the label budget's cap, default 100).
        timeout_s (`float`): time budget of one search, in seconds (``HFSEARCH_SPACE_TIMEOUT``, default 600).
        queue_size (`int`): requests that may wait in the queue (``HFSEARCH_SPACE_QUEUE_SIZE``, default 16); one more
            runs, and a request that finds the queue full is refused at once.
        max_upload_mb (`float`): largest uploaded file, in MB of 10^6 bytes (``HFSEARCH_SPACE_MAX_UPLOAD_MB``, default
            20).
        max_upload_rows (`int`): most data rows in an uploaded file (``HFSEARCH_SPACE_MAX_UPLOAD_ROWS``, default
            100000).
        max_sessions (`int`): visitor sessions whose state Gradio keeps in memory, the oldest dropped first
            (``HFSEARCH_SPACE_MAX_SESSIONS``, default 1000; Gradio's own default, 10000, lets a busy Space hold
            gigabytes: a session of this app costs about 0.1–0.3 MB).
        restricted (`bool`): refuse server-side paths and custom endpoints (``HFSEARCH_SPACE_RESTRICTED``; default on
            when ``SPACE_ID`` is set, i.e. on a Hugging Face Space).
        build_demo_registry (`bool`): build the demo registry in a background thread when the app is built
            (``HFSEARCH_SPACE_BUILD_DEMO``, default on).
        bench_dir (`str`, *optional*): ``hfsearch bench`` output folder of the *Benchmark* tab (``HFSEARCH_BENCH_DIR``).
        demo_root (`str`, *optional*): demo registry folder (default `hfsearch.demo.demo_dir`).
        device (`str`, *optional*): where models run (``"cpu"`` forces the CPU).
    """

    max_candidates: int = 10
    max_samples: int = 1000
    default_candidates: int = 5
    default_samples: int = 256
    max_labels: int = 100
    timeout_s: float = 600.0
    queue_size: int = 16
    max_upload_mb: float = 20.0
    max_upload_rows: int = 100_000
    max_sessions: int = 1000
    restricted: bool = False
    build_demo_registry: bool = True
    bench_dir: str | None = None
    demo_root: str | None = None
    device: str | None = None

    def __post_init__(self) -> None:
        self.default_candidates = max(1, min(self.default_candidates, self.max_candidates))
        self.default_samples = max(1, min(self.default_samples, self.max_samples))

    @classmethod
    def from_env(cls, **overrides: Any) -> SpaceSettings:
        """Settings from the environment; keyword arguments override them."""
        c = constants
        settings = cls(
            max_candidates=max(1, c.env_int(c.ENV_SPACE_MAX_CANDIDATES, cls.max_candidates)),
            max_samples=max(1, c.env_int(c.ENV_SPACE_MAX_SAMPLES, cls.max_samples)),
            timeout_s=max(1.0, c.env_float(c.ENV_SPACE_TIMEOUT, cls.timeout_s)),
            queue_size=max(1, c.env_int(c.ENV_SPACE_QUEUE_SIZE, cls.queue_size)),
            max_upload_mb=max(0.001, c.env_float(c.ENV_SPACE_MAX_UPLOAD_MB, cls.max_upload_mb)),
            max_upload_rows=max(1, c.env_int(c.ENV_SPACE_MAX_UPLOAD_ROWS, cls.max_upload_rows)),
            max_sessions=max(1, c.env_int(c.ENV_SPACE_MAX_SESSIONS, cls.max_sessions)),
            restricted=c.env_flag(c.ENV_SPACE_RESTRICTED, c.on_a_space()),
            build_demo_registry=c.env_flag(c.ENV_SPACE_BUILD_DEMO, True),
            bench_dir=c.env_str(c.ENV_BENCH_DIR),
            demo_root=c.HFSEARCH_DEMO_DIR,
        )
        for key, value in overrides.items():
            if not hasattr(settings, key):
                raise TypeError(f"Unknown setting {key!r}")
            setattr(settings, key, value)
        settings.__post_init__()
        return settings

    @property
    def max_upload_bytes(self) -> int:
        """The upload cap in bytes (Gradio's ``max_file_size``, and `hfsearch.app.uploads.check_upload`'s)."""
        return int(self.max_upload_mb * 10**6)

    @property
    def limits(self) -> dict[str, float]:
        """Upper bounds of this app on search options (`SearchConfig.create`'s ``limits``)."""
        return {"max_models": self.max_candidates, "samples": self.max_samples, "label_budget": self.max_labels}
