"""``segmix inspect --task pos``: word coverage and gains by tag and by seen word, counted by
hand on tiny CoNLL-U files; the CLI end to end on real UD English EWT sentences; its one-line
refusals (the rules, intra-LADA, a task without an inspection)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from segmix.config import TrainConfig
from segmix.tasks.pos.conllu import UDSentence, write_conllu
from segmix.tasks.pos.metrics import pos_scores
from tests.conftest import DATA

EWT = DATA / "ud_english_ewt"

# training file: sentences 0-2 are the subset (train_size 3, sample seed 5, as in
# test_gains.py); sentence 3 is a decoy outside it holding "Birds" and "fly", so they are
# *unseen* only if the pool is exactly the subset
TRAIN = [
    (["Ann", "runs", "."], ["PROPN", "VERB", "PUNCT"]),
    (["Dogs", "bark", "."], ["NOUN", "VERB", "PUNCT"]),
    (["Cats", "sleep", "well", "."], ["NOUN", "VERB", "ADV", "PUNCT"]),
    (["Birds", "fly", "."], ["NOUN", "VERB", "PUNCT"]),
]
TEST = [
    (["Dogs", "run", "well", "."], ["NOUN", "VERB", "ADV", "PUNCT"]),  # run unseen
    (["Birds", "sleep", "."], ["NOUN", "VERB", "PUNCT"]),  # Birds unseen (decoy)
    (["Ann", "fly", "."], ["PROPN", "VERB", "PUNCT"]),  # fly unseen (decoy)
]
# 10 test words, 7 seen, 3 unseen (run, Birds, fly). The baseline gets every seen word right
# and no unseen one: 7 of 10; the run gets run and Birds too: 9 of 10
BASE = [["NOUN", "NOUN", "ADV", "PUNCT"], ["PROPN", "VERB", "PUNCT"], ["PROPN", "NOUN", "PUNCT"]]
RUN = [["NOUN", "VERB", "ADV", "PUNCT"], ["NOUN", "VERB", "PUNCT"], ["PROPN", "NOUN", "PUNCT"]]


def _conllu(path: Path, sentences: list[tuple[list[str], list[str]]]) -> str:
    uds = [UDSentence(words, tags, i) for i, (words, tags) in enumerate(sentences)]
    write_conllu(path, uds, [s.tags for s in uds])
    return str(path)


def _data(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    _conllu(folder / "train.conllu", TRAIN)
    _conllu(folder / "dev.conllu", TRAIN[:1])
    _conllu(folder / "test.conllu", TEST)
    return folder


def _write_run(folder: Path, data: Path, augment: str, pred: list) -> Path:
    """A finished pos run folder as ``segmix train`` writes it (without a model)."""
    folder.mkdir(parents=True, exist_ok=True)
    config = TrainConfig(
        task="pos",
        data_dir=str(data),
        train_size=3,
        sample_seed=5,
        augment=augment,
        seed=1,
        max_steps=10,
        output_dir=str(folder),
    ).to_dict()
    config.update(resolved_model="default", files={}, augmenter=None)
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    (folder / "subset.json").write_text(json.dumps({"train_ids": [0, 1, 2]}), encoding="utf-8")
    gold = [t for _, t in TEST]
    (folder / "metrics.json").write_text(json.dumps({"test": pos_scores(gold, pred)}), "utf-8")
    (folder / "predictions").mkdir(exist_ok=True)
    (folder / "predictions" / "test.jsonl").write_text(
        "".join(
            json.dumps({"id": i, "tokens": w, "gold": g, "pred": p}) + "\n"
            for i, ((w, g), p) in enumerate(zip(TEST, pred, strict=True))
        ),
        encoding="utf-8",
    )
    (folder / "finished.json").write_text("{}", encoding="utf-8")
    return folder


def test_pos_gains_by_tag_and_seen_word_by_hand(tmp_path):
    from segmix.inspect.gains import gain_report, plot_gains, render_gains

    data = _data(tmp_path / "data")
    base = _write_run(tmp_path / "n3" / "none" / "seed1", data, "none", BASE)
    run = _write_run(tmp_path / "n3" / "tmix" / "seed1", data, "tmix", RUN)
    report = gain_report(run, resamples=100)
    pts = pytest.approx
    assert report["baseline"]["dir"] == str(base.resolve())
    assert report["unit"] == "word" and report["test"]["items"] == 10
    assert set(report["breakdowns"]) == {"type", "seen"}  # no length: a word is one word
    assert report["overall"]["baseline"]["f1"] == pts(70.0)  # word accuracy, in points
    assert report["overall"]["run"]["f1"] == pts(90.0)
    assert report["overall"]["gain"] == pts(20.0)

    seen = {r["bucket"]: r for r in report["breakdowns"]["seen"]}
    assert (seen["seen"]["gold"], seen["unseen"]["gold"]) == (7, 3)
    assert seen["seen"]["run"]["f1"] == seen["seen"]["baseline"]["f1"] == pts(100.0)
    # unseen: 0 of 3 -> 2 of 3; a group's F1 is its accuracy (predicted = gold = its words)
    assert seen["unseen"]["baseline"]["f1"] == 0.0
    assert seen["unseen"]["run"]["f1"] == pts(200 / 3)
    assert seen["unseen"]["contribution"] == pts(20.0)  # 2 more right words of 10
    assert report["readings"]["seen"].startswith("The gain sits mostly on unseen words")

    tags = {r["bucket"]: r for r in report["breakdowns"]["type"]}
    # NOUN: 2 gold. Baseline predicts Dogs, run, fly NOUN (1 right): P 1/3, R 1/2 -> 2/5;
    # the run Dogs, Birds, fly (2 right): P 2/3, R 1 -> 4/5
    assert tags["NOUN"]["baseline"]["f1"] == pts(40.0)
    assert tags["NOUN"]["run"]["f1"] == pts(80.0)
    # VERB: 3 gold. Baseline: sleep only, P 1, R 1/3 -> 1/2; the run run and sleep -> 4/5
    assert tags["VERB"]["gain"] == pts(30.0)
    # PROPN: Ann right in both; the baseline also calls Birds PROPN -> 2/3, the run 1
    assert tags["PROPN"]["gain"] == pts(100 / 3)
    # a tag's share of the accuracy gain is its extra right words over all 10
    assert {t: r["contribution"] for t, r in tags.items()} == {
        "ADV": pts(0.0),
        "NOUN": pts(10.0),
        "PROPN": pts(0.0),
        "PUNCT": pts(0.0),
        "VERB": pts(10.0),
    }
    for rows in report["breakdowns"].values():
        assert sum(r["contribution"] for r in rows) == pts(20.0)
        assert sum(r["gold"] for r in rows) == 10

    text = "\n".join(render_gains(report))
    assert "word accuracy: 90.00 with tmix and 70.00 without" in text
    assert "### By part-of-speech tag" in text and "mention" not in text
    assert "| unseen | 3 | 30 % | 66.67 | 0.00 | +66.67 |" in text
    assert [p.name for p in plot_gains(report, tmp_path / "plots")] == ["gains.png"]


def test_pos_grid_coverage_is_per_tag_seen_words():
    from segmix.tasks import inspection_for

    test = [UDSentence(w, t, i) for i, (w, t) in enumerate(TEST)]
    forms = frozenset((w,) for words, _ in TRAIN[:3] for w in words)
    coverage = inspection_for("pos").type_coverage(SimpleNamespace(test=test, forms=forms))
    assert {t: (c["test"], c["covered"]) for t, c in coverage.items()} == {
        "ADV": (1, 1),
        "NOUN": (2, 1),  # Dogs seen, Birds not
        "PROPN": (1, 1),
        "PUNCT": (3, 3),
        "VERB": (3, 1),  # sleep seen; run and fly not
    }


def test_pos_word_coverage_counted_by_hand(tmp_path):
    from segmix.inspect.coverage import coverage_report
    from segmix.run import prepare

    dev = [
        (["Dogs", "run", "well", "."], ["NOUN", "VERB", "ADV", "PUNCT"]),
        (["Wow", ",", "bark", "!"], ["INTJ", "PUNCT", "NOUN", "PUNCT"]),  # INTJ: not in training
    ]
    config = TrainConfig(
        task="pos",
        train_file=_conllu(tmp_path / "train.conllu", TRAIN[:3]),
        dev_file=_conllu(tmp_path / "dev.conllu", dev),
        augment="tmix",
        progress=False,
    )
    cov, pool = coverage_report(prepare(config), "tmix")
    # TMix's pool: every training word occurrence, by its tag
    assert cov["pool"]["segments"] == len(pool.entries) == 10
    assert {t: r["pool"]["segments"] for t, r in cov["types"].items()} == {
        "ADV": 1,
        "INTJ": 0,
        "NOUN": 2,
        "PROPN": 1,
        "PUNCT": 3,
        "VERB": 3,
    }
    assert cov["types"]["PUNCT"]["pool"]["distinct"] == 1
    assert cov["types"]["VERB"]["train_words"] == 3
    # 8 dev words; in the pool: Dogs, well, ".", bark (a training VERB); with the same tag:
    # Dogs, well, "." (bark is a NOUN here)
    assert cov["all"]["dev"] == {"words": 8, "in_pool": 0.5, "in_pool_same_tag": 3 / 8}
    assert cov["types"]["NOUN"]["dev"] == {"words": 2, "in_pool": 1.0, "in_pool_same_tag": 0.5}
    assert cov["types"]["PUNCT"]["dev"]["in_pool"] == pytest.approx(1 / 3)
    assert cov["unmixable"] == {"dev": ["INTJ"]}


def _invoke(*args: str):
    from segmix.cli import app

    return CliRunner().invoke(app, ["inspect", "--task", "pos", *args])


@pytest.mark.skipif(not EWT.exists(), reason=f"UD English EWT not found at {EWT}")
def test_pos_cli_end_to_end_tmix(tmp_path):
    from segmix.datafiles import sample_subset
    from segmix.tasks.pos.conllu import read_conllu

    files = {}
    for split, n in (("train", 120), ("dev", 30), ("test", 30)):
        sents = sample_subset(read_conllu(EWT / f"en_ewt-ud-{split}.conllu"), n, seed=0)
        write_conllu(tmp_path / f"{split}.conllu", sents, [s.tags for s in sents])
        files[split] = str(tmp_path / f"{split}.conllu")
    out = tmp_path / "inspect"
    result = _invoke(
        "--augment", "tmix", "--train", files["train"], "--dev", files["dev"], "--test",
        files["test"], "--train-size", "30", "-n", "60", "--semantic", "5", "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "test words in pool:" in result.output and "mentions" not in result.output
    report = json.loads((out / "inspect.json").read_text())
    assert report["task"] == "pos" and report["data"]["train_size"] == 30
    cov = report["coverage"]
    assert cov["kind"] == "tokens" and cov["match"] == "words"
    assert sum(r["test"]["words"] for r in cov["types"].values()) == cov["all"]["test"]["words"]
    assert {"NOUN", "VERB", "PUNCT"} <= set(cov["types"])
    assert report["mixes"]["mixes"] == 60 and report["mixes"]["well_formed"] is None
    assert report["semantic"]["conditions"]["method"]["mixes"] == 5
    text = (out / "inspect.md").read_text()
    assert "| tag | pool segments |" in text and "one tag per word" in text
    assert "head word" not in text
    assert (out / "plots" / "coverage.png").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--augment", "lwtr"], "--augment: lwtr has no segment pool to inspect"),
        (["--augment", "sr"], "--augment: sr has no segment pool to inspect"),
        (
            ["--augment", "lada", "--lada-mode", "intra"],
            "--augment: lada with --lada-mode intra mixes each sentence with itself",
        ),
    ],
)
def test_pos_methods_without_a_pool_fail_in_one_line(args, message, tmp_path):
    result = _invoke(*args, "--out", str(tmp_path / "x"))
    assert result.exit_code == 2
    assert result.output.startswith(f"error: {message}") and result.output.count("\n") == 1
    assert "choose tmix, smix, mixup or lada" in result.output
    assert not (tmp_path / "x").exists()


def test_a_task_without_an_inspection_is_refused_in_one_line():
    from segmix.inspect.coverage import pool_error
    from segmix.tasks import inspection_for
    from segmix.tasks.pos.task import PosTask

    class Uninspected(PosTask):
        inspection = None

    with pytest.raises(ValueError, match=r"^segmix inspect does not support --task pos yet$"):
        inspection_for(Uninspected())
    assert pool_error("pos", "tmix") is None  # the registered pos task has one
