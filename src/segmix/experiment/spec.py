"""The experiment spec: one YAML file that says which methods, sizes, seeds and budget to compare.

Everything is checked before anything trains, because a grid runs for hours and a typo found
after the first hundred cells wastes them. Every problem is one :class:`SpecError` whose message
names the file, the line and the key (``conll.yaml:12: methods[3].window: …``): the YAML is
*composed* first, so every key and list item keeps the line it was written on. Values are checked
by constructing :class:`segmix.config.TrainConfig`, so a spec and ``segmix train`` refuse the same
values with the same words.

Example (relative paths are relative to the YAML file's folder; in a grid's copy of a spec,
``GRID/experiment.yaml``, to the folder of the file it was copied from)::

    name: conll-small
    task: ner
    data: ../shared/data/conll2003
    methods: [none, mmix, {name: lada, lada_mode: [intra, inter]}]
    sizes: [50, 100, 200]
    seeds: [1, 2, 3, 4, 5]
    budget: steps
    steps: {50: 200, 100: 300, 200: 400}
    lr: [5.0e-5, 1.0e-4, 2.0e-4]
    lr_seeds: 2                     # search seeds 1001, 1002: never among the reported seeds
    lr_search_reuses_seeds: false   # true: search on the first lr_seeds of seeds (old grids)
    train: {batch_size: 16, eval_every: 40, dev_size: 1000}

With several ``lr`` candidates each method's lr is chosen on dev from runs on *search seeds*
that the comparison never reports: a run that took part in the choice is not an unselected
draw of its method, so reporting it beside the others would favour whichever lr happened to
suit those seeds. ``lr_seeds: N`` draws N of them from 1001, 1002, … (skipping any of
``seeds``); ``lr_seeds: [11, 12]`` names them. ``lr_search_reuses_seeds: true`` restores the
old policy (search on the first N of ``seeds``, reported too), so grids run before keep their
cells' ids.

``methods`` may also name ``spacy``, a reference row (:mod:`segmix.reference`): another tool
trained on the same subsets, which takes no options and no learning rate.

An ``lr`` candidate may be searched at some sizes only (``{lr: 4.0e-4, sizes: [50]}``): where
most rows chose the largest candidate at a size, the range grows there alone (decision 54).

``lr: {50: 2.0e-4, 100: 1.0e-4}`` sets one learning rate per size, searched at none: every row
at a size trains at that size's rate, as ``steps:`` sets a budget per size. A grid that asks
another question than which lr (the rates grid: which augmentation rate) then trains each size
at the rate a searched grid's dev runs chose there, instead of one rate that suits some sizes
and not others (decision 59).

A method item may run at only some of the sizes (``{name: lwtr, sizes: [50, 100]}``), so a grid
can take to its larger, costlier sizes only the methods that earned it at the small ones; the
baseline runs at every size, since every gain is paired against it. At a size, the report's
comparison (and Holm's family) is the methods that ran there.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from segmix.config import PATH_FIELDS, TASK_NAMES, ConfigError, TrainConfig, option_name
from segmix.experiment.names import variant_label
from segmix.reference import is_reference

#: the top-level keys of a spec
SPEC_KEYS = (
    "name",
    "task",
    "data",
    "model",
    "methods",
    "sizes",
    "seeds",
    "budget",
    "steps",
    "epochs",
    "lr",
    "lr_seeds",
    "lr_search_reuses_seeds",
    "contrasts",
    "train",
)

#: ``lr_seeds: N`` draws its search seeds from SEARCH_SEED_BASE + 1, + 2, …: a range of its own,
#: far above the small seeds a grid reports (1-5), so the runs that choose a method's lr are
#: never the runs reported for it (any value that is in ``seeds`` anyway is skipped)
SEARCH_SEED_BASE = 1000
#: search seeds when the spec does not say
DEFAULT_LR_SEEDS = 2

#: TrainConfig fields the grid sets per cell (or from a top-level key); ``train:`` may not
GRID_FIELDS = {
    "task": "task",
    "data_dir": "data",
    "model": "model",
    "augment": "methods",
    "train_size": "sizes",
    "sample_seed": "seeds",
    "seed": "seeds",
    "lr": "lr",
    "max_steps": "steps",
    "epochs": "epochs",
    "output_dir": "the grid's folder (--out)",
    "progress": "the grid (cells run without bars)",
}

#: options that belong to a method although its augmenter does not take them: they shape the
#: dataset of mixes (how many, drawn when), so a method may carry its own grid of them
DATASET_OPTIONS = ("rate", "resample", "mix_from_epoch")

#: training options any method may carry, the baseline included (``{name: smix, adversarial:
#: fgm}``; ``{name: none, adversarial: fgm}`` is adversarial training alone)
TRAINING_OPTIONS = ("adversarial", "adv_epsilon")

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_OPTION_PREFIX = re.compile(r"^(--[a-z][\w-]*|-k): ")


class SpecError(ConfigError):
    """An invalid experiment spec: one line naming the file, the line and the key."""


@dataclass(frozen=True)
class Variant:
    """One row of the comparison: a method with fixed option values, and its label."""

    label: str
    method: str
    options: dict[str, Any] = field(default_factory=dict)
    # the sizes of the spec this variant runs at (``sizes:`` on its method item); None: all
    sizes: tuple[int, ...] | None = None

    def runs_at(self, size: int) -> bool:
        """Whether this variant trains at ``size`` (always, unless its item names sizes)."""
        return self.sizes is None or size in self.sizes

    @property
    def reference(self) -> bool:
        """A reference system (:mod:`segmix.reference`), not an augmentation: it trains its
        own model on the same subsets, takes no options and no learning rate from the grid."""
        return is_reference(self.method)


def _is_baseline(variant: Variant) -> bool:
    """The baseline row, ``none`` without options: every gain is paired against it. A row of
    method ``none`` with options (``{name: none, adversarial: fgm}``: FGM alone) trains
    something else and is a comparator like any augmentation."""
    return variant.method == "none" and not variant.options


@dataclass
class ExperimentSpec:
    """A validated spec; :meth:`config` gives the TrainConfig of any (variant, size, seed, lr)."""

    path: Path
    # the spec file whose folder its relative paths are read from: ``path`` itself, or for a
    # grid's copy of a spec (:func:`grid_copy_text`) the file it was copied from
    source: Path
    text: str
    name: str
    task: str
    data_dir: str | None
    model: str
    variants: list[Variant]
    sizes: list[int]
    seeds: list[int]
    budget: str
    budgets: dict[int, int]  # optimizer steps (budget: steps) or epochs per size
    lrs: list[float]  # every candidate, at any size
    # the seeds whose dev scores choose the lr (phase 1); disjoint from ``seeds`` unless
    # ``lr_search_reuses_seeds``, where they are the first of ``seeds`` and reported as well
    search_seeds: list[int]
    lr_search_reuses_seeds: bool
    train: dict[str, Any]
    metric: str  # the key of the headline score in a run's metrics.json dev/test
    train_examples: int  # examples a training subset can be drawn from
    # reference rows whose library is not installed here, by label: raised by
    # require_installed() only if the row is still in the grid after --methods narrows it
    not_installed: dict[str, SpecError] = field(default_factory=dict)
    # method-against-method comparisons the report tests (pairs of labels); None: the report's
    # default (the paper's claim among the rows present)
    contrasts: list[tuple[str, str]] | None = None
    # candidates searched at some sizes only (``{lr: 4.0e-4, sizes: [50, 100]}``), by rate;
    # the others are searched at every size
    lr_sizes: dict[float, tuple[int, ...]] = field(default_factory=dict)
    # ``lr: {SIZE: RATE, ...}``: one lr per size, none searched (``lr_sizes`` then holds each
    # rate's sizes, so :meth:`lrs_at` gives every size its one rate)
    lr_per_size: bool = False
    # the spec before ``--sizes``/``--methods`` narrowed it (None: this is the whole spec): the
    # grid's grid.json and lr_choice.json describe the whole grid, so a part run alone keeps
    # what the other parts recorded
    whole: ExperimentSpec | None = field(default=None, repr=False, compare=False)

    def variants_at(self, size: int) -> list[Variant]:
        """The variants that train at ``size``, in spec order."""
        return [v for v in self.variants if v.runs_at(size)]

    def lrs_at(self, size: int) -> list[float]:
        """The lr candidates dev chooses from at ``size``: every candidate but those limited
        to other sizes. Every method at a size searches the same ones (even-handed)."""
        return [lr for lr in self.lrs if size in self.lr_sizes.get(lr, (size,))]

    def lr_candidates_text(self) -> str:
        """'3 candidates' or '3 candidates (4 at 50, 100)' for progress lines and --dry-run."""
        counts: dict[int, list[int]] = {}
        for size in self.sizes:
            counts.setdefault(len(self.lrs_at(size)), []).append(size)
        common = max(counts, key=lambda n: len(counts[n]))
        text = f"{common} candidate{'s' * (common != 1)}"
        others = [f"{n} at {', '.join(map(str, at))}" for n, at in counts.items() if n != common]
        return text + (f" ({'; '.join(others)})" if others else "")

    @property
    def lr_search(self) -> bool:
        """Whether the lr is chosen on dev (phase 1) before the full grid runs."""
        return len(self.lrs) > 1 and not self.lr_per_size

    def lr_by_size(self) -> dict[int, float] | None:
        """Each size's one lr where the spec sets them per size (``lr: {50: 2.0e-4, ...}``);
        None otherwise."""
        if not self.lr_per_size:
            return None
        return {size: self.lrs_at(size)[0] for size in self.sizes}

    def narrowed(
        self, *, sizes: Sequence[int] | None = None, methods: Sequence[str] | None = None
    ) -> ExperimentSpec:
        """The same grid restricted to some of its sizes and methods (``--sizes``,
        ``--methods``), so part of a shipped grid runs with exactly the cells, ids included,
        that the whole grid would run. A method is matched by its label or its name (``lada``
        keeps every LADA variant)."""
        keep_sizes = list(self.sizes)
        if sizes:
            unknown = [s for s in sizes if s not in self.sizes]
            if unknown:
                raise SpecError(
                    f"--sizes: {', '.join(map(str, unknown))} not in {self.path.name}; its sizes "
                    f"are {', '.join(map(str, self.sizes))}"
                )
            keep_sizes = [s for s in self.sizes if s in sizes]
        keep_variants = list(self.variants)
        if methods:
            known = {v.label for v in self.variants} | {v.method for v in self.variants}
            unknown = [m for m in methods if m not in known]
            if unknown:
                raise SpecError(
                    f"--methods: {', '.join(unknown)} not in {self.path.name}; its methods are "
                    f"{', '.join(v.label for v in self.variants)}"
                )
            # the baseline always stays: every gain is paired against it; a row that trains
            # no augmentation but something else (FGM alone) is a comparator like any other
            keep_variants = [
                v
                for v in self.variants
                if _is_baseline(v) or v.label in methods or v.method in methods
            ]
        kept = {v.label for v in keep_variants}
        return dataclasses.replace(
            self,
            sizes=keep_sizes,
            variants=keep_variants,
            contrasts=None
            if self.contrasts is None
            else [(a, b) for a, b in self.contrasts if a in kept and b in kept],
            budgets=dict(self.budgets),
            whole=self.whole or self,
            not_installed={
                v.label: self.not_installed[v.label]
                for v in keep_variants
                if v.label in self.not_installed
            },
        )

    def require_installed(self) -> None:
        """Raise the spec's own error (file, line, how to install) for the first reference row
        whose library is missing here. Not done in :func:`load_spec`: a grid narrowed with
        ``--methods`` to leave that row out runs on a machine without its library."""
        for error in self.not_installed.values():
            raise error

    def config(
        self,
        variant: Variant,
        size: int,
        seed: int,
        lr: float | None,
        output_dir: str | None = None,
    ) -> TrainConfig:
        """The full configuration of one cell; sample seed = seed, so seeds are paired.

        A reference variant's cell is the ``none`` configuration of the same size and seed
        (the reference reads its subset, budget and selection fields from it); ``lr`` is then
        ``None``: the reference uses its own optimizer's settings.
        """
        budget = (
            {"max_steps": self.budgets[size]}
            if self.budget == "steps"
            else {"epochs": self.budgets[size]}
        )
        return TrainConfig(
            **{
                **self.train,
                "task": self.task,
                "data_dir": self.data_dir,
                "model": self.model,
                "augment": "none" if variant.reference else variant.method,
                **variant.options,
                "train_size": size,
                "sample_seed": seed,
                "seed": seed,
                **({"lr": lr} if lr is not None else {}),
                **budget,
                "save_model": self.train.get("save_model", False),
                "progress": False,
                "output_dir": output_dir,
            }
        )


class _Located:
    """Line numbers of every key and list item of a composed YAML document."""

    def __init__(self, path: Path, node: Any) -> None:
        self.path = path
        self.lines: dict[tuple, int] = {}
        self.items: set[tuple] = set()  # the paths that are list items (shown as [i])
        self._walk(node, ())

    def _walk(self, node: Any, where: tuple) -> None:
        import yaml

        if isinstance(node, yaml.MappingNode):
            seen: set = set()
            for key_node, value_node in node.value:
                key = key_node.value
                if isinstance(key_node, yaml.ScalarNode) and key_node.tag.endswith(":int"):
                    key = int(key)
                if key in seen:
                    self.lines[(*where, key)] = key_node.start_mark.line + 1
                    raise self.error((*where, key), "duplicate key")
                seen.add(key)
                self.lines[(*where, key)] = key_node.start_mark.line + 1
                self._walk(value_node, (*where, key))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self.lines[(*where, i)] = item.start_mark.line + 1
                self.items.add((*where, i))
                self._walk(item, (*where, i))

    def line(self, where: tuple) -> int:
        """The line of ``where``, else of the nearest enclosing key that has one."""
        while where and where not in self.lines:
            where = where[:-1]
        return self.lines.get(where, 1)

    def error(self, where: tuple, message: str) -> SpecError:
        key = ""
        for depth, part in enumerate(where):  # methods[2].lada_mode, steps.50
            if not key:
                key = str(part)
            elif where[: depth + 1] in self.items:
                key += f"[{part}]"
            else:
                key += f".{part}"
        return SpecError(f"{self.path}:{self.line(where)}: {key or 'spec'}: {message}")

    def config_error(self, where: tuple, err: Exception) -> SpecError:
        """A TrainConfig (or file) error at ``where``, its leading ``--option:`` dropped when it
        only repeats the key."""
        return self.error(where, _OPTION_PREFIX.sub("", str(err), count=1))


#: the first line of a grid's copy of its spec (``GRID/experiment.yaml``, :func:`grid_copy_text`):
#: the file it was copied from, and that file's folder as seen from the copy's. Why the second:
#: a grid is resumed exactly as it was run by running its copy (its seed policy, say, may differ
#: from today's spec's), and the copy's relative paths (``data: ../../shared/…``) are the
#: original's; the relative folder finds them on any checkout. Copies written before it name
#: the file only, which is used where it exists.
_COPY_HEADER = re.compile(
    r"^# copied from (?P<source>.+) when the grid ran; relative paths in it are relative to "
    r"that file's folder(?: \((?P<folder>.+) from here\))?[ \t]*\r?$"
)


def grid_copy_text(spec: ExperimentSpec, grid_dir: str | Path) -> str:
    """What a grid keeps of the spec it ran (``GRID/experiment.yaml``): a header naming the
    spec's source file, absolute and relative to ``grid_dir``, then the spec's text without the
    header it had if it was itself a copy (a copy of a copy names the original)."""
    grid_dir = Path(grid_dir).resolve()
    folder = Path(os.path.relpath(spec.source.parent, grid_dir)).as_posix()
    header = (
        f"# copied from {spec.source} when the grid ran; relative paths in it are relative to "
        f"that file's folder ({folder} from here)\n"
    )
    first, _, rest = spec.text.partition("\n")
    return header + (rest if _COPY_HEADER.match(first) else spec.text)


def _copied_from(path: Path, text: str) -> Path | None:
    """The file a grid's copy of a spec was copied from (its header), or None for a spec."""
    match = _COPY_HEADER.match(text.partition("\n")[0])
    if match is None:
        return None
    source = Path(match["source"])
    if match["folder"]:
        return (path.resolve().parent / match["folder"] / source.name).resolve()
    return source


