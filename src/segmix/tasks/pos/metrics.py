"""Word accuracy, UD's part-of-speech metric, with each tag's precision, recall and F1 beside it.

Counted over syntactic words (a multiword token's parts each count), as the CoNLL 2018 shared
task's evaluation script counts UPOS and XPOS: a word is right when its tag equals the gold tag.
Written by hand because it is a count: no scorer library defines it differently.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any


def pos_scores(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict:
    """Accuracy over words (the headline, in [0, 1]), macro F1 over the gold tags, per-tag
    precision/recall/F1/support under ``per_type`` (the key the grid report reads per type)."""
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold sentences but {len(pred)} predicted ones")
    right, words = 0, 0
    tp: Counter[str] = Counter()
    n_pred: Counter[str] = Counter()
    n_gold: Counter[str] = Counter()
    for i, (g, p) in enumerate(zip(gold, pred, strict=True)):
        if len(g) != len(p):
            raise ValueError(f"sentence {i}: {len(g)} gold tags but {len(p)} predicted")
        for gt, pt in zip(g, p, strict=True):
            words += 1
            n_gold[gt] += 1
            n_pred[pt] += 1
            if gt == pt:
                right += 1
                tp[gt] += 1
    per_type = {}
    for tag in sorted(n_gold | n_pred):
        precision = tp[tag] / n_pred[tag] if n_pred[tag] else 0.0
        recall = tp[tag] / n_gold[tag] if n_gold[tag] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_type[tag] = {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "support": n_gold[tag],
        }
    gold_tags = [t for t in per_type if n_gold[t]]
    return {
        "accuracy": right / words if words else 0.0,
        "macro_f1": sum(per_type[t]["f1"] for t in gold_tags) / len(gold_tags)
        if gold_tags
        else 0.0,
        "per_type": per_type,
        "metric": "accuracy",
        "words": words,
        "sentences": len(gold),
    }


def pos_sentence_stats(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> Any:
    """Per-sentence, per-tag counts (correct, predicted, gold) for the grid report's bootstrap:
    summed over any resample, correct / gold over every tag is the word accuracy of
    :func:`pos_scores` (the score kind ``accuracy``), and each tag's counts its F1."""
    import numpy as np

    from segmix.experiment.stats import CORRECT, GOLD, PREDICTED, SufficientStats

    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold sentences but {len(pred)} predicted ones")
    tags = tuple(sorted({t for s in gold for t in s} | {t for s in pred for t in s}))
    index = {t: j for j, t in enumerate(tags)}
    counts = np.zeros((len(gold), len(tags), 3), dtype=np.int64)
    for i, (g, p) in enumerate(zip(gold, pred, strict=True)):
        if len(g) != len(p):
            raise ValueError(f"sentence {i}: {len(g)} gold tags but {len(p)} predicted")
        for gt, pt in zip(g, p, strict=True):
            counts[i, index[gt], GOLD] += 1
            counts[i, index[pt], PREDICTED] += 1
            if gt == pt:
                counts[i, index[gt], CORRECT] += 1
    return SufficientStats(counts, tags, "accuracy")
