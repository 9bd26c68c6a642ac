"""A short real relation-classification run: outputs, carved dev, official answers."""

from __future__ import annotations

import json

import pytest

from segmix.config import TrainConfig
from segmix.run import train
from segmix.tasks.relations.inference import evaluate_relation_model

from .conftest import SEMEVAL


@pytest.fixture(scope="module")
def re_run(tmp_path_factory):
    if not SEMEVAL.exists():
        pytest.skip(f"real data not found at {SEMEVAL}")
    root = tmp_path_factory.mktemp("semeval")
    lines = (SEMEVAL / "test.tsv").read_text().splitlines()[:60]
    (root / "test.tsv").write_text("\n".join(lines) + "\n")
    out = root / "run"
    metrics = train(
        TrainConfig(
            task="re",
            train_file=str(SEMEVAL / "train.tsv"),
            test_file=str(root / "test.tsv"),
            train_size=48,
            dev_size=60,
            augment="rmix",
            rate=0.5,
            max_steps=16,
            eval_every=8,
            batch_size=8,
            lr=3e-4,
            progress=False,
            output_dir=str(out),
        )
    )
    return root, out, metrics


def test_run_outputs_and_official_answer_file(re_run):
    _root, out, metrics = re_run
    assert metrics["steps"] == 16 and metrics["mixes_per_epoch"] == 24
    assert metrics["test"]["metric"] == "semeval2010_task8_official_macro_f1"
    assert 0.0 <= metrics["test"]["macro_f1"] <= 1.0
    answers = (out / "predictions" / "test_answers.txt").read_text().splitlines()
    assert answers[0].split("\t")[0] == "8001" and len(answers) == 60
    subset = json.loads((out / "subset.json").read_text())
    assert subset["dev_carved_from_train"] is True
    assert not set(subset["dev_ids"]) & set(subset["train_ids"])
    losses = [h["train_loss"] for h in metrics["history"]]
    assert losses[-1] < losses[0]


def test_evaluate_saved_model_reproduces_test_score(re_run):
    root, out, metrics = re_run
    scores = evaluate_relation_model(str(out / "model"), str(root / "test.tsv"))
    assert scores["macro_f1"] == pytest.approx(metrics["test"]["macro_f1"])


def test_cli_evaluate_and_predict_relations(re_run, tmp_path):
    from click.testing import CliRunner

    from segmix.cli import app

    root, out, metrics = re_run
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "evaluate",
            str(out / "model"),
            "--data",
            str(root / "test.tsv"),
            "--out",
            str(tmp_path / "m.json"),
        ],
    )
    assert result.exit_code == 0, result.output
    scores = json.loads((tmp_path / "m.json").read_text())
    assert scores["macro_f1"] == pytest.approx(metrics["test"]["macro_f1"])
    assert "semeval2010_task8_official_macro_f1" in result.output
    result = runner.invoke(
        app,
        [
            "predict",
            str(out / "model"),
            "--input",
            str(root / "test.tsv"),
            "--output",
            str(tmp_path / "a.txt"),
        ],
    )
    assert result.exit_code == 0, result.output
    answers = (tmp_path / "a.txt").read_text().splitlines()
    assert answers == (out / "predictions" / "test_answers.txt").read_text().splitlines()


def test_saved_model_is_a_pretrained_model(re_run):
    from transformers import AutoModel

    from segmix.tasks.relations.model import RelationClassifier

    _root, out, _metrics = re_run
    model = AutoModel.from_pretrained(out / "model")
    assert isinstance(model, RelationClassifier)
    assert model.config.labels[0] == "Cause-Effect(e1,e2)" and not model.config.typed


def test_re_runs_default_to_their_own_folder():
    assert TrainConfig(task="re").output_dir == "runs/re"


def test_evaluate_on_a_label_set_that_is_not_semeval(re_run, tmp_path):
    from click.testing import CliRunner

    from segmix.cli import app

    _root, out, _metrics = re_run
    custom = tmp_path / "custom.tsv"
    custom.write_text(
        "Works-For\tThe <e1>engineer</e1> joined <e2>Acme</e2> .\n"
        "Lives-In\t<e1>Ann</e1> lives in <e2>Paris</e2> .\n"
    )
    result = CliRunner().invoke(app, ["evaluate", str(out / "model"), "--data", str(custom)])
    assert result.exit_code == 0, result.output
    assert "accuracy" in result.output


def test_misspelt_semeval_label_is_refused_with_file_and_line(tmp_path):
    from segmix.tasks import get_task

    lines = (SEMEVAL / "train.tsv").read_text().splitlines()[:5]
    _relation, sentence = lines[3].split("\t", 1)
    lines[3] = "Cause-Efect(e1,e2)\t" + sentence
    bad = tmp_path / "train.tsv"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"train\.tsv:4: relation 'Cause-Efect\(e1,e2\)'"):
        get_task("re").read(bad)
