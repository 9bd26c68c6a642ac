"""The one data structure every augmentation produces, and the deterministic mixing of segments.

A :class:`MixedExample` is two aligned sub-word sequences with a per-position weight and two label
sequences with a per-label weight (``../SEGMIX.md`` in the project docs)::

    inputs_embeds = w * E[ids_a] + (1 - w) * E[ids_b]
    loss          = v * CE(logits, labels_a) + (1 - v) * CE(logits, labels_b)

An original example is the degenerate case ``ids_b = ids_a``, ``w = 1``; so is a rule-based
augmentation on its new sentence. The model and the loss therefore never need to know which method
made a batch.

Randomness lives elsewhere (the augmenters draw λ and partners); :func:`mix_segments` only applies
given parameters, so tests pin the parameters and check exact values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from segmix.encoding import IGNORE_INDEX

PadLabel = Literal["inside", "o", "ignore"]
PAD_LABELS: tuple[str, ...] = ("inside", "o", "ignore")


@dataclass(frozen=True)
class Segment:
    """A run of whole words, as sub-word pieces, with one label per word.

    ``inside`` is the label a pad word takes on this segment's side under ``pad_label="inside"``:
    ``I-<type>`` when the segment is (part of) a mention, ``O`` otherwise.
    """

    pieces: tuple[np.ndarray, ...]
    labels: np.ndarray  # int64 [n_words]
    inside: int
    words: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.pieces)


@dataclass(frozen=True)
class MixRecord:
    """What one mixed segment was, for display and export: words of both sides and λ."""

    start: int  # word index of the segment in the original
    end: int
    words_a: tuple[str, ...]
    words_b: tuple[str, ...]
    lam: float
    labels_a: tuple[int, ...] = ()  # per aligned word pair (pad words included)
    labels_b: tuple[int, ...] = ()
    #: the words the segment became when its mixed embeddings were snapped to vocabulary tokens
    #: (SeqMix), one a word pair; empty: the mix stays continuous
    snapped: tuple[str, ...] = ()


@dataclass
class MixedExample:
    """Two aligned sub-word sequences, their mixing weights and their soft labels.

    ``labels_*``/``label_weight`` are per labelled unit: one per sub-word position for tagging
    (``IGNORE_INDEX`` except on first sub-words), one per example for sequence classification.
    ``anchors`` are positions a sequence head reads (the two entity start markers for relations).
    """

    ids_a: np.ndarray
    ids_b: np.ndarray
    weight: np.ndarray
    labels_a: np.ndarray
    labels_b: np.ndarray
    label_weight: np.ndarray
    anchors: np.ndarray | None = None
    source: int = -1
    mixes: tuple[MixRecord, ...] = field(default_factory=tuple)
    #: the words of a new discrete sentence (a rule-based augmentation); None: the source's
    words: tuple[str, ...] | None = None
    #: where side b joins side a: 0 mixes the word embeddings (every SegMix variant); ``m > 0``
    #: mixes the states the encoder's layer ``m`` outputs (LADA), the layers below run unmixed
    layer: int = 0
    #: side b as side a's *own* states at these positions (``-1``: side b is ``ids_b``), for a
    #: sentence mixed with itself (intra-LADA); ``ids_b`` then holds ``ids_a[positions]``
    positions: np.ndarray | None = None
    #: the positions side b's own forward attends (LADA at ``m > 0``); ``None``: every position
    #: of the mix, the union of both sentences, as LADA attends on both sides. Only segmix's
    #: earlier LADA (``lada_pads="earlier"``) sets it, to leave side b's pad words unattended
    attend_b: np.ndarray | None = None

    @property
    def is_mixed(self) -> bool:
        return bool(self.mixes)

    @property
    def mixes_hidden_states(self) -> bool:
        """Whether side b joins above the embeddings (the batch then needs the layer path)."""
        return self.layer > 0 and self.is_mixed

    def __len__(self) -> int:
        return len(self.ids_a)

    @classmethod
    def original(
        cls,
        ids: np.ndarray,
        labels: np.ndarray,
        *,
        anchors: np.ndarray | None = None,
        source: int = -1,
    ) -> MixedExample:
        """The degenerate mix: an example as it is (an original or a rule-based new sentence)."""
        return cls(
            ids_a=ids,
            ids_b=ids,
            weight=np.ones(len(ids), dtype=np.float32),
            labels_a=labels,
            labels_b=labels,
            label_weight=np.ones(len(labels), dtype=np.float32),
            anchors=anchors,
            source=source,
        )


def word_pieces(
    ids: np.ndarray, word_starts: np.ndarray, word_lens: np.ndarray, start: int, end: int
) -> tuple[np.ndarray, ...]:
    """The sub-word ids of words ``[start, end)`` of an encoded sentence, one array a word."""
    return tuple(ids[word_starts[j] : word_starts[j] + word_lens[j]] for j in range(start, end))


def pair_widths(lens_a: Sequence[int], lens_b: Sequence[int]) -> list[int]:
    """Sub-words of each aligned word pair: the longer of the two words (0 for a pad word)."""
    m, n = len(lens_a), len(lens_b)
    return [max(lens_a[j] if j < m else 0, lens_b[j] if j < n else 0) for j in range(max(m, n))]


def _pad_word_label(side_inside: int, other_label: int, pad_label: str, o_label: int) -> int:
    if pad_label == "inside":
        return side_inside
    if pad_label == "o":
        return o_label
    return other_label  # "ignore": this side has no say, the other side's label stands


def align_segments(
    seg_a: Segment, seg_b: Segment, lam: float, *, pad_id: int, pad_label: str, o_label: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Align two segments word by word and return the mixed span's six arrays.

    Words are paired over ``max(m, n)`` words; the shorter segment gets pad words. Each pair spans
    as many sub-words as the longer of its two words, the shorter padded with ``pad_id``. Labels
    sit on the pair's first sub-word; the rest are ``IGNORE_INDEX``.
    """
    m, n = len(seg_a), len(seg_b)
    widths = pair_widths([len(p) for p in seg_a.pieces], [len(p) for p in seg_b.pieces])
    total = sum(widths)
    ids_a = np.full(total, pad_id, dtype=np.int64)
    ids_b = np.full(total, pad_id, dtype=np.int64)
    labels_a = np.full(total, IGNORE_INDEX, dtype=np.int64)
    labels_b = np.full(total, IGNORE_INDEX, dtype=np.int64)
    pos = 0
    for j, width in enumerate(widths):
        if j < m:
            piece = seg_a.pieces[j]
            ids_a[pos : pos + len(piece)] = piece
        if j < n:
            piece = seg_b.pieces[j]
            ids_b[pos : pos + len(piece)] = piece
        if j < m and j < n:
            la, lb = int(seg_a.labels[j]), int(seg_b.labels[j])
        elif j < m:
            la = int(seg_a.labels[j])
            lb = _pad_word_label(seg_b.inside, la, pad_label, o_label)
        else:
            lb = int(seg_b.labels[j])
            la = _pad_word_label(seg_a.inside, lb, pad_label, o_label)
        labels_a[pos], labels_b[pos] = la, lb
        pos += width
    weight = np.full(total, lam, dtype=np.float32)
    label_weight = np.full(total, lam, dtype=np.float32)
    return ids_a, ids_b, weight, labels_a, labels_b, label_weight


