"""``segmix inspect``: pool coverage counted by hand, pinned mixes, the similarity arithmetic,
the CLI end to end and its one-line errors — on real CoNLL-2003 sentences and the real encoder."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections import defaultdict

import numpy as np
import pytest
from click.testing import CliRunner

from tests.conftest import LABELS


def _chunks(tags):
    """Mentions of an IOB2 tag sequence, counted here independently of segmix:
    ``(type, start, end)``; an ``I-X`` that does not continue an ``X`` starts a mention."""
    out, start, kind = [], None, None
    for j, tag in enumerate([*tags, "O"]):
        prefix, typ = tag[:1], tag[2:]
        if start is not None and not (prefix == "I" and typ == kind):
            out.append((kind, start, j))
            start, kind = None, None
        if prefix in "BI" and tag != "O" and start is None:
            start, kind = j, typ
    return out


def _write(path, sentences):
    from segmix.tasks.tagging.data import write_conll

    write_conll(path, [s[0] for s in sentences], [s[1] for s in sentences], scheme="iobes")
    return str(path)


@pytest.fixture(scope="module")
def twenty(train_sentences):
    from segmix.datafiles import sample_subset

    return sample_subset(train_sentences, 20, seed=4)


@pytest.fixture(scope="module")
def hand_dev(twenty):
    """A tiny dev set built by hand around the 20 training sentences' mentions: one mention
    seen word for word (with its type), one whose head (last) word ends a training mention,
    one unseen ORG mention, and one mention of a type training lacks (EVENT)."""
    mentions = [(t, tuple(s.tokens[a:b])) for s in twenty for t, a, b in _chunks(s.tags)]
    seen_type, seen = next(m for m in mentions if len(m[1]) >= 2)
    head_type, head_form = next(m for m in mentions if m[1] != seen)
    head = head_form[-1]
    assert ("Zzyzx", head) not in {m[1] for m in mentions}
    sentences = [
        (
            ["Yesterday", *seen, "arrived", "."],
            ["O", f"B-{seen_type}"] + [f"I-{seen_type}"] * (len(seen) - 1) + ["O", "O"],
        ),
        (["Zzyzx", head, "won", "."], [f"B-{head_type}", f"I-{head_type}", "O", "O"]),
        (["Qwertyuiop", "said", "."], ["B-ORG", "O", "O"]),
        (["The", "Frobnicate", "Frobnicatorium", "."], ["O", "B-EVENT", "I-EVENT", "O"]),
    ]
    return sentences, seen_type, head_type


def test_mention_pool_and_dev_coverage_counted_by_hand(twenty, hand_dev, tmp_path, cache):
    from segmix.config import TrainConfig
    from segmix.inspect.coverage import coverage_report
    from segmix.run import prepare

    dev, seen_type, _ = hand_dev
    config = TrainConfig(
        train_file=_write(tmp_path / "train.txt", [(s.tokens, s.tags) for s in twenty]),
        dev_file=_write(tmp_path / "dev.txt", dev),
        augment="mmix",
        progress=False,
    )
    cov, pool = coverage_report(prepare(config), "mmix")

    by_type = defaultdict(list)  # the 20 sentences' mentions, by type, counted here
    for s in twenty:
        for typ, a, b in _chunks(s.tags):
            by_type[typ].append(tuple(s.tokens[a:b]))
    assert cov["pool"]["segments"] == sum(len(v) for v in by_type.values()) == len(pool.entries)
    for typ, forms in by_type.items():
        row = cov["types"][typ]["pool"]
        assert row["segments"] == len(forms)
        assert row["distinct"] == len(set(forms))
        assert row["words"]["mean"] == pytest.approx(np.mean([len(f) for f in forms]))
        assert row["words"]["max"] == max(len(f) for f in forms)
        subwords = [sum(len(cache[w]) for w in f) for f in forms]
        assert row["subwords"]["mean"] == pytest.approx(np.mean(subwords))
        assert sum(row["words"]["histogram"].values()) == len(forms)

    # the hand-built dev: 4 mentions, 1 seen word for word, 2 with a seen head word
    assert cov["all"]["dev"] == {
        "mentions": 4,
        "in_pool": 0.25,
        "in_pool_same_type": 0.25,
        "head_in_pool": 0.5,
    }
    assert cov["types"]["EVENT"]["dev"]["in_pool"] == 0.0
    assert cov["types"]["EVENT"]["pool"]["segments"] == 0
    assert cov["unmixable"]["dev"] == ["EVENT"]
    assert cov["types"][seen_type]["dev"]["in_pool_same_type"] > 0
    assert cov["types"]["ORG"]["dev"]["mentions"] >= 1
    assert "test" not in cov["all"]  # no test file given


def _example(words, tags, cache):
    from segmix.tasks.tagging.data import NerSentence
    from segmix.tasks.tagging.encoding import encode_tagged

    return encode_tagged(
        [NerSentence(tuple(words), tuple(tags), 0)], cache, {lb: i for i, lb in enumerate(LABELS)}
    )[0]


def _pinned(cache, pad_label):
    """Two mixes by hand. ``Teplice`` is 3 sub-words, every other word 1 (asserted).

    Mix 1 (λ 0.7): ``New York City`` (3 words) with ``Teplice`` (1 word): pairs (New|Teplice)
    3 wide — 2 pads on side a —, (York|pad), (City|pad) — 2 pads on side b: 5 mixed positions,
    4 of them padding; the mix is 8 − 3 + 5 = 10 long. Mix 2 (λ 0.4): ``Paris`` with
    ``Obama``: 1 mixed position, no padding, 6 long."""
    from segmix.augment.pools import LabelSpace, segment_of
    from segmix.mixing import mix_segments

    space = LabelSpace(LABELS)
    assert len(cache["Teplice"]) == 3
    assert all(len(cache[w]) == 1 for w in ("He", "visited", "New", "York", "City", "Paris"))
    train = [
        _example(
            ["He", "visited", "New", "York", "City", "."],
            ["O", "O", "B-LOC", "I-LOC", "I-LOC", "O"],
            cache,
        ),
        _example(["He", "visited", "Paris", "."], ["O", "O", "B-LOC", "O"], cache),
        _example(["Teplice", "won", "."], ["B-ORG", "O", "O"], cache),
        _example(["Obama", "spoke", "."], ["B-PER", "O", "O"], cache),
    ]
    mixes = []
    for source, span, (p, ps), lam in (
        (0, (2, 5), (2, (0, 1)), 0.7),
        (1, (2, 3), (3, (0, 1)), 0.4),
    ):
        ex = train[source]
        mixes.append(
            mix_segments(
                ex.ids,
                ex.labels,
                ex.word_starts,
                ex.word_lens,
                [span],
                [segment_of(ex, *span, space)],
                [segment_of(train[p], *ps, space)],
                [lam],
                pad_id=cache.pad_id,
                pad_label=pad_label,
                o_label=space.o,
                source=source,
            )
        )
    return train, mixes


def test_mix_statistics_on_pinned_mixes(cache):
    from segmix.inspect.mixes import MixStatistics

    train, mixes = _pinned(cache, "ignore")
    assert [len(m.ids_a) for m in mixes] == [10, 6]
    stats = MixStatistics(
        labels=LABELS, pad_id=cache.pad_id, cache=cache, train=train, tagging=True
    )
    for m in mixes:
        stats.add(m)
    out = stats.result()
    pad = out["padding"]
    assert (pad["mixed_positions"], pad["pad_positions"], pad["all_positions"]) == (6, 4, 16)
    assert pad["share_of_mixed"] == pytest.approx(4 / 6)
    assert pad["share_of_all"] == pytest.approx(4 / 16)
    assert pad["pad_on_side_a"] == pytest.approx(2 / 6)
    assert pad["pad_on_side_b"] == pytest.approx(2 / 6)
    assert out["length_mismatch"]["words"]["mean"] == pytest.approx(1.0)  # |3−1|, |1−1|
    assert out["length_mismatch"]["subwords"]["max"] == 0  # New York City: 3 pieces, as Teplice
    assert out["lambda"]["mean"] == pytest.approx(0.55)
    assert out["sources"]["distinct"] == 2 and out["sources"]["max_per_source"] == 1
    # pad_label ignore: side b's pad words keep side a's I-LOC after Teplice's B-ORG
    assert out["well_formed"] == {"side_a": 1.0, "side_b": 0.5, "argmax": 1.0, "all": 0.5}
    assert out["ill_formed_patterns"]["side_b"] == {"B-ORG → I-LOC": 1}

    train, mixes = _pinned(cache, "inside")  # B-ORG I-ORG I-ORG: one mention, well formed
    stats = MixStatistics(
        labels=LABELS, pad_id=cache.pad_id, cache=cache, train=train, tagging=True
    )
    for m in mixes:
        stats.add(m)
    assert stats.result()["well_formed"]["all"] == 1.0


def test_similarity_arithmetic_on_hand_made_vectors():
    from segmix.inspect.semantic import pair_similarities, similarity_summary

    mixed = [[1.0, 0.0], [1.0, 1.0], [3.0, 4.0]]
    side_a = [[2.0, 0.0], [1.0, 0.0], [4.0, 3.0]]
    side_b = [[0.0, 5.0], [0.0, 1.0], [-3.0, 4.0]]
    lam = [0.75, 0.3, 0.2]
    sims = pair_similarities(mixed, side_a, side_b, lam)
    r = 1 / math.sqrt(2)
    np.testing.assert_allclose(sims["sim_a"], [1.0, r, 0.96], atol=1e-6)  # (12 + 12) / 25
    np.testing.assert_allclose(sims["sim_b"], [0.0, r, 0.28], atol=1e-6)  # (−9 + 16) / 25
    np.testing.assert_allclose(sims["max"], [1.0, r, 0.96], atol=1e-6)
    np.testing.assert_allclose(sims["weighted"], [0.75, r, 0.2 * 0.96 + 0.8 * 0.28], atol=1e-6)
    # closer to the heavier side: a (λ .75) yes; b (λ .3) ties, yes; b (λ .2) no
    assert sims["heavier_closer"].tolist() == [True, True, False]
    summary = similarity_summary(sims, one_sided=[0.5, 0.7])
    assert summary["pairs"] == 3
    assert summary["max"]["mean"] == pytest.approx((1 + r + 0.96) / 3, abs=1e-6)
    assert summary["max"]["median"] == pytest.approx(0.96, abs=1e-6)
    assert summary["heavier_closer"] == pytest.approx(2 / 3)
    assert summary["pad_pairs"] == {"pairs": 2, "mean_sim_present_side": pytest.approx(0.6)}


def _invoke(*args):
    from segmix.cli import app

    return CliRunner().invoke(app, ["inspect", *args])


def test_cli_end_to_end_mmix(tiny_data, tmp_path):
    out = tmp_path / "inspect"
    result = _invoke(
        "--augment",
        "mmix",
        "--train",
        tiny_data["train"],
        "--dev",
        tiny_data["dev"],
        "--test",
        tiny_data["test"],
        "--train-size",
        "50",
        "--sample-seed",
        "3",
        "-n",
        "300",
        "--semantic",
        "20",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert "pool:" in result.output and "test mentions in pool" in result.output
    assert "mmix on 50 training sentences (ner)" in result.output  # a tagger counts sentences
    assert "semantic (mean max-sim): mmix" in result.output
    report = json.loads((out / "inspect.json").read_text())
    assert report["data"]["train_size"] == 50
    assert report["data"]["dev_examples"] == report["data"]["test_examples"] == 80
    assert report["mixes"]["mixes"] == 300 and len(report["mixes"]["examples"]) == 5
    assert report["mixes"]["well_formed"]["all"] == 1.0  # MMix, pad_label inside
    conditions = report["semantic"]["conditions"]
    assert set(conditions) == {"method", "mixup", "random"}
    assert conditions["method"]["mixes"] == 20 and conditions["method"]["pairs"] > 0
    assert conditions["method"]["side_b_reference"] == {"partner's own sentence": 20}
    assert sorted(p.name for p in (out / "plots").glob("*.png")) == [
        "coverage.png",
        "lambda.png",
        "segment_lengths.png",
        "similarity.png",
    ]
    text = (out / "inspect.md").read_text()
    assert "50 training sentences (subset seed 3)" in text and "dev: 80 sentences" in text
    assert "in the pool" in text and "head word" in text and "last word" in text
    assert "## 3." in text and "random partner" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--augment", "lwtr"], "--augment: lwtr has no segment pool to inspect"),
        (["--task", "re", "--augment", "sr"], "--augment: sr has no segment pool to inspect"),
        (
            ["--augment", "lada", "--lada-mode", "intra"],
            "--augment: lada with --lada-mode intra mixes each sentence with itself",
        ),
    ],
)
def test_methods_without_a_pool_fail_in_one_line(args, message, tmp_path):
    result = _invoke(*args, "--out", str(tmp_path / "x"))
    assert result.exit_code == 2
    assert result.output.startswith(f"error: {message}") and result.output.count("\n") == 1
    assert not (tmp_path / "x").exists()


def test_run_and_data_errors_fail_in_one_line(tmp_path, twenty):
    train = _write(tmp_path / "train.txt", [(s.tokens, s.tags) for s in twenty])
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text("{}")
    result = _invoke("--train", train, "--run", str(run), "--out", str(tmp_path / "o"))
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert "has no predictions/ folder" in result.output

    (run / "predictions").mkdir()
    result = _invoke("--train", train, "--run", str(run), "--out", str(tmp_path / "o"))
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert "has no saved model (model/)" in result.output and "--semantic 0" in result.output

    # a sentence the encoder cannot take (longer than its 512 sub-words)
    short = [(["Paris", "is", "big", "."], ["B-LOC", "O", "O", "O"])] * 3
    long = _write(tmp_path / "long.txt", [*short, (["word"] * 600, ["O"] * 599 + ["B-PER"])])
    result = _invoke("--train", long, "--out", str(tmp_path / "o"))
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert "over the model's limit" in result.output and "Traceback" not in result.output


def test_cli_module_stays_torch_free():
    code = "import sys, segmix.cli; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
