"""Entity markers, anchors, RMix and the relation classifier on real SemEval-2010 Task 8 data."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from transformers import AutoConfig, AutoModel, BertConfig

from segmix.augment.relations import ArgumentMix, RelationMix, RelationMixParams
from segmix.collate import MixCollator
from segmix.encoding import SubwordCache, load_tokenizer, resolve_model
from segmix.engine import segmix_loss
from segmix.mixing import MixedExample
from segmix.model import mixed_forward
from segmix.tasks.relations.data import RelationExample, read_relations, relation_labels
from segmix.tasks.relations.model import (
    MarkerScheme,
    RelationClassifier,
    RelationClassifierConfig,
    all_markers,
    encode_relations,
    load_relation_classifier,
    load_saved_relation_model,
    register_markers,
)
from tests.conftest import SEMEVAL


@pytest.fixture(scope="module")
def relations():
    if not SEMEVAL.exists():
        pytest.skip(f"real data not found at {SEMEVAL}")
    return read_relations(SEMEVAL / "train.tsv")[:40]


def _marked_tokenizer(examples, scheme: MarkerScheme):
    """A fresh tokenizer (markers change the vocab) with the scheme's markers registered."""
    tok = load_tokenizer(None)
    cache = SubwordCache(tok)
    markers = scheme.all_markers(examples)
    register_markers(tok, cache, markers)
    return tok, cache, markers


def _batch(enc, pad_id: int) -> dict[str, torch.Tensor]:
    """A real padded batch, built by the collator training uses."""
    batch = MixCollator(pad_id)(
        [MixedExample.original(e.ids, np.asarray([e.label]), anchors=e.anchors) for e in enc]
    )
    return {
        "input_ids": batch["input_ids"],
        "attention_mask": batch["attention_mask"],
        "anchors": batch["anchors"],
        "labels": batch["labels"][:, 0],
    }


def _logits(model, batch) -> torch.Tensor:
    with torch.no_grad():
        return model(
            input_ids=batch["input_ids"],
            attention_mask=batch["attention_mask"],
            anchors=batch["anchors"],
        ).logits


@pytest.fixture
def marked(relations):
    tok, cache, _ = _marked_tokenizer(relations, MarkerScheme("entity_marker"))
    labels = relation_labels(relations)
    enc = encode_relations(relations, cache, {r: i for i, r in enumerate(labels)}, typed=False)
    return tok, cache, labels, enc


@pytest.fixture(scope="module")
def plain(relations, tmp_path_factory):
    """A classifier built on the bundled encoder, its batch, its logits, and its saved folder."""
    scheme = MarkerScheme.for_examples(relations)
    tok, cache, markers = _marked_tokenizer(relations, scheme)
    labels = relation_labels(relations)
    enc = encode_relations(
        relations, cache, {r: i for i, r in enumerate(labels)}, typed=scheme.typed
    )
    model = RelationClassifier.from_encoder(
        resolve_model(None), labels, tok, markers=markers, marker_scheme=scheme.name
    ).eval()
    batch = _batch(enc[:8], cache.pad_id)
    logits = _logits(model, batch)
    out = tmp_path_factory.mktemp("relation_model")
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return {
        "model": model,
        "tokenizer": tok,
        "cache": cache,
        "labels": labels,
        "markers": markers,
        "enc": enc,
        "batch": batch,
        "logits": logits,
        "dir": out,
    }


TYPED = [
    RelationExample(
        tokens=("Bill", "Gates", "founded", "Microsoft", "in", "1975", "."),
        head=(0, 2),
        tail=(3, 4),
        relation="org:founded_by",
        id="t1",
        head_type="PERSON",
        tail_type="ORGANIZATION",
    ),
    RelationExample(
        tokens=("Ada", "Lovelace", "worked", "with", "Charles", "Babbage", "in", "London", "."),
        head=(0, 2),
        tail=(7, 8),
        relation="per:cities_of_residence",
        id="t2",
        head_type="PERSON",
        tail_type="CITY",
    ),
]


# ---------------------------------------------------------------- markers and encoding


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


