"""Rule-based augmentations for tagging (Dai & Adel, COLING 2020): LwTR, SR, MR, SiS, their union.

"An Analysis of Simple Data Augmentation for Named Entity Recognition" changes each word or
mention of a training sentence with probability ``p`` and keeps the labels hard:

- :class:`LabelwiseTokenReplacement` (``lwtr``): a word becomes a random training word with the
  same tag;
- :class:`SynonymReplacement` (``sr``): a word becomes one of its WordNet synonyms;
- :class:`MentionReplacement` (``mr``): a mention becomes a random training mention of its type;
- :class:`ShuffleWithinSegments` (``sis``): the words of a mention, or of a run of ``O`` words,
  are shuffled in place;
- :class:`RuleUnion` (``rules``): each new sentence made by one of the four, drawn uniformly.

A new sentence is the degenerate :class:`~segmix.mixing.MixedExample` (``ids_b = ids_a``,
weight 1), so it batches beside originals and SegMix mixes. Drawing and applying are split as in
:mod:`segmix.augment.segments`: :meth:`RuleAugmenter.sample_params` draws the original and its
edits into a :class:`RuleParams` (plain words and label ids), :meth:`RuleAugmenter.apply` splices
and encodes them, so a logged record replays exactly.

A draw that changes nothing (no unit selected, or every selected unit drawn back to itself) or
that would exceed the model's maximum length is redrawn, never truncated; ``generate(n)`` returns
``n`` changed sentences whenever some training sentence can change.

Usage::

    lwtr = LabelwiseTokenReplacement(p=0.3).fit(train_examples, labels, cache)
    new = lwtr.generate(40, np.random.default_rng(0))
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from segmix.augment.pools import LabelSpace
from segmix.encoding import IGNORE_INDEX, SubwordCache, TaggedExample
from segmix.mixing import MixedExample

logger = logging.getLogger(__name__)


def draw_until(n: int, n_eligible: int, draw) -> list[MixedExample]:
    """``n`` results of ``draw()`` (which returns ``None`` for a draw that does not fit),
    within a bounded number of attempts; none when nothing is eligible."""
    out: list[MixedExample] = []
    attempts = 0
    while len(out) < n and n_eligible and attempts < 20 * n + 100:
        attempts += 1
        made = draw()
        if made is not None:
            out.append(made)
    return out


def draw_and_apply(augmenter, rng: np.random.Generator):
    params = augmenter.sample_params(rng)
    return augmenter.apply(params) if params is not None else None


Span = tuple[int, int]


@dataclass(frozen=True)
class Edit:
    """Words ``[start, end)`` of the original replaced by ``words``, tagged ``labels`` (ids)."""

    start: int
    end: int
    words: tuple[str, ...]
    labels: tuple[int, ...]


@dataclass(frozen=True)
class RuleParams:
    """Everything random about one new sentence; ``apply`` needs nothing else.

    ``rule`` names the rule that drew it; ``edits`` are sorted and do not overlap, and each one
    changes the sentence.
    """

    rule: str
    source: int
    edits: tuple[Edit, ...]


def splice(
    words: Sequence[str], labels: Sequence[int], edits: Sequence[Edit]
) -> tuple[tuple[str, ...], np.ndarray]:
    """The words and word labels of a sentence after ``edits`` (sorted, non-overlapping)."""
    out_words: list[str] = []
    out_labels: list[int] = []
    cursor = 0
    for e in edits:
        if e.start < cursor or e.end > len(words) or len(e.words) != len(e.labels):
            raise ValueError(f"edit {e} does not fit a sentence of {len(words)} words")
        out_words.extend(words[cursor : e.start])
        out_labels.extend(int(lb) for lb in labels[cursor : e.start])
        out_words.extend(e.words)
        out_labels.extend(e.labels)
        cursor = e.end
    out_words.extend(words[cursor:])
    out_labels.extend(int(lb) for lb in labels[cursor:])
    return tuple(out_words), np.asarray(out_labels, dtype=np.int64)


class RuleAugmenter(ABC):
    """What every rule shares: ``p``, fitting, ``generate``, and ``apply`` (splice and encode).

    Args:
        p: probability of changing each word or mention (each unit of the rule), independently.
        max_tries: draws tried for one original before another original is drawn, when a draw
            changes nothing or the new sentence would exceed the model's maximum length.
    """

    name: ClassVar[str] = ""

    def __init__(self, *, p: float = 0.3, max_tries: int = 10) -> None:
        if not 0 <= p <= 1:
            raise ValueError(f"p must be between 0 and 1, got {p}")
        if max_tries < 1:
            raise ValueError(f"max_tries must be at least 1, got {max_tries}")
        self.p = float(p)
        self.max_tries = int(max_tries)
        self.examples: Sequence[TaggedExample] = ()
        self._eligible = np.zeros(0, dtype=np.int64)

    # -- fitting ---------------------------------------------------------------------------
    def fit(
        self, examples: Sequence[TaggedExample], labels: Sequence[str], cache: SubwordCache
    ) -> RuleAugmenter:
        """Build the rule's pools from the training examples; return ``self``."""
        self.examples = examples
        self.space = LabelSpace(labels)
        self.cache = cache
        self.max_length = cache.max_length
        self._eligible = np.asarray(self._fit(examples), dtype=np.int64)
        self._is_eligible = np.zeros(len(examples), dtype=bool)
        self._is_eligible[self._eligible] = True
        return self

    @abstractmethod
    def _fit(self, examples: Sequence[TaggedExample]) -> list[int]:
        """Build the pools; return the indices of the examples the rule can change."""

    @property
    def n_eligible(self) -> int:
        """Training examples this rule can change (none when ``p`` is 0)."""
        return len(self._eligible) if self.p > 0 else 0

    def can_change(self, source: int) -> bool:
        """Whether a draw for example ``source`` can give a different sentence."""
        return self.p > 0 and bool(self._is_eligible[source])

    # -- drawing and applying ----------------------------------------------------------------
    def _draw_source(self, rng: np.random.Generator) -> int | None:
        if not self.n_eligible:
            return None
        return int(self._eligible[rng.integers(len(self._eligible))])

    @abstractmethod
    def sample_params(
        self, rng: np.random.Generator, source: int | None = None
    ) -> RuleParams | None:
        """Draw one new sentence. ``source`` pins the original; otherwise an eligible one is
        drawn. ``None`` when no change was found within ``max_tries`` draws."""

    def new_sentence(self, params: RuleParams) -> tuple[tuple[str, ...], np.ndarray]:
        """The words and word label ids of the sentence ``params`` describe."""
        example = self.examples[params.source]
        return splice(example.words, example.word_labels, params.edits)

    def apply(self, params: RuleParams) -> MixedExample:
        """Encode the new sentence (deterministic): the degenerate mix with hard labels."""
        words, word_labels = self.new_sentence(params)
        enc = self.cache.encode(words)
        if len(enc.ids) > self.max_length:
            raise ValueError(
                f"{params.rule}: the new sentence of example {params.source} is {len(enc.ids)} "
                f"sub-words long, over the model's limit of {self.max_length}"
            )
        labels = np.full(len(enc.ids), IGNORE_INDEX, dtype=np.int64)
        labels[enc.word_starts] = word_labels
        example = MixedExample.original(enc.ids, labels, source=params.source)
        example.words = tuple(words)
        return example

    def generate(self, n: int, rng: np.random.Generator) -> list[MixedExample]:
        """``n`` changed sentences (fewer only if no training example can change)."""
        return draw_until(n, self.n_eligible, lambda: draw_and_apply(self, rng))

    def describe(self) -> dict:
        """The settings, for the run's config.json."""
        return {"name": self.name, "p": self.p}


