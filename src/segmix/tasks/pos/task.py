"""Part-of-speech tagging: CoNLL-U files, the tagging model, word accuracy."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from segmix.runs import write_jsonl
from segmix.tasks.tagging.task import TaggingTask

logger = logging.getLogger(__name__)


class PosTask(TaggingTask):
    """POS tagging as word labelling: a tag on each word's first sub-word, as NER's, but no
    spans; the segment methods that need none run on it (TMix, SMix with synonyms of the word's
    own part of speech, LwTR, SR, whole-sequence mixup, LADA)."""

    name: ClassVar[str] = "pos"
    spans: ClassVar[bool] = False  # word labels: no mentions, whatever a tag looks like
    title: ClassVar[str] = "POS tagging"
    metric: ClassVar[str] = "accuracy"
    score_unit: ClassVar[str] = "accuracy points"
    suffixes: ClassVar[tuple[str, ...]] = (".conllu",)
    default_data: ClassVar[str] = "../shared/data/ud_english_ewt"
    inspection: ClassVar[str] = "segmix.tasks.pos.inspection:PosInspection"
    options: ClassVar[frozenset[str]] = frozenset(
        {"k", "same_label", "lada_mode", "lada_pads", "lada_schedule", "mix_layer",
         "lwtr_stop_words", "tag_column"}
    )  # fmt: skip
    methods: ClassVar[dict[str, str]] = {
        "tmix": "segmix.augment.segments:TokenMix",
        "smix": "segmix.tasks.pos.synonyms:PosSynonymMix",
        "lwtr": "segmix.augment.rules:LabelwiseTokenReplacement",
        "sr": "segmix.tasks.pos.synonyms:PosSynonymReplacement",
        "mixup": "segmix.augment.sequence:SequenceMixup",
        "lada": "segmix.augment.hidden:LayerMix",
    }
    #: methods of other tasks that need spans: refused with the reason
    refused: ClassVar[dict[str, str]] = {
        "mmix": "MMix mixes entity mentions",
        "mr": "MR replaces entity mentions",
        "sis": "SiS shuffles within entity mentions and runs of O",
        "rules": "the rules' union includes MR and SiS",
        "seqmix": "SeqMix's windows start on entity tags",
    }

    def reader_options(self, config: Any) -> dict:
        return {"column": config.tag_column}

    def read(self, path: Path, **options: Any) -> list[Any]:
        from segmix.tasks.pos.conllu import read_conllu

        return read_conllu(path, column=options.get("column", "upos"))

    def labels(self, train: Sequence[Any]) -> list[str]:
        return sorted({t for s in train for t in s.tags})

    def check(self, examples: Sequence[Any], labels: Sequence[str], *, source: str) -> None:
        """A tag the training file lacks can be scored but never predicted: say where."""
        known = set(labels)
        first: dict[str, Any] = {}
        for s in examples:
            for tag in s.tags:
                if tag not in known and tag not in first:
                    first[tag] = s.line
        for tag, line in first.items():
            logger.warning(
                "%s:%s: tag %r does not occur in the training file; the model cannot predict it, "
                "so its words count as errors",
                source,
                line if line is not None else "?",
                tag,
            )

    def score(self, gold: Sequence[Any], pred: Sequence[Any], labels: Sequence[str]) -> dict:
        from segmix.tasks.pos.metrics import pos_scores

        return pos_scores(gold, pred)

    def example_stats(self, gold: Sequence[Any], pred: Sequence[Any], test_scores: dict) -> Any:
        from segmix.tasks.pos.metrics import pos_sentence_stats

        return pos_sentence_stats(gold, pred)

    def metric_title(self, metric: str) -> str:
        return "word accuracy"

    def score_columns(self, scores: dict) -> list[tuple[str, float]]:
        return [("accuracy", float(scores["accuracy"])), ("macro F1", float(scores["macro_f1"]))]

    def headline(self, scores: dict) -> str:
        return f"accuracy {scores['accuracy']:.4f}  macro F1 {scores['macro_f1']:.4f}"

    def write_tagged(
        self, target: str, sentences: Sequence[Any], tags: Sequence[Sequence[str]], **options: Any
    ) -> None:
        """CoNLL-U, every line as read with the tag column replaced (``--format jsonl``:
        tokens and tags a line)."""
        from segmix.tasks.pos.conllu import UDSentence, write_conllu

        if options.get("fmt") == "jsonl":
            write_jsonl(
                target,
                (
                    {"tokens": list(s.tokens), "tags": list(t)}
                    for s, t in zip(sentences, tags, strict=True)
                ),
            )
            return
        uds = [
            s if isinstance(s, UDSentence) else UDSentence(s.tokens, t, i)
            for i, (s, t) in enumerate(zip(sentences, tags, strict=True))
        ]
        write_conllu(target, uds, tags, column=options.get("column", "upos"))
