"""``hfsearch bench``: build a workload's zoo, search every target with its labels hidden, then grade each scorer.

For every target domain: `Search` ranks the eligible candidates of the zoo (with ``exclude_source_domain``, those
not trained on the target) with every scorer of the workload, exactly as ``hfsearch find`` would; only then are the
target's labels read (`hfsearch.bench.truth.true_metrics`) to get each candidate's true accuracy (and F1). Each
scorer is graded on each target (`hfsearch.bench.metrics`) and the grades are averaged over targets with seeded
bootstrap intervals.

```python
>>> from hfsearch.bench.run import run_benchmark
>>> result = run_benchmark("benchmarks/ci.yaml", zoo_dir="/tmp/ci-zoo")
>>> result.leaderboard()[0]["scorer"]
'...'
```
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import WorkloadError
from ..pipeline.estimate import AUTO, shipped_selector
from ..select import Selector
from ..utils.logging import get_logger
from .curves import curves_note, keep_predictions, mean_curves, target_curves
from .metrics import ScorerOutcome, bootstrap_ci, evaluate_scorer, mean_or_none, random_outcome
from .results import RANDOM, SCHEMA_VERSION, BenchResult, Log, ScorerSummary, TargetResult  # noqa: F401
from .workload import Workload, load_workload, synthetic_downloads

logger = get_logger(__name__)


# ---- the zoo -----------------------------------------------------------------------------------------------------
def zoo_recipe(wl: Workload) -> Any:
    """The `ZooRecipe` of a workload: its domains, a union dataset per mixture and one recipe per candidate.

    A mixture candidate trains on (and its card declares) one registry dataset holding the union of its domains'
    rows, so that similarity scorers see its real training distribution.
    """
    from ..zoo.recipe import CandidateRecipe, DomainSpec, ZooRecipe

    domains = [
        DomainSpec(
            name, rows=wl.rows[name], license=d.license, source=d.source if d.source is not None else _source_note(d)
        )
        for name, d in wl.domains.items()
    ]
    mixtures: dict[str, list[str]] = {}
    for c in wl.candidates:
        if c.is_mixture:
            mixtures.setdefault(wl.mixture_domain(c.sources), c.sources)
    for mix, parts in mixtures.items():
        rows = {split: [r for p in parts for r in wl.rows[p][split]] for split in ("train", "test")}
        licences = sorted({wl.domains[p].license for p in parts})
        domains.append(
            DomainSpec(
                mix,
                rows=rows,
                license=licences[0] if len(licences) == 1 else "other",
                source=f"The union of the workload domains {', '.join(parts)} (train with train, test with test); "
                f"see their dataset cards for origin and licence ({', '.join(licences)}).",
            )
        )
    candidates = []
    for c in wl.candidates:
        t = c.train
        downloads = c.downloads
        if downloads is None and wl.popularity_seed is not None:
            downloads = synthetic_downloads(wl, c)
        candidates.append(
            CandidateRecipe(
                name=c.name,
                arch=c.architecture,
                sources=[wl.mixture_domain(c.sources)] if c.is_mixture else list(c.sources),
                task=wl.task,
                seed=c.seed,
                epochs=t.get("epochs"),
                learning_rate=t.get("learning_rate"),
                batch_size=t.get("batch_size"),
                label_noise=float(t.get("label_noise", 0.0)),
                max_train_rows=t.get("max_train_rows", wl.max_train_rows),
                class_weight=t.get("class_weight"),
                label_names=list(wl.label_names),
                params=dict(t.get("params") or {}),
                downloads=downloads,
                likes=c.likes,
            )
        )
    return ZooRecipe(
        org=wl.org,
        domains=domains,
        candidates=candidates,
        task=wl.task,
        label_names=list(wl.label_names),
        license=wl.license,
    )


def _source_note(domain: Any) -> str:
    if domain.path is not None and (domain.path / "SOURCE.md").is_file():
        return (domain.path / "SOURCE.md").read_text(encoding="utf-8")
    if domain.dataset is not None:
        return f"Hub dataset `{domain.dataset}`" + (f" (config `{domain.config}`)" if domain.config else "") + "."
    return ""


def default_zoo_dir(wl: Workload) -> Path:
    """Where a workload's zoo is cached: the HF assets cache, ``hfsearch/bench/<workload name>``."""
    from huggingface_hub import cached_assets_path

    from .. import constants

    return Path(cached_assets_path(library_name=constants.LIBRARY_NAME, namespace="bench", subfolder=wl.name))


