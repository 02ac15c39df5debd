"""Label-free and label-efficient estimates from a pool's predictions.

- `dawid_skene`: the pool's agreement turned into a posterior over true labels and a per-model accuracy;
- `expected_metric` / `metric_interval`: a model's accuracy or F1 under such a posterior;
- `detect_permutations`: models whose class ids are permuted relative to the pool;
- `LabelLoop` / `simulate`: choose the few rows worth labeling and update the belief about which model is best.
"""

from __future__ import annotations

from .clones import find_clone_groups, group_votes
from .dawid_skene import ConsensusUnavailable, DawidSkeneResult, dawid_skene
from .metric import expected_metric, metric_interval
from .permutation import PermutationCheck, check_permutation, detect_permutations
from .selection import LabelLoop, LoopRanking, SimulationResult, simulate

__all__ = [
    "ConsensusUnavailable",
    "DawidSkeneResult",
    "LabelLoop",
    "LoopRanking",
    "PermutationCheck",
    "SimulationResult",
    "check_permutation",
    "dawid_skene",
    "detect_permutations",
    "expected_metric",
    "find_clone_groups",
    "group_votes",
    "metric_interval",
    "simulate",
]
