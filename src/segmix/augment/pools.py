"""Segment pools built once from the training set: mentions, words, synonyms.

Pools hold segments already in sub-word space (:class:`segmix.mixing.Segment`), so drawing a
partner is an index lookup. They grow linearly with the training set: one small record per
mention, one per distinct (word, label) pair plus one integer per word occurrence.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from segmix.encoding import SubwordCache
from segmix.mixing import Segment, word_pieces
from segmix.tasks.tagging.encoding import TaggedExample


class LabelSpace:
    """A label list with what mixing needs of it: the ``O`` id and each label's 'inside'.

    Two kinds of label list: IOB2 span labels (``O``, ``B-X``, ``I-X``: entity tagging) and word
    labels (each word its own tag: part-of-speech tagging). For span labels ``inside[l]`` is
    ``I-<type of l>`` for a ``B-``/``I-`` label and ``O`` for ``O``: the label a pad word
    continuing that side's segment takes. For word labels there is no ``O`` (``o`` is ``None``)
    and a pad word continues the word's own label (``inside[l] == l``): ``ice cream`` for a noun
    is tagged ``NOUN NOUN``. ``spans=None`` reads the kind off the labels: span labels when
    every label is ``O`` or starts with ``B-``/``I-``.
    """

    def __init__(self, labels: Sequence[str], *, spans: bool | None = None) -> None:
        self.labels = list(labels)
        self.label2id = {label: i for i, label in enumerate(self.labels)}
        if spans is None:
            spans = all(lb == "O" or lb[:2] in ("B-", "I-") for lb in self.labels)
        self.spans = bool(spans)
        if not self.spans:
            self.o: int | None = None
            self.inside = np.arange(len(self.labels), dtype=np.int64)
            self.type_of: list[str | None] = list(self.labels)
            return
        if "O" not in self.label2id:
            raise ValueError(f"the label list has no 'O': {self.labels}")
        self.o = self.label2id["O"]
        inside = np.full(len(self.labels), self.o, dtype=np.int64)
        types: list[str | None] = []
        for i, label in enumerate(self.labels):
            prefix, _, typ = label.partition("-")
            types.append(typ or None)
            if prefix in ("B", "I"):
                inside[i] = self.label2id.get(f"I-{typ}", i)
        self.inside = inside
        self.type_of = types

    def __len__(self) -> int:
        return len(self.labels)


def segment_of(example: TaggedExample, start: int, end: int, space: LabelSpace) -> Segment:
    """The example's own words ``[start, end)`` as a segment."""
    pieces = word_pieces(example.ids, example.word_starts, example.word_lens, start, end)
    labels = example.word_labels[start:end]
    return Segment(
        pieces=pieces,
        labels=labels,
        inside=int(space.inside[labels[-1]]),
        words=example.words[start:end],
    )


class MentionPool:
    """Every entity mention of the training set, with its type; drawn uniformly.

    Uniform over mentions equals the prototype's 'sentence weighted by its number of mentions,
    then one of its mentions'.
    """

    def __init__(self, examples: Sequence[TaggedExample], space: LabelSpace) -> None:
        self.segments: list[Segment] = []
        types: list[str] = []
        for ex in examples:
            for start, end in ex.mentions:
                seg = segment_of(ex, start, end, space)
                self.segments.append(seg)
                types.append(space.type_of[int(seg.labels[0])] or "")
        self.types = np.asarray(types)
        self.by_type = {t: np.flatnonzero(self.types == t) for t in sorted(set(types))}

    def __len__(self) -> int:
        return len(self.segments)

    def sample(self, rng: np.random.Generator, entity_type: str | None = None) -> Segment | None:
        if entity_type is None:
            return self.segments[int(rng.integers(len(self.segments)))] if self.segments else None
        idx = self.by_type.get(entity_type)
        if idx is None or len(idx) == 0:
            return None
        return self.segments[int(idx[rng.integers(len(idx))])]


