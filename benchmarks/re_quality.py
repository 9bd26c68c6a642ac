"""Relation classification on low-resource SemEval-2010 Task 8: no augmentation vs RMix.

SemEval-2010 Task 8 has no dev split: each run carves a seeded 10% of train as dev, outside its
training subset (ids in the run's subset.json), selects on it, and scores the selected model on
the full official test set (2,717) with the official metric (macro F1 over the 9 relation
types, direction counted, Other excluded). Budget, seeds and pairing as in ner_quality.py.

    python benchmarks/re_quality.py                    # sizes 200 and 800, seeds 1-3

Writes benchmarks/results/re_semeval2010.{json,md}.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from common import ROOT, TrainConfig, render, run_cells, summarise, write_results

from segmix.re_training import train_re

METHODS = ("none", "rmix", "mmix")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", default=str(ROOT.parent / "shared" / "data" / "semeval2010_task8")
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 800])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--methods", nargs="+", default=["none", "rmix"], choices=METHODS)
    parser.add_argument("--steps", type=int, default=300, help="optimizer steps per run")
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--rate", type=float, default=0.2)
    parser.add_argument("--alpha", type=float, default=8.0)
    parser.add_argument("--eval-every", type=int, default=50)
    parser.add_argument("--runs", default=str(ROOT / "benchmarks" / "runs" / "re_quality"))
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "re_semeval2010"))
    args = parser.parse_args()

    def make_config(size: int, method: str, seed: int, run_dir: Path) -> TrainConfig:
        return TrainConfig(
            task="re",
            data_dir=args.data,
            train_size=size,
            sample_seed=seed,
            seed=seed,
            augment=method,
            rate=args.rate,
            alpha=args.alpha,
            max_steps=args.steps,
            batch_size=args.batch_size,
            lr=args.lr,
            eval_every=args.eval_every,
            output_dir=str(run_dir),
            save_model=False,
            progress=False,
        )

    cells = [(n, m, s) for n in args.sizes for s in args.seeds for m in args.methods]
    headline = lambda s: s["macro_f1"]  # noqa: E731
    results = run_cells(cells, Path(args.runs), make_config, train_re, headline)
    setup = {k: v for k, v in vars(args).items() if k not in ("runs", "out")}
    summary = summarise(results, headline, setup)
    preamble = (
        f"SemEval-2010 Task 8, encoder all-MiniLM-L6-v2 (bundled) with entity markers; "
        f"{args.steps} optimizer steps for every method and size (batch {args.batch_size}, lr "
        f"{args.lr}); augmentation rate {args.rate}, alpha {args.alpha}. Dev: a seeded 10% of "
        "train carved outside the subset, evaluated every "
        f"{args.eval_every} steps for selection; test: the full official test set (2,717), "
        "official macro F1 (9 types, direction counted, Other excluded). Seeds are paired."
    )
    write_results(
        Path(args.out),
        summary,
        render(
            summary,
            "Relation classification on low-resource SemEval-2010 Task 8",
            preamble,
            "macro F1",
        ),
    )


if __name__ == "__main__":
    main()
