"""What the speed measurements share: timing, the CoNLL-2003 data, small formatting helpers."""

from __future__ import annotations

import functools
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from common import ROOT

DATA = ROOT.parent / "shared" / "data"


def median_time(fn: Callable[[], object], reps: int, warmup: int = 1) -> float:
    """Median seconds of ``fn()`` over ``reps`` calls, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


#: methods measured in more than one setting: name -> {row label: options}
SETTINGS = {"lada": {"lada-inter": {"lada_mode": "inter"}, "lada-intra": {"lada_mode": "intra"}}}


def ner_methods() -> list[tuple[str, str, dict]]:
    """``(row label, --augment name, options)`` of every registered tagging method; LADA once
    per mode."""
    from segmix.augment import method_names

    out = []
    for name in method_names("ner")[1:]:
        for label, options in SETTINGS.get(name, {name: {}}).items():
            out.append((label, name, options))
    return out


def median(values) -> float:
    return statistics.median(list(values))


def conll_file(data: str | Path, split: str) -> Path:
    return Path(data) / "conll2003" / f"{split}.txt"


@functools.cache
def conll_encoded(data: str, limit: int | None):
    """(sentences, labels, cache, examples, encode seconds): CoNLL-2003 train, encoded once."""
    from segmix.data import label_list, read_conll
    from segmix.encoding import SubwordCache, encode_tagged, load_tokenizer

    sentences = read_conll(conll_file(data, "train"))
    labels = label_list(sentences)  # from the full file, as a run does
    sentences = sentences[:limit] if limit else sentences
    cache = SubwordCache(load_tokenizer(None))
    t0 = time.perf_counter()
    examples = encode_tagged(sentences, cache, {lb: i for i, lb in enumerate(labels)})
    return sentences, labels, cache, examples, time.perf_counter() - t0


def child_env(threads: int, src: str | Path | None = None) -> dict[str, str]:
    """Environment of a measured child process: offline, fixed thread counts, which segmix."""
    env = dict(os.environ)
    env.update(
        HF_HUB_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
        OMP_NUM_THREADS=str(threads),
        MKL_NUM_THREADS=str(threads),
    )
    if src is not None:
        env["PYTHONPATH"] = str(src)
    return env


def fmt(x: float | None, digits: int = 0) -> str:
    """A number with thousands separators ('–' for none)."""
    return "–" if x is None else f"{x:,.{digits}f}"


def ratio(a: float | None, b: float | None) -> str:
    return "–" if not a or not b else f"{a / b:.2f}×"
