"""LADA (Chen et al., EMNLP 2020): mixup of an encoder's hidden states, in the same harness.

"Local Additivity Based Data Augmentation for Semi-supervised NER" mixes token states at an
encoder layer ``m`` instead of the input embeddings:

- ``inter`` mixes a sentence with another, position by position (here word by word, as
  whole-sequence ``mixup`` aligns them, so labels stay on first sub-words), the partner drawn
  among the sentence's ``neighbours`` nearest training sentences by sentence embedding with
  probability ``knn_ratio`` (LADA's 0.5) and uniformly otherwise;
- ``intra`` mixes a sentence with itself: every position's state with the state of a position
  drawn uniformly from the same sentence, labels likewise.

A LADA mix is the one :class:`~segmix.mixing.MixedExample` with a layer index (``layer``) and,
for ``intra``, the positions side b reads (``positions``); :func:`segmix.model.mixed_forward`
does the rest, so model and loss stay those of every other method. At layer 0 the mix *is*
embedding mixing: ``intra`` then mixes ``E[ids]`` with ``E[ids[positions]]``, and ``inter`` is
whole-sequence mixup with kNN partners.

λ ~ Beta(alpha, alpha), always taken as ``max(λ, 1 − λ)`` as LADA does (the original sentence
dominates). The layer is ``mix_layer`` or, by default, drawn per mix from LADA's layers 8–10 of
a 12-layer encoder scaled to this encoder's depth (4–5 of 6).

Pad words and masks follow LADA's code (GT-SALT/LADA, ``code/BERT``; ``lada_pads="source"``):

- where one sentence of an inter pair has run out of words, its side carries no label
  (``IGNORE_INDEX``): LADA labels those positions ``PAD`` (``read_data.py``, ``--label-sep-cls``)
  and gives ``PAD``, ``CLS`` and ``SEP`` loss weight 0 (``special_label_weight``), so the
  position's loss is the other sentence's term alone, at its own weight (``λ·CE(y_a)``);
- both sides attend the union of the two sentences' positions: LADA's ``train.py`` passes
  ``(mask_a + mask_b) > 0`` and ``BertModel4Mix`` uses it for side b too
  (``attention_mask2 = attention_mask``), so side b attends its own pad words like side a.

``lada_pads="earlier"`` is segmix's LADA before this: pad words labelled ``O`` and unattended by
side b's own forward.

The schedule (``lada_schedule``): ``rate`` mixes ``rate × |train|`` drawn originals an epoch
beside the originals, the harness's budget every method shares; ``every`` is LADA's own
(``train.py``: with ``--mix-option`` every batch is replaced by its mix, so every training
sentence is mixed once an epoch and never seen unmixed) with LADA's λ: its README's commands
give ``--alpha 60 --beta 1.5``, i.e. λ ~ Beta(60, 1.5) then ``max(λ, 1 − λ)`` (mean ≈ 0.98),
whatever ``alpha`` says.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from segmix.augment.segments import MixBatch, Mixer, MixParams, ParamBatch
from segmix.augment.sequence import SequenceMixup
from segmix.config import ConfigError
from segmix.encoding import IGNORE_INDEX, SubwordCache
from segmix.mixing import MixedExample, MixRecord
from segmix.tasks.tagging.encoding import TaggedExample

logger = logging.getLogger(__name__)

#: LADA's mix layers (Chen et al. 2020 use layers 8, 9, 10 of BERT-base's 12)
PAPER_LAYERS, PAPER_DEPTH = (8, 10), 12
#: LADA's λ ~ Beta(alpha, beta) in its README's commands (``--alpha 60 --beta 1.5``)
SOURCE_ALPHA, SOURCE_BETA = 60.0, 1.5


def _lambdas(rng: np.random.Generator, shape, alpha: float, beta: float | None) -> np.ndarray:
    """``max(λ, 1 − λ)`` with λ ~ Beta(alpha, beta) (``beta=None``: Beta(alpha, alpha))."""
    lam = rng.beta(alpha, alpha if beta is None else beta, size=shape)
    return np.maximum(lam, 1.0 - lam)


def default_layers(depth: int) -> tuple[int, ...]:
    """LADA's layers 8–10 of 12, scaled to an encoder of ``depth`` layers."""
    low = max(1, round(PAPER_LAYERS[0] * depth / PAPER_DEPTH))
    high = max(low, round(PAPER_LAYERS[1] * depth / PAPER_DEPTH))
    return tuple(range(low, min(high, depth) + 1))


