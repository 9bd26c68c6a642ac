"""What ``segmix inspect`` needs to know of entity tagging: items are entity mentions.

Before training, a pool is read per entity type and a dev/test mention is matched against it by
its words and its head (last) word (:func:`segmix.inspect.coverage.mention_coverage`); the mixes'
IOB2 sequences are checked for well-formedness. After training, the gain is split by entity type,
mention length and whether the mention was seen in training (:mod:`segmix.inspect.gains`).

Imported only by :func:`segmix.tasks.inspection_for`; nothing heavy is imported at module level.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from segmix.inspect.base import Inspection, PairedPredictions


class TaggingInspection(Inspection):
    """Entity tagging: mention pools, mention coverage, gains by type, length and seen-ness."""

    #: Dai & Adel's rules and their union: each rewrites words or mentions by rule
    rule_methods: ClassVar[tuple[str, ...]] = ("lwtr", "sr", "mr", "sis", "rules")
    checks_spans: ClassVar[bool] = True
    item: ClassVar[str] = "mention"
    group: ClassVar[str] = "entity type"
    breakdown_titles: ClassVar[dict[str, tuple[str, str]]] = {
        "type": ("By entity type", "type"),
        "length": ("By mention length (words)", "length"),
        "seen": ("By whether the mention occurs in the training sentences", "mentions"),
    }
    breakdown_rules: ClassVar[dict[str, str]] = {
        "type": "A gold mention counts for its type, a predicted one for the type it was given.",
        "length": (
            "Every mention, gold or predicted, counts for the length of its own words; a correct "
            "prediction has the gold mention's words, so it counts where that mention does, and a "
            "wrong one (a wrong span or type) lowers the precision of its own length."
        ),
        "seen": (
            "A mention is *seen* when its exact words are a mention (of any type) in the "
            "sentences this run trained on, else *unseen*. Gold and predicted mentions are both "
            "grouped by their own words, so a correct prediction counts where its gold mention "
            "does and a wrong one lowers the precision of its own group."
        ),
    }
    seen_phrases: ClassVar[dict[str, str] | None] = {
        "seen": "seen as a mention in",
        "unseen": "absent from",
    }
    grid_coverage: ClassVar[str] = (
        "the share of its test mentions whose words occur as a mention in the cell's training "
        "subset"
    )

    def metric_words(self, metric: str) -> str:
        return "entity F1 (conlleval)"

    # ---------------------------------------------------------------- before training

    def coverage(self, prep: Any, method: str, splits: dict[str, Sequence]) -> tuple[dict, Any]:
        from segmix.inspect.coverage import mention_coverage, tagging_pool

        pool = tagging_pool(prep.augmenter, method, self.task.name)
        return mention_coverage(pool, prep.encoded["train"], prep.data.labels, splits), pool

    def coverage_markdown(self, report: dict) -> list[str]:
        from segmix.inspect.report import mention_coverage_md

        return mention_coverage_md(report)

    def coverage_summary(self, coverage: dict) -> list[str]:
        from segmix.inspect.report import mention_summary

        return mention_summary(coverage)

    def length_rows(self, coverage: dict) -> dict[str, dict]:
        from segmix.inspect.plots import type_length_rows

        return type_length_rows(coverage)

    def coverage_bars(self, coverage: dict) -> tuple[dict, list[int], str, str]:
        groups = coverage["types"]
        sizes = [row["pool"]["segments"] for row in groups.values()]
        return groups, sizes, "in_pool", f"{self.item}s in pool"

    # ---------------------------------------------------------------- after training

    def training_forms(self, train: Sequence) -> tuple[frozenset, frozenset]:
        from segmix.inspect.gains import mention_forms

        return mention_forms(train)

    def breakdowns(self, paired: PairedPredictions) -> tuple[dict[str, list[dict]], int]:
        from segmix.inspect.gains import mention_breakdowns

        return mention_breakdowns(paired)

    def type_coverage(self, pool: Any) -> dict[str, dict[str, float | int]]:
        from segmix.inspect.gains import mention_type_coverage

        return mention_type_coverage(pool)
