"""Speed of SegMix: generation rate, mixing overhead per step, training and prediction throughput
against a plain Hugging Face Trainer script, memory, and scaling with the training set.

Everything runs in one process, side by side, warm-up excluded, medians of repetitions, with
fixed thread counts (torch: all cores for training and prediction; generation is single-core
numpy). Run it on a quiet machine:

    python benchmarks/speed.py            # about 10 minutes on 2 CPU cores
    python benchmarks/speed.py --quick    # a smoke run with tiny sizes

Writes benchmarks/results/speed.{json,md}.
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import torch
from common import ROOT
from segmix.training import train_ner

from segmix.augment import MentionMix, SynonymMix, TokenMix
from segmix.collate import MixCollator
from segmix.config import TrainConfig
from segmix.data import label_list, read_conll, sample_subset
from segmix.encoding import SubwordCache, encode_tagged, load_tokenizer, resolve_model
from segmix.inference import Tagger
from segmix.mixing import MixedExample
from segmix.model import load_token_classifier, mixed_embeddings, pair_cross_entropy, token_loss
from segmix.runs import versions, write_json

DATA = ROOT.parent / "shared" / "data"


def median_time(fn, reps: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


# ------------------------------------------------------------------------------ generation
def generation(examples, labels, cache, n: int, reps: int, relations=None) -> dict:
    """Mixed examples per second on one core, pools built and sub-word ids cached."""
    out = {}
    variants = [("mmix", MentionMix()), ("tmix", TokenMix())]
    variants.append(("smix", SynonymMix()))  # fit reports it when WordNet is missing
    for name, aug in variants:
        t0 = time.perf_counter()
        try:
            aug.fit(examples, labels, cache)
        except Exception as err:
            out[name] = {"error": str(err)}
            continue
        fit_s = time.perf_counter() - t0
        rng = np.random.default_rng(0)
        sec = median_time(lambda a=aug, g=rng: a.generate(n, g), reps)
        ref = (
            median_time(
                lambda a=aug, g=rng: [a.apply(a.sample_params(g)) for _ in range(n // 20)], reps
            )
            * 20
        )
        out[name] = {
            "fit_seconds": fit_s,
            "per_second": n / sec,
            "reference_path_per_second": n / ref,
            "n": n,
        }
    if relations is not None:
        rel_examples, rel_labels, rel_cache = relations
        from segmix.re_augment import RelationMix

        t0 = time.perf_counter()
        aug = RelationMix().fit(rel_examples, rel_labels, rel_cache)
        fit_s = time.perf_counter() - t0
        rng = np.random.default_rng(0)
        m = max(n // 10, 100)
        sec = median_time(lambda: aug.generate(m, rng), reps)
        out["rmix"] = {
            "per_second": m / sec,
            "n": m,
            "fit_seconds": fit_s,
            "path": "per example (two arguments)",
        }
    return out


# ------------------------------------------------------------------------------ per-step overhead
def step_overhead(examples, labels, cache, reps: int, width: int = 48, batch: int = 16) -> dict:
    """Training-step time, unmixed vs mixed batches of the same size and padded length."""
    short = [ex for ex in examples if len(ex.ids) <= width - 8]
    rng = np.random.default_rng(0)
    originals = [MixedExample.original(ex.ids, ex.labels) for ex in short[:batch]]
    collate = MixCollator(cache.pad_id, pad_to_multiple_of=width)
    plain = collate(originals)
    model = load_token_classifier(None, labels)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5, fused=True)
    results = {}
    for name, aug in (("mmix", MentionMix()), ("tmix", TokenMix())):
        aug.fit(short, labels, cache)
        mixes = [m for m in aug.generate(batch * 4, rng) if len(m) <= width][:batch]
        mixed = collate(mixes)
        assert mixed["input_ids"].shape == plain["input_ids"].shape

        def step(b):
            loss, _ = token_loss(model, b)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)

        for _ in range(3):
            step(plain)
            step(mixed)
        t_plain, t_mixed = [], []
        for _ in range(reps):  # interleaved, so drift hits both alike
            t0 = time.perf_counter()
            step(plain)
            t_plain.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            step(mixed)
            t_mixed.append(time.perf_counter() - t0)
        p, m = statistics.median(t_plain), statistics.median(t_mixed)
        t_emb_plain, t_emb_mixed, t_ce, t_pair = _mixing_ops(model, plain, mixed, len(labels))
        t_col_plain = median_time(lambda: collate(originals), 200, 10)
        t_col_mixed = median_time(lambda ms=mixes: collate(ms), 200, 10)
        isolated = (t_emb_mixed - t_emb_plain) + (t_pair - t_ce) + (t_col_mixed - t_col_plain)
        results[name] = {
            "step_seconds_plain": p,
            "step_seconds_mixed": m,
            "overhead_measured": m / p - 1,
            "mixing_ops_seconds": isolated,
            "overhead_of_mixing_ops": isolated / p,
            "embedding_seconds": {"plain": t_emb_plain, "mixed": t_emb_mixed},
            "loss_seconds": {"cross_entropy": t_ce, "pair": t_pair},
            "collate_seconds": {"plain": t_col_plain, "mixed": t_col_mixed},
            "batch": batch,
            "width": width,
        }
    return results


def _mixing_ops(model, plain: dict, mixed: dict, n_labels: int) -> tuple[float, ...]:
    """Times of the operations mixing adds: the second gather + weighted sum, the pair loss."""
    emb = model.get_input_embeddings()
    logits = torch.randn(*plain["input_ids"].shape, n_labels)
    with torch.no_grad():
        t_emb_plain = median_time(lambda: emb(plain["input_ids"]), 200, 10)
        t_emb_mixed = median_time(
            lambda: mixed_embeddings(
                model, mixed["input_ids"], mixed["mix_ids"], mixed["mix_weight"]
            ),
            200,
            10,
        )
        t_ce = median_time(
            lambda: torch.nn.functional.cross_entropy(
                logits.view(-1, n_labels), plain["labels"].view(-1)
            ),
            200,
            10,
        )
        t_pair = median_time(
            lambda: pair_cross_entropy(
                logits, mixed["labels"], mixed["mix_labels"], mixed["mix_label_weight"]
            ),
            200,
            10,
        )
    return t_emb_plain, t_emb_mixed, t_ce, t_pair


# ------------------------------------------------------------------------------ profile
def profile_step(examples, labels, cache, width: int = 48, batch: int = 16) -> dict:
    """Where a mixed training step spends its time (torch.profiler), and the optimizer step
    with PyTorch's default AdamW against the fused one segmix uses."""
    from torch.profiler import ProfilerActivity, profile

    short = [ex for ex in examples if len(ex.ids) <= width - 8]
    aug = MentionMix().fit(short, labels, cache)
    mixes = [m for m in aug.generate(batch * 4, np.random.default_rng(0)) if len(m) <= width]
    b = MixCollator(cache.pad_id, pad_to_multiple_of=width)(mixes[:batch])
    model = load_token_classifier(None, labels)
    times = {}
    for fused in (False, True):
        opt = torch.optim.AdamW(model.parameters(), lr=1e-5, fused=fused)

        def step(o=opt):
            loss, _ = token_loss(model, b)
            loss.backward()
            o.step()
            o.zero_grad(set_to_none=True)

        step()
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            step()
        table = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
        total = sum(e.self_cpu_time_total for e in table)
        name = "fused" if fused else "default"
        times[name] = {
            "step_ms": total / 1000,
            "top_ops": [
                {
                    "op": e.key,
                    "self_ms": e.self_cpu_time_total / 1000,
                    "share": e.self_cpu_time_total / total,
                }
                for e in table[:8]
            ],
        }
        loss, _ = token_loss(model, b)
        loss.backward()  # gradients in place, then time the optimizer step alone
        times[name]["optimizer_ms"] = median_time(opt.step, 5) * 1000
        opt.zero_grad(set_to_none=True)
    return times


