"""Classifying relations with a trained model: sorted by length, batched, never mixed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from segmix.tasks.relations.task import id_start, relation_scores


def predict_relations(
    model: Any, encoded: Sequence[Any], labels: Sequence[str], *, pad_id: int, batch_size: int = 64
) -> list[str]:
    """Relation of each encoded example, batched shortest first (never mixed)."""
    import numpy as np
    import torch

    from segmix.collate import length_sorted_batches

    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out: list[str] = [""] * len(encoded)
    with torch.no_grad():
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


def _load_for_inference(model_dir: str):
    import torch

    from segmix.encoding import SubwordCache
    from segmix.tasks.relations.model import load_saved_relation_model, register_markers

    model, tokenizer, labels, scheme = load_saved_relation_model(model_dir)
    if torch.cuda.is_available():
        model.cuda()
    cache = SubwordCache(tokenizer)
    register_markers(tokenizer, cache, list(model.config.markers or []))
    return model, cache, labels, scheme


def _predict_file(model_dir: str, data_file: str, batch_size: int):
    from segmix.tasks.relations.data import read_relations
    from segmix.tasks.relations.model import encode_relations

    model, cache, labels, scheme = _load_for_inference(model_dir)
    path = Path(data_file)
    examples = read_relations(path, id_start=id_start(path))
    cache.add(w for ex in examples for w in ex.tokens)
    enc = encode_relations(examples, cache, None, typed=scheme.typed, source=str(path))
    pred = predict_relations(model, enc, labels, pad_id=cache.pad_id, batch_size=batch_size)
    return examples, pred, labels


def evaluate_relation_model(model_dir: str, data_file: str, *, batch_size: int = 64) -> dict:
    """Score a saved relation classifier on a labelled file with the label set's metric."""
    examples, pred, labels = _predict_file(model_dir, data_file, batch_size)
    gold = [ex.relation for ex in examples]
    return relation_scores(gold, pred, sorted(set(labels) | set(gold)))


def predict_relation_file(
    model_dir: str, input_file: str | None, output_file: str | None, *, batch_size: int = 64
) -> None:
    """Write ``id<TAB>relation`` lines, the official scorer's answer format.

    A SemEval file named ``test.*`` is numbered from 8001 like the official key.
    """
    from segmix.tasks.relations.data import write_answers

    if input_file is None:
        raise ValueError("relation prediction needs --input FILE (sentences with entity markers)")
    examples, pred, _ = _predict_file(model_dir, input_file, batch_size)
    write_answers(output_file, [ex.id for ex in examples], pred)
