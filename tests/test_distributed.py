"""Data-parallel training is real: two processes under torchrun (gloo on CPU), one run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest


@pytest.mark.skipif(
    shutil.which("torchrun") is None
    and not os.path.exists(os.path.join(os.path.dirname(sys.executable), "torchrun")),
    reason="torchrun not installed",
)
def test_torchrun_two_processes_train_one_run(tiny_data, tmp_path):
    torchrun = os.path.join(os.path.dirname(sys.executable), "torchrun")
    out = tmp_path / "ddp"
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false")
    cmd = [
        torchrun,
        "--nproc_per_node",
        "2",
        "--master_port",
        "29517",
        "-m",
        "segmix.cli",
        "train",
        "--train",
        tiny_data["train"],
        "--dev",
        tiny_data["dev"],
        "--test",
        tiny_data["test"],
        "--train-size",
        "32",
        "--batch-size",
        "4",
        "--max-steps",
        "6",
        "--eval-every",
        "3",
        "--augment",
        "mmix",
        "--rate",
        "0.5",
        "--no-progress",
        "--out",
        str(out),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["processes"] == 2
    assert metrics["steps"] == 6  # optimizer steps, each over both processes' batches
    assert [h["step"] for h in metrics["history"]] == [3, 6]
    assert (out / "model" / "model.safetensors").exists()
    assert sorted(p.name for p in out.iterdir()) == [
        ".lock",
        "config.json",
        "finished.json",
        "metrics.json",
        "model",
        "predictions",
        "subset.json",
        "test_pred.json.xz",
        "versions.json",
    ]
    rows = (out / "predictions" / "test.jsonl").read_text().splitlines()
    assert len(rows) == 80  # every test sentence once, none doubled by the sharding
    from segmix.runs import read_compact_predictions

    ids, pred = read_compact_predictions(out / "test_pred.json.xz")  # the main process's alone
    assert ids == [json.loads(r)["id"] for r in rows] and len(pred) == 80
