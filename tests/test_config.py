"""TrainConfig: one check for the CLI, a --config file and the Python API; data file lookup."""

from __future__ import annotations

import dataclasses
import json
import typing
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from segmix.cli import app, config_options
from segmix.config import METHODS, ConfigError, TrainConfig

INVALID = [
    # (field, value, option as typed, what the message says is allowed)
    ("rate", -0.5, "--rate", "≥ 0"),
    ("alpha", 0.0, "--alpha", "> 0"),
    ("k", 0, "-k", "≥ 1"),
    ("train_size", 0, "--train-size", "≥ 1"),
    ("dev_size", 0, "--dev-size", "≥ 1"),
    ("max_steps", 0, "--max-steps", "≥ 1"),
    ("epochs", 0, "--epochs", "≥ 1"),
    ("batch_size", 0, "--batch-size", "≥ 1"),
    ("eval_batch_size", 0, "--eval-batch-size", "≥ 1"),
    ("lr", 0.0, "--lr", "> 0"),
    ("warmup_ratio", 1.0, "--warmup-ratio", "< 1"),
    ("warmup_ratio", -0.1, "--warmup-ratio", "≥ 0"),
    ("weight_decay", -0.01, "--weight-decay", "≥ 0"),
    ("max_grad_norm", -1.0, "--max-grad-norm", "≥ 0"),
    ("gradient_accumulation_steps", 0, "--gradient-accumulation-steps", "≥ 1"),
    ("eval_every", 0, "--eval-every", "≥ 1"),
    ("patience", 0, "--patience", "≥ 1"),
    ("dev_fraction", 0.0, "--dev-fraction", "between 0 and 1"),
    ("dev_fraction", 1.0, "--dev-fraction", "between 0 and 1"),
    ("mix_from_epoch", -1, "--mix-from-epoch", "≥ 0"),
    ("num_workers", -1, "--num-workers", "≥ 0"),
    ("task", "xx", "--task", "choose ner, re or pos"),
    ("scheme", "bio", "--scheme", "choose auto, iob1, iob2 or iobes"),
    ("pad_label", "pad", "--pad-label", "choose inside, o or ignore"),
    ("resample", "always", "--resample", "choose epoch or once"),
    ("mixed_precision", "fp8", "--mixed-precision", "choose no, fp16 or bf16"),
    ("augment", "mixdown", "--augment", "choose none, mmix, tmix, smix, lwtr"),
    # wrong types, as a JSON file can give them
    ("rate", "x", "--rate", "a number"),
    ("k", 1.5, "-k", "a whole number"),
    ("epochs", True, "--epochs", "a whole number"),
    ("save_model", "yes", "--save-model", "true or false"),
    ("lr", float("nan"), "--lr", "finite"),
    ("model", 3, "--model", "a string"),
]


@pytest.mark.parametrize(("name", "value", "option", "allowed"), INVALID)
def test_invalid_values_name_option_value_and_what_is_allowed(name, value, option, allowed):
    with pytest.raises(ConfigError) as info:
        TrainConfig(**{name: value})
    message = str(info.value)
    assert message.startswith(f"{option}: ") and repr(value) in message and allowed in message
    assert "\n" not in message


def test_config_error_is_a_value_error_and_valid_edges_pass():
    assert issubclass(ConfigError, ValueError)
    config = TrainConfig(rate=0, warmup_ratio=0, max_grad_norm=0, lr=1, train_size=1, patience=1)
    assert config.rate == 0.0 and isinstance(config.lr, float)  # ints widen to floats


def test_literal_types_and_help_on_every_field():
    hints = typing.get_type_hints(TrainConfig)
    assert typing.get_args(hints["task"]) == ("ner", "re", "pos")
    assert typing.get_args(hints["mixed_precision"]) == ("no", "fp16", "bf16")
    for f in dataclasses.fields(TrainConfig):
        assert f.metadata.get("help"), f"{f.name} has no help text"


def test_methods_are_the_registry_and_every_entry_resolves():
    from segmix.augment import REGISTRY, augmenter_class

    for task, methods in REGISTRY.items():
        assert METHODS[task] == ("none", *methods)
        for name in methods:
            assert augmenter_class(name, task).__name__ == REGISTRY[task][name].split(":")[1]


