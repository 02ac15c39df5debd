"""Assemble BENCHMARKS.md from the result files under bench/results/ (each written by its benchmark command).

    python bench/assemble.py
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
ORDER = ["selector", "selector_study", "consensus_alone", "consensus_alone_notes", "estimator_bias", "tau_rule", "labels", "labels_notes", "label_calibration", "label_calibration_notes", "pools", "perf", "encoder", "sweep", "sweep_notes", "sweep-small", "sweep-medium", "gpu", "lsh", "load",
         "sentiment", "entity-matching", "digits", "ner", "activity"]
TITLES = {"perf": "## Speed: search vs bare forward passes vs a naive pipeline loop (`bench/perf.py`)",
          "sweep": "## Early elimination: `--budget auto` vs `full` over pools of 10, 30 and 100 (`bench/sweep.py`)",
          "sweep-small": "### The same race with larger candidates: hidden 128, 4 layers (`bench/sweep.py --size small`)",
          "sweep-medium": "### The same race with larger candidates again: hidden 256, 4 layers (`bench/sweep.py --size medium`)",
          "gpu": "## GPU: real-size checkpoints at 1,000 rows (`bench/gpu.py`)",
          "lsh": "## Scoring: LSH index vs exact JSD, and scoring cost (`bench/lsh.py`)"}


def main() -> None:
    parts = [(ROOT / "bench" / "HEADER.md").read_text().rstrip()]
    for name in ORDER:
        f = RESULTS / f"{name}.md"
        if not f.is_file():
            continue
        text = f.read_text().strip()
        if name in TITLES:
            if text.startswith("# "):
                text = text.split("\n", 1)[1].strip()
            text = TITLES[name] + "\n\n" + "\n".join(
                ("#" + line if line.startswith("#") else line) for line in text.splitlines()
            )
        parts.append(text)
    (ROOT / "BENCHMARKS.md").write_text("\n\n".join(parts) + "\n")


if __name__ == "__main__":
    main()
