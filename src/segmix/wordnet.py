"""WordNet synonyms for SMix, read from Debian's ``wordnet-base`` with NLTK's reader.

Debian's ``wordnet-base`` package installs the WordNet 3.0 database files (``data.noun``,
``index.noun``, ``noun.exc``, …) in ``/usr/share/wordnet`` but not the ``lexnames`` file or
``index.sense``. :class:`nltk.corpus.reader.wordnet.WordNetCorpusReader` needs both:

* its constructor reads ``lexnames`` (the 45 lexicographer file names), so the reader built here
  serves the standard list, hard-coded in :data:`LEXNAMES`, when the file is missing;
* its constructor calls ``map_wn()``, which maps the loaded WordNet to the ``wordnet`` corpus of
  ``nltk_data`` (for the multilingual OMW functions) through ``index.sense`` files. There is no
  ``nltk_data`` here and SegMix needs only English, so the reader's ``map_wn()`` returns ``None``
  (which is also what NLTK does when the loaded WordNet *is* that corpus).

NLTK (an optional extra, ``pip install 'segmix[wordnet]'``) is imported only when WordNet is
loaded. Its path sandbox (``nltk.pathsec``) refuses corpus roots outside ``nltk.data.path``, so
:func:`load_wordnet` registers the WordNet directory there, as NLTK documents for corpora in
custom locations.

WordNet lookups are slow; :class:`SynonymLexicon` looks up a whole vocabulary once, and mixing
reads only that dictionary.

Usage::

    lexicon = SynonymLexicon(train_words)
    lexicon["car"]        # (('auto',), ('automobile',), ('machine',), ('motorcar',), …)
    lexicon["the"]        # () — a function word
    lexicon.lookup("Prices", initial=True)   # (('Terms',), ('Damage',), …)

Only content words get synonyms, and case is respected (see :class:`SynonymLexicon`): WordNet
covers nouns, verbs, adjectives and adverbs, and its entries for the spellings of function words
are homographs (``at`` → astatine, ``he`` → helium, ``who`` → World Health Organization), while
a case-blind lookup maps common words onto proper nouns (``prices`` → Leontyne Price).
"""

from __future__ import annotations

import functools
import io
import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

__all__ = [
    "DEFAULT_WORDNET_DIR",
    "FUNCTION_WORDS",
    "LEXNAMES",
    "STOP_WORDS",
    "WORDNET_DIR_ENV",
    "SynonymLexicon",
    "WordNetUnavailable",
    "load_wordnet",
    "synonyms",
    "wordnet_available",
]

DEFAULT_WORDNET_DIR = "/usr/share/wordnet"
#: Environment variable that overrides :data:`DEFAULT_WORDNET_DIR`.
WORDNET_DIR_ENV = "SEGMIX_WORDNET_DIR"

#: The 45 lexicographer file names of WordNet 3.0, numbered 00–44 (``lexnames(5WN)``).
LEXNAMES: tuple[str, ...] = (
    "adj.all",
    "adj.pert",
    "adv.all",
    "noun.Tops",
    "noun.act",
    "noun.animal",
    "noun.artifact",
    "noun.attribute",
    "noun.body",
    "noun.cognition",
    "noun.communication",
    "noun.event",
    "noun.feeling",
    "noun.food",
    "noun.group",
    "noun.location",
    "noun.motive",
    "noun.object",
    "noun.person",
    "noun.phenomenon",
    "noun.plant",
    "noun.possession",
    "noun.process",
    "noun.quantity",
    "noun.relation",
    "noun.shape",
    "noun.state",
    "noun.substance",
    "noun.time",
    "verb.body",
    "verb.change",
    "verb.cognition",
    "verb.communication",
    "verb.competition",
    "verb.consumption",
    "verb.contact",
    "verb.creation",
    "verb.emotion",
    "verb.motion",
    "verb.perception",
    "verb.possession",
    "verb.social",
    "verb.stative",
    "verb.weather",
    "adj.ppl",
)
_SYNTACTIC_CATEGORY = {"noun": 1, "verb": 2, "adj": 3, "adv": 4}
#: ``lexnames`` as WordNet distributes it: number, name, syntactic category, tab-separated.
LEXNAMES_TEXT = "".join(
    f"{i:02d}\t{name}\t{_SYNTACTIC_CATEGORY[name.split('.')[0]]}\n"
    for i, name in enumerate(LEXNAMES)
)

