"""Where the gain went: per-bucket breakdowns, the baseline lookup, the grid correlation.

Breakdowns are checked on tiny hand-made run folders whose difference is known (every count
and F1 below is worked out by hand in the comments), against ``ner_scores`` and against the
real benchmark runs when their predictions are on this machine.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from segmix.config import TrainConfig
from segmix.datafiles import sample_subset
from segmix.inspect.gains import (
    NoBaselineError,
    find_baseline,
    gain_report,
    grid_gain_report,
    plot_gains,
    render_gains,
    render_grid_gains,
)
from segmix.tasks.relations.metrics import SEMEVAL_LABELS
from segmix.tasks.relations.task import relation_scores
from segmix.tasks.tagging.metrics import ner_scores
from tests.conftest import DATA

ROOT = Path(__file__).resolve().parents[2]

# --------------------------------------------------------------------------------------------
# hand-made NER data and runs

# training file: sentences 0-2 are the subset (train_size 3, sample seed 5); sentence 3 is a
# decoy outside it holding "Bob" and "Bank of Zanzibar", so they are *unseen* only if the pool is
# exactly the subset the run trained on
TRAIN = [
    [("Ann", "B-PER"), ("visited", "O"), ("Rome", "B-LOC"), (".", "O")],
    [("Dan", "B-PER"), ("joined", "O"), ("Acme", "B-ORG"), (".", "O")],
    [("Eve", "B-PER"), ("Kay", "I-PER"), ("left", "O"), ("Big", "B-ORG"), ("Corp", "I-ORG")],
    [("Bob", "B-PER"), ("runs", "O"), ("Bank", "B-ORG"), ("of", "I-ORG"), ("Zanzibar", "I-ORG")],
]
SAMPLE_SEED, TRAIN_SIZE, TRAIN_IDS = 5, 3, [0, 1, 2]
DEV = [[("Ann", "B-PER"), ("left", "O")]]
TEST_TOKENS = [
    ["Ann", "visited", "Rome", "."],  # Ann PER seen, Rome LOC seen
    ["Bob", "met", "Cid", "Smith", "."],  # Bob PER unseen, "Cid Smith" PER unseen (2 words)
    ["Bank", "of", "Zanzibar", "fell", "."],  # a 3-word ORG, unseen
    ["Dan", "joined", "Acme", "."],  # Dan PER seen, Acme ORG seen
]
GOLD = [
    ["B-PER", "O", "B-LOC", "O"],
    ["B-PER", "O", "B-PER", "I-PER", "O"],
    ["B-ORG", "I-ORG", "I-ORG", "O", "O"],
    ["B-PER", "O", "B-ORG", "O"],
]
# the baseline misses Bob, cuts the ORG to "Bank of" (a wrong 2-word, unseen prediction) and
# calls Acme a LOC (a wrong 1-word, seen prediction)
BASE = [
    ["B-PER", "O", "B-LOC", "O"],
    ["O", "O", "B-PER", "I-PER", "O"],
    ["B-ORG", "I-ORG", "O", "O", "O"],
    ["B-PER", "O", "B-LOC", "O"],
]
# the augmented run gets one more PER (Bob) and the unseen 3-word ORG right; Acme still LOC
RUN = [
    ["B-PER", "O", "B-LOC", "O"],
    ["B-PER", "O", "B-PER", "I-PER", "O"],
    ["B-ORG", "I-ORG", "I-ORG", "O", "O"],
    ["B-PER", "O", "B-LOC", "O"],
]


def _conll(path: Path, sentences: list[list[tuple[str, str]]]) -> None:
    path.write_text(
        "\n\n".join("\n".join(f"{w} {t}" for w, t in s) for s in sentences) + "\n",
        encoding="utf-8",
    )


def _ner_data(folder: Path, train: list = TRAIN, test_tags: list = GOLD) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    _conll(folder / "train.txt", train)
    _conll(folder / "dev.txt", DEV)
    _conll(
        folder / "test.txt",
        [list(zip(w, t, strict=True)) for w, t in zip(TEST_TOKENS, test_tags, strict=True)],
    )
    return folder


def _write_run(
    folder: Path,
    data: Path,
    augment: str,
    pred: list | None,
    *,
    task: str = "ner",
    seed: int = 1,
    sample_seed: int = SAMPLE_SEED,
    train_size: int = TRAIN_SIZE,
    train_ids: list | None = None,
    lr: float = 1e-4,
    test: dict | None = None,
    gold: list | None = None,
    tokens: list | None = None,
) -> Path:
    """A finished run folder as ``segmix train`` writes it (without a model)."""
    folder.mkdir(parents=True, exist_ok=True)
    config = TrainConfig(
        task=task,
        data_dir=str(data),
        train_size=train_size,
        sample_seed=sample_seed,
        augment=augment,
        seed=seed,
        lr=lr,
        max_steps=10,
        output_dir=str(folder),
    ).to_dict()
    config.update(resolved_model="default", files={}, augmenter=None)
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    ids = TRAIN_IDS if train_ids is None else train_ids
    (folder / "subset.json").write_text(json.dumps({"train_ids": ids}), encoding="utf-8")
    if test is None:
        if task == "ner":
            test = ner_scores(gold or GOLD, pred)
        else:
            test = relation_scores(gold, pred, SEMEVAL_LABELS)
    (folder / "metrics.json").write_text(json.dumps({"test": test}), encoding="utf-8")
    if pred is not None:
        (folder / "predictions").mkdir(exist_ok=True)
        if task == "ner":
            records = [
                {"id": i, "tokens": w, "gold": g, "pred": p}
                for i, (w, g, p) in enumerate(
                    zip(tokens or TEST_TOKENS, gold or GOLD, pred, strict=True)
                )
            ]
        else:
            records = [
                {"id": str(8001 + i), "gold": g, "pred": p}
                for i, (g, p) in enumerate(zip(gold, pred, strict=True))
            ]
        (folder / "predictions" / "test.jsonl").write_text(
            "".join(json.dumps(r) + "\n" for r in records), encoding="utf-8"
        )
    (folder / "finished.json").write_text("{}", encoding="utf-8")
    return folder


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    """``n3/mmix/seed1`` and its paired ``n3/none/seed1``, benchmarks layout."""
    data = _ner_data(tmp_path / "data")
    base = _write_run(tmp_path / "n3" / "none" / "seed1", data, "none", BASE)
    run = _write_run(tmp_path / "n3" / "mmix" / "seed1", data, "mmix", RUN)
    return run, base


def _rows(report: dict, key: str) -> dict[str, dict]:
    return {r["bucket"]: r for r in report["breakdowns"][key]}


def test_the_subset_is_the_one_these_tests_assume():
    assert sample_subset(list(range(4)), TRAIN_SIZE, SAMPLE_SEED) == TRAIN_IDS


def test_ner_breakdown_by_hand(pair):
    run, base = pair
    report = gain_report(run, base, resamples=200)
    pts = pytest.approx
    # 7 gold mentions. Baseline: 6 predicted, 4 correct -> F1 2·4/(6+7) = 8/13.
    # Run: 7 predicted, 6 correct -> F1 12/14 = 6/7.
    assert report["test"] == {
        "examples": 4,
        "items": 7,
        "file": str(run.parent.parent.parent / "data" / "test.txt"),
    }
    assert report["overall"]["baseline"]["f1"] == pts(100 * 8 / 13)
    assert report["overall"]["run"]["f1"] == pts(100 * 6 / 7)
    assert report["overall"]["gain"] == pts(100 * (6 / 7 - 8 / 13))

    types = _rows(report, "type")
    # PER: 4 gold; baseline 3 of 3 right -> P 1, R 3/4, F1 6/7; run 4 of 4 -> 1
    assert types["PER"]["gold"] == 4 and types["PER"]["share"] == pts(4 / 7)
    assert types["PER"]["baseline"]["f1"] == pts(100 * 6 / 7)
    assert types["PER"]["run"]["f1"] == pts(100.0)
    # LOC: Rome right, Acme wrongly LOC, in both: P 1/2, R 1 -> 2/3; no gain
    assert types["LOC"]["run"]["f1"] == types["LOC"]["baseline"]["f1"] == pts(200 / 3)
    assert types["LOC"]["gain"] == pts(0.0)
    # ORG: 2 gold; baseline predicts "Bank of" (wrong) -> 0; run gets the 3-word ORG -> 2/3
    assert types["ORG"]["baseline"]["f1"] == 0.0
    assert types["ORG"]["run"]["f1"] == pts(200 / 3)
    assert (types["PER"]["delta_found"], types["ORG"]["delta_found"]) == (1, 1)
    assert (types["ORG"]["delta_wrong"], types["LOC"]["delta_wrong"]) == (-1, 0)

    lengths = _rows(report, "length")
    assert set(lengths) == {"1", "2", "3"}  # no 4+ mention, gold or predicted: no row
    # 1 word: 5 gold (Ann Rome Bob Dan Acme); baseline predicts Ann Rome Dan Acme-LOC: 3 of 4
    # -> 2·3/(4+5) = 2/3; run adds Bob: 4 of 5 -> 8/10
    assert lengths["1"]["gold"] == 5
    assert lengths["1"]["baseline"]["f1"] == pts(200 / 3)
    assert lengths["1"]["run"]["f1"] == pts(80.0)
    # 2 words: "Cid Smith"; the baseline's wrong "Bank of" counts here, by its own length:
    # 1 of 2 -> 2/3; the run: 1 of 1 -> 1
    assert lengths["2"]["gold"] == 1
    assert lengths["2"]["baseline"]["predicted"] == 2
    assert lengths["2"]["baseline"]["f1"] == pts(200 / 3)
    assert lengths["2"]["run"]["f1"] == pts(100.0)
    # 3 words: the ORG: 0 -> 1
    assert (lengths["3"]["baseline"]["f1"], lengths["3"]["run"]["f1"]) == (0.0, pts(100.0))

    seen = _rows(report, "seen")
    # seen: Ann Rome Dan Acme (Acme's words were a training ORG; seen ignores the type).
    # Both runs: Ann Rome Dan right, Acme-LOC wrong -> 3 of 4, 4 gold -> 3/4
    assert seen["seen"]["gold"] == 4 and seen["seen"]["share"] == pts(4 / 7)
    assert seen["seen"]["run"]["f1"] == seen["seen"]["baseline"]["f1"] == pts(75.0)
    assert seen["seen"]["gain"] == pts(0.0)
    # unseen: Bob, Cid Smith, Bank of Zanzibar (the decoy sentence is not in the subset).
    # Baseline: Cid Smith right, "Bank of" wrong: 1 of 2, 3 gold -> 2/5; run 3 of 3 -> 1
    assert seen["unseen"]["gold"] == 3
    assert seen["unseen"]["baseline"]["f1"] == pts(40.0)
    assert seen["unseen"]["run"]["f1"] == pts(100.0)
    assert seen["unseen"]["gain"] == pts(60.0)
    assert seen["unseen"]["delta_found"] == 2 and seen["seen"]["delta_found"] == 0

    # every breakdown's shares add up to the headline gain; found/wrong add up to the totals
    for key in ("type", "length", "seen"):
        rows = report["breakdowns"][key]
        assert sum(r["contribution"] for r in rows) == pts(report["overall"]["gain"])
        assert sum(r["delta_found"] for r in rows) == 2
        assert sum(r["gold"] for r in rows) == 7
        for r in rows:
            low, high = r["interval"]
            assert low <= r["gain"] + 1e-9 and r["gain"] <= high + 1e-9
    assert "unseen" in report["readings"]["seen"]
    assert report["readings"]["seen"].startswith("The gain sits mostly on unseen mentions")


def test_overall_and_per_type_f1_equal_ner_scores(pair):
    run, base = pair
    report = gain_report(run, base, resamples=0)
    for side, pred in (("run", RUN), ("baseline", BASE)):
        scores = ner_scores(GOLD, pred)
        assert report["overall"][side]["f1"] == pytest.approx(100 * scores["f1"])
        assert report["overall"][side]["precision"] == pytest.approx(100 * scores["precision"])
        assert report["overall"][side]["recall"] == pytest.approx(100 * scores["recall"])
        for t, row in _rows(report, "type").items():
            assert row[side]["f1"] == pytest.approx(100 * scores["per_type"][t]["f1"])
    assert all(r["interval"] is None for r in report["breakdowns"]["type"])


def test_predictions_missing_or_disagreeing_with_metrics_is_a_clear_error(tmp_path):
    data = _ner_data(tmp_path / "data")
    base = _write_run(tmp_path / "none", data, "none", BASE)
    no_pred = _write_run(tmp_path / "a", data, "mmix", None, test=ner_scores(GOLD, RUN))
    with pytest.raises(FileNotFoundError, match=r"has no predictions/test\.jsonl"):
        gain_report(no_pred, base)
    # metrics.json from other predictions than the folder holds
    wrong = _write_run(tmp_path / "b", data, "mmix", RUN, test=ner_scores(GOLD, BASE))
    with pytest.raises(ValueError, match=r"test F1 from predictions/test\.jsonl is .* but metrics"):
        gain_report(wrong, base)
    # a subset.json that names other sentences than config.json rebuilds
    other = _write_run(tmp_path / "c", data, "mmix", RUN, train_ids=[1, 2, 3])
    with pytest.raises(ValueError, match="names other training examples"):
        gain_report(other, base)


def test_baseline_found_in_the_benchmarks_layout(tmp_path, pair):
    run, base = pair
    data = tmp_path / "data"
    # a none run of another seed and one of another lr sit beside it: neither is the pair
    _write_run(tmp_path / "n3" / "none" / "seed2", data, "none", BASE, seed=2)
    _write_run(tmp_path / "n3" / "none-lr" / "seed1", data, "none", BASE, lr=5e-5)
    found, how = find_baseline(run)
    assert found == base.resolve() and "sibling" in how
    assert gain_report(run, resamples=0)["baseline"]["dir"] == str(base.resolve())


def test_no_baseline_is_one_clear_error(tmp_path):
    data = _ner_data(tmp_path / "data")
    run = _write_run(tmp_path / "n3" / "mmix" / "seed1", data, "mmix", RUN)
    _write_run(tmp_path / "n3" / "none" / "seed2", data, "none", BASE, seed=2)
    with pytest.raises(NoBaselineError) as err:
        gain_report(run)
    message = str(err.value)
    assert message.startswith(f"no paired no-augmentation run found for {run}; give --baseline DIR")
    assert "seed 2 (run: 1)" in message  # the nearest candidate and why it is not the pair


def _grid(grid: Path, cells: list[dict], task: str = "ner") -> None:
    grid.mkdir(parents=True, exist_ok=True)
    (grid / "grid.json").write_text(json.dumps({"task": task, "cells": cells}), encoding="utf-8")


def _cell(cid: str, label: str, seed: int, status: str = "finished", size: int = 3) -> dict:
    return {
        "id": cid,
        "method": label,
        "label": label,
        "options": {},
        "size": size,
        "seed": seed,
        "lr": 1e-4,
        "phase": 2,
        "dir": f"cells/{cid}/run",
        "status": status,
    }


def test_baseline_found_in_the_grid_layout(tmp_path):
    data = _ner_data(tmp_path / "data")
    grid = tmp_path / "grid"
    _grid(grid, [_cell("aaa", "none", 1), _cell("bbb", "mmix", 1), _cell("ccc", "none", 2)])
    base = _write_run(grid / "cells" / "aaa" / "run", data, "none", BASE)
    run = _write_run(grid / "cells" / "bbb" / "run", data, "mmix", RUN)
    _write_run(grid / "cells" / "ccc" / "run", data, "none", BASE, seed=2)
    found, how = find_baseline(run)
    assert found.resolve() == base.resolve() and how.startswith("grid")
    report = gain_report(run, resamples=0)
    assert report["overall"]["gain"] == pytest.approx(100 * (6 / 7 - 8 / 13))


def test_render_and_plot(pair, tmp_path):
    run, base = pair
    report = gain_report(run, base, resamples=100)
    text = "\n".join(render_gains(report))
    for heading in ("By entity type", "By mention length", "occurs in the training sentences"):
        assert heading in text
    assert report["readings"]["seen"] in text
    assert "| unseen | 3 | 43 % | 100.00 | 40.00 | +60.00 |" in text
    paths = plot_gains(report, tmp_path / "plots")
    assert [p.name for p in paths] == ["gains.png"] and paths[0].stat().st_size > 0


# --------------------------------------------------------------------------------------------
# relations


RE_TRAIN = [
    ("Cause-Effect(e1,e2)", "The <e1> fire </e1> caused <e2> smoke </e2> ."),
    ("Component-Whole(e1,e2)", "The <e1> wheel </e1> of the <e2> car </e2> ."),
    ("Other", "The <e1> sun </e1> and the <e2> moon </e2> ."),
]
RE_TEST = [
    ("Cause-Effect(e1,e2)", "The <e1> fire </e1> caused <e2> smoke </e2> again ."),  # pair seen
    ("Cause-Effect(e1,e2)", "The <e1> wheel </e1> caused <e2> fire </e2> ."),  # both seen
    ("Component-Whole(e1,e2)", "The <e1> door </e1> of the <e2> car </e2> ."),  # one seen
    ("Other", "A <e1> pen </e1> on a <e2> desk </e2> ."),  # neither seen
]


def test_relation_breakdown_by_hand(tmp_path):
    data = tmp_path / "semeval"
    data.mkdir()
    for name, rows in (("train", RE_TRAIN), ("dev", RE_TRAIN[2:]), ("test", RE_TEST)):
        (data / f"{name}.tsv").write_text("".join(f"{r}\t{s}\n" for r, s in rows), encoding="utf-8")
    gold = [r for r, _ in RE_TEST]
    base_pred = ["Cause-Effect(e1,e2)", "Other", "Other", "Other"]
    run_pred = ["Cause-Effect(e1,e2)", "Cause-Effect(e1,e2)", "Component-Whole(e2,e1)", "Other"]
    common = {"task": "re", "train_size": 3, "train_ids": ["0", "1", "2"], "gold": gold}
    base = _write_run(tmp_path / "none" / "seed1", data, "none", base_pred, **common)
    run = _write_run(tmp_path / "rmix" / "seed1", data, "rmix", run_pred, **common)
    report = gain_report(run, resamples=0)
    assert report["baseline"]["dir"] == str(base.resolve())
    # macro F1 over the gold types CE and CW. Baseline: CE 1 of 1 predicted, 2 gold -> 2/3;
    # CW nothing -> 0; macro 1/3. Run: CE 2 of 2 -> 1; CW predicted in the wrong direction
    # (counts as predicted, not correct) -> 0; macro 1/2.
    assert report["overall"]["baseline"]["f1"] == pytest.approx(100 / 3)
    assert report["overall"]["run"]["f1"] == pytest.approx(50.0)
    types = _rows(report, "type")
    assert types["Cause-Effect"]["gain"] == pytest.approx(100 / 3)
    assert types["Component-Whole"]["gain"] == 0.0
    # macro F1 is the mean over the 2 gold types: CE's share is its gain / 2
    assert types["Cause-Effect"]["contribution"] == pytest.approx(100 / 6)
    seen = _rows(report, "seen")
    assert {k: v["gold"] for k, v in seen.items()} == {
        "pair seen": 1,
        "both seen": 1,
        "one seen": 1,
        "neither seen": 1,
    }
    assert seen["pair seen"]["gain"] == 0.0  # right in both
    assert seen["both seen"]["gain"] == pytest.approx(100.0)  # 0 -> 1 on CE
    assert seen["one seen"]["gain"] == 0.0  # wrong in both
    assert "with both arguments seen" in report["readings"]["seen"]


# --------------------------------------------------------------------------------------------
# a grid: per-type gains pooled over seeds, and the coverage correlation

# four test sentences, one PER and one LOC each; each seed's training file covers a known share
GRID_TEST_TOKENS = [
    ["Ann", "saw", "Rome"],
    ["Bob", "saw", "Oslo"],
    ["Cid", "saw", "Kiev"],
    ["Dan", "saw", "Lima"],
]
GRID_TEST_TAGS = [["B-PER", "O", "B-LOC"]] * 4
GRID_TRAIN = {  # seed: (PER names, LOC names) in the training file -> coverage
    1: (["Ann"], ["Zug"]),  # PER 1/4, LOC 0
    2: (["Ann", "Bob"], ["Rome", "Oslo", "Kiev"]),  # PER 2/4, LOC 3/4
    3: (["Ann", "Bob", "Cid", "Dan"], ["Rome", "Oslo"]),  # PER 4/4, LOC 2/4
}
COVERAGE = {1: {"PER": 0.25, "LOC": 0.0}, 2: {"PER": 0.5, "LOC": 0.75}, 3: {"PER": 1.0, "LOC": 0.5}}


def _gain(coverage: float, shift: float = 0.0) -> float:
    """Per-type gain in points: strictly increasing in coverage, so Spearman's rho is 1."""
    return 8 * coverage - 2 + shift


