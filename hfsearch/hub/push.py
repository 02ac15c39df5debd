"""Share results on the Hub: a search result or a benchmark becomes a dataset repository.

`push_result` writes the ranking (``ranking.parquet`` and ``result.json``), the exact command and configuration with
the library versions (``config.json``) and a card (``README.md``, see `hfsearch.hub.cards`); `push_bench` does the same
for the outputs of ``hfsearch bench`` (``results.json``, ``report.md``, ``plots/``, plus ``leaderboard.parquet``).
Both go through the real ``huggingface_hub.HfApi`` (``create_repo`` then one ``create_commit``), so they work against
the Hub, any ``HF_ENDPOINT`` and the test stand-in alike.

The token travels in the ``Authorization`` header only: it is scrubbed from the command and configuration written to
the repository, never logged, and never part of an error message.

```python
>>> import hfsearch
>>> result = hfsearch.find("text-classification", "imdb")
>>> result.push_to_hub("my-org/imdb-model-search")  # doctest: +SKIP
CommitInfo(commit_url='https://huggingface.co/datasets/my-org/imdb-model-search/commit/…', …)
```
"""

from __future__ import annotations

import dataclasses
import io
import json
import platform
import re
import shlex
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import HubError
from ..utils.logging import get_logger
from .cards import bench_card, result_card

if TYPE_CHECKING:
    from huggingface_hub import CommitInfo

    from ..bench.run import BenchResult
    from ..rank.result import SearchResult

logger = get_logger(__name__)

