"""Entity-level NER scores: seqeval, strict IOB2 matching, micro P/R/F1 and per-type F1."""

from __future__ import annotations

from collections.abc import Sequence


def ner_scores(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict:
    """seqeval's strict entity-level scores (IOB2), as plain floats in [0, 1].

    Strict mode counts an entity only when its boundaries and type match exactly and it is well
    formed (an ``I-X`` after ``O`` is not an entity), the CoNLL evaluation's definition.
    """
    from seqeval.metrics import classification_report
    from seqeval.scheme import IOB2

    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold sentences but {len(pred)} predicted ones")
    for i, (g, p) in enumerate(zip(gold, pred, strict=True)):
        if len(g) != len(p):
            raise ValueError(f"sentence {i}: {len(g)} gold tags but {len(p)} predicted")
    gold_l, pred_l = [list(g) for g in gold], [list(p) for p in pred]
    report = classification_report(
        gold_l, pred_l, mode="strict", scheme=IOB2, output_dict=True, zero_division=0
    )
    micro = report.get(
        "micro avg", {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 0}
    )
    per_type = {
        name: {
            "precision": float(v["precision"]),
            "recall": float(v["recall"]),
            "f1": float(v["f1-score"]),
            "support": int(v["support"]),
        }
        for name, v in report.items()
        if not name.endswith(" avg")
    }
    return {
        "precision": float(micro["precision"]),
        "recall": float(micro["recall"]),
        "f1": float(micro["f1-score"]),
        "support": int(micro["support"]),
        "per_type": per_type,
        "sentences": len(gold_l),
    }
