"""Training throughput at equal batch shapes: segmix's one path against the loop it replaced and
against a plain Hugging Face ``Trainer`` script, with and without length grouping.

Every row trains on the same 200-sentence CoNLL-2003 subset (``sample_subset(train, 200,
seed=1)``), batch 16, the same number of optimizer steps, lr 1e-4, no warm-up, no evaluation
inside the timed span:

- ``segmix``: :func:`segmix.run.train` (``SegMixTrainer``), no augmentation; an 8-sentence dev
  file is scored once, after the last step; ``timing["train_seconds"]`` (training steps only,
  evaluation and checkpoint saving taken out) and ``timing["tokens_per_second"]``;
- ``segmix_mmix``: the same with ``augment="mmix"`` (rate 0.2);
- ``today``: the accelerate loop this replaced (``segmix.training.train_ner`` of the source tree
  ``--baseline-src``, e.g. a worktree of commit 2a1d3fe), no dev set; its own timing;
- ``plain``: token classification the way ``run_ner.py`` does it, with Trainer's defaults (random
  batches);
- ``plain_grouped``: the same with ``train_sampling_strategy="group_by_length"``.

Tokens are the real (unpadded) sub-words of the batches the steps consumed, [CLS] and [SEP]
included, the same count for every row. The Trainer rows also carry a callback clock from
``on_train_begin`` to the last ``on_step_end``. Every run is a fresh process with the same torch
thread count; the rows run interleaved, ``--reps`` rounds, and the table gives medians.

Run alone: ``python benchmarks/speed --only training``. A child run is
``training.py --child ROW --src SRC --settings JSON`` (it imports segmix from SRC only).
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TITLE = "Training throughput at equal batch shapes"
ROWS = ("segmix", "segmix_mmix", "today", "plain", "plain_grouped")
LABELS = {
    "segmix": "segmix, one path (`segmix.run.train`)",
    "segmix_mmix": "segmix, one path, MMix",
    "today": "previous accelerate loop (`train_ner`)",
    "plain": "plain Trainer script (run_ner.py's way)",
    "plain_grouped": "plain Trainer script, `group_by_length`",
}
MARK = "SPEED-RESULT "


# ------------------------------------------------------------------------------ parent side
def measure(args) -> dict:
    from common import ROOT

    from speed.shared import child_env, conll_file

    steps = 10 if args.quick else 100
    reps = args.reps if args.reps is not None else (1 if args.quick else 3)
    work = Path(tempfile.mkdtemp(prefix="segmix-speed-training-"))
    dev = work / "dev8.txt"
    dev.write_text(_first_sentences(conll_file(args.data, "dev"), 8))
    settings = {
        "train_file": str(conll_file(args.data, "train")),
        "dev_file": str(dev),
        "size": 200,
        "sample_seed": 1,
        "seed": 1,
        "batch": 16,
        "steps": steps,
        "lr": 1e-4,
        "threads": args.threads,
    }
    new_src = ROOT / "src"
    baseline = Path(args.baseline_src) if args.baseline_src else None
    skipped = {}
    if baseline is None or not (baseline / "segmix" / "training.py").is_file():
        skipped["today"] = (
            f"no previous loop: {baseline}/segmix/training.py does not exist (give "
            "--baseline-src, e.g. a worktree of commit 2a1d3fe: "
            "git worktree add /tmp/old 2a1d3fe; --baseline-src /tmp/old/src)"
        )
    rows = [r for r in ROWS if r not in skipped]
    runs: dict[str, list[dict]] = {r: [] for r in rows}
    try:
        for rep in range(reps):
            for row in rows:  # interleaved: drift on the machine hits every row alike
                src = baseline if row == "today" else new_src
                run_settings = dict(settings, output_dir=str(work / f"{row}-{rep}"))
                result = _child(row, src, run_settings, child_env(args.threads, src))
                if result["steps"] != steps:
                    raise RuntimeError(f"{row} took {result['steps']} steps, not {steps}")
                runs[row].append(result)
                print(
                    f"  round {rep + 1}/{reps} {row}: {result['tokens_per_second']:,.0f} "
                    f"tokens/s ({result['seconds']:.1f} s)",
                    flush=True,
                )
        token_counts = _token_counts(settings)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary = {}
    for row, results in runs.items():
        summary[row] = {
            "tokens_per_second": statistics.median(r["tokens_per_second"] for r in results),
            "seconds": statistics.median(r["seconds"] for r in results),
            "tokens": statistics.median(r["tokens"] for r in results),
        }
        clocked = [r["clock_tokens_per_second"] for r in results if "clock_tokens_per_second" in r]
        if clocked:
            summary[row]["clock_tokens_per_second"] = statistics.median(clocked)
    ratios = {}
    if "segmix" in summary:
        one = summary["segmix"]["tokens_per_second"]
        for other in ("today", "plain", "plain_grouped"):
            if other in summary:
                ratios[f"segmix/{other}"] = one / summary[other]["tokens_per_second"]
    return {
        "threads": args.threads,
        "reps": reps,
        "settings": {k: v for k, v in settings.items() if k not in ("dev_file",)}
        | {"dev_sentences": 8, "baseline_src": str(baseline) if baseline else None},
        "token_counts": token_counts,
        "skipped": skipped,
        "rows": summary,
        "ratios": ratios,
        "runs": runs,
    }


def _first_sentences(path: Path, n: int) -> str:
    """The first ``n`` sentences of a CoNLL file, as they are written there."""
    blocks = [b for b in path.read_text().split("\n\n") if b.strip()]
    blocks = [b for b in blocks if not b.lstrip().startswith("-DOCSTART-")]
    return "\n\n".join(b.strip("\n") for b in blocks[:n]) + "\n"


def _token_counts(settings: dict) -> dict:
    """Sub-words of the 200 sentences as segmix encodes them and as run_ner.py tokenizes them
    (they must agree for the rows' token counts to mean the same)."""
    from segmix.datafiles import sample_subset
    from segmix.encoding import SubwordCache, load_tokenizer
    from segmix.tasks.tagging.data import label_list, read_conll
    from segmix.tasks.tagging.encoding import encode_tagged

    full = read_conll(settings["train_file"])
    labels = label_list(full)
    sentences = sample_subset(full, settings["size"], settings["sample_seed"])
    tokenizer = load_tokenizer(None)
    encoded = encode_tagged(
        sentences, SubwordCache(tokenizer), {lb: i for i, lb in enumerate(labels)}
    )
    enc = tokenizer([list(s.tokens) for s in sentences], is_split_into_words=True, truncation=True)
    return {
        "segmix": int(sum(len(e.ids) for e in encoded)),
        "run_ner": int(sum(len(ids) for ids in enc["input_ids"])),
    }


def _child(row: str, src: Path, settings: dict, env: dict) -> dict:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        row,
        "--src",
        str(src),
        "--settings",
        json.dumps(settings),
    ]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith(MARK)]
    if done.returncode != 0 or not lines:
        raise RuntimeError(
            f"training row {row} failed (exit {done.returncode}):\n{done.stderr[-3000:]}"
        )
    return json.loads(lines[-1][len(MARK) :])


