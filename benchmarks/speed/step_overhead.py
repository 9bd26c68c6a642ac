"""What mixing costs in a training step, at equal shape, and where a mixed step spends its time.

A step is forward, the pair loss (:func:`segmix.engine.segmix_loss`, what ``SegMixTrainer``
computes), backward and a fused AdamW step, on a batch of 16 sentences padded to 48 sub-words:
once with originals, once with mixes of the same size and padded length, interleaved. Relation
methods (rows ``re:<name>``) do the same with the relation classifier the relation task builds,
on 16 marked SemEval-2010 Task 8 sentences padded to 64 sub-words with their argument anchors.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from speed.shared import (
    conll_encoded,
    median_time,
    ner_methods,
    re_methods,
    selected,
    semeval_encoded,
)

TITLE = "Mixing overhead per training step (same batch size and padded length)"
WIDTH, BATCH = 48, 16
#: marked SemEval sentences are longer than CoNLL's (four markers; a median near 30 sub-words)
RE_WIDTH = 64
SHARE_MIXED = 3  # mixed rows of 16 at rate 0.2 (0.2 / 1.2 of an epoch's examples)


def _interleaved(step, plain: dict, other: dict, reps: int) -> tuple[float, float]:
    """Median seconds of a step on ``plain`` and on ``other``: 3 warm-up steps each, then
    ``reps`` interleaved pairs, so that drift hits both alike."""
    for _ in range(3):
        step(plain)
        step(other)
    t_plain, t_other = [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        step(plain)
        t_plain.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        step(other)
        t_other.append(time.perf_counter() - t0)
    return statistics.median(t_plain), statistics.median(t_other)


def _training_step(model: torch.nn.Module, adversarial: str = "none") -> Callable[[dict], None]:
    """One optimizer step of ``model`` (in training mode) on a collated batch, as
    ``SegMixTrainer`` computes it: the pair loss (with FGM's, given ``adversarial="fgm"``),
    backward, a fused AdamW step."""
    from segmix.engine import segmix_loss

    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5, fused=True)

    def step(batch: dict) -> None:
        loss, _ = segmix_loss(model, batch, adversarial=adversarial)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return step


def measure(args) -> dict:
    reps = getattr(args, "step_reps", None) or (5 if args.quick else 40)
    wanted = getattr(args, "methods", None)
    ner = selected(ner_methods(), "ner", wanted)
    relations = selected(re_methods(), "re", wanted)
    out: dict[str, Any] = {"rows": {}}
    if ner:
        out.update(_tagging(args, ner, reps))
    if relations:
        rows, settings = _relations(args, relations, reps)
        out["rows"].update(rows)
        if settings is not None:
            out["re"] = settings
    return out


def _tagging(args, methods: list[tuple[str, str, dict]], reps: int) -> dict:
    """The tagging rows on CoNLL-2003 and the profile of one mixed MMix step."""
    from segmix.augment import make_augmenter
    from segmix.collate import MixCollator
    from segmix.engine import as_original
    from segmix.model import load_token_classifier

    _, labels, cache, examples, _ = conll_encoded(str(args.data), 2000 if args.quick else None)
    short = [ex for ex in examples if len(ex.ids) <= WIDTH - 8]
    collate = MixCollator(cache.pad_id, pad_to_multiple_of=WIDTH)
    originals = [as_original(ex) for ex in short[:BATCH]]
    torch.manual_seed(0)
    model = load_token_classifier(None, labels)
    step = _training_step(model)
    rows = {}
    for name, method, options in methods:  # every registered tagging method, same batch shape
        aug = make_augmenter(method, "ner", **options)
        rows[name] = _method_row(
            aug, short, labels, cache, model, step, collate, originals, WIDTH, reps
        )
    return {
        "threads": torch.get_num_threads(),
        "reps": reps,
        "batch": BATCH,
        "width": WIDTH,
        "rows": rows,
        "profile": _profile(model, cache, short, labels),
    }


def _relations(args, methods: list[tuple[str, str, dict]], reps: int) -> tuple[dict, dict | None]:
    """The relation rows: the classifier and the augmenters built by the relation task, as
    training builds them, on SemEval-2010 Task 8 train; no rows without the data."""
    from segmix.collate import MixCollator
    from segmix.engine import as_original

    data = semeval_encoded(str(args.data), 2000 if args.quick else None)
    if data is None:
        return {}, None
    task, labels, tokenizer, cache, examples, _ = data
    short = [ex for ex in examples if len(ex.ids) <= RE_WIDTH - 8]
    collate = MixCollator(cache.pad_id, pad_to_multiple_of=RE_WIDTH)
    originals = [as_original(ex) for ex in short[:BATCH]]
    torch.manual_seed(0)
    model = task.build_model("default", labels, tokenizer)
    step = _training_step(model)
    rows = {}
    for name, method, options in methods:
        aug = task.augmenter(method, options)
        rows[name] = _method_row(
            aug, short, labels, cache, model, step, collate, originals, RE_WIDTH, reps
        )
    settings = {
        "threads": torch.get_num_threads(),
        "reps": reps,
        "batch": BATCH,
        "width": RE_WIDTH,
        "train_examples": len(examples),
        "short_examples": len(short),
        "marker_scheme": task.scheme.name,
    }
    return rows, settings


def _method_row(
    aug: Any,
    short: Sequence[Any],
    labels: Sequence[str],
    cache: Any,
    model: torch.nn.Module,
    step: Callable[[dict], None],
    collate: Callable[[list], dict],
    originals: list,
    width: int,
    reps: int,
) -> dict:
    """One method's row: a step on ``originals`` against a step on as many of its examples at
    the same padded width, interleaved; the mixing operations alone; at training's share of
    mixed rows when the method is dearer than 5 %."""
    try:
        aug.fit(short, labels, cache)
    except Exception as err:  # SMix/SR without WordNet data
        return {"error": f"{type(err).__name__}: {err}"}
    rng = np.random.default_rng(0)
    mixes = [m for m in aug.generate(BATCH * 8, rng) if len(m) <= width][:BATCH]
    if len(mixes) < BATCH:
        return {"error": f"fewer than {BATCH} examples of at most {width} sub-words"}
    plain = collate(originals)
    mixed = collate(mixes)
    assert mixed["input_ids"].shape == plain["input_ids"].shape
    p, m = _interleaved(step, plain, mixed, reps)
    share = None
    if m / p - 1 > 0.05:
        # a method dearer than 5 % with every row mixed: what it costs at the share of
        # mixed rows training sees (rate 0.2: 3 of 16 rows), where its cost actually lands
        few = collate([*originals[: BATCH - SHARE_MIXED], *mixes[:SHARE_MIXED]])
        p_few, m_few = _interleaved(step, plain, few, reps)
        share = m_few / p_few - 1
    ops = _mixing_ops(model, plain, mixed, len(labels))
    ops["collate"] = {
        "plain": median_time(lambda: collate(originals), 200, 10),
        "mixed": median_time(lambda ms=mixes: collate(ms), 200, 10),
    }
    added = sum(v["mixed"] - v["plain"] for v in ops.values())
    return {
        "step_seconds_plain": p,
        "step_seconds_mixed": m,
        "overhead_measured": m / p - 1,
        "overhead_at_training_share": share,
        "mixing_ops_seconds": added,
        "mixing_ops_share_of_step": added / p,
        "ops_seconds": ops,
    }


def _label_units(batch: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``labels``, ``mix_labels``, ``mix_label_weight`` of a batch, one entry per labelled unit:
    token labels as they are, a relation's one label per example without its width-1 column
    (what :func:`segmix.engine.segmix_loss` passes to the pair loss)."""
    fields = (batch["labels"], batch["mix_labels"], batch["mix_label_weight"])
    if batch["labels"].shape == batch["input_ids"].shape:
        return fields
    return fields[0][:, 0], fields[1][:, 0], fields[2][:, 0]


def _mixing_ops(model, plain: dict, mixed: dict, n_labels: int) -> dict:
    """The operations mixing adds, alone: the two-sided embedding lookup with its weighted sum,
    and the pair loss against plain cross-entropy (no gradient; median of 200 after 10)."""
    from segmix.model import mixed_embeddings, pair_cross_entropy

    emb = model.get_input_embeddings()
    labels = _label_units(plain)[0]
    labels_a, labels_b, label_weight = _label_units(mixed)
    logits = torch.randn(*labels.shape, n_labels)
    with torch.no_grad():
        return {
            "embedding": {
                "plain": median_time(lambda: emb(plain["input_ids"]), 200, 10),
                "mixed": median_time(
                    lambda: mixed_embeddings(
                        model, mixed["input_ids"], mixed["mix_ids"], mixed["mix_weight"]
                    ),
                    200,
                    10,
                ),
            },
            "loss": {
                "plain": median_time(
                    lambda: torch.nn.functional.cross_entropy(
                        logits.view(-1, n_labels), labels.reshape(-1)
                    ),
                    200,
                    10,
                ),
                "mixed": median_time(
                    lambda: pair_cross_entropy(logits, labels_a, labels_b, label_weight),
                    200,
                    10,
                ),
            },
        }


def _profile(model, cache, short, labels) -> dict:
    """torch.profiler over one mixed MMix step (after one untimed step), with PyTorch's default
    AdamW and with the fused one; the optimizer step alone timed separately (median of 5)."""
    from torch.profiler import ProfilerActivity, profile

    from segmix.augment import MentionMix
    from segmix.collate import MixCollator
    from segmix.engine import segmix_loss

    aug = MentionMix().fit(short, labels, cache)
    mixes = [m for m in aug.generate(BATCH * 4, np.random.default_rng(0)) if len(m) <= WIDTH]
    batch = MixCollator(cache.pad_id, pad_to_multiple_of=WIDTH)(mixes[:BATCH])
    out = {}
    for fused in (False, True):
        opt = torch.optim.AdamW(model.parameters(), lr=1e-5, fused=fused)

        def step(o=opt):
            loss, _ = segmix_loss(model, batch)
            loss.backward()
            o.step()
            o.zero_grad(set_to_none=True)

        step()
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            step()
        table = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
        total = sum(e.self_cpu_time_total for e in table)
        loss, _ = segmix_loss(model, batch)
        loss.backward()  # gradients in place, then time the optimizer step alone
        optimizer_s = median_time(opt.step, 5)
        opt.zero_grad(set_to_none=True)
        out["fused" if fused else "default"] = {
            "step_ms": total / 1000,
            "optimizer_ms": optimizer_s * 1000,
            "top_ops": [
                {
                    "op": e.key,
                    "self_ms": e.self_cpu_time_total / 1000,
                    "share": e.self_cpu_time_total / total,
                }
                for e in table[:8]
            ],
        }
    return out


_HEADER = [
    "| method | step, originals | step, its examples | measured overhead | at rate 0.2 "
    "| mixing ops alone |",
    "|---|---|---|---|---|---|",
]


def _table(rows: dict) -> list[str]:
    lines = list(_HEADER)
    for name, row in rows.items():
        if "error" in row:
            lines.append(f"| {name} | not measured: {row['error'][:100]} | | | | |")
            continue
        share = row.get("overhead_at_training_share")
        lines.append(
            f"| {name} | {row['step_seconds_plain'] * 1000:.1f} ms | "
            f"{row['step_seconds_mixed'] * 1000:.1f} ms | {row['overhead_measured'] * 100:+.2f} % "
            f"| {'–' if share is None else f'{share * 100:+.2f} %'} "
            f"| {row['mixing_ops_seconds'] * 1000:.2f} ms "
            f"({row['mixing_ops_share_of_step'] * 100:.2f} % of a step) |"
        )
    return lines


def _threads(n: int) -> str:
    return f"{n} torch thread" + ("" if n == 1 else "s")


def render(r: dict) -> list[str]:
    ner = {k: v for k, v in r["rows"].items() if not k.startswith("re:")}
    relations = {k: v for k, v in r["rows"].items() if k.startswith("re:")}
    lines = [
        "A step: forward, pair loss, backward and fused AdamW, model in training mode (dropout "
        "on), on CPU; each row a batch of originals against a batch of the method's examples of "
        "the same size and padded length, interleaved, after 3 warm-up steps each. *Mixing ops "
        "alone*: the extra cost of the two-sided embedding lookup, the pair loss and the "
        "collation, each timed alone (no gradient). *At rate 0.2*: for a method dearer than "
        f"5 % with every row its own, the overhead of a batch with {SHARE_MIXED} of its "
        f"examples among {BATCH} (the share training at rate 0.2 sees).",
    ]
    if ner:
        lines += [
            "",
            "### Tagging (NER): token classifier, CoNLL-2003",
            "",
            f"Batch {r['batch']} × {r['width']} sub-words; {_threads(r['threads'])}; median of "
            f"{r['reps']} interleaved steps.",
            "",
            *_table(ner),
        ]
    if relations and "re" in r:
        s = r["re"]
        lines += [
            "",
            "### Relation extraction (`--task re`): relation classifier, SemEval-2010 Task 8",
            "",
            "The relation classifier the relation task builds (`segmix.tasks.relations.model`: "
            "encoder "
            f"states at the two start markers, {s['marker_scheme']}), batch {s['batch']} × "
            f"{s['width']} sub-words with the argument anchors; {_threads(s['threads'])}; median "
            f"of {s['reps']} interleaved steps. Originals: the first {s['batch']} training "
            f"sentences of at most {s['width'] - 8} sub-words; each method's examples come from "
            "the augmenter the relation task builds with training's default options, fitted on "
            f"those {s['short_examples']:,} sentences. Rows `re:<name>` are the `--task re` "
            "augmenters, not the tagging methods of the same name; `re:sr` is rule-based (new "
            "sentences, no embedding mixing).",
            "",
            *_table(relations),
        ]
    pr = r.get("profile")
    if pr is None:
        return lines
    lines += [
        "",
        "### Profile of one mixed MMix step (tagging; torch.profiler, CPU self time)",
        "",
        "| AdamW | profiled step | optimizer step alone |",
        "|---|---|---|",
    ]
    for name in ("default", "fused"):
        lines.append(
            f"| {name} | {pr[name]['step_ms']:.0f} ms | {pr[name]['optimizer_ms']:.1f} ms |"
        )
    lines += ["", "| op (fused AdamW) | self time | share |", "|---|---|---|"]
    for op in pr["fused"]["top_ops"]:
        lines.append(f"| `{op['op']}` | {op['self_ms']:.1f} ms | {op['share'] * 100:.1f} % |")
    return lines
