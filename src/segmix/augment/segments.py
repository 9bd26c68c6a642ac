"""SegMix augmenters for tagging: MMix (mentions), TMix (tokens), SMix (synonyms).

Each augmenter follows torchvision's split between drawing and applying:
:meth:`SegMixAugmenter.sample_params` draws the original, its segments, their partners and λ from
a ``numpy.random.Generator``; :meth:`SegMixAugmenter.apply` builds the
:class:`~segmix.mixing.MixedExample` from them deterministically. A logged :class:`MixParams`
reproduces a mix exactly, and no global random state is touched.

Usage::

    mmix = MentionMix(alpha=8.0).fit(train_examples, labels, cache)
    mixes = mmix.generate(n=40, rng=np.random.default_rng(0))
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from segmix.augment.packed import PackedMixes, SegmentTable, pack_mixes, widen
from segmix.augment.pools import LabelSpace, MentionPool, SynonymPool, TokenPool, segment_of
from segmix.encoding import SubwordCache, TaggedExample
from segmix.mixing import PAD_LABELS, MixedExample, Segment, mix_segments, pair_widths


@dataclass(frozen=True)
class MixParams:
    """Everything random about one mixed example; ``apply`` needs nothing else."""

    source: int
    spans: tuple[tuple[int, int], ...]
    partners: tuple[Segment, ...]
    lams: tuple[float, ...]


class Mixer:
    """What every interpolating augmenter shares: λ ~ Beta(alpha, alpha), ``lambda_max``, and
    ``generate`` on top of a subclass's ``sample_params``/``apply``.
    """

    name: ClassVar[str] = ""

    def __init__(self, *, alpha: float = 8.0, lambda_max: bool = False, max_tries: int = 10):
        if alpha <= 0:
            raise ValueError(f"alpha must be positive, got {alpha}")
        self.alpha = float(alpha)
        self.lambda_max = bool(lambda_max)
        self.max_tries = int(max_tries)
        self._eligible = np.zeros(0, dtype=np.int64)

    @property
    def n_eligible(self) -> int:
        """Training examples that have a segment of this variant's kind."""
        return len(self._eligible)

    def draw_lambda(self, rng: np.random.Generator) -> float:
        lam = float(rng.beta(self.alpha, self.alpha))
        return max(lam, 1.0 - lam) if self.lambda_max else lam

    def sample_params(self, rng: np.random.Generator, source: int | None = None):
        raise NotImplementedError

    def apply(self, params) -> MixedExample:
        raise NotImplementedError

    def generate(self, n: int, rng: np.random.Generator) -> list[MixedExample]:
        """``n`` mixed examples (fewer only if the training set has no eligible example)."""
        out: list[MixedExample] = []
        attempts = 0
        while len(out) < n and self.n_eligible and attempts < 20 * n + 100:
            attempts += 1
            params = self.sample_params(rng)
            if params is not None:
                out.append(self.apply(params))
        return out

    def describe(self) -> dict:
        """The settings, for the run's config.json."""
        return {"name": self.name, "alpha": self.alpha, "lambda_max": self.lambda_max}


