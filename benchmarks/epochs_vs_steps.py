"""How much of a gain reported at equal epochs comes from the extra optimizer steps.

The paper-style protocol trains every method for the same number of *epochs*. A method that adds
mixes to each epoch then also gets more optimizer steps than the baseline (MMix at rate 0.2 on
100 sentences: 200 steps against 175), and part of its "gain" is training longer. Two grids
separate the parts, cell for cell: ``configs/conll2003_epochs.yaml`` (equal epochs) and its twin
``configs/conll2003_epochs_steps.yaml`` (the baseline trained for the method's 200 steps too;
MMix is not trained again: its equal-epochs cells already train exactly 200 steps).
Per paired seed:

* the **paper-style gain**: MMix (equal epochs) − none (equal epochs);
* the **gain at equal steps**: MMix − none trained for MMix's steps;
* **the extra steps alone**: none at MMix's steps − none at its own (the difference of the two);

each with its mean ± std over seeds, the paired t-test over seeds, and the two-way bootstrap
interval (seeds and test sentences resampled together), judged by ``segmix report``'s rule; each
comparison is asked on its own, so its t-test is not Holm-adjusted. The script checks the step
counts it pairs: MMix's cells must have trained exactly as many steps as the twin's baseline.

    segmix experiment configs/conll2003_epochs.yaml --out benchmarks/runs/conll2003_epochs_grid
    segmix experiment configs/conll2003_epochs_steps.yaml \\
        --out benchmarks/runs/conll2003_epochs_steps_grid
    python benchmarks/epochs_vs_steps.py   # -> benchmarks/results/ner_conll2003_epochs/
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import common

from segmix.experiment.report import CellResult, _test_set, _unique_cells, read_grid, verdict
from segmix.experiment.stats import paired_bootstraps, paired_tests

RESULT = common.ROOT / "benchmarks" / "results" / "ner_conll2003_epochs"
RUNS = common.ROOT / "benchmarks" / "runs"


def finished(grid_dir: Path) -> dict[str, dict[int, CellResult]]:
    """The finished main-phase cells of a grid, by label and seed."""
    grid = read_grid(grid_dir)
    out: dict[str, dict[int, CellResult]] = {}
    for cell in _unique_cells(grid_dir, grid["cells"]):
        if cell.main and cell.state == "finished":
            out.setdefault(cell.label, {})[cell.seed] = cell
    return out


def steps_of(cell: CellResult) -> int:
    return int(cell.metrics["steps"])


def compare(
    name: str, method: dict[int, CellResult], base: dict[int, CellResult], resamples: int
) -> dict:
    """One paired comparison, in test F1 points, with the evidence the report gives a row."""
    seeds = sorted(set(method) & set(base))
    gains = {
        s: 100 * (method[s].metrics["test"]["f1"] - base[s].metrics["test"]["f1"]) for s in seeds
    }
    tests = paired_tests(list(gains.values()))
    boot, skipped = None, None
    cache: dict = {}
    sets = [(_test_set(method[s], "ner", cache), _test_set(base[s], "ner", cache)) for s in seeds]
    usable = [
        s
        for s, (m, b) in zip(seeds, sets, strict=True)
        if not isinstance(m, str) and not isinstance(b, str)
    ]
    if len(usable) >= 2 and resamples > 0:
        pairs = [p for s, p in zip(seeds, sets, strict=True) if s in usable]
        _, found = paired_bootstraps(  # the two-way interval (seeds × sentences)
            [m.stats for m, _ in pairs], [b.stats for _, b in pairs], resamples=resamples, seed=0
        )
        boot = {
            "scheme": found.scheme,
            "gain": 100 * found.gain,
            "low": 100 * found.low,
            "high": 100 * found.high,
            "p": found.p,
            "seeds_used": usable,
        }
    else:
        skipped = f"{len(usable)} seeds with usable test predictions"
    # each comparison is asked on its own (no family to pick a best from): unadjusted t-test
    _, wording = verdict(
        len(seeds), boot, tests.t_p, mean=tests.mean, skipped=skipped, adjusted=False
    )
    return {
        "comparison": name,
        "steps": {
            "method": sorted({steps_of(c) for c in method.values()}),
            "base": sorted({steps_of(c) for c in base.values()}),
        },
        "seeds": seeds,
        "gain": gains,
        "gain_mean": tests.mean,
        "gain_std": tests.std,
        "t_p": tests.t_p,
        "wilcoxon_p": tests.wilcoxon_p,
        "interval": boot,
        "verdict": wording,
    }


def render(result: dict) -> str:
    lines = [
        "# Equal epochs against equal steps: where a paper-style gain comes from",
        "",
        "MMix against no augmentation on 100 CoNLL-2003 sentences, rate 0.2, lr 1e-4, 5 epochs "
        "on the originals then 20 with mixes, paired seeds "
        f"{', '.join(str(s) for s in result['seeds'])}. Test F1 in points. "
        "`python benchmarks/epochs_vs_steps.py` (the grids: "
        "`configs/conll2003_epochs.yaml`, `configs/conll2003_epochs_steps.yaml`).",
        "",
        "| comparison | steps (method / baseline) | gain per seed | gain mean ± std | "
        "t-test p | two-way 95 % interval (seeds × sentences) | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in result["comparisons"]:
        per_seed = ", ".join(f"{s}: {g:+.2f}" for s, g in r["gain"].items())
        b = r["interval"]
        boot = f"[{b['low']:+.2f}, {b['high']:+.2f}]" if b else "–"
        mean = "–" if r["gain_mean"] is None else f"{r['gain_mean']:+.2f}"
        std = "" if r["gain_std"] is None else f" ± {r['gain_std']:.2f}"
        t_p = "–" if r["t_p"] is None else f"{r['t_p']:.3f}"
        steps = (
            "/".join(str(s) for s in r["steps"]["method"])
            + " / "
            + "/".join(str(s) for s in r["steps"]["base"])
        )
        lines.append(
            f"| {r['comparison']} | {steps} | {per_seed} | {mean}{std} | {t_p} | "
            f"{boot} | {r['verdict']} |"
        )
    lines.append("")
    share = result.get("share_from_steps")
    if share is not None:
        lines.append(
            f"- Of the paper-style mean gain, {share:.0f} % is what the baseline gains from the "
            "extra steps alone."
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs-grid", type=Path, default=RUNS / "conll2003_epochs_grid")
    parser.add_argument("--steps-grid", type=Path, default=RUNS / "conll2003_epochs_steps_grid")
    parser.add_argument("--out", type=Path, default=RESULT)
    parser.add_argument("--bootstrap", type=int, default=1000)
    args = parser.parse_args()

    epochs, steps = finished(args.epochs_grid), finished(args.steps_grid)
    mmix, none_epochs, none_steps = (
        epochs.get("mmix", {}),
        epochs.get("none", {}),
        steps.get("none", {}),
    )
    for s in sorted(set(mmix) & set(none_steps)):
        if steps_of(mmix[s]) != steps_of(none_steps[s]):
            raise SystemExit(
                f"seed {s}: MMix trained {steps_of(mmix[s])} steps but the equal-steps baseline "
                f"{steps_of(none_steps[s])}: the twin spec does not match the equal-epochs grid"
            )
    comparisons = [
        compare("MMix − none, equal epochs (paper-style)", mmix, none_epochs, args.bootstrap),
        compare("MMix − none, equal steps", mmix, none_steps, args.bootstrap),
        compare(
            "none at MMix's steps − none at its own (the extra steps alone)",
            none_steps,
            none_epochs,
            args.bootstrap,
        ),
    ]
    paper, extra = comparisons[0]["gain_mean"], comparisons[2]["gain_mean"]
    result = {
        "seeds": sorted(set(mmix) & set(none_epochs) & set(none_steps)),
        "comparisons": comparisons,
        "share_from_steps": 100 * extra / paper
        if paper and extra is not None and paper > 0
        else None,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "comparison.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    (args.out / "comparison.md").write_text(render(result), encoding="utf-8")
    print(render(result))


if __name__ == "__main__":
    main()
