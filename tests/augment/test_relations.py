"""Whole-sentence mixup for relations on real SemEval-2010 Task 8 sentences.

The marked sentences are aligned region by region, so the markers (and the anchors the classifier
reads) face the same markers on both sides; everything else is mixed with one λ.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from segmix.augment import make_augmenter
from segmix.augment.relations import (
    RelationMixup,
    SentenceMixParams,
    sentence_regions,
    tail_first,
)
from segmix.config import TrainConfig
from segmix.encoding import SubwordCache, load_tokenizer
from segmix.mixing import Segment, mix_segments
from segmix.tasks.relations.data import RelationExample, read_relations, relation_labels
from segmix.tasks.relations.model import (
    EncodedRelation,
    MarkerScheme,
    encode_relations,
    register_markers,
)
from tests.conftest import SEMEVAL

MARKERS = ("[E1]", "[/E1]", "[E2]", "[/E2]")


@pytest.fixture(scope="module")
def semeval():
    """Real training sentences, their labels and a fresh tokenizer with the markers added."""
    if not SEMEVAL.exists():
        pytest.skip(f"real data not found at {SEMEVAL}")
    relations = read_relations(SEMEVAL / "train.tsv")
    tokenizer = load_tokenizer(None)  # fresh: the markers change its vocabulary
    cache = SubwordCache(tokenizer)
    register_markers(tokenizer, cache, MarkerScheme("entity_marker").all_markers(relations))
    return relations, relation_labels(relations), tokenizer, cache


def _encode(semeval, examples: list[RelationExample]) -> list[EncodedRelation]:
    _relations, labels, _tok, cache = semeval
    cache.add(w for ex in examples for w in ex.tokens)
    return encode_relations(examples, cache, {lb: i for i, lb in enumerate(labels)}, typed=False)


def _by_id(semeval, *ids: str) -> list[RelationExample]:
    index = {ex.id: ex for ex in semeval[0]}
    return [index[i] for i in ids]


def _reversed(ex: RelationExample) -> RelationExample:
    """The same real sentence with head and tail swapped (and the direction of its relation),
    a tail-first example as TACRED-style data has them."""
    flipped = ex.relation.replace("(e1,e2)", "(x)").replace("(e2,e1)", "(e1,e2)")
    return dataclasses.replace(
        ex, head=ex.tail, tail=ex.head, relation=flipped.replace("(x)", "(e2,e1)")
    )


def _marker_ids(tokenizer) -> list[int]:
    return tokenizer.convert_tokens_to_ids(list(MARKERS))


def _fit(semeval, encoded: list[EncodedRelation], **options) -> RelationMixup:
    _relations, labels, _tok, cache = semeval
    return make_augmenter("mixup", "re", **options).fit(encoded, labels, cache)


# 2095: 'The [E1] wind [/E1] pried with its stiff [E2] fingers [/E2] at the very foundations .'
# 4292: '[E1] Constipation [/E1] is the most common cause of [E2] abdominal pain [/E2] in the
#        pediatric population .' (nothing before its first marker)
# 2634: '… raw material of [E1] wheat [/E1] [E2] liquor [/E2] .' (adjacent arguments)
# 6913: '[E1] Climate change [/E1] is the topic of the [E2] day [/E2] .'
# 4:    'The [E1] student [/E1] [E2] association [/E2] is the voice of …' (adjacent arguments)
PINNED = ("2095", "4292", "2634", "6913", "4")


def test_registered_for_relations():
    from segmix.augment import augmenter_class

    assert augmenter_class("mixup", "re") is RelationMixup
    options = TrainConfig(task="re", augment="mixup", alpha=2.0).augmenter_options()
    assert options["alpha"] == 2.0 and "same_relation" in options


def test_regions_leave_the_markers_out(semeval):
    wind, constipation, wheat = _encode(semeval, _by_id(semeval, "2095", "4292", "2634"))
    assert sentence_regions(wind) == ((0, 1), (2, 3), (4, 8), (9, 10), (11, 16))
    assert sentence_regions(constipation)[0] == (0, 0)  # starts with its first marker
    assert sentence_regions(wheat)[2] == (17, 17)  # '[/E1] [E2]': nothing between
    for ex in (wind, constipation, wheat):
        covered = {j for s, e in sentence_regions(ex) for j in range(s, e)}
        assert {ex.words[j] for j in set(range(len(ex.words))) - covered} == set(MARKERS)


def test_pinned_pair_by_hand(semeval):
    """2095 mixed with 4292 at λ = 0.3, every position written out."""
    _relations, _labels, tokenizer, cache = semeval
    encoded = _encode(semeval, _by_id(semeval, *PINNED))
    aug = _fit(semeval, encoded)
    a, b = encoded[0], encoded[1]
    lam = 0.3
    m = aug.apply(SentenceMixParams(source=0, partner=1, lam=lam))

    def p(word: str) -> list[int]:
        return cache[word].tolist()

    def seq(*items: str | int) -> list[int]:
        """Sub-word ids: a word's pieces, or one id as it is."""
        return [i for item in items for i in (p(item) if isinstance(item, str) else [item])]

    assert len(p("Constipation")) == 4 and len(p("pried")) == 2  # what the widths rely on
    assert all(len(p(w)) == 1 for w in ("The", "wind", "fingers", "abdominal", "pain", "is"))
    cls, sep, pad = int(a.ids[0]), int(a.ids[-1]), cache.pad_id
    e1, ce1, e2, ce2 = _marker_ids(tokenizer)
    # CLS | before | [E1] | first | [/E1] | between | [E2] | second | [/E2] | after | SEP
    ids_a = seq(
        cls,
        "The",
        e1,
        "wind", pad, pad, pad,  # against Con ##sti ##pati ##on
        ce1,
        "pried", "with", "its", "stiff", pad, pad,  # pri ##ed against 'is' + pad
        e2,
        "fingers", pad,
        ce2,
        "at", "the", "very", "foundations", ".",
        sep,
    )  # fmt: skip
    ids_b = seq(
        cls,
        pad,  # 4292 has nothing before its first marker
        e1,
        "Constipation",
        ce1,
        "is", pad, "the", "most", "common", "cause", "of",
        e2,
        "abdominal", "pain",
        ce2,
        "in", "the", "pediatric", "population", ".",
        sep,
    )  # fmt: skip
    assert m.ids_a.tolist() == ids_a
    assert m.ids_b.tolist() == ids_b
    unmixed = {0, 2, 7, 15, 18, 24}  # CLS, the four markers, SEP
    expected_w = [1.0 if i in unmixed else lam for i in range(len(ids_a))]
    np.testing.assert_allclose(m.weight, expected_w, rtol=1e-6)
    assert m.anchors.tolist() == [2, 15]
    assert m.labels_a.tolist() == [a.label] and m.labels_b.tolist() == [b.label]
    np.testing.assert_allclose(m.label_weight, [lam], rtol=1e-6)
    assert m.source == 0 and len(m.mixes) == 5
    assert m.mixes[0].words_a == ("The",) and m.mixes[0].words_b == ()
    assert [r.lam for r in m.mixes] == pytest.approx([lam] * 5)


