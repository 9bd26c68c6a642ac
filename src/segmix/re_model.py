"""Relation classification: entity markers, encoded examples and the marker-pooling classifier.

Head and tail are wrapped in marker tokens added to the tokenizer — ``[E1] … [/E1]`` and
``[E2] … [/E2]``, or typed ``[E1:PERSON] … [/E1:PERSON]`` where the data has entity types — and
the classifier reads the encoder's states at the two *start* markers, concatenated, through one
linear layer. Markers are words of their own, so RMix can mix the argument words between them
and leave the markers unmixed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from segmix.encoding import SubwordCache, load_tokenizer, resolve_model

CONFIG_NAME = "segmix_relation.json"
HEAD_NAME = "relation_head.pt"


def marker_words(head_type: str | None, tail_type: str | None, typed: bool) -> tuple[str, ...]:
    """``(open_head, close_head, open_tail, close_tail)`` marker words."""
    if typed and head_type and tail_type:
        return (
            f"[E1:{head_type}]",
            f"[/E1:{head_type}]",
            f"[E2:{tail_type}]",
            f"[/E2:{tail_type}]",
        )
    return ("[E1]", "[/E1]", "[E2]", "[/E2]")


def all_markers(examples: Sequence, typed: bool) -> list[str]:
    """Every marker word the examples need (the plain four always included)."""
    found = {"[E1]", "[/E1]", "[E2]", "[/E2]"}
    if typed:
        for ex in examples:
            found.update(marker_words(ex.head_type, ex.tail_type, True))
    return sorted(found)


def register_markers(tokenizer, cache: SubwordCache, markers: Sequence[str]) -> None:
    """Add the markers to the tokenizer as special tokens and map each to its single id."""
    new = [m for m in markers if m not in tokenizer.get_vocab()]
    if new:
        tokenizer.add_special_tokens(
            {"additional_special_tokens": new}, replace_extra_special_tokens=False
        )
    for m in markers:
        cache._ids[m] = np.asarray([tokenizer.convert_tokens_to_ids(m)], dtype=np.int64)


@dataclass(frozen=True)
class EncodedRelation:
    """A relation example with markers, in sub-word space.

    ``words`` include the markers; ``head``/``tail`` are word spans of the arguments *inside*
    the markers; ``anchors`` are the sub-word positions of the two start markers.
    """

    words: tuple[str, ...]
    ids: np.ndarray
    word_starts: np.ndarray
    word_lens: np.ndarray
    head: tuple[int, int]
    tail: tuple[int, int]
    anchors: np.ndarray
    label: int
    id: str = ""


def encode_relations(
    examples: Sequence,
    cache: SubwordCache,
    label2id: dict[str, int] | None,
    *,
    typed: bool,
    source: str | None = None,
) -> list[EncodedRelation]:
    """Insert markers, encode once; clear errors for over-long examples and unknown labels."""
    out = []
    for ex in examples:
        where = f"{source}:{ex.line}: " if source and ex.line else f"example {ex.id}: "
        (h0, h1), (t0, t1) = ex.head, ex.tail
        if h0 < t1 and t0 < h1:
            raise ValueError(f"{where}head and tail overlap; cannot place entity markers")
        oh, ch, ot, ct = marker_words(ex.head_type, ex.tail_type, typed)
        opens, closes = {h0: oh, t0: ot}, {h1: ch, t1: ct}
        words: list[str] = []
        where_is: dict[str, int] = {}
        for i in range(len(ex.tokens) + 1):
            for marker in (closes.get(i), opens.get(i)):  # close first: adjacent arguments
                if marker is not None:
                    where_is[marker] = len(words)
                    words.append(marker)
            if i < len(ex.tokens):
                words.append(ex.tokens[i])
        head = (where_is[oh] + 1, where_is[ch])
        tail = (where_is[ot] + 1, where_is[ct])
        enc = cache.encode(words)
        if len(enc.ids) > cache.max_length:
            raise ValueError(
                f"{where}{len(enc.ids)} sub-words with markers, over the model's "
                f"limit of {cache.max_length}"
            )
        label = -1
        if label2id is not None:
            if ex.relation not in label2id:
                raise ValueError(f"{where}relation {ex.relation!r} is not among the model's labels")
            label = label2id[ex.relation]
        anchors = np.asarray(
            [enc.word_starts[head[0] - 1], enc.word_starts[tail[0] - 1]], dtype=np.int64
        )
        out.append(
            EncodedRelation(
                words=tuple(words),
                ids=enc.ids,
                word_starts=enc.word_starts,
                word_lens=enc.word_lens,
                head=head,
                tail=tail,
                anchors=anchors,
                label=label,
                id=str(ex.id),
            )
        )
    return out


@dataclass
class RelationOutput:
    logits: torch.Tensor


class RelationClassifier(nn.Module):
    """Encoder → states at the two start markers, concatenated → dropout → linear."""

    def __init__(self, encoder, num_labels: int, *, dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder = encoder
        hidden = encoder.config.hidden_size
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(2 * hidden, num_labels)

    def get_input_embeddings(self) -> nn.Module:
        return self.encoder.get_input_embeddings()

    def forward(self, input_ids=None, attention_mask=None, inputs_embeds=None, anchors=None):
        states = self.encoder(
            input_ids=input_ids, inputs_embeds=inputs_embeds, attention_mask=attention_mask
        ).last_hidden_state
        index = anchors.unsqueeze(-1).expand(-1, -1, states.size(-1))
        pair = states.gather(1, index).flatten(1)
        return RelationOutput(logits=self.classifier(self.dropout(pair)))

    def save(self, out: str | Path, tokenizer, labels: Sequence[str], *, typed: bool) -> None:
        """Encoder and tokenizer in Hugging Face format, plus the head and the label list."""
        out = Path(out)
        self.encoder.save_pretrained(out)
        tokenizer.save_pretrained(out)
        torch.save(self.classifier.state_dict(), out / HEAD_NAME)
        (out / CONFIG_NAME).write_text(
            json.dumps({"labels": list(labels), "typed": typed}, indent=2) + "\n"
        )


def load_relation_classifier(model: str | None, labels: Sequence[str], tokenizer):
    """A fresh classifier on a pretrained encoder, its embeddings resized for the markers."""
    import transformers
    from transformers import AutoModel

    verbosity = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()
    try:
        encoder = AutoModel.from_pretrained(resolve_model(model))
    finally:
        transformers.logging.set_verbosity(verbosity)
    encoder.resize_token_embeddings(len(tokenizer))
    return RelationClassifier(encoder, len(labels))


def load_saved_relation_model(model_dir: str | Path):
    """(model, tokenizer, labels, typed) from a folder written by ``RelationClassifier.save``."""
    from transformers import AutoModel

    model_dir = Path(model_dir)
    meta = json.loads((model_dir / CONFIG_NAME).read_text())
    tokenizer = load_tokenizer(str(model_dir))
    encoder = AutoModel.from_pretrained(model_dir)
    model = RelationClassifier(encoder, len(meta["labels"]))
    model.classifier.load_state_dict(torch.load(model_dir / HEAD_NAME, weights_only=True))
    return model.eval(), tokenizer, meta["labels"], meta["typed"]