class UnitRule(RuleAugmenter):
    """A rule that changes independent units (words or word runs) of a sentence: each unit is
    selected with probability ``p`` (a binomial draw over the sentence's units) and redrawn by
    :meth:`edit`.

    Only units that can change are drawn on (a unit that cannot change would be left as it is
    anyway, so the distribution is the paper's).
    """

    def _fit(self, examples: Sequence[TaggedExample]) -> list[int]:
        self._build_pools(examples)
        self._units = [self.units(ex) for ex in examples]
        return [i for i, u in enumerate(self._units) if u]

    @abstractmethod
    def _build_pools(self, examples: Sequence[TaggedExample]) -> None: ...

    @abstractmethod
    def units(self, example: TaggedExample) -> list[Span]:
        """Word spans of the example this rule can change, sorted and non-overlapping."""

    @abstractmethod
    def edit(self, rng: np.random.Generator, example: TaggedExample, span: Span) -> Edit:
        """A random replacement of ``span`` (it may happen to change nothing)."""

    def sample_params(
        self, rng: np.random.Generator, source: int | None = None
    ) -> RuleParams | None:
        if source is None:
            source = self._draw_source(rng)
        if source is None or not self.can_change(source):
            return None
        example, units = self.examples[source], self._units[source]
        for _ in range(self.max_tries):
            chosen = np.flatnonzero(rng.random(len(units)) < self.p)
            edits = [self.edit(rng, example, units[int(j)]) for j in chosen]
            edits = tuple(e for e in edits if _changes(example, e))
            if edits and self._length(example, edits) <= self.max_length:
                return RuleParams(rule=self.name, source=source, edits=edits)
        return None

    def _length(self, example: TaggedExample, edits: Sequence[Edit]) -> int:
        """Sub-words of the new sentence, without encoding it."""
        n = len(example.ids)
        for e in edits:
            n += sum(len(self.cache[w]) for w in e.words)
            n -= int(example.word_lens[e.start : e.end].sum())
        return n


