"""Mixed examples generated per second, per method, on one core (pools built, sub-words cached).

Two paths per method: ``generate(n)`` (all mixes of a call drawn and built together, what
training uses) and the reference path, one ``apply(sample_params())`` per mix.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from speed.shared import conll_encoded, fmt, median_time, ner_methods

TITLE = "Mixed examples generated per second (one core)"


def measure(args) -> dict:
    from segmix.augment import make_augmenter

    n = 5_000 if args.quick else 50_000
    reps = 3 if args.quick else 5
    sentences, labels, cache, examples, encode_s = conll_encoded(
        str(args.data), 2000 if args.quick else None
    )
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        rows = {}
        methods = ner_methods()
        if getattr(args, "methods", None):
            methods = [m for m in methods if m[0] in args.methods or m[1] in args.methods]
        for name, method, options in methods:  # every registered tagging method
            aug = make_augmenter(method, "ner", **options)
            t0 = time.perf_counter()
            try:
                aug.fit(examples, labels, cache)
            except Exception as err:  # SMix without WordNet data
                rows[name] = {"error": f"{type(err).__name__}: {err}"}
                continue
            fit_s = time.perf_counter() - t0
            rng = np.random.default_rng(0)
            # rule-based methods encode every new sentence: time fewer of them
            count = n if hasattr(aug, "alpha") else max(n // 10, 1)
            batched = median_time(lambda a=aug, g=rng, c=count: a.generate(c, g), reps)
            m = max(count // 20, 1)  # the one-at-a-time path is ~20x slower: time fewer
            single = median_time(lambda a=aug, g=rng, k=m: _one_at_a_time(a, g, k), reps)
            rows[name] = {
                "per_second": count / batched,
                "reference_path_per_second": m / single,
                "fit_seconds": fit_s,
                "n": count,
                "n_reference": m,
            }
        rmix = _relations(args, n, reps)
        if rmix is not None:
            rows["rmix"] = rmix
    finally:
        torch.set_num_threads(threads)
    return {
        "threads": 1,
        "reps": reps,
        "train_sentences": len(sentences),
        "encode_seconds": encode_s,
        "rows": rows,
    }


def _one_at_a_time(aug, rng: np.random.Generator, k: int) -> list:
    """``k`` examples through ``apply(sample_params())`` (a draw may come back empty: redraw)."""
    out = []
    while len(out) < k:
        params = aug.sample_params(rng)
        if params is not None:
            out.append(aug.apply(params))
    return out


def _relations(args, n: int, reps: int) -> dict | None:
    """RMix on SemEval-2010 Task 8 train (with argument markers), if the data is there."""
    from segmix.augment import RelationMix
    from segmix.encoding import SubwordCache, load_tokenizer
    from segmix.re_data import read_relations, relation_labels
    from segmix.re_model import all_markers, encode_relations, register_markers

    path = Path(args.data) / "semeval2010_task8" / "train.tsv"
    if not path.exists():
        return None
    rel = read_relations(path)[: 2000 if args.quick else None]
    labels = relation_labels(rel)
    tok = load_tokenizer(None)
    cache = SubwordCache(tok)
    register_markers(tok, cache, all_markers(rel, typed=False))
    enc = encode_relations(rel, cache, {r: i for i, r in enumerate(labels)}, typed=False)
    t0 = time.perf_counter()
    aug = RelationMix().fit(enc, labels, cache)
    fit_s = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    m = max(n // 10, 100)
    sec = median_time(lambda: aug.generate(m, rng), reps)
    return {"per_second": m / sec, "fit_seconds": fit_s, "n": m, "train_examples": len(rel)}


def render(r: dict) -> list[str]:
    lines = [
        f"{r['train_sentences']:,} CoNLL-2003 training sentences (encoded in "
        f"{r['encode_seconds']:.1f} s); torch and numpy on 1 thread; median of {r['reps']} "
        "calls after one warm-up call. *batched*: `generate(n)`, what training uses; "
        "*one at a time*: `apply(sample_params())` per mix.",
        "",
        "| method | batched, per second | one at a time, per second | pools built in |",
        "|---|---|---|---|",
    ]
    for name, row in r["rows"].items():
        if "error" in row:
            lines.append(f"| {name} | not measured: {row['error'][:100]} | | |")
            continue
        single = row.get("reference_path_per_second")
        lines.append(
            f"| {name} | {fmt(row['per_second'])} | {fmt(single) if single else '–'} | "
            f"{row['fit_seconds']:.2f} s |"
        )
    if "rmix" in r["rows"]:
        n = r["rows"]["rmix"]["train_examples"]
        lines += ["", f"rmix: {n:,} SemEval-2010 Task 8 training examples, argument markers."]
    return lines
