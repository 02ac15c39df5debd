"""Every option of a search, declared once.

`SearchConfig` is the one declaration of a search's options: each field carries its type, default, help text,
choices and limits (see `option`). Everything else is generated from it or validated by it:

- the CLI flags of ``hfsearch find`` (`add_arguments`, `SearchConfig.from_args`);
- the keyword arguments of `hfsearch.find` (`SearchConfig.create`: unknown keywords get a did-you-mean);
- the Space's form (`hfsearch.app`: the fields that have a ``label``);
- the benchmark's searches (`hfsearch.bench.run`).

A bad value is reported by the name the caller knows the option by: the flag (``--batch-size``) on the command line,
the keyword (``batch_size``) in Python, the field label (``Batch size``) in the Space.

```python
>>> from hfsearch.config import SearchConfig
>>> cfg = SearchConfig.create(task="text-classification", dataset="imdb", batch_size="16", labels="neg,pos")
>>> cfg.batch_size, cfg.labels
(16, ['neg', 'pos'])
>>> SearchConfig.create(task="text-classification", dataset="imdb", batch_size=0)
Traceback (most recent call last):
...
hfsearch.errors.ConfigError: batch_size must be at least 1 (got 0).
```
"""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from . import constants
from .errors import ConfigError
from .options import (  # noqa: F401  (re-exported: the CLI, find's docstring and the Space use them)
    GROUPS,
    Option,
    Via,
    add_arguments,
    coerce,
    describe_options,
    iter_form_options,
    option,
)

#: Scorers shown when none are chosen, besides the accuracy estimators that ``--rank-by auto`` (the default) combines:
#: the paper's asymmetric measure, a symmetric divergence, two label-free baselines and the popularity prior.
DEFAULT_SCORES = ("adaptivity", "jsd", "confidence", "agreement", "popularity")


