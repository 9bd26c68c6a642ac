"""The pair loss and embedding mixing, by hand-computed values and on the real encoder."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from segmix.collate import MixCollator
from segmix.encoding import IGNORE_INDEX
from segmix.mixing import MixedExample
from segmix.model import load_token_classifier, mixed_embeddings, mixed_forward, pair_cross_entropy

from .conftest import LABELS


def test_pair_loss_matches_hand_computation():
    # softmax([ln1, ln2, ln1]) = [0.25, 0.5, 0.25]
    logits = torch.log(torch.tensor([[[1.0, 2.0, 1.0], [5.0, 1.0, 1.0]]]))
    labels_a = torch.tensor([[1, IGNORE_INDEX]])
    labels_b = torch.tensor([[0, IGNORE_INDEX]])
    v = torch.tensor([[0.7, 1.0]])
    expected = 0.7 * -math.log(0.5) + 0.3 * -math.log(0.25)
    assert math.isclose(
        pair_cross_entropy(logits, labels_a, labels_b, v).item(), expected, rel_tol=1e-6
    )


def test_pair_loss_equals_cross_entropy_for_originals():
    torch.manual_seed(0)
    logits = torch.randn(3, 7, 5)
    labels = torch.randint(0, 5, (3, 7))
    labels[0, :2] = IGNORE_INDEX
    ours = pair_cross_entropy(logits, labels, labels, torch.ones(3, 7))
    ref = F.cross_entropy(logits.reshape(-1, 5), labels.reshape(-1), ignore_index=IGNORE_INDEX)
    assert torch.allclose(ours, ref, atol=1e-6)


def test_pair_loss_on_sequence_labels():
    logits = torch.log(torch.tensor([[0.2, 0.8], [0.5, 0.5]]))
    loss = pair_cross_entropy(
        logits, torch.tensor([1, 0]), torch.tensor([0, 0]), torch.tensor([0.25, 1.0])
    )
    expected = ((0.25 * -math.log(0.8) + 0.75 * -math.log(0.2)) + -math.log(0.5)) / 2
    assert math.isclose(loss.item(), expected, rel_tol=1e-6)


def test_mixed_embeddings_are_the_weighted_sum_of_word_embeddings():
    model = load_token_classifier(None, LABELS)
    table = model.get_input_embeddings().weight
    ids_a, ids_b = torch.tensor([[101, 2047, 102]]), torch.tensor([[101, 8112, 102]])
    w = torch.tensor([[1.0, 0.7, 1.0]])
    emb = mixed_embeddings(model, ids_a, ids_b, w)
    assert torch.allclose(emb[0, 1], 0.7 * table[2047] + 0.3 * table[8112], atol=1e-6)
    assert torch.allclose(emb[0, 0], table[101])


def test_unmixed_batch_gives_the_same_logits_as_plain_input_ids():
    model = load_token_classifier(None, LABELS).eval()
    ex = MixedExample.original(np.array([101, 2047, 2259, 102]), np.array([-100, 1, 2, -100]))
    batch = MixCollator(0)([ex])
    assert batch["is_mixed"] is False
    plain = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    forced = dict(batch, is_mixed=True)  # the embedding path with w = 1 must agree
    with torch.no_grad():
        assert torch.allclose(mixed_forward(model, forced).logits, plain, atol=1e-5)
