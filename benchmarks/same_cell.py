"""The same grid cell trained on two machines: how far apart its scores land.

A cell's id hashes everything that shapes its run (method, options, size, seed, budget, lr,
encoder, the data files' content, the segmix version) but not the machine, so two grids run on
two machines share an id wherever they plan the same cell. Paired by id, their scores show what
the machine alone does to a result: kernels that add in another order change the weights a
little at every step, and a few hundred steps turn that into a different selected checkpoint.
It is why one grid's cells should come from one kind of machine (the report counts runs by
machine, and flags each paired gain whose two runs ran on two kinds), and what a reader should
allow for when comparing figures from two machines.

Pairs are summarised per pair of machine kinds (processor, instruction set, device): the same
kind on both sides is the reproducibility check (same seed, same numbers), two kinds measure
the machine's effect. A cell whose two folders hold the same run (one grid copied it from the
other: the same metrics.json) is one run, not two, and is left out.

    python benchmarks/same_cell.py benchmarks/runs/ner_quality_grid \\
        benchmarks/runs/conll2003_gpu_grid
    python benchmarks/same_cell.py benchmarks/runs/conll2003_headline_grid \\
        benchmarks/runs/conll2003_headline_same_cell --name same_cell_cpu

Results go to benchmarks/results/NAME.{json,md} (NAME: same_cell unless --name says).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from cell_cost import paired_summary

from segmix.runs import compact_predictions_path, machine_kind, read_compact_predictions

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
NOT_RECORDED = "not recorded"


def finished_cells(grid: Path) -> dict[str, dict]:
    """Finished cells of a grid by id: label, size, seed, lr, scores, selected step, machine,
    and digests of metrics.json (the same in two grids: the same run, copied) and of the test
    predictions."""
    out = {}
    for entry in json.loads((grid / "grid.json").read_text())["cells"]:
        metrics = grid / entry["dir"] / "metrics.json"
        if not (metrics.exists() and (metrics.parent / "finished.json").exists()):
            continue
        m = json.loads(metrics.read_text(encoding="utf-8"))
        predictions = compact_predictions_path(metrics.parent)
        out[entry["id"]] = {
            "label": entry["label"],
            "size": entry["size"],
            "seed": entry["seed"],
            "lr": entry.get("lr"),
            # an lr-search run of a later grid scores dev only (decision 49)
            "test": (m.get("test") or {}).get("f1"),
            "dev": m["dev"]["f1"],
            "best_step": m.get("best_step"),
            "machine": machine_kind(m.get("machine")) or NOT_RECORDED,
            # of the content, not the bytes: a copy written in another layout is the same run
            "digest": hashlib.sha256(json.dumps(m, sort_keys=True).encode()).hexdigest(),
            # the compact test predictions' content (xz or gzip alike), where kept
            "predictions": hashlib.sha256(
                json.dumps(read_compact_predictions(predictions)).encode()
            ).hexdigest()
            if predictions is not None
            else None,
        }
    return out


def _summary(pairs: list[dict]) -> dict:
    """Paired B − A summaries of test and dev over ``pairs``, how many selected the same
    checkpoint, and how many gave exactly the same scores on both splits."""
    out: dict = {
        "n": len(pairs),
        "same_selected_step": sum(p["best_step"] == p["b_best_step"] for p in pairs),
        "identical": sum(p["test"] == p["b_test"] and p["dev"] == p["b_dev"] for p in pairs),
        "with_predictions": sum(p["same_predictions"] is not None for p in pairs),
        "same_predictions": sum(bool(p["same_predictions"]) for p in pairs),
    }
    for split in ("test", "dev"):
        scored = [p for p in pairs if p[split] is not None and p[f"b_{split}"] is not None]
        out[split] = paired_summary([p[split] for p in scored], [p[f"b_{split}"] for p in scored])
        if out[split] and out[split]["std_diff"] == 0:
            out[split]["p_ttest"] = None  # no spread: a t-test has nothing to say (scipy: nan)
        if scored:
            out[f"{split}_max_abs_diff"] = max(
                100 * abs(p[f"b_{split}"] - p[split]) for p in scored
            )
    return out


def compare(grid_a: Path, grid_b: Path) -> dict:
    a, b = finished_cells(grid_a), finished_cells(grid_b)
    shared = sorted(set(a) & set(b), key=lambda i: (a[i]["size"], a[i]["label"], a[i]["seed"]))
    copied = [i for i in shared if a[i]["digest"] == b[i]["digest"]]
    pairs = [
        {
            "id": i,
            **{k: v for k, v in a[i].items() if k not in ("digest", "predictions")},
            "b_test": b[i]["test"],
            "b_dev": b[i]["dev"],
            "b_best_step": b[i]["best_step"],
            "b_machine": b[i]["machine"],
            "same_predictions": None
            if None in (a[i]["predictions"], b[i]["predictions"])
            else a[i]["predictions"] == b[i]["predictions"],
        }
        for i in shared
        if i not in copied
    ]
    kinds = sorted({(p["machine"], p["b_machine"]) for p in pairs})
    return {
        "grid_a": _shown(grid_a),
        "grid_b": _shown(grid_b),
        "machines_a": sorted({p["machine"] for p in pairs}),
        "machines_b": sorted({p["b_machine"] for p in pairs}),
        "same_run_left_out": len(copied),
        "pairs": pairs,
        "by_machines": [
            {
                "machine_a": ka,
                "machine_b": kb,
                **_summary([p for p in pairs if (p["machine"], p["b_machine"]) == (ka, kb)]),
            }
            for ka, kb in kinds
        ],
    }


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.2f}"


def _diff(a: float | None, b: float | None) -> str:
    return "–" if a is None or b is None else f"{100 * (b - a):+.2f}"


def markdown(result: dict, command: str) -> str:
    a, b = ", ".join(result["machines_a"]), ", ".join(result["machines_b"])
    lines = [
        "# The same cell on two machines",
        "",
        f"Cells with the same id in `{result['grid_a']}` (A: {a}) and `{result['grid_b']}` "
        f"(B: {b}): the same run asked of two machines. Differences are B − A in F1 points "
        "(– where a run scored dev only: an lr-search run). "
        f"`{command}`.",
        "",
    ]
    if result["same_run_left_out"]:
        lines += [
            f"{result['same_run_left_out']} cells hold the same run in both grids (copied from "
            "one into the other) and are left out.",
            "",
        ]
    lines += [
        "| method | size | seed | lr | A machine | B machine | A test | B test | B − A | A dev "
        "| B dev | selected step A / B |",
        "|---|---:|---:|---:|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for p in result["pairs"]:
        lr = "–" if p["lr"] is None else f"{p['lr']:g}"
        lines.append(
            f"| {p['label']} | {p['size']} | {p['seed']} | {lr} | {p['machine']} | "
            f"{p['b_machine']} | {_pct(p['test'])} | {_pct(p['b_test'])} | "
            f"{_diff(p['test'], p['b_test'])} | {100 * p['dev']:.2f} | {100 * p['b_dev']:.2f} | "
            f"{p['best_step']} / {p['b_best_step']} |"
        )
    lines.append("")
    for group in result["by_machines"]:
        same = group["machine_a"] == group["machine_b"]
        lines.append(
            f"**A {group['machine_a']}, B {group['machine_b']}** "
            f"({group['n']} {'cell' if group['n'] == 1 else 'cells'}; "
            f"{'the same kind of machine' if same else 'two kinds of machine'}):"
        )
        lines.append("")
        for split in ("test", "dev"):
            s = group.get(split)
            if s and s["std_diff"] == 0:
                lines.append(
                    f"- {split}: B − A {s['mean_diff']:+.2f} in each of the {s['n']} cells."
                )
            elif s:
                lines.append(
                    f"- {split}: B − A {s['mean_diff']:+.2f} ± {s['std_diff']:.2f} over "
                    f"{s['n']} cells (95 % CI [{s['ci95'][0]:+.2f}, {s['ci95'][1]:+.2f}], "
                    f"paired t-test p = {s['p_ttest']:.3f}), largest |B − A| "
                    f"{group[f'{split}_max_abs_diff']:.2f}."
                )
            elif f"{split}_max_abs_diff" in group:
                lines.append(f"- {split}: one cell, |B − A| {group[f'{split}_max_abs_diff']:.2f}.")
        lines.append(
            f"- The same checkpoint was selected on both in {group['same_selected_step']} of "
            f"{group['n']} cells; {group['identical']} gave exactly the same scores"
            + (
                f"; {group['same_predictions']} of {group['with_predictions']} with test "
                "predictions kept wrote exactly the same ones."
                if group["with_predictions"]
                else "."
            )
        )
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("grid_a", type=Path)
    parser.add_argument("grid_b", type=Path)
    parser.add_argument(
        "--name", default="same_cell", help="results file name, without suffix [same_cell]"
    )
    args = parser.parse_args()
    result = compare(args.grid_a.resolve(), args.grid_b.resolve())
    command = f"python benchmarks/same_cell.py {result['grid_a']} {result['grid_b']}" + (
        f" --name {args.name}" if args.name != "same_cell" else ""
    )
    out = RESULTS / args.name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    out.with_suffix(".md").write_text(markdown(result, command), encoding="utf-8")
    print(out.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
