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


def encoder_layers(model) -> torch.nn.ModuleList:
    """The encoder's stack of layers, found by shape: the module list as long as the config's
    ``num_hidden_layers`` (BERT's ``encoder.layer``, DistilBERT's ``transformer.layer``, …).

    Searching beats naming one attribute path per architecture: every Hugging Face encoder keeps
    its layers in one ``ModuleList`` of that length.
    """
    base = getattr(model, "module", model)
    depth = encoder_depth(base.config)
    for module in base.modules():
        if isinstance(module, torch.nn.ModuleList) and len(module) == depth:
            return module
    raise ValueError(f"cannot find the {depth} encoder layers of {type(base).__name__}")


def encoder_depth(config) -> int:
    """Layers of an encoder's config (``num_hidden_layers``, or ``n_layers`` for DistilBERT)."""
    for name in ("num_hidden_layers", "n_layers", "num_layers"):
        value = getattr(config, name, None)
        if isinstance(value, int):
            return value
    raise ValueError(f"{type(config).__name__} does not say how many layers the encoder has")


class _StopForward(Exception):
    """Raised by a hook once side b has reached the highest layer a mix needs."""


def _replace_states(output, states: torch.Tensor):
    """A layer's output with its hidden states replaced (a tensor, or a tuple led by one)."""
    if isinstance(output, tuple):
        return (states, *output[1:])
    return states


def _states_of(output) -> torch.Tensor:
    return output[0] if isinstance(output, tuple) else output


def side_b_states(model, batch: Mapping, layers: Sequence[int]) -> dict[int, torch.Tensor]:
    """Side b's own hidden states after each layer in ``layers``, for the rows that need them.

    One forward pass of ``mix_b_ids`` under ``mix_b_mask`` (by default the mixed pair's mask,
    the union of both sentences' positions, which LADA gives both sides: ``bert_models.py``
    sets ``attention_mask2 = attention_mask``), stopped after the highest layer; its gradient
    flows as LADA's does (both sides are trained).
    """
    stack = encoder_layers(model)
    captured: dict[int, torch.Tensor] = {}
    top = max(layers)

    def hook_at(m: int):
        def hook(_module, _args, output):
            captured[m] = _states_of(output)
            if m == top:
                raise _StopForward

        return hook

    handles = [stack[m - 1].register_forward_hook(hook_at(m)) for m in layers]
    try:
        getattr(model, "module", model)(
            input_ids=batch["mix_b_ids"], attention_mask=batch["mix_b_mask"]
        )
    except _StopForward:
        pass
    finally:
        for h in handles:
            h.remove()
    return captured


def hidden_mixed_forward(model, batch: Mapping, *, embeds: torch.Tensor | None = None, **kwargs):
    """The forward pass when some rows mix above the embeddings (LADA).

    Rows at layer 0 mix word embeddings exactly as :func:`mixed_embeddings` does (the collator
    gave the others ``mix_ids = input_ids``, so their embeddings are unmixed). A hook on layer
    ``m − 1`` replaces each layer-``m`` row's states ``h`` by ``w·h + (1 − w)·h_b``, where
    ``h_b`` is side b's own forward (:func:`side_b_states`) or, for a sentence mixed with
    itself, ``h`` gathered at ``mix_positions``. The layers below ``m`` never see the mix.
    """
    layers: tuple[int, ...] = batch["mix_layers"]
    row_layer, weight = batch["mix_layer"], batch["mix_weight"]
    b_rows = batch["mix_b_rows"]
    other = side_b_states(model, batch, layers) if len(b_rows) else {}
    positions = batch.get("mix_positions")
    stack = encoder_layers(model)

    def hook_at(m: int):
        def hook(_module, _args, output):
            h = _states_of(output)
            h_b = h
            if m in other:
                h_b = h_b.index_copy(0, b_rows, other[m].to(h.dtype))
            if positions is not None:
                index = positions.clamp(min=0).unsqueeze(-1).expand_as(h)
                h_b = torch.where((positions >= 0).unsqueeze(-1), h.gather(1, index), h_b)
            mixed = torch.lerp(h_b, h, weight.unsqueeze(-1).to(h.dtype))
            rows = (row_layer == m).view(-1, 1, 1)
            return _replace_states(output, torch.where(rows, mixed, h))

        return hook

    handles = [stack[m - 1].register_forward_hook(hook_at(m)) for m in layers]
    try:
        if embeds is None:
            embeds = mixed_embeddings(model, batch["input_ids"], batch["mix_ids"], weight)
        return model(inputs_embeds=embeds, attention_mask=batch["attention_mask"], **kwargs)
    finally:
        for h in handles:
            h.remove()


