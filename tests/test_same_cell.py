"""The same cell on two machines is paired by id, grouped by the two machines' kinds, and a
run copied from one grid into the other is one run, not a pair."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

from segmix.runs import write_compact_predictions

ROOT = Path(__file__).resolve().parents[1]

AVX512 = {"cpu": "AMD EPYC", "cpu_capability": "AVX512", "device": "cpu", "cpu_count": 2}
AVX2 = {**AVX512, "cpu_capability": "AVX2"}


def _script():
    sys.path.insert(0, str(ROOT / "benchmarks"))  # it imports cell_cost beside it
    try:
        spec = importlib.util.spec_from_file_location(
            "same_cell", ROOT / "benchmarks" / "same_cell.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return module


def _grid(folder: Path, cells: dict[str, tuple]) -> Path:
    """A grid folder with ``cells``: id -> (seed, dev, test, best step, machine, finished)."""
    entries = []
    for cid, (seed, dev, test, step, machine, finished) in cells.items():
        run = folder / "cells" / cid / "run"
        run.mkdir(parents=True)
        metrics = {
            "dev": {"f1": dev},
            "test": None if test is None else {"f1": test},
            "best_step": step,
            "machine": machine,
            "train_seconds": 1000.0 * ord(folder.name[0]) + len(entries),  # never twice the same
        }
        (run / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        if test is not None:  # predictions that follow the test score, in one grid gzipped
            # as runs before decision 58 kept them, in the other xz: the content is compared
            name = "test_pred.json.gz" if ord(folder.name[0]) % 2 else "test_pred.json.xz"
            write_compact_predictions(run / name, [0], [["B-PER"] if test > 0.545 else ["O"]])
        if finished:
            (run / "finished.json").write_text('{"finished": "2026-12-06T17:00:00+00:00"}\n')
        entries.append(
            {
                "id": cid,
                "label": "mixup",
                "size": 50,
                "seed": seed,
                "lr": 1e-4,
                "dir": f"cells/{cid}/run",
            }
        )
    (folder / "grid.json").write_text(json.dumps({"cells": entries}))
    return folder


def test_pairs_are_grouped_by_machine_kinds_and_a_copied_run_is_left_out(tmp_path):
    same_cell = _script()
    a = _grid(
        tmp_path / "a",
        {
            "c1": (1, 0.60, 0.55, 120, AVX512, True),
            "c2": (2, 0.62, 0.57, 160, AVX512, True),
            "c3": (3, 0.58, 0.52, 200, AVX2, True),
            "c4": (4, 0.50, None, 80, AVX2, True),  # an lr-search run: dev only
            "c5": (5, 0.61, 0.56, 200, AVX2, True),
            "c7": (7, 0.61, 0.56, 200, AVX2, True),  # only in A
        },
    )
    b = _grid(
        tmp_path / "b",
        {
            "c1": (1, 0.61, 0.54, 120, AVX2, True),
            "c2": (2, 0.62, 0.59, 200, AVX2, True),
            "c3": (3, 0.58, 0.52, 200, AVX2, True),
            "c5": (5, 0.61, 0.56, 200, AVX2, True),
            "c6": (6, 0.70, 0.60, 40, AVX2, False),  # unfinished: not a run yet
        },
    )
    # c4 was copied from A into B (and written again in another layout): one run
    (b / "cells" / "c4" / "run").mkdir(parents=True)
    copied = json.loads((a / "cells" / "c4" / "run" / "metrics.json").read_text())
    (b / "cells" / "c4" / "run" / "metrics.json").write_text(json.dumps(copied))
    (b / "cells" / "c4" / "run" / "finished.json").write_text("{}")
    grid_b = json.loads((b / "grid.json").read_text())
    grid_b["cells"].append(json.loads((a / "grid.json").read_text())["cells"][3])
    (b / "grid.json").write_text(json.dumps(grid_b))

    result = same_cell.compare(a, b)
    assert [p["id"] for p in result["pairs"]] == ["c1", "c2", "c3", "c5"]
    assert result["same_run_left_out"] == 1
    avx2_avx2, avx512_avx2 = result["by_machines"]  # sorted by machine kinds
    assert (avx2_avx2["machine_a"], avx2_avx2["machine_b"]) == (
        "AMD EPYC (AVX2, cpu)",
        "AMD EPYC (AVX2, cpu)",
    )
    assert avx2_avx2["n"] == 2 and avx2_avx2["identical"] == 2
    assert avx2_avx2["test"]["mean_diff"] == 0 and avx2_avx2["test"]["p_ttest"] is None
    assert avx512_avx2["machine_a"] == "AMD EPYC (AVX512, cpu)"
    # test B − A: -1 and +2 points; dev: +1 and 0 (hand-computed)
    assert avx512_avx2["n"] == 2 and avx512_avx2["identical"] == 0
    assert abs(avx512_avx2["test"]["mean_diff"] - 0.5) < 1e-9
    assert abs(avx512_avx2["test_max_abs_diff"] - 2.0) < 1e-9
    assert abs(avx512_avx2["dev"]["mean_diff"] - 0.5) < 1e-9
    assert avx512_avx2["same_selected_step"] == 1
    # c1's predictions changed with its score (0.55 -> 0.54), c2's did not (0.57 -> 0.59)
    assert [p["same_predictions"] for p in result["pairs"]] == [False, True, True, True]
    assert (avx512_avx2["with_predictions"], avx512_avx2["same_predictions"]) == (2, 1)

    text = same_cell.markdown(result, "python benchmarks/same_cell.py a b")
    assert "1 cells hold the same run in both grids" in text
    assert "**A AMD EPYC (AVX512, cpu), B AMD EPYC (AVX2, cpu)** (2 cells; two kinds" in text
    assert "**A AMD EPYC (AVX2, cpu), B AMD EPYC (AVX2, cpu)** (2 cells; the same kind" in text
    assert "- test: B − A +0.00 in each of the 2 cells." in text
    assert (
        "2 of 2 cells; 2 gave exactly the same scores; 2 of 2 with test predictions kept wrote "
        "exactly the same ones." in text
    )
