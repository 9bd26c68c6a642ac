"""``segmix experiment``: the spec is checked line by line before anything trains, a cell's id is
what it computes, and tiny real grids (20 sentences, 4-6 steps) run, resume, retry, share a
folder, choose the lr on dev and run on Ray."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from segmix.cli import app
from segmix.config import TrainConfig
from segmix.experiment import SpecError, cell_id, cell_identity, load_spec, run_experiment
from segmix.experiment.cells import plan_final
from segmix.experiment.runner import planned_cells
from tests.conftest import CONLL, DATA

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Tiny models on shared, busy cores: one torch thread is several times faster than two
    fighting over them."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def write_spec(folder: Path, text: str, name: str = "spec.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def tiny_spec(
    folder: Path, tiny_data: dict, body: str, name: str = "tiny", sizes: str = "[20]"
) -> Path:
    """A spec on 20-sentence subsets of real CoNLL-2003, an 80-sentence dev (30 sampled) and
    test, and the bundled encoder; ``body`` adds methods, seeds, steps and lr."""
    head = f"""
        name: {name}
        task: ner
        sizes: {sizes}
        train: {{train_file: {tiny_data["train"]}, dev_file: {tiny_data["dev"]},
                test_file: {tiny_data["test"]}, batch_size: 8, eval_every: 2, dev_size: 30}}
    """
    return write_spec(folder, textwrap.dedent(head) + textwrap.dedent(body))


def events_of(kinds: list):
    return lambda event: kinds.append(event)


# -- the spec: every problem is one line with file, line and key (nothing trains) -------------

GOOD = f"""
name: check
data: {CONLL}
methods:
  - none
  - mmix
