"""Batching mixed and original examples together, odd and size-1 batches included."""

from __future__ import annotations

import numpy as np
import pytest

from segmix.collate import MixCollator
from segmix.encoding import IGNORE_INDEX
from segmix.mixing import MixedExample


def _mixed() -> MixedExample:
    return MixedExample(
        ids_a=np.array([101, 5, 0, 102]),
        ids_b=np.array([101, 6, 7, 102]),
        weight=np.array([1, 0.6, 0.6, 1], dtype=np.float32),
        labels_a=np.array([-100, 1, -100, -100]),
        labels_b=np.array([-100, 3, -100, -100]),
        label_weight=np.array([1, 0.6, 0.6, 1], dtype=np.float32),
        mixes=("x",),
    )


def test_mixed_and_original_side_by_side():
    orig = MixedExample.original(np.array([101, 9, 102]), np.array([-100, 2, -100]))
    batch = MixCollator(pad_id=0)([orig, _mixed()])
    assert batch["is_mixed"] is True
    assert batch["n_tokens"] == 7  # real positions, batch padding excluded
    assert batch["input_ids"].tolist() == [[101, 9, 102, 0], [101, 5, 0, 102]]
    assert batch["mix_ids"].tolist() == [[101, 9, 102, 0], [101, 6, 7, 102]]
    # the pad id inside the mix is attended to; only batch padding is masked
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 0], [1, 1, 1, 1]]
    assert batch["labels"][0].tolist() == [-100, 2, -100, IGNORE_INDEX]
    assert batch["mix_labels"][0].tolist() == [-100, 2, -100, IGNORE_INDEX]
    assert batch["mix_weight"][1].tolist() == pytest.approx([1, 0.6, 0.6, 1])
    assert batch["mix_weight"][0].tolist() == [1, 1, 1, 1]


def test_size_one_batch_and_padding_multiple():
    batch = MixCollator(pad_id=0, pad_to_multiple_of=8)([_mixed()])
    assert batch["input_ids"].shape == (1, 8)
    assert batch["labels"].shape == batch["mix_labels"].shape == (1, 8)  # same width as ids
    assert batch["labels"][0, 4:].tolist() == [IGNORE_INDEX] * 4
    assert batch["attention_mask"].sum().item() == 4


def test_empty_batch_is_an_error():
    with pytest.raises(ValueError, match="empty"):
        MixCollator(0)([])
