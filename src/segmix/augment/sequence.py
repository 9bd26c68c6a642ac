"""Sequence-level interpolation baselines, in the same harness as SegMix.

- ``mixup``: whole-sequence mixup — two sentences aligned position by position (word by word,
  the shorter padded at its end), one λ for every position, labels mixed with the same λ.
- ``seqmix``: SeqMix (Zhang, Yu & Zhang, EMNLP 2020), as its released code
  (github.com/rz-zhang/SeqMix, ``seqmix.py``) does it:

  - *which words are mixed* (``seqmix_mode``): ``sub`` (its ``slack_mixup``, the sub-sequence
    variant) mixes a sentence's first valid window with another sentence's first valid window,
    a valid window being ``window`` (5) words that start on an entity tag and hold at least
    ``min_tags`` (3) entity tags (``find_sub_seq``); ``whole`` (its ``soft_mixup``) mixes every
    word of a sentence that holds ``min_tags`` entity tags with a sentence of the same number
    of words;
  - *what a mixed word becomes* (``seqmix_output``): ``snapped`` (its ``most_similar``) turns
    each mixed word embedding into the nearest vocabulary token that is neither source word, so
    the mix is a new discrete sentence whose labels stay soft (``λ·y_a + (1 − λ)·y_b``);
    ``continuous`` keeps the mixed embeddings (window mixup, segmix's ``seqmix`` before the
    snapping existed). "Nearest" is by cosine (``seqmix_distance``): the code's Euclidean
    distance, without its discriminator, lands mostly on rare-script tokens of the bundled
    encoder, whose small norms sit close to a mix of two word vectors (:class:`TokenSnapper`).

  ``seqmix_windows="mention"`` is segmix's earlier window rule (every window starting on a
  mention's first word, taken greedily without overlap, no entity-tag count); together with
  ``seqmix_output="continuous"`` it reproduces the old ``seqmix`` exactly.

All are segment mixes whose "segment" is a whole sentence or a fixed-length window, so they reuse
SegMix's sampler (original uniform among the eligible sentences, partner uniform among the other
candidates, λ ~ Beta(α, α) per mix), its length guard and the one mixed-example structure: a
comparison with SegMix differs only in *what* is mixed. SeqMix's discriminator (a GPT
perplexity filter on the new sentences) is not reproduced: every drawn pair is kept.

A snapped word is one position whose two ids are both the snapped token (its embedding is then
exactly that token's, whatever the position weight), with weight 1 there; the labels keep both
sources' tags and λ in ``label_weight``, so the loss is ``λ·CE(y_a) + (1 − λ)·CE(y_b)``: the
cross-entropy against SeqMix's soft label.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from segmix.augment.pools import segment_of
from segmix.augment.segments import MixParams, PartnerPool, SegMixAugmenter
from segmix.config import ConfigError
from segmix.encoding import IGNORE_INDEX, SubwordCache, resolve_model
from segmix.mixing import MixedExample, MixRecord, Segment
from segmix.tasks.tagging.encoding import TaggedExample

logger = logging.getLogger(__name__)

#: SeqMix's ``valid_tag_bar``: entity tags a window (or, whole, a sentence) must hold
SEQMIX_MIN_TAGS = 3
#: mixed words scored against the vocabulary at once (bounds the [rows, V] score matrix)
SNAP_CHUNK = 1024


class _WholePool:
    """Partner segments with one shared group: any partner for any candidate."""

    segments: list[Segment]

    def partner_pool(self, n_candidates: int) -> PartnerPool:
        n = len(self.segments)
        return PartnerPool(
            self.segments,
            np.arange(n),
            np.zeros(n, np.int64),
            np.zeros(n_candidates, np.int64),
        )


class SequenceMixup(SegMixAugmenter):
    """Whole-sequence mixup: a sentence mixed position by position with another sentence.

    Positions are aligned word by word (labels sit on first sub-words); the shorter sentence's
    missing words are pad words labelled ``O`` (they continue no mention), whatever
    ``pad_label`` says. Word labels (part-of-speech tags) have no ``O``: there a pad word takes
    no label on its side (``ignore``), so only the longer sentence's word is learnt at that
    position. ``k`` has no effect: the whole sentence is the one segment.
    """

    name = "mixup"
    pool_kind = "sentences"

    @property
    def mix_pad_label(self) -> str:
        space = getattr(self, "space", None)
        return "ignore" if space is not None and space.o is None else "o"

    def _build_pools(self, examples: Sequence[TaggedExample], cache: SubwordCache) -> None:
        self._pool = _WholePool()
        self._pool.segments = [
            segment_of(ex, 0, len(ex.words), self.space) for ex in examples if len(ex.words)
        ]

    def candidate_spans(self, example: TaggedExample) -> list[tuple[int, int]]:
        return [(0, len(example.words))] if len(example.words) else []

    def pool_sources(self) -> tuple[Sequence[Segment], list[tuple[int, int]]]:
        places = [(i, 0) for i, ex in enumerate(self.examples) if len(ex.words)]
        return self._pool.segments, places

    def partner_pool(self) -> PartnerPool:
        return self._pool.partner_pool(len(self._cand_ex))


def window_starts(entity: Sequence[bool], window: int, min_tags: int) -> list[int]:
    """The starts of SeqMix's valid windows in a sentence whose words are entities or not.

    SeqMix's ``find_sub_seq``: start ``i`` is valid when word ``i`` has an entity tag (not
    ``O``) and words ``i … i + window − 1`` hold at least ``min_tags`` entity tags. The starts
    run over ``range(0, n − window)`` as there, so a window ending on the sentence's last word
    is never one (and a sentence of ``window`` words has none).
    """
    flags = np.asarray(entity, dtype=bool)
    return [
        i
        for i in range(0, len(flags) - window)
        if flags[i] and int(flags[i : i + window].sum()) >= min_tags
    ]


class TokenSnapper:
    """The nearest vocabulary token to a mixed word embedding: SeqMix's ``most_similar``.

    SeqMix mixes the two words' input embeddings and takes the nearest token of the input
    embedding matrix that is neither source word nor a special token. ``distance="euclidean"``
    is its measure (the argmin of ``‖x − e‖²``, computed as the argmax of ``x·e − ‖e‖²/2``);
    ``cosine`` compares directions only, and is the default: a mix of two word vectors is
    shorter than either, and on the bundled encoder the tokens nearest to it by Euclidean
    distance are mostly rare-script characters with small norms (on 400 draws from 200 CoNLL
    sentences 77 % of the snapped words were not ASCII, against 1 % by cosine), which SeqMix's
    discriminator, not reproduced here, would have filtered. Either is one matmul per chunk of
    words against the rows of the allowed tokens, prepared once.

    Args:
        table: ``[V, d]`` input embedding matrix.
        allowed: ``[V]`` booleans, the tokens a mixed word may become.
        texts: each token's text, as the new sentence shows it.
        distance: ``cosine`` or ``euclidean``.
    """

    def __init__(
        self,
        table: Any,
        allowed: Any,
        texts: Sequence[str],
        distance: Literal["cosine", "euclidean"] = "cosine",
    ) -> None:
        import torch
        import torch.nn.functional as F

        if distance not in ("cosine", "euclidean"):
            raise ValueError(f"distance must be cosine or euclidean, got {distance!r}")
        self.table = torch.as_tensor(table, dtype=torch.float32).detach()
        allowed = torch.as_tensor(allowed, dtype=torch.bool)
        if allowed.shape != self.table.shape[:1] or len(texts) != len(allowed):
            raise ValueError("table, allowed and texts must have one entry per token")
        if not bool(allowed.any()):
            raise ValueError("no vocabulary token may be snapped to")
        self.distance = distance
        self.allowed = allowed
        self.texts = list(texts)
        # only the allowed rows are searched: row r of the keys is token _ids[r]
        self._ids = torch.nonzero(allowed).squeeze(1)
        self._row = torch.full((len(allowed),), -1, dtype=torch.long)
        self._row[self._ids] = torch.arange(len(self._ids))
        keys = self.table[self._ids]
        if distance == "cosine":
            self._keys, self._bias = F.normalize(keys, dim=1), torch.zeros(len(keys))
        else:
            self._keys, self._bias = keys, 0.5 * (keys * keys).sum(1)

    def word_vectors(self, pieces: Sequence[np.ndarray]):
        """One vector per word: the mean of its sub-words' input embeddings.

        For a one-piece word this is the piece's embedding, SeqMix's word vector; SeqMix looks
        a longer word up as one vocabulary entry, which gives ``[UNK]``'s embedding, so here
        the mean of its pieces stands in for it.
        """
        import torch
        import torch.nn.functional as F

        lens = np.fromiter((len(p) for p in pieces), dtype=np.int64, count=len(pieces))
        flat = np.concatenate(pieces) if len(pieces) else np.zeros(0, dtype=np.int64)
        offsets = np.concatenate(([0], np.cumsum(lens)[:-1])).astype(np.int64)
        return F.embedding_bag(
            torch.from_numpy(flat.astype(np.int64)),
            self.table,
            torch.from_numpy(offsets),
            mode="mean",
        )

    def nearest(self, mixed: Any, exclude: np.ndarray) -> np.ndarray:
        """The id of the nearest allowed token to each row of ``mixed`` ``[n, d]``, never one
        of that row's ``exclude`` ids (``[n, m]``, ``-1``: nothing)."""
        import torch
        import torch.nn.functional as F

        if self.distance == "cosine":
            mixed = F.normalize(mixed, dim=1)
        out = np.zeros(len(mixed), dtype=np.int64)
        exclude = torch.from_numpy(np.asarray(exclude, dtype=np.int64).reshape(len(mixed), -1))
        # excluded tokens as rows of the keys (-1: not a row, nothing to exclude)
        exclude = torch.where(exclude >= 0, self._row[exclude.clamp(min=0)], -1)
        for lo in range(0, len(mixed), SNAP_CHUNK):
            rows = mixed[lo : lo + SNAP_CHUNK]
            score = rows @ self._keys.T - self._bias
            ex = exclude[lo : lo + SNAP_CHUNK]
            r, c = torch.nonzero(ex >= 0, as_tuple=True)
            score[r, ex[r, c]] = float("-inf")
            out[lo : lo + len(rows)] = self._ids[score.argmax(1)].numpy()
        return out

    def snap(
        self, pieces_a: Sequence[np.ndarray], pieces_b: Sequence[np.ndarray], lams: np.ndarray
    ) -> np.ndarray:
        """The snapped token of each word pair: nearest to ``λ·v_a + (1 − λ)·v_b``, neither
        source word (a one-piece word is its token; a longer word is no single token)."""
        import torch

        if not len(pieces_a):
            return np.zeros(0, dtype=np.int64)
        lam = torch.as_tensor(np.asarray(lams, dtype=np.float32))[:, None]
        mixed = lam * self.word_vectors(pieces_a) + (1 - lam) * self.word_vectors(pieces_b)
        exclude = np.asarray(
            [[p[0] if len(p) == 1 else -1 for p in side] for side in (pieces_a, pieces_b)],
            dtype=np.int64,
        ).T
        return self.nearest(mixed, exclude)


