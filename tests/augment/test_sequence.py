"""Sequence-level baselines (whole-sequence mixup, SeqMix) against hand-built values."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from segmix.augment import make_augmenter
from segmix.augment.pools import LabelSpace, segment_of
from segmix.augment.segments import MixParams
from segmix.augment.sequence import (
    SequenceMixup,
    SubsequenceMix,
    TokenSnapper,
    snapper_for,
    window_starts,
)
from segmix.config import ConfigError
from segmix.encoding import IGNORE_INDEX
from segmix.tasks.tagging.data import NerSentence
from segmix.tasks.tagging.encoding import encode_tagged
from tests.conftest import CONLL, LABELS

ROOT = Path(__file__).resolve().parents[2]
LABEL2ID = {lb: i for i, lb in enumerate(LABELS)}


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


def test_window_mixup_option_is_the_earlier_seqmix_by_hand(small_examples, cache):
    """``seqmix_windows=mention`` with ``seqmix_output=continuous`` is segmix's seqmix before
    SeqMix's rules: windows on mention starts, mixed embeddings."""
    aug = SubsequenceMix(window=3, seqmix_windows="mention", seqmix_output="continuous").fit(
        small_examples, LABELS, cache
    )
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


@pytest.mark.parametrize(
    ("name", "options"),
    [("mixup", {}), ("seqmix", {}), ("seqmix", {"seqmix_mode": "whole"})],
)
def test_generate_gives_n_valid_mixes(name, options, small_examples, cache):
    aug = make_augmenter(name, "ner", **options).fit(small_examples, LABELS, cache)
    mixes = aug.generate(40, np.random.default_rng(0))
    assert len(mixes) == 40
    for m in mixes:
        assert len(m.ids_a) == len(m.ids_b) == len(m.weight) == len(m.labels_a)
        assert m.is_mixed and 0 < min(m.weight) <= max(m.weight) <= 1


def test_a_short_mixup_run_learns(tiny_data, tmp_path):
    from segmix.run import train
    from tests.conftest import tiny_config

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


# -- SeqMix as its code does it (github.com/rz-zhang/SeqMix, seqmix.py) ------------------------


def source_find_sub_seq(tags, window_size=5, valid_tag_bar=3):
    """SeqMix's ``find_sub_seq``, rewritten here independently of segmix: the starts of the
    windows that start on a non-``O`` tag and hold ``valid_tag_bar`` non-``O`` tags."""
    starts = []
    for index in range(0, len(tags) - window_size):
        count = sum(tag != "O" for tag in tags[index : index + window_size])
        if tags[index] != "O" and count >= valid_tag_bar:
            starts.append(index)
    return starts


def _tagged(*tag_rows):
    sentences = [
        NerSentence(tuple(f"w{i}{j}" for j in range(len(tags))), tuple(tags), i)
        for i, tags in enumerate(tag_rows)
    ]
    return sentences


@pytest.mark.parametrize(
    ("tags", "starts"),
    [
        ("B-PER I-PER O B-LOC O O", [0]),  # 3 entity tags in words 0-4
        ("O B-PER I-PER O B-LOC I-LOC O O", [1, 2]),  # an I- tag may start a window
        ("B-PER O O B-LOC O O O", []),  # 2 entity tags only
        ("O O B-LOC I-LOC B-PER I-PER", []),  # words 1-5 end the sentence: never a window
        ("B-ORG I-ORG I-ORG B-PER I-PER", []),  # a sentence of 5 words has none
    ],
)
def test_seqmix_window_rule_on_hand_made_tags(tags, starts, cache):
    tags = tags.split()
    entity = [t != "O" for t in tags]
    assert window_starts(entity, 5, 3) == starts == source_find_sub_seq(tags)
    # the augmenter's one window per sentence is the first valid one (slack_mixup's [0])
    (ex,) = encode_tagged(_tagged(tags), cache, LABEL2ID)
    aug = SubsequenceMix(seqmix_output="continuous")
    aug.space = LabelSpace(LABELS)
    assert aug.candidate_spans(ex) == [(s, s + 5) for s in starts[:1]]


