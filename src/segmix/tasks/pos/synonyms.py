"""Synonyms of a word's own part of speech, for SMix and SR on part-of-speech tags.

Entity tagging may give ``book`` any WordNet synonym (``volume`` or ``reserve``): its tag, ``O``,
fits both. A POS tag does not: ``book``/NOUN mixed with ``reserve`` would teach a verb labelled
as a noun. So each word is looked up in the WordNet part of speech its tag names (NOUN and PROPN
nouns, VERB verbs, ADJ adjectives, ADV adverbs; Penn tags by their prefix NN, VB, JJ, RB), and a
word whose tag has no WordNet part of speech (DET, ADP, PUNCT, AUX, …) has no synonyms. WordNet
gives base forms: a past-tense verb may take a synonym's base form, which keeps a UPOS tag (VERB)
true but not a Penn tag (VBD); use UPOS (the default) for SMix and SR.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from segmix.augment.rules import SynonymReplacement
from segmix.augment.segments import SynonymMix

#: UD universal tags with a WordNet part of speech
UPOS_WORDNET: dict[str, str] = {"NOUN": "n", "PROPN": "n", "VERB": "v", "ADJ": "a", "ADV": "r"}
#: Penn Treebank tag prefixes with a WordNet part of speech
PENN_WORDNET: tuple[tuple[str, str], ...] = (("NN", "n"), ("VB", "v"), ("JJ", "a"), ("RB", "r"))
#: tags of proper nouns: capitalised at a sentence's start for their own sake
PROPER_NOUN_TAGS = frozenset({"PROPN", "NNP", "NNPS"})


def wordnet_pos(tag: str) -> str | None:
    """The WordNet part of speech (``n``, ``v``, ``a``, ``r``) of a UPOS or Penn tag, if any."""
    if tag in UPOS_WORDNET:
        return UPOS_WORDNET[tag]
    for prefix, pos in PENN_WORDNET:
        if tag.startswith(prefix):
            return pos
    return None


class TaggedSynonymLexicon:
    """One :class:`segmix.wordnet.SynonymLexicon` per WordNet part of speech, asked by tag.

    :meth:`lookup_tagged` is what SMix's pool and SR ask when the lexicon has it; the plain
    mapping (``lexicon[word]``, :meth:`words`) is the union over the four parts of speech, for
    tokenising every synonym up front.
    """

    def __init__(
        self,
        vocabulary: Iterable[str],
        *,
        root: str | Path | None = None,
        max_synonyms: int = 10,
    ) -> None:
        from segmix.wordnet import SynonymLexicon

        words = list(dict.fromkeys(vocabulary))
        self.by_pos = {
            pos: SynonymLexicon(words, root=root, max_synonyms=max_synonyms, pos=pos)
            for pos in ("n", "v", "a", "r")
        }

    def lookup_tagged(
        self, word: str, tag: str, *, initial: bool = False
    ) -> tuple[tuple[str, ...], ...]:
        """The synonyms of ``word`` in the part of speech of ``tag`` (none for other tags)."""
        pos = wordnet_pos(tag)
        return self.by_pos[pos].lookup(word, initial=initial) if pos else ()

    def __getitem__(self, word: str) -> tuple[tuple[str, ...], ...]:
        return tuple(dict.fromkeys(s for lex in self.by_pos.values() for s in lex[word]))

    def __contains__(self, word: object) -> bool:
        return any(word in lex for lex in self.by_pos.values())

    def words(self) -> list[str]:
        return list(dict.fromkeys(w for lex in self.by_pos.values() for w in lex.words()))


class PosSynonymMix(SynonymMix):
    """SMix on part-of-speech tags: a word mixed with a synonym of its own part of speech.

    A sentence's first word, unless tagged a proper noun, may be a capitalised common word and
    takes its lower-case form's synonyms, re-capitalised (entity tagging reads the same off
    ``O``)."""

    def _build_pools(self, examples, cache) -> None:
        if self.lexicon is None:
            self.lexicon = TaggedSynonymLexicon(w for ex in examples for w in ex.words)
        super()._build_pools(examples, cache)

    def synonym_key(self, example, j: int) -> tuple[str, int, bool]:
        label = int(example.word_labels[j])
        return example.words[j], label, j == 0 and self.space.labels[label] not in PROPER_NOUN_TAGS


class PosSynonymReplacement(SynonymReplacement):
    """SR on part-of-speech tags: a word replaced by a synonym of its own part of speech; a
    multi-word synonym's words all take the word's tag."""

    def _build_pools(self, examples) -> None:
        if self.lexicon is None:
            self.lexicon = TaggedSynonymLexicon(w for ex in examples for w in ex.words)
        super()._build_pools(examples)
