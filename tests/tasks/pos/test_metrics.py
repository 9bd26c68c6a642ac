"""Word accuracy and per-tag F1 against hand-counted values; the bootstrap's counts agree."""

from __future__ import annotations

import numpy as np
import pytest

from segmix.tasks.pos.metrics import pos_scores, pos_sentence_stats

GOLD = [["DET", "NOUN", "VERB"], ["PRON", "VERB", "ADV", "PUNCT"]]
PRED = [["DET", "VERB", "VERB"], ["PRON", "VERB", "ADJ", "PUNCT"]]


def test_accuracy_and_per_tag_scores_by_hand():
    s = pos_scores(GOLD, PRED)
    assert s["accuracy"] == pytest.approx(5 / 7) and s["words"] == 7
    # VERB: 2 right of 3 predicted, 2 gold -> P 2/3, R 1, F1 0.8
    assert s["per_type"]["VERB"]["f1"] == pytest.approx(0.8)
    assert s["per_type"]["NOUN"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert s["per_type"]["ADJ"]["support"] == 0  # predicted only: not in the macro average
    # gold tags DET NOUN VERB PRON ADV PUNCT: F1 1, 0, 0.8, 1, 0, 1
    assert s["macro_f1"] == pytest.approx(3.8 / 6)


def test_sentence_counts_sum_to_the_accuracy_on_any_resample():
    stats = pos_sentence_stats(GOLD, PRED)
    assert stats.score() == pytest.approx(5 / 7)
    weights = np.array([[2.0, 0.0], [0.0, 1.0]])  # sentence 1 twice; sentence 2 alone
    assert stats.score(weights) == pytest.approx([4 / 6, 3 / 4])
    assert stats.per_type_f1()["VERB"] == pytest.approx(0.8)


def test_lengths_must_match():
    with pytest.raises(ValueError, match="sentence 1: 4 gold tags but 3 predicted"):
        pos_scores(GOLD, [PRED[0], PRED[1][:3]])
