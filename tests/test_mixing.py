"""The mixing arithmetic, checked against SEGMIX.md's worked example by hand."""

from __future__ import annotations

import numpy as np
import pytest

from segmix.encoding import IGNORE_INDEX as IG
from segmix.mixing import (
    MixedExample,
    Segment,
    align_segments,
    mix_segments,
    mix_to_json,
    render_mix,
)

# label ids of the worked example
O, B_LOC, I_LOC, B_PER, I_PER = 0, 1, 2, 3, 4  # noqa: E741
LABELS = ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]
CLS, SEP, PAD = 101, 102, 0
HE, VISITED, NEW, YORK, CITY, DOT, OB, AMA = 11, 12, 13, 14, 15, 16, 21, 22


def worked_example(pad_label: str) -> MixedExample:
    """'He visited New York City .' with 'New York City' mixed with 'Obama' (Ob ##ama), λ=0.7."""
    ids = np.array([CLS, HE, VISITED, NEW, YORK, CITY, DOT, SEP])
    labels = np.array([IG, O, O, B_LOC, I_LOC, I_LOC, O, IG])
    starts = np.array([1, 2, 3, 4, 5, 6])
    lens = np.ones(6, dtype=np.int64)
    own = Segment(
        pieces=(np.array([NEW]), np.array([YORK]), np.array([CITY])),
        labels=np.array([B_LOC, I_LOC, I_LOC]),
        inside=I_LOC,
        words=("New", "York", "City"),
    )
    obama = Segment(
        pieces=(np.array([OB, AMA]),), labels=np.array([B_PER]), inside=I_PER, words=("Obama",)
    )
    return mix_segments(
        ids,
        labels,
        starts,
        lens,
        [(2, 5)],
        [own],
        [obama],
        [0.7],
        pad_id=PAD,
        pad_label=pad_label,
        o_label=O,
    )


def test_worked_example_pad_label_o():
    mix = worked_example("o")
    # outside the segment: [CLS] He visited | segment (4 positions) | . [SEP]
    assert mix.ids_a.tolist() == [CLS, HE, VISITED, NEW, PAD, YORK, CITY, DOT, SEP]
    assert mix.ids_b.tolist() == [CLS, HE, VISITED, OB, AMA, PAD, PAD, DOT, SEP]
    np.testing.assert_allclose(mix.weight, [1, 1, 1, 0.7, 0.7, 0.7, 0.7, 1, 1])
    assert mix.labels_a.tolist() == [IG, O, O, B_LOC, IG, I_LOC, I_LOC, O, IG]
    assert mix.labels_b.tolist() == [IG, O, O, B_PER, IG, O, O, O, IG]
    np.testing.assert_allclose(mix.label_weight[[3, 5, 6]], [0.7, 0.7, 0.7])
    np.testing.assert_allclose(mix.label_weight[[1, 2, 7]], [1, 1, 1])


def test_worked_example_pad_label_inside_continues_the_partner_mention():
    mix = worked_example("inside")
    assert mix.labels_b.tolist() == [IG, O, O, B_PER, IG, I_PER, I_PER, O, IG]
    assert mix.labels_a.tolist() == [IG, O, O, B_LOC, IG, I_LOC, I_LOC, O, IG]


def test_worked_example_pad_label_ignore_keeps_the_other_side():
    mix = worked_example("ignore")
    assert mix.labels_b.tolist() == [IG, O, O, B_PER, IG, I_LOC, I_LOC, O, IG]


def test_longer_partner_grows_the_sentence_and_pads_the_original_side():
    ids = np.array([CLS, HE, SEP])
    labels = np.array([IG, B_PER, IG])
    own = Segment((np.array([HE]),), np.array([B_PER]), I_PER, ("He",))
    partner = Segment(
        (np.array([NEW]), np.array([YORK, CITY])),
        np.array([B_LOC, I_LOC]),
        I_LOC,
        ("New", "Yorkcity"),
    )
    mix = mix_segments(
        ids,
        labels,
        np.array([1]),
        np.array([1]),
        [(0, 1)],
        [own],
        [partner],
        [0.25],
        pad_id=PAD,
        pad_label="inside",
        o_label=O,
    )
    assert mix.ids_a.tolist() == [CLS, HE, PAD, PAD, SEP]
    assert mix.ids_b.tolist() == [CLS, NEW, YORK, CITY, SEP]
    assert mix.labels_a.tolist() == [IG, B_PER, I_PER, IG, IG]
    assert mix.labels_b.tolist() == [IG, B_LOC, I_LOC, IG, IG]
    np.testing.assert_allclose(mix.weight, [1, 0.25, 0.25, 0.25, 1])