class TokenPool:
    """Every word occurrence of the training set with its label; drawn by frequency.

    Distinct (word, label) pairs are stored once; occurrences are one integer each, so a
    frequent word is drawn as often as it occurs (like LwTR's 'random training word').
    """

    def __init__(self, examples: Sequence[TaggedExample], space: LabelSpace) -> None:
        index: dict[tuple[str, int], int] = {}
        self.segments: list[Segment] = []
        occurrences: list[int] = []
        for ex in examples:
            for j, word in enumerate(ex.words):
                key = (word, int(ex.word_labels[j]))
                entry = index.get(key)
                if entry is None:
                    entry = index[key] = len(self.segments)
                    self.segments.append(segment_of(ex, j, j + 1, space))
                occurrences.append(entry)
        self.occurrences = np.asarray(occurrences, dtype=np.int32)
        entry_labels = np.fromiter(
            (int(s.labels[0]) for s in self.segments), dtype=np.int64, count=len(self.segments)
        )
        occ_labels = entry_labels[self.occurrences] if len(self.occurrences) else entry_labels
        self.by_label = {int(lb): np.flatnonzero(occ_labels == lb) for lb in np.unique(occ_labels)}

    def __len__(self) -> int:
        return len(self.occurrences)

    def sample(self, rng: np.random.Generator, label: int | None = None) -> Segment | None:
        if label is None:
            if not len(self.occurrences):
                return None
            return self.segments[int(self.occurrences[rng.integers(len(self.occurrences))])]
        idx = self.by_label.get(int(label))
        if idx is None or len(idx) == 0:
            return None
        return self.segments[int(self.occurrences[idx[rng.integers(len(idx))]])]


class SynonymPool:
    """WordNet synonyms of the training words, as segments labelled like the word they replace.

    A multi-word synonym of a word tagged ``B-X`` is tagged ``B-X I-X …``; of an ``O`` word,
    ``O O …`` — both sides of an SMix agree on the label, as SEGMIX.md specifies.

    ``initial`` asks for a sentence-initial word's synonyms: the lexicon's
    :meth:`~segmix.wordnet.SynonymLexicon.lookup` with ``initial=True`` where it has one (a
    capitalised word without proper-noun senses then takes its lower-case senses,
    re-capitalised); a plain mapping is read as it is.
    """

    def __init__(self, lexicon, cache: SubwordCache, space: LabelSpace) -> None:
        self.lexicon = lexicon
        self.cache = cache
        self.space = space
        self._segments: dict[tuple[str, int, bool], tuple[Segment, ...]] = {}
        cache.add(w for word in lexicon.words() for syn in lexicon[word] for w in syn)

    def __contains__(self, word: str) -> bool:
        return word in self.lexicon

    def synonyms(
        self, word: str, initial: bool = False, label: int | None = None
    ) -> tuple[tuple[str, ...], ...]:
        """The word's synonyms, each a tuple of words (none for a word the lexicon lacks).

        A lexicon with ``lookup_tagged`` (part-of-speech tagging's) is asked with the word's
        label too, so that a noun takes noun synonyms only."""
        tagged = getattr(self.lexicon, "lookup_tagged", None)
        if tagged is not None and label is not None:
            return tuple(tagged(word, self.space.labels[label], initial=initial))
        lookup = getattr(self.lexicon, "lookup", None)
        if lookup is not None:
            return tuple(lookup(word, initial=initial))
        return tuple(self.lexicon[word]) if word in self.lexicon else ()

    def prepare(self, keys) -> None:
        """Tokenise, in one call, the synonyms of every ``(word, label, initial)`` key."""
        self.cache.add(
            w
            for word, label, initial in {(k[0], int(k[1]), bool(k[2])) for k in keys}
            for syn in self.synonyms(word, initial, label)
            for w in syn
        )

    def options(self, word: str, label: int, initial: bool = False) -> tuple[Segment, ...]:
        key = (word, int(label), bool(initial))
        found = self._segments.get(key)
        if found is None:
            inside = int(self.space.inside[label])
            found = tuple(
                Segment(
                    pieces=tuple(self.cache[w] for w in syn),
                    labels=np.asarray([label] + [inside] * (len(syn) - 1), dtype=np.int64),
                    inside=inside,
                    words=tuple(syn),
                )
                for syn in self.synonyms(word, initial, label)
            )
            self._segments[key] = found
        return found

    def sample(
        self, rng: np.random.Generator, word: str, label: int, initial: bool = False
    ) -> Segment | None:
        options = self.options(word, label, initial)
        return options[int(rng.integers(len(options)))] if options else None
