"""One run, any task: config → data → encoder → augmenter → Trainer → selected model → run folder.

Read top to bottom like Hugging Face's ``run_ner``: every file is read and checked before the
model loads; the training subset is a seeded sample (its ids saved); without a dev file a seeded
dev split is carved from the training file outside the subset; training is
:class:`segmix.engine.SegMixTrainer` (selection on dev with ``load_best_model_at_end``, early
stopping with ``EarlyStoppingCallback``, checkpoints for ``resume``); test is scored once, with
the selected model. The task object (:mod:`segmix.tasks`) supplies what differs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from segmix.config import TrainConfig
from segmix.runs import (
    COMPACT_TEST,
    LOCK_NAME,
    RunFolderError,
    is_finished,
    machine,
    mark_finished,
    read_json,
    run_lock,
    versions,
    write_compact_predictions,
    write_json,
)
from segmix.tasks import Task, get_task

logger = logging.getLogger(__name__)

CHECKPOINTS = "checkpoints"
#: fields that change where a run writes or how it reports, not what it computes: out of a
#: cell's identity. ``score_test`` only decides whether the selected model is also scored on
#: test (an lr-search cell is not), so a search cell and a reported cell share one id.
NOT_SHAPING = frozenset({"output_dir", "progress", "eval_batch_size", "num_workers", "score_test"})


def carve_dev(examples: Sequence, fraction: float, seed: int) -> tuple[list, list]:
    """(rest, dev): a seeded ``fraction`` of the examples held out as dev, both in file order."""
    if not 0 < fraction < 1:
        raise ValueError(f"dev_fraction must be between 0 and 1, got {fraction}")
    if len(examples) < 2:
        raise ValueError("cannot carve a dev split from fewer than 2 training examples")
    n_dev = min(max(1, round(fraction * len(examples))), len(examples) - 1)
    chosen = set(
        np.random.default_rng([seed, 99]).choice(len(examples), n_dev, replace=False).tolist()
    )
    rest = [ex for i, ex in enumerate(examples) if i not in chosen]
    dev = [ex for i, ex in enumerate(examples) if i in chosen]
    return rest, dev


@dataclass
class RunData:
    """Every split, read and checked, before any model is loaded."""

    files: dict[str, Path | None]
    labels: list[str]
    train: list[Any]
    dev: list[Any] | None
    test: list[Any] | None
    dev_carved: bool


def load_data(task: Task, config: TrainConfig) -> RunData:
    """Read train, dev and test; the seeded subset; a carved dev when there is no dev file."""
    from segmix.datafiles import sample_subset

    train_path, dev_path, test_path = config.resolved_files()
    full_train = task.read(train_path, **task.reader_options(config))
    labels = task.labels(full_train)
    carved = dev_path is None
    if carved:
        pool, dev = carve_dev(full_train, config.dev_fraction, config.sample_seed)
        logger.info(
            "no dev file: %d examples of %s held out as dev (seed %d), outside the subset",
            len(dev),
            train_path,
            config.sample_seed,
        )
    else:
        pool, dev = full_train, task.read(dev_path, **task.reader_options(config))
        task.check(dev, labels, source=str(dev_path))
    if config.train_size is not None and config.train_size > len(pool):
        raise ValueError(
            f"--train-size: {config.train_size} is not allowed; {train_path} has "
            f"{len(pool)} examples{' outside the carved dev split' if carved else ''}"
        )
    train = sample_subset(pool, config.train_size, config.sample_seed)
    if config.dev_size is not None and dev:
        dev = sample_subset(dev, min(config.dev_size, len(dev)), config.sample_seed)
    test = None
    if test_path is not None:
        test = task.read(test_path, **task.reader_options(config))
        task.check(test, labels, source=str(test_path))
        if config.test_size is not None:
            test = sample_subset(test, min(config.test_size, len(test)), config.sample_seed)
    return RunData(
        files={"train": train_path, "dev": dev_path, "test": test_path},
        labels=labels,
        train=train,
        dev=dev,
        test=test,
        dev_carved=carved,
    )


@dataclass
class Prepared:
    """A run's inputs, every one read, checked and encoded, before any model is loaded."""

    task: Task
    data: RunData
    files: dict[str, str | None]
    tokenizer: Any
    cache: Any
    encoded: dict[str, list]  # train, and dev/test when there are any
    augmenter: Any


