"""Rule-based augmentations (Dai & Adel 2020) on real CoNLL-2003 sentences: LwTR, SR, MR, SiS and
their union keep words and tags aligned and IOB2 valid, change what they should and nothing else,
replay from their params, and train."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from segmix.augment import augmenter_class, make_augmenter
from segmix.augment.rules import (
    Edit,
    LabelwiseTokenReplacement,
    MentionReplacement,
    RuleParams,
    RuleUnion,
    ShuffleWithinSegments,
    SynonymReplacement,
)
from segmix.config import ConfigError, TrainConfig
from segmix.encoding import IGNORE_INDEX
from segmix.wordnet import WordNetUnavailable, wordnet_available

from .conftest import LABELS, tiny_config

NAMES = ["lwtr", "sr", "mr", "sis", "rules"]


class Lexicon(dict):
    """A hand-made synonym lexicon (WordNet is an optional extra)."""

    def words(self):
        return list(self)


def lexicon_for(examples) -> Lexicon:
    """Multi-word synonyms for a B- word, an I- word and two O words of the examples."""
    first = {}
    for ex in examples:
        for word, label in zip(ex.words, ex.word_labels, strict=True):
            first.setdefault(LABELS[label][0], word)
    return Lexicon(
        {
            first["B"]: (("Alpha", "Beta"), ("Gamma",)),
            first["I"]: (("Delta", "Epsilon", "Zeta"),),
            "said": (("stated",), ("put", "forward")),
            "the": (("this",),),
        }
    )


def fitted(name, examples, cache, **options):
    if name in ("sr", "rules"):
        options.setdefault("lexicon", lexicon_for(examples))
    return make_augmenter(name, **options).fit(examples, LABELS, cache)


def draws(aug, n, seed):
    """``n`` (params, new example) pairs drawn one by one."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        params = aug.sample_params(rng)
        if params is not None:
            out.append((params, aug.apply(params)))
    return out


def valid_iob2(tags) -> bool:
    """No ``I-X`` after ``O``, at the start, or after a word of another type."""
    previous = "O"
    for tag in tags:
        if tag.startswith("I-") and previous[2:] != tag[2:]:
            return False
        previous = tag
    return True


@pytest.mark.parametrize("name", NAMES)
def test_new_sentences_are_aligned_valid_and_changed(name, small_examples, cache):
    assert all(valid_iob2([LABELS[lb] for lb in ex.word_labels]) for ex in small_examples)
    aug = fitted(name, small_examples, cache)
    for params, m in draws(aug, 80, seed=0):
        words, labels = aug.new_sentence(params)
        source = small_examples[params.source]
        assert len(words) == len(labels)
        assert (words, labels.tolist()) != (source.words, source.word_labels.tolist())
        enc = cache.encode(words)
        np.testing.assert_array_equal(m.ids_a, enc.ids)
        np.testing.assert_array_equal(m.ids_b, m.ids_a)
        np.testing.assert_array_equal(np.flatnonzero(m.labels_a != IGNORE_INDEX), enc.word_starts)
        np.testing.assert_array_equal(m.labels_a[enc.word_starts], labels)
        np.testing.assert_array_equal(m.labels_b, m.labels_a)
        assert (m.weight == 1).all() and (m.label_weight == 1).all() and not m.mixes
        assert m.source == params.source and len(m) <= cache.max_length
        assert valid_iob2([LABELS[lb] for lb in labels]), (words, labels)
        assert all(e.words for e in params.edits)


@pytest.mark.parametrize("name", NAMES)
def test_generate_returns_n_and_replays_from_the_same_seed(name, small_examples, cache):
    aug = fitted(name, small_examples, cache)
    first = aug.generate(30, np.random.default_rng(7))
    again = aug.generate(30, np.random.default_rng(7))
    other = aug.generate(30, np.random.default_rng(8))
    assert len(first) == len(again) == 30
    # generate is sample_params + apply: the same draws from the same seed
    replay = [m for _, m in draws(aug, 30, seed=7)]
    for a, b, c in zip(first, again, replay, strict=True):
        np.testing.assert_array_equal(a.ids_a, b.ids_a)
        np.testing.assert_array_equal(a.labels_a, b.labels_a)
        np.testing.assert_array_equal(a.ids_a, c.ids_a)
        np.testing.assert_array_equal(a.labels_a, c.labels_a)
    assert any(not np.array_equal(a.ids_a, c.ids_a) for a, c in zip(first, other, strict=True))
    assert aug.describe()["name"] == name and aug.describe()["p"] == 0.3


