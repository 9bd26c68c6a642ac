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

    name: ClassVar[str]
    #: the metric model selection maximises, as reported by :meth:`score`
    metric: ClassVar[str] = "f1"
    #: whether some model parameters get no gradient (DDP must then look for them every step)
    unused_parameters: ClassVar[bool] = False

    @abstractmethod
    def read(self, path: Path, *, scheme: str = "auto") -> list[Any]:
        """Read and validate one file (a clear error with file and line on bad input)."""

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
    def augmenter(self, name: str, options: dict) -> Any | None:
        """An unfitted augmenter of this task's registry (``None`` for ``none``)."""

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

    def subset_info(self, examples: Sequence[Any]) -> list:
        """Ids recorded in ``subset.json``."""
        return [ex.id for ex in examples]
