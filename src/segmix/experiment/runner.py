"""Running a grid: claims, executors, retries, progress, and the learning rate chosen on dev.

The runner is glue around pieces that already do the hard parts: :func:`segmix.run.train` runs
one cell (and locks, checkpoints and resumes its folder), ``filelock`` claims a cell for one grid
process, ``concurrent.futures`` or Ray run cells side by side. What it adds is the order of the
work and its bookkeeping:

1. Plan (:mod:`segmix.experiment.cells`); write ``grid.json`` and a copy of the spec.
2. With several lr candidates, phase 1 trains every variant × size × candidate on the search
   seeds (``spec.search_seeds``: 1001, 1002, …, never reported); per (variant, size) the
   candidate with the best mean *dev* score wins (ties: the smaller lr), recorded in
   ``lr_choice.json``. Test is never read for a choice.
3. Phase 2 trains every seed at the chosen lr. Only a grid with ``lr_search_reuses_seeds``
   searched on its first reported seeds; there those seeds' cells are phase-1 cells reused.
   A size's phase 2 starts as soon as its own search is over, ahead of the other sizes'
   search cells still queued, so a long grid's sizes finish one after another.
   A reference row (``spacy``, :mod:`segmix.reference`) skips phase 1: it trains with its own
   optimizer's settings, so it has no lr to choose; its cells run in phase 2 only.

A cell is skipped when its run finished under the same identity, or copied in finished from
another grid folder that has it under the same id (``reuse_from``: the same configuration,
data and segmix version trained once serves every grid that plans it), claimed (non-blocking) before
it runs so two grids on one folder never run it twice, resumed from its checkpoint when an
earlier attempt stopped, retried once when it fails (the traceback goes to its ``error.log``),
and reported as failed after that while the grid goes on. Ctrl-C releases every claim and
leaves each cell resumable; running the grid again continues where it stopped.

With Ray (``--executor ray``) a cell runs in a scratch folder of the node it lands on and the
task returns the run's small files as bytes (:func:`run_cell_shipped`); the grid process writes
them into the cell's folder (:func:`land_run_files`), so no storage need be shared. Such a cell
is never resumed: an interrupted or retried one starts over.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import logging
import os
import shutil
import statistics
import sys
import time
import traceback
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from segmix.experiment.cells import (
    CELL_JSON,
    CLAIM,
    ERROR_LOG,
    Cell,
    canonical_json,
    cells_at_size,
    plan_final,
    plan_lr_search,
    total_cells,
)
from segmix.experiment.spec import ExperimentSpec, grid_copy_text
from segmix.formatting import human_duration
from segmix.runs import (
    FINISHED_NAME,
    LOCK_NAME,
    is_finished,
    machine,
    read_json,
    write_bytes_atomic,
    write_json,
)

logger = logging.getLogger(__name__)

GRID_JSON = "grid.json"
#: one line per run of the grid command on this folder (appended, never rewritten): when, how
#: long, on which machine, what it trained; a grid that spans sessions sums its wall time here
SESSIONS_JSONL = "sessions.jsonl"
#: the order of a cell's status fields in grid.json
STATE_ORDER = (
    "status",
    "attempts",
    "workers_lost",
    "dev",
    "test",
    "seconds",
    "copied_from",
    "error",
)
#: what a cell copied in from another grid leaves behind: its checkpoints and saved model
#: (large, and a finished cell is never resumed) and another process's locks
NOT_COPIED = ("checkpoints", "model", LOCK_NAME, CLAIM)
LR_CHOICE_JSON = "lr_choice.json"
SPEC_COPY = "experiment.yaml"
ATTEMPTS = 2  # a failing cell is retried once
#: environment a Ray cluster's workers need from the driver (offline hub, quiet tokenizers)
RAY_ENV = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HOME", "TOKENIZERS_PARALLELISM")
#: how often Ray runs a cell again whose worker process or node died (a lost spot instance, an
#: out-of-memory kill); an exception raised by the cell is not one of these: the runner's own
#: retry-once handles it, with its traceback in error.log
RAY_MAX_RETRIES = 3


# -- one cell, wherever it runs ---------------------------------------------------------------


def run_cell(
    config: dict[str, Any],
    resume: bool,
    threads: int | None = None,
    callbacks: Sequence[Any] = (),
    reference: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train one cell and return a short summary (in this process, a pool worker or a Ray task).

    Takes the config as a plain dict so that it pickles to any worker. ``threads`` caps torch's
    threads, so that cells running side by side do not fight over the cores. ``reference`` (a
    reference cell's system and planned versions, :attr:`Cell.reference`) trains that system
    instead of a segmix model; Trainer ``callbacks`` do not apply to it.
    """
    from segmix.config import TrainConfig

    if threads:
        import torch

        torch.set_num_threads(threads)
    if reference is not None:
        from segmix.reference import run_reference

        metrics = run_reference(
            reference["method"],
            TrainConfig(**config),
            resume=resume,
            overwrite=not resume,
            expected=reference,
        )
        return {"steps": metrics["steps"], "seconds": metrics["timing"]["total_seconds"]}
    from segmix.run import train

    metrics = train(TrainConfig(**config), resume=resume, overwrite=not resume, callbacks=callbacks)
    return {"steps": metrics["steps"], "seconds": metrics["timing"]["total_seconds"]}


