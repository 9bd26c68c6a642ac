"""What the mixes look like: λ, padding, length mismatch, label well-formedness, sources.

The figures are read off the mixes an augmenter actually generates (the first draws of epoch 0,
as ``segmix augment`` and training make them), in chunks so that memory stays flat in the number
of mixes: only per-segment scalars (λ, lengths) are kept, never the mixes.

Definitions (the report repeats them in words):

- **mixed positions**: the sub-word positions of the mixed segments (their layout is rebuilt from
  each mix's records: aligned word pairs, each as wide as the longer of its two words);
- **padding**: a mixed position where either side holds the tokenizer's pad id (the shorter
  word or segment padded), counted over the mixed positions and over all positions of the mixes;
- **length mismatch**: per mixed segment, ``|words of side a − words of side b|`` and the same in
  sub-words;
- **well-formed** (entity tagging): a word-level tag sequence (the tag on each word's first
  sub-word) is well formed when no ``I-X`` follows the sentence start, an ``O`` or a tag of
  another type — strict IOB2 (seqeval's strict mode would start a new entity there; conlleval
  would silently repair it). Three sequences are checked per mix: side a's hard tags, side b's
  hard tags, and the arg-max of the soft target (side a's tag where its weight is ≥ 0.5, else
  side b's). Relations have one label per example, part-of-speech tags no spans: nothing to
  check (the task's inspection says which: :attr:`segmix.inspect.base.Inspection.checks_spans`).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from segmix.encoding import IGNORE_INDEX
from segmix.inspect.coverage import SUBWORD_CAP, WORD_CAP, distribution, float_summary, share
from segmix.mixing import MixedExample, MixRecord, pair_widths
from segmix.tasks import inspection_for

logger = logging.getLogger(__name__)

#: mixes generated at once: bounds memory whatever ``-n`` is
CHUNK = 500


@dataclass(frozen=True)
class Sentence:
    """Side a's own sentence of a mix: its words and their sub-word layout."""

    words: tuple[str, ...]
    ids: np.ndarray
    word_starts: np.ndarray
    word_lens: np.ndarray


def side_a_sentence(mix: MixedExample, train: Sequence, cache: Any) -> Sentence:
    """The sentence side a of ``mix`` was cut from: the training example, or the rule's new
    sentence for a mixture (``mix.words``), encoded as training encodes it."""
    if mix.words is None:
        ex = train[mix.source]
        return Sentence(tuple(ex.words), ex.ids, ex.word_starts, ex.word_lens)
    enc = cache.encode(list(mix.words))
    return Sentence(tuple(mix.words), enc.ids, enc.word_starts, enc.word_lens)


@dataclass(frozen=True)
class SegmentLayout:
    """Where one mixed segment lies in a mix, pair by pair."""

    record: MixRecord
    start: int  # sub-word position of the segment's first pair in the mix
    widths: tuple[int, ...]  # sub-words of each aligned word pair
    lens_a: tuple[int, ...]  # sub-words of side a's words (fewer entries: pad words)
    lens_b: tuple[int, ...]

    @property
    def pair_starts(self) -> list[int]:
        """Position of each aligned pair's first sub-word (where its label sits)."""
        return (self.start + np.concatenate(([0], np.cumsum(self.widths)[:-1]))).tolist()

    @property
    def end(self) -> int:
        return self.start + sum(self.widths)


def _boundary(sentence: Sentence, k: int) -> int:
    """The sub-word position where word ``k`` starts (after the last word when past it)."""
    if k < len(sentence.word_starts):
        return int(sentence.word_starts[k])
    if not len(sentence.word_starts):
        return len(sentence.ids)
    return int(sentence.word_starts[-1] + sentence.word_lens[-1])


