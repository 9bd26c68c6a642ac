"""SegMix augmenters for tagging: MMix (mentions), TMix (tokens), SMix (synonyms).

Each augmenter follows torchvision's split between drawing and applying, with one sampler for a
whole batch of mixes (timm's ``_params_per_elem``): :meth:`Mixer.sample_batch` draws the
originals, their segments, partners and λ of *n* mixes at once from a
``numpy.random.Generator``; :meth:`Mixer.batch_params` cuts it into one parameter record per
mix, and :meth:`Mixer.apply` builds a :class:`~segmix.mixing.MixedExample` from a record
deterministically. The per-mix path (:meth:`Mixer.generate_each`) and the vectorised path
(``generate`` with ``k == 1``, :mod:`segmix.augment.packed`) consume the same batch, so they
give the same mixes for the same generator. A logged :class:`MixParams` reproduces a mix
exactly, and no global random state is touched.

Usage::

    mmix = MentionMix(alpha=8.0).fit(train_examples, labels, cache)
    mixes = mmix.generate(n=40, rng=np.random.default_rng(0))
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np

from segmix.augment.packed import PackedMixes, SegmentTable, pack_mixes, widen
from segmix.augment.pools import LabelSpace, MentionPool, SynonymPool, TokenPool, segment_of
from segmix.encoding import SubwordCache
from segmix.mixing import PAD_LABELS, MixedExample, Segment, mix_segments
from segmix.tasks.tagging.encoding import TaggedExample

#: Rounds of fresh originals drawn for the mixes of a batch that failed the length guard; a mix
#: still missing after them is given up (only when almost no original fits the limit).
ORIGINAL_ROUNDS = 100


@dataclass(frozen=True)
class MixTrace:
    """Where one mix's words come from (what ``segmix inspect``'s semantic check encodes).

    ``sentence`` is side a: a training example's index, or the example a rule rewrote it into
    (a mixture). ``partners`` has one entry per mixed segment, in sentence order: where the
    partner's words start in the training set, ``(example, first word)``, or ``None`` where
    they cannot be traced. ``substituted``: the partners are no training words (synonyms), so
    each is read in place of its segment in side a's sentence.
    """

    sentence: int | TaggedExample
    partners: tuple[tuple[int, int] | None, ...]
    substituted: bool = False


def in_sentence_order(spans: Sequence[tuple[int, int]], items: Sequence[Any]) -> list[Any]:
    """``items`` (one per span) sorted by their spans' place in the sentence."""
    return [x for _, x in sorted(zip(spans, items, strict=True), key=lambda t: tuple(t[0]))]


@dataclass(frozen=True)
class MixParams:
    """Everything random about one mixed example; ``apply`` needs nothing else."""

    source: int
    spans: tuple[tuple[int, int], ...]
    partners: tuple[Segment, ...]
    lams: tuple[float, ...]


@dataclass
class ParamBatch:
    """The drawn parameters of *n* mixes, one row each: every field is an array of *n* rows."""

    def __len__(self) -> int:
        return len(getattr(self, fields(self)[0].name))

    def take(self, rows: np.ndarray) -> ParamBatch:
        """The batch of the given rows (a boolean mask or indices)."""
        return type(self)(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    @classmethod
    def concat(cls, parts: Sequence[ParamBatch]) -> ParamBatch:
        return cls(
            **{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)}
        )


@dataclass
class MixBatch(ParamBatch):
    """Mixes of tagged examples: ``k`` slots a row, ``-1`` in ``cand``/``partner`` for a slot
    left empty (an original with fewer than ``k`` segments). Slots are in sentence order."""

    source: np.ndarray  # [n]  the original
    cand: np.ndarray  # [n, k]  its candidate segment (a row of the augmenter's table)
    partner: np.ndarray  # [n, k]  the partner (a row of the partner table)
    lam: np.ndarray  # [n, k]


