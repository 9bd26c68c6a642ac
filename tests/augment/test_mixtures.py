"""The paper's mixtures for tagging (``A+B``: SegMix variant A after rule B) on real CoNLL-2003
sentences: the rule's rewrite is what gets mixed, partners come from A's own pool as for a
training sentence, the arrays are aligned, params replay, the length guard holds, bad names fail
in one line, and a short run trains."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from segmix.augment import (
    MIXTURE_MIXERS,
    MIXTURE_RULES,
    REGISTRY,
    augmenter_class,
    make_augmenter,
    method_names,
)
from segmix.augment.mixtures import MIXTURES, MixtureParams, SegmentRuleMixture, tagged_example
from segmix.augment.pools import LabelSpace, segment_of
from segmix.augment.segments import MentionMix, SynonymMix, TokenMix
from segmix.config import ConfigError, TrainConfig
from segmix.encoding import IGNORE_INDEX
from segmix.mixing import pair_widths
from tests.conftest import LABELS, tiny_config

SPACE = LabelSpace(LABELS)

#: every variant A at least once, every rule B at least once
PAIRS = [
    ("mmix", "mr"),
    ("mmix", "lwtr"),
    ("tmix", "sr"),
    ("tmix", "sis"),
    ("smix", "rules"),
    ("smix", "lwtr"),
]


class Lexicon(dict):
    """A hand-made synonym lexicon (WordNet is an optional extra): word -> synonyms."""

    def words(self):
        return list(self)


def lexicon_for(examples) -> Lexicon:
    """Synonyms (some of several words) for the 30 most frequent words of the examples, and the
    first word of each of them that starts a mention."""
    counts: dict[str, int] = {}
    for ex in examples:
        for word in ex.words:
            counts[word] = counts.get(word, 0) + 1
    frequent = sorted(counts, key=lambda w: (-counts[w], w))[:30]
    names = [ex.words[s] for ex in examples for s, _ in ex.mentions][:10]
    return Lexicon(
        {
            word: ((f"syn{i}a",), (f"syn{i}b", "more")) if i % 2 else ((f"syn{i}",),)
            for i, word in enumerate(dict.fromkeys(frequent + names))
        }
    )


def fitted(name: str, examples, cache, **options) -> SegmentRuleMixture:
    """A fitted mixture; SMix and SR read the hand-made lexicon."""
    options.setdefault("lexicon", lexicon_for(examples))
    return make_augmenter(name, **options).fit(examples, LABELS, cache)


def draws(aug: SegmentRuleMixture, n: int, seed: int):
    """``n`` (params, mixture) pairs drawn one by one, as ``generate`` draws them."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        params = aug.sample_params(rng)
        if params is not None:
            out.append((params, aug.apply(params)))
    return out


def form(segment) -> list[int]:
    return [int(i) for piece in segment.pieces for i in piece]


def check_partner_from_the_pool(aug: SegmentRuleMixture, own, partner) -> None:
    """The partner is one A would draw for this segment of a training sentence."""
    mix = aug.mix
    assert form(partner) != form(own)  # never its own surface form
    if isinstance(mix, MentionMix):
        assert any(partner is s for s in mix.pool.segments)
        if mix.same_type:
            assert SPACE.type_of[int(partner.labels[0])] == SPACE.type_of[int(own.labels[0])]
    elif isinstance(mix, TokenMix):
        assert any(partner is s for s in mix.pool.segments)
        if mix.same_label:
            assert int(partner.labels[0]) == int(own.labels[0])
    else:
        assert isinstance(mix, SynonymMix)
        assert partner.words in mix.lexicon[own.words[0]]
        assert int(partner.labels[0]) == int(own.labels[0])


