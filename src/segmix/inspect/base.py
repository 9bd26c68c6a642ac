"""What ``segmix inspect`` needs to know of a task, asked of one object instead of its name.

Each task names its :class:`Inspection` in :attr:`segmix.tasks.Task.inspection` (``"module:Class"``,
imported on demand by :func:`segmix.tasks.inspection_for`), so that adding a task touches no file
of this package; a task that names none is refused by ``segmix inspect`` in one line.

The algorithms that tasks of one kind share stay in :mod:`segmix.inspect`, one family per kind of
item a dev/test example is counted in: *mentions* (entity tagging: mention pools, mention length
and seen-ness), *arguments* (relations: argument pools, example groups by seen arguments) and
*words* (word labels such as part-of-speech tags: every word an item). An inspection says which
family its task uses and gives the words the report is written in; it holds no figures itself.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class PairedPredictions:
    """A run's and its paired baseline's test predictions, as the gain breakdowns read them.

    ``pool`` is what the run trained and was tested on (:class:`segmix.inspect.gains._Pool`);
    ``run_stats``/``base_stats`` the task's per-example counts
    (:meth:`segmix.tasks.Task.example_stats`), whose headline equals each run's test score.
    """

    pool: Any
    gold: list
    run_pred: list
    base_pred: list
    run_stats: Any
    base_stats: Any
    resamples: int
    seed: int


class Inspection(ABC):
    """One task's side of ``segmix inspect``: its pool-less methods, coverage, gain groups, words.

    Built around the task it describes (:attr:`task`), which gives the rest: its ``name``, its
    ``unit`` ("sentences", "examples": what a training-set size counts), ``gold`` and
    ``example_stats``.
    """

    #: the task's methods that rewrite words or mentions by rule, with hard labels: they draw no
    #: partner from a pool, so ``segmix inspect`` refuses them in one line
    rule_methods: ClassVar[tuple[str, ...]] = ()
    #: whether a mix's word labels are IOB2 spans whose well-formedness the report checks
    checks_spans: ClassVar[bool] = False
    #: the report's line on a mix's labels where there is no span sequence to check
    labels_note: ClassVar[str] = "- **Labels**: interpolated with λ; no span sequence to check."
    #: what one test item of the gain breakdown is ("mention", "example", "word"): what its
    #: tables count and what "per item" means in its sentences
    item: ClassVar[str]
    #: what the per-type columns of the grid's gain report are ("entity type", "tag",
    #: "relation"): the groups whose coverage is set against their gain
    group: ClassVar[str]
    #: the headline score's name where the gain readings and errors name it ("F1")
    score_name: ClassVar[str] = "F1"
    #: the gain breakdowns, in report order: key -> (section title, the group column's head)
    breakdown_titles: ClassVar[dict[str, tuple[str, str]]]
    #: the gain breakdowns: key -> how an item is put in a group, in words, under its table
    breakdown_rules: ClassVar[dict[str, str]]
    #: where "seen" groups items (mentions, words): group -> the phrase that places an item
    #: against the training set ("seen as a mention in"); ``None`` where it groups whole
    #: examples (relations: each group scored with the run's metric on its own examples)
    seen_phrases: ClassVar[dict[str, str] | None] = None
    #: what a type's coverage is, in the grid report's words ("the share of its test mentions
    #: whose words occur as a mention in the cell's training subset")
    grid_coverage: ClassVar[str]

    def __init__(self, task: Any) -> None:
        self.task = task

    # ---------------------------------------------------------------- the metric

    @abstractmethod
    def metric_words(self, metric: str) -> str:
        """The headline metric in the gain report's words; ``metric`` is the ``metric`` key of
        the run's test scores (it tells SemEval's official scorer from the others)."""

    # ---------------------------------------------------------------- before training

    @abstractmethod
    def coverage(self, prep: Any, method: str, splits: dict[str, Sequence]) -> tuple[dict, Any]:
        """The coverage block of the report and the pool it was computed from
        (:class:`segmix.inspect.coverage.Pool`); ``splits`` maps ``dev``/``test`` to raw
        examples as read."""

    @abstractmethod
    def coverage_markdown(self, report: dict) -> list[str]:
        """The coverage section of ``inspect.md`` after its heading, from the report alone."""

    @abstractmethod
    def coverage_summary(self, coverage: dict) -> list[str]:
        """The coverage lines the CLI prints."""

    @abstractmethod
    def length_rows(self, coverage: dict) -> dict[str, dict]:
        """Per group, its pool segments' length histogram in words (the length plot)."""

    @abstractmethod
    def coverage_bars(self, coverage: dict) -> tuple[dict, list[int], str, str]:
        """The coverage plot: ``(rows per group, pool size per group, the key of a row's dev or
        test figure drawn as a marker, that figure in words)``."""

    # ---------------------------------------------------------------- after training

    @abstractmethod
    def training_forms(
        self, train: Sequence
    ) -> tuple[frozenset[tuple[str, ...]], frozenset[frozenset[tuple[str, ...]]]]:
        """What "seen in training" compares against: the word sequences of the training
        subset's items, and (relations) the argument pairs of one example."""

    @abstractmethod
    def breakdowns(self, paired: PairedPredictions) -> tuple[dict[str, list[dict]], int]:
        """Every gain breakdown's rows (keys of :attr:`breakdown_titles`), and the number of
        test items the headline counts."""

    @abstractmethod
    def type_coverage(self, pool: Any) -> dict[str, dict[str, float | int]]:
        """Per gold type: test items, how many the training subset covers, the share."""
