"""The `Candidate`: one checkpoint that may be recommended, with the metadata discovery found for it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .reported import ReportedResult

#: Where a candidate can leave a search: discovery filters, label alignment, or a failure while it runs.
SkipStage = Literal["filter", "download", "align", "load", "inference", "timeout", "budget"]


@dataclass
class Candidate:
    """A candidate checkpoint.

    Args:
        repo_id (`str`): ``org/name`` on the Hub or in the local registry.
        sha (`str`, *optional*): commit hash the outputs are cached under.
        task (`str`): the hfsearch task (``text-classification``…).
        path (`str`, *optional*): local folder holding the checkpoint (local registry); ``None`` for Hub models.
        id2label (`dict[int, str]`, *optional*): from the model's ``config.json``.
        datasets (`list[str]`): datasets declared in the card's ``datasets:`` metadata (its source data).
        num_params (`int`, *optional*): parameter count (safetensors metadata).
        weights_bytes (`int`, *optional*): size of the safetensors weights, from the parameter count per dtype.
        downloads, likes (`int`, *optional*): Hub popularity.
        license, language, library_name, tags: card metadata.
        has_safetensors (`bool`): the repo holds ``*.safetensors`` weights.
        custom_code (`bool`): the model needs ``trust_remote_code``.
        source_accuracy (`float`, *optional*): accuracy reported in the card's ``model-index`` (source test split).
        label_map (`dict[int, int]`, *optional*): model label index → target label index, set by label alignment.
        eval_files (`list[str]`): the repository's ``.eval_results/*.yaml`` files (found at discovery).
        reported (`list[ReportedResult]`): results the model reports (``model-index`` at discovery; ``.eval_results``
            and the target's leaderboard added by `hfsearch.candidates.reported.attach_reported`).
        reported_checked (`list[str]`): what `attach_reported` looked at (said when no result is found).
        target_dataset, target_config, target_split (`str`, *optional*): the search's target, as a Hub dataset id
            with its config and split (``target_dataset`` is ``None`` for a local path); set by `attach_reported`.
    """

    repo_id: str
    task: str
    sha: str | None = None
    path: str | None = None
    id2label: dict[int, str] | None = None
    datasets: list[str] = field(default_factory=list)
    num_params: int | None = None
    weights_bytes: int | None = None
    downloads: int | None = None
    likes: int | None = None
    license: str | None = None
    language: list[str] = field(default_factory=list)
    library_name: str | None = None
    tags: list[str] = field(default_factory=list)
    has_safetensors: bool = False
    custom_code: bool = False
    source_accuracy: float | None = None
    label_map: dict[int, int] | None = None
    config: dict[str, Any] = field(default_factory=dict, repr=False)
    eval_files: list[str] = field(default_factory=list)
    reported: list[ReportedResult] = field(default_factory=list, repr=False)
    reported_checked: list[str] = field(default_factory=list, repr=False)
    target_dataset: str | None = None
    target_config: str | None = None
    target_split: str | None = None

    @property
    def location(self) -> str:
        """What ``from_pretrained`` is given: the local folder or the repo id."""
        return self.path or self.repo_id

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("config", None)
        return d


@dataclass
class Skipped:
    """A candidate that was not scored, and why (filtered out, unalignable, failed to load or run)."""

    repo_id: str
    stage: SkipStage
    reason: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)
