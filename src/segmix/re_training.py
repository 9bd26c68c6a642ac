"""Training and evaluating a relation classifier with or without RMix.

The same loop, seeds, early stopping and run folder as tagging (:mod:`segmix.training`). Where
the data has no dev split (SemEval-2010 Task 8), a seeded dev split of ``dev_fraction`` of the
training file is carved *before* the low-resource subset is sampled from the rest, so dev never
overlaps the training subset; its ids are saved in ``subset.json``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from segmix.config import TrainConfig
from segmix.encoding import SubwordCache, load_tokenizer
from segmix.inference import length_sorted_batches
from segmix.mixing import MixedExample
from segmix.model import mixed_forward, pair_cross_entropy
from segmix.re_augment import make_relation_augmenter
from segmix.re_data import (
    SEMEVAL_TEST_ID_START,
    read_relations,
    relation_labels,
    write_answers,
)
from segmix.re_metrics import (
    SEMEVAL_LABELS,
    accuracy,
    confusion_matrix,
    micro_f1_excluding,
    semeval_official_score,
)
from segmix.re_model import (
    all_markers,
    encode_relations,
    load_relation_classifier,
    load_saved_relation_model,
    register_markers,
)
from segmix.runs import write_json
from segmix.training import (
    EpochData,
    fit,
    make_accelerator,
    plan_epochs,
    write_jsonl_records,
    write_run_header,
)


def relation_loss(model, batch):
    """Pair cross-entropy on the relation labels (one labelled unit per example)."""
    logits = mixed_forward(model, batch, anchors=batch["anchors"]).logits
    loss = pair_cross_entropy(
        logits, batch["labels"][:, 0], batch["mix_labels"][:, 0], batch["mix_label_weight"][:, 0]
    )
    return loss, logits


def relation_scores(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> dict:
    """The official metric of the label set, with the selection score under ``"f1"``.

    SemEval-2010 Task 8 labels: the official macro F1 (9 types, direction counted, ``Other``
    excluded). Labels with ``no_relation``: TACRED micro F1 without it. Otherwise accuracy.
    """
    if set(labels) <= set(SEMEVAL_LABELS):
        scores = semeval_official_score(gold, pred)
        scores["f1"] = scores["macro_f1"]
        scores["metric"] = "semeval2010_task8_official_macro_f1"
    elif "no_relation" in labels:
        scores = micro_f1_excluding(gold, pred, "no_relation")
        scores["accuracy"] = accuracy(gold, pred)
        scores["metric"] = "micro_f1_excluding_no_relation"
    else:
        scores = {
            "f1": accuracy(gold, pred),
            "accuracy": accuracy(gold, pred),
            "metric": "accuracy",
        }
    scores["labels"] = list(labels)
    scores["confusion_matrix"] = confusion_matrix(gold, pred, labels)
    return scores


@torch.no_grad()
def predict_relations(
    model, encoded, labels: Sequence[str], *, pad_id: int, batch_size: int = 64
) -> list[str]:
    """Relation of each encoded example, batched by length (never mixed)."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out: list[str] = [""] * len(encoded)
    for idx, ids, mask in length_sorted_batches([e.ids for e in encoded], batch_size, pad_id):
        anchors = torch.from_numpy(np.stack([encoded[i].anchors for i in idx])).to(device)
        logits = model(
            input_ids=torch.from_numpy(ids).to(device),
            attention_mask=torch.from_numpy(mask).to(device),
            anchors=anchors,
        ).logits
        for row, k in zip(idx, logits.argmax(-1).tolist(), strict=True):
            out[row] = labels[k]
    model.train(was_training)
    return out


def _find(base: Path | None, split: str) -> Path | None:
    if base is None:
        return None
    for suffix in (".tsv", ".txt", ".jsonl", ".json"):
        if (base / f"{split}{suffix}").exists():
            return base / f"{split}{suffix}"
    return None


def _id_start(path: Path | None) -> int:
    """SemEval test files are numbered from 8001, the official key's numbering."""
    return SEMEVAL_TEST_ID_START if path is not None and path.stem == "test" else 0


def resolve_relation_files(config: TrainConfig) -> tuple[Path, Path | None, Path | None]:
    base = Path(config.data_root)
    train = Path(config.train_file) if config.train_file else _find(base, "train")
    if train is None:
        raise ValueError(f"no training file in {base}: give --data DIR or --train FILE")
    dev = Path(config.dev_file) if config.dev_file else _find(base, "dev")
    test = Path(config.test_file) if config.test_file else _find(base, "test")
    return train, dev, test


