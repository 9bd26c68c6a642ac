"""Sequence-level baselines (whole-sequence mixup, SeqMix) against hand-built values."""

from __future__ import annotations

import numpy as np
import pytest

from segmix.augment import make_augmenter
from segmix.augment.pools import LabelSpace, segment_of
from segmix.augment.segments import MixParams
from segmix.augment.sequence import SequenceMixup, SubsequenceMix
from segmix.encoding import IGNORE_INDEX, encode_tagged

from .conftest import LABELS


def _expected(a, b, start, end_a, end_b, lam, pad, o):
    """Word-by-word alignment of a[start:end_a] with b[…], built by hand: ids, weights, labels."""
    ids_a, ids_b, weight, lab_a, lab_b, lw = [], [], [], [], [], []
    n = max(end_a - start, len(b[0]))
    for j in range(n):
        pa = (
            a.ids[a.word_starts[start + j] : a.word_starts[start + j] + a.word_lens[start + j]]
            if j < end_a - start
            else []
        )
        pb = b[0][j] if j < len(b[0]) else []
        width = max(len(pa), len(pb))
        ids_a += list(pa) + [pad] * (width - len(pa))
        ids_b += list(pb) + [pad] * (width - len(pb))
        weight += [lam] * width
        la = int(a.word_labels[start + j]) if j < end_a - start else o
        lb = int(b[1][j]) if j < len(b[1]) else o
        lab_a += [la] + [IGNORE_INDEX] * (width - 1)
        lab_b += [lb] + [IGNORE_INDEX] * (width - 1)
        lw += [lam] + [1.0] * (width - 1)
    return ids_a, ids_b, weight, lab_a, lab_b, lw


def test_whole_sequence_mixup_by_hand(train_sentences, cache):
    label2id = {lb: i for i, lb in enumerate(LABELS)}
    long, short = encode_tagged([train_sentences[0], train_sentences[2]], cache, label2id)
    assert len(long.words) > len(short.words)
    space = LabelSpace(LABELS)
    aug = SequenceMixup().fit([long, short], LABELS, cache)
    partner = segment_of(short, 0, len(short.words), space)
    mix = aug.apply(MixParams(0, ((0, len(long.words)),), (partner,), (0.7,)))
    pieces = [short.ids[s : s + n] for s, n in zip(short.word_starts, short.word_lens, strict=True)]
    exp = _expected(
        long, (pieces, short.word_labels), 0, len(long.words), None, 0.7, cache.pad_id, space.o
    )
    inner = slice(1, len(mix.ids_a) - 1)  # [CLS] and [SEP] stay unmixed
    assert mix.ids_a[inner].tolist() == exp[0]
    assert mix.ids_b[inner].tolist() == exp[1]
    assert mix.weight[inner] == pytest.approx(exp[2])
    assert mix.labels_a[inner].tolist() == exp[3]
    assert mix.labels_b[inner].tolist() == exp[4]  # the shorter sentence's pad words are O
    labelled = mix.labels_a[inner] != IGNORE_INDEX  # the weight matters where a label is
    assert mix.label_weight[inner][labelled] == pytest.approx(np.asarray(exp[5])[labelled])
    assert mix.weight[0] == mix.weight[-1] == 1.0


def test_seqmix_windows_start_on_entities_and_mix_by_hand(small_examples, cache):
    aug = SubsequenceMix(window=3).fit(small_examples, LABELS, cache)
    for ex in small_examples:
        spans = aug.candidate_spans(ex)
        starts = {s for s, _ in ex.mentions}
        assert all(s in starts and e - s == 3 and e <= len(ex.words) for s, e in spans)
        assert all(spans[i][1] <= spans[i + 1][0] for i in range(len(spans) - 1))
    source = next(i for i, ex in enumerate(small_examples) if aug.candidate_spans(ex))
    ex = small_examples[source]
    (s, e) = aug.candidate_spans(ex)[0]
    other = next(o for o in small_examples[source + 1 :] if aug.candidate_spans(o))
    (s2, e2) = aug.candidate_spans(other)[0]
    partner = segment_of(other, s2, e2, LabelSpace(LABELS))
    mix = aug.apply(MixParams(source, ((s, e),), (partner,), (0.4,)))
    first = int(ex.word_starts[s])
    lab_b = mix.labels_b[mix.labels_b != IGNORE_INDEX]
    lab_a = mix.labels_a[mix.labels_a != IGNORE_INDEX]
    # window words carry the partner's tags on side b with weight 0.4 for side a
    assert lab_a.tolist() == ex.word_labels.tolist()
    assert lab_b[s:e].tolist() == other.word_labels[s2:e2].tolist()
    assert mix.label_weight[first] == pytest.approx(0.4)
    assert mix.weight[first] == pytest.approx(0.4)


@pytest.mark.parametrize("name", ["mixup", "seqmix"])
def test_generate_gives_n_valid_mixes(name, small_examples, cache):
    aug = make_augmenter(name, "ner").fit(small_examples, LABELS, cache)
    mixes = aug.generate(40, np.random.default_rng(0))
    assert len(mixes) == 40
    for m in mixes:
        assert len(m.ids_a) == len(m.ids_b) == len(m.weight) == len(m.labels_a)
        assert m.is_mixed and 0 < min(m.weight) <= max(m.weight) <= 1


def test_a_short_mixup_run_learns(tiny_data, tmp_path):
    from segmix.run import train

    from .conftest import tiny_config

    metrics = train(
        tiny_config(
            tiny_data,
            tmp_path / "r",
            augment="seqmix",
            rate=0.5,
            max_steps=8,
            eval_every=4,
            save_model=False,
        )
    )
    losses = [h["train_loss"] for h in metrics["history"]]
    assert metrics["mixes_per_epoch"] == 24 and losses[-1] < losses[0]