def _word_boundary(word_starts: np.ndarray, word_lens: np.ndarray, k: int) -> int:
    """The sub-word position where word ``k`` starts (after the last word when ``k`` is past it)."""
    if k < len(word_starts):
        return int(word_starts[k])
    return int(word_starts[-1] + word_lens[-1])


def mix_segments(
    ids: np.ndarray,
    labels: np.ndarray,
    word_starts: np.ndarray,
    word_lens: np.ndarray,
    spans: Sequence[tuple[int, int]],
    segments_a: Sequence[Segment],
    partners: Sequence[Segment],
    lams: Sequence[float],
    *,
    pad_id: int,
    pad_label: str = "inside",
    o_label: int = 0,
    label_per_position: bool = True,
    sequence_labels: tuple[int, int] | None = None,
    anchors: np.ndarray | None = None,
    source: int = -1,
) -> MixedExample:
    """Replace each word span of an encoded example by its mix with a partner segment.

    ``spans`` are non-overlapping word ranges ``[start, end)`` of the example; ``segments_a[i]``
    is the example's own segment at ``spans[i]`` and ``partners[i]`` what it is mixed with at
    weight ``lams[i]``. Everything outside the spans keeps weight 1 and its own hard labels.
    A span may be empty, ``(k, k)``: this side has no words there, so the partner's words are
    inserted before word ``k`` against pad words (a relation region one side lacks).

    For sequence classification (``label_per_position=False``) ``labels`` is the example's
    one-element label array, ``sequence_labels`` the (a, b) pair and the label weight is
    ``lams[0]``; ``anchors`` (sub-word positions outside the spans) are moved with the text.
    """
    if pad_label not in PAD_LABELS:
        raise ValueError(f"pad_label must be one of {PAD_LABELS}, got {pad_label!r}")
    # by start, an empty span before a span that starts on the same word (inserted before it)
    order = sorted(range(len(spans)), key=lambda i: tuple(spans[i]))
    parts: list[tuple[np.ndarray, ...]] = []
    cursor = 0
    shifts: list[tuple[int, int]] = []  # (old end position, cumulative growth after it)
    growth = 0
    records = []
    for i in order:
        start, end = spans[i]
        if end > start:
            pos_start = int(word_starts[start])
            pos_end = int(word_starts[end - 1] + word_lens[end - 1])
        else:  # an empty span [k, k): the partner's words go in before word k, all pad here
            pos_start = pos_end = _word_boundary(word_starts, word_lens, start)
        keep = slice(cursor, pos_start)
        keep_ids = ids[keep]
        parts.append(
            (
                keep_ids,
                keep_ids,
                np.ones(len(keep_ids), dtype=np.float32),
                labels[keep] if label_per_position else None,
                labels[keep] if label_per_position else None,
                np.ones(len(keep_ids), dtype=np.float32) if label_per_position else None,
            )
        )
        mixed = align_segments(
            segments_a[i],
            partners[i],
            float(lams[i]),
            pad_id=pad_id,
            pad_label=pad_label,
            o_label=o_label,
        )
        parts.append(mixed)
        growth += len(mixed[0]) - (pos_end - pos_start)
        shifts.append((pos_end, growth))
        cursor = pos_end
        first = mixed[3] != IGNORE_INDEX
        records.append(
            MixRecord(
                start,
                end,
                segments_a[i].words,
                partners[i].words,
                float(lams[i]),
                tuple(mixed[3][first].tolist()),
                tuple(mixed[4][first].tolist()),
            )
        )
    tail_ids = ids[cursor:]
    parts.append(
        (
            tail_ids,
            tail_ids,
            np.ones(len(tail_ids), dtype=np.float32),
            labels[cursor:] if label_per_position else None,
            labels[cursor:] if label_per_position else None,
            np.ones(len(tail_ids), dtype=np.float32) if label_per_position else None,
        )
    )
    ids_a = np.concatenate([p[0] for p in parts])
    ids_b = np.concatenate([p[1] for p in parts])
    weight = np.concatenate([p[2] for p in parts])
    if label_per_position:
        labels_a = np.concatenate([p[3] for p in parts])
        labels_b = np.concatenate([p[4] for p in parts])
        label_weight = np.concatenate([p[5] for p in parts])
    else:
        if sequence_labels is None:
            raise ValueError("sequence_labels is required when label_per_position=False")
        labels_a = np.asarray([sequence_labels[0]], dtype=np.int64)
        labels_b = np.asarray([sequence_labels[1]], dtype=np.int64)
        label_weight = np.asarray([lams[0]], dtype=np.float32)
    new_anchors = None
    if anchors is not None:
        new_anchors = anchors.copy()
        for old_end, grown in shifts:
            new_anchors[anchors >= old_end] = anchors[anchors >= old_end] + grown
    return MixedExample(
        ids_a=ids_a,
        ids_b=ids_b,
        weight=weight,
        labels_a=labels_a,
        labels_b=labels_b,
        label_weight=label_weight,
        anchors=new_anchors,
        source=source,
        mixes=tuple(records),
    )


