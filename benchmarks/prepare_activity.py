"""Regenerate ``benchmarks/data/activity`` (the activity-recognition workload's data) from the seglearn watch dataset.

    python benchmarks/prepare_activity.py [/path/to/watch_exercises]     # folder with subjects_01-05.npz, subjects_06-10.npz

The source is seglearn's example dataset (``seglearn/data/watch_dataset.npy``, BSD-3-Clause; Burns et al. 2018,
arXiv:1802.01489) as converted in ``shared/data/activity/watch_exercises`` (two ``.npz`` files split by subject, float32
signals; see that folder's SOURCE.md). What this script writes (deterministic; rerunning it gives identical data):

- ``watch_exercises/<side>-<subjects>/{train,test}.parquet``: six domains, arm side (``left``/``right``) x subject group
  (``s01-03``, ``s04-06``, ``s07-10``). Each recording (one subject, one arm, one exercise, 20 repetitions at 50 Hz)
  is split in time: its first 60% gives the ``train`` windows, the rest the ``test`` windows (no window crosses the
  cut). Windows are 128 samples (2.56 s) of the 6 channels (ax, ay, az in g; wx, wy, wz in rad/s), taken every
  128 samples (no overlap), values unchanged (float32). Columns: ``series`` (``Array2D(128, 6)``) and ``label``
  (``ClassLabel`` PEN, ABD, FEL, IR, ER, TRAP, ROW).
- ``watch_recordings_example/test.parquet``: the test part (last 40%) of the 7 recordings of subject 10's right arm,
  one row per recording (``series`` of variable length, ``label``): a small folder for
  ``hfsearch find --task time-series-classification --window 128 --stride 64``.

The windows are a subset of the source samples: the tail of each recording part shorter than a window is dropped
(about 5% of the samples).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent / "data" / "activity"
DEFAULT_SOURCE = Path("/work/shared/data/activity/watch_exercises")
WINDOW, STRIDE, TRAIN_FRACTION = 128, 128, 0.6
GROUPS = {"s01-03": (1, 2, 3), "s04-06": (4, 5, 6), "s07-10": (7, 8, 9, 10)}
SIDES = {"left": 0, "right": 1}
EXAMPLE = {"subject": 10, "side": 1}


def recordings(source: Path) -> tuple[list[dict], list[str], list[str]]:
    """Every recording of the two source files: ``{signal, y, subject, side}``, in source order."""
    out: list[dict] = []
    labels = channels = None
    for name in ("subjects_01-05.npz", "subjects_06-10.npz"):
        data = np.load(source / name)
        labels, channels = [str(x) for x in data["y_labels"]], [str(x) for x in data["X_labels"]]
        off = data["offsets"]
        for i in range(len(off) - 1):
            out.append({"signal": data["signals"][off[i] : off[i + 1]], "y": int(data["y"][i]),
                        "subject": int(data["subject"][i]), "side": int(data["side"][i]),
                        "source_index": int(data["source_index"][i])})
    out.sort(key=lambda r: r["source_index"])
    return out, labels, channels  # type: ignore[return-value]


def windows(signal: np.ndarray) -> np.ndarray:
    starts = np.arange(0, len(signal) - WINDOW + 1, STRIDE)
    return signal[starts[:, None] + np.arange(WINDOW)[None, :]] if len(starts) else np.zeros((0, WINDOW, signal.shape[1]), np.float32)


def write(rows: dict, label_names: list[str], path: Path, fixed: bool) -> None:
    from datasets import Array2D, ClassLabel, Dataset, Features, List, Value

    series = Array2D(shape=(WINDOW, 6), dtype="float32") if fixed else List(List(Value("float32")))
    ds = Dataset.from_dict(rows, features=Features({"series": series, "label": ClassLabel(names=label_names)}))
    path.parent.mkdir(parents=True, exist_ok=True)
    import pyarrow.parquet as pq

    table = ds.data.table.replace_schema_metadata(ds.features.arrow_schema.metadata)  # keeps the datasets features
    pq.write_table(table, str(path), compression="zstd", compression_level=19, use_dictionary=False,
                   use_byte_stream_split=True)


SOURCE_NOTE = """# {name}

Windows of the smartwatch shoulder-exercise recordings shipped with seglearn (Burns et al. 2018, arXiv:1802.01489;
seglearn 1.2.5, `seglearn/data/watch_dataset.npy`, BSD-3-Clause: see `../LICENSE.seglearn`).

- **Domain:** {side} arm, subjects {subjects} ({n_rec} recordings: each subject x 7 exercises, 20 repetitions each).
- **Split:** each recording is cut in time: the first 60% of its samples give the `train` windows, the rest the
  `test` windows (no window crosses the cut).
- **Windows:** 128 samples = 2.56 s at 50 Hz, every 128 samples (no overlap), 6 channels (ax, ay, az in g; wx, wy, wz
  in rad/s), float32 values unchanged; the tail of each part shorter than a window is dropped.
