"""The one training engine: Hugging Face's ``Trainer`` on mixed examples, for every task and method.

``segmix train`` and a user's own ``Trainer`` script run exactly these pieces::

    train_set = SegMixDataset(examples, MentionMix().fit(examples, labels, cache), rate=0.2)
    trainer = SegMixTrainer(model=model, args=args, train_dataset=train_set,
                            data_collator=MixCollator(cache.pad_id), ...)

- :class:`SegMixDataset`: the originals plus ``round(rate × |train|)`` mixes, redrawn at every
  epoch (``resample="epoch"``) or drawn once; before ``mix_from_epoch`` the mix slots hold
  originals, so every epoch has the same length (the Trainer's step schedule and its resume
  arithmetic assume a constant epoch).
- :class:`SegMixSampler`: the Trainer's sampler for it, grouping by length when
  ``train_sampling_strategy="group_by_length"``; seeded by ``(seed, epoch)``, so a resumed epoch
  replays the same batches. Its ``set_epoch`` (called by the Trainer each epoch) also tells the
  dataset which epoch's mixes to serve.
- :class:`EvalSet`: dev/test originals sorted by length (less padding), with the way back to the
  input order.
- :class:`SegMixTrainer`: the pair loss (:func:`segmix_loss`) for any batch, mixed or not, token
  or sequence labels; everything else (selection, early stopping, checkpoints, resume,
  ``accelerate``/``torchrun``) is the stock Trainer.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler, SequentialSampler
from transformers import Trainer, TrainerCallback

from segmix.mixing import MixedExample
from segmix.model import fgm_perturbation, input_embeddings, mixed_forward, pair_cross_entropy

logger = logging.getLogger(__name__)


def as_original(example: Any, source: int = -1) -> MixedExample:
    """An encoded example (tagged sentence, relation, or already a mixed example) as a
    :class:`MixedExample` with ``ids_b = ids_a`` and weight 1."""
    if isinstance(example, MixedExample):
        return example
    anchors = getattr(example, "anchors", None)
    if anchors is not None:  # a relation: one label for the whole example
        return MixedExample.original(
            example.ids, np.asarray([example.label]), anchors=anchors, source=source
        )
    return MixedExample.original(example.ids, example.labels, source=source)


def planned_mixes(augmenter: Any | None, rate: float, n_examples: int) -> int:
    """Mix slots an epoch: ``round(rate × n_examples)``, unless the (fitted) augmenter plans its
    own count with ``mixes_per_epoch(rate, n_examples)`` (the rule-based methods do: with
    ``rules_schedule="each"`` every rule adds ``rate`` new sentences per original it can
    change, as Dai & Adel's schedule does)."""
    if augmenter is None:
        return 0
    plan = getattr(augmenter, "mixes_per_epoch", None)
    return int(plan(rate, n_examples)) if plan is not None else round(rate * n_examples)


class SegMixDataset(Dataset):
    """Originals followed by ``round(rate × len(examples))`` mix slots (or as many as the
    augmenter plans: :func:`planned_mixes`).

    An augmenter whose ``replaces_originals`` is true (LADA's own schedule,
    ``lada_schedule="every"``) serves its mix slots *instead of* the originals: LADA trains on
    the mix of every batch and never on the batch itself, so an epoch is its slots alone.

    Args:
        examples: encoded training examples (``TaggedExample``, ``EncodedRelation`` or
            ``MixedExample`` originals).
        augmenter: anything with ``generate(n, rng) -> list[MixedExample]``, fitted on the same
            examples; ``None`` for no augmentation (the dataset is then just the originals).
        rate: mixes per epoch as a share of the originals.
        seed: the mixes of epoch ``e`` come from a generator seeded by ``(seed, e)``, so they do
            not depend on what ran before (a resumed run sees the same mixes).
        resample: ``"epoch"`` draws new partners and λ every epoch, ``"once"`` keeps the first draw.
        mix_from_epoch: epochs of originals alone before mixes join; until then the mix slots hold
            originals drawn with the epoch's seed, so the epoch length never changes.
    """

    def __init__(
        self,
        examples: Sequence[Any],
        augmenter: Any | None = None,
        *,
        rate: float = 0.2,
        seed: int = 0,
        resample: str = "epoch",
        mix_from_epoch: int = 0,
    ) -> None:
        if resample not in ("epoch", "once"):
            raise ValueError(f"resample must be 'epoch' or 'once', got {resample!r}")
        if rate < 0:
            raise ValueError(f"rate must be ≥ 0, got {rate}")
        if not examples:
            raise ValueError("no training examples")
        self.originals = [as_original(ex, i) for i, ex in enumerate(examples)]
        self.augmenter = augmenter
        self.n_mix = planned_mixes(augmenter, rate, len(examples))
        self.replaces_originals = bool(getattr(augmenter, "replaces_originals", False)) and (
            self.n_mix > 0
        )
        self.seed = int(seed)
        self.resample = resample
        self.mix_from_epoch = int(mix_from_epoch)
        self.epoch = 0
        self._mixes: list[MixedExample] | None = None
        self._once: list[MixedExample] | None = None
        self._lengths: np.ndarray | None = None

    def set_epoch(self, epoch: int) -> None:
        """Serve epoch ``epoch``'s mixes from now on (drawn lazily, on first access)."""
        if epoch != self.epoch:
            self.epoch = int(epoch)
            self._mixes = None
            self._lengths = None

    def mixes(self, epoch: int) -> list[MixedExample]:
        """The ``n_mix`` examples of the mix slots in ``epoch``."""
        if self.n_mix == 0:
            return []
        rng = np.random.default_rng([self.seed, epoch])
        if epoch < self.mix_from_epoch:
            drawn: list[MixedExample] = []
        elif self.resample == "once":
            if self._once is None:
                first = np.random.default_rng(self.seed)
                self._once = list(self.augmenter.generate(self.n_mix, first))
            drawn = list(self._once)
        else:
            drawn = list(self.augmenter.generate(self.n_mix, rng))
        missing = self.n_mix - len(drawn)
        if missing > 0:  # before mixing starts, or too few eligible sentences: originals
            n = len(self.originals)
            fill = rng.choice(n, size=missing, replace=missing > n)
            drawn.extend(self.originals[int(i)] for i in fill)
        return drawn

    def _current(self) -> list[MixedExample]:
        if self._mixes is None:
            self._mixes = self.mixes(self.epoch)
        return self._mixes

    @property
    def lengths(self) -> np.ndarray:
        """Sub-word length of every item this epoch (what length grouping sorts on)."""
        if self._lengths is None:
            items = self._served_originals() + self._current()
            self._lengths = np.fromiter((len(e) for e in items), dtype=np.int64, count=len(items))
        return self._lengths

    def _served_originals(self) -> list[MixedExample]:
        """The originals an epoch serves beside its mix slots (none when the mixes replace them)."""
        return [] if self.replaces_originals else self.originals

    def __len__(self) -> int:
        return len(self._served_originals()) + self.n_mix

    def __getitem__(self, index: int) -> MixedExample:
        served = self._served_originals()
        if index < len(served):
            return served[index]
        return self._current()[index - len(served)]


def length_grouped_order(
    lengths: np.ndarray, batch_size: int, rng: np.random.Generator, *, group: int = 8
) -> np.ndarray:
    """A shuffled order whose consecutive ``batch_size`` items have similar lengths.

    Indices are shuffled, cut into chunks of ``group`` batches, sorted by length inside a chunk
    and split into batches; the full batches are shuffled and the one short batch goes last, so
    cutting the order into ``batch_size`` pieces gives back exactly these batches. Small chunks
    keep more randomness than Trainer's ``LengthGroupedSampler`` (50 batches), which matters with a
    few hundred sentences.
    """
    order = rng.permutation(len(lengths))
    span = batch_size * group
    batches: list[np.ndarray] = []
    for start in range(0, len(order), span):
        chunk = order[start : start + span]
        chunk = chunk[np.argsort(-lengths[chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    full = [b for b in batches if len(b) == batch_size]
    short = [b for b in batches if len(b) < batch_size]
    shuffled = [full[i] for i in rng.permutation(len(full))] + short
    return np.concatenate(shuffled) if shuffled else np.zeros(0, dtype=np.int64)


class SegMixSampler(Sampler[int]):
    """The training order of a :class:`SegMixDataset`: seeded by ``(seed, epoch)``.

    Written by hand because the stock samplers read lengths once, while a mixed epoch's lengths
    change with its mixes, and because ``set_epoch`` must reach the dataset even when
    ``accelerate`` wraps the sampler for several processes.
    """

    def __init__(
        self, dataset: SegMixDataset, *, batch_size: int, seed: int, group_by_length: bool = True
    ) -> None:
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.group_by_length = group_by_length
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)
        self.dataset.set_epoch(self.epoch)

    def __len__(self) -> int:
        return len(self.dataset)

    def __iter__(self):
        self.dataset.set_epoch(self.epoch)
        rng = np.random.default_rng([self.seed, 1_000 + self.epoch])
        if self.group_by_length:
            order = length_grouped_order(self.dataset.lengths, self.batch_size, rng)
        else:
            order = rng.permutation(len(self.dataset))
        return iter(order.tolist())


class EvalSet(Dataset):
    """Dev or test examples (never mixed), served shortest first so batches carry little padding.

    ``restore(rows)`` puts per-item results back into the examples' own order.
    """

    def __init__(self, examples: Sequence[Any]) -> None:
        self.examples = [as_original(ex, i) for i, ex in enumerate(examples)]
        lengths = np.fromiter((len(e) for e in self.examples), dtype=np.int64)
        self.order = np.argsort(lengths, kind="stable")

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> MixedExample:
        return self.examples[int(self.order[index])]

    def restore(self, rows: Sequence[Any]) -> list[Any]:
        if len(rows) != len(self.examples):
            raise ValueError(f"{len(rows)} results for {len(self.examples)} examples")
        out: list[Any] = [None] * len(rows)
        for rank, index in enumerate(self.order):
            out[int(index)] = rows[rank]
        return out


def segmix_loss(
    model: torch.nn.Module,
    batch: Mapping[str, Any],
    *,
    adversarial: str = "none",
    adv_epsilon: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(loss, logits)``: the pair cross-entropy of any collated batch.

    Token labels (``logits [B, T, C]``, labels ``[B, T]``) and one label per example (``logits
    [B, C]``, labels ``[B, 1]``, e.g. relations, whose model also reads ``anchors``) alike; the
    model never learns which method made the batch.

    With ``adversarial="fgm"`` and the model in training mode, the loss is the clean loss plus
    the same loss on the batch's input embeddings moved by :func:`fgm_perturbation` (ε =
    ``adv_epsilon``) along the clean loss's gradient; the perturbation is a constant of the
    step (no gradient flows through its direction), as in Miyato et al. Mixed batches are
    perturbed after mixing. The logits returned are the clean ones.
    """
    extra = {"anchors": batch["anchors"]} if "anchors" in batch else {}
    fgm = adversarial == "fgm" and model.training
    embeds = input_embeddings(model, batch) if fgm else None
    logits = mixed_forward(model, batch, embeds=embeds, **extra).logits
    labels, mix_labels, label_weight = (
        batch["labels"],
        batch["mix_labels"],
        batch["mix_label_weight"],
    )
    if logits.dim() == labels.dim():  # one labelled unit per example
        labels, mix_labels, label_weight = labels[:, 0], mix_labels[:, 0], label_weight[:, 0]
    if logits.shape[:-1] != labels.shape:
        raise ValueError(
            f"logits of shape {tuple(logits.shape)} do not match labels of shape "
            f"{tuple(labels.shape)}"
        )
    loss = pair_cross_entropy(logits, labels, mix_labels, label_weight)
    if fgm:
        (grad,) = torch.autograd.grad(loss, embeds, retain_graph=True)
        shifted = embeds + fgm_perturbation(grad, batch["attention_mask"], adv_epsilon)
        adv_logits = mixed_forward(model, batch, embeds=shifted, **extra).logits
        loss = loss + pair_cross_entropy(adv_logits, labels, mix_labels, label_weight)
    return loss, logits


def argmax_logits(logits: torch.Tensor | tuple, labels: Any = None) -> torch.Tensor:
    """``preprocess_logits_for_metrics``: keep the arg-max only (far less to gather and pad)."""
    if isinstance(logits, tuple):
        logits = logits[0]
    return logits.argmax(-1)


class SegMixTrainer(Trainer):
    """A ``Trainer`` whose loss is SegMix's pair cross-entropy on (possibly) mixed embeddings.

    Works for every batch :class:`~segmix.collate.MixCollator` makes, mixed or not, so the same
    trainer serves the no-augmentation baseline. Odd and size-1 batches are fine. It turns
    ``remove_unused_columns`` off (the collator's mixing fields are not ``forward`` arguments and
    must reach the loss), samples a :class:`SegMixDataset` with :class:`SegMixSampler`, evaluates
    an :class:`EvalSet` in its sorted order, and keeps time spent evaluating and checkpointing
    apart from training (``timing``).
    """

    loss_is_scaled_for_ga = False  # the pair loss is a per-batch mean

    def __init__(
        self, *args: Any, adversarial: str = "none", adv_epsilon: float = 1.0, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.adversarial, self.adv_epsilon = adversarial, adv_epsilon
        if self.args.remove_unused_columns:
            logger.info("remove_unused_columns set to False: the mixing fields reach the loss")
            self.args.remove_unused_columns = False
        self.label_names = ["labels"]
        self.timing = {"eval_seconds": 0.0, "save_seconds": 0.0, "evaluations": 0}
        self.tokens_seen = 0

    def _get_train_sampler(self, train_dataset: Dataset | None = None):
        dataset = train_dataset if train_dataset is not None else self.train_dataset
        if isinstance(dataset, SegMixDataset):
            return SegMixSampler(
                dataset,
                batch_size=self.args.per_device_train_batch_size,
                seed=self.args.data_seed if self.args.data_seed is not None else self.args.seed,
                group_by_length=self.args.train_sampling_strategy == "group_by_length",
            )
        return super()._get_train_sampler(train_dataset)

    def _get_eval_sampler(self, eval_dataset: Dataset):
        if isinstance(eval_dataset, EvalSet):  # already sorted: keep the order
            return SequentialSampler(eval_dataset) if self.args.world_size <= 1 else None
        return super()._get_eval_sampler(eval_dataset)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        loss, logits = segmix_loss(
            model, inputs, adversarial=self.adversarial, adv_epsilon=self.adv_epsilon
        )
        if model.training:
            self.tokens_seen += int(inputs.get("n_tokens", 0))
        return (loss, {"logits": logits}) if return_outputs else loss

    def evaluate(self, *args: Any, **kwargs: Any) -> dict[str, float]:
        start = time.perf_counter()
        try:
            return super().evaluate(*args, **kwargs)
        finally:
            self.timing["eval_seconds"] += time.perf_counter() - start
            self.timing["evaluations"] += 1

    def _save_checkpoint(self, *args: Any, **kwargs: Any) -> None:
        start = time.perf_counter()
        try:
            super()._save_checkpoint(*args, **kwargs)
        finally:
            self.timing["save_seconds"] += time.perf_counter() - start

    def predict_eval_set(self, eval_set: EvalSet, *, desc: str = "predict") -> list[Any]:
        """Arg-max predictions of each example, in the examples' own order."""
        compute_metrics, self.compute_metrics = self.compute_metrics, None  # dev's, not this set's
        try:
            output = self.predict(eval_set, metric_key_prefix=desc)
        finally:
            self.compute_metrics = compute_metrics
        return eval_set.restore(list(output.predictions))


class SkippedEvaluationDraw(TrainerCallback):
    """Keeps training the same whether or not an evaluation before ``eval_delay`` runs.

    Every evaluation starts a DataLoader iterator, and torch draws that iterator's base seed
    from the global generator, the one dropout draws from. So skipping an evaluation would
    shift every later dropout mask, and ``eval_from`` would change training, not just which
    checkpoints are weighed. At each step where the full schedule evaluates but the delay
    skips, this draws the same one number, in the same place (after the step, before the next),
    so a run with ``eval_from`` trains exactly as one without it, and a cell whose selected
    checkpoint is kept selects the same weights (decision 31; tested).
    """

    def on_step_end(self, args, state, control, **kwargs):
        step = state.global_step
        skipped = (
            args.eval_strategy == "steps"
            and step < args.eval_delay
            and (step % state.eval_steps == 0 or step >= state.max_steps)
        )
        if skipped:
            torch.empty((), dtype=torch.int64).random_()  # what DataLoader.__iter__ draws
        return control


class ProgressBar(TrainerCallback):
    """One tqdm bar over the optimizer steps, with the loss and the dev score as they come.

    Replaces the Trainer's bar and its printed log dictionaries, which would bury each other.
    """

    def __init__(self, metric: str = "f1") -> None:
        self.metric = metric
        self.bar = None
        self.best: float | None = None

    def on_train_begin(self, args, state, control, **kwargs):
        from tqdm.auto import tqdm

        if state.is_world_process_zero:
            self.bar = tqdm(
                total=state.max_steps,
                initial=state.global_step,
                desc="train",
                unit="step",
                dynamic_ncols=True,
            )

    def on_step_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.update(state.global_step - self.bar.n)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.bar is None or not logs:
            return
        post = {}
        if "loss" in logs:
            post["loss"] = f"{logs['loss']:.3f}"
        key = f"eval_{self.metric}"
        if key in logs:
            score = float(logs[key])
            self.best = score if self.best is None else max(self.best, score)
            post["dev"] = f"{score:.4f}"
            post["best"] = f"{self.best:.4f}"
        if post:
            self.bar.set_postfix(post, refresh=False)

    def on_train_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def planned_steps(
    n_items: int,
    *,
    batch_size: int,
    accumulation: int,
    world_size: int,
    epochs: int,
    max_steps: int | None,
) -> int:
    """Optimizer steps a run will take (the Trainer's own arithmetic, for ``eval_every``)."""
    if max_steps is not None:
        return max_steps
    batches = math.ceil(n_items / (batch_size * world_size))
    return max(batches // accumulation, 1) * epochs


def evaluation_delay(steps: int, eval_from: float) -> int:
    """The first step a dev evaluation may happen at: ``eval_from`` of the planned steps.

    Passed to the Trainer as ``eval_delay`` (in steps); evaluations still fall on multiples of
    ``eval_every``, and the last step is always evaluated.
    """
    return math.ceil(eval_from * steps - 1e-9)  # 0.17 × 300 is 51, not 52


def history_from_log(log_history: Sequence[Mapping[str, Any]]) -> list[dict]:
    """One record per logging/evaluation step: step, epoch, train loss, dev scores."""
    by_step: dict[int, dict] = {}
    for entry in log_history:
        step = int(entry.get("step", 0))
        if "loss" in entry:
            rec = by_step.setdefault(step, {"step": step})
            rec["epoch"] = entry.get("epoch")
            rec["train_loss"] = float(entry["loss"])
        dev = {
            f"dev_{k[5:]}": float(v)
            for k, v in entry.items()
            if k.startswith("eval_")
            and isinstance(v, (int, float))
            and not k.endswith(("_runtime", "_per_second", "_loss"))
        }
        if dev:
            rec = by_step.setdefault(step, {"step": step})
            rec.setdefault("epoch", entry.get("epoch"))
            rec.update(dev)
    return [by_step[s] for s in sorted(by_step) if s > 0]


__all__ = [
    "EvalSet",
    "ProgressBar",
    "SegMixDataset",
    "SegMixSampler",
    "SegMixTrainer",
    "SkippedEvaluationDraw",
    "argmax_logits",
    "as_original",
    "evaluation_delay",
    "history_from_log",
    "length_grouped_order",
    "planned_steps",
    "segmix_loss",
]
