"""Tests for segmix.tasks.tagging.data: NER files, tag schemes, subsets, labels."""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from pathlib import Path

import pytest

from segmix.datafiles import DataFormatError, sample_subset
from segmix.tasks.tagging.data import (
    SCHEMES,
    NerSentence,
    detect_scheme,
    entity_types,
    from_iob2,
    label_list,
    read_conll,
    read_jsonl,
    read_ner,
    to_iob2,
    write_conll,
    write_jsonl,
)

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
CONLL = DATA / "conll2003"
EXPECTED_COUNTS = {"train": 14041, "dev": 3250, "test": 3453}

needs_data = pytest.mark.skipif(not CONLL.is_dir(), reason="shared CoNLL-2003 data not present")


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _raw_tags(path: Path) -> list[list[str]]:
    """Tags exactly as in the file, read independently of segmix (last column)."""
    out: list[list[str]] = []
    cur: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        cols = line.split()
        if not cols or cols[0] == "-DOCSTART-":
            if cur:
                out.append(cur)
                cur = []
            continue
        cur.append(cols[-1])
    if cur:
        out.append(cur)
    return out


def _assert_valid_iob2(tags: tuple[str, ...] | list[str]) -> None:
    prev = "O"
    for tag in tags:
        assert tag == "O" or tag[:2] in ("B-", "I-"), tag
        if tag.startswith("I-"):
            assert prev in ("B-" + tag[2:], "I-" + tag[2:]), (prev, tag)
        prev = tag


@pytest.fixture(scope="module")
def conll_train() -> list[NerSentence]:
    return read_conll(CONLL / "train.txt")


# --------------------------------------------------------------------------- real data


@needs_data
@pytest.mark.parametrize("split", ["train", "dev", "test"])
def test_real_conll_counts_scheme_and_valid_iob2(split: str) -> None:
    path = CONLL / f"{split}.txt"
    sents = read_conll(path)
    assert len(sents) == EXPECTED_COUNTS[split]
    raw = _raw_tags(path)
    assert detect_scheme(raw) == "iobes"
    assert [s.id for s in sents] == list(range(len(sents)))
    for s in sents:
        assert len(s.tokens) == len(s.tags) > 0
        _assert_valid_iob2(s.tags)
    # Converting back reproduces the file's own IOBES tags exactly.
    assert [from_iob2(s.tags, "iobes") for s in sents] == raw
    # Explicit scheme gives the same result as auto-detection.
    assert read_conll(path, scheme="iobes") == sents


@needs_data
def test_real_first_sentence_and_line_numbers(conll_train: list[NerSentence]) -> None:
    lines = (CONLL / "train.txt").read_text(encoding="utf-8").splitlines()
    for s in conll_train[:50] + conll_train[-5:]:
        assert s.line is not None
        assert lines[s.line - 1].split()[0] == s.tokens[0]
        assert lines[s.line - 1 + len(s.tokens) - 1].split()[0] == s.tokens[-1]
    first = conll_train[0]
    assert first.tokens[:3] == ("EU", "rejects", "German")
    assert first.tags[:3] == ("B-ORG", "O", "B-MISC")


@needs_data
@pytest.mark.parametrize("scheme", SCHEMES)
def test_real_round_trip_each_scheme(conll_train: list[NerSentence], scheme: str) -> None:
    for s in conll_train:
        converted = from_iob2(s.tags, scheme)
        assert to_iob2(converted, scheme) == list(s.tags)


@needs_data
def test_real_label_list_and_types(conll_train: list[NerSentence]) -> None:
    assert entity_types(conll_train) == ["LOC", "MISC", "ORG", "PER"]
    assert label_list(conll_train) == [
        "O",
        "B-LOC",
        "I-LOC",
        "B-MISC",
        "I-MISC",
        "B-ORG",
        "I-ORG",
        "B-PER",
        "I-PER",
    ]


@needs_data
def test_read_ner_dispatches_conll() -> None:
    sents = read_ner(CONLL / "dev.txt")
    assert len(sents) == EXPECTED_COUNTS["dev"]


# --------------------------------------------------------------------------- schemes by hand

IOB1_FILE = """\
Alex I-PER
Bob B-PER
went O
to O
New I-LOC
York I-LOC
Times I-ORG

EU I-ORG
said O
"""

IOB2_FILE = """\
John B-PER
Smith I-PER
and O
Mary B-PER
Ann B-PER
in O
Paris B-LOC

-DOCSTART- O

Reuters B-ORG
"""

