"""Tests for segmix.tasks.relations.metrics: the official SemEval-2010 Task 8 score and TACRED."""

from __future__ import annotations

from pathlib import Path

import pytest

from segmix.tasks.relations.data import read_answer_key
from segmix.tasks.relations.metrics import (
    SEMEVAL_LABELS,
    SEMEVAL_TYPES,
    accuracy,
    confusion_matrix,
    micro_f1_excluding,
    semeval_official_score,
    strip_direction,
)

SEMEVAL = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "semeval2010_task8"
KEY = SEMEVAL / "test_answer_keys.txt"

needs_data = pytest.mark.skipif(not KEY.exists(), reason=f"{KEY} not found")

CE12, CE21 = "Cause-Effect(e1,e2)", "Cause-Effect(e2,e1)"
CW12, CW21 = "Component-Whole(e1,e2)", "Component-Whole(e2,e1)"
MT12 = "Message-Topic(e1,e2)"
OTHER = "Other"


def test_label_constants() -> None:
    assert len(SEMEVAL_TYPES) == 9 and len(SEMEVAL_LABELS) == 19
    labels = SEMEVAL / "labels.txt"
    if labels.exists():
        assert set(SEMEVAL_LABELS) == set(labels.read_text(encoding="utf-8").split())
    assert strip_direction(CE21) == "Cause-Effect" and strip_direction(OTHER) == OTHER


@needs_data
def test_key_against_itself_is_perfect() -> None:
    gold = list(read_answer_key(KEY).values())
    score = semeval_official_score(gold, gold)
    assert score["macro_f1"] == 1.0
    assert score["macro_precision"] == score["macro_recall"] == 1.0
    assert score["micro_f1"] == 1.0 and score["accuracy"] == 1.0
    assert score["scored_types"] == list(SEMEVAL_TYPES)
    assert sum(t["support"] for t in score["per_type"].values()) == len(gold) - gold.count(OTHER)


@needs_data
def test_all_other_and_all_flipped_on_real_key() -> None:
    gold = list(read_answer_key(KEY).values())
    assert semeval_official_score(gold, [OTHER] * len(gold))["macro_f1"] == 0.0
    # Right type, wrong direction everywhere: nothing is correct for any relation type.
    flipped = [
        g
        if g == OTHER
        else g.replace("(e1,e2)", "(X)").replace("(e2,e1)", "(e1,e2)").replace("(X)", "(e2,e1)")
        for g in gold
    ]
    score = semeval_official_score(gold, flipped)
    assert score["macro_f1"] == 0.0
    assert score["accuracy"] == pytest.approx(gold.count(OTHER) / len(gold))
    assert all(t["wrong_direction"] == t["support"] for t in score["per_type"].values())


def test_hand_computed_example() -> None:
    #    gold   pred
    # 1  CE12   CE12   correct Cause-Effect
    # 2  CE12   CE21   wrong direction: Cause-Effect predicted, but not correct
    # 3  CE21   Other  miss (Cause-Effect gold, nothing predicted)
    # 4  CW12   CW12   correct Component-Whole
    # 5  Other  CW21   false positive Component-Whole
    # 6  Other  Other  correct Other (not scored)
    # 7  MT12   CE12   wrong type: Message-Topic missed, Cause-Effect false positive
    #
    # Cause-Effect:    correct 1, predicted 3 (#1 #2 #7), support 3 (#1 #2 #3)
    #                  P = 1/3, R = 1/3, F1 = 1/3
    # Component-Whole: correct 1, predicted 2 (#4 #5), support 1 (#4)
    #                  P = 1/2, R = 1, F1 = 2*(1/2)*1 / (3/2) = 2/3
    # Message-Topic:   correct 0, predicted 0, support 1: P = R = F1 = 0
    # Other 6 types: support 0 -> not scored (the scorer averages over key types only).
    # macro F1 = (1/3 + 2/3 + 0) / 3 = 1/3            (official score; 33.33% in the scorer)
    # macro P  = (1/3 + 1/2 + 0) / 3 = 5/18 = 0.2778  (27.78%)
    # macro R  = (1/3 + 1   + 0) / 3 = 4/9  = 0.4444  (44.44%)
    #   NB: F1 of macro P and macro R would be 2*(5/18)*(4/9)/(5/18+4/9) = 40/117 = 0.3419 —
    #   the scorer does NOT do that.
    # micro (excluding Other): correct 2, predicted 5, support 5 -> P = R = F1 = 0.4
    # accuracy: exact matches #1 #4 #6 -> 3/7
    # (These figures were also checked against a run of the Perl scorer's logic.)
    gold = [CE12, CE12, CE21, CW12, OTHER, OTHER, MT12]
    pred = [CE12, CE21, OTHER, CW12, CW21, OTHER, CE12]
    s = semeval_official_score(gold, pred)
    assert s["macro_f1"] == pytest.approx(1 / 3)
    assert s["macro_f1"] != pytest.approx(40 / 117)
    assert s["macro_precision"] == pytest.approx(5 / 18)
    assert s["macro_recall"] == pytest.approx(4 / 9)
    assert s["micro_precision"] == pytest.approx(0.4)
    assert s["micro_recall"] == pytest.approx(0.4)
    assert s["micro_f1"] == pytest.approx(0.4)
    assert s["accuracy"] == pytest.approx(3 / 7)
    assert s["scored_types"] == ["Cause-Effect", "Component-Whole", "Message-Topic"]
    ce = s["per_type"]["Cause-Effect"]
    assert (ce["correct"], ce["predicted"], ce["support"], ce["wrong_direction"]) == (1, 3, 3, 1)
    assert ce["precision"] == pytest.approx(1 / 3) and ce["recall"] == pytest.approx(1 / 3)
    cw = s["per_type"]["Component-Whole"]
    assert (cw["precision"], cw["recall"]) == (0.5, 1.0) and cw["f1"] == pytest.approx(2 / 3)
    mt = s["per_type"]["Message-Topic"]
    assert (mt["precision"], mt["recall"], mt["f1"], mt["support"]) == (0.0, 0.0, 0.0, 1)
    assert s["per_type"]["Entity-Origin"]["support"] == 0
    assert set(s["per_type"]) == set(SEMEVAL_TYPES)


