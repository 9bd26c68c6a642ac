"""NER quality on low-resource CoNLL-2003: no augmentation vs MMix, TMix, SMix.

Every method gets the same budget in optimizer steps, the same hyperparameters and, per seed,
the same training subset (sample seed = seed), initialisation and batch-order seed. Model
selection is on a fixed seeded sample of dev (never test); the selected model is then scored on
the full dev and test sets. Cells are resumable: a finished cell's metrics.json is reused.

    python benchmarks/ner_quality.py                 # the full grid (about 45 min on 2 CPU cores)
    python benchmarks/ner_quality.py --seeds 1 --methods none mmix

Writes benchmarks/results/ner_conll2003_200.{json,md}; run folders go to benchmarks/runs/.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from segmix.runs import versions, write_json  # noqa: E402
from segmix.training import TrainConfig, train_ner  # noqa: E402

METHODS = ("none", "mmix", "tmix", "smix")


def paired_t(diffs: list[float]) -> float | None:
    """Two-sided p-value of a paired t-test on per-seed gains (None with fewer than 2 seeds)."""
    if len(diffs) < 2:
        return None
    sd = statistics.stdev(diffs)
    if sd == 0:
        return 0.0 if statistics.mean(diffs) != 0 else 1.0
    t = statistics.mean(diffs) / (sd / len(diffs) ** 0.5)
    try:
        from scipy import stats

        return float(2 * stats.t.sf(abs(t), len(diffs) - 1))
    except ImportError:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "conll2003"))
    parser.add_argument("--train-size", type=int, default=200)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--steps", type=int, default=400, help="optimizer steps per run")
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--rate", type=float, default=0.2)
    parser.add_argument("--alpha", type=float, default=8.0)
    parser.add_argument("--dev-size", type=int, default=1000, help="dev sample for selection")
    parser.add_argument("--eval-every", type=int, default=40)
    parser.add_argument("--runs", default=str(ROOT / "benchmarks" / "runs" / "ner_quality"))
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "ner_conll2003_200"))
    args = parser.parse_args()

    cells = [(seed, method) for seed in args.seeds for method in args.methods]
    results: dict[str, dict[int, dict]] = {m: {} for m in args.methods}
    for n, (seed, method) in enumerate(cells, 1):
        run_dir = Path(args.runs) / f"n{args.train_size}" / method / f"seed{seed}"
        done = run_dir / "metrics.json"
        if done.exists():
            metrics = json.loads(done.read_text())
            print(f"[{n}/{len(cells)}] {method} seed {seed}: reused", flush=True)
        else:
            print(f"[{n}/{len(cells)}] {method} seed {seed}: training", flush=True)
            config = TrainConfig(
                data_dir=args.data,
                train_size=args.train_size,
                sample_seed=seed,
                seed=seed,
                augment=method,
                rate=args.rate,
                alpha=args.alpha,
                max_steps=args.steps,
                batch_size=args.batch_size,
                lr=args.lr,
                dev_size=args.dev_size,
                eval_every=args.eval_every,
                output_dir=str(run_dir),
                save_model=False,
                progress=False,
            )
            metrics = train_ner(config)
        results[method][seed] = metrics
        print(
            f"    test F1 {metrics['test']['f1']:.4f}  dev F1 {metrics['dev']['f1']:.4f}  "
            f"epoch {statistics.median(metrics['timing']['epoch_seconds']):.2f}s",
            flush=True,
        )

    summary = summarise(results, args)
    write_json(Path(args.out).with_suffix(".json"), summary)
    Path(args.out).with_suffix(".md").write_text(render(summary))
    print(render(summary))


def summarise(results: dict[str, dict[int, dict]], args) -> dict:
    base = results.get("none", {})
    rows = {}
    for method, by_seed in results.items():
        f1 = {s: m["test"]["f1"] * 100 for s, m in by_seed.items()}
        dev = {s: m["dev"]["f1"] * 100 for s, m in by_seed.items()}
        epoch = [statistics.median(m["timing"]["epoch_seconds"]) for m in by_seed.values()]
        step = [m["timing"]["train_seconds"] / m["steps"] for m in by_seed.values()]
        gains = {s: f1[s] - base[s]["test"]["f1"] * 100 for s in f1 if s in base}
        rows[method] = {
            "test_f1": f1,
            "dev_f1": dev,
            "test_f1_mean": statistics.mean(f1.values()),
            "test_f1_std": statistics.stdev(f1.values()) if len(f1) > 1 else 0.0,
            "gain_per_seed": gains,
            "gain_mean": statistics.mean(gains.values()) if gains else None,
            "gain_std": statistics.stdev(gains.values()) if len(gains) > 1 else None,
            "gain_paired_t_p": paired_t(list(gains.values())) if method != "none" else None,
            "epoch_seconds_median": statistics.median(epoch),
            "step_seconds_mean": statistics.mean(step),
            "mixes_per_epoch": next(iter(by_seed.values()))["mixes_per_epoch"],
            "best_step": {s: m["best_step"] for s, m in by_seed.items()},
        }
    return {
        "setup": {
            "data": args.data,
            "train_size": args.train_size,
            "seeds": args.seeds,
            "steps": args.steps,
            "batch_size": args.batch_size,
            "lr": args.lr,
            "rate": args.rate,
            "alpha": args.alpha,
            "dev_sample_for_selection": args.dev_size,
            "eval_every": args.eval_every,
            "model": "all-MiniLM-L6-v2 (bundled)",
        },
        "versions": versions(),
        "methods": rows,
    }


def render(summary: dict) -> str:
    s = summary["setup"]
    lines = [
        f"# NER on CoNLL-2003, {s['train_size']} training sentences",
        "",
        f"Encoder {s['model']}; {s['steps']} optimizer steps for every method (batch "
        f"{s['batch_size']}, lr {s['lr']}, AdamW, linear decay, 10% warm-up); augmentation rate "
        f"{s['rate']}, alpha {s['alpha']}; sample seeds = seeds {s['seeds']} (paired: the same "
        f"subset, initialisation and order seed for every method). Selection on a fixed "
        f"{s['dev_sample_for_selection']}-sentence dev sample every {s['eval_every']} steps; "
        "scores of the selected model on the full dev (3,250) and test (3,453) sets; "
        "entity-level micro F1 (seqeval, strict IOB2).",
        "",
        "| method | test F1 (mean ± std) | per seed | gain over none (paired) | p (paired t) "
        "| dev F1 | epoch wall time (median) | s / step |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for method, r in summary["methods"].items():
        per_seed = ", ".join(f"{v:.2f}" for v in r["test_f1"].values())
        gain = (
            "–"
            if method == "none" or r["gain_mean"] is None
            else (f"{r['gain_mean']:+.2f} ± {r['gain_std'] or 0:.2f}")
        )
        p = "–" if r["gain_paired_t_p"] is None else f"{r['gain_paired_t_p']:.2f}"
        dev = statistics.mean(r["dev_f1"].values())
        lines.append(
            f"| {method} | {r['test_f1_mean']:.2f} ± {r['test_f1_std']:.2f} | {per_seed} | {gain} "
            f"| {p} | {dev:.2f} | {r['epoch_seconds_median']:.2f} s "
            f"({r['mixes_per_epoch']} mixes) | {r['step_seconds_mean']:.3f} |"
        )
    v = summary["versions"]
    lines += [
        "",
        f"Machine: {v['platform']}, {v['cpu_count']} CPUs, {v['torch_threads']} torch threads, "
        f"{v['device']}; torch {v['packages']['torch']}, transformers "
        f"{v['packages']['transformers']}.",
        "",
        "An epoch with augmentation holds 20% more examples, so it takes longer; per optimizer "
        "step the cost is the same (last column). With 3 seeds and a seed-to-seed spread of "
        "about ±2 F1, a gain under 2 points is not distinguishable from noise.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