def test_marker_scheme_strategy(relations):
    plain = MarkerScheme.for_examples(relations)  # SemEval has no entity types
    assert plain.name == "entity_marker" and not plain.typed
    assert plain.words("PERSON", "CITY") == ("[E1]", "[/E1]", "[E2]", "[/E2]")
    assert plain.all_markers(TYPED) == all_markers(TYPED, typed=False)

    typed = MarkerScheme.for_examples(TYPED)
    assert typed.name == "typed_entity_marker" and typed.typed
    assert typed.words("PERSON", "CITY") == (
        "[E1:PERSON]",
        "[/E1:PERSON]",
        "[E2:CITY]",
        "[/E2:CITY]",
    )
    assert typed.all_markers(TYPED) == all_markers(TYPED, typed=True)
    assert {"[E1]", "[E2:ORGANIZATION]", "[/E2:CITY]"} <= set(typed.all_markers(TYPED))

    # one untyped example makes the whole set plain; no examples is plain too
    assert not MarkerScheme.for_examples([*TYPED, relations[0]]).typed
    assert not MarkerScheme.for_examples([]).typed
    with pytest.raises(ValueError, match="unknown marker scheme"):
        MarkerScheme("entity_mask")


# ---------------------------------------------------------------- augmentation


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


def test_argument_mix_mixes_slot_with_slot(marked):
    """A head is mixed with a partner's head, a tail with a partner's tail, so the partner's
    directed relation still names the roles of the mixed arguments."""
    _, cache, labels, enc = marked
    aug = ArgumentMix().fit(enc, labels, cache)
    batch = aug.sample_batch(np.random.default_rng(0), 300)
    rows = aug.batch_params(batch)
    assert len(rows) == 300
    assert all(p.arguments == p.partner_arguments and len(p.arguments) == 1 for p in rows)
    assert {p.arguments[0] for p in rows} == {"head", "tail"}  # the slot is drawn at random
    for p in rows[:40]:
        mix = aug.apply(p)
        partner = enc[p.partner]
        assert mix.mixes[0].words_b == partner.words[slice(*getattr(partner, p.arguments[0]))]
        assert mix.labels_b.tolist() == [partner.label]


@pytest.mark.parametrize("same_relation", [False, True])
@pytest.mark.parametrize("cls", [RelationMix, ArgumentMix])
def test_relation_partner_is_never_the_example_itself(cls, same_relation, marked):
    _, cache, labels, enc = marked
    aug = cls(same_relation=same_relation).fit(enc, labels, cache)
    rows = aug.batch_params(aug.sample_batch(np.random.default_rng(1), 2000))
    assert rows and all(p.partner != p.source for p in rows)
    if same_relation:
        assert all(enc[p.partner].label == enc[p.source].label for p in rows)


@pytest.mark.parametrize("cls", [RelationMix, ArgumentMix])
def test_role_aligned_mixes_arguments_by_role_and_keeps_the_label(cls, marked):
    """Partners share the relation type in either direction; a partner of the other direction
    gives its tail to the source's head (cause with cause), and the label stays the source's
    own, whole: no label mass moves to another relation."""
    from segmix.tasks.relations.metrics import strip_direction

    _, cache, labels, enc = marked
    aug = cls(role_aligned=True).fit(enc, labels, cache)
    rows = aug.batch_params(aug.sample_batch(np.random.default_rng(5), 3000))
    crossed = 0
    for p in rows:
        a, b = labels[enc[p.source].label], labels[enc[p.partner].label]
        assert strip_direction(a) == strip_direction(b) and p.partner != p.source
        if a != b:  # the other direction: every mixed slot meets the other role's argument
            crossed += 1
            assert p.partner_arguments == tuple(
                {"head": "tail", "tail": "head"}[x] for x in p.arguments
            )
        else:
            assert p.partner_arguments == p.arguments
    assert crossed > 100  # both directions of a type are drawn
    for p in rows[:50]:
        mix = aug.apply(p)
        assert mix.labels_b.tolist() == mix.labels_a.tolist() == [enc[p.source].label]
        words_b = [m.words_b for m in mix.mixes]
        partner = enc[p.partner]
        assert words_b == [partner.words[slice(*getattr(partner, x))] for x in p.partner_arguments]


@pytest.fixture(scope="module")
def wide(relations):
    """The 40 sentences and the first training sentence with a three-word head, encoded."""
    three = next(r for r in read_relations(SEMEVAL / "train.tsv") if r.head[1] - r.head[0] == 3)
    examples = [*relations, three]
    _, cache, _ = _marked_tokenizer(examples, MarkerScheme("entity_marker"))
    labels = relation_labels(examples)
    enc = encode_relations(examples, cache, {r: i for i, r in enumerate(labels)}, typed=False)
    return cache, labels, enc


