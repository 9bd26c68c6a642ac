"""Rule-based augmentation for relations: synonym replacement outside the two arguments.

The RE counterpart of Dai & Adel's SR: each context word (not inside the head or the tail, not
a marker) that has a WordNet synonym becomes, with probability ``p``, a random one of its
synonyms. The arguments and their markers are untouched, so the relation label stays exactly
right; the result is a new discrete sentence, served as the degenerate mix (``ids_b = ids_a``,
weight 1) with the markers' new positions as anchors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from segmix.augment.rules import draw_and_apply, draw_until
from segmix.encoding import SubwordCache
from segmix.mixing import MixedExample


@dataclass(frozen=True)
class ContextEdits:
    """One new sentence: the source example and ``(word index, synonym words)`` replacements."""

    source: int
    edits: tuple[tuple[int, tuple[str, ...]], ...]


class RelationSynonymReplacement:
    """SR for relations: context words replaced by WordNet synonyms with probability ``p``.

    Args:
        p: probability of replacing each eligible context word.
        lexicon: word -> synonyms (tuples of words); by default built from WordNet for the
            training vocabulary (:class:`segmix.wordnet.SynonymLexicon`: content words only,
            case respected).
        max_tries: redraws of one original before another is drawn (a draw that changes
            nothing, or that would exceed the model's maximum length).
    """

    name = "sr"

    def __init__(self, *, p: float = 0.3, lexicon=None, max_tries: int = 10) -> None:
        if not 0 <= p <= 1:
            raise ValueError(f"p must be between 0 and 1, got {p}")
        self.p = float(p)
        self.lexicon = lexicon
        self.max_tries = int(max_tries)
        self.examples: Sequence = ()
        self._units: list[list[int]] = []

    def fit(self, examples: Sequence, labels: Sequence[str], cache: SubwordCache):
        """Find each example's replaceable context words; return ``self``."""
        if self.lexicon is None:
            from segmix.wordnet import SynonymLexicon

            self.lexicon = SynonymLexicon({w for ex in examples for w in ex.words})
        self.examples, self.cache = examples, cache
        self._units = [self._context_words(ex) for ex in examples]
        words = {
            ex.words[j] for ex, units in zip(examples, self._units, strict=True) for j in units
        }
        cache.add(w for word in words for syn in self.lexicon.lookup(word) for w in syn)
        self._eligible = np.asarray(
            [i for i, units in enumerate(self._units) if units and self.p > 0], dtype=np.int64
        )
        return self

    def _context_words(self, ex) -> list[int]:
        """Indices of words outside both arguments and their markers, with a synonym."""
        (h0, h1), (t0, t1) = ex.head, ex.tail
        fixed = set(range(h0 - 1, h1 + 1)) | set(range(t0 - 1, t1 + 1))
        return [
            j
            for j, word in enumerate(ex.words)
            if j not in fixed and self.lexicon.lookup(word, initial=j == 0)
        ]

    @property
    def n_eligible(self) -> int:
        return len(self._eligible)

    def sample_params(self, rng: np.random.Generator, source: int | None = None):
        """A draw that changes at least one word, or ``None`` after ``max_tries``."""
        if source is None:
            if not self.n_eligible:
                return None
            source = int(self._eligible[rng.integers(len(self._eligible))])
        ex, units = self.examples[source], self._units[source]
        for _ in range(self.max_tries):
            chosen = [j for j in units if rng.random() < self.p]
            if not chosen:
                continue
            edits = []
            for j in chosen:
                options = self.lexicon.lookup(ex.words[j], initial=j == 0)
                edits.append((j, tuple(options[int(rng.integers(len(options)))])))
            params = ContextEdits(source, tuple(edits))
            if self._length(params) <= self.cache.max_length:
                return params
        return None

    def _new_words(self, params: ContextEdits) -> tuple[list[str], dict[int, int]]:
        """The new words and where each old word index now starts."""
        ex = self.examples[params.source]
        replaced = dict(params.edits)
        words: list[str] = []
        where: dict[int, int] = {}
        for j, word in enumerate(ex.words):
            where[j] = len(words)
            words.extend(replaced.get(j, (word,)))
        return words, where

    def _length(self, params: ContextEdits) -> int:
        words, _ = self._new_words(params)
        return len(self.cache.encode(words).ids)

    def rewrite(self, params: ContextEdits):
        """The new sentence as an encoded relation: arguments, markers and label as before."""
        from segmix.tasks.relations.model import EncodedRelation

        ex = self.examples[params.source]
        words, where = self._new_words(params)
        enc = self.cache.encode(words)
        head = (where[ex.head[0]], where[ex.head[1]])  # arguments are never replaced
        tail = (where[ex.tail[0]], where[ex.tail[1]])
        # the anchors are the start markers, just before each argument's first word
        anchors = np.asarray(
            [enc.word_starts[head[0] - 1], enc.word_starts[tail[0] - 1]], dtype=np.int64
        )
        return EncodedRelation(
            words=tuple(words),
            ids=enc.ids,
            word_starts=enc.word_starts,
            word_lens=enc.word_lens,
            head=head,
            tail=tail,
            anchors=anchors,
            label=ex.label,
            id=ex.id,
        )

    def apply(self, params: ContextEdits) -> MixedExample:
        new = self.rewrite(params)
        example = MixedExample.original(
            new.ids, np.asarray([new.label]), anchors=new.anchors, source=params.source
        )
        example.words = new.words
        return example

    def generate(self, n: int, rng: np.random.Generator) -> list[MixedExample]:
        """``n`` new sentences (fewer only if no example has a replaceable word)."""
        return draw_until(n, self.n_eligible, lambda: draw_and_apply(self, rng))

    def describe(self) -> dict:
        return {"name": self.name, "p": self.p}


@dataclass(frozen=True)
class RelationMixtureParams:
    """One ``rmix+sr`` draw: SR's edits of the original, RMix's partner and λ."""

    rewrite: ContextEdits
    partner: int
    lam: float


class RelationMixture:
    """``rmix+sr``: SR rewrites a sentence's context, then RMix mixes its two arguments with
    another example's (SR never touches the arguments, so RMix's partners and labels keep their
    meaning). The options are RMix's and SR's.
    """

    name = "rmix+sr"

    def __init__(
        self,
        *,
        alpha: float = 8.0,
        lambda_max: bool = False,
        max_tries: int = 10,
        same_relation: bool = False,
        p: float = 0.3,
        lexicon=None,
    ) -> None:
        from segmix.augment.relations import RelationMix

        self.mix = RelationMix(
            alpha=alpha, lambda_max=lambda_max, max_tries=max_tries, same_relation=same_relation
        )
        self.rule = RelationSynonymReplacement(p=p, lexicon=lexicon, max_tries=max_tries)

    def fit(self, examples: Sequence, labels: Sequence[str], cache: SubwordCache):
        self.mix.fit(examples, labels, cache)
        self.rule.fit(examples, labels, cache)
        both = set(self.mix._eligible.tolist()) & set(self.rule._eligible.tolist())
        self._eligible = np.asarray(sorted(both), dtype=np.int64)
        return self

    @property
    def n_eligible(self) -> int:
        return len(self._eligible)

    def sample_params(
        self, rng: np.random.Generator, source: int | None = None
    ) -> RelationMixtureParams | None:
        """One mixture's parameters (SR's edits, RMix's partner and λ), or ``None`` when this
        draw does not fit (nothing to change, or the mix is too long)."""
        drawn = self._draw(rng, source)
        return None if drawn is None else drawn[0]

    def apply(self, params: RelationMixtureParams) -> MixedExample:
        """The mixture of drawn parameters (deterministic): SR's rewrite, then its arguments
        mixed with the partner's."""
        from segmix.augment.relations import argument_segment
        from segmix.mixing import mix_segments

        a = self.rule.rewrite(params.rewrite)
        b = self.mix.examples[params.partner]
        own = [argument_segment(a, a.head), argument_segment(a, a.tail)]
        others = [self.mix._args[params.partner]["head"], self.mix._args[params.partner]["tail"]]
        mixed = mix_segments(
            a.ids,
            np.asarray([a.label]),
            a.word_starts,
            a.word_lens,
            [a.head, a.tail],
            own,
            others,
            [params.lam, params.lam],
            pad_id=self.mix.pad_id,
            label_per_position=False,
            sequence_labels=(a.label, b.label),
            anchors=a.anchors,
            source=params.rewrite.source,
        )
        mixed.words = a.words  # the rewritten sentence the arguments were mixed into
        return mixed

    def _draw(
        self, rng: np.random.Generator, source: int | None = None
    ) -> tuple[RelationMixtureParams, MixedExample] | None:
        if source is None:
            source = int(self._eligible[rng.integers(len(self._eligible))])
        rewritten = self.rule.sample_params(rng, source=source)
        if rewritten is None:
            return None
        partner = int(self.mix._draw_partners(rng, np.asarray([source]))[0])
        lam = float(self.mix.draw_lambdas(rng, 1)[0])
        params = RelationMixtureParams(rewritten, partner, lam)
        mixed = self.apply(params)
        return None if len(mixed.ids_a) > self.mix.max_length else (params, mixed)

    def generate(self, n: int, rng: np.random.Generator) -> list[MixedExample]:
        def one() -> MixedExample | None:
            drawn = self._draw(rng)
            return None if drawn is None else drawn[1]

        return draw_until(n, self.n_eligible, one)

    def describe(self) -> dict:
        return {"name": self.name, "mix": self.mix.describe(), "rule": self.rule.describe()}