def _changes(example: TaggedExample, e: Edit) -> bool:
    return e.words != example.words[e.start : e.end] or e.labels != tuple(
        int(lb) for lb in example.word_labels[e.start : e.end]
    )


class LabelwiseTokenReplacement(UnitRule):
    """LwTR: each word, with probability ``p``, becomes a random training word with its tag.

    The replacement is drawn over the word *occurrences* of that tag (a frequent word is drawn
    as often as it occurs) and may be the word itself; the tag sequence never changes. Words
    whose tag has only one distinct word in the training set cannot change.
    """

    name = "lwtr"

    def _build_pools(self, examples) -> None:
        by_label: dict[int, list[str]] = defaultdict(list)
        for ex in examples:
            for word, label in zip(ex.words, ex.word_labels, strict=True):
                by_label[int(label)].append(word)
        self._pool = dict(by_label)
        self._varied = {label for label, words in by_label.items() if len(set(words)) > 1}

    def units(self, example):
        return [(j, j + 1) for j, lb in enumerate(example.word_labels) if int(lb) in self._varied]

    def edit(self, rng, example, span):
        label = int(example.word_labels[span[0]])
        pool = self._pool[label]
        return Edit(span[0], span[1], (pool[int(rng.integers(len(pool)))],), (label,))


class SynonymReplacement(UnitRule):
    """SR: each word that has a synonym, with probability ``p``, becomes a random one of them.

    ``lexicon`` maps a word to its synonyms, each a tuple of words (see
    :class:`segmix.wordnet.SynonymLexicon`); by default one is built from WordNet for the
    training vocabulary, and a missing WordNet raises
    :class:`~segmix.wordnet.WordNetUnavailable`, as SMix does. A multi-word synonym takes the
    word's tag on its first word and ``I-<type>`` (or ``O``) on the rest: ``B-X`` becomes
    ``B-X I-X …``, ``I-X`` becomes ``I-X I-X …``, ``O`` becomes ``O O …``.
    """

    name = "sr"

    def __init__(self, *, lexicon=None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lexicon = lexicon

    def _build_pools(self, examples) -> None:
        if self.lexicon is None:
            from segmix.wordnet import SynonymLexicon

            self.lexicon = SynonymLexicon({w for ex in examples for w in ex.words})
        # every synonym's sub-words in one batched tokenizer call
        vocabulary = {w for ex in examples for w in ex.words}
        self.cache.add(w for word in vocabulary for syn in self.synonyms(word) for w in syn)

    def synonyms(self, word: str) -> tuple[tuple[str, ...], ...]:
        """The word's synonyms (none for a word the lexicon lacks)."""
        return tuple(self.lexicon[word]) if word in self.lexicon else ()

    def units(self, example):
        return [(j, j + 1) for j, w in enumerate(example.words) if self.synonyms(w)]

    def edit(self, rng, example, span):
        word, label = example.words[span[0]], int(example.word_labels[span[0]])
        options = self.synonyms(word)
        synonym = tuple(options[int(rng.integers(len(options)))])
        inside = int(self.space.inside[label])
        return Edit(span[0], span[1], synonym, (label,) + (inside,) * (len(synonym) - 1))


class MentionReplacement(UnitRule):
    """MR: each mention, with probability ``p``, becomes a random training mention of its type.

    Drawn uniformly over the mentions of that type (it may be the mention itself); its length
    may differ, and it is tagged ``B-X I-X …`` with the original mention's type X. Mentions of a
    type with a single distinct text in the training set cannot change.
    """

    name = "mr"

    def _build_pools(self, examples) -> None:
        by_type: dict[str, list[tuple[str, ...]]] = defaultdict(list)
        for ex in examples:
            for start, end in ex.mentions:
                by_type[self._type(ex, start)].append(ex.words[start:end])
        self._pool = dict(by_type)
        self._varied = {typ for typ, texts in by_type.items() if len(set(texts)) > 1}

    def _type(self, example: TaggedExample, start: int) -> str:
        return self.space.type_of[int(example.word_labels[start])] or ""

    def units(self, example):
        return [span for span in example.mentions if self._type(example, span[0]) in self._varied]

    def edit(self, rng, example, span):
        typ = self._type(example, span[0])
        pool = self._pool[typ]
        words = pool[int(rng.integers(len(pool)))]
        begin = self.space.label2id.get(f"B-{typ}", int(example.word_labels[span[0]]))
        inside = int(self.space.inside[begin])
        return Edit(span[0], span[1], words, (begin,) + (inside,) * (len(words) - 1))


class ShuffleWithinSegments(UnitRule):
    """SiS: the sentence split into runs of one type (each mention, each maximal run of ``O``
    words); each run, with probability ``p``, has its words shuffled. Tags stay in place.

    Runs with fewer than two distinct words cannot change; a shuffle may give the run back as it
    was (then that run is unchanged).
    """

    name = "sis"

    def _build_pools(self, examples) -> None:
        return None

    def runs(self, example: TaggedExample) -> list[Span]:
        """Every mention and every maximal run of ``O`` words, in order."""
        o = self.space.o
        runs: list[Span] = []
        mentions = {start: end for start, end in example.mentions}
        j, n = 0, len(example.words)
        while j < n:
            if j in mentions:
                end = mentions[j]
            else:
                end = j + 1
                if int(example.word_labels[j]) == o:
                    while end < n and end not in mentions and int(example.word_labels[end]) == o:
                        end += 1
            runs.append((j, end))
            j = end
        return runs

    def units(self, example):
        return [(s, e) for s, e in self.runs(example) if len(set(example.words[s:e])) > 1]

    def edit(self, rng, example, span):
        start, end = span
        order = rng.permutation(end - start)
        words = tuple(example.words[start + int(k)] for k in order)
        labels = tuple(int(lb) for lb in example.word_labels[start:end])
        return Edit(start, end, words, labels)


#: The rules of :class:`RuleUnion`, in the order their names are listed.
RULES: tuple[type[UnitRule], ...] = (
    LabelwiseTokenReplacement,
    SynonymReplacement,
    MentionReplacement,
    ShuffleWithinSegments,
)


class RuleUnion(RuleAugmenter):
    """The four rules together: each new sentence is made by one rule, drawn uniformly among the
    rules that can change the drawn original.

    An original is drawn uniformly among the examples some rule can change. SR is left out, with
    a warning, when WordNet is unavailable (and no ``lexicon`` is given); :meth:`describe` lists
    the rules in use.
    """

    name = "rules"

    def __init__(self, *, p: float = 0.3, max_tries: int = 10, lexicon=None) -> None:
        super().__init__(p=p, max_tries=max_tries)
        self.lexicon = lexicon
        self.rules: list[UnitRule] = []

    def _fit(self, examples) -> list[int]:
        from segmix.wordnet import WordNetUnavailable

        self.rules = []
        for cls in RULES:
            options = {"lexicon": self.lexicon} if cls is SynonymReplacement else {}
            rule = cls(p=self.p, max_tries=self.max_tries, **options)
            try:
                rule.fit(examples, self.space.labels, self.cache)
            except WordNetUnavailable as err:
                logger.warning("--augment rules: leaving out sr (%s)", err)
                continue
            self.rules.append(rule)
        eligible = np.zeros(len(examples), dtype=bool)
        for rule in self.rules:
            eligible[rule._eligible] = True
        return np.flatnonzero(eligible).tolist()

    def sample_params(
        self, rng: np.random.Generator, source: int | None = None
    ) -> RuleParams | None:
        if source is None:
            source = self._draw_source(rng)
        if source is None or not self.can_change(source):
            return None
        usable = [rule for rule in self.rules if rule.can_change(source)]
        rule = usable[int(rng.integers(len(usable)))]
        return rule.sample_params(rng, source)

    def describe(self) -> dict:
        return {**super().describe(), "rules": [rule.name for rule in self.rules]}