- **Columns:** `series` (128 x 6), `label` (ClassLabel: PEN, ABD, FEL, IR, ER, TRAP, ROW = pendulum, abduction,
  forward elevation, internal rotation, external rotation, trapezius extension, upright row).
- **Rows:** train {n_train}, test {n_test}.
- **Regenerate:** `python benchmarks/prepare_activity.py` (deterministic).
"""

ROOT_NOTE = """# watch_exercises (activity recognition)

Smartwatch inertial recordings of shoulder-rehabilitation exercises (Burns et al., *Shoulder physiotherapy exercise
recognition: machine learning the inertial signals from a smartwatch*, 2018, arXiv:1802.01489), shipped inside the
seglearn package as its example dataset: 140 recordings (10 subjects x 7 exercises x 2 arms), 6 channels (ax, ay, az
in g; wx, wy, wz in rad/s) at 50 Hz, each recording a set of 20 repetitions.

- **Origin:** PyPI seglearn 1.2.5 (`seglearn-1.2.5-py3-none-any.whl`): `seglearn/data/watch_dataset.npy`
  (`seglearn.datasets.load_watch`).
- **Licence:** seglearn is BSD-3-Clause (`LICENSE.seglearn`, copied from the package); the docstring describes the data
  as from the author's smartwatch study, with no separate data licence.
- **What is stored here:** a windowed subset, not the recordings: six domains (arm side x subject group), each with
  `train` / `test` windows of 128 samples (2.56 s) without overlap, from the first 60% / last 40% of every recording
  (about 95% of the samples; see each folder's SOURCE.md). `python benchmarks/prepare_activity.py` regenerates it.
"""

EXAMPLE_NOTE = """# watch_recordings_example

Seven smartwatch recordings (subject 10, right arm, one per exercise) from seglearn's watch dataset (Burns et al. 2018,
arXiv:1802.01489; BSD-3-Clause, see `../watch_exercises/LICENSE.seglearn`): the last 40% of each recording (the part no zoo model of
`benchmarks/activity.yaml` trains on), one row per recording.

- **Columns:** `series` (time x 6: ax, ay, az in g; wx, wy, wz in rad/s; 50 Hz; lengths {lengths}), `label`
  (ClassLabel: PEN, ABD, FEL, IR, ER, TRAP, ROW).
- **Use:** `hfsearch find --task time-series-classification --dataset benchmarks/data/activity/watch_recordings_example
  --window 128 --stride 64 …` cuts each recording into 2.56 s windows every 1.28 s.
- **Regenerate:** `python benchmarks/prepare_activity.py` (deterministic).
"""


def main(source: Path = DEFAULT_SOURCE) -> None:
    recs, label_names, channels = recordings(source)
    assert channels == ["ax", "ay", "az", "wx", "wy", "wz"], channels
    root = HERE / "watch_exercises"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    shutil.copy(source / "LICENSE.seglearn", root / "LICENSE.seglearn")
    (root / "SOURCE.md").write_text(ROOT_NOTE)
    for side, side_id in SIDES.items():
        for group, subjects in GROUPS.items():
            name = f"{side}-{group}"
            parts: dict[str, dict[str, list]] = {"train": {"series": [], "label": []}, "test": {"series": [], "label": []}}
            chosen = [r for r in recs if r["side"] == side_id and r["subject"] in subjects]
            for r in chosen:
                cut = int(len(r["signal"]) * TRAIN_FRACTION)
                for split, piece in (("train", r["signal"][:cut]), ("test", r["signal"][cut:])):
                    w = windows(piece)
                    parts[split]["series"].extend(w)
                    parts[split]["label"].extend([r["y"]] * len(w))
            for split, rows in parts.items():
                rows["series"] = np.stack(rows["series"]).astype(np.float32)
                write(rows, label_names, root / name / f"{split}.parquet", fixed=True)
            (root / name / "SOURCE.md").write_text(SOURCE_NOTE.format(
                name=name, side=side, subjects=", ".join(map(str, subjects)), n_rec=len(chosen),
                n_train=len(parts["train"]["label"]), n_test=len(parts["test"]["label"])))
    example = [r for r in recs if r["subject"] == EXAMPLE["subject"] and r["side"] == EXAMPLE["side"]]
    example.sort(key=lambda r: r["y"])
    tails = [r["signal"][int(len(r["signal"]) * TRAIN_FRACTION) :] for r in example]
    folder = HERE / "watch_recordings_example"
    if folder.exists():
        shutil.rmtree(folder)
    write({"series": [t.tolist() for t in tails], "label": [r["y"] for r in example]}, label_names,
          folder / "test.parquet", fixed=False)
    (folder / "SOURCE.md").write_text(EXAMPLE_NOTE.format(lengths=f"{min(map(len, tails))}-{max(map(len, tails))}"))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SOURCE)