# ------------------------------------------------------------------------------ child side
def _clock():
    """A callback: time from ``on_train_begin`` to the last ``on_step_end``."""
    from transformers import TrainerCallback

    class Clock(TrainerCallback):
        begin = last_step = None

        def on_train_begin(self, args, state, control, **kwargs):
            self.begin = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            self.last_step = time.perf_counter()

        @property
        def seconds(self) -> float:
            return self.last_step - self.begin

    return Clock()


def _run_segmix(s: dict, augment: str) -> dict:
    from segmix.config import TrainConfig
    from segmix.run import train

    clock = _clock()
    config = TrainConfig(
        train_file=s["train_file"],
        dev_file=s["dev_file"],  # with train_file and no data_dir: no test file
        train_size=s["size"],
        sample_seed=s["sample_seed"],
        seed=s["seed"],
        augment=augment,
        batch_size=s["batch"],
        max_steps=s["steps"],
        lr=s["lr"],
        warmup_ratio=0.0,
        eval_every=s["steps"],  # dev scored once, after the last step
        save_model=False,
        progress=False,
        output_dir=s["output_dir"],
    )
    assert config.resolved_files()[2] is None, "the training rows must not score a test file"
    metrics = train(config, callbacks=[clock])
    t = metrics["timing"]
    tokens = t["tokens_seen"]
    return {
        "seconds": t["train_seconds"],
        "tokens": tokens,
        "tokens_per_second": t["tokens_per_second"],
        "steps": metrics["steps"],
        "clock_seconds": clock.seconds,
        "clock_tokens_per_second": tokens / clock.seconds,
        "examples_per_epoch": metrics["train_size"] + metrics["mixes_per_epoch"],
        "timing": t,
    }