def test_params_are_plain_records_that_replay(small_examples, cache):
    aug = fitted("mr", small_examples, cache)
    params, m = draws(aug, 1, seed=3)[0]
    record = json.loads(json.dumps(_as_json(params)))
    rebuilt = RuleParams(
        rule=record["rule"],
        source=record["source"],
        edits=tuple(
            Edit(e["start"], e["end"], tuple(e["words"]), tuple(e["labels"]))
            for e in record["edits"]
        ),
    )
    assert rebuilt == params
    np.testing.assert_array_equal(aug.apply(rebuilt).ids_a, m.ids_a)


def _as_json(params: RuleParams) -> dict:
    import dataclasses

    return dataclasses.asdict(params)


def test_lwtr_keeps_the_tag_sequence_and_draws_words_of_the_same_tag(small_examples, cache):
    aug = LabelwiseTokenReplacement(p=0.3).fit(small_examples, LABELS, cache)
    seen = {
        (w, int(lb))
        for ex in small_examples
        for w, lb in zip(ex.words, ex.word_labels, strict=True)
    }
    assert aug.n_eligible == len(small_examples)  # every sentence has a replaceable word
    for params, _ in draws(aug, 60, seed=1):
        _, labels = aug.new_sentence(params)
        source = small_examples[params.source]
        np.testing.assert_array_equal(labels, source.word_labels)
        for e in params.edits:
            assert e.end == e.start + 1 and e.labels == (int(source.word_labels[e.start]),)
            assert (e.words[0], e.labels[0]) in seen and e.words[0] != source.words[e.start]


def test_sr_keeps_the_type_and_tags_multiword_synonyms(small_examples, cache):
    lexicon = lexicon_for(small_examples)
    aug = SynonymReplacement(p=0.5, lexicon=lexicon).fit(small_examples, LABELS, cache)
    assert aug.n_eligible == sum(any(w in lexicon for w in ex.words) for ex in small_examples)
    kinds = set()
    rng = np.random.default_rng(2)
    pinned = [aug.sample_params(rng, source=i) for i in range(len(small_examples)) for _ in "abc"]
    for params in filter(None, pinned):
        source = small_examples[params.source]
        for e in params.edits:
            original = LABELS[source.word_labels[e.start]]
            assert e.end == e.start + 1 and e.words in lexicon[source.words[e.start]]
            tags = [LABELS[lb] for lb in e.labels]
            inside = "O" if original == "O" else f"I-{original[2:]}"
            assert tags == [original] + [inside] * (len(e.words) - 1)
            kinds.add((original[0], len(e.words) > 1))
    assert {("B", True), ("I", True), ("O", True), ("O", False)} <= kinds


@pytest.mark.skipif(not wordnet_available(), reason="WordNet is not installed")
def test_sr_with_wordnet_replaces_only_words_that_have_synonyms(small_examples, cache):
    aug = SynonymReplacement(p=0.3).fit(small_examples, LABELS, cache)
    for params, _ in draws(aug, 20, seed=5):
        source = small_examples[params.source]
        for e in params.edits:
            assert e.words in aug.lexicon[source.words[e.start]]
            assert e.labels[0] == source.word_labels[e.start]


def test_without_wordnet_sr_fails_like_smix_and_rules_leave_it_out(
    small_examples, cache, tmp_path, monkeypatch, caplog
):
    from segmix.augment.segments import SynonymMix

    monkeypatch.setenv("SEGMIX_WORDNET_DIR", str(tmp_path / "no-wordnet"))
    with pytest.raises(WordNetUnavailable) as smix:
        SynonymMix().fit(small_examples, LABELS, cache)
    with pytest.raises(WordNetUnavailable) as sr:
        SynonymReplacement().fit(small_examples, LABELS, cache)
    assert str(sr.value) == str(smix.value)
    with caplog.at_level("WARNING", logger="segmix.augment.rules"):
        union = RuleUnion().fit(small_examples, LABELS, cache)
    assert "leaving out sr" in caplog.text
    assert union.describe()["rules"] == ["lwtr", "mr", "sis"]
    assert len(union.generate(20, np.random.default_rng(0))) == 20


def test_mr_keeps_the_type_of_every_replaced_mention(small_examples, cache):
    aug = MentionReplacement(p=0.5).fit(small_examples, LABELS, cache)
    mentions = {
        (ex.words[s:e], LABELS[ex.word_labels[s]][2:])
        for ex in small_examples
        for s, e in ex.mentions
    }
    assert aug.n_eligible == sum(bool(ex.mentions) for ex in small_examples)
    lengths_changed = False
    for params, _ in draws(aug, 60, seed=3):
        source = small_examples[params.source]
        for e in params.edits:
            assert (e.start, e.end) in source.mentions
            typ = LABELS[source.word_labels[e.start]][2:]
            assert (e.words, typ) in mentions
            assert [LABELS[lb] for lb in e.labels] == [f"B-{typ}"] + [f"I-{typ}"] * (
                len(e.words) - 1
            )
            lengths_changed |= len(e.words) != e.end - e.start
    assert lengths_changed
    no_mention = next(i for i, ex in enumerate(small_examples) if not ex.mentions)
    assert aug.sample_params(np.random.default_rng(0), source=no_mention) is None


