"""Relation classification: marked sentences, a marker-pooling classifier, official scores.

SemEval-2010 Task 8 (TSV or the original format) and TACRED JSON are read; the classifier reads
the encoder's states at the two start markers (:mod:`segmix.tasks.relations.model`). Scores
follow the label set: SemEval's official macro F1, TACRED's micro F1 without ``no_relation``,
else accuracy.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from segmix.runs import write_jsonl
from segmix.tasks.base import Task

logger = logging.getLogger(__name__)


def id_start(path: Path | None) -> int:
    """SemEval test files are numbered from 8001, the official key's numbering."""
    from segmix.tasks.relations.data import SEMEVAL_TEST_ID_START

    return SEMEVAL_TEST_ID_START if path is not None and Path(path).stem == "test" else 0


def relation_scores(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> dict:
    """The official metric of the label set, with the selection score under ``"f1"``.

    SemEval-2010 Task 8 labels: the official macro F1 (9 types, direction counted, ``Other``
    excluded). Labels with ``no_relation``: TACRED micro F1 without it. Otherwise accuracy.
    """
    from segmix.tasks.relations.metrics import (
        SEMEVAL_LABELS,
        accuracy,
        confusion_matrix,
        micro_f1_excluding,
        semeval_official_score,
    )

    if set(labels) <= set(SEMEVAL_LABELS):
        scores = semeval_official_score(gold, pred)
        scores["f1"] = scores["macro_f1"]
        scores["metric"] = "semeval2010_task8_official_macro_f1"
    elif "no_relation" in labels:
        scores = micro_f1_excluding(gold, pred, "no_relation")
        scores["accuracy"] = accuracy(gold, pred)
        scores["metric"] = "micro_f1_excluding_no_relation"
    else:
        acc = accuracy(gold, pred)
        scores = {"f1": acc, "accuracy": acc, "metric": "accuracy"}
    scores["labels"] = list(labels)
    scores["confusion_matrix"] = confusion_matrix(gold, pred, labels)
    return scores


def check_semeval_labels(examples: Sequence[Any], path: Path) -> None:
    """A file in SemEval-2010 Task 8's inventory may not hold a label outside it.

    A misspelt ``Cause-Efect(e1,e2)`` would otherwise become a class of its own and silently
    change the official metric (which is then no longer computable). A file counts as SemEval's
    when at least two of its labels are SemEval labels; TACRED-style or custom label sets are
    left alone.
    """
    from segmix.datafiles import DataFormatError
    from segmix.tasks.relations.metrics import SEMEVAL_LABELS

    official = set(SEMEVAL_LABELS)
    labels = {ex.relation for ex in examples}
    if len(labels & official) < 2:
        return
    for ex in examples:
        if ex.relation not in official:
            raise DataFormatError(
                path,
                getattr(ex, "line", None),
                f"relation {ex.relation!r} is not one of the 19 SemEval-2010 Task 8 labels "
                "(Type(e1,e2), Type(e2,e1) for the 9 types, and Other)",
            )


class RelationTask(Task):
    """Relation classification between a marked head and tail."""

    name: ClassVar[str] = "re"
    title: ClassVar[str] = "relation extraction"
    metric: ClassVar[str] = "f1"
    unit: ClassVar[str] = "examples"
    suffixes: ClassVar[tuple[str, ...]] = (".tsv", ".txt", ".jsonl", ".json")
    default_data: ClassVar[str] = "../shared/data/semeval2010_task8"
    inspection: ClassVar[str] = "segmix.tasks.relations.inspection:RelationInspection"
    options: ClassVar[frozenset[str]] = frozenset({"same_relation", "role_aligned"})
    methods: ClassVar[dict[str, str]] = {
        "rmix": "segmix.augment.relations:RelationMix",
        "mmix": "segmix.augment.relations:ArgumentMix",
        "mixup": "segmix.augment.relations:RelationMixup",
        "sr": "segmix.augment.relation_rules:RelationSynonymReplacement",
        "rmix+sr": "segmix.augment.relation_rules:RelationMixture",
    }
    unused_parameters: ClassVar[bool] = True  # the encoder's pooler is not read

    def __init__(self) -> None:
        self.scheme = None  # the marker scheme, fixed by the training file
        self.markers: list[str] = []

    def metric_title(self, metric: str) -> str:
        return "official SemEval-2010 Task 8 macro F1" if metric == "macro_f1" else "relation F1"

    def score_columns(self, scores: dict) -> list[tuple[str, float]]:
        if "macro_f1" in scores:
            keys = ("macro_precision", "macro_recall", "macro_f1")
        elif "precision" in scores:
            keys = ("precision", "recall", "f1")
        else:
            return [("f1", float(scores["f1"]))]
        names = ("precision", "recall", "f1")
        return [(name, float(scores[k])) for name, k in zip(names, keys, strict=True)]

    def headline(self, scores: dict) -> str:
        return f"{scores['metric']} {scores['f1']:.4f}"

    def example_stats(self, gold: Sequence[Any], pred: Sequence[Any], test_scores: dict) -> Any:
        from segmix.experiment.stats import re_example_stats

        kind = {
            "semeval2010_task8_official_macro_f1": "macro",
            "micro_f1_excluding_no_relation": "tacred",
            "accuracy": "accuracy",
        }.get(test_scores.get("metric", ""), "macro")
        return re_example_stats(gold, pred, kind)  # type: ignore[arg-type]

    def gold_of_file(self, path: Path, config: dict) -> list[tuple[Any, Any]]:
        from segmix.tasks.relations.data import read_relations

        return [(ex.id, ex.relation) for ex in read_relations(path, id_start=id_start(Path(path)))]

    def evaluate_saved(
        self, model_dir: str, data_file: str, *, batch_size: int, **read_options: Any
    ) -> dict:
        from segmix.tasks.relations.inference import evaluate_relation_model

        return evaluate_relation_model(model_dir, data_file, batch_size=batch_size)

    def predict_saved(
        self,
        model_dir: str,
        target: str,
        *,
        input_file: str | None = None,
        words: Sequence[str] | None = None,
        fmt: str | None = None,
        batch_size: int = 64,
        **options: Any,
    ) -> None:
        from segmix.tasks.relations.inference import predict_relation_file

        if input_file is None:
            raise ValueError("--text: a relation model needs marked arguments; give --input FILE")
        predict_relation_file(model_dir, input_file, target, batch_size=batch_size)

    def read(self, path: Path, **options: Any) -> list[Any]:
        from segmix.tasks.relations.data import read_relations

        examples = read_relations(path, id_start=id_start(path))
        check_semeval_labels(examples, path)
        return examples

    def labels(self, train: Sequence[Any]) -> list[str]:
        from segmix.tasks.relations.data import relation_labels

        return relation_labels(train)

    def check(self, examples: Sequence[Any], labels: Sequence[str], *, source: str) -> None:
        known = set(labels)
        for ex in examples:
            if ex.relation not in known:
                logger.warning(
                    "%s:%s: relation %r does not occur in the training file; the model cannot "
                    "predict it",
                    source,
                    getattr(ex, "line", None) or "?",
                    ex.relation,
                )
                known.add(ex.relation)

    def prepare_tokenizer(self, tokenizer: Any, cache: Any, train: Sequence[Any]) -> None:
        from segmix.tasks.relations.model import MarkerScheme, register_markers

        self.scheme = MarkerScheme.for_examples(train)
        self.markers = self.scheme.all_markers(train)
        register_markers(tokenizer, cache, self.markers)

    def encode(
        self,
        examples: Sequence[Any],
        cache: Any,
        labels: Sequence[str],
        *,
        source: str,
        strict: bool = True,
    ) -> list[Any]:
        from segmix.tasks.relations.model import encode_relations

        label2id = {label: i for i, label in enumerate(labels)}
        if not strict:  # dev/test: a label the model cannot know only affects the eval loss
            label2id.update({ex.relation: 0 for ex in examples if ex.relation not in label2id})
        cache.add(w for ex in examples for w in ex.tokens)
        return encode_relations(examples, cache, label2id, typed=self.scheme.typed, source=source)

    def augmenter(self, name: str, options: dict) -> Any:
        from segmix.augment import make_augmenter

        return make_augmenter(name, self.name, **options)

    def build_model(self, model: str, labels: Sequence[str], tokenizer: Any) -> Any:
        from segmix.tasks.relations.model import load_relation_classifier

        return load_relation_classifier(
            model,
            labels,
            tokenizer,
            markers=self.markers,
            marker_scheme=self.scheme.name,
        )

    def decode(
        self, encoded: Sequence[Any], predictions: Sequence[Any], labels: Sequence[str]
    ) -> list[str]:
        return [labels[int(k)] for k in predictions]

    def gold(self, examples: Sequence[Any]) -> list[str]:
        return [ex.relation for ex in examples]

    def score(self, gold: Sequence[Any], pred: Sequence[Any], labels: Sequence[str]) -> dict:
        return relation_scores(gold, pred, sorted(set(labels) | set(gold)))

    def render_mix(self, encoded: Any, mix: Any, labels: Sequence[str]) -> str:
        # a rule's new sentence (or a mixture's rewritten one) carries its own words
        words = list(mix.words if mix.words is not None else encoded.words)
        for rec in reversed(mix.mixes):  # ∅: a region one side lacks (whole-sentence mixup)
            side_a, side_b = " ".join(rec.words_a) or "∅", " ".join(rec.words_b) or "∅"
            words[rec.start : rec.end] = [f"[{side_a}|{side_b} @{rec.lam:.2f}]"]
        a, b = labels[int(mix.labels_a[0])], labels[int(mix.labels_b[0])]
        if not mix.mixes:  # rule-based: a new sentence with the same relation
            return f"{' '.join(encoded.words)}\n  → {' '.join(words)}\n  → {a}"
        lam = float(mix.label_weight[0])
        return f"{' '.join(words)}\n  → {a}·{lam:.2f} + {b}·{1 - lam:.2f}"

    def mix_record(self, encoded: Any, mix: Any, labels: Sequence[str]) -> dict:
        from segmix.mixing import mix_to_json

        record = {"id": encoded.id, **mix_to_json(encoded.words, mix, labels, name_segments=False)}
        record["relation_a"] = labels[int(mix.labels_a[0])]
        record["relation_b"] = labels[int(mix.labels_b[0])]
        record["relation_weight"] = float(mix.label_weight[0])
        if mix.words is not None:
            record["new_tokens"] = list(mix.words)
        return record

    def write_predictions(
        self, folder: Path, split: str, examples: Sequence[Any], pred: Sequence[Any]
    ) -> None:
        from segmix.tasks.relations.data import write_answers

        write_jsonl(
            folder / f"{split}.jsonl",
            (
                {"id": ex.id, "gold": ex.relation, "pred": p}
                for ex, p in zip(examples, pred, strict=True)
            ),
        )
        write_answers(folder / f"{split}_answers.txt", [ex.id for ex in examples], pred)
