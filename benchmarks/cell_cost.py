"""Where the time of one grid cell goes, and what bf16 autocast does to its F1.

The cell is the NER quality grid's (configs/ner_quality.yaml): MMix on 200 CoNLL-2003
sentences (seed 1), 400 optimizer steps at batch 16, selection on a 1,000-sentence dev sample
every 40 steps, the full test set scored once, no model saved (a grid does not need it). Each
measurement runs the cell in a fresh child process, alone on the machine, and records the
run's own breakdown (``metrics.json`` timing) and the child's wall time, imports included.
``--src`` runs another source tree (a worktree of an older commit) for a "before" row:

    git worktree add /tmp/before b9c8f84
    python benchmarks/cell_cost.py measure --label before --src /tmp/before/src
    python benchmarks/cell_cost.py measure --label after-fp32
    python benchmarks/cell_cost.py measure --label after-bf16 --mixed-precision bf16

F1 under bf16 is compared on paired cells of two grids that differ only in precision (the
fp32 NER quality grid and configs/ner_quality_bf16.yaml), seed by seed:

    python benchmarks/cell_cost.py f1 benchmarks/runs/ner_quality_grid \\
        benchmarks/runs/ner_quality_bf16_grid

The step time alone under fp32, bf16 and ``torch.compile`` (compilation counted apart):

    python benchmarks/cell_cost.py probe

Results go to benchmarks/results/cell_cost.{json,md}; each command adds or replaces its part.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "benchmarks" / "results" / "cell_cost"
CELL = {
    "task": "ner",
    "data_dir": str(ROOT.parent / "shared" / "data" / "conll2003"),
    "train_size": 200,
    "sample_seed": 1,
    "seed": 1,
    "augment": "mmix",
    "rate": 0.2,
    "alpha": 8.0,
    "max_steps": 400,
    "lr": 1e-4,
    "batch_size": 16,
    "eval_every": 40,
    "dev_size": 1000,
    "save_model": False,
    "progress": False,
}
PARTS = [
    ("setup_seconds", "read, encode, fit the augmenter, load the encoder"),
    ("train_seconds", "training steps"),
    ("selection_seconds", "dev evaluations for selection"),
    ("checkpoint_seconds", "checkpoints (best and latest, for selection and resume)"),
    ("final_dev_seconds", "dev scored again with the selected model"),
    ("test_seconds", "test scored once"),
]
CHILD = """
import json, sys, time
started = time.perf_counter()
from segmix.config import TrainConfig
from segmix.run import train
config = TrainConfig(**json.loads(sys.argv[1]))
metrics = train(config)
import torch
print("RESULT " + json.dumps({
    "timing": metrics["timing"], "dev_f1": metrics["dev"]["f1"], "test_f1": metrics["test"]["f1"],
    "best_step": metrics["best_step"], "in_process_seconds": time.perf_counter() - started,
    "torch_threads": torch.get_num_threads(), "machine": metrics.get("machine"),
}))
"""


def run_child(code: str, args: list[str], src: Path) -> tuple[dict | None, str]:
    """Run ``code`` in a fresh Python whose ``segmix`` is the tree ``src``; ``(the JSON it
    printed after "RESULT ", "")``, or ``(None, the end of its stderr)`` when it failed."""
    env = {**os.environ, "PYTHONPATH": str(src), "HF_HUB_OFFLINE": "1"}
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        return None, done.stderr.strip()[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :]), ""


def measure(label: str, src: Path, mixed_precision: str, overrides: dict | None = None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        config = {**CELL, **(overrides or {}), "output_dir": str(Path(tmp) / "run")}
        if mixed_precision != "no":
            config["mixed_precision"] = mixed_precision
        started = time.perf_counter()
        row, error = run_child(CHILD, [json.dumps(config)], src)
        wall = time.perf_counter() - started
    if row is None:
        sys.exit(f"the cell failed:\n{error}")
    commit = subprocess.run(
        ["git", "-C", str(src), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "label": label,
        "commit": commit,
        "mixed_precision": mixed_precision,
        "overrides": overrides or {},
        "wall_seconds": wall,
        "load_avg_at_end": os.getloadavg()[0],
        **row,
    }


STEP_PROBE = """
import json, sys, time
import torch
from transformers import AutoModelForTokenClassification
from segmix.encoding import resolve_model
from segmix.runs import machine

mode, lengths, steps = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
torch.manual_seed(0)
model = AutoModelForTokenClassification.from_pretrained(resolve_model("default"), num_labels=9)
model.train()
opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=True)
started = time.perf_counter()
if "compile" in mode:
    model = torch.compile(model, dynamic=True)
bf16 = "bf16" in mode
gen = torch.Generator().manual_seed(0)

