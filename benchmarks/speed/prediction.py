"""Prediction throughput: segmix's two prediction paths against a plain ``Trainer.predict``.

All three go from the dev sentences' words to one tag per word, with the same saved model (the
bundled encoder with a fresh head: weights do not change the speed):

- ``tagger``: :class:`segmix.tasks.tagging.inference.Tagger`, what ``segmix evaluate`` and
  ``segmix predict``
  run (length-sorted batches of 64);
- ``run``: what a run scores dev and test with: ``encode_tagged`` → :class:`segmix.engine.EvalSet`
  → ``SegMixTrainer.predict_eval_set`` (eval batch 64) → first sub-word tags;
- ``plain``: run_ner.py's way: tokenize with word ids, ``Trainer.predict`` with its defaults
  (eval batch 8, file order), arg-max, first sub-word tags.

Each path is built once (untimed), called once as warm-up, then timed ``reps`` times,
interleaved; medians.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from speed.shared import conll_file, fmt

TITLE = "Prediction throughput (sentences to tags)"
LABELS = {
    "tagger": "segmix `Tagger` (`segmix evaluate` / `predict`)",
    "run": "segmix run's dev/test scoring (`SegMixTrainer.predict_eval_set`)",
    "plain": "plain `Trainer.predict` (run_ner.py's way)",
}


def measure(args) -> dict:
    from segmix.encoding import load_tokenizer
    from segmix.model import load_token_classifier
    from segmix.tasks.tagging.data import label_list, read_conll

    reps = 2 if args.quick else 3
    labels = label_list(read_conll(conll_file(args.data, "train")))
    dev = read_conll(conll_file(args.data, "dev"))
    if args.quick:
        dev = dev[:300]
    with tempfile.TemporaryDirectory(prefix="segmix-speed-prediction-") as tmp:
        model_dir = Path(tmp) / "model"
        torch.manual_seed(0)
        load_token_classifier(None, labels).save_pretrained(model_dir)
        load_tokenizer(None).save_pretrained(model_dir)
        paths = {
            "tagger": _tagger(model_dir),
            "run": _run_path(model_dir, labels, Path(tmp) / "run"),
            "plain": _plain(model_dir, Path(tmp) / "plain"),
        }
        timed = _time_paths(paths, dev, reps)
    rows = {
        name: {
            "sentences_per_second": len(dev) / statistics.median(times),
            "seconds": times,
            "same_tags_as_tagger": timed["agree"][name],
            "batch_size": {"tagger": 64, "run": 64, "plain": 8}[name],
        }
        for name, times in timed["times"].items()
    }
    return {
        "threads": torch.get_num_threads(),
        "reps": reps,
        "sentences": len(dev),
        "words": sum(len(s.tokens) for s in dev),
        "rows": rows,
    }


def _time_paths(paths: dict, dev: list, reps: int) -> dict:
    """One warm-up call per path (its tags checked against the Tagger's), then ``reps``
    interleaved timed calls."""
    times: dict[str, list[float]] = {name: [] for name in paths}
    reference = paths["tagger"](dev)
    agree = {}
    for name, predict in paths.items():
        tags = predict(dev)
        agree[name] = sum(a == b for a, b in zip(tags, reference, strict=True)) / len(dev)
    for _ in range(reps):
        for name, predict in paths.items():
            t0 = time.perf_counter()
            predict(dev)
            times[name].append(time.perf_counter() - t0)
    return {"times": times, "agree": agree}


def _tagger(model_dir: Path):
    from segmix.tasks.tagging.inference import Tagger

    tagger = Tagger(model_dir, device="cpu")

    def predict(sentences):
        return tagger([list(s.tokens) for s in sentences], batch_size=64)

    return predict


def _run_path(model_dir: Path, labels: list[str], work: Path):
    from transformers import AutoModelForTokenClassification, TrainingArguments

    from segmix.collate import MixCollator
    from segmix.encoding import SubwordCache, load_tokenizer
    from segmix.engine import EvalSet, SegMixTrainer, argmax_logits
    from segmix.tasks import get_task
    from segmix.tasks.tagging.encoding import encode_tagged

    task = get_task("ner")
    cache = SubwordCache(load_tokenizer(str(model_dir)))
    model = AutoModelForTokenClassification.from_pretrained(model_dir)
    label2id = {lb: i for i, lb in enumerate(labels)}
    trainer = SegMixTrainer(
        model=model,
        args=TrainingArguments(
            str(work),
            per_device_eval_batch_size=64,
            report_to="none",
            disable_tqdm=True,
            use_cpu=True,
            remove_unused_columns=False,
            label_names=["labels"],
        ),
        data_collator=MixCollator(cache.pad_id),
        preprocess_logits_for_metrics=argmax_logits,
    )

    def predict(sentences):
        encoded = encode_tagged(sentences, cache, label2id)
        rows = trainer.predict_eval_set(EvalSet(encoded))
        return task.decode(encoded, rows, labels)

    return predict


def _plain(model_dir: Path, work: Path):
    from transformers import (
        AutoModelForTokenClassification,
        AutoTokenizer,
        DataCollatorForTokenClassification,
        Trainer,
        TrainingArguments,
    )

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForTokenClassification.from_pretrained(model_dir)
    id2label = model.config.id2label
    trainer = Trainer(
        model=model,
        args=TrainingArguments(
            str(work),
            report_to="none",
            disable_tqdm=True,
            use_cpu=True,
        ),
        data_collator=DataCollatorForTokenClassification(tokenizer),
    )
    assert trainer.args.per_device_eval_batch_size == 8  # Trainer's default, as in the table

    def predict(sentences):
        enc = tokenizer(
            [list(s.tokens) for s in sentences], is_split_into_words=True, truncation=True
        )
        features = [
            {"input_ids": enc["input_ids"][i], "attention_mask": enc["attention_mask"][i]}
            for i in range(len(sentences))
        ]
        best = np.argmax(trainer.predict(features).predictions, axis=2)
        out = []
        for i in range(len(sentences)):
            previous, tags = None, []
            for position, w in enumerate(enc.word_ids(i)):
                if w is not None and w != previous:
                    tags.append(id2label[int(best[i, position])])
                previous = w
            out.append(tags)
        return out

    return predict


def render(r: dict) -> list[str]:
    lines = [
        f"{r['sentences']:,} CoNLL-2003 dev sentences ({r['words']:,} words), words to one tag "
        f"per word; on CPU, {r['threads']} torch threads; each path built once, one warm-up "
        f"call, then median of {r['reps']} interleaved calls. Same saved model for every path.",
        "",
        "| path | batch | sentences / s | same tags as `Tagger` |",
        "|---|---|---|---|",
    ]
    for name, row in r["rows"].items():
        lines.append(
            f"| {LABELS[name]} | {row['batch_size']} | {fmt(row['sentences_per_second'])} | "
            f"{row['same_tags_as_tagger'] * 100:.1f} % of sentences |"
        )
    return lines
