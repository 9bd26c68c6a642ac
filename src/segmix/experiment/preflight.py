"""Draw every cell's first mixes before a grid trains anything (``segmix experiment --preflight``).

Why: a method that cannot draw on one seed's subset — an augmenter fault that only that
subset's shape triggers, or a subset in which the method has nothing to change — otherwise fails
cell by cell hours into a grid, and where all of a method's search runs at one seed fail, that
method has no lr at that size and drops out of the comparison. Building a subset and drawing one
epoch of mixes takes seconds, training it minutes, so every (method, size, seed) of the grid is
drawn first: the learning rate changes nothing about what is drawn, so one draw stands for the
candidates of the search and the final run alike.

Each subset is read and encoded once and shared by every method of its size and seed (the
methods differ only in their augmentation options, which do not touch the data); each method's
augmenter is then fitted and its mixes of the first mixing epoch drawn exactly as training draws
them (:func:`segmix.run.training_set`).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from segmix.config import METHOD_FIELDS, TrainConfig
from segmix.experiment.spec import ExperimentSpec, Variant

logger = logging.getLogger(__name__)

__all__ = ["DrawProblem", "left_to_train", "preflight", "preflight_plan"]


@dataclass(frozen=True)
class DrawProblem:
    """A (method, size, seed) whose subset could not be built or whose mixes could not be drawn;
    every cell of it (each lr candidate, the final run) would fail the same way."""

    label: str
    size: int
    seed: int
    error: str

    def __str__(self) -> str:
        return f"{self.label} n={self.size} seed {self.seed}: {self.error}"


def preflight_plan(spec: ExperimentSpec) -> list[tuple[Variant, int, int]]:
    """Every (variant, size, seed) the grid trains: the search seeds (with an lr search) and
    the reported seeds, each once; reference rows train with their own library and are left
    out."""
    seeds = sorted(set(spec.seeds) | (set(spec.search_seeds) if spec.lr_search else set()))
    return [
        (v, size, seed)
        for size in spec.sizes
        for seed in seeds
        for v in spec.variants_at(size)
        if not v.reference
    ]


def left_to_train(
    spec: ExperimentSpec,
    grid_dir: str | Path,
    plan: list[tuple[Variant, int, int]],
    reuse_from: Sequence[str | Path] = (),
) -> list[tuple[Variant, int, int]]:
    """The (variant, size, seed) of ``plan`` with a cell still to train in ``grid_dir``.

    A resumed grid need not draw again where every cell is finished. The cells are the
    runner's own plan: the search runs (:func:`segmix.experiment.runner.planned_cells`) and
    the reported runs at the lr ``lr_choice.json`` records (:func:`plan_final`); a (variant,
    size) without a chosen lr is drawn on its reported seeds as before. A cell finished
    under its id in a ``reuse_from`` grid is copied in, not trained, so it is not drawn either.
    """
    from segmix.experiment.cells import plan_final
    from segmix.experiment.runner import (
        LR_CHOICE_JSON,
        _pairs,
        finished_elsewhere,
        planned_cells,
    )
    from segmix.runs import is_finished, read_json

    grid_dir = Path(grid_dir)
    cells = planned_cells(spec, grid_dir)
    undecided: set[tuple[str, int]] = set()
    if spec.lr_search:
        try:
            recorded = read_json(grid_dir / LR_CHOICE_JSON)
        except (OSError, ValueError):
            recorded = {}
        chosen = {
            (row["label"], row["size"]): row.get("chosen")
            for key, row in recorded.items()
            if key != "_about" and isinstance(row, dict)
        }
        decided = {pair for pair, lr in chosen.items() if lr is not None}
        undecided = _pairs(spec) - decided
        cells += plan_final(spec, grid_dir, chosen)
    sources = [Path(p) for p in reuse_from]
    todo = {
        (c.variant.label, c.size, c.seed)
        for c in cells
        if not is_finished(c.run_dir) and finished_elsewhere(c, sources) is None
    }
    return [
        (v, size, seed)
        for v, size, seed in plan
        if (v.label, size, seed) in todo or (seed in spec.seeds and (v.label, size) in undecided)
    ]


def _data_key(config: TrainConfig) -> tuple:
    """What decides a run's subset and its encoding: everything but how it augments."""
    values = dataclasses.asdict(config)
    return tuple(sorted((k, repr(v)) for k, v in values.items() if k not in METHOD_FIELDS))


def preflight(
    spec: ExperimentSpec,
    *,
    grid_dir: str | Path | None = None,
    reuse_from: Sequence[str | Path] = (),
    on_progress: Callable[[int, int, DrawProblem | None], None] | None = None,
) -> list[DrawProblem]:
    """Build each subset and draw each method's first epoch of mixes; the problems found.

    With ``grid_dir``, only what is left to train there (:func:`left_to_train`): a grid resumed
    many times draws its remaining sizes, not again the ones it finished, nor what it will
    copy in from the ``reuse_from`` grids. ``on_progress(done, total, problem)`` is called after
    each (variant, size, seed).
    """
    from segmix.run import fit_augmenter, prepare_inputs, training_set

    plan = preflight_plan(spec)
    if grid_dir is not None:
        plan = left_to_train(spec, grid_dir, plan, reuse_from)
    # the subset built last, or the error building it hit: a grid's plan comes size by seed,
    # so each subset is built once for all its methods and only one is held at a time
    built_key: tuple | None = None
    built: Any = None
    problems: list[DrawProblem] = []
    for done, (variant, size, seed) in enumerate(plan, 1):
        at_size = spec.lrs_at(size)  # the lr draws no mix: any of the size's will do
        config = spec.config(variant, size, seed, at_size[0] if at_size else None)
        key = _data_key(config)
        if key != built_key:
            built_key = key
            try:
                built = prepare_inputs(config, evaluation=False)
            except (ValueError, OSError) as err:
                built = err
        problem = None
        try:
            if isinstance(built, Exception):
                raise built
            augmenter = fit_augmenter(
                built.task, config, built.data, built.encoded["train"], built.cache
            )
            training_set(config, built.encoded["train"], augmenter).mixes(config.mix_from_epoch)
        except Exception as err:  # any fault of a draw is what this looks for
            problem = DrawProblem(variant.label, size, seed, f"{type(err).__name__}: {err}")
            problems.append(problem)
            logger.warning("preflight: %s", problem)
        if on_progress is not None:
            on_progress(done, len(plan), problem)
    return problems
