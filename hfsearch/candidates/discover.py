"""Discovery: which checkpoints are candidates.

Three sources, one code path (everything becomes a ``huggingface_hub.ModelInfo`` first):
- the Hub (or any ``HF_ENDPOINT``) through ``HfApi.list_models`` / ``HfApi.model_info``;
- an explicit list of repo ids (``--models``), which bypasses the query;
- a local registry folder laid out like the Hub (``--hub-dir``, see `hfsearch.hub.layout`).
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from huggingface_hub import HfApi, ModelInfo, hf_hub_download

from ..errors import HubError
from ..hub import layout
from ..hub.ids import check_repo_id, repo_id_problem
from ..utils.logging import get_logger
from .candidate import Candidate, Skipped
from .reported import EVAL_RESULTS_DIR, as_fraction, model_index_results

if TYPE_CHECKING:
    from huggingface_hub.hf_api import ExpandModelProperty_T

logger = get_logger(__name__)

#: What ``list_models`` / ``model_info`` are asked to expand.
EXPAND: list[ExpandModelProperty_T] = [
    "cardData",
    "safetensors",
    "downloads",
    "likes",
    "library_name",
    "tags",
    "sha",
    "pipeline_tag",
    "siblings",
    "config",
]


@dataclass
class Filters:
    """Filters applied to every candidate (on by default, as safe defaults).

    Args:
        safetensors_only (`bool`): keep only repos with ``*.safetensors`` weights (pickle-free loading).
        max_params (`int`, *optional*): drop models with more parameters (unknown counts pass).
        allow_custom_code (`bool`): keep models that need ``trust_remote_code`` (they are still never run with it).
        licenses (`list[str]`, *optional*): keep only these licences (``mit``, ``apache-2.0``…).
        languages (`list[str]`, *optional*): keep only models whose card lists one of these languages.
    """

    safetensors_only: bool = True
    max_params: int | None = 500_000_000
    allow_custom_code: bool = False
    licenses: list[str] | None = None
    languages: list[str] | None = None

    def reason(self, c: Candidate) -> str | None:
        """Why `c` is filtered out, or ``None`` if it passes."""
        if c.custom_code and not self.allow_custom_code:
            return "needs custom code (trust_remote_code), which hfsearch never runs"
        if self.safetensors_only and not c.has_safetensors:
            return "no safetensors weights (pass --allow-pickle to allow .bin files)"
        if self.max_params is not None and c.num_params is not None and c.num_params > self.max_params:
            return f"{c.num_params:,} parameters > --max-params {self.max_params:,}"
        if self.licenses and not {x.strip().lower() for x in (c.license or "").split(",")} & {
            x.strip().lower() for x in self.licenses
        }:
            return f"licence {c.license or 'unknown'!s} not in {', '.join(self.licenses)}"
        if self.languages and not {x.lower() for x in c.language} & {x.lower() for x in self.languages}:
            return f"language {', '.join(c.language) or 'unknown'} not in {', '.join(self.languages)}"
        return None


@dataclass
class Discovery:
    """What discovery found: kept candidates, skipped ones and the query that was sent."""

    candidates: list[Candidate]
    skipped: list[Skipped]
    query: dict[str, Any] = field(default_factory=dict)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


#: The files a model's safetensors weights load from (a checkpoint in a subfolder, or an adapter, is not the model).
ROOT_SAFETENSORS = frozenset({"model.safetensors", "model.safetensors.index.json"})


def _source_accuracy(card: dict[str, Any]) -> float | None:
    """Accuracy reported in the card's ``model-index`` (first usable accuracy metric), as a fraction: many cards
    write 92.5 for 0.925, and a value outside [0, 100] or not a number is skipped."""
    for entry in card.get("model-index") or []:
        for result in (entry or {}).get("results") or []:
            for metric in (result or {}).get("metrics") or []:
                if str(metric.get("type", "")).lower() in ("accuracy", "acc"):
                    value = as_fraction(metric.get("value"))
                    if value is not None:
                        return value[0]
    return None


#: Bytes per parameter of the safetensors dtypes (what ``safetensors.parameters`` counts by).
DTYPE_BYTES = {
    "F64": 8,
    "I64": 8,
    "U64": 8,
    "F32": 4,
    "I32": 4,
    "U32": 4,
    "F16": 2,
    "BF16": 2,
    "I16": 2,
    "U16": 2,
    "I8": 1,
    "U8": 1,
    "BOOL": 1,
    "F8_E4M3": 1,
    "F8_E5M2": 1,
}


def _weights_bytes(st: Any) -> int | None:
    """Size of the safetensors weights from the parameter count per dtype (``None``: not reported)."""
    params = getattr(st, "parameters", None) if st is not None else None
    if not isinstance(params, dict) or not params:
        return None
    return int(sum(int(n) * DTYPE_BYTES.get(str(dtype).upper(), 4) for dtype, n in params.items()))


def candidate_from_info(info: ModelInfo, task: str, path: str | None = None) -> Candidate:
    """Build a `Candidate` from Hub metadata (tolerates missing fields: card metadata is unreliable)."""
    card = info.card_data.to_dict() if info.card_data is not None else {}
    declared = _as_list(card.get("datasets"))
    refused = [d for d in declared if repo_id_problem(d) is not None]
    if refused:  # a card is remote data: its ids must never name a local path or a URL
        logger.warning(
            "%s: ignoring declared dataset(s) that are not Hub ids: %s", info.id, ", ".join(map(repr, refused))
        )
    siblings = [s.rfilename for s in (info.siblings or [])]
    tags = list(info.tags or [])
    config = info.config or {}
    st = info.safetensors
    return Candidate(
        repo_id=info.id,
        task=task,
        sha=info.sha,
        path=path,
        datasets=[d for d in declared if d not in refused],
        num_params=int(st.total) if st is not None and st.total else None,
        weights_bytes=_weights_bytes(st),
        downloads=info.downloads,
        likes=info.likes,
        license=", ".join(map(str, _as_list(card.get("license")))) or None,  # a list of licences: all of them
        language=_as_list(card.get("language")),
        library_name=info.library_name,
        tags=tags,
        has_safetensors=st is not None or any(s in ROOT_SAFETENSORS for s in siblings),
        custom_code="custom_code" in tags or bool(config.get("auto_map")),
        source_accuracy=_source_accuracy(card),
        eval_files=sorted(
            s for s in siblings if s.startswith(f"{EVAL_RESULTS_DIR}/") and s.endswith((".yaml", ".yml"))
        ),
        reported=model_index_results(card),
    )


class _LocalRegistry:
    """A local folder laid out like the Hub, answering the same questions as `HfApi`."""

    def __init__(self, root: str) -> None:
        self.root = Path(root)
        if not (self.root / layout.MODELS).is_dir():
            raise HubError(f"Local registry {root!r} has no '{layout.MODELS}/' folder.")

    def info(self, repo_id: str) -> ModelInfo:
        folder = layout.repo_dir(self.root, repo_id)
        if not folder.is_dir():
            raise KeyError(repo_id)
        return ModelInfo(**layout.model_info_dict(repo_id, folder))

    def list(
        self,
        *,
        pipeline_tag: str | None = None,
        author: str | None,
        search: str | None,
        filter: str | list[str] | None = None,
    ) -> list[ModelInfo]:
        """Repositories matching a ``list_models``-style query (``filter`` values must all be among a repo's tags,
        library, pipeline tag or model type, as on the Hub)."""
        wanted = _as_list(filter)
        infos = []
        for repo_id, folder in layout.iter_repos(self.root):
            if author and not repo_id.lower().startswith(author.lower() + "/"):  # the Hub matches authors so
                continue
            if search and search.lower() not in repo_id.lower():
                continue
            info = ModelInfo(**layout.model_info_dict(repo_id, folder))
            if pipeline_tag is not None and info.pipeline_tag != pipeline_tag:
                continue
            if wanted and not set(wanted) <= _tags(info):
                continue
            infos.append(info)
        return sorted(infos, key=lambda i: (-(i.downloads or 0), i.id))

    def path(self, repo_id: str) -> str:
        return str(layout.repo_dir(self.root, repo_id))


def _tags(info: ModelInfo) -> set[str]:
    """What a Hub ``filter=`` value matches: tags, library, pipeline tag and model type."""
    config = info.config or {}
    card = info.card_data
    return {
        *(info.tags or []),
        *_as_list(info.library_name),
        *_as_list(info.pipeline_tag),
        *_as_list(config.get("model_type")),
        *(f"license:{x}".lower() for x in _as_list(getattr(card, "license", None))),
        *(str(x).lower() for x in _as_list(getattr(card, "language", None))),
    }


def scoped_queries(queries: list[dict[str, Any]], filters: Filters) -> list[dict[str, Any]]:
    """The listing queries narrowed by the licence and language filters, as the Hub's ``filter=`` tags
    (``license:<id>``, a language code): one query per licence and language, since the Hub ANDs its ``filter``
    values. Filtering only after a listing cut at ``limit`` repositories would miss every MIT model outside the most
    downloaded few."""
    licenses: list[str | None] = [x.strip().lower() for x in filters.licenses or [] if x.strip()] or [None]
    languages: list[str | None] = [x.strip().lower() for x in filters.languages or [] if x.strip()] or [None]
    if licenses == [None] and languages == [None]:
        return [dict(q) for q in queries]
    out = []
    for q in queries:
        for lic in licenses:
            for lang in languages:
                tags = _as_list(q.get("filter")) + ([f"license:{lic}"] if lic else []) + ([lang] if lang else [])
                out.append({**q, "filter": tags})
    return out


def _merge(listings: list[list[ModelInfo]], limit: int) -> list[ModelInfo]:
    """Several listings as one: deduplicated, most downloaded first, at most `limit`."""
    seen: dict[str, ModelInfo] = {}
    for infos in listings:
        for info in infos:
            seen.setdefault(info.id, info)
    return sorted(seen.values(), key=lambda i: (-(i.downloads or 0), i.id))[:limit]


def _hub_error(exc: Exception, endpoint: str | None) -> HubError:
    where = endpoint or "the Hugging Face Hub"
    name = type(exc).__name__
    if "Offline" in name:
        return HubError(
            "Offline mode (HF_HUB_OFFLINE=1) cannot list models: pass --models with cached repos or --hub-dir."
        )
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else name
    return HubError(f"Cannot query {where}: {first}")


def discover(
    task: str,
    pipeline_tag: str,
    *,
    models: Iterable[str] | None = None,
    author: str | None = None,
    search: str | None = None,
    max_models: int = 10,
    filters: Filters | None = None,
    hub_dir: str | None = None,
    endpoint: str | None = None,
    token: str | bool | None = None,
    queries: list[dict[str, Any]] | None = None,
    accept: Callable[[ModelInfo], bool] | None = None,
) -> Discovery:
    """Find candidates for `task`.

    Args:
        task (`str`): hfsearch task name.
        pipeline_tag (`str`): Hub pipeline tag queried.
        models (`list[str]`, *optional*): explicit repo ids (wildcards allowed with `hub_dir`); bypasses the query.
        author, search (`str`, *optional*): passed to ``list_models``.
        max_models (`int`): number of candidates kept after filtering.
        filters (`Filters`, *optional*): candidate filters.
        hub_dir (`str`, *optional*): local registry folder instead of the Hub.
        endpoint (`str`, *optional*): Hub endpoint (default ``HF_ENDPOINT``).
        token (`str`, *optional*): Hub token (default ``HF_TOKEN``); never logged.
        queries (`list[dict]`, *optional*): the listing filters (`TaskAdapter.hub_queries`), one ``list_models`` call
            each, merged (default: ``[{"pipeline_tag": pipeline_tag}]``).
        accept (`Callable[[ModelInfo], bool]`, *optional*): keeps only the listed checkpoints of the task
            (`TaskAdapter.accepts`); explicit `models` are not filtered by it (the adapter checks them when loading).
    """
    filters = filters or Filters()
    queries = queries or [{"pipeline_tag": pipeline_tag}]
    skipped: list[Skipped] = []
    query: dict[str, Any] = {}
    local = _LocalRegistry(hub_dir) if hub_dir else None
    api = HfApi(endpoint=endpoint, token=token) if local is None else None

    infos: list[ModelInfo] = []
    explicit = [m.strip() for m in (models or []) if m and m.strip()]
    if explicit:
        query = {"models": explicit}
        for repo_id in explicit:
            if local is not None and any(ch in repo_id for ch in "*?["):
                listed = _merge([local.list(author=None, search=None, **q) for q in queries], 1 << 30)
                infos.extend(i for i in listed if fnmatch.fnmatchcase(i.id, repo_id) and (accept is None or accept(i)))
                continue
            check_repo_id(repo_id, "model")  # before any folder or request
            try:
                infos.append(local.info(repo_id) if local is not None else api.model_info(repo_id, expand=EXPAND))  # type: ignore[union-attr]
            except KeyError:
                skipped.append(Skipped(repo_id, "download", "not found in the local registry"))
            except Exception as exc:  # noqa: BLE001 - one bad repo must not stop the search
                if type(exc).__name__ in ("RepositoryNotFoundError", "GatedRepoError", "RevisionNotFoundError"):
                    skipped.append(Skipped(repo_id, "download", f"{type(exc).__name__}: repository not accessible"))
                else:
                    raise _hub_error(exc, endpoint) from None
    else:
        limit = max(3 * max_models, max_models + 10)
        queries = scoped_queries(queries, filters)
        shape = queries[0] if len(queries) == 1 else {"queries": queries}
        query = {**shape, "sort": "downloads", "limit": limit, "author": author, "search": search}
        if local is not None:
            listings = [local.list(author=author, search=search, **q) for q in queries]
        else:
            try:
                listings = [
                    list(
                        api.list_models(  # type: ignore[union-attr]
                            **q,
                            author=author,
                            search=search,
                            sort="downloads",
                            limit=limit,
                            expand=EXPAND,
                        )
                    )
                    for q in queries
                ]
            except Exception as exc:  # noqa: BLE001
                raise _hub_error(exc, endpoint) from None
        if accept is not None:
            listings = [[i for i in infos if accept(i)] for infos in listings]
        infos = _merge(listings, limit)

    kept: list[Candidate] = []
    for info in infos:
        bad_id = repo_id_problem(info.id)
        if bad_id is not None:  # a listing is remote data: never let it name a folder or a URL
            skipped.append(Skipped(str(info.id), "filter", f"not a Hub id ({bad_id})"))
            continue
        cand = candidate_from_info(info, task, path=local.path(info.id) if local is not None else None)
        if explicit and info.pipeline_tag and info.pipeline_tag != pipeline_tag:
            logger.info(
                "%s has pipeline_tag %s, not %s; kept because it was named explicitly",
                cand.repo_id,
                info.pipeline_tag,
                pipeline_tag,
            )
        why = filters.reason(cand)
        if why:
            skipped.append(Skipped(cand.repo_id, "filter", why))
            continue
        if not explicit and len(kept) >= max_models:
            break
        kept.append(cand)
    return Discovery(candidates=kept, skipped=skipped, query={k: v for k, v in query.items() if v is not None})


def fetch_config(cand: Candidate, *, endpoint: str | None = None, token: str | bool | None = None) -> dict[str, Any]:
    """The candidate's ``config.json`` (downloaded once, from the cache afterwards)."""
    if cand.path:
        return json.loads((Path(cand.path) / "config.json").read_text())
    file = hf_hub_download(cand.repo_id, "config.json", revision=cand.sha, endpoint=endpoint, token=token)
    return json.loads(Path(file).read_text())
