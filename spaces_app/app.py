"""hfsearch as a Gradio app (the Hugging Face Space of the project).

Run it locally::

    pip install -e ".[app]"          # from the repository root
    python spaces_app/app.py --port 7860 [--host 0.0.0.0] [--share]

On a Space, the platform runs ``python app.py`` with ``GRADIO_SERVER_NAME``/``GRADIO_SERVER_PORT`` set. The app is
built by `hfsearch.app.build_demo`; this file only finds the package and launches it. Limits (candidates, samples,
time budget, queue size, restricted mode) are read from ``HFSEARCH_SPACE_*`` environment variables: see
`hfsearch.app` and README.md.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
# The package is installed (pip install hfsearch / -e .), or sits next to this file (a Space repository that holds a
# copy of hfsearch/), or one level up (this folder inside a checkout of the repository).
for _root in (_HERE, _HERE.parent):
    if (_root / "hfsearch" / "__init__.py").is_file() and str(_root) not in sys.path:
        sys.path.insert(0, str(_root))
        break

from hfsearch.app import SpaceSettings, build_demo, launch

__all__ = ["build_demo", "launch", "main"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="app.py", description="Serve the hfsearch Gradio app.")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                        help="interface to listen on (default: $GRADIO_SERVER_NAME or 127.0.0.1; 0.0.0.0 for a LAN)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
                        help="port (default: $GRADIO_SERVER_PORT or 7860)")
    parser.add_argument("--share", action="store_true", help="also open a temporary public gradio.live link")
    parser.add_argument("--no-demo-build", action="store_true",
                        help="do not build the offline demo registry in the background at start-up")
    args = parser.parse_args(argv)
    overrides = {"build_demo_registry": False} if args.no_demo_build else {}
    launch(host=args.host, port=args.port, share=args.share, settings=SpaceSettings.from_env(**overrides))


if __name__ == "__main__":
    main()
