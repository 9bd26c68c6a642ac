"""The task interface: the few things tagging and relation classification do differently."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar


class Task(ABC):
    """One task's reading, encoding, model, augmenters, decoding, scoring and writing.

    Raw examples are whatever the task's reader returns (they carry ``id`` and, where read from
    a file, ``line``); encoded examples are what :class:`segmix.engine.SegMixDataset` and
    :class:`segmix.engine.EvalSet` accept.
    """

    #: the ``--task`` value
    name: ClassVar[str]
    #: the task in words, for messages ("applies to tagging (--task ner) only")
    title: ClassVar[str]
    #: the metric model selection maximises, a key of :meth:`score`'s result
    metric: ClassVar[str] = "f1"
    #: what a difference of scores is counted in, in reports ("F1 points")
    score_unit: ClassVar[str] = "points"
    #: what a training-set size counts ("sentences", "examples")
    unit: ClassVar[str] = "sentences"
    #: the data files' suffixes, looked up in this order for DATA/train, DATA/dev, DATA/test
    suffixes: ClassVar[tuple[str, ...]]
    #: the data folder used when neither --data nor --train is given
    default_data: ClassVar[str]
    #: the task's own options (:class:`segmix.config.TrainConfig` fields of
    #: :data:`segmix.config.TASK_OPTIONS`); every other task refuses a non-default value
    options: ClassVar[frozenset[str]] = frozenset()
    #: the ``--augment`` methods: name -> "module:Class" (``none`` is every task's)
    methods: ClassVar[dict[str, str]]
    #: methods of other tasks this one cannot run, each with the one-line reason
    refused: ClassVar[dict[str, str]] = {}
    #: whether some model parameters get no gradient (DDP must then look for them every step)
    unused_parameters: ClassVar[bool] = False
    #: what ``segmix inspect`` needs to know of the task: "module:Class" of a
    #: :class:`segmix.inspect.base.Inspection` (its rule methods, coverage, gain groups and the
    #: words its report uses), imported on demand by :func:`segmix.tasks.inspection_for`;
    #: ``None``: ``segmix inspect`` refuses the task in one line
    inspection: ClassVar[str | None] = None

    def reader_options(self, config: Any) -> dict:
        """The keyword arguments :meth:`read` takes from a run's config (a tag scheme, a
        column); none by default."""
        return {}

    @abstractmethod
    def read(self, path: Path, **options: Any) -> list[Any]:
        """Read and validate one file (a clear error with file and line on bad input)."""

    def metric_title(self, metric: str) -> str:
        """The headline metric in words, for reports."""
        return metric

    def score_columns(self, scores: dict) -> list[tuple[str, float]]:
        """The scores ``segmix train`` prints for a split, by column."""
        return [(self.metric, float(scores[self.metric]))]

    def headline(self, scores: dict) -> str:
        """One line of scores for ``segmix evaluate``."""
        return f"{self.metric} {scores[self.metric]:.4f}"

    @abstractmethod
    def example_stats(self, gold: Sequence[Any], pred: Sequence[Any], test_scores: dict) -> Any:
        """Per-example counts the grid report's bootstrap resamples
        (:class:`segmix.experiment.stats.SufficientStats`); ``test_scores`` is the cell's
        :meth:`score` on test (it says which metric the label set uses)."""

    @abstractmethod
    def gold_of_file(self, path: Path, config: dict) -> list[tuple[Any, Any]]:
        """``(id, gold)`` of every example of a file, read as the run with ``config`` read it."""

    @abstractmethod
    def labels(self, train: Sequence[Any]) -> list[str]:
        """The model's label inventory, from the full training file (so subsets share it)."""

    @abstractmethod
    def check(self, examples: Sequence[Any], labels: Sequence[str], *, source: str) -> None:
        """Refuse examples whose labels the model cannot know (dev/test), with file and line."""

    def prepare_tokenizer(  # noqa: B027 - a hook: most tasks need nothing here
        self, tokenizer: Any, cache: Any, train: Sequence[Any]
    ) -> None:
        """Add what the task needs to the tokenizer (relation markers); nothing by default."""

    @abstractmethod
    def encode(
        self,
        examples: Sequence[Any],
        cache: Any,
        labels: Sequence[str],
        *,
        source: str,
        strict: bool = True,
    ) -> list[Any]:
        """Encode once into sub-word ids and label ids (over-long examples refused).

        ``strict=False`` (dev and test) maps a label the model cannot know to its first label
        instead of refusing it: only the evaluation loss reads those ids.
        """

    @abstractmethod
    def augmenter(self, name: str, options: dict) -> Any:
        """An unfitted augmenter of this task's methods (``none``: one that draws nothing)."""

    @abstractmethod
    def build_model(self, model: str, labels: Sequence[str], tokenizer: Any) -> Any:
        """A fresh model on the pretrained encoder, its labels in its config."""

    @abstractmethod
    def decode(self, encoded: Sequence[Any], predictions: Sequence[Any], labels: Sequence[str]):
        """Arg-max rows (in the examples' order) back to label strings per example."""

    @abstractmethod
    def gold(self, examples: Sequence[Any]) -> list[Any]:
        """The gold labels of raw examples, in the form :meth:`decode` returns."""

    @abstractmethod
    def score(self, gold: Sequence[Any], pred: Sequence[Any], labels: Sequence[str]) -> dict:
        """The task's official scores; the selection metric under :attr:`metric`."""

    @abstractmethod
    def write_predictions(
        self, folder: Path, split: str, examples: Sequence[Any], pred: Sequence[Any]
    ) -> None:
        """``folder/<split>.jsonl`` (and the task's official answer format, if any)."""

    @abstractmethod
    def render_mix(self, encoded: Any, mix: Any, labels: Sequence[str]) -> str:
        """A mixed example for people to read (``segmix augment``)."""

    @abstractmethod
    def mix_record(self, encoded: Any, mix: Any, labels: Sequence[str]) -> dict:
        """A mixed example as a self-describing JSON record (``segmix augment --export``)."""

    @abstractmethod
    def evaluate_saved(
        self, model_dir: str, data_file: str, *, batch_size: int, **read_options: Any
    ) -> dict:
        """Scores of a saved model on a labelled file (``segmix evaluate``)."""

    @abstractmethod
    def predict_saved(
        self,
        model_dir: str,
        target: str,
        *,
        input_file: str | None = None,
        words: Sequence[str] | None = None,
        fmt: str | None = None,
        batch_size: int = 64,
        **options: Any,
    ) -> None:
        """A saved model's predictions for a file (or one pre-split sentence) into ``target``
        (``segmix predict``)."""

    def subset_info(self, examples: Sequence[Any]) -> list:
        """Ids recorded in ``subset.json``."""
        return [ex.id for ex in examples]
