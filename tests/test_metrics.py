"""Entity-level scores against hand-counted values."""

from __future__ import annotations

import pytest

from segmix.metrics import ner_scores


def test_strict_entity_scores_by_hand():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O", "B-MISC", "I-MISC"]]
    pred = [["B-PER", "I-PER", "O", "B-ORG"], ["I-ORG", "O", "B-MISC", "O"]]
    # gold entities: PER(0-2) LOC(3) ORG(0) MISC(2-4) = 4; predicted: PER, ORG(3), MISC(2-3) = 3
    # (strict IOB2: the I-ORG after nothing is not an entity); correct: PER only
    s = ner_scores(gold, pred)
    assert s["precision"] == pytest.approx(1 / 3)
    assert s["recall"] == pytest.approx(1 / 4)
    assert s["f1"] == pytest.approx(2 * (1 / 3) * (1 / 4) / (1 / 3 + 1 / 4))
    assert s["per_type"]["PER"]["f1"] == 1.0
    assert s["per_type"]["LOC"]["recall"] == 0.0
    assert s["support"] == 4


def test_length_mismatch_is_reported():
    with pytest.raises(ValueError, match="sentence 0: 2 gold tags but 1 predicted"):
        ner_scores([["O", "O"]], [["O"]])