def load_spec(path: str | Path) -> ExperimentSpec:
    """Read and check a spec; raise :class:`SpecError` on the first problem."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise SpecError(f"{path}: cannot read the spec ({err.strerror or err})") from None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        values = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else 1
        problem = err.problem or err.context or "invalid YAML"
        raise SpecError(f"{path}:{line}: YAML syntax error: {problem}") from None
    except yaml.YAMLError as err:
        raise SpecError(f"{path}: YAML syntax error: {err}") from None
    finally:
        loader.dispose()
    at = _Located(path, node)
    if not isinstance(values, dict):
        raise at.error((), "expected a mapping of keys (name, task, methods, sizes, …)")
    return _check(path, text, values, at)


def _check(path: Path, text: str, values: dict, at: _Located) -> ExperimentSpec:
    source = _copied_from(path, text) or path.resolve()
    if not source.parent.is_dir():
        raise at.error(
            (),
            f"a grid's copy of {source}, whose folder is not here, so the copy's relative paths "
            "cannot be read: run the original spec",
        )
    base = source.parent
    for key in values:
        if key not in SPEC_KEYS:
            raise at.error((key,), f"unknown key; the keys are {', '.join(SPEC_KEYS)}")

    name = values.get("name", path.stem)
    if not isinstance(name, str) or not _NAME.match(name):
        raise at.error(("name",), f"{name!r} is not a usable name (letters, digits, '.', '_', '-')")
    task = values.get("task", "ner")
    try:
        TrainConfig(task=task)
    except ConfigError as err:
        raise at.config_error(("task",), err) from None

    model = values.get("model", "default")
    if not isinstance(model, str) or not model:
        raise at.error(("model",), f"{model!r} is not an encoder name or path")
    if (base / model).exists():  # a local encoder, written relative to the spec
        model = str((base / model).resolve())

    train = _check_train(values.get("train") or {}, task, base, at)
    data_dir = _check_data(values, task, base, at)
    train_path, available, carved = _count_training(task, data_dir, train, at)

    variants, items, not_installed = _check_methods(values.get("methods"), task, at)
    sizes = _int_list(values, "sizes", at, positive=True)
    for i, size in enumerate(sizes):
        if size > available:
            left = " outside the carved dev split" if carved else ""
            raise at.error(
                ("sizes", i) if isinstance(values["sizes"], list) else ("sizes",),
                f"{size} is more than the {available} training examples{left} in {train_path}",
            )
    variants = _check_variant_sizes(values["methods"], variants, items, sizes, at)
    seeds = _int_list(values, "seeds", at, positive=False)
    budget, budgets = _check_budget(values, sizes, at)
    lrs, lr_sizes, lr_per_size = _check_lrs(values, sizes, at)
    search_seeds, reuses = _check_search_seeds(values, seeds, at)
    contrasts = _check_contrasts(values, variants, at)

    from segmix.tasks import get_task

    spec = ExperimentSpec(
        path=path.resolve(),
        source=source,
        text=text,
        name=name,
        task=task,
        data_dir=data_dir,
        model=model,
        variants=variants,
        sizes=sizes,
        seeds=seeds,
        budget=budget,
        budgets=budgets,
        lrs=lrs,
        lr_sizes=lr_sizes,
        lr_per_size=lr_per_size,
        search_seeds=search_seeds,
        lr_search_reuses_seeds=reuses,
        train=train,
        metric=get_task(task).metric,
        train_examples=available,
        not_installed=not_installed,
        contrasts=contrasts,
    )
    # every planned cell must make a valid TrainConfig (combinations the checks above miss)
    every_seed = list(dict.fromkeys([*seeds, *search_seeds]))
    for variant, item in zip(variants, items, strict=True):
        at_sizes = [size for size in sizes if variant.runs_at(size)]
        for size in at_sizes:
            choices = [None] if variant.reference else spec.lrs_at(size)
            for seed, lr in itertools.product(every_seed, choices):
                try:
                    spec.config(variant, size, seed, lr)
                except ConfigError as err:
                    raise at.config_error(("methods", item), err) from None
    return spec


def _check_contrasts(
    values: dict, variants: list[Variant], at: _Located
) -> list[tuple[str, str]] | None:
    """``contrasts: [[smix, mixup], …]``: pairs of two different labels of the grid's
    augmentation rows (not the baseline: every row is already compared with it), each tested
    by the report as a paired difference A − B. ``None`` when the key is absent."""
    raw = values.get("contrasts")
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise at.error(
            ("contrasts",), "expected a list of pairs of method labels ([[smix, mixup]])"
        )
    labels = [v.label for v in variants if not _is_baseline(v)]
    out: list[tuple[str, str]] = []
    for i, pair in enumerate(raw):
        where = ("contrasts", i)
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(isinstance(x, str) for x in pair)
        ):
            raise at.error(where, f"{pair!r} is not a pair of method labels like [smix, mixup]")
        for label in pair:
            if label not in labels:
                raise at.error(
                    where,
                    f"{label!r} is not a method of this grid (other than none); its methods are "
                    f"{', '.join(labels)}",
                )
        if pair[0] == pair[1]:
            raise at.error(where, f"a contrast needs two different methods, got {pair[0]} twice")
        if tuple(pair) in out or (pair[1], pair[0]) in out:
            raise at.error(where, f"{pair[0]} against {pair[1]} is listed twice")
        a, b = (next(v for v in variants if v.label == label) for label in pair)
        if a.sizes is not None and b.sizes is not None and not set(a.sizes) & set(b.sizes):
            raise at.error(
                where,
                f"{pair[0]} (sizes {list(a.sizes)}) and {pair[1]} (sizes {list(b.sizes)}) never "
                "run at the same size, so the contrast could never be tested",
            )
        out.append((pair[0], pair[1]))
    return out


def _check_search_seeds(values: dict, seeds: list[int], at: _Located) -> tuple[list[int], bool]:
    """The lr search's seeds and whether they are reported seeds too (see the module docstring).

    Why disjoint by default: the lr a method gets is the one that scored best on the search
    runs' dev sets, so those runs are selected, not drawn; reported beside the other seeds they
    would tilt each method's mean (and its paired gain) toward the lr that happened to suit
    them. ``lr_search_reuses_seeds: true`` keeps the old policy for grids already run with it.
    """
    reuses = values.get("lr_search_reuses_seeds", False)
    if not isinstance(reuses, bool):
        raise at.error(
            ("lr_search_reuses_seeds",), f"{reuses!r} is not allowed; it must be true or false"
        )
    raw = values.get("lr_seeds", min(DEFAULT_LR_SEEDS, len(seeds)) if reuses else DEFAULT_LR_SEEDS)
    if isinstance(raw, list):
        named = _int_list(values, "lr_seeds", at, positive=False)
        shared = [s for s in named if s in seeds]
        if shared and not reuses:
            which = (
                f"seed {shared[0]} is"
                if len(shared) == 1
                else "seeds " + ", ".join(map(str, shared)) + " are"
            )
            raise at.error(
                ("lr_seeds",),
                f"{which} also in seeds, the reported comparison: the lr picked on those runs "
                "would be reported as if unselected; choose search seeds outside seeds (or give "
                f"a number of them: {SEARCH_SEED_BASE + 1}, {SEARCH_SEED_BASE + 2}, …), or set "
                "lr_search_reuses_seeds: true to accept that",
            )
        return named, reuses
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        raise at.error(
            ("lr_seeds",),
            f"{raw!r} is not allowed; it must be a whole number ≥ 1 (that many search seeds) "
            "or a list of seeds",
        )
    if reuses:
        if raw > len(seeds):
            raise at.error(("lr_seeds",), f"{raw} is more than the {len(seeds)} seeds of the grid")
        return seeds[:raw], True
    drawn: list[int] = []
    candidate = SEARCH_SEED_BASE
    while len(drawn) < raw:
        candidate += 1
        if candidate not in seeds:
            drawn.append(candidate)
    return drawn, False


def _check_train(train: Any, task: str, base: Path, at: _Located) -> dict[str, Any]:
    """The TrainConfig fields every cell shares, each checked on its own line."""
    if not isinstance(train, dict):
        raise at.error(("train",), "expected a mapping of TrainConfig fields (batch_size: 16, …)")
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    out: dict[str, Any] = {}
    for key, value in train.items():
        if key in GRID_FIELDS:
            raise at.error(("train", key), f"set by the grid; use {GRID_FIELDS[key]}")
        if key not in names:
            raise at.error(("train", key), "unknown option; the keys are TrainConfig's field names")
        if key in PATH_FIELDS and isinstance(value, str) and value:
            value = str((base / value).resolve())
        try:
            TrainConfig(task=task, **{key: value})
        except ConfigError as err:
            raise at.config_error(("train", key), err) from None
        if key in PATH_FIELDS and value and not _is_data(Path(value)):
            raise at.error(("train", key), f"no such file: {value}")
        out[key] = value
    return out


def _is_data(path: Path) -> bool:
    """A data file, or a folder a Hugging Face dataset was saved to."""
    from segmix.tasks.tagging.hf import is_hf_dataset_dir

    return path.is_file() or is_hf_dataset_dir(path)


def _check_data(values: dict, task: str, base: Path, at: _Located) -> str | None:
    data = values.get("data")
    if data is None:
        if (values.get("train") or {}).get("train_file"):
            return None  # the user's own files, named under train:
        data = TrainConfig(task=task).data_root  # the task's default data, from here
        where = Path(data).resolve()
    else:
        if not isinstance(data, str) or not data:
            raise at.error(("data",), f"{data!r} is not a folder")
        where = (base / data).resolve()
    if not where.is_dir():
        raise at.error(("data",), f"no such folder: {where}")
    return str(where)


def _count_training(
    task: str, data_dir: str | None, train: dict, at: _Located
) -> tuple[Path, int, bool]:
    """(training file, examples a subset can be drawn from, whether dev is carved from it)."""
    from segmix.run import carve_dev
    from segmix.tasks import get_task

    config = TrainConfig(task=task, data_dir=data_dir, **train)
    try:
        train_path, dev_path, _ = config.resolved_files()
    except FileNotFoundError as err:
        given = [k for k in PATH_FIELDS if k in train and option_name(k) in str(err)]
        where = ("train", given[0]) if given else ("data",)
        raise at.config_error(where, err) from None
    try:
        examples = get_task(task).read(train_path, scheme=config.scheme)
    except (ValueError, OSError) as err:
        raise at.error(("data",) if data_dir else ("train", "train_file"), str(err)) from None
    if dev_path is not None:
        return train_path, len(examples), False
    pool, _ = carve_dev(list(range(len(examples))), config.dev_fraction, 1)
    return train_path, len(pool), True


def _check_methods(
    methods: Any, task: str, at: _Located
) -> tuple[list[Variant], list[int], dict[str, SpecError]]:
    """Every method item expanded into its variants (the product of its options' lists), the
    index of the item each variant came from, and the reference rows not installed here."""
    if methods is None:
        raise at.error(("methods",), "required: a list of --augment names (none, mmix, …)")
    if not isinstance(methods, list) or not methods:
        raise at.error(("methods",), "expected a non-empty list of methods")
    variants: list[Variant] = []
    labels: dict[str, int] = {}
    not_installed: dict[str, SpecError] = {}
    for i, item in enumerate(methods):
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise at.error(
                ("methods", i), "expected a method name or a mapping with name: and options"
            )
        method = item["name"]
        if is_reference(method):
            variants.append(_reference_variant(item, task, at, i, labels, not_installed))
            continue
        try:
            config = TrainConfig(task=task, augment=method)
        except ConfigError as err:
            where = ("methods", i, "name") if len(item) > 1 else ("methods", i)
            raise at.config_error(where, err) from None
        accepted = set(config.augmenter_options()) - {"model"}
        if method != "none":
            accepted |= set(DATASET_OPTIONS)
        accepted |= set(TRAINING_OPTIONS)
        label = item.get("label")
        grid: dict[str, list] = {}
        for key, value in item.items():
            if key in ("name", "label", "sizes"):  # sizes: checked once the spec's are known
                continue
            if key not in {f.name for f in dataclasses.fields(TrainConfig)}:
                raise at.error(("methods", i, key), "unknown option")
            if key not in accepted:
                uses = ", ".join(sorted(accepted)) or "no options"
                raise at.error(
                    ("methods", i, key), f"{method} does not use this option (it takes {uses})"
                )
            choices = value if isinstance(value, list) else [value]
            if not choices:
                raise at.error(("methods", i, key), "an empty list of values")
            for j, choice in enumerate(choices):
                try:
                    TrainConfig(task=task, augment=method, **{key: choice})
                except ConfigError as err:
                    where = (
                        ("methods", i, key, j) if isinstance(value, list) else ("methods", i, key)
                    )
                    raise at.config_error(where, err) from None
            grid[key] = choices
        combos = [
            dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())
        ]
        if label is not None and (not isinstance(label, str) or not label or len(combos) > 1):
            raise at.error(
                ("methods", i, "label"),
                "a label names one variant: give it only where every option has one value",
            )
        for options in combos:
            name = label or variant_label(method, options)
            if name in labels:
                raise at.error(
                    ("methods", i),
                    f"the variant {name!r} is already in the grid (methods[{labels[name]}])",
                )
            labels[name] = i
            variants.append(Variant(name, method, options))
    return variants, [labels[v.label] for v in variants], not_installed


def _check_variant_sizes(
    methods: list, variants: list[Variant], items: list[int], sizes: list[int], at: _Located
) -> list[Variant]:
    """``sizes:`` on a method item: the spec's sizes its variants run at (a non-empty list of
    them, no repeats); the baseline runs at every size. Returns the variants with it set."""
    out = []
    for variant, i in zip(variants, items, strict=True):
        item = methods[i]
        raw = item.get("sizes") if isinstance(item, dict) else None
        if raw is None:
            out.append(variant)
            continue
        if _is_baseline(variant):
            raise at.error(
                ("methods", i, "sizes"),
                "the baseline runs at every size: every gain is paired against it",
            )
        kept = _listed_sizes(raw, sizes, at, ("methods", i, "sizes"), "a method runs at those")
        out.append(dataclasses.replace(variant, sizes=kept))
    return out


def _listed_sizes(
    raw: Any, sizes: list[int], at: _Located, where: tuple, what: str
) -> tuple[int, ...] | None:
    """A ``sizes:`` key (a method's, or an lr candidate's): one of the spec's sizes or a
    non-empty list of them, no repeats. Returns them in the spec's order, None where every
    size is listed."""
    listed = raw if isinstance(raw, list) else [raw]
    if not listed:
        raise at.error(where, "expected a non-empty list of the spec's sizes")
    for j, size in enumerate(listed):
        here = (*where, j) if isinstance(raw, list) else where
        if size not in sizes or isinstance(size, bool):
            raise at.error(here, f"{size!r} is not one of the sizes {sizes}: {what} only")
        if size in listed[:j]:
            raise at.error(here, f"{size} is listed twice")
    kept = tuple(s for s in sizes if s in listed)
    return None if len(kept) == len(sizes) else kept


def _reference_variant(
    item: dict,
    task: str,
    at: _Located,
    i: int,
    labels: dict[str, int],
    not_installed: dict[str, SpecError],
) -> Variant:
    """A reference system's row: its task and no options; a missing library is noted in
    ``not_installed`` (see :meth:`ExperimentSpec.require_installed`)."""
    from segmix.reference import ReferenceUnavailable, get_reference, reference_versions

    ref = get_reference(item["name"])
    where = ("methods", i, "name") if len(item) > 1 else ("methods", i)
    if task not in ref.tasks:
        tasks = " or ".join(f"{TASK_NAMES[t]} (task: {t})" for t in ref.tasks)
        raise at.error(
            where,
            f"{ref.name} is a reference for {tasks} only, not for {TASK_NAMES[task]} "
            f"(task: {task})",
        )
    for key in item:
        if key not in ("name", "label", "sizes"):
            raise at.error(
                ("methods", i, key),
                f"{ref.name} takes no options: it is a reference row ({ref.title}), trained with "
                "its own settings on the grid's subsets and budget",
            )
    label = item.get("label", ref.name)
    if not isinstance(label, str) or not label or label == "none":
        why = "the baseline's label" if label == "none" else "not a usable label"
        raise at.error(("methods", i, "label"), f"{label!r} is {why}")
    if label in labels:
        raise at.error(
            ("methods", i),
            f"the variant {label!r} is already in the grid (methods[{labels[label]}])",
        )
    try:
        reference_versions(ref.name)
    except ReferenceUnavailable as err:
        not_installed[label] = at.error(where, f"{err}, or leave {ref.name} out of methods")
    labels[label] = i
    return Variant(label, ref.name)


def _int_list(values: dict, key: str, at: _Located, *, positive: bool) -> list[int]:
    raw = values.get(key)
    if raw is None:
        raise at.error((key,), "required: a list of whole numbers")
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise at.error((key,), "expected a non-empty list of whole numbers")
    for i, value in enumerate(items):
        where = (key, i) if isinstance(raw, list) else (key,)
        if isinstance(value, bool) or not isinstance(value, int) or (positive and value < 1):
            need = "a whole number ≥ 1" if positive else "a whole number"
            raise at.error(where, f"{value!r} is not allowed; it must be {need}")
        if value in items[:i]:
            raise at.error(where, f"{value} is listed twice")
    return list(items)


def _per_size(raw: dict, sizes: list[int], at: _Located, key: str) -> dict[int, Any]:
    """A ``{SIZE: VALUE}`` mapping (``steps:``, ``lr:``) in the spec's size order: every size
    has a value and no other key is a size of the spec."""
    for size in raw:
        if size not in sizes:
            raise at.error((key, size), f"{size} is not one of the sizes {sizes}")
    missing = [s for s in sizes if s not in raw]
    if missing:
        raise at.error((key,), f"no {key} for size {', '.join(map(str, missing))}")
    return {s: raw[s] for s in sizes}


def _check_budget(values: dict, sizes: list[int], at: _Located) -> tuple[str, dict[int, int]]:
    """``budget: steps`` (default; equal optimizer steps per size) or ``budget: epochs``."""
    budget = values.get("budget", "steps")
    if budget not in ("steps", "epochs"):
        raise at.error(("budget",), f"{budget!r} is not allowed; choose steps or epochs")
    other = "epochs" if budget == "steps" else "steps"
    if other in values:
        raise at.error((other,), f"not used with budget: {budget}; give {budget}: instead")
    raw = values.get(budget)
    if raw is None:
        raise at.error((budget,), f"required with budget: {budget} (one number, or one per size)")
    field_name = "max_steps" if budget == "steps" else "epochs"
    if isinstance(raw, dict):
        per_size = _per_size(raw, sizes, at, budget)
    else:
        per_size = dict.fromkeys(sizes, raw)
    for size, value in per_size.items():
        where = (budget, size) if isinstance(raw, dict) else (budget,)
        try:
            TrainConfig(**{field_name: value})
        except ConfigError as err:
            raise at.config_error(where, err) from None
    return budget, per_size


def _check_lrs(
    values: dict, sizes: list[int], at: _Located
) -> tuple[list[float], dict[float, tuple[int, ...]], bool]:
    """``lr:``: one rate, one rate per size (``{50: 2.0e-4, 100: 1.0e-4}``), or the candidates
    dev chooses from. A candidate may be searched at some sizes only (``{lr: 4.0e-4, sizes:
    [50, 100]}``, decision 54): where most rows chose the largest candidate at the small sizes,
    the range is extended there without searching a rate the larger sizes never choose.
    Returns the rates, for those limited to some sizes their sizes, and whether the rates are
    one per size (nothing searched)."""
    raw = values.get("lr", TrainConfig.__dataclass_fields__["lr"].default)
    if isinstance(raw, dict) and "lr" not in raw:
        return (*_check_lr_per_size(raw, sizes, at), True)
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise at.error(("lr",), "expected one learning rate or a list of candidates")
    out: list[float] = []
    limited: dict[float, tuple[int, ...]] = {}
    for i, item in enumerate(items):
        where = ("lr", i) if isinstance(raw, list) else ("lr",)
        value = item
        if isinstance(item, dict):
            unknown = [k for k in item if k not in ("lr", "sizes")]
            if unknown or "lr" not in item or "sizes" not in item:
                raise at.error(
                    where, "a candidate limited to some sizes is {lr: RATE, sizes: [SIZE, ...]}"
                )
            value = item["lr"]
        if isinstance(value, str):  # YAML 1.1 reads 1e-4 (no dot) as a string
            with contextlib.suppress(ValueError):
                value = float(value)
        try:
            out.append(TrainConfig(lr=value).lr)
        except ConfigError as err:
            raise at.config_error(
                (*where, "lr") if isinstance(item, dict) else where, err
            ) from None
        if out[-1] in out[:-1]:
            raise at.error(where, f"{value} is listed twice")
        if isinstance(item, dict):
            kept = _listed_sizes(
                item["sizes"], sizes, at, (*where, "sizes"), "a candidate is searched at those"
            )
            if kept is not None:
                limited[out[-1]] = kept
    return sorted(out), limited, False


def _check_lr_per_size(
    raw: dict, sizes: list[int], at: _Located
) -> tuple[list[float], dict[float, tuple[int, ...]]]:
    """``lr: {SIZE: RATE, ...}``, checked as ``steps:`` per size is: every size has one rate
    and no other key is a size of the spec. Returns the rates and each rate's sizes."""
    by_rate: dict[float, list[int]] = {}
    for size, value in _per_size(raw, sizes, at, "lr").items():
        if isinstance(value, str):  # YAML 1.1 reads 1e-4 (no dot) as a string
            with contextlib.suppress(ValueError):
                value = float(value)
        try:
            rate = TrainConfig(lr=value).lr
        except ConfigError as err:
            raise at.config_error(("lr", size), err) from None
        by_rate.setdefault(rate, []).append(size)
    return sorted(by_rate), {rate: tuple(at_sizes) for rate, at_sizes in by_rate.items()}
