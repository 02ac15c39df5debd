"""Model and dataset cards of the zoo, in the Hub's format (YAML front matter + markdown).

The front matter is produced by `huggingface_hub`'s `ModelCardData` / `DatasetCardData`, so the ``model-index``
block is exactly what the Hub writes and parses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from huggingface_hub import DatasetCardData, EvalResult, ModelCardData

#: Tag put on every model and dataset written by the zoo builder.
ZOO_TAG = "hfsearch-zoo"


@dataclass
class ModelCardInfo:
    """What a zoo model card says.

    Args:
        repo_id (`str`): the model's registry id (``org/name``).
        task (`str`): pipeline tag (``"text-classification"``).
        architecture (`str`): zoo architecture name (``"tiny-bert"``).
        description (`str`): one line about the architecture.
        datasets (`list[str]`): registry ids of the source datasets.
        results (`dict[str, dict[str, float]]`): metrics on each source dataset's test split, keyed by dataset id.
        training (`dict[str, Any]`): training facts listed in the card (rows, epochs, seed, label noise…).
        label_names (`list[str]`): class names, in id order.
        license (`str`, *optional*): licence identifier of the weights.
        language (`list[str]`, *optional*): languages of the training data.
        tags (`list[str]`, *optional*): extra tags.
        base_model (`str`, *optional*): the checkpoint that was fine-tuned, if any.
    """

    repo_id: str
    task: str
    architecture: str
    description: str
    datasets: list[str]
    results: dict[str, dict[str, float]]
    training: dict[str, Any]
    label_names: list[str]
    license: str = "apache-2.0"
    language: list[str] = field(default_factory=lambda: ["en"])
    tags: list[str] = field(default_factory=list)
    base_model: str | None = None


def _front_matter(data: ModelCardData | DatasetCardData) -> str:
    return f"---\n{data.to_yaml()}\n---\n"


def _name(repo_id: str) -> str:
    return repo_id.split("/")[-1]


def render_model_card(info: ModelCardInfo) -> str:
    """The README.md of a zoo model: Hub metadata (``datasets``, ``model-index``…) and a short description.

    Example:

    ```python
    >>> text = render_model_card(ModelCardInfo(
    ...     repo_id="zoo/tiny", task="text-classification", architecture="tiny-bert", description="a small BERT",
    ...     datasets=["zoo/uci_amazon"], results={"zoo/uci_amazon": {"accuracy": 0.8}}, training={"seed": 0},
    ...     label_names=["negative", "positive"]))
    >>> "pipeline_tag: text-classification" in text and "value: 0.8" in text
    True
    ```
    """
    eval_results = [
        EvalResult(
            task_type=info.task,
            dataset_type=dataset,
            dataset_name=_name(dataset),
            dataset_split="test",
            metric_type=metric,
            metric_value=round(value, 4),
        )
        for dataset, metrics in info.results.items()
        for metric, value in metrics.items()
    ]
    data = ModelCardData(
        model_name=info.repo_id,
        pipeline_tag=info.task,
        library_name="transformers",
        license=info.license,
        language=info.language,
        datasets=info.datasets,
        tags=[ZOO_TAG, info.architecture, *info.tags],
        base_model=info.base_model,
        eval_results=eval_results,
    )
    return _front_matter(data) + _model_body(info)


def _model_body(info: ModelCardInfo) -> str:
    lines = [
        f"# {_name(info.repo_id)}",
        "",
        (
            f"A `{info.task}` model ({info.description}) trained on {', '.join(f'`{d}`' for d in info.datasets)} "
            "by the hfsearch zoo builder: a real candidate for model search, not a production model."
        ),
        "",
        f"Labels: {', '.join(f'{i} = `{n}`' for i, n in enumerate(info.label_names))}.",
        "",
        "## Training",
        "",
        f"- architecture: `{info.architecture}`"
        + (f" (fine-tuned from `{info.base_model}`)" if info.base_model else ""),
        *(f"- {key.replace('_', ' ')}: {_fmt(value)}" for key, value in info.training.items()),
        "",
        "## Evaluation (test split of each source dataset)",
        "",
    ]
    metrics = sorted({m for result in info.results.values() for m in result})
    lines.append("| dataset | " + " | ".join(metrics) + " |")
    lines.append("|---|" + "---|" * len(metrics))
    for dataset, result in info.results.items():
        lines.append(f"| {dataset} | " + " | ".join(_fmt(result.get(m, "")) for m in metrics) + " |")
    return "\n".join(lines) + "\n"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_fmt(v)}" for k, v in value.items()) or "-"
    if isinstance(value, (list, tuple)):
        return ", ".join(_fmt(v) for v in value)
    return "-" if value is None else str(value)


def size_category(n_rows: int) -> str:
    """The Hub's ``size_categories`` bucket of a dataset with `n_rows` rows."""
    for bound, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n_rows < bound:
            return label
    return "n>1M"


def render_dataset_card(
    repo_id: str,
    task: str,
    split_sizes: Mapping[str, int],
    license: str,
    source: str,
    language: Sequence[str] = ("en",),
) -> str:
    """The README.md of a zoo dataset repository: Hub metadata, splits and the SOURCE note (origin, licence)."""
    data = DatasetCardData(
        pretty_name=_name(repo_id),
        license=license,
        language=list(language),
        task_categories=[task],
        size_categories=[size_category(sum(split_sizes.values()))],
        tags=[ZOO_TAG],
    )
    lines = [
        f"# {_name(repo_id)}",
        "",
        "## Splits",
        "",
        *(f"- `{split}`: {n} rows" for split, n in split_sizes.items()),
        "",
        "## Source",
        "",
        source.strip() or "No source note was given.",
    ]
    return _front_matter(data) + "\n".join(lines) + "\n"
