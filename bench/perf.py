"""Speed of a search against the bare forward passes it needs and a naive pipeline loop, side by side in one run.

Three modes over the same candidates, the same target sample and the same labeled held-out rows:

- ``limit``: the bare forward passes that `find` needs, and nothing else: every candidate over the target sample
  *and* over the held-out slice of its declared data (what the accuracy estimators behind ``auto`` read; see
  ``--heldout-samples``). Models already loaded, rows already tokenized into the same length-bucketed batches; only
  ``model(**batch)`` is timed, under ``torch.inference_mode``.
- ``find``: ``hfsearch.find`` end to end with its defaults (weights local, output cache off): hfsearch's own
  imports, loading, tokenization, inference, source sampling, every default scorer, the estimate and the ranking.
  The libraries every mode needs (torch, transformers, datasets, and the model class
  ``BertForSequenceClassification``, whose import pulls in torch.distributed, torch._dynamo and sympy) are imported
  before the clock starts, as ``limit`` imports them before its clock; hfsearch's own import is inside. The
  ``process wall`` column includes everything, for every mode, and the report gives the model-class import
  separately (part of the floor of a one-shot search).
- ``naive``: what a user would write: a ``transformers.pipeline`` per model over the same rows, default settings.

Every mode runs ``--repeats`` times (interleaved: limit, find, naive, limit, …), each in a fresh process; the table
gives the minimum and the median of the wall time and of the CPU time (user + system, all threads) of each mode's
timed region (for ``limit``, the forward calls only). The load average
is recorded before and after, and the CPU time the *other* processes of the machine used while a mode ran (from
``/proc/stat``, minus this benchmark's own); the output warns when the machine was busy.

    python bench/perf.py                                  # sizes 3x256,4x700,8x700; writes bench/results/perf.md
    python bench/perf.py --sizes 4x700 --repeats 5
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "hfsearch" / "resources" / "data" / "sentiment"
TARGET, SOURCE = "uci_yelp", "uci_amazon"
#: 1-minute load average (on this machine's cores) above which the output warns that the machine was busy.
BUSY_LOAD = 1.5
#: Share of the machine's cores used by other processes during a mode above which the output warns.
BUSY_OTHERS = 0.25


def wait_quiet(limit: float = 300.0) -> None:
    """Wait (at most `limit` seconds) for the 1-minute load average to fall below `BUSY_LOAD`: it lags by about a
    minute, so a job that just ended (a zoo build, say) would otherwise be counted against this run."""
    t0 = time.time()
    while os.getloadavg()[0] > BUSY_LOAD and time.time() - t0 < limit:
        time.sleep(5)
    print(f"load average {os.getloadavg()[0]:.2f} after waiting {time.time() - t0:.0f} s for a quiet machine", flush=True)


def build_registry(root: Path, n: int) -> list[str]:
    """`n` all-MiniLM-L6-v2 classifiers (real weights, seeded random heads) and the target/source datasets, laid out
    like the Hub (the source's ``test`` split is the labeled held-out slice `find` reads)."""
    import shutil

    ids = [f"perf/minilm-{k}" for k in range(n)]
    todo = [k for k, repo in enumerate(ids) if not (root / "models" / repo / "model.safetensors").is_file()]
    if todo:
        import torch
        from transformers import AutoTokenizer, BertForSequenceClassification
        from transformers.utils import logging as hf_logging

        from hfsearch.tasks.text import minilm_path

        hf_logging.set_verbosity_error()
        tok = AutoTokenizer.from_pretrained(minilm_path())
        for k in todo:
            folder = root / "models" / ids[k]
            torch.manual_seed(k)
            model = BertForSequenceClassification.from_pretrained(
                minilm_path(), num_labels=2, id2label={0: "negative", 1: "positive"},
                label2id={"negative": 0, "positive": 1},
            )
            model.save_pretrained(folder)
            tok.save_pretrained(folder)
            (folder / "README.md").write_text(
                "---\npipeline_tag: text-classification\nlibrary_name: transformers\n"
                "datasets:\n- perf/uci_amazon\n---\n# perf candidate\n"
                "all-MiniLM-L6-v2 with a random classification head (speed benchmark only).\n"
            )
    for name in (TARGET, SOURCE):
        dst = root / "datasets" / "perf" / name
        if not dst.exists():
            shutil.copytree(DATA / name, dst)
    return ids


def rows_needed(samples: int, seed: int) -> tuple[list[str], list[str]]:
    """The target texts and the held-out texts `find` runs every candidate over (same seeded draws as `find`)."""
    from hfsearch.config import SearchConfig
    from hfsearch.data.loading import load_split
    from hfsearch.data.sample import sample_indices

    heldout = SearchConfig.create(task="text-classification", dataset="x").heldout_samples
    ds, _ = load_split(str(DATA / TARGET), split="train")
    target = [ds[int(i)]["text"] for i in sample_indices(len(ds), samples, seed)]
    held, _ = load_split(str(DATA / SOURCE), split="test")
    return target, [held[int(i)]["text"] for i in sample_indices(len(held), heldout, seed)]


def mode_limit(root: Path, ids: list[str], samples: int, batch_size: int, seed: int) -> tuple[float, float]:
    import torch
    from datasets import Dataset
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from hfsearch.tasks import get_task

    adapter = get_task("text-classification")
    parts = [Dataset.from_dict({"text": t}) for t in rows_needed(samples, seed)]
    total, cpu = 0.0, 0.0
    for repo in ids:
        path = str(root / "models" / repo)
        model = AutoModelForSequenceClassification.from_pretrained(path).eval()
        tok = AutoTokenizer.from_pretrained(path)
        batches = [b for rows in parts
                   for _, b in adapter.batches(adapter.encode(tok, rows, ["text"], max_length=256), batch_size, tok)]
        with torch.inference_mode():
            t0, c0 = time.perf_counter(), time.process_time()
            for b in batches:
                model(**b, output_hidden_states=True)
            total, cpu = total + time.perf_counter() - t0, cpu + time.process_time() - c0
        del model
    return total, cpu


#: Wall seconds `find` spent in the reference encoder (all-MiniLM-L6-v2 over the target and source samples, the
#: ``reference`` space of ``knn_coverage``): forward passes of a model that is not a candidate.
REFERENCE = [0.0]


def time_reference_encoder(total: list[float]) -> None:
    """Add the wall seconds of every reference-encoder call of this process to ``total[0]`` (text tasks)."""
    from hfsearch.tasks.text import TextClassification

    embed = TextClassification.embed_reference

    def timed_embed(self, *a, **k):  # noqa: ANN001, ANN002, ANN003, ANN202
        w = time.perf_counter()
        try:
            return embed(self, *a, **k)
        finally:
            total[0] += time.perf_counter() - w

    TextClassification.embed_reference = timed_embed


def mode_find(root: Path, ids: list[str], samples: int, batch_size: int, seed: int) -> tuple[float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    import hfsearch

    time_reference_encoder(REFERENCE)
    hfsearch.find("text-classification", f"perf/{TARGET}", split="train", hub_dir=str(root), models=ids,
                  samples=samples, seed=seed, batch_size=batch_size, use_cache=False, progress=False)
    return time.perf_counter() - t0, time.process_time() - c0


def mode_naive(root: Path, ids: list[str], samples: int, batch_size: int, seed: int) -> tuple[float, float]:
    from transformers import pipeline

    target, held = rows_needed(samples, seed)
    t0, c0 = time.perf_counter(), time.process_time()
    for repo in ids:
        pipe = pipeline("text-classification", model=str(root / "models" / repo), device="cpu")
        pipe(target)
        pipe(held)
    return time.perf_counter() - t0, time.process_time() - c0


MODES = {"limit": mode_limit, "find": mode_find, "naive": mode_naive}

#: The parts of a search that `breakdown` times: (module, attribute, label).
PARTS = (
    ("hfsearch.tasks.text", "TextClassification.load_model", "load models"),
    ("hfsearch.tasks.text", "TextClassification.load_preprocessor", "load tokenizers"),
    ("hfsearch.tasks.text", "TextClassification.encode", "tokenize"),
    ("hfsearch.runner.runner", "Runner._forward", "forward passes"),
    ("hfsearch.pipeline.run", "load_source", "source samples"),
    ("hfsearch.pipeline.run", "load_heldout", "held-out samples"),
    ("hfsearch.tasks.text", "TextClassification.embed_reference", "reference encoder (score stage)"),
)


def breakdown(root: Path, ids: list[str], samples: int, batch_size: int, seed: int) -> list[str]:
    """Where one `find` spends its wall and CPU time: hfsearch's import, each stage, and inside the stages the
    parts in `PARTS` (the rest of the run stage is the runner's own bookkeeping)."""
    import importlib
    from collections import defaultdict

    spent: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])

    def timed(label: str, fn):  # noqa: ANN001, ANN202
        def wrapper(*a, **k):  # noqa: ANN002, ANN003, ANN202
            w, c = time.perf_counter(), time.process_time()
            try:
                return fn(*a, **k)
            finally:
                spent[label][0] += time.perf_counter() - w
                spent[label][1] += time.process_time() - c
        return wrapper

    w, c = time.perf_counter(), time.process_time()
    from hfsearch.search import STAGES, Search, SearchConfig

    spent["import hfsearch"] = [time.perf_counter() - w, time.process_time() - c]
    for module, attr, label in PARTS:
        owner = importlib.import_module(module)
        *path, name = attr.split(".")
        for part in path:
            owner = getattr(owner, part)
        setattr(owner, name, timed(label, getattr(owner, name)))
    search = Search(SearchConfig.create(task="text-classification", dataset=f"perf/{TARGET}", split="train",
                                        hub_dir=str(root), models=ids, samples=samples, seed=seed,
                                        batch_size=batch_size, use_cache=False, progress=False))
    for stage, _ in STAGES:
        w, c = time.perf_counter(), time.process_time()
        search.run_stages(stage)
        spent[f"stage {stage}"] = [time.perf_counter() - w, time.process_time() - c]
    order = ["import hfsearch"] + [f"stage {s}" for s, _ in STAGES] + [label for _, _, label in PARTS]
    lines = ["| part | wall (s) | CPU (s) |", "|---|---|---|"]
    lines += [f"| {'  ' if k in {p[2] for p in PARTS} else ''}{k} | {spent[k][0]:.2f} | {spent[k][1]:.2f} |"
              for k in order if k in spent]
    return lines


