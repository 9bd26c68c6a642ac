"""Tests for segmix.tasks.relations.data: SemEval-2010 Task 8 (TSV, original) and TACRED readers."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from segmix.tasks.relations.data import (
    SEMEVAL_TEST_ID_START,
    DataFormatError,
    RelationExample,
    parse_marked_sentence,
    read_answer_key,
    read_relations,
    read_semeval_original,
    read_semeval_tsv,
    read_tacred,
    relation_labels,
    semeval_test_ids,
    tokenize,
    write_answers,
)

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
SEMEVAL = DATA / "semeval2010_task8"

needs_data = pytest.mark.skipif(
    not (SEMEVAL / "train.tsv").exists(), reason=f"SemEval-2010 Task 8 data not found in {SEMEVAL}"
)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _raises_at(path: Path, line: int | None, match: str, fn, *args, **kwargs) -> DataFormatError:
    """Assert ``fn`` raises DataFormatError for ``path`` at ``line``, ``match`` in its reason."""
    with pytest.raises(DataFormatError) as info:
        fn(*args, **kwargs)
    err = info.value
    msg = str(err)
    assert str(path) in msg
    assert err.line == line
    if line is not None:
        assert msg.startswith(f"{path}:{line}: ")
    assert match in err.reason, err.reason
    return err


# --------------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def labels() -> list[str]:
    return (SEMEVAL / "labels.txt").read_text(encoding="utf-8").split()


@needs_data
def test_real_train(labels: list[str]) -> None:
    examples = read_semeval_tsv(SEMEVAL / "train.tsv")
    assert len(examples) == 8000
    assert [ex.id for ex in examples[:3]] == ["0", "1", "2"]
    assert examples[-1].id == "7999"
    assert [ex.line for ex in examples] == list(range(1, 8001))
    for ex in examples:
        assert 0 <= ex.head[0] < ex.head[1] <= len(ex.tokens)
        assert 0 <= ex.tail[0] < ex.tail[1] <= len(ex.tokens)
        assert ex.head[1] <= ex.tail[0] or ex.tail[1] <= ex.head[0]
        assert not any(t.startswith("<e") or t.startswith("</e") for t in ex.tokens)
    assert set(relation_labels(examples)) <= set(labels)
    assert len(labels) == 19
    assert relation_labels(examples) == sorted(labels)  # every label occurs in train


@needs_data
def test_real_train_first_lines() -> None:
    examples = read_relations(SEMEVAL / "train.tsv")
    # Line 1: "The system as described above has its greatest application in an arrayed
    #          <e1> configuration </e1> of antenna <e2> elements </e2>."
    first = examples[0]
    assert first.tokens == (
        "The", "system", "as", "described", "above", "has", "its", "greatest",
        "application", "in", "an", "arrayed", "configuration", "of", "antenna",
        "elements", ".",
    )  # fmt: skip
    assert first.head == (12, 13) and first.head_tokens == ("configuration",)
    assert first.tail == (15, 16) and first.tail_tokens == ("elements",)
    assert first.relation == "Component-Whole(e2,e1)"
    # Line 9: multi-word tail, hyphenated word outside the entities.
    ninth = examples[8]
    assert ninth.line == 9
    assert ninth.head_tokens == ("lawsonite",)
    assert ninth.tail_tokens == ("platinum", "crucible")
    assert ninth.tokens[:9] == (
        "The", "lawsonite", "was", "contained", "in", "a", "platinum", "crucible", "and",
    )  # fmt: skip
    assert "counter-weight" in ninth.tokens
    assert ninth.relation == "Content-Container(e1,e2)"
    # Line 18: possessive glued to the closing marker: "<e1> factory </e1>'s".
    ex18 = examples[17]
    assert ex18.head_tokens == ("factory",)
    assert ex18.tokens[ex18.head[1] : ex18.head[1] + 3] == ("'", "s", "products")
    assert "rooster-whistles" in ex18.tokens


@needs_data
def test_real_test_ids_match_answer_key(labels: list[str]) -> None:
    examples = read_semeval_tsv(SEMEVAL / "test.tsv", id_start=SEMEVAL_TEST_ID_START)
    assert len(examples) == 2717
    assert examples[0].id == "8001" and examples[-1].id == "10717"
    key = read_answer_key(SEMEVAL / "test_answer_keys.txt")
    assert list(key) == [ex.id for ex in examples] == semeval_test_ids(2717)
    assert all(key[ex.id] == ex.relation for ex in examples)
    assert set(key.values()) <= set(labels)
    # id_start passes through read_relations.
    again = read_relations(SEMEVAL / "test.tsv", id_start=SEMEVAL_TEST_ID_START)
    assert again == examples


@needs_data
def test_answer_key_round_trip_is_byte_identical(tmp_path: Path) -> None:
    src = SEMEVAL / "test_answer_keys.txt"
    key = read_answer_key(src)
    out = tmp_path / "answers.txt"
    write_answers(out, semeval_test_ids(len(key)), list(key.values()), newline="\r\n")
    assert out.read_bytes() == src.read_bytes()
    out_lf = tmp_path / "answers_lf.txt"
    write_answers(out_lf, list(key), list(key.values()))
    assert out_lf.read_text(encoding="utf-8").splitlines()[0] == "8001\tMessage-Topic(e1,e2)"
    assert read_answer_key(out_lf) == key


# --------------------------------------------------------------------------- tokenizer


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Hello, world!", ["Hello", ",", "world", "!"]),
        ("an e-mail from run-of-the-mill users",
         ["an", "e-mail", "from", "run-of-the-mill", "users"]),
        ("don't stop", ["don't", "stop"]),
        ("the factory's 'quoted' books'", ["the", "factory's", "'", "quoted", "'", "books", "'"]),
        ("It costs $3.50 (1,000 units) in the U.S. today.",
         ["It", "costs", "$", "3.50", "(", "1,000", "units", ")", "in", "the", "U.S.",
          "today", "."]),
        ("log- jam", ["log", "-", "jam"]),
        ("  \t ", []),
        ("Café naïve", ["Café", "naïve"]),
    ],
)  # fmt: skip
def test_tokenize(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens


# --------------------------------------------------------------------------- markers


def test_parse_marked_sentence_spaced_and_glued() -> None:
    spaced = parse_marked_sentence("An <e1> arrayed configuration </e1> of <e2> elements </e2>.")
    glued = parse_marked_sentence("An <e1>arrayed configuration</e1> of <e2>elements</e2>.")
    expected = (["An", "arrayed", "configuration", "of", "elements", "."], (1, 3), (4, 5))
    assert spaced == expected
    assert glued == expected


def test_parse_marked_sentence_tail_first_and_glued_to_words() -> None:
    tokens, head, tail = parse_marked_sentence("the<e2>cat</e2>s saw <e1>dogs</e1>.")
    assert tokens == ["the", "cat", "s", "saw", "dogs", "."]
    assert tail == (1, 2) and head == (4, 5)
    tokens, head, tail = parse_marked_sentence("<e1>A</e1><e2>B</e2>")
    assert tokens == ["A", "B"] and head == (0, 1) and tail == (1, 2)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("a <e1> b </e1> c d", "missing <e2>"),
        ("a b </e1> <e2> c </e2>", "missing <e1>"),
        ("a <e1> b c <e2> d </e2>", "missing </e1>"),
        ("<e1> a </e1> <e1> b </e1> <e2> c </e2>", "duplicated <e1>"),
        ("<e1> a </e1> <e2> b </e2> </e2>", "duplicated </e2>"),
        ("</e1> a <e1> b <e2> c </e2>", "unclosed <e1>"),
        ("<e1> a <e2> b </e2> c </e1>", "nested"),
        ("<e2> a <e1> b </e1> c </e2>", "nested"),
        ("<e1> a <e2> b </e1> c </e2>", "overlapping"),
        ("<e1> </e1> <e2> b </e2>", "empty <e1>"),
        ("<e1> a </e1> <e2> </e2>", "empty <e2>"),
        ("<e1> a </e1> <e2> b </e2> <e3> c </e3>", "unknown entity marker"),
    ],
)
def test_parse_marked_sentence_errors(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_marked_sentence(text)


# --------------------------------------------------------------------------- TSV errors

_GOOD = "Other\tThe <e1> child </e1> was in the <e2> cradle </e2>.\n"


@pytest.mark.parametrize(
    ("bad_line", "reason"),
    [
        ("Other The <e1> child </e1> was in the <e2> cradle </e2>.", "no tab"),
        ("Other\tThe child </e1> was in the <e2> cradle </e2>.", "missing <e1>"),
        ("Other\tThe <e1> child was in the <e2> cradle </e2>.", "missing </e1>"),
        ("Other\tThe <e1> child <e2> was </e2> in </e1> the cradle.", "nested"),
        ("Other\tThe <e1> child <e2> was </e1> in </e2> the cradle.", "overlapping"),
        ("Other\t</e1> The <e1> child <e2> cradle </e2>", "unclosed"),
        ("Other\tThe <e1> child </e1> and <e1> x </e1> <e2> c </e2>", "duplicated"),
        ("Other\tThe <e1> </e1> was in the <e2> cradle </e2>.", "empty <e1>"),
        ("\tThe <e1> child </e1> was in the <e2> cradle </e2>.", "empty relation"),
        ("Other\t   ", "empty sentence"),
    ],
)
def test_tsv_errors_name_file_and_line(tmp_path: Path, bad_line: str, reason: str) -> None:
    path = _write(tmp_path, "bad.tsv", _GOOD + "\n" + bad_line + "\n" + _GOOD)
    _raises_at(path, 3, reason, read_semeval_tsv, path)
    _raises_at(path, 3, reason, read_relations, path)


def test_tsv_blank_lines_keep_line_numbers(tmp_path: Path) -> None:
    path = _write(tmp_path, "ok.tsv", "\n" + _GOOD + "\n\n" + _GOOD.replace("\n", "\r\n"))
    examples = read_semeval_tsv(path, id_start=5)
    assert [(ex.id, ex.line) for ex in examples] == [("5", 2), ("6", 5)]
    assert examples[0] == RelationExample(
        tokens=("The", "child", "was", "in", "the", "cradle", "."),
        head=(1, 2),
        tail=(5, 6),
        relation="Other",
        id="5",
        line=2,
    )


@pytest.mark.parametrize("text", ["", "\n\n  \n"])
def test_empty_files(tmp_path: Path, text: str) -> None:
    for reader in (read_semeval_tsv, read_semeval_original, read_tacred, read_relations,
                   read_answer_key):  # fmt: skip
        path = _write(tmp_path, "empty.txt", text)
        _raises_at(path, None, "empty file", reader, path)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.tsv"
    _raises_at(path, None, "cannot read", read_semeval_tsv, path)


def test_invalid_utf8_names_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.tsv"
    path.write_bytes(_GOOD.encode() + b"Other\tThe <e1> caf\xe9 </e1> x <e2> y </e2>\n")
    _raises_at(path, 2, "UTF-8", read_semeval_tsv, path)


def test_data_format_error_pickles() -> None:
    err = DataFormatError("x.tsv", 3, "no tab")
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == "x.tsv:3: no tab" and again.line == 3
    assert isinstance(err, ValueError)


# --------------------------------------------------------------------------- SemEval original

_ORIGINAL = (
    '1\t"The system as described above has its greatest application in an arrayed '
    '<e1>configuration</e1> of antenna <e2>elements</e2>."\n'
    "Component-Whole(e2,e1)\n"
    "Comment: Not a collection: there is structure here, organisation.\n"
    "\n"
    '2\t"The <e1>child</e1> was carefully wrapped and bound into the <e2>cradle</e2> by '
    'means of a cord."\n'
    "Other\n"
    "Comment:\n"
    "\n"
    '3\t"The <e1>author</e1> of a keygen uses a <e2>disassembler</e2> to look at the raw '
    'assembly code."\n'
    "Instrument-Agency(e2,e1)\n"
)


def test_read_semeval_original(tmp_path: Path) -> None:
    path = _write(tmp_path, "TRAIN_FILE.TXT", _ORIGINAL)
    examples = read_semeval_original(path)
    assert [ex.id for ex in examples] == ["1", "2", "3"]
    assert [ex.line for ex in examples] == [1, 5, 9]
    assert [ex.relation for ex in examples] == [
        "Component-Whole(e2,e1)",
        "Other",
        "Instrument-Agency(e2,e1)",
    ]
    first = examples[0]
    assert first.tokens[-5:] == ("configuration", "of", "antenna", "elements", ".")
    assert first.head_tokens == ("configuration",) and first.head == (12, 13)
    assert first.tail_tokens == ("elements",) and first.tail == (15, 16)
    assert '"' not in first.tokens
    assert examples[2].head_tokens == ("author",)
    assert examples[2].tail_tokens == ("disassembler",)
    assert read_relations(path) == examples  # auto-detected
    assert read_relations(path, format="semeval") == examples


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        # No relation line: the next block starts right away.
        ('1\t"a <e1>b</e1> <e2>c</e2>"\n2\t"d <e1>e</e1> <e2>f</e2>"\nOther\n', 2,
         "missing relation line"),
        # Relation line missing at the end of the file.
        ('1\t"a <e1>b</e1> <e2>c</e2>"\n', 1, "missing relation line"),
        # Relation line replaced by a blank line.
        ('1\t"a <e1>b</e1> <e2>c</e2>"\n\nOther\n', 2, "missing relation line"),
        # Comment where the relation should be.
        ('1\t"a <e1>b</e1> <e2>c</e2>"\nComment: x\n\n', 2, "expected a relation label"),
        # A second relation line (unknown structure).
        ('1\t"a <e1>b</e1> <e2>c</e2>"\nOther\nOther\n\n', 3, "expected a blank line"),
        # No id.
        ('"a <e1>b</e1> <e2>c</e2>"\nOther\n', 1, "expected '<id><TAB>"),
        # Markers broken inside an otherwise well-formed block.
        ('1\t"a <e1>b</e1> <e2>c</e2>"\nOther\n\n2\t"a <e1>b <e2>c</e2>"\nOther\n', 4,
         "missing </e1>"),
        # Duplicate id.
        ('7\t"a <e1>b</e1> <e2>c</e2>"\nOther\n\n7\t"d <e1>e</e1> <e2>f</e2>"\nOther\n', 4,
         "duplicate id 7"),
    ],
)  # fmt: skip
def test_semeval_original_errors(tmp_path: Path, text: str, line: int, reason: str) -> None:
    path = _write(tmp_path, "orig.txt", text)
    _raises_at(path, line, reason, read_semeval_original, path)


# --------------------------------------------------------------------------- TACRED

_TACRED = [
    {
        "id": "e7798fb926b9403cfcd2",
        "relation": "per:title",
        "token": ["President", "Barack", "Obama", "visited", "Paris", "."],
        "subj_start": 1,
        "subj_end": 2,
        "obj_start": 0,
        "obj_end": 0,
        "subj_type": "PERSON",
        "obj_type": "TITLE",
    },
    {
        "id": "61b3a5c8c9a882dcfcd2",
        "relation": "no_relation",
        "token": ["Paris", "is", "nice"],
        "subj_start": 0,
        "subj_end": 0,
        "obj_start": 2,
        "obj_end": 2,
        "subj_type": "LOCATION",
        "obj_type": "MISC",
    },
]


def test_read_tacred_json_list(tmp_path: Path) -> None:
    path = _write(tmp_path, "train.json", json.dumps(_TACRED, indent=2))
    examples = read_tacred(path)
    assert len(examples) == 2
    first = examples[0]
    assert first.head == (1, 3) and first.head_tokens == ("Barack", "Obama")  # inclusive end 2
    assert first.tail == (0, 1) and first.tail_tokens == ("President",)
    assert (first.head_type, first.tail_type) == ("PERSON", "TITLE")
    assert first.relation == "per:title" and first.id == "e7798fb926b9403cfcd2"
    assert first.line == 2  # the '{' of the first record
    assert examples[1].line == 20
    assert read_relations(path) == examples
    assert relation_labels(examples) == ["no_relation", "per:title"]


def test_read_tacred_jsonl(tmp_path: Path) -> None:
    recs = [dict(r) for r in _TACRED]
    del recs[1]["id"], recs[1]["subj_type"]
    text = json.dumps(recs[0]) + "\n\n" + json.dumps(recs[1]) + "\n"
    path = _write(tmp_path, "train.jsonl", text)
    examples = read_tacred(path)
    assert [ex.line for ex in examples] == [1, 3]
    assert examples[1].id == "1"  # no id: 0-based record index
    assert examples[1].head_type is None and examples[1].tail_type == "MISC"
    assert read_relations(path) == examples


def _tacred_with(**changes: object) -> dict:
    rec = dict(_TACRED[1])
    for k, v in changes.items():
        if v is _DELETE:
            del rec[k]
        else:
            rec[k] = v
    return rec


_DELETE = object()


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (_tacred_with(obj_end=3), "out of range"),
        (_tacred_with(obj_start=3, obj_end=3), "out of range"),
        (_tacred_with(subj_start=-1), "out of range"),
        (_tacred_with(subj_start=2, subj_end=1), "subj_start 2 > subj_end 1"),
        (_tacred_with(obj_start=2, obj_end=0), "obj_start 2 > obj_end 0"),
        (_tacred_with(relation=_DELETE), "missing key(s): relation"),
        (_tacred_with(token=_DELETE, subj_end=_DELETE), "missing key(s): token, subj_end"),
        (_tacred_with(subj_start="0"), "must be integers"),
        (_tacred_with(token=[]), "non-empty list"),
        (_tacred_with(relation=""), "non-empty string"),
        (["not", "an", "object"], "expected a JSON object"),
    ],
)
def test_tacred_errors(tmp_path: Path, bad: object, reason: str) -> None:
    jsonl = _write(tmp_path, "bad.jsonl", json.dumps(_TACRED[0]) + "\n" + json.dumps(bad) + "\n")
    _raises_at(jsonl, 2, reason, read_tacred, jsonl)
    as_list = _write(
        tmp_path, "bad.json", "[\n" + json.dumps(_TACRED[0]) + ",\n\n" + json.dumps(bad) + "\n]"
    )
    _raises_at(as_list, 4, reason, read_tacred, as_list)


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ('{"id": 1}\n{"id": \n', 2, "invalid JSON"),
        ("[\n" + json.dumps(_TACRED[0]) + "\n" + json.dumps(_TACRED[1]) + "]", 3, "expected ','"),
        ("[\n" + json.dumps(_TACRED[0]) + ",\n", 2, "unterminated"),
        ("[" + json.dumps(_TACRED[0]) + "] x", 1, "after the JSON list"),
        ("[]", None, "empty file"),
    ],
)
def test_tacred_json_syntax_errors(
    tmp_path: Path, text: str, line: int | None, reason: str
) -> None:
    path = _write(tmp_path, "broken.json", text)
    _raises_at(path, line, reason, read_tacred, path)


# --------------------------------------------------------------------------- dispatch & keys


def test_read_relations_format_argument(tmp_path: Path) -> None:
    path = _write(tmp_path, "data.txt", _GOOD)
    assert read_relations(path, format="semeval-tsv") == read_semeval_tsv(path)
    assert read_relations(path)[0].relation == "Other"
    with pytest.raises(ValueError, match="unknown relation format"):
        read_relations(path, format="conll")
    # Forcing the wrong reader still reports the file and line.
    _raises_at(path, 1, "expected '<id><TAB>", read_relations, path, format="semeval")
    odd = _write(tmp_path, "odd.txt", "\nno tabs or json here\n")
    _raises_at(odd, 2, "cannot detect the format", read_relations, odd)


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("8001\tOther\n8002 Other\n", 2, "no tab"),
        ("8001\tOther\n8001\tCause-Effect(e1,e2)\n", 2, "duplicate id 8001"),
        ("8001\tOther\n\t Other\n", 2, "empty id"),
        ("8001\tOther\n8002\t\n", 2, "empty relation"),
    ],
)
def test_answer_key_errors(tmp_path: Path, text: str, line: int, reason: str) -> None:
    path = _write(tmp_path, "key.txt", text)
    _raises_at(path, line, reason, read_answer_key, path)


def test_write_answers_validation(tmp_path: Path) -> None:
    out = tmp_path / "a.txt"
    with pytest.raises(ValueError, match="2 ids but 1 relations"):
        write_answers(out, ["1", "2"], ["Other"])
    with pytest.raises(ValueError, match="duplicate id"):
        write_answers(out, ["1", "1"], ["Other", "Other"])
    with pytest.raises(ValueError, match="tab/newline"):
        write_answers(out, ["1"], ["Other\tx"])
    write_answers(out, semeval_test_ids(2, start=1), ["Other", "Cause-Effect(e1,e2)"])
    assert out.read_bytes() == b"1\tOther\n2\tCause-Effect(e1,e2)\n"


def test_semeval_test_ids() -> None:
    assert semeval_test_ids(3) == ["8001", "8002", "8003"]
    assert semeval_test_ids(0) == []
    assert semeval_test_ids(2717)[-1] == "10717"
