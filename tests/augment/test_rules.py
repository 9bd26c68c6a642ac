"""Rule-based augmentations (Dai & Adel 2020) on real CoNLL-2003 sentences: LwTR, SR, MR, SiS and
their union keep words and tags aligned and IOB2 valid, change what they should and nothing else,
replay from their params, and train; on hand-made sentences, they do what Dai & Adel's code does
(LwTR leaves NLTK's stop words alone, MR draws over distinct texts, ``rules_schedule: each``
makes one sentence per rule per original)."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from segmix.augment import augmenter_class, make_augmenter
from segmix.augment.rules import (
    NLTK_ENGLISH_STOP_WORDS,
    Edit,
    LabelwiseTokenReplacement,
    MentionReplacement,
    RuleParams,
    RuleUnion,
    ShuffleWithinSegments,
    SynonymReplacement,
    apportion,
)
from segmix.config import ConfigError, TrainConfig
from segmix.encoding import IGNORE_INDEX
from segmix.tasks.tagging.data import NerSentence
from segmix.tasks.tagging.encoding import encode_tagged
from segmix.wordnet import WordNetUnavailable, wordnet_available
from tests.conftest import LABELS, tiny_config

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


def hand_made(cache, *sentences: str):
    """Encoded sentences written as ``word/TAG`` pairs (``O`` when no tag is given)."""
    parsed = []
    for i, text in enumerate(sentences):
        pairs = [item.rsplit("/", 1) if "/" in item else (item, "O") for item in text.split()]
        words, tags = zip(*pairs, strict=True)
        parsed.append(NerSentence(words, tags, i))
    return encode_tagged(parsed, cache, {lb: i for i, lb in enumerate(LABELS)})


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
            assert source.words[e.start].lower() not in NLTK_ENGLISH_STOP_WORDS
            assert e.words[0].lower() not in NLTK_ENGLISH_STOP_WORDS


def test_lwtr_never_replaces_nor_draws_a_stop_word(cache):
    """Dai & Adel's LwTR skips ``token.text.lower() in STOPWORDS`` (NLTK's English list) both
    when it builds the pool of each tag and when it replaces: ``the`` is never replaced and
    ``of`` never inserted, even with p = 1. ``lwtr_stop_words="none"`` is segmix's earlier
    LwTR, which did both."""
    examples = hand_made(
        cache,
        "The talks of the EU/B-ORG resumed",
        "a report on Germany/B-LOC said nothing",
        "THE minister of finance left Paris/B-LOC",
    )
    stop = {"the", "of", "a", "on"}
    assert {w.lower() for ex in examples for w in ex.words} & NLTK_ENGLISH_STOP_WORDS == stop
    lwtr = LabelwiseTokenReplacement(p=1.0).fit(examples, LABELS, cache)
    assert lwtr.units(examples[0]) == [(1, 2), (5, 6)]  # talks, resumed: not The, of, the
    assert "of" not in lwtr._pool[0] and "The" not in lwtr._pool[0]
    replaced, inserted = Counter(), Counter()
    for params, _ in draws(lwtr, 300, seed=0):
        for e in params.edits:
            replaced[examples[params.source].words[e.start]] += 1
            inserted[e.words[0]] += 1
    assert replaced and not {w.lower() for w in replaced | inserted} & stop
    content = {w for ex in examples for w in ex.words if w.lower() not in stop}
    assert set(inserted) <= content - {"EU"}  # the only ORG word cannot change
    assert lwtr.describe()["lwtr_stop_words"] == "nltk"

    earlier = LabelwiseTokenReplacement(p=1.0, lwtr_stop_words="none").fit(examples, LABELS, cache)
    old = Counter(
        w for params, _ in draws(earlier, 300, seed=0) for e in params.edits for w in e.words
    )
    assert {"the", "of", "a", "on"} <= {w.lower() for w in old}
    with pytest.raises(ValueError, match="lwtr_stop_words must be one of nltk, none"):
        LabelwiseTokenReplacement(lwtr_stop_words="english")


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


def test_mr_draws_over_distinct_mention_texts(cache):
    """Dai & Adel's ``get_category2mentions`` keys each type's mentions by their text, so with
    PER mentions John, John, John and Mary, Mary is drawn half of the time, not a quarter
    (``mr_draw="mentions"``, segmix's earlier MR)."""
    examples = hand_made(
        cache,
        "John/B-PER said so",
        "John/B-PER left early",
        "later John/B-PER won",
        "Mary/B-PER came home",
    )
    draws_of_mary = {}
    for mode in ("texts", "mentions"):
        mr = MentionReplacement(p=1.0, mr_draw=mode).fit(examples, LABELS, cache)
        rng = np.random.default_rng(0)
        drawn = Counter(mr.edit(rng, examples[0], (0, 1)).words for _ in range(4000))
        assert set(drawn) == {("John",), ("Mary",)}
        draws_of_mary[mode] = drawn[("Mary",)] / 4000
        assert mr.describe()["mr_draw"] == mode
    assert abs(draws_of_mary["texts"] - 0.5) < 0.03
    assert abs(draws_of_mary["mentions"] - 0.25) < 0.03
    # a changed sentence of John's is always Mary's, whichever the draw
    mr = MentionReplacement(p=1.0).fit(examples, LABELS, cache)
    assert {params.edits[0].words for params, _ in draws(mr, 20, seed=1) if params.source < 3} == {
        ("Mary",)
    }
    with pytest.raises(ValueError, match="mr_draw must be one of texts, mentions"):
        MentionReplacement(mr_draw="unique")


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
    assert aug.describe() == {
        "name": "rules",
        "p": 0.3,
        "rules_schedule": "draw",
        "lwtr_stop_words": "nltk",
        "mr_draw": "texts",
        "rules": ["lwtr", "sr", "mr", "sis"],
    }
    assert [r.lwtr_stop_words for r in aug.rules if r.name == "lwtr"] == ["nltk"]
    assert [r.mr_draw for r in aug.rules if r.name == "mr"] == ["texts"]
    assert aug.n_eligible == len(small_examples)
    used = Counter(params.rule for params, _ in draws(aug, 200, seed=6))
    assert set(used) == {"lwtr", "sr", "mr", "sis"}
    # a rule that cannot change the sentence is skipped
    no_mention = next(i for i, ex in enumerate(small_examples) if not ex.mentions)
    rng = np.random.default_rng(0)
    picks = {aug.sample_params(rng, source=no_mention) for _ in range(40)} - {None}
    assert picks and all(p.rule != "mr" for p in picks)


def rules_cell(cache):
    """Three sentences each of the four rules can change (a non-stop word whose tag has other
    words, a word of the lexicon, a PER mention among three texts, a run of distinct words)."""
    examples = hand_made(
        cache,
        "John/B-PER said the report was late",
        "Mary/B-PER wrote a long report",
        "Ann/B-PER Lee/I-PER said nothing new",
    )
    lexicon = Lexicon({"said": (("stated",),), "report": (("account",),), "wrote": (("penned",),)})
    return examples, lexicon


def test_rules_each_schedule_makes_one_sentence_per_rule_per_original(cache):
    """Dai & Adel's "all" (``train.py``'s ``train_epoch``): every epoch, every original gets one
    new sentence from each rule. ``rules_schedule: each`` at rate 1 does that, and the dataset
    serves them all; ``draw`` makes rate × |train|, one rule per sentence."""
    from segmix.engine import SegMixDataset

    examples, lexicon = rules_cell(cache)
    aug = RuleUnion(p=0.5, lexicon=lexicon, rules_schedule="each").fit(examples, LABELS, cache)
    assert [rule.n_eligible for rule in aug.rules] == [3, 3, 3, 3]
    assert aug.mixes_per_epoch(1.0, len(examples)) == 12
    params = aug.sample_each(12, np.random.default_rng(0))
    pairs = Counter((p.rule, p.source) for p in params)
    assert pairs == {(rule, i): 1 for rule in ("lwtr", "sr", "mr", "sis") for i in range(3)}
    again = aug.generate(12, np.random.default_rng(0))
    assert [m.source for m in again] == [p.source for p in params]

    dataset = SegMixDataset(examples, aug, rate=1.0, seed=3)
    assert dataset.n_mix == 12 and len(dataset) == 3 + 12
    for epoch in (0, 1):
        assert Counter(m.source for m in dataset.mixes(epoch)) == {0: 4, 1: 4, 2: 4}
    # at rate 0.5 each rule sweeps over half its originals (rounded over the rules: 6 in all)
    assert aug.mixes_per_epoch(0.5, len(examples)) == 6
    half = Counter(p.rule for p in aug.sample_each(6, np.random.default_rng(1)))
    assert sorted(half.values()) == [1, 1, 2, 2]

    drawn = RuleUnion(p=0.5, lexicon=lexicon).fit(examples, LABELS, cache)
    assert drawn.rules_schedule == "draw" and drawn.mixes_per_epoch(1.0, len(examples)) == 3
    assert SegMixDataset(examples, drawn, rate=1.0).n_mix == 3


def test_each_schedule_of_one_rule_sweeps_its_originals(small_examples, cache):
    """A single rule with ``each``: every original it can change once per ``rate`` 1, before
    any twice (Dai & Adel's single-rule runs: one new sentence per original per epoch)."""
    mr = MentionReplacement(rules_schedule="each").fit(small_examples, LABELS, cache)
    n = mr.mixes_per_epoch(1.0, len(small_examples))
    assert n == mr.n_eligible < len(small_examples)
    sources = [p.source for p in mr.sample_each(n, np.random.default_rng(0))]
    assert sorted(sources) == sorted(mr._eligible.tolist())
    twice = Counter(p.source for p in mr.sample_each(2 * n, np.random.default_rng(0)))
    assert set(twice.values()) == {2}
    assert apportion(7, [3, 3, 1]) == [3, 3, 1] and apportion(2, [1, 1, 1]) == [1, 1, 0]


def test_config_accepts_the_rules_and_checks_p():
    own = {"lwtr": {"lwtr_stop_words"}, "mr": {"mr_draw"}, "rules": {"lwtr_stop_words", "mr_draw"}}
    for name in NAMES:
        config = TrainConfig(augment=name, p=0.5)
        assert augmenter_class(name).__module__ == "segmix.augment.rules"
        assert set(config.augmenter_options()) == {"p", "rules_schedule"} | own.get(name, set())
        assert config.augmenter_options()["p"] == 0.5
    assert TrainConfig(augment="lwtr", p=0).p == 0.0 and TrainConfig(p=1).p == 1.0
    with pytest.raises(ConfigError) as info:
        TrainConfig(augment="lwtr", p=1.5)
    assert str(info.value) == "--p: 1.5 is not allowed; it must be between 0 and 1 (inclusive)"
    with pytest.raises(ValueError, match="p must be between 0 and 1"):
        LabelwiseTokenReplacement(p=-0.1)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"rules_schedule": "all"}, "--rules-schedule: 'all' is not allowed; choose draw or each"),
        ({"lwtr_stop_words": "en"}, "--lwtr-stop-words: 'en' is not allowed; choose nltk or none"),
        ({"mr_draw": "unique"}, "--mr-draw: 'unique' is not allowed; choose texts or mentions"),
        (
            {"augment": "mmix+rules", "rules_schedule": "each"},
            "--rules-schedule each applies to the rule-based methods (lwtr, sr, mr, sis or "
            "rules) only, not to --augment mmix+rules",
        ),
        (
            {"task": "re", "augment": "sr", "rules_schedule": "each"},
            "--rules-schedule each applies to tagging (--task ner) only",
        ),
    ],
)
def test_config_checks_the_rule_options_in_one_line(options, message):
    with pytest.raises(ConfigError) as info:
        TrainConfig(**{"augment": "rules", **options})
    assert str(info.value) == message
    config = TrainConfig(augment="rules", rules_schedule="each", mr_draw="mentions")
    assert config.augmenter_options()["rules_schedule"] == "each"
    assert config.augmenter_options()["mr_draw"] == "mentions"
    assert make_augmenter("rules", **config.augmenter_options()).rules_schedule == "each"


