"""Reading and writing NER data (CoNLL columns and JSON Lines) and low-resource subsets.

Everything inside the library works on IOB2 tags (``O``, ``B-TYPE``, ``I-TYPE``): one scheme
means mixing, label lists and evaluation never have to care where the data came from. Users'
files may be in IOB1, IOB2 or IOBES; they are converted to IOB2 on reading and predictions can
be written back in the user's scheme, so the output lines up with the input.

Bad input is reported as :class:`DataFormatError` naming the file and 1-based line, because a
training run that dies on line 48,213 of a file is only debuggable if the message says so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from segmix.datafiles import DataFormatError, PathArg, read_text

__all__ = [
    "SCHEMES",
    "NerSentence",
    "detect_scheme",
    "entity_types",
    "from_iob2",
    "label_list",
    "read_conll",
    "read_jsonl",
    "read_ner",
    "to_iob2",
    "write_conll",
    "write_jsonl",
]


#: Tagging schemes understood on input and output; IOB2 is the internal one.
SCHEMES: tuple[str, ...] = ("iob1", "iob2", "iobes")

# Prefixes a tag may carry in each scheme (``O`` is always allowed).
_PREFIXES: dict[str, frozenset[str]] = {
    "iob1": frozenset("BI"),
    "iob2": frozenset("BI"),
    "iobes": frozenset("BIES"),
}

# CoNLL columns are separated by ASCII whitespace only: ``str.split()`` would also split on
# NO-BREAK SPACE and other Unicode spaces, which can legitimately occur inside a token.
_ASCII_WS = re.compile(r"[ \t\r\f\v]+")

_DOCSTART = "-DOCSTART-"


@dataclass(frozen=True)
class NerSentence:
    """One tokenised sentence with its tags, always in IOB2.

    ``id`` is the 0-based index of the sentence in its file (``-DOCSTART-`` lines are not
    sentences), so subsets and predictions can be traced back to the source; ``line`` is the
    1-based line of the first token, for error messages further down the pipeline.
    """

    tokens: tuple[str, ...]
    tags: tuple[str, ...]
    id: int
    line: int | None = None

    def __post_init__(self) -> None:
        # Accept lists for convenience but store tuples, so a sentence is hashable and cannot
        # be changed behind the back of a cache.
        if not isinstance(self.tokens, tuple):
            object.__setattr__(self, "tokens", tuple(self.tokens))
        if not isinstance(self.tags, tuple):
            object.__setattr__(self, "tags", tuple(self.tags))
        if len(self.tokens) != len(self.tags):
            raise ValueError(
                f"sentence {self.id}: {len(self.tokens)} tokens but {len(self.tags)} tags"
            )


# --------------------------------------------------------------------------- tag schemes


class _TagError(ValueError):
    """A bad tag at a position in one sentence; readers turn it into a located error."""

    def __init__(self, index: int, reason: str) -> None:
        self.index = index
        self.reason = reason
        super().__init__(f"position {index}: {reason}")


def _check_scheme(scheme: str, allow_auto: bool = False) -> str:
    """Return ``scheme`` lower-cased, or raise ValueError listing the valid names."""
    name = scheme.lower() if isinstance(scheme, str) else scheme
    if name in SCHEMES or (allow_auto and name == "auto"):
        return name
    valid = ("auto", *SCHEMES) if allow_auto else SCHEMES
    raise ValueError(f"unknown tagging scheme {scheme!r}; expected one of {', '.join(valid)}")


def _bad_tag_reason(tag: object, scheme: str) -> str:
    prefixes = ", ".join(f"{p}-" for p in sorted(_PREFIXES[scheme]))
    return (
        f"invalid tag {tag!r} for scheme {scheme} "
        f"(expected 'O' or <prefix>-<TYPE> with prefix {prefixes})"
    )


def detect_scheme(tag_sequences: Iterable[Sequence[str]]) -> str:
    """Guess the tagging scheme of a whole data set.

    ``iobes`` if any tag has an ``S-`` or ``E-`` prefix; otherwise ``iob1`` if any ``I-X``
    starts a chunk (at sentence start, after ``O`` or after a tag of another type); otherwise
    ``iob2``. Detection has to look at the whole data set: one sentence usually cannot tell
    IOB1 from IOB2. Malformed tags are ignored here; conversion reports them.
    """
    iob1 = False
    for tags in tag_sequences:
        open_type: str | None = None
        for tag in tags:
            if len(tag) < 3 or tag[1] != "-":
                open_type = None
                continue
            prefix = tag[0]
            if prefix == "S" or prefix == "E":
                return "iobes"
            if prefix == "I":
                if open_type != tag[2:]:
                    iob1 = True
                open_type = tag[2:]
            elif prefix == "B":
                open_type = tag[2:]
            else:
                open_type = None
    return "iob1" if iob1 else "iob2"


def _to_iob2(tags: Sequence[str], scheme: str) -> list[str]:
    """Convert one sentence to IOB2; ``scheme`` must already be validated.

    Invalid transitions are repaired rather than rejected (an ``I-X``/``E-X`` that does not
    continue an open ``X`` chunk starts one, ``B-X``), because real files contain them and
    dropping or refusing a sentence would silently change the data set. Only a tag that is
    not a tag at all (unknown prefix, missing type) raises.
    """
    allowed = _PREFIXES[scheme]
    out: list[str] = []
    append = out.append
    open_type: str | None = None  # type of the chunk the next tag may continue
    for i, tag in enumerate(tags):
        if tag == "O":
            append("O")
            open_type = None
            continue
        if not isinstance(tag, str) or len(tag) < 3 or tag[1] != "-" or tag[0] not in allowed:
            raise _TagError(i, _bad_tag_reason(tag, scheme))
        prefix = tag[0]
        typ = tag[2:]
        if prefix == "B":
            append(tag)
            open_type = typ
        elif prefix == "I":
            append(tag if open_type == typ else "B-" + typ)
            open_type = typ
        elif prefix == "E":
            append("I-" + typ if open_type == typ else "B-" + typ)
            open_type = None
        else:  # "S"
            append("B-" + typ)
            open_type = None
    return out


def to_iob2(tags: Sequence[str], scheme: str) -> list[str]:
    """Convert one sentence's tags from ``scheme`` to IOB2, the library's internal scheme.

    Raises ValueError on an unknown scheme name or on a tag whose prefix is not valid in
    ``scheme``; ill-formed transitions are repaired (see module docs), never dropped.
    """
    return _to_iob2(tags, _check_scheme(scheme))


def from_iob2(tags: Sequence[str], scheme: str) -> list[str]:
    """Convert one sentence's IOB2 tags to ``scheme``, to write predictions in the user's scheme.

    Inverse of :func:`to_iob2` on valid input. In IOB1, ``B-`` is used only where a chunk
    directly follows a chunk of the same type (elsewhere chunks start with ``I-``). An ``I-X``
    that does not continue an ``X`` chunk (as a model may predict) is read as starting one.
    """
    scheme = _check_scheme(scheme)
    norm = _to_iob2(tags, "iob2")
    if scheme == "iob2":
        return norm
    out: list[str] = []
    n = len(norm)
    for i, tag in enumerate(norm):
        if tag == "O":
            out.append("O")
            continue
        typ = tag[2:]
        begins = tag[0] == "B"
        if scheme == "iob1":
            prev = norm[i - 1] if i else "O"
            adjacent_same = begins and prev != "O" and prev[2:] == typ
            out.append(tag if adjacent_same else "I-" + typ)
        else:  # iobes
            ends = i + 1 == n or norm[i + 1] != "I-" + typ
            if begins:
                out.append(("S-" if ends else "B-") + typ)
            else:
                out.append(("E-" if ends else "I-") + typ)
    return out


# --------------------------------------------------------------------------- reading


def _build(
    path: PathArg, raw: list[tuple[list[str], list[str], int]], scheme: str, per_token_lines: bool
) -> list[NerSentence]:
    """Detect/validate the scheme and make IOB2 sentences from ``(tokens, tags, line)`` triples.

    ``per_token_lines`` says whether token ``i`` of a sentence sits on ``line + i`` (CoNLL) or
    the whole sentence is on one line (JSONL), so errors point at the right line.
    """
    if not raw:
        raise DataFormatError(path, None, "no sentences in file")
    detected = ""
    if scheme == "auto":
        scheme = detect_scheme(tags for _, tags, _ in raw)
        detected = " (auto-detected)"
    sentences: list[NerSentence] = []
    for idx, (tokens, tags, line) in enumerate(raw):
        try:
            iob2 = _to_iob2(tags, scheme)
        except _TagError as e:
            at = line + e.index if per_token_lines else line
            raise DataFormatError(path, at, e.reason + detected) from None
        sentences.append(NerSentence(tuple(tokens), tuple(iob2), idx, line))
    return sentences


def read_conll(path: PathArg, scheme: str = "auto") -> list[NerSentence]:
    """Read a CoNLL-style column file into IOB2 sentences.

    The token is the first column and the tag the last (whitespace separated), so both the
    two-column ``token tag`` layout and the original four-column CoNLL-2003 layout work.
    ``-DOCSTART-`` lines are document breaks, not sentences; blank lines end sentences; the
    last sentence need not be followed by a blank line. ``scheme="auto"`` detects the scheme
    over the whole file (see :func:`detect_scheme`).
    """
    scheme = _check_scheme(scheme, allow_auto=True)
    text = read_text(path)
    raw: list[tuple[list[str], list[str], int]] = []
    tokens: list[str] = []
    tags: list[str] = []
    start = 0
    split_re = _ASCII_WS.split
    for lineno, line in enumerate(text.split("\n"), 1):
        # Fast path for the common all-ASCII line; Unicode lines split on ASCII space only.
        cols = line.split() if line.isascii() else [c for c in split_re(line) if c]
        if not cols or cols[0] == _DOCSTART:
            if tokens:
                raw.append((tokens, tags, start))
                tokens, tags = [], []
            continue
        if len(cols) < 2:
            raise DataFormatError(
                path, lineno, f"expected a token and a tag, found one column only: {cols[0]!r}"
            )
        if not tokens:
            start = lineno
        tokens.append(cols[0])
        tags.append(cols[-1])
    if tokens:
        raw.append((tokens, tags, start))
    return _build(path, raw, scheme, per_token_lines=True)


def _is_str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def read_jsonl(path: PathArg, scheme: str = "auto") -> list[NerSentence]:
    """Read JSON Lines, one ``{"tokens": [...], "tags": [...]}`` object per line, into IOB2.

    Blank lines are skipped; other keys are ignored. Each malformed line is reported with its
    line number: invalid JSON, missing keys, non-string items, length mismatch, an empty
    sentence or an empty/whitespace-only token (which a subword tokenizer would drop, breaking
    the token-label alignment).
    """
    scheme = _check_scheme(scheme, allow_auto=True)
    text = read_text(path)
    raw: list[tuple[list[str], list[str], int]] = []
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            hint = ""
            if lineno == 1 and line.lstrip().startswith("["):
                hint = "; expected JSON Lines (one object per line), not a JSON array"
            raise DataFormatError(
                path, lineno, f"invalid JSON: {e.msg} (column {e.colno}){hint}"
            ) from None
        if not isinstance(obj, dict):
            raise DataFormatError(path, lineno, f"expected a JSON object, got {type(obj).__name__}")
        missing = [k for k in ("tokens", "tags") if k not in obj]
        if missing:
            raise DataFormatError(path, lineno, f"missing key(s): {', '.join(missing)}")
        tokens, tags = obj["tokens"], obj["tags"]
        if not _is_str_list(tokens):
            raise DataFormatError(path, lineno, "'tokens' must be a list of strings")
        if not _is_str_list(tags):
            raise DataFormatError(path, lineno, "'tags' must be a list of strings")
        if len(tokens) != len(tags):
            raise DataFormatError(
                path, lineno, f"{len(tokens)} tokens but {len(tags)} tags (must be equal)"
            )
        if not tokens:
            raise DataFormatError(path, lineno, "empty sentence (no tokens)")
        for i, tok in enumerate(tokens):
            if not tok.strip():
                raise DataFormatError(
                    path, lineno, f"empty or whitespace-only token at position {i}"
                )
        raw.append((tokens, tags, lineno))
    return _build(path, raw, scheme, per_token_lines=False)


def read_ner(path: PathArg, scheme: str = "auto") -> list[NerSentence]:
    """Read an NER file, choosing the format by suffix: ``.jsonl``/``.json`` -> JSON Lines,
    anything else -> CoNLL columns. A folder written by a Hugging Face ``datasets``
    ``save_to_disk`` is read by :func:`segmix.tasks.tagging.hf.read_hf_tagging` (for a
    ``DatasetDict``, give its split's sub-folder, e.g. ``FOLDER/train``)."""
    from segmix.tasks.tagging.hf import is_hf_dataset_dir, read_hf_tagging  # hf imports us

    if is_hf_dataset_dir(path):
        return read_hf_tagging(path, scheme=scheme)
    if Path(path).suffix.lower() in (".jsonl", ".json"):
        return read_jsonl(path, scheme)
    return read_conll(path, scheme)


# --------------------------------------------------------------------------- writing


def _prepare_output(
    tokens: Sequence[Sequence[str]],
    tags: Sequence[Sequence[str]],
    gold: Sequence[Sequence[str]] | None,
    scheme: str,
    conll: bool,
) -> tuple[list[list[str]], list[list[str]] | None]:
    """Check that tokens/tags/gold line up and convert tags to ``scheme``.

    Checking here, before anything is written, avoids leaving a half-written or misaligned
    prediction file that an evaluation script would then score wrongly.
    """
    scheme = _check_scheme(scheme)
    if len(tags) != len(tokens):
        raise ValueError(f"{len(tokens)} token sequences but {len(tags)} tag sequences")
    if gold is not None and len(gold) != len(tokens):
        raise ValueError(f"{len(tokens)} token sequences but {len(gold)} gold sequences")
    out_tags: list[list[str]] = []
    out_gold: list[list[str]] | None = [] if gold is not None else None
    for i, toks in enumerate(tokens):
        if len(tags[i]) != len(toks):
            raise ValueError(f"sentence {i}: {len(toks)} tokens but {len(tags[i])} tags")
        if gold is not None and len(gold[i]) != len(toks):
            raise ValueError(f"sentence {i}: {len(toks)} tokens but {len(gold[i])} gold tags")
        if conll:
            if not toks:
                raise ValueError(f"sentence {i} is empty; CoNLL cannot represent it")
            for tok in toks:
                if not tok or _ASCII_WS.search(tok):
                    raise ValueError(
                        f"sentence {i}: token {tok!r} is empty or contains whitespace; "
                        "CoNLL columns cannot represent it"
                    )
        try:
            out_tags.append(from_iob2(tags[i], scheme))
            if out_gold is not None and gold is not None:
                out_gold.append(from_iob2(gold[i], scheme))
        except ValueError as e:
            raise ValueError(f"sentence {i}: {e}") from None
    return out_tags, out_gold


def write_conll(
    path: PathArg,
    tokens: Sequence[Sequence[str]],
    tags: Sequence[Sequence[str]],
    gold: Sequence[Sequence[str]] | None = None,
    scheme: str = "iob2",
) -> None:
    """Write predictions as CoNLL columns: ``token [gold] pred`` per line, blank line between
    sentences (the layout conlleval-style scorers read).

    ``tags`` and ``gold`` are given in IOB2 and written in ``scheme``, so output matches the
    user's input files. The parent directory is created if needed.
    """
    out_tags, out_gold = _prepare_output(tokens, tags, gold, scheme, conll=True)
    blocks: list[str] = []
    for i, toks in enumerate(tokens):
        if out_gold is not None:
            rows = zip(toks, out_gold[i], out_tags[i], strict=True)
            lines = [f"{t} {g} {p}" for t, g, p in rows]
        else:
            lines = [f"{t} {p}" for t, p in zip(toks, out_tags[i], strict=True)]
        blocks.append("\n".join(lines) + "\n")
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("\n".join(blocks), encoding="utf-8")


def write_jsonl(
    path: PathArg,
    tokens: Sequence[Sequence[str]],
    tags: Sequence[Sequence[str]],
    gold: Sequence[Sequence[str]] | None = None,
    scheme: str = "iob2",
) -> None:
    """Write predictions as JSON Lines: ``{"tokens", "tags"[, "gold"]}`` per sentence.

    Tags are given in IOB2 and written in ``scheme``; the output can be read back with
    :func:`read_jsonl` (which reads ``tags``). The parent directory is created if needed.
    """
    out_tags, out_gold = _prepare_output(tokens, tags, gold, scheme, conll=False)
    lines: list[str] = []
    for i, toks in enumerate(tokens):
        obj: dict[str, list[str]] = {"tokens": list(toks), "tags": out_tags[i]}
        if out_gold is not None:
            obj["gold"] = out_gold[i]
        lines.append(json.dumps(obj, ensure_ascii=False))
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


# --------------------------------------------------------------------------- subsets, labels


def entity_types(sentences: Iterable[NerSentence]) -> list[str]:
    """Sorted entity types occurring in the (IOB2) tags of ``sentences``."""
    types: set[str] = set()
    for s in sentences:
        types.update(tag[2:] for tag in s.tags if tag != "O")
    return sorted(types)


def label_list(sentences: Iterable[NerSentence]) -> list[str]:
    """The model's label order: ``["O", "B-T1", "I-T1", "B-T2", ...]`` over sorted types.

    Sorting makes the order depend only on the set of types, so a checkpoint's label ids
    stay valid whichever file (or subset) the label list was built from.
    """
    labels = ["O"]
    for typ in entity_types(sentences):
        labels += [f"B-{typ}", f"I-{typ}"]
    return labels