@pytest.mark.parametrize("mix, rule", PAIRS)
def test_mixtures_mix_the_rewritten_sentence_with_partners_from_the_pool(
    mix, rule, small_examples, cache
):
    aug = fitted(f"{mix}+{rule}", small_examples, cache)
    assert aug.name == f"{mix}+{rule}" and aug.n_eligible > 0
    for params, m in draws(aug, 60, seed=0):
        words, word_labels = aug.rule.new_sentence(params.rule)
        source = small_examples[params.source]
        # the rule really rewrote the sentence, and the mix is of the rewrite
        assert (words, word_labels.tolist()) != (source.words, source.word_labels.tolist())
        assert m.words == words and m.source == params.source == params.rule.source
        assert len(m) <= cache.max_length and len(params.spans) == 1
        new = cache.encode(words)
        (s, e), partner, lam = params.spans[0], params.partners[0], params.lams[0]
        own = segment_of(aug.rewrite(params.rule), s, e, SPACE)
        assert own.words == words[s:e] and (s, e) in aug.mix.candidate_spans(
            aug.rewrite(params.rule)
        )
        check_partner_from_the_pool(aug, own, partner)
        # outside the segment: the rewrite as it is, hard labels, weight 1
        p0 = int(new.word_starts[s])
        p1 = int(new.word_starts[e - 1] + new.word_lens[e - 1])
        widths = pair_widths([len(p) for p in own.pieces], [len(p) for p in partner.pieces])
        q1 = p0 + sum(widths)
        assert len(m) == len(new.ids) - (p1 - p0) + sum(widths)
        labels = np.full(len(new.ids), IGNORE_INDEX)
        labels[new.word_starts] = word_labels
        for side in ("ids_a", "ids_b"):
            np.testing.assert_array_equal(getattr(m, side)[:p0], new.ids[:p0])
            np.testing.assert_array_equal(getattr(m, side)[q1:], new.ids[p1:])
        for side in ("labels_a", "labels_b"):
            np.testing.assert_array_equal(getattr(m, side)[:p0], labels[:p0])
            np.testing.assert_array_equal(getattr(m, side)[q1:], labels[p1:])
        assert (m.weight[:p0] == 1).all() and (m.weight[q1:] == 1).all()
        # inside: the two segments aligned word by word, at weight λ
        np.testing.assert_allclose(m.weight[p0:q1], lam, rtol=1e-6)
        starts = p0 + np.concatenate(([0], np.cumsum(widths)[:-1]))
        for side, seg in (("ids_a", own), ("ids_b", partner)):
            ids = getattr(m, side)
            for j, piece in enumerate(seg.pieces):
                np.testing.assert_array_equal(ids[starts[j] : starts[j] + len(piece)], piece)
        # labels only on first sub-words, on both sides alike, and all of them valid
        for side in ("labels_a", "labels_b"):
            on = np.flatnonzero(getattr(m, side) != IGNORE_INDEX)
            expected = np.concatenate([new.word_starts[:s], starts, new.word_starts[e:] - p1 + q1])
            np.testing.assert_array_equal(on, expected)
            assert set(getattr(m, side)[on].tolist()) <= set(range(len(LABELS)))
        np.testing.assert_array_equal(m.labels_a[starts[: len(own)]], own.labels)
        np.testing.assert_array_equal(m.labels_b[starts[: len(partner)]], partner.labels)
        rec = m.mixes[0]
        assert (rec.start, rec.end, rec.words_a, rec.words_b) == (s, e, own.words, partner.words)


def test_every_part_combines(small_examples, cache):
    """Each of the 15 mixtures fits and mixes real sentences (k = 2 for two segments)."""
    lexicon = lexicon_for(small_examples)
    for a in MIXTURE_MIXERS:
        for b in MIXTURE_RULES:
            aug = make_augmenter(f"{a}+{b}", k=2, lexicon=lexicon).fit(
                small_examples, LABELS, cache
            )
            mixes = aug.generate(10, np.random.default_rng(1))
            assert len(mixes) == 10, f"{a}+{b}"
            assert all(m.words is not None and 1 <= len(m.mixes) <= 2 for m in mixes)
            assert all(
                r.end <= q.start for m in mixes for r, q in zip(m.mixes, m.mixes[1:], strict=False)
            )


def test_same_type_is_honoured_for_mmix_after_mr(small_examples, cache):
    aug = fitted("mmix+mr", small_examples, cache, same_type=True, p=0.5)
    assert aug.mix.same_type and aug.rule.p == 0.5
    for _, m in draws(aug, 150, seed=2):
        rec = m.mixes[0]
        assert SPACE.type_of[rec.labels_a[0]] == SPACE.type_of[rec.labels_b[0]]
        assert rec.words_a != rec.words_b
    # without it, other types are drawn too
    free = fitted("mmix+mr", small_examples, cache)
    assert any(
        SPACE.type_of[m.mixes[0].labels_a[0]] != SPACE.type_of[m.mixes[0].labels_b[0]]
        for m in free.generate(150, np.random.default_rng(2))
    )