def run_cell_shipped(
    config: dict[str, Any],
    threads: int | None = None,
    reference: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train one cell in a scratch folder of this node and return its run's files as bytes.

    Why always a scratch folder, not the cell's own folder when this node happens to see it:
    telling a shared file system from a same-named local folder is guesswork, and one path for
    every node is the one that gets tested. The price: the cell never resumes from a
    checkpoint (they stay on the node and are deleted with the scratch folder), so a cell
    interrupted or retried elsewhere starts over.

    Returns :func:`run_cell`'s summary plus ``files`` (relative path → bytes: the run folder's
    own files, and ``model/`` when the config saves the model), ``ray_attempt`` (0 on the first
    try; more when Ray ran it again after a lost worker or node, where it can tell),
    ``node`` and ``ran_in`` (where it trained).
    """
    import tempfile

    _hide_unassigned_gpus()
    target = config["output_dir"]
    scratch = Path(tempfile.mkdtemp(prefix="segmix-cell-"))
    try:
        run_dir = scratch / "run"
        summary = run_cell(
            {**config, "output_dir": str(run_dir)}, False, threads=threads, reference=reference
        )
        # config.json names the folder the run was written to: the cell's own, as a local run
        # of the cell would have written it, not this node's scratch folder
        header_path = run_dir / "config.json"
        if header_path.exists():
            header = read_json(header_path)
            if isinstance(header, dict) and "output_dir" in header:
                header["output_dir"] = target
                write_json(header_path, header)
        files = collect_run_files(run_dir, with_model=bool(config.get("save_model")))
        return {
            **summary,
            "files": files,
            "ray_attempt": _ray_attempt(),
            "node": _ray_node(),
            "ran_in": str(run_dir),
        }
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def collect_run_files(run_dir: Path, *, with_model: bool = False) -> dict[str, bytes]:
    """What a grid and its report read of a finished run: every file at the top of the run
    folder (config, versions, subset, metrics, the compact test predictions, finished.json),
    and ``model/`` when asked; never the checkpoints or the full ``predictions/``."""
    files: dict[str, bytes] = {}
    for path in sorted(run_dir.iterdir()):
        if path.is_file() and path.name != LOCK_NAME and not path.name.endswith(".tmp"):
            files[path.name] = path.read_bytes()
    model = run_dir / "model"
    if with_model and model.is_dir():
        for path in sorted(model.rglob("*")):
            if path.is_file():
                files[path.relative_to(run_dir).as_posix()] = path.read_bytes()
    return files


def land_run_files(run_dir: Path, files: dict[str, bytes]) -> None:
    """Write a run shipped back from another node into ``run_dir``, as a local run would have.

    Whatever the folder held (an earlier attempt's checkpoints or predictions, not this run's)
    goes first; each file is written to a temporary name and renamed, ``finished.json`` last, so
    the folder looks finished only once every other file is in place.
    """
    if FINISHED_NAME not in files:
        raise ValueError(f"the run shipped back for {run_dir} has no {FINISHED_NAME}")
    for name in files:
        parts = Path(name).parts
        if Path(name).is_absolute() or ".." in parts or not parts:
            raise ValueError(f"the run shipped back for {run_dir} names a file outside it: {name}")
    run_dir.mkdir(parents=True, exist_ok=True)
    for path in run_dir.iterdir():
        if path.name != LOCK_NAME:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    for name in sorted(files, key=lambda n: n == FINISHED_NAME):
        path = run_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(path, files[name])


def _hide_unassigned_gpus() -> None:
    """A Ray cell given no GPU trains on the CPU, even on a GPU node.

    Ray sets ``CUDA_VISIBLE_DEVICES`` to the GPUs a task asked for, but leaves it alone for a
    task that asked for none (unless ``RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO`` is set): such cells
    would all land on GPU 0, unseen by Ray's accounting. Safe to set in a reused worker: Ray
    gives a GPU task a fresh worker process of its own (``max_calls=1``), so this process never
    runs a GPU cell after it.
    """
    try:
        import ray

        if ray.get_runtime_context().get_accelerator_ids().get("GPU"):
            return
    except Exception:  # not in a Ray task, or a Ray that cannot say: leave the devices be
        return
    os.environ["CUDA_VISIBLE_DEVICES"] = ""


def _ray_attempt() -> int | None:
    """Which try of its Ray task this is (0: the first), or None outside Ray or where this
    Ray does not say (the call is not public API, so it is asked, never relied on)."""
    try:
        import ray

        return int(ray._private.worker.global_worker.core_worker.get_current_task_attempt_number())
    except Exception:
        return None


def _ray_node() -> str | None:
    try:
        import ray

        return ray.get_runtime_context().get_node_id()
    except Exception:
        return None


def _init_pool_worker(threads: int, parent: int | None = None) -> None:
    import torch

    torch.set_num_threads(threads)
    if parent is not None:
        _die_with_parent(parent)


def _die_with_parent(parent: int) -> None:
    """Linux: this worker gets SIGTERM when the grid process that started it dies, however it
    dies (SIGKILL, an out-of-memory kill), instead of training on, unclaimed, into a cell the
    next run of the grid will take. Its cell stays resumable from its last checkpoint.
    Elsewhere nothing is done: the grid's own Ctrl-C and SIGTERM paths stop the workers."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    pr_set_pdeathsig = 1  # <sys/prctl.h>
    try:
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGTERM))
    except (OSError, AttributeError):  # no libc symbol to call: stay as before
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


# -- executors: each submit returns a concurrent.futures.Future --------------------------------


class SerialExecutor:
    """Cells one after another in this process (``--executor local --workers 1``).

    The only executor that takes Trainer ``callbacks`` (they need not pickle).
    """

    resumes = True  # a cell's checkpoints are where this process can read them

    def __init__(self, callbacks: Sequence[Any] = ()) -> None:
        self.capacity = 1
        self.callbacks = tuple(callbacks)

    def submit(
        self, config: dict[str, Any], resume: bool, reference: dict[str, Any] | None = None
    ) -> Future:
        future: Future = Future()
        try:  # a KeyboardInterrupt is no failure of the cell: it stops the grid
            future.set_result(
                run_cell(config, resume, callbacks=self.callbacks, reference=reference)
            )
        except Exception as err:
            future.set_exception(err)
        return future

    def close(self, *, cancel: bool = False) -> None:
        pass


