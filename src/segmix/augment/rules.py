"""Rule-based augmentations for tagging (Dai & Adel, COLING 2020): LwTR, SR, MR, SiS, their union.

"An Analysis of Simple Data Augmentation for Named Entity Recognition" changes each word or
mention of a training sentence with probability ``p`` and keeps the labels hard. Their code
(github.com/boschresearch/data-augmentation-coling2020, ``augment.py``) is followed where it
decides what a rule computes:

- :class:`LabelwiseTokenReplacement` (``lwtr``): a word becomes a random training word with the
  same tag; NLTK's English stop words are never replaced nor drawn (``lwtr_stop_words``);
- :class:`SynonymReplacement` (``sr``): a word becomes one of its WordNet synonyms;
- :class:`MentionReplacement` (``mr``): a mention becomes a random training mention text of its
  type, drawn over the distinct texts (``mr_draw``);
- :class:`ShuffleWithinSegments` (``sis``): the words of a mention, or of a run of ``O`` words,
  are shuffled in place;
- :class:`RuleUnion` (``rules``): the four together; ``rules_schedule`` says how an epoch's new
  sentences are drawn (one rule per sentence, or Dai & Adel's one sentence per rule per
  original).

``rules_schedule`` applies to every rule: ``"draw"`` makes ``round(rate × |train|)`` new
sentences an epoch, each from an original drawn with replacement (for ``rules``, by one rule
drawn among those that can change it); ``"each"`` is the source's schedule (``train.py``'s
``train_epoch``): every rule makes one new sentence from each original it can change, scaled by
``rate`` (1.0 is theirs), so ``round(rate × Σ_rule |originals it can change|)`` an epoch
(:meth:`RuleAugmenter.mixes_per_epoch`, which :class:`segmix.engine.SegMixDataset` asks).

A new sentence is the degenerate :class:`~segmix.mixing.MixedExample` (``ids_b = ids_a``,
weight 1), so it batches beside originals and SegMix mixes. Drawing and applying are split as in
:mod:`segmix.augment.segments`: :meth:`RuleAugmenter.sample_params` draws the original and its
edits into a :class:`RuleParams` (plain words and label ids), :meth:`RuleAugmenter.apply` splices
and encodes them, so a logged record replays exactly.

A draw that changes nothing (no unit selected, or every selected unit drawn back to itself) or
that would exceed the model's maximum length is redrawn, never truncated; ``generate(n)`` returns
``n`` changed sentences whenever some training sentence can change. (Dai & Adel keep such
unchanged copies; a served example here always differs from its original.)

Usage::

    lwtr = LabelwiseTokenReplacement(p=0.3).fit(train_examples, labels, cache)
    new = lwtr.generate(40, np.random.default_rng(0))
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar, TypeVar

import numpy as np

from segmix.augment.pools import LabelSpace
from segmix.encoding import IGNORE_INDEX, SubwordCache
from segmix.mixing import MixedExample
from segmix.tasks.tagging.encoding import TaggedExample

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: NLTK's English stop-word list (``nltk.corpus.stopwords.words("english")``, the 179 words of
#: nltk_data's ``corpora/stopwords/english`` as distributed in 2020), which Dai & Adel's LwTR
#: (``augment.py``: ``STOPWORDS``) never replaces and never draws, comparing ``word.lower()``.
#: Shipped here because NLTK's corpora are a separate download that segmix does not require.
_NLTK_ENGLISH = """
    i me my myself we our ours ourselves you you're you've you'll you'd your yours yourself
    yourselves he him his himself she she's her hers herself it it's its itself they them
    their theirs themselves what which who whom this that that'll these those am is are was
    were be been being have has had having do does did doing a an the and but if or because
    as until while of at by for with about against between into through during before after
    above below to from up down in out on off over under again further then once here there
    when where why how all any both each few more most other some such no nor not only own
    same so than too very s t can will just don don't should should've now d ll m o re ve y
    ain aren aren't couldn couldn't didn didn't doesn doesn't hadn hadn't hasn hasn't haven
    haven't isn isn't ma mightn mightn't mustn mustn't needn needn't shan shan't shouldn
    shouldn't wasn wasn't weren weren't won won't wouldn wouldn't
    """
NLTK_ENGLISH_STOP_WORDS: frozenset[str] = frozenset(_NLTK_ENGLISH.split())

#: ``lwtr_stop_words``: the words LwTR leaves alone. ``nltk`` is Dai & Adel's; ``none`` is
#: segmix's LwTR before it followed them (any word could be replaced or drawn).
LWTR_STOP_WORDS: dict[str, frozenset[str]] = {"nltk": NLTK_ENGLISH_STOP_WORDS, "none": frozenset()}
#: ``mr_draw``: what MR's replacement is drawn over. ``texts``: the distinct mention texts of
#: the type, uniformly (Dai & Adel); ``mentions``: every mention occurrence, so a frequent text
#: is drawn as often as it occurs (segmix's MR before it followed them).
MR_DRAWS: tuple[str, ...] = ("texts", "mentions")
#: ``rules_schedule``: how an epoch's new sentences are drawn (see the module's docstring).
RULES_SCHEDULES: tuple[str, ...] = ("draw", "each")
#: ``each``: rounds of ``max_tries`` draws for one swept original before another is drawn in its
#: place. A sentence with one unit at p = 0.3 fails a round of 10 draws 3 % of the time; the
#: sweep must not skip it for that, since its one new sentence is the point of the schedule.
SWEEP_ROUNDS = 10


def _checked(option: str, value: str, allowed) -> str:
    """``value`` if it is one of ``allowed``, else a ValueError naming the option."""
    if value not in allowed:
        raise ValueError(f"{option} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def draw_until(n: int, n_eligible: int, draw: Callable[[], T | None]) -> list[T]:
    """``n`` results of ``draw()`` (which returns ``None`` for a draw that does not fit),
    within a bounded number of attempts; none when nothing is eligible."""
    out: list[T] = []
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


def apportion(n: int, sizes: Sequence[int]) -> list[int]:
    """``n`` split in proportion to ``sizes`` (largest remainders, ties to the first), so the
    shares sum to ``n``: the "each" schedule's share of every rule."""
    weights = np.asarray(sizes, dtype=np.float64)
    exact = n * weights / weights.sum()
    shares = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - shares), kind="stable")
    shares[order[: n - int(shares.sum())]] += 1
    return [int(k) for k in shares]


