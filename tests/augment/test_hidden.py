"""LADA: hidden-state mixing through the one mixed-example structure and the one loss."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from segmix.augment.hidden import LayerMix, default_layers, nearest_neighbours
from segmix.collate import MixCollator
from segmix.config import ConfigError, TrainConfig
from segmix.encoding import IGNORE_INDEX
from segmix.mixing import MixedExample
from segmix.model import encoder_layers, load_token_classifier, mixed_forward
from tests.conftest import LABELS


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return load_token_classifier(None, LABELS).eval()


def _fitted(examples, cache, **options) -> LayerMix:
    return LayerMix(**options).fit(examples, LABELS, cache)


def test_default_layers_scale_ladas_8_to_10_of_12():
    assert default_layers(12) == (8, 9, 10)
    assert default_layers(6) == (4, 5)
    assert default_layers(24) == (16, 17, 18, 19, 20)
    assert default_layers(1) == (1,)


def test_nearest_neighbours_skip_itself_and_identical_sentences():
    emb = np.asarray([[1, 0], [1, 0], [0.9, 0.1], [0, 1]], dtype=np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    forms = [b"a", b"a", b"b", b"c"]  # rows 0 and 1 are the same sentence
    nbrs, count = nearest_neighbours(emb, forms, 2)
    assert nbrs[0].tolist() == [2, 3] and nbrs[1].tolist() == [2, 3]
    assert nbrs[3].tolist() == [2, 0] and count.tolist() == [2, 2, 2, 2]


def test_intra_mix_is_the_sentence_with_its_own_positions(small_examples, cache):
    lada = _fitted(small_examples, cache, lada_mode="intra", mix_layer=3)
    for mix in lada.generate(20, np.random.default_rng(0)):
        ex = small_examples[mix.source]
        assert mix.layer == 3 and mix.positions is not None
        assert np.array_equal(mix.ids_a, ex.ids)
        assert np.array_equal(mix.ids_b, ex.ids[mix.positions])
        assert (mix.ids_b != mix.ids_a).any()
        # specials stay themselves at weight 1; word positions take one λ ≥ 0.5
        assert mix.positions[0] == 0 and mix.positions[-1] == len(ex.ids) - 1
        assert mix.weight[0] == mix.weight[-1] == 1
        lam = mix.weight[1]
        assert 0.5 <= lam <= 1 and np.allclose(mix.weight[1:-1], lam)
        # a labelled position's side-b label is the label of the word its partner lies in
        first = np.flatnonzero(ex.labels != IGNORE_INDEX)
        word_of = np.repeat(np.arange(len(ex.words)), ex.word_lens)
        partner_word = word_of[mix.positions[first] - ex.word_starts[0]]
        assert mix.labels_b[first].tolist() == ex.word_labels[partner_word].tolist()
        assert np.allclose(mix.label_weight[first], lam)


def test_inter_mix_is_whole_sequence_mixup_with_a_layer(small_examples, cache):
    lada = _fitted(small_examples, cache, lada_mode="inter", mix_layer=4)
    for mix in lada.generate(20, np.random.default_rng(1)):
        assert mix.layer == 4 and mix.positions is None
        assert len(mix.mixes) == 1 and mix.mixes[0].start == 0
        assert mix.mixes[0].end == len(small_examples[mix.source].words)
        assert mix.mixes[0].lam >= 0.5
        assert mix.mixes[0].words_b != mix.mixes[0].words_a


def test_inter_partners_are_neighbours_about_half_of_the_time(small_examples, cache):
    lada = _fitted(small_examples, cache, lada_mode="inter", mix_layer=4)
    inner = lada._inter
    row_of = {tuple(ex.words): i for i, ex in enumerate(small_examples)}
    hits = 0
    mixes = lada.generate(400, np.random.default_rng(2))
    for mix in mixes:
        own = inner._row_of[mix.source]
        partner = row_of[mix.mixes[0].words_b]
        hits += partner in inner._knn[own].tolist()
    # 50 % drawn among 5 neighbours, plus the uniform draws that hit one by chance (~8 %)
    assert 0.45 < hits / len(mixes) < 0.65


def test_the_layer_is_drawn_from_the_default_range(small_examples, cache):
    lada = _fitted(small_examples, cache, lada_mode="intra")
    layers = {m.layer for m in lada.generate(50, np.random.default_rng(3))}
    assert layers == {4, 5}


def _states(model, batch, *, mixed: bool) -> list[torch.Tensor]:
    """The states each layer receives (index ``i``: what layer ``i + 1`` reads, i.e. the
    output of layer ``i`` after any mixing there), then the logits."""
    seen: list[torch.Tensor] = []

    rows = len(batch["input_ids"])

    def record(_module, args, kwargs):
        states = args[0] if args else kwargs["hidden_states"]
        if len(states) == rows:  # not side b's own pass (its rows only)
            seen.append(states)

    handles = [
        layer.register_forward_pre_hook(record, with_kwargs=True) for layer in encoder_layers(model)
    ]
    try:
        with torch.no_grad():
            if mixed:
                logits = mixed_forward(model, batch).logits
            else:
                logits = model(
                    input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
                ).logits
    finally:
        for h in handles:
            h.remove()
    return [*seen, logits]


@pytest.mark.parametrize("mode", ["intra", "inter"])
def test_layer_zero_is_embedding_mixing_exactly(mode, small_examples, cache, model):
    lada = _fitted(small_examples, cache, lada_mode=mode, mix_layer=0)
    mixes = lada.generate(6, np.random.default_rng(4))
    collate = MixCollator(cache.pad_id)
    batch = collate(mixes)
    assert "mix_layers" not in batch  # layer 0 takes the embedding path itself
    plain = [
        MixedExample(
            ids_a=m.ids_a,
            ids_b=m.ids_b,
            weight=m.weight,
            labels_a=m.labels_a,
            labels_b=m.labels_b,
            label_weight=m.label_weight,
            mixes=m.mixes,
        )
        for m in mixes
    ]
    with torch.no_grad():
        got = mixed_forward(model, batch).logits
        want = mixed_forward(model, collate(plain)).logits
    assert torch.equal(got, want)


@pytest.mark.parametrize("mode", ["intra", "inter"])
def test_layer_m_mixes_there_and_nowhere_below(mode, small_examples, cache, model):
    m = 3
    lada = _fitted(small_examples, cache, lada_mode=mode, mix_layer=m)
    mixes = lada.generate(3, np.random.default_rng(5))
    originals = [MixedExample.original(small_examples[0].ids, small_examples[0].labels)]
    collate = MixCollator(cache.pad_id)
    batch = collate([*mixes, *originals])
    assert batch["mix_layers"] == (m,)
    mixed = _states(model, batch, mixed=True)
    plain_a = _states(model, batch, mixed=False)
    for layer in range(m):  # the embeddings and the outputs of layers 1 … m-1: unmixed
        assert torch.allclose(mixed[layer], plain_a[layer], atol=1e-5)
    # after layer m: w·h_a + (1 − w)·h_b, with h_b side b's own states (or its own positions)
    h_a = plain_a[m]
    if mode == "inter":
        b_ids = batch["mix_b_ids"]
        b_states = _states(
            model, {"input_ids": b_ids, "attention_mask": batch["mix_b_mask"]}, mixed=False
        )
        h_b = h_a.clone()
        h_b[batch["mix_b_rows"]] = b_states[m]
    else:
        pos = batch["mix_positions"]
        h_b = torch.where(
            (pos >= 0).unsqueeze(-1),
            h_a.gather(1, pos.clamp(min=0).unsqueeze(-1).expand_as(h_a)),
            h_a,
        )
    w = batch["mix_weight"].unsqueeze(-1)
    want = w * h_a + (1 - w) * h_b
    n = len(mixes)
    assert torch.allclose(mixed[m][:n], want[:n], atol=1e-5)
    # the original row is never mixed, and above m the mix changes the states
    assert torch.allclose(mixed[-1][n:], plain_a[-1][n:], atol=1e-5)
    assert not torch.allclose(mixed[-1][:n], plain_a[-1][:n], atol=1e-3)


def test_mix_layer_beyond_the_encoder_is_one_clear_error(small_examples, cache):
    with pytest.raises(
        ConfigError, match=r"^--mix-layer: 7 is beyond the encoder's 6 layers; choose 0"
    ):
        _fitted(small_examples, cache, mix_layer=7)
    with pytest.raises(ConfigError, match=r"^--mix-layer: -1 is not allowed; it must be ≥ 0"):
        TrainConfig(augment="lada", mix_layer=-1)
    with pytest.raises(ConfigError, match=r"^--lada-mode: 'both' is not allowed"):
        TrainConfig(augment="lada", lada_mode="both")
    with pytest.raises(ConfigError, match=r"--mix-layer 2 applies to tagging"):
        TrainConfig(task="re", mix_layer=2)


@pytest.mark.parametrize("mode", ["intra", "inter"])
def test_a_short_lada_run_learns(mode, tiny_data, tmp_path):
    import json

    from segmix.run import train
    from tests.conftest import tiny_config

    metrics = train(
        tiny_config(
            tiny_data,
            tmp_path / "r",
            augment="lada",
            lada_mode=mode,
            rate=0.5,
            max_steps=8,
            eval_every=4,
            save_model=False,
        )
    )
    losses = [h["train_loss"] for h in metrics["history"]]
    assert metrics["mixes_per_epoch"] == 24 and losses[-1] < losses[0]
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert config["augmenter"]["lada_mode"] == mode and config["augmenter"]["layers"] == [4, 5]


# -- LADA as its code does it: pad words, masks, schedule -----------------------------------------

#: two hand-made sentences of different lengths (6 and 3 words): an inter pair is always these two
_LONG = (["Peter", "lives", "in", "Berlin", "since", "May"], ["B-PER", "O", "O", "B-LOC", "O", "O"])
_SHORT = (["Obama", "spoke", "."], ["B-PER", "O", "O"])


@pytest.fixture
def pair(cache):
    from segmix.tasks.tagging.data import NerSentence
    from segmix.tasks.tagging.encoding import encode_tagged

    sentences = [NerSentence(w, t, i) for i, (w, t) in enumerate((_LONG, _SHORT))]
    return encode_tagged(sentences, cache, {lb: i for i, lb in enumerate(LABELS)})


def _pair_mixes(pair, cache, **options) -> dict[int, MixedExample]:
    """One inter mix of each sentence with the other (no neighbours: the other is the only
    partner), keyed by the source."""
    lada = _fitted(pair, cache, lada_mode="inter", mix_layer=3, knn_ratio=0.0, **options)
    mixes = {}
    for mix in lada.generate(20, np.random.default_rng(7)):
        mixes.setdefault(mix.source, mix)
    assert set(mixes) == {0, 1}
    return mixes


def test_inter_pad_words_carry_no_label_on_their_side(pair, cache):
    mixes = _pair_mixes(pair, cache)
    o, per, loc = LABELS.index("O"), LABELS.index("B-PER"), LABELS.index("B-LOC")
    # the long sentence over the short one: words 4-6 meet pad words, which have no label
    long_a = mixes[0]
    first = np.flatnonzero((long_a.labels_a != IGNORE_INDEX) | (long_a.labels_b != IGNORE_INDEX))
    assert long_a.labels_a[first].tolist() == [per, o, o, loc, o, o]
    assert long_a.labels_b[first].tolist() == [per, o, o, IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX]
    assert (long_a.ids_b[first[3:]] == cache.pad_id).all()
    # the short sentence over the long one: side a is the one that has run out of words
    short_a = mixes[1]
    first = np.flatnonzero((short_a.labels_a != IGNORE_INDEX) | (short_a.labels_b != IGNORE_INDEX))
    assert short_a.labels_a[first].tolist() == [per, o, o, IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX]
    assert short_a.labels_b[first].tolist() == [per, o, o, loc, o, o]
    assert short_a.attend_b is None and long_a.attend_b is None
    # segmix's earlier LADA labelled the pad words O
    earlier = _pair_mixes(pair, cache, lada_pads="earlier")[0]
    first = np.flatnonzero(earlier.labels_a != IGNORE_INDEX)
    assert earlier.labels_b[first].tolist() == [per, o, o, o, o, o]


def test_a_pad_words_side_adds_nothing_to_the_loss(pair, cache):
    """LADA's loss at a pad word: ``λ·CE(y_a)`` (its ``PAD`` half has weight 0), by hand."""
    from segmix.model import pair_cross_entropy

    mixes = _pair_mixes(pair, cache)
    batch = MixCollator(cache.pad_id)([mixes[0], mixes[1]])
    torch.manual_seed(0)
    logits = torch.randn(*batch["labels"].shape, len(LABELS))
    loss = pair_cross_entropy(
        logits, batch["labels"], batch["mix_labels"], batch["mix_label_weight"]
    )
    log_p = torch.log_softmax(logits, dim=-1)
    o, per, loc = LABELS.index("O"), LABELS.index("B-PER"), LABELS.index("B-LOC")
    pad = None  # the side has run out of words: LADA's PAD, loss weight 0
    pairs = {  # per mix, its aligned word pairs (label of side a, label of side b)
        0: list(zip([per, o, o, loc, o, o], [per, o, o, pad, pad, pad], strict=True)),
        1: list(zip([per, o, o, pad, pad, pad], [per, o, o, loc, o, o], strict=True)),
    }
    terms = []
    for row, source in enumerate((0, 1)):
        lam = mixes[source].mixes[0].lam
        mix = mixes[source]
        # the first sub-word of each aligned word pair, labelled on one side at least
        first = np.flatnonzero((mix.labels_a != IGNORE_INDEX) | (mix.labels_b != IGNORE_INDEX))
        assert len(first) == 6
        for pos, (a, b) in zip(first.tolist(), pairs[source], strict=True):
            term = 0.0
            if a is not None:
                term += lam * -log_p[row, pos, a].item()
            if b is not None:
                term += (1 - lam) * -log_p[row, pos, b].item()
            terms.append(term)
    assert loss.item() == pytest.approx(sum(terms) / len(terms), rel=1e-5)