def test_a_region_only_the_partner_has_is_padded_on_the_example(semeval):
    """4292 (nothing before [E1]) with 2095: a pad-only span on side a, the anchors shift."""
    encoded = _encode(semeval, _by_id(semeval, *PINNED))
    aug = _fit(semeval, encoded)
    pad = semeval[3].pad_id
    m = aug.apply(SentenceMixParams(source=1, partner=0, lam=0.6))
    before = m.mixes[0]
    assert (before.start, before.end, before.words_a) == (0, 0, ())
    assert before.words_b == ("The",)
    assert m.ids_a[1] == pad and m.ids_b[1] == semeval[3]["The"][0]
    assert m.anchors.tolist() == [encoded[1].anchors[0] + 1, m.anchors[1]]
    # adjacent arguments on both sides (2634 with 4): 'between' is empty twice, not mixed
    m = aug.apply(SentenceMixParams(source=2, partner=4, lam=0.6))
    assert len(m.mixes) == 4
    e2, ce1 = m.anchors[1], m.anchors[1] - 1
    assert m.weight[ce1] == 1.0 and m.weight[e2] == 1.0


def test_anchors_and_markers_face_the_same_markers(semeval):
    relations, *_rest = semeval
    tokenizer = semeval[2]
    encoded = _encode(semeval, relations[:60] + _by_id(semeval, *PINNED))
    aug = _fit(semeval, encoded)
    e1, ce1, e2, ce2 = _marker_ids(tokenizer)
    mixes = aug.generate(200, np.random.default_rng(0))
    assert len(mixes) == 200
    for m in mixes:
        h, t = m.anchors
        assert m.ids_a[h] == m.ids_b[h] == e1 and m.ids_a[t] == m.ids_b[t] == e2
        for marker in (e1, ce1, e2, ce2):  # each marker at one position, on both sides
            assert (
                np.flatnonzero(m.ids_a == marker).tolist()
                == np.flatnonzero(m.ids_b == marker).tolist()
            )
            assert (m.weight[m.ids_a == marker] == 1.0).all()
        assert m.weight[0] == m.weight[-1] == 1.0  # CLS and SEP
        assert 0.0 < float(m.label_weight[0]) < 1.0