_VOCABULARIES: dict[tuple[str, str, int], tuple[Any, np.ndarray, list[str]]] = {}


def snapper_for(
    model: str, tokenizer: Any, distance: Literal["cosine", "euclidean"] = "cosine"
) -> TokenSnapper:
    """The snapper of an encoder: its input embedding matrix, loaded once per process.

    A token may be snapped to when it is no special token and its text, tokenised as a word,
    gives that token alone: this keeps out ``##`` continuation pieces and ``[unused…]`` entries
    (as SeqMix's label-constrained variant does), so every snapped word is a word whose
    encoding is exactly the position the model sees.
    """
    name = resolve_model(model)
    key = (name, str(getattr(tokenizer, "name_or_path", "")), len(tokenizer))
    if key not in _VOCABULARIES:
        import torch
        from transformers import AutoModel

        encoder = AutoModel.from_pretrained(name)
        table = encoder.get_input_embeddings().weight.detach().to(torch.float32).clone()
        del encoder
        size = min(len(tokenizer), table.shape[0])
        tokens = tokenizer.convert_ids_to_tokens(list(range(size)))
        texts = [tokenizer.convert_tokens_to_string([t]).strip() for t in tokens]
        encoded = tokenizer(
            [[t or "x"] for t in texts], is_split_into_words=True, add_special_tokens=False
        )["input_ids"]
        special = set(tokenizer.all_special_ids)
        allowed = np.zeros(table.shape[0], dtype=bool)
        for v in range(size):
            allowed[v] = bool(texts[v]) and v not in special and list(encoded[v]) == [v]
        texts += [""] * (table.shape[0] - size)
        logger.info(
            "SeqMix snaps mixed words to %d of the %d tokens of %s", int(allowed.sum()), size, name
        )
        _VOCABULARIES[key] = (table, allowed, texts)
    table, allowed, texts = _VOCABULARIES[key]
    return TokenSnapper(table, allowed, texts, distance)