def carve_dev(examples: Sequence, fraction: float, seed: int) -> tuple[list, list]:
    """(rest, dev): a seeded ``fraction`` of the examples held out as dev, both in file order."""
    if not 0 < fraction < 1:
        raise ValueError(f"dev_fraction must be between 0 and 1, got {fraction}")
    n_dev = max(1, round(fraction * len(examples)))
    chosen = set(
        np.random.default_rng([seed, 99]).choice(len(examples), n_dev, replace=False).tolist()
    )
    rest = [ex for i, ex in enumerate(examples) if i not in chosen]
    dev = [ex for i, ex in enumerate(examples) if i in chosen]
    return rest, dev


def train_re(config: TrainConfig) -> dict:
    """Train and evaluate a relation classifier; write the run folder; return the metrics."""
    from accelerate.utils import set_seed

    from segmix.data import sample_subset

    out = Path(config.output_dir)
    accelerator = make_accelerator(config)
    set_seed(config.seed)

    train_path, dev_path, test_path = resolve_relation_files(config)
    full_train = read_relations(train_path)
    carved = dev_path is None
    if carved:
        pool, dev = carve_dev(full_train, config.dev_fraction, config.sample_seed)
    else:
        pool, dev = full_train, read_relations(dev_path, id_start=_id_start(dev_path))
    train = sample_subset(pool, config.train_size, config.sample_seed)
    if config.dev_size is not None:
        dev = sample_subset(dev, min(config.dev_size, len(dev)), config.sample_seed)
    test = read_relations(test_path, id_start=_id_start(test_path)) if test_path else None
    labels = relation_labels(full_train)
    label2id = {label: i for i, label in enumerate(labels)}
    typed = all(ex.head_type and ex.tail_type for ex in full_train)

    tokenizer = load_tokenizer(config.model)
    cache = SubwordCache(tokenizer)
    register_markers(tokenizer, cache, all_markers(full_train, typed))
    cache.add(w for ex in train for w in ex.tokens)
    encoded = encode_relations(train, cache, label2id, typed=typed, source=str(train_path))
    dev_enc = encode_relations(dev, cache, label2id, typed=typed)
    dev_gold = [ex.relation for ex in dev]

    augmenter = make_relation_augmenter(config.augment, **config.augmenter_options())
    if augmenter is not None:
        augmenter.fit(encoded, labels, cache)
    n_mix = round(config.rate * len(train)) if augmenter is not None else 0
    originals = [
        MixedExample.original(ex.ids, np.asarray([ex.label]), anchors=ex.anchors, source=i)
        for i, ex in enumerate(encoded)
    ]
    data = EpochData(
        originals,
        augmenter,
        n_mix=n_mix,
        seed=config.seed,
        resample=config.resample,
        mix_from_epoch=config.mix_from_epoch,
    )
    plan = plan_epochs(config, len(train), n_mix)
    model = load_relation_classifier(config.model, labels, tokenizer)

    def score(model, enc, gold):
        pred = predict_relations(
            model, enc, labels, pad_id=cache.pad_id, batch_size=config.eval_batch_size
        )
        return relation_scores(gold, pred, labels), pred

    result = fit(
        config,
        accelerator,
        model,
        data,
        plan,
        relation_loss,
        lambda m: score(m, dev_enc, dev_gold)[0] if dev else None,
        cache.pad_id,
    )

    metrics = result.metrics("re", config.augment, len(train), n_mix)
    if accelerator.is_main_process:
        write_run_header(
            out,
            config,
            files={"train": train_path, "dev": dev_path, "test": test_path},
            augmenter=augmenter,
            subset={
                "train_file": train_path,
                "train_ids": [ex.id for ex in train],
                "dev_carved_from_train": carved,
                "dev_ids": [ex.id for ex in dev] if carved or config.dev_size else None,
            },
        )
        splits = [("dev", dev, dev_enc)]
        if test:
            splits.append(
                (
                    "test",
                    test,
                    encode_relations(test, cache, label2id, typed=typed, source=str(test_path)),
                )
            )
        for split, examples, enc in splits:
            t0 = time.perf_counter()
            scores, pred = score(result.model, enc, [ex.relation for ex in examples])
            scores["seconds"] = time.perf_counter() - t0
            metrics[split] = scores
            write_jsonl_records(
                out / "predictions" / f"{split}.jsonl",
                (
                    {"id": ex.id, "gold": ex.relation, "pred": p}
                    for ex, p in zip(examples, pred, strict=True)
                ),
            )
            write_answers(
                out / "predictions" / f"{split}_answers.txt", [ex.id for ex in examples], pred
            )
        write_json(out / "metrics.json", metrics)
        if config.save_model:
            result.model.save(out / "model", tokenizer, labels, typed=typed)
    accelerator.wait_for_everyone()
    return metrics


