"""The Gradio app (``spaces_app/app.py``, ``hfsearch app``): a thin web shell over `hfsearch.Search`.

- `settings`: the app's limits, from ``HFSEARCH_SPACE_*`` environment variables;
- `form`: the *Search* form → a validated `SearchConfig` (within the limits; restricted mode on a public Space);
- `worker`: one search with progress (the search's events) and a time budget (cooperative cancellation);
- `render`: the ranking (html from the one result `Table`), summary, details, chart and downloads;
- `bench_view`: the *Benchmark* tab's reader of a ``hfsearch bench`` folder;
- `demo_registry`: the offline demo zoo, built once;
- `layout`: the Gradio blocks.

```python
>>> from hfsearch.app import launch
>>> launch(host="127.0.0.1", port=7860)  # doctest: +SKIP
```
"""

from __future__ import annotations

from typing import Any

from .settings import SpaceSettings


def build_demo(settings: SpaceSettings | None = None) -> Any:
    """The Gradio `Blocks` of the app (see `hfsearch.app.layout.build_demo`)."""
    from .layout import build_demo as _build

    return _build(settings)


def launch(
    host: str = "127.0.0.1",
    port: int | None = 7860,
    share: bool = False,
    *,
    settings: SpaceSettings | None = None,
    **kwargs: Any,
) -> Any:
    """Build and serve the app (blocks until interrupted unless ``prevent_thread_lock=True`` is passed).

    Args:
        host (`str`): interface to listen on (``0.0.0.0`` to serve a LAN or a container).
        port (`int`, *optional*): port (``None``: Gradio picks a free one from 7860).
        share (`bool`): also open a temporary public ``gradio.live`` link.
        settings (`SpaceSettings`, *optional*): limits (default: from the environment).
        **kwargs: passed to `gradio.Blocks.launch`.

    Returns:
        The `gradio.Blocks` app (its ``local_url`` says where it listens).
    """
    from ..cli import quiet_third_party

    quiet_third_party()  # the app shows its own progress
    settings = settings or SpaceSettings.from_env()
    blocks = build_demo(settings)
    kwargs.setdefault("max_file_size", settings.max_upload_bytes)  # refused while uploading, before it fills the disk
    kwargs.setdefault("state_session_capacity", settings.max_sessions)  # memory bounded however many visitors
    blocks.launch(server_name=host, server_port=port, share=share, show_error=True, **kwargs)
    return blocks


__all__ = ["SpaceSettings", "build_demo", "launch"]