def test_two_segments_and_anchor_shift():
    # words: A B C D  (one sub-word each); mix A with a 2-word partner, C with a 1-word one
    ids = np.array([CLS, 1, 2, 3, 4, SEP])
    labels = np.array([IG, O, O, O, O, IG])
    starts, lens = np.array([1, 2, 3, 4]), np.ones(4, dtype=np.int64)
    seg = [Segment((np.array([1]),), np.array([O]), O), Segment((np.array([3]),), np.array([O]), O)]
    partners = [
        Segment((np.array([7]), np.array([8])), np.array([O, O]), O),
        Segment((np.array([9]),), np.array([O]), O),
    ]
    mix = mix_segments(
        ids,
        labels,
        starts,
        lens,
        [(2, 3), (0, 1)],
        [seg[1], seg[0]],
        [partners[1], partners[0]],
        [0.4, 0.6],
        pad_id=PAD,
        anchors=np.array([2, 4, 5]),
    )
    assert mix.ids_a.tolist() == [CLS, 1, PAD, 2, 3, 4, SEP]
    assert mix.ids_b.tolist() == [CLS, 7, 8, 2, 9, 4, SEP]
    np.testing.assert_allclose(mix.weight, [1, 0.6, 0.6, 1, 0.4, 1, 1])
    # positions after the first span move by one
    assert mix.anchors.tolist() == [3, 5, 6]
    assert [r.lam for r in mix.mixes] == [0.6, 0.4]


def test_sequence_labels_for_relations():
    ids = np.array([CLS, 1, 2, SEP])
    seg = Segment((np.array([1]),), np.array([0]), 0)
    mix = mix_segments(
        ids,
        np.array([5]),
        np.array([1, 2]),
        np.array([1, 1]),
        [(0, 1)],
        [seg],
        [Segment((np.array([9]),), np.array([0]), 0)],
        [0.3],
        pad_id=PAD,
        label_per_position=False,
        sequence_labels=(5, 2),
    )
    assert mix.labels_a.tolist() == [5] and mix.labels_b.tolist() == [2]
    np.testing.assert_allclose(mix.label_weight, [0.3])


def test_original_is_the_degenerate_mix():
    ids, labels = np.array([CLS, HE, SEP]), np.array([IG, O, IG])
    ex = MixedExample.original(ids, labels)
    assert ex.ids_b is ex.ids_a and not ex.is_mixed
    np.testing.assert_array_equal(ex.weight, 1.0)


def test_every_aligned_pair_spans_the_longer_word():
    a = Segment((np.array([1, 2, 3]),), np.array([B_LOC]), I_LOC)
    b = Segment((np.array([4]), np.array([5, 6])), np.array([B_PER, I_PER]), I_PER)
    ids_a, ids_b, _w, la, lb, _v = align_segments(a, b, 0.5, pad_id=PAD, pad_label="o", o_label=O)
    assert ids_a.tolist() == [1, 2, 3, PAD, PAD]
    assert ids_b.tolist() == [4, PAD, PAD, 5, 6]
    assert la.tolist() == [B_LOC, IG, IG, O, IG]
    assert lb.tolist() == [B_PER, IG, IG, I_PER, IG]


def test_render_shows_both_sides_lambda_and_soft_labels():
    text = render_mix(["He", "visited", "New", "York", "City", "."], worked_example("o"), LABELS)
    assert text == (
        "He visited [New York City|Obama @0.70]"
        "{B-LOC·0.70+B-PER·0.30 I-LOC·0.70+O·0.30 I-LOC·0.70+O·0.30} ."
    )


def test_unknown_pad_label_is_rejected():
    with pytest.raises(ValueError, match="pad_label"):
        worked_example("outside")


def test_mix_to_json_names_every_label_array():
    words = ["He", "visited", "New", "York", "City", "."]
    record = mix_to_json(words, worked_example("o"), LABELS)
    assert record["labels_a_names"] == [
        None, "O", "O", "B-LOC", None, "I-LOC", "I-LOC", "O", None,
    ]  # fmt: skip
    assert record["labels_b_names"] == [None, "O", "O", "B-PER", None, "O", "O", "O", None]
    assert record["mixes"][0]["labels_b"] == ["B-PER", "O", "O"]
    # without the label list there is nothing to name them with
    bare = mix_to_json(words, worked_example("o"))
    assert "labels_a_names" not in bare and bare["labels_a"] == record["labels_a"]
