"""The forward pass and the loss for mixed batches, for any Hugging Face encoder.

Mixing happens on the encoder's *word* embeddings and enters the model as ``inputs_embeds``, so
position and token-type embeddings are added by the model itself and no model internals are
touched. A batch with no mixed example takes the ordinary ``input_ids`` path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F

from segmix.encoding import IGNORE_INDEX, resolve_model


def load_token_classifier(
    model: str | None, labels: Sequence[str], *, dropout: float | None = None
):
    """A token-classification model with ``id2label``/``label2id`` in its config.

    With the labels in the config, the saved model works with
    ``transformers.pipeline("token-classification", model=OUT)``.
    """
    import transformers
    from transformers import AutoConfig, AutoModelForTokenClassification

    name = resolve_model(model)
    config = AutoConfig.from_pretrained(
        name,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
    )
    if dropout is not None and hasattr(config, "hidden_dropout_prob"):
        config.hidden_dropout_prob = dropout
    verbosity = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()  # the "newly initialised head" report is expected
    try:
        return AutoModelForTokenClassification.from_pretrained(name, config=config)
    finally:
        transformers.logging.set_verbosity(verbosity)


def mixed_embeddings(model, ids_a: torch.Tensor, ids_b: torch.Tensor, weight: torch.Tensor):
    """``w * E[ids_a] + (1 - w) * E[ids_b]`` on the word-embedding table.

    Both sides are looked up in one call: the table's gradient is then built once, not twice
    (a dense gradient of the whole vocabulary is the costly part of an embedding's backward).
    """
    # under DistributedDataParallel the table is the wrapped module's; its gradient still
    # reaches DDP's reducer, which hooks the parameters themselves
    table = getattr(model, "module", model).get_input_embeddings()
    both = table(torch.stack((ids_a, ids_b)))
    return torch.lerp(both[1], both[0], weight.unsqueeze(-1).to(both.dtype))


def mixed_forward(model, batch: Mapping[str, torch.Tensor | bool], **kwargs):
    """Run the model on a collated batch; mixes embeddings only when the batch holds a mix."""
    if batch.get("is_mixed", False):
        embeds = mixed_embeddings(model, batch["input_ids"], batch["mix_ids"], batch["mix_weight"])
        return model(inputs_embeds=embeds, attention_mask=batch["attention_mask"], **kwargs)
    return model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], **kwargs)


def pair_cross_entropy(
    logits: torch.Tensor,
    labels_a: torch.Tensor,
    labels_b: torch.Tensor,
    label_weight: torch.Tensor,
) -> torch.Tensor:
    """Mean over labelled units of ``v * CE(logits, a) + (1 - v) * CE(logits, b)``.

    Equal to the ordinary cross-entropy when ``labels_b == labels_a`` (an original example).
    Units with ``labels_a == IGNORE_INDEX`` are left out; ``logits`` is ``[..., C]`` and the
    label tensors have its leading shape. Computed without boolean indexing, so no host sync.
    """
    log_probs = F.log_softmax(logits.float(), dim=-1)
    mask = labels_a != IGNORE_INDEX
    safe_a = labels_a.clamp(min=0).unsqueeze(-1)
    safe_b = torch.where(labels_b == IGNORE_INDEX, labels_a, labels_b).clamp(min=0).unsqueeze(-1)
    nll_a = -log_probs.gather(-1, safe_a).squeeze(-1)
    nll_b = -log_probs.gather(-1, safe_b).squeeze(-1)
    per_unit = torch.lerp(nll_b, nll_a, label_weight.to(nll_a.dtype))
    mask_f = mask.to(per_unit.dtype)
    return (per_unit * mask_f).sum() / mask_f.sum().clamp(min=1.0)


def token_loss(
    model, batch: Mapping[str, torch.Tensor | bool]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward a tagging batch and return ``(loss, logits)`` with the interpolated loss."""
    logits = mixed_forward(model, batch).logits
    loss = pair_cross_entropy(
        logits, batch["labels"], batch["mix_labels"], batch["mix_label_weight"]
    )
    return loss, logits


__all__ = [
    "IGNORE_INDEX",
    "load_token_classifier",
    "mixed_embeddings",
    "mixed_forward",
    "pair_cross_entropy",
    "token_loss",
]
