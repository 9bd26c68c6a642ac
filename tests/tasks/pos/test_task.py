"""Part-of-speech tagging end to end on real UD English EWT sentences: the default data, a
short run whose loss falls, every POS method training, saved-model evaluation and CoNLL-U
predictions, the span methods refused in one line, synonyms of the word's own part of speech."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from segmix.cli import app
from segmix.config import TrainConfig
from segmix.datafiles import sample_subset
from segmix.tasks import get_task
from segmix.tasks.pos.conllu import read_conllu, write_conllu
from tests.conftest import DATA

EWT = DATA / "ud_english_ewt"
POS_METHODS = ("tmix", "smix", "lwtr", "sr", "mixup", "lada")


@pytest.fixture(scope="module")
def ewt_small(tmp_path_factory):
    """The real EWT training file, and 60-sentence samples of dev and test."""
    root = tmp_path_factory.mktemp("ewt")
    files = {"train": str(EWT / "en_ewt-ud-train.conllu")}
    for split in ("dev", "test"):
        sentences = sample_subset(read_conllu(EWT / f"en_ewt-ud-{split}.conllu"), 60, seed=0)
        write_conllu(root / f"{split}.conllu", sentences, [s.tags for s in sentences])
        files[split] = str(root / f"{split}.conllu")
    return files


def pos_config(files, out, **kw) -> TrainConfig:
    base = dict(
        task="pos",
        train_file=files["train"],
        dev_file=files["dev"],
        test_file=files["test"],
        train_size=48,
        sample_seed=2,
        seed=2,
        batch_size=8,
        lr=3e-4,
        progress=False,
        output_dir=str(out),
    )
    return TrainConfig(**{**base, **kw})


def test_the_default_data_is_ud_english_ewt():
    train, dev, test = TrainConfig(task="pos").resolved_files()
    assert [p.name for p in (train, dev, test)] == [
        "en_ewt-ud-train.conllu",
        "en_ewt-ud-dev.conllu",
        "en_ewt-ud-test.conllu",
    ]


@pytest.fixture(scope="module")
def tmix_run(ewt_small, tmp_path_factory):
    from segmix.run import train

    out = tmp_path_factory.mktemp("pos") / "tmix"
    metrics = train(pos_config(ewt_small, out, augment="tmix", max_steps=30, eval_every=15))
    return out, metrics


def test_a_short_run_learns_and_scores_accuracy(tmix_run):
    out, metrics = tmix_run
    losses = [h["train_loss"] for h in metrics["history"]]
    assert losses[-1] < losses[0]
    test = metrics["test"]
    assert test["metric"] == "accuracy" and 0.5 < test["accuracy"] <= 1
    assert set(test["per_type"]) >= {"NOUN", "VERB", "PUNCT"}
    model_config = json.loads((out / "model" / "config.json").read_text())
    assert model_config["segmix_task"] == "pos"


def test_evaluate_and_predict_a_saved_model(tmix_run, ewt_small, tmp_path):
    out, metrics = tmix_run
    runner = CliRunner()
    scores = tmp_path / "scores.json"
    result = runner.invoke(
        app, ["evaluate", str(out / "model"), "--data", ewt_small["test"], "--out", str(scores)]
    )
    assert result.exit_code == 0, result.output
    assert "accuracy" in result.output
    assert json.loads(scores.read_text())["accuracy"] == pytest.approx(metrics["test"]["accuracy"])
    predicted = tmp_path / "pred.conllu"
    result = runner.invoke(
        app,
        ["predict", str(out / "model"), "--input", ewt_small["test"], "--output", str(predicted)],
    )
    assert result.exit_code == 0, result.output
    written, source = read_conllu(predicted), read_conllu(ewt_small["test"])
    assert [s.tokens for s in written] == [s.tokens for s in source]
    assert [s.rows for s in written] != [s.rows for s in source]  # UPOS now the model's
    got = [(r[:3], r[4:]) for s in written for r in s.rows]
    assert got == [(r[:3], r[4:]) for s in source for r in s.rows]  # every other column kept
    right = sum(
        g == p
        for w, s in zip(written, source, strict=True)
        for g, p in zip(s.tags, w.tags, strict=True)
    )
    assert right / sum(len(s.tags) for s in source) == pytest.approx(metrics["test"]["accuracy"])


@pytest.mark.parametrize("method", POS_METHODS)
def test_every_pos_method_trains(method, ewt_small, tmp_path):
    from segmix.run import train

    metrics = train(
        pos_config(ewt_small, tmp_path / method, augment=method, max_steps=2, eval_every=2,
                   rate=0.5, save_model=False)
    )  # fmt: skip
    assert metrics["steps"] == 2 and metrics["test"]["metric"] == "accuracy"
    assert metrics["method"] == method and metrics["mixes_per_epoch"] > 0
    recorded = json.loads((tmp_path / method / "config.json").read_text())
    assert recorded["augmenter"]["name"] == method


@pytest.mark.parametrize(
    ("method", "reason"),
    [("mmix", "MMix mixes entity mentions"), ("seqmix", "SeqMix's windows start on entity tags")],
)
def test_a_span_method_is_refused_in_one_line(method, reason):
    result = CliRunner().invoke(app, ["train", "--task", "pos", "--augment", method])
    assert result.exit_code == 2
    assert result.output.strip() == f"error: --augment {method} cannot run on --task pos: {reason}"


def test_a_malformed_line_stops_training_with_file_and_line(tmp_path):
    bad = tmp_path / "train.conllu"
    bad.write_text("1\tHello\thello\tINTJ\tUH\t_\t0\troot\t_\n\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["train", "--task", "pos", "--train", str(bad)])
    assert result.exit_code == 2
    assert result.output.strip() == (f"error: {bad}:1: expected 10 tab-separated columns, found 9")


def test_synonyms_come_from_the_words_own_part_of_speech():
    pytest.importorskip("nltk", reason="NLTK is the optional extra segmix[wordnet]")
    from segmix.tasks.pos.synonyms import TaggedSynonymLexicon, wordnet_pos

    assert [wordnet_pos(t) for t in ("NOUN", "PROPN", "VBD", "JJR", "DET", "AUX")] == [
        "n", "n", "v", "a", None, None,
    ]  # fmt: skip
    lexicon = TaggedSynonymLexicon(["book"])
    as_noun = {" ".join(s) for s in lexicon.lookup_tagged("book", "NOUN")}
    as_verb = {" ".join(s) for s in lexicon.lookup_tagged("book", "VERB")}
    assert "volume" in as_noun and "volume" not in as_verb
    assert "reserve" in as_verb and "reserve" not in as_noun
    assert lexicon.lookup_tagged("book", "DET") == ()


def test_smix_on_pos_mixes_a_noun_only_with_noun_synonyms(cache):
    pytest.importorskip("nltk", reason="NLTK is the optional extra segmix[wordnet]")
    from segmix.augment import make_augmenter
    from segmix.tasks.pos.conllu import UDSentence

    task = get_task("pos")
    sentences = [
        UDSentence(("I", "book", "a", "flight"), ("PRON", "VERB", "DET", "NOUN"), 0),
        UDSentence(("the", "book", "is", "long"), ("DET", "NOUN", "AUX", "ADJ"), 1),
    ]
    labels = task.labels(sentences)
    encoded = task.encode(sentences, cache, labels, source="hand-made")
    smix = make_augmenter("smix", "pos").fit(encoded, labels, cache)
    verb, noun = labels.index("VERB"), labels.index("NOUN")
    as_verb = {seg.words for seg in smix.pool.options("book", verb)}
    as_noun = {seg.words for seg in smix.pool.options("book", noun)}
    assert ("reserve",) in as_verb and ("volume",) in as_noun
    assert not as_verb & as_noun
    # a multi-word synonym keeps the word's tag on every word (no O, no B-/I-)
    multi = [seg for seg in smix.pool.options("flight", noun) if len(seg.words) > 1]
    assert multi and all(set(seg.labels.tolist()) == {noun} for seg in multi)


def test_a_pos_grid_runs_and_reports_word_accuracy(ewt_small, tmp_path):
    """`segmix experiment` on a POS spec: two methods, two paired seeds, then the report, whose
    headline is word accuracy (a POS score has no F1 to fall back on)."""
    from segmix.experiment import load_spec, run_experiment
    from segmix.experiment.report import build_report, render_markdown

    spec = tmp_path / "pos.yaml"
    spec.write_text(
        "name: pos\ntask: pos\nmethods: [none, tmix]\nsizes: [20]\nseeds: [1, 2]\n"
        "budget: steps\nsteps: 4\nlr: 3.0e-4\n"
        f"train: {{train_file: {ewt_small['train']}, dev_file: {ewt_small['dev']}, "
        f"test_file: {ewt_small['test']}, batch_size: 8, eval_every: 2, dev_size: 30}}\n"
    )
    result = run_experiment(load_spec(spec), tmp_path / "grid", report=False)
    assert result.complete and not result.failed
    report = build_report(tmp_path / "grid", bootstrap=50)
    rows = {r["label"]: r for r in report["rows"]}
    assert set(rows) == {"none", "tmix"} and rows["tmix"]["n"] == 2
    accuracy = [
        100 * json.loads((c / "run" / "metrics.json").read_text())["test"]["accuracy"]
        for c in sorted((tmp_path / "grid" / "cells").iterdir())
    ]
    # the report's per-seed scores are the runs' word accuracies
    reported = {round(v, 6) for r in rows.values() for v in r["test"].values()}
    assert reported == {round(a, 6) for a in accuracy}
    assert rows["tmix"]["interval"] is not None  # the bootstrap over sentences and seeds ran
    assert "test metric: word accuracy" in render_markdown(report)
