"""Named-entity tagging: CoNLL/JSONL files, a token classifier, entity-level F1."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from segmix.encoding import IGNORE_INDEX, encode_tagged
from segmix.runs import write_jsonl
from segmix.tasks.base import Task

logger = logging.getLogger(__name__)


class _UnknownAsO(dict):
    """Label ids for dev/test encoding: a tag the model cannot know counts as ``O`` (id 0).

    Only the evaluation loss reads these ids; scores always use the gold tags as read.
    """

    def __missing__(self, key: str) -> int:
        return 0


class TaggingTask(Task):
    """NER as sequence tagging: the label of each word sits on its first sub-word."""

    name: ClassVar[str] = "ner"
    metric: ClassVar[str] = "f1"
    suffixes: ClassVar[tuple[str, ...]] = (".txt", ".jsonl", ".conll")

    def read(self, path: Path, *, scheme: str = "auto") -> list[Any]:
        from segmix.data import read_ner

        return read_ner(path, scheme=scheme)

    def labels(self, train: Sequence[Any]) -> list[str]:
        from segmix.data import label_list

        return label_list(train)

    def check(self, examples: Sequence[Any], labels: Sequence[str], *, source: str) -> None:
        """A type the training file lacks can be scored but never predicted: say where."""
        known = set(labels)
        per_line = not source.endswith((".jsonl", ".json"))  # CoNLL: one token a line
        first: dict[str, Any] = {}
        for s in examples:
            for i, tag in enumerate(s.tags):
                if tag not in known and tag[2:] not in first:
                    line = getattr(s, "line", None)
                    first[tag[2:]] = line + i if line is not None and per_line else line
        for typ, line in first.items():
            logger.warning(
                "%s:%s: entity type %r does not occur in the training file; the model cannot "
                "predict it, so its mentions count as misses",
                source,
                line if line is not None else "?",
                typ,
            )

    def prepare_tokenizer(self, tokenizer: Any, cache: Any, train: Sequence[Any]) -> None:
        return None

    def encode(
        self,
        examples: Sequence[Any],
        cache: Any,
        labels: Sequence[str],
        *,
        source: str,
        strict: bool = True,
    ) -> list[Any]:
        label2id = {label: i for i, label in enumerate(labels)}
        return encode_tagged(
            examples, cache, label2id if strict else _UnknownAsO(label2id), source=source
        )

    def augmenter(self, name: str, options: dict) -> Any | None:
        from segmix.augment import make_augmenter

        return make_augmenter(name, "ner", **options)

    def build_model(self, model: str, labels: Sequence[str], tokenizer: Any) -> Any:
        from segmix.model import load_token_classifier

        return load_token_classifier(model, labels)

    def decode(
        self, encoded: Sequence[Any], predictions: Sequence[Any], labels: Sequence[str]
    ) -> list[list[str]]:
        out = []
        for ex, row in zip(encoded, predictions, strict=True):
            ids = np.asarray(row)[ex.word_starts]
            if (ids == IGNORE_INDEX).any():
                raise ValueError("a prediction row is shorter than its example")
            out.append([labels[int(k)] for k in ids])
        return out

    def gold(self, examples: Sequence[Any]) -> list[list[str]]:
        return [list(s.tags) for s in examples]

    def score(self, gold: Sequence[Any], pred: Sequence[Any], labels: Sequence[str]) -> dict:
        from segmix.metrics import ner_scores

        return ner_scores(gold, pred)

    def write_predictions(
        self, folder: Path, split: str, examples: Sequence[Any], pred: Sequence[Any]
    ) -> None:
        write_jsonl(
            folder / f"{split}.jsonl",
            (
                {"id": s.id, "tokens": list(s.tokens), "gold": list(s.tags), "pred": list(p)}
                for s, p in zip(examples, pred, strict=True)
            ),
        )

    def render_mix(self, encoded: Any, mix: Any, labels: Sequence[str]) -> str:
        from segmix.mixing import render_mix

        if mix.words is not None:  # a new sentence (rule-based): its words with their tags
            tags = new_tags(mix, labels)
            new = " ".join(
                f"{w}/{t}" if t != "O" else w for w, t in zip(mix.words, tags, strict=True)
            )
            shown = f"{' '.join(encoded.words)}\n  → {new}"
            if mix.mixes:  # a mixture: the new sentence, then its segments mixed
                shown += f"\n  → {render_mix(mix.words, mix, labels)}"
            return shown
        return render_mix(encoded.words, mix, labels)

    def mix_record(self, encoded: Any, mix: Any, labels: Sequence[str]) -> dict:
        """A mix as JSON; a new sentence (a rule's, or a mixture's, whose ``mixes`` then count
        words of the new sentence) adds ``new_tokens`` and ``new_tags``."""
        from segmix.mixing import mix_to_json

        record = {"id": encoded.id, **mix_to_json(encoded.words, mix, labels)}
        if mix.words is not None:
            record["new_tokens"] = list(mix.words)
            record["new_tags"] = new_tags(mix, labels)
        return record

    def subset_info(self, examples: Sequence[Any]) -> list:
        return [s.id for s in examples]


def new_tags(mix: Any, labels: Sequence[str]) -> list[str]:
    """The tags of a new sentence's words (``mix.words``), read off side a.

    Outside a mixed segment side a holds each word's hard tag on its first sub-word; inside one
    it holds the segment's own words' tags first, then the labels of its pad words when the
    partner is longer, which are no words of the sentence and are skipped.
    """
    tags = [labels[int(k)] for k in mix.labels_a if k != IGNORE_INDEX]
    out: list[str] = []
    word = unit = 0  # the next word of the sentence, the next labelled unit of side a
    for rec in mix.mixes:  # in sentence order
        out += tags[unit : unit + rec.start - word]
        unit += rec.start - word
        out += tags[unit : unit + len(rec.words_a)]
        unit += len(rec.labels_a)
        word = rec.end
    return out + tags[unit:]
