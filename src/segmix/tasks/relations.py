"""Relation classification: marked sentences, a marker-pooling classifier, official scores.

SemEval-2010 Task 8 (TSV or the original format) and TACRED JSON are read; the classifier reads
the encoder's states at the two start markers (:mod:`segmix.re_model`). Scores follow the label
set: SemEval's official macro F1, TACRED's micro F1 without ``no_relation``, else accuracy.
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
    from segmix.re_data import SEMEVAL_TEST_ID_START

    return SEMEVAL_TEST_ID_START if path is not None and Path(path).stem == "test" else 0


def relation_scores(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> dict:
    """The official metric of the label set, with the selection score under ``"f1"``.

    SemEval-2010 Task 8 labels: the official macro F1 (9 types, direction counted, ``Other``
    excluded). Labels with ``no_relation``: TACRED micro F1 without it. Otherwise accuracy.
    """
    from segmix.re_metrics import (
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
    from segmix.data import DataFormatError
    from segmix.re_metrics import SEMEVAL_LABELS

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
    metric: ClassVar[str] = "f1"
    suffixes: ClassVar[tuple[str, ...]] = (".tsv", ".txt", ".jsonl", ".json")
    unused_parameters: ClassVar[bool] = True  # the encoder's pooler is not read

    def __init__(self) -> None:
        self.scheme = None  # the marker scheme, fixed by the training file
        self.markers: list[str] = []

    def read(self, path: Path, *, scheme: str = "auto") -> list[Any]:
        from segmix.re_data import read_relations

        examples = read_relations(path, id_start=id_start(path))
        check_semeval_labels(examples, path)
        return examples

    def labels(self, train: Sequence[Any]) -> list[str]:
        from segmix.re_data import relation_labels

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
        from segmix.re_model import MarkerScheme, register_markers

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
        from segmix.re_model import encode_relations

        label2id = {label: i for i, label in enumerate(labels)}
        if not strict:  # dev/test: a label the model cannot know only affects the eval loss
            label2id.update({ex.relation: 0 for ex in examples if ex.relation not in label2id})
        cache.add(w for ex in examples for w in ex.tokens)
        return encode_relations(examples, cache, label2id, typed=self.scheme.typed, source=source)

    def augmenter(self, name: str, options: dict) -> Any | None:
        from segmix.augment import make_augmenter

        return make_augmenter(name, "re", **options)

    def build_model(self, model: str, labels: Sequence[str], tokenizer: Any) -> Any:
        from segmix.re_model import load_relation_classifier

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
        from segmix.re_data import write_answers

        write_jsonl(
            folder / f"{split}.jsonl",
            (
                {"id": ex.id, "gold": ex.relation, "pred": p}
                for ex, p in zip(examples, pred, strict=True)
            ),
        )
        write_answers(folder / f"{split}_answers.txt", [ex.id for ex in examples], pred)


def predict_relations(
    model: Any, encoded: Sequence[Any], labels: Sequence[str], *, pad_id: int, batch_size: int = 64
) -> list[str]:
    """Relation of each encoded example, batched shortest first (never mixed)."""
    import numpy as np
    import torch

    from segmix.inference import length_sorted_batches

    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out: list[str] = [""] * len(encoded)
    with torch.no_grad():
        for idx, ids, mask in length_sorted_batches([e.ids for e in encoded], batch_size, pad_id):
            anchors = torch.from_numpy(np.stack([encoded[i].anchors for i in idx])).to(device)
            logits = model(
                input_ids=torch.from_numpy(ids).to(device),
                attention_mask=torch.from_numpy(mask).to(device),
                anchors=anchors,
            ).logits
            for row, k in zip(idx, logits.argmax(-1).tolist(), strict=True):
                out[row] = labels[k]
    model.train(was_training)
    return out


def _load_for_inference(model_dir: str):
    import torch

    from segmix.encoding import SubwordCache
    from segmix.re_model import load_saved_relation_model, register_markers

    model, tokenizer, labels, scheme = load_saved_relation_model(model_dir)
    if torch.cuda.is_available():
        model.cuda()
    cache = SubwordCache(tokenizer)
    register_markers(tokenizer, cache, list(model.config.markers or []))
    return model, cache, labels, scheme


def _predict_file(model_dir: str, data_file: str, batch_size: int):
    from segmix.re_data import read_relations
    from segmix.re_model import encode_relations

    model, cache, labels, scheme = _load_for_inference(model_dir)
    path = Path(data_file)
    examples = read_relations(path, id_start=id_start(path))
    cache.add(w for ex in examples for w in ex.tokens)
    enc = encode_relations(examples, cache, None, typed=scheme.typed, source=str(path))
    pred = predict_relations(model, enc, labels, pad_id=cache.pad_id, batch_size=batch_size)
    return examples, pred, labels


def evaluate_relation_model(model_dir: str, data_file: str, *, batch_size: int = 64) -> dict:
    """Score a saved relation classifier on a labelled file with the label set's metric."""
    examples, pred, labels = _predict_file(model_dir, data_file, batch_size)
    gold = [ex.relation for ex in examples]
    return relation_scores(gold, pred, sorted(set(labels) | set(gold)))


def predict_relation_file(
    model_dir: str, input_file: str | None, output_file: str | None, *, batch_size: int = 64
) -> None:
    """Write ``id<TAB>relation`` lines, the official scorer's answer format.

    A SemEval file named ``test.*`` is numbered from 8001 like the official key.
    """
    from segmix.re_data import write_answers

    if input_file is None:
        raise ValueError("relation prediction needs --input FILE (sentences with entity markers)")
    examples, pred, _ = _predict_file(model_dir, input_file, batch_size)
    write_answers(output_file, [ex.id for ex in examples], pred)