def threads_per_worker(workers: int) -> int:
    """The torch threads each of ``workers`` side-by-side cells gets: this process's cores ÷
    ``workers``, at least one."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) // workers)


def finished_elsewhere(cell: Cell, sources: Sequence[Path]) -> Path | None:
    """The first of the grid folders ``sources`` that finished ``cell`` under its identity (a
    run with test scores where the cell is a reported one), or None."""
    for source in sources:
        folder = source / "cells" / cell.id
        if not is_finished(folder / "run") or not _records_cell(folder, cell):
            continue  # an id is a hash of the identity: a folder recording another is not it
        if cell.config.score_test and _finished_without_test(folder / "run"):
            continue  # an lr-search run elsewhere: this grid reports the cell
        return source
    return None


def _records_cell(folder: Path, cell: Cell) -> bool:
    """Whether the cell.json in ``folder`` records ``cell``'s identity (False where it is
    missing, unreadable or records another cell)."""
    try:
        identity = read_json(folder / CELL_JSON).get("identity")
    except (OSError, ValueError, AttributeError):
        return False
    return identity is not None and canonical_json(identity) == canonical_json(cell.identity)


def _same_machine(recorded: Any, now: dict[str, Any] | None) -> bool:
    """Whether a run's recorded ``machine`` (:func:`segmix.runs.machine`) is ``now``'s in
    everything that sets its pace: CPU, instruction set, cores, torch threads and device."""
    if not isinstance(recorded, dict) or now is None:
        return False
    keys = ("cpu", "cpu_capability", "cpu_count", "torch_threads", "device")
    return all(recorded.get(k) == now.get(k) for k in keys)


class PoolExecutor:
    """``--executor local --workers N``: a spawn-context process pool, ``cores // N`` torch
    threads per worker (spawn, not fork: torch and tokenizers do not survive a fork)."""

    resumes = True

    def __init__(self, workers: int) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.threads = threads_per_worker(workers)
        self.capacity = workers
        self.pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_pool_worker,
            initargs=(self.threads, os.getpid()),
        )
        logger.info("process pool: %d workers, %d torch threads each", workers, self.threads)

    def submit(
        self, config: dict[str, Any], resume: bool, reference: dict[str, Any] | None = None
    ) -> Future:
        return self.pool.submit(run_cell, config, resume, None, (), reference)

    def close(self, *, cancel: bool = False) -> None:
        if cancel:
            # Ctrl-C: the workers' cells stop now; each stays resumable from its checkpoint
            for process in list(getattr(self.pool, "_processes", {}).values()):
                process.terminate()
        self.pool.shutdown(wait=True, cancel_futures=cancel)


class RayExecutor:
    """``--executor ray``: each cell a Ray task with ``cpus_per_cell`` CPUs and
    ``gpus_per_cell`` GPUs (Ray shows a task only the GPUs it asked for).

    Connects as Ray usually does: ``address`` (``--ray-address``), else ``RAY_ADDRESS``, else a
    new local Ray; an already initialised Ray (a notebook, a test) is used as it is. As many
    cells are in flight as the cluster has CPUs and GPUs for, so another grid on the same folder
    can still claim the rest. A cell trains in a scratch folder of its node and comes back as
    bytes (:func:`run_cell_shipped`): no storage need be shared, and no cell resumes. Ray runs
    a cell again, up to :data:`RAY_MAX_RETRIES` times, when its worker or node dies.
    """

    resumes = False  # checkpoints stay on the node that wrote them

    def __init__(
        self,
        address: str | None = None,
        cpus_per_cell: int | None = None,
        gpus_per_cell: float | None = None,
    ) -> None:
        try:
            import ray
        except ImportError:
            raise RuntimeError("--executor ray needs Ray: pip install 'segmix[ray]'") from None
        self.ray = ray
        self.started = False
        if not ray.is_initialized():
            options: dict[str, Any] = {}
            if address or os.environ.get("RAY_ADDRESS"):
                env = {k: os.environ[k] for k in RAY_ENV if k in os.environ}
                if env:
                    options["runtime_env"] = {"env_vars": env}
            with _sigterm_kept():
                ray.init(address=address, **options)
            self.started = True
        self.cpus = cpus_per_cell or 1
        self.gpus = gpus_per_cell or 0
        try:
            resources = ray.cluster_resources()
            self.capacity = max(1, int(resources.get("CPU", 1) // self.cpus))
            if self.gpus:
                cluster_gpus = resources.get("GPU", 0)
                if not cluster_gpus:
                    raise ValueError(
                        "--gpus-per-cell: the Ray cluster has no GPUs; leave the option out "
                        "to train on CPUs"
                    )
                self.capacity = max(1, min(self.capacity, int(cluster_gpus // self.gpus)))
        except BaseException:
            self.close()
            raise
        self.task = ray.remote(num_cpus=self.cpus, num_gpus=self.gpus, max_retries=RAY_MAX_RETRIES)(
            run_cell_shipped
        )
        self.refs: list[Any] = []
        logger.info(
            "ray: %d cells at a time, %d CPUs and %g GPUs each", self.capacity, self.cpus, self.gpus
        )

    def submit(
        self, config: dict[str, Any], resume: bool, reference: dict[str, Any] | None = None
    ) -> Future:
        ref = self.task.remote(config, self.cpus, reference)
        self.refs.append(ref)
        return ref.future()

    def close(self, *, cancel: bool = False) -> None:
        if cancel:  # a cancelled task is never retried, whatever max_retries says
            for ref in self.refs:
                self.ray.cancel(ref, force=True)
        if self.started:
            self.started = False
            self.ray.shutdown()


@contextlib.contextmanager
def _sigterm_kept() -> Iterator[None]:
    """Keep this process's SIGTERM handler across ``ray.init``.

    ``ray.init`` replaces it with one that exits at once: the grid's (``segmix experiment``
    takes SIGTERM as Ctrl-C) would be lost, and a ``kill`` would leave the cells training on
    the cluster and marked running instead of cancelled and marked interrupted.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield  # Ray sets no handler from another thread either
        return
    handler = signal.getsignal(signal.SIGTERM)
    try:
        yield
    finally:
        if handler is not None:  # None: set outside Python, nothing to put back
            signal.signal(signal.SIGTERM, handler)


def make_executor(
    executor: str = "local",
    *,
    workers: int = 1,
    ray_address: str | None = None,
    cpus_per_cell: int | None = None,
    gpus_per_cell: float | None = None,
    callbacks: Sequence[Any] = (),
):
    """The executor named on the command line."""
    if executor not in ("local", "ray"):
        raise ValueError(f"--executor: {executor!r} is not allowed; choose local or ray")
    if callbacks and (executor != "local" or workers > 1):
        raise ValueError("Trainer callbacks run only with --executor local --workers 1")
    if cpus_per_cell is not None and cpus_per_cell < 1:
        raise ValueError(f"--cpus-per-cell: {cpus_per_cell} is not allowed; give 1 or more")
    if gpus_per_cell is not None and not gpus_per_cell > 0:
        raise ValueError(f"--gpus-per-cell: {gpus_per_cell:g} is not allowed; give more than 0")
    if executor == "ray":
        return RayExecutor(ray_address, cpus_per_cell, gpus_per_cell)
    if cpus_per_cell is not None or gpus_per_cell is not None:
        raise ValueError("--cpus-per-cell and --gpus-per-cell go with --executor ray")
    if workers > 1:
        return PoolExecutor(workers)
    return SerialExecutor(callbacks)


# -- the grid ----------------------------------------------------------------------------------


@dataclass
class GridEvent:
    """A progress report: the library logs ``message``; a command line prints it."""

    kind: str  # plan reused finished retry failed busy waiting lr_choice interrupted done
    message: str
    done: int
    total: int
    cell: Cell | None = None
    running: tuple[str, ...] = ()
    eta_seconds: float | None = None


@dataclass
class GridResult:
    """What a call of :func:`run_experiment` did."""

    grid_dir: Path
    total: int
    trained: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)
    lr_choice: dict[str, Any] | None = None
    complete: bool = False
    # cells not started because the run's time (``stop_after``) was up; the next run does them
    left_for_later: int = 0
    report: Any = None


def planned_cells(spec: ExperimentSpec, grid_dir: str | Path) -> list[Cell]:
    """The cells known before anything trains: phase 1 with an lr search, else every cell."""
    if spec.lr_search:
        return plan_lr_search(spec, Path(grid_dir))
    return plan_final(spec, Path(grid_dir), _single_lr(spec))


def reuse_sources(reuse_from: Sequence[str | Path], grid_dir: str | Path) -> list[Path]:
    """``--reuse-from``'s grid folders, each checked to be one (it has ``cells/``) and not
    ``grid_dir`` itself."""
    sources = [Path(p) for p in reuse_from]
    for source in sources:
        if not (source / "cells").is_dir():
            raise FileNotFoundError(f"--reuse-from: {source} is not a grid folder (no cells/)")
        if source.resolve() == Path(grid_dir).resolve():
            raise ValueError(f"--reuse-from: {source} is this grid's own folder")
    return sources


def final_cells_elsewhere(
    spec: ExperimentSpec, grid_dir: str | Path, sources: Sequence[Path]
) -> dict[tuple[str, int], dict[float | None, list[int]]]:
    """Before a searched grid has chosen its lrs, which of its final cells ``--reuse-from``
    could copy in: per (method label, size) and lr candidate, the reported seeds whose cell at
    that lr one of ``sources`` finished under the same id. Which of them are copied depends on
    the lr dev chooses, so ``--dry-run`` can say only this much. Reference rows take no lr and
    are listed under ``None`` (:func:`plan_final` plans them under every candidate: counted
    once). Pairs with no such cell are left out."""
    found: dict[tuple[str, int], dict[float | None, list[int]]] = {}
    seen: set[str] = set()
    for lr in spec.lrs:
        for cell in plan_final(spec, Path(grid_dir), dict.fromkeys(_pairs(spec), lr)):
            if cell.lr is not None and cell.lr not in spec.lrs_at(cell.size):
                continue  # a candidate not searched at this size: dev never chooses it there
            if cell.id in seen:
                continue
            seen.add(cell.id)
            if finished_elsewhere(cell, sources) is not None:
                key = (cell.variant.label, cell.size)
                found.setdefault(key, {}).setdefault(cell.lr, []).append(cell.seed)
    return found