# ---- grading -----------------------------------------------------------------------------------------------------
def grade_target(
    scores: dict[str, dict[str, float | None]],
    truth: dict[str, float],
    higher: dict[str, bool],
    *,
    estimates: set[str] | frozenset[str] = frozenset(),
    intervals: dict[str, dict[str, tuple[float, float]]] | None = None,
) -> dict[str, ScorerOutcome]:
    """Every scorer's outcome on one target (plus the random reference), on one true metric; the `estimates`
    (scores in the truth's unit) also get their absolute error, and the interval coverage where `intervals` has them."""
    intervals = intervals or {}
    out = {
        col: evaluate_scorer(values, truth, higher[col], estimate=col in estimates, intervals=intervals.get(col))
        for col, values in scores.items()
    }
    out[RANDOM] = random_outcome(truth)
    return out


def summarize(
    per_target: Sequence[dict[str, ScorerOutcome]],
    columns: Sequence[tuple[str, str, bool]],
    *,
    resamples: int,
    level: float,
    seed: int,
    notes: dict[str, str] | None = None,
) -> list[ScorerSummary]:
    """Scorer grades (one ``{scorer: outcome}`` per target) averaged over targets, ranked by mean regret (then top-1,
    then tau); the random reference is included."""
    notes = notes or {}
    rows: list[ScorerSummary] = []
    for col, kind, hib in [*columns, (RANDOM, "reference", True)]:
        outs = [t[col] for t in per_target if col in t]

        def ci(attr: str, outs: list[ScorerOutcome] = outs) -> tuple[float | None, float | None, float | None]:
            return bootstrap_ci([getattr(o, attr) for o in outs], resamples=resamples, level=level, seed=seed)

        rows.append(
            ScorerSummary(
                scorer=col,
                kind=kind,
                higher_is_better=hib,
                regret=ci("regret"),
                top1=ci("top1"),
                kendall_tau=ci("kendall_tau"),
                spearman_rho=ci("spearman_rho"),
                coverage=mean_or_none([o.coverage for o in outs]),
                n_targets=sum(o.regret is not None for o in outs),
                n_tau=sum(o.kendall_tau is not None for o in outs),
                note=notes.get(col, ""),
                abs_error=ci("abs_error"),
                interval_coverage=mean_or_none([o.interval_coverage for o in outs]),
                interval_width=mean_or_none([o.interval_width for o in outs]),
            )
        )

    def key(s: ScorerSummary) -> tuple:
        inf = float("inf")
        return (
            s.regret[0] if s.regret[0] is not None else inf,
            -(s.top1[0] if s.top1[0] is not None else -inf),
            -(s.kendall_tau[0] if s.kendall_tau[0] is not None else -inf),
            s.scorer,
        )

    rows.sort(key=key)
    for i, s in enumerate(rows, start=1):
        s.rank = i
    return rows


def paired_comparison(targets: list[TargetResult], focus: list[str], others: list[str]) -> list[dict[str, Any]]:
    """Per target, does scorer `focus` pick a better model than each other scorer? Wins/ties/losses on regret.

    A tie is an equal regret (within 1e-9 points); targets where either scorer chose nothing are left out.
    """
    out = []
    for f in focus:
        for o in others:
            if o == f:
                continue
            wins = ties = losses = 0
            detail: dict[str, str] = {}
            for t in targets:
                a, b = t.outcomes.get(f), t.outcomes.get(o)
                if a is None or b is None or a.regret is None or b.regret is None:
                    continue
                if abs(a.regret - b.regret) <= 1e-9:
                    ties += 1
                    detail[t.target] = "tie"
                elif a.regret < b.regret:
                    wins += 1
                    detail[t.target] = "win"
                else:
                    losses += 1
                    detail[t.target] = "loss"
            out.append({"scorer": f, "versus": o, "wins": wins, "ties": ties, "losses": losses, "per_target": detail})
    return out