def test_pair_loss_drops_the_side_without_a_label():
    # softmax([ln1, ln2, ln1]) = [0.25, 0.5, 0.25]
    logits = torch.log(torch.tensor([[[1.0, 2.0, 1.0], [1.0, 2.0, 1.0], [1.0, 2.0, 1.0]]]))
    labels_a = torch.tensor([[1, 0, IGNORE_INDEX]])
    labels_b = torch.tensor([[IGNORE_INDEX, 1, 0]])
    v = torch.tensor([[0.8, 0.7, 0.6]])
    from segmix.model import pair_cross_entropy

    expected = (
        0.8 * -np.log(0.5)  # side b has run out of words: λ·CE(a) alone
        + (0.7 * -np.log(0.25) + 0.3 * -np.log(0.5))
        + 0.4 * -np.log(0.25)  # side a has run out of words: (1 − λ)·CE(b) alone
    ) / 3
    got = pair_cross_entropy(logits, labels_a, labels_b, v).item()
    assert got == pytest.approx(expected, rel=1e-6)


def _masks_seen(model, batch) -> list[torch.Tensor]:
    """The attention mask of every call of the model during a mixed forward (side b's own pass
    first, then the mixed pass)."""
    seen: list[torch.Tensor] = []

    def record(_module, _args, kwargs):
        seen.append(kwargs["attention_mask"].clone())

    handle = model.register_forward_pre_hook(record, with_kwargs=True)
    try:
        with torch.no_grad():
            mixed_forward(model, batch)
    finally:
        handle.remove()
    return seen


