"""Mixed examples generated per second, per method, on one core (pools built, sub-words cached).

Two paths per method: ``generate(n)`` (all mixes of a call drawn and built together, what
training uses) and the reference path, one ``apply(sample_params())`` per mix. Tagging methods
run on CoNLL-2003 train, relation methods (rows ``re:<name>``) on SemEval-2010 Task 8 train with
the relation model's argument markers.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from speed.shared import (
    conll_encoded,
    fmt,
    median_time,
    ner_methods,
    re_methods,
    selected,
    semeval_encoded,
)

TITLE = "Mixed examples generated per second (one core)"


def measure(args) -> dict:
    from segmix.augment import make_augmenter

    n = 5_000 if args.quick else 50_000
    reps = 3 if args.quick else 5
    wanted = getattr(args, "methods", None)
    ner = selected(ner_methods(), "ner", wanted)
    relations = selected(re_methods(), "re", wanted)
    out: dict[str, Any] = {"rows": {}}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        if ner:
            sentences, labels, cache, examples, encode_s = conll_encoded(
                str(args.data), 2000 if args.quick else None
            )
            for name, method, options in ner:  # every registered tagging method
                aug = make_augmenter(method, "ner", **options)
                out["rows"][name] = _rate_row(aug, examples, labels, cache, n, reps)
            out.update(
                threads=1, reps=reps, train_sentences=len(sentences), encode_seconds=encode_s
            )
        if relations:
            rows, settings = _relations(args, relations, n, reps)
            out["rows"].update(rows)
            if settings is not None:
                out["re"] = settings
    finally:
        torch.set_num_threads(threads)
    return out


def _rate_row(
    aug: Any, examples: Sequence[Any], labels: Sequence[str], cache: Any, n: int, reps: int
) -> dict:
    """One method's row: pools built, ``generate(count)`` and, where the class has it, the
    one-at-a-time path; ``{"error": …}`` when the pools cannot be built (no WordNet data)."""
    t0 = time.perf_counter()
    try:
        aug.fit(examples, labels, cache)
    except Exception as err:  # SMix/SR without WordNet data
        return {"error": f"{type(err).__name__}: {err}"}
    fit_s = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    # rule-based methods (and mixtures with a rule) encode every new sentence: time fewer
    count = n if hasattr(aug, "alpha") else max(n // 10, 1)
    batched = median_time(lambda a=aug, g=rng, c=count: a.generate(c, g), reps)
    row = {"per_second": count / batched, "fit_seconds": fit_s, "n": count}
    if hasattr(aug, "sample_params") and hasattr(aug, "apply"):
        m = max(count // 20, 1)  # the one-at-a-time path is ~20x slower: time fewer
        single = median_time(lambda a=aug, g=rng, k=m: _one_at_a_time(a, g, k), reps)
        row.update(reference_path_per_second=m / single, n_reference=m)
    return row


def _one_at_a_time(aug, rng: np.random.Generator, k: int) -> list:
    """``k`` examples through ``apply(sample_params())`` (a draw may come back empty: redraw)."""
    out = []
    while len(out) < k:
        params = aug.sample_params(rng)
        if params is not None:
            out.append(aug.apply(params))
    return out


def _relations(
    args, methods: list[tuple[str, str, dict]], n: int, reps: int
) -> tuple[dict, dict | None]:
    """The relation methods on SemEval-2010 Task 8 train, built by the relation task as
    training builds them; no rows without the data."""
    data = semeval_encoded(str(args.data), 2000 if args.quick else None)
    if data is None:
        return {}, None
    task, labels, _, cache, examples, encode_s = data
    rows = {}
    for name, method, options in methods:
        aug = task.augmenter(method, options)
        rows[name] = _rate_row(aug, examples, labels, cache, n, reps)
    return rows, {
        "threads": 1,
        "reps": reps,
        "train_examples": len(examples),
        "encode_seconds": encode_s,
        "marker_scheme": task.scheme.name,
    }


def _table(rows: dict) -> list[str]:
    lines = [
        "| method | batched, per second | one at a time, per second | pools built in |",
        "|---|---|---|---|",
    ]
    for name, row in rows.items():
        if "error" in row:
            lines.append(f"| {name} | not measured: {row['error'][:100]} | | |")
            continue
        single = row.get("reference_path_per_second")
        lines.append(
            f"| {name} | {fmt(row['per_second'])} | {fmt(single) if single else '–'} | "
            f"{row['fit_seconds']:.2f} s |"
        )
    return lines


def render(r: dict) -> list[str]:
    ner = {k: v for k, v in r["rows"].items() if not k.startswith("re:")}
    relations = {k: v for k, v in r["rows"].items() if k.startswith("re:")}
    lines: list[str] = []
    if ner:
        lines += [
            f"{r['train_sentences']:,} CoNLL-2003 training sentences (encoded in "
            f"{r['encode_seconds']:.1f} s); torch and numpy on 1 thread; median of {r['reps']} "
            "calls after one warm-up call. *batched*: `generate(n)`, what training uses; "
            "*one at a time*: `apply(sample_params())` per mix.",
            "",
            "### Tagging (NER)",
            "",
            *_table(ner),
        ]
    if relations:
        if lines:
            lines.append("")
        lines += ["### Relation extraction (`--task re`)", "", *_relation_note(r), ""]
        lines += _table(relations)
        single = [k for k, v in relations.items() if "per_second" in v and "n_reference" not in v]
        if single:
            lines += [
                "",
                f"{', '.join(single)}: no one-at-a-time figure; the class has no separate "
                "`apply(sample_params())` path (its `generate` already draws and builds each "
                "mix on its own).",
            ]
    return lines


def _relation_note(r: dict) -> list[str]:
    s = r.get("re")
    if s is None:  # rows from before the settings were recorded
        return ["SemEval-2010 Task 8 training examples with argument markers."]
    return [
        f"{s['train_examples']:,} SemEval-2010 Task 8 training examples with the relation "
        f"model's argument markers ({s['marker_scheme']}; encoded in {s['encode_seconds']:.1f} "
        "s), each method built by the relation task with training's default options; torch "
        f"and numpy on 1 thread; median of {s['reps']} calls after one warm-up call. Rows "
        "`re:<name>` are the `--task re` augmenters, not the tagging methods of the same name.",
    ]