def prepare(config: TrainConfig, task: Task | None = None, *, evaluation: bool = True) -> Prepared:
    """Read and check every file, encode every example, fit the augmenter.

    ``segmix train`` and ``segmix augment`` both start here, so what ``augment`` shows is drawn
    from the same subset, labels and pools that training uses. ``evaluation=False`` skips
    encoding dev and test (they are still read and checked).
    """
    prep = prepare_inputs(config, task, evaluation=evaluation)
    augmenter = fit_augmenter(prep.task, config, prep.data, prep.encoded["train"], prep.cache)
    return dataclasses.replace(prep, augmenter=augmenter)


def prepare_inputs(
    config: TrainConfig, task: Task | None = None, *, evaluation: bool = True
) -> Prepared:
    """:func:`prepare` up to the augmenter (``augmenter`` is None): the files read and checked,
    the examples encoded. Runs that differ only in how they augment share all of it
    (``segmix experiment --preflight`` builds each subset once for every method)."""
    from segmix.encoding import SubwordCache, load_tokenizer

    task = task or get_task(config.task)
    data = load_data(task, config)
    tokenizer = load_tokenizer(config.model)
    cache = SubwordCache(tokenizer)
    task.prepare_tokenizer(tokenizer, cache, data.train)
    files = {k: str(v) if v else None for k, v in data.files.items()}
    encoded = {"train": task.encode(data.train, cache, data.labels, source=files["train"])}
    if evaluation and data.dev:
        dev_source = files["dev"] or f"{files['train']} (carved dev)"
        encoded["dev"] = task.encode(data.dev, cache, data.labels, source=dev_source, strict=False)
    if evaluation and data.test and config.score_test:
        encoded["test"] = task.encode(
            data.test, cache, data.labels, source=files["test"], strict=False
        )
    return Prepared(task, data, files, tokenizer, cache, encoded, None)


def fit_augmenter(task: Task, config: TrainConfig, data: RunData, train: list, cache: Any) -> Any:
    """The run's augmenter, fitted on its encoded training examples; one that would have
    nothing to change is refused here, before any model loads."""
    augmenter = task.augmenter(config.augment, config.augmenter_options())
    augmenter.fit(train, data.labels, cache)
    if config.augment != "none" and augmenter.n_eligible == 0:
        why = "--p is 0" if getattr(augmenter, "p", None) == 0 else "no segment of its kind"
        raise ValueError(
            f"--augment: {config.augment} has nothing to change in these "
            f"{len(data.train)} training examples ({why})"
        )
    return augmenter


def training_set(config: TrainConfig, train: list, augmenter: Any):
    """The originals and the mix slots a run trains on (a :class:`segmix.engine.SegMixDataset`
    with the run's rate, seed and schedule); ``--preflight`` draws from the same one."""
    from segmix.engine import SegMixDataset

    return SegMixDataset(
        train,
        augmenter,
        rate=config.rate,
        seed=config.seed,
        resample=config.resample,
        mix_from_epoch=config.mix_from_epoch,
    )


def subset_record(task: Task, data: RunData, config: TrainConfig, files: dict) -> dict:
    """``subset.json``: which examples of each file a run used (the sampled ones by id)."""
    return {
        "train_file": files["train"],
        "train_ids": task.subset_info(data.train),
        "dev_carved_from_train": data.dev_carved,
        "dev_ids": (
            task.subset_info(data.dev)
            if data.dev and (data.dev_carved or config.dev_size)
            else None
        ),
        "test_ids": task.subset_info(data.test) if data.test and config.test_size else None,
    }


def _shaping(config_dict: dict) -> dict:
    """The fields that decide what a run computes, data paths made absolute."""
    names = {f.name for f in dataclasses.fields(TrainConfig)} - NOT_SHAPING
    out = {k: v for k, v in config_dict.items() if k in names}
    for key in ("data_dir", "train_file", "dev_file", "test_file"):
        if out.get(key):
            out[key] = str(Path(out[key]).resolve())
    return out


def stored_shaping(stored: dict) -> dict:
    """:func:`_shaping` of a stored config.json. A field it lacks was added to segmix later:
    it takes the value that reproduces the behaviour before the field existed
    (:data:`segmix.experiment.cells.ADDED_LATER`), not today's default, which for a method
    made faithful to its source later (``lwtr_stop_words``, ``seqmix_output``, …) is another
    computation: resuming such a run with today's defaults must be refused, not continued."""
    from segmix.experiment.cells import ADDED_LATER  # cells imports this module

    defaults = {
        f.name: f.default
        for f in dataclasses.fields(TrainConfig)
        if f.default is not dataclasses.MISSING
    }
    return _shaping({**defaults, **ADDED_LATER, **stored})