def test_sentences_with_a_seqmix_window_on_200_real_sentences(train_sentences, cache):
    """``--train-size 200 --sample-seed 1``: 40 sentences have a SeqMix window (the source's
    rule counted independently), against 107 with a window under the earlier mention rule."""
    from segmix.datafiles import sample_subset

    subset = sample_subset(train_sentences, 200, seed=1)
    expected = sum(bool(source_find_sub_seq(s.tags)) for s in subset)
    assert expected == 40
    examples = encode_tagged(subset, cache, LABEL2ID)
    aug = SubsequenceMix(seqmix_output="continuous").fit(examples, LABELS, cache)
    assert aug.n_eligible == expected
    for i in aug._eligible:
        ((s, e),) = aug.candidate_spans(examples[i])
        assert s == source_find_sub_seq(subset[i].tags)[0] and e == s + 5
    old = SubsequenceMix(seqmix_windows="mention", seqmix_output="continuous")
    assert old.fit(examples, LABELS, cache).n_eligible == 107


def test_a_window_too_short_for_three_entity_tags_is_refused():
    with pytest.raises(ConfigError, match=r"^--window: 2 words cannot hold the 3 entity tags"):
        SubsequenceMix(window=2)
    SubsequenceMix(window=2, seqmix_windows="mention")  # the earlier rule counts no tags


def _toy_snapper(distance):
    """Six tokens in 2-D: [PAD] (not allowed) sits exactly between paris and obama."""
    table = np.array(
        [[0.5, 0.5], [1.0, 0.0], [0.0, 1.0], [0.6, 0.3], [2.0, 2.0], [0.0, -1.0]],
        dtype=np.float32,
    )
    allowed = np.array([False, True, True, True, True, True])
    texts = ["[PAD]", "paris", "obama", "london", "big", "south"]
    return TokenSnapper(table, allowed, texts, distance)


def test_snapping_picks_the_nearest_allowed_token_by_hand():
    """λ = 0.5 of paris (1, 0) and obama (0, 1) is (0.5, 0.5): [PAD] is there but not allowed;
    by Euclidean distance london (0.05) beats paris and obama (0.5) and big (4.5); by cosine
    big (1.0, same direction) beats london (0.949)."""
    euclid, cosine = _toy_snapper("euclidean"), _toy_snapper("cosine")
    one = [np.array([1])], [np.array([2])]
    assert euclid.snap(*one, np.array([0.5])).tolist() == [3]
    assert cosine.snap(*one, np.array([0.5])).tolist() == [4]
    # λ = 0.9 gives (0.9, 0.1): nearest is paris itself, a source word, so london
    mixed = euclid.word_vectors([np.array([1])]) * 0.9 + euclid.word_vectors([np.array([2])]) * 0.1
    assert euclid.nearest(mixed, np.array([[-1, -1]])).tolist() == [1]
    assert euclid.snap(*one, np.array([0.9])).tolist() == [3]
    assert cosine.snap(*one, np.array([0.9])).tolist() == [3]
    # a word of two pieces is their mean, (0.5, 0.5), and excludes no token
    two = [np.array([1, 2])], [np.array([1, 2])]
    assert euclid.word_vectors(two[0]).tolist() == [[0.5, 0.5]]
    assert euclid.snap(*two, np.array([0.5])).tolist() == [3]


def test_the_bundled_encoders_snappable_tokens(tokenizer):
    """Whole-word tokens only: no special token, no ## piece, no [unused…] entry."""
    snapper = snapper_for("default", tokenizer)
    allowed = snapper.allowed.numpy()
    vocab = tokenizer.get_vocab()
    for token in ("[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]", "[unused0]", "##ing"):
        assert not allowed[vocab[token]], token
    for token in ("paris", "the", ",", "1996"):
        assert allowed[vocab[token]], token
    assert snapper.table.shape == (len(tokenizer), 384)