def _per_type(f1: dict[str, float]) -> dict:
    return {
        "f1": sum(f1.values()) / len(f1),
        "per_type": {t: {"f1": v, "support": 4} for t, v in f1.items()},
    }


def test_grid_gains_and_a_perfect_rank_correlation(tmp_path):
    grid = tmp_path / "grid"
    cells = []
    for seed, (people, places) in GRID_TRAIN.items():
        data = tmp_path / f"data{seed}"
        data.mkdir()
        train = [[(p, "B-PER"), ("went", "O")] for p in people] + [
            [("to", "O"), (c, "B-LOC")] for c in places
        ]
        _conll(data / "train.txt", train)
        _conll(data / "dev.txt", train[:1])
        _conll(
            data / "test.txt",
            [
                list(zip(w, t, strict=True))
                for w, t in zip(GRID_TEST_TOKENS, GRID_TEST_TAGS, strict=True)
            ],
        )
        n = len(train)
        for label, shift in (("none", None), ("mmix", 0.0)) + (
            (("tmix", 0.0),) if seed == 1 else ()
        ):
            cid = f"{label}{seed}"
            cells.append(_cell(cid, label, seed, size=n))
            f1 = {
                t: 0.5 + (0.0 if shift is None else _gain(COVERAGE[seed][t], shift) / 100)
                for t in ("PER", "LOC")
            }
            _write_run(
                grid / "cells" / cid / "run",
                data,
                label,
                None,
                seed=seed,
                sample_seed=seed,
                train_size=n,
                train_ids=list(range(n)),
                test=_per_type(f1),
            )
    # a cell without a none partner, and one not started
    cells.append(_cell("mmix9", "mmix", 9, size=3))
    _write_run(
        grid / "cells" / "mmix9" / "run",
        tmp_path / "data1",
        "mmix",
        None,
        seed=9,
        train_size=3,
        train_ids=[0, 1, 2],
        test=_per_type({"PER": 0.5, "LOC": 0.5}),
    )
    cells.append(_cell("smix1", "smix", 1, status="pending", size=3))
    _grid(grid, cells)

    report = grid_gain_report(grid)
    assert len(report["pairs"]) == 4  # mmix × 3 seeds, tmix × 1
    for pair in report["pairs"]:
        for t, v in pair["per_type"].items():
            assert v["coverage"] == pytest.approx(COVERAGE[pair["seed"]][t])
            assert v["gain"] == pytest.approx(_gain(COVERAGE[pair["seed"]][t]))
    corr = report["correlation"]
    assert corr["n"] == 8 and corr["rho"] == pytest.approx(1.0)
    assert corr["by_subset"]["n"] == 6 and corr["by_subset"]["rho"] == pytest.approx(1.0)
    assert corr["p"] < 0.05
    # pooled over seeds per label × size: sizes differ by seed here, so each row is one seed
    rows = {(r["label"], r["size"]): r for r in report["rows"]}
    mmix2 = rows[("mmix", len(GRID_TRAIN[2][0]) + len(GRID_TRAIN[2][1]))]
    assert mmix2["per_type"]["LOC"]["mean"] == pytest.approx(_gain(0.75))
    whys = {(s["label"], s["seed"]): s["why"] for s in report["skipped"]}
    assert "no finished none cell" in whys[("mmix", 9)]
    assert whys[("smix", 1)] == "not started"
    text = "\n".join(render_grid_gains(report))
    assert "evidence of a relation" in text and "rho = +1.00" in text
    assert [p.name for p in plot_gains(report, tmp_path / "plots")] == ["gain_vs_coverage.png"]