IOBES_FILE = """\
-DOCSTART- O

Peter B-PER
Blackburn E-PER
in O
Paris S-LOC
New B-ORG
York I-ORG
Times E-ORG
odd O
x E-MISC
y O
z I-LOC
w E-LOC
"""

HAND = {
    "iob1": (
        IOB1_FILE,
        [
            ["B-PER", "B-PER", "O", "O", "B-LOC", "I-LOC", "B-ORG"],
            ["B-ORG", "O"],
        ],
    ),
    "iob2": (
        IOB2_FILE,
        [
            ["B-PER", "I-PER", "O", "B-PER", "B-PER", "O", "B-LOC"],
            ["B-ORG"],
        ],
    ),
    "iobes": (
        IOBES_FILE,
        [
            [
                "B-PER",
                "I-PER",
                "O",
                "B-LOC",
                "B-ORG",
                "I-ORG",
                "I-ORG",
                "O",
                "B-MISC",  # E- after O starts a chunk
                "O",
                "B-LOC",  # I- after O starts a chunk
                "I-LOC",
            ],
        ],
    ),
}


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("given", ["auto", "explicit"])
def test_hand_made_file_per_scheme(tmp_path: Path, scheme: str, given: str) -> None:
    text, expected = HAND[scheme]
    path = _write(tmp_path, f"{scheme}.txt", text)
    sents = read_conll(path, scheme=scheme if given == "explicit" else "auto")
    assert [list(s.tags) for s in sents] == expected
    assert [s.id for s in sents] == list(range(len(expected)))
    assert detect_scheme(_raw_tags(path)) == scheme


def test_hand_made_line_numbers(tmp_path: Path) -> None:
    sents = read_conll(_write(tmp_path, "a.txt", IOB2_FILE))
    assert [s.line for s in sents] == [1, 11]
    sents = read_conll(_write(tmp_path, "b.txt", IOBES_FILE))
    assert [s.line for s in sents] == [3]


def test_detect_scheme_rules() -> None:
    assert detect_scheme([["O", "B-PER", "I-PER"]]) == "iob2"
    assert detect_scheme([["O", "I-PER"]]) == "iob1"
    assert detect_scheme([["I-PER"]]) == "iob1"
    assert detect_scheme([["B-PER", "I-LOC"]]) == "iob1"
    assert detect_scheme([["B-PER", "I-PER"], ["S-LOC"]]) == "iobes"
    assert detect_scheme([["O", "I-PER", "E-PER"]]) == "iobes"
    assert detect_scheme([]) == "iob2"


def test_from_iob2_examples() -> None:
    tags = ["B-PER", "I-PER", "B-PER", "O", "B-LOC", "B-ORG", "I-ORG"]
    assert from_iob2(tags, "iob1") == ["I-PER", "I-PER", "B-PER", "O", "I-LOC", "I-ORG", "I-ORG"]
    assert from_iob2(tags, "iobes") == ["B-PER", "E-PER", "S-PER", "O", "S-LOC", "B-ORG", "E-ORG"]
    assert from_iob2(tags, "iob2") == tags
    # A model may predict I- without B-: treated as starting a chunk.
    assert from_iob2(["O", "I-PER"], "iobes") == ["O", "S-PER"]


def test_to_iob2_errors() -> None:
    with pytest.raises(ValueError, match="X-PER"):
        to_iob2(["O", "X-PER"], "iob2")
    with pytest.raises(ValueError, match="S-PER"):
        to_iob2(["S-PER"], "iob1")
    with pytest.raises(ValueError, match="iob1, iob2, iobes"):
        to_iob2(["O"], "bilou")


def test_multi_column_reads_last_column(tmp_path: Path) -> None:
    text = (
        "-DOCSTART- -X- -X- O\n\n"
        "EU NNP B-NP S-ORG\n"
        "rejects VBZ B-VP O\n"
        "German JJ B-NP S-MISC\n\n"
        "Peter\tNNP  B-NP\tB-PER\n"
        "Blackburn NNP I-NP E-PER\n"
    )
    sents = read_conll(_write(tmp_path, "four.txt", text))
    assert [s.tokens for s in sents] == [("EU", "rejects", "German"), ("Peter", "Blackburn")]
    assert [s.tags for s in sents] == [("B-ORG", "O", "B-MISC"), ("B-PER", "I-PER")]


def test_crlf_no_trailing_newline_and_unicode_space(tmp_path: Path) -> None:
    p = tmp_path / "crlf.txt"
    p.write_bytes("a O\r\nb B-PER\r\n\r\n\r\nc\u00a0d B-LOC\r\ne I-LOC".encode())
    sents = read_conll(p)
    assert [s.tokens for s in sents] == [("a", "b"), ("c\u00a0d", "e")]
    assert [s.tags for s in sents] == [("O", "B-PER"), ("B-LOC", "I-LOC")]


