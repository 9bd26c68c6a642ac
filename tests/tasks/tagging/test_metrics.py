"""Entity-level scores: hand-counted values, and the headline equal to conlleval.pl's."""

from __future__ import annotations

import numpy as np
import pytest

from segmix.tasks.tagging.metrics import ner_scores


def test_scores_by_hand_headline_and_strict():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O", "B-MISC", "I-MISC"]]
    pred = [["B-PER", "I-PER", "O", "B-ORG"], ["I-ORG", "O", "B-MISC", "O"]]
    # gold entities: PER(0-2) LOC(3) ORG(0) MISC(2-4) = 4
    # conlleval: the I-ORG after nothing starts an entity -> predicted PER, ORG(3), ORG(0),
    # MISC(2-3) = 4; correct PER and ORG(0) = 2
    s = ner_scores(gold, pred)
    assert s["metric"] == "conlleval_micro_f1"
    assert s["precision"] == pytest.approx(2 / 4)
    assert s["recall"] == pytest.approx(2 / 4)
    assert s["f1"] == pytest.approx(0.5)
    assert s["per_type"]["ORG"]["precision"] == pytest.approx(1 / 2)
    assert s["per_type"]["LOC"]["recall"] == 0.0
    assert s["support"] == 4
    # strict IOB2: that I-ORG is no entity -> predicted 3, correct PER only
    strict = s["strict"]
    assert strict["precision"] == pytest.approx(1 / 3)
    assert strict["recall"] == pytest.approx(1 / 4)
    assert strict["f1"] == pytest.approx(2 * (1 / 3) * (1 / 4) / (1 / 3 + 1 / 4))


def test_type_change_inside_a_mention_by_hand():
    # B-PER I-LOC: conlleval reads PER(0) and LOC(1), two entities, neither the gold PER(0-2)
    s = ner_scores([["B-PER", "I-PER"]], [["B-PER", "I-LOC"]])
    assert (s["precision"], s["recall"], s["f1"]) == (0.0, 0.0, 0.0)
    # O I-X I-X: one entity X(1-3) for conlleval, none for strict
    s = ner_scores([["O", "B-LOC", "I-LOC"]], [["O", "I-LOC", "I-LOC"]])
    assert s["f1"] == 1.0 and s["strict"]["f1"] == 0.0


def conlleval_counts(gold: list[list[str]], pred: list[list[str]]) -> tuple[int, int, int]:
    """(correct, guessed, gold) chunks, transcribed line by line from conlleval.pl (v2004)'s
    main loop and its startOfChunk/endOfChunk, for IOB tags."""

    def split(tag):
        return ("O", "") if tag == "O" else (tag[0], tag[2:])

    def end_of_chunk(prev_tag, tag, prev_type, typ):
        end = False
        if prev_tag == "B" and tag == "B":
            end = True
        if prev_tag == "B" and tag == "O":
            end = True
        if prev_tag == "I" and tag == "B":
            end = True
        if prev_tag == "I" and tag == "O":
            end = True
        if prev_tag != "O" and prev_tag != "." and prev_type != typ:
            end = True
        return end

    def start_of_chunk(prev_tag, tag, prev_type, typ):
        start = False
        if prev_tag == "B" and tag == "B":
            start = True
        if prev_tag == "I" and tag == "B":
            start = True
        if prev_tag == "O" and tag == "B":
            start = True
        if prev_tag == "O" and tag == "I":
            start = True
        if tag != "O" and tag != "." and prev_type != typ:
            start = True
        return start

    correct = guessed = found = 0
    for g_sent, p_sent in zip(gold, pred, strict=True):
        in_correct = False
        last_c, last_g = ("O", ""), ("O", "")
        last_ct = last_gt = ""
        for g, p in [*zip(g_sent, p_sent, strict=True), ("O", "O")]:  # sentence end = O
            c_tag, c_type = split(g)
            g_tag, g_type = split(p)
            if in_correct:
                c_end = end_of_chunk(last_c[0], c_tag, last_ct, c_type)
                g_end = end_of_chunk(last_g[0], g_tag, last_gt, g_type)
                if c_end and g_end and last_gt == last_ct:
                    in_correct = False
                    correct += 1
                elif c_end != g_end or g_type != c_type:
                    in_correct = False
            c_start = start_of_chunk(last_c[0], c_tag, last_ct, c_type)
            g_start = start_of_chunk(last_g[0], g_tag, last_gt, g_type)
            if c_start and g_start and g_type == c_type:
                in_correct = True
            if c_start:
                found += 1
            if g_start:
                guessed += 1
            last_c, last_g, last_ct, last_gt = (c_tag, c_type), (g_tag, g_type), c_type, g_type
    return correct, guessed, found


def test_headline_equals_conlleval_on_random_tag_sequences():
    """Ill-formed sequences included (I-X after O, type changes inside a mention)."""
    rng = np.random.default_rng(0)
    tags = ["O", "O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC", "I-ORG", "B-ORG"]
    for _ in range(200):
        n = int(rng.integers(1, 8))
        gold = [[str(t) for t in rng.choice(tags, size=int(rng.integers(1, 12)))] for _ in range(n)]
        pred = [[str(t) for t in rng.choice(tags, size=len(g))] for g in gold]
        correct, guessed, found = conlleval_counts(gold, pred)
        s = ner_scores(gold, pred)
        precision = correct / guessed if guessed else 0.0
        recall = correct / found if found else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        assert s["precision"] == pytest.approx(precision)
        assert s["recall"] == pytest.approx(recall)
        assert s["f1"] == pytest.approx(f1)


def test_length_mismatch_is_reported():
    with pytest.raises(ValueError, match="sentence 0: 2 gold tags but 1 predicted"):
        ner_scores([["O", "O"]], [["O"]])
