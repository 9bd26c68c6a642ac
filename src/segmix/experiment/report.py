"""The report of a grid: test scores, paired gains with their evidence, and a recommendation.

A grid folder (written by :mod:`segmix.experiment.runner`) holds ``grid.json`` (the plan: one
cell per label × size × seed × lr, in an ``lr-search`` or ``main`` phase), an optional
``lr_choice.json`` and one ordinary run folder per cell under ``cells/``. The report reads the
finished *main* cells only and writes ``report.md``, ``report.csv``, ``report.json`` and
``plots/*.png``.

Why it is built the way it is — small-data comparisons are easily fooled:

* every gain is *paired*: a method's seed-``s`` run against the baseline's (``none``) seed-``s``
  run at the same size, which shares the training subset, initialisation and order;
* a verdict needs both a seed-level test and an interval that carries training variance: the
  paired t-test over seeds, Holm-adjusted over the methods compared at that size, and the
  two-way bootstrap over seeds × test sentences
  (:func:`segmix.experiment.stats.paired_bootstraps`); the bootstrap over test sentences alone
  is shown as a secondary figure and decides nothing;
* the recommendation is the largest gain among the methods with evidence, and says whether it
  beats the runner-up; "no evidence" carries the smallest gain the grid could have detected;
* the paper's claims are contrasts between methods (segment-level against sequence-level
  mixing): those are tested directly, paired by seed, under the same rule;
* a half-finished grid still gives a report: what is missing is listed, never guessed;
* a reference row (``spacy``: another tool trained on the same subsets, :mod:`segmix.reference`)
  is shown with its paired difference against ``none`` but is never a candidate for the
  recommendation: it is a different model, not an augmentation.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import json
import logging
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from segmix.experiment.names import display_name
from segmix.experiment.stats import (
    BootstrapResult,
    SufficientStats,
    detectable_gain,
    holm,
    min_wilcoxon_p,
    paired_bootstraps,
    paired_tests,
)
from segmix.formatting import human_duration, num, signed
from segmix.reference import REFERENCES, is_reference
from segmix.runs import (
    COMPACT_TEST,
    compact_predictions_path,
    machine_kind,
    read_compact_predictions,
    read_json,
)
from segmix.tasks import TASKS, get_task

logger = logging.getLogger(__name__)

__all__ = ["RECOMMENDATION_RULE", "build_report", "render_markdown", "verdict", "write_report"]

BASELINE = "none"
MAIN_PHASES = frozenset({"main", "final"})
ALPHA = 0.05

REFERENCE_NOTE = (
    "Reference rows (marked *reference*) are a different model trained on the same training "
    "subsets, with the same number of optimizer updates, selected on the same dev sample and "
    "scored with the same scorer on the same test set; they show what a user would otherwise "
    "run. Their paired difference against `none` is given like a gain, but they are excluded "
    "from the recommendation and from its Holm adjustment: they are not augmentations."
)

POWER = 0.8
#: target gains (points) for which the report says how many seeds a grid would need
TARGET_GAINS = (1.0, 2.0)

RECOMMENDATION_RULE = (
    "A method shows **evidence of a gain** over `none` at a training-set size when, with at "
    "least 2 paired seeds, (1) its paired t-test over seeds, Holm-adjusted over the augmentation "
    "methods compared at that size, gives p < 0.05 (two-sided) **and** (2) its two-way bootstrap "
    "95 % interval, which resamples the paired seeds and the test sentences together, lies "
    "entirely above 0 (a loss: below 0). The recommended method is the one with the largest "
    "mean gain among the methods with evidence of a gain; the line says whether it beats the "
    "runner-up (the compared method with the next-largest mean gain) by the same two tests, "
    "unadjusted, on their paired difference, or is not distinguishable from it. Where no method "
    "qualifies the recommendation is no augmentation, with the smallest gain the grid's seeds "
    "could have detected. The bootstrap over test sentences alone (models held fixed) is shown "
    "as a secondary figure and decides nothing."
)

SEED_REUSE_NOTE = (
    "The learning rate of each method was chosen on dev from runs of seeds {seeds}, and those "
    "runs are also reported here as seeds {seeds} of the comparison: this grid was run before "
    "search seeds were kept apart from reported seeds. Each method's gain on those seeds sits "
    "at an lr picked as the best of the candidates on those very runs (on dev, never test), "
    "which can favour every searched row, the baseline included, slightly on those seeds. New "
    "grids choose the lr on seeds of their own (`lr_seeds`)."
)


# --------------------------------------------------------------------------------------------
# reading the grid


@dataclass
class CellResult:
    """One planned cell of the grid as the report reads it back: what its folder holds (state,
    metrics, config). :class:`segmix.experiment.cells.Cell` is the cell the runner plans and
    trains."""

    id: str
    label: str
    method: str
    options: dict[str, Any]
    size: int
    seed: int
    lr: float | None
    phases: tuple[str, ...]
    dir: Path
    state: str  # finished | failed | unfinished | not started | unreadable
    detail: str = ""
    metrics: dict | None = None
    config: dict | None = None
    reference: bool = False  # a reference system's cell (segmix.reference), not an augmentation
    searched: bool = False  # a main cell whose run also took part in the lr search

    @property
    def main(self) -> bool:
        """A cell of the final comparison (an lr-search cell reused there is one too)."""
        return bool(MAIN_PHASES & set(self.phases))


def _first_line(path: Path) -> str:
    """The first line of an error log; for a Python traceback, its exception line instead."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        return ""
    if lines[0].startswith("Traceback"):  # "Traceback (most recent call last):" says nothing
        for line in lines[1:]:
            if not line[0].isspace():
                return line.strip()
    return lines[0].strip()


def _phases(spec: dict) -> tuple[str, ...]:
    """A cell's phases as names; the runner may write ``1``/``2`` for lr-search/main."""
    phase = spec.get("phase", "main")
    raw = phase if isinstance(phase, list) else [phase]
    return tuple({1: "lr-search", 2: "main"}.get(p, str(p)) for p in raw)


def read_grid(grid_dir: Path) -> dict:
    """``grid.json``, checked for the fields the report needs (a clear error otherwise)."""
    path = grid_dir / "grid.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: {grid_dir} is not a grid folder")
    grid = read_json(path)  # invalid JSON: a ValueError naming the file
    for key in ("task", "cells"):
        if key not in grid:
            raise ValueError(f"{path} has no {key!r}")
    if grid["task"] not in TASKS:
        raise ValueError(f"{path}: task {grid['task']!r} is not one of {', '.join(TASKS)}")
    return grid


def _cell(grid_dir: Path, spec: dict) -> CellResult:
    """A cell of ``grid.json`` with its folder's state; the folder, not grid.json, is trusted."""
    phases = _phases(spec)
    folder = grid_dir / spec.get("dir", f"cells/{spec['id']}")
    cell = CellResult(
        id=str(spec["id"]),
        label=str(spec.get("label") or spec.get("method")),
        method=str(spec.get("method")),
        options=dict(spec.get("options") or {}),
        size=int(spec["size"]),
        seed=int(spec["seed"]),
        lr=spec.get("lr"),
        phases=phases,
        dir=folder,
        state="not started",
        reference=bool(spec.get("reference")) or is_reference(str(spec.get("method"))),
        searched=bool(spec.get("lr_search")) and bool(MAIN_PHASES & set(phases)),
    )
    # the log sits in the run folder, or beside it when the run folder is cells/<id>/run
    error_log = folder / "error.log"
    if not error_log.exists() and folder.parent not in (grid_dir, grid_dir / "cells"):
        error_log = folder.parent / "error.log"
    if (folder / "finished.json").exists():
        try:
            cell.metrics = read_json(folder / "metrics.json")
            cell.config = (
                read_json(folder / "config.json") if (folder / "config.json").exists() else None
            )
            cell.state = "finished"
        except (OSError, ValueError) as err:
            cell.state, cell.detail = "unreadable", f"metrics.json: {err}"
    elif spec.get("status") == "failed" or error_log.exists():
        cell.state = "failed"
        cell.detail = _first_line(error_log) or str(spec.get("error") or "no error.log")
    elif folder.exists():
        cell.state = "unfinished"
        cell.detail = "folder without finished.json (running, or interrupted)"
    if spec.get("status") == "finished" and cell.state != "finished":
        cell.detail = (cell.detail + "; " if cell.detail else "") + (
            "grid.json says finished but the folder does not"
        )
    return cell


def _unique_cells(grid_dir: Path, specs: list[dict]) -> list[CellResult]:
    """One :class:`CellResult` per id: a cell listed once per phase is one run with both phases."""
    by_id: dict[str, CellResult] = {}
    for spec in specs:
        cell = _cell(grid_dir, spec)
        if cell.id in by_id:
            known = by_id[cell.id]
            known.phases = tuple(dict.fromkeys((*known.phases, *cell.phases)))
            known.searched = known.searched or cell.searched
        else:
            by_id[cell.id] = cell
    for cell in by_id.values():
        # an lr-search cell skips test (decision 49); a cell the comparison reports cannot
        if (
            cell.main
            and cell.state == "finished"
            and not isinstance(cell.metrics.get("test"), dict)
        ):
            cell.state, cell.detail = "unreadable", "metrics.json has no test scores"
    return list(by_id.values())


def _title(label: str, cell: CellResult) -> str:
    """How tables name a row: its readable name; a reference row says what it is beside it."""
    shown = display_name(label, cell.method, cell.options)
    if not cell.reference:
        return shown
    ref = REFERENCES.get(cell.method)
    return f"{shown} ({ref.title if ref else 'reference'})"


def _headline(scores: dict, metric: str) -> float:
    return float(scores[metric] if metric in scores else scores["f1"])


@dataclass
class _TestSet:
    stats: SufficientStats
    key: str  # fingerprint of the gold labels: cells are compared only on the same test set