def sentence_embeddings(
    model: str, examples: Sequence[TaggedExample], pad_id: int, batch_size: int = 64
) -> np.ndarray:
    """Mean-pooled last-layer states of the (untrained) encoder, unit length, one row a sentence.

    LADA finds neighbours with a sentence encoder's mean-pooled states; the default encoder
    (all-MiniLM-L6-v2) is such a sentence encoder, so the run's own encoder serves.
    """
    import torch
    from transformers import AutoModel

    from segmix.encoding import resolve_model

    encoder = AutoModel.from_pretrained(resolve_model(model)).eval()
    order = np.argsort([len(ex.ids) for ex in examples], kind="stable")
    out = np.zeros((len(examples), encoder.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            width = max(len(examples[i].ids) for i in rows)
            ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for r, i in enumerate(rows):
                n = len(examples[i].ids)
                ids[r, :n] = torch.from_numpy(examples[i].ids)
                mask[r, :n] = 1
            states = encoder(input_ids=ids, attention_mask=mask).last_hidden_state
            pooled = (states * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True)
            out[rows] = torch.nn.functional.normalize(pooled, dim=-1).numpy()
    return out


def nearest_neighbours(
    embeddings: np.ndarray, forms: Sequence[bytes], k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` most similar rows of each row by cosine, never itself nor an identical sentence.

    Returns ``(neighbours [n, k], count [n])``; ``-1`` pads rows with fewer than ``k``.
    """
    n = len(embeddings)
    k = max(0, min(k, n - 1))
    neighbours = np.full((n, k), -1, dtype=np.int64)
    count = np.zeros(n, dtype=np.int64)
    if not k:
        return neighbours, count
    form_id = {f: i for i, f in enumerate(dict.fromkeys(forms))}
    same = np.asarray([form_id[f] for f in forms])
    for start in range(0, n, 1024):  # blocks keep the similarity matrix small
        sim = embeddings[start : start + 1024] @ embeddings.T
        rows = np.arange(start, min(start + 1024, n))
        sim[same[rows][:, None] == same[None, :]] = -np.inf  # itself and its duplicates
        top = np.argsort(-sim, axis=1, kind="stable")[:, :k]
        ok = np.isfinite(np.take_along_axis(sim, top, axis=1))
        neighbours[rows] = np.where(ok, top, -1)
        count[rows] = ok.sum(1)
    return neighbours, count


class _NeighbourMixup(SequenceMixup):
    """Whole-sequence mixup whose partner is, with probability ``knn_ratio``, a nearest
    neighbour of the sentence (inter-LADA's partner choice)."""

    name = "lada-inter"

    def __init__(
        self,
        *,
        neighbours: int,
        knn_ratio: float,
        model: str,
        beta: float | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.neighbours = neighbours
        self.knn_ratio = knn_ratio
        self.model = model
        self.beta = beta

    def draw_lambdas(self, rng: np.random.Generator, shape) -> np.ndarray:
        return _lambdas(rng, shape, self.alpha, self.beta)

    def _build_pools(self, examples: Sequence[TaggedExample], cache: SubwordCache) -> None:
        super()._build_pools(examples, cache)
        rows = [i for i, ex in enumerate(examples) if len(ex.words)]
        row_of = np.full(len(examples), -1, dtype=np.int64)
        row_of[rows] = np.arange(len(rows))
        self._row_of = row_of
        kept = [examples[i] for i in rows]
        if self.knn_ratio > 0 and self.neighbours > 0 and len(kept) > 1:
            embeddings = sentence_embeddings(self.model, kept, cache.pad_id)
            self._knn, self._knn_count = nearest_neighbours(
                embeddings, [ex.ids.tobytes() for ex in kept], self.neighbours
            )
        else:
            self._knn = np.zeros((len(kept), 0), dtype=np.int64)
            self._knn_count = np.zeros(len(kept), dtype=np.int64)

    def draw_partner_rows(self, rng: np.random.Generator, cand: np.ndarray) -> np.ndarray:
        rows = super().draw_partner_rows(rng, cand)
        use_knn = rng.random(len(cand)) < self.knn_ratio
        own = self._row_of[self._cand_ex[cand]]
        count = self._knn_count[own]
        use_knn &= count > 0
        if use_knn.any():
            pick = (rng.random(int(use_knn.sum())) * count[use_knn]).astype(np.int64)
            rows[use_knn] = self._knn[own[use_knn], pick]
        return rows


@dataclass(frozen=True)
class LadaParams:
    """One LADA mix: the layer, λ, and either a partner (inter) or own positions (intra)."""

    source: int
    layer: int
    lam: float
    partner: MixParams | None = None  # inter: the whole-sentence mix with the partner
    positions: tuple[int, ...] = ()  # intra: per sub-word position, the position mixed in


@dataclass
class LadaBatch(ParamBatch):
    """LADA draws, one row each. Inter rows have a candidate and partner row of the
    whole-sentence pool; intra rows have ``-1`` there and their positions (``-1`` past the
    sentence's end) in ``positions``, which is 0 wide for an inter batch."""

    source: np.ndarray  # [n]
    layer: np.ndarray  # [n]
    lam: np.ndarray  # [n]
    cand: np.ndarray  # [n]
    partner: np.ndarray  # [n]
    positions: np.ndarray  # [n, W]


class LayerMix(Mixer):
    """LADA, intra or inter, at a fixed or drawn encoder layer.

    Args:
        lada_mode: ``inter`` (another sentence, kNN partners ``knn_ratio`` of the time) or
            ``intra`` (the sentence with itself).
        mix_layer: the layer whose output is mixed (0: the word embeddings); ``None`` draws
            each mix's layer from LADA's range scaled to the encoder (:func:`default_layers`).
        model: the encoder (its depth bounds ``mix_layer``; inter's neighbours use its
            sentence embeddings).
        neighbours: inter's k nearest neighbours (LADA: 5).
        knn_ratio: share of inter partners drawn among the neighbours (LADA: 0.5).
        alpha: λ ~ Beta(alpha, alpha), then ``max(λ, 1 − λ)`` (``lada_schedule="rate"``).
        lada_pads: ``source`` (LADA's: a pad word's side carries no label, both sides attend
            the union of the two sentences) or ``earlier`` (segmix's earlier LADA: pad words
            labelled ``O``, unattended by side b).
        lada_schedule: ``rate`` (``rate × |train|`` mixes of drawn originals an epoch, beside
            the originals) or ``every`` (LADA's: every training sentence mixed once an epoch,
            in place of the originals, λ ~ Beta(60, 1.5) as LADA's commands).
    """

    name = "lada"
    pool_kind = "lada"

    def __init__(
        self,
        *,
        lada_mode: Literal["intra", "inter"] = "inter",
        mix_layer: int | None = None,
        model: str = "default",
        neighbours: int = 5,
        knn_ratio: float = 0.5,
        alpha: float = 8.0,
        lada_pads: Literal["source", "earlier"] = "source",
        lada_schedule: Literal["rate", "every"] = "rate",
        max_tries: int = 10,
    ) -> None:
        if lada_schedule not in ("rate", "every"):
            raise ValueError(f"lada_schedule must be rate or every, got {lada_schedule!r}")
        if lada_pads not in ("source", "earlier"):
            raise ValueError(f"lada_pads must be source or earlier, got {lada_pads!r}")
        self.schedule = lada_schedule
        self.pads = lada_pads
        # LADA's own schedule comes with its own λ: Beta(60, 1.5), whatever alpha says
        self.beta = SOURCE_BETA if lada_schedule == "every" else None
        alpha = SOURCE_ALPHA if lada_schedule == "every" else alpha
        super().__init__(alpha=alpha, lambda_max=True, max_tries=max_tries)
        if lada_mode not in ("intra", "inter"):
            raise ValueError(f"lada_mode must be intra or inter, got {lada_mode!r}")
        if mix_layer is not None and mix_layer < 0:
            raise ValueError(f"mix_layer must be ≥ 0, got {mix_layer}")
        if not 0 <= knn_ratio <= 1:
            raise ValueError(f"knn_ratio must be between 0 and 1, got {knn_ratio}")
        self.mode = lada_mode
        self.mix_layer = mix_layer
        self.model = model
        self.neighbours = int(neighbours)
        self.knn_ratio = float(knn_ratio)
        self.layers: tuple[int, ...] = ()
        self._inter: _NeighbourMixup | None = None

    # -- fitting -------------------------------------------------------------------------------
    def fit(
        self, examples: Sequence[TaggedExample], labels: Sequence[str], cache: SubwordCache
    ) -> LayerMix:
        """Check the layer against the encoder; build inter's pools and neighbours."""
        from transformers import AutoConfig

        from segmix.encoding import resolve_model
        from segmix.model import encoder_depth

        self.examples = examples
        self.depth = encoder_depth(AutoConfig.from_pretrained(resolve_model(self.model)))
        if self.mix_layer is not None and self.mix_layer > self.depth:
            raise ConfigError(
                f"--mix-layer: {self.mix_layer} is beyond the encoder's {self.depth} layers; "
                f"choose 0 (the embeddings) to {self.depth}"
            )
        self.layers = (
            (self.mix_layer,) if self.mix_layer is not None else default_layers(self.depth)
        )
        if self.mode == "inter":
            self._inter = _NeighbourMixup(
                neighbours=self.neighbours,
                knn_ratio=self.knn_ratio,
                model=self.model,
                alpha=self.alpha,
                beta=self.beta,
                lambda_max=True,
                max_tries=self.max_tries,
            ).fit(examples, labels, cache)
            self._eligible = self._inter._eligible
        else:
            self._width = max((len(ex.ids) for ex in examples), default=0)
            starts, ends = (
                zip(*map(_content_range, examples), strict=True) if examples else ((), ())
            )
            self._start = np.asarray(starts, dtype=np.int64)
            self._end = np.asarray(ends, dtype=np.int64)
            # a sentence mixes with itself when it has two different sub-words to exchange
            self._eligible = np.asarray(
                [
                    i
                    for i, ex in enumerate(examples)
                    if len(set(ex.ids[self._start[i] : self._end[i]].tolist())) > 1
                ],
                dtype=np.int64,
            )
        return self

    # -- drawing -------------------------------------------------------------------------------
    def draw_lambdas(self, rng: np.random.Generator, shape) -> np.ndarray:
        return _lambdas(rng, shape, self.alpha, self.beta)

    @property
    def replaces_originals(self) -> bool:
        """Whether an epoch serves the mixes instead of the originals (LADA's own schedule)."""
        return self.schedule == "every"

    def mixes_per_epoch(self, rate: float, n_examples: int) -> int:
        """Mix slots an epoch (what :class:`segmix.engine.SegMixDataset` plans): ``rate ×
        n_examples``, or with ``every`` one per training sentence, ``rate`` unused."""
        return n_examples if self.schedule == "every" else round(rate * n_examples)

    def generate(self, n: int, rng: np.random.Generator) -> Sequence[MixedExample]:
        """``n`` mixes; with ``every``, a sweep over the training sentences: each is served
        once (per ``len(examples)`` slots) as its mix, or as itself when it cannot be mixed
        (no words; intra: fewer than two different sub-words), as LADA mixes each batch."""
        if self.schedule != "every":
            return super().generate(n, rng)
        total = len(self.examples)
        if n <= 0 or not total:
            return []
        order = np.concatenate([rng.permutation(total) for _ in range(-(-n // total))])[:n]
        can = np.zeros(total, dtype=bool)
        can[self._eligible] = True
        remaining = np.unique(order[can[order]])
        made: dict[int, MixedExample] = {}
        for _ in range(self.max_tries):  # a draw that fails (intra: nothing exchanged) is redrawn
            if not len(remaining):
                break
            batch = self.sample_batch(rng, len(remaining), rng.permutation(remaining))
            made.update((p.source, self.apply(p)) for p in self.batch_params(batch))
            remaining = remaining[~np.isin(remaining, list(made))]
        out: list[MixedExample] = []
        for i in order.tolist():
            mix = made.pop(i, None)  # a sentence drawn twice (n > total) is mixed once
            if mix is None:
                ex = self.examples[i]
                mix = MixedExample.original(ex.ids, ex.labels, source=i)
            out.append(mix)
        return out

    def draw_batch(
        self, rng: np.random.Generator, sources: np.ndarray
    ) -> tuple[LadaBatch, np.ndarray]:
        sources = np.asarray(sources, dtype=np.int64)
        n = len(sources)
        if self.mode == "inter":
            assert self._inter is not None
            inner, ok = self._inter.draw_batch(rng, sources)
            cand, partner, lam = inner.cand[:, 0], inner.partner[:, 0], inner.lam[:, 0]
            positions = np.zeros((n, 0), dtype=np.int64)
        else:
            cand = partner = np.full(n, -1, dtype=np.int64)
            lam = self.draw_lambdas(rng, n)
            positions, ok = self._draw_positions(rng, sources)
        layer = np.asarray(self.layers, dtype=np.int64)[rng.integers(len(self.layers), size=n)]
        return LadaBatch(sources, layer, lam, cand, partner, positions), ok

    def _draw_positions(
        self, rng: np.random.Generator, sources: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Intra: each word position's partner, uniform over the sentence's word positions
        with replacement (as LADA draws them); a draw that exchanges no different sub-word is
        not a mix (``ok`` false, the sampler draws another original)."""
        n, width = len(sources), self._width
        start, end = self._start[sources], self._end[sources]
        cols = np.arange(width)
        inside = (cols[None, :] >= start[:, None]) & (cols[None, :] < end[:, None])
        drawn = start[:, None] + (rng.random((n, width)) * (end - start)[:, None]).astype(np.int64)
        length = np.fromiter(
            (len(self.examples[i].ids) for i in sources.tolist()), dtype=np.int64, count=n
        )
        positions = np.where(inside, drawn, cols[None, :])
        positions = np.where(cols[None, :] < length[:, None], positions, -1)
        ok = np.zeros(n, dtype=bool)
        for r, i in enumerate(sources.tolist()):
            ids = self.examples[i].ids
            ok[r] = bool((ids[positions[r, : len(ids)]] != ids).any())
        return positions, ok

    def batch_params(self, batch: LadaBatch) -> list[LadaParams]:
        if self.mode == "inter":
            assert self._inter is not None
            inner = self._inter.batch_params(
                MixBatch(
                    source=batch.source,
                    cand=batch.cand[:, None],
                    partner=batch.partner[:, None],
                    lam=batch.lam[:, None],
                )
            )
            return [
                LadaParams(p.source, int(m), p.lams[0], partner=p)
                for p, m in zip(inner, batch.layer.tolist(), strict=True)
            ]
        out = []
        for source, layer, lam, row in zip(
            batch.source.tolist(),
            batch.layer.tolist(),
            batch.lam.tolist(),
            batch.positions,
            strict=True,
        ):
            n = len(self.examples[source].ids)
            out.append(LadaParams(source, layer, float(lam), positions=tuple(row[:n].tolist())))
        return out

    # -- building ------------------------------------------------------------------------------
    def apply(self, params: LadaParams) -> MixedExample:
        """The mix: a whole-sentence mix (inter) or the sentence with its own positions (intra),
        marked with its layer."""
        if params.partner is not None:
            assert self._inter is not None
            mixed = self._inter.apply(params.partner)
            mixed.layer = params.layer
            if self.pads == "earlier":  # side b's own forward leaves its pad words out
                mixed.attend_b = mixed.ids_b != self._inter.pad_id
            else:
                _unlabel_pad_words(mixed, len(self.examples[params.source].words))
            return mixed
        ex = self.examples[params.source]
        positions = np.asarray(params.positions, dtype=np.int64)
        start, end = _content_range(ex)
        weight = np.ones(len(ex.ids), dtype=np.float32)
        weight[start:end] = params.lam
        labels_b = ex.labels.copy()
        word_of = np.full(len(ex.ids), -1, dtype=np.int64)
        for j, (s, n) in enumerate(
            zip(ex.word_starts.tolist(), ex.word_lens.tolist(), strict=True)
        ):
            word_of[s : s + n] = j
        first = ex.labels != IGNORE_INDEX
        # a labelled position takes, on side b, the label of the word its partner position is in
        labels_b[first] = ex.word_labels[word_of[positions[first]]]
        label_weight = np.where(first, params.lam, 1.0).astype(np.float32)
        words_b = tuple(ex.words[word_of[positions[s]]] for s in ex.word_starts.tolist())
        record = MixRecord(
            0,
            len(ex.words),
            ex.words,
            words_b,
            params.lam,
            tuple(ex.labels[first].tolist()),
            tuple(labels_b[first].tolist()),
        )
        return MixedExample(
            ids_a=ex.ids,
            ids_b=ex.ids[positions],
            weight=weight,
            labels_a=ex.labels,
            labels_b=labels_b,
            label_weight=label_weight,
            source=params.source,
            mixes=(record,),
            layer=params.layer,
            positions=positions,
        )

    @property
    def inter(self) -> SequenceMixup | None:
        """Inter mode's whole-sentence partner drawer (its pool is the sentences); ``None``
        in intra mode, where a sentence is mixed with itself."""
        return self._inter

    def describe(self) -> dict:
        out = {
            "name": self.name,
            "lada_mode": self.mode,
            "alpha": self.alpha,
            "lambda_max": True,
            "beta": self.beta,
            "lada_pads": self.pads,
            "lada_schedule": self.schedule,
            "mix_layer": self.mix_layer,
            "layers": list(getattr(self, "layers", ())),
        }
        if self.mode == "inter":
            out |= {"neighbours": self.neighbours, "knn_ratio": self.knn_ratio}
        return out


def _unlabel_pad_words(mixed: MixedExample, n_words_a: int) -> None:
    """Take the label off the side of each pad word of a whole-sentence mix, in place.

    The mix's labelled positions are its aligned word pairs in order, ``max(m, n)`` of them for
    sentences of ``m`` (side a) and ``n`` (side b) words: pair ``j ≥ n`` is a pad word on side b,
    pair ``j ≥ m`` one on side a. That side's label becomes ``IGNORE_INDEX`` (LADA's ``PAD``,
    loss weight 0), so the pair's loss is the other side's term at its own weight.
    """
    first = np.flatnonzero(mixed.labels_a != IGNORE_INDEX)
    (record,) = mixed.mixes
    n_words_b = len(record.words_b)
    mixed.labels_a = mixed.labels_a.copy()
    mixed.labels_b = mixed.labels_b.copy()
    mixed.labels_b[first[n_words_b:]] = IGNORE_INDEX
    mixed.labels_a[first[n_words_a:]] = IGNORE_INDEX


def _content_range(ex: TaggedExample) -> tuple[int, int]:
    """The sub-word positions ``[start, end)`` of the words (special tokens left out)."""
    if not len(ex.words):
        return 0, 0
    return int(ex.word_starts[0]), int(ex.word_starts[-1] + ex.word_lens[-1])