def _load_for_inference(model_dir: str):
    model, tokenizer, labels, typed = load_saved_relation_model(model_dir)
    if torch.cuda.is_available():
        model.cuda()
    cache = SubwordCache(tokenizer)
    register_markers(
        tokenizer,
        cache,
        [t for t in tokenizer.get_vocab() if t.startswith(("[E1", "[/E1", "[E2", "[/E2"))],
    )
    return model, cache, labels, typed


def evaluate_relation_model(model_dir: str, data_file: str, *, batch_size: int = 64) -> dict:
    """Score a saved relation classifier on a labelled file with the label set's metric."""
    model, cache, labels, typed = _load_for_inference(model_dir)
    path = Path(data_file)
    examples = read_relations(path, id_start=_id_start(path))
    enc = encode_relations(examples, cache, None, typed=typed, source=str(path))
    pred = predict_relations(model, enc, labels, pad_id=cache.pad_id, batch_size=batch_size)
    return relation_scores(
        [ex.relation for ex in examples],
        pred,
        sorted(set(labels) | {ex.relation for ex in examples}),
    )


def predict_relation_file(
    model_dir: str, input_file: str | None, output_file: str | None, *, batch_size: int = 64
) -> None:
    """Write ``id<TAB>relation`` lines, the official scorer's answer format.

    A SemEval file named ``test.*`` is numbered from 8001 like the official key.
    """
    if input_file is None:
        raise ValueError("relation prediction needs --input FILE (sentences with entity markers)")
    model, cache, labels, typed = _load_for_inference(model_dir)
    path = Path(input_file)
    examples = read_relations(path, id_start=_id_start(path))
    enc = encode_relations(examples, cache, None, typed=typed, source=str(path))
    pred = predict_relations(model, enc, labels, pad_id=cache.pad_id, batch_size=batch_size)
    write_answers(output_file, [ex.id for ex in examples], pred)


def show_relation_mixes(
    data_dir, train_file, method, count, train_size, sample_seed, seed, model, options, export
) -> None:
    """``segmix augment --task re``: print or export relation mixes."""
    import json

    from rich.console import Console
    from rich.markup import escape

    from segmix.data import sample_subset
    from segmix.mixing import mix_to_json

    config = TrainConfig(task="re", data_dir=data_dir, train_file=train_file, augment=method)
    train_path = resolve_relation_files(config)[0]
    examples = sample_subset(read_relations(train_path), train_size, sample_seed)
    labels = relation_labels(examples)
    typed = all(ex.head_type and ex.tail_type for ex in examples)
    tokenizer = load_tokenizer(model)
    cache = SubwordCache(tokenizer)
    register_markers(tokenizer, cache, all_markers(examples, typed))
    enc = encode_relations(examples, cache, {r: i for i, r in enumerate(labels)}, typed=typed)
    keep = {"alpha", "lambda_max", "pad_label"}
    augmenter = make_relation_augmenter(method, **{k: v for k, v in options.items() if k in keep})
    if augmenter is None:
        raise ValueError("choose --augment rmix or mmix for relations")
    augmenter.fit(enc, labels, cache)
    mixes = augmenter.generate(count, np.random.default_rng(seed))
    if export:
        with open(export, "w") as fh:
            for m in mixes:
                record = mix_to_json(enc[m.source].words, m)
                record["relation_a"], record["relation_b"] = (
                    labels[int(m.labels_a[0])],
                    labels[int(m.labels_b[0])],
                )
                fh.write(json.dumps(record) + "\n")
        Console().print(f"wrote {len(mixes)} mixed examples to {export}")
        return
    console = Console()
    for m in mixes:
        words = list(enc[m.source].words)
        for rec in reversed(m.mixes):
            words[rec.start : rec.end] = [
                f"[{' '.join(rec.words_a)}|{' '.join(rec.words_b)} @{rec.lam:.2f}]"
            ]
        lam = float(m.label_weight[0])
        console.print(escape(" ".join(words)))
        console.print(
            f"  → {labels[int(m.labels_a[0])]}·{lam:.2f} + "
            f"{labels[int(m.labels_b[0])]}·{1 - lam:.2f}\n"
        )
