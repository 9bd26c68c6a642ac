"""CoNLL-U (Universal Dependencies) reading and writing for word-level tagging.

A sentence is its comment lines (``# sent_id = …``, ``# text = …``), then one line a word with ten
tab-separated columns (ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC), then a blank line.
Two kinds of line are not words of the sentence and are kept only to be written back:
multiword tokens (ID a range ``3-4``: ``don't`` over ``do`` + ``n't``) and empty nodes (ID a
decimal ``8.1``). Tagging reads the syntactic words, the unit UD's POS accuracy counts.

Every malformed line stops reading with :class:`~segmix.datafiles.DataFormatError` naming the
file and line: a wrong column count, an ID that is neither a number, a range nor a decimal, word
IDs out of order, an empty form, a missing tag (``_``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from segmix.datafiles import DataFormatError, PathArg, read_text

#: the tag columns a tagger can learn, by name: UD's universal tags or the treebank's own
TAG_COLUMNS: dict[str, int] = {"upos": 3, "xpos": 4}

_RANGE = re.compile(r"^[1-9]\d*-[1-9]\d*$")
_DECIMAL = re.compile(r"^\d+\.[1-9]\d*$")
_WORD = re.compile(r"^[1-9]\d*$")


@dataclass(frozen=True)
class UDSentence:
    """One sentence's syntactic words and their tags, with what writing it back needs.

    ``id`` is the 0-based index of the sentence in its file; ``line`` the 1-based line of its
    first word (for messages further down, as :class:`segmix.tasks.tagging.data.NerSentence`).
    ``comments`` and ``rows`` (every token line, its ten columns, multiword tokens and empty
    nodes included) are the sentence as read; ``word_rows`` the row of each word.
    """

    tokens: tuple[str, ...]
    tags: tuple[str, ...]
    id: int
    line: int | None = None
    comments: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    word_rows: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "tokens", tuple(self.tokens))
        object.__setattr__(self, "tags", tuple(self.tags))
        if len(self.tokens) != len(self.tags):
            raise ValueError(
                f"sentence {self.id}: {len(self.tokens)} tokens but {len(self.tags)} tags"
            )

    @property
    def sent_id(self) -> str | None:
        """The ``# sent_id = …`` comment's value, if the sentence has one."""
        for comment in self.comments:
            key, _, value = comment.lstrip("#").partition("=")
            if key.strip() == "sent_id":
                return value.strip()
        return None


def _column(column: str) -> int:
    if column not in TAG_COLUMNS:
        raise ValueError(f"tag column must be {' or '.join(TAG_COLUMNS)}, got {column!r}")
    return TAG_COLUMNS[column]


def read_conllu(path: PathArg, column: str = "upos") -> list[UDSentence]:
    """Every sentence of a CoNLL-U file, each word tagged from ``column`` (``upos``/``xpos``)."""
    col = _column(column)
    text = read_text(path)
    sentences: list[UDSentence] = []
    comments: list[str] = []
    rows: list[tuple[str, ...]] = []
    words: list[tuple[str, str, int, int]] = []  # form, tag, row index, line

    def close(at: int) -> None:
        if not rows:
            if comments:
                raise DataFormatError(path, at, "comment lines with no word lines after them")
            return
        if not words:
            raise DataFormatError(path, at, "a sentence without a single word line")
        sentences.append(
            UDSentence(
                tokens=tuple(w[0] for w in words),
                tags=tuple(w[1] for w in words),
                id=len(sentences),
                line=words[0][3],
                comments=tuple(comments),
                rows=tuple(rows),
                word_rows=tuple(w[2] for w in words),
            )
        )
        comments.clear()
        rows.clear()
        words.clear()

    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r")
        if not line.strip():
            close(number)
            continue
        if line.startswith("#"):
            if rows:
                raise DataFormatError(path, number, "a comment line inside a sentence")
            comments.append(line)
            continue
        fields = tuple(line.split("\t"))
        if len(fields) != 10:
            raise DataFormatError(
                path, number, f"expected 10 tab-separated columns, found {len(fields)}"
            )
        token_id = fields[0]
        rows.append(fields)
        if _RANGE.match(token_id) or _DECIMAL.match(token_id):
            continue  # a multiword token or an empty node: not a word of the sentence
        if not _WORD.match(token_id):
            raise DataFormatError(
                path, number, f"ID {token_id!r} is neither a word number, a range nor a decimal"
            )
        if int(token_id) != len(words) + 1:
            raise DataFormatError(
                path, number, f"word ID {token_id} where {len(words) + 1} was expected"
            )
        form, tag = fields[1], fields[col]
        if not form:
            raise DataFormatError(path, number, "empty FORM")
        if tag in ("", "_"):
            raise DataFormatError(path, number, f"word {form!r} has no {column.upper()} tag")
        words.append((form, tag, len(rows) - 1, number))
    close(len(lines) + 1)
    if not sentences:
        raise DataFormatError(path, None, "no sentences in file")
    return sentences


def write_conllu(
    path: PathArg,
    sentences: Sequence[UDSentence],
    tags: Iterable[Sequence[str]],
    column: str = "upos",
) -> None:
    """The sentences as CoNLL-U with ``column`` replaced by ``tags``; every other line and
    column as read (a sentence read from another format gets ``_`` in the columns it lacks)."""
    col = _column(column)
    out: list[str] = []
    for s, pred in zip(sentences, tags, strict=True):
        if len(pred) != len(s.tokens):
            raise ValueError(f"sentence {s.id}: {len(s.tokens)} words but {len(pred)} tags")
        out.extend(s.comments)
        if s.rows:
            rows = [list(r) for r in s.rows]
            for j, tag in zip(s.word_rows, pred, strict=True):
                rows[j][col] = tag
        else:
            rows = [[str(i + 1), w, *["_"] * 8] for i, w in enumerate(s.tokens)]
            for row, tag in zip(rows, pred, strict=True):
                row[col] = tag
        out.extend("\t".join(r) for r in rows)
        out.append("")
    Path(path).write_text("\n".join(out) + "\n", encoding="utf-8")