def segment_layout(mix: MixedExample, sentence: Sentence, cache: Any) -> list[SegmentLayout] | None:
    """Rebuild each mixed segment's place in the mix from its record, as
    :func:`segmix.mixing.mix_segments` lays it out; ``None`` when the mix is not such a
    word-aligned segment mix (its length disagrees, or it mixes a sentence with itself)."""
    if mix.positions is not None:
        return None
    out = []
    growth = 0
    for rec in sorted(mix.mixes, key=lambda r: (r.start, r.end)):
        lens_a = tuple(int(x) for x in sentence.word_lens[rec.start : rec.end])
        lens_b = tuple(len(cache[w]) for w in rec.words_b)
        if len(lens_a) != len(rec.words_a):
            return None
        # a snapped segment (SeqMix) is one token a word pair, whatever the words' sub-words
        widths = (1,) * len(rec.snapped) if rec.snapped else tuple(pair_widths(lens_a, lens_b))
        out.append(
            SegmentLayout(rec, _boundary(sentence, rec.start) + growth, widths, lens_a, lens_b)
        )
        growth += sum(widths) - sum(lens_a)
    if len(sentence.ids) + growth != len(mix.ids_a):
        return None
    return out


def iob2_violations(tags: Sequence[str]) -> list[tuple[str, str]]:
    """``(previous, tag)`` for each ``I-X`` after the start, an ``O`` or another type."""
    out = []
    prev = "(start)"
    for tag in tags:
        if tag.startswith("I-") and (prev in ("(start)", "O") or prev[2:] != tag[2:]):
            out.append((prev, tag))
        prev = tag
    return out


def label_sequences(mix: MixedExample, labels: Sequence[str]) -> dict[str, list[str]]:
    """The three word-level tag sequences of a tagging mix: side a, side b, soft arg-max."""
    first = mix.labels_a != IGNORE_INDEX
    a = mix.labels_a[first]
    b = np.where(mix.labels_b[first] == IGNORE_INDEX, a, mix.labels_b[first])
    argmax = np.where(mix.label_weight[first] >= 0.5, a, b)
    return {
        "side_a": [labels[int(k)] for k in a],
        "side_b": [labels[int(k)] for k in b],
        "argmax": [labels[int(k)] for k in argmax],
    }


