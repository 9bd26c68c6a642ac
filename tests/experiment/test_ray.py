"""A grid on a Ray cluster of several nodes (a head and two workers, all on this machine).

The cells train in node-local scratch folders and come back as bytes, so the test proves the
grid needs no storage shared with the nodes: the driver's cell folders hold exactly the files
the tasks shipped, and the numbers are those of the same cells trained locally.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from segmix.cli import app
from segmix.experiment import load_spec, run_experiment
from segmix.experiment.runner import land_run_files, make_executor
from tests.experiment.test_runner import tiny_spec


@pytest.fixture
def one_torch_thread():
    """The Ray cells train with one torch thread (one CPU each): the local run they are
    compared with does too, so the same seed gives the same numbers."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def cluster():
    """A head with no CPUs (no cell can run on it) and two worker nodes of one CPU each; every
    Ray process it starts is stopped afterwards."""
    pytest.importorskip("ray")
    import ray
    from ray.cluster_utils import Cluster

    nodes = Cluster(
        initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False}
    )
    try:
        workers = [nodes.add_node(num_cpus=1) for _ in range(2)]
        nodes.wait_for_nodes()
        yield nodes, workers
    finally:
        ray.shutdown()
        nodes.shutdown()


def test_a_grid_on_a_cluster_needs_no_shared_folder(
    tmp_path, tiny_data, cluster, caplog, one_torch_thread
):
    import ray

    nodes, workers = cluster
    node_local = tmp_path / "node-local"  # where the workers' scratch folders go
    node_local.mkdir()
    env = {"TMPDIR": str(node_local), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    ray.init(address=nodes.address, runtime_env={"env_vars": env}, log_to_driver=False)

    with pytest.raises(ValueError, match=r"^--gpus-per-cell: the Ray cluster has no GPUs"):
        make_executor("ray", gpus_per_cell=0.5)

    def devices_seen() -> str | None:  # a cell given no GPU sees none, even on a GPU node
        import os

        from segmix.experiment.runner import _hide_unassigned_gpus

        os.environ["CUDA_VISIBLE_DEVICES"] = "0"
        _hide_unassigned_gpus()
        return os.environ["CUDA_VISIBLE_DEVICES"]

    assert ray.get(ray.remote(num_cpus=1)(devices_seen).remote()) == ""

    path = tiny_spec(tmp_path, tiny_data, "methods: [none, mmix]\nseeds: [1, 2]\nsteps: 4\n")
    grid = tmp_path / "grid"
    caplog.set_level(logging.INFO, logger="segmix.experiment.runner")
    result = run_experiment(load_spec(path), grid, executor="ray", report=False)
    assert result.complete and len(result.trained) == 4 and not result.failed

    # each cell trained once, on a worker node, in a scratch folder of that node
    shipped = [
        re.match(r"(.+): trained on node (\w+) in (.+); (\d+) files shipped back", r.getMessage())
        for r in caplog.records
    ]
    shipped = [m for m in shipped if m]
    assert len(shipped) == 4 and len({m[1] for m in shipped}) == 4
    assert {m[2] for m in shipped} <= {w.node_id for w in workers}
    assert all(Path(m[3]).is_relative_to(node_local) for m in shipped)
    assert not list(node_local.glob("segmix-cell-*"))  # every scratch folder removed

    entries = json.loads((grid / "grid.json").read_text())["cells"]
    assert [e["status"] for e in entries] == ["finished"] * 4
    assert all(e["attempts"] == 1 and "workers_lost" not in e for e in entries)
    for entry in entries:
        run = grid / entry["dir"]
        # only what the task shipped: no lock, checkpoints or predictions/ of a run written here
        assert {p.name for p in run.iterdir()} == {
            "config.json",
            "versions.json",
            "subset.json",
            "metrics.json",
            "test_pred.json.xz",
            "finished.json",
        }
        assert json.loads((run / "config.json").read_text())["output_dir"] == str(run)

    # the same cells trained here, without Ray: the same numbers
    local_spec = tiny_spec(
        tmp_path / "local", tiny_data, "methods: [none, mmix]\nseeds: [1]\nsteps: 4\n"
    )
    local_grid = tmp_path / "local-grid"
    local = run_experiment(load_spec(local_spec), local_grid, report=False)
    assert len(local.trained) == 2 and set(local.trained) <= set(result.trained)
    for cell_id in local.trained:
        here, there = local_grid / "cells" / cell_id / "run", grid / "cells" / cell_id / "run"
        mine, theirs = (json.loads((d / "metrics.json").read_text()) for d in (here, there))
        for split in ("dev", "test"):
            mine[split].pop("seconds"), theirs[split].pop("seconds")
            assert mine[split] == theirs[split]
        assert (mine["steps"], mine["best_step"]) == (theirs["steps"], theirs["best_step"])
        pred = ((d / "test_pred.json.xz").read_bytes() for d in (here, there))
        assert next(pred) == next(pred)
        configs = [json.loads((d / "config.json").read_text()) for d in (here, there)]
        assert [c.pop("output_dir") for c in configs] == [str(here), str(there)]
        assert configs[0] == configs[1]


def test_a_shipped_run_replaces_what_the_folder_held_and_stays_inside_it(tmp_path):
    run = tmp_path / "run"
    (run / "checkpoints" / "checkpoint-2").mkdir(parents=True)
    (run / "predictions").mkdir()
    (run / "config.json").write_text("{}")
    (run / ".lock").write_text("")
    land_run_files(run, {"metrics.json": b"{}", "finished.json": b"{}", "model/a.bin": b"1"})
    assert sorted(p.relative_to(run).as_posix() for p in run.rglob("*")) == [
        ".lock",
        "finished.json",
        "metrics.json",
        "model",
        "model/a.bin",
    ]
    with pytest.raises(ValueError, match="outside it"):
        land_run_files(run, {"../x": b"", "finished.json": b"{}"})
    with pytest.raises(ValueError, match=r"no finished\.json"):
        land_run_files(run, {"metrics.json": b"{}"})


@pytest.mark.parametrize(
    "args, message",
    [
        (["--executor", "ray", "--gpus-per-cell", "-1"], "--gpus-per-cell: -1 is not allowed"),
        (["--executor", "ray", "--gpus-per-cell", "0"], "--gpus-per-cell: 0 is not allowed"),
        (["--gpus-per-cell", "1"], "--gpus-per-cell go with --executor ray"),
    ],
)
def test_gpus_per_cell_is_refused_in_one_line_before_anything_starts(tmp_path, args, message):
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: x\n")
    out = CliRunner().invoke(app, ["experiment", str(spec), "--out", str(tmp_path / "g"), *args])
    assert out.exit_code == 2
    (line,) = out.output.strip().splitlines()
    assert line.startswith("error: ") and message in line
    assert not (tmp_path / "g").exists()


def test_a_cell_whose_node_is_lost_is_run_again_elsewhere(tmp_path, tiny_data, cluster):
    """A worker node removed while both cells train: Ray runs its cell again on the other node,
    the grid finishes every cell once, and grid.json says which cell lost its worker."""
    import threading
    import time

    import ray

    nodes, workers = cluster
    node_local = tmp_path / "node-local"
    node_local.mkdir()
    env = {"TMPDIR": str(node_local), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    ray.init(address=nodes.address, runtime_env={"env_vars": env}, log_to_driver=False)
    path = tiny_spec(tmp_path, tiny_data, "methods: [none]\nseeds: [1, 2]\nsteps: 12\n")
    grid = tmp_path / "grid"
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["result"] = run_experiment(load_spec(path), grid, executor="ray", report=False)
        except BaseException as err:  # handed to the test's thread
            outcome["error"] = err

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    # hang guards, not timings: starting Ray workers and loading the encoder on one CPU each
    # is many times slower while another job has the cores (with a grid training on both
    # cores, this test took 562 s where 400 s was its guard), and a tight guard then fails a
    # grid that works
    deadline = time.monotonic() + 300
    while len(list(node_local.glob("segmix-cell-*/run/config.json"))) < 2:  # both training
        assert thread.is_alive() and time.monotonic() < deadline, "the cells never started"
        time.sleep(0.2)
    nodes.remove_node(workers[0])
    thread.join(timeout=1200)
    assert not thread.is_alive(), "the grid did not finish after a node was lost"
    assert "error" not in outcome, outcome.get("error")
    result = outcome["result"]
    assert result.complete and len(result.trained) == 2 and not result.failed
    entries = json.loads((grid / "grid.json").read_text())["cells"]
    assert [e["status"] for e in entries] == ["finished", "finished"]
    assert [e["attempts"] for e in entries] == [1, 1]  # no failure of the cell's own
    assert sorted(e.get("workers_lost", 0) for e in entries) == [0, 1]
    assert all((grid / e["dir"] / "finished.json").exists() for e in entries)


def test_sigterm_cancels_the_ray_cells_and_marks_them_interrupted(tmp_path, tiny_data):
    """``kill`` stops a Ray grid as Ctrl-C does (``ray.init`` must not take over SIGTERM):
    every running cell is cancelled on the cluster, and marked interrupted."""
    pytest.importorskip("ray")
    import os
    import shutil
    import signal
    import subprocess
    import sys
    import tempfile
    import time

    # the grid's own Ray keeps its sockets under TMPDIR too: a short path (at most 107 bytes)
    node_local = Path(tempfile.mkdtemp(prefix="segmix-test-"))
    path = tiny_spec(tmp_path, tiny_data, "methods: [none]\nseeds: [1, 2]\nsteps: 400\n")
    grid = tmp_path / "grid"
    cmd = [sys.executable, "-m", "segmix.cli", "experiment", str(path), "--out", str(grid)]
    env = {**os.environ, "TMPDIR": str(node_local)}
    proc = subprocess.Popen(
        [*cmd, "--executor", "ray", "--cpus-per-cell", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 300  # a hang guard (see the lost-node test)
        while not list(node_local.glob("segmix-cell-*/run/config.json")):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"no cell started: {proc.communicate()[0][-2000:]}")
            time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=60)
        _assert_interrupted(proc, output, grid, node_local)
    finally:
        if proc.poll() is None:  # SIGTERM first: the grid then stops the Ray it started
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(node_local, ignore_errors=True)


def _assert_interrupted(proc, output: str, grid: Path, node_local: Path) -> None:
    import time

    from segmix.runs import run_lock

    assert proc.returncode == 130
    assert "interrupted: run the same command again to resume" in output
    statuses = [c["status"] for c in json.loads((grid / "grid.json").read_text())["cells"]]
    assert "interrupted" in statuses and "finished" not in statuses
    deadline = time.monotonic() + 30
    for run in node_local.glob("segmix-cell-*/run"):  # a cell still training holds its lock
        while True:
            try:
                with run_lock(run):
                    break
            except ValueError:
                assert time.monotonic() < deadline, f"a Ray cell still trains in {run}"
                time.sleep(0.5)


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


@pytest.mark.skipif(
    not _has_cuda(), reason="needs a CUDA GPU: the device path of --gpus-per-cell (CPU-only here)"
)
def test_a_cell_given_a_share_of_a_gpu_trains_on_it(tmp_path, tiny_data):
    """On a GPU machine, cells asking for a quarter of a GPU each see it, and their runs'
    ``machine`` records name it."""
    import ray

    path = tiny_spec(tmp_path, tiny_data, "methods: [none, mmix]\nseeds: [1]\nsteps: 4\n")
    grid = tmp_path / "grid"
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        result = run_experiment(
            load_spec(path), grid, executor="ray", gpus_per_cell=0.25, report=False
        )
    finally:
        ray.shutdown()
    assert result.complete and not result.failed
    for c in json.loads((grid / "grid.json").read_text())["cells"]:
        machine = json.loads((grid / c["dir"] / "metrics.json").read_text())["machine"]
        assert machine["device"] != "cpu", machine