def sweep(pool: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` items of ``pool``: whole shuffled passes over it, then part of one more, so every
    item comes once before any comes twice (the "each" schedule's originals)."""
    if k <= 0 or not len(pool):
        return np.zeros(0, dtype=np.int64)
    passes = -(-k // len(pool))
    return np.concatenate([rng.permutation(pool) for _ in range(passes)])[:k]


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
        rules_schedule: ``"draw"`` (each new sentence from an original drawn with replacement)
            or ``"each"`` (Dai & Adel: every rule sweeps over the originals it can change); see
            the module's docstring.
    """

    name: ClassVar[str] = ""

    def __init__(
        self, *, p: float = 0.3, max_tries: int = 10, rules_schedule: str = "draw"
    ) -> None:
        if not 0 <= p <= 1:
            raise ValueError(f"p must be between 0 and 1, got {p}")
        if max_tries < 1:
            raise ValueError(f"max_tries must be at least 1, got {max_tries}")
        self.p = float(p)
        self.max_tries = int(max_tries)
        self.rules_schedule = _checked("rules_schedule", rules_schedule, RULES_SCHEDULES)
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

    def parts(self) -> list[RuleAugmenter]:
        """The rules whose sentences this augmenter serves: itself, or the union's rules."""
        return [self]

    def mixes_per_epoch(self, rate: float, n_examples: int) -> int:
        """New sentences an epoch at ``rate`` (what :class:`segmix.engine.SegMixDataset` plans):
        ``round(rate × n_examples)`` with the ``draw`` schedule; with ``each``, ``rate`` new
        sentences per rule per original it can change, ``round(rate × Σ n_eligible)``."""
        if self.rules_schedule == "each":
            return round(rate * sum(rule.n_eligible for rule in self.parts()))
        return round(rate * n_examples)

    def sample_each(self, n: int, rng: np.random.Generator) -> list[RuleParams]:
        """``n`` new sentences by Dai & Adel's schedule: each rule takes a share of ``n`` in
        proportion to the originals it can change and sweeps over them (every one once before
        any twice), so ``n = Σ n_eligible`` gives exactly one sentence per rule per original it
        can change. Each is redrawn until it changes (up to :data:`SWEEP_ROUNDS` ×
        ``max_tries`` draws); one that still fails (every change too long) is replaced by an
        original drawn at random for the same rule."""
        rules = [rule for rule in self.parts() if rule.n_eligible]
        if n <= 0 or not rules:
            return []

        def pinned(rule: RuleAugmenter, source: int) -> RuleParams | None:
            for _ in range(SWEEP_ROUNDS):
                params = rule.sample_params(rng, source)
                if params is not None:
                    return params
            return None

        out: list[RuleParams] = []
        for rule, share in zip(rules, apportion(n, [r.n_eligible for r in rules]), strict=True):
            made = [pinned(rule, int(i)) for i in sweep(rule._eligible, share, rng)]
            found = [params for params in made if params is not None]
            if len(found) < share:
                logger.info(
                    "%s: %d of %d swept originals found no change that fits; drawing others",
                    rule.name,
                    share - len(found),
                    share,
                )
                found += draw_until(
                    share - len(found), rule.n_eligible, lambda r=rule: r.sample_params(rng)
                )
            out.extend(found)
        return out

    def generate(self, n: int, rng: np.random.Generator) -> list[MixedExample]:
        """``n`` changed sentences (fewer only if no training example can change), by the
        augmenter's ``rules_schedule``."""
        if self.rules_schedule == "each":
            return [self.apply(params) for params in self.sample_each(n, rng)]
        return draw_until(n, self.n_eligible, lambda: draw_and_apply(self, rng))

    def describe(self) -> dict:
        """The settings, for the run's config.json."""
        return {"name": self.name, "p": self.p, "rules_schedule": self.rules_schedule}


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
    as often as it occurs: Dai & Adel's ``p_power`` of 1) and may be the word itself; the tag
    sequence never changes. A stop word (``lwtr_stop_words``, compared in lower case: ``The``
    too) is never replaced and never drawn, as in Dai & Adel's ``get_label2tokens`` and
    ``generate_sentences_by_replace_token``: swapping ``the`` for ``of`` within ``O`` teaches
    ungrammatical context, not entities. Words whose tag has only one distinct (non-stop) word
    in the training set cannot change.
    """

    name = "lwtr"

    def __init__(self, *, lwtr_stop_words: str = "nltk", **kwargs) -> None:
        super().__init__(**kwargs)
        self.lwtr_stop_words = _checked("lwtr_stop_words", lwtr_stop_words, LWTR_STOP_WORDS)
        self.stop_words = LWTR_STOP_WORDS[lwtr_stop_words]

    def is_stop_word(self, word: str) -> bool:
        """Whether LwTR leaves ``word`` alone (and never draws it)."""
        return word.lower() in self.stop_words

    def _build_pools(self, examples) -> None:
        by_label: dict[int, list[str]] = defaultdict(list)
        for ex in examples:
            for word, label in zip(ex.words, ex.word_labels, strict=True):
                if not self.is_stop_word(word):
                    by_label[int(label)].append(word)
        self._pool = dict(by_label)
        self._varied = {label for label, words in by_label.items() if len(set(words)) > 1}

    def units(self, example):
        return [
            (j, j + 1)
            for j, (word, lb) in enumerate(zip(example.words, example.word_labels, strict=True))
            if int(lb) in self._varied and not self.is_stop_word(word)
        ]

    def edit(self, rng, example, span):
        label = int(example.word_labels[span[0]])
        pool = self._pool[label]
        return Edit(span[0], span[1], (pool[int(rng.integers(len(pool)))],), (label,))

    def describe(self) -> dict:
        return {**super().describe(), "lwtr_stop_words": self.lwtr_stop_words}


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

    def synonyms(self, word: str, label: int | None = None) -> tuple[tuple[str, ...], ...]:
        """The word's synonyms (none for a word the lexicon lacks); a lexicon with
        ``lookup_tagged`` (part-of-speech tagging's) gives those of the word's label only."""
        tagged = getattr(self.lexicon, "lookup_tagged", None)
        if tagged is not None and label is not None:
            return tuple(tagged(word, self.space.labels[label]))
        return tuple(self.lexicon[word]) if word in self.lexicon else ()

    def units(self, example):
        return [
            (j, j + 1)
            for j, w in enumerate(example.words)
            if self.synonyms(w, int(example.word_labels[j]))
        ]

    def edit(self, rng, example, span):
        word, label = example.words[span[0]], int(example.word_labels[span[0]])
        options = self.synonyms(word, label)
        synonym = tuple(options[int(rng.integers(len(options)))])
        inside = int(self.space.inside[label])
        return Edit(span[0], span[1], synonym, (label,) + (inside,) * (len(synonym) - 1))


class MentionReplacement(UnitRule):
    """MR: each mention, with probability ``p``, becomes a random training mention of its type.

    With ``mr_draw="texts"`` (the default) the replacement is drawn uniformly over the distinct
    mention texts of that type, as Dai & Adel's ``get_category2mentions`` keys them: a name that
    occurs often is no likelier than a rare one, so MR spreads over the type's names instead of
    repeating the frequent ones. ``"mentions"`` draws over mention occurrences. Either may give
    the mention itself; its length may differ, and it is tagged ``B-X I-X …`` with the original
    mention's type X. Mentions of a type with a single distinct text cannot change.
    """

    name = "mr"

    def __init__(self, *, mr_draw: str = "texts", **kwargs) -> None:
        super().__init__(**kwargs)
        self.mr_draw = _checked("mr_draw", mr_draw, MR_DRAWS)

    def _build_pools(self, examples) -> None:
        by_type: dict[str, list[tuple[str, ...]]] = defaultdict(list)
        for ex in examples:
            for start, end in ex.mentions:
                by_type[self._type(ex, start)].append(ex.words[start:end])
        if self.mr_draw == "texts":  # each distinct text once, in the order first seen
            by_type = defaultdict(list, {t: list(dict.fromkeys(v)) for t, v in by_type.items()})
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

    def describe(self) -> dict:
        return {**super().describe(), "mr_draw": self.mr_draw}


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
    """The four rules together, by ``rules_schedule``.

    - ``"draw"`` (the default): for each new sentence an original is drawn uniformly among the
      examples some rule can change, then one rule uniformly among those that can change it;
      ``round(rate × |train|)`` an epoch, as many as any other method makes at that rate.
    - ``"each"``: Dai & Adel's "all" (``train.py``: every original gets one new sentence from
      each rule, every epoch): each rule sweeps over the originals it can change,
      ``round(rate × Σ_rule n_eligible)`` an epoch, about four times as many at the same rate
      (``rate`` 1 is theirs).

    SR is left out, with a warning, when WordNet is unavailable (and no ``lexicon`` is given);
    :meth:`describe` lists the rules in use. ``lwtr_stop_words`` and ``mr_draw`` go to LwTR and
    MR.
    """

    name = "rules"

    def __init__(
        self,
        *,
        p: float = 0.3,
        max_tries: int = 10,
        lexicon=None,
        rules_schedule: str = "draw",
        lwtr_stop_words: str = "nltk",
        mr_draw: str = "texts",
    ) -> None:
        super().__init__(p=p, max_tries=max_tries, rules_schedule=rules_schedule)
        self.lexicon = lexicon
        self.lwtr_stop_words = _checked("lwtr_stop_words", lwtr_stop_words, LWTR_STOP_WORDS)
        self.mr_draw = _checked("mr_draw", mr_draw, MR_DRAWS)
        self.rules: list[UnitRule] = []

    def parts(self) -> list[RuleAugmenter]:
        return list(self.rules)

    def _fit(self, examples) -> list[int]:
        from segmix.wordnet import WordNetUnavailable

        self.rules = []
        for cls in RULES:
            options = {
                SynonymReplacement: {"lexicon": self.lexicon},  # a mixture may set it late
                LabelwiseTokenReplacement: {"lwtr_stop_words": self.lwtr_stop_words},
                MentionReplacement: {"mr_draw": self.mr_draw},
            }.get(cls, {})
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
        return {
            **super().describe(),
            "lwtr_stop_words": self.lwtr_stop_words,
            "mr_draw": self.mr_draw,
            "rules": [rule.name for rule in self.rules],
        }
