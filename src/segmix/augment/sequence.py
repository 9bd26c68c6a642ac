"""Sequence-level interpolation baselines, in the same harness as SegMix.

- ``mixup``: whole-sequence mixup — two sentences aligned position by position (word by word,
  the shorter padded at its end), one λ for every position, labels mixed with the same λ.
- ``seqmix``: SeqMix's sub-sequence mixup (Zhang, Yu & Zhang, EMNLP 2020) — windows of equal
  length (``window`` words) that start on an entity tag, mixed with one λ.

Both are segment mixes whose "segment" is a whole sentence or a fixed-length window, so they
reuse SegMix's sampler, alignment, length guard and the one mixed-example structure: a
comparison with SegMix differs only in *what* is mixed. SeqMix's discriminator (which filters
implausible mixed label sequences with a trained scorer) is not reproduced: every drawn window
pair is kept, as in its "random" ablation.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from segmix.augment.pools import segment_of
from segmix.augment.segments import PartnerPool, SegMixAugmenter
from segmix.encoding import SubwordCache, TaggedExample
from segmix.mixing import Segment


class _WholePool:
    """Partner segments with one shared group: any partner for any candidate."""

    segments: list[Segment]

    def partner_pool(self, n_candidates: int) -> PartnerPool:
        n = len(self.segments)
        return PartnerPool(
            self.segments,
            np.arange(n),
            np.zeros(n, np.int64),
            np.zeros(n_candidates, np.int64),
        )


class SequenceMixup(SegMixAugmenter):
    """Whole-sequence mixup: a sentence mixed position by position with another sentence.

    Positions are aligned word by word (labels sit on first sub-words); the shorter sentence's
    missing words are pad words labelled ``O`` (they continue no mention), whatever
    ``pad_label`` says. ``k`` has no effect: the whole sentence is the one segment.
    """

    name = "mixup"

    @property
    def mix_pad_label(self) -> str:
        return "o"

    def _build_pools(self, examples: Sequence[TaggedExample], cache: SubwordCache) -> None:
        self._pool = _WholePool()
        self._pool.segments = [
            segment_of(ex, 0, len(ex.words), self.space) for ex in examples if len(ex.words)
        ]

    def candidate_spans(self, example: TaggedExample) -> list[tuple[int, int]]:
        return [(0, len(example.words))] if len(example.words) else []

    def partner_pool(self) -> PartnerPool:
        return self._pool.partner_pool(len(self._cand_ex))


class SubsequenceMix(SegMixAugmenter):
    """SeqMix (sub-sequence): a ``window``-word span starting on an entity mixed with another.

    Candidate windows start on the first word of a mention and lie inside the sentence; windows
    of one sentence do not overlap (each is taken greedily from the left). Partners are drawn
    uniformly over every candidate window of the training set; both sides have ``window``
    words, so no pad words arise.

    Args:
        window: words per mixed window (SeqMix's sub-sequence length).
    """

    name = "seqmix"

    def __init__(self, *, window: int = 5, **kwargs) -> None:
        super().__init__(**kwargs)
        if window < 1:
            raise ValueError(f"window must be at least 1, got {window}")
        self.window = int(window)

    def _windows(self, example: TaggedExample) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        free_from = 0
        for start, _end in example.mentions:
            if start >= free_from and start + self.window <= len(example.words):
                spans.append((start, start + self.window))
                free_from = start + self.window
        return spans

    def _build_pools(self, examples: Sequence[TaggedExample], cache: SubwordCache) -> None:
        self._pool = _WholePool()
        self._pool.segments = [
            segment_of(ex, s, e, self.space) for ex in examples for s, e in self._windows(ex)
        ]

    def candidate_spans(self, example: TaggedExample) -> list[tuple[int, int]]:
        return self._windows(example)

    def partner_pool(self) -> PartnerPool:
        return self._pool.partner_pool(len(self._cand_ex))

    def describe(self) -> dict:
        return {**super().describe(), "window": self.window}