class SubsequenceMix(SegMixAugmenter):
    """SeqMix: a window (or a whole sentence) mixed with another's, snapped to vocabulary tokens.

    ``sub`` (default): each sentence's candidate is its first valid window (:func:`window_starts`,
    SeqMix's ``find_sub_seq`` and the ``[0]`` its ``slack_mixup`` takes); partners are the first
    valid windows of the other sentences. ``whole``: sentences with ``min_tags`` entity tags,
    each mixed with one of the same number of words (its ``soft_pair``). Windows of the
    ``mention`` rule start on a mention's first word, several a sentence, without overlap.

    Args:
        window: words per mixed window (SeqMix's ``window_size``; ``sub`` only).
        min_tags: entity tags a window (``whole``: a sentence) must hold (``valid_tag_bar``).
        seqmix_mode: ``sub`` (a window) or ``whole`` (the whole sentence).
        seqmix_windows: ``source`` (SeqMix's rule) or ``mention`` (segmix's earlier rule).
        seqmix_output: ``snapped`` (nearest vocabulary token) or ``continuous`` (mixed
            embeddings).
        seqmix_distance: what "nearest" means: ``cosine`` (default) or ``euclidean`` (the
            released code's measure; see :class:`TokenSnapper`).
        model: the encoder whose input embeddings the mixed words are snapped on.
        snapper: a :class:`TokenSnapper` to use instead of the encoder's (tests).
    """

    name = "seqmix"
    pool_kind = "windows"

    def __init__(
        self,
        *,
        window: int = 5,
        min_tags: int = SEQMIX_MIN_TAGS,
        seqmix_mode: Literal["sub", "whole"] = "sub",
        seqmix_windows: Literal["source", "mention"] = "source",
        seqmix_output: Literal["snapped", "continuous"] = "snapped",
        seqmix_distance: Literal["cosine", "euclidean"] = "cosine",
        model: str = "default",
        snapper: TokenSnapper | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if window < 1:
            raise ValueError(f"window must be at least 1, got {window}")
        for value, allowed in (
            (seqmix_mode, ("sub", "whole")),
            (seqmix_windows, ("source", "mention")),
            (seqmix_output, ("snapped", "continuous")),
            (seqmix_distance, ("cosine", "euclidean")),
        ):
            if value not in allowed:
                raise ValueError(f"expected one of {allowed}, got {value!r}")
        if seqmix_mode == "sub" and seqmix_windows == "source" and window < min_tags:
            raise ConfigError(
                f"--window: {window} words cannot hold the {min_tags} entity tags a SeqMix "
                f"window needs; choose {min_tags} or more (or --seqmix-windows mention)"
            )
        self.window = int(window)
        self.min_tags = int(min_tags)
        self.seqmix_mode = seqmix_mode
        self.seqmix_windows = seqmix_windows
        self.seqmix_output = seqmix_output
        self.seqmix_distance = seqmix_distance
        self.model = model
        self.snapper = snapper

    @property
    def snapped(self) -> bool:
        return self.seqmix_output == "snapped"

    # -- candidates ----------------------------------------------------------------------------
    def windows(self, example: TaggedExample) -> list[tuple[int, int]]:
        """The word spans of the example this variant mixes (see the class docstring)."""
        n = len(example.words)
        entity = np.asarray(example.word_labels) != self.space.o
        if self.seqmix_mode == "whole":
            return [(0, n)] if n and int(entity.sum()) >= self.min_tags else []
        if self.seqmix_windows == "mention":
            spans: list[tuple[int, int]] = []
            free_from = 0
            for start, _end in example.mentions:
                if start >= free_from and start + self.window <= n:
                    spans.append((start, start + self.window))
                    free_from = start + self.window
            return spans
        starts = window_starts(entity, self.window, self.min_tags)
        return [(starts[0], starts[0] + self.window)] if starts else []

    def _build_pools(self, examples: Sequence[TaggedExample], cache: SubwordCache) -> None:
        self._pool = _WholePool()
        self._pool.segments = [
            segment_of(ex, s, e, self.space) for ex in examples for s, e in self.windows(ex)
        ]

    def candidate_spans(self, example: TaggedExample) -> list[tuple[int, int]]:
        return self.windows(example)

    def pool_sources(self) -> tuple[Sequence[Segment], list[tuple[int, int]]]:
        places = [(i, s) for i, ex in enumerate(self.examples) for s, _ in self.windows(ex)]
        return self._pool.segments, places

    def partner_pool(self) -> PartnerPool:
        if self.seqmix_mode != "whole":
            return self._pool.partner_pool(len(self._cand_ex))
        # whole sentences pair with sentences of their own length (SeqMix's soft_pair)
        segments = self._pool.segments
        lengths = np.fromiter((len(s) for s in segments), dtype=np.int64, count=len(segments))
        return PartnerPool(
            segments, np.arange(len(segments)), lengths, (self._cand_w1 - self._cand_w0)
        )

    def fit(
        self, examples: Sequence[TaggedExample], labels: Sequence[str], cache: SubwordCache
    ) -> SubsequenceMix:
        super().fit(examples, labels, cache)
        if self.snapped and self.snapper is None:
            self.snapper = snapper_for(self.model, cache.tokenizer, self.seqmix_distance)
        return self

    # -- snapped mixes -------------------------------------------------------------------------
    def _mixed_length(self, source: np.ndarray, cand: np.ndarray, partner: np.ndarray):
        """Sub-words of each mix: a snapped word is one sub-word."""
        if not self.snapped:
            return super()._mixed_length(source, cand, partner)
        used = cand >= 0
        c = np.where(used, cand, 0)
        growth = self._own.n_words[c] - (self._own_end[c] - self._own_pos[c])
        return self._ex_len[source] + np.where(used, growth, 0).sum(1)

    def apply(self, params: MixParams) -> MixedExample:
        """Build the mix of drawn parameters (deterministic)."""
        if not self.snapped:
            return super().apply(params)
        return self._snap_mixes([params])[0]

    def generate(self, n: int, rng: np.random.Generator) -> Sequence[MixedExample]:
        """``n`` mixes; snapped ones with one nearest-token search for the whole batch."""
        if not self.snapped:
            return super().generate(n, rng)
        return self._snap_mixes(self.batch_params(self.sample_batch(rng, n)))

    def _snap_mixes(self, batch: Sequence[MixParams]) -> list[MixedExample]:
        """The snapped mixes of drawn parameters: every mixed word of the batch is snapped in
        one search, then each window's sub-words are replaced by one token a word."""
        pieces_a: list[np.ndarray] = []
        pieces_b: list[np.ndarray] = []
        lams: list[float] = []
        for p in batch:
            ex = self.examples[p.source]
            for (s, e), partner, lam in zip(p.spans, p.partners, p.lams, strict=True):
                for j in range(e - s):
                    w = s + j
                    start = int(ex.word_starts[w])
                    pieces_a.append(ex.ids[start : start + int(ex.word_lens[w])])
                    pieces_b.append(partner.pieces[j])
                    lams.append(lam)
        snapped = self.snapper.snap(pieces_a, pieces_b, np.asarray(lams))
        out, i = [], 0
        for p in batch:
            n_words = sum(e - s for s, e in p.spans)
            out.append(self._snapped_example(p, snapped[i : i + n_words]))
            i += n_words
        return out

    def _snapped_example(self, params: MixParams, tokens: np.ndarray) -> MixedExample:
        """The original with each span's words replaced by their snapped tokens: both sides
        hold the token (weight 1), labels are both sources' tags at weight λ."""
        ex = self.examples[params.source]
        ids, labels = ex.ids, ex.labels
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        records = []
        cursor, t = 0, 0
        for (s, e), partner, lam in sorted(
            zip(params.spans, params.partners, params.lams, strict=True), key=lambda x: x[0]
        ):
            p0 = int(ex.word_starts[s])
            p1 = int(ex.word_starts[e - 1] + ex.word_lens[e - 1])
            kept = labels[cursor:p0]
            parts.append((ids[cursor:p0], kept, kept, np.ones(p0 - cursor, np.float32)))
            new = tokens[t : t + e - s]
            t += e - s
            lab_a = np.asarray(ex.word_labels[s:e], dtype=np.int64)
            lab_b = np.asarray(partner.labels, dtype=np.int64)
            parts.append((new, lab_a, lab_b, np.full(e - s, lam, np.float32)))
            records.append(
                MixRecord(
                    s,
                    e,
                    tuple(ex.words[s:e]),
                    tuple(partner.words),
                    float(lam),
                    tuple(lab_a.tolist()),
                    tuple(lab_b.tolist()),
                    snapped=tuple(self.snapper.texts[int(k)] for k in new),
                )
            )
            cursor = p1
        tail = labels[cursor:]
        parts.append((ids[cursor:], tail, tail, np.ones(len(ids) - cursor, np.float32)))
        new_ids = np.concatenate([q[0] for q in parts]).astype(np.int64)
        label_weight = np.concatenate([q[3] for q in parts])
        labels_a = np.concatenate([q[1] for q in parts]).astype(np.int64)
        labels_b = np.concatenate([q[2] for q in parts]).astype(np.int64)
        label_weight[labels_a == IGNORE_INDEX] = 1.0
        return MixedExample(
            ids_a=new_ids,
            ids_b=new_ids.copy(),
            weight=np.ones(len(new_ids), dtype=np.float32),
            labels_a=labels_a,
            labels_b=labels_b,
            label_weight=label_weight,
            source=params.source,
            mixes=tuple(records),
        )

    def describe(self) -> dict:
        out = {
            **super().describe(),
            "seqmix_mode": self.seqmix_mode,
            "seqmix_windows": self.seqmix_windows,
            "seqmix_output": self.seqmix_output,
            "min_tags": self.min_tags,
        }
        if self.seqmix_mode == "sub":
            out["window"] = self.window
        if self.snapped:
            out["seqmix_distance"] = self.seqmix_distance
        return out