class Mixer(ABC):
    """What every interpolating augmenter shares: λ ~ Beta(alpha, alpha), ``lambda_max``, and
    one sampler of whole batches on top of a subclass's :meth:`draw_batch`.

    A subclass supplies :meth:`draw_batch` (the parameters of a batch of mixes for given
    originals, and which of them pass the length guard), :meth:`batch_params` (one record per
    mix) and :meth:`apply` (a record to a :class:`MixedExample`). Everything else —
    redrawing originals until *n* mixes are made, ``sample_params``, ``generate`` — is here.
    """

    name: ClassVar[str] = ""
    #: what the pool it draws partners from holds (``mentions``, ``tokens``, ``synonyms``,
    #: ``windows``, ``sentences``; ``lada``: an inter-LADA's sentences), what ``segmix inspect``
    #: reads it as; ``None``: no pool to inspect
    pool_kind: ClassVar[str | None] = None

    def __init__(self, *, alpha: float = 8.0, lambda_max: bool = False, max_tries: int = 10):
        if alpha <= 0:
            raise ValueError(f"alpha must be positive, got {alpha}")
        if max_tries < 1:
            raise ValueError(f"max_tries must be at least 1, got {max_tries}")
        self.alpha = float(alpha)
        self.lambda_max = bool(lambda_max)
        self.max_tries = int(max_tries)
        self._eligible = np.zeros(0, dtype=np.int64)

    @property
    def n_eligible(self) -> int:
        """Training examples that have a segment of this variant's kind."""
        return len(self._eligible)

    def draw_lambdas(self, rng: np.random.Generator, shape) -> np.ndarray:
        """λ ~ Beta(alpha, alpha) of the given shape (``max(λ, 1 − λ)`` with ``lambda_max``)."""
        lam = rng.beta(self.alpha, self.alpha, size=shape)
        return np.maximum(lam, 1.0 - lam) if self.lambda_max else lam

    # -- what a variant supplies ---------------------------------------------------------------
    @abstractmethod
    def draw_batch(
        self, rng: np.random.Generator, sources: np.ndarray
    ) -> tuple[ParamBatch, np.ndarray]:
        """One mix for each original in ``sources``, partners redrawn up to ``max_tries`` times
        by the length guard; and a boolean mask of the mixes that are well formed."""

    @abstractmethod
    def batch_params(self, batch: ParamBatch) -> list:
        """The batch as one parameter record per mix (what :meth:`apply` takes)."""

    @abstractmethod
    def apply(self, params) -> MixedExample:
        """Build the mixed example from drawn parameters (deterministic)."""

    # -- the one sampler -----------------------------------------------------------------------
    def sample_batch(
        self, rng: np.random.Generator, n: int, sources: Sequence[int] | None = None
    ) -> ParamBatch:
        """The parameters of ``n`` mixes, drawn at once.

        Originals are drawn uniformly among the eligible ones; a mix that fails the length guard
        is dropped and a fresh original drawn in its place, for up to :data:`ORIGINAL_ROUNDS`
        rounds, so the batch has ``n`` rows whenever some original can be mixed. ``sources``
        pins the originals instead (one mix each, none redrawn; failures are left out).
        """
        if sources is not None:
            batch, ok = self.draw_batch(rng, np.asarray(sources, dtype=np.int64))
            return batch.take(ok)
        if n <= 0 or not self.n_eligible:
            batch, _ = self.draw_batch(rng, np.zeros(0, dtype=np.int64))
            return batch
        parts: list[ParamBatch] = []
        missing = int(n)
        for _ in range(ORIGINAL_ROUNDS):
            drawn = self._eligible[rng.integers(len(self._eligible), size=missing)]
            batch, ok = self.draw_batch(rng, drawn)
            parts.append(batch.take(ok))
            missing -= int(ok.sum())
            if missing == 0:
                break
        return parts[0] if len(parts) == 1 else type(parts[0]).concat(parts)

    def sample_params(self, rng: np.random.Generator, source: int | None = None):
        """One mix's parameters: row 0 of a batch of one (``None`` when it cannot be made)."""
        batch = self.sample_batch(rng, 1, None if source is None else [source])
        rows = self.batch_params(batch)
        return rows[0] if rows else None

    def draw_params(self, rng: np.random.Generator, n: int) -> list:
        """The parameters of ``n`` mixes, one record per mix (what :meth:`apply` and
        :meth:`trace` take), drawn as :meth:`generate` draws them."""
        return self.batch_params(self.sample_batch(rng, n))

    #: whether :meth:`trace` can say where a mix's words come from (``False``: LADA's mixes of
    #: hidden states, which ``segmix inspect`` reads from the mixes themselves)
    traceable: ClassVar[bool] = False

    def trace(self, params) -> MixTrace:
        """Where the mix of ``params`` takes its words from (see :class:`MixTrace`)."""
        raise NotImplementedError(f"{self.name or type(self).__name__} mixes cannot be traced")

    def generate_each(self, n: int, rng: np.random.Generator) -> list[MixedExample]:
        """The per-mix path: ``apply`` on each row of one :meth:`sample_batch`."""
        return [self.apply(p) for p in self.draw_params(rng, n)]

    def generate(self, n: int, rng: np.random.Generator) -> Sequence[MixedExample]:
        """``n`` mixed examples (fewer only if no training example can be mixed)."""
        return self.generate_each(n, rng)

    def describe(self) -> dict:
        """The settings, for the run's config.json."""
        return {"name": self.name, "alpha": self.alpha, "lambda_max": self.lambda_max}

    def pool_sources(self) -> tuple[Sequence[Segment], list[tuple[int, int]]] | None:
        """The pool's segments and where each was cut from, ``(example, first word)``, in the
        pool's order (``segmix inspect`` traces a partner back to its sentence); ``None``
        where the pool is not cut from the training sentences (synonyms) or there is none."""
        return None

    def place_of(self, segment: Segment) -> tuple[int, int] | None:
        """Where a pool segment was cut from, ``(example, first word)``; ``None`` where the pool
        is not cut from the training sentences. The map is built once per pool from
        :meth:`pool_sources` and checked word by word (a segment whose words differ there is
        left untraced rather than traced wrongly)."""
        drawn = self.pool_sources()
        if drawn is None:
            return None
        segments, places = drawn
        cached = getattr(self, "_places", None)
        if cached is None or cached[0] is not segments:
            table: dict[int, tuple[int, int]] = {}
            if len(segments) == len(places):
                for seg, (i, start) in zip(segments, places, strict=True):
                    if tuple(self.examples[i].words[start : start + len(seg)]) == tuple(seg.words):
                        table[id(seg)] = (i, start)
            cached = (segments, table)
            self._places = cached
        return cached[1].get(id(segment))


