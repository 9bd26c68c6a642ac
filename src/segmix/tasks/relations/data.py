"""Reading and writing relation-extraction data (sentence-level relation classification).

Three input formats are understood, all turned into :class:`RelationExample`:

* ``semeval-tsv`` — ``relation<TAB>sentence``, the head marked ``<e1> … </e1>`` and the tail
  ``<e2> … </e2>`` inline (the layout of ``shared/data/semeval2010_task8/*.tsv``).
* ``semeval`` — the official SemEval-2010 Task 8 distribution (``TRAIN_FILE.TXT``,
  ``TEST_FILE_FULL.TXT``): blocks of ``<id><TAB>"<marked sentence>"``, the relation, an optional
  ``Comment:`` line, and a blank line.
* ``tacred`` — TACRED JSON (one list) or JSON Lines: ``token``, ``subj_start``, ``subj_end``,
  ``obj_start``, ``obj_end`` (ends *inclusive*), ``subj_type``, ``obj_type``, ``relation``,
  ``id``.

Spans are always stored as half-open word spans ``[start, end)``; TACRED's inclusive ends are
converted on reading. Every malformed input raises :class:`~segmix.datafiles.DataFormatError`
naming the file and the 1-based line; no example is ever dropped silently. Blank lines are
not examples and are skipped (they still count for line numbers).

Sentence ids: the SemEval answer key numbers the 2,717 test sentences 8001–10717 in file
order, but ``test.tsv`` carries no ids. :func:`read_semeval_tsv` therefore takes an explicit
``id_start``: example *i* gets id ``str(id_start + i)``; the default 0 gives 0-based indices,
``id_start=SEMEVAL_TEST_ID_START`` (8001) gives the official test ids. Nothing is inferred
from file names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

from segmix.datafiles import DataFormatError

__all__ = [
    "FORMATS",
    "SEMEVAL_TEST_ID_START",
    "DataFormatError",
    "RelationExample",
    "parse_marked_sentence",
    "read_answer_key",
    "read_relations",
    "read_semeval_original",
    "read_semeval_tsv",
    "read_tacred",
    "relation_labels",
    "semeval_test_ids",
    "tokenize",
    "write_answers",
]

PathArg = str | PathLike[str]

#: First sentence id of the official SemEval-2010 Task 8 test set (ids 8001–10717).
SEMEVAL_TEST_ID_START = 8001

#: Values accepted by :func:`read_relations`.
FORMATS: tuple[str, ...] = ("auto", "semeval-tsv", "semeval", "tacred")


@dataclass(frozen=True)
class RelationExample:
    """One sentence with a head (e1 / subject) and tail (e2 / object) entity and their relation.

    ``head`` and ``tail`` are half-open word spans ``[start, end)`` into ``tokens``. ``id`` is
    the sentence id where the format has one (SemEval original, TACRED), else the index in the
    file offset by the reader's ``id_start``. ``line`` is the 1-based source line the example
    starts on.
    """

    tokens: tuple[str, ...]
    head: tuple[int, int]
    tail: tuple[int, int]
    relation: str
    id: str
    head_type: str | None = None
    tail_type: str | None = None
    line: int | None = None

    def __post_init__(self) -> None:
        # Accept lists for convenience but store tuples, so examples stay hashable.
        if not isinstance(self.tokens, tuple):
            object.__setattr__(self, "tokens", tuple(self.tokens))
        object.__setattr__(self, "head", (int(self.head[0]), int(self.head[1])))
        object.__setattr__(self, "tail", (int(self.tail[0]), int(self.tail[1])))
        n = len(self.tokens)
        for name, (start, end) in (("head", self.head), ("tail", self.tail)):
            if not 0 <= start < end <= n:
                raise ValueError(
                    f"example {self.id}: {name} span [{start}, {end}) is empty or outside "
                    f"the {n} tokens"
                )

    @property
    def head_tokens(self) -> tuple[str, ...]:
        return self.tokens[self.head[0] : self.head[1]]

    @property
    def tail_tokens(self) -> tuple[str, ...]:
        return self.tokens[self.tail[0] : self.tail[1]]


# --------------------------------------------------------------------------- tokenisation

# One token is, in order of preference:
#   * a dotted abbreviation of single letters: "U.S.", "e.g."
#   * a number with internal separators: "3.5", "1,000", "10:30"
#   * a word whose parts are joined by internal hyphens or apostrophes: "e-mail",
#     "run-of-the-mill", "don't", "O'Neill" (a leading/trailing hyphen or apostrophe is
#     punctuation: "'s" -> "'", "s"; "books'" -> "books", "'")
#   * any other single non-space character (punctuation, symbols), one token each.
_TOKEN_RE = re.compile(
    r"(?:[^\W\d_]\.){2,}"
    r"|\d+(?:[.,:]\d+)+"
    r"|\w+(?:[-'\u2019]\w+)*"
    r"|[^\w\s]",
)


def tokenize(text: str) -> list[str]:
    """Split ``text`` into words and punctuation, deterministically and without a model.

    Internal hyphens and apostrophes stay inside words (``e-mail``, ``don't``), numbers keep
    their internal ``.``/``,``/``:`` (``3.5``, ``1,000``), dotted single-letter abbreviations
    stay whole (``U.S.``); every other non-space, non-word character is a token of its own.
    Whitespace only separates. ``" ".join(tokenize(s))`` therefore differs from ``s`` only in
    spacing.
    """
    return _TOKEN_RE.findall(text)


# --------------------------------------------------------------------------- entity markers

_MARKER_RE = re.compile(r"<(/?)e(\d+)>")
_MARKERS = ("<e1>", "</e1>", "<e2>", "</e2>")


def parse_marked_sentence(text: str) -> tuple[list[str], tuple[int, int], tuple[int, int]]:
    """Tokenise a sentence with inline ``<e1> … </e1>`` / ``<e2> … </e2>`` markers.

    Returns ``(tokens, head, tail)`` with the markers removed and ``head`` / ``tail`` the
    half-open word spans of e1 / e2. Markers may be glued to words
    (``the <e1>configuration</e1>``); a marker always ends a token, so ``<e1>cat</e1>s`` gives
    ``cat``, ``s``. Raises :class:`ValueError` with the reason when a marker is missing,
    duplicated, closed before it is opened, or unknown (``<e3>``), or when the spans are nested,
    overlap, or contain no token.
    """
    found = list(_MARKER_RE.finditer(text))
    for m in found:
        if m.group(0) not in _MARKERS:
            raise ValueError(f"unknown entity marker {m.group(0)!r}")
    for marker in _MARKERS:
        count = sum(1 for m in found if m.group(0) == marker)
        if count == 0:
            raise ValueError(f"missing {marker} marker")
        if count > 1:
            raise ValueError(f"duplicated {marker} marker ({count} times)")

    pos = {m.group(0): i for i, m in enumerate(found)}  # order of the four markers
    for e in ("e1", "e2"):
        if pos[f"</{e}>"] < pos[f"<{e}>"]:
            raise ValueError(f"</{e}> comes before <{e}>: unclosed <{e}> marker")
    o1, c1, o2, c2 = (pos[m] for m in _MARKERS)
    if o1 < o2 < c2 < c1 or o2 < o1 < c1 < c2:
        raise ValueError("nested entity markers: one entity lies inside the other")
    if not (c1 < o2 or c2 < o1):
        raise ValueError("overlapping entity markers: <e1> and <e2> spans overlap")

    tokens: list[str] = []
    boundary: dict[str, int] = {}
    prev = 0
    for m in found:
        tokens.extend(tokenize(text[prev : m.start()]))
        boundary[m.group(0)] = len(tokens)
        prev = m.end()
    tokens.extend(tokenize(text[prev:]))

    head = (boundary["<e1>"], boundary["</e1>"])
    tail = (boundary["<e2>"], boundary["</e2>"])
    for e, (start, end) in (("e1", head), ("e2", tail)):
        if start == end:
            raise ValueError(f"empty <{e}> span: no token between <{e}> and </{e}>")
    return tokens, head, tail


# --------------------------------------------------------------------------- file helpers


def _read_lines(path: PathArg) -> list[str]:
    """The file's lines without line terminators (UTF-8, optional BOM, any newline style)."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise DataFormatError(path, None, f"cannot read file: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataFormatError(path, line, f"not valid UTF-8: {exc.reason}") from exc
    # splitlines() would also split on \x0b, \x1c, U+2028 … which may occur inside a sentence.
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _example(
    path: PathArg,
    line: int,
    sentence: str,
    relation: str,
    ex_id: str,
) -> RelationExample:
    try:
        tokens, head, tail = parse_marked_sentence(sentence)
    except ValueError as exc:
        raise DataFormatError(path, line, str(exc)) from None
    return RelationExample(
        tokens=tuple(tokens), head=head, tail=tail, relation=relation, id=ex_id, line=line
    )


# --------------------------------------------------------------------------- SemEval TSV


def read_semeval_tsv(path: PathArg, id_start: int = 0) -> list[RelationExample]:
    """Read ``relation<TAB>marked sentence`` lines.

    Example *i* (0-based, in file order, blank lines not counted) gets id
    ``str(id_start + i)``; pass ``id_start=SEMEVAL_TEST_ID_START`` for the official test ids
    8001… that :func:`read_answer_key` uses.
    """
    examples: list[RelationExample] = []
    for lineno, raw in enumerate(_read_lines(path), start=1):
        if not raw.strip():
            continue
        if "\t" not in raw:
            raise DataFormatError(path, lineno, "expected 'relation<TAB>sentence': no tab")
        relation, sentence = raw.split("\t", 1)
        relation = relation.strip()
        if not relation:
            raise DataFormatError(path, lineno, "empty relation before the tab")
        if not sentence.strip():
            raise DataFormatError(path, lineno, "empty sentence after the tab")
        examples.append(_example(path, lineno, sentence, relation, str(id_start + len(examples))))
    if not examples:
        raise DataFormatError(path, None, "empty file: no examples")
    return examples


# --------------------------------------------------------------------------- SemEval original

_ORIG_SENTENCE_RE = re.compile(r"^\s*(\d+)\t(.*)$")
_ORIG_RELATION_RE = re.compile(r"^\S+$")


def read_semeval_original(path: PathArg) -> list[RelationExample]:
    """Read the official SemEval-2010 Task 8 format.

    Each example is a block: ``<id><TAB>"sentence"`` (surrounding double quotes optional),
    the relation on the next line, optionally one ``Comment:`` line, then a blank line (or the
    end of the file). Ids are the numbers in the file and must be unique. A block whose
    relation line is missing (e.g. the unlabelled ``TEST_FILE.txt``) or any other layout is an
    error.
    """
    lines = _read_lines(path)
    examples: list[RelationExample] = []
    seen: dict[str, int] = {}
    i = 0
    n = len(lines)
    while i < n:
        if not lines[i].strip():
            i += 1
            continue
        start = i + 1  # 1-based line of the sentence
        m = _ORIG_SENTENCE_RE.match(lines[i].rstrip())
        if m is None:
            raise DataFormatError(
                path, start, f"expected '<id><TAB>\"sentence\"', got {_clip(lines[i])!r}"
            )
        ex_id, sentence = m.group(1), m.group(2).strip()
        if len(sentence) >= 2 and sentence[0] == sentence[-1] == '"':
            sentence = sentence[1:-1]
        if ex_id in seen:
            raise DataFormatError(
                path, start, f"duplicate id {ex_id} (first on line {seen[ex_id]})"
            )
        seen[ex_id] = start
        i += 1
        if i >= n or not lines[i].strip() or _ORIG_SENTENCE_RE.match(lines[i]):
            raise DataFormatError(path, i + 1 if i < n else start, "missing relation line")
        relation = lines[i].strip()
        if relation.startswith("Comment") or not _ORIG_RELATION_RE.match(relation):
            raise DataFormatError(
                path, i + 1, f"expected a relation label, got {_clip(lines[i])!r}"
            )
        i += 1
        if i < n and lines[i].lstrip().startswith("Comment"):
            i += 1
        if i < n and lines[i].strip():
            raise DataFormatError(
                path,
                i + 1,
                f"expected a blank line after the example, got {_clip(lines[i])!r}",
            )
        examples.append(_example(path, start, sentence, relation, ex_id))
    if not examples:
        raise DataFormatError(path, None, "empty file: no examples")
    return examples


def _clip(s: str, width: int = 60) -> str:
    return s if len(s) <= width else s[: width - 3] + "..."


# --------------------------------------------------------------------------- TACRED

_TACRED_REQUIRED = ("token", "subj_start", "subj_end", "obj_start", "obj_end", "relation")


def _tacred_records(path: PathArg) -> list[tuple[int, Any]]:
    """``(line, decoded object)`` for each record of a JSON list or a JSON Lines file."""
    lines = _read_lines(path)
    text = "\n".join(lines)
    stripped = text.lstrip()
    if not stripped:
        raise DataFormatError(path, None, "empty file: no examples")
    decoder = json.JSONDecoder()
    records: list[tuple[int, Any]] = []

    def line_of(offset: int) -> int:
        return text.count("\n", 0, offset) + 1

    if stripped[0] == "[":
        # Walk the top-level array element by element, so every record knows its line.
        pos = len(text) - len(stripped) + 1
        ws = re.compile(r"\s*")
        expect_value = True
        while True:
            pos = ws.match(text, pos).end()
            if pos >= len(text):
                raise DataFormatError(path, line_of(pos), "unterminated JSON list: missing ']'")
            if text[pos] == "]" and (expect_value is False or not records):
                pos += 1
                break
            if not expect_value:
                if text[pos] != ",":
                    raise DataFormatError(path, line_of(pos), "expected ',' or ']' in JSON list")
                pos += 1
                expect_value = True
                continue
            try:
                obj, end = decoder.raw_decode(text, pos)
            except json.JSONDecodeError as exc:
                raise DataFormatError(path, exc.lineno, f"invalid JSON: {exc.msg}") from None
            records.append((line_of(pos), obj))
            pos = end
            expect_value = False
        if text[pos:].strip():
            raise DataFormatError(path, line_of(pos), "unexpected content after the JSON list")
    else:
        for lineno, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise DataFormatError(path, lineno, f"invalid JSON: {exc.msg}") from None
            records.append((lineno, obj))
    if not records:
        raise DataFormatError(path, None, "empty file: no examples")
    return records


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def read_tacred(path: PathArg) -> list[RelationExample]:
    """Read TACRED-style JSON (one list of objects) or JSON Lines (one object a line).

    Required keys: ``token`` (non-empty list of strings), ``subj_start``, ``subj_end``,
    ``obj_start``, ``obj_end`` (integers, ends inclusive, ``0 <= start <= end < len(token)``),
    ``relation``. ``subj_type``, ``obj_type`` and ``id`` are optional; a missing id becomes
    the 0-based index of the record. The subject is the head, the object the tail.
    """
    examples: list[RelationExample] = []
    for index, (lineno, rec) in enumerate(_tacred_records(path)):
        if not isinstance(rec, dict):
            raise DataFormatError(path, lineno, f"expected a JSON object, got {type(rec).__name__}")
        missing = [k for k in _TACRED_REQUIRED if k not in rec]
        if missing:
            raise DataFormatError(path, lineno, f"missing key(s): {', '.join(missing)}")
        tokens = rec["token"]
        if (
            not isinstance(tokens, list)
            or not tokens
            or not all(isinstance(t, str) for t in tokens)
        ):
            raise DataFormatError(path, lineno, "'token' must be a non-empty list of strings")
        spans = []
        for role in ("subj", "obj"):
            start, end = rec[f"{role}_start"], rec[f"{role}_end"]
            if not (_is_int(start) and _is_int(end)):
                raise DataFormatError(path, lineno, f"{role}_start and {role}_end must be integers")
            if start > end:
                raise DataFormatError(path, lineno, f"{role}_start {start} > {role}_end {end}")
            if start < 0 or end >= len(tokens):
                raise DataFormatError(
                    path,
                    lineno,
                    f"{role} span [{start}, {end}] (inclusive) out of range for "
                    f"{len(tokens)} tokens",
                )
            spans.append((start, end + 1))
        relation = rec["relation"]
        if not isinstance(relation, str) or not relation.strip():
            raise DataFormatError(path, lineno, "'relation' must be a non-empty string")
        types = []
        for key in ("subj_type", "obj_type"):
            value = rec.get(key)
            if value is not None and not isinstance(value, str):
                raise DataFormatError(path, lineno, f"'{key}' must be a string")
            types.append(value)
        ex_id = rec.get("id", index)
        if not isinstance(ex_id, str | int) or isinstance(ex_id, bool):
            raise DataFormatError(path, lineno, "'id' must be a string or an integer")
        examples.append(
            RelationExample(
                tokens=tuple(tokens),
                head=spans[0],
                tail=spans[1],
                relation=relation.strip(),
                id=str(ex_id),
                head_type=types[0],
                tail_type=types[1],
                line=lineno,
            )
        )
    return examples


# --------------------------------------------------------------------------- dispatch


def _detect_format(path: PathArg) -> str:
    lines = _read_lines(path)
    first = next((ln for ln in lines if ln.strip()), None)
    if first is None:
        raise DataFormatError(path, None, "empty file: no examples")
    lineno = lines.index(first) + 1
    head = first.lstrip()
    if head[:1] in ("[", "{"):
        return "tacred"
    m = _ORIG_SENTENCE_RE.match(first)
    if m is not None and m.group(2).lstrip().startswith('"'):
        return "semeval"
    if "\t" in first:
        return "semeval-tsv"
    suffix = Path(path).suffix.lower()
    if suffix in (".json", ".jsonl"):
        return "tacred"
    if suffix == ".tsv":
        return "semeval-tsv"
    raise DataFormatError(
        path,
        lineno,
        "cannot detect the format (expected JSON, '<id><TAB>\"sentence\"' or "
        "'relation<TAB>sentence'); pass format= explicitly",
    )


def read_relations(path: PathArg, format: str = "auto", id_start: int = 0) -> list[RelationExample]:
    """Read relation examples in any supported format.

    ``format`` is one of :data:`FORMATS`. ``"auto"`` looks at the first non-blank line: a
    leading ``[`` or ``{`` means TACRED JSON / JSON Lines, ``<digits><TAB>"`` the SemEval
    original format, any other line with a tab ``semeval-tsv``; failing that, the suffix
    (``.json``/``.jsonl`` -> TACRED, ``.tsv`` -> SemEval TSV) decides. ``id_start`` only
    applies to ``semeval-tsv`` (see :func:`read_semeval_tsv`).
    """
    if format not in FORMATS:
        raise ValueError(f"unknown relation format {format!r}; expected one of {FORMATS}")
    if format == "auto":
        format = _detect_format(path)
    if format == "semeval-tsv":
        return read_semeval_tsv(path, id_start=id_start)
    if format == "semeval":
        return read_semeval_original(path)
    return read_tacred(path)


def relation_labels(examples: Iterable[RelationExample]) -> list[str]:
    """The sorted list of distinct relation labels in ``examples``."""
    return sorted({ex.relation for ex in examples})


# --------------------------------------------------------------------------- answer files


def read_answer_key(path: PathArg) -> dict[str, str]:
    """Read an official answer / key file: ``<id><TAB><relation>`` per line.

    Returns ``{id: relation}`` in file order. Blank lines are skipped; a line without a tab,
    an empty id or relation, or a repeated id is an error (the official scorer refuses
    repetitions too).
    """
    answers: dict[str, str] = {}
    first_line: dict[str, int] = {}
    for lineno, raw in enumerate(_read_lines(path), start=1):
        if not raw.strip():
            continue
        if "\t" not in raw:
            raise DataFormatError(path, lineno, "expected '<id><TAB><relation>': no tab")
        ex_id, relation = (part.strip() for part in raw.split("\t", 1))
        if not ex_id:
            raise DataFormatError(path, lineno, "empty id")
        if not relation:
            raise DataFormatError(path, lineno, "empty relation")
        if ex_id in answers:
            raise DataFormatError(
                path, lineno, f"duplicate id {ex_id} (first on line {first_line[ex_id]})"
            )
        answers[ex_id] = relation
        first_line[ex_id] = lineno
    if not answers:
        raise DataFormatError(path, None, "empty file: no answers")
    return answers


def write_answers(
    path: PathArg,
    ids: Sequence[str],
    relations: Sequence[str],
    newline: str = "\n",
) -> None:
    """Write ``<id><TAB><relation>`` lines, the official answer format.

    ``newline`` ends every line; the distributed ``test_answer_keys.txt`` uses ``"\\r\\n"``
    and the official scorer accepts either.
    """
    if len(ids) != len(relations):
        raise ValueError(f"{len(ids)} ids but {len(relations)} relations")
    if newline not in ("\n", "\r\n"):
        raise ValueError(f"newline must be '\\n' or '\\r\\n', got {newline!r}")
    seen: set[str] = set()
    out: list[str] = []
    for ex_id, relation in zip(ids, relations, strict=True):
        ex_id, relation = str(ex_id), str(relation)
        for what, value in (("id", ex_id), ("relation", relation)):
            if not value or any(c in value for c in "\t\r\n"):
                raise ValueError(f"invalid {what} {value!r}: empty or contains tab/newline")
        if ex_id in seen:
            raise ValueError(f"duplicate id {ex_id!r}")
        seen.add(ex_id)
        out.append(f"{ex_id}\t{relation}{newline}")
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("".join(out))


def semeval_test_ids(n: int, start: int = SEMEVAL_TEST_ID_START) -> list[str]:
    """``n`` consecutive sentence ids from ``start``: the official test ids by default."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    return [str(start + i) for i in range(n)]