def test_same_label_and_entities_only_are_honoured_for_tmix_after_lwtr(small_examples, cache):
    aug = fitted("tmix+lwtr", small_examples, cache, same_label=True, entities_only=True)
    for _, m in draws(aug, 150, seed=3):
        rec = m.mixes[0]
        assert rec.labels_a == rec.labels_b and LABELS[rec.labels_a[0]] != "O"


@pytest.mark.parametrize(
    "mix, options",
    [
        (MentionMix, {}),
        (MentionMix, {"same_type": True}),
        (TokenMix, {"same_label": True}),
        (TokenMix, {"entities_only": True}),
        (SynonymMix, {}),
    ],
)
def test_a_training_sentence_seen_from_outside_has_its_training_partners(
    mix, options, small_examples, cache
):
    """The foreign path, given a training sentence, finds the very tickets of the training
    path: the same group range and the same own-form block."""
    if mix is SynonymMix:
        options = {"lexicon": lexicon_for(small_examples)}
    aug = mix(**options).fit(small_examples, LABELS, cache)
    for c in range(len(aug._cand_ex)):
        ex = small_examples[int(aug._cand_ex[c])]
        span = (int(aug._cand_w0[c]), int(aug._cand_w1[c]))
        found = aug.foreign_partners(ex, span)
        assert found is not None
        assert (found.start, found.count, found.skip_lo, found.skip_n) == (
            aug._grp_start[c],
            aug._grp_count[c],
            aug._skip_lo[c],
            aug._skip_n[c],
        )
    # a copy of a sentence (not in the training set) draws the same partners from the same seed
    row = int(aug._cand_ex[0])
    ex = small_examples[row]
    copy = tagged_example(ex.words, ex.word_labels, cache, SPACE)
    span = (int(aug._cand_w0[0]), int(aug._cand_w1[0]))
    drawn = [aug.foreign_partners(copy, span).draw(np.random.default_rng(s)) for s in range(20)]
    rows = [aug.draw_partner_rows(np.random.default_rng(s), np.asarray([0]))[0] for s in range(20)]
    assert [p.words for p in drawn] == [aug._partners[r].words for r in rows]


def test_smix_draws_a_word_of_a_new_key_among_its_own_synonyms(small_examples, cache):
    """A word where no training sentence has it (here: moved to the start) takes its synonyms."""
    lexicon = lexicon_for(small_examples)
    aug = SynonymMix(lexicon=lexicon).fit(small_examples, LABELS, cache)
    word = next(w for w in lexicon if w.islower() and len(lexicon[w]) > 1)
    o = SPACE.o
    new = tagged_example((word, "x"), np.asarray([o, o]), cache, SPACE)
    assert (word, o, True) not in aug._group_of
    found = aug.foreign_partners(new, (0, 1))
    assert found is not None and found.free == len(lexicon[word])
    assert {found.draw(np.random.default_rng(s)).words for s in range(50)} == set(lexicon[word])


def test_params_replay_and_the_same_seed_gives_the_same_mixes(small_examples, cache):
    aug = fitted("mmix+rules", small_examples, cache, k=2)
    first = aug.generate(30, np.random.default_rng(7))
    again = aug.generate(30, np.random.default_rng(7))
    replay = draws(aug, 30, seed=7)
    assert len(first) == len(again) == 30
    for a, b, (params, c) in zip(first, again, replay, strict=True):
        assert isinstance(params, MixtureParams) and params.source == c.source
        rebuilt = aug.apply(params)
        for m in (b, c, rebuilt):
            for name in ("ids_a", "ids_b", "weight", "labels_a", "labels_b", "label_weight"):
                np.testing.assert_array_equal(getattr(a, name), getattr(m, name), err_msg=name)
            assert m.mixes == a.mixes and m.words == a.words
    other = aug.generate(30, np.random.default_rng(8))
    assert any(a.words != b.words for a, b in zip(first, other, strict=True))


@pytest.mark.parametrize("name", ["mmix+mr", "tmix+sis", "smix+sr"])
def test_generate_returns_n(name, small_examples, cache):
    aug = fitted(name, small_examples, cache)
    assert len(aug.generate(50, np.random.default_rng(0))) == 50
    assert aug.generate(0, np.random.default_rng(0)) == []