def test_both_sides_attend_the_union_of_the_two_sentences(pair, cache, model):
    mixes = _pair_mixes(pair, cache)
    batch = MixCollator(cache.pad_id)([mixes[0], mixes[1]])
    union = batch["attention_mask"]
    # each row's mask covers the longer sentence's positions, pad words of either side included
    for row, mix in enumerate((mixes[0], mixes[1])):
        assert union[row].sum().item() == len(mix.ids_a) == len(mix.ids_b)
    b_side, mixed = _masks_seen(model, batch)
    assert torch.equal(mixed, union)
    assert torch.equal(b_side, union[batch["mix_b_rows"]])
    # side b's pad words are attended on its own pass (the long sentence's side b is short)
    row = int((batch["mix_b_rows"] == 0).nonzero()[0, 0])
    pad = batch["mix_b_ids"][row] == cache.pad_id
    assert pad.any() and bool(b_side[row][pad & (union[0] == 1)].all())
    # segmix's earlier LADA left them out of side b's pass
    earlier = _pair_mixes(pair, cache, lada_pads="earlier")
    batch = MixCollator(cache.pad_id)([earlier[0], earlier[1]])
    b_side, mixed = _masks_seen(model, batch)
    assert torch.equal(mixed, batch["attention_mask"])
    want = batch["attention_mask"][batch["mix_b_rows"]] & (batch["mix_b_ids"] != cache.pad_id)
    assert torch.equal(b_side, want) and not torch.equal(b_side, mixed[batch["mix_b_rows"]])


