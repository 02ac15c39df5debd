"""Scale-out: candidates sharded over two CPU processes (torchrun), gathered on rank 0 = the one-process ranking."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

ARGS = ["find", "--task", "text-classification", "--dataset", "test-org/uci_yelp", "--author", "test-org",
        "--labels", "negative,positive", "--samples", "64", "--scores", "adaptivity,confidence,agreement,mmd:model",
        "--format", "json", "--device", "cpu"]


@pytest.mark.skipif(shutil.which("torchrun") is None, reason="torchrun not installed")
def test_two_processes_give_the_single_process_ranking(registry, env_for_subprocess, tmp_path):
    single = tmp_path / "single.json"
    proc = subprocess.run([sys.executable, "-m", "hfsearch", *ARGS, "--output", str(single), "--no-cache"],
                          env=env_for_subprocess, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr

    multi = tmp_path / "multi.json"
    env = dict(env_for_subprocess, OMP_NUM_THREADS="1")
    proc = subprocess.run(
        ["torchrun", "--standalone", "--nproc_per_node", "2", "-m", "hfsearch", *ARGS, "--output", str(multi),
         "--no-cache"],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    a, b = json.loads(single.read_text()), json.loads(multi.read_text())
    assert [r["model"] for r in a["ranking"]] == [r["model"] for r in b["ranking"]]
    for ra, rb in zip(a["ranking"], b["ranking"]):
        for col in ("adaptivity", "confidence", "agreement", "mmd:model"):
            assert ra[col] == pytest.approx(rb[col], rel=1e-5, abs=1e-6), col
    # only rank 0 wrote: stdout carries nothing from the other rank
    assert proc.stdout.strip() == ""
