"""SegMix for relations: RMix (both arguments) and MMix on a single argument.

RMix mixes the head and the tail mention of one example with the head and tail of another, with
one λ for both and for the relation label: the soft target is ``λ·r_a + (1 − λ)·r_b``. The
markers around the arguments are words outside the mixed spans, so they stay unmixed and the
classifier's anchors (the start markers) move with the text.

Relations have no per-word labels, so ``pad_label`` has nothing to act on here; pad words of the
shorter argument are filled with the tokenizer's pad id, as in tagging.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from segmix.augment.segments import Mixer
from segmix.encoding import SubwordCache
from segmix.mixing import MixedExample, Segment, mix_segments, pair_widths, word_pieces
from segmix.re_model import EncodedRelation


def argument_segment(ex: EncodedRelation, span: tuple[int, int]) -> Segment:
    pieces = word_pieces(ex.ids, ex.word_starts, ex.word_lens, span[0], span[1])
    return Segment(
        pieces=pieces,
        labels=np.zeros(len(pieces), dtype=np.int64),
        inside=0,
        words=ex.words[span[0] : span[1]],
    )


@dataclass(frozen=True)
class RelationMixParams:
    """One relation mix: which arguments of ``source`` are mixed with which of ``partner``."""

    source: int
    partner: int
    arguments: tuple[str, ...]  # ("head", "tail") for RMix; one of them for MMix
    partner_arguments: tuple[str, ...]
    lam: float


class RelationMix(Mixer):
    """RMix: an example's head and tail mixed with those of another example.

    Args:
        alpha, lambda_max: as for every SegMix variant.
        same_relation: draw partners with the same relation only (default off).
    """

    name = "rmix"

    def __init__(
        self,
        *,
        alpha: float = 8.0,
        lambda_max: bool = False,
        pad_label: str = "inside",
        max_tries: int = 10,
        same_relation: bool = False,
    ):
        super().__init__(alpha=alpha, lambda_max=lambda_max, max_tries=max_tries)
        self.pad_label = pad_label  # accepted for a uniform interface; no word labels here
        self.same_relation = bool(same_relation)

    def fit(
        self, examples: Sequence[EncodedRelation], labels: Sequence[str], cache: SubwordCache
    ) -> RelationMix:
        """The pool of argument pairs is the training set itself (one pair per example)."""
        self.examples = examples
        self.labels = list(labels)
        self.pad_id = cache.pad_id
        self.max_length = cache.max_length
        self._eligible = np.arange(len(examples), dtype=np.int64)
        # each example's two argument segments, cut once (a mix only looks them up)
        self._args = [
            {"head": argument_segment(ex, ex.head), "tail": argument_segment(ex, ex.tail)}
            for ex in examples
        ]
        relations = np.asarray([ex.label for ex in examples], dtype=np.int64)
        self._by_relation = {int(r): np.flatnonzero(relations == r) for r in np.unique(relations)}
        return self

    def _arguments(self, rng: np.random.Generator) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return ("head", "tail"), ("head", "tail")

    def sample_params(self, rng: np.random.Generator, source: int | None = None):
        if source is None:
            source = int(rng.integers(len(self.examples)))
        pool = (
            self._by_relation[self.examples[source].label] if self.same_relation else self._eligible
        )
        for _ in range(self.max_tries):
            partner = int(pool[rng.integers(len(pool))])
            own, theirs = self._arguments(rng)
            params = RelationMixParams(source, partner, own, theirs, self.draw_lambda(rng))
            if self._length(params) <= self.max_length:
                return params
        return None

    def _length(self, params: RelationMixParams) -> int:
        total = len(self.examples[params.source].ids)
        for own, theirs in zip(params.arguments, params.partner_arguments, strict=True):
            sa, sb = self._args[params.source][own], self._args[params.partner][theirs]
            lens_a = [len(p) for p in sa.pieces]
            total += sum(pair_widths(lens_a, [len(p) for p in sb.pieces])) - sum(lens_a)
        return total

    def apply(self, params: RelationMixParams) -> MixedExample:
        a, b = self.examples[params.source], self.examples[params.partner]
        spans = [getattr(a, arg) for arg in params.arguments]
        own = [self._args[params.source][arg] for arg in params.arguments]
        partners = [self._args[params.partner][arg] for arg in params.partner_arguments]
        return mix_segments(
            a.ids,
            np.asarray([a.label]),
            a.word_starts,
            a.word_lens,
            spans,
            own,
            partners,
            [params.lam] * len(spans),
            pad_id=self.pad_id,
            label_per_position=False,
            sequence_labels=(a.label, b.label),
            anchors=a.anchors,
            source=params.source,
        )

    def describe(self) -> dict:
        return {**super().describe(), "same_relation": self.same_relation}


class ArgumentMix(RelationMix):
    """MMix for relations: one argument (head or tail, at random) mixed with an argument of
    another example (its head or tail, at random); the relation labels are interpolated with
    the same λ, as for RMix.
    """

    name = "mmix"

    def _arguments(self, rng: np.random.Generator) -> tuple[tuple[str, ...], tuple[str, ...]]:
        own = ("head", "tail")[int(rng.integers(2))]
        theirs = ("head", "tail")[int(rng.integers(2))]
        return (own,), (theirs,)