def render_mix(words: Sequence[str], mixed: MixedExample, labels: Sequence[str]) -> str:
    """A mixed sentence for people: ``He visited [New York City|Obama @0.70] .``.

    Each mixed segment shows both sides and λ (the share of the original side), followed by the
    soft label of every aligned word, ``B-LOC·0.70+B-PER·0.30``; a segment snapped to vocabulary
    tokens (SeqMix) shows the words it became after an arrow, ``[Obama|Paris → london @0.70]``.
    """
    out: list[str] = []
    cursor = 0
    for rec in mixed.mixes:
        out.extend(words[cursor : rec.start])
        soft = " ".join(
            labels[a] if a == b else f"{labels[a]}·{rec.lam:.2f}+{labels[b]}·{1 - rec.lam:.2f}"
            for a, b in zip(rec.labels_a, rec.labels_b, strict=True)
        )
        became = f" → {' '.join(rec.snapped)}" if rec.snapped else ""
        out.append(
            f"[{' '.join(rec.words_a)}|{' '.join(rec.words_b)}{became} @{rec.lam:.2f}]{{{soft}}}"
        )
        cursor = rec.end
    out.extend(words[cursor:])
    text = " ".join(out)
    if mixed.layer > 0:  # hidden-state mixing: say where the two sides meet
        text = f"(layer {mixed.layer}) {text}"
    return text