def test_the_length_guard_never_yields_an_over_long_mix(small_examples, cache):
    for name in ("mmix+mr", "tmix+sr"):
        aug = fitted(name, small_examples, cache)
        aug.max_length = max(len(ex.ids) for ex in small_examples)  # little room to grow
        mixes = aug.generate(100, np.random.default_rng(0))
        assert len(mixes) == 100 and all(len(m) <= aug.max_length for m in mixes)
        aug.max_length = 12  # tiny: only short sentences fit, some draws none at all
        mixes = aug.generate(20, np.random.default_rng(0))
        assert all(len(m) <= 12 for m in mixes)
        long = next(p for p, m in draws(fitted(name, small_examples, cache), 50, 0) if len(m) > 12)
        with pytest.raises(ValueError, match="over the model's limit of 12"):
            aug.apply(long)


def test_eligible_sentences_are_those_both_parts_can_use(small_examples, cache):
    aug = fitted("mmix+lwtr", small_examples, cache)
    assert set(aug._eligible.tolist()) == {i for i, ex in enumerate(small_examples) if ex.mentions}
    assert all(
        small_examples[m.source].mentions for m in aug.generate(50, np.random.default_rng(0))
    )
    none = fitted("mmix+lwtr", small_examples, cache, p=0.0)
    assert none.n_eligible == 0 and none.generate(5, np.random.default_rng(0)) == []


def test_options_go_to_the_part_that_takes_them(small_examples, cache):
    config = TrainConfig(augment="mmix+mr", same_type=True, p=0.4, k=2, alpha=4.0)
    options = config.augmenter_options()
    assert {"alpha", "k", "pad_label", "lambda_max", "same_type", "same_label", "p"} <= set(options)
    aug = make_augmenter("mmix+mr", **options).fit(small_examples, LABELS, cache)
    assert aug.describe() == {
        "name": "mmix+mr",
        "mix": {
            "name": "mmix",
            "alpha": 4.0,
            "lambda_max": False,
            "k": 2,
            "pad_label": "inside",
            "same_type": True,
        },
        "rule": {"name": "mr", "p": 0.4, "mr_draw": "texts"},
    }
    # SMix after SR reads one lexicon
    shared = fitted("smix+sr", small_examples, cache)
    assert shared.rule.lexicon is shared.mix.lexicon


def test_a_rules_own_options_reach_it_only_in_its_mixtures(small_examples, cache):
    """``mr_draw`` and ``lwtr_stop_words`` are options of the mixtures after MR, LwTR and rules
    only, so a run (and a grid cell) of ``mmix+sis`` neither records nor hashes them; the rule
    inside a mixture follows Dai & Adel by default (no stop word rewritten)."""
    from segmix.augment.rules import NLTK_ENGLISH_STOP_WORDS

    options = {m: set(TrainConfig(augment=m).augmenter_options()) for m in MIXTURES}
    assert all("rules_schedule" not in o for o in options.values())
    for name, own in options.items():
        rule = name.split("+")[1]
        assert ("mr_draw" in own) == (rule in ("mr", "rules")), name
        assert ("lwtr_stop_words" in own) == (rule in ("lwtr", "rules")), name
    assert make_augmenter("mmix+mr", mr_draw="mentions").rule.mr_draw == "mentions"
    earlier = make_augmenter("smix+rules", mr_draw="mentions", lwtr_stop_words="none")
    assert (earlier.rule.mr_draw, earlier.rule.lwtr_stop_words) == ("mentions", "none")
    assert make_augmenter("tmix+lwtr", lwtr_stop_words="none").rule.lwtr_stop_words == "none"
    with pytest.raises(TypeError, match="mmix\\+sis: unexpected option mr_draw"):
        make_augmenter("mmix+sis", mr_draw="texts")
    aug = fitted("tmix+lwtr", small_examples, cache)
    for params, _ in draws(aug, 40, 0):
        source = small_examples[params.source]
        for e in params.rule.edits:
            assert source.words[e.start].lower() not in NLTK_ENGLISH_STOP_WORDS
            assert e.words[0].lower() not in NLTK_ENGLISH_STOP_WORDS


def test_every_mixture_is_registered_after_the_single_methods():
    names = method_names("ner")
    mixtures = [f"{a}+{b}" for a in ("mmix", "tmix", "smix") for b in MIXTURE_RULES]
    assert list(names[-len(mixtures) :]) == mixtures
    assert all("+" not in n for n in names[: -len(mixtures)])
    for name in mixtures:
        cls = augmenter_class(name)
        assert cls.name == name and issubclass(cls, SegmentRuleMixture)
        assert TrainConfig(augment=name).augment == name
    assert REGISTRY["re"]["rmix+sr"].endswith(":RelationMixture")


