"""Short real training runs: the loss falls, runs reproduce, the run folder is complete."""

from __future__ import annotations

import json

import pytest

from segmix.config import TrainConfig
from segmix.training import EpochData, length_grouped_batches, plan_epochs, train_ner

from .conftest import tiny_config


def test_loss_falls_and_the_model_learns(mmix_run):
    _, metrics = mmix_run
    losses = [h["train_loss"] for h in metrics["history"]]
    assert len(losses) == 3
    assert losses[-1] < 0.6 * losses[0]
    assert metrics["steps"] == 36
    assert metrics["mixes_per_epoch"] == 24
    assert metrics["test"]["f1"] > 0.05  # far from trained, but no longer random


def test_run_folder_is_complete(mmix_run):
    out, metrics = mmix_run
    for name in (
        "config.json",
        "versions.json",
        "subset.json",
        "metrics.json",
        "predictions/test.jsonl",
        "predictions/dev.jsonl",
        "model/config.json",
    ):
        assert (out / name).exists(), name
    config = json.loads((out / "config.json").read_text())
    assert config["augment"] == "mmix" and config["augmenter"]["alpha"] == 8.0
    subset = json.loads((out / "subset.json").read_text())
    assert len(subset["train_ids"]) == 48
    assert json.loads((out / "metrics.json").read_text())["test"]["f1"] == metrics["test"]["f1"]
    first = json.loads((out / "predictions" / "test.jsonl").read_text().splitlines()[0])
    assert len(first["tokens"]) == len(first["gold"]) == len(first["pred"])


def test_saved_model_loads_in_a_transformers_pipeline(mmix_run):
    from transformers import pipeline

    out, _ = mmix_run
    tagger = pipeline("token-classification", model=str(out / "model"))
    result = tagger("Peter Blackburn visited Brussels .")
    assert all(
        r["entity"]
        in {"O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC", "I-MISC"}
        for r in result
    )


def test_same_seed_same_numbers(tiny_data, tmp_path):
    runs = [
        train_ner(
            tiny_config(
                tiny_data,
                tmp_path / str(i),
                augment="tmix",
                max_steps=6,
                eval_every=3,
                save_model=False,
            )
        )
        for i in range(2)
    ]
    assert [h["train_loss"] for h in runs[0]["history"]] == [
        h["train_loss"] for h in runs[1]["history"]
    ]
    assert runs[0]["test"]["f1"] == runs[1]["test"]["f1"]


def test_plan_counts_steps_with_mixes():
    cfg = TrainConfig(epochs=3, batch_size=16, mix_from_epoch=1)
    plan = plan_epochs(cfg, n_train=200, n_mix=40)
    assert plan.examples == [200, 240, 240] and plan.steps == [13, 15, 15]
    budget = plan_epochs(TrainConfig(max_steps=40, batch_size=16), n_train=200, n_mix=40)
    assert budget.total_steps == 40 and budget.steps == [15, 15, 10]


def test_epoch_data_redraws_mixes(small_examples, cache):
    import numpy as np

    from segmix.augment import MentionMix
    from segmix.mixing import MixedExample

    from .conftest import LABELS

    aug = MentionMix().fit(small_examples, LABELS, cache)
    originals = [MixedExample.original(ex.ids, ex.labels) for ex in small_examples]
    data = EpochData(originals, aug, n_mix=6, seed=0, mix_from_epoch=1)
    assert len(data.epoch(0)) == len(small_examples)
    e1, e2 = data.mixes(1), data.mixes(2)
    assert len(e1) == 6 and [m.ids_b.tolist() for m in e1] != [m.ids_b.tolist() for m in e2]
    assert [m.ids_b.tolist() for m in data.mixes(1)] == [m.ids_b.tolist() for m in e1]
    once = EpochData(originals, aug, n_mix=6, seed=0, resample="once")
    assert once.mixes(0) is once.mixes(3)
    batches = length_grouped_batches(np.array([5, 9, 2, 7, 3]), 2, np.random.default_rng(0))
    assert sorted(i for b in batches for i in b) == [0, 1, 2, 3, 4]


def test_empty_training_file_is_a_clear_error(tmp_path):
    empty = tmp_path / "train.txt"
    empty.write_text("-DOCSTART- O\n\n")
    with pytest.raises(ValueError, match=r"train\.txt"):
        train_ner(TrainConfig(train_file=str(empty), data_dir=None, output_dir=str(tmp_path)))