def test_grid_pools_seeds_and_says_no_evidence_with_few_points(tmp_path):
    # one subset (the same data and sample seed for every seed), two seeds of mmix:
    # pooled mean ± std per type; coverage is one value per type, so 2 distinct points
    data = _ner_data(tmp_path / "data")
    grid = tmp_path / "grid"
    cells, gains = (
        [],
        {1: {"PER": 1.0, "LOC": -1.0, "ORG": 3.0}, 2: {"PER": 3.0, "LOC": 0.0, "ORG": 1.0}},
    )
    for seed in (1, 2):
        for label in ("none", "mmix"):
            cid = f"{label}{seed}"
            cells.append(_cell(cid, label, seed))
            f1 = {t: 0.5 + (gains[seed][t] / 100 if label == "mmix" else 0.0) for t in gains[seed]}
            _write_run(
                grid / "cells" / cid / "run", data, label, None, seed=seed, test=_per_type(f1)
            )
    _grid(grid, cells)
    report = grid_gain_report(grid)
    (row,) = report["rows"]
    assert row["n"] == 2 and row["seeds"] == [1, 2]
    assert row["per_type"]["PER"]["mean"] == pytest.approx(2.0)
    assert row["per_type"]["PER"]["std"] == pytest.approx(2**0.5)
    corr = report["correlation"]
    assert corr["by_subset"]["n"] == 3  # PER, LOC, ORG of the one subset
    assert "no evidence of a relation" in corr["reading"] or "no firm evidence" in corr["reading"]