#: Database files the reader needs (``lexnames`` is supplied when missing).
REQUIRED_FILES = tuple(
    f"{kind}.{pos}" for kind in ("index", "data") for pos in ("noun", "verb", "adj", "adv")
) + tuple(f"{pos}.exc" for pos in ("noun", "verb", "adj", "adv"))

#: Closed-class English function words by class (lower case); :data:`STOP_WORDS` joins them.
FUNCTION_WORDS: dict[str, str] = {
    "determiners and quantifiers": """
        a an the this that these those some any no every each all both either neither much
        many more most few fewer fewest little less least several such what which whatever
        whichever another other others own enough""",
    "pronouns": """
        i me my mine myself you your yours yourself yourselves he him his himself she her hers
        herself it its itself we us our ours ourselves they them their theirs themselves who
        whom whose whoever whomever one ones oneself someone somebody something anyone anybody
        anything everyone everybody everything nobody nothing none""",
    "prepositions": """
        about above across after against along alongside amid amidst among amongst around as
        at atop before behind below beneath beside besides between beyond by despite down
        during except for from in inside into like near of off on onto out outside over past
        per since than through throughout till to toward towards under underneath unlike until
        unto up upon versus via with within without""",
    "conjunctions and subordinators": """
        and but or nor so yet if because although though while whilst whereas unless whether
        lest once""",
    "auxiliaries, modals and their clitics": """
        be am is are was were been being have has had having do does did doing will would
        shall should can could may might must ought 's 're 've 'll 'd 'm""",
    "negation, particles, degree and focus adverbs": """
        not n't there here then also too very only just even ever never again still else thus
        hence however therefore instead rather quite""",
    "wh-adverbs": "where when why how wherever whenever",
    "cardinal number words": """
        zero two three four five six seven eight nine ten eleven twelve twenty thirty forty
        fifty sixty seventy eighty ninety hundred thousand million billion trillion""",
}
#: Words that never get synonyms, whatever their case (``The``, ``AT`` and ``US`` too):
#: WordNet's four parts of speech are the open classes, and its entries under these spellings
#: are homographs (``at`` → astatine, ``he`` → helium, ``in`` → Indiana, ``can`` → toilet).
#: A fixed list, shipped here: NLTK's stop-word corpus is a separate download.
STOP_WORDS: frozenset[str] = frozenset(
    w for group in FUNCTION_WORDS.values() for w in group.split()
)

_APT_COMMAND = "apt-get install --no-install-recommends wordnet-base"
_PIP_COMMAND = "pip install 'segmix[wordnet]'"


class WordNetUnavailable(RuntimeError):
    """WordNet (the database files or NLTK) cannot be loaded; the message says how to install."""

    def __init__(self, directory: str | Path, reason: str) -> None:
        self.directory = str(directory)
        self.reason = reason
        super().__init__(
            f"WordNet is unavailable in {self.directory}: {reason}. "
            f"Install the WordNet 3.0 database with `{_APT_COMMAND}` "
            f"(or scripts/install_wordnet.sh) and NLTK with `{_PIP_COMMAND}`; "
            f"set {WORDNET_DIR_ENV} to use a WordNet directory other than {DEFAULT_WORDNET_DIR}."
        )


def _resolve_root(root: str | Path | None) -> str:
    if root is None:
        root = os.environ.get(WORDNET_DIR_ENV) or DEFAULT_WORDNET_DIR
    return str(Path(root).expanduser().resolve())


@functools.lru_cache(maxsize=1)
def _reader_class() -> type:
    """The NLTK reader subclass (built lazily, so importing this module never imports NLTK)."""
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    class DebianWordNetCorpusReader(WordNetCorpusReader):
        """NLTK's WordNet reader for a bare WordNet 3.0 database such as Debian's.

        Serves :data:`LEXNAMES_TEXT` when the directory has no ``lexnames`` file and skips
        :meth:`map_wn` (OMW mapping; needs ``nltk_data``'s ``index.sense``).
        """

        def __init__(self, root: str) -> None:
            self._lexnames_on_disk = os.path.isfile(os.path.join(root, "lexnames"))
            with warnings.catch_warnings():
                # "The multilingual functions are not available with this Wordnet version"
                warnings.simplefilter("ignore", UserWarning)
                super().__init__(root, omw_reader=None)

        def open(self, file: str) -> Any:
            if file == "lexnames" and not self._lexnames_on_disk:
                return io.StringIO(LEXNAMES_TEXT)
            return super().open(file)

        def map_wn(self, version: str = "wordnet") -> None:
            return None

    return DebianWordNetCorpusReader


