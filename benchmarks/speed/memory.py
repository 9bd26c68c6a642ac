"""Memory: peak resident memory of whole ``segmix train`` runs, and the size of the mixing pools
(and generation rate) as the training set grows.

- Runs: ``python -m segmix.cli train`` on 200 CoNLL-2003 sentences, without augmentation and
  with MMix, each in a fresh process that reports its own peak RSS (VmHWM); a seeded dev
  sample is scored at the end (``--dev-size``), no test file, no saved model.
- Pools: ``MentionMix``/``TokenMix`` fitted on the training set repeated 1×, 4×, 16×; memory
  allocated by ``fit`` (tracemalloc) and mixes per second on one thread.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc

import numpy as np
import torch

from speed.shared import child_env, conll_encoded, conll_file, fmt, median_time

TITLE = "Memory"


def measure(args) -> dict:
    from common import ROOT

    steps = 5 if args.quick else 30
    dev_size = 50 if args.quick else 500
    runs = {
        method: _peak_rss_of_run(args, ROOT / "src", method, steps, dev_size)
        for method in ("none", "mmix")
    }
    return {
        "threads": args.threads,
        "runs": runs,
        "run_settings": {"train_size": 200, "max_steps": steps, "dev_size": dev_size},
        "pools": _pools(args),
    }


# ``python -c CHILD REPORT train …``: the CLI, then the process's own high-water mark written to
# REPORT. VmHWM belongs to the process's own address space; ru_maxrss (getrusage, wait4) would
# start from the RSS of the parent it was forked from.
CHILD = """
import atexit, sys

report_to = sys.argv.pop(1)


def report():
    peak, kind = None, "VmHWM"
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    except OSError:
        import resource

        peak, kind = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "ru_maxrss"
    open(report_to, "w").write(f"{peak} {kind}")


atexit.register(report)
from segmix.cli import app

app()
"""


def _peak_rss_of_run(args, src, method: str, steps: int, dev_size: int) -> dict:
    """Peak RSS of ``segmix train …`` (the CLI), as the process itself measured it."""
    train_args = [
        "train",
        "--train",
        str(conll_file(args.data, "train")),
        "--dev",
        str(conll_file(args.data, "dev")),
        "--dev-size",
        str(dev_size),
        "--train-size",
        "200",
        "--augment",
        method,
        "--max-steps",
        str(steps),
        "--no-save-model",
        "--no-progress",
    ]
    with tempfile.TemporaryDirectory(prefix="segmix-speed-rss-") as tmp:
        report = f"{tmp}/peak"
        cmd = [sys.executable, "-c", CHILD, report, *train_args, "--out", f"{tmp}/run"]
        t0 = time.perf_counter()
        done = subprocess.run(cmd, env=child_env(args.threads, src), capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        if done.returncode != 0 or not os.path.exists(report):
            raise RuntimeError(
                f"segmix train --augment {method} failed:\n{(done.stdout + done.stderr)[-3000:]}"
            )
        with open(report) as fh:
            peak, kind = fh.read().split()
    return {
        "peak_rss_mib": float(peak),
        "measured_with": kind,
        "wall_seconds": seconds,
        "command": ["segmix", *train_args],
    }


def _pools(args) -> dict:
    from segmix.augment import MentionMix, TokenMix

    _, labels, cache, examples, _ = conll_encoded(str(args.data), 2000 if args.quick else None)
    n = 5_000 if args.quick else 50_000
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    out = {}
    try:
        for factor in (1, 4) if args.quick else (1, 4, 16):
            repeated = list(examples) * factor
            row: dict = {"sentences": len(repeated)}
            for name, cls in (("mmix", MentionMix), ("tmix", TokenMix)):
                gc.collect()
                tracemalloc.start()
                aug = cls().fit(repeated, labels, cache)
                current, _ = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                rng = np.random.default_rng(0)
                sec = median_time(lambda a=aug, g=rng: a.generate(n, g), 3)
                row[name] = {"pool_mib": current / 2**20, "per_second": n / sec}
                del aug
            out[str(factor)] = row
    finally:
        torch.set_num_threads(threads)
    return {"rows": out, "n": n, "reps": 3}


def render(r: dict) -> list[str]:
    s = r["run_settings"]
    kinds = ", ".join(sorted({row["measured_with"] for row in r["runs"].values()}))
    lines = [
        f"Peak RSS of `segmix train` runs (each a fresh process; its own {kinds}): "
        f"{s['train_size']} CoNLL-2003 "
        f"sentences, {s['max_steps']} steps, a {s['dev_size']}-sentence dev sample scored at the "
        f"end, no test file, no saved model; {r['threads']} torch threads.",
        "",
        "| run | peak RSS | wall time |",
        "|---|---|---|",
    ]
    for method, row in r["runs"].items():
        lines.append(
            f"| `--augment {method}` | {row['peak_rss_mib']:,.0f} MiB | "
            f"{row['wall_seconds']:.1f} s |"
        )
    p = r["pools"]
    lines += [
        "",
        "Mixing pools on the training set repeated: memory `fit` allocates (tracemalloc) and "
        f"mixes per second (one thread, {p['n']:,} mixes a call, median of {p['reps']}).",
        "",
        "| training set | sentences | MMix pool | MMix / s | TMix pool | TMix / s |",
        "|---|---|---|---|---|---|",
    ]
    for factor, row in p["rows"].items():
        lines.append(
            f"| {factor}× | {row['sentences']:,} | {row['mmix']['pool_mib']:.1f} MiB | "
            f"{fmt(row['mmix']['per_second'])} | {row['tmix']['pool_mib']:.1f} MiB | "
            f"{fmt(row['tmix']['per_second'])} |"
        )
    return lines