# ---- the run -----------------------------------------------------------------------------------------------------
def run_benchmark(
    workload: str | Path | Workload,
    *,
    zoo_dir: str | Path | None = None,
    rebuild: bool = False,
    cache_dir: str | None = None,
    device: str | None = None,
    log: Log | None = None,
    progress: bool = True,
) -> BenchResult:
    """Run a workload end to end: validate, build (or reuse) the zoo, search and grade every target.

    Args:
        workload (`str`, `Path` or [`Workload`]): the workload file (validated before anything is trained).
        zoo_dir (`str`, *optional*): the local registry of the zoo (default `default_zoo_dir`); reused across runs,
            candidates are retrained only when their recipe hash changes.
        rebuild (`bool`): retrain every candidate.
        cache_dir (`str`, *optional*): model-output cache of the searches (default: hfsearch's).
        device (`str`, *optional*): ``"cpu"`` forces the CPU.
        log (`Callable[[str], None]`, *optional*): progress lines (default: the module logger).
        progress (`bool`): show the training progress bars (``False`` turns every huggingface_hub-style bar off).

    Returns:
        [`BenchResult`].
    """
    from ..runner import make_accelerator
    from ..search import Search, SearchConfig
    from ..zoo.build import build_zoo
    from .truth import true_metrics

    say: Log = log or logger.info
    if not progress:
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
    t_start = time.perf_counter()
    wl = workload if isinstance(workload, Workload) else load_workload(workload)
    recipe = zoo_recipe(wl)
    registry = Path(zoo_dir) if zoo_dir is not None else default_zoo_dir(wl)
    registry.mkdir(parents=True, exist_ok=True)
    columns = scorer_columns(wl)

    say(
        f"[{wl.name}] building the zoo ({len(recipe.candidates)} candidates, "
        f"{len(recipe.domains)} datasets) in {registry}"
    )
    t0 = time.perf_counter()
    built = build_zoo(recipe, registry, force=rebuild)
    t_build = time.perf_counter() - t0
    trained = sum(b.trained for b in built)
    say(f"[{wl.name}] zoo ready in {t_build:.0f}s ({trained} trained, {len(built) - trained} reused)")
    by_name = {c.name: c for c in wl.candidates}
    zoo = []
    for b, rec in zip(built, recipe.candidates):
        spec = by_name[rec.name]
        zoo.append(
            {
                "repo_id": b.repo_id,
                "architecture": spec.architecture,
                "sources": spec.sources,
                "seed": spec.seed,
                "source_accuracy": b.source_accuracy,
                "source_metrics": b.metrics.get("all", {}),
                "downloads": rec.downloads,
                "synthetic_downloads": spec.downloads is None and rec.downloads is not None,
                "train_seconds": b.train_seconds,
                "trained_now": b.trained,
            }
        )

    accelerator = make_accelerator(device) if device else None
    results: list[TargetResult] = []
    t0 = time.perf_counter()
    for target in wl.targets:
        t1 = time.perf_counter()
        eligible = [f"{wl.org}/{n}" for n in wl.eligible(target)]
        excluded = [f"{wl.org}/{c.name}" for c in wl.candidates if f"{wl.org}/{c.name}" not in eligible]
        cfg = SearchConfig(
            task=wl.task,
            dataset=recipe.dataset_id(target),
            split="test",
            labels=list(wl.label_names),
            samples=wl.samples,
            seed=wl.seed,
            models=eligible,
            max_models=len(eligible),
            hub_dir=str(registry),
            scores=list(wl.scorers),
            score_params=wl.score_params,
            batch_size=wl.batch_size,
            max_length=wl.max_length,
            cache_dir=cache_dir,
            progress=False,
            metric=wl.metric,
            budget="full",  # every scorer is graded on every candidate: no early elimination
        )
        search = Search(cfg, accelerator=accelerator)
        result = search.execute()
        truth = true_metrics(search, tuple(wl.metrics))
        primary = truth[wl.metric]
        scores = {
            col: {c.repo_id: c.scores.get(col) for c in result.candidates} for col, _, _ in columns if col != AUTO
        }
        unavailable = {
            col: {c.repo_id: c.unavailable[col] for c in result.candidates if col in c.unavailable}
            for col, _, _ in columns
        }
        best_value = max(primary.values()) if primary else None
        best = sorted(m for m, v in primary.items() if best_value is not None and v >= best_value - 1e-12)
        tr = TargetResult(
            target=target,
            dataset=recipe.dataset_id(target),
            n_rows=result.n_samples,
            candidates=eligible,
            excluded=excluded,
            skipped=[s.to_dict() for s in result.skipped],
            truth=truth,
            scores=scores,
            unavailable={k: v for k, v in unavailable.items() if v},
            outcomes={},
            best=best,
            seconds=time.perf_counter() - t1,
            timings=dict(result.timings),
            consensus_fit=search.state.consensus_fit,
        )
        tr.predictions, tr.labels = keep_predictions(search, primary)
        results.append(tr)
        say(
            f"[{wl.name}] target {target}: {len(primary)} candidates on {result.n_samples} rows, best "
            f"{', '.join(best)} ({wl.metric} {best_value:.3f}) in {tr.seconds:.0f}s"
            if best_value is not None
            else f"[{wl.name}] target {target}: no candidate could be scored"
        )
    t_eval = time.perf_counter() - t0
    if not any(t.truth.get(wl.metric) for t in results):
        raise WorkloadError(f"{wl.file}: no candidate could be run on any target (see the skipped reasons).")
    timings = {"build_zoo": t_build, "evaluate": t_eval, "total": time.perf_counter() - t_start}
    bench = BenchResult(
        workload=wl, zoo=zoo, targets=results, summaries=[], paired=[], timings=timings, registry=str(registry)
    )
    return grade(bench, shipped_selector().without(wl.name))