@pytest.mark.parametrize("role_aligned", [False, True])
@pytest.mark.parametrize("cls", [RelationMix, ArgumentMix])
def test_heads_and_tails_of_different_widths_mix_and_their_length_is_foreseen(
    cls, role_aligned, wide
):
    """The length guard's estimate is the mixed example's true length. In these 40 sentences
    no head is longer than a word and the longest tail is two; with a three-word head added,
    the guard's head and tail tables differed in width, and every RMix and MMix draw failed
    ("operands could not be broadcast", the lr-search cells at 200 SemEval examples, seed
    1002); with one-word and two-word tables it broadcast and over-counted the length."""
    cache, labels, enc = wide
    aug = cls(role_aligned=role_aligned).fit(enc, labels, cache)
    batch = aug.sample_batch(np.random.default_rng(3), 400)
    foreseen = aug._length(batch.source, batch.partner, batch.slot)
    rows = aug.batch_params(batch)
    assert [len(aug.apply(p)) for p in rows] == foreseen.tolist()
    if not role_aligned:  # every example has partners: the long head is drawn both ways
        assert {p.source for p in rows} >= {40} and {p.partner for p in rows} >= {40}


def test_role_aligned_belongs_to_rmix_and_mmix_for_relations():
    from segmix.config import ConfigError, TrainConfig

    assert TrainConfig(task="re", augment="rmix", role_aligned=True).augmenter_options()[
        "role_aligned"
    ]
    with pytest.raises(ConfigError, match="applies to --augment rmix and mmix"):
        TrainConfig(task="re", augment="mixup", role_aligned=True)
    with pytest.raises(ConfigError, match="give one of them"):
        TrainConfig(task="re", augment="rmix", role_aligned=True, same_relation=True)
    with pytest.raises(ConfigError, match="applies to relation"):
        TrainConfig(task="ner", augment="mmix", role_aligned=True)


def test_relation_paths_agree_and_fill_n_under_a_short_limit(marked):
    _, cache, labels, enc = marked
    cache.max_length = int(np.median([len(e.ids) for e in enc]))
    aug = RelationMix().fit(enc, labels, cache)
    mixes = aug.generate(200, np.random.default_rng(2))
    assert len(mixes) == 200 and all(len(m) <= cache.max_length for m in mixes)


def test_relation_mix_record_names_its_relations(marked):
    from segmix.tasks.relations.task import RelationTask

    _, cache, labels, enc = marked
    mix = RelationMix().fit(enc, labels, cache).generate(1, np.random.default_rng(0))[0]
    record = RelationTask().mix_record(enc[mix.source], mix, labels)
    assert record["labels_a_names"] == [labels[int(mix.labels_a[0])]] == [record["relation_a"]]
    assert record["labels_b_names"] == [labels[int(mix.labels_b[0])]] == [record["relation_b"]]


# ---------------------------------------------------------------- the config


def test_config_carries_labels_scheme_markers_and_the_encoder_config():
    encoder = AutoConfig.from_pretrained(resolve_model(None)).to_dict()
    config = RelationClassifierConfig(
        encoder=encoder,
        id2label={0: "b", 1: "a"},
        label2id={"b": 0, "a": 1},
        marker_scheme="typed_entity_marker",
        markers=("[E1]", "[E1:PER]"),  # any sequence; stored as a JSON-friendly list
    )
    assert isinstance(config.encoder, BertConfig)  # rebuilt from the dict's model_type
    assert config.encoder.hidden_size == encoder["hidden_size"]
    assert config.labels == ["b", "a"] and config.num_labels == 2
    assert config.typed and config.markers == ["[E1]", "[E1:PER]"]
    assert config.get_text_config() is config.encoder  # vocab and special tokens live there

    again = RelationClassifierConfig.from_dict(json.loads(config.to_json_string()))
    assert again.labels == ["b", "a"] and again.label2id == {"b": 0, "a": 1}
    assert again.marker_scheme == "typed_entity_marker" and again.markers == config.markers
    assert again.encoder.to_dict() == config.encoder.to_dict()

    assert RelationClassifierConfig(num_labels=3).num_labels == 3
    assert not RelationClassifierConfig().typed
    with pytest.raises(ValueError, match="unknown marker scheme"):
        RelationClassifierConfig(encoder=encoder, marker_scheme="typed")


# ---------------------------------------------------------------- the model