def prepare_run_folder(out: Path, config: TrainConfig, *, resume: bool, overwrite: bool) -> None:
    """A run folder holds one run: refuse a used one unless told to resume it or start over.

    Called with the folder's lock held (:func:`segmix.runs.run_lock`), whose file stays.
    """
    used = [p for p in out.iterdir() if p.name != LOCK_NAME] if out.exists() else []
    if not used:
        return
    if resume:
        previous = out / "config.json"
        if not previous.exists():
            raise RunFolderError(f"--resume: {out} has no config.json; it is not a segmix run")
        if is_finished(out):
            raise RunFolderError(f"--resume: the run in {out} has finished; nothing to resume")
        from segmix.experiment.cells import METHOD_OPTIONS_ADDED_LATER  # cells imports us

        before = stored_shaping(read_json(previous))
        now = _shaping(dataclasses.asdict(config))
        # a method's option that this run's method does not read shapes nothing here, as in a
        # cell's identity: an old MMix run lacks seqmix_output, which MMix never reads
        unread = METHOD_OPTIONS_ADDED_LATER - set(config.augmenter_options())
        changed = sorted(k for k in now if k not in unread and before.get(k) != now[k])
        if changed:
            diffs = ", ".join(f"{k} {before.get(k)!r} → {now[k]!r}" for k in changed)
            raise RunFolderError(f"--resume: {out} is a different run ({diffs})")
        return
    if overwrite:
        for path in used:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        return
    raise RunFolderError(
        f"--out: {out} is not empty; give --resume to continue that run or --overwrite to "
        "replace it"
    )


def _training_arguments(
    config: TrainConfig,
    out: Path,
    *,
    has_dev: bool,
    eval_every: int,
    eval_delay: int,
    unused_parameters: bool,
    metric: str = "f1",
):
    import torch
    from transformers import TrainingArguments

    on_cpu = not torch.accelerator.is_available()
    return TrainingArguments(
        output_dir=str(out / CHECKPOINTS),
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.eval_batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        learning_rate=config.lr,
        weight_decay=config.weight_decay,
        warmup_steps=config.warmup_ratio,  # a float in [0, 1) is a share of the steps
        max_grad_norm=config.max_grad_norm,
        num_train_epochs=config.epochs,
        max_steps=config.max_steps if config.max_steps is not None else -1,
        lr_scheduler_type="linear",
        train_sampling_strategy="group_by_length" if config.group_by_length else "random",
        eval_strategy="steps" if has_dev else "no",
        eval_steps=eval_every,
        eval_delay=eval_delay,
        save_strategy="steps",
        save_steps=eval_every,
        save_total_limit=1,  # with load_best_model_at_end: the best and the latest
        load_best_model_at_end=has_dev,
        metric_for_best_model=metric,
        greater_is_better=True,
        logging_strategy="steps",
        logging_steps=eval_every,
        bf16=config.mixed_precision == "bf16",
        fp16=config.mixed_precision == "fp16",
        dataloader_num_workers=config.num_workers,
        dataloader_pin_memory=not on_cpu,
        use_cpu=on_cpu,
        seed=config.seed,
        report_to="none",
        disable_tqdm=True,  # segmix's own bar (ProgressBar) instead
        remove_unused_columns=False,
        label_names=["labels"],
        ddp_find_unused_parameters=unused_parameters,
    )


def train(
    config: TrainConfig,
    *,
    resume: bool = False,
    overwrite: bool = False,
    callbacks: Sequence[Any] = (),
) -> dict:
    """Train and evaluate one model; write the run folder; return the metrics.

    ``resume`` continues an interrupted run in ``config.output_dir`` from its last checkpoint
    (the folder's config must be this one); ``overwrite`` replaces whatever the folder holds.
    ``callbacks`` are extra ``TrainerCallback``s (logging, pruning, …) for the Trainer.

    The folder is locked for the whole run (a second process writing it stops at once), and a
    run is finished only when ``finished.json`` is written, last of all: an interrupted run's
    folder never looks finished.
    """
    import torch
    from accelerate import PartialState

    # without an accelerator, torchrun's processes must still join one (gloo) process group:
    # accelerate only forms it when told the run is on CPU
    state = PartialState(cpu=not torch.accelerator.is_available())
    out = Path(config.output_dir)
    lock = run_lock(out) if state.is_main_process else contextlib.nullcontext()
    with lock:
        return _train(config, state, resume=resume, overwrite=overwrite, callbacks=callbacks)