# --------------------------------------------------------------------------------------------
# the committed benchmark runs: their compact test predictions, the gold from the data


def _committed_cells(tmp_path: Path, grid_name: str, data: Path, size: int, labels) -> Path:
    """The reported cells of ``labels`` at ``size``, seed 1, of a committed grid, copied into a
    grid of their own whose configs name ``data`` (wherever ../shared is on this machine)."""
    source = ROOT / "benchmarks" / "runs" / grid_name
    found = json.loads((source / "grid.json").read_text(encoding="utf-8"))
    keep = [
        c
        for c in found["cells"]
        if c["phase"] == 2 and c["size"] == size and c["seed"] == 1 and c["label"] in labels
    ]
    assert sorted(c["label"] for c in keep) == sorted(labels)
    grid = tmp_path / "grid"
    for cell in keep:
        run = grid / cell["dir"]
        run.mkdir(parents=True)
        for f in (source / cell["dir"]).iterdir():
            if f.is_file():
                (run / f.name).write_bytes(f.read_bytes())
        (run.parent / "cell.json").write_bytes(
            (source / cell["dir"]).parent.joinpath("cell.json").read_bytes()
        )
        config = json.loads((run / "config.json").read_text(encoding="utf-8"))
        config["data_dir"] = str(data)
        config["files"] = {k: str(data / Path(v).name) for k, v in config["files"].items()}
        (run / "config.json").write_text(json.dumps(config), encoding="utf-8")
    (grid / "grid.json").write_text(json.dumps({**found, "cells": keep}), encoding="utf-8")
    return grid


