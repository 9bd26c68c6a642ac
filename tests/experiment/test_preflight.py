"""``segmix experiment --preflight``: every method drawn on every subset of the grid before
anything trains, and a subset a method cannot draw on named with its error."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from segmix.cli import app
from segmix.datafiles import sample_subset
from segmix.experiment import load_spec
from segmix.experiment.preflight import DrawProblem, preflight, preflight_plan
from segmix.tasks.tagging.data import read_conll
from tests.experiment.test_runner import write_spec

# six sentences in CoNLL-2003's IOBES: three with two mentions each, three without any
SENTENCES = """\
Peter S-PER
met O
Anna S-PER
. O

Rain O
fell O
. O

Paris S-LOC
and O
Rome S-LOC
waited O
. O

Nobody O
came O
. O

It O
was O
late O
. O

Bonn S-LOC
beat O
Oslo S-LOC
. O
"""


@pytest.fixture(scope="module")
def six(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("six") / "six.txt"
    path.write_text(SENTENCES, encoding="utf-8")
    return path


def _spec(folder: Path, data: Path, seeds: str) -> Path:
    return write_spec(
        folder,
        f"""
        name: pre
        task: ner
        sizes: [2]
        seeds: {seeds}
        steps: 2
        methods: [none, mmix]
        train: {{train_file: {data}, dev_file: {data}, test_file: {data}, batch_size: 2}}
        """,
    )


def test_the_seeds_below_are_the_subsets_these_tests_assume(six):
    sentences = read_conll(six)
    first = {seed: [s.tokens[0] for s in sample_subset(sentences, 2, seed)] for seed in (2, 9)}
    assert first == {2: ["Rain", "It"], 9: ["Paris", "Bonn"]}


def test_a_subset_a_method_cannot_draw_on_is_named_before_training(six, tmp_path):
    """Seed 2's two sentences have no mention: MMix has nothing to mix there, so each of its
    cells at that seed would fail; seed 9's has four and draws. `none` draws
    nothing and passes both."""
    spec = load_spec(_spec(tmp_path, six, "[9, 2]"))
    assert [(v.label, size, seed) for v, size, seed in preflight_plan(spec)] == [
        ("none", 2, 2),
        ("mmix", 2, 2),
        ("none", 2, 9),
        ("mmix", 2, 9),
    ]
    seen = []
    problems = preflight(spec, on_progress=lambda done, total, p: seen.append((done, total, p)))
    expected = DrawProblem(
        "mmix",
        2,
        2,
        "ValueError: --augment: mmix has nothing to change in these 2 training examples "
        "(no segment of its kind)",
    )
    assert problems == [expected]
    assert seen == [(1, 4, None), (2, 4, expected), (3, 4, None), (4, 4, None)]

    grid = tmp_path / "grid"
    result = CliRunner().invoke(
        app, ["experiment", str(tmp_path / "spec.yaml"), "--preflight", "--out", str(grid)]
    )
    assert result.exit_code == 1, result.output
    assert "1 of the grid's method × size × seed cannot be drawn; nothing trained" in result.output
    assert f"  {expected}" in result.output
    assert not grid.exists()  # not a cell started


def test_a_grid_that_draws_everywhere_goes_on(six, tmp_path):
    result = CliRunner().invoke(
        app,
        [
            "experiment",
            str(_spec(tmp_path, six, "[9]")),
            "--preflight",
            "--dry-run",
            "--out",
            str(tmp_path / "grid"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "preflight: every method drew its mixes on every subset" in result.output
    assert "2 cells in all" in result.output


def test_a_resumed_grid_draws_only_what_it_has_left_to_train(six, tmp_path):
    """Once seed 9's cells are finished, a preflight of the same grid draws nothing there (the
    CLI says so), and a seed added later is drawn alone: a grid resumed across sessions does not
    rebuild the subsets it finished."""
    from segmix.experiment import run_experiment

    grid = tmp_path / "grid"
    result = run_experiment(load_spec(_spec(tmp_path, six, "[9]")), grid, report=False)
    assert result.complete and len(result.trained) == 2
    seen = []
    spec = load_spec(tmp_path / "spec.yaml")
    assert preflight(spec, grid_dir=grid, on_progress=lambda *a: seen.append(a)) == []
    assert seen == []
    result = CliRunner().invoke(
        app,
        ["experiment", str(tmp_path / "spec.yaml"), "--preflight", "--dry-run", "--out", str(grid)],
    )
    assert result.exit_code == 0, result.output
    assert f"preflight: nothing left to train in {grid}" in result.output

    grown = load_spec(_spec(tmp_path, six, "[9, 2]"))
    problems = preflight(grown, grid_dir=grid, on_progress=lambda *a: seen.append(a[:2]))
    assert seen == [(1, 2), (2, 2)]  # seed 2's none and mmix; seed 9's are finished
    assert [(p.label, p.seed) for p in problems] == [("mmix", 2)]


def test_the_committed_rmix_grid_has_nothing_left_to_draw_at_its_finished_sizes():
    """On the real grid (lr chosen on search seeds, reported seeds at the chosen lr): 100 and
    200 examples are finished, so a preflight of it draws at most 400's subsets."""
    from segmix.experiment.preflight import left_to_train

    root = Path(__file__).resolve().parents[2]
    spec = load_spec(root / "configs" / "semeval2010_rmix.yaml")
    plan = preflight_plan(spec)
    assert sum(size in (100, 200) for _, size, _ in plan) == 2 * 10 * 7  # methods × seeds
    left = left_to_train(spec, root / "benchmarks" / "runs" / "semeval2010_rmix_grid", plan)
    assert {size for _, size, _ in left} <= {400}
