"""Relation classification: entity markers, encoded examples and the marker-pooling classifier.

Head and tail are wrapped in marker tokens added to the tokenizer — ``[E1] … [/E1]`` and
``[E2] … [/E2]``, or typed ``[E1:PERSON] … [/E1:PERSON]`` where the data has entity types — and
the classifier reads the encoder's states at the two *start* markers, concatenated, through one
linear layer. Markers are words of their own, so RMix can mix the argument words between them
and leave the markers unmixed.

The classifier is a Hugging Face :class:`~transformers.PreTrainedModel` with its own config
(:class:`RelationClassifierConfig`, ``model_type="segmix-relation"``). The config nests the
encoder's config and carries the label map, the marker scheme and the marker words, so one
``save_pretrained`` folder (weights in safetensors, ``config.json``, the tokenizer) is the whole
model: ``RelationClassifier.from_pretrained``, ``AutoModel.from_pretrained`` and
``transformers.Trainer`` checkpoints all work on it, with no side files to keep in step.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from huggingface_hub.dataclasses import strict
from torch import nn
from transformers import AutoConfig, AutoModel, PreTrainedConfig, PreTrainedModel
from transformers import initialization as init
from transformers import logging as hf_logging
from transformers.configuration_utils import SubConfigSpec
from transformers.modeling_outputs import SequenceClassifierOutput

from segmix.encoding import SubwordCache, load_tokenizer, resolve_model

logger = logging.getLogger(__name__)

MODEL_TYPE = "segmix-relation"
PLAIN_MARKERS: tuple[str, str, str, str] = ("[E1]", "[/E1]", "[E2]", "[/E2]")
# Files of the pre-PreTrainedModel format (encoder folder + head + label list): named in the
# error for such a folder, since ``from_pretrained`` would otherwise misread its BERT config.
_LEGACY_FILES = ("segmix_relation.json", "relation_head.pt")


def marker_words(
    head_type: str | None, tail_type: str | None, typed: bool
) -> tuple[str, str, str, str]:
    """``(open_head, close_head, open_tail, close_tail)`` marker words.

    Typed markers need both types; an example missing either falls back to the plain four, so
    one untyped example cannot produce a half-typed marker pair.
    """
    if typed and head_type and tail_type:
        return (
            f"[E1:{head_type}]",
            f"[/E1:{head_type}]",
            f"[E2:{tail_type}]",
            f"[/E2:{tail_type}]",
        )
    return PLAIN_MARKERS


def all_markers(examples: Sequence, typed: bool) -> list[str]:
    """Every marker word the examples need (the plain four always included).

    The plain four are always there so a typed model can still mark an example without types.
    """
    found = set(PLAIN_MARKERS)
    if typed:
        for ex in examples:
            found.update(marker_words(ex.head_type, ex.tail_type, True))
    return sorted(found)


def register_markers(tokenizer, cache: SubwordCache, markers: Sequence[str]) -> None:
    """Add the markers to the tokenizer as special tokens and map each to its single id.

    Special tokens are never split or lower-cased, so each marker is exactly one sub-word and
    the anchor of an argument is one position.
    """
    new = [m for m in markers if m not in tokenizer.get_vocab()]
    if new:
        tokenizer.add_special_tokens(
            {"additional_special_tokens": new}, replace_extra_special_tokens=False
        )
    for m in markers:
        cache._ids[m] = np.asarray([tokenizer.convert_tokens_to_ids(m)], dtype=np.int64)


@dataclass(frozen=True)
class MarkerScheme:
    """How the arguments are marked: a named strategy object rather than a bare ``typed`` flag.

    The name is what the model config stores, so a saved model says how its inputs must be
    marked. ``entity_marker`` wraps the arguments in ``[E1] … [/E1]`` / ``[E2] … [/E2]``;
    ``typed_entity_marker`` puts the entity types into the markers (``[E1:PER] … [/E1:PER]``).
    """

    name: str = "entity_marker"

    NAMES: ClassVar[tuple[str, ...]] = ("entity_marker", "typed_entity_marker")

    def __post_init__(self) -> None:
        if self.name not in self.NAMES:
            raise ValueError(
                f"unknown marker scheme {self.name!r}; expected one of {', '.join(self.NAMES)}"
            )

    @classmethod
    def for_examples(cls, examples: Sequence) -> MarkerScheme:
        """Typed iff every example has both entity types (and there is at least one example).

        One untyped example would otherwise be marked differently from the rest of its data.
        """
        typed = bool(examples) and all(ex.head_type and ex.tail_type for ex in examples)
        return cls("typed_entity_marker" if typed else "entity_marker")

    @property
    def typed(self) -> bool:
        return self.name == "typed_entity_marker"

    def words(self, head_type: str | None, tail_type: str | None) -> tuple[str, str, str, str]:
        """``(open_head, close_head, open_tail, close_tail)`` for one example."""
        return marker_words(head_type, tail_type, self.typed)

    def all_markers(self, examples: Sequence) -> list[str]:
        """Every marker word the examples need under this scheme."""
        return all_markers(examples, self.typed)


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


@strict
class RelationClassifierConfig(PreTrainedConfig):
    """Config of :class:`RelationClassifier`: the encoder's config plus what the head needs.

    ``encoder`` is the encoder's config, given as a dict (``to_dict()``, with its
    ``model_type``) or a config object; it is rebuilt with the class ``AutoConfig`` maps its
    ``model_type`` to and kept as a nested config, so attention settings and ``dtype`` reach
    the encoder the way they reach any composite model's sub-config. Labels travel in the
    usual ``id2label`` / ``label2id`` / ``num_labels``; ``marker_scheme`` and ``markers`` say
    how inputs must be marked, so a saved model cannot be fed differently-marked text silently.

    Keyword arguments only (transformers 5 configs are dataclasses).
    """

    model_type = MODEL_TYPE
    # Default encoder type only for a bare ``RelationClassifierConfig()``, which transformers
    # builds internally (diffing, defaults); real configs always name their encoder.
    sub_configs_defaults: ClassVar[dict[str, SubConfigSpec]] = {
        "encoder": SubConfigSpec(config_class=AutoConfig, model_type="bert")
    }

    encoder: PreTrainedConfig | dict | None = None
    marker_scheme: str = "entity_marker"
    markers: list[str] | None = None
    classifier_dropout: float | int = 0.1

    def __post_init__(self, **kwargs: Any) -> None:
        # JSON has no tuples and a saved config must compare equal to the one it came from
        self.markers = list(self.markers) if self.markers is not None else []
        # plain ValueErrors at construction; @strict runs the same checks again before saving
        self.validate_marker_scheme()
        self.validate_classifier_dropout()
        super().__post_init__(**kwargs)

    def validate_marker_scheme(self) -> None:
        """A known scheme name, or the saved model could not say how to mark its inputs."""
        MarkerScheme(self.marker_scheme)

    def validate_classifier_dropout(self) -> None:
        """A probability below 1: at 1 the head would see only zeros while training."""
        if not 0.0 <= self.classifier_dropout < 1.0:
            raise ValueError(f"classifier_dropout must be in [0, 1), got {self.classifier_dropout}")

    @property
    def typed(self) -> bool:
        return self.marker_scheme == "typed_entity_marker"

    @property
    def scheme(self) -> MarkerScheme:
        return MarkerScheme(self.marker_scheme)

    @property
    def labels(self) -> list[str]:
        """Labels in id order (the classifier's output order)."""
        id2label = self.id2label or {}
        return [id2label[i] for i in range(len(id2label))]

    def get_text_config(self, decoder: bool | None = None, encoder: bool | None = None):
        """The encoder's config: it owns the vocabulary and the special tokens.

        Without this, ``resize_token_embeddings`` on the classifier and the ``Trainer``'s
        special-token alignment would write ``vocab_size`` / ``pad_token_id`` onto this wrapper
        config, where the encoder never reads them.
        """
        sub = self.__dict__.get("encoder")
        return sub if isinstance(sub, PreTrainedConfig) else self


class RelationClassifier(PreTrainedModel):
    """Encoder → states at the two start markers, concatenated → dropout → linear.

    ``anchors`` (``LongTensor [B, 2]``) are the sub-word positions of the head's and the
    tail's start markers; they are a forward input rather than something found from the ids,
    because mixed batches enter as ``inputs_embeds`` where the marker ids are not visible.
    """

    config_class = RelationClassifierConfig
    base_model_prefix = "encoder"
    main_input_name = "input_ids"
    supports_gradient_checkpointing = True
    # The wrapper has no attention of its own: these let the top-level check pass and leave the
    # real decision (and any error) to the encoder, which reads the same nested config.
    _supports_sdpa = True
    _supports_flash_attn = True
    _supports_flex_attn = True
    _supports_attention_backend = True
    # The loss is a plain mean; the Trainer must scale it for gradient accumulation itself
    # rather than pass ``num_items_in_batch`` and expect a summed loss.
    accepts_loss_kwargs = False

    def __init__(
        self, config: RelationClassifierConfig, encoder: PreTrainedModel | None = None
    ) -> None:
        """Build from a config; ``encoder`` lets :meth:`from_encoder` hand in pretrained weights.

        Without ``encoder`` the encoder is built from ``config.encoder`` with fresh weights
        (what ``from_pretrained`` does before loading the saved ones).
        """
        super().__init__(config)
        if encoder is None:
            encoder = AutoModel.from_config(config.encoder)
        # One config object for both: settings changed on the classifier (attention, vocab
        # size after a resize) are what the encoder runs with and what gets saved.
        config.encoder = encoder.config
        self.encoder = encoder
        hidden = encoder.config.hidden_size
        self.dropout = nn.Dropout(config.classifier_dropout)
        self.classifier = nn.Linear(2 * hidden, config.num_labels)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        """Normal(0, encoder's ``initializer_range``) weights and zero bias for the head.

        Only the head reaches this: ``post_init`` hands the encoder's modules to the encoder's
        own ``_init_weights``. The ``transformers.initialization`` functions skip tensors
        already loaded from a checkpoint, so ``from_pretrained`` leaves saved weights as saved.
        """
        if isinstance(module, nn.Linear):
            std = getattr(self.config.encoder, "initializer_range", None) or 0.02
            init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                init.zeros_(module.bias)
        else:
            super()._init_weights(module)

    def get_input_embeddings(self) -> nn.Module:
        return self.encoder.get_input_embeddings()

    def set_input_embeddings(self, value: nn.Module) -> None:
        self.encoder.set_input_embeddings(value)

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        anchors: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        **kwargs: Any,
    ) -> SequenceClassifierOutput:
        """Logits ``[B, num_labels]``; ``loss`` is the mean cross-entropy when ``labels [B]``.

        Other keyword arguments (``token_type_ids``, ``output_hidden_states``, …) go to the
        encoder.
        """
        if anchors is None:
            raise ValueError(
                "RelationClassifier needs `anchors` ([batch, 2] positions of the head and tail "
                "start markers); see segmix.tasks.relations.model.encode_relations"
            )
        kwargs.pop("num_items_in_batch", None)  # a Trainer loss kwarg, not an encoder input
        kwargs.pop("return_dict", None)  # the encoder's output object is needed below
        out = self.encoder(
            input_ids=input_ids,
            attention_mask=attention_mask,
            inputs_embeds=inputs_embeds,
            return_dict=True,
            **kwargs,
        )
        states = out.last_hidden_state
        index = anchors.to(states.device, torch.long).unsqueeze(-1)
        pair = states.gather(1, index.expand(-1, -1, states.size(-1))).flatten(1)
        logits = self.classifier(self.dropout(pair))
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits, labels.to(logits.device).view(-1))
        return SequenceClassifierOutput(
            loss=loss,
            logits=logits,
            hidden_states=getattr(out, "hidden_states", None),
            attentions=getattr(out, "attentions", None),
        )

    @classmethod
    def from_encoder(
        cls,
        model_name_or_path: str,
        labels: Sequence[str],
        tokenizer,
        *,
        markers: Sequence[str],
        marker_scheme: str = "entity_marker",
    ) -> RelationClassifier:
        """A fresh classifier on a pretrained encoder, ready to fine-tune.

        The markers must already be in the tokenizer (:func:`register_markers`): the token
        embeddings are resized to ``len(tokenizer)`` so the marker ids exist. The classifier
        is freshly initialised; the config carries the labels, the scheme and the markers.
        """
        labels = list(labels)
        if not labels:
            raise ValueError("a relation classifier needs at least one label")
        if len(set(labels)) != len(labels):
            raise ValueError(f"duplicate labels: {labels}")
        scheme = MarkerScheme(marker_scheme)
        vocab = tokenizer.get_vocab()
        missing = [m for m in markers if m not in vocab]
        if missing:
            raise ValueError(
                f"markers not in the tokenizer: {missing}; call register_markers() first"
            )
        encoder = _quiet_encoder(model_name_or_path, len(tokenizer))
        config = RelationClassifierConfig(
            # a dict, not the live object: building a config resets its sub-configs' attention
            # implementation, and the encoder must keep the one it was loaded with
            encoder=encoder.config.to_dict(),
            id2label=dict(enumerate(labels)),
            label2id={label: i for i, label in enumerate(labels)},
            marker_scheme=scheme.name,
            markers=list(markers),
        )
        model = cls(config, encoder=encoder)
        model.name_or_path = str(model_name_or_path)
        logger.info(
            "relation classifier on %s: %d labels, %s, %d markers",
            model_name_or_path,
            len(labels),
            scheme.name,
            len(config.markers),
        )
        return model


