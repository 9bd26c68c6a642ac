"""Named-entity tagging: CoNLL/JSONL files, a token classifier, entity-level F1."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from segmix.augment import MIXTURE_MIXERS, MIXTURE_RULES, mixture_class_name
from segmix.encoding import IGNORE_INDEX
from segmix.runs import write_jsonl
from segmix.tasks.base import Task
from segmix.tasks.tagging.encoding import encode_tagged

logger = logging.getLogger(__name__)


class UnknownAsFirst(dict):
    """Label ids for dev/test encoding: a tag the model cannot know gets id 0 (``O`` for
    entity tags).

    Only the evaluation loss reads these ids; scores always use the gold tags as read.
    """

    def __missing__(self, key: str) -> int:
        return 0


class TaggingTask(Task):
    """NER as sequence tagging: the label of each word sits on its first sub-word."""

    name: ClassVar[str] = "ner"
    #: whether the labels are IOB2 entity tags whose spans (mentions) the span methods mix
    spans: ClassVar[bool] = True
    title: ClassVar[str] = "tagging"
    metric: ClassVar[str] = "f1"
    score_unit: ClassVar[str] = "F1 points"
    suffixes: ClassVar[tuple[str, ...]] = (".txt", ".jsonl", ".conll")
    default_data: ClassVar[str] = "../shared/data/conll2003"
    inspection: ClassVar[str] = "segmix.tasks.tagging.inspection:TaggingInspection"
    options: ClassVar[frozenset[str]] = frozenset(
        {"k", "same_type", "same_label", "entities_only", "scheme", "lada_mode", "lada_pads",
         "lada_schedule", "mix_layer", "lwtr_stop_words", "mr_draw", "rules_schedule",
         "seqmix_mode", "seqmix_windows", "seqmix_output", "seqmix_distance"}
    )  # fmt: skip
    methods: ClassVar[dict[str, str]] = {
        "mmix": "segmix.augment.segments:MentionMix",
        "tmix": "segmix.augment.segments:TokenMix",
        "smix": "segmix.augment.segments:SynonymMix",
        "lwtr": "segmix.augment.rules:LabelwiseTokenReplacement",
        "sr": "segmix.augment.rules:SynonymReplacement",
        "mr": "segmix.augment.rules:MentionReplacement",
        "sis": "segmix.augment.rules:ShuffleWithinSegments",
        "rules": "segmix.augment.rules:RuleUnion",
        "mixup": "segmix.augment.sequence:SequenceMixup",
        "seqmix": "segmix.augment.sequence:SubsequenceMix",
        "lada": "segmix.augment.hidden:LayerMix",
        **{
            f"{a}+{b}": f"segmix.augment.mixtures:{mixture_class_name(a, b)}"
            for a in MIXTURE_MIXERS
            for b in MIXTURE_RULES
        },
    }

    def reader_options(self, config: Any) -> dict:
        return {"scheme": config.scheme}

    def read(self, path: Path, **options: Any) -> list[Any]:
        from segmix.tasks.tagging.data import read_ner

        return read_ner(path, scheme=options.get("scheme", "auto"))

    def metric_title(self, metric: str) -> str:
        return "entity micro F1 (conlleval)"

    def score_columns(self, scores: dict) -> list[tuple[str, float]]:
        return [(k, float(scores[k])) for k in ("precision", "recall", "f1")]

    def headline(self, scores: dict) -> str:
        return f"P {scores['precision']:.4f}  R {scores['recall']:.4f}  F1 {scores['f1']:.4f}"

    def example_stats(self, gold: Sequence[Any], pred: Sequence[Any], test_scores: dict) -> Any:
        from segmix.experiment.stats import ner_sentence_stats

        return ner_sentence_stats(gold, pred)

    def gold_of_file(self, path: Path, config: dict) -> list[tuple[Any, Any]]:
        return [(s.id, list(s.tags)) for s in self.read(path, **_read_keys(self, config))]

    def labels(self, train: Sequence[Any]) -> list[str]:
        from segmix.tasks.tagging.data import label_list

        return label_list(train)

    def check(self, examples: Sequence[Any], labels: Sequence[str], *, source: str) -> None:
        """A type the training file lacks can be scored but never predicted: say where."""
        known = set(labels)
        # CoNLL: one token a line; JSON Lines and a saved dataset: one sentence a line (row)
        per_line = not (source.endswith((".jsonl", ".json")) or Path(source).is_dir())
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
            examples,
            cache,
            label2id if strict else UnknownAsFirst(label2id),
            source=source,
            spans=self.spans,
        )

    def augmenter(self, name: str, options: dict) -> Any:
        from segmix.augment import make_augmenter

        return make_augmenter(name, self.name, **options)

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
        from segmix.tasks.tagging.metrics import ner_scores

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

    def evaluate_saved(
        self, model_dir: str, data_file: str, *, batch_size: int, **read_options: Any
    ) -> dict:
        from segmix.tasks.tagging.encoding import check_lengths
        from segmix.tasks.tagging.inference import Tagger

        sentences = self.read(Path(data_file), **read_options)
        tagger = Tagger(model_dir)
        check_lengths(sentences, tagger.cache, source=data_file)
        pred = tagger([list(s.tokens) for s in sentences], batch_size=batch_size, progress=True)
        return self.score([list(s.tags) for s in sentences], pred, tagger.labels)

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
        from segmix.tasks.tagging.encoding import check_lengths
        from segmix.tasks.tagging.inference import Tagger

        tagger = Tagger(model_dir)
        if input_file is not None:
            sentences = self.read(Path(input_file), **options.get("read", {}))
            check_lengths(sentences, tagger.cache, source=input_file)
        else:
            sentences = [_Words(tuple(words or ()))]
        tags = tagger(
            [list(s.tokens) for s in sentences],
            batch_size=batch_size,
            progress=input_file is not None,
        )
        self.write_tagged(target, sentences, tags, fmt=fmt, **options)

    def write_tagged(
        self, target: str, sentences: Sequence[Any], tags: Sequence[Sequence[str]], **options: Any
    ) -> None:
        """CoNLL columns (``--format jsonl``: JSON Lines), in the ``scheme`` asked for, with the
        file's own tags as gold beside the predictions where it had them."""
        from segmix.tasks.tagging.data import write_conll, write_jsonl

        writer = write_jsonl if options.get("fmt") == "jsonl" else write_conll
        tokens = [list(s.tokens) for s in sentences]
        gold = [list(s.tags) for s in sentences] if all(s.tags for s in sentences) else None
        writer(target, tokens, tags, gold=gold, scheme=options.get("scheme", "iob2"))

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


class _Words:
    """One pre-split sentence without tags (``segmix predict --text``)."""

    def __init__(self, tokens: tuple[str, ...]) -> None:
        self.tokens = tokens
        self.tags: tuple[str, ...] = ()


def _read_keys(task: Task, config: dict) -> dict:
    """The reader's options as a run's recorded config sets them."""

    class _Recorded:
        def __getattr__(self, name: str) -> Any:
            from segmix.config import TrainConfig

            default = TrainConfig.__dataclass_fields__[name].default
            return config.get(name, default)

    return task.reader_options(_Recorded())