def _run_today(s: dict) -> dict:
    import importlib

    from segmix.config import TrainConfig

    # only the baseline tree (--baseline-src) has this module
    train_ner = importlib.import_module("segmix.training").train_ner
    empty = Path(s["output_dir"]) / "no-data"  # a data folder without dev.txt or test.txt
    empty.mkdir(parents=True)
    config = TrainConfig(
        train_file=s["train_file"],
        dev_file=None,
        test_file=None,
        data_dir=str(empty),
        train_size=s["size"],
        sample_seed=s["sample_seed"],
        seed=s["seed"],
        batch_size=s["batch"],
        max_steps=s["steps"],
        lr=s["lr"],
        warmup_ratio=0.0,
        save_model=False,
        progress=False,
        output_dir=str(Path(s["output_dir"]) / "run"),
    )
    metrics = train_ner(config)
    t = metrics["timing"]
    return {
        "seconds": t["train_seconds"],
        "tokens": int(t["tokens_seen"]),
        "tokens_per_second": float(t["tokens_per_second"]),
        "steps": metrics["steps"],
        "timing": {k: v for k, v in t.items() if k != "epoch_seconds"},
    }


def _run_plain(s: dict, grouped: bool) -> dict:
    """run_ner.py's recipe: tokenize with word ids, label the first sub-word, Trainer defaults."""
    from transformers import (
        AutoModelForTokenClassification,
        AutoTokenizer,
        DataCollatorForTokenClassification,
        Trainer,
        TrainingArguments,
    )

    from segmix.datafiles import sample_subset
    from segmix.encoding import resolve_model
    from segmix.tasks.tagging.data import label_list, read_conll

    full = read_conll(s["train_file"])
    labels = label_list(full)
    sentences = sample_subset(full, s["size"], s["sample_seed"])
    name = resolve_model(None)
    tokenizer = AutoTokenizer.from_pretrained(name)
    label2id = {lb: i for i, lb in enumerate(labels)}
    features = run_ner_features(tokenizer, sentences, label2id)
    model = AutoModelForTokenClassification.from_pretrained(
        name, num_labels=len(labels), id2label=dict(enumerate(labels)), label2id=label2id
    )

    class CountingTrainer(Trainer):
        """The stock Trainer, counting the real sub-words of the batches it trains on."""

        tokens = 0  # a device tensor once training starts: counting never waits for the device

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            if model.training:
                self.tokens = self.tokens + inputs["attention_mask"].sum()
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)

    clock = _clock()
    args = TrainingArguments(
        s["output_dir"],
        per_device_train_batch_size=s["batch"],
        learning_rate=s["lr"],
        max_steps=s["steps"],
        train_sampling_strategy="group_by_length" if grouped else "random",
        report_to="none",
        save_strategy="no",
        disable_tqdm=True,
        seed=s["seed"],
    )
    trainer = CountingTrainer(
        model=model,
        args=args,
        train_dataset=features,
        data_collator=DataCollatorForTokenClassification(tokenizer),
        processing_class=tokenizer,
        callbacks=[clock],
    )
    trainer.train()
    tokens = int(trainer.tokens)
    return {
        "seconds": clock.seconds,
        "tokens": tokens,
        "tokens_per_second": tokens / clock.seconds,
        "steps": trainer.state.global_step,
        "clock_seconds": clock.seconds,
        "clock_tokens_per_second": tokens / clock.seconds,
        "optimizer": str(args.optim),
        "train_sampling_strategy": args.train_sampling_strategy,
    }