def _quiet_encoder(name: str, vocab_size: int) -> PreTrainedModel:
    """The pretrained encoder, its token embeddings resized to ``vocab_size``, without noise.

    A sentence-embedding checkpoint often lacks the pooler the base class builds (nothing here
    uses it), and the marker rows are new by design: both reports are expected and would only
    alarm.
    """
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        encoder = AutoModel.from_pretrained(name)
        encoder.resize_token_embeddings(vocab_size)
    finally:
        hf_logging.set_verbosity(verbosity)
    return encoder


def load_relation_classifier(
    model: str | None,
    labels: Sequence[str],
    tokenizer,
    *,
    markers: Sequence[str],
    marker_scheme: str = "entity_marker",
) -> RelationClassifier:
    """:meth:`RelationClassifier.from_encoder` on ``model`` (``None``/"default": bundled)."""
    return RelationClassifier.from_encoder(
        resolve_model(model), labels, tokenizer, markers=markers, marker_scheme=marker_scheme
    )


def load_saved_relation_model(
    model_dir: str | Path,
) -> tuple[RelationClassifier, Any, list[str], MarkerScheme]:
    """``(model, tokenizer, labels, marker scheme)`` from a ``save_pretrained`` folder.

    The model comes back in eval mode. The tokenizer must be saved in the same folder: it
    holds the marker tokens, whose ids the resized embeddings were trained on.
    """
    model_dir = Path(model_dir)
    legacy = [name for name in _LEGACY_FILES if (model_dir / name).exists()]
    if legacy and not _is_relation_config(model_dir):
        raise ValueError(
            f"{model_dir} is in the old segmix relation format ({', '.join(legacy)}); "
            "retrain, or rebuild it with RelationClassifier.from_encoder and save_pretrained"
        )
    model = RelationClassifier.from_pretrained(model_dir).eval()
    tokenizer = load_tokenizer(str(model_dir))
    vocab = tokenizer.get_vocab()
    missing = [m for m in model.config.markers if m not in vocab]
    if missing:
        raise ValueError(f"{model_dir}: the tokenizer lacks the model's markers {missing}")
    return model, tokenizer, model.config.labels, model.config.scheme


def _is_relation_config(model_dir: Path) -> bool:
    """Whether the folder's ``config.json`` is this model type's (not an encoder's own)."""
    try:
        config = json.loads((model_dir / "config.json").read_text())
    except (OSError, ValueError):
        return False
    return config.get("model_type") == MODEL_TYPE


def _register_auto_classes() -> None:
    """Let ``AutoConfig`` / ``AutoModel.from_pretrained`` resolve a saved folder.

    ``exist_ok=True`` makes this idempotent: a second import (a reloaded module) replaces our
    own earlier registration instead of raising.
    """
    AutoConfig.register(MODEL_TYPE, RelationClassifierConfig, exist_ok=True)
    AutoModel.register(RelationClassifierConfig, RelationClassifier, exist_ok=True)


_register_auto_classes()
