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

The rates grid asks which rate, so it goes on by method, every rate of it together (decision
60): a method whose rate question is alive at the small sizes, by the rates grid's own report
(some rate gains over none, or choosing the rate on dev beats or loses to the default) or by
the headline grid's (the method at its default rate gains over none there)::

    python benchmarks/going_on.py benchmarks/results/ner_conll2003_rates/report.json \
        --from 50,100 --rates --headline benchmarks/results/ner_conll2003_headline/report.json \
        --check configs/conll2003_rates.yaml
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from segmix.experiment.report import BASELINE, sizes_under_way
from segmix.experiment.spec import load_spec


def _require_whole(report: dict, sizes: Sequence[int], name: str = "this report") -> None:
    """Refuse a size still under way: a rule applied to interim verdicts would select on
    seeds still missing."""
    recommended = {r["size"] for r in report["recommendations"]}
    missing = [s for s in sizes if s not in recommended or s in sizes_under_way(report)]
    if missing:
        raise ValueError(
            f"size{'s' * (len(missing) != 1)} {', '.join(map(str, missing))} not measured yet "
            f"in {name} (under way or not run): the rule reads whole sizes only"
        )


def _gain(row: dict) -> str:
    """'+3.00, Holm-adjusted p 0.010' (a reference row, outside Holm: its t-test p)."""
    adjusted = row.get("t_p_holm") is not None
    p = row["t_p_holm"] if adjusted else row["t_p"]
    return f"{row['gain_mean']:+.2f}, {'Holm-adjusted p' if adjusted else 't-test p'} {p:.3f}"


def going_on(report: dict, sizes: Sequence[int]) -> dict[str, str]:
    """The labels that go on to the larger sizes, each with why: the baseline, each row with
    evidence of a gain at one of ``sizes``, and the second label of every contrast whose first
    label has such evidence (the report's contrasts read "A against B": SegMix against mixup
    and SeqMix, a mixture against its parts)."""
    _require_whole(report, sizes)
    why: dict[str, str] = {BASELINE: "the baseline (every gain is paired against it)"}
    evidence: dict[str, list[str]] = {}
    for row in report["rows"]:
        if row["size"] in sizes and not row["baseline"] and row.get("evidence") == "gain":
            # a reference row is outside Holm's family: its verdict rests on the plain t-test
            evidence.setdefault(row["label"], []).append(f"{row['size']} ({_gain(row)})")
    for label, at in evidence.items():
        why[label] = "evidence of a gain at " + "; ".join(at)
    for contrast in report.get("contrasts") or []:
        a, b = contrast["a"], contrast["b"]
        if contrast["size"] in sizes and a in evidence and b not in why:
            why[b] = f"contrast partner of {contrast.get('a_display', a)}"
    return why


def rates_going_on(
    report: dict, sizes: Sequence[int], headline: dict | None = None
) -> dict[str, str]:
    """The methods (every rate of each together) the rates grid takes on to its larger sizes,
    each with why (decision 60): the baseline; a method one of whose rates gains over none at
    one of ``sizes``; one whose rate matters there (the rate section's dev choice beats or
    loses to the default rate); and one that gains over none at its default rate in the
    ``headline`` grid there (only its plain row: SMix with FGM is not SMix)."""
    _require_whole(report, sizes, "the rates report")
    reasons: dict[str, list[str]] = {}
    for row in report["rows"]:
        if row["size"] in sizes and not row["baseline"] and row.get("evidence") == "gain":
            reasons.setdefault(row["method"], []).append(
                f"{row['display']} gains at {row['size']} ({_gain(row)})"
            )
    for rate in report.get("rates") or []:
        versus = rate.get("versus_default") or {}
        if rate["size"] in sizes and versus.get("distinct"):
            word = "beats" if versus["distinct"] > 0 else "loses to"
            reasons.setdefault(rate["method"], []).append(
                f"at {rate['size']} dev's rate {rate['chosen_rate']:g} {word} the default "
                f"{rate['default_rate']:g} ({versus['mean']:+.2f}, Holm-adjusted p "
                f"{versus['t_p_holm']:.3f})"
            )
    if headline is not None:
        _require_whole(headline, sizes, "the headline report")
        for row in headline["rows"]:
            plain = row["label"] == row["method"] and not row["baseline"]
            if row["size"] in sizes and plain and row.get("evidence") == "gain":
                reasons.setdefault(row["method"], []).append(
                    f"{row['display']} gains at {row['size']} in the headline grid ({_gain(row)})"
                )
    rated = {r["method"] for r in report["rows"] if not r["baseline"]}
    why = {BASELINE: "the baseline (every gain is paired against it)"}
    why |= {method: "; ".join(at) for method, at in reasons.items() if method in rated}
    return why


def disagreements(
    variants: Iterable[tuple[str, Sequence[int] | None]],
    keep: dict[str, str],
    small: Sequence[int],
    all_sizes: Sequence[int],
    stops_because: str = "no evidence of a gain there, no contrast partner of a method with one",
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
                f"{label} stops after {listed} ({stops_because}) but runs at "
                f"{', '.join(map(str, beyond))}: give its item sizes: [{listed}]"
            )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path, help="a grid report's report.json")
    parser.add_argument("--from", dest="small", required=True, help="the small sizes: 50,100")
    parser.add_argument("--check", type=Path, help="a spec whose method sizes must agree")
    parser.add_argument(
        "--rates", action="store_true", help="the rates grid's rule, by method (decision 60)"
    )
    parser.add_argument(
        "--headline", type=Path, help="with --rates: the headline grid's report.json"
    )
    args = parser.parse_args(argv)
    report = json.loads(args.report.read_text(encoding="utf-8"))
    small = [int(s) for s in args.small.split(",")]
    headline = None
    if args.headline is not None:
        headline = json.loads(args.headline.read_text(encoding="utf-8"))
    try:
        keep = rates_going_on(report, small, headline) if args.rates else going_on(report, small)
    except ValueError as err:
        print(f"{args.report}: {err}", file=sys.stderr)
        return 2
    key = "method" if args.rates else "label"
    names = list(dict.fromkeys(r[key] for r in report["rows"] if r["size"] in small))
    rule = "decision 60" if args.rates else "decision 51"
    print(f"Going on beyond {', '.join(map(str, small))} ({rule}):")
    for name in names:
        if name in keep:
            print(f"  {name}: {keep[name]}")
    stops_because = (
        "no rate of it gains, its rate does not matter, and it does not gain in the headline grid"
        if args.rates
        else "no evidence of a gain, not a contrast partner of a method with one"
    )
    print(f"Stopping ({stops_because}):")
    print("  " + (", ".join(n for n in names if n not in keep) or "none"))
    if args.check is None:
        return 0
    spec = load_spec(args.check)
    variants = ((v.label, v.sizes) for v in spec.variants)
    if args.rates:  # every rate of a method goes on or stops with it
        keep = {v.label: keep[v.method] for v in spec.variants if v.method in keep}
        wrong = disagreements(variants, keep, small, spec.sizes, stops_because)
    else:
        wrong = disagreements(variants, keep, small, spec.sizes)
    for line in wrong:
        print(f"{args.check}: {line}", file=sys.stderr)
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
