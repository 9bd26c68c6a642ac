"""What mixing costs in a training step, at equal shape, and where a mixed step spends its time.

A step is forward, the pair loss (:func:`segmix.engine.segmix_loss`, what ``SegMixTrainer``
computes), backward and a fused AdamW step, on a batch of 16 sentences padded to 48 sub-words:
once with originals, once with mixes of the same size and padded length, interleaved.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch

from speed.shared import conll_encoded, median_time, ner_methods

TITLE = "Mixing overhead per training step (same batch size and padded length)"
WIDTH, BATCH = 48, 16
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


def measure(args) -> dict:
    from segmix.augment import make_augmenter
    from segmix.collate import MixCollator
    from segmix.engine import as_original, segmix_loss
    from segmix.model import load_token_classifier

    reps = 5 if args.quick else 40
    _, labels, cache, examples, _ = conll_encoded(str(args.data), 2000 if args.quick else None)
    short = [ex for ex in examples if len(ex.ids) <= WIDTH - 8]
    collate = MixCollator(cache.pad_id, pad_to_multiple_of=WIDTH)
    originals = [as_original(ex) for ex in short[:BATCH]]
    plain = collate(originals)
    torch.manual_seed(0)
    model = load_token_classifier(None, labels)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5, fused=True)

    def step(batch):
        loss, _ = segmix_loss(model, batch)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    rows = {}
    methods = ner_methods()
    if getattr(args, "methods", None):
        methods = [m for m in methods if m[0] in args.methods or m[1] in args.methods]
    for name, method, options in methods:  # every registered tagging method, same batch shape
        aug = make_augmenter(method, "ner", **options)
        try:
            aug.fit(short, labels, cache)
        except Exception as err:  # SMix/SR without WordNet data
            rows[name] = {"error": f"{type(err).__name__}: {err}"}
            continue
        rng = np.random.default_rng(0)
        mixes = [m for m in aug.generate(BATCH * 8, rng) if len(m) <= WIDTH][:BATCH]
        if len(mixes) < BATCH:
            rows[name] = {"error": f"fewer than {BATCH} examples of at most {WIDTH} sub-words"}
            continue
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
        rows[name] = {
            "step_seconds_plain": p,
            "step_seconds_mixed": m,
            "overhead_measured": m / p - 1,
            "overhead_at_training_share": share,
            "mixing_ops_seconds": added,
            "mixing_ops_share_of_step": added / p,
            "ops_seconds": ops,
        }
    return {
        "threads": torch.get_num_threads(),
        "reps": reps,
        "batch": BATCH,
        "width": WIDTH,
        "rows": rows,
        "profile": _profile(model, cache, short, labels),
    }


def _mixing_ops(model, plain: dict, mixed: dict, n_labels: int) -> dict:
    """The operations mixing adds, alone: the two-sided embedding lookup with its weighted sum,
    and the pair loss against plain cross-entropy (no gradient; median of 200 after 10)."""
    from segmix.model import mixed_embeddings, pair_cross_entropy

    emb = model.get_input_embeddings()
    logits = torch.randn(*plain["input_ids"].shape, n_labels)
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
                        logits.view(-1, n_labels), plain["labels"].view(-1)
                    ),
                    200,
                    10,
                ),
                "mixed": median_time(
                    lambda: pair_cross_entropy(
                        logits, mixed["labels"], mixed["mix_labels"], mixed["mix_label_weight"]
                    ),
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


def render(r: dict) -> list[str]:
    lines = [
        f"Batch {r['batch']} × {r['width']} sub-words; forward, pair loss, backward and fused "
        f"AdamW, model in training mode (dropout on); on CPU, {r['threads']} torch threads; "
        f"median of {r['reps']} interleaved steps after 3 warm-up steps each. *Mixing ops "
        "alone*: the extra cost of the two-sided embedding lookup, the pair loss and the "
        "collation, each timed alone (no gradient). *At rate 0.2*: for a method dearer than "
        f"5 % with every row its own, the overhead of a batch with {SHARE_MIXED} of its "
        f"examples among {BATCH} (the share training at rate 0.2 sees).",
        "",
        "| method | step, originals | step, its examples | measured overhead | at rate 0.2 "
        "| mixing ops alone |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in r["rows"].items():
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
    pr = r["profile"]
    lines += [
        "",
        "### Profile of one mixed MMix step (torch.profiler, CPU self time)",
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