def _train(config: TrainConfig, state, *, resume: bool, overwrite: bool, callbacks) -> dict:
    from accelerate.utils import set_seed
    from transformers import EarlyStoppingCallback, PrinterCallback

    from segmix.collate import MixCollator
    from segmix.encoding import resolve_model
    from segmix.engine import (
        EvalSet,
        ProgressBar,
        SegMixTrainer,
        SkippedEvaluationDraw,
        argmax_logits,
        evaluation_delay,
        history_from_log,
        planned_steps,
    )

    started = time.perf_counter()
    task = get_task(config.task)
    out = Path(config.output_dir)
    if state.is_main_process:
        prepare_run_folder(out, config, resume=resume, overwrite=overwrite)
    state.wait_for_everyone()

    with _quiet_hub_bars():  # an augmenter may load the encoder too (LADA's neighbours)
        prep = prepare(config, task)
    data, tokenizer, cache, augmenter = prep.data, prep.tokenizer, prep.cache, prep.augmenter
    encoded, files = prep.encoded, prep.files
    eval_sets = {split: EvalSet(enc) for split, enc in encoded.items() if split != "train"}
    dev_set = eval_sets.get("dev")
    dataset = training_set(config, encoded["train"], augmenter)
    steps = planned_steps(
        len(dataset),
        batch_size=config.batch_size,
        accumulation=config.gradient_accumulation_steps,
        world_size=state.num_processes,
        epochs=config.epochs,
        max_steps=config.max_steps,
    )
    eval_every = config.eval_every or max(1, steps // 10)

    if state.is_main_process:
        header = dataclasses.asdict(config)
        for key in ("data_dir", "train_file", "dev_file", "test_file"):  # valid from anywhere
            if header[key]:
                header[key] = str(Path(header[key]).resolve())
        header.update(
            resolved_model=resolve_model(config.model),
            files=files,
            augmenter=augmenter.describe(),
        )
        write_json(out / "config.json", header)
        write_json(out / "versions.json", versions())
        write_json(out / "subset.json", subset_record(task, data, config, files))

    set_seed(config.seed)
    with _quiet_hub_bars():
        model = task.build_model(config.model, data.labels, tokenizer)
    labels = data.labels

    # the best evaluation's scores and predictions: the selected model is that step's weights
    # reloaded, so scoring dev again after training would only repeat it
    best_dev: dict[str, Any] = {}

    def compute_metrics(prediction) -> dict:
        rows = dev_set.restore(list(prediction.predictions))
        pred = task.decode(encoded["dev"], rows, labels)
        scores = task.score(task.gold(data.dev), pred, labels)
        better = not best_dev or scores[task.metric] > best_dev["scores"][task.metric]
        if better:  # the Trainer's strict >
            best_dev.update(step=trainer.state.global_step, scores=scores, pred=pred)
        return {k: v for k, v in scores.items() if isinstance(v, float)}

    callbacks = [*([ProgressBar(task.metric)] if config.progress else []), *callbacks]
    if config.eval_from > 0 and dev_set is not None:
        callbacks.append(SkippedEvaluationDraw())
    if config.patience is not None and dev_set is not None:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=config.patience))
    trainer = SegMixTrainer(
        model=model,
        args=_training_arguments(
            config,
            out,
            has_dev=dev_set is not None,
            eval_every=eval_every,
            eval_delay=evaluation_delay(steps, config.eval_from),
            unused_parameters=task.unused_parameters,
            metric=task.metric,
        ),
        train_dataset=dataset,
        eval_dataset=dev_set,
        data_collator=MixCollator(cache.pad_id),
        compute_metrics=compute_metrics if dev_set is not None else None,
        preprocess_logits_for_metrics=argmax_logits,
        callbacks=callbacks,
        adversarial=config.adversarial,
        adv_epsilon=config.adv_epsilon,
    )
    trainer.remove_callback(PrinterCallback)  # the log dicts would bury the progress bar
    checkpoint = _last_checkpoint(out) if resume else None
    if resume and checkpoint is None:
        logger.info("--resume: no checkpoint in %s; starting from the first step", out)
    setup_seconds = time.perf_counter() - started
    t0 = time.perf_counter()
    with _quiet_hub_bars():
        trainer.train(resume_from_checkpoint=checkpoint)
    fit_seconds = time.perf_counter() - t0

    # the selected model (best on dev) scores dev and test once
    history = history_from_log(trainer.state.log_history)
    best_step = _best_step(trainer.state)
    metrics: dict[str, Any] = {
        "task": config.task,
        "method": config.augment,
        "train_size": len(data.train),
        "mixes_per_epoch": dataset.n_mix,
        "dev": None,
        "test": None,
        "steps": trainer.state.global_step,
        "epochs_run": trainer.state.epoch,
        "stopped_early": trainer.state.global_step < trainer.state.max_steps,
        "best_step": best_step,
        "history": history,
    }
    predictions = out / "predictions"
    split_seconds = {}
    for split, examples in (("dev", data.dev), ("test", data.test)):
        if split not in eval_sets:
            continue
        t1 = time.perf_counter()
        if split == "dev" and best_dev.get("step") == best_step:
            scores, pred = dict(best_dev["scores"]), best_dev["pred"]
        else:  # test, no selection (no dev), or a resumed run that did not see the best step
            rows = trainer.predict_eval_set(eval_sets[split], desc=split)
            pred = task.decode(encoded[split], rows, labels)
            scores = task.score(task.gold(examples), pred, labels)
        split_seconds[split] = time.perf_counter() - t1
        scores["seconds"] = split_seconds[split]
        metrics[split] = scores
        if state.is_main_process:
            task.write_predictions(predictions, split, examples, pred)
            if split == "test":
                write_compact_predictions(out / COMPACT_TEST, [e.id for e in examples], pred)
    t2 = time.perf_counter()
    if config.save_model:  # every process calls it; the Trainer writes from the main one
        # the task that trained it, for `segmix evaluate` and `predict` (a tagger does not say)
        trainer.model.config.segmix_task = config.task
        with _quiet_hub_bars():
            trainer.save_model(str(out / "model"))
        if state.is_main_process:
            tokenizer.save_pretrained(out / "model")
    save_model_seconds = time.perf_counter() - t2
    selection = trainer.timing
    metrics["timing"] = {
        "setup_seconds": setup_seconds,
        "train_seconds": fit_seconds - selection["eval_seconds"] - selection["save_seconds"],
        "selection_seconds": selection["eval_seconds"],
        "evaluations": selection["evaluations"],
        "checkpoint_seconds": selection["save_seconds"],
        "final_dev_seconds": split_seconds.get("dev"),
        "dev_scored_at_selection": best_dev.get("step") == best_step,
        "test_seconds": split_seconds.get("test"),
        "save_model_seconds": save_model_seconds,
        "tokens_seen": trainer.tokens_seen,
        "tokens_per_second": trainer.tokens_seen
        / max(fit_seconds - selection["eval_seconds"] - selection["save_seconds"], 1e-9),
    }
    metrics["timing"]["total_seconds"] = time.perf_counter() - started
    metrics["processes"] = state.num_processes
    metrics["machine"] = machine()
    state.wait_for_everyone()
    if state.is_main_process:
        write_json(out / "metrics.json", metrics)
        mark_finished(out)
        shutil.rmtree(out / CHECKPOINTS, ignore_errors=True)  # only a resume needs them
    state.wait_for_everyone()
    return metrics