@dataclass
class PartnerPool:
    """Whom each candidate segment may be mixed with.

    ``segments`` are the partner rows; ``tickets`` lists partner rows, one entry per chance to
    be drawn (a row listed twice is drawn twice as often); ``ticket_group`` is each ticket's
    group and ``cand_group`` each candidate's (``-1``: none). A candidate draws uniformly among
    the tickets of its group, except those whose sub-word ids equal its own (the segment itself
    and every other occurrence of the same surface form). A candidate left with no ticket is not
    a candidate.
    """

    segments: list[Segment]
    tickets: np.ndarray
    ticket_group: np.ndarray
    cand_group: np.ndarray


@dataclass(frozen=True)
class PartnerRange:
    """The partners of one segment outside the training set: the tickets
    ``tickets[start : start + count]`` without the block of ``skip_n`` tickets at offset
    ``skip_lo`` (those of the segment's own surface form), drawn uniformly, as
    :meth:`SegMixAugmenter.draw_partner_rows` draws for a training candidate.
    """

    segments: Sequence[Segment]
    tickets: np.ndarray
    start: int
    count: int
    skip_lo: int = 0
    skip_n: int = 0

    @property
    def free(self) -> int:
        """How many tickets the segment can draw."""
        return self.count - self.skip_n

    def draw(self, rng: np.random.Generator) -> Segment:
        """One partner, uniform over the free tickets (one uniform number, as the batch path)."""
        u = int(rng.random() * self.free)
        if u >= self.skip_lo:
            u += self.skip_n
        return self.segments[int(self.tickets[self.start + u])]


def _form_key(lens: np.ndarray, ids: np.ndarray) -> tuple[bytes, bytes]:
    """A segment's surface form: its words' sub-word counts and ids (equal forms, equal input)."""
    return lens.astype(np.int64).tobytes(), ids.astype(np.int64).tobytes()


