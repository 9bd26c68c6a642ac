"""The engine inside a stock Hugging Face Trainer: dataset, sampler, evaluation order, loss."""

from __future__ import annotations

import numpy as np
import torch
from transformers import TrainingArguments

from segmix.augment import MentionMix
from segmix.collate import MixCollator
from segmix.engine import (
    EvalSet,
    SegMixDataset,
    SegMixSampler,
    SegMixTrainer,
    length_grouped_order,
    segmix_loss,
)
from segmix.model import fgm_perturbation, load_token_classifier, pair_cross_entropy

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


def test_mix_from_epoch_and_resample_once(small_examples, cache):
    mmix = MentionMix().fit(small_examples, LABELS, cache)
    n = len(small_examples)
    late = SegMixDataset(small_examples, mmix, rate=0.1, seed=0, mix_from_epoch=2)
    assert len(late) == n + 6  # the epoch length never changes
    for epoch, mixed in ((0, False), (1, False), (2, True)):
        late.set_epoch(epoch)
        assert all(late[i].is_mixed == mixed for i in range(n, n + 6)), epoch
    once = SegMixDataset(small_examples, mmix, rate=0.1, seed=0, resample="once")
    first = [once[i].ids_b.tolist() for i in range(n, n + 6)]
    once.set_epoch(3)
    assert [once[i].ids_b.tolist() for i in range(n, n + 6)] == first


def test_length_grouped_order_keeps_batches_and_covers_everything():
    lengths = np.array([5, 9, 2, 7, 3, 12, 4, 8, 6, 1, 11])
    order = length_grouped_order(lengths, 3, np.random.default_rng(0), group=2)
    assert sorted(order.tolist()) == list(range(11))
    batches = [order[i : i + 3] for i in range(0, 11, 3)]
    assert len(batches[-1]) == 2  # the short batch is last
    # inside a group of 2 batches, lengths are sorted: each batch is a contiguous length range
    for b in batches[:-1]:
        assert list(lengths[b]) == sorted(lengths[b], reverse=True)


def test_sampler_is_seeded_by_epoch_and_tells_the_dataset(small_examples, cache):
    data = SegMixDataset(small_examples, MentionMix().fit(small_examples, LABELS, cache), seed=1)
    sampler = SegMixSampler(data, batch_size=8, seed=5)
    first = list(sampler)
    assert sorted(first) == list(range(len(data)))
    assert list(sampler) == first
    sampler.set_epoch(1)
    assert data.epoch == 1 and list(sampler) != first


def test_eval_set_sorts_by_length_and_restores_order(small_examples):
    eval_set = EvalSet(small_examples)
    lengths = [len(eval_set[i]) for i in range(len(eval_set))]
    assert lengths == sorted(lengths)
    rows = [len(eval_set[i]) for i in range(len(eval_set))]
    assert eval_set.restore(rows) == [len(ex.ids) for ex in small_examples]


def test_loss_serves_token_and_sequence_labels():
    class Head(torch.nn.Module):
        def __init__(self, out):
            super().__init__()
            self.emb = torch.nn.Embedding(10, 4)
            self.out = out

        def get_input_embeddings(self):
            return self.emb

        def forward(self, input_ids=None, inputs_embeds=None, attention_mask=None, anchors=None):
            x = self.emb(input_ids) if inputs_embeds is None else inputs_embeds
            logits = x if self.out == "token" else x.mean(1)
            return type("Out", (), {"logits": logits})

    ids = torch.tensor([[1, 2, 3], [4, 5, 6]])
    token_labels = torch.tensor([[0, -100, 3], [1, 2, -100]])
    batch = {
        "input_ids": ids,
        "attention_mask": torch.ones_like(ids),
        "labels": token_labels,
        "mix_ids": ids,
        "mix_weight": torch.ones(2, 3),
        "mix_labels": token_labels,
        "mix_label_weight": torch.ones(2, 3),
        "is_mixed": False,
    }
    model = Head("token")
    loss, logits = segmix_loss(model, batch)
    assert torch.allclose(
        loss, torch.nn.functional.cross_entropy(logits.flatten(0, 1), token_labels.flatten())
    )
    seq = dict(
        batch,
        labels=torch.tensor([[2], [3]]),
        mix_labels=torch.tensor([[1], [3]]),
        mix_label_weight=torch.tensor([[0.25], [1.0]]),
        anchors=torch.zeros(2, 2),
    )
    loss, logits = segmix_loss(Head("seq"), seq)
    expected = pair_cross_entropy(
        logits, torch.tensor([2, 3]), torch.tensor([1, 3]), torch.tensor([0.25, 1.0])
    )
    assert torch.allclose(loss, expected)


