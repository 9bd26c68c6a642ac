"""Speed of segmix: run the chosen measurements, write one JSON file each, render speed.md.

    python benchmarks/speed                          # everything, into benchmarks/results/speed/
    python benchmarks/speed --quick --out /tmp/sq    # a smoke run with tiny sizes
    python benchmarks/speed --only training --baseline-src /tmp/old/src
    python benchmarks/speed --render --out DIR       # re-render DIR/speed.md from DIR/*.json
    python benchmarks/speed --only generation step_overhead --methods re   # relation rows only

speed.md reports exactly the measurements whose JSON files are in the folder. Run it on a quiet
machine: other work on the cores moves every number here.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from pathlib import Path

# run as `python benchmarks/speed`: import this folder as the package `speed`, and the shared
# benchmark helpers (benchmarks/common.py, which puts src/ on the path)
BENCHMARKS = Path(__file__).resolve().parents[1]
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(BENCHMARKS)
elif str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))

from common import ROOT  # noqa: E402

from speed import MEASUREMENTS  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=MEASUREMENTS, default=list(MEASUREMENTS))
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "speed")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument(
        "--threads",
        type=int,
        default=os.cpu_count() or 1,
        help="torch threads for training and prediction (generation uses 1)",
    )
    parser.add_argument(
        "--reps", type=int, default=None, help="training rounds (default 3, --quick: 1)"
    )
    parser.add_argument(
        "--step-reps",
        type=int,
        default=None,
        help="step overhead: interleaved step pairs per row (default 40, --quick: 5); fewer "
        "keep a run on a busy machine short",
    )
    parser.add_argument(
        "--baseline-src",
        default="/tmp/old/src",
        help="src/ of the tree with the previous accelerate loop (segmix.training); its row "
        "is skipped when absent",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        default=None,
        help="generation and step overhead: only these methods — row labels (lada-intra, "
        "re:mmix), method names (mmix: the tagging and the relation row), task:name (ner:mmix) "
        "or a whole task (ner, re); their rows replace those in an existing result, whose "
        "other rows are kept",
    )
    parser.add_argument(
        "--note",
        default=None,
        help="a remark on the conditions of this run (other load on the machine, …), stored "
        "with its results and shown in speed.md next to the rows it measured",
    )
    parser.add_argument(
        "--render", action="store_true", help="measure nothing; re-render OUT/speed.md"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    import torch

    from segmix.runs import versions, write_json

    args = parse_args(argv)
    from speed.shared import check_method_tokens

    check_method_tokens(args.methods)
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # weight-loading bars between the measurements' lines
    args.out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(args.threads)
    if not args.render:
        for name in args.only:
            module = importlib.import_module(f"speed.{name}")
            print(f"{name} …", flush=True)
            t0 = time.perf_counter()
            result = module.measure(args)
            run = {
                "quick": args.quick,
                "measured_at": time.strftime("%Y-%m-%d %H:%M:%S %z"),
                "wall_seconds": time.perf_counter() - t0,
                "versions": versions(),
                "source": _git_state(),
                **({"note": args.note} if args.note else {}),
            }
            previous = args.out / f"{name}.json"
            if args.methods and "rows" in result and previous.exists():
                doc = _merge_partial(json.loads(previous.read_text()), result, run)
            else:
                doc = {"measurement": name, "title": module.TITLE, **run, **result}
            write_json(args.out / f"{name}.json", doc)
            print(f"{name}: {run['wall_seconds']:.0f} s → {args.out / f'{name}.json'}", flush=True)
    markdown = render_report(args.out)
    (args.out / "speed.md").write_text(markdown)
    print(markdown)


def _merge_partial(old: dict, result: dict, run: dict) -> dict:
    """A partial re-measurement (``--methods``) folded into the earlier result.

    Its rows replace those of the same label and every other row stays; so do the earlier
    run's time and source, which still describe those rows, while the new run is recorded
    under ``remeasured`` with the labels it measured, so speed.md can say which rows are newer
    (and under what conditions). Settings the new run returns (the tagging rows' sizes, the
    relation rows' ``re``) replace the earlier ones of the same key: a partial run of a task's
    rows is meant to use that task's settings.
    """
    doc = {**old, **{k: v for k, v in result.items() if k != "rows"}}
    doc["rows"] = {**old["rows"], **result["rows"]}
    doc["remeasured"] = [
        *(
            {**e, "rows": [r for r in e["rows"] if r not in result["rows"]]}
            for e in old.get("remeasured", [])
            if set(e["rows"]) - set(result["rows"])
        ),
        {**run, "rows": list(result["rows"])},
    ]
    return doc


def render_report(folder: Path) -> str:
    """speed.md from whatever measurement files ``folder`` holds, in the usual order."""
    docs = {}
    for name in MEASUREMENTS:
        path = folder / f"{name}.json"
        if path.exists():
            docs[name] = json.loads(path.read_text())
    lines = ["# Speed of segmix", ""]
    if not docs:
        return "\n".join([*lines, "No measurement files in this folder.", ""])
    machines = {}
    for name, doc in docs.items():
        for run in (doc, *doc.get("remeasured", [])):
            names = machines.setdefault(_machine(run["versions"]), [])
            if name not in names:
                names.append(name)
    for machine, names in machines.items():
        which = "" if len(machines) == 1 else f" ({', '.join(names)})"
        lines.append(f"Machine{which}: {machine}")
        lines.append("")
    runs = [r for d in docs.values() for r in (d, *d.get("remeasured", []))]
    sources = {_source(r.get("source")) for r in runs} - {None}
    if sources:
        lines += [f"segmix source: {', '.join(sorted(sources))}.", ""]
    lines += [
        "Each section states its settings: sizes, torch threads (fixed for the measurement), "
        "repetitions and warm-up; figures are medians over the repetitions.",
        "",
    ]
    quick = [
        n for n, d in docs.items() if any(r.get("quick") for r in (d, *d.get("remeasured", [])))
    ]
    if quick:
        lines += [
            f"**Smoke run** (`--quick`, tiny sizes) for: {', '.join(quick)}. Not figures to cite.",
            "",
        ]
    for name, doc in docs.items():
        module = importlib.import_module(f"speed.{name}")
        when = f"`{name}.json`, measured {doc['measured_at']} in {doc['wall_seconds']:.0f} s"
        lines += [f"## {doc['title']}", "", f"*{when}.*", ""]
        if doc.get("note"):
            lines += [f"**Note:** {doc['note']}", ""]
        for run in doc.get("remeasured", []):
            lines += [_remeasured(run), ""]
        lines += [*module.render(doc), ""]
    return "\n".join(lines)


def _remeasured(run: dict) -> str:
    """The line naming the rows a partial run measured, when, and under what conditions."""
    rows = ", ".join(f"`{r}`" for r in run["rows"])
    line = f"*Rows {rows} measured {run['measured_at']} in {run['wall_seconds']:.0f} s"
    if run.get("quick"):
        line += ", a smoke run (`--quick`)"
    source = _source(run.get("source"))
    line += f" ({source}).*" if source else ".*"
    if run.get("note"):
        line += f" **Note:** {run['note']}"
    return line


def _git_state() -> dict | None:
    """The checkout's commit and whether it has uncommitted changes (None outside git)."""
    import subprocess

    def git(*a: str) -> str:
        return subprocess.run(
            ["git", "-C", str(ROOT), *a], capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain"))}
    except (OSError, subprocess.CalledProcessError):
        return None


def _source(state: dict | None) -> str | None:
    if not state:
        return None
    return f"commit {state['commit'][:7]}" + (" with uncommitted changes" if state["dirty"] else "")


def _machine(v: dict) -> str:
    p = v["packages"]
    return (
        f"{v['platform']}, {v['cpu_count']} CPUs, {v['device']}; python {v['python']}, torch "
        f"{p['torch']}, transformers {p['transformers']}, accelerate {p['accelerate']}, numpy "
        f"{p['numpy']}, segmix {p['segmix']}"
    )


if __name__ == "__main__":
    main()
