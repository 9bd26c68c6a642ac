"""Short real training runs through the one path: the loss falls, runs reproduce and resume,
the run folder is complete and protected."""

from __future__ import annotations

import json
import shutil

import pytest

from segmix.config import TrainConfig
from segmix.run import carve_dev, load_data, train
from segmix.runs import RunFolderError
from segmix.tasks import get_task

from .conftest import tiny_config


def test_loss_falls_and_the_model_learns(mmix_run):
    _, metrics = mmix_run
    losses = [h["train_loss"] for h in metrics["history"]]
    assert len(losses) == 3
    assert losses[-1] < 0.6 * losses[0]
    assert metrics["steps"] == 36
    assert metrics["mixes_per_epoch"] == 24
    assert [h["step"] for h in metrics["history"]] == [12, 24, 36]
    assert all("dev_f1" in h for h in metrics["history"])
    # the selected model is the best on dev, and it is the one scored
    best = max(metrics["history"], key=lambda h: h["dev_f1"])
    assert metrics["best_step"] == best["step"]
    assert metrics["dev"]["f1"] == pytest.approx(best["dev_f1"])
    assert metrics["test"]["f1"] > 0.05  # far from trained, but no longer random


def test_dev_is_scored_once_at_selection_and_equals_the_selected_model(mmix_run):
    """The dev scores and predictions are the best evaluation's, reused rather than computed a
    second time: the saved (selected) model tags dev exactly as written."""
    from segmix.tasks.tagging.inference import Tagger
    from segmix.tasks.tagging.metrics import ner_scores

    out, metrics = mmix_run
    assert metrics["timing"]["dev_scored_at_selection"] is True
    rows = [json.loads(line) for line in (out / "predictions" / "dev.jsonl").open()]
    again = Tagger(str(out / "model"))([r["tokens"] for r in rows], batch_size=7)
    assert again == [r["pred"] for r in rows]
    assert ner_scores([r["gold"] for r in rows], again)["f1"] == metrics["dev"]["f1"]


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
    assert not (out / "checkpoints").exists()  # only an interrupted run keeps them
    config = json.loads((out / "config.json").read_text())
    assert config["augment"] == "mmix" and config["augmenter"]["alpha"] == 8.0
    subset = json.loads((out / "subset.json").read_text())
    assert len(subset["train_ids"]) == 48
    assert json.loads((out / "metrics.json").read_text())["test"]["f1"] == metrics["test"]["f1"]
    first = json.loads((out / "predictions" / "test.jsonl").read_text().splitlines()[0])
    assert len(first["tokens"]) == len(first["gold"]) == len(first["pred"])
    timing = metrics["timing"]
    assert timing["evaluations"] == 3 and timing["train_seconds"] > 0
    # the machine beside the timing: the same cell runs 3x slower on an AVX2-only CPU
    import torch

    machine = metrics["machine"]
    assert machine["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert isinstance(machine["bf16_native"], bool) and machine["cpu"]
    assert json.loads((out / "versions.json").read_text())["machine"]["cpu"] == machine["cpu"]


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
        train(
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


def test_interrupted_run_resumes_to_the_same_result(tiny_data, tmp_path):
    """Stop after the first checkpoint, resume: the same losses and scores as one go."""
    from transformers import TrainerCallback

    kw = dict(augment="mmix", rate=0.5, max_steps=8, eval_every=4, save_model=False)
    whole = train(tiny_config(tiny_data, tmp_path / "whole", **kw))

    class Interrupt(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):
            raise KeyboardInterrupt

    out = tmp_path / "cut"
    with pytest.raises(KeyboardInterrupt):
        train(tiny_config(tiny_data, out, **kw), callbacks=[Interrupt()])
    assert (out / "checkpoints" / "checkpoint-4").is_dir() and not (out / "metrics.json").exists()
    assert not (out / "finished.json").exists()
    with pytest.raises(RunFolderError, match="--resume"):
        train(tiny_config(tiny_data, out, **kw))
    with pytest.raises(RunFolderError, match="different run"):
        train(tiny_config(tiny_data, out, **{**kw, "rate": 0.2}), resume=True)
    # a process killed while saving a later checkpoint leaves it without trainer_state.json
    cut_short = out / "checkpoints" / "checkpoint-6"
    shutil.copytree(out / "checkpoints" / "checkpoint-4", cut_short)
    (cut_short / "trainer_state.json").unlink()
    resumed = train(tiny_config(tiny_data, out, **kw), resume=True)
    assert resumed["steps"] == whole["steps"] == 8
    assert [h["train_loss"] for h in resumed["history"]] == pytest.approx(
        [h["train_loss"] for h in whole["history"]], rel=1e-5
    )
    assert resumed["test"]["f1"] == pytest.approx(whole["test"]["f1"])


def test_a_second_process_on_the_same_folder_is_refused(tiny_data, tmp_path):
    from segmix.runs import run_lock

    out = tmp_path / "r"
    with run_lock(out), pytest.raises(RunFolderError, match="another segmix process"):
        train(tiny_config(tiny_data, out, max_steps=2, eval_every=2, save_model=False))


def test_finished_marker_comes_last_and_a_finished_run_is_not_resumed(mmix_run, tiny_data):
    from segmix.runs import is_finished

    out, _ = mmix_run
    assert is_finished(out)
    marker = (out / "finished.json").stat().st_mtime_ns
    assert all(
        p.stat().st_mtime_ns <= marker for p in out.rglob("*") if p.is_file() and p.name != ".lock"
    )
    config = tiny_config(tiny_data, out, augment="mmix", rate=0.5, max_steps=36, eval_every=12)
    with pytest.raises(RunFolderError, match="has finished"):
        train(config, resume=True)


def test_early_stopping_on_dev(tiny_data, tmp_path):
    """EarlyStoppingCallback: a dev score that stops improving ends the run."""
    config = tiny_config(
        tiny_data,
        tmp_path / "r",
        lr=1e-9,
        max_steps=40,
        eval_every=2,
        patience=1,
        save_model=False,
    )
    metrics = train(config)
    assert metrics["stopped_early"] and metrics["steps"] == 4
    assert metrics["best_step"] == 2


def test_a_run_config_file_reproduces_the_run_config(mmix_run):
    out, _ = mmix_run
    import json as _json

    written = _json.loads((out / "config.json").read_text())
    again = TrainConfig.from_dict(written, base_dir=out)
    assert again.to_dict() == {k: written[k] for k in again.to_dict()}


def test_overwrite_starts_clean(tiny_data, tmp_path):
    out = tmp_path / "r"
    out.mkdir()
    (out / "model").mkdir()
    (out / "model" / "stale.bin").write_text("old")
    train(tiny_config(tiny_data, out, max_steps=2, eval_every=2, save_model=False), overwrite=True)
    assert not (out / "model").exists() and (out / "metrics.json").exists()


def test_without_a_dev_file_dev_is_carved_from_train(tiny_data, tmp_path):
    config = TrainConfig(
        train_file=tiny_data["train"], test_file=tiny_data["test"], train_size=40, dev_size=30
    )
    data = load_data(get_task("ner"), config)
    assert data.dev_carved and data.files["dev"] is None
    assert len(data.dev) == 30 and not {s.id for s in data.dev} & {s.id for s in data.train}


def test_train_size_beyond_the_file_is_refused(tiny_data):
    config = TrainConfig(
        task="ner", train_file=tiny_data["dev"], dev_file=tiny_data["dev"], train_size=81
    )
    with pytest.raises(ValueError, match=r"--train-size: 81 .* 80 examples"):
        load_data(get_task("ner"), config)


def test_carve_dev_is_seeded_and_disjoint():
    items = list(range(100))
    rest, dev = carve_dev(items, 0.1, seed=3)
    assert len(dev) == 10 and len(rest) == 90 and not set(rest) & set(dev)
    assert carve_dev(items, 0.1, seed=3) == (rest, dev)
    assert carve_dev(items, 0.1, seed=4)[1] != dev


def test_empty_training_file_is_a_clear_error(tmp_path):
    empty = tmp_path / "train.txt"
    empty.write_text("-DOCSTART- O\n\n")
    with pytest.raises(ValueError, match=r"train\.txt"):
        train(TrainConfig(train_file=str(empty), output_dir=str(tmp_path / "r")))


def test_dev_types_unknown_to_train_are_reported_before_training(tiny_data, tmp_path, caplog):
    dev = tmp_path / "dev.txt"
    dev.write_text("Acme B-ORG\nsells O\nWidgets B-PRODUCT\n\n")
    config = TrainConfig(train_file=tiny_data["train"], dev_file=str(dev), train_size=10)
    with caplog.at_level("WARNING", logger="segmix.tasks.tagging.task"):
        load_data(get_task("ner"), config)
    assert f"{dev}:3: entity type 'PRODUCT' does not occur in the training file" in caplog.text


def test_an_augmentation_with_nothing_to_mix_is_refused_before_training(tmp_path):
    from segmix.run import prepare

    train_file = tmp_path / "train.txt"
    train_file.write_text("no O\nentities O\nhere O\n\nnor O\nhere O\n\nat O\nall O\n\n")
    config = TrainConfig(train_file=str(train_file), augment="mmix", output_dir=str(tmp_path / "r"))
    with pytest.raises(ValueError, match="--augment: mmix has nothing to change"):
        prepare(config)


def test_resume_takes_a_field_the_stored_config_lacks_as_its_default(tmp_path):
    """A run started before a field existed (here LADA's options) resumes; a real change does
    not."""
    import dataclasses

    from segmix.run import prepare_run_folder

    config = TrainConfig(augment="mr", output_dir=str(tmp_path / "r"))
    stored = dataclasses.asdict(config)
    del stored["lada_mode"], stored["mix_layer"]
    out = tmp_path / "r"
    out.mkdir()
    (out / "config.json").write_text(json.dumps(stored))
    prepare_run_folder(out, config, resume=True, overwrite=False)  # no error
    with pytest.raises(RunFolderError, match=r"is a different run \(lr 0.0001 → 0.0002\)"):
        prepare_run_folder(out, dataclasses.replace(config, lr=2e-4), resume=True, overwrite=False)


def test_test_size_scores_a_fixed_seeded_test_sample(tiny_data, tmp_path):
    task = get_task("ner")
    full = load_data(task, tiny_config(tiny_data, tmp_path / "a"))

    def sample(**kw) -> list:
        data = load_data(task, tiny_config(tiny_data, tmp_path / "a", test_size=12, **kw))
        return [s.tokens for s in data.test]

    first = sample()
    assert len(first) == 12 and first == sample()
    assert all(tokens in [s.tokens for s in full.test] for tokens in first)
    assert sample(sample_seed=3) != first
    with pytest.raises(ValueError, match=r"^--test-size: 0 is not allowed; it must be ≥ 1$"):
        TrainConfig(test_size=0)


def test_eval_from_skips_early_dev_evaluations_and_changes_nothing_else(tiny_data, tmp_path):
    """``eval_from``: no dev evaluation (and so no selection candidate) before that share of the
    planned steps; evaluations still fall on multiples of ``eval_every``. Evaluating leaves
    training untouched, so the evaluations kept score exactly what the full schedule scores
    there: a cell whose best checkpoint is kept selects the same weights (decision 31)."""
    kw = dict(max_steps=12, eval_every=3, save_model=False)
    late = train(tiny_config(tiny_data, tmp_path / "late", eval_from=0.5, **kw))
    full = train(tiny_config(tiny_data, tmp_path / "full", **kw))
    assert [h["step"] for h in late["history"] if "dev_f1" in h] == [6, 9, 12]
    assert late["timing"]["evaluations"] == 3 and full["timing"]["evaluations"] == 4
    scored = {h["step"]: (h["dev_f1"], h["train_loss"]) for h in full["history"]}
    for h in late["history"]:
        if "dev_f1" in h:
            assert (h["dev_f1"], h["train_loss"]) == scored[h["step"]]
    if full["best_step"] >= 6:
        assert late["best_step"] == full["best_step"] and late["test"] == full["test"]


def test_evaluation_delay_is_a_share_of_the_planned_steps():
    from segmix.engine import evaluation_delay

    assert evaluation_delay(400, 0.0) == 0
    assert evaluation_delay(400, 0.4) == 160
    assert evaluation_delay(300, 0.17) == 51  # not 52: 0.17 * 300 is 51.00000000000001
    assert evaluation_delay(300, 0.4) == 120
    assert evaluation_delay(200, 0.45) == 90
    with pytest.raises(
        ValueError, match=r"^--eval-from: 1.0 is not allowed; it must be ≥ 0 and < 1$"
    ):
        TrainConfig(eval_from=1.0)


def test_resume_refuses_a_run_from_before_its_method_followed_its_source(tmp_path):
    """An interrupted MR run from before ``mr_draw`` existed drew over mention occurrences; a
    missing field means the behaviour before it existed, so resuming it with today's default
    (distinct texts) is a different run, and resuming with ``mr_draw: mentions`` is the same."""
    import dataclasses

    from segmix.run import prepare_run_folder

    config = TrainConfig(augment="mr", output_dir=str(tmp_path / "r"))
    stored = dataclasses.asdict(config)
    del stored["mr_draw"]
    out = tmp_path / "r"
    out.mkdir()
    (out / "config.json").write_text(json.dumps(stored))
    with pytest.raises(RunFolderError, match=r"different run \(mr_draw 'mentions' → 'texts'\)"):
        prepare_run_folder(out, config, resume=True, overwrite=False)
    earlier = dataclasses.replace(config, mr_draw="mentions")
    prepare_run_folder(out, earlier, resume=True, overwrite=False)  # no error


def test_resume_ignores_options_added_later_that_its_method_does_not_read(tmp_path):
    """An MMix run interrupted before SeqMix's, LADA's and the rules' options existed lacks
    them all; MMix reads none of them, so it resumes (their earlier values would otherwise be
    set against today's defaults and refuse it)."""
    import dataclasses

    from segmix.experiment.cells import ADDED_LATER
    from segmix.run import prepare_run_folder

    config = TrainConfig(augment="mmix", output_dir=str(tmp_path / "r"))
    stored = {k: v for k, v in dataclasses.asdict(config).items() if k not in ADDED_LATER}
    out = tmp_path / "r"
    out.mkdir()
    (out / "config.json").write_text(json.dumps(stored))
    prepare_run_folder(out, config, resume=True, overwrite=False)  # no error
