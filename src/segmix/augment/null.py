"""``none``: the augmenter protocol with nothing to draw, so that a run, ``segmix augment`` and
the engine treat the baseline like every method instead of checking for a missing augmenter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from segmix.mixing import MixedExample


class NoAugmentation:
    """No mixes: an epoch has no mix slots (:meth:`mixes_per_epoch` is 0), so training sees the
    originals alone, exactly as without an augmenter. :meth:`describe` is ``None``, what a
    baseline run's ``config.json`` has always recorded."""

    name: ClassVar[str] = "none"
    n_eligible: ClassVar[int] = 0

    def fit(self, examples: Sequence[Any], labels: Sequence[str], cache: Any) -> NoAugmentation:
        return self

    def mixes_per_epoch(self, rate: float, n_examples: int) -> int:
        return 0

    def sample_params(self, rng: np.random.Generator, source: int | None = None) -> None:
        return None

    def apply(self, params: Any) -> MixedExample:
        raise ValueError("--augment none draws no mixes: there is nothing to apply")

    def generate(self, n: int, rng: np.random.Generator) -> list[MixedExample]:
        return []

    def describe(self) -> None:
        return None
