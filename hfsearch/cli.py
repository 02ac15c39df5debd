"""``hfsearch`` (also ``hf-search``): a thin shell over the Python API.

The flags of ``hfsearch find`` are generated from `hfsearch.config.SearchConfig` (each option is declared once there);
every result is rendered from one schema (`hfsearch.render`). Bad input is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from . import constants
from .errors import HFSearchError, one_line
from .output import dumps, emit, err, show_table
from .render import FORMATS, Column, Table


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        command = self.prog.split(" ", 1)[1] if " " in self.prog else ""
        err(f"hfsearch: error: {message}" + (f" (see `hfsearch {command} --help`)" if command else ""))
        raise SystemExit(2)


def _add_output(p: argparse.ArgumentParser, *, columns: bool = False, push: bool = False) -> None:
    p.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    p.add_argument("--output", "-o", help="write the result to this file instead of stdout (table → markdown)")
    if columns:
        p.add_argument("--columns", help="columns of the table, comma-separated (e.g. rank,model,adaptivity)")
    if push:
        p.add_argument(
            "--push-to-hub",
            metavar="ORG/NAME",
            help="also write the result to this dataset repository on the Hub (ranking, config, card)",
        )


def build_parser() -> argparse.ArgumentParser:
    from .config import add_arguments

    parser = _Parser(prog="hfsearch", description="Find the best pretrained checkpoint for an unlabeled dataset.")
    noise = parser.add_mutually_exclusive_group()
    noise.add_argument("--verbose", "-v", action="store_true", help="log progress details on stderr")
    noise.add_argument("--quiet", "-q", action="store_true", help="only errors on stderr, no progress bars")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("find", help="rank candidate checkpoints for a dataset")
    add_arguments(p)
    _add_output(p, columns=True, push=True)

    p = sub.add_parser("demo", help="build the embedded demo zoo (once) and run a search on it, offline")
    p.add_argument("--dir", help="where the demo registry lives (default: HF assets cache)")
    p.add_argument("--samples", type=int, default=300)
    p.add_argument(
        "--label-budget",
        type=int,
        default=0,
        metavar="N",
        help="then read at most N labels of the target, on the rows the label loop chooses (default: none)",
    )
    _add_output(p, columns=True)

    p = sub.add_parser("scorers", help="list the scorers")
    p.add_argument("pattern", nargs="?", help="wildcard filter, e.g. '*div*'")
    _add_output(p)

    p = sub.add_parser("tasks", help="list the supported tasks")
    _add_output(p)

    p = sub.add_parser("env", help="print versions and settings to paste into bug reports")
    _add_output(p)

    from .bench.cli import add_bench_parser

    add_bench_parser(sub)

    from .pools_cli import add_rank_outputs_parser

    add_rank_outputs_parser(sub)

    p = sub.add_parser("app", help="start the Gradio app (the Space) locally")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--share", action="store_true", help="create a public gradio.live link")
    return parser


def _columns(args: argparse.Namespace) -> list[str] | None:
    text = getattr(args, "columns", None)
    return [c.strip() for c in text.split(",") if c.strip()] if text else None


def _progress(args: argparse.Namespace) -> bool:
    """Progress bars: only for a human (table format, stdout not a file), on the main process; whether they are drawn
    is then `hfsearch.utils.logging.progress_enabled`'s call (a terminal, ``HFSEARCH_PROGRESS``, ``--quiet``)."""
    return args.format == "table" and not args.output and constants.rank() == 0


def quiet_third_party() -> None:
    """Silence the per-file bars of datasets and transformers: the CLI shows its own progress."""
    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()


def _cmd_find(args: argparse.Namespace) -> int:
    from .config import SearchConfig
    from .search import Search

    cfg = SearchConfig.from_args(args)
    cfg.progress = _progress(args)
    quiet_third_party()
    result = Search(cfg).execute()
    if constants.rank() == 0:  # under accelerate launch / torchrun only rank 0 prints and writes
        show_result(result, args.format, args.output, columns=_columns(args))
        if args.push_to_hub:
            commit = result.push_to_hub(
                args.push_to_hub, command=["hfsearch", *sys.argv[1:]], config=cfg, endpoint=cfg.endpoint
            )
            err(f"pushed to {commit.repo_url}")
    return 0