def test_from_encoder_keeps_the_pretrained_encoder_and_a_fresh_head(plain):
    model, tok, markers = plain["model"], plain["tokenizer"], plain["markers"]
    config = model.config
    assert config.model_type == "segmix-relation"
    assert config.labels == plain["labels"]
    assert config.label2id == {r: i for i, r in enumerate(plain["labels"])}
    assert config.marker_scheme == "entity_marker" and config.markers == markers
    assert config.encoder is model.encoder.config  # one config: what runs is what is saved
    assert model.encoder.config._attn_implementation is not None

    emb = model.get_input_embeddings()
    assert emb is model.encoder.get_input_embeddings()
    assert emb.num_embeddings == len(tok) == config.encoder.vocab_size

    # post_init initialised only the head: every pretrained weight is as loaded
    pretrained = AutoModel.from_pretrained(resolve_model(None)).state_dict()
    ours = model.encoder.state_dict()
    assert set(ours) == set(pretrained)
    old_vocab = pretrained["embeddings.word_embeddings.weight"].shape[0]
    for key, value in pretrained.items():
        mine = ours[key][:old_vocab] if key == "embeddings.word_embeddings.weight" else ours[key]
        assert torch.equal(mine, value), key

    assert model.classifier.weight.shape == (len(plain["labels"]), 2 * config.encoder.hidden_size)
    assert torch.count_nonzero(model.classifier.bias) == 0
    assert model.classifier.weight.std().item() == pytest.approx(
        config.encoder.initializer_range, rel=0.2
    )


def test_from_encoder_needs_the_markers_in_the_tokenizer(relations):
    tok = load_tokenizer(None)
    with pytest.raises(ValueError, match="register_markers"):
        RelationClassifier.from_encoder(
            resolve_model(None), ["a", "b"], tok, markers=all_markers(relations, typed=False)
        )


def test_forward_logits_and_plain_cross_entropy(plain):
    model, batch = plain["model"], plain["batch"]
    out = model(**batch)
    assert out.logits.shape == (8, len(plain["labels"]))
    assert torch.allclose(out.logits, plain["logits"], atol=1e-6)
    assert torch.allclose(out.loss, F.cross_entropy(out.logits, batch["labels"]))
    assert model(**{k: v for k, v in batch.items() if k != "labels"}).loss is None
    with pytest.raises(ValueError, match="anchors"):
        model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])


def test_inputs_embeds_path_equals_input_ids_path(plain):
    model, batch = plain["model"], plain["batch"]
    embeds = model.get_input_embeddings()(batch["input_ids"])
    with torch.no_grad():
        via_embeds = model(
            inputs_embeds=embeds, attention_mask=batch["attention_mask"], anchors=batch["anchors"]
        ).logits
    assert torch.allclose(via_embeds, plain["logits"], atol=1e-6)