def mix_to_json(
    words: Sequence[str],
    mixed: MixedExample,
    labels: Sequence[str] | None = None,
    *,
    name_segments: bool = True,
) -> dict:
    """A mixed example as JSON: its segments in words and its six arrays in ids.

    A segment snapped to vocabulary tokens (SeqMix) adds ``snapped``, the words it became (the
    ids they are stand in both ``ids_a`` and ``ids_b``).

    Given the label list, the record names its labels too: ``labels_a_names`` and
    ``labels_b_names`` beside the id arrays (``null`` where the id is ``-100``, a position
    without a label), and each segment's ``labels_a``/``labels_b`` by name. ``name_segments``
    off leaves the segments' label ids as they are (relations, whose labels are one per
    example, not per word).
    """

    def name(i: int) -> str | int:
        return labels[i] if labels is not None and name_segments and i >= 0 else i

    record = {
        "source": mixed.source,
        "tokens": list(words),
        "mixes": [
            {
                "start": r.start,
                "end": r.end,
                "words_a": list(r.words_a),
                "words_b": list(r.words_b),
                "lambda": r.lam,
                "labels_a": [name(i) for i in r.labels_a],
                "labels_b": [name(i) for i in r.labels_b],
                **({"snapped": list(r.snapped)} if r.snapped else {}),
            }
            for r in mixed.mixes
        ],
        "ids_a": mixed.ids_a.tolist(),
        "ids_b": mixed.ids_b.tolist(),
        "weight": [round(float(w), 6) for w in mixed.weight],
        "labels_a": mixed.labels_a.tolist(),
        "labels_b": mixed.labels_b.tolist(),
        "label_weight": [round(float(w), 6) for w in mixed.label_weight],
    }
    if mixed.layer > 0 or mixed.positions is not None:
        record["layer"] = mixed.layer
        if mixed.positions is not None:
            record["positions"] = mixed.positions.tolist()
    if labels is not None:
        for side in ("labels_a", "labels_b"):
            record[f"{side}_names"] = [labels[i] if i >= 0 else None for i in record[side]]
    return record
