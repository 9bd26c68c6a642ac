"""What ``segmix inspect`` needs to know of relation classification: items are examples.

Before training, the pool is every training example's head and tail argument, per relation, and
a dev/test argument is matched against it by its words
(:func:`segmix.inspect.coverage.argument_coverage`); a mix has one relation label, so there is
no label sequence to check. After training, the gain is split by relation type and by whether
the two arguments were seen in training — groups of examples, each scored with the run's metric
(:mod:`segmix.inspect.gains`).

Imported only by :func:`segmix.tasks.inspection_for`; nothing heavy is imported at module level.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from segmix.inspect.base import Inspection, PairedPredictions


class RelationInspection(Inspection):
    """Relations: argument pools, argument coverage, gains by relation and seen arguments."""

    #: synonym replacement outside the arguments: a rule, no partner
    rule_methods: ClassVar[tuple[str, ...]] = ("sr",)
    checks_spans: ClassVar[bool] = False
    labels_note: ClassVar[str] = (
        "- **Labels**: one relation label per example, interpolated with λ; no sequence to check."
    )
    item: ClassVar[str] = "example"
    group: ClassVar[str] = "relation"
    breakdown_titles: ClassVar[dict[str, tuple[str, str]]] = {
        "type": ("By relation type", "type"),
        "seen": ("By whether the arguments occur in the training examples", "arguments"),
    }
    breakdown_rules: ClassVar[dict[str, str]] = {
        "type": (
            "The official scorer's per-type counts: a wrong direction counts as a wrong "
            "prediction of the type."
        ),
        "seen": (
            "An example is grouped by its two arguments' words: *pair seen* — they were the two "
            "arguments of one training example; *both seen* — each was an argument of some "
            "training example; *one seen*; *neither seen*. Each group is scored with the run's "
            "metric on its own examples."
        ),
    }
    #: "seen" groups whole examples by their arguments, not items by their own words
    seen_phrases: ClassVar[dict[str, str] | None] = None
    grid_coverage: ClassVar[str] = (
        "the share of its test examples whose words occur as arguments in the cell's training "
        "subset"
    )

    def metric_words(self, metric: str) -> str:
        # the run's test scores name SemEval's official scorer as semeval2010_task8_official_…
        if "semeval" in metric:
            return "official SemEval-2010 Task 8 macro F1"
        return "relation score"

    # ---------------------------------------------------------------- before training

    def coverage(self, prep: Any, method: str, splits: dict[str, Sequence]) -> tuple[dict, Any]:
        from segmix.inspect.coverage import argument_coverage, argument_pool

        pool = argument_pool(prep.augmenter, method)
        return argument_coverage(pool, splits), pool

    def coverage_markdown(self, report: dict) -> list[str]:
        from segmix.inspect.report import argument_coverage_md

        return argument_coverage_md(report)

    def coverage_summary(self, coverage: dict) -> list[str]:
        from segmix.inspect.report import argument_summary

        return argument_summary(coverage)

    def length_rows(self, coverage: dict) -> dict[str, dict]:
        return {"arguments": coverage["pool"]["arguments"]["words"]["histogram"]}

    def coverage_bars(self, coverage: dict) -> tuple[dict, list[int], str, str]:
        groups = coverage["relations"]
        sizes = [row["pool"]["pairs"] for row in groups.values()]
        return groups, sizes, "head_in_pool", "heads in pool"

    # ---------------------------------------------------------------- after training

    def training_forms(self, train: Sequence) -> tuple[frozenset, frozenset]:
        from segmix.inspect.gains import argument_forms

        return argument_forms(train)

    def breakdowns(self, paired: PairedPredictions) -> tuple[dict[str, list[dict]], int]:
        from segmix.inspect.gains import argument_breakdowns

        return argument_breakdowns(paired)

    def type_coverage(self, pool: Any) -> dict[str, dict[str, float | int]]:
        from segmix.inspect.gains import argument_type_coverage

        return argument_type_coverage(pool)