sizes: [20, 50]
seeds: [1, 2]
steps: 4
"""


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (GOOD + "sizez: [20]\n", 9, "sizez: unknown key; the keys are name, task"),
        (
            GOOD.replace("  - mmix", "  - mmixx"),
            5,
            "methods[1]: unknown augmentation 'mmixx' for --task ner",
        ),
        (
            GOOD.replace("  - mmix", "  - {name: mmix, windw: 3}"),
            5,
            "methods[1].windw: unknown option",
        ),
        (
            GOOD.replace("  - mmix", "  - {name: mmix, window: 3}"),
            5,
            "methods[1].window: mmix does not use this option",
        ),
        (
            GOOD.replace("  - mmix", "  - name: lada\n    lada_mode: [intra, sideways]"),
            6,
            "methods[1].lada_mode[1]: 'sideways' is not allowed; choose intra or inter",
        ),
        (
            GOOD.replace("[20, 50]", "[20,\n   20000]"),
            7,
            "sizes[1]: 20000 is more than the 14041 training examples in",
        ),
        (GOOD.replace(str(CONLL), "./nowhere"), 2, "data: no such folder:"),
        (
            GOOD + "train: {test_file: missing.txt}\n",
            9,
            "train.test_file: no such file:",
        ),
        (GOOD + "train: {rate: -1}\n", 9, "train.rate: -1.0 is not allowed; it must be ≥ 0"),
        (GOOD + "train: {lr: 0.001}\n", 9, "train.lr: set by the grid; use lr"),
        (GOOD.replace("steps: 4", "steps: {20: 4}"), 8, "steps: no steps for size 50"),
        (GOOD + "lr: [1.0e-4, -1]\n", 9, "lr[1]: -1.0 is not allowed; it must be > 0"),
        (
            GOOD + "lr: [1.0e-4,\n  {lr: 4.0e-4, sizes: [30]}]\n",
            10,
            "lr[1].sizes[0]: 30 is not one of the sizes [20, 50]: a candidate is searched",
        ),
        (GOOD + "lr: [1.0e-4, {lr: 4.0e-4}]\n", 9, "lr[1]: a candidate limited to some sizes"),
        (GOOD.replace("  - mmix", "  - [mmix"), 6, "YAML syntax error"),
        (GOOD.replace("seeds: [1, 2]", "seeds: [1, 2]\nseeds: [3]"), 8, "seeds: duplicate key"),
        (GOOD + "lr_seeds: 0\n", 9, "lr_seeds: 0 is not allowed; it must be a whole number ≥ 1"),
        (GOOD + "lr_seeds: [1001,\n  1001]\n", 10, "lr_seeds[1]: 1001 is listed twice"),
        (GOOD + "lr_seeds: [1001, 2.5]\n", 9, "lr_seeds[1]: 2.5 is not allowed; it must be a"),
        (GOOD + "lr_seeds: []\n", 9, "lr_seeds: expected a non-empty list of whole numbers"),
        (
            GOOD + "lr_search_reuses_seeds: yes please\n",
            9,
            "lr_search_reuses_seeds: 'yes please' is not allowed; it must be true or false",
        ),
        (
            GOOD + "lr_seeds: 3\nlr_search_reuses_seeds: true\n",
            9,
            "lr_seeds: 3 is more than the 2 seeds of the grid",
        ),
        (
            GOOD + "contrasts:\n  - [mmix, mixup]\n",
            10,
            "contrasts[0]: 'mixup' is not a method of this grid (other than none); its methods "
            "are mmix",
        ),
        (GOOD + "contrasts: [[mmix, none]]\n", 9, "contrasts[0]: 'none' is not a method"),
        (GOOD + "contrasts: [[mmix, mmix]]\n", 9, "needs two different methods, got mmix twice"),
        (GOOD + "contrasts: [mmix]\n", 9, "contrasts[0]: 'mmix' is not a pair of method labels"),
        (GOOD + "contrasts: mmix\n", 9, "contrasts: expected a list of pairs of method labels"),
        (
            GOOD.replace("  - mmix", "  - {name: mmix, sizes: [20, 30]}"),
            5,
            "methods[1].sizes[1]: 30 is not one of the sizes [20, 50]: a method runs at those only",
        ),
        (
            GOOD.replace("  - mmix", "  - {name: mmix, sizes: [20, 20]}"),
            5,
            "methods[1].sizes[1]: 20 is listed twice",
        ),
        (
            GOOD.replace("  - mmix", "  - {name: mmix, sizes: []}"),
            5,
            "methods[1].sizes: expected a non-empty list of the spec's sizes",
        ),
        (
            GOOD.replace("  - none", "  - {name: none, sizes: [20]}"),
            4,
            "methods[0].sizes: the baseline runs at every size: every gain is paired against it",
        ),
        (
            GOOD.replace("  - mmix", "  - {name: mmix, sizes: [20]}\n  - {name: tmix, sizes: 50}")
            + "contrasts: [[mmix, tmix]]\n",
            10,
            "contrasts[0]: mmix (sizes [20]) and tmix (sizes [50]) never run at the same size",
        ),
    ],
)
def test_a_bad_spec_is_one_line_naming_file_line_and_key(tmp_path, text, line, fragment):
    path = write_spec(tmp_path, text)
    with pytest.raises(SpecError) as err:
        load_spec(path)
    message = str(err.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert fragment in message, message
    assert "\n" not in message


def test_adversarial_training_is_an_option_of_every_method_and_keeps_old_ids(tmp_path):
    """``{name: smix, adversarial: fgm}`` and FGM alone (``{name: none, adversarial: fgm}``)
    are rows of a grid; a cell without FGM keeps the id it had before the option existed."""
    spec = load_spec(
        write_spec(
            tmp_path,
            GOOD.replace(
                "  - mmix",
                "  - {name: mmix, adversarial: fgm}\n"
                "  - {name: none, adversarial: fgm, adv_epsilon: 0.5}",
            ),
        )
    )
    labels = [v.label for v in spec.variants]
    assert labels == ["none", "mmix[adversarial=fgm]", "none[adversarial=fgm,adv_epsilon=0.5]"]
    config = spec.config(spec.variants[1], 20, 1, 1e-4)
    assert (config.augment, config.adversarial, config.adv_epsilon) == ("mmix", "fgm", 1.0)
    plain = cell_identity(spec.config(spec.variants[0], 20, 1, 1e-4))
    assert "adversarial" not in plain["config"] and "adv_epsilon" not in plain["config"]
    assert cell_identity(config)["config"]["adversarial"] == "fgm"


def test_a_good_spec_expands_option_grids_and_resolves_paths(tmp_path):
    data = Path(CONLL)
    spec_dir = tmp_path / "specs"
    spec_dir.mkdir()
    (spec_dir / "data").symlink_to(data)  # a relative path, read from the spec's folder
    path = write_spec(
        spec_dir,
        """
        name: check
        data: data
        methods: [none, {name: tmix, rate: [0.1, 0.5]}, {name: lada, lada_mode: intra}]
        sizes: [20]
        seeds: [1, 2, 3]
        budget: epochs
        epochs: 2
        lr: [1e-4, 5.0e-5]
        """,
    )
    spec = load_spec(path)
    assert [v.label for v in spec.variants] == [
        "none",
        "tmix[rate=0.1]",
        "tmix[rate=0.5]",
        "lada[lada_mode=intra]",
    ]
    assert spec.lrs == [5e-5, 1e-4] and spec.lr_search
    assert spec.search_seeds == [1001, 1002] and not spec.lr_search_reuses_seeds
    assert spec.contrasts is None  # the report's default: the paper's claim among the rows
    paired = load_spec(
        write_spec(
            spec_dir,
            path.read_text() + 'contrasts:\n  - ["tmix[rate=0.1]", "lada[lada_mode=intra]"]\n',
        )
    )
    assert paired.contrasts == [("tmix[rate=0.1]", "lada[lada_mode=intra]")]
    # narrowing the grid keeps the contrasts whose two methods stay
    assert paired.narrowed(methods=["lada"]).contrasts == []
    assert paired.narrowed(methods=["tmix", "lada"]).contrasts == paired.contrasts
    config = spec.config(spec.variants[2], 20, 3, 1e-4)
    assert (config.augment, config.rate, config.epochs, config.max_steps) == ("tmix", 0.5, 2, None)
    assert (config.sample_seed, config.seed, config.save_model) == (3, 3, False)
    assert Path(config.data_dir) == (spec_dir / "data").resolve()
    # phase 1: 4 variants × 2 lr × 2 search seeds; then seeds 1-3 at the chosen lr
    assert len(planned_cells(spec, tmp_path / "grid")) == 16


def test_a_method_may_run_at_some_sizes_only_and_its_cells_keep_their_ids(tmp_path):
    """``{name: mmix, sizes: [20]}``: mmix is searched and reported at 20 alone, none at both
    sizes, and the cells it does plan are the very cells (ids) of a grid that runs it at every
    size, so a grid can take only some methods on to its larger sizes without retraining."""
    from segmix.experiment.cells import cells_at_size, total_cells
    from segmix.experiment.preflight import preflight_plan

    both = load_spec(write_spec(tmp_path, GOOD + "lr: [1.0e-4, 2.0e-4]\n", "both.yaml"))
    text = GOOD.replace("  - mmix", "  - {name: mmix, sizes: [20]}") + "lr: [1.0e-4, 2.0e-4]\n"
    some = load_spec(write_spec(tmp_path, text, "some.yaml"))
    mmix = some.variants[1]
    assert mmix.label == "mmix" and mmix.sizes == (20,)  # the label does not change
    assert [v.label for v in some.variants_at(50)] == ["none"]
    # at 20: 2 variants × 2 lr × 2 search seeds + 2 × 2 reported; at 50 none alone: 4 + 2
    assert (cells_at_size(some, 20), cells_at_size(some, 50), total_cells(some)) == (12, 6, 18)
    assert total_cells(both) == 24
    grid = tmp_path / "grid"
    search = {(c.variant.label, c.size, c.seed, c.lr): c.id for c in planned_cells(some, grid)}
    every = {(c.variant.label, c.size, c.seed, c.lr): c.id for c in planned_cells(both, grid)}
    assert not any(label == "mmix" and size == 50 for label, size, _, _ in search)
    assert search.items() <= every.items()  # same cells, same ids
    chosen = {("none", 20): 1e-4, ("mmix", 20): 2e-4, ("none", 50): 1e-4}
    final = [(c.variant.label, c.size) for c in plan_final(some, grid, chosen)]
    assert sorted(set(final)) == [("mmix", 20), ("none", 20), ("none", 50)]
    assert {(v.label, size) for v, size, _ in preflight_plan(some)} == set(final)
    # a size list in the spec's order; every size listed is the same as none listed
    spelled = GOOD.replace("  - mmix", "  - {name: mmix, sizes: [50, 20]}")
    assert load_spec(write_spec(tmp_path, spelled, "all.yaml")).variants[1].sizes is None


def test_an_lr_candidate_may_be_searched_at_some_sizes_only(tmp_path):
    """``{lr: 4.0e-4, sizes: [20]}`` (decision 54): every method at 20 searches three
    candidates, at 50 two, and every other cell is the very cell (id) of the grid without it,
    so a candidate can be added where the choices sat at the edge without retraining a cell."""
    from segmix.experiment.cells import cells_at_size

    two = load_spec(write_spec(tmp_path, GOOD + "lr: [1.0e-4, 2.0e-4]\n", "two.yaml"))
    text = GOOD + "lr: [1.0e-4, 2.0e-4, {lr: 4.0e-4, sizes: [20]}]\n"
    more = load_spec(write_spec(tmp_path, text, "more.yaml"))
    assert more.lrs == [1e-4, 2e-4, 4e-4] and more.lr_sizes == {4e-4: (20,)}
    assert (more.lrs_at(20), more.lrs_at(50)) == ([1e-4, 2e-4, 4e-4], [1e-4, 2e-4])
    assert more.lr_candidates_text() == "3 candidates (2 at 50)"
    # at 20: 2 variants × 3 lr × 2 search seeds + 2 × 2 reported; at 50: 2 × 2 × 2 + 4
    assert (cells_at_size(more, 20), cells_at_size(more, 50)) == (16, 12)
    grid = tmp_path / "grid"
    ids = {(c.variant.label, c.size, c.seed, c.lr): c.id for c in planned_cells(more, grid)}
    before = {(c.variant.label, c.size, c.seed, c.lr): c.id for c in planned_cells(two, grid)}
    assert before.items() <= ids.items()  # the cells searched before keep their ids
    assert sorted(k for k in ids if k not in before) == [
        (label, 20, seed, 4e-4) for label in ("mmix", "none") for seed in (1001, 1002)
    ]
    # listed at every size, it is a candidate like the others
    everywhere = GOOD + "lr: [1.0e-4, {lr: 4.0e-4, sizes: [50, 20]}]\n"
    assert load_spec(write_spec(tmp_path, everywhere, "all.yaml")).lr_sizes == {}


def test_one_lr_per_size_searches_nothing_and_keeps_the_ids_of_one_shared_lr(tmp_path):
    """``lr: {20: 2.0e-4, 50: 1.0e-4}`` (decision 59): no search, every row at a size trains at
    that size's rate, and the cells at a size whose rate is the old shared one keep their ids
    (the rates grid's size-100 cells, trained at 1e-4, stay when size 50 moves to 2e-4)."""
    from segmix.experiment.cells import total_cells

    shared = load_spec(write_spec(tmp_path, GOOD + "lr: 1.0e-4\n", "shared.yaml"))
    per_size = load_spec(write_spec(tmp_path, GOOD + "lr: {20: 2.0e-4, 50: 1.0e-4}\n", "p.yaml"))
    assert not per_size.lr_search and per_size.lr_by_size() == {20: 2e-4, 50: 1e-4}
    assert shared.lr_by_size() is None
    assert total_cells(per_size) == total_cells(shared) == 8  # 2 sizes × 2 methods × 2 seeds
    grid = tmp_path / "grid"
    cells = planned_cells(per_size, grid)
    assert {(c.size, c.lr) for c in cells} == {(20, 2e-4), (50, 1e-4)}
    assert all(c.config.lr == c.lr for c in cells)
    old = {(c.variant.label, c.size, c.seed): c.id for c in planned_cells(shared, grid)}
    new = {(c.variant.label, c.size, c.seed): c.id for c in cells}
    assert {k: v for k, v in new.items() if k[1] == 50} == {
        k: v for k, v in old.items() if k[1] == 50
    }
    assert all(new[k] != old[k] for k in new if k[1] == 20)  # another lr: another cell


@pytest.mark.parametrize(
    ("lr", "fragment"),
    [
        ("{20: 2.0e-4}", "lr: no lr for size 50"),
        ("{20: 2.0e-4, 50: 1.0e-4, 80: 1.0e-4}", "lr.80: 80 is not one of the sizes [20, 50]"),
        ("{20: 2.0e-4, 50: -1}", "lr.50:"),
    ],
)
def test_a_bad_lr_per_size_is_one_line_naming_the_key(tmp_path, lr, fragment):
    path = write_spec(tmp_path, GOOD + f"lr: {lr}\n")
    with pytest.raises(SpecError) as err:
        load_spec(path)
    message = str(err.value)
    assert message.startswith(f"{path}:9: ") and fragment in message, message
    assert "\n" not in message


def test_a_grid_with_a_method_at_one_size_only_is_whole_when_its_cells_are(tmp_path, tiny_data):
    """none at 20 and 30, mmix at 20 alone, 4 steps: 3 (size, method) rows × 2 seeds train,
    the run says 6/6, and the report is whole at both sizes (nothing under way or missing),
    with mmix's absence at 30 said as the spec's choice, not a missing run."""
    from segmix.experiment.report import build_report, render_markdown

    path = tiny_spec(
        tmp_path,
        tiny_data,
        "methods: [none, {name: mmix, sizes: [20]}]\nseeds: [1, 2]\nsteps: 4\n",
        sizes="[20, 30]",
    )
    grid = tmp_path / "grid"
    events: list = []
    result = run_experiment(load_spec(path), grid, on_event=events_of(events), report=False)
    assert result.complete and len(result.trained) == 6 and not result.failed
    assert events[-1].total == 6
    manifest = json.loads((grid / "grid.json").read_text())
    assert sorted({(c["label"], c["size"]) for c in manifest["cells"]}) == [
        ("mmix", 20),
        ("none", 20),
        ("none", 30),
    ]
    assert manifest["methods"][1] == {
        "label": "mmix",
        "method": "mmix",
        "options": {},
        "sizes": [20],
    }
    report = build_report(grid, bootstrap=50)
    assert not report["missing"] and not report["grid"]["sizes_not_run"]
    recs = {r["size"]: r for r in report["recommendations"]}
    assert not recs[20].get("under_way") and not recs[30].get("under_way")
    assert recs[20]["family"] == 1
    assert report["grid"]["methods_at_some_sizes"] == [
        {"label": "mmix", "method": "mmix", "display": "MMix", "sizes": [20]}
    ]
    assert "Some methods run at only some sizes, by the spec's choice (MMix at 20)" in (
        render_markdown(report)
    )
    # the figures by size draw mmix where it ran and none at both sizes
    from segmix.experiment.report import write_report

    written = write_report(grid, bootstrap=50, out=tmp_path / "report")
    assert (written.parent / "plots" / "f1_by_size.png").stat().st_size > 0


def test_a_grid_copies_in_the_cells_another_grid_finished_under_the_same_ids(tmp_path, tiny_data):
    """Grid A trains none on seeds 1 and 2; grid B (none and mmix) with ``--reuse-from A``
    copies none's seed-1 cell (same id) instead of training it, and trains the rest: none's
    seed 2, whose cell.json in A was made to record another cell, and mmix. The copy is the
    very run (same metrics), grid.json and the report say where it came from, and running B
    again keeps that."""
    from segmix.experiment.report import build_report, render_markdown

    first = tiny_spec(tmp_path / "a", tiny_data, "methods: [none]\nseeds: [1, 2]\nsteps: 4\n")
    grid_a = tmp_path / "grid-a"
    assert len(run_experiment(load_spec(first), grid_a, report=False).trained) == 2
    entries = json.loads((grid_a / "grid.json").read_text())["cells"]
    seed_one, seed_two = (next(e for e in entries if e["seed"] == s) for s in (1, 2))
    record = grid_a / "cells" / seed_two["id"] / "cell.json"
    stored = json.loads(record.read_text())
    stored["identity"]["config"]["alpha"] = 123.0  # no longer the cell its id names
    record.write_text(json.dumps(stored))

    second = tiny_spec(
        tmp_path / "b", tiny_data, "methods: [none, mmix]\nseeds: [1, 2]\nsteps: 4\n"
    )
    grid_b = tmp_path / "grid-b"
    # --dry-run says what would be copied in: of B's 4 cells, none's seed 1; searched over
    # A's lr and another, B's final cells in A are 0 (dev chooses 2e-4) to 1 (A's lr)
    plan = CliRunner().invoke(
        app,
        ["experiment", str(second), "--dry-run", "--out", str(grid_b), "--reuse-from", str(grid_a)],
    )
    assert plan.exit_code == 0, plan.output
    assert f"--reuse-from {grid_a}: 1 of the 4 cells above would be copied in" in plan.output
    searched = tiny_spec(
        tmp_path / "c",
        tiny_data,
        f"methods: [none, mmix]\nseeds: [1, 2]\nsteps: 4\nlr: [{seed_one['lr']}, 2.0e-4]\n",
    )
    plan = CliRunner().invoke(
        app,
        [
            "experiment",
            str(searched),
            "--dry-run",
            "--out",
            str(grid_b),
            "--reuse-from",
            str(grid_a),
        ],
    )
    assert plan.exit_code == 0, plan.output
    assert "0 of the 8 cells above would be copied in" in plan.output  # search seeds: not in A
    assert "of the final cells, 0 to 1 would be copied in, by the lr dev chooses:" in plan.output
    assert f"none at 20: {seed_one['lr']:g}: seeds 1\n" in plan.output
    assert not grid_b.exists()
    # --preflight draws what B will train, not the cell it will copy in
    from segmix.experiment.preflight import left_to_train, preflight_plan

    spec_b = load_spec(second)
    left = left_to_train(spec_b, grid_b, preflight_plan(spec_b), reuse_from=[grid_a])
    assert sorted((v.label, seed) for v, _, seed in left) == [
        ("mmix", 1),
        ("mmix", 2),
        ("none", 2),
    ]
    events: list = []
    result = run_experiment(
        load_spec(second), grid_b, report=False, reuse_from=[grid_a], on_event=events_of(events)
    )
    assert result.complete and len(result.trained) == 3 and result.reused == [seed_one["id"]]
    assert any(
        "1 cells copied in, finished, from ../grid-a (same ids)" in e.message for e in events
    )
    copied = grid_b / "cells" / seed_one["id"]
    assert (copied / "run" / "metrics.json").read_bytes() == (
        grid_a / seed_one["dir"] / "metrics.json"
    ).read_bytes()
    record_b = json.loads((copied / "cell.json").read_text())  # this grid's record of it
    assert record_b["config"]["output_dir"].endswith(f"grid-b/cells/{seed_one['id']}/run")
    manifest = {e["id"]: e for e in json.loads((grid_b / "grid.json").read_text())["cells"]}
    assert manifest[seed_one["id"]]["copied_from"] == "../grid-a"
    assert sum("copied_from" in e for e in manifest.values()) == 1
    assert seed_two["id"] in result.trained  # trained again: A's folder records another cell
    text = render_markdown(build_report(grid_b, bootstrap=20))
    assert "Runs trained by another grid and copied in (`--reuse-from`" in text
    assert ": 1 from `../grid-a`." in text
    # again: everything reused, the copy still said
    again = run_experiment(load_spec(second), grid_b, report=False, reuse_from=[grid_a])
    assert not again.trained
    rerun = {e["id"]: e for e in json.loads((grid_b / "grid.json").read_text())["cells"]}
    assert rerun[seed_one["id"]]["copied_from"] == "../grid-a"
    with pytest.raises(FileNotFoundError, match="is not a grid folder"):
        run_experiment(load_spec(second), grid_b, report=False, reuse_from=[tmp_path / "b"])


def test_the_cli_prints_a_spec_error_as_one_line(tmp_path):
    path = write_spec(tmp_path, GOOD.replace("  - mmix", "  - mmixx"))
    result = CliRunner().invoke(app, ["experiment", str(path), "--dry-run"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}:5: methods[1]:"), result.output
    assert "Traceback" not in result.output


def test_dry_run_lists_the_cells_and_trains_nothing(tmp_path, tiny_data):
    path = tiny_spec(tmp_path, tiny_data, "methods: [none, mmix]\nseeds: [1, 2]\nsteps: 4\n")
    grid = tmp_path / "grid"
    result = CliRunner().invoke(app, ["experiment", str(path), "--dry-run", "--out", str(grid)])
    assert result.exit_code == 0, result.output
    assert "4 cells in all" in result.output
    for cell in planned_cells(load_spec(path), grid):
        assert cell.id in result.output
    assert not grid.exists()


def test_part_of_a_grid_runs_the_cells_the_whole_grid_would(tmp_path):
    more = "  - mmix\n  - {name: lada, lada_mode: [intra, inter]}\n  - tmix"
    text = GOOD.replace("  - mmix", more)
    spec = load_spec(write_spec(tmp_path, text))
    part = spec.narrowed(sizes=[50], methods=["lada"])
    # none stays (every gain is paired against it); "lada" keeps both LADA variants, in order
    assert [v.label for v in part.variants] == [
        "none",
        "lada[lada_mode=intra]",
        "lada[lada_mode=inter]",
    ]
    assert part.sizes == [50]
    whole = {c.id for c in planned_cells(spec, tmp_path / "g")}
    some = {c.id for c in planned_cells(part, tmp_path / "g")}
    assert len(some) == 3 * 2 and some < whole
    with pytest.raises(SpecError, match=r"^--sizes: 30 not in spec.yaml; its sizes are 20, 50$"):
        spec.narrowed(sizes=[30])
    # FGM alone trains no augmentation but is a comparator, not the baseline: it stays only
    # when named (it once came along with every part, and was trained by each)
    fgm = load_spec(
        write_spec(
            tmp_path,
            text.replace("  - tmix", "  - tmix\n  - {name: none, adversarial: fgm}")
            + "contrasts: [[tmix, 'none[adversarial=fgm]']]\n",
        )
    )
    assert [v.label for v in fgm.narrowed(methods=["tmix"]).variants] == ["none", "tmix"]
    assert fgm.narrowed(methods=["tmix"]).contrasts == []
    assert [v.label for v in fgm.narrowed(methods=["none[adversarial=fgm]"]).variants] == [
        "none",
        "none[adversarial=fgm]",
    ]
    assert fgm.contrasts == [("tmix", "none[adversarial=fgm]")]
    with pytest.raises(SpecError, match=r"^--methods: smix not in spec.yaml; its methods are "):
        spec.narrowed(methods=["smix"])


def test_experiment_sizes_and_methods_options(tmp_path):
    path = write_spec(tmp_path, GOOD)
    grid = tmp_path / "grid"
    ok = CliRunner().invoke(
        app, ["experiment", str(path), "--sizes", "20", "--methods", "mmix", "--dry-run"]
    )
    assert ok.exit_code == 0 and "4 cells in all" in ok.output, ok.output
    bad = CliRunner().invoke(app, ["experiment", str(path), "--sizes", "2O", "--out", str(grid)])
    assert bad.exit_code == 2 and bad.output.strip() == (
        "error: --sizes: expected whole numbers separated by commas, got '2O'"
    )
    assert not grid.exists()


# -- the lr search's seeds: never the reported ones, unless a historical grid says so ----------

SEARCHED = GOOD.replace("seeds: [1, 2]", "seeds: [1, 2, 3, 4, 5]") + "lr: [1.0e-4, 2.0e-4]\n"


def _plan(spec, grid: Path):
    """(search cells, final cells at 2e-4 for every variant and size) of ``spec``."""
    from segmix.experiment.cells import plan_final, plan_lr_search

    chosen = {(v.label, size): 2e-4 for v in spec.variants for size in spec.sizes}
    return plan_lr_search(spec, grid), plan_final(spec, grid, chosen)


def test_the_lr_search_runs_on_seeds_the_comparison_never_reports(tmp_path):
    from segmix.experiment.cells import total_cells

    spec = load_spec(write_spec(tmp_path, SEARCHED + "lr_seeds: 2\n"))
    assert spec.search_seeds == [1001, 1002] and not spec.lr_search_reuses_seeds
    search, final = _plan(spec, tmp_path / "grid")
    assert {c.seed for c in search} == {1001, 1002} and len(search) == 2 * 2 * 2 * 2
    assert {c.seed for c in final} == {1, 2, 3, 4, 5}
    assert not any(c.lr_search for c in final)  # no reported cell took part in the choice
    # the reported runs of seeds 1 and 2, at the lr the search chose, are runs of their own
    assert not {c.id for c in final if c.seed in (1, 2)} & {c.id for c in search}
    assert total_cells(spec) == len({c.id for c in search + final}) == 16 + 20
    # the default is the same two seeds; a seed of the grid in that range is skipped
    assert load_spec(write_spec(tmp_path, SEARCHED, "default.yaml")).search_seeds == [1001, 1002]
    skipping = SEARCHED.replace("[1, 2, 3, 4, 5]", "[1, 1001, 1003]") + "lr_seeds: 3\n"
    assert load_spec(write_spec(tmp_path, skipping, "skip.yaml")).search_seeds == [
        1002,
        1004,
        1005,
    ]
    # named search seeds are used as given
    named = load_spec(write_spec(tmp_path, SEARCHED + "lr_seeds: [11, 7]\n", "named.yaml"))
    assert named.search_seeds == [11, 7]
    assert {c.seed for c in _plan(named, tmp_path / "grid")[0]} == {7, 11}


def test_search_seeds_among_the_reported_ones_are_refused_unless_asked_for(tmp_path):
    path = write_spec(tmp_path, SEARCHED + "lr_seeds: [1, 7]\n")
    with pytest.raises(SpecError) as err:
        load_spec(path)
    message = str(err.value)
    assert message.startswith(f"{path}:10: lr_seeds: seed 1 is also in seeds"), message
    assert "reported as if unselected" in message and "lr_search_reuses_seeds: true" in message
    assert "seeds 1, 7" not in message and "\n" not in message  # 7 is not a reported seed
    several = write_spec(tmp_path, SEARCHED + "lr_seeds: [2, 1]\n", "several.yaml")
    with pytest.raises(SpecError, match=r":10: lr_seeds: seeds 2, 1 are also in seeds"):
        load_spec(several)
    # asked for: a list may then share seeds with the comparison
    allowed = write_spec(
        tmp_path, SEARCHED + "lr_seeds: [1, 7]\nlr_search_reuses_seeds: true\n", "ok.yaml"
    )
    spec = load_spec(allowed)
    assert spec.search_seeds == [1, 7] and spec.lr_search_reuses_seeds
    from segmix.experiment.cells import total_cells

    search, final = _plan(spec, tmp_path / "grid")
    assert [c.seed for c in final if c.lr_search] == [1, 1] * 2  # none and mmix at both sizes
    assert total_cells(spec) == len({c.id for c in search + final}) == 20 + 2 * 2 * (1 + 2)


def test_reusing_the_reported_seeds_plans_exactly_the_old_cells(tmp_path):
    """``lr_search_reuses_seeds: true`` is what the committed grids were run with: the first
    ``lr_seeds`` of seeds, searched and reported, so their cells keep their ids."""
    from segmix.experiment.cells import total_cells

    spec = load_spec(write_spec(tmp_path, SEARCHED + "lr_seeds: 2\nlr_search_reuses_seeds: true\n"))
    assert spec.search_seeds == [1, 2] and spec.lr_search_reuses_seeds
    search, final = _plan(spec, tmp_path / "grid")
    assert {c.seed for c in search} == {1, 2} and len(search) == 16
    assert {c.seed for c in final if c.lr_search} == {1, 2}
    assert not any(c.lr_search for c in final if c.seed > 2)
    # the final cells of seeds 1-2 are the search cells at the chosen lr (same ids)
    searched = {(c.variant.label, c.size, c.seed, c.lr): c.id for c in search}
    for c in final:
        if c.seed in (1, 2):
            assert searched[(c.variant.label, c.size, c.seed, c.lr)] == c.id
    assert total_cells(spec) == len({c.id for c in search + final}) == 20 + 8
    # with one seed in the grid the old default (min(2, seeds)) still holds
    one = SEARCHED.replace("[1, 2, 3, 4, 5]", "[4]") + "lr_search_reuses_seeds: true\n"
    assert load_spec(write_spec(tmp_path, one, "one.yaml")).search_seeds == [4]


def test_a_grids_copy_of_its_spec_runs_from_the_grid_folder(tmp_path):
    """A historical grid is resumed from its own ``experiment.yaml``: the copy's relative paths
    are the original's (its header says where that was), and it plans the same cells."""
    from segmix.experiment.spec import grid_copy_text

    spec_dir = tmp_path / "specs"
    spec_dir.mkdir()
    (spec_dir / "data").symlink_to(Path(CONLL))
    text = SEARCHED.replace(str(CONLL), "data")
    original = load_spec(write_spec(spec_dir, text))
    grid = tmp_path / "runs" / "grid"
    grid.mkdir(parents=True)
    copy = grid / "experiment.yaml"
    copy.write_text(grid_copy_text(original, grid))
    assert copy.read_text().splitlines()[0].endswith("folder (../../specs from here)")
    again = load_spec(copy)
    assert again.data_dir == original.data_dir and again.source == original.path
    assert [c.id for c in planned_cells(again, grid)] == [
        c.id for c in planned_cells(original, grid)
    ]
    # a copy of the copy names the original, under one header
    other = tmp_path / "elsewhere" / "grid"
    other.mkdir(parents=True)
    twice = grid_copy_text(again, other)
    assert twice.count("# copied from") == 1 and f"from {original.path} when" in twice
    assert twice.splitlines()[1:] == copy.read_text().splitlines()[1:]
    # dry-run from inside the grid folder, onto it
    result = CliRunner().invoke(app, ["experiment", str(copy), "--dry-run", "--out", str(grid)])
    assert result.exit_code == 0, result.output
    assert "search seeds 1001, 1002, never reported" in result.output
    # a copy whose original folder is gone cannot resolve its paths: said, on line 1
    moved = tmp_path / "moved.yaml"
    moved.write_text(copy.read_text().replace("(../../specs from", "(../../nowhere from", 1))
    with pytest.raises(SpecError, match=r"moved.yaml:1: spec: a grid's copy of .*run the orig"):
        load_spec(moved)


def test_the_committed_grids_that_searched_on_reported_seeds_say_so():
    """A committed grid copy whose lr search ran on reported seeds (the old policy) carries the
    opt-in key, or it would plan other search cells and train its grid again; a grid searched on
    seeds of its own (1001, …) carries none."""
    old = new = 0
    for copy in sorted((ROOT / "benchmarks" / "runs").glob("*/experiment.yaml")):
        manifest = json.loads((copy.parent / "grid.json").read_text())
        if not manifest.get("lr_seeds"):
            continue
        searched = {c["seed"] for c in manifest["cells"] if c["phase"] == 1}  # the lr search
        reuses = bool(searched & set(manifest["seeds"]))
        old, new = old + reuses, new + (not reuses)
        text = copy.read_text()
        assert ("\nlr_search_reuses_seeds: true\n" in text) == reuses, copy
        assert "from here)\n" in text.partition("\n")[0] + "\n", copy  # portable header
    assert old >= 4 and new >= 2


# -- cell identity ----------------------------------------------------------------------------


def test_cell_id_is_what_the_run_computes(tmp_path, tiny_data):
    files = {}
    for split in ("train", "dev", "test"):
        lines = Path(tiny_data["dev" if split == "train" else split]).read_text()
        files[split] = tmp_path / "data" / f"{split}.txt"
        files[split].parent.mkdir(exist_ok=True)
        files[split].write_text(lines)

    def ident(**kw) -> str:
        base = dict(
            train_file=str(files["train"]),
            dev_file=str(files["dev"]),
            test_file=str(files["test"]),
            train_size=20,
            max_steps=4,
            output_dir=str(tmp_path / "a"),
        )
        return cell_id(cell_identity(TrainConfig(**{**base, **kw})))

    first = ident()
    assert len(first) == 12 and int(first, 16) >= 0
    assert ident(output_dir=str(tmp_path / "b"), progress=False) == first
    assert ident(eval_batch_size=8) == first
    assert ident(score_test=False) == first  # a search run skipping test is the same cell
    for change in (
        {"augment": "mmix"},
        {"rate": 0.5},
        {"alpha": 2.0},
        {"seed": 2},
        {"sample_seed": 2},
        {"lr": 3e-4},
        {"max_steps": 5},
        {"train_size": 21},
        {"dev_size": 10},
        {"test_size": 10},
        {"model": "another"},
    ):
        assert ident(**change) != first, change
    # the data's content counts, not its path
    moved = tmp_path / "moved" / "test.txt"
    moved.parent.mkdir()
    moved.write_text(files["test"].read_text())
    assert ident(test_file=str(moved)) == first
    with files["test"].open("a") as fh:
        fh.write("\nEU B-ORG\n")
    assert ident() != first


def test_an_option_added_later_keeps_the_ids_of_finished_cells():
    """Every committed cell's stored identity is what this segmix computes for its config: a
    TrainConfig field added since (at the default that reproduces the old behaviour) must not
    rename, and so rerun, finished cells."""
    from segmix.experiment.cells import ADDED_LATER

    grid = ROOT / "benchmarks" / "runs" / "ner_quality_grid" / "cells"
    stored = [json.loads(p.read_text()) for p in sorted(grid.glob("*/cell.json"))[:3]]
    assert stored, f"no committed cells under {grid}"
    for record in stored:
        kept = record["identity"]["config"]
        assert not set(ADDED_LATER) & set(kept)
        config = TrainConfig(**kept, data_dir=str(DATA / "conll2003"))
        assert cell_identity(config)["config"] == kept


def test_the_eta_weighs_each_size_by_its_budget_not_by_its_count_of_cells(tmp_path):
    """Sizes 20 and 50 at 4 and 12 steps, none and mmix, seeds 1 and 2, no lr search: 4 cells a
    size. With size 20 done at 2 s a step (8 s a cell), 50's 4 cells take 4 × 12 × 2 = 96 s on
    one worker; counting cells (8 s each) said 32 s."""
    from segmix.experiment.runner import _Grid

    spec = load_spec(write_spec(tmp_path, GOOD.replace("steps: 4", "steps: {20: 4, 50: 12}")))
    grid = _Grid(
        spec,
        tmp_path / "grid",
        executor_options={"executor": "local", "workers": 1},
        on_event=None,
        wait_for_claims=False,
        poll_seconds=0.1,
        report=False,
    )
    grid._add(planned_cells(spec, grid.grid_dir))
    assert grid._eta_seconds() is None  # nothing trained yet: no estimate
    for cell in grid.cells.values():
        if cell.size == 20:
            grid.state[cell.id]["status"] = "finished"
            grid.seconds_per_work.append(8.0 / grid._work(cell.size))
    assert grid._eta_seconds() == 4 * 12 * 2.0
    one = next(c for c in grid.cells.values() if c.size == 50)
    grid.state[one.id]["status"] = "failed"  # a failed cell is done too
    assert grid._eta_seconds() == 3 * 12 * 2.0


def test_a_resumed_grid_estimates_from_earlier_cells_that_trained_as_its_cells_will(tmp_path):
    """Size 20's 4 cells reused, each recorded at 8 s (2 s a step) on this machine with the
    torch threads a cell gets now: size 50's 4 cells × 12 steps × 2 s = 96 s on one worker,
    48 s on two, before any cell of this run has finished. A cell recorded with other torch
    threads (another --workers) or on another CPU does not set the pace; under Ray, whose
    nodes are unknown beforehand, there is no estimate until a cell finishes."""
    from segmix.experiment.runner import _Grid, threads_per_worker
    from segmix.runs import machine, write_json

    spec = load_spec(write_spec(tmp_path, GOOD.replace("steps: 4", "steps: {20: 4, 50: 12}")))

    def resumed(executor: str, workers: int, recorded_seconds: list[float]) -> _Grid:
        grid = _Grid(
            spec,
            tmp_path / f"grid-{executor}-{workers}",
            executor_options={"executor": executor, "workers": workers},
            on_event=None,
            wait_for_claims=False,
            poll_seconds=0.1,
            report=False,
        )
        grid._add(planned_cells(spec, grid.grid_dir))
        small = [c for c in grid.cells.values() if c.size == 20]
        for cell, seconds in zip(small, recorded_seconds, strict=True):
            recorded = machine()  # what a cell trained in this process records
            if workers > 1:  # a pool worker's torch threads
                recorded["torch_threads"] = threads_per_worker(workers)
            if seconds != 8.0:  # the odd one out trained another way
                recorded["torch_threads"] += 1
            write_json(cell.run_dir / "metrics.json", {"dev": {}, "machine": recorded})
            grid.earlier[cell.id] = {"seconds": seconds}
            grid._mark_reused(cell)
        return grid

    assert resumed("local", 1, [8.0, 8.0, 8.0, 800.0])._eta_seconds() == 4 * 12 * 2.0
    assert resumed("local", 2, [8.0, 8.0, 8.0, 8.0])._eta_seconds() == 4 * 12 * 2.0 / 2
    assert resumed("ray", 1, [8.0, 8.0, 8.0, 8.0])._eta_seconds() is None
    other_cpu = resumed("local", 1, [800.0] * 4)  # none recorded as a cell trains now
    assert other_cpu._eta_seconds() is None
    other_cpu.seconds_per_work.append(1.0)  # this run's own first cell decides from then on
    assert other_cpu._eta_seconds() == 4 * 12 * 1.0
    # a cell resumed from its checkpoint trained only its rest: its pace counts last
    under_ray = resumed("ray", 1, [8.0] * 4)
    under_ray.resumed_seconds_per_work.append(0.5)
    assert under_ray._eta_seconds() == 4 * 12 * 0.5
    under_ray.seconds_per_work.append(2.0)
    assert under_ray._eta_seconds() == 4 * 12 * 2.0


# -- tiny real grids ----------------------------------------------------------------------------


def test_a_grid_runs_and_running_it_again_trains_nothing(tmp_path, tiny_data):
    path = tiny_spec(tmp_path, tiny_data, "methods: [none, mmix]\nseeds: [1, 2]\nsteps: 4\n")
    grid = tmp_path / "grid"
    events: list = []
    result = run_experiment(load_spec(path), grid, on_event=events_of(events), report=False)
    assert result.complete and len(result.trained) == 4 and not result.failed
    finished = [e for e in events if e.kind == "finished"]
    assert [e.done for e in finished] == [1, 2, 3, 4] and {e.total for e in finished} == {4}
    assert "[4/4] mmix n=20 seed 2 lr 0.0001: dev" in finished[-1].message
    assert finished[0].eta_seconds > 0

    manifest = json.loads((grid / "grid.json").read_text())
    assert (manifest["name"], manifest["task"], manifest["metric"]) == ("tiny", "ner", "f1")
    assert manifest["steps"] == {"20": 4} and manifest["lr_candidates"] == [1e-4]
    cells = manifest["cells"]
    assert [(c["label"], c["seed"]) for c in cells] == [
        ("none", 1),
        ("mmix", 1),
        ("none", 2),
        ("mmix", 2),
    ]
    for c in cells:
        assert c["status"] == "finished" and c["phase"] == 2 and c["size"] == 20
        assert c["dir"] == f"cells/{c['id']}/run"
        run = grid / c["dir"]
        assert (run / "finished.json").exists() and not (run / "model").exists()
        stored = json.loads((grid / "cells" / c["id"] / "cell.json").read_text())
        assert stored["id"] == c["id"] == cell_id(stored["identity"])
        metrics = json.loads((run / "metrics.json").read_text())
        assert c["dev"] == metrics["dev"]["f1"] and c["test"] == metrics["test"]["f1"]
        assert metrics["steps"] == 4
    assert "methods: [none, mmix]" in (grid / "experiment.yaml").read_text()

    # what git keeps of a cell (no predictions/ folder) still gives the same bootstrap: the
    # compact test predictions, with the gold read from the test file
    from segmix.experiment.report import build_report
    from segmix.runs import read_compact_predictions, write_compact_predictions

    full = build_report(grid, bootstrap=200)
    for c in cells:
        run = grid / c["dir"]
        kept = [json.loads(line) for line in (run / "predictions" / "test.jsonl").open()]
        ids, pred = read_compact_predictions(run / "test_pred.json.xz")
        assert ids == [r["id"] for r in kept] and pred == [r["pred"] for r in kept]
    moved = tmp_path / "predictions"
    moved.mkdir()
    for c in cells:
        (grid / c["dir"] / "predictions").rename(moved / c["id"])
    # a cell committed before decision 58 keeps them gzipped: read alike
    legacy = grid / cells[1]["dir"]
    write_compact_predictions(
        legacy / "test_pred.json.gz", *read_compact_predictions(legacy / "test_pred.json.xz")
    )
    (legacy / "test_pred.json.xz").unlink()
    committed = build_report(grid, bootstrap=200)
    (row,) = [r for r in full["rows"] if r["label"] == "mmix"]
    assert row["interval"] is not None and row["interval"]["seeds_used"] == [1, 2]
    for key in ("interval", "sentence_bootstrap"):
        assert [r.get(key) for r in committed["rows"]] == [r.get(key) for r in full["rows"]]
    for c in cells:
        (moved / c["id"]).rename(grid / c["dir"] / "predictions")
    # a cell from before segmix wrote them gets them from its predictions/ with the report
    from segmix.experiment.report import write_report

    compact = grid / cells[0]["dir"] / "test_pred.json.xz"
    before = compact.read_bytes()
    compact.unlink()
    write_report(grid, bootstrap=10, out=tmp_path / "report")
    assert compact.read_bytes() == before  # the same bytes: no timestamp in them

    stamps = {p: p.stat().st_mtime_ns for p in grid.glob("cells/*/run/metrics.json")}
    first_entries = json.dumps(json.loads((grid / "grid.json").read_text())["cells"])
    first_manifest = (grid / "grid.json").read_bytes()
    again = CliRunner().invoke(app, ["experiment", str(path), "--out", str(grid)])
    assert again.exit_code == 0, again.output
    assert "4 cells finished earlier: reused" in again.output
    assert "4/4 cells done (0 trained now, 4 reused, 0 failed)" in again.output
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    # grid.json still says how long each cell took and in how many attempts (a rerun used to
    # drop both for every reused cell)
    taken = {c["id"]: (c["seconds"], c["attempts"]) for c in cells}
    assert all(seconds > 0 and attempts == 1 for seconds, attempts in taken.values())
    rerun = json.loads((grid / "grid.json").read_text())["cells"]
    assert {c["id"]: (c.get("seconds"), c.get("attempts")) for c in rerun} == taken
    # ... in the same words and order, so a committed grid.json only changes where a cell did
    assert json.dumps(rerun) == first_entries
    # and the whole file is left as it was, its time of writing included: a committed grid
    # run again shows no change
    assert (grid / "grid.json").read_bytes() == first_manifest
    # run from the grid's own copy of its spec (how a grid is resumed exactly as it was run):
    # the copy is left as it is (it used to gain a second header, naming itself as the
    # source), and so is grid.json, the spec's source included
    copy = (grid / "experiment.yaml").read_bytes()
    assert copy.decode().count("# copied from") == 1
    own = CliRunner().invoke(app, ["experiment", str(grid / "experiment.yaml"), "--out", str(grid)])
    assert own.exit_code == 0 and "(0 trained now, 4 reused, 0 failed)" in own.output, own.output
    assert (grid / "experiment.yaml").read_bytes() == copy
    assert (grid / "grid.json").read_bytes() == first_manifest
    # each run of the grid command that trained is one line of sessions.jsonl, and the report
    # sums their time; running the finished grid again adds none (each such line counted as
    # one more run of the grid)
    sessions = [json.loads(line) for line in (grid / "sessions.jsonl").open()]
    assert [(r["trained"], r["reused"], r["done"], r["interrupted"]) for r in sessions] == [
        (4, 0, 4, False),
    ]
    assert sessions[0]["executor"] == "local" and "cpu" in sessions[0]["machine"]
    seconds = sessions[0]["wall_seconds"]  # a tiny grid: seconds to minutes
    total = f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"
    assert (
        f"Grid wall time: {total} over 1 run of the grid command"
        in (grid / "report.md").read_text()
    )
    assert "were not trained in these runs" not in (grid / "report.md").read_text()
    # such a line written by an earlier segmix is left out of the count too
    trained_run = sessions[0]
    rerun_line = {**trained_run, "trained": 0, "reused": 4, "wall_seconds": 2.0}
    (grid / "sessions.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in (trained_run, rerun_line))
    )
    write_report(grid, bootstrap=10, out=tmp_path / "report_rerun")
    assert "over 1 run of the grid command" in (tmp_path / "report_rerun/report.md").read_text()
    # a grid trained in a run that wrote no line (before sessions.jsonl existed, killed
    # outright), then run again: the report says its time is not recorded (it read as if the
    # whole grid had taken 0.0 h), or, beside a recorded run, which cells that run leaves out
    (grid / "sessions.jsonl").write_text(json.dumps(rerun_line) + "\n")
    write_report(grid, bootstrap=10, out=tmp_path / "report_late")
    assert (
        "Grid wall time: not recorded: none of the 4 finished cells was trained in a run"
        in (tmp_path / "report_late/report.md").read_text()
    )
    (grid / "sessions.jsonl").write_text(json.dumps({**trained_run, "trained": 1}) + "\n")
    write_report(grid, bootstrap=10, out=tmp_path / "report_part")
    assert (
        "3 of the 4 finished cells were not trained in these runs"
        in (tmp_path / "report_part/report.md").read_text()
    )
    (grid / "sessions.jsonl").write_text(json.dumps(trained_run) + "\n")

    # a folder whose stored identity is another cell's is reported, never reused or overwritten
    stored = grid / "cells" / cells[0]["id"] / "cell.json"
    record = json.loads(stored.read_text())
    record["identity"]["config"]["seed"] = 99
    stored.write_text(json.dumps(record))
    result = run_experiment(load_spec(path), grid, report=False)
    assert result.failed == [cells[0]["id"]] and not result.trained and len(result.reused) == 3
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    assert json.loads(stored.read_text()) == record
    status = {c["id"]: c["status"] for c in json.loads((grid / "grid.json").read_text())["cells"]}
    assert status[cells[0]["id"]] == "failed"


def test_stop_after_starts_no_cell_once_time_is_up_and_the_next_run_continues(
    tmp_path, tiny_data, monkeypatch
):
    from segmix.experiment import runner

    path = tiny_spec(tmp_path, tiny_data, "methods: [none, mmix]\nseeds: [1, 2]\nsteps: 4\n")
    grid = tmp_path / "grid"
    # time is up as soon as the first cell has started: it runs to its end, nothing else starts
    monkeypatch.setattr(
        runner._Grid, "_time_is_up", lambda self: bool(self.in_flight or self.result.trained)
    )
    events: list = []
    result = run_experiment(
        load_spec(path), grid, report=False, stop_after=1.0, on_event=events.append
    )
    assert len(result.trained) == 1 and result.left_for_later == 3 and not result.complete
    assert "3 cells left for the next run of the same command" in next(
        e.message for e in events if e.kind == "stopped"
    )
    manifest = json.loads((grid / "grid.json").read_text())
    assert manifest["counts"] == {"finished": 1, "pending": 3}
    monkeypatch.undo()

    again = run_experiment(load_spec(path), grid, report=False, stop_after=3600.0)
    assert again.complete and len(again.trained) == 3 and again.reused == result.trained
    assert again.left_for_later == 0


def test_stop_after_takes_a_duration_and_names_a_bad_one(tmp_path, tiny_data):
    path = tiny_spec(tmp_path, tiny_data, "methods: [none]\nseeds: [1]\nsteps: 4\n")
    bad = CliRunner().invoke(app, ["experiment", str(path), "--stop-after", "90"])
    assert bad.exit_code == 2 and bad.output.strip().splitlines() == [
        "error: --stop-after: '90' is not a duration; write it like 3h30m, 45m or 90s"
    ]


def test_an_interrupted_cell_resumes_from_its_checkpoint(tmp_path, tiny_data):
    from transformers import TrainerCallback

    class CtrlC(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == 3:  # after the checkpoint of step 2
                raise KeyboardInterrupt

    class Steps(TrainerCallback):
        count = 0

        def on_step_end(self, args, state, control, **kwargs):
            Steps.count += 1

    path = tiny_spec(tmp_path, tiny_data, "methods: [none]\nseeds: [1]\nsteps: 6\n")
    grid = tmp_path / "grid"
    with pytest.raises(KeyboardInterrupt):
        run_experiment(load_spec(path), grid, callbacks=[CtrlC()], report=False)
    (cell,) = json.loads((grid / "grid.json").read_text())["cells"]
    run = grid / cell["dir"]
    assert cell["status"] == "interrupted"
    assert (run / "config.json").exists() and not (run / "finished.json").exists()
    assert (run / "checkpoints" / "checkpoint-2").is_dir()
    # the claim went with the interruption: the next run takes the cell and resumes it
    result = run_experiment(load_spec(path), grid, callbacks=[Steps()], report=False)
    assert result.trained == [cell["id"]]
    assert Steps.count == 4  # steps 3-6 only
    assert json.loads((run / "metrics.json").read_text())["steps"] == 6


def test_a_failing_cell_is_retried_once_reported_and_the_grid_goes_on(tmp_path, tiny_data):
    # SeqMix windows start on an entity and must fit the sentence: 200 words fit none of them
    path = tiny_spec(
        tmp_path, tiny_data, "methods: [{name: seqmix, window: 200}, none]\nseeds: [1]\nsteps: 4\n"
    )
    grid = tmp_path / "grid"
    result = CliRunner().invoke(app, ["experiment", str(path), "--out", str(grid)])
    assert result.exit_code == 1, result.output
    assert "attempt 1 failed (ValueError: --augment: seqmix has nothing to change" in result.output
    assert "seqmix[window=200] n=20 seed 1 lr 0.0001: FAILED, failed 2 times" in result.output
    cells = {c["label"]: c for c in json.loads((grid / "grid.json").read_text())["cells"]}
    failed = cells["seqmix[window=200]"]
    assert failed["status"] == "failed" and failed["attempts"] == 2
    assert "nothing to change" in failed["error"]
    log = (grid / "cells" / failed["id"] / "error.log").read_text()
    assert log.count("Traceback") == 2 and "attempt 2" in log
    assert cells["none"]["status"] == "finished"


def test_a_claimed_cell_is_left_to_its_holder_then_run_when_free(tmp_path, tiny_data):
    from filelock import FileLock

    path = tiny_spec(tmp_path, tiny_data, "methods: [none]\nseeds: [1, 2]\nsteps: 4\n")
    grid = tmp_path / "grid"
    spec = load_spec(path)
    first, second = planned_cells(spec, grid)
    locks = []
    for cell in (first, second):  # another grid process holds both
        cell.folder.mkdir(parents=True)
        locks.append(FileLock(str(cell.folder / "claim.lock"), timeout=0, thread_local=False))
        locks[-1].acquire()
    result = run_experiment(spec, grid, wait_for_claims=False, report=False)
    assert sorted(result.busy) == sorted([first.id, second.id]) and not result.trained
    assert not first.run_dir.exists() and not result.complete
    locks[1].release()

    events: list = []

    def release_when_waiting(event) -> None:
        events.append(event)
        if event.kind == "waiting":
            locks[0].release()  # the other process stops holding it

    result = run_experiment(
        spec, grid, on_event=release_when_waiting, poll_seconds=0.1, report=False
    )
    order = [(e.kind, e.cell.id if e.cell else None) for e in events]
    assert order.index(("busy", first.id)) < order.index(("finished", second.id))
    assert order.index(("finished", second.id)) < order.index(("waiting", None))
    assert order.index(("waiting", None)) < order.index(("finished", first.id))
    assert result.complete and result.trained == [second.id, first.id]


def test_the_lr_is_chosen_on_dev_on_search_seeds_never_reported(tmp_path, tiny_data):
    path = tiny_spec(
        tmp_path,
        tiny_data,
        "methods: [mmix]\nseeds: [1, 2]\nlr_seeds: 1\nsteps: 6\nlr: [1.0e-6, 1.0e-3]\n",
    )
    grid = tmp_path / "grid"
    result = run_experiment(load_spec(path), grid, report=False)
    # 2 candidates on search seed 1001, then seeds 1 and 2 at the chosen lr
    assert result.complete and len(result.trained) == 4

    cells = json.loads((grid / "grid.json").read_text())["cells"]
    dev = {}
    for c in cells:
        if c["seed"] == 1001:
            dev[c["lr"]] = json.loads((grid / c["dir"] / "metrics.json").read_text())["dev"]["f1"]
    best = max(dev, key=lambda lr: (dev[lr], -lr))  # ties go to the smaller lr
    choice = json.loads((grid / "lr_choice.json").read_text())
    assert sorted(choice) == ["_about", "mmix|20"]
    about = choice["_about"]
    assert about["split"] == "dev" and about["seeds"] == [1001]
    assert about["reuses_reported_seeds"] is False
    row = choice["mmix|20"]
    assert (row["label"], row["size"], row["chosen"]) == ("mmix", 20, best)
    assert row["dev_means"] == {str(lr): value for lr, value in dev.items()}
    assert {c["lr"]: c["dev"] for c in row["candidates"]} == {
        lr: {"1001": value} for lr, value in dev.items()
    }
    final = [c for c in cells if c["phase"] == 2]
    assert sorted(c["seed"] for c in final) == [1, 2] and {c["lr"] for c in final} == {best}
    assert not any(c["lr_search"] for c in final)  # no reported run chose its lr
    search = [c for c in cells if c["phase"] == 1]
    assert sorted(c["lr"] for c in search) == [1e-6, 1e-3]
    assert {c["seed"] for c in search} == {1001} and {c["status"] for c in search} == {"finished"}
    manifest = json.loads((grid / "grid.json").read_text())
    assert manifest["lr_choice"] == {"mmix": {"20": best}} and manifest["total"] == 4
    assert (manifest["lr_seeds"], manifest["lr_search_seeds"]) == (1, [1001])
    assert manifest["lr_search_reuses_seeds"] is False

    # the search never touches test (decision 49): no score, no predictions; reported runs do
    for c in cells:
        run = grid / c["dir"]
        metrics = json.loads((run / "metrics.json").read_text())
        searched_only = c["phase"] == 1
        assert (metrics["test"] is None) == searched_only, c
        assert (run / "test_pred.json.xz").exists() != searched_only, c
        assert any((run / "predictions").glob("test*")) != searched_only, c
        assert isinstance(metrics["dev"], dict)
        assert (metrics["timing"]["test_seconds"] is None) == searched_only, c
    from segmix.experiment.report import build_report

    report = build_report(grid, bootstrap=20)
    assert not report["missing"]  # the search runs without test scores are finished, not broken

    # a spec that later reports a search seed cannot reuse that seed's test-less search run
    reporting = tiny_spec(
        tmp_path,
        tiny_data,
        "methods: [mmix]\nseeds: [1001, 2]\nlr_seeds: [1001]\nsteps: 6\n"
        "lr: [1.0e-6, 1.0e-3]\nlr_search_reuses_seeds: true\n",
        name="reporting",
    )
    again = run_experiment(load_spec(reporting), grid, report=False)
    # seed 1001's search runs are now reported ones: each is refused, by name, and nothing trains
    assert again.trained == [] and len(again.failed) == 2
    failed = [
        c for c in json.loads((grid / "grid.json").read_text())["cells"] if c["id"] in again.failed
    ]
    assert {(c["seed"], c["lr"]) for c in failed} == {(1001, 1e-6), (1001, 1e-3)}
    for c in failed:
        assert "finished as an lr-search run, which skips test" in c["error"]
        assert "remove that folder" in c["error"]


def test_each_size_is_finished_before_the_next_sizes_lr_search(tmp_path, tiny_data):
    # a size's lr is chosen from its own cells, so its final cells need not wait for the other
    # sizes' searches (they did: a long grid had no whole size until every search was over)
    path = tiny_spec(
        tmp_path,
        tiny_data,
        "methods: [mmix]\nseeds: [1, 2]\nlr_seeds: 1\nsteps: 4\nlr: [1.0e-6, 1.0e-3]\n"
        "lr_search_reuses_seeds: true\n",  # seed 1 searched and reported: 6 cells, not 8
        sizes="[20, 24]",
    )
    grid = tmp_path / "grid"
    events: list = []
    result = run_experiment(load_spec(path), grid, report=False, on_event=events.append)
    assert result.complete and len(result.trained) == 6
    order = [
        (e.kind, e.cell.size, e.cell.seed) if e.cell else (e.kind, e.message.split(": ")[0])
        for e in events
        if e.kind in ("finished", "lr_choice")
    ]
    assert order == [
        ("finished", 20, 1),
        ("finished", 20, 1),
        ("lr_choice", "lr for mmix n=20"),
        ("finished", 20, 2),
        ("finished", 24, 1),
        ("finished", 24, 1),
        ("lr_choice", "lr for mmix n=24"),
        ("finished", 24, 2),
    ]
    choice = json.loads((grid / "lr_choice.json").read_text())
    assert sorted(choice) == ["_about", "mmix|20", "mmix|24"]
    assert choice["_about"]["seeds"] == [1] and choice["_about"]["reuses_reported_seeds"] is True
    manifest = json.loads((grid / "grid.json").read_text())
    assert sorted(manifest["lr_choice"]["mmix"]) == ["20", "24"]
    assert manifest["counts"] == {"finished": 6}
    assert (manifest["lr_seeds"], manifest["lr_search_seeds"]) == (1, [1])
    assert manifest["lr_search_reuses_seeds"] is True
    final = [c for c in manifest["cells"] if c["phase"] == 2]
    assert sorted((c["seed"], c["lr_search"]) for c in final) == [(1, True)] * 2 + [(2, False)] * 2
    for c in manifest["cells"]:  # a search seed that is also reported scores test: any may be
        assert isinstance(json.loads((grid / c["dir"] / "metrics.json").read_text())["test"], dict)

    # run again: everything reused, the same choices
    events.clear()
    again = run_experiment(load_spec(path), grid, report=False, on_event=events.append)
    assert again.complete and not again.trained and len(again.reused) == 6
    assert json.loads((grid / "lr_choice.json").read_text()) == choice

    # a candidate added at 20 only (decision 54): its search cell trains, 20's choice is made
    # again over three candidates (a better rate would plan new final cells), 24's stays
    extended = path.read_text().replace(
        "lr: [1.0e-6, 1.0e-3]", "lr: [1.0e-6, 1.0e-3, {lr: 2.0e-3, sizes: [20]}]"
    )
    path.write_text(extended)
    # started with no time to train: 24's choice is made again at once (its search is whole),
    # 20's, made over two candidates, is gone until its third is searched
    cut = run_experiment(load_spec(path), grid, report=False, stop_after=0)
    assert not cut.trained and not cut.complete
    assert sorted(json.loads((grid / "lr_choice.json").read_text())) == ["_about", "mmix|24"]
    events.clear()
    third = run_experiment(load_spec(path), grid, report=False, on_event=events.append)
    trained = [(e.cell.size, e.cell.seed, e.cell.lr) for e in events if e.kind == "finished"]
    assert third.complete and trained[0] == (20, 1, 2e-3)
    after = json.loads((grid / "lr_choice.json").read_text())
    assert [c["lr"] for c in after["mmix|20"]["candidates"]] == [1e-6, 1e-3, 2e-3]
    assert after["mmix|24"] == choice["mmix|24"]
    assert json.loads((grid / "grid.json").read_text())["lr_candidate_sizes"] == {"0.002": [20]}


def test_a_grid_run_part_by_part_records_every_part(tmp_path, tiny_data):
    # grid.json and lr_choice.json were rewritten with the part that ran last (--sizes 24 after
    # --sizes 20 left no trace of size 20), so the report saw only the last part
    path = tiny_spec(
        tmp_path,
        tiny_data,
        "methods: [mmix]\nseeds: [1]\nlr_seeds: 1\nsteps: 4\nlr: [1.0e-6, 1.0e-3]\n"
        "lr_search_reuses_seeds: true\n",
        sizes="[20, 24]",
    )
    grid = tmp_path / "grid"
    for size in (20, 24):
        part = run_experiment(load_spec(path).narrowed(sizes=[size]), grid, report=False)
        assert part.complete and len(part.trained) == 2
    manifest = json.loads((grid / "grid.json").read_text())
    assert manifest["sizes"] == [20, 24] and manifest["total"] == 4
    assert manifest["counts"] == {"finished": 4}
    assert sorted((c["size"], c["lr"]) for c in manifest["cells"]) == [
        (20, 1e-6),
        (20, 1e-3),
        (24, 1e-6),
        (24, 1e-3),
    ]
    choice = json.loads((grid / "lr_choice.json").read_text())
    assert sorted(choice) == ["_about", "mmix|20", "mmix|24"]
    assert sorted(manifest["lr_choice"]["mmix"]) == ["20", "24"]

    # the whole grid run now trains nothing and records what the parts did
    whole = run_experiment(load_spec(path), grid, report=False)
    assert whole.complete and not whole.trained and len(whole.reused) == 4
    again = json.loads((grid / "grid.json").read_text())
    by_id = lambda m: sorted(m["cells"], key=lambda c: c["id"])  # noqa: E731
    assert by_id(again) == by_id(manifest) and again["lr_choice"] == manifest["lr_choice"]
    assert json.loads((grid / "lr_choice.json").read_text()) == choice


def test_the_ray_executor_runs_a_grid(tmp_path, tiny_data):
    ray = pytest.importorskip("ray")
    path = tiny_spec(tmp_path, tiny_data, "methods: [none, mmix]\nseeds: [1]\nsteps: 4\n")
    grid = tmp_path / "grid"
    # address="local": a Ray of its own, even where another Ray runs on this machine (Ray would
    # otherwise join that one, and refuse num_cpus there)
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        result = run_experiment(load_spec(path), grid, executor="ray", report=False)
    finally:
        ray.shutdown()
    assert result.complete and len(result.trained) == 2 and not result.failed
    for c in json.loads((grid / "grid.json").read_text())["cells"]:
        assert (grid / c["dir"] / "finished.json").exists()


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGKILL"])
def test_a_stopped_grid_leaves_no_worker_training(tmp_path, tiny_data, signal_name):
    """``kill`` (SIGTERM) stops a ``--workers 2`` grid as Ctrl-C does: the workers stop, the
    running cells are marked interrupted. Even SIGKILL, which the grid cannot catch, takes its
    workers down (Linux): no worker trains on, outside any claim, into a cell."""
    import signal
    import subprocess
    import sys
    import time

    from segmix.runs import run_lock

    path = tiny_spec(tmp_path, tiny_data, "methods: [none]\nseeds: [1, 2]\nsteps: 400\n")
    grid = tmp_path / "grid"
    cmd = [sys.executable, "-m", "segmix.cli", "experiment", str(path), "--out", str(grid)]
    proc = subprocess.Popen([*cmd, "--workers", "2"], stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        while len(list(grid.glob("cells/*/run/checkpoints/checkpoint-*"))) < 2:
            assert proc.poll() is None and time.monotonic() < deadline, "the cells never started"
            time.sleep(0.5)
        proc.send_signal(getattr(signal, signal_name))
        output, _ = proc.communicate(timeout=120)
    finally:
        proc.kill()
    runs = [p.parent.parent for p in grid.glob("cells/*/run/checkpoints")]
    assert len(runs) == 2
    deadline = time.monotonic() + 30
    for run in runs:  # a worker still training would hold its run folder's lock
        while True:
            try:
                with run_lock(run):
                    break
            except ValueError:
                assert time.monotonic() < deadline, f"a worker still writes {run}"
                time.sleep(0.5)
        assert not (run / "finished.json").exists()
    if signal_name == "SIGTERM":
        assert proc.returncode == 130
        assert "interrupted: run the same command again to resume" in output
        statuses = [c["status"] for c in json.loads((grid / "grid.json").read_text())["cells"]]
        assert statuses == ["interrupted", "interrupted"]
        (session,) = [json.loads(line) for line in (grid / "sessions.jsonl").open()]
        assert session["interrupted"] and session["trained"] == 0 and session["workers"] == 2
    else:  # killed outright: no time is recorded, rather than a guessed one
        assert not (grid / "sessions.jsonl").exists()


# -- shipped specs ----------------------------------------------------------------------------

SHIPPED_SPECS = sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.yaml"))


@pytest.mark.skipif(not CONLL.exists(), reason=f"real data not found at {DATA}")
@pytest.mark.parametrize("path", SHIPPED_SPECS, ids=lambda p: p.name)
def test_every_shipped_spec_loads_plans_and_has_the_cell_count_it_states(path, tmp_path):
    import re

    from segmix.experiment.cells import total_cells

    spec = load_spec(path)
    cells = planned_cells(spec, tmp_path / "grid")
    assert cells and len({c.id for c in cells}) == len(cells)
    stated = re.search(r"^#.*# (\d+) cells$", path.read_text(encoding="utf-8"), re.MULTILINE)
    if stated:  # the count a spec's header promises is the count --dry-run gives
        assert total_cells(spec) == int(stated.group(1))