def run_ner_features(tokenizer, sentences, label2id) -> list[dict]:
    """run_ner.py's tokenize_and_align_labels: label on first sub-words, -100 elsewhere."""
    enc = tokenizer([list(s.tokens) for s in sentences], is_split_into_words=True, truncation=True)
    features = []
    for i, s in enumerate(sentences):
        previous, label_ids = None, []
        for w in enc.word_ids(i):
            label_ids.append(-100 if w is None or w == previous else label2id[s.tags[w]])
            previous = w
        features.append(
            {
                "input_ids": enc["input_ids"][i],
                "attention_mask": enc["attention_mask"][i],
                "labels": label_ids,
            }
        )
    return features


def child_main(argv: list[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--child", required=True, choices=ROWS)
    parser.add_argument("--src", required=True)
    parser.add_argument("--settings", required=True)
    a = parser.parse_args(argv)
    s = json.loads(a.settings)
    src = str(Path(a.src).resolve())
    sys.path[:] = [src, *(p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent)]

    import logging

    import torch
    import transformers

    torch.set_num_threads(s["threads"])
    transformers.logging.set_verbosity_error()
    logging.getLogger("segmix").setLevel(logging.WARNING)
    import segmix

    where = str(Path(segmix.__file__).resolve())
    if not where.startswith(src + "/"):
        raise SystemExit(f"segmix imported from {where}, not from {src}")
    if a.child == "today":
        result = _run_today(s)
    elif a.child.startswith("segmix"):
        result = _run_segmix(s, "mmix" if a.child == "segmix_mmix" else "none")
    else:
        result = _run_plain(s, grouped=a.child == "plain_grouped")
    device = torch.accelerator.current_accelerator() if torch.accelerator.is_available() else None
    result.update(
        segmix_source=where, torch_threads=torch.get_num_threads(), device=str(device or "cpu")
    )
    print(MARK + json.dumps(result), flush=True)


# ------------------------------------------------------------------------------ report
def render(r: dict) -> list[str]:
    from speed.shared import fmt, ratio

    s = r["settings"]
    rows = r["rows"]
    tc = r["token_counts"]
    devices = ", ".join(sorted({run["device"] for runs in r["runs"].values() for run in runs}))
    lines = [
        f"{s['size']} CoNLL-2003 training sentences (`sample_subset(train, {s['size']}, "
        f"seed={s['sample_seed']})`), batch {s['batch']}, {s['steps']} optimizer steps, lr "
        f"{s['lr']:g} without learning-rate warm-up, no evaluation inside the timed span; "
        f"device {devices}, {r['threads']} torch threads; every run a fresh process (its timed "
        "span starts at its first step, so each row pays its own first-step costs); rows "
        f"interleaved, median of {r['reps']} round{'s' if r['reps'] != 1 else ''}. Tokens: the "
        "real (unpadded) sub-words of the "
        f"batches trained on ({tc['segmix']:,} in the 200 sentences as segmix encodes them, "
        f"{tc['run_ner']:,} as run_ner.py tokenizes them).",
        "",
        "| row | tokens / s | training seconds | tokens | tokens / s, callback clock |",
        "|---|---|---|---|---|",
    ]
    for row in ROWS:
        if row not in rows:
            continue
        x = rows[row]
        lines.append(
            f"| {LABELS[row]} | {fmt(x['tokens_per_second'])} | {x['seconds']:.2f} | "
            f"{fmt(x['tokens'])} | {fmt(x.get('clock_tokens_per_second'))} |"
        )
    lines.append("")
    for row, why in r.get("skipped", {}).items():
        lines.append(f"Not measured: {LABELS[row]}: {why}.")
        lines.append("")
    seg = rows.get("segmix", {}).get("tokens_per_second")
    pairs = [
        (other, ratio(seg, rows[other]["tokens_per_second"]))
        for other in ("today", "plain", "plain_grouped")
        if other in rows and seg
    ]
    if pairs:
        lines.append(
            "segmix's one path against "
            + "; ".join(f"{LABELS[o]}: {v}" for o, v in pairs)
            + " (tokens per second)."
        )
        lines.append("")
    lines.append(
        "*training seconds*: segmix rows: the run's `timing[\"train_seconds\"]` (the Trainer's "
        "`train()` less evaluation and checkpoint saving); previous loop: its own "
        "`train_seconds`; plain rows: the callback clock. *callback clock*: `on_train_begin` to "
        "the last `on_step_end` (Trainer rows only)."
    )
    return lines


if __name__ == "__main__":
    child_main(sys.argv[1:])