def search_seeds_text(spec: ExperimentSpec) -> str:
    """How progress lines and ``--dry-run`` name the lr search's seeds, and, where they are
    reported seeds too (``lr_search_reuses_seeds``), say so: a reader of the plan should see
    that those seeds' reported runs are the ones that chose the lr."""
    seeds = ", ".join(map(str, spec.search_seeds))
    plural = "s" if len(spec.search_seeds) > 1 else ""
    shared = [s for s in spec.search_seeds if s in spec.seeds]
    if not shared:
        return f"search seed{plural} {seeds}, never reported"
    if len(shared) == len(spec.search_seeds):
        also = "also reported" if plural else "also a reported seed"
    else:
        also = f"{', '.join(map(str, shared))} also reported"
    return f"search seed{plural} {seeds}, {also}: lr_search_reuses_seeds"


def _single_lr(spec: ExperimentSpec) -> dict[tuple[str, int], float | None]:
    """Each (method, size)'s lr where none is searched: the spec's one rate, or its size's."""
    return {(label, size): spec.lrs_at(size)[0] for label, size in _pairs(spec)}


def run_experiment(
    spec: ExperimentSpec,
    grid_dir: str | Path,
    *,
    executor: str = "local",
    workers: int = 1,
    ray_address: str | None = None,
    cpus_per_cell: int | None = None,
    gpus_per_cell: float | None = None,
    callbacks: Sequence[Any] = (),
    on_event: Callable[[GridEvent], None] | None = None,
    wait_for_claims: bool = True,
    poll_seconds: float = 10.0,
    report: bool = True,
    stop_after: float | None = None,
    reuse_from: Sequence[str | Path] = (),
) -> GridResult:
    """Run (or continue) the grid of ``spec`` in ``grid_dir``; see the module's docstring.

    ``on_event`` receives every progress report. Cells claimed by another grid process are
    skipped and come back at the end: with ``wait_for_claims`` the runner polls every
    ``poll_seconds`` until each is finished (by the other process) or free (then it runs it);
    without, it returns them in ``GridResult.busy``. ``report`` writes the report
    (``segmix.experiment.report.write_report``) once the grid is complete, if that exists.
    ``stop_after`` (seconds): no cell starts once this much time has passed; the cells running
    then finish, the rest are left for the next run (``GridResult.left_for_later``), so a grid
    fits a job's time limit and stops with whole cells instead of interrupted ones.
    ``reuse_from``: other grid folders whose finished cells this grid copies in where it plans
    a cell of the same id (grid.json says ``copied_from`` for each), instead of training it.
    """
    spec.require_installed()  # before any cell trains: a missing library fails the grid at once
    sources = reuse_sources(reuse_from, grid_dir)
    return _Grid(
        spec,
        Path(grid_dir),
        executor_options={
            "executor": executor,
            "workers": workers,
            "ray_address": ray_address,
            "cpus_per_cell": cpus_per_cell,
            "gpus_per_cell": gpus_per_cell,
            "callbacks": callbacks,
        },
        on_event=on_event,
        wait_for_claims=wait_for_claims,
        poll_seconds=poll_seconds,
        report=report,
        stop_after=stop_after,
        reuse_from=sources,
    ).run()


@dataclass
class _Job:
    cell: Cell
    attempt: int
    resumed: bool
    started: float


