"""The search pipeline, one module per stage, run in order by `hfsearch.search.Search`:

    target -> discover -> align -> run -> score -> estimate -> label -> rank

- `data`: the target stage (load and sample the split) and the candidates' source samples;
- `candidates`: discover (Hub query, filters, configs) and align (label spaces);
- `run`: every candidate over the samples (batched, cached, sharded across processes), within the search's `budget`
  (``--max-time``, ``--max-download``); with ``--budget auto``, `race` runs them on growing slices first and drops
  the clearly worse (early elimination);
- `score`: every scorer on every candidate;
- `estimate`: the predicted metric with its interval (``auto``);
- `label`: with a label budget, the label loop updates the predictions (`hfsearch.labeling`);
- `rank`: the `SearchResult`;
- `events`: what a search emits while it runs, hooks and cooperative cancellation;
- `state`: what the stages share (one `CandidateRun` per candidate).
"""

from .events import (
    CandidateDone,
    CandidateSkipped,
    CandidateStarted,
    Event,
    Hook,
    Hooks,
    StageFinished,
    StageName,
    StageStarted,
)
from .state import CandidateRun, SearchState

__all__ = [
    "CandidateDone",
    "CandidateRun",
    "CandidateSkipped",
    "CandidateStarted",
    "Event",
    "Hook",
    "Hooks",
    "SearchState",
    "StageFinished",
    "StageName",
    "StageStarted",
]