def test_reading_the_registry_imports_neither_torch_nor_wordnet():
    code = (
        "import sys, segmix.config, segmix.augment as a; a.augmenter_class('smix+sr'); "
        "print('torch' in sys.modules, 'nltk' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


@pytest.mark.parametrize("name", ["sr+mmix", "mmix+mixup", "mmix+tmix", "mr+lwtr", "mmix+mr+sr"])
def test_a_name_that_is_no_mixture_fails_in_one_line(name):
    with pytest.raises(ConfigError) as config:
        TrainConfig(augment=name)
    with pytest.raises(ValueError) as registry:
        augmenter_class(name)
    for err in (config.value, registry.value):
        text = str(err)
        assert "\n" not in text and text.startswith(f"--augment: {name!r} is not a mixture")
        assert "do not combine" in text
        assert "A one of mmix, tmix, smix and B one of lwtr, sr, mr, sis, rules" in text
    assert ("did you mean mmix+sr?" in str(config.value)) == (name == "sr+mmix")
    # relations have their own methods; a plain unknown name keeps the plain message
    with pytest.raises(ConfigError, match="unknown augmentation 'mmix\\+sr' for --task re"):
        TrainConfig(task="re", augment="mmix+sr")
    with pytest.raises(ConfigError, match="unknown augmentation 'mixdown' for --task ner"):
        TrainConfig(augment="mixdown")


def test_a_mixture_renders_as_its_rewrite_with_the_segment_bracketed(small_examples, cache):
    from segmix.tasks.tagging.task import TaggingTask

    task = TaggingTask()
    aug = fitted("mmix+mr", small_examples, cache, k=2)
    for params, m in draws(aug, 20, seed=4):
        source = small_examples[m.source]
        words, word_labels = aug.rule.new_sentence(params.rule)
        tags = [LABELS[k] for k in word_labels]
        original, rewrite, mixed = task.render_mix(source, m, LABELS).split("\n")
        assert original == " ".join(source.words)
        shown = " ".join(w if t == "O" else f"{w}/{t}" for w, t in zip(words, tags, strict=True))
        assert rewrite == f"  → {shown}"
        assert mixed.startswith("  → ")
        for rec in m.mixes:
            assert f"[{' '.join(rec.words_a)}|{' '.join(rec.words_b)} @{rec.lam:.2f}]{{" in mixed
        record = task.mix_record(source, m, LABELS)
        assert record["tokens"] == list(source.words)
        assert record["new_tokens"] == list(words) and record["new_tags"] == tags
        for r in record["mixes"]:
            assert r["words_a"] == record["new_tokens"][r["start"] : r["end"]]
            assert r["labels_a"][: len(r["words_a"])] == tags[r["start"] : r["end"]]


def test_segmix_augment_shows_a_mixture(tiny_data, tmp_path):
    from click.testing import CliRunner

    from segmix.cli import app

    args = ["augment", "--train", tiny_data["train"], "--train-size", "50", "-n", "3"]
    result = CliRunner().invoke(app, [*args, "--augment", "tmix+lwtr"])
    assert result.exit_code == 0, result.output
    assert result.output.count("  → ") == 6 and result.output.count("@0.") >= 3
    result = CliRunner().invoke(app, [*args, "--augment", "lwtr+tmix"])
    assert result.exit_code == 2 and "is not a mixture" in result.output


def test_a_short_run_with_a_mixture_trains(tiny_data, tmp_path):
    from segmix.run import train

    out = tmp_path / "mixture"
    config = tiny_config(
        tiny_data, out, augment="mmix+mr", rate=0.5, max_steps=6, eval_every=3, save_model=False
    )
    metrics = train(config)
    losses = [h["train_loss"] for h in metrics["history"]]
    assert metrics["steps"] == 6 and metrics["mixes_per_epoch"] == 24
    assert len(losses) == 2 and all(np.isfinite(losses)) and losses[-1] < losses[0]
    assert json.loads((out / "metrics.json").read_text())["steps"] == 6
    written = json.loads((out / "config.json").read_text())
    assert written["augment"] == "mmix+mr"
    assert written["augmenter"]["mix"]["name"] == "mmix"
    assert written["augmenter"]["rule"] == {"name": "mr", "p": 0.3, "mr_draw": "texts"}
