"""Splitting raw text into words for ``segmix predict --text``.

Word boundaries follow Unicode's word-segmentation rules (UAX #29, as implemented by the
``regex`` package's ``WORD`` mode) rather than a hand-written pattern, so text in any script
splits as readers expect: Chinese and Japanese characters are words of their own instead of one
giant token, an emoji with a skin-tone modifier or a ZWJ family stays one token, ``don't`` and
``3.5`` stay whole. Runs of punctuation split into single characters (grapheme clusters).
"""

from __future__ import annotations

import regex

_BOUNDARY = regex.compile(r"\b", flags=regex.V1 | regex.WORD)
_WORD_CHAR = regex.compile(r"\w")
_GRAPHEME = regex.compile(r"\X")


def split_words(text: str) -> list[str]:
    """Words and punctuation of ``text``; whitespace only separates."""
    words: list[str] = []
    for piece in _BOUNDARY.split(text):
        if not piece.strip():
            continue
        if _WORD_CHAR.search(piece):
            words.extend(piece.split())
        else:  # punctuation and symbols: one token per user-perceived character
            words.extend(g for g in _GRAPHEME.findall(piece) if not g.isspace())
    return words
