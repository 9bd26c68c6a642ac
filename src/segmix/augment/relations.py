"""SegMix for relations: RMix (both arguments) and MMix on a single argument.

RMix mixes the head and the tail mention of one example with the head and tail of another, with
one λ for both and for the relation label: the soft target is ``λ·r_a + (1 − λ)·r_b``. MMix mixes
one argument, head or tail at random, with the *same* argument of another example, so that the
partner's directed relation still names the role its argument plays. The markers around the
arguments are words outside the mixed spans, so they stay unmixed and the classifier's anchors
(the start markers) move with the text. An example is never its own partner.

Both draw a whole batch of mixes at once (:meth:`segmix.augment.segments.Mixer.sample_batch`);
the length guard redraws partners, then originals, as for tagging.

Relations have no per-word labels, so ``pad_label`` has nothing to act on here; pad words of the
shorter argument are filled with the tokenizer's pad id, as in tagging.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from segmix.augment.segments import Mixer, ParamBatch
from segmix.encoding import SubwordCache
from segmix.mixing import MixedExample, Segment, mix_segments, word_pieces
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
    partner_arguments: tuple[str, ...]  # the same slots (head with head, tail with tail)
    lam: float


@dataclass
class RelationMixBatch(ParamBatch):
    """Relation mixes, one row each; ``slot``: ``-1`` both arguments, ``0`` head, ``1`` tail."""

    source: np.ndarray
    partner: np.ndarray
    slot: np.ndarray
    lam: np.ndarray


_SLOTS = {-1: ("head", "tail"), 0: ("head",), 1: ("tail",)}


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
        n = len(examples)
        # each example's two argument segments, cut once (a mix only looks them up)
        self._args = [
            {"head": argument_segment(ex, ex.head), "tail": argument_segment(ex, ex.tail)}
            for ex in examples
        ]
        self._ex_len = np.fromiter((len(ex.ids) for ex in examples), dtype=np.int64, count=n)
        self._arg_lens = [
            _lens_table([ex.word_lens[slice(*getattr(ex, arg))] for ex in examples])
            for arg in ("head", "tail")
        ]
        # partners: the examples of a group (one group, or one per relation), but the example
        # itself; the group is one range of ``_order``, the example at ``_own_pos`` in it
        relations = np.fromiter((ex.label for ex in examples), dtype=np.int64, count=n)
        group = relations if self.same_relation else np.zeros(n, dtype=np.int64)
        self._order = np.argsort(group, kind="stable")
        first = np.searchsorted(group[self._order], group, "left")
        self._grp_start = first
        self._grp_size = np.searchsorted(group[self._order], group, "right") - first
        self._own_pos = np.empty(n, dtype=np.int64)
        self._own_pos[self._order] = np.arange(n) - first[self._order]
        self._eligible = np.flatnonzero(self._grp_size > 1).astype(np.int64)
        return self

    def _draw_slots(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Which arguments each mix replaces: both, for RMix."""
        return np.full(n, -1, dtype=np.int64)

    def _draw_partners(self, rng: np.random.Generator, sources: np.ndarray) -> np.ndarray:
        u = (rng.random(len(sources)) * (self._grp_size[sources] - 1)).astype(np.int64)
        u += u >= self._own_pos[sources]  # step over the example itself
        return self._order[self._grp_start[sources] + u]

    def _length(self, source: np.ndarray, partner: np.ndarray, slot: np.ndarray) -> np.ndarray:
        total = self._ex_len[source].copy()
        for j, lens in enumerate(self._arg_lens):
            a, b = lens[source], lens[partner]
            growth = np.maximum(a, b).sum(1) - a.sum(1)
            total += np.where((slot == -1) | (slot == j), growth, 0)
        return total

    def draw_batch(
        self, rng: np.random.Generator, sources: np.ndarray
    ) -> tuple[RelationMixBatch, np.ndarray]:
        n = len(sources)
        ok = self._grp_size[sources] > 1
        slot = self._draw_slots(rng, n)
        partner = np.where(ok, 0, -1)
        partner[ok] = self._draw_partners(rng, sources[ok])
        length = self._length(sources, np.maximum(partner, 0), slot)
        for _ in range(self.max_tries - 1):
            too_long = ok & (length > self.max_length)
            if not too_long.any():
                break
            slot[too_long] = self._draw_slots(rng, int(too_long.sum()))
            partner[too_long] = self._draw_partners(rng, sources[too_long])
            length[too_long] = self._length(sources[too_long], partner[too_long], slot[too_long])
        ok &= length <= self.max_length
        lam = self.draw_lambdas(rng, n)
        return RelationMixBatch(source=sources, partner=partner, slot=slot, lam=lam), ok

    def batch_params(self, batch: RelationMixBatch) -> list[RelationMixParams]:
        return [
            RelationMixParams(s, p, _SLOTS[slot], _SLOTS[slot], lam)
            for s, p, slot, lam in zip(
                batch.source.tolist(),
                batch.partner.tolist(),
                batch.slot.tolist(),
                batch.lam.tolist(),
                strict=True,
            )
        ]

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
    """MMix for relations: one argument (head or tail, at random) mixed with the same argument
    of another example — a head with a head, a tail with a tail, so that the partner's directed
    relation, interpolated with the same λ as in RMix, still names the role of its argument.
    """

    name = "mmix"

    def _draw_slots(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.integers(2, size=n).astype(np.int64)


def _lens_table(rows: Sequence[np.ndarray]) -> np.ndarray:
    """Word lengths of the arguments, one row each, zero-padded to the longest."""
    width = max((len(r) for r in rows), default=1) or 1
    out = np.zeros((len(rows), width), dtype=np.int64)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out
