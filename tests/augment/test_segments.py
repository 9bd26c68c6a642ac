"""Pools and the three tagging variants on real CoNLL-2003 sentences."""

from __future__ import annotations

import numpy as np
import pytest

from segmix.augment import make_augmenter
from segmix.augment.pools import LabelSpace, MentionPool, TokenPool, segment_of
from segmix.augment.segments import MentionMix, MixParams, SynonymMix, TokenMix
from segmix.encoding import IGNORE_INDEX
from tests.conftest import LABELS


def test_label_space_inside():
    space = LabelSpace(LABELS)
    assert [LABELS[i] for i in space.inside] == [
        "O",
        "I-LOC",
        "I-LOC",
        "I-MISC",
        "I-MISC",
        "I-ORG",
        "I-ORG",
        "I-PER",
        "I-PER",
    ]


def test_mention_pool_holds_every_mention_with_its_type(small_examples):
    pool = MentionPool(small_examples, LabelSpace(LABELS))
    assert len(pool) == sum(len(ex.mentions) for ex in small_examples) > 0
    for seg, typ in zip(pool.segments, pool.types, strict=True):
        assert LABELS[seg.labels[0]] == f"B-{typ}"
        assert all(LABELS[lb] == f"I-{typ}" for lb in seg.labels[1:])
    rng = np.random.default_rng(0)
    assert all(LABELS[pool.sample(rng, "PER").labels[0]] == "B-PER" for _ in range(20))


def test_token_pool_counts_occurrences(small_examples):
    pool = TokenPool(small_examples, LabelSpace(LABELS))
    assert len(pool) == sum(len(ex.words) for ex in small_examples)
    rng = np.random.default_rng(0)
    assert all(pool.sample(rng, 7).labels[0] == 7 for _ in range(20))


@pytest.mark.parametrize("cls", [MentionMix, TokenMix])
def test_mixes_are_well_formed(cls, small_examples, cache):
    aug = cls(alpha=8.0).fit(small_examples, LABELS, cache)
    mixes = aug.generate(50, np.random.default_rng(1))
    assert len(mixes) == 50
    for m in mixes:
        n = len(m.ids_a)
        assert len(m.ids_b) == len(m.weight) == len(m.labels_a) == len(m.labels_b) == n
        assert n <= cache.max_length
        # both sides labelled at the same positions
        np.testing.assert_array_equal(m.labels_a == IGNORE_INDEX, m.labels_b == IGNORE_INDEX)
        assert ((m.weight == 1) | ((m.weight > 0) & (m.weight < 1))).all()
        rec = m.mixes[0]
        assert 0 < rec.lam < 1
        src = small_examples[m.source]
        # the text outside the segment is untouched
        before = src.word_starts[rec.start]
        assert m.ids_a[:before].tolist() == src.ids[:before].tolist()
        assert m.ids_b[:before].tolist() == src.ids[:before].tolist()
        if cls is MentionMix:
            assert (rec.start, rec.end) in src.mentions


def test_same_type_and_same_label_options(small_examples, cache):
    mm = MentionMix(same_type=True).fit(small_examples, LABELS, cache)
    for m in mm.generate(30, np.random.default_rng(2)):
        rec = m.mixes[0]
        assert LABELS[rec.labels_a[0]][2:] == LABELS[rec.labels_b[0]][2:]
    tm = TokenMix(same_label=True, entities_only=True).fit(small_examples, LABELS, cache)
    for m in tm.generate(30, np.random.default_rng(2)):
        rec = m.mixes[0]
        assert rec.labels_a == rec.labels_b and LABELS[rec.labels_a[0]] != "O"


def test_k_segments_and_lambda_max(small_examples, cache):
    aug = MentionMix(k=2, lambda_max=True).fit(small_examples, LABELS, cache)
    mixes = aug.generate(40, np.random.default_rng(3))
    assert any(len(m.mixes) == 2 for m in mixes)
    assert all(r.lam >= 0.5 for m in mixes for r in m.mixes)