def _read_predictions(cell: CellResult, task: str) -> tuple[list, list]:
    """Gold and predicted labels of ``cell``'s test predictions, in file order.

    Records hold ``gold`` since segmix writes it; without it the gold labels are read from the
    test file named in the cell's ``config.json``.
    """
    path = cell.dir / "predictions" / "test.jsonl"
    if not path.exists():
        compact = compact_predictions_path(cell.dir)
        if compact is None:
            raise FileNotFoundError(f"no predictions/test.jsonl (nor {COMPACT_TEST})")
        # what a committed grid keeps: ids and predictions, the gold read from the test file
        ids, pred = read_compact_predictions(compact)
        gold_of = dict(_gold_of_test_file(cell, task))
        missing = [i for i in ids if i not in gold_of]
        if missing:
            raise ValueError(f"{compact.name}: ids {missing[:3]} are not in the test file")
        return [gold_of[i] for i in ids], pred
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    pred = [r["pred"] for r in records]
    if records and all("gold" in r for r in records):
        return [r["gold"] for r in records], pred
    gold = [g for _, g in _gold_of_test_file(cell, task)]
    if len(gold) != len(pred):
        raise ValueError(f"{len(pred)} predictions but {len(gold)} gold labels in the test file")
    return gold, pred


def _gold_of_test_file(cell: CellResult, task: str) -> list[tuple[Any, Any]]:
    """``(id, gold)`` of every example of the test file the cell's ``config.json`` names (the
    cell's identity pins that file's content)."""
    test_file = ((cell.config or {}).get("files") or {}).get("test")
    if not test_file:
        raise FileNotFoundError("predictions lack gold and config.json names no test file")
    return get_task(task).gold_of_file(Path(test_file), cell.config or {})


def _test_set(cell: CellResult, task: str, cache: dict[str, _TestSet | str]) -> _TestSet | str:
    """The cell's per-example statistics, or why there are none (cached: ``none`` is reused)."""
    if cell.id in cache:
        return cache[cell.id]
    result: _TestSet | str
    try:
        gold, pred = _read_predictions(cell, task)
        stats = get_task(task).example_stats(gold, pred, (cell.metrics or {}).get("test", {}))
        key = hashlib.sha1(json.dumps(gold).encode()).hexdigest()
        result = _TestSet(stats, key)
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as err:
        result = str(err)
    cache[cell.id] = result
    return result


# --------------------------------------------------------------------------------------------
# statistics per row


