"""Run-folder JSON is laid out for people and for git: objects a key a line, plain lists on one."""

from __future__ import annotations

import gzip
import json
import lzma
import math

import pytest

from segmix.runs import (
    COMPACT_TEST,
    COMPACT_TEST_GZ,
    compact_predictions_path,
    json_layout,
    read_compact_predictions,
    read_json,
    recompress_compact_predictions,
    write_compact_predictions,
    write_json,
)


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


def test_compact_predictions_are_xz_the_same_bytes_each_time_and_gzip_ones_still_read(tmp_path):
    """Decision 58: xz halves the committed predictions (CoNLL-2003's test set: 10 kB, gzip
    21 kB); runs written before it keep their gzip file, which is still read and can be
    converted without changing what it holds."""
    labels = ["B-ORG", "O", "S-LOC", "O", "B-PER", "E-PER", "O"]
    ids = list(range(400))
    pred = [labels[i % 5 : i % 5 + 3] for i in ids]
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    assert compact_predictions_path(a) is None
    write_compact_predictions(a / COMPACT_TEST, ids, pred)
    write_compact_predictions(b / COMPACT_TEST, ids, pred)
    assert COMPACT_TEST == "test_pred.json.xz"
    assert (a / COMPACT_TEST).read_bytes() == (b / COMPACT_TEST).read_bytes()
    assert (a / COMPACT_TEST).read_bytes()[:6] == b"\xfd7zXZ\x00"  # the xz magic
    assert compact_predictions_path(a) == a / COMPACT_TEST
    assert read_compact_predictions(a / COMPACT_TEST) == (ids, pred)

    # a run of the earlier kind: gzip, found and read alike, converted to the same content
    old = tmp_path / "old"
    old.mkdir()
    body = json.dumps({"ids": ids, "pred": pred}, separators=(",", ":")).encode()
    (old / COMPACT_TEST_GZ).write_bytes(gzip.compress(body, mtime=0))
    assert compact_predictions_path(old) == old / COMPACT_TEST_GZ
    assert read_compact_predictions(old / COMPACT_TEST_GZ) == (ids, pred)
    assert recompress_compact_predictions(old) is True
    assert not (old / COMPACT_TEST_GZ).exists()
    assert (old / COMPACT_TEST).read_bytes() == (a / COMPACT_TEST).read_bytes()
    assert recompress_compact_predictions(old) is False  # nothing left to convert

    with pytest.raises(ValueError, match=r"end in \.xz \(or \.gz\), not '\.json'"):
        write_compact_predictions(tmp_path / "test_pred.json", ids, pred)
    (a / "bad.json.xz").write_bytes(lzma.compress(b'{"ids": [1, 2], "pred": [["O"]]}'))
    with pytest.raises(ValueError, match="2 ids but 1 predictions"):
        read_compact_predictions(a / "bad.json.xz")