def _span_form(example: TaggedExample, span: tuple[int, int]) -> tuple[bytes, bytes]:
    """The surface form of words ``[w0, w1)`` of an encoded example."""
    w0, w1 = span
    p0 = int(example.word_starts[w0])
    p1 = int(example.word_starts[w1 - 1] + example.word_lens[w1 - 1])
    return _form_key(example.word_lens[w0:w1], example.ids[p0:p1])


class SegMixAugmenter(Mixer):
    """Base of the SegMix variants: pools, λ, segment choice, length guard.

    A variant supplies :meth:`_build_pools`, :meth:`candidate_spans` and :meth:`partner_pool`;
    drawing (originals, ``k`` segments, partners, λ) and building the mixes are shared.

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

    @property
    def mix_pad_label(self) -> str:
        """The ``pad_label`` the mixes are built with."""
        return self.pad_label

    # -- what a variant supplies ---------------------------------------------------------------
    @abstractmethod
    def _build_pools(self, examples: Sequence[TaggedExample], cache: SubwordCache) -> None:
        """Build the variant's pools from the training examples (``self.space`` is set)."""

    @abstractmethod
    def candidate_spans(self, example: TaggedExample) -> list[tuple[int, int]]:
        """Word spans of the example this variant can mix (non-overlapping)."""

    @abstractmethod
    def partner_pool(self) -> PartnerPool:
        """The partners of the candidate segments ``self._cand_ex``/``_cand_w0``/``_cand_w1``."""

    # -- fitting ---------------------------------------------------------------------------
    def fit(
        self, examples: Sequence[TaggedExample], labels: Sequence[str], cache: SubwordCache
    ) -> SegMixAugmenter:
        """Build the pools and the tables the sampler reads; return ``self``."""
        self.examples = examples
        self.space = LabelSpace(labels)
        if self.space.o is None and self.mix_pad_label == "o":
            raise ValueError(
                "--pad-label o labels pad words O, and word labels (part-of-speech tags) have "
                "no O: use inside or ignore"
            )
        self.pad_id = cache.pad_id
        self.max_length = cache.max_length
        self._build_pools(examples, cache)
        spans = [sorted(self.candidate_spans(ex)) for ex in examples]
        self._set_candidates(spans)
        pool = self.partner_pool()
        free = self._build_groups(pool)
        if not free.all():  # candidates with no partner of another form are not candidates
            spans = _split_rows(spans, free)
            self._set_candidates(spans)
            pool = self.partner_pool()
            self._build_groups(pool)
        self._candidates = spans
        self._eligible = np.flatnonzero(self._cand_count > 0).astype(np.int64)
        self._partners = pool.segments
        self._build_tables(examples, pool.segments)
        return self

    def _set_candidates(self, spans: list[list[tuple[int, int]]]) -> None:
        counts = np.fromiter((len(c) for c in spans), dtype=np.int64, count=len(spans))
        self._cand_count = counts
        self._cand_first = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
        flat = np.asarray([s for c in spans for s in c], dtype=np.int64).reshape(-1, 2)
        self._cand_ex = np.repeat(np.arange(len(spans)), counts)
        self._cand_w0, self._cand_w1 = flat[:, 0], flat[:, 1]

    def _build_groups(self, pool: PartnerPool) -> np.ndarray:
        """Sort the tickets by (group, surface form) so that a candidate's partners are one
        range minus one block; return which candidates have any partner."""
        surface: dict[tuple[bytes, bytes], int] = {}

        def form(lens: np.ndarray, ids: np.ndarray) -> int:
            return surface.setdefault(_form_key(lens, ids), len(surface))

        seg_form = np.fromiter(
            (
                form(np.fromiter(map(len, s.pieces), np.int64), np.concatenate(s.pieces))
                for s in pool.segments
            ),
            dtype=np.int64,
            count=len(pool.segments),
        )
        cand_form = np.empty(len(self._cand_ex), dtype=np.int64)
        by_words: dict[tuple[str, ...], int] = {}  # equal words have equal sub-words
        for c, (e, w0, w1) in enumerate(
            zip(self._cand_ex.tolist(), self._cand_w0.tolist(), self._cand_w1.tolist(), strict=True)
        ):
            ex = self.examples[e]
            words = ex.words[w0:w1]
            found = by_words.get(words)
            if found is None:
                p0, p1 = ex.word_starts[w0], ex.word_starts[w1 - 1] + ex.word_lens[w1 - 1]
                found = by_words[words] = form(ex.word_lens[w0:w1], ex.ids[p0:p1])
            cand_form[c] = found
        tickets = np.asarray(pool.tickets, dtype=np.int64)
        t_group = np.asarray(pool.ticket_group, dtype=np.int64)
        c_group = np.asarray(pool.cand_group, dtype=np.int64)
        order = np.lexsort((seg_form[tickets], t_group))
        g_sorted = t_group[order]
        width = max(len(surface), 1)
        key_sorted = g_sorted * width + seg_form[tickets][order]
        c_key = c_group * width + cand_form
        lo = np.searchsorted(g_sorted, c_group, "left")
        hi = np.searchsorted(g_sorted, c_group, "right")
        x_lo = np.searchsorted(key_sorted, c_key, "left")
        x_hi = np.searchsorted(key_sorted, c_key, "right")
        no_group = c_group < 0
        # kept for segments outside the training set (:meth:`foreign_partners`)
        self._surface, self._form_width = surface, width
        self._ticket_group_sorted, self._ticket_key_sorted = g_sorted, key_sorted
        self._tickets = tickets[order]
        self._grp_start = lo
        self._grp_count = np.where(no_group, 0, hi - lo)
        self._skip_lo = x_lo - lo
        self._skip_n = np.where(no_group, 0, x_hi - x_lo)
        return self._grp_count - self._skip_n > 0

    def _build_tables(self, examples: Sequence[TaggedExample], partners: list[Segment]) -> None:
        """Flat arrays of the training set, its candidate segments and the partners.

        Every example's ids and labels back to back; every word's length, flat start and
        label; every candidate segment and every partner as a
        :class:`~segmix.augment.packed.SegmentTable` row.
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

        cand_ex = self._cand_ex
        cand_words = self._cand_w1 - self._cand_w0
        width = int(cand_words.max()) if len(cand_words) else 1
        g0 = word_first[cand_ex] + self._cand_w0
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
        width = max(max((len(p) for p in partners), default=1), 1)
        self._other, extra = SegmentTable.from_segments(partners, width, offset=len(self._flat_ids))
        self._pieces = np.concatenate([self._flat_ids, extra])

    # -- drawing ---------------------------------------------------------------------------
    def draw_partner_rows(self, rng: np.random.Generator, cand: np.ndarray) -> np.ndarray:
        """A partner row for each candidate row in ``cand``: uniform over its group's tickets,
        skipping the block of its own surface form."""
        free = self._grp_count[cand] - self._skip_n[cand]
        u = (rng.random(len(cand)) * free).astype(np.int64)
        u += (u >= self._skip_lo[cand]) * self._skip_n[cand]
        return self._tickets[self._grp_start[cand] + u]

    # -- segments outside the training set (mixtures) ------------------------------------------
    def foreign_group(self, example: TaggedExample, span: tuple[int, int]) -> int | None:
        """The partner group of segment ``span`` of a sentence outside the training set (a
        rule's rewrite of a training sentence), as :meth:`partner_pool` gives it to a training
        candidate; ``None``: no group, not mixable.

        Not abstract, so that a variant needs it only to be mixed after a rule
        (:mod:`segmix.augment.mixtures`).
        """
        raise NotImplementedError(
            f"{type(self).__name__} cannot mix a segment of a sentence outside the training set"
        )

    def foreign_partners(
        self, example: TaggedExample, span: tuple[int, int]
    ) -> PartnerRange | None:
        """Whom segment ``span`` of a sentence outside the training set may be mixed with:
        the tickets of its group (:meth:`foreign_group`) minus those of its own surface form,
        exactly as for a training candidate of that group and form; ``None`` when none is left.

        ``span`` must be one of ``candidate_spans(example)``.
        """
        group = self.foreign_group(example, span)
        if group is None:
            return None
        lo = int(np.searchsorted(self._ticket_group_sorted, group, "left"))
        hi = int(np.searchsorted(self._ticket_group_sorted, group, "right"))
        form = self._surface.get(_span_form(example, span))
        skip_lo = skip_n = 0
        if form is not None:  # a form no partner has leaves nothing to skip
            key = group * self._form_width + form
            x_lo = int(np.searchsorted(self._ticket_key_sorted, key, "left"))
            x_hi = int(np.searchsorted(self._ticket_key_sorted, key, "right"))
            skip_lo, skip_n = x_lo - lo, x_hi - x_lo
        found = PartnerRange(self._partners, self._tickets, lo, hi - lo, skip_lo, skip_n)
        return found if found.free > 0 else None

    def _draw_slots(self, rng: np.random.Generator, sources: np.ndarray) -> np.ndarray:
        """``min(k, count)`` distinct candidate rows of each original, in sentence order."""
        n, k = len(sources), self.k
        count = self._cand_count[sources]
        m = np.minimum(count, k)
        picks = np.full((n, k), -1, dtype=np.int64)
        for j in range(k):
            r = (rng.random(n) * np.maximum(count - j, 0)).astype(np.int64)
            # the r-th index not yet picked: step over the earlier picks, smallest first
            earlier = np.sort(picks[:, :j], axis=1)
            for i in range(j):
                r += r >= earlier[:, i]
            picks[:, j] = np.where(j < m, r, -1)
        if k > 1:  # sentence order; the empty slots (-1) stay last
            top = np.iinfo(np.int64).max
            picks = np.sort(np.where(picks < 0, top, picks), axis=1)
            picks[picks == top] = -1
        return np.where(picks >= 0, self._cand_first[sources][:, None] + picks, -1)

    def _mixed_length(self, source: np.ndarray, cand: np.ndarray, partner: np.ndarray):
        """Sub-words of each mix (``cand``/``partner`` are ``[n, k]``, ``-1`` for no slot)."""
        used = cand >= 0
        c, p = np.where(used, cand, 0).ravel(), np.where(used, partner, 0).ravel()
        w = max(self._own.width, self._other.width)
        seg = np.maximum(widen(self._own.word_lens[c], w), widen(self._other.word_lens[p], w))
        growth = (seg.sum(1) - (self._own_end[c] - self._own_pos[c])).reshape(cand.shape)
        return self._ex_len[source] + np.where(used, growth, 0).sum(1)

    def draw_batch(
        self, rng: np.random.Generator, sources: np.ndarray
    ) -> tuple[MixBatch, np.ndarray]:
        n = len(sources)
        cand = self._draw_slots(rng, sources) if n else np.zeros((0, self.k), dtype=np.int64)
        used = cand >= 0
        partner = np.full(cand.shape, -1, dtype=np.int64)
        partner[used] = self.draw_partner_rows(rng, cand[used])
        # the length guard: redraw the partners of mixes that would pass the model's limit
        length = self._mixed_length(sources, cand, partner)
        for _ in range(self.max_tries - 1):
            too_long = length > self.max_length
            if not too_long.any():
                break
            redo = used & too_long[:, None]
            partner[redo] = self.draw_partner_rows(rng, cand[redo])
            length[too_long] = self._mixed_length(
                sources[too_long], cand[too_long], partner[too_long]
            )
        ok = used.any(1) & (length <= self.max_length)
        lam = np.where(used, self.draw_lambdas(rng, cand.shape), 0.0)
        return MixBatch(
            source=np.asarray(sources, np.int64), cand=cand, partner=partner, lam=lam
        ), ok

    def batch_params(self, batch: MixBatch) -> list[MixParams]:
        out = []
        for source, cand, partner, lam in zip(
            batch.source.tolist(),
            batch.cand.tolist(),
            batch.partner.tolist(),
            batch.lam.tolist(),
            strict=True,
        ):
            slots = [j for j, c in enumerate(cand) if c >= 0]
            out.append(
                MixParams(
                    source=source,
                    spans=tuple(
                        (int(self._cand_w0[cand[j]]), int(self._cand_w1[cand[j]])) for j in slots
                    ),
                    partners=tuple(self._partners[partner[j]] for j in slots),
                    lams=tuple(float(lam[j]) for j in slots),
                )
            )
        return out

    # -- building --------------------------------------------------------------------------
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
            pad_label=self.mix_pad_label,
            o_label=self.space.o,
            source=params.source,
        )

    traceable: ClassVar[bool] = True

    def trace(self, params: MixParams) -> MixTrace:
        return MixTrace(
            params.source,
            tuple(in_sentence_order(params.spans, [self.place_of(p) for p in params.partners])),
            substituted=self.pool_kind == "synonyms",
        )

    def generate(self, n: int, rng: np.random.Generator) -> Sequence[MixedExample]:
        """``n`` mixed examples; with ``k == 1`` all are built at once (see ``packed``)."""
        batch = self.sample_batch(rng, n)
        if self.k != 1:
            return [self.apply(p) for p in self.batch_params(batch)]
        if not len(batch):
            return []
        return self.pack(batch)

    def pack(self, batch: MixBatch) -> PackedMixes:
        """The mixes of a one-segment batch, built with whole-array operations."""
        source, cand, partner, lam = (
            batch.source,
            batch.cand[:, 0],
            batch.partner[:, 0],
            batch.lam[:, 0],
        )
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
            pad_label=self.mix_pad_label,
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

    def describe(self) -> dict:
        return {**super().describe(), "k": self.k, "pad_label": self.mix_pad_label}


def _split_rows(spans: list[list[Any]], keep: np.ndarray) -> list[list[Any]]:
    """``spans`` (a list of lists, flattened in order) without the flat entries ``keep`` drops."""
    out, i = [], 0
    for row in spans:
        out.append([s for j, s in enumerate(row) if keep[i + j]])
        i += len(row)
    return out


class MentionMix(SegMixAugmenter):
    """MMix: an entity mention mixed with a mention from the pool.

    Args:
        same_type: draw partners of the mention's own type only (default: any type).
    """

    name = "mmix"
    pool_kind = "mentions"

    def __init__(self, *, same_type: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.same_type = bool(same_type)

    def _build_pools(self, examples, cache) -> None:
        self.pool = MentionPool(examples, self.space)
        #: the partner group of each type under ``same_type``
        self._type_group = {t: i for i, t in enumerate(self.pool.by_type)}

    def candidate_spans(self, example):
        return list(example.mentions)

    def foreign_group(self, example, span):
        if not self.same_type:
            return 0
        return self._type_group.get(self.space.type_of[int(example.word_labels[span[0]])] or "")

    def partner_pool(self) -> PartnerPool:
        n = len(self.pool)
        if not self.same_type:
            return PartnerPool(
                self.pool.segments,
                np.arange(n),
                np.zeros(n, np.int64),
                np.zeros(len(self._cand_ex), np.int64),
            )
        types = self._type_group
        cand_types = (
            self.space.type_of[int(self.examples[e].word_labels[w])] or ""
            for e, w in zip(self._cand_ex, self._cand_w0, strict=True)
        )
        return PartnerPool(
            self.pool.segments,
            np.arange(n),
            np.asarray([types[t] for t in self.pool.types], dtype=np.int64),
            np.fromiter(
                (types.get(t, -1) for t in cand_types), dtype=np.int64, count=len(self._cand_ex)
            ),
        )

    def describe(self) -> dict:
        return {**super().describe(), "same_type": self.same_type}

    def pool_sources(self) -> tuple[Sequence[Segment], list[tuple[int, int]]]:
        places = [(i, s) for i, ex in enumerate(self.examples) for s, _ in ex.mentions]
        return self.pool.segments, places


class TokenMix(SegMixAugmenter):
    """TMix: one word mixed with a word from the token pool.

    Args:
        same_label: draw partners with the word's own label only (default: any label).
        entities_only: mix only words inside a mention (default: any word).
    """

    name = "tmix"
    pool_kind = "tokens"

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

    def foreign_group(self, example, span):
        return int(example.word_labels[span[0]]) if self.same_label else 0

    def partner_pool(self) -> PartnerPool:
        occ = self.pool.occurrences.astype(np.int64)
        n_cand = len(self._cand_ex)
        if not self.same_label:
            return PartnerPool(
                self.pool.segments, occ, np.zeros(len(occ), np.int64), np.zeros(n_cand, np.int64)
            )
        entry_label = np.fromiter(
            (int(s.labels[0]) for s in self.pool.segments),
            dtype=np.int64,
            count=len(self.pool.segments),
        )
        cand_label = np.fromiter(
            (
                int(self.examples[e].word_labels[w])
                for e, w in zip(self._cand_ex, self._cand_w0, strict=True)
            ),
            dtype=np.int64,
            count=n_cand,
        )
        return PartnerPool(self.pool.segments, occ, entry_label[occ], cand_label)

    def describe(self) -> dict:
        return {
            **super().describe(),
            "same_label": self.same_label,
            "entities_only": self.entities_only,
        }

    def pool_sources(self) -> tuple[Sequence[Segment], list[tuple[int, int]]]:
        """One entry per distinct (word, label), at its first occurrence (the pool's order)."""
        places, seen = [], set()
        for i, ex in enumerate(self.examples):
            for j, word in enumerate(ex.words):
                key = (word, int(ex.word_labels[j]))
                if key not in seen:
                    seen.add(key)
                    places.append((i, j))
        return self.pool.segments, places


class SynonymMix(SegMixAugmenter):
    """SMix: a word that has a WordNet synonym mixed with one of its synonyms.

    Both sides carry the word's own label: a multi-word synonym is tagged ``B-X I-X …`` (or
    ``O O …``) and the original word's pad words ``I-X`` (or ``O``), whatever ``pad_label``
    says. ``lexicon`` maps a word to its synonyms (each a tuple of words, see
    :class:`segmix.wordnet.SynonymLexicon`); by default one is built from WordNet for the
    training vocabulary. A sentence-initial word tagged ``O`` may take the lexicon's
    sentence-initial synonyms (:meth:`segmix.wordnet.SynonymLexicon.lookup`).
    """

    name = "smix"
    pool_kind = "synonyms"

    def __init__(self, *, lexicon=None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lexicon = lexicon

    @property
    def mix_pad_label(self) -> str:
        return "inside"  # the pad words of the original word continue its own label

    def _build_pools(self, examples, cache) -> None:
        if self.lexicon is None:
            from segmix.wordnet import SynonymLexicon

            self.lexicon = SynonymLexicon({w for ex in examples for w in ex.words})
        self.pool = SynonymPool(self.lexicon, cache, self.space)
        self.pool.prepare(self.synonym_key(ex, j) for ex in examples for j in range(len(ex.words)))

    def synonym_key(self, example: TaggedExample, j: int) -> tuple[str, int, bool]:
        """The synonym options a word draws from: its form, its label, sentence-initial."""
        label = int(example.word_labels[j])
        return example.words[j], label, j == 0 and label == self.space.o

    def candidate_spans(self, example):
        return [
            (j, j + 1)
            for j in range(len(example.words))
            if self.pool.options(*self.synonym_key(example, j))
        ]

    def foreign_group(self, example, span):
        return self._group_of.get(self.synonym_key(example, span[0]))

    def foreign_partners(self, example, span):
        """A word outside the training set draws among its own synonyms (:meth:`_key`), minus
        those with its own surface form, like a training word. A key no training candidate has
        (a word moved to the sentence start, say) has no group in the partner table: its options
        are read from the pool instead, with the same uniform draw."""
        if self.foreign_group(example, span) is not None:
            return super().foreign_partners(example, span)
        own = _span_form(example, span)
        options = [
            s
            for s in self.pool.options(*self.synonym_key(example, span[0]))
            if _form_key(np.fromiter(map(len, s.pieces), np.int64), np.concatenate(s.pieces)) != own
        ]
        if not options:
            return None
        return PartnerRange(options, np.arange(len(options)), 0, len(options))

    def partner_pool(self) -> PartnerPool:
        """Every synonym option of every candidate word, once per key (see :meth:`_key`)."""
        segments: list[Segment] = []
        group_of: dict[tuple[str, int, bool], int] = {}
        ticket_group: list[int] = []
        cand_group = np.zeros(len(self._cand_ex), dtype=np.int64)
        for c, (e, w) in enumerate(zip(self._cand_ex, self._cand_w0, strict=True)):
            key = self.synonym_key(self.examples[e], int(w))
            if key not in group_of:
                group_of[key] = len(group_of)
                options = self.pool.options(*key)
                segments.extend(options)
                ticket_group.extend([group_of[key]] * len(options))
            cand_group[c] = group_of[key]
        self._group_of = group_of  # for segments outside the training set
        return PartnerPool(
            segments, np.arange(len(segments)), np.asarray(ticket_group, np.int64), cand_group
        )