@pytest.mark.parametrize("method", ["none", "rmix", "mmix"])
def test_relation_methods_are_accepted(method):
    assert TrainConfig(task="re", augment=method).augment == method


def test_augmentation_is_checked_per_task():
    with pytest.raises(ConfigError, match=r"unknown augmentation 'tmix' for --task re"):
        TrainConfig(task="re", augment="tmix")
    with pytest.raises(ConfigError, match=r"unknown augmentation 'rmix' for --task ner"):
        TrainConfig(augment="rmix")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"same_type": True}, "--same-type applies to tagging (--task ner) only"),
        (
            {"same_label": True},
            "--same-label applies to tagging (--task ner) or POS tagging (--task pos) only",
        ),
        ({"entities_only": True}, "--entities-only applies to tagging (--task ner) only"),
        (
            {"k": 2},
            "-k 2 applies to tagging (--task ner) or POS tagging (--task pos) only",
        ),
        ({"scheme": "iob2"}, "--scheme iob2 applies to tagging (--task ner) only"),
    ],
)
def test_relations_refuse_tagging_options(options, message):
    with pytest.raises(ConfigError) as info:
        TrainConfig(task="re", **options)
    assert str(info.value) == message


def test_tagging_refuses_relation_options():
    with pytest.raises(ConfigError) as info:
        TrainConfig(same_relation=True)
    assert str(info.value) == "--same-relation applies to relation extraction (--task re) only"
    assert TrainConfig(task="re", same_relation=True).same_relation


def test_output_dir_defaults_per_task():
    assert TrainConfig().output_dir == "runs/ner"
    assert TrainConfig(task="re").output_dir == "runs/re"
    assert TrainConfig(task="re", output_dir="x").output_dir == "x"


# ------------------------------------------------------------------------------ data files
def test_resolved_files_finds_jsonl(tmp_path):
    for split in ("train", "dev"):
        (tmp_path / f"{split}.jsonl").write_text('{"tokens": ["a"], "tags": ["O"]}\n')
    train, dev, test = TrainConfig(data_dir=str(tmp_path)).resolved_files()
    assert (train, dev, test) == (tmp_path / "train.jsonl", tmp_path / "dev.jsonl", None)


def test_resolved_files_prefers_txt_and_finds_relation_files(tmp_path):
    for name in ("train.txt", "train.jsonl", "test.tsv"):
        (tmp_path / name).write_text("x\n")
    assert TrainConfig(data_dir=str(tmp_path)).resolved_files()[0] == tmp_path / "train.txt"
    train, dev, test = TrainConfig(task="re", data_dir=str(tmp_path)).resolved_files()
    assert (train, dev, test) == (tmp_path / "train.txt", None, tmp_path / "test.tsv")


def test_own_train_file_never_takes_the_default_dev_and_test(tmp_path):
    own = tmp_path / "mine.txt"
    own.write_text("EU B-ORG\n")
    for task in ("ner", "re"):
        assert TrainConfig(task=task, train_file=str(own)).resolved_files() == (own, None, None)
    dev = tmp_path / "dev.txt"
    dev.write_text("EU B-ORG\n")
    config = TrainConfig(train_file=str(own), dev_file=str(dev))
    assert config.resolved_files() == (own, dev, None)
    # with --data as well, dev and test are looked up there
    assert TrainConfig(train_file=str(own), data_dir=str(tmp_path)).resolved_files()[1] == dev