@pytest.mark.parametrize("mode", ["intra", "inter"])
def test_every_schedule_mixes_each_sentence_once_an_epoch(mode, small_examples, cache):
    from segmix.engine import SegMixDataset

    lada = _fitted(
        small_examples, cache, lada_mode=mode, mix_layer=3, knn_ratio=0.0, lada_schedule="every"
    )
    n = len(small_examples)
    assert lada.mixes_per_epoch(0.2, n) == n
    dataset = SegMixDataset(small_examples, lada, rate=0.2, seed=3)
    assert len(dataset) == n  # the mixes replace the originals, as LADA mixes every batch
    for epoch in (0, 1):
        dataset.set_epoch(epoch)
        items = [dataset[i] for i in range(len(dataset))]
        assert sorted(m.source for m in items) == list(range(n))
        mixed = {m.source for m in items if m.is_mixed}
        assert mixed == set(lada._eligible.tolist())
    # LADA's λ: Beta(60, 1.5), then max(λ, 1 − λ): mean 60 / 61.5, whatever alpha says
    lams = lada.draw_lambdas(np.random.default_rng(0), 20000)
    assert lams.min() >= 0.5 and abs(lams.mean() - 60 / 61.5) < 0.005
    harness = _fitted(small_examples, cache, lada_mode=mode, mix_layer=3, knn_ratio=0.0)
    assert harness.mixes_per_epoch(0.2, n) == round(0.2 * n) and not harness.replaces_originals