def _short_trainer(small_examples, cache, tmp_path, **trainer_options) -> SegMixTrainer:
    """10 optimizer steps of the bundled encoder on 60 real sentences and MMix mixes (rate 0.5),
    logging the loss every 5 steps."""
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
        train_sampling_strategy="group_by_length",
        disable_tqdm=True,
    )
    return SegMixTrainer(
        model=load_token_classifier(None, LABELS),
        args=args,
        train_dataset=data,
        data_collator=MixCollator(cache.pad_id),
        **trainer_options,
    )


def _losses_fall(trainer: SegMixTrainer) -> bool:
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    return len(losses) == 2 and bool(np.isfinite(losses).all()) and losses[-1] < losses[0]


def test_trainer_groups_by_length_and_trains_on_mixed_batches(small_examples, cache, tmp_path):
    """``train_sampling_strategy="group_by_length"`` works with mixed examples (stock
    Trainer raises 'Can only automatically infer lengths')."""
    trainer = _short_trainer(small_examples, cache, tmp_path)
    assert isinstance(trainer._get_train_sampler(), SegMixSampler)
    trainer.train()
    assert _losses_fall(trainer)
    assert trainer.tokens_seen > 0


def test_fgm_perturbation_has_norm_epsilon_per_example_and_spares_padding():
    grad = torch.tensor(
        [[[3.0, 4.0], [0.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]]]  # example 2: norm √2 over 2 words
    )
    mask = torch.tensor([[1, 0], [1, 1]])
    grad[0, 1] = torch.tensor([9.0, 9.0])  # a pad position's gradient is ignored
    r = fgm_perturbation(grad, mask, 2.0)
    assert torch.allclose(r[0, 0], torch.tensor([1.2, 1.6])) and torch.all(r[0, 1] == 0)
    s = 2.0 / 2**0.5
    assert torch.allclose(r[1], torch.tensor([[s, 0.0], [0.0, s]]))
    assert torch.allclose(r.flatten(1).norm(dim=1), torch.tensor([2.0, 2.0]))
    assert torch.all(fgm_perturbation(torch.zeros(1, 2, 2), torch.ones(1, 2), 1.0) == 0)


def test_fgm_adds_the_loss_at_the_embeddings_moved_uphill(small_examples, cache):
    """On the real encoder and a real mixed batch: the FGM loss is the clean loss plus the loss
    at the perturbed embeddings, which is higher than the clean one (the step goes uphill), and
    in eval mode nothing is added."""
    torch.manual_seed(0)
    model = load_token_classifier(None, LABELS)
    mixer = MentionMix().fit(small_examples, LABELS, cache)
    mixes = mixer.generate(4, np.random.default_rng(0))
    batch = MixCollator(cache.pad_id)(mixes)
    model.train()
    torch.manual_seed(1)
    clean, _ = segmix_loss(model, batch)
    torch.manual_seed(1)
    both, _ = segmix_loss(model, batch, adversarial="fgm", adv_epsilon=1.0)
    adversarial_part = both - clean
    assert adversarial_part > clean  # the loss at the perturbed embeddings is higher
    both.backward()  # the graph of both passes reaches the parameters
    assert model.get_input_embeddings().weight.grad is not None
    model.eval()
    with torch.no_grad():
        assert torch.allclose(
            segmix_loss(model, batch, adversarial="fgm")[0], segmix_loss(model, batch)[0]
        )


def test_mmix_with_fgm_trains_and_its_loss_falls(small_examples, cache, tmp_path):
    trainer = _short_trainer(small_examples, cache, tmp_path, adversarial="fgm", adv_epsilon=1.0)
    trainer.train()
    assert _losses_fall(trainer)