def input_embeddings(model, batch: Mapping[str, torch.Tensor | bool]) -> torch.Tensor:
    """The word embeddings a batch enters the encoder with: mixed where it mixes at the
    embeddings (a LADA row mixing higher up is unmixed here), looked up otherwise.

    What adversarial training perturbs: taken on these, the perturbation lands on the mixed
    embeddings, so FGM composes with every method without knowing which made the batch.
    """
    if batch.get("is_mixed", False) or "mix_layers" in batch:
        return mixed_embeddings(model, batch["input_ids"], batch["mix_ids"], batch["mix_weight"])
    table = getattr(model, "module", model).get_input_embeddings()
    return table(batch["input_ids"])


def mixed_forward(
    model,
    batch: Mapping[str, torch.Tensor | bool],
    *,
    embeds: torch.Tensor | None = None,
    **kwargs,
):
    """Run the model on a collated batch; mixes embeddings only when the batch holds a mix.

    ``embeds`` (from :func:`input_embeddings`, possibly perturbed) replaces the batch's own
    word embeddings; the hidden-layer mixes of a LADA batch still happen on top of them.
    """
    if "mix_layers" in batch:
        return hidden_mixed_forward(model, batch, embeds=embeds, **kwargs)
    if embeds is None and batch.get("is_mixed", False):
        embeds = mixed_embeddings(model, batch["input_ids"], batch["mix_ids"], batch["mix_weight"])
    if embeds is not None:
        return model(inputs_embeds=embeds, attention_mask=batch["attention_mask"], **kwargs)
    return model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], **kwargs)


def fgm_perturbation(
    grad: torch.Tensor, attention_mask: torch.Tensor, epsilon: float
) -> torch.Tensor:
    """FGM's adversarial direction (Miyato et al. 2017): ``ε · g / ‖g‖₂`` per example, the norm
    taken over the example's real positions and embedding dimensions together, pad positions
    left unperturbed. An example whose gradient is 0 is left as it is."""
    g = grad.detach() * attention_mask.unsqueeze(-1).to(grad.dtype)
    norm = g.flatten(1).norm(dim=1).view(-1, *([1] * (g.dim() - 1)))
    return epsilon * g / norm.clamp(min=1e-12)


def pair_cross_entropy(
    logits: torch.Tensor,
    labels_a: torch.Tensor,
    labels_b: torch.Tensor,
    label_weight: torch.Tensor,
) -> torch.Tensor:
    """Mean over labelled units of ``v * CE(logits, a) + (1 - v) * CE(logits, b)``.

    Equal to the ordinary cross-entropy when ``labels_b == labels_a`` (an original example).
    A side whose label is ``IGNORE_INDEX`` adds no term: where one sentence of a whole-sentence
    mix has run out of words (LADA's ``PAD`` label, whose loss weight is 0), the unit's loss is
    the other side's term alone, at its own weight (``v·CE(a)``, not ``CE(a)``), as LADA's loss
    is. Units where both sides are ``IGNORE_INDEX`` are left out; ``logits`` is ``[..., C]`` and
    the label tensors have its leading shape. Computed without boolean indexing, so no host sync.
    """
    log_probs = F.log_softmax(logits.float(), dim=-1)
    has_a = labels_a != IGNORE_INDEX
    has_b = labels_b != IGNORE_INDEX
    nll_a = -log_probs.gather(-1, labels_a.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    nll_b = -log_probs.gather(-1, labels_b.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    v = label_weight.to(nll_a.dtype)
    # both sides labelled: the interpolation every method uses (computed as before, bit for bit)
    one_side = torch.where(has_a, v * nll_a, (1 - v) * nll_b)
    per_unit = torch.where(has_a & has_b, torch.lerp(nll_b, nll_a, v), one_side)
    mask_f = (has_a | has_b).to(per_unit.dtype)
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
    "encoder_depth",
    "encoder_layers",
    "fgm_perturbation",
    "hidden_mixed_forward",
    "input_embeddings",
    "load_token_classifier",
    "mixed_embeddings",
    "mixed_forward",
    "pair_cross_entropy",
    "token_loss",
]