def step(length):
    ids = torch.randint(1000, 5000, (16, length), generator=gen)
    labels = torch.randint(0, 9, (16, length), generator=gen)
    t = time.perf_counter()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        loss = model(input_ids=ids, labels=labels).loss
    loss.backward()
    opt.step()
    opt.zero_grad()
    return time.perf_counter() - t

first = [step(n) for n in lengths]  # each length seen for the first time (compilation, caches)
warm = time.perf_counter() - started
times = [step(lengths[i % len(lengths)]) for i in range(steps)]
times.sort()
print("RESULT " + json.dumps({
    "mode": mode, "first_pass_seconds": sum(first), "until_warm_seconds": warm,
    "median_step_ms": 1000 * times[len(times) // 2], "steps": steps, "lengths": lengths,
    "torch_threads": torch.get_num_threads(), "machine": machine(),
}))
"""


def probe_steps(modes: list[str], steps: int) -> list[dict]:
    """Steady training-step time of the default encoder, batch 16, at the padded lengths a
    200-sentence CoNLL cell's length-grouped batches have, in fresh processes: fp32, bf16
    autocast, and each under ``torch.compile`` (whose first pass over every new shape is
    compilation, counted apart)."""
    lengths = [16, 24, 32, 40, 48, 56]
    rows = []
    for mode in modes:
        row, error = run_child(STEP_PROBE, [mode, json.dumps(lengths), str(steps)], ROOT / "src")
        if row is None:
            from segmix.runs import machine

            row = {"mode": mode, "error": error.splitlines()[-1], "machine": machine()}
        rows.append(row)
    return rows


def merge_probe(old: list[dict], new: list[dict]) -> list[dict]:
    """Keep other machines' rows: a probe replaces only its own machine's rows of its modes,
    so the AVX2, AVX512-BF16 and AMX figures of one mode stand side by side."""

    def key(row: dict) -> tuple:
        return row["mode"], _machine(row)

    replaced = {key(r) for r in new}
    return [r for r in old if key(r) not in replaced] + new


def selection_schedules(grid: Path, shares: list[float]) -> dict:
    """What a later first evaluation (``eval_from``) would have selected, on a finished grid's
    own dev histories: exact, not estimated. A cell whose best checkpoint is still among the
    evaluations kept selects the same weights, so its dev and test scores are unchanged; the
    others would select another checkpoint, whose test score is unknown. Dev only: no test
    score enters the choice of a schedule."""
    import math

    from segmix.engine import evaluation_delay

    cells = []
    for entry in json.loads((grid / "grid.json").read_text())["cells"]:
        path = grid / entry["dir"] / "metrics.json"
        if path.exists():
            m = json.loads(path.read_text())
            evals = [(h["step"], h["dev_f1"]) for h in m["history"] if "dev_f1" in h]
            cells.append(
                {
                    "label": entry["label"],
                    "steps": m["steps"],
                    "best": m["best_step"],
                    "evals": evals,
                }
            )
    rows = []
    for share in shares:
        same = kept = total = 0
        for c in cells:
            delay = evaluation_delay(c["steps"], share)
            later = [(s, f) for s, f in c["evals"] if s >= delay]
            # the Trainer's rule: the first strictly best evaluation
            best = max(later, key=lambda e: e[1]) if later else None
            first_best = next(s for s, f in later if f == best[1]) if best else None
            same += first_best == c["best"]
            kept += len(later)
            total += len(c["evals"])
        rows.append(
            {
                "eval_from": share,
                "cells": len(cells),
                "same_selection": same,
                "evaluations_kept": kept / max(total, 1),
            }
        )
    best_steps = sorted(c["best"] / c["steps"] for c in cells)
    return {
        "grid": str(grid),
        "schedules": rows,
        "earliest_best_share": best_steps[0] if best_steps else math.nan,
    }


def paired_f1(fp32_grid: Path, bf16_grid: Path) -> dict:
    """Test and dev F1 of the cells the two grids share by (method, size, seed)."""

    def cells(grid: Path) -> dict:
        out = {}
        for entry in json.loads((grid / "grid.json").read_text())["cells"]:
            metrics = grid / entry["dir"] / "metrics.json"
            if metrics.exists():
                m = json.loads(metrics.read_text())
                key = (entry["label"], entry["size"], entry["seed"])
                out[key] = {"dev": m["dev"]["f1"], "test": m["test"]["f1"], "timing": m["timing"]}
        return out

    a, b = cells(fp32_grid), cells(bf16_grid)
    pairs = sorted(set(a) & set(b))
    rows = [
        {
            "method": k[0],
            "size": k[1],
            "seed": k[2],
            "fp32_test": a[k]["test"],
            "bf16_test": b[k]["test"],
            "fp32_dev": a[k]["dev"],
            "bf16_dev": b[k]["dev"],
        }
        for k in pairs
    ]
    out: dict = {"fp32_grid": str(fp32_grid), "bf16_grid": str(bf16_grid), "pairs": rows}
    for split in ("test", "dev"):
        summary = paired_summary(
            [r[f"fp32_{split}"] for r in rows], [r[f"bf16_{split}"] for r in rows]
        )
        if summary:
            out[split] = summary
    return out


def paired_summary(before: list[float], after: list[float]) -> dict | None:
    """after − before in points (F1 × 100): mean, std, the t-based 95 % interval of the mean
    and the paired t-test; None with fewer than 2 pairs."""
    from scipy import stats

    diffs = [100 * (b - a) for a, b in zip(before, after, strict=True)]
    if len(diffs) < 2:
        return None
    mean = sum(diffs) / len(diffs)
    sd = (sum((d - mean) ** 2 for d in diffs) / (len(diffs) - 1)) ** 0.5
    half = stats.t.ppf(0.975, len(diffs) - 1) * sd / len(diffs) ** 0.5
    return {
        "n": len(diffs),
        "mean_diff": mean,
        "std_diff": sd,
        "ci95": [mean - half, mean + half],
        "p_ttest": float(stats.ttest_rel(after, before).pvalue),
    }


def _overrides(row: dict) -> str:
    return ", ".join(f"`{k}={v}`" for k, v in (row.get("overrides") or {}).items()) or "–"


def _machine(row: dict) -> str:
    """Rows measured before the machine was recorded ran on the 2-core AVX512-BF16 one."""
    m = row.get("machine")
    if not m:
        return "AVX512-BF16 (not recorded)"
    native = ", native bf16" if m.get("bf16_native") else ""
    return f"{m['cpu']}, {m['cpu_capability']}{native}"


def write_markdown(result: dict) -> None:
    lines = [
        "# The cost of one grid cell",
        "",
        "MMix on 200 CoNLL-2003 sentences (seed 1), 400 steps at batch 16, selection on a "
        "1,000-sentence dev sample every 40 steps, full test scored once, no model saved; "
        "alone on 2 CPU cores (which machine: the last row). "
        "`python benchmarks/cell_cost.py measure …`.",
        "",
    ]
    rows = result.get("measurements", [])
    if rows:
        head = "| part | " + " | ".join(f"{r['label']} ({r['commit']})" for r in rows) + " |"
        lines += [head, "|---|" + "---:|" * len(rows)]
        for key, what in PARTS:
            vals = [r["timing"].get(key) for r in rows]
            lines.append(
                f"| {what} | " + " | ".join("–" if v is None else f"{v:.1f} s" for v in vals) + " |"
            )
        summary = [
            (
                "**run total** (`metrics.json`)",
                lambda r: f"**{r['timing']['total_seconds']:.1f} s**",
            ),
            ("**process wall time**, imports included", lambda r: f"**{r['wall_seconds']:.1f} s**"),
            ("test F1 / dev F1", lambda r: f"{100 * r['test_f1']:.2f} / {100 * r['dev_f1']:.2f}"),
            ("load average at the end", lambda r: f"{r['load_avg_at_end']:.2f}"),
            ("options other than the cell's", _overrides),
            ("machine", _machine),
        ]
        for name, cell in summary:
            lines.append(f"| {name} | " + " | ".join(cell(r) for r in rows) + " |")
        lines.append("")
        notes = result.get("measurement_notes", [])
        lines += [*(f"- {note}" for note in notes), *([""] if notes else [])]
    probe = result.get("step_probe")
    if probe:
        lines += [
            "## One training step: precision and `torch.compile`",
            "",
            "Batch 16 of the default encoder at padded lengths 16–56 (the shapes of a "
            "length-grouped 200-sentence cell), fused AdamW, 2 threads, a fresh process per "
            "row; `python benchmarks/cell_cost.py probe`. *First pass*: one step at each length "
            "seen for the first time (compilation for `torch.compile`).",
            "",
            "| machine | mode | median step | first pass over 6 lengths | until warm |",
            "|---|---|---:|---:|---:|",
        ]
        for r in probe:
            if "error" in r:
                lines.append(f"| {_machine(r)} | {r['mode']} | failed: {r['error']} | | |")
            else:
                lines.append(
                    f"| {_machine(r)} | {r['mode']} | {r['median_step_ms']:.0f} ms | "
                    f"{r['first_pass_seconds']:.1f} s | {r['until_warm_seconds']:.1f} s |"
                )
        lines += [
            "",
            "bf16 autocast is worth probing only where `bf16_native` is true (AVX512-BF16 or "
            "AMX, as recorded in each run's `machine`): elsewhere it is emulated.",
            "",
            *(f"- {note}" for note in result.get("step_probe_notes", [])),
            "",
        ]
    selection = result.get("selection")
    if selection:
        lines += [
            "## A later first dev evaluation (`eval_from`), on finished grids",
            "",
            "Read off each finished cell's own dev history: a cell whose selected checkpoint "
            "is still among the evaluations kept selects the same weights, so its dev and test "
            "scores are unchanged (exact, not estimated; test plays no part). "
            "`python benchmarks/cell_cost.py selection GRID`.",
            "",
            "| grid | eval_from | cells selecting the same checkpoint | dev evaluations kept |",
            "|---|---:|---:|---:|",
        ]
        for name, found in selection.items():
            for r in found["schedules"]:
                lines.append(
                    f"| {name} | {r['eval_from']:g} | {r['same_selection']} of {r['cells']} | "
                    f"{100 * r['evaluations_kept']:.0f} % |"
                )
        lines.append("")
    f1 = result.get("bf16_f1")
    if f1:
        lines += [
            "## F1 under bf16 autocast, paired with fp32",
            "",
            f"Cells of `{Path(f1['fp32_grid']).name}` (fp32) and `{Path(f1['bf16_grid']).name}` "
            "(bf16), otherwise identical, paired by method and seed. Differences are bf16 − fp32 "
            "in F1 points.",
            "",
            "| method | seed | fp32 test | bf16 test | fp32 dev | bf16 dev |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for r in f1["pairs"]:
            lines.append(
                f"| {r['method']} | {r['seed']} | {100 * r['fp32_test']:.2f} | "
                f"{100 * r['bf16_test']:.2f} | {100 * r['fp32_dev']:.2f} | "
                f"{100 * r['bf16_dev']:.2f} |"
            )
        lines.append("")
        for split in ("test", "dev"):
            s = f1.get(split)
            if s:
                verdict = (
                    "no evidence of a difference"
                    if s["ci95"][0] <= 0 <= s["ci95"][1]
                    else "a difference"
                )
                lines.append(
                    f"- {split}: {s['mean_diff']:+.2f} ± {s['std_diff']:.2f} over {s['n']} pairs, "
                    f"95% CI [{s['ci95'][0]:+.2f}, {s['ci95'][1]:+.2f}], paired t-test "
                    f"p = {s['p_ttest']:.3f}: {verdict}."
                )
        lines.append("")
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.with_suffix(".md").write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("measure", help="time one cell in a fresh process")
    m.add_argument("--label", required=True)
    m.add_argument("--src", type=Path, default=ROOT / "src")
    m.add_argument("--mixed-precision", default="no", choices=["no", "bf16"])
    m.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="another TrainConfig value for the cell (JSON value), e.g. eval_from=0.4",
    )
    s = sub.add_parser("selection", help="what a later first dev evaluation would select")
    s.add_argument("grid", type=Path)
    s.add_argument("--shares", type=float, nargs="+", default=[0.0, 0.25, 0.4, 0.5, 0.6])
    p = sub.add_parser("probe", help="step time: fp32, bf16, and each under torch.compile")
    p.add_argument("--modes", nargs="+", default=["fp32", "bf16", "fp32+compile", "bf16+compile"])
    p.add_argument("--steps", type=int, default=30)
    f = sub.add_parser("f1", help="paired F1 of an fp32 and a bf16 grid")
    f.add_argument("fp32_grid", type=Path)
    f.add_argument("bf16_grid", type=Path)
    args = parser.parse_args()

    path = RESULT.with_suffix(".json")
    result = json.loads(path.read_text()) if path.exists() else {}
    if args.command == "measure":
        overrides = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.set)}
        row = measure(args.label, args.src.resolve(), args.mixed_precision, overrides)
        rows = [r for r in result.get("measurements", []) if r["label"] != args.label]
        result["measurements"] = [*rows, row]
        print(
            f"{args.label}: {row['timing']['total_seconds']:.1f} s in the run, "
            f"{row['wall_seconds']:.1f} s wall; test F1 {100 * row['test_f1']:.2f}"
        )
    elif args.command == "selection":
        found = selection_schedules(args.grid, args.shares)
        result.setdefault("selection", {})[args.grid.name] = found
        for r in found["schedules"]:
            print(r)
    elif args.command == "probe":
        found = probe_steps(args.modes, args.steps)
        result["step_probe"] = merge_probe(result.get("step_probe", []), found)
        for r in found:
            print(r)
    else:
        result["bf16_f1"] = paired_f1(args.fp32_grid, args.bf16_grid)
        for split in ("test", "dev"):
            s = result["bf16_f1"].get(split)
            if s:
                print(f"{split}: bf16 − fp32 {s['mean_diff']:+.2f} (p {s['p_ttest']:.3f})")
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2), encoding="utf-8")
    write_markdown(result)


if __name__ == "__main__":
    main()