def test_same_seed_same_mixes_and_pinned_params_reproduce(small_examples, cache):
    aug = TokenMix().fit(small_examples, LABELS, cache)
    a = aug.generate(10, np.random.default_rng(5))
    b = aug.generate(10, np.random.default_rng(5))
    assert [m.ids_b.tolist() for m in a] == [m.ids_b.tolist() for m in b]
    params = aug.sample_params(np.random.default_rng(9))
    assert isinstance(params, MixParams)
    again = aug.apply(params)
    assert again.ids_b.tolist() == aug.apply(params).ids_b.tolist()


def test_own_segment_roundtrip(small_examples):
    ex = next(e for e in small_examples if e.mentions)
    s, e = ex.mentions[0]
    seg = segment_of(ex, s, e, LabelSpace(LABELS))
    assert seg.words == ex.words[s:e]


def test_make_augmenter_rejects_unknown_names():
    none = make_augmenter("none").fit([], [], None)
    assert none.generate(5, np.random.default_rng(0)) == [] and none.describe() is None
    assert none.mixes_per_epoch(0.2, 100) == 0
    with pytest.raises(ValueError, match="unknown augmentation 'mixdown'"):
        make_augmenter("mixdown")


def test_smix_with_a_given_lexicon(small_examples, cache):
    class Lexicon(dict):
        def words(self):
            return list(self)

    lexicon = Lexicon(
        {"said": (("stated",), ("aforesaid",)), "Germany": (("Federal", "Republic"),)}
    )
    aug = SynonymMix(lexicon=lexicon).fit(small_examples, LABELS, cache)
    assert aug.n_eligible > 0
    for m in aug.generate(20, np.random.default_rng(0)):
        rec = m.mixes[0]
        assert rec.words_a[0] in lexicon and rec.words_b in lexicon[rec.words_a[0]]
        assert rec.labels_a[0] == rec.labels_b[0]  # both sides carry the word's own label


@pytest.mark.parametrize("pad_label", ["inside", "o", "ignore"])
@pytest.mark.parametrize("cls", [MentionMix, TokenMix])
def test_packed_generation_equals_the_reference_mix(cls, pad_label, small_examples, cache):
    """The vectorised path gives exactly what mix_segments gives for the same parameters."""
    aug = cls(pad_label=pad_label).fit(small_examples, LABELS, cache)
    packed = aug.generate(200, np.random.default_rng(11))
    assert len(packed) == 200
    for i in range(len(packed)):
        fast, ref = packed[i], aug.apply(aug.packed_params(packed, i))
        for name in ("ids_a", "ids_b", "labels_a", "labels_b"):
            np.testing.assert_array_equal(getattr(fast, name), getattr(ref, name), err_msg=name)
        np.testing.assert_allclose(fast.weight, ref.weight, rtol=1e-6)
        np.testing.assert_allclose(fast.label_weight, ref.label_weight, rtol=1e-6)
        assert fast.mixes[0] == ref.mixes[0]


def test_packed_smix_equals_the_reference_mix(small_examples, cache):
    class Lexicon(dict):
        def words(self):
            return list(self)

    lexicon = Lexicon({"said": (("stated",), ("aforesaid",)), "the": (("Federal", "Republic"),)})
    aug = SynonymMix(lexicon=lexicon).fit(small_examples, LABELS, cache)
    packed = aug.generate(50, np.random.default_rng(4))
    for i in range(len(packed)):
        fast, ref = packed[i], aug.apply(aug.packed_params(packed, i))
        np.testing.assert_array_equal(fast.ids_b, ref.ids_b)
        np.testing.assert_array_equal(fast.labels_b, ref.labels_b)


def test_length_guard_never_truncates(small_examples, cache):
    aug = MentionMix().fit(small_examples, LABELS, cache)
    aug.max_length = max(len(ex.ids) for ex in small_examples)  # no room to grow
    for mixes in (
        aug.generate(100, np.random.default_rng(0)),
        [
            aug.apply(p)
            for p in (aug.sample_params(np.random.default_rng(s)) for s in range(30))
            if p is not None
        ],
    ):
        assert all(len(m) <= aug.max_length for m in mixes)