class SegMixAugmenter(Mixer, ABC):
    """Base of the SegMix variants: pools, λ, segment choice, length guard.

    Args:
        alpha: λ ~ Beta(alpha, alpha), drawn per mixed segment (default 8: mean 0.5, most mass
            in 0.3–0.7).
        k: segments mixed per augmented example (fewer when the original has fewer).
        pad_label: label of a pad word when one segment is longer: ``inside`` continues that
            side's mention (``I-<type>``, or ``O``), ``o`` uses ``O``, ``ignore`` gives that side
            no say (the other side's label stands).
        lambda_max: use ``max(λ, 1 − λ)`` so that the original side dominates (LADA's choice).
        max_tries: partners tried before an original is given up for another when every mix
            would exceed the model's maximum length (a mixed segment is never truncated).
    """

    def __init__(
        self,
        *,
        alpha: float = 8.0,
        k: int = 1,
        pad_label: str = "inside",
        lambda_max: bool = False,
        max_tries: int = 10,
    ) -> None:
        super().__init__(alpha=alpha, lambda_max=lambda_max, max_tries=max_tries)
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        if pad_label not in PAD_LABELS:
            raise ValueError(f"pad_label must be one of {PAD_LABELS}, got {pad_label!r}")
        self.k = int(k)
        self.pad_label = pad_label
        self.examples: Sequence[TaggedExample] = ()
        self._candidates: list[list[tuple[int, int]]] = []

    # -- fitting ---------------------------------------------------------------------------
    def fit(
        self, examples: Sequence[TaggedExample], labels: Sequence[str], cache: SubwordCache
    ) -> SegMixAugmenter:
        """Build the pools from the training examples; return ``self``."""
        self.examples = examples
        self.space = LabelSpace(labels)
        self.pad_id = cache.pad_id
        self.max_length = cache.max_length
        self._build_pools(examples, cache)
        self._candidates = [self.candidate_spans(ex) for ex in examples]
        self._eligible = np.asarray(
            [i for i, c in enumerate(self._candidates) if c], dtype=np.int64
        )
        self._build_tables(examples)
        return self

    def _build_tables(self, examples: Sequence[TaggedExample]) -> None:
        """Flat arrays of the training set and its candidate segments, for :meth:`generate`.

        Every example's ids and labels back to back; every word's length, flat start and
        label; every candidate segment as a :class:`~segmix.augment.packed.SegmentTable` row.
        """
        ex_len = np.fromiter((len(ex.ids) for ex in examples), dtype=np.int64, count=len(examples))
        self._ex_offset = np.concatenate(([0], np.cumsum(ex_len)[:-1])).astype(np.int64)
        self._ex_len = ex_len
        self._flat_ids = np.concatenate([ex.ids for ex in examples])
        self._flat_labels = np.concatenate([ex.labels for ex in examples])
        n_words = np.fromiter(
            (len(ex.words) for ex in examples), dtype=np.int64, count=len(examples)
        )
        word_first = np.concatenate(([0], np.cumsum(n_words)[:-1])).astype(np.int64)
        g_len = np.concatenate([ex.word_lens for ex in examples])
        g_start = np.concatenate(
            [off + ex.word_starts for off, ex in zip(self._ex_offset, examples, strict=True)]
        )
        g_label = np.concatenate([ex.word_labels for ex in examples])

        counts = np.fromiter(
            (len(c) for c in self._candidates), dtype=np.int64, count=len(examples)
        )
        self._cand_first = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
        self._cand_count = counts
        spans = np.asarray([span for c in self._candidates for span in c], dtype=np.int64).reshape(
            -1, 2
        )
        cand_ex = np.repeat(np.arange(len(examples)), counts)
        self._cand_ex, self._cand_w0, self._cand_w1 = cand_ex, spans[:, 0], spans[:, 1]
        width = int((spans[:, 1] - spans[:, 0]).max()) if len(spans) else 1
        g0 = word_first[cand_ex] + spans[:, 0]
        cand_words = spans[:, 1] - spans[:, 0]
        cols = np.arange(width)
        valid = cols[None, :] < cand_words[:, None]
        gidx = np.where(valid, g0[:, None] + cols[None, :], 0)
        g_last = g0 + cand_words - 1
        self._own = SegmentTable(
            n_words=cand_words,
            word_lens=np.where(valid, g_len[gidx], 0),
            word_starts=np.where(valid, g_start[gidx], 0),
            word_labels=np.where(valid, g_label[gidx], 0),
            inside=self.space.inside[g_label[g_last]],
        )
        self._own_pos = g_start[g0] - self._ex_offset[cand_ex]
        self._own_end = g_start[g_last] + g_len[g_last] - self._ex_offset[cand_ex]
        self._cand_label = g_label[g0]
        partners = self._partner_segments()
        self._partners = partners
        width = max(max((len(p) for p in partners), default=1), 1)
        self._other, extra = SegmentTable.from_segments(partners, width, offset=len(self._flat_ids))
        self._pieces = np.concatenate([self._flat_ids, extra])

    def _partner_segments(self) -> list[Segment]:
        """The pool as a list of segments; :meth:`draw_partner_rows` indexes into it."""
        return list(self.pool.segments)

    def draw_partner_rows(self, rng: np.random.Generator, cand: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`draw_partner`: a partner row for each candidate row in ``cand``."""
        raise NotImplementedError

    @abstractmethod
    def _build_pools(self, examples: Sequence[TaggedExample], cache: SubwordCache) -> None: ...

    @abstractmethod
    def candidate_spans(self, example: TaggedExample) -> list[tuple[int, int]]:
        """Word spans of the example this variant can mix."""

    @abstractmethod
    def draw_partner(
        self, rng: np.random.Generator, example: TaggedExample, span: tuple[int, int]
    ) -> Segment | None:
        """A partner segment for ``span`` of ``example`` (``None`` when the pool has none)."""

    # -- drawing and applying ----------------------------------------------------------------
    def sample_params(
        self, rng: np.random.Generator, source: int | None = None
    ) -> MixParams | None:
        """Draw one mix. ``source`` pins the original; otherwise an eligible one is drawn."""
        if source is None:
            if not len(self._eligible):
                return None
            source = int(self._eligible[rng.integers(len(self._eligible))])
        candidates = self._candidates[source]
        if not candidates:
            return None
        example = self.examples[source]
        count = min(self.k, len(candidates))
        chosen = (
            rng.choice(len(candidates), size=count, replace=False)
            if count > 1
            else [int(rng.integers(len(candidates)))]
        )
        spans = tuple(sorted(candidates[int(i)] for i in chosen))
        budget = self.max_length - len(example.ids)
        partners: list[Segment] = []
        for span in spans:
            own = int(example.word_starts[span[1] - 1] + example.word_lens[span[1] - 1]) - int(
                example.word_starts[span[0]]
            )
            for _ in range(self.max_tries):
                partner = self.draw_partner(rng, example, span)
                if partner is None:
                    return None
                growth = _aligned_width(example, span, partner) - own
                if growth <= budget:
                    budget -= growth
                    partners.append(partner)
                    break
            else:
                return None
        lams = tuple(self.draw_lambda(rng) for _ in spans)
        return MixParams(source=source, spans=spans, partners=tuple(partners), lams=lams)

    def apply(self, params: MixParams) -> MixedExample:
        """Build the mixed example from drawn parameters (deterministic)."""
        example = self.examples[params.source]
        own = [segment_of(example, s, e, self.space) for s, e in params.spans]
        return mix_segments(
            example.ids,
            example.labels,
            example.word_starts,
            example.word_lens,
            params.spans,
            own,
            params.partners,
            params.lams,
            pad_id=self.pad_id,
            pad_label=self.pad_label,
            o_label=self.space.o,
            source=params.source,
        )

    def generate(self, n: int, rng: np.random.Generator) -> Sequence[MixedExample]:
        """``n`` mixed examples; with ``k == 1`` all are made at once (see ``packed``)."""
        if self.k != 1:
            return super().generate(n, rng)
        if not self.n_eligible or n <= 0:
            return []
        # draw an original among the eligible ones, then one of its candidate segments
        source = self._eligible[rng.integers(len(self._eligible), size=n)]
        cand = self._cand_first[source] + (rng.random(n) * self._cand_count[source]).astype(
            np.int64
        )
        partner = self.draw_partner_rows(rng, cand)
        lam = rng.beta(self.alpha, self.alpha, size=n)
        if self.lambda_max:
            lam = np.maximum(lam, 1.0 - lam)
        # the length guard: redraw partners that would push a mix past the model's limit
        keep = np.ones(n, dtype=bool)
        for _ in range(self.max_tries):
            too_long = self._mixed_length(source, cand, partner) > self.max_length
            if not too_long.any():
                break
            partner[too_long] = self.draw_partner_rows(rng, cand[too_long])
        else:
            keep = self._mixed_length(source, cand, partner) <= self.max_length
        keep &= partner >= 0
        source, cand, partner, lam = source[keep], cand[keep], partner[keep], lam[keep]
        arrays = pack_mixes(
            pieces=self._pieces,
            labels=self._flat_labels,
            ex_offset=self._ex_offset,
            ex_len=self._ex_len,
            source=source,
            own=self._own,
            own_rows=cand,
            own_pos=self._own_pos[cand],
            own_end=self._own_end[cand],
            other=self._other,
            other_rows=partner,
            lam=lam,
            pad_id=self.pad_id,
            pad_label=self.pad_label,
            o_label=self.space.o,
        )
        *six, offsets, seg_len = arrays
        return PackedMixes(
            *six,
            offsets=offsets,
            source=source,
            start=self._cand_w0[cand],
            end=self._cand_w1[cand],
            partner=partner,
            lam=lam,
            seg_pos=self._own_pos[cand],
            seg_len=seg_len,
            words_of=self._words_of,
        )

    def _words_of(self, source: int, start: int, end: int, partner: int):
        return self.examples[source].words[start:end], self._partners[partner].words

    def packed_params(self, packed: PackedMixes, i: int) -> MixParams:
        """The :class:`MixParams` of mix ``i`` of a packed batch (to rebuild it with apply)."""
        return MixParams(
            source=int(packed.source[i]),
            spans=((int(packed.start[i]), int(packed.end[i])),),
            partners=(self._partners[int(packed.partner[i])],),
            lams=(float(packed.lam[i]),),
        )

    def _mixed_length(self, source, cand, partner) -> np.ndarray:
        w = max(self._own.width, self._other.width)
        a = widen(self._own.word_lens[cand], w)
        b = widen(self._other.word_lens[partner], w)
        seg = np.maximum(a, b).sum(1)
        return self._ex_len[source] - (self._own_end[cand] - self._own_pos[cand]) + seg

    def describe(self) -> dict:
        return {**super().describe(), "k": self.k, "pad_label": self.pad_label}


def _aligned_width(example: TaggedExample, span: tuple[int, int], partner: Segment) -> int:
    """Sub-words the mixed segment will take (see :func:`segmix.mixing.align_segments`)."""
    own = example.word_lens[span[0] : span[1]].tolist()
    return sum(pair_widths(own, [len(p) for p in partner.pieces]))


class MentionMix(SegMixAugmenter):
    """MMix: an entity mention mixed with a mention from the pool.

    Args:
        same_type: draw partners of the mention's own type only (default: any type).
    """

    name = "mmix"

    def __init__(self, *, same_type: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.same_type = bool(same_type)

    def _build_pools(self, examples, cache) -> None:
        self.pool = MentionPool(examples, self.space)

    def candidate_spans(self, example):
        return list(example.mentions)

    def draw_partner(self, rng, example, span):
        typ = self.space.type_of[int(example.word_labels[span[0]])] if self.same_type else None
        return self.pool.sample(rng, typ)

    def draw_partner_rows(self, rng, cand):
        if not self.same_type:
            return rng.integers(len(self.pool), size=len(cand))
        types = np.asarray([self.space.type_of[int(lb)] or "" for lb in self._cand_label[cand]])
        return _draw_grouped(rng, types, self.pool.by_type)

    def describe(self) -> dict:
        return {**super().describe(), "same_type": self.same_type}


class TokenMix(SegMixAugmenter):
    """TMix: one word mixed with a word from the token pool.

    Args:
        same_label: draw partners with the word's own label only (default: any label).
        entities_only: mix only words inside a mention (default: any word).
    """

    name = "tmix"

    def __init__(self, *, same_label: bool = False, entities_only: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.same_label = bool(same_label)
        self.entities_only = bool(entities_only)

    def _build_pools(self, examples, cache) -> None:
        self.pool = TokenPool(examples, self.space)

    def candidate_spans(self, example):
        if self.entities_only:
            return [(j, j + 1) for j, lb in enumerate(example.word_labels) if lb != self.space.o]
        return [(j, j + 1) for j in range(len(example.words))]

    def draw_partner(self, rng, example, span):
        label = int(example.word_labels[span[0]]) if self.same_label else None
        return self.pool.sample(rng, label)

    def draw_partner_rows(self, rng, cand):
        occ = self.pool.occurrences
        if not self.same_label:
            return occ[rng.integers(len(occ), size=len(cand))].astype(np.int64)
        picks = _draw_grouped(rng, self._cand_label[cand], self.pool.by_label)
        return np.where(picks >= 0, occ[np.maximum(picks, 0)], -1).astype(np.int64)

    def describe(self) -> dict:
        return {
            **super().describe(),
            "same_label": self.same_label,
            "entities_only": self.entities_only,
        }


class SynonymMix(SegMixAugmenter):
    """SMix: a word that has a WordNet synonym mixed with one of its synonyms.

    Both sides carry the word's own label. ``lexicon`` maps a word to its synonyms (each a tuple
    of words, see :class:`segmix.wordnet.SynonymLexicon`); by default one is built from WordNet
    for the training vocabulary.
    """

    name = "smix"

    def __init__(self, *, lexicon=None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lexicon = lexicon

    def _build_pools(self, examples, cache) -> None:
        if self.lexicon is None:
            from segmix.wordnet import SynonymLexicon

            self.lexicon = SynonymLexicon({w for ex in examples for w in ex.words})
        self.pool = SynonymPool(self.lexicon, cache, self.space)

    def candidate_spans(self, example):
        return [(j, j + 1) for j, w in enumerate(example.words) if w in self.pool]

    def draw_partner(self, rng, example, span):
        return self.pool.sample(rng, example.words[span[0]], int(example.word_labels[span[0]]))

    def _partner_segments(self) -> list[Segment]:
        """Every synonym option of every candidate word, once per (word, label)."""
        segments: list[Segment] = []
        first: dict[tuple[str, int], int] = {}
        opt_first = np.zeros(len(self._cand_ex), dtype=np.int64)
        opt_count = np.zeros(len(self._cand_ex), dtype=np.int64)
        for c, (e, w) in enumerate(zip(self._cand_ex, self._cand_w0, strict=True)):
            ex = self.examples[e]
            key = (ex.words[w], int(ex.word_labels[w]))
            if key not in first:
                first[key] = len(segments)
                segments.extend(self.pool.options(*key))
            opt_first[c] = first[key]
            opt_count[c] = len(self.pool.options(*key))
        self._opt_first, self._opt_count = opt_first, opt_count
        return segments

    def draw_partner_rows(self, rng, cand):
        return self._opt_first[cand] + (rng.random(len(cand)) * self._opt_count[cand]).astype(
            np.int64
        )


def _draw_grouped(rng: np.random.Generator, keys: np.ndarray, groups: dict) -> np.ndarray:
    """For each key, a random member of ``groups[key]`` (-1 where the group is empty)."""
    out = np.full(len(keys), -1, dtype=np.int64)
    for key in np.unique(keys):
        members = groups.get(key.item() if hasattr(key, "item") else key)
        if members is None or not len(members):
            continue
        rows = np.flatnonzero(keys == key)
        out[rows] = members[rng.integers(len(members), size=len(rows))]
    return out
