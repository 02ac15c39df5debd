"""Speed and memory of a search, side by side in one run (issue: "search costs no more than running the candidates").

Three measurements over the same candidates and the same target sample:

- ``limit``: the bare forward passes — models already loaded, the sample already tokenized into the same
  length-bucketed batches, only ``model(**batch)`` timed under ``torch.inference_mode``;
- ``hfsearch``: ``hfsearch.find`` end to end (weights local, output cache off): loading, tokenization, inference,
  source sampling and every default scorer;
- ``naive``: what a user would write — a ``transformers.pipeline`` per model over the sample, default settings.

Each mode runs in a fresh process so that its peak resident memory (``ru_maxrss``) is its own.

    python bench/perf.py --candidates 4 --samples 512            # writes bench/results/perf.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "hfsearch" / "resources" / "data" / "sentiment"


def build_registry(root: Path, n: int) -> list[str]:
    """`n` all-MiniLM-L6-v2 classifiers (real weights, seeded random heads) and a target dataset, laid out like the Hub."""
    import shutil

    import torch
    from transformers import AutoTokenizer, BertForSequenceClassification

    from hfsearch.tasks.text import minilm_path

    ids = []
    tok = AutoTokenizer.from_pretrained(minilm_path())
    for k in range(n):
        repo = f"perf/minilm-{k}"
        folder = root / "models" / repo
        ids.append(repo)
        if (folder / "model.safetensors").is_file():
            continue
        torch.manual_seed(k)
        model = BertForSequenceClassification.from_pretrained(
            minilm_path(), num_labels=2, id2label={0: "negative", 1: "positive"}, label2id={"negative": 0, "positive": 1}
        )
        model.save_pretrained(folder)
        tok.save_pretrained(folder)
        (folder / "README.md").write_text(
            "---\npipeline_tag: text-classification\nlibrary_name: transformers\ndatasets:\n- perf/uci_amazon\n---\n"
            "# perf candidate\nall-MiniLM-L6-v2 with a random classification head (speed benchmark only).\n"
        )
    for name in ("uci_yelp", "uci_amazon"):
        dst = root / "datasets" / "perf" / name
        if not dst.exists():
            shutil.copytree(DATA / name, dst)
    return ids


def texts(samples: int, seed: int) -> list[str]:
    from hfsearch.data.loading import load_split
    from hfsearch.data.sample import sample_indices

    ds, _ = load_split(str(DATA / "uci_yelp"), split="train")
    return [ds[int(i)]["text"] for i in sample_indices(len(ds), samples, seed)]


def mode_limit(root: Path, ids: list[str], samples: int, batch_size: int, seed: int) -> float:
    import torch
    from datasets import Dataset
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from hfsearch.tasks import get_task

    adapter = get_task("text-classification")
    rows = Dataset.from_dict({"text": texts(samples, seed)})
    total = 0.0
    for repo in ids:
        path = str(root / "models" / repo)
        model = AutoModelForSequenceClassification.from_pretrained(path).eval()
        tok = AutoTokenizer.from_pretrained(path)
        batches = [b for _, b in adapter.batches(adapter.encode(tok, rows, ["text"], max_length=256), batch_size, tok)]
        with torch.inference_mode():
            t0 = time.perf_counter()
            for b in batches:
                model(**b, output_hidden_states=True)
            total += time.perf_counter() - t0
        del model
    return total


def mode_hfsearch(root: Path, ids: list[str], samples: int, batch_size: int, seed: int) -> float:
    import hfsearch

    t0 = time.perf_counter()
    hfsearch.find("text-classification", "perf/uci_yelp", split="train", hub_dir=str(root), models=ids,
                  samples=samples, seed=seed, batch_size=batch_size, use_cache=False, progress=False)
    return time.perf_counter() - t0


def mode_naive(root: Path, ids: list[str], samples: int, batch_size: int, seed: int) -> float:
    from transformers import pipeline

    data = texts(samples, seed)
    t0 = time.perf_counter()
    for repo in ids:
        pipe = pipeline("text-classification", model=str(root / "models" / repo), device="cpu")
        pipe(data)
    return time.perf_counter() - t0


MODES = {"limit": mode_limit, "hfsearch": mode_hfsearch, "naive": mode_naive}


def child(args: argparse.Namespace) -> None:
    ids = json.loads(args.ids)
    seconds = MODES[args.mode](Path(args.registry), ids, args.samples, args.batch_size, args.seed)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"mode": args.mode, "seconds": seconds, "peak_mib": peak_mib}))


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--candidates", type=int, default=4)
    p.add_argument("--samples", type=int, default=512)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--registry", default=str(ROOT / "bench" / ".perf-registry"))
    p.add_argument("--output", default=str(ROOT / "bench" / "results" / "perf.md"))
    p.add_argument("--mode", choices=list(MODES), help=argparse.SUPPRESS)
    p.add_argument("--ids", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.mode:
        child(args)
        return
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    root = Path(args.registry)
    ids = build_registry(root, args.candidates)
    results = {}
    for mode in ("limit", "hfsearch", "naive"):
        out = subprocess.run(
            [sys.executable, __file__, "--mode", mode, "--ids", json.dumps(ids), "--registry", str(root),
             "--samples", str(args.samples), "--batch-size", str(args.batch_size), "--seed", str(args.seed)],
            capture_output=True, text=True, check=True, env=dict(os.environ, HF_HUB_OFFLINE="1"),
        )
        results[mode] = json.loads(out.stdout.strip().splitlines()[-1])
        print(mode, results[mode], flush=True)
    import torch

    lim, hfs, nav = (results[m]["seconds"] for m in ("limit", "hfsearch", "naive"))
    size_mib = sum(f.stat().st_size for f in (root / "models" / ids[0]).glob("*.safetensors")) / 2**20
    lines = [
        f"Machine: {cpu_name()}, {os.cpu_count()} cores, torch {torch.__version__} (CPU), {torch.get_num_threads()} threads.",
        f"{args.candidates} candidates (all-MiniLM-L6-v2 size, 22.7M parameters, {size_mib:.0f} MiB safetensors each), "
        f"{args.samples} target rows, batch size {args.batch_size}. Command: `python bench/perf.py --candidates "
        f"{args.candidates} --samples {args.samples}`.",
        "",
        "| mode | seconds | × limit | peak RSS (MiB) |",
        "|---|---|---|---|",
    ]
    for m in ("limit", "hfsearch", "naive"):
        r = results[m]
        lines.append(f"| {m} | {r['seconds']:.2f} | {r['seconds'] / lim:.2f} | {r['peak_mib']:.0f} |")
    lines += ["", f"hfsearch / limit = **{hfs / lim:.2f}** (target ≤ 1.15); naive / hfsearch = **{nav / hfs:.2f}** (target ≥ 3)."]
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
