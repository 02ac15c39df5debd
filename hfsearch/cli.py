"""``hfsearch`` (also ``hf-search``, so ``hf search`` works): a thin shell over the Python API."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any, Sequence

from . import constants
from .errors import HFSearchError
from .output import FORMATS, dumps, emit, err, print_table


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        err(f"{self.prog}: error: {message}")
        raise SystemExit(2)


def _score_params(items: list[str] | None) -> dict[str, dict[str, Any]]:
    """``["adaptivity.tau=0.6", "mmd.bandwidth=1"]`` → ``{"adaptivity": {"tau": 0.6}, …}``."""
    import yaml

    params: dict[str, dict[str, Any]] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        name, dot, param = key.partition(".")
        if not sep or not dot or not name or not param:
            raise HFSearchError(f"--score-param expects SCORER.PARAM=VALUE, got {item!r}.")
        params.setdefault(name.strip(), {})[param.strip()] = yaml.safe_load(value)
    return params


def _add_common_output(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    p.add_argument("--output", "-o", help="write the result to this file instead of stdout")


def _add_search_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("target data")
    g.add_argument("--task", required=True, help="task, e.g. text-classification (see `hfsearch tasks`)")
    g.add_argument("--dataset", required=True, help="Hub dataset id, local registry id, data folder/file or save_to_disk folder")
    g.add_argument("--config", help="dataset config name")
    g.add_argument("--split", help="split (default: test, else the first)")
    g.add_argument("--column", help="input column(s), comma-separated for pairs (default: auto-detect)")
    g.add_argument("--labels", help="target class names, comma-separated, when the dataset does not declare them")
    g.add_argument("--samples", type=int, default=constants.DEFAULT_SAMPLES, help="rows sampled (default: %(default)s)")
    g.add_argument("--seed", type=int, default=constants.DEFAULT_SEED)
    g.add_argument("--window", type=int, help="time series: cut each recording into windows of N time steps")
    g.add_argument("--stride", type=int, help="time series: steps between window starts (default: --window)")
    g = p.add_argument_group("candidates")
    g.add_argument("--models", help="explicit repo ids, comma-separated (bypasses the Hub query)")
    g.add_argument("--author", help="only models of this author/organisation")
    g.add_argument("--search", help="only models whose id contains this text")
    g.add_argument("--max-models", type=int, default=constants.DEFAULT_MAX_MODELS, help="candidates kept (default: %(default)s)")
    g.add_argument("--max-params", type=float, default=constants.DEFAULT_MAX_PARAMS, help="parameter cap (default: 5e8)")
    g.add_argument("--license", help="keep only these licences, comma-separated")
    g.add_argument("--language", help="keep only these languages, comma-separated")
    g.add_argument("--allow-pickle", action="store_true", help="allow non-safetensors (pickle) weights")
    g.add_argument("--allow-custom-code", action="store_true", help="keep models that declare custom code (never run)")
    g.add_argument("--hub-dir", help="local registry folder laid out like the Hub (air-gapped/private use)")
    g.add_argument("--endpoint", help="Hub endpoint (default: HF_ENDPOINT or huggingface.co)")
    g = p.add_argument_group("scoring")
    g.add_argument("--scores", help="scorers, comma-separated, NAME or NAME:SPACE (see `hfsearch scorers`)")
    g.add_argument("--score-param", action="append", metavar="SCORER.PARAM=VALUE", help="scorer parameter (repeatable)")
    g.add_argument("--rank-by", help="score that orders the ranking (default: the first)")
    g = p.add_argument_group("inference")
    g.add_argument("--batch-size", type=int, default=constants.DEFAULT_BATCH_SIZE)
    g.add_argument("--max-length", type=int, default=constants.DEFAULT_MAX_LENGTH)
    g.add_argument("--device", choices=["cpu", "auto"], default="auto", help="'cpu' forces the CPU")
    g.add_argument("--no-cache", action="store_true", help="do not read or write the output cache")
    g.add_argument("--cache-dir", help="output cache folder (default: HF assets cache)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hfsearch", description="Find the best pretrained checkpoint for an unlabeled dataset.")
    parser.add_argument("--verbose", "-v", action="store_true", help="log progress details on stderr")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("find", help="rank candidate checkpoints for a dataset")
    _add_search_args(p)
    _add_common_output(p)

    p = sub.add_parser("demo", help="build the embedded demo zoo (once) and run a search on it, offline")
    p.add_argument("--dir", help="where the demo registry lives (default: HF assets cache)")
    p.add_argument("--samples", type=int, default=300)
    _add_common_output(p)

    p = sub.add_parser("scorers", help="list the scorers")
    p.add_argument("pattern", nargs="?", help="wildcard filter, e.g. '*div*'")
    _add_common_output(p)

    p = sub.add_parser("tasks", help="list the supported tasks")
    _add_common_output(p)

    p = sub.add_parser("env", help="print versions and settings to paste into bug reports")
    _add_common_output(p)

    from .bench.cli import add_bench_parser

    add_bench_parser(sub)

    p = sub.add_parser("app", help="start the Gradio app (the Space) locally")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--share", action="store_true", help="create a public gradio.live link")
    return parser


def _cmd_find(args: argparse.Namespace) -> int:
    from .search import find

    result = find(
        args.task, args.dataset, config=args.config, split=args.split, column=args.column, labels=args.labels,
        samples=args.samples, seed=args.seed, models=args.models, author=args.author, search=args.search,
        max_models=args.max_models, max_params=int(args.max_params) if args.max_params else None,
        licenses=args.license, languages=args.language, allow_pickle=args.allow_pickle,
        allow_custom_code=args.allow_custom_code, hub_dir=args.hub_dir, endpoint=args.endpoint,
        scores=args.scores, score_params=_score_params(args.score_param), rank_by=args.rank_by,
        batch_size=args.batch_size, max_length=args.max_length, cache_dir=args.cache_dir, use_cache=not args.no_cache,
        progress=args.format == "table" and not args.output and _is_main_process(),
        device="cpu" if args.device == "cpu" else None, window=args.window, stride=args.stride,
    )
    if _is_main_process():  # under accelerate launch / torchrun only rank 0 prints and writes
        show_result(result, args.format, args.output)
    return 0


def _is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def show_result(result: Any, fmt: str, output: str | None, title: str | None = None) -> None:
    """Print or write a `SearchResult` in `fmt`."""
    if fmt == "json":
        emit(result.to_json(), output)
    elif fmt == "csv":
        emit(result.to_csv(), output)
    elif fmt == "markdown" or output:
        emit(result.to_markdown(), output)
    else:
        title = title or f"{result.task} · {result.dataset} ({result.split}, {result.n_samples} rows) · ranked by {result.rank_by}"
        print_table(result.ranking, title=title, highlight_first=True,
                    caption=f"recommended: {result.best}" if result.best else "no recommendation")
        for s in result.skipped:
            err(f"skipped {s.repo_id} [{s.stage}]: {s.reason}")
        for c in result.candidates:
            for col, why in c.unavailable.items():
                err(f"{c.repo_id}: {col} unavailable: {why}")
        for w in result.warnings:
            err(f"warning: {w}")


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    result = run_demo(root=args.dir, samples=args.samples, progress=args.format == "table")
    show_result(result, args.format, args.output,
                title=f"hfsearch demo · target {result.dataset} ({result.n_samples} rows, labels hidden) · ranked by {result.rank_by}")
    return 0


def _cmd_scorers(args: argparse.Namespace) -> int:
    import pandas as pd

    from .scores import SCORERS

    rows = [
        {"name": n, "kind": s.kind, "higher_is_better": s.higher_is_better, "spaces": ",".join(s.spaces) or "-",
         "needs": ",".join(s.needs), "description": s.description}
        for n, s in SCORERS.items() if n in SCORERS.names(args.pattern)
    ]
    _show_rows(pd.DataFrame(rows), args)
    return 0


def _cmd_tasks(args: argparse.Namespace) -> int:
    import pandas as pd

    from .tasks import TASKS

    rows = [{"task": n, "pipeline_tag": a.pipeline_tag, "description": a.description} for n, a in TASKS.items()]
    _show_rows(pd.DataFrame(rows), args)
    return 0


def _show_rows(df: Any, args: argparse.Namespace) -> None:
    if args.format == "json":
        emit(df.to_json(orient="records", indent=2), args.output)
    elif args.format == "csv":
        emit(df.to_csv(index=False), args.output)
    elif args.format == "markdown" or args.output:
        emit(df.to_markdown(index=False) if hasattr(df, "to_markdown") else df.to_string(index=False), args.output)
    else:
        print_table(df)


def _cmd_env(args: argparse.Namespace) -> int:
    import platform

    info: dict[str, Any] = {"hfsearch": _version("hfsearch"), "python": platform.python_version(), "platform": platform.platform()}
    for pkg in ("torch", "transformers", "huggingface_hub", "datasets", "accelerate", "gradio", "numpy"):
        info[pkg] = _version(pkg)
    try:
        import torch

        info["cuda"] = torch.cuda.is_available()
        info["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except ImportError:
        pass
    for var in ("HF_ENDPOINT", "HF_HOME", "HF_HUB_OFFLINE", "HFSEARCH_CACHE"):
        info[var] = os.environ.get(var)
    info["HF_TOKEN"] = "set" if os.environ.get("HF_TOKEN") else "not set"  # never the value
    if args.format == "json":
        emit(dumps(info), args.output)
    else:
        emit("\n".join(f"- {k}: {v}" for k, v in info.items()), args.output)
    return 0


def _version(pkg: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(pkg)
    except PackageNotFoundError:
        return "not installed"


def _cmd_app(args: argparse.Namespace) -> int:
    from .space import launch

    launch(host=args.host, port=args.port, share=args.share)
    return 0


COMMANDS = {"find": _cmd_find, "demo": _cmd_demo, "scorers": _cmd_scorers, "tasks": _cmd_tasks, "env": _cmd_env,
            "app": _cmd_app}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (2 for bad input, with a one-line message and no traceback)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not args.verbose:
        for name in ("transformers", "datasets", "huggingface_hub", "accelerate"):
            logging.getLogger(name).setLevel(logging.ERROR)
    try:
        handler = getattr(args, "func", None) or COMMANDS[args.command]
        return handler(args)
    except HFSearchError as exc:
        err(f"hfsearch: error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        err("hfsearch: interrupted (finished candidates are cached; rerun to resume)")
        return 130
    except Exception as exc:  # noqa: BLE001 - never a traceback for the user; HFSEARCH_DEBUG=1 shows it
        if os.environ.get("HFSEARCH_DEBUG"):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        err(f"hfsearch: internal error: {type(exc).__name__}: {first} (set HFSEARCH_DEBUG=1 for the traceback)")
        return 1


if __name__ == "__main__":
    sys.exit(main())