@contextlib.contextmanager
def _quiet_hub_bars():
    """transformers' loading and shard-writing bars would interleave with the training bar."""
    from transformers.utils import logging as hf_logging

    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()


def _last_checkpoint(out: Path) -> str | None:
    """The latest complete checkpoint: a process killed while saving leaves a folder without
    ``trainer_state.json`` (the Trainer writes it after the weights, optimizer and RNG state),
    which ``get_last_checkpoint`` would still return and resuming from it fails."""
    from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

    folder = out / CHECKPOINTS
    if not folder.is_dir():
        return None
    steps = {}
    for sub in folder.glob(f"{PREFIX_CHECKPOINT_DIR}-*"):
        step = sub.name.rsplit("-", 1)[-1]
        if sub.is_dir() and step.isdigit():
            steps[int(step)] = sub
    for step in sorted(steps, reverse=True):
        if (steps[step] / "trainer_state.json").is_file():
            return str(steps[step])
        logger.warning("%s: an incomplete checkpoint (a save cut short); skipped", steps[step])
    return None


def _best_step(state) -> int:
    """The step of the selected model (the last step when nothing was selected on dev)."""
    if state.best_global_step:
        return int(state.best_global_step)
    if state.best_model_checkpoint:
        return int(Path(state.best_model_checkpoint).name.rsplit("-", 1)[-1])
    return int(state.global_step)
