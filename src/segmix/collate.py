"""Batching mixed examples: one collator for originals, rule-based and interpolated examples.

The batch keys follow the model's ``forward`` names where they can (``input_ids`` is side a,
``attention_mask``, ``labels``), so an unmixed batch can go straight into a Hugging Face model;
the mixing fields (``mix_ids``, ``mix_weight``, ``mix_labels``, ``mix_label_weight``) are extra
and are consumed by :func:`segmix.model.mixed_forward` and the pair loss.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from segmix.encoding import IGNORE_INDEX
from segmix.mixing import MixedExample


class MixCollator:
    """Pads a list of :class:`MixedExample` into tensors.

    Every position inside an example is attended to (a pad id inside a mixed segment is part of
    the mix); only the batch padding added here gets attention mask 0. ``pad_to_multiple_of``
    rounds the padded length up (8 helps tensor cores on GPUs).
    """

    def __init__(self, pad_id: int, *, pad_to_multiple_of: int | None = None) -> None:
        self.pad_id = int(pad_id)
        self.pad_to_multiple_of = pad_to_multiple_of

    def __call__(self, examples: Sequence[MixedExample]) -> dict[str, torch.Tensor | bool]:
        if not examples:
            raise ValueError("cannot collate an empty batch")
        batch = len(examples)
        lengths = np.fromiter((len(e.ids_a) for e in examples), dtype=np.int64, count=batch)
        width = int(lengths.max())
        if self.pad_to_multiple_of:
            m = self.pad_to_multiple_of
            width = (width + m - 1) // m * m
        per_position = all(len(e.labels_a) == len(e.ids_a) for e in examples)
        # token labels share the ids' padded width; sequence labels keep their own
        label_width = width if per_position else max(len(e.labels_a) for e in examples)
        ids_a = np.full((batch, width), self.pad_id, dtype=np.int64)
        ids_b = np.full((batch, width), self.pad_id, dtype=np.int64)
        weight = np.ones((batch, width), dtype=np.float32)
        mask = np.arange(width)[None, :] < lengths[:, None]
        labels_a = np.full((batch, label_width), IGNORE_INDEX, dtype=np.int64)
        labels_b = np.full((batch, label_width), IGNORE_INDEX, dtype=np.int64)
        label_weight = np.ones((batch, label_width), dtype=np.float32)
        mixed = False
        for i, ex in enumerate(examples):
            n, k = len(ex.ids_a), len(ex.labels_a)
            ids_a[i, :n] = ex.ids_a
            labels_a[i, :k] = ex.labels_a
            if ex.mixes:
                mixed = True
                ids_b[i, :n] = ex.ids_b
                weight[i, :n] = ex.weight
                labels_b[i, :k] = ex.labels_b
                label_weight[i, :k] = ex.label_weight
            else:
                ids_b[i, :n] = ex.ids_a
                labels_b[i, :k] = ex.labels_a
        out = {
            "input_ids": torch.from_numpy(ids_a),
            "attention_mask": torch.from_numpy(mask.astype(np.int64)),
            "labels": torch.from_numpy(labels_a),
            "mix_ids": torch.from_numpy(ids_b),
            "mix_weight": torch.from_numpy(weight),
            "mix_labels": torch.from_numpy(labels_b),
            "mix_label_weight": torch.from_numpy(label_weight),
            # host-side values: reading them never waits for the device
            "is_mixed": mixed,
            "n_tokens": int(lengths.sum()),
        }
        if examples[0].anchors is not None:
            out["anchors"] = torch.from_numpy(np.stack([e.anchors for e in examples]))
        if any(e.mixes_hidden_states for e in examples):
            out.update(self._layer_fields(examples, width, ids_a, ids_b, mask))
        return out

    def _layer_fields(
        self,
        examples: Sequence[MixedExample],
        width: int,
        ids_a: np.ndarray,
        ids_b: np.ndarray,
        mask: np.ndarray,
    ) -> dict[str, torch.Tensor | tuple[int, ...]]:
        """The fields of a batch where some side b joins above the embeddings (LADA).

        ``mix_layer`` is each row's layer (0: the embeddings, as every other method);
        ``mix_positions`` where side b is the row's own states (``-1``: ``mix_ids``' states);
        ``mix_b_rows``/``mix_b_mask`` the rows whose side b needs a forward pass of its own and
        its attention mask (the row's own, the union of both sentences, as LADA's
        ``attention_mask2 = attention_mask``; narrowed where an example sets ``attend_b``);
        ``mix_layers``, host-side, the layers above 0 that occur.
        """
        batch = len(examples)
        layer = np.fromiter(
            (e.layer if e.is_mixed else 0 for e in examples), dtype=np.int64, count=batch
        )
        positions = np.full((batch, width), -1, dtype=np.int64)
        own = np.zeros(batch, dtype=bool)
        for i, ex in enumerate(examples):
            if layer[i] > 0 and ex.positions is not None:
                positions[i, : len(ex.positions)] = ex.positions
                own[i] = True
        deep = layer > 0
        # a row mixed above the embeddings enters them unmixed: side b's ids are side a's
        ids_b[deep] = ids_a[deep]
        b_rows = np.flatnonzero(deep & ~own)
        b_ids = np.array(ids_b[b_rows])  # filled in below from the examples' own side b
        for r, i in enumerate(b_rows.tolist()):
            n = len(examples[i].ids_b)
            b_ids[r, :n] = examples[i].ids_b
        # side b attends the whole mixed pair (the union of both sentences' positions, its own
        # pad words included), as LADA's side b does; an example may narrow it (``attend_b``)
        b_mask = np.array(mask[b_rows])
        for r, i in enumerate(b_rows.tolist()):
            attend = examples[i].attend_b
            if attend is not None:
                b_mask[r, : len(attend)] &= attend.astype(bool)
        fields: dict[str, torch.Tensor | tuple[int, ...]] = {
            "mix_layer": torch.from_numpy(layer),
            "mix_layers": tuple(sorted(set(layer[deep].tolist()))),
            "mix_b_rows": torch.from_numpy(b_rows.astype(np.int64)),
            "mix_b_ids": torch.from_numpy(b_ids),
            "mix_b_mask": torch.from_numpy(b_mask.astype(np.int64)),
        }
        if own.any():
            fields["mix_positions"] = torch.from_numpy(positions)
        return fields


def length_sorted_batches(ids: Sequence[np.ndarray], batch_size: int, pad_id: int):
    """Yield ``(indices, ids, attention_mask)`` batches in order of length (less padding)."""
    order = np.argsort([len(x) for x in ids], kind="stable")
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        width = max(len(ids[i]) for i in idx)
        batch = np.full((len(idx), width), pad_id, dtype=np.int64)
        mask = np.zeros((len(idx), width), dtype=np.int64)
        for row, i in enumerate(idx):
            batch[row, : len(ids[i])] = ids[i]
            mask[row, : len(ids[i])] = 1
        yield idx, batch, mask
