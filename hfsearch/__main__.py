"""``python -m hfsearch`` (also what ``accelerate launch -m hfsearch`` runs)."""

import sys

from .cli import main

sys.exit(main())
