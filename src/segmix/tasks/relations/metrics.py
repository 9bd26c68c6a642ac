"""Relation-classification metrics: the official SemEval-2010 Task 8 score and TACRED micro-F1.

All scores are fractions in [0, 1] (the official Perl scorer prints percentages; multiply by
100 to compare with it).

The official SemEval-2010 Task 8 score (``semeval2010_task8_scorer-v1.2.pl``, evaluation
"(iii) (9+1)-way classification with directionality taken into account") is reproduced
exactly, for predictions covering every key id:

* Labels are reduced to their type by stripping ``(e1,e2)`` / ``(e2,e1)``; ``Other`` is the
  tenth class and never scored.
* For each relation type ``R`` that occurs in the **gold** labels:

  - ``correct``  = examples with prediction == gold exactly (type *and* direction), gold type R;
  - ``wrong_direction`` = examples whose gold type is R and predicted type is R but the
    direction differs;
  - ``predicted`` = predictions of type R (either direction) — this includes the
    wrong-direction ones, which the scorer counts in its ``xDIRx`` column and adds back to the
    precision denominator; so a wrong direction lowers both precision and recall of R;
  - ``P = correct / predicted`` (0 when nothing is predicted as R),
    ``R = correct / support`` with ``support`` = gold examples of type R,
    ``F1 = 2PR / (P + R)`` (0 when ``P + R == 0``).

* ``macro_f1`` (the official score) = the **mean of the per-type F1**, over the relation
  types present in the gold labels (all 9 on the full test set). It is *not* the F1 of
  macro-P and macro-R. ``macro_precision`` / ``macro_recall`` are the means of the per-type
  P / R over the same types, as the scorer prints them.
* ``micro_*``: the scorer's micro-average excluding Other: summed ``correct`` over summed
  ``predicted`` / ``support``.
* ``accuracy``: exact-match accuracy over all examples, Other included (the scorer's
  "Accuracy (calculated for the above confusion matrix)").

As in the scorer, predictions of a type that never occurs in the gold labels are not scored
(they count like ``Other``), and labels other than the 19 official ones are rejected.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

__all__ = [
    "SEMEVAL_LABELS",
    "SEMEVAL_OTHER",
    "SEMEVAL_TYPES",
    "accuracy",
    "confusion_matrix",
    "micro_f1_excluding",
    "semeval_official_score",
    "strip_direction",
]

SEMEVAL_OTHER = "Other"

#: The 9 relation types of SemEval-2010 Task 8, in the scorer's (alphabetical) order.
SEMEVAL_TYPES: tuple[str, ...] = (
    "Cause-Effect",
    "Component-Whole",
    "Content-Container",
    "Entity-Destination",
    "Entity-Origin",
    "Instrument-Agency",
    "Member-Collection",
    "Message-Topic",
    "Product-Producer",
)

#: The 19 official labels: ``Other`` and each type in both directions.
SEMEVAL_LABELS: tuple[str, ...] = (
    SEMEVAL_OTHER,
    *(f"{t}({d})" for t in SEMEVAL_TYPES for d in ("e1,e2", "e2,e1")),
)

_DIRECTION_RE = re.compile(r"\(e[12],e[12]\)$")


def strip_direction(label: str) -> str:
    """``'Cause-Effect(e2,e1)'`` -> ``'Cause-Effect'``; labels without a direction unchanged."""
    return _DIRECTION_RE.sub("", label)


def _check_pair(gold: Sequence[str], pred: Sequence[str]) -> None:
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold labels but {len(pred)} predictions")


def _div(num: float, den: float) -> float:
    return num / den if den else 0.0


def accuracy(gold: Sequence[str], pred: Sequence[str]) -> float:
    """Fraction of exact matches. Raises :class:`ValueError` on empty or unequal inputs."""
    _check_pair(gold, pred)
    if not gold:
        raise ValueError("no examples to score")
    return sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold)


def semeval_official_score(gold: Sequence[str], pred: Sequence[str]) -> dict:
    """The official SemEval-2010 Task 8 score, as ``semeval2010_task8_scorer-v1.2.pl`` computes it.

    See the module docstring for the exact definition. Returns::

        {"macro_f1", "macro_precision", "macro_recall",          # the official line
         "micro_f1", "micro_precision", "micro_recall",          # excluding Other
         "accuracy",                                             # exact match, Other included
         "scored_types": [types present in gold, averaged over],
         "per_type": {type: {"precision", "recall", "f1", "support",
                             "correct", "predicted", "wrong_direction"}}}

    ``per_type`` lists all 9 types; those with ``support == 0`` are not in ``scored_types``
    and do not enter the averages. All values are fractions in [0, 1]. If the gold labels
    contain no relation type at all (only ``Other``) the averages are 0.
    """
    _check_pair(gold, pred)
    if not gold:
        raise ValueError("no examples to score")
    allowed = set(SEMEVAL_LABELS)
    for what, labels in (("gold", gold), ("predicted", pred)):
        for i, label in enumerate(labels):
            if label not in allowed:
                raise ValueError(
                    f"{what} label {label!r} at position {i} is not one of the 19 official "
                    "SemEval-2010 Task 8 labels"
                )

    correct: Counter[str] = Counter()
    wrong_dir: Counter[str] = Counter()
    predicted: Counter[str] = Counter()
    support: Counter[str] = Counter()
    for g, p in zip(gold, pred, strict=True):
        gt, pt = strip_direction(g), strip_direction(p)
        support[gt] += 1
        predicted[pt] += 1
        if g == p:
            correct[gt] += 1
        elif gt == pt:
            wrong_dir[gt] += 1

    per_type: dict[str, dict[str, float | int]] = {}
    scored: list[str] = []
    for t in SEMEVAL_TYPES:
        p = _div(correct[t], predicted[t])
        r = _div(correct[t], support[t])
        f1 = _div(2 * p * r, p + r)
        per_type[t] = {
            "precision": p,
            "recall": r,
            "f1": f1,
            "support": support[t],
            "correct": correct[t],
            "predicted": predicted[t],
            "wrong_direction": wrong_dir[t],
        }
        if support[t]:
            scored.append(t)

    n = len(scored)
    macro_p = _div(sum(per_type[t]["precision"] for t in scored), n)
    macro_r = _div(sum(per_type[t]["recall"] for t in scored), n)
    macro_f1 = _div(sum(per_type[t]["f1"] for t in scored), n)

    micro_correct = sum(correct[t] for t in scored)
    micro_p = _div(micro_correct, sum(predicted[t] for t in scored))
    micro_r = _div(micro_correct, sum(support[t] for t in scored))
    micro_f1 = _div(2 * micro_p * micro_r, micro_p + micro_r)

    return {
        "macro_f1": macro_f1,
        "macro_precision": macro_p,
        "macro_recall": macro_r,
        "micro_f1": micro_f1,
        "micro_precision": micro_p,
        "micro_recall": micro_r,
        "accuracy": accuracy(gold, pred),
        "scored_types": scored,
        "per_type": per_type,
    }


def micro_f1_excluding(
    gold: Sequence[str], pred: Sequence[str], negative_label: str = "no_relation"
) -> dict:
    """TACRED-style micro P/R/F1 ignoring ``negative_label`` (as the TACRED ``scorer.py``).

    ``correct`` = exact matches whose gold is not negative; ``predicted`` = non-negative
    predictions; ``gold`` = non-negative gold labels. As in the TACRED scorer, precision is
    1.0 when nothing non-negative is predicted and recall 0.0 when no gold is non-negative.
    Returns ``{"precision", "recall", "f1", "correct", "predicted", "gold"}``.
    """
    _check_pair(gold, pred)
    n_correct = sum(g == p and g != negative_label for g, p in zip(gold, pred, strict=True))
    n_pred = sum(p != negative_label for p in pred)
    n_gold = sum(g != negative_label for g in gold)
    precision = n_correct / n_pred if n_pred else 1.0
    recall = n_correct / n_gold if n_gold else 0.0
    f1 = _div(2 * precision * recall, precision + recall)
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "correct": n_correct,
        "predicted": n_pred,
        "gold": n_gold,
    }


def confusion_matrix(
    gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]
) -> list[list[int]]:
    """Counts ``m[i][j]`` of examples with gold ``labels[i]`` predicted as ``labels[j]``.

    Raises :class:`ValueError` for a label not in ``labels`` or duplicated in ``labels``.
    """
    _check_pair(gold, pred)
    index = {label: i for i, label in enumerate(labels)}
    if len(index) != len(labels):
        raise ValueError("duplicate label in labels")
    matrix = [[0] * len(labels) for _ in labels]
    for k, (g, p) in enumerate(zip(gold, pred, strict=True)):
        for what, label in (("gold", g), ("predicted", p)):
            if label not in index:
                raise ValueError(f"{what} label {label!r} at position {k} not in labels")
        matrix[index[g]][index[p]] += 1
    return matrix
