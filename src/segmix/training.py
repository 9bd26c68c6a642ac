"""Training a tagger with or without SegMix, read top to bottom like Hugging Face's run_ner.

config → seed → data (seeded subset) → labels → tokenizer cache → model → augmenter → batches
(originals + a fresh draw of mixes each epoch, grouped by length) → accelerate loop with the
pair loss → evaluation on dev every ``eval_every`` steps, best model kept, early stopping →
test → run folder (config, versions, subset, metrics, predictions, model).

The loop is built on ``accelerate``, so mixed precision, gradient accumulation and multi-GPU
(``accelerate launch`` / ``torchrun``) come for free; nothing in it assumes a device.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from segmix.augment import SegMixAugmenter, make_augmenter
from segmix.collate import MixCollator
from segmix.config import TrainConfig
from segmix.encoding import (
    SubwordCache,
    TaggedExample,
    encode_tagged,
    load_tokenizer,
    resolve_model,
)
from segmix.inference import predict_tags
from segmix.metrics import ner_scores
from segmix.mixing import MixedExample
from segmix.runs import versions, write_json


@dataclass
class EpochPlan:
    """How many examples and optimizer steps each epoch has (mixes change both)."""

    examples: list[int] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)

    @property
    def total_steps(self) -> int:
        return sum(self.steps)


def plan_epochs(config: TrainConfig, n_train: int, n_mix: int) -> EpochPlan:
    """Epoch sizes under either budget: ``epochs``, or ``max_steps`` optimizer steps in all."""
    plan = EpochPlan()
    per_step = config.batch_size * config.gradient_accumulation_steps
    epoch = 0
    while True:
        n = n_train + (n_mix if epoch >= config.mix_from_epoch else 0)
        steps = math.ceil(n / per_step)
        if config.max_steps is not None:
            left = config.max_steps - plan.total_steps
            if left <= 0:
                break
            steps = min(steps, left)
        elif epoch >= config.epochs:
            break
        plan.examples.append(n)
        plan.steps.append(steps)
        epoch += 1
    return plan


def length_grouped_batches(
    lengths: np.ndarray, batch_size: int, rng: np.random.Generator, *, group: int = 8
) -> list[list[int]]:
    """Shuffled batches of similar length (less padding), as Trainer's ``group_by_length``.

    Indices are shuffled, cut into groups of ``group`` batches, sorted by length inside a group
    and split into batches; the batches are shuffled again. Smaller groups keep more randomness.
    """
    order = rng.permutation(len(lengths))
    batches: list[np.ndarray] = []
    span = batch_size * group
    for start in range(0, len(order), span):
        chunk = order[start : start + span]
        chunk = chunk[np.argsort(-lengths[chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    return [batches[i].tolist() for i in rng.permutation(len(batches))]


def random_batches(n: int, batch_size: int, rng: np.random.Generator) -> list[list[int]]:
    order = rng.permutation(n)
    return [order[i : i + batch_size].tolist() for i in range(0, n, batch_size)]


class EpochData:
    """Originals plus this epoch's mixes; ``resample="epoch"`` draws new λ and partners each epoch.

    Mixes are drawn from a generator seeded by ``(seed, epoch)``, so an epoch's mixes depend only
    on the seed and the epoch, not on what ran before.
    """

    def __init__(
        self,
        examples: Sequence[TaggedExample],
        augmenter: SegMixAugmenter | None,
        *,
        n_mix: int,
        seed: int,
        resample: str = "epoch",
        mix_from_epoch: int = 0,
    ) -> None:
        if resample not in ("epoch", "once"):
            raise ValueError(f"resample must be 'epoch' or 'once', got {resample!r}")
        self.originals = [
            MixedExample.original(ex.ids, ex.labels, source=i) for i, ex in enumerate(examples)
        ]
        self.augmenter = augmenter
        self.n_mix = n_mix if augmenter is not None else 0
        self.seed = seed
        self.resample = resample
        self.mix_from_epoch = mix_from_epoch
        self._once: list[MixedExample] | None = None

    def mixes(self, epoch: int) -> list[MixedExample]:
        if self.augmenter is None or self.n_mix == 0 or epoch < self.mix_from_epoch:
            return []
        if self.resample == "once":
            if self._once is None:
                self._once = self.augmenter.generate(self.n_mix, np.random.default_rng(self.seed))
            return self._once
        return self.augmenter.generate(self.n_mix, np.random.default_rng([self.seed, epoch]))

    def epoch(self, epoch: int) -> list[MixedExample]:
        return self.originals + self.mixes(epoch)


def _load_split(path: Path | None, scheme: str):
    from segmix.data import read_ner

    return read_ner(path, scheme=scheme) if path is not None else None


def train_ner(config: TrainConfig) -> dict:
    """Train and evaluate a tagger; write the run folder; return the metrics dict."""
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from tqdm.auto import tqdm
    from transformers import get_linear_schedule_with_warmup

    from segmix.data import label_list, sample_subset
    from segmix.model import load_token_classifier, token_loss

    out = Path(config.output_dir)
    accelerator = Accelerator(
        mixed_precision=config.mixed_precision,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
    )
    main = accelerator.is_main_process
    set_seed(config.seed)

    # data: a seeded subset of train; dev for selection only; test scored once at the end
    train_path, dev_path, test_path = config.resolved_files()
    full_train = _load_split(train_path, config.scheme)
    train = sample_subset(full_train, config.train_size, config.sample_seed)
    if not train:
        raise ValueError(f"{train_path}: the training set is empty")
    dev = _load_split(dev_path, config.scheme)
    if dev is not None and config.dev_size is not None:
        dev = sample_subset(dev, min(config.dev_size, len(dev)), config.sample_seed)
    test = _load_split(test_path, config.scheme)
    labels = label_list(full_train)  # all of train's types, so subsets share one label space
    label2id = {label: i for i, label in enumerate(labels)}

    tokenizer = load_tokenizer(config.model)
    cache = SubwordCache(tokenizer)
    train_examples = encode_tagged(train, cache, label2id, source=str(train_path))

    augmenter = make_augmenter(config.augment, **config.augmenter_options())
    if augmenter is not None:
        augmenter.fit(train_examples, labels, cache)
        if augmenter.n_eligible == 0:
            raise ValueError(
                f"{config.augment}: no training sentence has a segment to mix "
                "(no mention for mmix, no word with a synonym for smix)"
            )
    n_mix = round(config.rate * len(train)) if augmenter is not None else 0
    data = EpochData(
        train_examples,
        augmenter,
        n_mix=n_mix,
        seed=config.seed,
        resample=config.resample,
        mix_from_epoch=config.mix_from_epoch,
    )
    plan = plan_epochs(config, len(train), n_mix)

    model = load_token_classifier(config.model, labels)
    no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight", "norm.weight")
    params = [
        {
            "params": [p for n, p in model.named_parameters() if not n.endswith(no_decay)],
            "weight_decay": config.weight_decay,
        },
        {
            "params": [p for n, p in model.named_parameters() if n.endswith(no_decay)],
            "weight_decay": 0.0,
        },
    ]
    optimizer = torch.optim.AdamW(params, lr=config.lr)
    scheduler = get_linear_schedule_with_warmup(
        optimizer, int(config.warmup_ratio * plan.total_steps), plan.total_steps
    )
    model, optimizer, scheduler = accelerator.prepare(model, optimizer, scheduler)
    collator = MixCollator(
        cache.pad_id, pad_to_multiple_of=8 if accelerator.device.type == "cuda" else None
    )

    eval_every = config.eval_every or max(1, plan.total_steps // 10)
    dev_tokens = [list(s.tokens) for s in dev] if dev else None
    dev_gold = [list(s.tags) for s in dev] if dev else None

    def evaluate_dev() -> dict | None:
        if dev_tokens is None:
            return None
        pred = predict_tags(
            accelerator.unwrap_model(model),
            cache,
            dev_tokens,
            labels,
            batch_size=config.eval_batch_size,
        )
        return ner_scores(dev_gold, pred)

    history: list[dict] = []
    epoch_times: list[float] = []
    best_f1, best_state, best_step, since_best = -1.0, None, 0, 0
    step, window_loss, window_n, tokens_seen = 0, 0.0, 0, 0
    stopped_early = False
    bar = tqdm(
        total=plan.total_steps,
        desc="train",
        unit="step",
        disable=not (config.progress and main),
        dynamic_ncols=True,
    )
    train_time = 0.0
    model.train()
    for epoch, steps_this_epoch in enumerate(plan.steps):
        examples = data.epoch(epoch)
        rng = np.random.default_rng([config.seed, 1_000 + epoch])
        per_step = config.batch_size
        if config.group_by_length:
            lengths = np.fromiter((len(e) for e in examples), dtype=np.int64, count=len(examples))
            batches = length_grouped_batches(lengths, per_step, rng)
        else:
            batches = random_batches(len(examples), per_step, rng)
        batches = batches[: steps_this_epoch * config.gradient_accumulation_steps]
        loader = torch.utils.data.DataLoader(
            examples, batch_sampler=batches, collate_fn=collator, num_workers=config.num_workers
        )
        loader = accelerator.prepare(loader)
        t0 = time.perf_counter()
        for batch in loader:
            with accelerator.accumulate(model):
                loss, _ = token_loss(model, batch)
                accelerator.backward(loss)
                if accelerator.sync_gradients and config.max_grad_norm:
                    accelerator.clip_grad_norm_(model.parameters(), config.max_grad_norm)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
            window_loss += loss.detach().float()
            window_n += 1
            tokens_seen += int(batch["attention_mask"].sum())
            if not accelerator.sync_gradients:
                continue
            step += 1
            bar.update(1)
            if step % eval_every == 0 or step == plan.total_steps:
                train_time += time.perf_counter() - t0
                mean_loss = float(window_loss) / max(window_n, 1)
                window_loss, window_n = 0.0, 0
                scores = evaluate_dev()
                record = {"step": step, "epoch": epoch + 1, "train_loss": mean_loss}
                if scores is not None:
                    record.update(
                        dev_f1=scores["f1"],
                        dev_precision=scores["precision"],
                        dev_recall=scores["recall"],
                    )
                    if scores["f1"] > best_f1:
                        best_f1, best_step, since_best = scores["f1"], step, 0
                        best_state = {
                            k: v.detach().to("cpu", copy=True)
                            for k, v in accelerator.unwrap_model(model).state_dict().items()
                        }
                    else:
                        since_best += 1
                    bar.set_postfix(
                        loss=f"{mean_loss:.3f}", dev_f1=f"{scores['f1']:.4f}", best=f"{best_f1:.4f}"
                    )
                history.append(record)
                t0 = time.perf_counter()
                if config.patience is not None and since_best >= config.patience:
                    stopped_early = True
                    break
        train_time += time.perf_counter() - t0
        epoch_times.append(train_time - sum(epoch_times))  # this epoch's training, no evaluation
        if stopped_early:
            break
    bar.close()

    # the selected model: best on dev (the last one when there is no dev set)
    final = accelerator.unwrap_model(model)
    if best_state is not None:
        final.load_state_dict(best_state)
    metrics: dict = {
        "task": "ner",
        "method": config.augment,
        "train_size": len(train),
        "mixes_per_epoch": n_mix,
        "steps": step,
        "epochs_run": len(epoch_times),
        "stopped_early": stopped_early,
        "best_step": best_step if best_state is not None else step,
        "dev": None,
        "test": None,
        "history": history,
        "timing": {
            "train_seconds": train_time,
            "epoch_seconds": epoch_times,
            "tokens_per_second": tokens_seen / train_time if train_time else None,
            "tokens_seen": tokens_seen,
        },
    }
    if main:
        out.mkdir(parents=True, exist_ok=True)
        config_dict = dataclasses.asdict(config)
        config_dict["resolved_model"] = resolve_model(config.model)
        config_dict["files"] = {"train": train_path, "dev": dev_path, "test": test_path}
        config_dict["augmenter"] = augmenter.describe() if augmenter is not None else None
        write_json(out / "config.json", config_dict)
        write_json(out / "versions.json", versions())
        write_json(
            out / "subset.json",
            {
                "train_file": train_path,
                "train_ids": [s.id for s in train],
                "dev_ids": [s.id for s in dev] if dev is not None and config.dev_size else None,
            },
        )
        for split, sentences in (("dev", dev), ("test", test)):
            if not sentences:
                continue
            t0 = time.perf_counter()
            tokens = [list(s.tokens) for s in sentences]
            gold = [list(s.tags) for s in sentences]
            pred = predict_tags(
                final,
                cache,
                tokens,
                labels,
                batch_size=config.eval_batch_size,
                progress=config.progress,
                desc=f"eval {split}",
            )
            scores = ner_scores(gold, pred)
            scores["seconds"] = time.perf_counter() - t0
            metrics[split] = scores
            _write_predictions(out / "predictions" / f"{split}.jsonl", sentences, pred)
        write_json(out / "metrics.json", metrics)
        if config.save_model:
            final.save_pretrained(out / "model")
            tokenizer.save_pretrained(out / "model")
    accelerator.wait_for_everyone()
    return metrics


def _write_predictions(path: Path, sentences, pred: Sequence[Sequence[str]]) -> None:
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        for s, p in zip(sentences, pred, strict=True):
            fh.write(
                json.dumps(
                    {"id": s.id, "tokens": list(s.tokens), "gold": list(s.tags), "pred": list(p)}
                )
                + "\n"
            )


__all__ = ["EpochData", "TrainConfig", "length_grouped_batches", "plan_epochs", "train_ner"]
