"""Many one-segment mixes at once, vectorised: the fast path of MMix, TMix and SMix.

:func:`segmix.mixing.mix_segments` builds one mix with a few dozen small numpy calls; fine for a
display, too slow to make hundreds of thousands a second. Here the segments of the training set
and of the pool are tables of word lengths and piece positions, and the six arrays of *n* mixes
are computed with whole-array operations into flat buffers (:class:`PackedMixes`); a
:class:`~segmix.mixing.MixedExample` is a zero-copy view of one of them, made when it is read.

The arithmetic is the same as :func:`~segmix.mixing.align_segments` (tests check that both give
identical arrays for the same parameters).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from segmix.encoding import IGNORE_INDEX
from segmix.mixing import MixedExample, MixRecord, Segment


@dataclass
class SegmentTable:
    """Segments as arrays: ``n_words``, and per word its piece count, first piece's position in
    a flat id array, and label (padded to ``width`` words with zeros)."""

    n_words: np.ndarray  # [S]
    word_lens: np.ndarray  # [S, W]
    word_starts: np.ndarray  # [S, W] positions in the flat piece array
    word_labels: np.ndarray  # [S, W]
    inside: np.ndarray  # [S]

    @property
    def width(self) -> int:
        return self.word_lens.shape[1]

    @classmethod
    def from_segments(
        cls, segments: Sequence[Segment], width: int, offset: int
    ) -> tuple[SegmentTable, np.ndarray]:
        """A table for ``segments`` and their pieces, flat, to be placed at ``offset``."""
        n = len(segments)
        n_words = np.fromiter((len(s) for s in segments), dtype=np.int64, count=n)
        word_lens = np.zeros((n, width), dtype=np.int64)
        word_labels = np.zeros((n, width), dtype=np.int64)
        pieces = [p for s in segments for p in s.pieces]
        lens = np.fromiter((len(p) for p in pieces), dtype=np.int64, count=len(pieces))
        rows = np.repeat(np.arange(n), n_words)
        cols = np.arange(len(pieces)) - np.repeat(np.cumsum(n_words) - n_words, n_words)
        word_lens[rows, cols] = lens
        word_labels[rows, cols] = np.concatenate([s.labels for s in segments]) if n else []
        word_starts = np.zeros((n, width), dtype=np.int64)
        word_starts[rows, cols] = offset + np.cumsum(lens) - lens
        flat = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)
        inside = np.fromiter((s.inside for s in segments), dtype=np.int64, count=n)
        return cls(n_words, word_lens, word_starts, word_labels, inside), flat


@dataclass
class PackedMixes(Sequence):
    """*n* mixed examples in flat buffers; ``packed[i]`` is a :class:`MixedExample` view.

    ``source``/``start``/``end``/``partner``/``lam`` are the drawn parameters of each mix (the
    original, the word span, the partner's row in the pool, λ).
    """

    ids_a: np.ndarray
    ids_b: np.ndarray
    weight: np.ndarray
    labels_a: np.ndarray
    labels_b: np.ndarray
    label_weight: np.ndarray
    offsets: np.ndarray  # [n + 1]
    source: np.ndarray
    start: np.ndarray
    end: np.ndarray
    partner: np.ndarray
    lam: np.ndarray
    seg_pos: np.ndarray  # sub-word position where each mixed segment starts
    seg_len: np.ndarray
    words_of: object = None  # callable (source, start, end, partner) -> (words_a, words_b)

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        lo, hi = int(self.offsets[i]), int(self.offsets[i + 1])
        s0, s1 = lo + int(self.seg_pos[i]), lo + int(self.seg_pos[i] + self.seg_len[i])
        first = self.labels_a[s0:s1] != IGNORE_INDEX
        words_a, words_b = (
            self.words_of(
                int(self.source[i]), int(self.start[i]), int(self.end[i]), int(self.partner[i])
            )
            if self.words_of
            else ((), ())
        )
        record = MixRecord(
            int(self.start[i]),
            int(self.end[i]),
            words_a,
            words_b,
            float(self.lam[i]),
            tuple(self.labels_a[s0:s1][first].tolist()),
            tuple(self.labels_b[s0:s1][first].tolist()),
        )
        return MixedExample(
            ids_a=self.ids_a[lo:hi],
            ids_b=self.ids_b[lo:hi],
            weight=self.weight[lo:hi],
            labels_a=self.labels_a[lo:hi],
            labels_b=self.labels_b[lo:hi],
            label_weight=self.label_weight[lo:hi],
            source=int(self.source[i]),
            mixes=(record,),
        )

    @property
    def nbytes(self) -> int:
        return sum(
            a.nbytes
            for a in (
                self.ids_a,
                self.ids_b,
                self.weight,
                self.labels_a,
                self.labels_b,
                self.label_weight,
            )
        )


def pack_mixes(
    *,
    pieces: np.ndarray,
    labels: np.ndarray,
    ex_offset: np.ndarray,
    ex_len: np.ndarray,
    source: np.ndarray,
    own: SegmentTable,
    own_rows: np.ndarray,
    own_pos: np.ndarray,
    own_end: np.ndarray,
    other: SegmentTable,
    other_rows: np.ndarray,
    lam: np.ndarray,
    pad_id: int,
    pad_label: str,
    o_label: int,
) -> tuple[np.ndarray, ...]:
    """The six flat arrays, offsets, and segment positions of ``len(source)`` one-segment mixes.

    ``pieces``/``labels`` hold every example's sub-word ids and labels back to back (pool pieces
    may follow in ``pieces``); example ``e`` is at ``ex_offset[e]``, ``ex_len[e]`` long. Mix
    ``m`` replaces positions ``[own_pos[m], own_end[m])`` of ``source[m]`` (segment row
    ``own_rows[m]`` of ``own``) by its alignment with row ``other_rows[m]`` of ``other``.
    """
    n = len(source)
    width = max(own.width, other.width)
    a_len = widen(own.word_lens[own_rows], width)
    b_len = widen(other.word_lens[other_rows], width)
    pair = np.maximum(a_len, b_len)  # sub-words of each aligned word pair (0: no pair)
    seg_len = pair.sum(1)
    own_span = own_end - own_pos
    out_len = ex_len[source] - own_span + seg_len
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(out_len, out=offsets[1:])
    total = int(offsets[-1])

    # positions outside the segments copy the example (the suffix shifted by the growth)
    mix_of = np.repeat(np.arange(n), out_len)
    pos = np.arange(total) - offsets[mix_of]
    start_m = own_pos[mix_of]
    in_seg = (pos >= start_m) & (pos < start_m + seg_len[mix_of])
    outside = ~in_seg
    src_pos = np.where(pos < start_m, pos, pos - seg_len[mix_of] + own_span[mix_of])
    flat = ex_offset[source][mix_of] + src_pos
    ids_a = np.empty(total, dtype=np.int64)
    labels_a = np.empty(total, dtype=np.int64)
    copy_idx = flat[outside]
    ids_a[outside] = pieces[copy_idx]
    labels_a[outside] = labels[copy_idx]
    ids_b = ids_a.copy()
    labels_b = labels_a.copy()
    weight = np.ones(total, dtype=np.float32)
    label_weight = np.ones(total, dtype=np.float32)

    # the segments: one row per (mix, aligned word), expanded to its sub-words
    pair_flat = pair.ravel()
    word_of = np.repeat(np.arange(pair_flat.size), pair_flat)
    r = np.arange(word_of.size) - np.repeat(np.cumsum(pair_flat) - pair_flat, pair_flat)
    m_of, j_of = np.divmod(word_of, width)
    a_start = widen(own.word_starts[own_rows], width).ravel()[word_of]
    b_start = widen(other.word_starts[other_rows], width).ravel()[word_of]
    a_has = r < a_len.ravel()[word_of]
    b_has = r < b_len.ravel()[word_of]
    seg_a = np.where(a_has, pieces[np.where(a_has, a_start + r, 0)], pad_id)
    seg_b = np.where(b_has, pieces[np.where(b_has, b_start + r, 0)], pad_id)

    first = r == 0
    wa = own.n_words[own_rows][m_of]
    wb = other.n_words[other_rows][m_of]
    la = widen(own.word_labels[own_rows], width).ravel()[word_of]
    lb = widen(other.word_labels[other_rows], width).ravel()[word_of]
    a_pad, b_pad = j_of >= wa, j_of >= wb
    if pad_label == "inside":
        la = np.where(a_pad, own.inside[own_rows][m_of], la)
        lb = np.where(b_pad, other.inside[other_rows][m_of], lb)
    elif pad_label == "o":
        la = np.where(a_pad, o_label, la)
        lb = np.where(b_pad, o_label, lb)
    else:  # ignore: a pad word's side takes the other side's label
        la, lb = np.where(a_pad, lb, la), np.where(b_pad, la, lb)
    seg_la = np.where(first, la, IGNORE_INDEX)
    seg_lb = np.where(first, lb, IGNORE_INDEX)

    ids_a[in_seg] = seg_a
    ids_b[in_seg] = seg_b
    labels_a[in_seg] = seg_la
    labels_b[in_seg] = seg_lb
    lam_seg = lam.astype(np.float32)[m_of]
    weight[in_seg] = lam_seg
    label_weight[in_seg] = lam_seg
    return ids_a, ids_b, weight, labels_a, labels_b, label_weight, offsets, seg_len


def widen(a: np.ndarray, width: int) -> np.ndarray:
    """Zero-pad a ``[rows, words]`` table to ``width`` words."""
    if a.shape[1] == width:
        return a
    out = np.zeros((a.shape[0], width), dtype=a.dtype)
    out[:, : a.shape[1]] = a
    return out
