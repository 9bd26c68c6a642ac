"""Tagged sentences into sub-word space: each word's label on its first sub-word."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from segmix.encoding import IGNORE_INDEX, SubwordCache


@dataclass(frozen=True)
class TaggedExample:
    """A tagged sentence in sub-word space, ready to be mixed or batched.

    ``labels`` is per sub-word position (the word's label on its first sub-word,
    ``IGNORE_INDEX`` elsewhere and on specials); ``word_labels`` is per word; ``mentions`` are
    the word spans ``[start, end)`` of its entity mentions.
    """

    words: tuple[str, ...]
    ids: np.ndarray
    labels: np.ndarray
    word_starts: np.ndarray
    word_lens: np.ndarray
    word_labels: np.ndarray
    mentions: tuple[tuple[int, int], ...]
    id: int = -1


def mention_spans(tags: Sequence[str]) -> list[tuple[int, int]]:
    """Word spans ``[start, end)`` of the mentions in an IOB2 tag sequence.

    An ``I-X`` that does not continue a mention of type X starts one, as seqeval's default
    (lenient) chunking does, so that no labelled word is left outside every mention.
    """
    spans: list[tuple[int, int]] = []
    start, kind = -1, None
    for j, tag in enumerate(tags):
        prefix, _, typ = tag.partition("-")
        continues = prefix == "I" and kind == typ
        if start >= 0 and not continues:
            spans.append((start, j))
            start, kind = -1, None
        if prefix in ("B", "I") and not continues:
            start, kind = j, typ
    if start >= 0:
        spans.append((start, len(tags)))
    return spans


def encode_tagged(
    sentences: Sequence,  # objects with .tokens, .tags (IOB2), .id
    cache: SubwordCache,
    label2id: dict[str, int],
    *,
    source: str | None = None,
    spans: bool = True,
) -> list[TaggedExample]:
    """Encode tagged sentences once; raise a clear error for unknown tags or over-long sentences.

    ``spans=False`` (word labels: part-of-speech tags) gives every example no mentions, whatever
    its tags look like (``-LRB-`` is a Penn tag, not an entity)."""
    cache.add(w for s in sentences for w in s.tokens)
    out = []
    for s in sentences:
        enc = cache.encode(s.tokens)
        where = _where(source, s)
        if len(enc.ids) > cache.max_length:
            raise ValueError(
                f"{where}sentence of {len(s.tokens)} words is {len(enc.ids)} sub-words long, "
                f"over the model's limit of {cache.max_length}; split it or drop it from the file"
            )
        try:
            word_labels = np.fromiter(
                (label2id[t] for t in s.tags), dtype=np.int64, count=len(s.tags)
            )
        except KeyError as err:
            raise ValueError(
                f"{where}tag {err.args[0]!r} is not among the model's labels {sorted(label2id)}"
            ) from None
        labels = np.full(len(enc.ids), IGNORE_INDEX, dtype=np.int64)
        labels[enc.word_starts] = word_labels
        out.append(
            TaggedExample(
                words=tuple(s.tokens),
                ids=enc.ids,
                labels=labels,
                word_starts=enc.word_starts,
                word_lens=enc.word_lens,
                word_labels=word_labels,
                mentions=tuple(mention_spans(s.tags)) if spans else (),
                id=int(getattr(s, "id", -1)),
            )
        )
    return out


def check_lengths(sentences: Sequence, cache: SubwordCache, *, source: str | None = None) -> None:
    """Fail with file and line for the first sentence longer than the model's limit.

    Prediction and evaluation never truncate (a truncated sentence would lose its last tags).
    """
    cache.add(w for s in sentences for w in s.tokens)
    for s in sentences:
        n = len(cache.prefix) + len(cache.suffix) + sum(len(cache[w]) for w in s.tokens)
        if n > cache.max_length:
            raise ValueError(
                f"{_where(source, s)}sentence of {len(s.tokens)} words is {n} sub-words long, "
                f"over the model's limit of {cache.max_length}; split it"
            )


def _where(source: str | None, sentence) -> str:
    line = getattr(sentence, "line", None)
    if source and line:
        return f"{source}:{line}: "
    if source:
        return f"{source}: sentence {getattr(sentence, 'id', '?')}: "
    return f"sentence {getattr(sentence, 'id', '?')}: "
