"""Experiment grids: plan, run and report a fair comparison of augmentation methods.

``segmix experiment SPEC.yaml`` reads a spec (:mod:`.spec`), plans its cells (:mod:`.cells`) and
runs them (:mod:`.runner`); ``segmix report`` summarises a grid folder. Nothing here imports
torch until a cell trains, so planning and ``--dry-run`` are instant.
"""

from segmix.experiment.cells import Cell, cell_id, cell_identity
from segmix.experiment.runner import GridEvent, GridResult, planned_cells, run_experiment
from segmix.experiment.spec import ExperimentSpec, SpecError, Variant, load_spec

__all__ = [
    "Cell",
    "ExperimentSpec",
    "GridEvent",
    "GridResult",
    "SpecError",
    "Variant",
    "cell_id",
    "cell_identity",
    "load_spec",
    "planned_cells",
    "run_experiment",
]
