"""Raw text into words, in any script."""

from __future__ import annotations

import pytest

from segmix.text import split_words


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            "Peter Blackburn flew to Brussels.",
            ["Peter", "Blackburn", "flew", "to", "Brussels", "."],
        ),
        ("東京に行きました。", ["東", "京", "に", "行", "き", "ま", "し", "た", "。"]),
        ("Great job 👍🏽 !", ["Great", "job", "👍🏽", "!"]),
        ("a 👨\u200d👩\u200d👧 family", ["a", "👨\u200d👩\u200d👧", "family"]),
        ("don't pay 3.5 or 1,000", ["don't", "pay", "3.5", "or", "1,000"]),
        ("Zoë (née Smith)...", ["Zoë", "(", "née", "Smith", ")", ".", ".", "."]),
        ("   ", []),
    ],
)
def test_split_words(text, words):
    assert split_words(text) == words
