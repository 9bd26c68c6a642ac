"""Run-folder JSON is laid out for people and for git: objects a key a line, plain lists on one."""

from __future__ import annotations

import json
import math

from segmix.runs import json_layout, read_json, write_json


def test_plain_lists_stay_on_one_line_and_the_values_are_what_json_dumps_writes(tmp_path):
    record = {
        "train_file": "conll2003/train.txt",
        "train_ids": [218, 468, 635],
        "dev_ids": None,
        "history": [{"step": 40, "dev_f1": 0.2623666343355965, "loss": [1.25, 0.5]}],
        "ci95": [-0.68, 4.61],
        "per_type": {},
        "empty": [],
        "note": "Müller's run",
        "nested": [[1, 2], [3]],
        "nan": math.nan,
    }
    assert json_layout(record) == (
        "{\n"
        '  "train_file": "conll2003/train.txt",\n'
        '  "train_ids": [218, 468, 635],\n'
        '  "dev_ids": null,\n'
        '  "history": [\n'
        "    {\n"
        '      "step": 40,\n'
        '      "dev_f1": 0.2623666343355965,\n'
        '      "loss": [1.25, 0.5]\n'
        "    }\n"
        "  ],\n"
        '  "ci95": [-0.68, 4.61],\n'
        '  "per_type": {},\n'
        '  "empty": [],\n'
        '  "note": "Müller\'s run",\n'
        '  "nested": [\n'
        "    [1, 2],\n"
        "    [3]\n"
        "  ],\n"
        '  "nan": NaN\n'
        "}"
    )
    path = tmp_path / "run" / "subset.json"
    ids = {"train_ids": list(range(50)), "dev_ids": list(range(1000, 2000))}
    write_json(path, ids)
    assert read_json(path) == ids
    # 1,000 dev ids on one line: four lines in all, not 1,056
    assert path.read_text(encoding="utf-8").count("\n") == 4
    assert not list(path.parent.glob("*.tmp"))
    # a numpy value is written as the number it holds
    import numpy as np

    assert json.loads(json_layout({"n": np.int64(3), "x": np.float32(0.5)})) == {"n": 3, "x": 0.5}
