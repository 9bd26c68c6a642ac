"""SegMix inside a stock Hugging Face Trainer."""

from __future__ import annotations

import numpy as np
import pytest
from transformers import TrainingArguments

from segmix.augment import MentionMix
from segmix.collate import MixCollator
from segmix.hf import SegMixDataset, SegMixTrainer
from segmix.model import load_token_classifier

from .conftest import LABELS


def test_dataset_redraws_mixes_per_epoch(small_examples, cache):
    data = SegMixDataset(
        small_examples, MentionMix().fit(small_examples, LABELS, cache), rate=0.25, seed=1
    )
    assert len(data) == len(small_examples) + 15
    first = data[len(small_examples)].ids_b.tolist()
    data.set_epoch(1)
    assert data[len(small_examples)].ids_b.tolist() != first
    data.set_epoch(0)
    assert data[len(small_examples)].ids_b.tolist() == first


def test_trainer_trains_on_mixed_batches(small_examples, cache, tmp_path):
    data = SegMixDataset(
        small_examples, MentionMix().fit(small_examples, LABELS, cache), rate=0.5, seed=0
    )
    args = TrainingArguments(
        str(tmp_path),
        per_device_train_batch_size=7,
        max_steps=10,
        learning_rate=3e-4,
        logging_steps=5,
        report_to=[],
        save_strategy="no",
        use_cpu=True,
    )
    with pytest.warns(UserWarning, match="remove_unused_columns"):
        trainer = SegMixTrainer(
            model=load_token_classifier(None, LABELS),
            args=args,
            train_dataset=data,
            data_collator=MixCollator(cache.pad_id),
        )
    trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert len(losses) == 2 and np.isfinite(losses).all() and losses[-1] < losses[0]