# --------------------------------------------------------------------------- errors


def _error(
    path: Path, reader: Callable[..., list[NerSentence]] = read_conll, **kw: str
) -> DataFormatError:
    """Run ``reader`` expecting a DataFormatError that names the file; return the error."""
    with pytest.raises(DataFormatError) as info:
        reader(path, **kw)
    err = info.value
    assert path.name in str(err)
    return err


def test_error_one_column(tmp_path: Path) -> None:
    p = _write(tmp_path, "one.txt", "-DOCSTART- O\n\na O\nb\n")
    err = _error(p)
    assert err.line == 4
    assert f"{p}:4:" in str(err)
    assert err.path == p


@pytest.mark.parametrize(
    ("text", "scheme", "line"),
    [
        ("a O\n\nb S-PER\n", "iob2", 3),  # S- invalid in a declared iob2 file
        ("a O\nb E-PER\n", "iob1", 2),
        ("-DOCSTART- O\n\na O\nb B-PER\n\nc O\nd X-PER\n", "auto", 7),
        ("a O\nb PER\n", "auto", 2),
        ("a O\nb B-\n", "iobes", 2),
        ("a O\n\n\nb O\nc B-LOC\nd o\n", "auto", 6),
    ],
)
def test_error_bad_tag(tmp_path: Path, text: str, scheme: str, line: int) -> None:
    err = _error(_write(tmp_path, "tags.txt", text), scheme=scheme)
    assert err.line == line
    assert f":{line}:" in str(err)


def test_error_unknown_scheme(tmp_path: Path) -> None:
    p = _write(tmp_path, "ok.txt", "a O\n")
    for reader in (read_conll, read_jsonl, read_ner):
        with pytest.raises(ValueError, match=r"auto, iob1, iob2, iobes"):
            reader(p, scheme="bioes")


@pytest.mark.parametrize("text", ["", "\n\n", "-DOCSTART- O\n\n-DOCSTART- O\n"])
def test_error_no_sentences(tmp_path: Path, text: str) -> None:
    err = _error(_write(tmp_path, "empty.txt", text))
    assert err.line is None
    assert "no sentences in file" in str(err)
    err = _error(_write(tmp_path, "empty.jsonl", text.replace("-DOCSTART- O", "")), read_jsonl)
    assert "no sentences in file" in str(err)


def test_error_missing_file(tmp_path: Path) -> None:
    for name in ("missing.txt", "missing.jsonl"):
        err = _error(tmp_path / name, read_ner)
        assert err.line is None
        assert "no such file" in str(err)
    with pytest.raises(DataFormatError, match="directory"):
        read_conll(tmp_path)


def test_error_invalid_utf8(tmp_path: Path) -> None:
    p = tmp_path / "bin.txt"
    p.write_bytes(b"a O\nb \xff\xfe O\n")
    assert _error(p).line == 2


@pytest.mark.parametrize(
    ("lines", "line", "fragment"),
    [
        (['{"tokens": ["a"], "tags": ["O"]}', '{"tokens": ["a"], "tags": '], 2, "invalid JSON"),
        (['{"tokens": ["a"], "tags": ["O"]}', "", '{"tokens": ["a"]}'], 3, "tags"),
        (['{"tags": ["O"]}'], 1, "tokens"),
        (['{"tokens": ["a", "b"], "tags": ["O"]}'], 1, "2 tokens but 1 tags"),
        (['{"tokens": ["a", ""], "tags": ["O", "O"]}'], 1, "empty"),
        (["", '{"tokens": [], "tags": []}'], 2, "empty sentence"),
        (['["a", "O"]'], 1, "JSON object"),
        (['{"tokens": ["a", 1], "tags": ["O", "O"]}'], 1, "list of strings"),
        (['{"tokens": ["a"], "tags": ["O"]}', '{"tokens": ["a"], "tags": ["Z-PER"]}'], 2, "Z-PER"),
    ],
)
def test_error_jsonl(tmp_path: Path, lines: list[str], line: int, fragment: str) -> None:
    p = _write(tmp_path, "bad.jsonl", "\n".join(lines) + "\n")
    err = _error(p, read_jsonl)
    assert err.line == line
    assert f":{line}:" in str(err)
    assert fragment in err.reason