def test_sis_shuffles_inside_runs_and_keeps_the_tags(small_examples, cache):
    aug = ShuffleWithinSegments(p=0.5).fit(small_examples, LABELS, cache)
    ex = next(e for e in small_examples if len(e.mentions) >= 2)
    runs = aug.runs(ex)
    assert [j for s, e in runs for j in range(s, e)] == list(range(len(ex.words)))
    assert set(ex.mentions) <= set(runs)
    for params, _ in draws(aug, 60, seed=4):
        words, labels = aug.new_sentence(params)
        source = small_examples[params.source]
        np.testing.assert_array_equal(labels, source.word_labels)
        for s, e in aug.runs(source):
            assert Counter(words[s:e]) == Counter(source.words[s:e])
        for e in params.edits:
            assert (e.start, e.end) in aug.runs(source) and e.end - e.start >= 2


@pytest.mark.parametrize("name", NAMES)
def test_p_zero_changes_nothing(name, small_examples, cache):
    aug = fitted(name, small_examples, cache, p=0.0)
    # n_eligible counts the examples the rule can change at this p: none
    assert aug.n_eligible == 0
    assert aug.generate(10, np.random.default_rng(0)) == []
    assert aug.sample_params(np.random.default_rng(0)) is None
    assert aug.sample_params(np.random.default_rng(0), source=0) is None
    assert fitted(name, small_examples, cache, p=0.3).n_eligible > 0


def test_over_long_sentences_are_redrawn_never_truncated(small_examples, cache):
    for name in ("lwtr", "mr", "rules"):
        aug = fitted(name, small_examples, cache)
        aug.max_length = max(len(ex.ids) for ex in small_examples)  # little room to grow
        for rule in getattr(aug, "rules", []):
            rule.max_length = aug.max_length
        mixes = aug.generate(100, np.random.default_rng(0))
        assert mixes and all(len(m) <= aug.max_length for m in mixes)


def test_rules_uses_all_four(small_examples, cache):
    aug = fitted("rules", small_examples, cache)
    assert aug.describe() == {"name": "rules", "p": 0.3, "rules": ["lwtr", "sr", "mr", "sis"]}
    assert aug.n_eligible == len(small_examples)
    used = Counter(params.rule for params, _ in draws(aug, 200, seed=6))
    assert set(used) == {"lwtr", "sr", "mr", "sis"}
    # a rule that cannot change the sentence is skipped
    no_mention = next(i for i, ex in enumerate(small_examples) if not ex.mentions)
    rng = np.random.default_rng(0)
    picks = {aug.sample_params(rng, source=no_mention) for _ in range(40)} - {None}
    assert picks and all(p.rule != "mr" for p in picks)


def test_config_accepts_the_rules_and_checks_p():
    for name in NAMES:
        config = TrainConfig(augment=name, p=0.5)
        assert augmenter_class(name).__module__ == "segmix.augment.rules"
        assert config.augmenter_options() == {"p": 0.5}
    assert TrainConfig(augment="lwtr", p=0).p == 0.0 and TrainConfig(p=1).p == 1.0
    with pytest.raises(ConfigError) as info:
        TrainConfig(augment="lwtr", p=1.5)
    assert str(info.value) == "--p: 1.5 is not allowed; it must be between 0 and 1 (inclusive)"
    with pytest.raises(ValueError, match="p must be between 0 and 1"):
        LabelwiseTokenReplacement(p=-0.1)


def test_a_short_run_with_rules_trains(tiny_data, tmp_path):
    from segmix.run import train

    out = tmp_path / "rules"
    config = tiny_config(
        tiny_data, out, augment="rules", rate=0.5, max_steps=6, eval_every=3, save_model=False
    )
    metrics = train(config)
    losses = [h["train_loss"] for h in metrics["history"]]
    assert metrics["steps"] == 6 and metrics["mixes_per_epoch"] == 24
    assert len(losses) == 2 and losses[-1] < losses[0]
    written = json.loads((out / "config.json").read_text())
    assert written["p"] == 0.3
    assert written["augmenter"]["name"] == "rules" and written["augmenter"]["p"] == 0.3