def _fitted_snapped(small_examples, cache, **options):
    aug = SubsequenceMix(**options).fit(small_examples, LABELS, cache)
    source = int(aug._eligible[0])
    ((s, e),) = aug.candidate_spans(small_examples[source])
    other = next(
        i for i in aug._eligible if small_examples[i].words != small_examples[source].words
    )
    ((s2, e2),) = aug.candidate_spans(small_examples[other])
    partner = segment_of(small_examples[other], s2, e2, LabelSpace(LABELS))
    return aug, source, (s, e), partner


def test_a_snapped_mix_is_one_nearest_token_a_word_with_soft_labels(small_examples, cache):
    """Both sides hold the snapped token (weight 1), the labels both sources' tags at λ."""
    aug, source, (s, e), partner = _fitted_snapped(small_examples, cache)
    ex = small_examples[source]
    lam = 0.3
    mix = aug.apply(MixParams(source, ((s, e),), (partner,), (lam,)))
    p0 = int(ex.word_starts[s])
    p1 = int(ex.word_starts[e - 1] + ex.word_lens[e - 1])
    window = slice(p0, p0 + (e - s))  # one position a word
    assert len(mix.ids_a) == len(ex.ids) - (p1 - p0) + (e - s)
    assert mix.ids_a.tolist() == mix.ids_b.tolist()
    assert mix.ids_a[:p0].tolist() == ex.ids[:p0].tolist()
    assert mix.ids_a[window.stop :].tolist() == ex.ids[p1:].tolist()
    assert (mix.weight == 1.0).all()
    assert mix.labels_a[window].tolist() == ex.word_labels[s:e].tolist()
    assert mix.labels_b[window].tolist() == partner.labels.tolist()
    assert mix.label_weight[window] == pytest.approx([lam] * (e - s))
    outside = np.ones(len(mix.ids_a), bool)
    outside[window] = False
    assert (mix.label_weight[outside] == 1.0).all()
    assert (mix.labels_a[outside] == mix.labels_b[outside]).all()
    # each word is the nearest allowed token (cosine) to λ·v_a + (1 − λ)·v_b, neither source
    table = aug.snapper.table.numpy()
    allowed = aug.snapper.allowed.numpy()
    unit = table / np.maximum(np.linalg.norm(table, axis=1, keepdims=True), 1e-12)
    (record,) = mix.mixes
    for j, token in enumerate(mix.ids_a[window].tolist()):
        a = ex.ids[ex.word_starts[s + j] : ex.word_starts[s + j] + ex.word_lens[s + j]]
        b = partner.pieces[j]
        v = lam * table[a].mean(0) + (1 - lam) * table[b].mean(0)
        sim = unit @ (v / np.linalg.norm(v))
        sim[~allowed] = -np.inf
        for side in (a, b):
            if len(side) == 1:
                sim[side[0]] = -np.inf
        assert token == int(np.argmax(sim))
        assert record.snapped[j] == aug.snapper.texts[token]
        assert cache[record.snapped[j]].tolist() == [token]  # the word encodes to it again
    assert (record.words_a, record.words_b) == (ex.words[s:e], partner.words)
    assert record.labels_b == tuple(partner.labels.tolist()) and record.lam == lam


def test_snapped_positions_reach_the_model_as_the_token_and_the_loss_as_lambda(
    small_examples, cache
):
    """Through the collator and the model: the embedding at a snapped position is exactly the
    token's, and the loss there is λ·CE(y_a) + (1 − λ)·CE(y_b)."""
    import torch

    from segmix.collate import MixCollator
    from segmix.model import mixed_embeddings, pair_cross_entropy

    aug, source, (s, e), partner = _fitted_snapped(small_examples, cache)
    mix = aug.apply(MixParams(source, ((s, e),), (partner,), (0.3,)))
    batch = MixCollator(cache.pad_id)([mix])
    assert batch["is_mixed"]
    table = torch.nn.Embedding.from_pretrained(aug.snapper.table)

    class Model(torch.nn.Module):
        def get_input_embeddings(self):
            return table

    embeds = mixed_embeddings(Model(), batch["input_ids"], batch["mix_ids"], batch["mix_weight"])
    assert torch.equal(embeds[0], aug.snapper.table[torch.from_numpy(mix.ids_a)])
    logits = torch.randn(1, len(mix.ids_a), len(LABELS))
    loss = pair_cross_entropy(
        logits, batch["labels"], batch["mix_labels"], batch["mix_label_weight"]
    )
    log_p = torch.log_softmax(logits[0], -1)
    by_hand = []
    for i in np.flatnonzero(mix.labels_a != IGNORE_INDEX):
        w = float(mix.label_weight[i])
        by_hand.append(
            -(w * log_p[i, mix.labels_a[i]] + (1 - w) * log_p[i, mix.labels_b[i]]).item()
        )
    assert loss.item() == pytest.approx(np.mean(by_hand), rel=1e-5)


