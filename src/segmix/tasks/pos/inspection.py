"""What ``segmix inspect`` needs to know of part-of-speech tagging: items are words.

POS tags are word labels without spans, so nothing here is a mention: before training, every
dev/test word is matched against the pool by its form, per gold tag
(:func:`segmix.inspect.coverage.word_coverage`), and a mix's tags need no IOB2 check. After
training, the gain is split by tag and by whether the word occurs in the training sentences —
the known/unknown-word split POS taggers are read by — and never by length (a word is one word).

Imported only by :func:`segmix.tasks.inspection_for`; nothing heavy is imported at module level.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from segmix.inspect.base import PairedPredictions
from segmix.tasks.tagging.inspection import TaggingInspection


class PosInspection(TaggingInspection):
    """POS tagging: the tagging pools (TMix, SMix, mixup, inter-LADA), word coverage, gains by
    tag and by seen word."""

    #: LwTR and SR (synonyms of the word's own part of speech): rules, no partner
    rule_methods: ClassVar[tuple[str, ...]] = ("lwtr", "sr")
    checks_spans: ClassVar[bool] = False
    labels_note: ClassVar[str] = (
        "- **Labels**: one tag per word, interpolated with λ; part-of-speech tags have no spans, "
        "so there is no sequence to check."
    )
    item: ClassVar[str] = "word"
    group: ClassVar[str] = "tag"
    score_name: ClassVar[str] = "accuracy"
    breakdown_titles: ClassVar[dict[str, tuple[str, str]]] = {
        "type": ("By part-of-speech tag", "tag"),
        "seen": ("By whether the word occurs in the training sentences", "words"),
    }
    breakdown_rules: ClassVar[dict[str, str]] = {
        "type": (
            "A word counts for its gold tag among the gold words and for the tag it was given "
            "among the predicted ones; a tag's F1 is its precision and recall over words, and "
            "its share of the overall gain is its extra correct words over all test words."
        ),
        "seen": (
            "A word is *seen* when its exact form occurs (with any tag) in the sentences this "
            "run trained on, else *unseen*. Its gold and predicted tags sit on the same word, so "
            "within a group precision equals recall and the F1 is the group's word accuracy."
        ),
    }
    seen_phrases: ClassVar[dict[str, str] | None] = {"seen": "seen in", "unseen": "absent from"}
    grid_coverage: ClassVar[str] = (
        "the share of its test words whose form occurs (with any tag) in the cell's training subset"
    )

    def metric_words(self, metric: str) -> str:
        return "word accuracy"

    # ---------------------------------------------------------------- before training

    def coverage(self, prep: Any, method: str, splits: dict[str, Sequence]) -> tuple[dict, Any]:
        from segmix.inspect.coverage import tagging_pool, word_coverage

        pool = tagging_pool(prep.augmenter, method, self.task.name)
        return word_coverage(pool, prep.encoded["train"], prep.data.labels, splits), pool

    def coverage_markdown(self, report: dict) -> list[str]:
        from segmix.inspect.report import word_coverage_md

        return word_coverage_md(report)

    def coverage_summary(self, coverage: dict) -> list[str]:
        from segmix.inspect.report import word_summary

        return word_summary(coverage)

    # ---------------------------------------------------------------- after training

    def training_forms(self, train: Sequence) -> tuple[frozenset, frozenset]:
        from segmix.inspect.gains import word_forms

        return word_forms(train)

    def breakdowns(self, paired: PairedPredictions) -> tuple[dict[str, list[dict]], int]:
        from segmix.inspect.gains import word_breakdowns

        return word_breakdowns(paired)

    def type_coverage(self, pool: Any) -> dict[str, dict[str, float | int]]:
        from segmix.inspect.gains import word_type_coverage

        return word_type_coverage(pool)
