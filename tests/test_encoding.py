"""Sub-word alignment on real sentences: the cache must agree with the tokenizer itself."""

from __future__ import annotations

import numpy as np
import pytest

from segmix.encoding import IGNORE_INDEX, SubwordCache
from segmix.tasks.tagging.data import NerSentence
from segmix.tasks.tagging.encoding import encode_tagged, mention_spans

from .conftest import LABELS

L2I = {lb: i for i, lb in enumerate(LABELS)}


def test_cache_agrees_with_the_tokenizer_on_real_sentences(tokenizer, cache, small_train):
    for sentence in small_train[:40]:
        enc = cache.encode(sentence.tokens)
        ref = tokenizer(list(sentence.tokens), is_split_into_words=True)
        assert enc.ids.tolist() == ref["input_ids"]
        word_ids = ref.word_ids()
        firsts = [
            i for i, w in enumerate(word_ids) if w is not None and (i == 0 or word_ids[i - 1] != w)
        ]
        assert enc.word_starts.tolist() == firsts


def test_labels_sit_on_first_subwords(tokenizer, cache):
    sentence = NerSentence(
        tokens=("Schwarzenegger", "visited", "Wolfsburg", "."),
        tags=("B-PER", "O", "B-LOC", "O"),
        id=0,
    )
    (ex,) = encode_tagged([sentence], cache, L2I)
    pieces = tokenizer.convert_ids_to_tokens(ex.ids.tolist())
    assert pieces[0] == "[CLS]" and pieces[-1] == "[SEP]"
    assert len(pieces) > 6  # both names split into several pieces
    labelled = [(pieces[i], LABELS[lb]) for i, lb in enumerate(ex.labels) if lb != IGNORE_INDEX]
    assert [lab for _, lab in labelled] == ["B-PER", "O", "B-LOC", "O"]
    assert labelled[1][0] == "visited"
    assert ex.mentions == ((0, 1), (2, 3))


def test_word_without_pieces_gets_unk_not_dropped(cache, tokenizer):
    enc = cache.encode(["a", "\u200b", "b"])
    assert len(enc.word_starts) == 3
    assert enc.ids[enc.word_starts[1]] == tokenizer.unk_token_id


def test_mention_spans():
    tags = ["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-ORG", "I-ORG", "O", "I-MISC"]
    assert mention_spans(tags) == [(0, 2), (3, 4), (4, 5), (5, 7), (8, 9)]


def test_overlong_sentence_names_file_and_line(cache):
    long = NerSentence(tokens=tuple(["word"] * 600), tags=tuple(["O"] * 600), id=4, line=77)
    with pytest.raises(ValueError, match=r"train\.txt:77: .*over the model's limit of 512"):
        encode_tagged([long], cache, L2I, source="train.txt")


def test_unknown_tag_is_a_clear_error(cache):
    s = NerSentence(tokens=("x",), tags=("B-GPE",), id=0, line=3)
    with pytest.raises(ValueError, match=r"f\.txt:3: tag 'B-GPE' is not among"):
        encode_tagged([s], cache, L2I, source="f.txt")


def test_special_frame_is_found_not_hardcoded(cache, tokenizer):
    assert cache.prefix.tolist() == [tokenizer.cls_token_id]
    assert cache.suffix.tolist() == [tokenizer.sep_token_id]
    assert isinstance(cache, SubwordCache) and np.issubdtype(cache.prefix.dtype, np.integer)


def test_check_lengths_names_file_and_line(cache):
    from segmix.tasks.tagging.encoding import check_lengths

    ok = NerSentence(tokens=("fine",), tags=("O",), id=0, line=1)
    long = NerSentence(tokens=tuple(["word"] * 600), tags=tuple(["O"] * 600), id=1, line=9)
    check_lengths([ok], cache, source="dev.txt")
    with pytest.raises(ValueError, match=r"dev\.txt:9: sentence of 600 words"):
        check_lengths([ok, long], cache, source="dev.txt")