def child(args: argparse.Namespace) -> None:
    """One measurement, in this fresh process: the timed region's wall and CPU seconds, and the peak RSS."""
    import datasets  # noqa: F401 - the libraries every mode needs, imported before any clock starts
    import torch  # noqa: F401
    import transformers  # noqa: F401
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    t0 = time.perf_counter()
    from transformers import BertForSequenceClassification  # noqa: F401 - the model class, as `limit` does unclocked
    class_import = time.perf_counter() - t0
    ids = json.loads(args.ids)
    if args.mode == "breakdown":
        print(json.dumps({"lines": breakdown(Path(args.registry), ids, args.samples, args.batch_size, args.seed)}))
        return
    seconds, cpu = MODES[args.mode](Path(args.registry), ids, args.samples, args.batch_size, args.seed)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"mode": args.mode, "wall": seconds, "cpu": cpu, "peak_mib": peak_mib,
                      "class_import": class_import, "reference": REFERENCE[0]}))


# ---- the machine -----------------------------------------------------------------------------------------------
def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def busy_seconds() -> float | None:
    """CPU seconds the whole machine has been busy since boot (``/proc/stat``), or ``None`` where unreadable."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except (OSError, IndexError):
        return None
    ticks = [int(v) for v in fields]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def measure(mode: str, args: argparse.Namespace, ids: list[str], samples: int) -> dict:
    """Run one mode in a fresh process; adds the process's total wall time and the others' CPU use meanwhile."""
    b0, c0, t0 = busy_seconds(), children_cpu(), time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, "--mode", mode, "--ids", json.dumps(ids), "--registry", args.registry,
         "--samples", str(samples), "--batch-size", str(args.batch_size), "--seed", str(args.seed)],
        capture_output=True, text=True, env=dict(os.environ, HF_HUB_OFFLINE="1"),
    )
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{out.stderr[-3000:]}")
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["process_wall"] = wall
    b1 = busy_seconds()
    if b0 is not None and b1 is not None:  # cores kept busy by other processes while this one ran
        res["others"] = max(0.0, (b1 - b0) - (children_cpu() - c0)) / wall
    return res


def summarize(runs: list[dict], key: str) -> tuple[float, float]:
    values = [r[key] for r in runs]
    return min(values), statistics.median(values)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="3x256,4x700,8x700", help="CANDIDATESxROWS, comma-separated")
    p.add_argument("--repeats", type=int, default=3, help="fresh-process runs of every mode (at least 3 advised)")
    p.add_argument("--modes", default="limit,find,naive")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--registry", default=str(ROOT / "bench" / ".perf-registry"))
    p.add_argument("--output", default=str(ROOT / "bench" / "results" / "perf.md"))
    p.add_argument("--breakdown", default="4x700", help="also time the parts of one find at this size ('' to skip)")
    p.add_argument("--mode", choices=[*MODES, "breakdown"], help=argparse.SUPPRESS)
    p.add_argument("--ids", help=argparse.SUPPRESS)
    p.add_argument("--samples", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.mode:
        child(args)
        return
    os.environ["HF_HUB_OFFLINE"] = "1"
    sizes = [tuple(int(v) for v in s.lower().split("x")) for s in args.sizes.split(",") if s.strip()]
    modes = [m for m in args.modes.split(",") if m in MODES]
    root = Path(args.registry)
    ids_all = build_registry(root, max(c for c, _ in sizes))
    ncores = os.cpu_count() or 1
    wait_quiet()
    load_before = os.getloadavg()
    t_start = time.perf_counter()
    results: dict[tuple[int, int], dict[str, list[dict]]] = {}
    for cands, samples in sizes:
        runs: dict[str, list[dict]] = {m: [] for m in modes}
        for rep in range(args.repeats):
            for mode in modes:
                r = measure(mode, args, ids_all[:cands], samples)
                runs[mode].append(r)
                print(f"{cands}x{samples} {mode} #{rep + 1}: wall {r['wall']:.2f} s, cpu {r['cpu']:.2f} s, "
                      f"others {r.get('others', float('nan')):.2f} cores", flush=True)
        results[(cands, samples)] = runs
    load_after = os.getloadavg()
    lines = report(args, results, modes, load_before, load_after, time.perf_counter() - t_start, ncores)
    if args.breakdown:
        cands, samples = (int(v) for v in args.breakdown.lower().split("x"))
        lines += ["", f"Where `find` spends its time ({cands} × {samples}, one run, fresh process; torch, "
                  "transformers, datasets and the model class imported before, as above):", "",
                  *measure("breakdown", args, ids_all[:cands], samples)["lines"]]
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def report(args: argparse.Namespace, results: dict, modes: list[str], load_before: tuple, load_after: tuple,
           seconds: float, ncores: int) -> list[str]:
    import torch

    root = Path(args.registry)
    size_mib = sum(f.stat().st_size for f in (root / "models" / "perf" / "minilm-0").glob("*.safetensors")) / 2**20
    target, held = rows_needed(1, args.seed)
    others = [r["others"] for runs in results.values() for rs in runs.values() for r in rs if "others" in r]
    busy_others = max(others) if others else float("nan")
    command = f"python bench/perf.py --sizes {args.sizes} --repeats {args.repeats} --breakdown {args.breakdown}"
    lines = [
        f"Machine: {cpu_name()}, {ncores} cores, torch {torch.__version__}, {torch.get_num_threads()} threads. "
        f"Command: `{command}` ({seconds / 60:.0f} min).",
        f"Candidates: all-MiniLM-L6-v2 classifiers (22.7M parameters, {size_mib:.0f} MiB safetensors each); target: "
        f"ROWS rows of `{TARGET}` train; every candidate also runs over {len(held)} labeled held-out rows of its "
        f"declared data (`{SOURCE}` test, the accuracy estimators' slice); batch size {args.batch_size}. "
        f"Each mode {args.repeats}× in fresh processes, interleaved; min / median.",
        f"Load average (1, 5, 15 min) before: {', '.join(f'{v:.2f}' for v in load_before)}; after: "
        f"{', '.join(f'{v:.2f}' for v in load_after)}. Other processes used up to {busy_others:.2f} cores while a "
        "mode ran.",
    ]
    if load_before[0] > BUSY_LOAD or busy_others > BUSY_OTHERS:
        lines += ["", f"> **Warning: the machine was busy** (load average {load_before[0]:.2f} before the run; other "
                  f"processes used up to {busy_others:.2f} of {ncores} cores during a mode). Wall times are inflated "
                  "and ratios uncertain; rerun this command on a quiet machine before quoting these figures."]
    lines += ["", "| candidates × rows | mode | wall min / median (s) | CPU min / median (s) | process wall (s) | "
              "peak RSS (MiB) | × limit (wall min) | × limit (CPU min) |", "|---|---|---|---|---|---|---|---|"]
    for (cands, samples), runs in results.items():
        base = runs.get("limit")
        for mode in modes:
            w, wm = summarize(runs[mode], "wall")
            c, cm = summarize(runs[mode], "cpu")
            pw, _ = summarize(runs[mode], "process_wall")
            rss = max(r["peak_mib"] for r in runs[mode])
            ratio = (f"{w / summarize(base, 'wall')[0]:.2f} | {c / summarize(base, 'cpu')[0]:.2f}" if base else "– | –")
            lines.append(f"| {cands} × {samples} | {mode} | {w:.2f} / {wm:.2f} | {c:.2f} / {cm:.2f} | {pw:.1f} | "
                         f"{rss:.0f} | {ratio} |")
    lines += [""]
    for (cands, samples), runs in results.items():
        if not all(m in runs for m in ("limit", "find", "naive")):
            continue
        lim, fnd, nav = (summarize(runs[m], "wall")[0] for m in ("limit", "find", "naive"))
        fixed = fnd - lim
        imp = min(r["class_import"] for r in runs["find"])
        ref = min(r.get("reference", 0.0) for r in runs["find"])
        lines.append(f"- {cands} × {samples}: find / limit = **{fnd / lim:.2f}** (target ≤ 1.15 from 4 × 700 on), "
                     f"naive / find = **{nav / fnd:.2f}** (target ≥ 3); find − limit = {fixed:.2f} s, of which "
                     f"{ref:.2f} s (min over runs) are the reference encoder's forward passes (all-MiniLM-L6-v2 over "
                     f"the target and the source sample, for `knn_coverage`) and the rest hfsearch's import, data "
                     "loading, model and tokenizer loading, tokenization and scoring; with the reference encoder's "
                     f"passes counted as forward passes, find / (limit + reference) = {fnd / (lim + ref):.2f}. "
                     f"Plus {imp:.2f} s to import the model class, which every mode pays before its clock.")
    return lines


if __name__ == "__main__":
    main()