def test_rule_options_rename_only_the_cells_whose_method_changed(conll):
    """A cell's id hashes the new options only where they change what it computes: default
    lwtr, mr, rules and their mixtures (Dai & Adel's stop words and draw) get new ids; every
    other method, and the earlier behaviour asked for by name, keep theirs."""
    from segmix.experiment.cells import cell_identity

    def hashed(**options):
        config = TrainConfig(data_dir=str(conll), train_size=20, **options)
        keys = {"lwtr_stop_words", "mr_draw", "rules_schedule"}
        return {k: v for k, v in cell_identity(config)["config"].items() if k in keys}

    for method in ("none", "mmix", "sr", "sis", "smix+sis", "tmix+sr"):
        assert hashed(augment=method) == {}
    assert hashed(augment="lwtr") == {"lwtr_stop_words": "nltk"}
    assert hashed(augment="mr") == {"mr_draw": "texts"}
    assert hashed(augment="mmix+mr") == {"mr_draw": "texts"}
    assert hashed(augment="rules") == {"lwtr_stop_words": "nltk", "mr_draw": "texts"}
    assert hashed(augment="rules", rules_schedule="each")["rules_schedule"] == "each"
    assert hashed(augment="lwtr", lwtr_stop_words="none") == {}
    assert hashed(augment="mmix+mr", mr_draw="mentions") == {}
    assert hashed(augment="rules", lwtr_stop_words="none", mr_draw="mentions") == {}


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