def test_snapped_mixes_show_and_export_the_words_they_became(small_examples, cache):
    from segmix.inspect.mixes import segment_layout, side_a_sentence
    from segmix.mixing import mix_to_json
    from segmix.tasks.tagging.task import TaggingTask

    aug = SubsequenceMix().fit(small_examples, LABELS, cache)
    for mix in aug.generate(5, np.random.default_rng(0)):
        ex = small_examples[mix.source]
        (record,) = mix.mixes
        assert len(record.snapped) == len(record.words_a) == 5
        shown = TaggingTask().render_mix(ex, mix, LABELS)
        assert f"|{' '.join(record.words_b)} → {' '.join(record.snapped)} @" in shown
        assert mix_to_json(ex.words, mix, LABELS)["mixes"][0]["snapped"] == list(record.snapped)
        (layout,) = segment_layout(mix, side_a_sentence(mix, small_examples, cache), cache)
        assert layout.widths == (1,) * 5 and layout.end - layout.start == 5


def test_whole_sequence_seqmix_mixes_sentences_of_one_length(small_examples, cache):
    """SeqMix's soft_mixup: sentences with 3 entity tags, each with one of its own length,
    every word snapped."""
    aug = SubsequenceMix(seqmix_mode="whole").fit(small_examples, LABELS, cache)
    o = LABEL2ID["O"]
    assert aug.n_eligible > 0
    for i in aug._eligible:
        assert (small_examples[i].word_labels != o).sum() >= 3
    for mix in aug.generate(20, np.random.default_rng(0)):
        ex = small_examples[mix.source]
        (record,) = mix.mixes
        assert (record.start, record.end) == (0, len(ex.words))
        assert len(record.words_b) == len(ex.words) == len(record.snapped)
        assert record.words_b != ex.words
        assert len(mix.ids_a) == len(ex.words) + cache.n_special


def test_old_seqmix_cells_keep_their_ids_under_the_continuous_window_options():
    """Committed seqmix cells were computed by the continuous window mix on mention windows:
    those options give their stored identity; the new default is a new cell; other methods'
    cells are unchanged."""
    from segmix.config import TrainConfig
    from segmix.experiment.cells import cell_identity

    stored = {}
    for path in sorted((ROOT / "benchmarks" / "runs").glob("*/cells/*/cell.json")):
        record = json.loads(path.read_text())
        stored.setdefault(record["method"], record["identity"]["config"])
        if {"seqmix", "mmix"} <= set(stored):
            break
    assert {"seqmix", "mmix"} <= set(stored), "no committed seqmix and mmix cells"
    data = str(CONLL)
    old = stored["seqmix"]
    assert "seqmix_output" not in old

    def ident(kept, **kw):
        return cell_identity(TrainConfig(**kept, **kw, data_dir=data))["config"]

    assert ident(old, seqmix_windows="mention", seqmix_output="continuous") == old
    now = ident(old)
    assert now != old
    assert {k: v for k, v in now.items() if not k.startswith("seqmix_")} == old
    assert (now["seqmix_windows"], now["seqmix_output"]) == ("source", "snapped")
    assert ident(stored["mmix"]) == stored["mmix"]