class MixStatistics:
    """Accumulates the figures of many mixes, one at a time (the mixes are not kept)."""

    SEQUENCES = ("side_a", "side_b", "argmax")

    def __init__(
        self, *, labels: Sequence[str], pad_id: int, cache: Any, train: Sequence, tagging: bool
    ) -> None:
        self.labels, self.pad_id, self.cache, self.train = list(labels), pad_id, cache, train
        self.tagging = tagging  # IOB2 span labels: check each mix's sequences are well formed
        self.mixes = 0
        self.lams: list[float] = []
        self.word_gap: list[int] = []
        self.subword_gap: list[int] = []
        self.positions = self.mixed_positions = 0
        self.pad_positions = self.pad_a = self.pad_b = 0
        self.unlaid = 0  # mixes whose segments could not be laid out: weight < 1 is used
        self.sources: Counter = Counter()
        self.layers: Counter = Counter()
        self.well_formed = dict.fromkeys((*self.SEQUENCES, "all"), 0)
        self.patterns = {k: Counter() for k in self.SEQUENCES}

    def add(self, mix: MixedExample) -> None:
        self.mixes += 1
        self.sources[mix.source] += 1
        if mix.layer:
            self.layers[mix.layer] += 1
        n = len(mix.ids_a)
        self.positions += n
        sentence = side_a_sentence(mix, self.train, self.cache)
        layout = segment_layout(mix, sentence, self.cache)
        if layout is None:  # e.g. intra-LADA: every position with weight < 1 is mixed
            self.unlaid += 1
            mixed = np.flatnonzero(mix.weight < 1.0)
        else:
            mixed = np.concatenate(
                [np.arange(s.start, s.end) for s in layout] or [np.zeros(0, np.int64)]
            )
        for rec in mix.mixes:
            self.lams.append(float(rec.lam))
            self.word_gap.append(abs(len(rec.words_a) - len(rec.words_b)))
        for seg in layout or ():
            self.subword_gap.append(abs(sum(seg.lens_a) - sum(seg.lens_b)))
        self.mixed_positions += len(mixed)
        pad_a = mix.ids_a[mixed] == self.pad_id
        pad_b = mix.ids_b[mixed] == self.pad_id
        self.pad_a += int(pad_a.sum())
        self.pad_b += int(pad_b.sum())
        self.pad_positions += int((pad_a | pad_b).sum())
        if self.tagging and len(mix.labels_a) == n:
            ok_all = True
            for name, seq in label_sequences(mix, self.labels).items():
                bad = iob2_violations(seq)
                if not bad:
                    self.well_formed[name] += 1
                else:
                    ok_all = False
                    self.patterns[name].update(f"{p} → {t}" for p, t in bad)
            self.well_formed["all"] += ok_all

    def result(self) -> dict:
        per_source = list(self.sources.values())
        out: dict[str, Any] = {
            "mixes": self.mixes,
            "segments": len(self.lams),
            "lambda": float_summary(self.lams),
            "padding": {
                "mixed_positions": self.mixed_positions,
                "all_positions": self.positions,
                "pad_positions": self.pad_positions,
                "share_of_mixed": share(self.pad_positions, self.mixed_positions),
                "share_of_all": share(self.pad_positions, self.positions),
                "pad_on_side_a": share(self.pad_a, self.mixed_positions),
                "pad_on_side_b": share(self.pad_b, self.mixed_positions),
                "mixes_without_layout": self.unlaid,
            },
            "length_mismatch": {
                "words": distribution(self.word_gap, cap=WORD_CAP),
                "subwords": distribution(self.subword_gap, cap=SUBWORD_CAP),
                "share_unequal_words": share(sum(g > 0 for g in self.word_gap), len(self.word_gap)),
            },
            "sources": {
                "distinct": len(self.sources),
                "training_examples": len(self.train),
                "share_of_training_set": share(len(self.sources), len(self.train)),
                "max_per_source": max(per_source, default=0),
                "per_source": distribution(per_source, cap=WORD_CAP),
            },
        }
        if self.layers:
            out["layers"] = {str(k): v for k, v in sorted(self.layers.items())}
        if self.tagging:
            out["well_formed"] = {
                name: share(count, self.mixes) for name, count in self.well_formed.items()
            }
            out["ill_formed_patterns"] = {
                name: dict(counter.most_common(5)) for name, counter in self.patterns.items()
            }
        else:
            out["well_formed"] = None
        return out


def generate_in_chunks(augmenter: Any, n: int, rng: np.random.Generator, chunk: int = CHUNK):
    """Yield lists of mixes, ``chunk`` at a time, ``n`` in all (fewer if none can be made)."""
    left = int(n)
    while left > 0:
        mixes = augmenter.generate(min(chunk, left), rng)
        if not len(mixes):
            logger.warning("the augmenter made no more mixes after %d", n - left)
            return
        left -= len(mixes)
        yield mixes


def mix_statistics(prep: Any, n: int, *, seed: int, show: int = 5) -> dict:
    """The mix block of the report over ``n`` mixes drawn as training's first epoch draws them,
    with ``show`` of them rendered as ``segmix augment`` prints them."""
    train, labels = prep.encoded["train"], prep.data.labels
    stats = MixStatistics(
        labels=labels,
        pad_id=prep.cache.pad_id,
        cache=prep.cache,
        train=train,
        tagging=inspection_for(prep.task).checks_spans,
    )
    rendered: list[str] = []
    for mixes in generate_in_chunks(prep.augmenter, n, np.random.default_rng([seed, 0])):
        for i in range(len(mixes)):
            mix = mixes[i]
            stats.add(mix)
            if len(rendered) < show:
                rendered.append(prep.task.render_mix(train[mix.source], mix, labels))
    out = stats.result()
    out["examples"] = rendered
    out["eligible_sources"] = int(getattr(prep.augmenter, "n_eligible", 0))
    return out