def test_each_side_is_its_whole_sentence_nothing_truncated(semeval):
    relations, *_rest = semeval
    encoded = _encode(semeval, relations[:40] + _by_id(semeval, *PINNED))
    aug = _fit(semeval, encoded)
    pad = semeval[3].pad_id
    batch = aug.sample_batch(np.random.default_rng(1), 100)
    for params in aug.batch_params(batch):
        m = aug.apply(params)
        a, b = encoded[params.source], encoded[params.partner]
        assert m.ids_a[m.ids_a != pad].tolist() == a.ids.tolist()
        assert m.ids_b[m.ids_b != pad].tolist() == b.ids.tolist()
        assert m.labels_a.tolist() == [a.label] and m.labels_b.tolist() == [b.label]


def test_partners_are_never_the_example_and_keep_the_argument_order(semeval):
    relations, *_rest = semeval
    base = relations[:30]
    pool = base + [_reversed(ex) for ex in relations[30:45]]
    encoded = _encode(semeval, pool)
    assert sum(tail_first(ex) for ex in encoded) == 15
    aug = _fit(semeval, encoded)
    batch = aug.sample_batch(np.random.default_rng(2), 400)
    assert len(batch) == 400
    order = np.asarray([tail_first(ex) for ex in encoded])
    assert (batch.partner != batch.source).all()
    assert (order[batch.partner] == order[batch.source]).all()
    assert order[batch.source].any() and not order[batch.source].all()  # both orders mixed
    # a tail-first mix: the head's marker still faces the head's marker
    e1 = _marker_ids(semeval[2])[0]
    for params in aug.batch_params(batch)[:50]:
        m = aug.apply(params)
        assert m.ids_a[m.anchors[0]] == m.ids_b[m.anchors[0]] == e1
    # an example alone with its order has no partner: it is not eligible
    lone = _encode(semeval, [*base[:5], _reversed(relations[50])])
    assert set(_fit(semeval, lone)._eligible.tolist()) == set(range(5))


def test_same_relation_partners(semeval):
    relations, *_rest = semeval
    encoded = _encode(semeval, relations[:80])
    aug = _fit(semeval, encoded, same_relation=True)
    batch = aug.sample_batch(np.random.default_rng(3), 100)
    label = np.asarray([ex.label for ex in encoded])
    assert (label[batch.partner] == label[batch.source]).all()
    assert (batch.partner != batch.source).all()


def test_length_guard_redraws_and_never_truncates(semeval):
    relations, *_rest = semeval
    encoded = _encode(semeval, relations[:25])
    aug = _fit(semeval, encoded)
    n = len(encoded)
    lengths = np.asarray(
        [
            [len(aug.apply(SentenceMixParams(i, j, 0.5))) if i != j else 10**6 for j in range(n)]
            for i in range(n)
        ]
    )
    limit = int(np.percentile(lengths[lengths < 10**6], 20))
    aug.max_length = limit  # a tiny model limit: most pairs no longer fit
    batch = aug.sample_batch(np.random.default_rng(4), 60)
    assert len(batch) == 60
    for params in aug.batch_params(batch):
        m = aug.apply(params)
        assert len(m) == lengths[params.source, params.partner] <= limit
    aug.max_length = int(lengths.min()) - 1  # nothing fits: no mix rather than a cut one
    assert aug.generate(5, np.random.default_rng(5)) == []