# ------------------------------------------------------------- fixes of the SegMix variants


@pytest.fixture
def short_limit(train_sentences, cache):
    """200 real CoNLL sentences under a 24-sub-word limit (about 30 % of them are longer)."""
    from segmix.datafiles import sample_subset
    from segmix.tasks.tagging.encoding import encode_tagged

    sents = sample_subset(train_sentences, 200, seed=4)
    examples = encode_tagged(sents, cache, {lb: i for i, lb in enumerate(LABELS)})
    cache.max_length = 24
    return examples, cache


@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("cls", [MentionMix, TokenMix])
def test_generate_gives_n_mixes_under_a_short_length_limit(cls, k, short_limit):
    """A mix still too long after max_tries partners takes another original (never dropped)."""
    examples, cache = short_limit
    aug = cls(k=k).fit(examples, LABELS, cache)
    mixes = aug.generate(400, np.random.default_rng(0))
    assert len(mixes) == 400
    assert all(len(m) <= 24 for m in mixes)


@pytest.mark.parametrize("k", [1, 2])
def test_per_mix_and_vectorised_paths_draw_the_same_mixes(k, small_examples, cache):
    """One sampler: the per-mix path takes rows of the batch the vectorised path packs."""
    for aug in (MentionMix(k=k), TokenMix(k=k, same_label=True)):
        aug.fit(small_examples, LABELS, cache)
        fast = aug.generate(150, np.random.default_rng(7))
        each = aug.generate_each(150, np.random.default_rng(7))
        assert len(fast) == len(each) == 150
        for a, b in zip(fast, each, strict=True):
            for name in ("ids_a", "ids_b", "labels_a", "labels_b", "weight", "label_weight"):
                np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
            assert a.mixes == b.mixes and a.source == b.source


def test_sample_params_is_a_row_of_the_batch_sampler(small_examples, cache):
    aug = MentionMix().fit(small_examples, LABELS, cache)
    one = aug.sample_params(np.random.default_rng(3))
    row = aug.batch_params(aug.sample_batch(np.random.default_rng(3), 1))[0]
    assert one == row


@pytest.mark.parametrize(
    "cls, options",
    [
        (MentionMix, {}),
        (MentionMix, {"same_type": True}),
        (TokenMix, {}),
        (TokenMix, {"same_label": True}),
        (TokenMix, {"same_label": True, "entities_only": True}),
    ],
)
def test_a_segment_is_never_mixed_with_its_own_surface_form(cls, options, small_examples, cache):
    """Neither the segment itself nor another occurrence of the same words is a partner."""
    aug = cls(**options).fit(small_examples, LABELS, cache)
    for path in (aug.generate, aug.generate_each):
        for m in path(1500, np.random.default_rng(5)):
            rec = m.mixes[0]
            assert rec.words_a != rec.words_b
            assert m.ids_a.tolist() != m.ids_b.tolist()


def test_a_mention_without_a_partner_of_another_form_is_not_a_candidate(small_examples, cache):
    """The only form of its type (here: one sentence, twice) has no partner: not a candidate."""
    space = LabelSpace(LABELS)
    ex = next(e for e in small_examples if len(e.mentions) == 1)
    typ = space.type_of[int(ex.word_labels[ex.mentions[0][0]])]
    others = [
        e
        for e in small_examples
        if e.mentions and all(space.type_of[int(e.word_labels[s])] != typ for s, _ in e.mentions)
    ]
    aug = MentionMix(same_type=True).fit([ex, ex, *others], LABELS, cache)
    assert aug._candidates[0] == aug._candidates[1] == []
    assert 0 not in aug._eligible and 1 not in aug._eligible
    assert all(m.source > 1 for m in aug.generate(200, np.random.default_rng(0)))
    # without same_type any other mention will do
    assert MentionMix().fit([ex, ex, *others], LABELS, cache)._candidates[0] == list(ex.mentions)