def test_committed_mmix_over_none_agrees_with_metrics_json(tmp_path):
    """``segmix inspect gains`` on a committed run (the headline grid's MMix, 50 sentences,
    seed 1) with its baseline: the gains it breaks down are the recorded scores'. (It looked
    for a grid with the full ``predictions/``, which git does not keep, and was skipped on
    every fresh clone.)"""
    grid = _committed_cells(
        tmp_path, "conll2003_headline_grid", DATA / "conll2003", 50, ("none", "mmix")
    )
    cells = {
        c["label"]: grid / c["dir"] for c in json.loads((grid / "grid.json").read_text())["cells"]
    }
    run, base = cells["mmix"], cells["none"]
    report = gain_report(run, resamples=0)  # the baseline is found on its own
    assert Path(report["baseline"]["dir"]).resolve() == base.resolve()
    run_m = json.loads((run / "metrics.json").read_text(encoding="utf-8"))["test"]
    base_m = json.loads((base / "metrics.json").read_text(encoding="utf-8"))["test"]
    assert report["overall"]["gain"] == pytest.approx(100 * (run_m["f1"] - base_m["f1"]))
    types = _rows(report, "type")
    assert set(types) == set(run_m["per_type"])
    for t, row in types.items():
        assert row["run"]["f1"] == pytest.approx(100 * run_m["per_type"][t]["f1"])
        assert row["gain"] == pytest.approx(
            100 * (run_m["per_type"][t]["f1"] - base_m["per_type"][t]["f1"])
        )
        assert row["gold"] == run_m["per_type"][t]["support"]
    for key in ("type", "length", "seen"):
        rows = report["breakdowns"][key]
        assert sum(r["contribution"] for r in rows) == pytest.approx(report["overall"]["gain"])
        assert sum(r["gold"] for r in rows) == run_m["support"]


