"""Run folders: every run writes its config, versions, data subset, metrics and predictions as JSON.

The layout is the same for every task and method, so a grid and a report can be built on it::

    OUT/config.json       the full configuration, defaults included
    OUT/versions.json     python, torch, transformers, segmix … and the machine
    OUT/subset.json       ids of the training sentences (and of a carved dev split)
    OUT/metrics.json      dev (best) and test scores, training history and timings
    OUT/predictions/      test (and dev) predictions as JSON Lines
    OUT/model/            the best model in Hugging Face format
    OUT/finished.json     written last: the run is complete (readers ignore a folder without it)
"""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any


def write_json(path: str | Path, obj: Any) -> None:
    """Write JSON atomically (a half-written metrics file must never look finished), laid out
    by :func:`json_layout`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json_layout(obj) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def json_layout(obj: Any) -> str:
    """``obj`` as JSON, objects indented a key a line, but a list that holds no list or object
    (a subset's ids, the per-seed scores, an interval) on one line.

    Why by hand: ``json.dumps(indent=2)`` puts every list element on a line of its own, which
    made a run's ``subset.json`` (1,000 dev ids) and the committed grids' summaries about
    twice their size for no reader's benefit; the standard library has no option to indent
    some levels only. Values go through ``json.dumps`` first, so what is written is exactly
    what ``json.dumps`` would write (numbers, NaN, non-ASCII text), only laid out otherwise."""
    return _layout(json.loads(json.dumps(obj, ensure_ascii=False, default=_jsonable)), 0)


def _layout(value: Any, depth: int) -> str:
    inner, outer = "  " * (depth + 1), "  " * depth
    if isinstance(value, dict) and value:
        items = (
            f"{inner}{json.dumps(key, ensure_ascii=False)}: {_layout(item, depth + 1)}"
            for key, item in value.items()
        )
        return "{\n" + ",\n".join(items) + "\n" + outer + "}"
    if isinstance(value, list) and any(isinstance(item, dict | list) for item in value):
        items = (inner + _layout(item, depth + 1) for item in value)
        return "[\n" + ",\n".join(items) + "\n" + outer + "]"
    return json.dumps(value, ensure_ascii=False)


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` to a temporary name beside ``path``, then rename it: a reader never sees
    half a file."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def read_json(path: str | Path) -> Any:
    """A JSON file's value; a file that is not valid JSON is a ``ValueError`` naming it."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON ({err})") from None


def _jsonable(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def cpu_model() -> str:
    """The processor's model name (Linux ``/proc/cpuinfo``; elsewhere what ``platform`` says)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    """What a run's timing (and, in the last digits, its fp32 numbers) depends on.

    Kept in ``metrics.json`` too: the same seed gives the same numbers on one kind of machine,
    but kernels differ between instruction sets (AVX2, AVX-512), and a CPU without native
    bf16 (``bf16_native``) runs bf16 autocast slower than fp32, not faster.
    """
    import torch

    return {
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "bf16_native": bool(torch.ops.mkldnn._is_mkldnn_bf16_supported()),
        "torch_threads": torch.get_num_threads(),
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
    }


def machine_kind(recorded: dict[str, Any] | None) -> str | None:
    """A machine as one label, ``AMD EPYC (AVX512, cpu)``: processor, instruction set and
    device, what a run's timing belongs to (the report counts runs and sums grid time by it);
    None where a run from before segmix recorded its machine has none."""
    if not recorded:
        return None
    return f"{recorded['cpu']} ({recorded['cpu_capability']}, {recorded['device']})"


def versions() -> dict[str, Any]:
    """Package versions and machine facts that change numbers or timings."""
    import torch

    packages = {}
    for name in ("segmix", "torch", "transformers", "accelerate", "numpy", "seqeval", "nltk"):
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    return {
        "python": sys.version.split()[0],
        "packages": packages,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.version.cuda if torch.cuda.is_available() else None,
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
        "machine": machine(),
    }


def write_jsonl(path: str | Path, records: Iterable[Any]) -> None:
    """One JSON object a line, written atomically like :func:`write_json`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False, default=_jsonable) + "\n")
    os.replace(tmp, path)


#: the test predictions alone (ids and predicted labels), xz-compressed: about 10 kB for
#: CoNLL-2003's test set, so a grid's cells can keep them in git where ``predictions/`` (tokens,
#: gold, dev) is too large to, and a report on a fresh clone still bootstraps over test
#: examples (gold comes from the test file). xz rather than gzip: half the size for the same
#: JSON (21 kB), which is most of what a committed cell weighs (decision 58).
COMPACT_TEST = "test_pred.json.xz"
#: the name runs written before decision 58 gave them (gzip); still read, never written
COMPACT_TEST_GZ = "test_pred.json.gz"