def show_result(
    result: Any, fmt: str, output: str | None, *, columns: list[str] | None = None, title: str | None = None
) -> None:
    """Print or write a `SearchResult` in `fmt` (``json``: everything; other formats: its `Table`)."""
    if fmt == "json":
        emit(result.to_json(), output)
        return
    show_table(result.to_table(columns, title=title), fmt, output)


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    quiet_third_party()
    result = run_demo(
        root=args.dir, samples=args.samples, progress=_progress(args), label_budget=args.label_budget, via="flag"
    )
    show_result(
        result,
        args.format,
        args.output,
        columns=_columns(args),
        title=f"hfsearch demo · target {result.dataset} ({result.n_samples} rows, labels hidden) · "
        f"ranked by {result.rank_by}",
    )
    return 0


def _cmd_scorers(args: argparse.Namespace) -> int:
    from .scores import SCORERS

    rows = [
        {
            "name": n,
            "kind": s.kind,
            "higher_is_better": s.higher_is_better,
            "spaces": ",".join(s.spaces) or "-",
            "needs": ",".join(s.needs),
            "description": s.description,
        }
        for n, s in SCORERS.items()
        if n in SCORERS.names(args.pattern)
    ]
    columns = [
        Column("name", kind="id", keep=True),
        Column("kind"),
        Column("higher_is_better", title="higher is better"),
        Column("spaces"),
        Column("needs"),
        Column("description"),
    ]
    show_table(Table(columns, rows), args.format, args.output)
    return 0


def _cmd_tasks(args: argparse.Namespace) -> int:
    from .tasks import TASKS

    rows = [{"task": n, "pipeline_tag": a.pipeline_tag, "description": a.description} for n, a in TASKS.items()]
    columns = [
        Column("task", kind="id", keep=True),
        Column("pipeline_tag", title="pipeline tag"),
        Column("description"),
    ]
    show_table(Table(columns, rows), args.format, args.output)
    return 0


def _cmd_env(args: argparse.Namespace) -> int:
    import platform

    info: dict[str, Any] = {
        "hfsearch": _version("hfsearch"),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    for pkg in ("torch", "transformers", "huggingface_hub", "datasets", "accelerate", "gradio", "numpy"):
        info[pkg] = _version(pkg)
    try:
        import torch

        info["cuda"] = torch.cuda.is_available()
        info["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except ImportError:
        pass
    info.update(constants.environment_report())
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
    from .app import launch

    launch(host=args.host, port=args.port, share=args.share)
    return 0


COMMANDS = {
    "find": _cmd_find,
    "demo": _cmd_demo,
    "scorers": _cmd_scorers,
    "tasks": _cmd_tasks,
    "env": _cmd_env,
    "app": _cmd_app,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (2 for bad input, with a one-line message and no traceback)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0), or a one-line usage error already printed (2)
        return int(exc.code or 0)
    from .utils import interrupt
    from .utils import logging as hlog

    hlog.configure("quiet" if args.quiet else "verbose" if args.verbose else None)
    try:
        handler = getattr(args, "func", None) or COMMANDS[args.command]
        with interrupt.catching_interrupts():
            return handler(args)
    except HFSearchError as exc:
        err(f"hfsearch: error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        cached = getattr(args, "use_cache", None) is not False
        err(
            "hfsearch: interrupted; rerun the same command to resume"
            + (
                " (the outputs of finished candidates are cached and are not recomputed)"
                if cached
                else " (with --no-cache nothing was kept: everything is recomputed)"
            )
        )
        return 130
    except Exception as exc:  # noqa: BLE001 - never a traceback for the user; HFSEARCH_DEBUG=1 shows it
        if constants.debug():
            raise
        err(f"hfsearch: internal error: {one_line(exc)} (set HFSEARCH_DEBUG=1 for the traceback)")
        return 1


if __name__ == "__main__":
    sys.exit(main())