def test_lada_options_belong_to_lada_and_rename_only_changed_cells(tiny_data, tmp_path):
    from segmix.experiment.cells import cell_identity
    from tests.conftest import tiny_config

    with pytest.raises(ConfigError, match=r"^--lada-schedule every applies to --augment lada"):
        TrainConfig(augment="mmix", lada_schedule="every")

    def identity(**kw):
        return cell_identity(tiny_config(tiny_data, tmp_path / "r", augment="lada", **kw))

    # the default inter cell hashes the new pad handling; the earlier one keeps its old record
    assert identity()["config"]["lada_pads"] == "source"
    assert "lada_pads" not in identity(lada_pads="earlier")["config"]
    assert "lada_schedule" not in identity()["config"]
    assert identity(lada_schedule="every")["config"]["lada_schedule"] == "every"
    # intra has no pad words: its cells keep their ids
    assert "lada_pads" not in identity(lada_mode="intra")["config"]


def test_a_run_on_ladas_own_schedule_mixes_every_sentence(tiny_data, tmp_path):
    import json

    from segmix.run import train
    from tests.conftest import tiny_config

    metrics = train(
        tiny_config(
            tiny_data,
            tmp_path / "r",
            augment="lada",
            lada_schedule="every",
            max_steps=4,
            eval_every=4,
            save_model=False,
        )
    )
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert metrics["mixes_per_epoch"] == 48  # every one of the 48 training sentences
    assert config["augmenter"]["lada_schedule"] == "every"
    assert (config["augmenter"]["alpha"], config["augmenter"]["beta"]) == (60.0, 1.5)
