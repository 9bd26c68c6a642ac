"""The CoNLL-U reader and writer on real UD English EWT lines and hand-made broken ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from segmix.datafiles import DataFormatError
from segmix.tasks.pos.conllu import read_conllu, write_conllu
from tests.conftest import DATA

EWT = DATA / "ud_english_ewt"

# a real EWT sentence with a multiword token (don't = do + n't) and a hand-added empty node
SENTENCE = """# sent_id = test-0001
# text = I don't know.
1\tI\tI\tPRON\tPRP\tCase=Nom\t4\tnsubj\t4:nsubj\t_
2-3\tdon't\t_\t_\t_\t_\t_\t_\t_\t_
2\tdo\tdo\tAUX\tVBP\tMood=Ind\t4\taux\t4:aux\t_
3\tn't\tnot\tPART\tRB\tPolarity=Neg\t4\tadvmod\t4:advmod\t_
3.1\tgone\tgo\tVERB\tVBN\t_\t_\t_\t2:conj\t_
4\tknow\tknow\tVERB\tVB\tVerbForm=Inf\t0\troot\t0:root\tSpaceAfter=No
5\t.\t.\tPUNCT\t.\t_\t4\tpunct\t4:punct\t_

"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "x.conllu"
    path.write_text(text, encoding="utf-8")
    return path


def test_words_skip_multiword_tokens_and_empty_nodes(tmp_path):
    (s,) = read_conllu(write(tmp_path, SENTENCE))
    assert s.tokens == ("I", "do", "n't", "know", ".")
    assert s.tags == ("PRON", "AUX", "PART", "VERB", "PUNCT")
    assert s.line == 3 and s.sent_id == "test-0001"
    (x,) = read_conllu(write(tmp_path, SENTENCE), column="xpos")
    assert x.tags == ("PRP", "VBP", "RB", "VB", ".")


def test_written_back_every_line_is_kept_and_only_the_tag_column_changes(tmp_path):
    sentences = read_conllu(write(tmp_path, SENTENCE))
    out = tmp_path / "out.conllu"
    write_conllu(out, sentences, [["X", "X", "X", "X", "X"]])
    got, want = out.read_text().splitlines(), SENTENCE.splitlines()
    assert len(got) == len(want)
    changed = [(g, w) for g, w in zip(got, want, strict=True) if g != w]
    # the five words' UPOS, nothing else (the multiword token and the empty node untouched)
    assert len(changed) == 5
    assert all(
        g.split("\t")[3] == "X" and g.split("\t")[4:] == w.split("\t")[4:] for g, w in changed
    )


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("1\tI\tI\tPRON\tPRP\t_\t0\troot\t_", "expected 10 tab-separated columns, found 9"),
        ("x\tI\tI\tPRON\tPRP\t_\t0\troot\t_\t_", "ID 'x' is neither a word number"),
        ("2\tI\tI\tPRON\tPRP\t_\t0\troot\t_\t_", "word ID 2 where 1 was expected"),
        ("1\tI\tI\t_\tPRP\t_\t0\troot\t_\t_", "word 'I' has no UPOS tag"),
        ("1\t\tI\tPRON\tPRP\t_\t0\troot\t_\t_", "empty FORM"),
    ],
)
def test_a_malformed_line_names_file_and_line(tmp_path, line, reason):
    path = write(tmp_path, f"# sent_id = a\n1\tOK\tok\tINTJ\tUH\t_\t0\troot\t_\t_\n\n{line}\n\n")
    with pytest.raises(DataFormatError) as info:
        read_conllu(path)
    assert str(info.value).startswith(f"{path}:4: {reason}")


def test_empty_file_and_comment_without_words_are_refused(tmp_path):
    with pytest.raises(DataFormatError, match="no sentences in file"):
        read_conllu(write(tmp_path, "\n"))
    with pytest.raises(DataFormatError, match=r":2: comment lines with no word lines"):
        read_conllu(write(tmp_path, "# sent_id = a\n\n"))


def test_the_real_training_file_reads_whole():
    train = read_conllu(EWT / "en_ewt-ud-train.conllu")
    assert len(train) == 12544  # the data README's count
    assert {t for s in train for t in s.tags} == {
        "ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON",
        "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X",
    }  # fmt: skip