def test_missing_train_file_names_folder_and_names_tried(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        TrainConfig(data_dir=str(tmp_path)).resolved_files()
    message = str(info.value)
    assert str(tmp_path) in message and "train.txt, train.jsonl, train.conll" in message
    with pytest.raises(FileNotFoundError, match="--train: no such file"):
        TrainConfig(train_file=str(tmp_path / "absent.txt")).resolved_files()


# ------------------------------------------------------------------------------ from_dict
def test_from_dict_reproduces_a_run_record():
    config = TrainConfig(augment="mmix", rate=0.5, train_size=100, train_file="data/train.txt")
    record = {
        **config.to_dict(),
        "resolved_model": "/models/minilm",
        "files": {"train": "data/train.txt", "dev": None, "test": None},
        "augmenter": {"name": "mmix"},
        "_comment": "anything",
    }
    again = TrainConfig.from_dict(json.loads(json.dumps(record)), base_dir=Path("/runs/a"))
    # a run's own record keeps its paths as the run was started (relative to the working folder)
    assert again == config


def test_from_dict_resolves_relative_paths_against_the_file_folder(tmp_path):
    values = {"data_dir": "data", "train_file": "data/t.txt", "test_file": "/abs/test.txt"}
    config = TrainConfig.from_dict(values, base_dir=tmp_path)
    assert config.data_dir == str(tmp_path / "data")
    assert config.train_file == str(tmp_path / "data" / "t.txt")
    assert config.test_file == "/abs/test.txt"
    over = TrainConfig.from_dict(values, base_dir=tmp_path, overrides={"train_file": "x.txt"})
    assert over.train_file == "x.txt"  # command-line values are used as given


def test_from_dict_refuses_unknown_keys():
    with pytest.raises(ConfigError) as info:
        TrainConfig.from_dict({"rate": 0.1, "learning_rate": 1e-3, "epoch": 3})
    assert str(info.value).startswith("--config: unknown keys epoch, learning_rate;")


# ------------------------------------------------------------------------------ command line
def test_options_come_from_the_fields():
    @click.command()
    @config_options(TrainConfig)
    def show(**options):
        click.echo(json.dumps(options))

    result = CliRunner().invoke(show, ["-k", "3", "--data", "D", "--out", "O", "--no-progress"])
    assert result.exit_code == 0, result.output
    options = json.loads(result.output)
    assert (options["k"], options["data_dir"], options["output_dir"]) == (3, "D", "O")
    assert options["progress"] is False and options["rate"] is None
    params = {p.name: p for p in show.params}
    assert isinstance(params["task"].type, click.Choice)
    assert list(params["scheme"].type.choices) == ["auto", "iob1", "iob2", "iobes"]
    assert params["rate"].help.startswith("Mixed examples per epoch")
    result = CliRunner().invoke(show, ["--pad-label", "pad"])
    assert result.exit_code == 2 and "inside" in result.output


def _one_line_error(result, message):
    assert result.exit_code == 2, result.output
    assert result.output.strip() == f"error: {message}"
    assert "Traceback" not in result.output


def test_train_rejects_a_bad_value_in_one_line(tmp_path):
    train = tmp_path / "train.txt"
    train.write_text("EU B-ORG\n")
    result = CliRunner().invoke(
        app, ["train", "--train", str(train), "--rate", "-1", "--out", str(tmp_path / "r")]
    )
    _one_line_error(result, "--rate: -1.0 is not allowed; it must be ≥ 0")


def test_json_config_fails_the_same_way(tmp_path):
    cfg = tmp_path / "run.json"
    cfg.write_text(json.dumps({"train_file": "train.txt", "rate": -1}))
    result = CliRunner().invoke(app, ["train", "--config", str(cfg)])
    _one_line_error(result, "--rate: -1.0 is not allowed; it must be ≥ 0")
    cfg.write_text(json.dumps({"rate": "x"}))
    result = CliRunner().invoke(app, ["train", "--config", str(cfg)])
    _one_line_error(result, "--rate: 'x' is not allowed; it must be a number")
    cfg.write_text(json.dumps({"learning_rate": 0.1}))
    result = CliRunner().invoke(app, ["train", "--config", str(cfg)])
    assert result.exit_code == 2 and "unknown key learning_rate" in result.output
    cfg.write_text("{not json")
    result = CliRunner().invoke(app, ["train", "--config", str(cfg)])
    assert result.exit_code == 2 and "is not valid JSON" in result.output
    assert "Traceback" not in result.output


def test_relation_training_refuses_same_type():
    result = CliRunner().invoke(app, ["train", "--task", "re", "--same-type"])
    _one_line_error(result, "--same-type applies to tagging (--task ner) only")


def test_augment_refuses_options_of_the_other_task():
    result = CliRunner().invoke(app, ["augment", "--same-relation"])
    _one_line_error(result, "--same-relation applies to relation extraction (--task re) only")
    result = CliRunner().invoke(app, ["augment", "--task", "re", "--augment", "rmix", "-k", "2"])
    _one_line_error(result, "-k 2 applies to tagging (--task ner) or POS tagging (--task pos) only")
