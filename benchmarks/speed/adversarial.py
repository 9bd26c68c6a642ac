"""What adversarial training (FGM, ``--adversarial fgm``) costs in a training step.

FGM takes the gradient of the loss with respect to the batch's input embeddings, moves them by
ε along it and adds the loss there: a second forward and backward through the encoder on every
step. This measures a step with and without it, interleaved, on the same batch: 16 CoNLL-2003
sentences padded to 48 sub-words, as originals, as MMix mixes (perturbed after mixing) and as
LADA (inter) mixes (mixed in a hidden layer above the perturbed embeddings).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from speed.shared import conll_encoded
from speed.step_overhead import BATCH, WIDTH, _interleaved, _training_step

TITLE = "Adversarial training (FGM) per training step"
ROWS = {"originals": None, "mmix": ("mmix", {}), "lada-inter": ("lada", {"lada_mode": "inter"})}


def measure(args) -> dict:
    from segmix.augment import make_augmenter
    from segmix.collate import MixCollator
    from segmix.engine import as_original
    from segmix.model import load_token_classifier

    reps = getattr(args, "step_reps", None) or (5 if args.quick else 30)
    _, labels, cache, examples, _ = conll_encoded(str(args.data), 2000 if args.quick else None)
    short = [ex for ex in examples if len(ex.ids) <= WIDTH - 8]
    collate = MixCollator(cache.pad_id, pad_to_multiple_of=WIDTH)
    torch.manual_seed(0)
    model = load_token_classifier(None, labels)
    model.train()
    # one model, two optimizers: each step kind keeps its own AdamW state, as a run would
    plain_step, fgm_step = _training_step(model), _training_step(model, "fgm")
    rows: dict[str, Any] = {}
    for name, spec in ROWS.items():
        if spec is None:
            batch = collate([as_original(ex) for ex in short[:BATCH]])
        else:
            aug = make_augmenter(spec[0], "ner", **spec[1]).fit(short, labels, cache)
            mixes = [m for m in aug.generate(BATCH * 8, np.random.default_rng(0))]
            batch = collate([m for m in mixes if len(m) <= WIDTH][:BATCH])

        def one(b: dict, adversarial: bool) -> None:
            (fgm_step if adversarial else plain_step)(b)

        plain, fgm = _interleaved(
            lambda b: one(b["batch"], b["fgm"]),
            {"batch": batch, "fgm": False},
            {"batch": batch, "fgm": True},
            reps,
        )
        rows[name] = {"step_seconds": plain, "step_seconds_fgm": fgm, "overhead": fgm / plain - 1}
    return {
        "threads": torch.get_num_threads(),
        "reps": reps,
        "batch": BATCH,
        "width": WIDTH,
        "rows": rows,
    }


def render(r: dict) -> list[str]:
    lines = [
        "A step (forward, pair loss, backward, fused AdamW; training mode, CPU) on the same "
        f"batch of {r['batch']} × {r['width']} sub-words without and with `--adversarial fgm` "
        f"(ε = 1), interleaved after 3 warm-up steps each; median of {r['reps']} pairs; "
        f"{r['threads']} torch threads. FGM adds a gradient with respect to the input "
        "embeddings and a second forward and backward at the perturbed embeddings.",
        "",
        "| batch | step | step with FGM | overhead |",
        "|---|---|---|---|",
    ]
    for name, row in r["rows"].items():
        lines.append(
            f"| {name} | {row['step_seconds'] * 1000:.1f} ms | "
            f"{row['step_seconds_fgm'] * 1000:.1f} ms | {row['overhead'] * 100:+.1f} % |"
        )
    return lines
