"""Move finished runs of the former benchmark grid layout into a `segmix experiment` grid folder.

``benchmarks/ner_quality.py`` kept one folder per cell as ``RUNS/n<size>/<label>/seed<k>``; the
same runs, planned by ``segmix experiment``, live in ``GRID/cells/<id>/run``. A started old run
(finished, or unfinished with its checkpoints: the grid resumes it) is adopted only when every
option that shapes it equals the planned cell's (a field the old run's config.json lacks counts
as its default, as ``--resume`` treats it); anything else is listed and left where it is, to be
trained again by the grid.

    python benchmarks/adopt_cells.py configs/ner_quality.yaml benchmarks/runs/ner_quality \\
        benchmarks/runs/ner_quality_grid [--dry-run]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from segmix.experiment.cells import CELL_JSON  # noqa: E402
from segmix.experiment.runner import planned_cells  # noqa: E402
from segmix.experiment.spec import load_spec  # noqa: E402
from segmix.run import _shaping, stored_shaping  # noqa: E402
from segmix.runs import is_finished, read_json, write_json  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", type=Path)
    parser.add_argument("old_runs", type=Path, help="RUNS with n<size>/<label>/seed<k> folders")
    parser.add_argument("grid", type=Path)
    parser.add_argument("--dry-run", action="store_true", help="say what would move; move none")
    args = parser.parse_args()
    spec = load_spec(args.spec)
    adopted = kept = 0
    for cell in planned_cells(spec, args.grid):
        old = args.old_runs / f"n{cell.size}" / cell.variant.label / f"seed{cell.seed}"
        if not (old / "config.json").exists() or cell.run_dir.exists():
            continue  # never started, or already adopted
        before = stored_shaping(read_json(old / "config.json"))
        now = _shaping(cell.config.to_dict())
        changed = sorted(k for k in now if k != "output_dir" and before.get(k) != now[k])
        if changed:
            diffs = ", ".join(f"{k} {before.get(k)!r} → {now[k]!r}" for k in changed)
            print(f"kept {old}: not the planned cell ({diffs})")
            kept += 1
            continue
        state = "finished" if is_finished(old) else "unfinished, resumes from its checkpoint"
        print(f"{'would adopt' if args.dry_run else 'adopted'} {old} ({state}) as {cell.run_dir}")
        adopted += 1
        if not args.dry_run:
            cell.folder.mkdir(parents=True, exist_ok=True)
            shutil.move(str(old), str(cell.run_dir))
            # a Trainer checkpoint names the best one by its absolute path: point it here
            for state in cell.run_dir.glob("checkpoints/*/trainer_state.json"):
                text = state.read_text()
                state.write_text(text.replace(str(old.resolve()), str(cell.run_dir)))
            write_json(cell.folder / CELL_JSON, cell.record())
    print(f"{adopted} adopted, {kept} kept")


if __name__ == "__main__":
    main()