def _mean_std(values: Sequence[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else None)


def verdict(
    n_pairs: int,
    interval: dict | None,
    p_adjusted: float | None,
    *,
    mean: float | None = None,
    skipped: str | None = None,
    adjusted: bool = True,
    detectable: dict | None = None,
) -> tuple[str, str]:
    """``(evidence, wording)`` of a row by :data:`RECOMMENDATION_RULE`; evidence is ``gain``,
    ``loss`` or ``none``.

    "Evidence of a gain/loss" only where the seed-level test (``p_adjusted``, Holm-adjusted
    unless ``adjusted`` is false) gives p < 0.05 **and** the two-way interval excludes 0 on the
    same side. Otherwise "no evidence of a gain" (of a gain or a loss when the mean is
    negative) with the reasons, and, from ``detectable``, the smallest gain this size's seeds
    could have shown: an absent verdict is not an absent effect.
    """
    no = "no evidence of a gain" + (" or a loss" if mean is not None and mean < 0 else "")
    if n_pairs < 2:
        return "none", f"no evidence of a gain ({n_pairs} paired seed{'s' * (n_pairs != 1)})"
    side = _side(interval, p_adjusted)
    if side:
        return ("gain", "evidence of a gain") if side > 0 else ("loss", "evidence of a loss")
    test_name = "Holm-adjusted t-test p" if adjusted else "t-test p"
    text = f"{no} ({'; '.join(_why_not(interval, p_adjusted, test_name, skipped))})"
    if detectable and detectable.get("gain") is not None:
        text += (
            f"; these {detectable['n']} seeds could show only gains ≥ "
            f"{detectable['gain']:.2f} points ({int(100 * detectable['power'])} % power)"
        )
    return "none", text


@dataclass
class _Row:
    label: str
    size: int
    cells: dict[int, CellResult] = field(default_factory=dict)  # finished main cells by seed


def _row_rate(row: _Row) -> float | None:
    if any(c.reference for c in row.cells.values()):
        return None  # a reference adds no augmented examples
    for cell in row.cells.values():
        if cell.config and "rate" in cell.config:
            return float(cell.config["rate"])
    rate = next(iter(row.cells.values())).options.get("rate") if row.cells else None
    return float(rate) if rate is not None else None


def _lr(row: _Row, lr_choice: dict) -> tuple[Any, dict | None]:
    choice = lr_choice.get(f"{row.label}|{row.size}")
    if isinstance(choice, dict) and "chosen" in choice:
        return choice["chosen"], choice.get("dev_means")
    lrs = sorted(
        {c.lr if c.lr is not None else (c.config or {}).get("lr") for c in row.cells.values()}
        - {None}
    )
    return (lrs[0] if len(lrs) == 1 else lrs or None), None


def _timing(cells: Sequence[CellResult]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for key in ("train_seconds", "total_seconds", "tokens_per_second"):
        values = [
            float(c.metrics["timing"][key])
            for c in cells
            if c.metrics and key in (c.metrics.get("timing") or {})
        ]
        out[key] = statistics.mean(values) if values else None
    steps = [float(c.metrics["steps"]) for c in cells if c.metrics and "steps" in c.metrics]
    out["steps"] = statistics.mean(steps) if steps else None
    return out


def _machines(cells: Sequence[CellResult]) -> dict[str, int]:
    """Finished runs per kind of machine (processor and instruction set), from metrics.json:
    timings of two kinds do not compare (decision 32)."""
    counts: dict[str, int] = {}
    for c in cells:
        if not c.metrics:
            continue
        name = _machine_kind(c) or "not recorded (a run from before segmix wrote its machine)"
        counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def _machine_kind(cell: CellResult) -> str | None:
    """Processor, instruction set and device of a finished run; None where not recorded."""
    return machine_kind((cell.metrics or {}).get("machine"))


#: the CPU instruction sets whose runs were compared cell for cell (decision 56): a pair of
#: runs on two CPUs of these gave the same (or all but the same) scores for the same cell
_MEASURED_CPU_SETS = frozenset({"AVX2", "AVX512"})

#: what those comparisons found, as the report's note cites it
_CPU_SAME_CELL = (
    "AVX2 against AVX-512 on an AMD EPYC: 17 of 17 cells at 50 sentences the same, "
    "benchmarks/results/same_cell_cpu.md; an Intel Xeon against an AMD EPYC, both AVX-512: "
    "6 of 7 cells at 100 sentences the same, the seventh, spaCy's, 0.03 points apart, "
    "benchmarks/results/same_cell_intel.md; two Intel Xeons (Sapphire Rapids, Ice Lake), both "
    "AVX-512: 9 of 9 cells at 100 sentences the same, benchmarks/results/same_cell_xeon.md"
)


def _pairs_across_machines(rows: dict[tuple[str, int], _Row]) -> list[str]:
    """Notes on the paired gains that compare a run with the baseline's run of the same seed
    on another kind of machine; pairs where either machine is not recorded are not counted.
    Two kinds of difference, each with what was measured: a GPU on either side, or a CPU of an
    instruction set not compared (a GPU against a CPU lands up to about a point of F1 apart,
    benchmarks/results/same_cell.md), one note a method and size, since such a gain carries
    the machine's effect as well as the method's; or two CPUs of the instruction sets compared
    (another processor or instruction set, each of which gave the same or all but the same
    scores for the same cell: decision 56), one note a size naming them, so that a reader can
    check them at sizes not measured."""
    notes = []
    between_cpus: dict[int, list[str]] = {}
    for (label, size), row in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        base = rows.get((BASELINE, size))
        if label == BASELINE or base is None:
            continue
        machines, cpus = [], []
        for seed, cell in sorted(row.cells.items()):
            other = base.cells.get(seed)
            mine, theirs = ((c.metrics or {}).get("machine") if c else None for c in (cell, other))
            if not mine or not theirs or machine_kind(mine) == machine_kind(theirs):
                continue
            capabilities = {mine["cpu_capability"], theirs["cpu_capability"]}
            measured = mine["device"] == theirs["device"] == "cpu"
            measured = measured and capabilities <= _MEASURED_CPU_SETS
            (cpus if measured else machines).append(seed)
        # named as the tables name the row, not by its grid label ("FGM alone", not
        # "none[adversarial=fgm]")
        first = next(iter(row.cells.values()), None)
        shown = display_name(label, first.method, first.options) if first else label
        if machines:
            notes.append(
                f"{shown} at size {size}: the paired gain of {_seeds_text(machines)} compares "
                "runs from two kinds of machine (processor or device); the machine alone moves "
                "a run's score by up to about a point (benchmarks/results/same_cell.md)"
            )
        if cpus:
            between_cpus.setdefault(size, []).append(f"{shown} ({_seeds_text(cpus)})")
    for size, labels in between_cpus.items():
        notes.append(
            f"At size {size} the paired gains of {', '.join(labels)} compare runs from two "
            "kinds of CPU (another processor or instruction set); the CPUs compared gave the "
            f"same or all but the same scores for the same cell ({_CPU_SAME_CELL})"
        )
    return notes


def _seeds_text(seeds: list[int]) -> str:
    return f"seed{'s' * (len(seeds) > 1)} {', '.join(map(str, seeds))}"


def _row_result(
    row: _Row,
    base: _Row | None,
    *,
    task: str,
    metric: str,
    lr_choice: dict,
    resamples: int,
    seed: int,
    cache: dict[str, _TestSet | str],
) -> dict:
    """Everything the report says about one label × size (scores in F1 points, ×100)."""
    seeds = sorted(row.cells)
    test = {s: 100 * _headline(row.cells[s].metrics["test"], metric) for s in seeds}
    dev = {
        s: 100 * _headline(row.cells[s].metrics["dev"], metric)
        for s in seeds
        if row.cells[s].metrics.get("dev")
    }
    test_mean, test_std = _mean_std(list(test.values()))
    lr, dev_means = _lr(row, lr_choice)
    per_type_test: dict[str, float] = {}
    types = sorted({t for s in seeds for t in row.cells[s].metrics["test"].get("per_type", {})})
    for t in types:
        vals = [
            100 * row.cells[s].metrics["test"]["per_type"][t]["f1"]
            for s in seeds
            if t in row.cells[s].metrics["test"].get("per_type", {})
        ]
        per_type_test[t] = statistics.mean(vals)
    first = next(iter(row.cells.values()))
    result: dict[str, Any] = {
        "size": row.size,
        "label": row.label,
        "title": _title(row.label, first),
        "display": display_name(row.label, first.method, first.options),
        "reference": first.reference,
        "method": first.method,
        "options": first.options,
        "rate": _row_rate(row),
        "lr": lr,
        "lr_dev_means": dev_means,
        "seeds": seeds,
        "n": len(seeds),
        "test": test,
        "test_mean": test_mean,
        "test_std": test_std,
        "dev": dev,
        "dev_mean": statistics.mean(dev.values()) if dev else None,
        "per_type_test": per_type_test,
        "timing": _timing(list(row.cells.values())),
        "baseline": row.label == BASELINE,
    }
    if row.label == BASELINE:
        result.update(evidence=None, verdict="baseline")
        return result
    if base is None:
        difference = {"seeds": [], "diff": {}, "tests": paired_tests([]), "interval": None}
        difference |= {
            "sentence_bootstrap": None,
            "skipped": f"no '{BASELINE}' runs at size {row.size}",
        }
    else:
        difference = _difference(
            row, base, task=task, metric=metric, resamples=resamples, seed=seed, cache=cache
        )
    paired, gains, tests = difference["seeds"], difference["diff"], difference["tests"]
    per_type_gain: dict[str, float] = {}
    for t in types:
        diffs = [
            100
            * (
                row.cells[s].metrics["test"]["per_type"][t]["f1"]
                - base.cells[s].metrics["test"]["per_type"][t]["f1"]
            )
            for s in paired
            if t in base.cells[s].metrics["test"].get("per_type", {})
            and t in row.cells[s].metrics["test"].get("per_type", {})
        ]
        if diffs:
            per_type_gain[t] = statistics.mean(diffs)
    result.update(
        paired_seeds=paired,
        unpaired_seeds=[s for s in seeds if s not in paired],
        gain=gains,
        gain_mean=tests.mean,
        gain_std=tests.std,
        t_p=tests.t_p,
        t_why=tests.t_why,
        wilcoxon_p=tests.wilcoxon_p,
        wilcoxon_why=tests.wilcoxon_why,
        interval=difference["interval"],
        sentence_bootstrap=difference["sentence_bootstrap"],
        bootstrap_skipped=difference["skipped"],
        per_type_gain=per_type_gain,
        evidence=None,  # set by _judge, once the size's family is known (Holm)
        verdict="",
    )
    base_train = (base and _timing(list(base.cells.values()))["train_seconds"]) or None
    own_train = result["timing"]["train_seconds"]
    result["timing"]["train_vs_none"] = (
        own_train / base_train if own_train is not None and base_train else None
    )
    return result


def _seed_list(seeds: Sequence[int]) -> str:
    return ", ".join(str(s) for s in seeds)


def _paired_intervals(
    cells_a: dict[int, CellResult],
    cells_b: dict[int, CellResult],
    paired: list[int],
    task: str,
    resamples: int,
    seed: int,
    cache: dict[str, _TestSet | str],
) -> tuple[dict | None, dict | None, str | None]:
    """``(sentence bootstrap, two-way interval, why not)`` of ``a`` minus ``b``, paired by seed.

    Pooled over the seeds whose two runs both have usable test predictions. Seeds without them
    (a run whose predictions were never copied to this machine, say) are left out and named, as
    long as two seeds remain: whether predictions are missing does not depend on the scores."""
    a_sets, b_sets, problems, usable = [], [], [], []
    for s in paired:  # every cell is read, so that the Missing section lists each unusable one
        bad = []
        for cell in (cells_a[s], cells_b[s]):
            got = _test_set(cell, task, cache)
            if isinstance(got, str):
                bad.append(f"{cell.id}: {got}")
        problems += bad
        if not bad:
            usable.append(s)
            a_sets.append(cache[cells_a[s].id])
            b_sets.append(cache[cells_b[s].id])
    if len(usable) < 2:
        shown = "; ".join(problems[:2]) + (
            f"; and {len(problems) - 2} more, listed under Missing" if len(problems) > 2 else ""
        )
        return None, None, f"unusable test predictions ({shown})"
    keys = {ts.key for ts in (*a_sets, *b_sets)}  # type: ignore[union-attr]
    if len(keys) != 1:
        return None, None, "the runs were tested on different test sets"
    sentences, two_way = paired_bootstraps(
        [ts.stats for ts in a_sets],  # type: ignore[union-attr]
        [ts.stats for ts in b_sets],  # type: ignore[union-attr]
        resamples=resamples,
        seed=seed,
    )
    left_out = [s for s in paired if s not in usable]
    return _boot_dict(sentences, usable, left_out), _boot_dict(two_way, usable, left_out), None


def _boot_dict(result: BootstrapResult, used: list[int], left_out: list[int]) -> dict:
    return {
        "scheme": result.scheme,
        "gain": 100 * result.gain,
        "low": 100 * result.low,
        "high": 100 * result.high,
        "p": result.p,
        "p_floor": result.p_floor,
        "resamples": result.resamples,
        "examples": result.examples,
        "seeds": result.seeds,
        "seeds_used": used,
        "seeds_left_out": left_out,
        "level": result.level,
    }


def _detectable(rows: list[dict], m: int) -> dict | None:
    """What this size's seeds could have detected: the paired t-test's minimum detectable gain
    at 80 % power and the strictest level Holm asks of a family of ``m`` (α / m, what the method
    with the smallest p must pass), from the pooled spread of the compared methods' per-seed
    gains (root mean square of their standard deviations); and the seeds 1 and 2 points would
    need. ``None`` without two methods' spreads to pool."""
    spreads = [r["gain_std"] for r in rows if r.get("gain_std") is not None]
    counts = [len(r["gain"]) for r in rows if r.get("gain_std") is not None]
    if not spreads:
        return None
    sd = math.sqrt(statistics.mean(v * v for v in spreads))
    n = min(counts)
    alpha = ALPHA / max(m, 1)
    found = detectable_gain(sd, n, alpha, power=POWER, targets=TARGET_GAINS)
    return {
        "n": n,
        "sd": sd,
        "alpha": alpha,
        "family": m,
        "power": POWER,
        "gain": found.gain,
        "seeds_for": found.seeds_for,
    }


def _judge(size_rows: list[dict]) -> dict | None:
    """Apply the rule to one size's rows: Holm over the compared augmentation methods (a
    reference row is a family of its own), then each row's evidence and wording. Returns what
    the size's seeds could have detected."""
    compared = [r for r in size_rows if not r["baseline"] and not r["reference"]]
    for r, adj in zip(compared, holm([r.get("t_p") for r in compared]), strict=True):
        r["t_p_holm"] = adj
    detectable = _detectable(compared, len(compared))
    for r in size_rows:
        if r["baseline"]:
            continue
        if r["reference"]:
            r["t_p_holm"] = None  # outside the family of compared methods
        evidence, wording = verdict(
            len(r["gain"]),
            r["interval"],
            r["t_p"] if r["reference"] else r["t_p_holm"],
            mean=r["gain_mean"],
            skipped=r["bootstrap_skipped"],
            adjusted=not r["reference"],
            detectable=None if r["reference"] else detectable,
        )
        left_out = (r["interval"] or {}).get("seeds_left_out")
        if left_out:
            wording += (
                f"; interval over seeds {_seed_list(r['interval']['seeds_used'])} only ("
                + (
                    f"seed {left_out[0]} has"
                    if len(left_out) == 1
                    else f"seeds {_seed_list(left_out)} have"
                )
                + " no usable test predictions here)"
            )
        if r["reference"]:
            wording += "; a reference row, not a candidate for the recommendation"
        r["evidence"], r["verdict"] = evidence, wording
    return detectable


def _difference(
    a: _Row, b: _Row, *, task: str, metric: str, resamples: int, seed: int, cache: dict
) -> dict:
    """The paired difference ``a − b`` between two methods' rows: per-seed differences, the
    t-test, the two-way interval and the sentence bootstrap (points)."""
    paired = sorted(set(a.cells) & set(b.cells))
    diffs = {
        s: 100
        * (
            _headline(a.cells[s].metrics["test"], metric)
            - _headline(b.cells[s].metrics["test"], metric)
        )
        for s in paired
    }
    tests = paired_tests(list(diffs.values()))
    sentence_boot, interval, skipped = None, None, None
    if len(paired) < 2:
        skipped = f"{len(paired)} paired seed{'s' * (len(paired) != 1)}"
    elif resamples < 1:
        skipped = "--bootstrap 0"
    else:
        sentence_boot, interval, skipped = _paired_intervals(
            a.cells, b.cells, paired, task, resamples, seed, cache
        )
    return {
        "seeds": paired,
        "diff": diffs,
        "mean": tests.mean,
        "std": tests.std,
        "t_p": tests.t_p,
        "tests": tests,  # the full PairedTests, for the caller; not written to report.json
        "interval": interval,
        "sentence_bootstrap": sentence_boot,
        "skipped": skipped,
    }


def _side(interval: dict | None, p: float | None) -> int:
    """The rule on one paired difference: +1 where it is positive by both tests (p < α and the
    two-way interval above 0), −1 where negative by both, 0 otherwise."""
    if p is None or p >= ALPHA or interval is None:
        return 0
    if interval["low"] > 0:
        return 1
    if interval["high"] < 0:
        return -1
    return 0


def _why_not(
    interval: dict | None, p: float | None, test_name: str, skipped: str | None
) -> list[str]:
    """Why a paired difference has no verdict by the rule: each test that fell short."""
    significant = p is not None and p < ALPHA
    reasons = [] if significant else [f"{test_name} {_p(p, eq=True)}"]
    if interval is None:
        reasons.append(f"interval not computed: {skipped or 'n/a'}")
    elif interval["low"] <= 0 <= interval["high"]:
        reasons.append("the interval covers 0")
    elif significant:  # the test and the interval point opposite ways
        reasons.append("the interval and the t-test disagree in sign")
    return reasons


def _winner(size_rows: list[dict]) -> dict | None:
    """The recommended row of a size: the largest mean gain among the compared methods with
    evidence of a gain (ties: the higher interval), or None."""
    qualified = [
        r for r in size_rows if not r["baseline"] and not r["reference"] and r["evidence"] == "gain"
    ]
    return max(qualified, key=lambda r: (r["gain_mean"], r["interval"]["low"]), default=None)


def _recommend(
    size: int,
    rows: list[dict],
    has_base: bool,
    runner_up: dict | None,
    detectable: dict | None,
    runs: tuple[int, int] | None = None,
) -> dict:
    """The recommendation of one size by :data:`RECOMMENDATION_RULE`, with its evidence;
    ``runner_up`` is the paired difference between the best method and the runner-up
    (:func:`_difference`, with ``label``), computed by the caller. ``runs`` is (finished,
    planned) main-phase runs at this size: while some are still to run the size is under way
    and recommends nothing, because "no augmentation" read off the seeds that happen to be done
    would be a verdict the grid has not reached (a gain can only show once its seeds exist)."""
    compared = [r for r in rows if not r["baseline"] and not r["reference"]]
    out: dict[str, Any] = {"size": size, "label": None, "family": len(compared)}
    if runs is not None and runs[0] < runs[1]:
        return out | {
            "under_way": True,
            "text": f"under way: {runs[0]} of {runs[1]} planned runs at this size have "
            "finished; no recommendation until all have (run the same `segmix experiment` "
            "command again to continue); the verdicts below are interim",
        }
    if not has_base:
        return out | {
            "text": f"cannot recommend: no '{BASELINE}' runs at this size to compare against"
        }
    if not compared:  # e.g. `--methods spacy`: the baseline against a reference row alone
        also = " and reference rows" if any(r["reference"] for r in rows) else ""
        return out | {  # a reference is never named here: it is not a candidate
            "text": "nothing to recommend: no augmentation method ran at this size, only the "
            f"baseline{also}",
        }
    best = _winner(rows)
    if best is not None:
        text = (
            f"**{best['display']}**: {_evidence(best)}; Holm-adjusted t-test p "
            f"{_p(best['t_p_holm'], eq=True)} ({len(compared)} "
            f"method{'s' * (len(compared) != 1)} compared)"
        )
        if runner_up is not None:
            verdict_word = {
                1: "beats the runner-up",
                0: "is not distinguishable from the runner-up",
                -1: "is beaten by the runner-up",
            }[runner_up["distinct"]]
            text += (
                f"; it {verdict_word} {runner_up['display']} (paired difference "
                f"{signed(runner_up['mean'])} ± {num(runner_up['std'])}, "
                f"{_interval_text(runner_up['interval'])}, t-test p "
                f"{_p(runner_up['t_p'], eq=True)})"
            )
        else:
            text += "; the only method compared"
        return out | {
            "label": best["label"],
            "display": best["display"],
            "gain": best["gain_mean"],
            "interval": best["interval"],
            "t_p": best["t_p"],
            "t_p_holm": best["t_p_holm"],
            "runner_up": runner_up,
            "text": text,
        }
    text = "no augmentation: no method shows evidence of a gain at this size"
    with_gain = [r for r in compared if r.get("gain_mean") is not None]
    if with_gain:
        top = max(with_gain, key=lambda r: r["gain_mean"])
        text += (
            f" (largest mean gain: {top['display']}, {_evidence(top)}, Holm-adjusted p "
            f"{_p(top.get('t_p_holm'), eq=True)})"
        )
    if detectable and detectable.get("gain") is not None:
        text += (
            f"; with these {detectable['n']} seeds only gains ≥ {detectable['gain']:.2f} "
            f"points were detectable at {int(100 * POWER)} % power"
        )
    return out | {"text": text, "detectable": detectable}


def _interval_text(interval: dict | None) -> str:
    if not interval:
        return "no interval"
    return (
        f"{int(100 * interval['level'])} % interval "
        f"[{signed(interval['low'])}, {signed(interval['high'])}]"
    )


def _evidence(r: dict) -> str:
    parts = [
        f"gain {signed(r['gain_mean'])} ± {num(r['gain_std'])} points over {len(r['gain'])} seeds"
    ]
    if r.get("interval"):
        parts.append(f"two-way {_interval_text(r['interval'])}")
    else:
        parts.append(f"no interval ({r.get('bootstrap_skipped')})")
    parts.append(f"t-test p {_p(r.get('t_p'), eq=True)}")
    return ", ".join(parts)


# --------------------------------------------------------------------------------------------
# the report as data


def build_report(grid_dir: str | Path, *, bootstrap: int = 1000, seed: int = 0) -> dict:
    """Read a grid folder and compute everything the report shows (no files written)."""
    grid_dir = Path(grid_dir)
    grid = read_grid(grid_dir)
    task = grid["task"]
    metric = grid.get("metric") or get_task(task).metric
    lr_path = grid_dir / "lr_choice.json"
    lr_choice: dict = {}
    notes: list[str] = []
    if lr_path.exists():
        try:
            lr_choice = read_json(lr_path)
        except (OSError, ValueError) as err:
            notes.append(f"lr_choice.json could not be read ({err}); planned learning rates shown")
    cells = _unique_cells(grid_dir, grid["cells"])
    main = [c for c in cells if c.main]
    labels: list[str] = []
    for c in main:
        if c.label not in labels:
            labels.append(c.label)
    references = {c.label for c in main if c.reference}
    # the baseline first, then the spec's order (grid.json's methods; the cells' order, kept by
    # the stable sort, where it has none: it changes with which part of the grid ran last), the
    # reference rows last
    spec_order = [m["label"] for m in grid.get("methods") or [] if "label" in m]
    labels.sort(
        key=lambda lb: (
            lb != BASELINE,
            lb in references,
            spec_order.index(lb) if lb in spec_order else len(spec_order),
        )
    )
    sizes = sorted({c.size for c in main})
    rows: dict[tuple[str, int], _Row] = {}
    for c in main:
        if c.state != "finished":
            continue
        row = rows.setdefault((c.label, c.size), _Row(c.label, c.size))
        if c.seed in row.cells:
            notes.append(
                f"cells {row.cells[c.seed].id} and {c.id} are both main-phase runs of "
                f"{c.label}, size {c.size}, seed {c.seed}; the first is reported"
            )
            continue
        row.cells[c.seed] = c
    notes += _pairs_across_machines(rows)
    cache: dict[str, _TestSet | str] = {}
    results: list[dict] = []
    recommendations: list[dict] = []
    pairs = _contrast_pairs(grid, labels)
    detectable_by_size: dict[str, dict | None] = {}
    contrasts: list[dict] = []
    rates: list[dict] = []
    default_rate = _default_rate(grid_dir)
    for size in sizes:
        base = rows.get((BASELINE, size))
        size_rows = []
        for label in labels:
            row = rows.get((label, size))
            if row is None:
                continue
            logger.info("report: %s at size %d (%d seeds)", label, size, len(row.cells))
            size_rows.append(
                _row_result(
                    row,
                    base,
                    task=task,
                    metric=metric,
                    lr_choice=lr_choice,
                    resamples=bootstrap,
                    seed=seed,
                    cache=cache,
                )
            )
        detectable = _judge(size_rows)
        detectable_by_size[str(size)] = detectable
        differ = {"task": task, "metric": metric, "resamples": bootstrap, "seed": seed}
        runner_up = _runner_up(size_rows, rows, size, differ, cache)
        planned = [c for c in main if c.size == size]
        runs = (sum(c.state == "finished" for c in planned), len(planned))
        recommendations.append(
            _recommend(size, size_rows, base is not None, runner_up, detectable, runs)
        )
        contrasts += _contrasts(pairs, rows, size, differ, cache)
        rates += _rate_choices(size_rows, rows, size, differ, cache, default_rate)
        results.extend(size_rows)
    for cell_id, got in cache.items():
        cell = next(c for c in cells if c.id == cell_id)
        if isinstance(got, _TestSet):
            headline = _headline(cell.metrics["test"], metric)
            if not math.isclose(got.stats.score(), headline, abs_tol=1e-9):
                notes.append(
                    f"cell {cell_id}: the test score recomputed from its predictions "
                    f"({100 * got.stats.score():.4f}) differs from metrics.json "
                    f"({100 * headline:.4f})"
                )
    missing = [
        {
            "id": c.id,
            "label": c.label,
            "size": c.size,
            "seed": c.seed,
            "phase": "+".join(c.phases),
            "state": c.state,
            "detail": c.detail,
        }
        for c in cells
        if c.state != "finished"
    ]
    for cell_id, got in cache.items():
        if isinstance(got, str):
            c = next(c for c in cells if c.id == cell_id)
            missing.append(
                {
                    "id": c.id,
                    "label": c.label,
                    "size": c.size,
                    "seed": c.seed,
                    "phase": "+".join(c.phases),
                    "state": "finished, no usable test predictions",
                    "detail": got,
                }
            )
    return {
        "grid": {
            "name": grid.get("name") or grid_dir.name,
            "dir": str(grid_dir),
            "task": task,
            "metric": metric,
            "unit": get_task(task).unit,
            "budget": grid.get("budget"),
            "steps": grid.get("steps"),
            "epochs": grid.get("epochs"),
            "lr_candidates": grid.get("lr_candidates"),
            "lr_choice": bool(lr_choice),
            "cells_planned": len(cells),
            "cells_main": len(main),
            "cells_main_finished": sum(c.state == "finished" for c in main),
            "cells_finished": sum(c.state == "finished" for c in cells),
            "sizes_not_run": _sizes_not_run(grid_dir, sizes),
            "sizes_searching": _sizes_searching(cells, sizes),
            "methods_at_some_sizes": _methods_at_some_sizes(grid),
            "copied_from": _copied_from(grid),
        },
        "generated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "scale": "test scores and gains in F1 points (metric × 100); p-values as fractions",
        "bootstrap": {"resamples": bootstrap, "seed": seed, "level": 0.95},
        "rule": RECOMMENDATION_RULE,
        "alpha": ALPHA,
        "power": POWER,
        "seed_policy": _seed_policy(main),
        "lr_at_edge": _lr_at_edge(lr_choice, results),
        "detectable": detectable_by_size,
        "contrasts": contrasts,
        "rates": rates,
        "references": sorted(references, key=labels.index),
        "reference_note": REFERENCE_NOTE if references else None,
        "sizes": sizes,
        "labels": labels,
        "budgets": {str(s): _budget(grid, s, [c for c in main if c.size == s]) for s in sizes},
        "rows": results,
        "recommendations": recommendations,
        "missing": missing,
        "notes": notes,
        "machines": _machines(main),
        "sessions": _sessions(grid_dir),
    }


def _lr_at_edge(lr_choice: dict, rows: Sequence[dict]) -> list[dict]:
    """The (method, size) choices of the smallest or largest of three or more candidates, in
    grid order: a search that stops at its range may have missed a better lr there, and the
    method may be under-tuned (every method had the same candidates, so the comparison stays
    fair; with two candidates every choice is at an edge and nothing is said)."""
    display = {r["label"]: r["display"] for r in rows}
    out = []
    for key, entry in lr_choice.items():
        if key.startswith("_") or not isinstance(entry, dict) or entry.get("chosen") is None:
            continue
        lrs = sorted(float(c["lr"]) for c in entry.get("candidates") or [])
        if len(lrs) < 3 or entry["chosen"] not in (lrs[0], lrs[-1]):
            continue
        out.append(
            {
                "label": entry["label"],
                "display": display.get(entry["label"])
                or display_name(entry["label"], entry.get("method"), entry.get("options") or {}),
                "size": entry["size"],
                "chosen": entry["chosen"],
                "edge": "largest" if entry["chosen"] == lrs[-1] else "smallest",
            }
        )
    return out


def _lr_edge_text(report: dict) -> str:
    """The report's paragraph on lr choices at the edge of the candidates ('' if none)."""
    found = report.get("lr_at_edge") or []
    if not found:
        return ""
    groups: dict[int, dict[tuple[str, float], list[str]]] = {}
    for e in found:
        groups.setdefault(e["size"], {}).setdefault((e["edge"], e["chosen"]), []).append(
            e["display"]
        )
    parts = [
        f"at {training_size(report, size)} "
        + " and ".join(
            f"{', '.join(names)} chose {chosen:g}, the {edge} candidate"
            for (edge, chosen), names in sorted(by_edge.items())
        )
        for size, by_edge in sorted(groups.items())
    ]
    text = "; ".join(parts)
    return (
        "**Learning-rate range.** "
        + text[:1].upper()
        + text[1:]
        + ". A search that stops at the edge of its range may have missed a better rate beyond "
        "it: those methods may be under-tuned. Every method searched the same candidates, so "
        "the comparison stays even-handed, but a wider range (an added candidate plans new "
        "cells and keeps the finished ones) would show whether the ranking holds."
    )


def _seed_policy(main: Sequence[CellResult]) -> dict:
    """Whether the lr search's runs are also reported runs (grids from before search seeds were
    kept apart), and on which seeds: the report says so rather than hiding it."""
    reused = sorted({c.seed for c in main if c.searched})
    return {
        "search_seeds_reported": reused,
        "note": SEED_REUSE_NOTE.format(seeds=_seed_list(reused)) if reused else None,
    }


def _contrast_pairs(grid: dict, labels: list[str]) -> list[tuple[str, str]]:
    """The method-against-method contrasts to test: the spec's ``contrasts`` (recorded in
    grid.json), else the paper's central claim among the labels present: each SegMix variant
    against whole-sequence mixup and against SeqMix, and each mixture against its parts."""
    given = grid.get("contrasts")
    if given is not None:
        return [(str(a), str(b)) for a, b in given]
    by_method: dict[str, list[str]] = {}
    for label in labels:
        method = label.split("[", 1)[0]
        by_method.setdefault(method, []).append(label)
    pairs = []
    for variant in ("mmix", "tmix", "smix", "rmix"):
        for a in by_method.get(variant, []):
            for other in ("mixup", "seqmix"):
                pairs += [(a, b) for b in by_method.get(other, [])]
    for label in labels:
        method = label.split("[", 1)[0]
        if "+" in method and not label.startswith("["):
            pairs += [(label, part) for part in method.split("+") if part in labels]
    return pairs


def _sizes_not_run(grid_dir: Path, sizes: Sequence[int]) -> list[int]:
    """The spec's training-set sizes with no main-phase cell in this grid yet."""
    planned = spec_values(grid_dir).get("sizes") or []
    try:
        return sorted(int(s) for s in planned if int(s) not in set(sizes))
    except (TypeError, ValueError):
        return []


def _copied_from(grid: dict) -> dict[str, int]:
    """How many of the grid's finished cells were copied in from each other grid folder
    (``--reuse-from``: the same cell, by id, trained there)."""
    found: dict[str, int] = {}
    for entry in grid.get("cells") or []:
        if isinstance(entry, dict) and entry.get("copied_from"):
            source = str(entry["copied_from"])
            found[source] = found.get(source, 0) + 1
    return dict(sorted(found.items()))


def _methods_at_some_sizes(grid: dict) -> list[dict]:
    """The methods the spec runs at only some of its sizes (``sizes:`` on a method item), as
    ``{"label", "method", "display", "sizes"}``: their absence elsewhere is the spec's choice,
    not a missing run, and each size's comparison (Holm's family) holds the methods that ran
    there. ``method`` groups a method's rows (every rate of it in a rates grid)."""
    out = []
    for m in grid.get("methods") or []:
        if isinstance(m, dict) and m.get("sizes"):
            method = m.get("method", m["label"])
            display = display_name(m["label"], method, m.get("options") or {})
            sizes = list(m["sizes"])
            out.append({"label": m["label"], "method": method, "display": display, "sizes": sizes})
    return out


def _sizes_searching(cells: Sequence[CellResult], sizes: Sequence[int]) -> dict[str, list[int]]:
    """The sizes with no main-phase cell yet whose lr search has started: ``{size: [finished,
    planned]}`` search runs. A grid plans a size's main cells once its search is over, so such
    a size is under way, not "not run"."""
    found: dict[str, list[int]] = {}
    for c in cells:
        if c.size in sizes or "lr-search" not in c.phases:
            continue
        counts = found.setdefault(str(c.size), [0, 0])
        counts[0] += c.state == "finished"
        counts[1] += 1
    return dict(sorted(found.items(), key=lambda kv: int(kv[0])))


def size_unit(report: dict) -> str:
    """How the grid's task counts its training set: "sentences" (tagging) or "examples"
    (relations); a report written before the grid recorded its unit says "examples"."""
    return report.get("grid", {}).get("unit") or "examples"


def sizes_under_way(report: dict) -> set[int]:
    """The sizes whose planned main runs have not all finished (their recommendation is
    ``under_way``): README, the figures and the size sections treat them as interim."""
    return {r["size"] for r in report.get("recommendations") or [] if r.get("under_way")}


def training_size(report: dict, size: int | str) -> str:
    """'200 training sentences' (tagging) or '200 training examples' (relations): a size as the
    task counts its training set."""
    return f"{size} training {size_unit(report)}"


def _some_sizes_text(report: dict) -> str:
    """'SiS runs at 50, 100 only (the spec's choice); …' for the methods the spec runs at only
    some sizes; '' where every method runs at every size."""
    some = report["grid"].get("methods_at_some_sizes") or []
    if not some:
        return ""
    said = "; ".join(f"{m['display']} at {', '.join(map(str, m['sizes']))}" for m in some)
    return (
        f"Some methods run at only some sizes, by the spec's choice ({said}); each size's "
        "comparison, Holm's family included, holds the methods that ran there. "
    )


def _runs_text(grid: dict) -> str:
    """How many reported (main-phase) runs have finished; a grid still in its first size's lr
    search has none planned yet, and "0 of 0" would hide that they follow the search."""
    if grid["cells_main"]:
        return (
            f"{grid['cells_main_finished']} of {grid['cells_main']} main-phase runs finished "
            f"({grid['cells_planned']} cells planned in all). "
        )
    return (
        "No reported run is planned yet: they are planned once dev has chosen each method's lr "
        f"({grid['cells_planned']} search cells planned so far). "
    )


def _not_run_text(report: dict) -> str:
    """The spec's sizes this grid has not run yet (a grid run with ``--sizes``), said; a size
    whose lr search has started is said to be under way, with its search runs."""
    later = report["grid"].get("sizes_not_run") or []
    searching = report["grid"].get("sizes_searching") or {}
    if not later:
        return ""
    text = ""
    started = [s for s in later if str(s) in searching]
    for size in started:
        done, planned = searching[str(size)]
        text += (
            f"At {size} the lr search is under way ({done} of {planned} search runs finished); "
            "its reported runs follow. "
        )
    rest = [s for s in later if s not in started]
    if rest:
        text += (
            f"The spec's size{'s' * (len(rest) != 1)} {', '.join(map(str, rest))} "
            f"{'have' if len(rest) != 1 else 'has'} not been run yet (`--sizes`). "
        )
    return text


def spec_values(grid_dir: Path) -> dict:
    """The grid's own copy of its spec (``experiment.yaml``), or nothing where it is missing or
    unreadable (what it adds to the report is then left out)."""
    path = grid_dir / "experiment.yaml"
    if not path.exists():
        return {}
    import yaml

    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return spec if isinstance(spec, dict) else {}


def _default_rate(grid_dir: Path) -> float:
    """The rate a method runs at when its entry gives none: the spec's ``train: {rate: …}``
    (the copy the grid keeps, ``experiment.yaml``), else TrainConfig's default."""
    from segmix.config import TrainConfig

    default = float(TrainConfig.__dataclass_fields__["rate"].default)
    try:
        return float((spec_values(grid_dir).get("train") or {}).get("rate", default))
    except (ValueError, TypeError, AttributeError):
        return default


def _held_out_rates(scored: list[dict]) -> dict[int, dict]:
    """Per seed, the rate row whose dev mean over the *other* seeds is highest
    (leave-one-seed-out), over the seeds every rate has a dev score for; {} below 2 seeds.

    Rates have no search seeds of their own, so choosing a rate on the dev scores of the very
    seeds whose test scores then judge it lets a seed's luck pick the rate it is judged at.
    Choosing each seed's rate without that seed removes this selection without extra runs:
    the choice a user makes on dev, scored on a seed that did not make it. Ties go to the
    lower rate (``scored`` is ordered by rate)."""
    common = set.intersection(*(set(g["dev"]) for g in scored)) if scored else set()
    seeds = sorted(common)
    if len(seeds) < 2:
        return {}
    ordered = sorted(scored, key=lambda g: g["rate"])
    out = {}
    for held in seeds:
        others = [s for s in seeds if s != held]
        out[held] = max(ordered, key=lambda g: statistics.mean(g["dev"][s] for s in others))
    return out


def _rate_choices(
    size_rows: list[dict],
    rows: dict,
    size: int,
    differ: dict,
    cache: dict,
    default_rate: float,
) -> list[dict]:
    """Per method run at several rates at ``size`` (the paper's open question 3): the rate dev
    chose (the highest dev mean; test never chooses) with its gain over ``none``, and whether
    choosing the rate on dev beats running the default rate. That question is asked of the
    leave-one-seed-out choice (``_held_out_rates``: each seed scored at the rate the other
    seeds' dev chose), whose paired difference against the default rate on test is judged by
    the report's rule with Holm over the methods compared so at ``size`` (one comparison per
    method: with MMix, TMix, SMix and SiS each asked whether its rate matters, four unadjusted
    tests at the 5 % level would find a rate that "matters" up to one time in five where none
    does)."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in size_rows:
        if r["baseline"] or r["reference"] or r.get("rate") is None:
            continue
        others = {k: v for k, v in (r.get("options") or {}).items() if k != "rate"}
        groups.setdefault((r["method"], json.dumps(others, sort_keys=True)), []).append(r)
    base = rows.get((BASELINE, size))
    out = []
    for (method, _), group in groups.items():
        scored = [g for g in group if g.get("dev_mean") is not None]
        if len({g["rate"] for g in group}) < 2 or not scored:
            continue
        best = max(scored, key=lambda g: g["dev_mean"])
        default = next((g for g in group if math.isclose(g["rate"], default_rate)), None)
        entry = {
            "size": size,
            "method": method,
            "rates": sorted({g["rate"] for g in group}),
            "chosen": best["label"],
            "chosen_display": best["display"],
            "chosen_rate": best["rate"],
            "dev_means": {f"{g['rate']:g}": g["dev_mean"] for g in scored},
            "gain_mean": best.get("gain_mean"),
            "interval": best.get("interval"),
            "t_p_holm": best.get("t_p_holm"),
            "verdict": best.get("verdict"),
            "default_rate": default_rate,
            "held_out": None,
            "versus_default": None,
            # why no comparison with the default was made, said once here for every reader
            "not_compared": "too few seeds to choose without the one scored",
        }
        held = _held_out_rates(scored)
        if held:
            # the scores of "choose the rate on the other seeds' dev": one row, seed by seed
            chosen = _Row(
                f"{best['label']} (held-out rate)",
                size,
                {s: rows[(g["label"], size)].cells[s] for s, g in held.items()},
            )
            entry["held_out"] = {"rates": {str(s): g["rate"] for s, g in held.items()}}
            if base is not None:
                gain = _difference(chosen, base, **differ, cache=cache)
                del gain["tests"]
                entry["held_out"] |= {
                    k: gain[k] for k in ("mean", "t_p", "interval", "seeds", "diff")
                }
            if default is None:
                entry["not_compared"] = f"the default {default_rate:g} did not run"
            elif all(math.isclose(g["rate"], default_rate) for g in held.values()):
                entry["not_compared"] = (
                    f"the default {default_rate:g} is dev's choice for every seed"
                )
            else:
                diff = _difference(chosen, rows[(default["label"], size)], **differ, cache=cache)
                del diff["tests"]
                entry["versus_default"] = diff
                entry["not_compared"] = None
        out.append(entry)
    compared = [e["versus_default"] for e in out if e["versus_default"] is not None]
    for diff, adjusted in zip(compared, holm([d["t_p"] for d in compared]), strict=True):
        diff["t_p_holm"] = adjusted
        diff["distinct"] = _side(diff["interval"], adjusted)
    return out


def _runner_up(
    size_rows: list[dict], rows: dict, size: int, differ: dict, cache: dict
) -> dict | None:
    """The recommended method against the compared method with the next-largest mean gain (the
    paired difference and its tests), or None without a winner or a second method."""
    best = _winner(size_rows)
    others = [
        r
        for r in size_rows
        if not r["baseline"]
        and not r["reference"]
        and r.get("gain_mean") is not None
        and r is not best
    ]
    if best is None or not others:
        return None
    second = max(others, key=lambda r: r["gain_mean"])
    diff = _difference(
        rows[(best["label"], size)], rows[(second["label"], size)], **differ, cache=cache
    )
    del diff["tests"]
    diff["distinct"] = _side(diff["interval"], diff["t_p"])
    best["runner_up"] = second["label"]
    return {"label": second["label"], "display": second["display"], **diff}


def _contrasts(
    pairs: list[tuple[str, str]], rows: dict, size: int, differ: dict, cache: dict
) -> list[dict]:
    """Each contrast ``a − b`` present at ``size``, paired by seed, judged by the report's rule
    with Holm over the contrasts of that size."""
    out = []
    for a, b in pairs:
        row_a, row_b = rows.get((a, size)), rows.get((b, size))
        if row_a is None or row_b is None:
            continue
        first_a, first_b = next(iter(row_a.cells.values())), next(iter(row_b.cells.values()))
        diff = _difference(row_a, row_b, **differ, cache=cache)
        del diff["tests"]
        out.append(
            {
                "size": size,
                "a": a,
                "b": b,
                "a_display": display_name(a, first_a.method, first_a.options),
                "b_display": display_name(b, first_b.method, first_b.options),
                **diff,
            }
        )
    for c, adj in zip(out, holm([c["t_p"] for c in out]), strict=True):
        c["t_p_holm"] = adj
        side = _side(c["interval"], adj)
        c["evidence"] = {1: "a", -1: "b", 0: "none"}[side]
        if side:
            winner, loser = (
                (c["a_display"], c["b_display"]) if side > 0 else (c["b_display"], c["a_display"])
            )
            c["verdict"] = f"{winner} beats {loser}"
        else:
            reasons = _why_not(c["interval"], adj, "Holm-adjusted t-test p", c["skipped"])
            c["verdict"] = (
                f"no evidence that either of {c['a_display']} and {c['b_display']} beats the "
                f"other ({'; '.join(reasons)})"
            )
            if c["std"] and len(c["seeds"]) >= 2:
                found = detectable_gain(
                    c["std"], len(c["seeds"]), ALPHA / len(out), power=POWER, targets=()
                )
                if found.gain is not None:
                    c["verdict"] += (
                        f"; these seeds could show only differences ≥ {found.gain:.2f} points"
                    )
    return out


def _sessions(grid_dir: Path) -> dict | None:
    """The grid command's runs on this folder (``sessions.jsonl``, one line per run): their
    count, summed wall time and machines. A line that cannot be read is counted, not guessed;
    a run that trained nothing, failed nothing and was not interrupted is no run of the grid's
    work and is left out (segmix no longer writes such lines)."""
    path = grid_dir / "sessions.jsonl"
    if not path.exists():
        return None
    runs, unreadable = [], 0
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            float(record["wall_seconds"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            unreadable += 1
            continue
        if not (record.get("trained") or record.get("failed") or record.get("interrupted")):
            continue  # a finished grid run again: no time spent on it (no longer written)
        runs.append(record)
    machines: dict[str, float] = {}
    for r in runs:
        name = str(r.get("machine") or "not recorded")
        machines[name] = machines.get(name, 0.0) + float(r["wall_seconds"])
    return {
        "runs": len(runs),
        "unreadable": unreadable,
        "wall_seconds": sum(float(r["wall_seconds"]) for r in runs),
        "trained": sum(int(r.get("trained") or 0) for r in runs),
        "interrupted": sum(bool(r.get("interrupted")) for r in runs),
        "first": runs[0]["started"] if runs else None,
        "last": runs[-1]["ended"] if runs else None,
        "wall_seconds_by_machine": machines,
    }


def _budget(grid: dict, size: int, cells: Sequence[CellResult]) -> str:
    """The per-run training budget at ``size``, as the table heading names it."""
    if grid.get("budget") == "epochs" and grid.get("epochs"):
        epochs = grid["epochs"]  # per size, as grid.json writes it, or one figure
        n = epochs.get(str(size), epochs.get(size)) if isinstance(epochs, dict) else epochs
        return f"{n} epochs" if n is not None else "epochs (count not recorded)"
    steps = grid.get("steps") or {}
    n = steps.get(str(size), steps.get(size)) if isinstance(steps, dict) else steps
    if n is None:  # the runs themselves know their budget
        found = {(c.config or {}).get("max_steps") for c in cells if c.state == "finished"} - {None}
        n = found.pop() if len(found) == 1 else None
    return f"{n} optimizer steps" if n is not None else "budget not recorded"


# --------------------------------------------------------------------------------------------
# formatting


def _p(p: float | None, *, eq: bool = False) -> str:
    """A p-value as the tables show it; ``eq`` prefixes "= " (or "< ") for running text."""
    if p is None:
        return "n/a"
    text = "< 0.001" if p < 0.001 else f"{p:.3f}"
    return text if not eq or text.startswith("<") else f"= {text}"


def _shown(row: dict) -> str:
    """A row's name in the tables (a reference row's says what it is)."""
    return row.get("title") or row["label"]


def _lr_text(lr: Any) -> str:
    if lr is None:
        return "–"
    if isinstance(lr, list):
        return ", ".join(f"{v:g}" for v in lr)
    return f"{lr:g}" if isinstance(lr, (int, float)) else str(lr)


def _unsearched_lr_text(report: dict) -> str:
    """What the header says of the learning rate where no search chose it: one lr the spec
    sets for every row (the rates grid's design) is named as such, so that a reader knows it
    favours no row and is not each row's best; otherwise the rows' own lrs are shown."""
    trained = [r for r in report["rows"] if not r["reference"] and r["lr"] is not None]
    lrs = {_lr_text(r["lr"]) for r in trained}
    if len(lrs) == 1:
        return (
            f"Every run trains at one learning rate, {lrs.pop()}, set by the grid file and "
            "not searched on dev: it favours no row, and it need not be any row's best. "
        )
    by_size: dict[int, set[str]] = {}
    for r in trained:
        by_size.setdefault(r["size"], set()).add(_lr_text(r["lr"]))
    if by_size and all(len(at) == 1 for at in by_size.values()):  # lr: {SIZE: RATE} (decision 59)
        listed = "; ".join(f"{size}: {next(iter(at))}" for size, at in sorted(by_size.items()))
        return (
            f"Every run at a size trains at that size's one learning rate ({listed}), set by "
            "the grid file and not searched on dev in this grid: at a size it favours no row, "
            "and it need not be any row's best. "
        )
    return "No learning rate was searched on dev (no lr_choice.json): each row's own is shown. "


def _metric_name(report: dict) -> str:
    return get_task(report["grid"]["task"]).metric_title(report["grid"]["metric"])


def render_markdown(report: dict, plots: Sequence[str] = ()) -> str:
    """``report.md``: recommendation first, then the tables, the plots and what is missing."""
    g = report["grid"]
    boot = report["bootstrap"]
    seeds_max = max((r["n"] for r in report["rows"]), default=0)
    out = [
        f"# Grid report: {g['name']}",
        "",
        f"Task `{g['task']}`, test metric: {_metric_name(report)}, in points (× 100). "
        + _runs_text(g)
        + (
            "Learning rates were chosen per method and size on dev (lr_choice.json)"
            + (
                "; reference rows use their own optimizer's settings (no lr from the grid). "
                if report.get("references")
                else ". "
            )
            if g["lr_choice"]
            else "No learning rate has been chosen yet (lr_choice.json is written when a size's "
            "search finishes). "
            if g.get("sizes_searching")
            else _unsearched_lr_text(report)
        )
        + _not_run_text(report)
        + _some_sizes_text(report)
        + f"Generated {report['generated']}.",
        "",
        "## Recommendation",
        "",
    ]
    if report["recommendations"]:
        out += ["| train size | recommendation |", "|---|---|"]
        out += [f"| {rec['size']} | {rec['text']} |" for rec in report["recommendations"]]
    else:  # an empty table under the heading would read as "nothing to recommend"
        out.append("None yet: no size has a finished reported run.")
    out += ["", f"Rule: {report['rule']}", ""]
    policy = report.get("seed_policy") or {}
    if policy.get("note"):
        out += [f"**Seeds.** {policy['note']}", ""]
    edge = _lr_edge_text(report)
    if edge:
        out += [edge, ""]
    if report.get("reference_note"):
        out += [report["reference_note"], ""]
    for size in report["sizes"]:
        rows = [r for r in report["rows"] if r["size"] == size]
        budget = report["budgets"][str(size)]
        out += [f"## {training_size(report, size)} — {budget} per run", ""]
        rec = next((r for r in report["recommendations"] if r["size"] == size), {})
        if rec.get("under_way"):
            out += [f"**Under way.** {rec['text'].removeprefix('under way: ')}.", ""]
        if not rows:
            out += ["No finished run at this size.", ""]
            continue
        out += [
            f"Test score ({budget}, "
            + (
                "every method the same number of epochs: a method that adds mixes to an epoch "
                "takes more optimizer steps, counted in the training-time table):"
                if report["grid"].get("budget") == "epochs"
                else "every method the same budget):"
            ),
            "",
            "| method | lr | seeds | test mean ± std | per seed | dev mean |",
            "|---|---|---|---|---|---|",
        ]
        for r in rows:
            per_seed = ", ".join(f"{s}: {v:.2f}" for s, v in r["test"].items())
            out.append(
                f"| {_shown(r)} | {_lr_text(r['lr'])} | {r['n']} | "
                f"{num(r['test_mean'])} ± {num(r['test_std'])} | {per_seed} | "
                f"{num(r['dev_mean'])} |"
            )
        gained = [r for r in rows if not r["baseline"]]
        if gained and not any(r["baseline"] for r in rows):
            out += ["", f"No `{BASELINE}` run finished at this size: no gains to show."]
        elif gained:
            level = int(boot["level"] * 100)
            out += [
                "",
                f"Paired gain over `{BASELINE}` (same size, same seed):",
                "",
                "| method | gain per seed | gain mean ± std | t-test p | Holm-adjusted p | "
                f"two-way {level} % interval (seeds × sentences) | "
                f"sentence bootstrap {level} % (secondary) | verdict |",
                "|---|---|---|---|---|---|---|---|",
            ]
            for r in gained:
                per_seed = ", ".join(f"{s}: {v:+.2f}" for s, v in r["gain"].items()) or "–"
                interval = _bracket(r.get("interval"))
                if r.get("interval") and r["interval"].get("seeds_left_out"):
                    interval += f" (seeds {_seed_list(r['interval']['seeds_used'])})"
                holm_p = "– (reference)" if r.get("reference") else _p(r.get("t_p_holm"))
                out.append(
                    f"| {_shown(r)} | {per_seed} | {signed(r['gain_mean'])} ± "
                    f"{num(r['gain_std'])} | {_p(r['t_p'])} | {holm_p} | {interval} | "
                    f"{_bracket(r.get('sentence_bootstrap'))} | {r['verdict']} |"
                )
            found = (report.get("detectable") or {}).get(str(size))
            if found and found.get("gain") is not None:
                need = ", ".join(
                    f"{target} point{'s' * (target != '1')}: "
                    + (f"{n} seeds" if n is not None else "more than 200 seeds")
                    for target, n in found["seeds_for"].items()
                )
                out += [
                    "",
                    f"What these seeds could detect: with {found['n']} paired seeds whose "
                    f"gains spread by {found['sd']:.2f} points (pooled over the "
                    f"{found['family']} methods compared), the paired t-test at the level Holm "
                    f"asks of the first of {found['family']} (α = {found['alpha']:.4g}) finds "
                    f"a true gain of {found['gain']:.2f} points {int(100 * found['power'])} % of "
                    f'the time; smaller gains are likely to read "no evidence". Seeds needed '
                    f"for the same power: {need}.",
                ]
        out.append("")
    out += _contrast_section(report)
    out += _rate_section(report)
    out += _per_type_section(report)
    out += _timing_section(report)
    if plots:
        out += ["## Plots", ""]
        out += [f"![{Path(p).stem}]({p})" for p in plots]
        out.append("")
    out += [
        "## How to read the statistics",
        "",
        "- Gains are paired: each method's seed-s run minus the `none` run of the same size and "
        "seed (same training subset, initialisation and data order). Mean ± std over seeds.",
        "- Paired t-test: `scipy.stats.ttest_1samp` of the per-seed gains against 0 (equal to "
        "`ttest_rel`), two-sided. It sees training-run variation. Holm-adjusted p: Holm's "
        "step-down correction over the augmentation methods compared at that size (reference "
        "rows excluded), because the recommendation picks the best of them.",
        f"- Two-way bootstrap ({boot['resamples']} resamples, seed {boot['seed']}): each "
        "resample draws the paired seeds with replacement and, independently, the test "
        "sentences with replacement (the same sentences for every drawn seed and both methods: "
        "the design is crossed); its gain is the mean over the drawn seeds of the corpus-level "
        "metric recomputed from per-sentence counts (NER: entities correct / predicted / gold "
        "per type with conlleval's chunking; RE: per relation type, then the macro F1 of the "
        "summed counts). The interval is the 2.5–97.5 percentiles. It carries both training "
        "variance and test-set variance.",
        "- Sentence bootstrap (secondary): the same sentence resamples with every seed kept; it "
        "shows how much a gain depends on which test sentences were drawn, given these trained "
        "models, and never decides a verdict. Bootstrap shares (report.json's `p`) are kept "
        f"with `p_floor` = 1/{boot['resamples']}, the resolution of {boot['resamples']} "
        "resamples: a share of 0 means p ≤ that, never p = 0.",
        '- Wording: "evidence of a gain" (or loss) only where the Holm-adjusted t-test gives '
        "p < 0.05 and the two-way interval excludes 0 on the same side, with at least 2 paired "
        'seeds; otherwise "no evidence of a gain", with the reasons and the smallest gain the '
        "size's seeds could have detected (80 % power): no evidence is not evidence of no "
        "effect when the grid is small.",
        "- Wilcoxon signed-rank p is kept in report.json and report.csv but not shown: with n "
        f"seeds its smallest possible p is 2 / 2ⁿ ({min_wilcoxon_p(5):.4g} with 5"
        + (
            f", {min_wilcoxon_p(seeds_max):.4g} with this grid's {seeds_max}"
            if seeds_max and seeds_max != 5
            else ""
        )
        + "), so with 5 or fewer seeds it can never reach 0.05.",
        "",
    ]
    out += _missing_section(report)
    if report["notes"]:
        out += ["## Notes", ""] + [f"- {n}" for n in report["notes"]] + [""]
    return "\n".join(out)


def _bracket(b: dict | None) -> str:
    return f"[{signed(b['low'])}, {signed(b['high'])}]" if b else "–"


def _contrast_section(report: dict) -> list[str]:
    contrasts = report.get("contrasts") or []
    out = ["## Contrasts between methods", ""]
    if not contrasts:
        return [
            *out,
            "No contrast between two methods was asked for or present (the spec's `contrasts`; "
            "by default each SegMix variant against mixup and SeqMix, and each mixture against "
            "its parts, where the grid has them).",
            "",
        ]
    out += [
        "Paired difference A − B (same size and seed), judged by the report's rule with Holm "
        "over the contrasts of each size:",
        "",
        "| size | A − B | difference per seed | mean ± std | t-test p | Holm-adjusted p | "
        "two-way 95 % interval | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in contrasts:
        per_seed = ", ".join(f"{s}: {v:+.2f}" for s, v in c["diff"].items()) or "–"
        out.append(
            f"| {c['size']} | {c['a_display']} − {c['b_display']} | {per_seed} | "
            f"{signed(c['mean'])} ± {num(c['std'])} | {_p(c['t_p'])} | "
            f"{_p(c['t_p_holm'])} | {_bracket(c['interval'])} | {c['verdict']} |"
        )
    return [*out, ""]


def held_out_rates_text(held: dict | None) -> str:
    """'0.5 ×4, 0.2 ×1': the rates the leave-one-seed-out choice gave the seeds, most often
    first."""
    if not held:
        return "–"
    counts: dict[float, int] = {}
    for rate in held["rates"].values():
        counts[rate] = counts.get(rate, 0) + 1
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{rate:g} ×{n}" for rate, n in ordered)


def _rate_section(report: dict) -> list[str]:
    """Per size and method run at several rates: the rate dev chose, its gain, and whether
    choosing the rate on dev (each seed's rate chosen without it) beats the default rate
    (nothing when no method ran at several rates)."""
    rates = report.get("rates") or []
    if not rates:
        return []
    out = [
        "## Which rate, at which size",
        "",
        "For each method run at several rates, the rate with the highest dev mean over the "
        "seeds (test never chooses) and its gain over `none` (its own Holm-adjusted verdict is "
        "in the gain table above). Rates have no search seeds of their own, so that choice is "
        "made on the dev scores of the very seeds it is then judged on, and its gain can read "
        "high. Whether the rate matters is therefore asked of a choice that no seed makes for "
        "itself: each seed is scored at the rate the *other* seeds' dev chose "
        "(leave-one-seed-out; the rates it gave the seeds are listed), and that choice is "
        "compared with the default rate on test, paired by seed (the report's rule, the "
        "t-test Holm-adjusted over the methods so compared at that size).",
        "",
        "| size | method | rates (dev mean) | dev's rate: gain over none | each seed's rate, "
        "chosen on the other seeds' dev | that choice: gain over none | its two-way 95 % "
        "interval | that choice − default rate | t-test p | Holm-adjusted p | two-way 95 % "
        "interval | the rate |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rates:
        devs = ", ".join(f"{k}: {num(v)}" for k, v in r["dev_means"].items())
        held = r.get("held_out")
        held_gain = signed(held.get("mean")) if held else "–"
        held_interval = _bracket(held.get("interval")) if held else "–"
        vs = r["versus_default"]
        default = f"{r['default_rate']:g}"
        if vs is None:
            matters = r["not_compared"]
            diff, p, p_holm, interval = "–", "–", "–", "–"
        else:
            diff = signed(vs["mean"])
            p, interval = _p(vs["t_p"]), _bracket(vs["interval"])
            p_holm = _p(vs.get("t_p_holm"))
            matters = {
                1: f"choosing on dev beats the default {default}",
                -1: f"choosing on dev loses to the default {default}",
                0: f"no evidence that the rate matters (dev's choice against {default})",
            }[vs["distinct"]]
        out.append(
            f"| {r['size']} | {r['method']} | {devs} | {r['chosen_rate']:g}: "
            f"{signed(r['gain_mean'])} (Holm {_p(r['t_p_holm'])}) | {held_out_rates_text(held)} | "
            f"{held_gain} | {held_interval} | {diff} | {p} | {p_holm} | {interval} | "
            f"{matters} |"
        )
    return [*out, ""]


def _per_type_section(report: dict) -> list[str]:
    out = ["## Per-type F1 gain over `none` (mean over paired seeds, points)", ""]
    any_rows = False
    for size in report["sizes"]:
        rows = [r for r in report["rows"] if r["size"] == size and r.get("per_type_gain")]
        if not rows:
            continue
        any_rows = True
        types = sorted({t for r in rows for t in r["per_type_gain"]})
        out += [
            f"{training_size(report, size)}:",
            "",
            "| label | " + " | ".join(types) + " |",
            "|---|" + "---|" * len(types),
        ]
        for r in rows:
            cells = [signed(r["per_type_gain"].get(t)) for t in types]
            out.append(f"| {_shown(r)} | " + " | ".join(cells) + " |")
        out.append("")
    if not any_rows:
        out += ["No per-type scores to compare.", ""]
    return out


_UNRECORDED_WHY = (
    "trained before segmix kept sessions.jsonl, in a run killed outright, or copied from another "
    "grid"
)


def _timing_section(report: dict) -> list[str]:
    out = [
        "## Training time (mean per run)",
        "",
        "From each run's metrics.json; taken with whatever else ran on the machine.",
        "",
    ]
    sessions = report.get("sessions")
    finished = report["grid"].get("cells_finished", 0)
    if sessions and sessions["runs"]:
        by_machine = "; ".join(
            f"{name}: {human_duration(seconds)}"
            for name, seconds in sessions["wall_seconds_by_machine"].items()
        )
        wall = human_duration(sessions["wall_seconds"])
        line = (
            f"Grid wall time: {wall} over {sessions['runs']} run"
            f"{'s' * (sessions['runs'] != 1)} of the grid command ({sessions['first']} to "
            f"{sessions['last']}; {sessions['interrupted']} of them interrupted), "
            f"{sessions['trained']} cells trained in them; by machine: {by_machine}"
            + (
                f"; {sessions['unreadable']} unreadable line(s) in sessions.jsonl not counted"
                if sessions["unreadable"]
                else ""
            )
            + ". A run killed outright records no time."
        )
        unrecorded = finished - sessions["trained"]
        if unrecorded > 0:  # e.g. a grid begun before sessions.jsonl existed: 0 h would mislead
            line += (
                f" {unrecorded} of the {finished} finished cells were not trained in these runs "
                f"({_UNRECORDED_WHY}), so the grid took longer than this."
            )
        out += [line, ""]
    elif sessions is not None and finished:
        out += [
            f"Grid wall time: not recorded: none of the {finished} finished cells was trained in "
            f"a run that sessions.jsonl records ({_UNRECORDED_WHY}).",
            "",
        ]
    machines = report.get("machines") or {}
    if machines:
        out.append(
            "Runs by machine: "
            + "; ".join(f"{name}: {n}" for name, n in machines.items())
            + (". Times from different machines do not compare." if len(machines) > 1 else ".")
        )
        out.append("")
    copied = report["grid"].get("copied_from") or {}
    if copied:
        said = "; ".join(f"{n} from `{source}`" for source, n in copied.items())
        out += [
            f"Runs trained by another grid and copied in (`--reuse-from`: the same cell, by its "
            f"id, which hashes its whole configuration, data and segmix version): {said}. "
            "They count above by the machine that trained them.",
            "",
        ]
    if not report["rows"]:
        return [*out, "No reported run has finished yet: no times to show.", ""]
    out += [
        "| train size | label | optimizer steps | train s | total s | tokens/s "
        "| train time vs none |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in report["rows"]:
        t = r["timing"]
        ratio = t.get("train_vs_none")
        out.append(
            f"| {r['size']} | {_shown(r)} | {num(t['steps'], 0)} | {num(t['train_seconds'], 1)} "
            f"| {num(t['total_seconds'], 1)} | {num(t['tokens_per_second'], 0)} | "
            f"{'–' if ratio is None else f'{ratio:.2f}×'} |"
        )
    out.append("")
    return out


def _missing_section(report: dict) -> list[str]:
    out = ["## Missing", ""]
    if not report["missing"]:
        return [*out, "Nothing is missing: every planned cell finished.", ""]
    out += [
        "Planned cells that did not finish (not in the tables above) and finished cells whose "
        "test predictions could not be used (their seeds are left out of the bootstrap; a row "
        "with fewer than two usable pairs has none):",
        "",
        "| cell | label | size | seed | phase | state | detail |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in report["missing"]:
        detail = str(m["detail"]).replace("|", "\\|")
        out.append(
            f"| {m['id']} | {m['label']} | {m['size']} | {m['seed']} | {m['phase']} | "
            f"{m['state']} | {detail} |"
        )
    out.append("")
    return out


CSV_COLUMNS = (
    "size",
    "label",
    "method",
    "lr",
    "n",
    "seeds",
    "test_mean",
    "test_std",
    "test_per_seed",
    "dev_mean",
    "gain_mean",
    "gain_std",
    "gain_per_seed",
    "t_p",
    "t_p_holm",
    "wilcoxon_p",
    "interval_low",
    "interval_high",
    "sentence_bootstrap_low",
    "sentence_bootstrap_high",
    "bootstrap_skipped",
    "evidence",
    "verdict",
    "train_seconds",
    "total_seconds",
    "tokens_per_second",
    "reference",
)


def write_csv(report: dict, path: Path) -> None:
    """One row per label × size; lists as ``seed:value`` joined by ``;``."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for r in report["rows"]:
            b = r.get("interval") or {}
            sb = r.get("sentence_bootstrap") or {}
            writer.writerow(
                {
                    "size": r["size"],
                    "label": r["label"],
                    "method": r["method"],
                    "lr": _lr_text(r["lr"]),
                    "n": r["n"],
                    "seeds": ";".join(str(s) for s in r["seeds"]),
                    "test_mean": r["test_mean"],
                    "test_std": r["test_std"],
                    "test_per_seed": ";".join(f"{s}:{v}" for s, v in r["test"].items()),
                    "dev_mean": r["dev_mean"],
                    "gain_mean": r.get("gain_mean"),
                    "gain_std": r.get("gain_std"),
                    "gain_per_seed": ";".join(f"{s}:{v}" for s, v in (r.get("gain") or {}).items()),
                    "t_p": r.get("t_p"),
                    "t_p_holm": r.get("t_p_holm"),
                    "wilcoxon_p": r.get("wilcoxon_p"),
                    "interval_low": b.get("low"),
                    "interval_high": b.get("high"),
                    "sentence_bootstrap_low": sb.get("low"),
                    "sentence_bootstrap_high": sb.get("high"),
                    "bootstrap_skipped": r.get("bootstrap_skipped"),
                    "evidence": r.get("evidence"),
                    "verdict": r["verdict"],
                    "train_seconds": r["timing"]["train_seconds"],
                    "total_seconds": r["timing"]["total_seconds"],
                    "tokens_per_second": r["timing"]["tokens_per_second"],
                    "reference": bool(r.get("reference")),
                }
            )


def keep_compact_predictions(grid_dir: str | Path) -> int:
    """Write the compact test predictions (:data:`segmix.runs.COMPACT_TEST`) of every finished
    cell that has ``predictions/test.jsonl`` but not them (a run from before segmix wrote
    them), so that what git keeps of the grid still bootstraps on another machine. Returns how
    many were written."""
    from segmix.runs import write_compact_predictions

    written = 0
    for path in sorted(Path(grid_dir).glob("cells/*/run/predictions/test.jsonl")):
        run = path.parent.parent
        if compact_predictions_path(run) is not None or not (run / "finished.json").exists():
            continue
        records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        write_compact_predictions(
            run / COMPACT_TEST, [r["id"] for r in records], [r["pred"] for r in records]
        )
        written += 1
    return written


def write_report(
    grid_dir: str | Path, *, bootstrap: int = 1000, out: str | Path | None = None, seed: int = 0
) -> Path:
    """Write ``report.md``, ``report.csv``, ``report.json`` and ``plots/`` for a grid folder.

    ``out`` defaults to the grid folder. Returns the path of ``report.md``. Works on a
    half-finished grid (what is missing is listed in the report).
    """
    from segmix.experiment.plots import write_plots
    from segmix.runs import write_json

    grid_dir = Path(grid_dir)
    out_dir = Path(out) if out is not None else grid_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    kept = keep_compact_predictions(grid_dir)
    if kept:
        logger.info("%d cells: %s written from predictions/test.jsonl", kept, COMPACT_TEST)
    report = build_report(grid_dir, bootstrap=bootstrap, seed=seed)
    plots = write_plots(report, out_dir / "plots")
    report["plots"] = [str(p.relative_to(out_dir)) for p in plots]
    write_json(out_dir / "report.json", report)
    write_csv(report, out_dir / "report.csv")
    path = out_dir / "report.md"
    path.write_text(render_markdown(report, report["plots"]), encoding="utf-8")
    logger.info("report written to %s", path)
    return path
