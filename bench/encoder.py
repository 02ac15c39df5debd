"""Throughput of the reference encoder (all-MiniLM-L6-v2, the similarity scores' ``reference`` space for text) on
this machine: fp32, bf16 autocast (what hfsearch runs where the CPU or GPU computes bf16 natively) and bf16 weights,
at two batch sizes, with each variant's smallest cosine to the fp32 embedding.

    python bench/encoder.py --out bench/results/encoder.md
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data" / "sentiment"


def sentences(n: int) -> list[str]:
    """The first `n` texts of the shipped sentiment domains' test splits, domain after domain."""
    out: list[str] = []
    for folder in sorted(DATA.iterdir()):
        path = folder / "test.jsonl"
        if path.is_file():
            with path.open(encoding="utf-8") as f:
                out += [json.loads(line)["text"] for line in f][: n - len(out)]
        if len(out) >= n:
            break
    return out


def main() -> None:
    from datasets import Dataset

    from hfsearch.tasks.text import TextClassification, _reference_model

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=1500)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", default=str(ROOT / "bench" / "results" / "encoder.md"))
    args = p.parse_args()
    rows = Dataset.from_dict({"text": sentences(args.rows)})
    adapter = TextClassification()
    model, tok = _reference_model()
    enc = adapter.encode(tok, rows, ["text"], max_length=256)

    def embed(batch_size: int, mode: str) -> tuple[float, np.ndarray]:
        m = model.to(torch.bfloat16) if mode == "bf16 weights" else model.to(torch.float32)
        out = np.zeros((len(rows), m.config.hidden_size), dtype=np.float32)
        t0 = time.perf_counter()
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=mode == "bf16 autocast"):
            for idx, batch in adapter.batches(enc, batch_size, tok):
                hidden = m(**batch).last_hidden_state.float()
                mask = batch["attention_mask"].unsqueeze(-1).float()
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
                out[idx] = torch.nn.functional.normalize(pooled, dim=-1).numpy()
        return time.perf_counter() - t0, out

    lines = [
        "## The reference encoder's throughput (`bench/encoder.py`)",
        "",
        f"all-MiniLM-L6-v2 over {len(rows)} sentences of the shipped sentiment domains (mean "
        f"{np.mean(enc.lengths):.1f} tokens), torch {torch.__version__}, {torch.get_num_threads()} threads; rows/s from "
        f"the fastest of {args.repeats} runs; cosine: the smallest over the rows, against fp32.",
        "",
        "| precision | batch size | rows/s | smallest cosine to fp32 |",
        "|---|---:|---:|---:|",
    ]
    reference = None
    for mode in ("fp32", "bf16 autocast", "bf16 weights"):
        for batch_size in (32, 128):
            runs = [embed(batch_size, mode) for _ in range(args.repeats)]
            out = runs[0][1]
            if reference is None:
                reference = out
            cosine = float((out * reference).sum(1).min())
            lines.append(f"| {mode} | {batch_size} | {len(rows) / min(r[0] for r in runs):.0f} | {cosine:.5f} |")
            print(lines[-1], flush=True)
    model.to(torch.float32)
    text = "\n".join(lines) + "\n"
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