@pytest.mark.parametrize("pad_label", ["inside", "o", "ignore"])
@pytest.mark.parametrize("k", [1, 2])
def test_smix_sides_agree_on_the_label_whatever_pad_label(pad_label, k, small_examples, cache):
    """A multi-word synonym takes B-X I-X … and the original's pad words I-X (or O, O …)."""

    class Lexicon(dict):
        def words(self):
            return list(self)

    lexicon = Lexicon(
        {
            "said": (("made", "a", "statement"), ("stated",)),
            "Germany": (("Federal", "Republic", "of", "Germany"),),
            "the": (("a", "certain"),),
        }
    )
    aug = SynonymMix(lexicon=lexicon, pad_label=pad_label, k=k).fit(small_examples, LABELS, cache)
    mixes = aug.generate(200, np.random.default_rng(0))
    assert len(mixes) == 200
    grown = 0
    for m in mixes:
        for rec in m.mixes:
            assert rec.labels_a == rec.labels_b, (rec, pad_label)
            grown += len(rec.words_b) > 1
        first = m.labels_a != IGNORE_INDEX
        np.testing.assert_array_equal(m.labels_a[first], m.labels_b[first])
    assert grown > 0
    assert aug.describe()["pad_label"] == "inside"


def test_base_classes_declare_what_a_variant_must_supply():
    from segmix.augment.relations import RelationMix
    from segmix.augment.segments import Mixer, SegMixAugmenter

    assert {"draw_batch", "batch_params", "apply"} <= Mixer.__abstractmethods__
    # SegMixAugmenter draws and builds; a variant supplies its pools, candidates and partners
    assert SegMixAugmenter.__abstractmethods__ == {
        "_build_pools",
        "candidate_spans",
        "partner_pool",
    }
    with pytest.raises(TypeError):
        Mixer()

    class Half(SegMixAugmenter):
        def _build_pools(self, examples, cache):
            pass

        def candidate_spans(self, example):
            return []

    with pytest.raises(TypeError, match="partner_pool"):
        Half()
    for cls in (MentionMix, TokenMix, SynonymMix, RelationMix):
        cls()  # the real variants are complete


def test_tagging_mix_record_names_its_label_arrays(small_examples, cache):
    from segmix.tasks.tagging.task import TaggingTask

    aug = MentionMix().fit(small_examples, LABELS, cache)
    m = aug.generate(1, np.random.default_rng(0))[0]
    record = TaggingTask().mix_record(small_examples[m.source], m, LABELS)
    for side in ("a", "b"):
        ids, names = record[f"labels_{side}"], record[f"labels_{side}_names"]
        assert len(ids) == len(names)
        assert all((n is None) == (i == IGNORE_INDEX) for i, n in zip(ids, names, strict=True))
        assert all(n == LABELS[i] for i, n in zip(ids, names, strict=True) if n is not None)


def test_k_segments_are_distinct_sorted_and_as_many_as_there_are(small_examples, cache):
    aug = TokenMix(k=3, entities_only=True).fit(small_examples, LABELS, cache)
    rows = aug.batch_params(aug.sample_batch(np.random.default_rng(8), 300))
    assert len(rows) == 300
    for p in rows:
        starts = [s for s, _ in p.spans]
        assert starts == sorted(set(starts))
        assert len(p.spans) == min(3, len(aug._candidates[p.source]))


def test_nothing_to_mix_gives_no_mixes(small_examples, cache):
    bare = [ex for ex in small_examples if not ex.mentions]
    assert bare
    for aug in (MentionMix(), TokenMix(entities_only=True, k=2)):
        aug.fit(bare, LABELS, cache)
        assert aug.n_eligible == 0
        assert len(aug.generate(10, np.random.default_rng(0))) == 0
        assert aug.sample_params(np.random.default_rng(0)) is None
