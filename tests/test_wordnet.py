"""segmix.wordnet against the real WordNet 3.0 of Debian's wordnet-base, read with NLTK."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("nltk", reason="NLTK is the optional extra segmix[wordnet]")

from segmix.wordnet import (
    DEFAULT_WORDNET_DIR,
    LEXNAMES,
    SynonymLexicon,
    WordNetUnavailable,
    load_wordnet,
    synonyms,
    wordnet_available,
)

if not wordnet_available():
    pytest.skip(
        f"WordNet not found in {DEFAULT_WORDNET_DIR} (or $SEGMIX_WORDNET_DIR): "
        "apt-get install --no-install-recommends wordnet-base",
        allow_module_level=True,
    )

CONLL_TRAIN = Path(__file__).resolve().parents[2] / "shared" / "data" / "conll2003" / "train.txt"


def conll_tokens(limit: int | None = None) -> list[str]:
    tokens: list[str] = []
    with CONLL_TRAIN.open(encoding="utf8") as fh:
        for line in fh:
            fields = line.split()
            if not fields or fields[0] == "-DOCSTART-":
                continue
            tokens.append(fields[0])
            if limit is not None and len(tokens) >= limit:
                break
    return tokens


def test_import_does_not_import_nltk():
    code = "import sys, segmix.wordnet; print('nltk' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"


def test_reader_is_cached_and_has_lexnames():
    reader = load_wordnet()
    assert load_wordnet(DEFAULT_WORDNET_DIR) is reader
    assert len(LEXNAMES) == 45
    assert LEXNAMES[0] == "adj.all" and LEXNAMES[44] == "adj.ppl"
    assert reader.get_version() == "3.0"
    assert reader.synset("car.n.01").lexname() == "noun.artifact"
    assert reader.synset("run.v.01").lexname() == "verb.motion"
    assert reader.synset("quickly.r.01").lexname() == "adv.all"


def test_car():
    syns = synonyms("car")
    for expected in [("auto",), ("automobile",), ("motorcar",), ("railcar",)]:
        assert expected in syns
    # multi-word lemma railway_car comes back split
    assert ("railway", "car") in syns
    assert ("railroad", "car") in syns
    assert len(syns) <= 10


def test_quickly_and_inflected_forms():
    syns = synonyms("quickly")
    assert ("rapidly",) in syns and ("speedily",) in syns
    # inflected forms reach their lemma's synsets, without the base form itself
    cars = synonyms("cars")
    assert ("automobile",) in cars and ("car",) not in cars
    ran = synonyms("ran")
    assert ("run",) not in ran and ("escape",) in ran


def test_capitalised_word_keeps_wordnet_case():
    syns = synonyms("Germany")
    assert ("Federal", "Republic", "of", "Germany") in syns
    assert ("Deutschland",) in syns


def test_word_itself_never_in_synonyms():
    for word in ["car", "Car", "CAR", "good", "run", "Germany", "quickly", "bank"]:
        for syn in synonyms(word):
            assert " ".join(syn).lower() != word.lower()


def test_no_letters_no_synonyms():
    for token in [",", ".", "(", "1996", "3-1", "--", "1.5", ""]:
        assert synonyms(token) == []


def test_missing_directory(tmp_path):
    missing = tmp_path / "no-wordnet-here"
    assert not wordnet_available(missing)
    with pytest.raises(WordNetUnavailable) as info:
        load_wordnet(missing)
    message = str(info.value)
    assert str(missing) in message
    assert "apt-get install --no-install-recommends wordnet-base" in message
    assert "pip install 'segmix[wordnet]'" in message


def test_env_var_overrides_default(monkeypatch, tmp_path):
    monkeypatch.setenv("SEGMIX_WORDNET_DIR", str(tmp_path))
    with pytest.raises(WordNetUnavailable, match=str(tmp_path)):
        load_wordnet()
    assert load_wordnet(DEFAULT_WORDNET_DIR) is not None


def test_lexicon_basics():
    vocab = ["car", "Car", "cars", ",", "1996", "quickly", "the", "xqzzv", "car"]
    lex = SynonymLexicon(vocab, max_synonyms=3)
    assert lex.words() == ["car", "cars", "quickly"]
    assert len(lex) == 3
    assert lex["car"] == (("auto",), ("automobile",), ("machine",))
    # lookups respect case: 'Car' mid-sentence would be a proper noun, and WordNet has none
    assert lex["Car"] == () and lex["CAR"] == ()
    assert lex.lookup("Car", initial=True) == (("Auto",), ("Automobile",), ("Machine",))
    assert "car" in lex and "quickly" in lex and "Car" not in lex
    assert "," not in lex and "the" not in lex and "xqzzv" not in lex and 3 not in lex
    assert lex[","] == () and lex["xqzzv"] == ()
    # words outside the vocabulary are not looked up
    assert lex["automobile"] == ()


@pytest.mark.skipif(not CONLL_TRAIN.exists(), reason=f"CoNLL-2003 not found at {CONLL_TRAIN}")
def test_lexicon_over_conll_tokens():
    tokens = conll_tokens(1000)
    assert len(tokens) == 1000
    start = time.perf_counter()
    lex = SynonymLexicon(tokens)
    build = time.perf_counter() - start
    assert build < 30  # generous; a few seconds in practice
    assert 0 < len(lex) < len(set(tokens))
    for word in lex.words():
        syns = lex[word]
        assert 0 < len(syns) <= 10
        assert len(set(syns)) == len(syns)
        assert all(syn and all(syn) for syn in syns)
        assert all(" ".join(syn).lower() != word.lower() for syn in syns)
    assert not any(tok in lex for tok in tokens if not any(ch.isalpha() for ch in tok))
    # lookups are dictionary reads
    start = time.perf_counter()
    for _ in range(10):
        for tok in tokens:
            lex[tok]
            tok in lex  # noqa: B015
    assert time.perf_counter() - start < 1.0


# ------------------------------------------------------------- content words only, case kept


def test_function_words_get_no_synonyms():
    from segmix.wordnet import STOP_WORDS

    # WordNet's entries for these spellings are homographs: astatine, helium, WHO, Indiana …
    for word in ["at", "he", "who", "in", "the", "and", "is", "can", "will", "He", "At", "US"]:
        assert synonyms(word) == [], word
    assert {"at", "he", "who", "the", "of", "and", "is", "can", "not", "n't"} <= STOP_WORDS
    assert all(w == w.lower() for w in STOP_WORDS)


def test_a_lower_case_word_never_gets_a_capitalised_synonym():
    for word in ["prices", "price", "bush", "bank", "march", "car", "turkey", "china"]:
        for syn in synonyms(word):
            assert not any(ch.isupper() for part in syn for ch in part), (word, syn)
    assert ("Leontyne", "Price") not in synonyms("prices")
    assert ("terms",) in synonyms("prices")  # the common senses stay


def test_a_capitalised_word_takes_its_proper_noun_senses_only():
    assert ("Deutschland",) in synonyms("Germany")
    assert ("Leontyne", "Price") in synonyms("Price")
    assert ("terms",) not in synonyms("Price")
    assert synonyms("Prices") == []  # proper nouns do not inflect: no sense matches
    assert synonyms("GERMANY") == []  # an all-caps headline word matches no lemma's case


def test_sentence_initial_word_falls_back_to_its_lower_case_senses():
    lex = SynonymLexicon(["Prices", "He", "Germany", "rose"])
    assert lex["Prices"] == () and "Prices" not in lex
    initial = lex.lookup("Prices", initial=True)
    assert initial and initial == tuple(
        (syn[0][:1].upper() + syn[0][1:], *syn[1:]) for syn in lex["prices"]
    )
    assert lex.lookup("He", initial=True) == ()  # a function word, whatever its case
    assert lex.lookup("Germany", initial=True) == lex["Germany"] != ()  # proper senses first
    assert lex.lookup("Prices") == ()


def _stop_or_case_noise(mixes):
    from segmix.wordnet import STOP_WORDS

    stop = case = 0
    for m in mixes:
        rec = m.mixes[0]
        word = rec.words_a[0]
        stop += word.lower() in STOP_WORDS
        case += word == word.lower() and any(ch.isupper() for w in rec.words_b for ch in w)
    return stop, case


def test_smix_on_conll_replaces_content_words_and_keeps_case(train_sentences, cache):
    from segmix.augment.segments import SynonymMix
    from segmix.datafiles import sample_subset
    from segmix.tasks.tagging.encoding import encode_tagged

    from .conftest import LABELS

    sents = sample_subset(train_sentences, 200, seed=1)
    examples = encode_tagged(sents, cache, {lb: i for i, lb in enumerate(LABELS)})
    aug = SynonymMix().fit(examples, LABELS, cache)
    mixes = aug.generate(3000, np.random.default_rng(0))
    assert len(mixes) == 3000
    assert _stop_or_case_noise(mixes) == (0, 0)
    # sentence-initial common words mix with their lower-case senses, re-capitalised
    fallback = [m.mixes[0] for m in mixes if m.mixes[0].start == 0]
    fallback = [r for r in fallback if r.words_a[0] not in aug.lexicon]
    assert fallback and all(r.words_b[0][:1].isupper() for r in fallback)