@dataclass
class SearchConfig:
    """Every option of a search. Build one with `SearchConfig.create` (validated), or directly and call `validate`."""

    # ---- target data
    task: str = option(
        "",
        kind="str",
        group="target data",
        flag="--task",
        label="Task",
        required=True,
        help="task, e.g. text-classification (see `hfsearch tasks`)",
    )
    dataset: str = option(
        "",
        kind="str",
        group="target data",
        flag="--dataset",
        label="Dataset",
        required=True,
        help="Hub dataset id, local registry id, data folder/file or save_to_disk folder",
    )
    config: str | None = option(
        kind="str", group="target data", flag="--config", label="Config", help="dataset config name"
    )
    split: str | None = option(
        kind="str", group="target data", flag="--split", label="Split", help="split (default: test, else the first)"
    )
    column: list[str] | None = option(
        kind="list",
        group="target data",
        flag="--column",
        label="Input column(s)",
        help="input column(s), comma-separated for pairs (default: auto-detect)",
    )
    encoding: str | None = option(
        kind="str",
        group="target data",
        flag="--encoding",
        help="text encoding of local csv/json files (default: utf-8), e.g. latin-1",
    )
    local_dataset: bool | None = option(
        kind="bool",
        group="target data",
        help="True: the dataset is a local file or folder, read even with hub_dir; "
        "False: an id only, never read from disk (default: a path if it exists)",
    )
    labels: list[str] | None = option(
        kind="list",
        group="target data",
        flag="--labels",
        label="Target class names",
        help="target class names, comma-separated, when the dataset does not declare them",
    )
    samples: int = option(
        constants.DEFAULT_SAMPLES,
        kind="int",
        group="target data",
        flag="--samples",
        label="Samples",
        minimum=1,
        help="target rows sampled (seeded by --seed)",
    )
    seed: int = option(
        constants.DEFAULT_SEED,
        kind="int",
        group="target data",
        flag="--seed",
        minimum=0,
        help="seed of every random choice",
    )
    source_samples: int = option(
        1000,
        kind="int",
        group="target data",
        flag="--source-samples",
        minimum=1,
        help="rows sampled from each candidate's declared training data (similarity scores)",
    )
    heldout_samples: int = option(
        400,
        kind="int",
        group="target data",
        flag="--heldout-samples",
        minimum=1,
        help="labeled held-out rows of each candidate's declared data (accuracy estimators)",
    )
    window: int | None = option(
        kind="int",
        group="target data",
        flag="--window",
        minimum=1,
        task_option=True,
        help="time series: cut each recording into windows of N time steps",
    )
    stride: int | None = option(
        kind="int",
        group="target data",
        flag="--stride",
        minimum=1,
        task_option=True,
        help="time series: steps between window starts (default: --window)",
    )
    # ---- candidates
    models: list[str] | None = option(
        kind="list",
        group="candidates",
        flag="--models",
        label="Explicit model list",
        help="explicit repo ids, comma-separated (bypasses the Hub query)",
    )
    author: str | None = option(
        kind="str",
        group="candidates",
        flag="--author",
        label="Author / organisation",
        help="only models of this author/organisation",
    )
    search: str | None = option(
        kind="str",
        group="candidates",
        flag="--search",
        label="Name contains",
        help="only models whose id contains this text",
    )
    max_models: int = option(
        constants.DEFAULT_MAX_MODELS,
        kind="int",
        group="candidates",
        flag="--max-models",
        label="Candidates",
        minimum=1,
        help="candidates kept after filtering",
    )
    max_params: int | None = option(
        constants.DEFAULT_MAX_PARAMS,
        kind="int",
        group="candidates",
        flag="--max-params",
        minimum=1,
        metavar="N",
        help="parameter cap (5e8 is accepted)",
    )
    licenses: list[str] | None = option(
        kind="list", group="candidates", flag="--license", help="keep only these licences, comma-separated"
    )
    languages: list[str] | None = option(
        kind="list", group="candidates", flag="--language", help="keep only these languages, comma-separated"
    )
    allow_pickle: bool = option(
        False, kind="bool", group="candidates", flag="--allow-pickle", help="allow non-safetensors (pickle) weights"
    )
    allow_custom_code: bool = option(
        False,
        kind="bool",
        group="candidates",
        flag="--allow-custom-code",
        help="keep models that declare custom code (never run)",
    )
    hub_dir: str | None = option(
        kind="str",
        group="candidates",
        flag="--hub-dir",
        label="Local registry folder (hub_dir)",
        help="local registry folder laid out like the Hub (air-gapped/private use)",
    )
    endpoint: str | None = option(
        kind="str",
        group="candidates",
        flag="--endpoint",
        label="Hub endpoint",
        help="Hub endpoint (default: HF_ENDPOINT or huggingface.co)",
    )
    token: str | bool | None = option(
        kind="token", group="candidates", help="Hub token (default: HF_TOKEN); never logged or serialised"
    )
    # ---- scoring
    scores: list[str] = option(
        kind="list",
        group="scoring",
        flag="--scores",
        label="Scorers",
        factory=lambda: list(DEFAULT_SCORES),
        help="scorers, comma-separated, NAME or NAME:SPACE (see `hfsearch scorers`)",
    )
    score_params: dict[str, dict[str, Any]] = option(
        kind="params",
        group="scoring",
        flag="--score-param",
        factory=dict,
        metavar="SCORER.PARAM=VALUE",
        help="scorer parameter (repeatable)",
    )
    rank_by: str | None = option(
        kind="str",
        group="scoring",
        flag="--rank-by",
        label="Rank by",
        help="what orders the ranking: auto (the predicted metric: the accuracy estimators "
        "combined, with an interval) or one of the scores (default: auto)",
    )
    metric: str | None = option(
        kind="str",
        group="scoring",
        flag="--metric",
        choices=("accuracy", "f1"),
        help="what the estimators predict: accuracy, or F1 (binary: of the last class; "
        "token classification: entity F1) (default: the task's first metric)",
    )
    # ---- labels
    label_budget: int = option(
        0,
        kind="int",
        group="labels",
        flag="--label-budget",
        label="Labels you can give",
        minimum=0,
        metavar="N",
        help="after the label-free ranking, ask for up to N labels of the most informative "
        "target rows and update the ranking (0: label-free)",
    )
    label_column: str | None = option(
        kind="str",
        group="labels",
        flag="--label-column",
        metavar="COL",
        help="with --label-budget: read the asked labels from this column of the data "
        "(only the asked rows; without it, hfsearch asks you in the terminal)",
    )
    # ---- inference
    batch_size: int = option(
        constants.DEFAULT_BATCH_SIZE,
        kind="int",
        group="inference",
        flag="--batch-size",
        minimum=1,
        help="rows per forward pass",
    )
    max_length: int = option(
        constants.DEFAULT_MAX_LENGTH,
        kind="int",
        group="inference",
        flag="--max-length",
        minimum=1,
        help="truncation length of text, in tokens",
    )
    device: str | None = option(
        kind="str",
        group="inference",
        flag="--device",
        choices=("auto", "cpu", "cuda"),
        help="where models run: auto (a GPU when present), cpu or cuda",
    )
    candidate_timeout: int | None = option(
        kind="int",
        group="inference",
        flag="--candidate-timeout",
        minimum=1,
        metavar="SECONDS",
        help="skip a candidate still running after this many seconds (download, "
        "load and inference; checked between batches) and go on with the "
        "others (default: no limit)",
    )
    budget: str = option(
        "auto",
        kind="str",
        group="inference",
        flag="--budget",
        choices=("auto", "full"),
        help="auto: from 20 candidates on, run every candidate on a small seeded slice first, drop "
        "those whose predicted accuracy cannot reach the leader's, grow the slice for the rest "
        "(early elimination; smaller pools run in full); full: every candidate over the whole sample",
    )
    max_time: int | None = option(
        kind="int",
        group="inference",
        flag="--max-time",
        minimum=1,
        metavar="SECONDS",
        help="start no candidate after this many seconds: the best answer so far is "
        "returned and the candidates not tried are listed",
    )
    max_download: int | None = option(
        kind="int",
        group="inference",
        flag="--max-download",
        minimum=1,
        metavar="BYTES",
        byte_units=True,
        help="fetch at most this many bytes of weights in all "
        "(500MB, 5GB, 2GiB or 5e9); candidates that would exceed it are "
        "listed as not tried",
    )
    use_cache: bool = option(
        True,
        kind="bool",
        group="inference",
        flag="--no-cache",
        negate=True,
        help="do not read or write the output cache",
    )
    cache_dir: str | None = option(
        kind="str",
        group="inference",
        flag="--cache-dir",
        help="output cache folder (default: HFSEARCH_CACHE or the HF assets cache)",
    )
    progress: bool = option(
        True,
        kind="bool",
        group="inference",
        help="show progress bars (the CLI decides from the terminal and the output format)",
    )

    # ---- construction and validation ---------------------------------------------------------------------------
    @classmethod
    def create(cls, via: Via = "keyword", limits: Mapping[str, float] | None = None, **values: Any) -> SearchConfig:
        """A validated config from option values as a caller of kind `via` gives them.

        Values are coerced (``"16"`` → 16, ``"a,b"`` → ``["a", "b"]``, ``5e8`` → 500000000); ``None`` keeps the default.

        Args:
            via (`str`): ``"keyword"`` (Python), ``"flag"`` (CLI) or ``"field"`` (Space form): how errors name options.
            limits (`Mapping[str, float]`, *optional*): extra upper bounds of this caller (a shared Space's caps).
            **values: option values by keyword.

        Raises:
            `ConfigError`: an unknown option (with a did-you-mean), a value of the wrong type, out of range or in
                conflict with another option.
        """
        opts = options()
        unknown = [k for k in values if k not in opts]
        if unknown:
            close = difflib.get_close_matches(unknown[0], list(opts), n=1, cutoff=0.6)
            hint = f" Did you mean {close[0]!r}?" if close else f" Options: {', '.join(opts)}."
            raise ConfigError(f"Unknown search option {unknown[0]!r}.{hint}")
        kwargs = {}
        for name, value in values.items():
            coerced = coerce(opts[name], value, via)
            if coerced is not None:
                kwargs[name] = coerced
        cfg = cls(**kwargs)
        cfg.validate(via, limits=limits)
        return cfg

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> SearchConfig:
        """The config of parsed CLI arguments (from a parser built with `add_arguments`)."""
        values = {o.name: getattr(args, o.name) for o in options().values() if o.flag and hasattr(args, o.name)}
        return cls.create("flag", **{k: v for k, v in values.items() if v is not None})

    def validate(self, via: Via = "keyword", *, limits: Mapping[str, float] | None = None) -> SearchConfig:
        """Check every value and the options that conflict; returns `self`.

        Raises:
            `ConfigError`: naming the option as the caller knows it (see `Option.name_for`).
        """
        opts = options()
        for o in opts.values():
            value = getattr(self, o.name)
            name = o.name_for(via)
            if o.required and (value is None or (isinstance(value, str) and not value.strip())):
                raise ConfigError(f"{name} is required.")
            if value is None:
                continue
            if o.kind == "int":
                if isinstance(value, bool) or not isinstance(value, int):
                    raise ConfigError(f"{name} must be a whole number (got {value!r}).")
                if o.minimum is not None and value < o.minimum:
                    raise ConfigError(f"{name} must be at least {o.minimum:g} (got {value}).")
                if o.maximum is not None and value > o.maximum:
                    raise ConfigError(f"{name} must be at most {o.maximum:g} (got {value}).")
            if o.choices is not None and value not in o.choices:
                raise ConfigError(f"{name} must be one of {', '.join(map(str, o.choices))} (got {value!r}).")
            if limits and o.name in limits and isinstance(value, int) and value > limits[o.name]:
                raise ConfigError(
                    f"{name}: this app allows at most {limits[o.name]:g} (got {value}); run "
                    "`hfsearch find` on your own machine for more."
                )
        if not self.scores:
            raise ConfigError(f"{opts['scores'].name_for(via)}: select at least one scorer.")
        if self.models and (self.author or self.search):
            given = opts["author" if self.author else "search"].name_for(via)
            raise ConfigError(
                f"{opts['models'].name_for(via)} lists the candidates explicitly, so {given} would be "
                "ignored: give one or the other."
            )
        if self.stride is not None and self.window is None:
            raise ConfigError(f"{opts['stride'].name_for(via)} needs {opts['window'].name_for(via)}.")
        if self.label_column is not None and not self.label_budget:
            raise ConfigError(
                f"{opts['label_column'].name_for(via)} is only read with "
                f"{opts['label_budget'].name_for(via)} N (N labels at most): give both or neither."
            )
        if self.label_column is not None and self.column and self.label_column in self.column:
            raise ConfigError(
                f"{opts['label_column'].name_for(via)} {self.label_column!r} is also an input column "
                f"({opts['column'].name_for(via)}): the labels cannot be an input."
            )
        if self.label_budget and self.rank_by not in (None, "auto"):
            raise ConfigError(
                f"{opts['label_budget'].name_for(via)} updates the predicted accuracy, which orders the "
                f"ranking only with {opts['rank_by'].name_for(via)} auto (the default): drop "
                f"{opts['rank_by'].name_for(via)} {self.rank_by}."
            )
        if self.label_budget and self.metric == "f1":
            raise ConfigError(
                f"{opts['label_budget'].name_for(via)} updates the predicted accuracy only: use "
                f"{opts['metric'].name_for(via)} accuracy (or no labels)."
            )
        if self.rank_by is not None and self.rank_by != "auto":
            from .scores import parse_scorers

            columns = [s.column for s in parse_scorers(self.scores, self.score_params)]
            if self.rank_by not in columns:
                raise ConfigError(
                    f"{opts['rank_by'].name_for(via)} {self.rank_by!r} is not among the chosen scores: "
                    f"{', '.join(columns)} (or auto)."
                )
        return self

    # ---- views -------------------------------------------------------------------------------------------------
    def task_options(self) -> dict[str, Any]:
        """The options of the task adapter that are set (``window``, ``stride``)."""
        return {
            o.name: getattr(self, o.name)
            for o in options().values()
            if o.task_option and getattr(self, o.name) is not None
        }

    def to_dict(self) -> dict[str, Any]:
        """Every option's value, JSON-ready; the token is never included (only whether one was given)."""
        out: dict[str, Any] = {}
        for o in options().values():
            value = getattr(self, o.name)
            out[o.name] = ("set" if value else None) if o.kind == "token" else value
        return out

    def replace(self, **changes: Any) -> SearchConfig:
        """A validated copy with some options changed (keyword names)."""
        return SearchConfig.create("keyword", **{**{f.name: getattr(self, f.name) for f in fields(self)}, **changes})


def options() -> dict[str, Option]:
    """Every declared option, by keyword, in declaration order."""
    return _OPTIONS


def _declared() -> dict[str, Option]:
    out = {}
    for f in fields(SearchConfig):
        spec = dict(f.metadata["option"])
        out[f.name] = Option(name=f.name, **spec)
    return out


_OPTIONS = _declared()
