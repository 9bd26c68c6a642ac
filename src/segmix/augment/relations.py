"""SegMix for relations: RMix (both arguments), MMix on a single argument, whole-sentence mixup.

RMix mixes the head and the tail mention of one example with the head and tail of another, with
one λ for both and for the relation label: the soft target is ``λ·r_a + (1 − λ)·r_b``. MMix mixes
one argument, head or tail at random, with the *same* argument of another example, so that the
partner's directed relation still names the role its argument plays. The markers around the
arguments are words outside the mixed spans, so they stay unmixed and the classifier's anchors
(the start markers) move with the text. An example is never its own partner.

Whole-sentence mixup (:class:`RelationMixup`) mixes every word but the markers, region by region,
so the markers stay unmixed and face each other on both sides.

Both draw a whole batch of mixes at once (:meth:`segmix.augment.segments.Mixer.sample_batch`);
the length guard redraws partners, then originals, as for tagging.

Relations have no per-word labels, so ``pad_label`` has nothing to act on here; pad words of the
shorter argument are filled with the tokenizer's pad id, as in tagging.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from segmix.augment.segments import Mixer, MixTrace, ParamBatch, in_sentence_order
from segmix.encoding import SubwordCache
from segmix.mixing import MixedExample, Segment, mix_segments, word_pieces
from segmix.tasks.relations.model import EncodedRelation


def argument_segment(ex: EncodedRelation, span: tuple[int, int]) -> Segment:
    """Words ``[start, end)`` of a marked sentence as a segment (an argument, or any region
    between markers; an empty span gives an empty segment). Relations have no word labels, so
    the segment's labels are zeros that nothing reads."""
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
_OTHER = {"head": "tail", "tail": "head"}
_ROLES = ("head", "tail")


