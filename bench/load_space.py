"""Simultaneous users of the Space: who is served, who is told to wait, who is refused, and what memory it costs.

The app runs in its own process as on a Hugging Face Space (restricted mode, the offline demo registry, one search
at a time, a queue of ``--queue-size``). One user runs the offline example search first (it computes and caches the
candidates' outputs: the server's "warm" memory); then ``--users`` clients send the same search at the same moment
through `gradio_client`, and again (``--crowds``, so that memory can be seen not to grow from one crowd to the next);
then one more user checks that the server still answers. Written to
``bench/results/load.md`` (gathered into BENCHMARKS.md by ``bench/assemble.py``).

    nice -n 10 python bench/load_space.py                    # 20 users, queue 16 (the Space's defaults)
    python bench/load_space.py --users 6 --queue-size 2      # a quick look

The demo registry is built first if needed (about a minute on 2 CPU cores, once; ``--demo-dir``).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hfsearch.config import DEFAULT_SCORES
from hfsearch.testing.space_load import LoadReport, SpaceServer, run_users


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20, help="simultaneous users (default 20)")
    parser.add_argument("--crowds", type=int, default=2,
                        help="crowds sent one after the other (memory must not grow from one to the next; default 2)")
    parser.add_argument("--queue-size", type=int, default=16, help="HFSEARCH_SPACE_QUEUE_SIZE (default 16)")
    parser.add_argument("--candidates", type=int, default=5, help="candidates per search (default 5: the demo zoo)")
    parser.add_argument("--samples", type=int, default=300, help="target rows per search (default 300)")
    parser.add_argument("--timeout", type=float, default=3600, help="the most one request may take, in seconds")
    parser.add_argument("--demo-dir", default=None, help="demo registry folder (default: HFSEARCH_DEMO_DIR or the "
                                                          "HF assets cache)")
    parser.add_argument("--output", default=str(ROOT / "bench" / "results" / "load.md"))
    args = parser.parse_args(argv)

    from hfsearch.app.demo_registry import DemoRegistry

    demo = DemoRegistry(args.demo_dir)
    print(f"demo registry: {demo.ensure()}", flush=True)
    recipe = demo.recipe
    request = [recipe.task, recipe.target_dataset_id(), None, "", "test", "", args.candidates, args.samples,
               list(DEFAULT_SCORES), "", "", "", "", "", str(demo.root), ", ".join(recipe.label_names or [])]
    work = Path(tempfile.mkdtemp(prefix="hfsearch-load-"))
    env = {"HFSEARCH_DEMO_DIR": str(demo.root), "HFSEARCH_SPACE_RESTRICTED": "1", "HFSEARCH_SPACE_BUILD_DEMO": "0",
           "HFSEARCH_SPACE_QUEUE_SIZE": str(args.queue_size), "HFSEARCH_SPACE_TIMEOUT": "600",
           "HFSEARCH_CACHE": str(work / "outputs"), "HF_HUB_OFFLINE": "1", "OMP_WAIT_POLICY": "PASSIVE"}
    load_before = os.getloadavg()
    t0 = time.monotonic()
    with SpaceServer(env, log=work / "server.log") as server:
        idle = server.rss()
        print(f"server up on {server.url} (log: {work / 'server.log'}); warm-up search…", flush=True)
        (warm,) = run_users(server.url, 1, request, timeout_s=args.timeout)
        if warm.outcome != "completed":
            raise SystemExit(f"the warm-up search failed: {warm.message}")
        rss_warm = server.rss()
        print(f"warm-up took {warm.finished_s:.1f} s; {args.users} users…", flush=True)
        rounds, peaks = [], []
        for k in range(args.crowds):
            rounds.append(run_users(server.url, args.users, request, timeout_s=args.timeout))
            sampled = max((rss for _, rss in server.samples), default=None)
            peaks.append(max(filter(None, [sampled, server.peak_rss()]), default=None))
            print(f"crowd {k + 1}: {[r.outcome for r in rounds[-1]].count('completed')} completed", flush=True)
        (after,) = run_users(server.url, 1, request, timeout_s=args.timeout)
        report = LoadReport(rounds, rss_idle=idle, rss_warm=rss_warm, rss_peaks=peaks, rss_after=server.rss(),
                            alive_after=server.alive, followup_ok=after.outcome == "completed",
                            settings={"users per crowd": args.users, "crowds": args.crowds,
                                      "queue size": args.queue_size, "concurrency": 1,
                                      "search": f"demo registry, {args.candidates} candidates, {args.samples} samples, "
                                                f"{len(DEFAULT_SCORES)} scorers + the estimators (auto)"})
    load_after = os.getloadavg()
    took = time.monotonic() - t0
    text = report.to_markdown()
    notes = [
        "",
        (f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores, shared with other jobs: load average "
         f"{load_before[0]:.1f} before, {load_after[0]:.1f} after ({took / 60:.1f} min in all). The warm-up search "
         f"(outputs computed and cached) took {warm.finished_s:.1f} s; the crowd's searches read the cached outputs. "
         "Peak RSS is the larger of the 0.2 s samples and the kernel's high-water mark (`VmHWM`, which includes the "
         "warm-up). The per-request table and the notes below are of the first crowd."),
    ]
    queued = [r for r in report.rounds[0] if r.first_rank is not None]
    refused = [r for r in report.rounds[0] if r.outcome == "refused"]
    if queued:
        last = max(queued, key=lambda r: r.first_rank)  # the last to get a place: 1 running + places 0..N-1
        notes.append(
            f"The last user to get a place (the {_ordinal(last.first_rank + 2)} in: one search running, {last.first_rank} "
            f"waiting ahead) was told at once ({last.answered_s:.1f} s) that it waits at place {last.first_rank + 1} of "
            f"{last.queue_size}; its search started after {last.wait_s or 0:.1f} s and it ended *{last.outcome}* "
            f"after {last.finished_s:.1f} s."
        )
    if refused:
        notes.append(f"{len(refused)} users arrived with the queue full and were refused within "
                     f"{max(r.answered_s for r in refused):.1f} s: \"{refused[0].message}\" (the browser says \"This "
                     "application is currently busy. Please try again.\").")
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(text + "\n".join(notes) + "\n")
    print(text + "\n".join(notes))


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


if __name__ == "__main__":
    main()