def test_a_committed_run_whose_metrics_disagree_is_refused_naming_the_file_read(tmp_path):
    # the error said "from predictions/test.jsonl" also when the compact file had been read
    grid = _committed_cells(
        tmp_path, "conll2003_headline_grid", DATA / "conll2003", 50, ("none", "mmix")
    )
    cells = {
        c["label"]: grid / c["dir"] for c in json.loads((grid / "grid.json").read_text())["cells"]
    }
    metrics_path = cells["mmix"] / "metrics.json"
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    metrics["test"]["f1"] += 0.01
    metrics_path.write_text(json.dumps(metrics), encoding="utf-8")
    with pytest.raises(ValueError, match=r"F1 from test_pred\.json\.(xz|gz) is .* but metrics"):
        gain_report(cells["mmix"], resamples=0)


def test_the_grid_gain_report_of_a_pos_grid_reads_accuracy_and_speaks_of_tags(tmp_path):
    # it read every grid's overall score as test "f1" (a POS run's is "accuracy": KeyError)
    # and spoke of entity types and mentions whatever the task

    grid = _committed_cells(
        tmp_path, "ud_ewt_pos_grid", DATA / "ud_english_ewt", 50, ("none", "sr")
    )
    keep = json.loads((grid / "grid.json").read_text(encoding="utf-8"))["cells"]
    report = grid_gain_report(grid)
    (pair,) = report["pairs"]
    metrics = {c["label"]: c["test"] for c in keep}  # grid.json's test: the run's accuracy
    assert pair["gain"] == pytest.approx(100 * (metrics["sr"] - metrics["none"]))
    assert "NOUN" in pair["per_type"] and "PER" not in pair["per_type"]
    text = "\n".join(render_grid_gains(report))
    assert "### 50 training sentences" in text
    assert "*Coverage* of a tag = the share of its test words" in text
    assert "the overall gain in accuracy, each tag's in F1" in text
    assert "entity type" not in text and "mention" not in text
