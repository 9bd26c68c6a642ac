"""Which methods a grid takes on to its larger sizes, by the rule stated with the grid.

On 2 CPU cores the headline NER grid runs every method at its small sizes (50 and 100
sentences) and only some at the larger, costlier ones (docs/method.md, decision 51): the
baseline, every method with evidence of a gain at a small size, and the contrast partners of
those (mixup and SeqMix for a SegMix variant, the parts of a mixture), so that the paper's
central contrasts can still be tested where they go on. This script applies that rule to the
committed report, so that the choice is read off the evidence rather than made by hand, and
checks a spec against it::

    python benchmarks/going_on.py benchmarks/results/ner_conll2003_headline/report.json \\
        --from 50,100 --check configs/conll2003.yaml

Without ``--check`` it lists the methods that go on and those that stop, with the reason for
each. With it, it exits 1 when the spec's ``sizes:`` disagree with the rule (a method that
stops but still runs at a larger size, or one that goes on but was narrowed).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from segmix.experiment.report import BASELINE, sizes_under_way
from segmix.experiment.spec import load_spec


def going_on(report: dict, sizes: Sequence[int]) -> dict[str, str]:
    """The labels that go on to the larger sizes, each with why: the baseline, each row with
    evidence of a gain at one of ``sizes``, and the second label of every contrast whose first
    label has such evidence (the report's contrasts read "A against B": SegMix against mixup
    and SeqMix, a mixture against its parts)."""
    # a rule applied to interim verdicts would select on seeds still missing
    recommended = {r["size"] for r in report["recommendations"]}
    missing = [s for s in sizes if s not in recommended or s in sizes_under_way(report)]
    if missing:
        raise ValueError(
            f"size{'s' * (len(missing) != 1)} {', '.join(map(str, missing))} not measured yet "
            "in this report (under way or not run): the rule reads whole sizes only"
        )
    why: dict[str, str] = {BASELINE: "the baseline (every gain is paired against it)"}
    evidence: dict[str, list[str]] = {}
    for row in report["rows"]:
        if row["size"] in sizes and not row["baseline"] and row.get("evidence") == "gain":
            # a reference row is outside Holm's family: its verdict rests on the plain t-test
            adjusted = row.get("t_p_holm") is not None
            p = row["t_p_holm"] if adjusted else row["t_p"]
            evidence.setdefault(row["label"], []).append(
                f"{row['size']} ({row['gain_mean']:+.2f}, "
                f"{'Holm-adjusted p' if adjusted else 't-test p'} {p:.3f})"
            )
    for label, at in evidence.items():
        why[label] = "evidence of a gain at " + "; ".join(at)
    for contrast in report.get("contrasts") or []:
        a, b = contrast["a"], contrast["b"]
        if contrast["size"] in sizes and a in evidence and b not in why:
            why[b] = f"contrast partner of {contrast.get('a_display', a)}"
    return why


def disagreements(
    variants: Iterable[tuple[str, Sequence[int] | None]],
    keep: dict[str, str],
    small: Sequence[int],
    all_sizes: Sequence[int],
) -> list[str]:
    """Where a spec's methods (label, the sizes its item names or None for all) disagree with
    the rule: a kept method must run at every size, a stopped one at none beyond ``small``."""
    larger = [s for s in all_sizes if s not in small]
    listed = ", ".join(map(str, small))
    out = []
    for label, sizes in variants:
        runs = list(all_sizes) if sizes is None else list(sizes)
        beyond = [s for s in runs if s in larger]
        if label in keep and beyond != larger:
            out.append(
                f"{label} goes on ({keep[label]}) but runs only at {', '.join(map(str, runs))}"
            )
        elif label not in keep and beyond:
            out.append(
                f"{label} stops after {listed} (no evidence of a gain there, "
                f"no contrast partner of a method with one) but runs at "
                f"{', '.join(map(str, beyond))}: give its item sizes: [{listed}]"
            )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path, help="a grid report's report.json")
    parser.add_argument("--from", dest="small", required=True, help="the small sizes: 50,100")
    parser.add_argument("--check", type=Path, help="a spec whose method sizes must agree")
    args = parser.parse_args(argv)
    report = json.loads(args.report.read_text(encoding="utf-8"))
    small = [int(s) for s in args.small.split(",")]
    try:
        keep = going_on(report, small)
    except ValueError as err:
        print(f"{args.report}: {err}", file=sys.stderr)
        return 2
    labels = list(dict.fromkeys(r["label"] for r in report["rows"] if r["size"] in small))
    print(f"Going on beyond {', '.join(map(str, small))} (decision 51):")
    for label in labels:
        if label in keep:
            print(f"  {label}: {keep[label]}")
    print("Stopping (no evidence of a gain, not a contrast partner of a method with one):")
    print("  " + (", ".join(lb for lb in labels if lb not in keep) or "none"))
    if args.check is None:
        return 0
    spec = load_spec(args.check)
    wrong = disagreements(((v.label, v.sizes) for v in spec.variants), keep, small, spec.sizes)
    for line in wrong:
        print(f"{args.check}: {line}", file=sys.stderr)
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