class _Grid:
    def __init__(
        self,
        spec: ExperimentSpec,
        grid_dir: Path,
        *,
        executor_options: dict[str, Any],
        on_event: Callable[[GridEvent], None] | None,
        wait_for_claims: bool,
        poll_seconds: float,
        report: bool,
        stop_after: float | None = None,
        reuse_from: Sequence[Path] = (),
    ) -> None:
        self.spec = spec
        self.reuse_from = list(reuse_from)
        self.grid_dir = grid_dir.resolve()
        self.executor_options = executor_options
        self.on_event = on_event
        self.wait_for_claims = wait_for_claims
        self.poll_seconds = poll_seconds
        self.write_report = report
        self.deadline = None if stop_after is None else time.monotonic() + stop_after
        self.executor: Any = None
        self.cells: dict[str, Cell] = {}  # every planned cell by id, in plan order
        self.state: dict[str, dict[str, Any]] = {}
        self.claims: dict[str, Any] = {}
        self.in_flight: dict[Future, _Job] = {}
        self.seconds_per_work: list[float] = []  # each cell trained now: seconds ÷ _work
        self.resumed_seconds_per_work: list[float] = []  # … those resumed from a checkpoint
        # … and the reused cells trained earlier as a cell trains now (see _eta_seconds)
        self.earlier_seconds_per_work: list[float] = []
        self.result = GridResult(self.grid_dir, total_cells(spec))
        self.lr_choice: dict[str, Any] | None = None
        self.search: list[Cell] = []  # the lr search's cells (phase 1)
        self.decided: set[int] = set()  # sizes whose final cells are planned
        try:  # the manifest as this run found it
            found = read_json(self.grid_dir / GRID_JSON)
        except (OSError, ValueError):
            found = None
        self.manifest_found: dict[str, Any] | None = found if isinstance(found, dict) else None
        self.earlier = self._earlier_entries()
        # A run narrowed by --sizes/--methods is one part of its grid: grid.json and
        # lr_choice.json keep what the other parts recorded (they were rewritten with this
        # part's cells only, and the report lost the rest: a grid run size by size reported
        # only its last size).
        self.whole = spec.whole or spec
        self.other_parts = _pairs(self.whole) - _pairs(spec)
        self.kept_entries = [
            e
            for e in (self.manifest_found or {}).get("cells") or []
            if isinstance(e, dict) and (e.get("label"), e.get("size")) in self.other_parts
        ]
        kept_choice = self._kept_lr_choice()
        if kept_choice:
            self.lr_choice = kept_choice

    def _forget_this_parts_choices(self) -> None:
        """``lr_choice.json`` as a run starts: the other parts' choices alone. This part's
        choices are made again from its search cells once those are all finished (at once,
        before any cell starts, where they already are), so a choice made over other
        candidates (one added since, decision 54) is never read as current while the search
        it predates runs: the report quoted such a choice, and its lr at the edge, as made."""
        path = self.grid_dir / LR_CHOICE_JSON
        if not path.exists():
            return
        if self.lr_choice:  # the other parts' choices, read once as the run was set up
            write_json(path, self.lr_choice)
        else:
            path.unlink()

    def _kept_lr_choice(self) -> dict[str, Any]:
        """The lr choices in ``lr_choice.json`` of the grid's other parts (see ``other_parts``),
        with the file's ``_about``; empty where there are none."""
        if not self.other_parts:
            return {}
        try:
            found = read_json(self.grid_dir / LR_CHOICE_JSON)
        except (OSError, ValueError):
            return {}
        if not isinstance(found, dict):
            return {}
        kept = {
            key: row
            for key, row in found.items()
            if isinstance(row, dict) and (row.get("label"), row.get("size")) in self.other_parts
        }
        if kept and "_about" in found:
            kept = {"_about": found["_about"], **kept}
        return kept

    def _earlier_entries(self) -> dict[str, dict[str, Any]]:
        """What the last grid.json said of each finished cell: how long it took, in how many
        attempts. A reused cell keeps these, so running a finished grid again leaves its
        grid.json as it was instead of erasing the time each cell took."""
        entries = (self.manifest_found or {}).get("cells")
        if not isinstance(entries, list):
            return {}
        kept = ("seconds", "attempts", "workers_lost", "copied_from")
        return {
            e["id"]: {k: e[k] for k in kept if k in e}
            for e in entries
            if isinstance(e, dict) and e.get("status") == "finished" and "id" in e
        }

    # -- the two phases

    def run(self) -> GridResult:
        self.grid_dir.mkdir(parents=True, exist_ok=True)
        started = time.time()
        interrupted = False
        self._copy_spec()
        first = planned_cells(self.spec, self.grid_dir)
        self._add(first)
        if self.spec.lr_search:
            self._forget_this_parts_choices()
        self._emit(
            "plan",
            f"{self.spec.name}: {self.result.total} cells"
            + (
                f" ({len(first)} choose the lr on dev first, from {self.spec.lr_candidates_text()}"
                f" on {search_seeds_text(self.spec)})"
                if self.spec.lr_search
                else ""
            )
            + f" in {self.grid_dir}",
        )
        try:
            if self.spec.lr_search:
                self.search = first
                self._run_cells(first, then=self._final_cells_of_searched_sizes)
            else:
                self.decided = set(self.spec.sizes)
                self._run_cells(first)
            self.result.complete = (
                not self.result.busy
                and not self.result.left_for_later
                and self.decided == set(self.spec.sizes)
            )
        except KeyboardInterrupt:
            interrupted = True
            for state in self.state.values():
                if state["status"] == "running":
                    state["status"] = "interrupted"
            self._emit("interrupted", "interrupted: run the same command again to resume")
            self._close(cancel=True)
            raise
        finally:
            self._close(cancel=False)
            self._write_manifest()
            self._log_session(started, interrupted)
        self._emit(
            "done",
            f"{self.spec.name}: {self._done()}/{self.result.total} cells done "
            f"({len(self.result.trained)} trained now, {len(self.result.reused)} reused, "
            f"{len(self.result.failed)} failed"
            + (f", {len(self.result.busy)} claimed by another process" if self.result.busy else "")
            + (
                f", {self.result.left_for_later} left for the next run (--stop-after)"
                if self.result.left_for_later
                else ""
            )
            + f"); {self.grid_dir / GRID_JSON}",
        )
        if self.result.complete and self.write_report:
            self.result.report = self._report()
        return self.result

    def _run_cells(self, cells: list[Cell], then: Callable[[], list[Cell]] | None = None) -> None:
        """Run every cell not yet finished; come back to the ones claimed elsewhere.

        ``then`` is asked, before the first cell and after each one, for cells that have become
        plannable (a size's final cells once its lr search is over); they go to the front of
        the queue, so each size's results are whole as early as they can be instead of after
        every size's search.
        """
        queue: deque[Cell] = deque()

        def queue_what_became_plannable() -> None:
            if then is not None:
                self._enqueue(then(), queue, front=True)

        self._enqueue(cells, queue)
        queue_what_became_plannable()
        busy: list[Cell] = []
        waiting_for = ""
        while queue or self.in_flight or busy:
            # once stop_after has passed nothing new starts; the running cells finish below
            time_is_up = self._time_is_up()
            if time_is_up and not self.in_flight:
                self.result.left_for_later += len(queue) + len(busy)
                self._emit(
                    "stopped",
                    f"--stop-after: time is up; {len(queue) + len(busy)} cells left for the next "
                    "run of the same command",
                )
                return
            while not time_is_up and queue and len(self.in_flight) < self._executor().capacity:
                self._start(queue.popleft(), busy)
                # a cell another process finished meanwhile is reused, and may end a search
                queue_what_became_plannable()
            if self.in_flight:
                done, _ = wait(list(self.in_flight), return_when=FIRST_COMPLETED)
                for future in done:
                    self._finish(self.in_flight.pop(future), future)
                queue_what_became_plannable()
                continue
            if busy:
                names = ", ".join(c.name for c in busy)
                if not self.wait_for_claims:
                    self.result.busy.extend(c.id for c in busy)
                    self._emit("busy", f"claimed by another grid process, left to it: {names}")
                    return
                if names != waiting_for:  # one line per change, not one per poll
                    self._emit("waiting", f"waiting for another grid process to finish: {names}")
                    waiting_for = names
                time.sleep(self.poll_seconds)
                queue.extend(busy)
                busy.clear()

    def _time_is_up(self) -> bool:
        """Whether ``stop_after`` has passed (never without one)."""
        return self.deadline is not None and time.monotonic() >= self.deadline

    def _enqueue(self, cells: list[Cell], queue: deque[Cell], *, front: bool = False) -> None:
        """Queue the cells not yet finished; those finished earlier are reused."""
        if not cells:
            return
        todo = [c for c in cells if self.state[c.id]["status"] not in ("finished", "failed")]
        copied = [c for c in todo if self._copy_from_other_grid(c)]
        if copied:
            sources = sorted({self.state[c.id]["copied_from"] for c in copied})
            self._emit(
                "reused",
                f"{len(copied)} cells copied in, finished, from {', '.join(sources)} (same ids)",
            )
        reused = [c for c in todo if self._reusable(c)]
        for cell in reused:
            self._mark_reused(cell)
        if reused:
            self._emit("reused", f"{len(reused)} cells finished earlier: reused{self._eta()}")
        new = [c for c in todo if self.state[c.id]["status"] == "pending"]
        if front:
            queue.extendleft(reversed(new))
        else:
            queue.extend(new)
        self._write_manifest()

    def _final_cells_of_searched_sizes(self) -> list[Cell]:
        """The final cells of every size whose lr search has just ended (each of its search
        cells finished or failed): its lr is chosen from its own cells only, so it need not
        wait for the other sizes' searches."""
        ready = [
            size
            for size in self.spec.sizes
            if size not in self.decided
            and all(
                self.state[c.id]["status"] in ("finished", "failed")
                for c in self.search
                if c.size == size
            )
        ]
        if not ready:
            return []
        chosen = self._choose_lr(self.search, ready)
        self.decided.update(ready)
        final = [c for c in plan_final(self.spec, self.grid_dir, chosen) if c.size in ready]
        self._add(final)
        return final

    # -- one cell

    def _start(self, cell: Cell, busy: list[Cell]) -> None:
        from filelock import FileLock, Timeout

        if self._reusable(cell):  # another grid process finished it meanwhile
            self._mark_reused(cell)
            return
        cell.folder.mkdir(parents=True, exist_ok=True)
        claim = FileLock(str(cell.folder / CLAIM), timeout=0, thread_local=False)
        try:
            claim.acquire()
        except Timeout:
            if self.state[cell.id]["status"] != "busy":  # said once, not at every poll
                self.state[cell.id]["status"] = "busy"
                self._emit("busy", f"{cell.name}: claimed by another grid process; later", cell)
            busy.append(cell)
            return
        self.claims[cell.id] = claim
        try:
            problem = self._identity_problem(cell)
            if problem:
                self._fail(cell, problem)
                return
            if not (cell.folder / CELL_JSON).exists():
                write_json(cell.folder / CELL_JSON, cell.record())
            if self._reusable(cell):
                self._mark_reused(cell)
                return
            self._submit(cell, attempt=1)
        except BaseException:
            self._release(cell)
            raise

    def _submit(self, cell: Cell, attempt: int, *, fresh: bool = False) -> None:
        started_before = (cell.run_dir / "config.json").exists() and not is_finished(cell.run_dir)
        resume = not fresh and started_before and self._executor().resumes
        if resume:
            logger.info("%s: resuming from its last checkpoint", cell.name)
        elif started_before and not fresh:
            logger.info("%s: an earlier attempt stopped; Ray cells start over", cell.name)
        self.state[cell.id].update(status="running", attempts=attempt)
        job = _Job(cell, attempt, resume, time.perf_counter())
        future = self._executor().submit(cell.config.to_dict(), resume, cell.reference)
        self.in_flight[future] = job

    def _finish(self, job: _Job, future: Future) -> None:
        cell = job.cell
        err = future.exception()
        summary = future.result() if err is None else None
        if isinstance(summary, dict) and "files" in summary:
            try:  # a run trained on another node: its files come back as bytes
                land_run_files(cell.run_dir, summary["files"])
            except (OSError, ValueError) as landing:
                err = landing
            else:
                self._note_remote(cell, summary)
        if err is not None:
            self._log_error(cell, job.attempt, err)
            if job.attempt < ATTEMPTS:
                self._emit(
                    "retry",
                    f"{cell.name}: attempt {job.attempt} failed ({_last_line(err)}); retrying "
                    f"(traceback in {cell.folder / ERROR_LOG})",
                    cell,
                )
                # a failed resume may be a broken checkpoint: the retry starts over
                self._submit(cell, job.attempt + 1, fresh=job.resumed)
                return
            self._fail(cell, f"failed {job.attempt} times: {_last_line(err)}")
            return
        seconds = time.perf_counter() - job.started
        # a cell resumed from a checkpoint trained only its last part: it would make the
        # grid look faster than it is, so it sets the pace only while no other cell has
        paces = self.resumed_seconds_per_work if job.resumed else self.seconds_per_work
        paces.append(seconds / self._work(cell.size))
        self._record_scores(cell)
        self.state[cell.id].update(status="finished", seconds=round(seconds, 1))
        self.result.trained.append(cell.id)
        self._release(cell)
        state = self.state[cell.id]
        self._emit(
            "finished",
            f"[{self._done()}/{self.result.total}] {cell.name}: dev {_pct(state.get('dev'))} "
            + (f"test {_pct(state.get('test'))}" if cell.config.score_test else "(lr search)")
            + f" ({seconds:.0f} s){self._running()}{self._eta()}",
            cell,
        )
        self._write_manifest()

    def _note_remote(self, cell: Cell, summary: dict[str, Any]) -> None:
        """Where a shipped cell trained, and whether Ray had to run it again after its worker
        or node died (``workers_lost`` in grid.json; absent when it did not, or Ray cannot say).
        """
        lost = summary.get("ray_attempt")
        logger.info(
            "%s: trained on node %s in %s; %d files shipped back",
            cell.name,
            summary.get("node"),
            summary.get("ran_in"),
            len(summary["files"]),
        )
        if lost:
            self.state[cell.id]["workers_lost"] = lost
            self._emit(
                "retry",
                f"{cell.name}: finished after Ray ran it again {lost} time"
                f"{'s' * (lost != 1)} (a worker or node was lost)",
                cell,
            )
        else:
            self.state[cell.id].pop("workers_lost", None)

    def _fail(self, cell: Cell, why: str) -> None:
        self.state[cell.id].update(status="failed", error=why)
        self.result.failed.append(cell.id)
        self._release(cell)
        self._emit(
            "failed",
            f"[{self._done()}/{self.result.total}] {cell.name}: FAILED, {why} "
            f"({cell.folder.relative_to(self.grid_dir)}){self._running()}{self._eta()}",
            cell,
        )
        self._write_manifest()

    def _mark_reused(self, cell: Cell) -> None:
        metrics = self._record_scores(cell)
        earlier = self.earlier.get(cell.id, {})
        self.state[cell.id].update(earlier, status="finished")
        self.result.reused.append(cell.id)
        seconds = earlier.get("seconds")
        if (
            isinstance(seconds, (int, float))
            and seconds > 0
            and metrics is not None
            and _same_machine(metrics.get("machine"), self.cell_machine)
        ):
            self.earlier_seconds_per_work.append(seconds / self._work(cell.size))

    @functools.cached_property
    def cell_machine(self) -> dict[str, Any] | None:
        """What a cell trained now records as its machine (``metrics.json``'s ``machine``):
        this machine, with the torch threads a cell gets from ``--workers``; None under Ray,
        whose cells' nodes are not known before they run."""
        options = self.executor_options
        if options.get("executor", "local") != "local":
            return None
        found = machine()
        workers = options.get("workers") or 1
        if workers > 1:
            found["torch_threads"] = threads_per_worker(workers)
        return found

    def _copy_from_other_grid(self, cell: Cell) -> bool:
        """Copy ``cell`` in from the first ``reuse_from`` grid that has it finished under the
        same identity (with a test score where this grid reports the cell); True if copied.

        Only into a folder that holds nothing yet: a cell started here resumes here. The copy
        is the cell's summary, test predictions and logs, not its checkpoints or model.
        """
        if not self.reuse_from or is_finished(cell.run_dir) or cell.folder.exists():
            return False
        source = finished_elsewhere(cell, self.reuse_from)
        if source is None:
            return False
        partial = cell.folder.with_name(cell.folder.name + ".copying")
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(
            source / "cells" / cell.id, partial, ignore=shutil.ignore_patterns(*NOT_COPIED)
        )
        # this grid's record of the cell (the same identity; its folder here); the run's own
        # config.json keeps the folder it trained in
        write_json(partial / CELL_JSON, cell.record())
        os.replace(partial, cell.folder)  # whole or not at all
        self.state[cell.id]["copied_from"] = os.path.relpath(source, self.grid_dir)
        return True

    def _reusable(self, cell: Cell) -> bool:
        """Finished under this identity (a folder with another identity is never touched)."""
        return (
            is_finished(cell.run_dir)
            and (cell.folder / CELL_JSON).exists()
            and self._identity_problem(cell) is None
        )

    def _identity_problem(self, cell: Cell) -> str | None:
        stored = cell.folder / CELL_JSON
        if stored.exists():
            if not _records_cell(cell.folder, cell):
                return f"{stored} records another cell; the folder is left untouched"
            if cell.config.score_test and _finished_without_test(cell.run_dir):
                # only after a spec turned a search seed into a reported one: the search run
                # skipped test (decision 49), and a reported cell must not lack it
                return (
                    f"{cell.run_dir} finished as an lr-search run, which skips test, and this "
                    "grid reports it; remove that folder to train the cell again"
                )
            return None
        if cell.run_dir.exists() and any(p.name != LOCK_NAME for p in cell.run_dir.iterdir()):
            return f"{cell.run_dir} holds a run without {CELL_JSON}; the folder is left untouched"
        return None

    def _record_scores(self, cell: Cell) -> dict[str, Any] | None:
        """The headline dev and test scores, for progress lines and grid.json; the cell's
        metrics (None where unreadable)."""
        try:
            metrics = read_json(cell.run_dir / "metrics.json")
        except (OSError, ValueError):
            return None
        if not isinstance(metrics, dict):
            return None
        for split in ("dev", "test"):
            scores = metrics.get(split) or {}
            self.state[cell.id][split] = scores.get(self.spec.metric)
        return metrics

    def _log_error(self, cell: Cell, attempt: int, err: BaseException) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        text = "".join(traceback.format_exception(type(err), err, err.__traceback__))
        with open(cell.folder / ERROR_LOG, "a", encoding="utf-8") as fh:
            fh.write(f"--- {cell.name}, attempt {attempt}, {stamp}\n{text}\n")
        logger.debug("%s: attempt %d failed:\n%s", cell.name, attempt, text)

    def _release(self, cell: Cell) -> None:
        claim = self.claims.pop(cell.id, None)
        if claim is not None:
            claim.release()

    # -- learning rate on dev

    def _choose_lr(
        self, search: list[Cell], sizes: list[int]
    ) -> dict[tuple[str, int], float | None]:
        """Per (variant, size) of ``sizes``: the candidate with the best mean dev score over
        the search seeds (ties: the smaller lr). A candidate missing a seed (failed) cannot win.

        ``lr_choice.json`` holds one entry per ``"label|size"`` (the chosen lr, each candidate's
        dev mean and per-seed dev scores) and ``_about`` (metric, split, the search seeds,
        whether they are reported seeds too, rule, and the reference rows, which take no part:
        they train with their own optimizer's settings); each size's entries are added as its
        search ends.
        """
        seeds = self.spec.search_seeds
        by_key = {(c.variant.label, c.size, c.lr, c.seed): c for c in search}
        chosen: dict[tuple[str, int], float | None] = {}
        record: dict[str, Any] = dict(self.lr_choice or {}) | {
            "_about": {
                "metric": self.spec.metric,
                "split": "dev",
                "seeds": seeds,
                # whether the runs that chose the lr are also reported (grids run before the
                # search had seeds of its own); false: the comparison never sees them
                "reuses_reported_seeds": self.spec.lr_search_reuses_seeds,
                "rule": "best mean dev score over the seeds; ties go to the smaller lr; test is "
                "never read",
            }
        }
        references = [v.label for v in self.spec.variants if v.reference]
        if references:
            record["_about"]["not_searched"] = {
                label: "a reference system: it trains with its own optimizer's settings, no lr "
                "from the grid"
                for label in references
            }
        for size in sizes:
            for variant in self.spec.variants_at(size):
                if variant.reference:
                    continue
                candidates = []
                for lr in self.spec.lrs_at(size):
                    dev = {
                        seed: self.state[by_key[(variant.label, size, lr, seed)].id].get("dev")
                        for seed in seeds
                    }
                    complete = all(v is not None for v in dev.values())
                    candidates.append(
                        {
                            "lr": lr,
                            "dev_mean": statistics.mean(dev.values()) if complete else None,
                            "dev": {str(s): v for s, v in dev.items()},
                            "complete": complete,
                        }
                    )
                ok = [c for c in candidates if c["complete"]]
                best = max(ok, key=lambda c: (c["dev_mean"], -c["lr"])) if ok else None
                chosen[(variant.label, size)] = best["lr"] if best else None
                record[f"{variant.label}|{size}"] = {
                    "label": variant.label,
                    "method": variant.method,
                    "options": variant.options,
                    "size": size,
                    "chosen": best["lr"] if best else None,
                    "dev_means": {str(c["lr"]): c["dev_mean"] for c in candidates},
                    "candidates": candidates,
                }
                others = ", ".join(
                    f"{c['lr']:g}: {_pct(c['dev_mean'])}" for c in candidates if c is not best
                )
                self._emit(
                    "lr_choice",
                    f"lr for {variant.label} n={size}: "
                    + (
                        f"{best['lr']:g} (dev {_pct(best['dev_mean'])}; {others})"
                        if best
                        else "none (every candidate failed on some seed); its cells are left out"
                    ),
                )
        self.lr_choice = record
        write_json(self.grid_dir / LR_CHOICE_JSON, record)
        self.result.lr_choice = record
        return chosen

    # -- bookkeeping

    def _add(self, cells: list[Cell]) -> None:
        """Plan cells; a phase-2 cell that is a phase-1 cell becomes phase 2 (same id)."""
        for cell in cells:
            if cell.id in self.cells:
                self.cells[cell.id] = dataclasses.replace(
                    self.cells[cell.id], phase=cell.phase, lr_search=cell.lr_search
                )
                continue
            self.cells[cell.id] = cell
            self.state[cell.id] = {"status": "pending"}
        self._write_manifest()

    def _executor(self):
        if self.executor is None:  # started on first use: a reused grid starts no Ray
            self.executor = make_executor(**self.executor_options)
        return self.executor

    def _close(self, *, cancel: bool) -> None:
        for cell_id in list(self.claims):
            self._release(self.cells[cell_id])
        if self.executor is not None:
            executor, self.executor = self.executor, None
            executor.close(cancel=cancel)

    def _done(self) -> int:
        return sum(s["status"] in ("finished", "failed") for s in self.state.values())

    def _running(self) -> str:
        names = [job.cell.name for job in self.in_flight.values()]
        return f" · running: {', '.join(names)}" if names else ""

    def _work(self, size: int) -> float:
        """How much a cell of ``size`` trains, in its budget's unit: optimizer steps, or with
        ``budget: epochs`` examples seen (epochs × size). A cell's time grows with it, so a
        grid's 400-example cells count for more than its 100-example ones."""
        budget = self.spec.budgets[size]
        return float(budget if self.spec.budget == "steps" else budget * size)

    def _eta_seconds(self) -> float | None:
        """The work left (each size's cells not yet done × :meth:`_work`) × the mean seconds
        per unit of work of the cells trained so far ÷ cells at a time.

        Counting cells alone (the mean cell time × cells left) told a grid whose small sizes
        had finished that its larger ones would go as fast; the RMix grid's 400-example cells
        take a third longer than its 200-example ones (400 steps against 300, about 0.7 s a
        step on 2 CPU cores either way). A size's cells left are the cells it plans
        (:func:`segmix.experiment.cells.cells_at_size`: fewer where a method runs at only some
        sizes) less its cells done, final cells not yet planned included.

        Until this run's first cell finishes, the pace is that of the reused cells whose
        ``metrics.json`` says they trained on this kind of machine with the torch threads a
        cell gets now (:attr:`cell_machine`), so a resumed grid has an estimate from its first
        line; a grid resumed on another machine, with other ``--workers`` or under Ray waits
        for its own first cell rather than borrow a pace that is not its own. Cells this run
        resumed from a checkpoint count last: they trained only what was left of them (the
        RMix grid's two resumed cells said 2.3 h where 3.3 h were left).
        """
        pace = (
            self.seconds_per_work or self.earlier_seconds_per_work or self.resumed_seconds_per_work
        )
        if not pace:
            return None
        done = Counter(
            self.cells[cell_id].size
            for cell_id, state in self.state.items()
            if state["status"] in ("finished", "failed")
        )
        left = sum(
            max(cells_at_size(self.spec, size) - done[size], 0) * self._work(size)
            for size in self.spec.sizes
        )
        if self.executor is not None:
            capacity = self.executor.capacity
        else:  # not started yet (a resumed grid's first line): the cells --workers runs at once
            capacity = self.executor_options.get("workers") or 1
        return statistics.mean(pace) * left / capacity

    def _eta(self) -> str:
        seconds = self._eta_seconds()
        return f" · ETA {human_duration(seconds)}" if seconds else ""

    def _emit(self, kind: str, message: str, cell: Cell | None = None) -> None:
        level = logging.WARNING if kind in ("failed", "retry") else logging.INFO
        logger.log(level, message)
        if self.on_event is not None:
            self.on_event(
                GridEvent(
                    kind=kind,
                    message=message,
                    done=self._done(),
                    total=self.result.total,
                    cell=cell,
                    running=tuple(job.cell.name for job in self.in_flight.values()),
                    eta_seconds=self._eta_seconds(),
                )
            )

    def _copy_spec(self) -> None:
        """``experiment.yaml``: the spec as run, under a header naming where it came from.

        A grid run from its own copy (resumed exactly as it was run, e.g. a grid from before
        the lr search had seeds of its own) leaves the copy as it is: rewriting it would put a
        second header above the first and name the copy as its own source.
        """
        target = self.grid_dir / SPEC_COPY
        if target.exists() and target.resolve() == self.spec.path:
            logger.info("%s: the grid runs from its own copy of the spec; left as it is", target)
            return
        tmp = target.with_suffix(".yaml.tmp")
        tmp.write_text(grid_copy_text(self.spec, self.grid_dir), encoding="utf-8")
        os.replace(tmp, target)

    def _write_manifest(self) -> None:
        """grid.json: the spec's settings and every planned cell with its status."""
        spec = self.whole  # the whole grid's settings, whichever part of it runs now
        entries = []
        order = sorted(self.cells.values(), key=lambda c: c.phase != 2)  # final cells first
        for cell in order:
            state = dict(self.state[cell.id])
            if state["status"] in ("pending", "busy") and is_finished(cell.run_dir):
                state["status"] = "finished"  # by another grid process on this folder
            entries.append({**cell.entry(self.grid_dir), **_in_order(state)})
        entries += [e for e in self.kept_entries if e.get("id") not in self.cells]
        chosen = None
        if self.lr_choice is not None:
            chosen = {}
            for key, row in self.lr_choice.items():
                if not key.startswith("_"):
                    chosen.setdefault(row["label"], {})[str(row["size"])] = row["chosen"]
        counts: dict[str, int] = {}
        for entry in entries:
            counts[entry["status"]] = counts.get(entry["status"], 0) + 1
        from segmix import __version__

        manifest = {
            "name": spec.name,
            "task": spec.task,
            "spec": SPEC_COPY,
            "spec_source": str(spec.source),
            "metric": spec.metric,
            "budget": spec.budget,
            spec.budget: {str(size): n for size, n in spec.budgets.items()},
            "sizes": spec.sizes,
            "seeds": spec.seeds,
            "methods": [
                {
                    "label": v.label,
                    "method": v.method,
                    "options": v.options,
                    **({"reference": True} if v.reference else {}),
                    **({"sizes": list(v.sizes)} if v.sizes is not None else {}),
                }
                for v in spec.variants
            ],
            "lr_candidates": spec.lrs,
            **(
                {"lr_by_size": {str(k): v for k, v in spec.lr_by_size().items()}}
                if spec.lr_per_size
                else {}
            ),
            # the candidates searched at some sizes only (decision 54), by rate
            **(
                {"lr_candidate_sizes": {f"{lr:g}": list(at) for lr, at in spec.lr_sizes.items()}}
                if spec.lr_sizes and not spec.lr_per_size
                else {}
            ),
            # how many search seeds (what readers of older grid.json files know), which, and
            # whether they are reported seeds too (only in grids run before they were not)
            "lr_seeds": len(spec.search_seeds) if spec.lr_search else None,
            "lr_search_seeds": spec.search_seeds if spec.lr_search else None,
            "lr_search_reuses_seeds": spec.lr_search_reuses_seeds,
            # the method-against-method contrasts the report tests (None: its default)
            "contrasts": None if spec.contrasts is None else [list(c) for c in spec.contrasts],
            "lr_choice": chosen,
            "segmix": __version__,
            "total": total_cells(spec),
            "counts": counts,
            "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "cells": entries,
        }
        found = self.manifest_found
        if found is not None and {**found, "updated": None} == {**manifest, "updated": None}:
            # nothing changed since this run began (a finished grid run again): keep the time
            # it was last written, so a committed grid.json is left exactly as it was
            manifest["updated"] = found.get("updated")
        write_json(self.grid_dir / GRID_JSON, manifest)

    def _log_session(self, started: float, interrupted: bool) -> None:
        """Append this run of the grid to ``sessions.jsonl``.

        Why a log of its own: grid.json is rewritten by every grid process, and a grid that spans
        sessions (and machines) has no single start and end, so its total wall time is the sum
        of its sessions'. Appending one short line is atomic enough for two grid processes on
        one folder. A grid killed outright (SIGKILL) writes no line: its time is missing, never
        invented. A run that trained nothing, failed nothing and was not interrupted (a finished
        grid run again) writes none either.
        """
        if not (interrupted or self.result.trained or self.result.failed):
            # it found every cell it planned finished (or another process's): no time spent on
            # the grid, and a line would only inflate the report's count of runs
            return
        from segmix.runs import machine, machine_kind

        opts = self.executor_options
        record = {
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
            "ended": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "wall_seconds": round(time.time() - started, 1),
            "trained": len(self.result.trained),
            "reused": len(self.result.reused),
            "failed": len(self.result.failed),
            "done": self._done(),
            "total": self.result.total,
            "interrupted": interrupted,
            "executor": opts.get("executor"),
            "workers": opts.get("workers") if opts.get("executor") == "local" else None,
            "machine": machine_kind(machine()),
        }
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with (self.grid_dir / SESSIONS_JSONL).open("a", encoding="utf-8") as fh:
            fh.write(line)

    def _report(self) -> Any:
        try:
            from segmix.experiment import report as report_module
        except ImportError as err:
            logger.info("no report written: segmix.experiment.report is not importable (%s)", err)
            return None
        write_report = getattr(report_module, "write_report", None)
        if write_report is None:
            logger.info("no report written: segmix.experiment.report has no write_report")
            return None
        try:
            return write_report(self.grid_dir)
        except Exception:
            logger.exception(
                "the report failed (the grid itself is complete): run `segmix report %s`",
                self.grid_dir,
            )
            return None


def _pairs(spec: ExperimentSpec) -> set[tuple[str, int]]:
    """Every (method label, size) a spec plans."""
    return {(v.label, size) for size in spec.sizes for v in spec.variants_at(size)}


def _in_order(state: dict[str, Any]) -> dict[str, Any]:
    """A cell's status fields in one fixed order, however they were filled (trained now, or
    reused with what the last grid.json said): running a finished grid again then rewrites
    grid.json with the same cell entries, so a committed grid.json changes only where a cell
    did."""
    known = {k: state[k] for k in STATE_ORDER if k in state}
    return known | {k: v for k, v in state.items() if k not in known}


def _last_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[-1] if text else ''}".rstrip(": ")


def _finished_without_test(run_dir: Path) -> bool:
    """A finished run whose metrics.json holds no test scores (an lr-search run's)."""
    if not is_finished(run_dir):
        return False
    try:
        return not isinstance(read_json(run_dir / "metrics.json").get("test"), dict)
    except (OSError, ValueError):
        return False  # an unreadable folder is the report's to name


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.2f}"