# ------------------------------------------------------------------------------ vs plain Trainer
def plain_trainer_train(sentences, labels, steps: int, batch: int, lr: float) -> dict:
    """Token classification the way run_ner.py does it, with Trainer's defaults."""
    from transformers import (
        AutoModelForTokenClassification,
        AutoTokenizer,
        DataCollatorForTokenClassification,
        Trainer,
        TrainerCallback,
        TrainingArguments,
    )

    name = resolve_model(None)
    tokenizer = AutoTokenizer.from_pretrained(name)
    label2id = {lb: i for i, lb in enumerate(labels)}
    features = _run_ner_features(tokenizer, sentences, label2id)
    model = AutoModelForTokenClassification.from_pretrained(
        name, num_labels=len(labels), id2label=dict(enumerate(labels)), label2id=label2id
    )

    class Clock(TrainerCallback):
        def on_train_begin(self, *a, **k):
            self.t0 = time.perf_counter()

        def on_train_end(self, *a, **k):
            self.seconds = time.perf_counter() - self.t0

    clock = Clock()
    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(
            tmp,
            per_device_train_batch_size=batch,
            learning_rate=lr,
            max_steps=steps,
            report_to=[],
            save_strategy="no",
            disable_tqdm=True,
            seed=1,
        )
        trainer = Trainer(
            model=model,
            args=args,
            train_dataset=features,
            data_collator=DataCollatorForTokenClassification(tokenizer),
            callbacks=[clock],
        )
        trainer.train()
    epochs = steps * batch / len(features)
    tokens = sum(len(f["input_ids"]) for f in features) * epochs
    return {
        "seconds": clock.seconds,
        "tokens_per_second": tokens / clock.seconds,
        "optimizer": args.optim,
        "group_by_length": False,
    }