def test_generate_returns_n(semeval):
    relations, *_rest = semeval
    aug = _fit(semeval, _encode(semeval, relations[:30]), lambda_max=True)
    mixes = aug.generate(37, np.random.default_rng(6))
    assert len(mixes) == 37
    assert all(float(m.label_weight[0]) >= 0.5 for m in mixes)  # lambda_max


def test_rendered_with_regions_bracketed(semeval):
    from segmix.tasks.relations.task import RelationTask

    _relations, labels, _tok, _cache = semeval
    encoded = _encode(semeval, _by_id(semeval, *PINNED))
    aug = _fit(semeval, encoded)
    m = aug.apply(SentenceMixParams(source=1, partner=0, lam=0.6))
    text = RelationTask().render_mix(encoded[1], m, labels)
    first, arrow = text.split("\n")
    assert first.startswith("[∅|The @0.60] [E1] [Constipation|wind @0.60] [/E1] ")
    assert arrow == "  → Cause-Effect(e1,e2)·0.60 + Component-Whole(e2,e1)·0.40"
    record = RelationTask().mix_record(encoded[1], m, labels)
    assert record["mixes"][0]["words_a"] == [] and json.dumps(record, ensure_ascii=False)


def test_empty_span_in_mix_segments():
    """``mix_segments`` with a zero-word own span inserts the partner's words before word k,
    all pad on this side; anchors at or after the insertion move."""
    ids = np.array([101, 7, 8, 9, 102])  # CLS w0 w1 w2 SEP, one sub-word a word
    starts, lens = np.array([1, 2, 3]), np.ones(3, dtype=np.int64)
    empty = Segment(pieces=(), labels=np.zeros(0, np.int64), inside=0)
    other = Segment(pieces=(np.array([5, 6]),), labels=np.zeros(1, np.int64), inside=0)
    for k, expected_a, expected_b in (
        (0, [101, 0, 0, 7, 8, 9, 102], [101, 5, 6, 7, 8, 9, 102]),
        (1, [101, 7, 0, 0, 8, 9, 102], [101, 7, 5, 6, 8, 9, 102]),
        (3, [101, 7, 8, 9, 0, 0, 102], [101, 7, 8, 9, 5, 6, 102]),  # after the last word
    ):
        m = mix_segments(
            ids,
            np.array([4]),
            starts,
            lens,
            [(k, k)],
            [empty],
            [other],
            [0.25],
            pad_id=0,
            label_per_position=False,
            sequence_labels=(4, 2),
            anchors=np.array([2]),
        )
        assert m.ids_a.tolist() == expected_a and m.ids_b.tolist() == expected_b
        inserted = starts[k] if k < 3 else 4
        assert m.weight.tolist() == [
            0.25 if inserted <= i < inserted + 2 else 1.0 for i in range(7)
        ]
        assert m.anchors.tolist() == [2 + 2 if k <= 1 else 2]
        assert (m.mixes[0].start, m.mixes[0].end) == (k, k)


def test_a_short_relation_run_with_mixup_trains(tmp_path):
    from segmix.run import train

    if not SEMEVAL.exists():
        pytest.skip(f"real data not found at {SEMEVAL}")
    root = tmp_path / "data"
    root.mkdir()
    lines = (SEMEVAL / "test.tsv").read_text().splitlines()[:16]
    (root / "test.tsv").write_text("\n".join(lines) + "\n")
    out = tmp_path / "run"
    metrics = train(
        TrainConfig(
            task="re",
            train_file=str(SEMEVAL / "train.tsv"),
            test_file=str(root / "test.tsv"),
            train_size=32,
            dev_size=16,
            augment="mixup",
            rate=0.5,
            max_steps=4,
            eval_every=2,
            batch_size=8,
            lr=3e-4,
            save_model=False,
            progress=False,
            output_dir=str(out),
        )
    )
    assert metrics["steps"] == 4 and metrics["mixes_per_epoch"] == 16
    losses = [h["train_loss"] for h in metrics["history"]]
    assert len(losses) == 2 and all(np.isfinite(losses)) and losses[-1] < losses[0]
    written = json.loads((out / "metrics.json").read_text())
    assert 0.0 <= written["test"]["macro_f1"] <= 1.0
    assert json.loads((out / "config.json").read_text())["augmenter"]["name"] == "mixup"
