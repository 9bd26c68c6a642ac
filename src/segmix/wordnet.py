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
    "LEXNAMES",
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


def _lookup(
    reader: WordNetCorpusReader, word: str, max_synonyms: int
) -> tuple[tuple[str, ...], ...]:
    """Synonyms of ``word``: lemma names of all its synsets (all parts of speech, WordNet order),
    multi-word lemmas split on ``_``, without the word itself, its base forms or duplicates
    (case-insensitive), in WordNet's own case; at most ``max_synonyms``."""
    if max_synonyms <= 0 or not _has_letter(word):
        return ()
    lower = word.lower()
    # The word and its base forms (``cars`` -> ``car``) are not synonyms of it.
    seen = {lower.replace("_", " ")}
    for pos in ("n", "v", "a", "r"):
        seen.update(base.lower().replace("_", " ") for base in reader._morphy(lower, pos))
    found: list[tuple[str, ...]] = []
    for synset in reader.synsets(lower):
        for name in synset.lemma_names():
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


def synonyms(
    word: str, root: str | Path | None = None, *, max_synonyms: int = 10
) -> list[tuple[str, ...]]:
    """Synonyms of one word, looked up in WordNet now (see :class:`SynonymLexicon`)."""
    return list(_lookup(load_wordnet(root), word, max_synonyms))


class SynonymLexicon:
    """Synonyms for the words of a vocabulary, looked up once (WordNet lookups are slow; mixing
    must never call WordNet).

    For each distinct word that contains a letter (punctuation and numbers are skipped), WordNet
    is asked for the lowercased word (NLTK also reduces it to its base forms): the lemma names of
    all its synsets, every part of speech, in WordNet order, each split on ``_`` into a tuple of
    words (``'railway_car'`` -> ``('railway', 'car')``; hyphens stay inside words). The word
    itself, its base forms and repeats are dropped (case-insensitively); synonyms keep WordNet's
    case (``'Germany'`` -> ``('Federal', 'Republic', 'of', 'Germany')``); the first
    ``max_synonyms`` are kept.

    Lookups are case-insensitive (``'The'`` and ``'the'`` share synonyms) and never touch WordNet;
    a word outside the vocabulary has none. :meth:`words` lists the vocabulary's words (as given)
    that have synonyms.
    """

    def __init__(
        self,
        vocabulary: Iterable[str],
        *,
        root: str | Path | None = None,
        max_synonyms: int = 10,
    ) -> None:
        reader = load_wordnet(root)
        self.max_synonyms = int(max_synonyms)
        self._by_lower: dict[str, tuple[tuple[str, ...], ...]] = {}
        self._words: list[str] = []
        looked_up: set[str] = set()
        seen_words: set[str] = set()
        for word in vocabulary:
            if word in seen_words or not _has_letter(word):
                continue
            seen_words.add(word)
            lower = word.lower()
            if lower not in looked_up:
                looked_up.add(lower)
                found = _lookup(reader, word, self.max_synonyms)
                if found:
                    self._by_lower[lower] = found
            if lower in self._by_lower:
                self._words.append(word)

    def __getitem__(self, word: str) -> tuple[tuple[str, ...], ...]:
        return self._by_lower.get(word.lower(), ())

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word.lower() in self._by_lower

    def __len__(self) -> int:
        return len(self._words)

    def words(self) -> list[str]:
        """The vocabulary's words that have synonyms, in first-seen order."""
        return list(self._words)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} words, max_synonyms={self.max_synonyms})"
