"""Relation classification on low-resource SemEval-2010 Task 8: no augmentation vs RMix and the
comparators (sentence-level mixup, synonym replacement, their mixture).

SemEval-2010 Task 8 has no dev split: each run carves a seeded 10% of train as dev, outside its
training subset (ids in the run's subset.json), selects on it, and scores the selected model on
the full official test set (2,717) with the official metric (macro F1 over the 9 relation
types, direction counted, Other excluded). Budget, seeds and pairing as in ner_quality.py.

    python benchmarks/re_quality.py                    # 200 examples, seeds 1-5
    python benchmarks/re_quality.py --sizes 800 --seeds 1 2 3

Writes benchmarks/results/re_semeval2010.{json,md}.
"""

from __future__ import annotations

from pathlib import Path

from common import (
    TrainConfig,
    grid_config,
    grid_parser,
    render,
    run_cells,
    summarise,
    write_results,
)

from segmix.augment import method_names
from segmix.run import train

METHODS = method_names("re")


def main() -> None:
    parser = grid_parser(
        description=__doc__.splitlines()[0],
        data="semeval2010_task8",
        name="re_quality",
        result="re_semeval2010",
        sizes=[200],
        methods=METHODS,
        default_methods=["none", "rmix", "mixup", "sr", "rmix+sr"],
        steps=300,
        eval_every=50,
    )
    args = parser.parse_args()

    def make_config(size: int, method: str, seed: int, run_dir: Path) -> TrainConfig:
        return grid_config(args, size, method, seed, run_dir, task="re")

    cells = [(n, m, s) for n in args.sizes for s in args.seeds for m in args.methods]
    headline = lambda s: s["macro_f1"]  # noqa: E731
    results = run_cells(cells, Path(args.runs), make_config, train, headline)
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