def _run_ner_features(tokenizer, sentences, label2id):
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


def plain_trainer_predict(sentences, labels, model_dir: str) -> dict:
    from transformers import (
        AutoModelForTokenClassification,
        AutoTokenizer,
        DataCollatorForTokenClassification,
        Trainer,
        TrainingArguments,
    )

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForTokenClassification.from_pretrained(model_dir)
    features = _run_ner_features(tokenizer, sentences, model.config.label2id)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(
            model=model,
            args=TrainingArguments(tmp, report_to=[], disable_tqdm=True),
            data_collator=DataCollatorForTokenClassification(tokenizer),
        )
        t0 = time.perf_counter()
        out = trainer.predict(features)
        np.argmax(out.predictions, axis=2)
        seconds = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "sentences_per_second": len(sentences) / seconds,
        "eval_batch_size": trainer.args.per_device_eval_batch_size,
    }


def throughput(
    train_file: Path,
    dev: list,
    labels,
    size: int,
    steps: int,
    batch: int,
    reps: int,
    lr: float = 1e-4,
) -> dict:
    sentences = sample_subset(read_conll(train_file), size, seed=1)
    ours, plain = [], []
    model_dir = None
    tmp = tempfile.mkdtemp()
    for r in range(reps):
        gc.collect()
        plain.append(plain_trainer_train(sentences, labels, steps, batch, lr))
        gc.collect()
        metrics = train_ner(
            _no_eval_config(
                train_file,
                tmp,
                size,
                f"run{r}",
                batch_size=batch,
                lr=lr,
                max_steps=steps,
                warmup_ratio=0.0,
                save_model=r == 0,
            )
        )
        ours.append(
            {
                "seconds": metrics["timing"]["train_seconds"],
                "tokens_per_second": metrics["timing"]["tokens_per_second"],
            }
        )
        model_dir = model_dir or str(Path(tmp) / "run0" / "model")
    train = {
        "segmix_tokens_per_second": statistics.median(o["tokens_per_second"] for o in ours),
        "plain_tokens_per_second": statistics.median(p["tokens_per_second"] for p in plain),
        "runs": {"segmix": ours, "plain": plain},
        "steps": steps,
        "batch": batch,
        "size": size,
    }
    train["ratio"] = train["segmix_tokens_per_second"] / train["plain_tokens_per_second"]

    tagger = Tagger(model_dir, device="cpu")
    tokens = [list(s.tokens) for s in dev]
    ours_eval, plain_eval = [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        tagger(tokens)
        ours_eval.append(len(dev) / (time.perf_counter() - t0))
        plain_eval.append(plain_trainer_predict(dev, labels, model_dir)["sentences_per_second"])
    evaluation = {
        "segmix_sentences_per_second": statistics.median(ours_eval),
        "plain_sentences_per_second": statistics.median(plain_eval),
        "sentences": len(dev),
    }
    evaluation["ratio"] = (
        evaluation["segmix_sentences_per_second"] / evaluation["plain_sentences_per_second"]
    )
    return {"train": train, "evaluate": evaluation}


def _no_eval_config(train_file: Path, tmp: str, size: int, name: str, **kw) -> TrainConfig:
    """A 200-sentence CoNLL run with no dev or test set: training time only."""
    return TrainConfig(
        train_file=str(train_file),
        dev_file=None,
        test_file=None,
        data_dir=tmp,
        train_size=size,
        sample_seed=1,
        seed=1,
        progress=False,
        output_dir=str(Path(tmp) / name),
        **kw,
    )


# ------------------------------------------------------------------------------ epochs, memory
def epoch_times(train_file: Path, size: int, epochs: int) -> dict:
    """Wall time of a training epoch on ``size`` sentences, per method (no evaluation)."""
    out = {}
    tmp = tempfile.mkdtemp()
    for method in ("none", "mmix", "tmix", "smix"):
        try:
            metrics = train_ner(
                _no_eval_config(
                    train_file, tmp, size, method, augment=method, epochs=epochs, save_model=False
                )
            )
        except Exception as err:
            out[method] = {"error": str(err)}
            continue
        out[method] = {
            "epoch_seconds": metrics["timing"]["epoch_seconds"],
            "median": statistics.median(
                metrics["timing"]["epoch_seconds"][1:] or metrics["timing"]["epoch_seconds"]
            ),
            "examples_per_epoch": size + metrics["mixes_per_epoch"],
        }
    return out


def peak_rss_of_run(train_file: Path, size: int, steps: int) -> float:
    """Peak resident memory (MiB) of a `segmix train` MMix run, in a fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable,
            "-m",
            "segmix.cli",
            "train",
            "--train",
            str(train_file),
            "--train-size",
            str(size),
            "--augment",
            "mmix",
            "--max-steps",
            str(steps),
            "--no-save-model",
            "--no-progress",
            "--out",
            tmp,
            "--data",
            tmp,
        ]
        subprocess.run(cmd, check=True, capture_output=True)
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def pool_memory(examples, labels, cache, factors, n: int, reps: int) -> dict:
    """Pool memory (tracemalloc) and generation rate at several multiples of the train set."""
    out = {}
    for factor in factors:
        repeated = list(examples) * factor
        row = {"sentences": len(repeated)}
        for name, cls in (("mmix", MentionMix), ("tmix", TokenMix)):
            gc.collect()
            tracemalloc.start()
            aug = cls().fit(repeated, labels, cache)
            current, _ = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            rng = np.random.default_rng(0)
            sec = median_time(lambda a=aug, g=rng: a.generate(n, g), reps)
            row[name] = {"pool_mib": current / 2**20, "per_second": n / sec}
            del aug
        out[str(factor)] = row
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "speed"))
    args = parser.parse_args()
    quick = args.quick
    threads = torch.get_num_threads()
    train_file = DATA / "conll2003" / "train.txt"
    train = read_conll(train_file)
    dev = read_conll(DATA / "conll2003" / "dev.txt")
    if quick:
        train, dev = train[:2000], dev[:300]
    labels = label_list(train)
    cache = SubwordCache(load_tokenizer(None))
    t0 = time.perf_counter()
    examples = encode_tagged(train, cache, {lb: i for i, lb in enumerate(labels)})
    encode_s = time.perf_counter() - t0

    report: dict = {
        "versions": versions(),
        "torch_threads": threads,
        "quick": quick,
        "train_sentences": len(train),
        "encode_seconds": encode_s,
    }
    print("generation …", flush=True)
    torch.set_num_threads(1)
    relations = _relations(cache_model=None, limit=2000 if quick else None)
    report["generation"] = generation(
        examples,
        labels,
        cache,
        n=5000 if quick else 50_000,
        reps=3 if quick else 5,
        relations=relations,
    )
    report["scale"] = pool_memory(
        examples,
        labels,
        cache,
        [1, 4] if quick else [1, 4, 16],
        n=5000 if quick else 50_000,
        reps=3,
    )
    torch.set_num_threads(threads)
    print("step overhead …", flush=True)
    report["step_overhead"] = step_overhead(examples, labels, cache, reps=5 if quick else 40)
    print("profile …", flush=True)
    report["profile"] = profile_step(examples, labels, cache)
    print("throughput vs plain Trainer …", flush=True)
    report["throughput"] = throughput(
        train_file,
        dev,
        labels,
        size=200,
        steps=13 if quick else 52,
        batch=16,
        reps=1 if quick else 2,
    )
    print("epoch times …", flush=True)
    report["epoch_times"] = epoch_times(train_file, 200, 2 if quick else 4)
    print("memory …", flush=True)
    report["peak_rss_mib_mmix_run"] = peak_rss_of_run(train_file, 200, 5 if quick else 30)
    write_json(Path(args.out).with_suffix(".json"), report)
    Path(args.out).with_suffix(".md").write_text(render(report))
    print(render(report))


def _relations(cache_model, limit):
    """SemEval-2010 Task 8 train, encoded with markers, for the RMix rate."""
    from segmix.re_data import read_relations, relation_labels
    from segmix.re_model import all_markers, encode_relations, register_markers

    path = DATA / "semeval2010_task8" / "train.tsv"
    if not path.exists():
        return None
    rel = read_relations(path)[:limit]
    labels = relation_labels(rel)
    tok = load_tokenizer(cache_model)
    cache = SubwordCache(tok)
    register_markers(tok, cache, all_markers(rel, typed=False))
    enc = encode_relations(rel, cache, {r: i for i, r in enumerate(labels)}, typed=False)
    return enc, labels, cache


def render(r: dict) -> str:
    v = r["versions"]
    g = r["generation"]
    lines = [
        "# Speed of segmix",
        "",
        f"Machine: {v['platform']}, {v['cpu_count']} CPUs; torch {v['packages']['torch']}, "
        f"transformers {v['packages']['transformers']}; torch threads {r['torch_threads']} "
        "for training and prediction, 1 for generation. Medians of repetitions, warm-up "
        f"excluded. Training set: {r['train_sentences']} CoNLL-2003 sentences, encoded once in "
        f"{r['encode_seconds']:.1f} s.",
        "",
        "## Mixed examples generated per second (one core)",
        "",
        "| variant | per second | reference path (one mix at a time) | pools built in |",
        "|---|---|---|---|",
    ]
    for name, row in g.items():
        if "error" in row:
            lines.append(f"| {name} | unavailable: {row['error'][:80]} | | |")
            continue
        ref = row.get("reference_path_per_second")
        lines.append(
            f"| {name} | {row['per_second']:,.0f} | "
            f"{f'{ref:,.0f}' if ref else row.get('path', '')} | "
            f"{row.get('fit_seconds', float('nan')):.2f} s |"
        )
    lines += [
        "",
        "## Mixing overhead per training step (same batch size and padded length)",
        "",
        "| variant | step, no mixing | step, mixed | measured overhead | mixing ops alone "
        "(gather + weighted sum, pair loss, collation) |",
        "|---|---|---|---|---|",
    ]
    for name, row in r["step_overhead"].items():
        lines.append(
            f"| {name} | {row['step_seconds_plain'] * 1000:.1f} ms | "
            f"{row['step_seconds_mixed'] * 1000:.1f} ms | {row['overhead_measured'] * 100:+.2f} % "
            f"| {row['mixing_ops_seconds'] * 1000:.2f} ms = "
            f"{row['overhead_of_mixing_ops'] * 100:.2f} % of a step |"
        )
    pr = r["profile"]
    lines += [
        "",
        "## Profile of a mixed training step (torch.profiler, batch 16 × 48)",
        "",
        "What the profile showed and what was done:",
        "",
        "- Generation, one mix at a time (`mix_segments`, the reference path): the time "
        "went to ~30 small numpy calls per mix (`np.full`, `np.ones`, concatenations) and "
        "scalar random draws. Now all mixes of a call are drawn and built with "
        "whole-array operations (`segmix/packed.py`); the table above gives both rates.",
        f"- Training step: PyTorch's default AdamW step took "
        f"{pr['default']['optimizer_ms']:.0f} ms of a "
        f"{pr['default']['step_ms']:.0f} ms CPU step (the embedding table is half "
        f"the parameters); the fused AdamW segmix uses takes "
        f"{pr['fused']['optimizer_ms']:.0f} ms of {pr['fused']['step_ms']:.0f} ms.",
        "- Mixed steps: looking the two sides up with two embedding calls built the "
        "vocabulary-sized gradient of the embedding table twice (`aten::fill_` and "
        "`EmbeddingBackward0`), +1.4 % a step in the first measurement; one call over both "
        "sides builds it once, and the overhead above is what is left.",
        "- The mixing itself (one embedding call for both sides, a weighted sum, the pair "
        "loss) does not appear among the top operations:",
        "",
        "| op (fused AdamW) | self time | share |",
        "|---|---|---|",
    ]
    for op in pr["fused"]["top_ops"]:
        lines.append(f"| `{op['op']}` | {op['self_ms']:.1f} ms | {op['share'] * 100:.1f} % |")
    t, e = r["throughput"]["train"], r["throughput"]["evaluate"]
    lines += [
        "",
        "## Against a plain Trainer script (run_ner.py's way, its defaults)",
        "",
        "| | segmix | plain Trainer | ratio |",
        "|---|---|---|---|",
        f"| training, real sub-word tokens / s ({t['size']} sentences, batch {t['batch']}, "
        f"{t['steps']} steps) | {t['segmix_tokens_per_second']:,.0f} | "
        f"{t['plain_tokens_per_second']:,.0f} | {t['ratio']:.2f}× |",
        f"| prediction, sentences / s ({e['sentences']} dev sentences) | "
        f"{e['segmix_sentences_per_second']:,.0f} | {e['plain_sentences_per_second']:,.0f} "
        f"| {e['ratio']:.2f}× |",
        "",
        "## Epoch wall time, 200 sentences (training only)",
        "",
        "| method | examples / epoch | epoch (median) |",
        "|---|---|---|",
    ]
    for name, row in r["epoch_times"].items():
        if "error" in row:
            lines.append(f"| {name} | unavailable | |")
        else:
            lines.append(f"| {name} | {row['examples_per_epoch']} | {row['median']:.2f} s |")
    lines += [
        "",
        "## Memory and scale",
        "",
        f"Peak RSS of a 200-sentence MMix `segmix train` run: "
        f"{r['peak_rss_mib_mmix_run']:.0f} MiB.",
        "",
        "| train set | sentences | MMix pool | MMix / s | TMix pool | TMix / s |",
        "|---|---|---|---|---|---|",
    ]
    for factor, row in r["scale"].items():
        lines.append(
            f"| {factor}× | {row['sentences']:,} | {row['mmix']['pool_mib']:.1f} MiB | "
            f"{row['mmix']['per_second']:,.0f} | {row['tmix']['pool_mib']:.1f} MiB | "
            f"{row['tmix']['per_second']:,.0f} |"
        )
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