def test_data_format_error_shape() -> None:
    err = DataFormatError("x.txt", 3, "bad")
    assert str(err) == "x.txt:3: bad"
    assert isinstance(err, ValueError)
    assert str(DataFormatError("x.txt", None, "bad")) == "x.txt: bad"
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.path, copy.line, copy.reason) == ("x.txt", 3, "bad")


# --------------------------------------------------------------------------- subsets


def test_sample_subset() -> None:
    items = list(range(100))
    a = sample_subset(items, 10, seed=1)
    assert a == sample_subset(items, 10, seed=1)
    assert a != sample_subset(items, 10, seed=2)
    assert len(a) == 10 == len(set(a))
    assert a == sorted(a)
    assert sample_subset(items, 100, seed=0) == items
    full = sample_subset(items, None, seed=0)
    assert full == items and full is not items
    for bad in (0, -1, 101):
        with pytest.raises(ValueError, match="between 1 and 100"):
            sample_subset(items, bad, seed=0)


@needs_data
def test_sample_subset_real_in_file_order(conll_train: list[NerSentence]) -> None:
    sub = sample_subset(conll_train, 50, seed=13)
    ids = [s.id for s in sub]
    assert ids == sorted(ids) and len(ids) == 50
    assert [s.id for s in sample_subset(conll_train, 50, seed=13)] == ids


# --------------------------------------------------------------------------- writing


@pytest.mark.parametrize("scheme", SCHEMES)
def test_write_read_conll_round_trip(tmp_path: Path, scheme: str) -> None:
    text, _ = HAND["iob1"]
    sents = read_conll(_write(tmp_path, "in.txt", text)) + read_conll(
        _write(tmp_path, "in2.txt", IOBES_FILE)
    )
    tokens = [s.tokens for s in sents]
    tags = [s.tags for s in sents]
    out = tmp_path / "sub" / "pred.txt"
    write_conll(out, tokens, tags, scheme=scheme)
    back = read_conll(out, scheme=scheme)
    assert [s.tokens for s in back] == tokens
    assert [s.tags for s in back] == tags
    assert [list(t) for t in _raw_tags(out)] == [from_iob2(t, scheme) for t in tags]


def test_write_conll_with_gold(tmp_path: Path) -> None:
    tokens = [["John", "Smith", "runs"], ["Paris"]]
    gold = [["B-PER", "I-PER", "O"], ["B-LOC"]]
    pred = [["B-PER", "O", "O"], ["B-ORG"]]
    out = tmp_path / "pred.txt"
    write_conll(out, tokens, pred, gold=gold, scheme="iobes")
    assert out.read_text(encoding="utf-8") == (
        "John B-PER S-PER\nSmith E-PER O\nruns O O\n\nParis S-LOC S-ORG\n"
    )
    assert [s.tags for s in read_conll(out)] == [("B-PER", "O", "O"), ("B-ORG",)]


def test_write_conll_rejects_misaligned(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="sentence 0"):
        write_conll(tmp_path / "x.txt", [["a", "b"]], [["O"]])
    with pytest.raises(ValueError, match="whitespace"):
        write_conll(tmp_path / "x.txt", [["a b"]], [["O"]])
    with pytest.raises(ValueError):
        write_conll(tmp_path / "x.txt", [["a"]], [["O"]], gold=[])
    assert not (tmp_path / "x.txt").exists()


@pytest.mark.parametrize("scheme", SCHEMES)
def test_jsonl_round_trip(tmp_path: Path, scheme: str) -> None:
    tokens = [["Zürich", "ist", "schön"], ["New", "York", "Times", "says"]]
    tags = [["B-LOC", "O", "O"], ["B-ORG", "I-ORG", "I-ORG", "O"]]
    gold = [["B-LOC", "O", "O"], ["B-LOC", "I-LOC", "B-ORG", "O"]]
    out = tmp_path / "pred.jsonl"
    write_jsonl(out, tokens, tags, gold=gold, scheme=scheme)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["gold"] for r in rows] == [from_iob2(g, scheme) for g in gold]
    back = read_ner(out, scheme=scheme)
    assert [list(s.tokens) for s in back] == tokens
    assert [list(s.tags) for s in back] == tags
    assert [s.line for s in back] == [1, 2]
    write_jsonl(tmp_path / "plain.json", tokens, tags)
    assert [list(s.tags) for s in read_ner(tmp_path / "plain.json")] == tags


def test_ner_sentence() -> None:
    s = NerSentence(["a", "b"], ["O", "B-PER"], 0)  # type: ignore[arg-type]
    assert s.tokens == ("a", "b") and s.tags == ("O", "B-PER") and s.line is None
    hash(s)
    with pytest.raises(ValueError):
        NerSentence(("a",), (), 1)
