"""Synonym replacement for relations: context words change, arguments and markers never do."""

from __future__ import annotations

import numpy as np
import pytest

from segmix.config import TrainConfig
from tests.conftest import SEMEVAL

pytest.importorskip("nltk", reason="NLTK is the optional extra segmix[wordnet]")


@pytest.fixture(scope="module")
def prepared():
    from segmix.run import prepare
    from segmix.wordnet import wordnet_available

    if not SEMEVAL.exists() or not wordnet_available():
        pytest.skip("SemEval data or WordNet not available")
    config = TrainConfig(
        task="re", train_file=str(SEMEVAL / "train.tsv"), train_size=40, augment="sr", p=0.5
    )
    return prepare(config, evaluation=False)


def test_sr_keeps_arguments_markers_and_label(prepared):
    aug, train = prepared.augmenter, prepared.encoded["train"]
    tokenizer = prepared.tokenizer
    e1, e2 = tokenizer.convert_tokens_to_ids("[E1]"), tokenizer.convert_tokens_to_ids("[E2]")
    mixes = aug.generate(30, np.random.default_rng(0))
    assert len(mixes) == 30
    for m in mixes:
        ex = train[m.source]
        assert m.labels_a.tolist() == [ex.label] and not m.is_mixed
        assert m.ids_a[m.anchors[0]] == e1 and m.ids_a[m.anchors[1]] == e2
        new = list(m.words)
        assert new != list(ex.words)
        for span in (ex.head, ex.tail):  # the argument with its markers, unchanged
            original = list(ex.words[span[0] - 1 : span[1] + 1])
            text = " ".join(new)
            assert " ".join(original) in text


def test_p_zero_changes_nothing(prepared):
    from segmix.augment.relation_rules import RelationSynonymReplacement

    aug = RelationSynonymReplacement(p=0.0).fit(
        prepared.encoded["train"], prepared.data.labels, prepared.cache
    )
    assert aug.n_eligible == 0 and aug.generate(5, np.random.default_rng(0)) == []


def test_a_short_relation_run_with_sr_learns(tmp_path):
    from segmix.run import train

    root = tmp_path / "data"
    root.mkdir()
    lines = (SEMEVAL / "test.tsv").read_text().splitlines()[:40]
    (root / "test.tsv").write_text("\n".join(lines) + "\n")
    metrics = train(
        TrainConfig(
            task="re",
            train_file=str(SEMEVAL / "train.tsv"),
            test_file=str(root / "test.tsv"),
            train_size=48,
            dev_size=40,
            augment="sr",
            rate=0.5,
            max_steps=12,
            eval_every=6,
            batch_size=8,
            lr=3e-4,
            save_model=False,
            progress=False,
            output_dir=str(tmp_path / "run"),
        )
    )
    losses = [h["train_loss"] for h in metrics["history"]]
    assert metrics["mixes_per_epoch"] == 24 and losses[-1] < losses[0]


def test_rmix_after_sr_mixes_the_arguments_of_the_rewritten_sentence(prepared):
    from segmix.augment import make_augmenter

    aug = make_augmenter("rmix+sr", "re", p=0.5).fit(
        prepared.encoded["train"], prepared.data.labels, prepared.cache
    )
    e1 = prepared.tokenizer.convert_tokens_to_ids("[E1]")
    e2 = prepared.tokenizer.convert_tokens_to_ids("[E2]")
    mixes = aug.generate(20, np.random.default_rng(1))
    assert len(mixes) == 20
    for m in mixes:
        source = prepared.encoded["train"][m.source]
        assert m.is_mixed and len(m.mixes) == 2  # head and tail
        assert m.ids_a[m.anchors[0]] == e1 and m.ids_a[m.anchors[1]] == e2
        assert m.words != source.words  # the context was rewritten
        head, tail = m.mixes
        assert head.words_a == source.words[source.head[0] : source.head[1]]
        assert tail.words_a == source.words[source.tail[0] : source.tail[1]]
        assert m.labels_a.tolist() == [source.label]
        assert 0 < m.label_weight[0] < 1
