"""Entity markers, anchors and RMix on real SemEval-2010 Task 8 sentences."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from segmix.collate import MixCollator
from segmix.encoding import SubwordCache
from segmix.mixing import MixedExample
from segmix.re_augment import ArgumentMix, RelationMix, RelationMixParams
from segmix.re_data import RelationExample, read_relations, relation_labels
from segmix.re_model import (
    all_markers,
    encode_relations,
    load_relation_classifier,
    register_markers,
)
from segmix.re_training import relation_loss

from .conftest import SEMEVAL


@pytest.fixture(scope="module")
def relations():
    if not SEMEVAL.exists():
        pytest.skip(f"real data not found at {SEMEVAL}")
    return read_relations(SEMEVAL / "train.tsv")[:40]


@pytest.fixture
def marked(tokenizer, relations):
    tok = type(tokenizer).from_pretrained(tokenizer.name_or_path)  # markers change the vocab
    cache = SubwordCache(tok)
    register_markers(tok, cache, all_markers(relations, typed=False))
    labels = relation_labels(relations)
    enc = encode_relations(relations, cache, {r: i for i, r in enumerate(labels)}, typed=False)
    return tok, cache, labels, enc


def test_markers_wrap_the_arguments_and_anchors_hit_the_start_markers(marked, relations):
    tok, _, _, enc = marked
    first = enc[0]  # "... an arrayed <e1> configuration </e1> of antenna <e2> elements </e2>."
    assert first.words[first.head[0] - 1 : first.head[1] + 1] == ("[E1]", "configuration", "[/E1]")
    assert first.words[first.tail[0] - 1 : first.tail[1] + 1] == ("[E2]", "elements", "[/E2]")
    for ex, raw in zip(enc, relations, strict=True):
        pieces = tok.convert_ids_to_tokens(ex.ids[ex.anchors].tolist())
        assert pieces == ["[E1]", "[E2]"]
        assert ex.words[ex.head[0] : ex.head[1]] == raw.head_tokens
        assert ex.words[ex.tail[0] : ex.tail[1]] == raw.tail_tokens


def test_adjacent_arguments_and_tail_first(marked):
    _, cache, labels, _ = marked
    ex = RelationExample(
        tokens=("student", "association", "met"),
        head=(1, 2),
        tail=(0, 1),
        relation=labels[0],
        id="x",
    )
    (enc,) = encode_relations([ex], cache, {labels[0]: 0}, typed=False)
    assert enc.words == ("[E2]", "student", "[/E2]", "[E1]", "association", "[/E1]", "met")
    assert enc.head == (4, 5) and enc.tail == (1, 2)


def test_typed_markers(marked):
    tok, cache, _, _ = marked
    ex = RelationExample(
        tokens=("Bill", "founded", "Microsoft"),
        head=(0, 1),
        tail=(2, 3),
        relation="org:founded_by",
        id="t",
        head_type="PERSON",
        tail_type="ORGANIZATION",
    )
    register_markers(tok, cache, all_markers([ex], typed=True))
    (enc,) = encode_relations([ex], cache, None, typed=True)
    assert enc.words[0] == "[E1:PERSON]" and enc.words[-1] == "[/E2:ORGANIZATION]"
    assert len(cache["[E1:PERSON]"]) == 1


def test_rmix_mixes_both_arguments_and_keeps_markers(marked):
    _, cache, labels, enc = marked
    rmix = RelationMix().fit(enc, labels, cache)
    params = RelationMixParams(
        source=0, partner=1, arguments=("head", "tail"), partner_arguments=("head", "tail"), lam=0.6
    )
    mix = rmix.apply(params)
    a, b = enc[0], enc[1]
    # markers are unmixed: both sides carry them, at the shifted anchors
    assert mix.ids_a[mix.anchors].tolist() == mix.ids_b[mix.anchors].tolist()
    assert mix.ids_a[mix.anchors].tolist() == a.ids[a.anchors].tolist()
    assert mix.labels_a.tolist() == [a.label] and mix.labels_b.tolist() == [b.label]
    np.testing.assert_allclose(mix.label_weight, [0.6])
    assert {r.words_b for r in mix.mixes} == {b.words[slice(*b.head)], b.words[slice(*b.tail)]}
    np.testing.assert_allclose(np.unique(mix.weight), [0.6, 1.0])


def test_argument_mix_mixes_one_argument(marked):
    _, cache, labels, enc = marked
    mixes = ArgumentMix().fit(enc, labels, cache).generate(20, np.random.default_rng(0))
    assert len(mixes) == 20 and all(len(m.mixes) == 1 for m in mixes)


def test_relation_loss_runs_on_a_mixed_batch(marked):
    tok, cache, labels, enc = marked
    model = load_relation_classifier(None, labels, tok)
    mixes = RelationMix().fit(enc, labels, cache).generate(3, np.random.default_rng(1))
    originals = [
        MixedExample.original(e.ids, np.asarray([e.label]), anchors=e.anchors) for e in enc[:2]
    ]
    batch = MixCollator(cache.pad_id)(originals + mixes)
    loss, logits = relation_loss(model, batch)
    assert logits.shape == (5, len(labels)) and torch.isfinite(loss)
    loss.backward()
    assert model.classifier.weight.grad is not None
