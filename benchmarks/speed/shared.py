"""What the speed measurements share: timing, the CoNLL-2003 and SemEval-2010 Task 8 data, the
methods measured and how ``--methods`` picks them, small formatting helpers."""

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

#: prefix of the relation-extraction rows: RE reuses tagging names (mmix, mixup, sr) for other
#: classes, so a bare name would make the two rows indistinguishable in one table
RE_PREFIX = "re:"


def ner_methods() -> list[tuple[str, str, dict]]:
    """``(row label, --augment name, options)`` of every registered tagging method; LADA once
    per mode."""
    from segmix.augment import method_names

    out = []
    for name in method_names("ner")[1:]:
        for label, options in SETTINGS.get(name, {name: {}}).items():
            out.append((label, name, options))
    return out


def re_methods() -> list[tuple[str, str, dict]]:
    """``(row label, --augment name, options)`` of every registered relation method, the label
    ``re:<name>``; the options are what ``segmix train --task re --augment <name>`` passes by
    default (:meth:`segmix.config.TrainConfig.augmenter_options`), so the rows measure the
    augmenter training builds."""
    from segmix.augment import method_names
    from segmix.config import TrainConfig

    return [
        (RE_PREFIX + name, name, TrainConfig(task="re", augment=name).augmenter_options())
        for name in method_names("re")[1:]
    ]


def selected(
    methods: list[tuple[str, str, dict]], task: str, wanted: list[str] | None
) -> list[tuple[str, str, dict]]:
    """The rows of ``methods`` (one task's) that ``--methods`` asks for (all without it).

    A token picks a row by its label (``lada-intra``, ``re:mmix``), by its method name in every
    task that has it (``mmix``: the tagging and the relation row), by ``task:name``
    (``ner:mmix``), or a whole task (``ner``, ``re``).
    """
    if not wanted:
        return methods
    chosen = set(wanted)
    return [
        m
        for m in methods
        if task in chosen or {m[0], m[1], f"{task}:{m[0]}", f"{task}:{m[1]}"} & chosen
    ]


def check_method_tokens(wanted: list[str] | None) -> None:
    """Fail early on a ``--methods`` token that picks no row, rather than measuring nothing."""
    if not wanted:
        return
    rows = {"ner": ner_methods(), "re": re_methods()}
    unknown = [w for w in wanted if not any(selected(ms, t, [w]) for t, ms in rows.items())]
    if unknown:
        names = [m[0] for ms in rows.values() for m in ms]
        raise SystemExit(
            f"--methods: {', '.join(unknown)} picks no row; choose ner, re, or among "
            f"{', '.join(names)}"
        )


def median(values) -> float:
    return statistics.median(list(values))


def conll_file(data: str | Path, split: str) -> Path:
    return Path(data) / "conll2003" / f"{split}.txt"


@functools.cache
def conll_encoded(data: str, limit: int | None):
    """(sentences, labels, cache, examples, encode seconds): CoNLL-2003 train, encoded once."""
    from segmix.encoding import SubwordCache, load_tokenizer
    from segmix.tasks.tagging.data import label_list, read_conll
    from segmix.tasks.tagging.encoding import encode_tagged

    sentences = read_conll(conll_file(data, "train"))
    labels = label_list(sentences)  # from the full file, as a run does
    sentences = sentences[:limit] if limit else sentences
    cache = SubwordCache(load_tokenizer(None))
    t0 = time.perf_counter()
    examples = encode_tagged(sentences, cache, {lb: i for i, lb in enumerate(labels)})
    return sentences, labels, cache, examples, time.perf_counter() - t0


def semeval_file(data: str | Path, split: str) -> Path:
    return Path(data) / "semeval2010_task8" / f"{split}.tsv"


@functools.cache
def semeval_encoded(data: str, limit: int | None):
    """(task, labels, tokenizer, cache, examples, encode seconds): SemEval-2010 Task 8 train,
    encoded once as :func:`segmix.run.prepare` does (the relation task reads the file, fixes the
    marker scheme from it and registers the markers in the tokenizer); ``None`` without the
    file. The task object is returned because it holds the markers the model is built with."""
    from segmix.encoding import SubwordCache, load_tokenizer
    from segmix.tasks import get_task

    path = semeval_file(data, "train")
    if not path.exists():
        return None
    task = get_task("re")
    train = task.read(path)
    labels = task.labels(train)  # from the full file, as a run does
    tokenizer = load_tokenizer(None)
    cache = SubwordCache(tokenizer)
    task.prepare_tokenizer(tokenizer, cache, train)
    train = train[:limit] if limit else train
    t0 = time.perf_counter()
    examples = task.encode(train, cache, labels, source=str(path))
    return task, labels, tokenizer, cache, examples, time.perf_counter() - t0


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