class RelationMix(Mixer):
    """RMix: an example's head and tail mixed with those of another example.

    Args:
        alpha, lambda_max: as for every SegMix variant.
        same_relation: draw partners with the same relation only (default off).
        role_aligned: draw partners of the same relation *type* in either direction, mix each
            argument with the partner's argument of the same role (for a partner of the other
            direction, the head with its tail), and keep the example's own label: a reading of
            the label question in which a mix never moves label mass to another relation
            (decision 43).
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
        role_aligned: bool = False,
    ):
        super().__init__(alpha=alpha, lambda_max=lambda_max, max_tries=max_tries)
        self.pad_label = pad_label  # accepted for a uniform interface; no word labels here
        self.same_relation = bool(same_relation)
        self.role_aligned = bool(role_aligned)

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
        # one width for both tables: a role-aligned mix sets a head beside a partner's tail, and
        # the length guard compares the two tables row against row
        rows = [[ex.word_lens[slice(*getattr(ex, arg))] for ex in examples] for arg in _ROLES]
        width = max((len(r) for table in rows for r in table), default=1) or 1
        self._arg_lens = [_lens_table(table, width) for table in rows]
        # the direction of each example's relation: (e2,e1) is the reverse of its type's (e1,e2)
        self._reversed = np.fromiter(
            (self.labels[ex.label].endswith("(e2,e1)") for ex in examples), dtype=bool, count=n
        )
        self._set_groups(self._partner_groups(examples))
        return self

    def _partner_groups(self, examples: Sequence[EncodedRelation]) -> np.ndarray:
        """Each example's partner group: one group, one per relation (``same_relation``), or
        one per relation type, both directions together (``role_aligned``)."""
        from segmix.tasks.relations.metrics import strip_direction

        n = len(examples)
        if self.role_aligned:
            types: dict[str, int] = {}
            return np.fromiter(
                (
                    types.setdefault(strip_direction(self.labels[ex.label]), len(types))
                    for ex in examples
                ),
                dtype=np.int64,
                count=n,
            )
        relations = np.fromiter((ex.label for ex in examples), dtype=np.int64, count=n)
        return relations if self.same_relation else np.zeros(n, dtype=np.int64)

    def _flipped(self, source: np.ndarray, partner: np.ndarray) -> np.ndarray:
        """Rows whose partner's relation runs the other way: with ``role_aligned`` its head
        plays the source's tail's role, so the two are mixed crosswise."""
        if not self.role_aligned:
            return np.zeros(len(source), dtype=bool)
        return self._reversed[source] != self._reversed[partner]

    def _set_groups(self, group: np.ndarray) -> None:
        """Partners: the examples of a group but the example itself; the group is one range of
        ``_order``, the example at ``_own_pos`` in it. An example alone in its group is not
        eligible."""
        n = len(group)
        self._order = np.argsort(group, kind="stable")
        first = np.searchsorted(group[self._order], group, "left")
        self._grp_start = first
        self._grp_size = np.searchsorted(group[self._order], group, "right") - first
        self._own_pos = np.empty(n, dtype=np.int64)
        self._own_pos[self._order] = np.arange(n) - first[self._order]
        self._eligible = np.flatnonzero(self._grp_size > 1).astype(np.int64)

    def _draw_slots(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Which arguments each mix replaces: both, for RMix."""
        return np.full(n, -1, dtype=np.int64)

    def _draw_partners(self, rng: np.random.Generator, sources: np.ndarray) -> np.ndarray:
        u = (rng.random(len(sources)) * (self._grp_size[sources] - 1)).astype(np.int64)
        u += u >= self._own_pos[sources]  # step over the example itself
        return self._order[self._grp_start[sources] + u]

    def _length(self, source: np.ndarray, partner: np.ndarray, slot: np.ndarray) -> np.ndarray:
        total = self._ex_len[source].copy()
        flipped = self._flipped(source, partner)
        for j, lens in enumerate(self._arg_lens):
            a = lens[source]
            b = np.where(flipped[:, None], self._arg_lens[1 - j][partner], lens[partner])
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
        flipped = self._flipped(batch.source, np.maximum(batch.partner, 0)).tolist()
        return [
            RelationMixParams(
                s,
                p,
                _SLOTS[slot],
                tuple(_OTHER[a] for a in _SLOTS[slot]) if f else _SLOTS[slot],
                lam,
            )
            for s, p, slot, lam, f in zip(
                batch.source.tolist(),
                batch.partner.tolist(),
                batch.slot.tolist(),
                batch.lam.tolist(),
                flipped,
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
            # role-aligned: both sides are the example's relation, so its label is kept
            sequence_labels=(a.label, a.label if self.role_aligned else b.label),
            anchors=a.anchors,
            source=params.source,
        )

    traceable: ClassVar[bool] = True

    def trace(self, params: RelationMixParams) -> MixTrace:
        a, b = self.examples[params.source], self.examples[params.partner]
        spans = [getattr(a, arg) for arg in params.arguments]
        starts = [(params.partner, getattr(b, arg)[0]) for arg in params.partner_arguments]
        return MixTrace(params.source, tuple(in_sentence_order(spans, starts)))

    def describe(self) -> dict:
        return {
            **super().describe(),
            "same_relation": self.same_relation,
            "role_aligned": self.role_aligned,
        }


class ArgumentMix(RelationMix):
    """MMix for relations: one argument (head or tail, at random) mixed with the same argument
    of another example — a head with a head, a tail with a tail, so that the partner's directed
    relation, interpolated with the same λ as in RMix, still names the role of its argument.
    """

    name = "mmix"

    def _draw_slots(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.integers(2, size=n).astype(np.int64)


#: The regions of a marked sentence, in sentence order; the markers lie between them.
REGIONS: tuple[str, ...] = ("before", "first", "between", "second", "after")


def sentence_regions(ex: EncodedRelation) -> tuple[tuple[int, int], ...]:
    """The five word spans of a marked sentence, markers left out: before the first argument,
    the first argument, between the arguments, the second argument, after it.

    Any but the arguments may be empty (``(k, k)``: a sentence that starts with its first
    marker, adjacent arguments, one that ends with its last marker).
    """
    first, second = sorted((ex.head, ex.tail))
    return (
        (0, first[0] - 1),
        first,
        (first[1] + 1, second[0] - 1),
        second,
        (second[1] + 1, len(ex.words)),
    )


def tail_first(ex: EncodedRelation) -> bool:
    """Whether the tail comes before the head in the sentence."""
    return ex.tail[0] < ex.head[0]


@dataclass(frozen=True)
class SentenceMixParams:
    """One whole-sentence mix: ``source`` with ``partner``, every region at the one ``lam``."""

    source: int
    partner: int
    lam: float


class RelationMixup(RelationMix):
    """Whole-sentence mixup for relations: every word of a marked sentence mixed with another
    example's, one λ for every position and for the relation labels (``λ·r_a + (1 − λ)·r_b``).

    The sentences are aligned region by region (:func:`sentence_regions`), each region pair
    word by word with pad words on the shorter side, so the four markers stand at the same
    positions on both sides, unmixed, and the anchors read a start marker on both: the head's
    marker on side a faces the head's marker on side b. A region one side lacks (a sentence
    that starts with its first marker, adjacent arguments) is all pad on that side.

    Partners have the same argument order as the example (head first, or tail first), so the
    first argument faces an argument of the same role; with ``same_relation`` also the same
    relation. An example is never its own partner.
    """

    name = "mixup"

    def fit(
        self, examples: Sequence[EncodedRelation], labels: Sequence[str], cache: SubwordCache
    ) -> RelationMixup:
        """Cut each example into its regions once (a mix only looks them up)."""
        self.examples = examples
        self.labels = list(labels)
        self.pad_id = cache.pad_id
        self.max_length = cache.max_length
        n = len(examples)
        self._spans = [sentence_regions(ex) for ex in examples]
        self._regions = [
            tuple(argument_segment(ex, span) for span in spans)
            for ex, spans in zip(examples, self._spans, strict=True)
        ]
        self._ex_len = np.fromiter((len(ex.ids) for ex in examples), dtype=np.int64, count=n)
        pairs = list(zip(examples, self._spans, strict=True))
        self._region_lens = [
            _lens_table([ex.word_lens[slice(*spans[r])] for ex, spans in pairs])
            for r in range(len(REGIONS))
        ]
        self._set_groups(self._partner_groups(examples))
        return self

    def _partner_groups(self, examples: Sequence[EncodedRelation]) -> np.ndarray:
        """RMix's groups, split by argument order: a partner with the opposite order would put
        its tail against the example's head."""
        order = np.fromiter(
            (tail_first(ex) for ex in examples), dtype=np.int64, count=len(examples)
        )
        return 2 * super()._partner_groups(examples) + order

    def _length(self, source: np.ndarray, partner: np.ndarray, slot: np.ndarray) -> np.ndarray:
        """Sub-words of each mix: every region grows to the longer side's, word by word."""
        total = self._ex_len[source].copy()
        for lens in self._region_lens:
            a, b = lens[source], lens[partner]
            total += np.maximum(a, b).sum(1) - a.sum(1)
        return total

    def batch_params(self, batch: RelationMixBatch) -> list[SentenceMixParams]:
        return [
            SentenceMixParams(s, p, lam)
            for s, p, lam in zip(
                batch.source.tolist(), batch.partner.tolist(), batch.lam.tolist(), strict=True
            )
        ]

    def _used_regions(self, params: SentenceMixParams) -> list[int]:
        """The regions a mix has a record for: those not empty on both sides."""
        own, other = self._regions[params.source], self._regions[params.partner]
        return [r for r in range(len(REGIONS)) if len(own[r]) or len(other[r])]

    def trace(self, params: SentenceMixParams) -> MixTrace:
        spans = self._spans[params.partner]
        return MixTrace(
            params.source,
            tuple((params.partner, spans[r][0]) for r in self._used_regions(params)),
        )

    def apply(self, params: SentenceMixParams) -> MixedExample:
        a, b = self.examples[params.source], self.examples[params.partner]
        own, other = self._regions[params.source], self._regions[params.partner]
        used = self._used_regions(params)  # a region empty on both sides has nothing to mix
        return mix_segments(
            a.ids,
            np.asarray([a.label]),
            a.word_starts,
            a.word_lens,
            [self._spans[params.source][r] for r in used],
            [own[r] for r in used],
            [other[r] for r in used],
            [params.lam] * len(used),
            pad_id=self.pad_id,
            label_per_position=False,
            sequence_labels=(a.label, b.label),
            anchors=a.anchors,
            source=params.source,
        )


def _lens_table(rows: Sequence[np.ndarray], width: int | None = None) -> np.ndarray:
    """Word lengths of the arguments, one row each, zero-padded to ``width`` words (the
    longest row's where not given)."""
    width = width or max((len(r) for r in rows), default=1) or 1
    out = np.zeros((len(rows), width), dtype=np.int64)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out