def load_wordnet(root: str | Path | None = None) -> WordNetCorpusReader:
    """NLTK's WordNet reader over ``root`` (default ``$SEGMIX_WORDNET_DIR`` or
    :data:`DEFAULT_WORDNET_DIR`), cached per directory.

    Raises :class:`WordNetUnavailable` when NLTK is not installed or the directory lacks the
    WordNet database files.
    """
    return _load_wordnet(_resolve_root(root))


@functools.cache
def _load_wordnet(root: str) -> WordNetCorpusReader:
    if not os.path.isdir(root):
        raise WordNetUnavailable(root, "the directory does not exist")
    missing = [name for name in REQUIRED_FILES if not os.path.isfile(os.path.join(root, name))]
    if missing:
        raise WordNetUnavailable(root, f"missing database files {', '.join(missing)}")
    try:
        import nltk.data
    except ImportError as err:
        raise WordNetUnavailable(root, f"NLTK is not installed ({err})") from err
    # NLTK's path sandbox only opens corpora under nltk.data.path.
    if root not in nltk.data.path:
        nltk.data.path.append(root)
    try:
        return _reader_class()(root)
    except Exception as err:  # WordNetError, OSError, PermissionError from the sandbox, …
        raise WordNetUnavailable(root, f"NLTK could not read it ({err!r})") from err


def wordnet_available(root: str | Path | None = None) -> bool:
    """Whether :func:`load_wordnet` succeeds for ``root``."""
    try:
        load_wordnet(root)
    except WordNetUnavailable:
        return False
    return True


def _has_letter(word: str) -> bool:
    return any(ch.isalpha() for ch in word)


def _is_title(word: str) -> bool:
    """``Prices``, ``Germany``: a capital, then no capitals."""
    return word[:1].isupper() and word[1:] == word[1:].lower()


def _lookup(
    reader: WordNetCorpusReader, word: str, max_synonyms: int, pos: str | None = None
) -> tuple[tuple[str, ...], ...]:
    """Synonyms of ``word`` as it stands mid-sentence (the rules: :class:`SynonymLexicon`);
    ``pos`` (``n``, ``v``, ``a``, ``r``) keeps the senses of that part of speech only."""
    if max_synonyms <= 0 or not _has_letter(word) or word.lower() in STOP_WORDS:
        return ()
    lower = word.lower()
    if word == lower:
        # a common word: the senses in which WordNet spells it (or its base form) lower case
        forms = {lower}
        for part in ("n", "v", "a", "r"):
            forms.update(reader._morphy(lower, part))
        if forms & STOP_WORDS:
            return ()  # the inflection of a function word: ``hundreds``, ``others``
        proper = False
    else:
        # a capitalised word: a proper noun, so the senses spelt exactly so (no inflection)
        forms = {word.replace(" ", "_")}
        proper = True
    # The word and its base forms (``cars`` -> ``car``) are not synonyms of it.
    seen = {lower.replace("_", " ")} | {f.lower().replace("_", " ") for f in forms}
    for part in ("n", "v", "a", "r"):
        seen.update(base.lower().replace("_", " ") for base in reader._morphy(lower, part))
    found: list[tuple[str, ...]] = []
    for synset in reader.synsets(lower, pos=pos):
        names = synset.lemma_names()
        if not any(name in forms for name in names):
            continue  # a sense of another spelling: ``Price`` (a surname) for ``prices``
        for name in names:
            if not proper and any(ch.isupper() for ch in name):
                continue  # a proper noun is no synonym of a common word
            key = name.lower().replace("_", " ")
            if key in seen:
                continue
            seen.add(key)
            parts = tuple(part for part in name.split("_") if part)
            if parts:
                found.append(parts)
                if len(found) >= max_synonyms:
                    return tuple(found)
    return tuple(found)


