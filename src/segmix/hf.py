"""Drop SegMix into an existing Hugging Face ``Trainer`` script.

Three pieces replace their plain counterparts; the model stays an ordinary
``AutoModelForTokenClassification``::

    train_set = SegMixDataset(examples, MentionMix().fit(examples, labels, cache), rate=0.2)
    trainer = SegMixTrainer(model=model, args=args, train_dataset=train_set,
                            data_collator=MixCollator(cache.pad_id), ...)

:class:`SegMixTrainer` computes the interpolated (pair) loss, which is also the loss it logs,
turns ``remove_unused_columns`` off (the collator's mixing fields are not ``forward`` arguments)
and redraws the mixes at every epoch.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from torch.utils.data import Dataset
from transformers import Trainer, TrainerCallback

from segmix.augment import SegMixAugmenter
from segmix.encoding import TaggedExample
from segmix.mixing import MixedExample
from segmix.model import token_loss
from segmix.training import EpochData


class SegMixDataset(Dataset):
    """Originals followed by ``round(rate × len(examples))`` mixes, redrawn by :meth:`set_epoch`.

    The length is fixed, so samplers and schedulers see a constant epoch; the mixes of epoch
    ``e`` come from a generator seeded by ``(seed, e)`` and do not depend on earlier epochs.
    """

    def __init__(
        self,
        examples: Sequence[TaggedExample],
        augmenter: SegMixAugmenter | None,
        *,
        rate: float = 0.2,
        seed: int = 0,
    ) -> None:
        self.originals = [
            MixedExample.original(ex.ids, ex.labels, source=i) for i, ex in enumerate(examples)
        ]
        self.n_mix = round(rate * len(examples)) if augmenter is not None else 0
        self.data = EpochData(self.originals, augmenter, n_mix=self.n_mix, seed=seed)
        self.epoch = 0
        self._mixes: list[MixedExample] | None = None

    def set_epoch(self, epoch: int) -> None:
        if epoch != self.epoch or self._mixes is None:
            self.epoch = epoch
            self._mixes = None

    def _current(self) -> list[MixedExample]:
        if self._mixes is None:
            self._mixes = list(self.data.mixes(self.epoch))
            while len(self._mixes) < self.n_mix:  # too few eligible sentences: reuse originals
                self._mixes.append(self.originals[len(self._mixes) % len(self.originals)])
        return self._mixes

    def __len__(self) -> int:
        return len(self.originals) + self.n_mix

    def __getitem__(self, index: int) -> MixedExample:
        if index < len(self.originals):
            return self.originals[index]
        return self._current()[index - len(self.originals)]


class _EpochResampler(TrainerCallback):
    def __init__(self, dataset: SegMixDataset) -> None:
        self.dataset = dataset

    def on_epoch_begin(self, args, state, control, **kwargs):
        self.dataset.set_epoch(int(state.epoch or 0))


class SegMixTrainer(Trainer):
    """A ``Trainer`` whose loss is SegMix's pair cross-entropy on (possibly) mixed embeddings.

    Works for every batch the :class:`~segmix.collate.MixCollator` makes, mixed or not, so the
    same trainer serves the no-augmentation baseline. Odd and size-1 batches are fine.
    """

    loss_is_scaled_for_ga = False  # the pair loss is a per-batch mean

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.args.remove_unused_columns:
            warnings.warn(
                "SegMixTrainer sets remove_unused_columns=False: the collator's mixing fields "
                "are not forward() arguments and must reach compute_loss",
                stacklevel=2,
            )
            self.args.remove_unused_columns = False
        if isinstance(self.train_dataset, SegMixDataset):
            self.add_callback(_EpochResampler(self.train_dataset))
        self.label_names = ["labels"]

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        loss, logits = token_loss(model, inputs)
        return (loss, {"logits": logits}) if return_outputs else loss