def test_wrong_direction_lowers_precision_and_recall() -> None:
    gold = [CE12, CE12]
    right = semeval_official_score(gold, [CE12, OTHER])["per_type"]["Cause-Effect"]
    flipped = semeval_official_score(gold, [CE12, CE21])["per_type"]["Cause-Effect"]
    assert right["precision"] == 1.0 and right["recall"] == 0.5
    assert flipped["precision"] == 0.5 and flipped["recall"] == 0.5


def test_predicted_type_absent_from_gold_is_not_scored() -> None:
    # As in the scorer: a prediction of a type absent from the key counts like Other.
    s = semeval_official_score([CE12, OTHER], [CE12, MT12])
    assert s["scored_types"] == ["Cause-Effect"]
    assert s["macro_f1"] == 1.0
    assert s["per_type"]["Message-Topic"]["predicted"] == 1


def test_only_other_gold_scores_zero() -> None:
    s = semeval_official_score([OTHER, OTHER], [OTHER, CE12])
    assert s["scored_types"] == [] and s["macro_f1"] == 0.0 and s["accuracy"] == 0.5


def test_official_score_input_validation() -> None:
    with pytest.raises(ValueError, match="2 gold labels but 1 predictions"):
        semeval_official_score([OTHER, OTHER], [OTHER])
    with pytest.raises(ValueError, match="no examples"):
        semeval_official_score([], [])
    with pytest.raises(ValueError, match="not one of the 19"):
        semeval_official_score([OTHER], ["no_relation"])
    with pytest.raises(ValueError, match="not one of the 19"):
        semeval_official_score(["Cause-Effect"], [OTHER])


def test_micro_f1_excluding() -> None:
    gold = ["no_relation", "per:title", "per:title", "org:founded", "no_relation"]
    pred = ["per:title", "per:title", "no_relation", "org:members", "no_relation"]
    # correct 1 (#2); predicted non-negative 3 (#1 #2 #4); gold non-negative 3 (#2 #3 #4)
    m = micro_f1_excluding(gold, pred)
    assert (m["correct"], m["predicted"], m["gold"]) == (1, 3, 3)
    assert m["precision"] == pytest.approx(1 / 3)
    assert m["recall"] == pytest.approx(1 / 3)
    assert m["f1"] == pytest.approx(1 / 3)
    # TACRED scorer conventions: no guesses -> precision 1.0; no gold -> recall 0.0.
    none = micro_f1_excluding(["per:title"], ["no_relation"])
    assert (none["precision"], none["recall"], none["f1"]) == (1.0, 0.0, 0.0)
    other = micro_f1_excluding([OTHER, CE12], [CE12, CE12], negative_label=OTHER)
    assert other["precision"] == 0.5 and other["recall"] == 1.0
    with pytest.raises(ValueError):
        micro_f1_excluding(["a"], [])


def test_confusion_matrix_and_accuracy() -> None:
    labels = ["a", "b", "c"]
    gold = ["a", "a", "b", "c", "c", "c"]
    pred = ["a", "b", "b", "c", "a", "c"]
    assert confusion_matrix(gold, pred, labels) == [
        [1, 1, 0],
        [0, 1, 0],
        [1, 0, 2],
    ]
    assert accuracy(gold, pred) == pytest.approx(4 / 6)
    with pytest.raises(ValueError, match="not in labels"):
        confusion_matrix(["a"], ["z"], labels)
    with pytest.raises(ValueError, match="duplicate"):
        confusion_matrix(["a"], ["a"], ["a", "a"])
    with pytest.raises(ValueError):
        accuracy([], [])
    assert confusion_matrix([], [], labels) == [[0, 0, 0], [0, 0, 0], [0, 0, 0]]
