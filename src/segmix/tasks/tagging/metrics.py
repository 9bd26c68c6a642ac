"""Entity-level NER scores: the CoNLL scorer's definition as the headline, strict IOB2 beside it.

The headline (``precision``/``recall``/``f1``, ``per_type``) is what ``conlleval.pl`` — the
CoNLL-2000/2003 shared tasks' scorer, which published results use — computes: an ``I-X`` after
``O`` or after a tag of another type starts an entity. seqeval's default mode reproduces it
(``tests/tasks/tagging/test_metrics.py`` checks it against a transcription of the Perl
script). The strict
figure (seqeval ``mode="strict"``, IOB2: such an ``I-X`` is no entity at all) is kept under
``strict``, by its own name.
"""

from __future__ import annotations

from collections.abc import Sequence

HEADLINE = "conlleval_micro_f1"


def _report(gold: list[list[str]], pred: list[list[str]], *, strict: bool) -> dict:
    from seqeval.metrics import classification_report
    from seqeval.scheme import IOB2

    kwargs = {"mode": "strict", "scheme": IOB2} if strict else {}
    report = classification_report(gold, pred, output_dict=True, zero_division=0, **kwargs)
    micro = report.get(
        "micro avg", {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 0}
    )
    return {
        "precision": float(micro["precision"]),
        "recall": float(micro["recall"]),
        "f1": float(micro["f1-score"]),
        "support": int(micro["support"]),
        "per_type": {
            name: {
                "precision": float(v["precision"]),
                "recall": float(v["recall"]),
                "f1": float(v["f1-score"]),
                "support": int(v["support"]),
            }
            for name, v in report.items()
            if not name.endswith(" avg")
        },
    }


def ner_scores(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict:
    """Entity-level micro P/R/F1 and per-type scores, as plain floats in [0, 1].

    Headline: conlleval's definition. ``strict``: seqeval strict IOB2 (well-formed entities
    only). Tags are IOB2 (segmix reads every scheme into IOB2).
    """
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold sentences but {len(pred)} predicted ones")
    for i, (g, p) in enumerate(zip(gold, pred, strict=True)):
        if len(g) != len(p):
            raise ValueError(f"sentence {i}: {len(g)} gold tags but {len(p)} predicted")
    gold_l, pred_l = [list(g) for g in gold], [list(p) for p in pred]
    scores = _report(gold_l, pred_l, strict=False)
    strict = _report(gold_l, pred_l, strict=True)
    return {
        **scores,
        "metric": HEADLINE,
        "strict": {k: strict[k] for k in ("precision", "recall", "f1", "per_type")},
        "sentences": len(gold_l),
    }