#: Libraries whose versions are written next to every pushed result.
VERSIONED = (
    "hfsearch",
    "huggingface_hub",
    "transformers",
    "torch",
    "datasets",
    "accelerate",
    "evaluate",
    "numpy",
    "scikit-learn",
)
#: Configuration keys whose values are secrets (written as ``"***"`` when set).
SECRET_KEYS = {"token", "hf_token", "use_auth_token", "api_key", "password"}
_TOKEN_PATTERN = re.compile(r"hf_[A-Za-z0-9]{10,}")
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries a result depends on (and Python's)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in VERSIONED:
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def redact(value: Any, secrets: list[str]) -> Any:
    """`value` (JSON-like) with every secret replaced by ``"***"``: values of `SECRET_KEYS`, the strings in
    `secrets`, and anything shaped like a Hugging Face token (``hf_…``)."""
    if isinstance(value, dict):
        return {
            k: ("***" if str(k).lower() in SECRET_KEYS and value[k] not in (None, False, "") else redact(v, secrets))
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [redact(v, secrets) for v in value]
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, "***")
        return _TOKEN_PATTERN.sub("***", value)
    return value


def _command_line(command: str | list[str] | tuple[str, ...] | None) -> str | None:
    if command is None:
        return None
    return command if isinstance(command, str) else shlex.join(str(c) for c in command)


def _config_dict(config: Any) -> Any:
    if config is None or isinstance(config, dict):
        return config
    if hasattr(config, "to_dict"):  # SearchConfig: every option but the token
        return config.to_dict()
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return dataclasses.asdict(config)
    return vars(config)


def _hub_url(endpoint: str | None) -> str:
    from huggingface_hub import constants

    return (endpoint or constants.ENDPOINT).rstrip("/")


def _commit(
    files: dict[str, bytes | Path],
    repo_id: str,
    *,
    message: str,
    token: str | bool | None,
    endpoint: str | None,
    private: bool,
) -> CommitInfo:
    """Create the dataset repository if needed and commit `files` (repository path → content) in one commit."""
    from huggingface_hub import CommitOperationAdd, HfApi
    from huggingface_hub.errors import HfHubHTTPError

    if not _REPO_ID.match(repo_id or ""):
        raise HubError(f"Cannot push to {repo_id!r}: give the repository as ORG/NAME, e.g. my-org/imdb-model-search.")
    secrets = [token] if isinstance(token, str) and token else []
    api = HfApi(endpoint=endpoint, token=token)
    operations = [CommitOperationAdd(path_in_repo=path, path_or_fileobj=content) for path, content in files.items()]
    try:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        info = api.create_commit(repo_id, operations=operations, commit_message=message, repo_type="dataset")
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status in (401, 403):
            raise HubError(
                f"Cannot push to {repo_id} on {_hub_url(endpoint)}: a token with write access is needed "
                "(set HF_TOKEN, run `hf auth login`, or pass token=)."
            ) from None
        said = (getattr(exc, "server_message", None) or "").strip() or str(exc).strip() or type(exc).__name__
        raise HubError(f"Cannot push to {repo_id}: HTTP {status}: {redact(said.splitlines()[0], secrets)}") from None
    except Exception as exc:  # noqa: BLE001 - connection refused, offline mode, invalid metadata: one line, no token
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise HubError(f"Cannot push to {repo_id} on {_hub_url(endpoint)}: {redact(first, secrets)}") from None
    logger.info("pushed %d files to %s", len(files), info.repo_url)
    return info


def _json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n").encode()


def push_result(
    result: SearchResult,
    repo_id: str,
    *,
    command: str | list[str] | None = None,
    config: Any = None,
    token: str | bool | None = None,
    endpoint: str | None = None,
    private: bool = False,
) -> CommitInfo:
    """Push a search result to a dataset repository on the Hub.

    Writes ``ranking.parquet`` (the ranking table), ``result.json`` (the whole result), ``config.json`` (the command,
    the configuration and the library versions) and ``README.md`` (a card: task, target dataset and split,
    candidates, scores, the recommended model with links). ``load_dataset(repo_id, split="ranking")`` reads the table.

    Args:
        result ([`SearchResult`]):
            What `hfsearch.find` returned.
        repo_id (`str`):
            ``ORG/NAME`` of the dataset repository (created if missing; pushed again, it gets a new commit).
        command (`str` or `list[str]`, *optional*):
            The command line that produced the result (e.g. ``sys.argv``), written to the card and ``config.json``.
        config (`SearchConfig` or `dict`, *optional*):
            The search configuration, written to ``config.json``.
        token (`str` or `bool`, *optional*):
            Hub token with write access (default: ``HF_TOKEN`` or the saved login). Never written anywhere.
        endpoint (`str`, *optional*):
            Hub endpoint (default: ``HF_ENDPOINT`` or huggingface.co).
        private (`bool`, *optional*, defaults to `False`):
            Create the repository private (an existing repository keeps its visibility).

    Returns:
        `huggingface_hub.CommitInfo`: a string (the commit URL) with ``.oid`` and ``.repo_url``.

    Raises:
        `HubError`: bad repository id, no token with write access, or the Hub refused (one line, no token).
    """
    secrets = [token] if isinstance(token, str) and token else []
    data = result.to_dict()
    data["ground_truth"] = result.ground_truth
    versions = library_versions()
    line = redact(_command_line(command), secrets)
    settings = _config_dict(config if config is not None else result.config)
    local = isinstance(settings, dict) and bool(settings.get("hub_dir"))  # ids of a local registry: no Hub links
    buf = io.BytesIO()
    result.ranking.to_parquet(buf, index=False)
    files: dict[str, bytes | Path] = {
        "README.md": result_card(
            result, repo_id=repo_id, endpoint=None if local else _hub_url(endpoint), command=line, versions=versions
        ).encode(),
        "ranking.parquet": buf.getvalue(),
        "result.json": _json_bytes(redact(data, secrets)),
        "config.json": _json_bytes({"command": line, "config": redact(settings, secrets), "versions": versions}),
    }
    best = f": {result.best} recommended" if result.best else ""
    message = f"hfsearch: {result.task} ranking for {result.dataset} ({result.split}){best}"
    return _commit(files, repo_id, message=message, token=token, endpoint=endpoint, private=private)


def _leaderboard_parquet(results: dict[str, Any]) -> bytes:
    import pandas as pd

    rows = []
    for s in results.get("leaderboard") or []:
        row = {k: s.get(k) for k in ("rank", "scorer", "kind", "higher_is_better", "coverage", "n_targets")}
        for grade in ("regret", "top1", "kendall_tau", "spearman_rho"):
            for part in ("mean", "low", "high"):
                row[f"{grade}_{part}"] = (s.get(grade) or {}).get(part)
        rows.append(row)
    buf = io.BytesIO()
    pd.DataFrame(rows).to_parquet(buf, index=False)
    return buf.getvalue()


def push_bench(
    bench: BenchResult | str | Path,
    repo_id: str,
    *,
    command: str | list[str] | None = None,
    token: str | bool | None = None,
    endpoint: str | None = None,
    private: bool = False,
    plots: bool = True,
) -> CommitInfo:
    """Push the outputs of ``hfsearch bench`` to a dataset repository on the Hub.

    Writes ``results.json``, ``report.md`` and ``plots/*.png`` as the benchmark wrote them, ``leaderboard.parquet``
    (one row per scorer: regret, top-1, Kendall tau, Spearman rho with their intervals), ``config.json`` (command,
    workload, versions) and ``README.md`` (a card with the leaderboard and the plots).

    Args:
        bench ([`BenchResult`], `str` or `Path`):
            A benchmark result, or the ``--output`` folder of ``hfsearch bench`` (holding ``results.json``).
        repo_id (`str`):
            ``ORG/NAME`` of the dataset repository (created if missing).
        command (`str` or `list[str]`, *optional*):
            The command line that ran the benchmark.
        token, endpoint, private:
            As for `push_result`.
        plots (`bool`, *optional*, defaults to `True`):
            Draw the plots when `bench` is a result object (a folder is pushed with whatever plots it holds).

    Returns:
        `huggingface_hub.CommitInfo`.

    Raises:
        `HubError`: the folder holds no ``results.json``, or as for `push_result`.
    """
    if not isinstance(bench, (str, Path)):
        from ..bench.report import write_report

        with tempfile.TemporaryDirectory(prefix="hfsearch-bench-") as tmp:
            write_report(bench, tmp, plots=plots)
            return push_bench(tmp, repo_id, command=command, token=token, endpoint=endpoint, private=private)
    folder = Path(bench)
    if not (folder / "results.json").is_file():
        raise HubError(f"No results.json in {folder}: pass the --output folder of `hfsearch bench`.")
    secrets = [token] if isinstance(token, str) and token else []
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    versions = {**library_versions(), **{k: str(v) for k, v in (results.get("environment") or {}).items()}}
    line = redact(_command_line(command), secrets)
    files: dict[str, bytes | Path] = {"results.json": folder / "results.json"}
    if (folder / "report.md").is_file():
        files["report.md"] = folder / "report.md"
    plot_paths = (
        sorted(p.relative_to(folder).as_posix() for p in (folder / "plots").rglob("*.png"))
        if (folder / "plots").is_dir()
        else []
    )
    files.update({p: (folder / p).read_bytes() for p in plot_paths})
    files["leaderboard.parquet"] = _leaderboard_parquet(results)
    files["config.json"] = _json_bytes(
        {"command": line, "workload": redact(results.get("workload"), secrets), "versions": versions}
    )
    top = [p for p in plot_paths if "/" not in p.removeprefix("plots/")]
    files["README.md"] = bench_card(results, repo_id=repo_id, command=line, versions=versions, plots=top).encode()
    name = (results.get("workload") or {}).get("name", "benchmark")
    return _commit(files, repo_id, message=f"hfsearch bench: {name}", token=token, endpoint=endpoint, private=private)