def scorer_columns(wl: Workload) -> list[tuple[str, str, bool]]:
    """``(column, kind, higher_is_better)`` of every graded score: the workload's scorers, the estimators the default
    pick combines (computed by every search that ranks by ``auto``), and ``auto`` itself."""
    from ..scores import SCORERS, parse_scorers

    specs = parse_scorers(wl.scorers, wl.score_params)
    chosen = {s.column for s in specs}
    extra = [k for k in shipped_selector().inputs if k not in chosen and k in SCORERS]
    specs += parse_scorers(extra, wl.score_params) if extra else []
    columns: list[tuple[str, str, bool]] = [(s.column, s.info.kind, s.info.higher_is_better) for s in specs]
    return columns + [(AUTO, "estimate", True)]


def grade(bench: BenchResult, selector: Selector) -> BenchResult:
    """(Re)compute the ``auto`` prediction of every candidate with `selector` (one that never saw this workload, see
    `Selector.without`), then every grade, summary and paired comparison of `bench` (in place; returned)."""
    wl = bench.workload
    columns = scorer_columns(wl)
    higher = {c: h for c, _, h in columns}
    estimates = {c for c, kind, _ in columns if kind == "estimate"}
    arch_of = {f"{wl.org}/{c.name}": c.architecture for c in wl.candidates}
    for t in bench.targets:
        auto: dict[str, float | None] = {}
        interval: dict[str, tuple[float, float]] = {}
        models = list(t.truth.get(wl.metric, {}))
        pool = [{k: v.get(model) for k, v in t.scores.items()} for model in models]
        for model, p in zip(models, selector.predict(pool, metric=wl.metric, consensus_fit=t.consensus_fit)):
            auto[model] = p.value if p is not None else None
            if p is not None:
                interval[model] = (p.low, p.high)
        t.scores[AUTO] = auto
        t.intervals = {AUTO: interval}
        primary = t.truth.get(wl.metric, {})
        t.outcomes = grade_target(t.scores, primary, higher, estimates=estimates, intervals=t.intervals)
        t.curves = target_curves(
            t, primary, wl, level=selector.level, common_share=selector.for_metric(wl.metric).common_share
        )
        t.by_architecture = {}
        for arch in sorted({arch_of[m] for m in primary if m in arch_of}):
            sub = {m: v for m, v in primary.items() if arch_of.get(m) == arch}
            if len(sub) >= 2:
                t.by_architecture[arch] = grade_target(
                    {c: {m: v for m, v in vals.items() if m in sub} for c, vals in t.scores.items()},
                    sub,
                    higher,
                    estimates=estimates,
                    intervals=t.intervals,
                )
    notes = {
        AUTO: f"the estimators combined by the selector fitted without this workload ({len(selector.workloads)} "
        "other workload(s))"
    }
    if wl.popularity_seed is not None and any(c == "popularity" for c, _, _ in columns):
        notes["popularity"] = "synthetic downloads (seeded, uninformative by construction): a sanity baseline"

    def summary(per_target: list[dict[str, ScorerOutcome]]) -> list[ScorerSummary]:
        return summarize(
            per_target,
            columns,
            notes=notes,
            resamples=wl.bootstrap_resamples,
            level=wl.bootstrap_level,
            seed=wl.bootstrap_seed,
        )

    bench.summaries = summary([t.outcomes for t in bench.targets])
    archs = sorted({a for t in bench.targets for a in t.by_architecture})
    bench.by_architecture = (
        {a: summary([t.by_architecture[a] for t in bench.targets if a in t.by_architecture]) for a in archs}
        if len(set(arch_of.values())) > 1
        else {}
    )
    focus = [c for c, _, _ in columns if c.split(":")[0] == "adaptivity"][:1]  # the paper's measure, first space listed
    bench.paired = paired_comparison(bench.targets, focus, [c for c, _, _ in columns] + [RANDOM])
    bench.curves = mean_curves([t.curves for t in bench.targets if t.curves])
    bench.curves_note = curves_note(wl, bench.targets)
    return bench
