"""Cells: one (variant, size, seed, lr) run each, named by what it computes.

A cell's id is the first 12 hex digits of a SHA-256 over everything that decides its numbers:
every TrainConfig field that shapes the run (not where it writes or whether it draws bars), the
content of its data files (not their paths: a moved data folder is the same data, an edited file
is not) and the segmix version. So a finished cell is reused by any grid that asks for the same
run, a changed option or file gets a new folder instead of silently mixing results, and two
grids can share ``cells/`` safely. A reference system's cell (``spacy``, :mod:`segmix.reference`)
hashes only the fields it reads, and its library's and model's versions.

Layout of one cell, under the grid folder::

    cells/<id>/cell.json     its identity (the hashed record) and where it sits in the grid
    cells/<id>/claim.lock    held by the grid process that is running it (filelock)
    cells/<id>/error.log     tracebacks of failed attempts, if any
    cells/<id>/run/          the run folder segmix train writes (config, metrics, finished.json)

The run folder is one level down because a run started over (``overwrite``) empties its folder,
claim and identity included; beside it they survive every attempt.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from segmix.config import AUGMENTER_OPTIONS, PATH_FIELDS, TrainConfig
from segmix.experiment.spec import ExperimentSpec, Variant
from segmix.run import NOT_SHAPING

#: fields added to TrainConfig after cells were first hashed (their metadata's ``added_later``),
#: with the value that reproduces the behaviour before they existed: while a field holds that
#: value it stays out of the identity,
#: so a new option does not rename (and rerun) every finished cell; set to anything else, it is
#: hashed like any other field
ADDED_LATER: dict[str, Any] = {
    f.name: f.metadata["added_later"]
    for f in dataclasses.fields(TrainConfig)
    if "added_later" in f.metadata
}
#: the fields of ADDED_LATER that are options of one method's augmenter: such a field also stays
#: out of the identity of a run whose method does not read it (``augmenter_options``), so that
#: one method's new option renames no other method's cells. ``seqmix``'s defaults changed with
#: its options (SeqMix's window rule and snapped words): a default seqmix cell hashes them and
#: gets a new id, and ``seqmix_windows: mention`` with ``seqmix_output: continuous`` is the cell
#: the earlier seqmix computed, under its old id. Likewise LwTR's and MR's defaults became Dai &
#: Adel's (stop words, a draw over distinct texts): default cells of lwtr, mr, rules and of the
#: mixtures after them get new ids, and ``lwtr_stop_words: none`` / ``mr_draw: mentions`` are
#: the earlier cells under their old ids. LADA's pad words and masks became its code's
#: (``lada_pads: source``): default inter-LADA cells get new ids and ``lada_pads: earlier`` is
#: the earlier inter cell under its old id; intra-LADA has no pad words and does not read it
#: (``TrainConfig.augmenter_options``), so its cells keep their ids
METHOD_OPTIONS_ADDED_LATER = frozenset(ADDED_LATER) & AUGMENTER_OPTIONS
ID_LENGTH = 12
RUN = "run"
CELL_JSON = "cell.json"
CLAIM = "claim.lock"
ERROR_LOG = "error.log"


@functools.lru_cache(maxsize=64)
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's content (cached while its size and mtime stay the same)."""
    stat = Path(path).stat()
    return _file_sha256(str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)


def _added_later_unused(name: str, value: Any, read: set[str]) -> bool:
    """Whether a field added later stays out of the identity: it holds the value that
    reproduces the behaviour before it, or it is a method's option this run's method does not
    read (``read``: the augmenter's options)."""
    if name not in ADDED_LATER:
        return False
    return value == ADDED_LATER[name] or (name in METHOD_OPTIONS_ADDED_LATER and name not in read)


def cell_identity(config: TrainConfig, reference: str | None = None) -> dict[str, Any]:
    """Everything that decides a run's numbers, as a JSON-able record.

    The data paths are replaced by the SHA-256 of the files they resolve to (train, dev, test).
    A ``reference`` system's cell (:mod:`segmix.reference`) hashes only the fields it reads,
    and its library's and model's versions: an upgrade of either is a new cell.
    """
    from segmix import __version__

    read = set(config.augmenter_options())
    shaping = {
        k: v
        for k, v in config.to_dict().items()
        if k not in NOT_SHAPING and k not in PATH_FIELDS and not _added_later_unused(k, v, read)
    }
    extra: dict[str, Any] = {}
    if reference is not None:
        from segmix.reference import get_reference, reference_versions

        used = set(get_reference(reference).fields)
        shaping = {k: v for k, v in shaping.items() if k in used}
        extra["reference"] = reference_versions(reference)
    files = dict(zip(("train", "dev", "test"), config.resolved_files(), strict=True))
    return {
        "config": shaping,
        "data": {split: file_sha256(p) if p else None for split, p in files.items()},
        "segmix": __version__,
        **extra,
    }


def canonical_json(obj: Any) -> str:
    """One spelling per value: sorted keys, no spaces (what the id hashes)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def cell_id(identity: dict[str, Any]) -> str:
    """The first 12 hex digits of the SHA-256 of the identity's canonical JSON."""
    return hashlib.sha256(canonical_json(identity).encode("utf-8")).hexdigest()[:ID_LENGTH]


