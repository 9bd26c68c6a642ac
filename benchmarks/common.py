"""What the quality benchmarks share: resumable cells, paired summaries, Markdown tables.

A cell is one (size, method, seed) run in its own folder; a finished cell's metrics.json is
reused, so an interrupted grid resumes where it stopped.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from segmix.config import TrainConfig  # noqa: E402
from segmix.runs import is_finished, versions  # noqa: E402

Cell = tuple[int, str, int]  # (train size, method, seed)


def run_cells(
    cells: list[Cell],
    runs_dir: Path,
    make_config: Callable[[int, str, int, Path], TrainConfig],
    train: Callable[..., dict],
    headline: Callable[[dict], float],
) -> dict[tuple[int, str], dict[int, dict]]:
    """Run (or reuse) every cell; print progress with an ETA; return metrics by cell."""
    results: dict[tuple[int, str], dict[int, dict]] = {}
    started, fresh = time.perf_counter(), 0
    for n, (size, method, seed) in enumerate(cells, 1):
        run_dir = runs_dir / f"n{size}" / method / f"seed{seed}"
        if is_finished(run_dir):
            metrics = json.loads((run_dir / "metrics.json").read_text())
            state = "reused"
        else:
            # an interrupted cell continues from its last checkpoint (or starts over when it
            # stopped before writing its config)
            resuming = (run_dir / "config.json").exists()
            config = make_config(size, method, seed, run_dir)
            metrics = train(config, resume=resuming, overwrite=not resuming)
            fresh += 1
            state = "trained"
        left = len(cells) - n
        eta = (time.perf_counter() - started) / fresh * left if fresh else 0.0
        print(
            f"[{n}/{len(cells)}] n={size} {method} seed {seed} ({state}): test "
            f"{headline(metrics['test']) * 100:.2f}, dev {headline(metrics['dev']) * 100:.2f}; "
            f"ETA {eta / 60:.0f} min",
            flush=True,
        )
        results.setdefault((size, method), {})[seed] = metrics
    return results


def grid_parser(
    description: str,
    *,
    data: str,
    name: str,
    result: str,
    sizes: list[int],
    methods: tuple[str, ...],
    default_methods: list[str],
    steps: int,
    eval_every: int,
):
    """The options every quality grid takes (sizes, seeds, methods, budget, where to write)."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / data))
    parser.add_argument("--sizes", type=int, nargs="+", default=sizes)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--methods", nargs="+", default=default_methods, choices=methods)
    parser.add_argument("--steps", type=int, default=steps, help="optimizer steps per run")
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--rate", type=float, default=0.2)
    parser.add_argument("--alpha", type=float, default=8.0)
    parser.add_argument("--eval-every", type=int, default=eval_every)
    parser.add_argument("--runs", default=str(ROOT / "benchmarks" / "runs" / name))
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / result))
    return parser


def grid_config(args, size: int, method: str, seed: int, run_dir: Path, **task) -> TrainConfig:
    """One cell's run: the grid's budget and hyperparameters; sample seed = seed (paired)."""
    task = {"augment": method, **task}  # a row label may stand for a method and its options
    return TrainConfig(
        data_dir=args.data,
        train_size=size,
        sample_seed=seed,
        seed=seed,
        rate=args.rate,
        alpha=args.alpha,
        max_steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        eval_every=args.eval_every,
        output_dir=str(run_dir),
        save_model=False,
        progress=False,
        **task,
    )


def paired_p(diffs: list[float]) -> float | None:
    """Two-sided p-value of a paired t-test on per-seed gains (None with fewer than 2 seeds)."""
    if len(diffs) < 2:
        return None
    sd = statistics.stdev(diffs)
    if sd == 0:
        return 0.0 if statistics.mean(diffs) != 0 else 1.0
    t = statistics.mean(diffs) / (sd / len(diffs) ** 0.5)
    try:
        from scipy import stats
    except ImportError:
        return None
    return float(2 * stats.t.sf(abs(t), len(diffs) - 1))


def summarise(
    results: dict[tuple[int, str], dict[int, dict]], headline: Callable[[dict], float], setup: dict
) -> dict:
    """Mean ± std of the headline test score per cell, and the paired gain over 'none'."""
    rows = []
    order = {m: i for i, m in enumerate(setup.get("methods", []))}
    cells = sorted(results.items(), key=lambda kv: (kv[0][0], order.get(kv[0][1], 99)))
    for (size, method), by_seed in cells:
        base = results.get((size, "none"), {})
        test = {s: headline(m["test"]) * 100 for s, m in by_seed.items()}
        dev = {s: headline(m["dev"]) * 100 for s, m in by_seed.items()}
        gains = {s: test[s] - headline(base[s]["test"]) * 100 for s in test if s in base}
        steps = [m["timing"]["train_seconds"] / m["steps"] for m in by_seed.values()]
        rows.append(
            {
                "train_size": size,
                "method": method,
                "test": test,
                "dev": dev,
                "test_mean": statistics.mean(test.values()),
                "test_std": statistics.stdev(test.values()) if len(test) > 1 else 0.0,
                "dev_mean": statistics.mean(dev.values()),
                "gain": gains if method != "none" else None,
                "gain_mean": statistics.mean(gains.values())
                if gains and method != "none"
                else None,
                "gain_std": statistics.stdev(gains.values())
                if len(gains) > 1 and method != "none"
                else None,
                "gain_p": paired_p(list(gains.values())) if method != "none" else None,
                "step_seconds_mean": statistics.mean(steps),
                "mixes_per_epoch": next(iter(by_seed.values()))["mixes_per_epoch"],
                "best_step": {s: m["best_step"] for s, m in by_seed.items()},
            }
        )
    return {"setup": setup, "versions": versions(), "rows": rows}


def render(summary: dict, title: str, preamble: str, metric: str) -> str:
    lines = [
        f"# {title}",
        "",
        preamble,
        "",
        f"| train size | method | test {metric} (mean ± std) | per seed | gain over none "
        "(paired, mean ± std) | p (paired t) | dev (mean) | selected step per seed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in summary["rows"]:
        per_seed = ", ".join(f"{v:.2f}" for v in r["test"].values())
        gain = (
            "–" if r["gain_mean"] is None else f"{r['gain_mean']:+.2f} ± {r['gain_std'] or 0:.2f}"
        )
        p = "–" if r["gain_p"] is None else f"{r['gain_p']:.2f}"
        lines.append(
            f"| {r['train_size']} | {r['method']} | {r['test_mean']:.2f} ± {r['test_std']:.2f} | "
            f"{per_seed} | {gain} | {p} | {r['dev_mean']:.2f} | "
            f"{', '.join(str(v) for v in r['best_step'].values())} |"
        )
    v = summary["versions"]
    lines += [
        "",
        "Each run's metrics.json keeps where its time went (training steps, selection, "
        "checkpoints, test), taken with other work on the machine; clean timings are in "
        "speed/speed.md.",
        "",
        f"Machine: {v['platform']}, {v['cpu_count']} CPUs, {v['torch_threads']} torch "
        f"threads, {v['device']}; torch {v['packages']['torch']}, transformers "
        f"{v['packages']['transformers']}.",
        "",
    ]
    return "\n".join(lines)


def write_results(out: Path, summary: dict, markdown: str) -> None:
    from segmix.runs import write_json

    write_json(out.with_suffix(".json"), summary)
    out.with_suffix(".md").write_text(markdown)
    print(markdown)
