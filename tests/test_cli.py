"""The command line on real data: train, evaluate, predict, augment, and clear errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from segmix.cli import app


@pytest.fixture
def runner():
    return CliRunner()


def test_help_does_not_import_torch():
    code = "import sys, segmix.cli; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_train_command_writes_a_run(runner, tiny_data, tmp_path):
    result = runner.invoke(
        app,
        [
            "train",
            "--train",
            tiny_data["train"],
            "--dev",
            tiny_data["dev"],
            "--test",
            tiny_data["test"],
            "--train-size",
            "24",
            "--max-steps",
            "3",
            "--batch-size",
            "8",
            "--augment",
            "tmix",
            "--no-save-model",
            "--no-progress",
            "--out",
            str(tmp_path / "r"),
        ],
    )
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert config["augment"] == "tmix" and config["max_steps"] == 3
    assert "test" in result.output
    assert "24 training sentences" in result.output  # how a tagger counts its training set


def test_config_file_and_override(runner, tiny_data, tmp_path):
    cfg = tmp_path / "run.json"
    cfg.write_text(
        json.dumps(
            {
                "train_file": tiny_data["train"],
                "dev_file": tiny_data["dev"],
                "test_file": tiny_data["test"],
                "train_size": 16,
                "max_steps": 2,
                "augment": "mmix",
                "save_model": False,
                "progress": False,
            }
        )
    )
    result = runner.invoke(
        app, ["train", "--config", str(cfg), "--augment", "none", "--out", str(tmp_path / "r")]
    )
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert config["augment"] == "none" and config["train_size"] == 16


def test_evaluate_matches_the_run_metrics(runner, mmix_run, tiny_data, tmp_path):
    out, metrics = mmix_run
    result = runner.invoke(
        app,
        [
            "evaluate",
            str(out / "model"),
            "--data",
            tiny_data["test"],
            "--out",
            str(tmp_path / "m.json"),
        ],
    )
    assert result.exit_code == 0, result.output
    scores = json.loads((tmp_path / "m.json").read_text())
    assert scores["f1"] == pytest.approx(metrics["test"]["f1"])


def test_predict_text_and_file(runner, mmix_run, tiny_data, tmp_path):
    out, _ = mmix_run
    result = runner.invoke(
        app, ["predict", str(out / "model"), "--text", "Peter Blackburn flew to Brussels."]
    )
    assert result.exit_code == 0, result.output
    lines = [ln.split() for ln in result.stdout.strip().splitlines()]
    assert [ln[0] for ln in lines] == ["Peter", "Blackburn", "flew", "to", "Brussels", "."]
    target = tmp_path / "pred.jsonl"
    result = runner.invoke(
        app,
        [
            "predict",
            str(out / "model"),
            "--input",
            tiny_data["test"],
            "--output",
            str(target),
            "--scheme",
            "iobes",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(x) for x in target.read_text().splitlines()]
    assert len(rows) == 80 and all(len(r["tags"]) == len(r["tokens"]) for r in rows)
    assert {t[:2] for r in rows for t in r["gold"]} <= {"O", "B-", "I-", "E-", "S-"}


def test_augment_shows_and_exports(runner, tiny_data, tmp_path):
    result = runner.invoke(
        app,
        [
            "augment",
            "--train",
            tiny_data["train"],
            "--train-size",
            "50",
            "-n",
            "3",
            "--augment",
            "mmix",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("@0.") >= 3 and "·" in result.output
    target = tmp_path / "mixes.jsonl"
    result = runner.invoke(
        app,
        [
            "augment",
            "--train",
            tiny_data["train"],
            "--train-size",
            "50",
            "-n",
            "4",
            "--augment",
            "tmix",
            "--export",
            str(target),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(x) for x in target.read_text().splitlines()]
    assert len(rows) == 4
    assert all(len(r["ids_a"]) == len(r["ids_b"]) == len(r["weight"]) for r in rows)


def test_malformed_input_names_file_and_line(runner, tmp_path):
    bad = tmp_path / "train.txt"
    bad.write_text("EU B-ORG\nrejects\n")
    result = runner.invoke(app, ["train", "--train", str(bad), "--out", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert f"{bad}:2:" in result.output


def test_unknown_augmentation_is_a_clear_error(runner, tiny_data, tmp_path):
    result = runner.invoke(
        app,
        [
            "train",
            "--train",
            tiny_data["train"],
            "--train-size",
            "8",
            "--augment",
            "mixdown",
            "--out",
            str(tmp_path / "r"),
        ],
    )
    assert result.exit_code == 2 and "unknown augmentation 'mixdown'" in result.output


def test_predict_output_scores_as_the_run_did(runner, mmix_run, tiny_data, tmp_path):
    """predict's file, scored, equals the run's own test score (no silent repair changes it)."""
    from segmix.tasks.tagging.data import read_conll
    from segmix.tasks.tagging.metrics import ner_scores

    out, metrics = mmix_run
    target = tmp_path / "pred.conll"
    result = runner.invoke(
        app, ["predict", str(out / "model"), "--input", tiny_data["test"], "--output", str(target)]
    )
    assert result.exit_code == 0, result.output
    rows = [block.splitlines() for block in target.read_text().strip().split("\n\n")]
    gold = [[line.split()[1] for line in block] for block in rows]
    pred = [[line.split()[2] for line in block] for block in rows]
    assert gold == [list(s.tags) for s in read_conll(tiny_data["test"])]
    assert ner_scores(gold, pred)["f1"] == pytest.approx(metrics["test"]["f1"])


def test_predict_empty_text_is_refused_before_loading(runner, tmp_path):
    model_dir = tmp_path / "m"
    model_dir.mkdir()  # not even a model: the text is checked first
    result = runner.invoke(app, ["predict", str(model_dir), "--text", "  "])
    assert result.exit_code == 2 and "--text: the text is empty" in result.output


def test_missing_model_folder_is_named(runner, tiny_data, tmp_path):
    result = runner.invoke(
        app,
        [
            "train",
            "--train",
            tiny_data["train"],
            "--train-size",
            "8",
            "--model",
            "./no-such-model",
            "--out",
            str(tmp_path / "r"),
        ],
    )
    assert result.exit_code == 2 and "--model: no such folder: ./no-such-model" in result.output
    assert "Traceback" not in result.output


def test_used_run_folder_is_refused(runner, tiny_data, tmp_path):
    out = tmp_path / "r"
    out.mkdir()
    (out / "metrics.json").write_text("{}")
    result = runner.invoke(
        app, ["train", "--train", tiny_data["train"], "--train-size", "8", "--out", str(out)]
    )
    assert result.exit_code == 2 and "--overwrite" in result.output and "--resume" in result.output


def test_short_k_option_as_readme_shows(runner, tiny_data, tmp_path):
    result = runner.invoke(
        app,
        [
            "train",
            "--train",
            tiny_data["train"],
            "--train-size",
            "8",
            "-k",
            "0",
            "--out",
            str(tmp_path / "r"),
        ],
    )
    assert result.exit_code == 2 and "-k: 0 is not allowed" in result.output


def test_augment_shows_a_rule_based_sentence(runner, tiny_data):
    result = runner.invoke(
        app,
        [
            "augment",
            "--train",
            tiny_data["train"],
            "--train-size",
            "50",
            "-n",
            "2",
            "--augment",
            "mr",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("→") == 2 and "/B-" in result.output


def test_augment_takes_every_augmentation_option_train_takes(runner, tiny_data):
    base = ["augment", "--train", tiny_data["train"], "--train-size", "50", "-n", "2"]
    result = runner.invoke(
        app, [*base, "--augment", "lada", "--lada-mode", "intra", "--mix-layer", "2"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("(layer 2)") == 2
    seqmix = ["--augment", "seqmix", "--window", "2", "--seqmix-windows", "mention"]
    result = runner.invoke(app, [*base, *seqmix, "--seqmix-output", "continuous"])
    assert result.exit_code == 0, result.output
    seqmix = ["--augment", "seqmix", "--seqmix-mode", "whole", "--seqmix-distance", "euclidean"]
    result = runner.invoke(app, [*base, *seqmix])
    assert result.exit_code == 0, result.output
    assert result.output.count(" → ") == 2  # the words each mix became
    result = runner.invoke(app, [*base, "--augment", "seqmix", "--window", "2"])
    assert result.exit_code == 2
    assert result.output.startswith("error: --window: 2 words cannot hold the 3 entity tags")
    result = runner.invoke(app, [*base, "--augment", "lada", "--mix-layer", "9"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: --mix-layer: 9 is beyond the encoder's 6 layers; choose 0 (the embeddings) to 6"
    ]