@dataclass
class Cell:
    """One planned run of the grid.

    ``phase`` is 1 for a cell run only to choose the learning rate, 2 for a cell of the final
    comparison (``lr_search`` marks the phase-2 cells that also took part in the choice, which
    only a grid with ``lr_search_reuses_seeds`` has).
    """

    id: str
    variant: Variant
    size: int
    seed: int
    lr: float | None  # None for a reference system, which uses its own optimizer's settings
    phase: int
    lr_search: bool
    config: TrainConfig
    identity: dict[str, Any]
    folder: Path

    @property
    def run_dir(self) -> Path:
        return self.folder / RUN

    @property
    def reference(self) -> dict[str, Any] | None:
        """A reference cell's system and versions (what its worker must have), else None."""
        return self.identity.get("reference")

    @property
    def name(self) -> str:
        """How progress lines name the cell."""
        lr = f" lr {self.lr:g}" if self.lr is not None else ""
        return f"{self.variant.label} n={self.size} seed {self.seed}{lr}"

    def entry(self, grid_dir: Path) -> dict[str, Any]:
        """The cell's line in grid.json (its folder relative to the grid)."""
        return {
            "id": self.id,
            "method": self.variant.method,
            "label": self.variant.label,
            "options": self.variant.options,
            "size": self.size,
            "seed": self.seed,
            "lr": self.lr,
            "phase": self.phase,
            "lr_search": self.lr_search,
            "dir": self.run_dir.relative_to(grid_dir).as_posix(),
            **({"reference": True} if self.reference else {}),
        }

    def record(self) -> dict[str, Any]:
        """What cell.json holds: the id, the hashed identity and the full configuration."""
        return {
            "id": self.id,
            "identity": self.identity,
            "label": self.variant.label,
            "method": self.variant.method,
            "options": self.variant.options,
            "size": self.size,
            "seed": self.seed,
            "lr": self.lr,
            "config": self.config.to_dict(),
            **({"reference": self.reference} if self.reference else {}),
        }


def make_cell(
    spec: ExperimentSpec,
    grid_dir: Path,
    variant: Variant,
    size: int,
    seed: int,
    lr: float | None,
    *,
    phase: int,
    lr_search: bool,
    score_test: bool = True,
) -> Cell:
    """A cell with its id and its run folder under ``grid_dir/cells/<id>/run``.

    ``score_test=False`` (an lr-search cell on a seed that is never reported) trains and
    selects exactly as a reported cell would, and skips the test split: the choice reads dev
    only, so its test score would be time spent on a number nobody may use. It is not part of
    the id (:data:`segmix.run.NOT_SHAPING`)."""
    grid_dir = Path(grid_dir).resolve()
    if variant.reference:
        lr = None
    config = spec.config(variant, size, seed, lr)
    identity = cell_identity(config, variant.method if variant.reference else None)
    ident = cell_id(identity)
    folder = grid_dir / "cells" / ident
    config = dataclasses.replace(config, output_dir=str(folder / RUN), score_test=score_test)
    return Cell(ident, variant, size, seed, lr, phase, lr_search, config, identity, folder)


def plan_lr_search(spec: ExperimentSpec, grid_dir: Path) -> list[Cell]:
    """Phase 1: every variant × size × lr candidate on the search seeds (``spec.search_seeds``:
    seeds of their own, 1001, 1002, …, unless ``lr_search_reuses_seeds``; none with one
    candidate). Reference variants take no part: they use their own optimizer's settings.
    A search seed that is not also reported skips the test split (decision 49)."""
    if not spec.lr_search:
        return []
    return [
        make_cell(
            spec,
            grid_dir,
            v,
            size,
            seed,
            lr,
            phase=1,
            lr_search=True,
            score_test=seed in spec.seeds,
        )
        for size in spec.sizes
        for seed in spec.search_seeds
        for lr in spec.lrs_at(size)
        for v in spec.variants_at(size)
        if not v.reference
    ]


def plan_final(
    spec: ExperimentSpec, grid_dir: Path, chosen: dict[tuple[str, int], float | None]
) -> list[Cell]:
    """Phase 2: every variant × size × seed at its chosen lr; a (variant, size) without a
    choice (every candidate failed) is left out. A reference variant has no lr and is always
    planned. Ordered size, seed, variant, so the paired runs of one seed finish together.

    ``lr_search`` marks a final cell that is also a search cell (same id): only a seed that is
    both reported and searched, which happens only with ``lr_search_reuses_seeds``; with search
    seeds of their own no reported cell took part in choosing its lr."""
    search_seeds = set(spec.search_seeds) if spec.lr_search else set()
    cells = []
    for size in spec.sizes:
        for seed in spec.seeds:
            for v in spec.variants_at(size):
                lr = chosen.get((v.label, size))
                if lr is None and not v.reference:
                    continue
                searched = seed in search_seeds and not v.reference
                cells.append(
                    make_cell(spec, grid_dir, v, size, seed, lr, phase=2, lr_search=searched)
                )
    return cells


def total_cells(spec: ExperimentSpec) -> int:
    """Distinct cells the whole grid trains: the sum of :func:`cells_at_size`."""
    return sum(cells_at_size(spec, size) for size in spec.sizes)


def cells_at_size(spec: ExperimentSpec, size: int) -> int:
    """Distinct cells the grid trains at ``size``: the final cells, plus the search cells that
    are not final cells. A search seed that is also a reported seed (``lr_search_reuses_seeds``)
    has its chosen-lr cell counted once, as a final cell; the other candidates on it, and every
    candidate on a search seed of its own, are cells of their own. Sizes differ where a method
    runs at only some of them (``sizes:`` on its item)."""
    variants = spec.variants_at(size)
    final = len(variants) * len(spec.seeds)
    if not spec.lr_search:
        return final
    searched = sum(not v.reference for v in variants)
    shared = sum(seed in spec.seeds for seed in spec.search_seeds)
    own = len(spec.search_seeds) - shared
    candidates = len(spec.lrs_at(size))
    return final + searched * (shared * (candidates - 1) + own * candidates)