def write_compact_predictions(path: str | Path, ids: Sequence[Any], pred: Sequence[Any]) -> None:
    """``{"ids": [...], "pred": [...]}`` compressed as the file name says (``.xz``, or ``.gz``
    for a folder of the earlier kind), atomically, the same bytes for the same predictions
    (xz writes no timestamp; gzip's is zeroed)."""
    path = Path(path)
    body = json.dumps({"ids": list(ids), "pred": list(pred)}, separators=(",", ":"))
    codec, options = _codec(path)
    write_bytes_atomic(path, codec.compress(body.encode("utf-8"), **options))


def _codec(path: Path) -> tuple[Any, dict[str, Any]]:
    """The module that (de)compresses a compact-predictions file, by its suffix, and the
    options it writes with: neither stores a timestamp, so the same predictions give the same
    bytes."""
    if path.suffix == ".xz":
        import lzma

        # preset 6 extreme: as small as 9 extreme for a file this size (the dictionary of 6,
        # 8 MiB, already holds it all), at a seventh of the memory (94 MiB, not 674 MiB)
        return lzma, {"format": lzma.FORMAT_XZ, "preset": 6 | lzma.PRESET_EXTREME}
    if path.suffix == ".gz":
        import gzip

        return gzip, {"compresslevel": 9, "mtime": 0}
    raise ValueError(f"{path}: compact predictions end in .xz (or .gz), not {path.suffix!r}")


def compact_predictions_path(run_dir: str | Path) -> Path | None:
    """The run's compact test predictions: :data:`COMPACT_TEST`, or the gzipped file of a run
    written before it (:data:`COMPACT_TEST_GZ`); None where the run kept neither."""
    for name in (COMPACT_TEST, COMPACT_TEST_GZ):
        path = Path(run_dir) / name
        if path.is_file():
            return path
    return None


def read_compact_predictions(path: str | Path) -> tuple[list[Any], list[Any]]:
    """``(ids, pred)`` as :func:`write_compact_predictions` wrote them (xz, or gzip)."""
    path = Path(path)
    codec, _ = _codec(path)
    record = json.loads(codec.decompress(path.read_bytes()).decode("utf-8"))
    if len(record["ids"]) != len(record["pred"]):
        raise ValueError(f"{path}: {len(record['ids'])} ids but {len(record['pred'])} predictions")
    return record["ids"], record["pred"]


def recompress_compact_predictions(run_dir: str | Path) -> bool:
    """Replace a run's gzipped compact predictions by the xz file of the same content (checked
    before the gzip file goes); False where there was nothing to convert. For run folders kept
    in git from before decision 58; nothing in segmix calls it on a user's runs."""
    run_dir = Path(run_dir)
    old, new = run_dir / COMPACT_TEST_GZ, run_dir / COMPACT_TEST
    if not old.is_file() or new.exists():
        return False
    ids, pred = read_compact_predictions(old)
    write_compact_predictions(new, ids, pred)
    if read_compact_predictions(new) != (ids, pred):
        new.unlink()
        raise ValueError(f"{new}: does not read back as {old}; the gzip file is kept")
    old.unlink()
    return True


FINISHED_NAME = "finished.json"
LOCK_NAME = ".lock"


class RunFolderError(ValueError):
    """The run folder cannot be used as asked (not empty, another run's, or in use)."""


def is_finished(folder: str | Path) -> bool:
    """Whether the run in ``folder`` completed: its completion marker exists."""
    return (Path(folder) / FINISHED_NAME).exists()


def mark_finished(folder: str | Path) -> None:
    """Write the completion marker; call it after every other file of the run is in place."""
    import datetime

    stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    write_json(Path(folder) / FINISHED_NAME, {"finished": stamp})


def run_lock(folder: str | Path):
    """An exclusive lock on a run folder, taken at once or refused.

    ``filelock`` (a lock the operating system releases when the process dies, so a killed run
    leaves no stale lock) rather than a hand-made pid file.
    """
    from filelock import FileLock, Timeout

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(folder / LOCK_NAME), timeout=0)

    class _Held:
        def __enter__(self):
            try:
                lock.acquire()
            except Timeout:
                raise RunFolderError(
                    f"--out: {folder} is being written by another segmix process; wait for it "
                    "or choose another folder"
                ) from None
            return lock

        def __exit__(self, *exc):
            lock.release()
            return False

    return _Held()
