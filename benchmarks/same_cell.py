"""The same grid cell trained on two machines: how far apart its scores land.

A cell's id hashes everything that shapes its run (method, options, size, seed, budget, lr,
encoder, the data files' content, the segmix version) but not the machine, so two grids run on
two machines share an id wherever they plan the same cell. Paired by id, their scores show what
the machine alone does to a result: kernels that add in another order change the weights a
little at every step, and a few hundred steps turn that into a different selected checkpoint.
It is why one grid's cells should come from one kind of machine (the report counts runs by
machine), and what a reader should allow for when comparing figures from two machines.

    python benchmarks/same_cell.py benchmarks/runs/ner_quality_grid \\
        benchmarks/runs/conll2003_gpu_grid

Results go to benchmarks/results/same_cell.{json,md}.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cell_cost import paired_summary

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "benchmarks" / "results" / "same_cell"


def finished_cells(grid: Path) -> dict[str, dict]:
    """Finished cells of a grid by id: label, size, seed, lr, scores, selected step, machine."""
    out = {}
    for entry in json.loads((grid / "grid.json").read_text())["cells"]:
        metrics = grid / entry["dir"] / "metrics.json"
        if not metrics.exists():
            continue
        m = json.loads(metrics.read_text())
        machine = m.get("machine") or {}
        out[entry["id"]] = {
            "label": entry["label"],
            "size": entry["size"],
            "seed": entry["seed"],
            "lr": entry.get("lr"),
            # an lr-search run of a later grid scores dev only (decision 49)
            "test": (m.get("test") or {}).get("f1"),
            "dev": m["dev"]["f1"],
            "best_step": m.get("best_step"),
            "machine": (
                f"{machine['cpu']} ({machine.get('device', 'cpu')})" if machine else "not recorded"
            ),
        }
    return out


def compare(grid_a: Path, grid_b: Path) -> dict:
    a, b = finished_cells(grid_a), finished_cells(grid_b)
    shared = sorted(set(a) & set(b), key=lambda i: (a[i]["size"], a[i]["label"], a[i]["seed"]))
    pairs = [
        {
            "id": i,
            **a[i],
            "b_test": b[i]["test"],
            "b_dev": b[i]["dev"],
            "b_best_step": b[i]["best_step"],
            "b_machine": b[i]["machine"],
        }
        for i in shared
    ]
    result: dict = {
        "grid_a": str(grid_a.relative_to(ROOT) if grid_a.is_relative_to(ROOT) else grid_a),
        "grid_b": str(grid_b.relative_to(ROOT) if grid_b.is_relative_to(ROOT) else grid_b),
        "machines_a": sorted({p["machine"] for p in pairs}),
        "machines_b": sorted({p["b_machine"] for p in pairs}),
        "pairs": pairs,
        "same_selected_step": sum(p["best_step"] == p["b_best_step"] for p in pairs),
    }
    for split in ("test", "dev"):
        scored = [p for p in pairs if p[split] is not None and p[f"b_{split}"] is not None]
        result[split] = paired_summary(
            [p[split] for p in scored], [p[f"b_{split}"] for p in scored]
        )
        if result[split]:
            result[split]["max_abs_diff"] = max(
                100 * abs(p[f"b_{split}"] - p[split]) for p in scored
            )
    return result


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.2f}"


def _diff(a: float | None, b: float | None) -> str:
    return "–" if a is None or b is None else f"{100 * (b - a):+.2f}"


def write(result: dict) -> None:
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    a, b = ", ".join(result["machines_a"]), ", ".join(result["machines_b"])
    lines = [
        "# The same cell on two machines",
        "",
        f"Cells with the same id in `{result['grid_a']}` (A: {a}) and `{result['grid_b']}` "
        f"(B: {b}): the same run asked of two machines. Differences are B − A in F1 points. "
        "`python benchmarks/same_cell.py A B`.",
        "",
        "| method | size | seed | lr | A test | B test | B − A | A dev | B dev | selected step "
        "A / B |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for p in result["pairs"]:
        lines.append(
            f"| {p['label']} | {p['size']} | {p['seed']} | {p['lr']:g} | {_pct(p['test'])} | "
            f"{_pct(p['b_test'])} | {_diff(p['test'], p['b_test'])} | "
            f"{100 * p['dev']:.2f} | {100 * p['b_dev']:.2f} | "
            f"{p['best_step']} / {p['b_best_step']} |"
        )
    lines.append("")
    n = len(result["pairs"])
    for split in ("test", "dev"):
        s = result.get(split)
        if s:
            lines.append(
                f"- {split}: B − A {s['mean_diff']:+.2f} ± {s['std_diff']:.2f} over {s['n']} "
                f"cells (95 % CI [{s['ci95'][0]:+.2f}, {s['ci95'][1]:+.2f}], paired t-test "
                f"p = {s['p_ttest']:.3f}), largest |B − A| {s['max_abs_diff']:.2f}."
            )
    lines.append(
        f"- The same checkpoint was selected on both machines in {result['same_selected_step']} "
        f"of {n} cells."
    )
    lines.append("")
    RESULT.with_suffix(".md").write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("grid_a", type=Path)
    parser.add_argument("grid_b", type=Path)
    args = parser.parse_args()
    result = compare(args.grid_a.resolve(), args.grid_b.resolve())
    write(result)
    print(RESULT.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