def _capitalise(syn: tuple[str, ...]) -> tuple[str, ...]:
    return (syn[0][:1].upper() + syn[0][1:], *syn[1:])


def synonyms(
    word: str, root: str | Path | None = None, *, max_synonyms: int = 10
) -> list[tuple[str, ...]]:
    """Synonyms of one word as it stands mid-sentence, looked up in WordNet now (see
    :class:`SynonymLexicon` for the rules)."""
    return list(_lookup(load_wordnet(root), word, max_synonyms))


class SynonymLexicon:
    """Synonyms for the words of a vocabulary, looked up once (WordNet lookups are slow; mixing
    must never call WordNet).

    Only content words get synonyms, and case is respected:

    * a word with no letter (punctuation, numbers) or a function word of :data:`STOP_WORDS`
      (in any case: ``The``, ``AT``, ``US``; or inflected: ``hundreds``) has none;
    * a lower-case word takes the senses in which WordNet spells it (or its base form: NLTK
      reduces ``prices`` to ``price``) in lower case, and only synonyms without a capital:
      ``prices`` → ``terms``, never the surname sense ``Price`` → ``Leontyne Price``, nor a
      brand or Latin name;
    * a word with a capital (``Germany``, ``EU``) is read as a proper noun: the senses with a
      lemma spelt exactly like it (proper nouns do not inflect, so ``Prices`` has none and an
      all-caps headline word like ``GERMANY`` none either), their synonyms in WordNet's case
      (``('Federal', 'Republic', 'of', 'Germany')``).

    Synonyms are the lemma names of those senses, all four parts of speech in WordNet order
    (or only ``pos``'s: ``n``, ``v``, ``a`` with its satellites, ``r``),
    each split on ``_`` into a tuple of words (``'railway_car'`` -> ``('railway', 'car')``;
    hyphens stay inside words), without the word itself, its base forms or repeats
    (case-insensitively); the first ``max_synonyms`` are kept.

    ``lexicon[word]`` gives a word's synonyms where it stands mid-sentence. A capitalised word
    at the start of a sentence may be a common word: :meth:`lookup` with ``initial=True`` gives
    its proper-noun synonyms if it has any, else its lower-case form's synonyms, re-capitalised
    (``Prices`` → ``Terms``). So the lower-case form of every capitalised vocabulary word is
    looked up too. :meth:`words` lists the vocabulary's words (as given) that have synonyms
    mid-sentence. Lookups never touch WordNet; a word not looked up has none.
    """

    def __init__(
        self,
        vocabulary: Iterable[str],
        *,
        root: str | Path | None = None,
        max_synonyms: int = 10,
        pos: str | None = None,
    ) -> None:
        if pos not in (None, "n", "v", "a", "r"):
            raise ValueError(f"pos must be n, v, a, r or None, got {pos!r}")
        reader = load_wordnet(root)
        self.max_synonyms = int(max_synonyms)
        self.pos = pos
        self._by_word: dict[str, tuple[tuple[str, ...], ...]] = {}
        self._words: list[str] = []
        looked_up: set[str] = set()

        def look(word: str) -> None:
            if word not in looked_up:
                looked_up.add(word)
                found = _lookup(reader, word, self.max_synonyms, pos)
                if found:
                    self._by_word[word] = found

        seen_words: set[str] = set()
        for word in vocabulary:
            if word in seen_words or not _has_letter(word):
                continue
            seen_words.add(word)
            look(word)
            if _is_title(word):
                look(word.lower())  # for the word at the start of a sentence
            if word in self._by_word:
                self._words.append(word)

    def __getitem__(self, word: str) -> tuple[tuple[str, ...], ...]:
        return self._by_word.get(word, ())

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word in self._by_word

    def __len__(self) -> int:
        return len(self._words)

    def lookup(self, word: str, *, initial: bool = False) -> tuple[tuple[str, ...], ...]:
        """The word's synonyms; ``initial``: it starts a sentence (see the class)."""
        found = self._by_word.get(word, ())
        if found or not initial or not _is_title(word):
            return found
        return tuple(_capitalise(syn) for syn in self._by_word.get(word.lower(), ()))

    def words(self) -> list[str]:
        """The vocabulary's words that have synonyms, in first-seen order."""
        return list(self._words)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} words, max_synonyms={self.max_synonyms})"