def test_save_pretrained_round_trip_restores_every_weight(plain):
    out, labels = plain["dir"], plain["labels"]
    assert (out / "model.safetensors").exists() and (out / "config.json").exists()

    config = AutoConfig.from_pretrained(out)
    assert isinstance(config, RelationClassifierConfig) and config.labels == labels

    reloaded, info = RelationClassifier.from_pretrained(out, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    assert not info["mismatched_keys"] and not info["error_msgs"]
    saved = plain["model"].state_dict()
    assert set(reloaded.state_dict()) == set(saved)
    for key, value in reloaded.state_dict().items():
        assert torch.equal(value, saved[key]), key
    assert torch.allclose(_logits(reloaded.eval(), plain["batch"]), plain["logits"], atol=1e-6)
    assert reloaded.config.encoder is reloaded.encoder.config

    auto = AutoModel.from_pretrained(out).eval()
    assert type(auto) is RelationClassifier
    assert torch.allclose(_logits(auto, plain["batch"]), plain["logits"], atol=1e-6)

    model, tok, got_labels, scheme = load_saved_relation_model(out)
    assert not model.training
    assert got_labels == labels and scheme == MarkerScheme("entity_marker")
    assert model.config.markers == plain["markers"]
    assert all(m in tok.get_vocab() for m in plain["markers"])
    # the saved tokenizer encodes the markers to the ids the model was trained with
    enc = plain["enc"][0]
    cache = SubwordCache(tok)
    register_markers(tok, cache, model.config.markers)
    assert cache.encode(enc.words).ids.tolist() == enc.ids.tolist()
    assert torch.allclose(_logits(model, plain["batch"]), plain["logits"], atol=1e-6)


def test_typed_scheme_round_trips(tmp_path):
    scheme = MarkerScheme.for_examples(TYPED)
    tok, cache, markers = _marked_tokenizer(TYPED, scheme)
    labels = relation_labels(TYPED)
    enc = encode_relations(TYPED, cache, {r: i for i, r in enumerate(labels)}, typed=scheme.typed)
    assert enc[0].words[0] == "[E1:PERSON]"
    model = load_relation_classifier(
        None, labels, tok, markers=markers, marker_scheme=scheme.name
    ).eval()
    assert model.config.typed and "[E2:CITY]" in model.config.markers
    batch = _batch(enc, cache.pad_id)
    logits = _logits(model, batch)

    model.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    reloaded, tok2, got_labels, got_scheme = load_saved_relation_model(tmp_path)
    assert got_scheme == scheme and got_scheme.typed and got_labels == labels
    assert reloaded.config.markers == markers
    assert torch.equal(_logits(reloaded, batch), logits)
    cache2 = SubwordCache(tok2)
    register_markers(tok2, cache2, reloaded.config.markers)
    again = encode_relations(TYPED, cache2, None, typed=got_scheme.typed)
    assert [e.ids.tolist() for e in again] == [e.ids.tolist() for e in enc]


def test_resizing_the_classifier_resizes_the_encoder(plain):
    model = RelationClassifier.from_pretrained(plain["dir"])
    n = model.config.encoder.vocab_size
    model.resize_token_embeddings(n + 8)
    assert model.get_input_embeddings().num_embeddings == n + 8
    assert model.encoder.config.vocab_size == model.config.encoder.vocab_size == n + 8
    assert "vocab_size" not in model.config.to_dict()  # not stranded on the wrapper config


def test_old_format_folder_gets_a_clear_error(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    (tmp_path / "relation_head.pt").write_bytes(b"")
    with pytest.raises(ValueError, match="old segmix relation format"):
        load_saved_relation_model(tmp_path)


def test_trainer_checkpoint_reloads(plain, tmp_path):
    from transformers import Trainer, TrainingArguments

    model = RelationClassifier.from_pretrained(plain["dir"])
    enc = plain["enc"][:4]
    pad_id = plain["cache"].pad_id
    args = TrainingArguments(
        output_dir=str(tmp_path),
        max_steps=1,
        per_device_train_batch_size=4,
        save_steps=1,
        report_to=[],
        use_cpu=True,
        remove_unused_columns=False,
        disable_tqdm=True,
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=enc,
        data_collator=lambda items: _batch(items, pad_id),
        processing_class=plain["tokenizer"],
    )
    trainer.train()
    checkpoint = tmp_path / "checkpoint-1"
    assert (checkpoint / "model.safetensors").exists()
    reloaded = AutoModel.from_pretrained(checkpoint)
    trained = model.state_dict()
    for key, value in reloaded.state_dict().items():
        assert torch.equal(value, trained[key].cpu()), key
    assert not torch.equal(trained["classifier.weight"], plain["model"].classifier.weight)


def test_relation_loss_runs_on_a_mixed_batch(marked):
    tok, cache, labels, enc = marked
    model = load_relation_classifier(None, labels, tok, markers=all_markers([], typed=False))
    mixes = RelationMix().fit(enc, labels, cache).generate(3, np.random.default_rng(1))
    originals = [
        MixedExample.original(e.ids, np.asarray([e.label]), anchors=e.anchors) for e in enc[:2]
    ]
    batch = MixCollator(cache.pad_id)(originals + mixes)
    assert batch["is_mixed"]
    loss, logits = segmix_loss(model, batch)
    assert logits.shape == (5, len(labels)) and torch.isfinite(loss)
    loss.backward()
    assert model.classifier.weight.grad is not None
    assert model.get_input_embeddings().weight.grad is not None


def test_mixed_forward_without_mixes_equals_the_plain_forward(plain):
    model, enc, pad_id = plain["model"], plain["enc"][:8], plain["cache"].pad_id
    batch = MixCollator(pad_id)(
        [MixedExample.original(e.ids, np.asarray([e.label]), anchors=e.anchors) for e in enc]
    )
    with torch.no_grad():
        logits = mixed_forward(model, batch, anchors=batch["anchors"]).logits
    assert torch.allclose(logits, plain["logits"], atol=1e-6)
