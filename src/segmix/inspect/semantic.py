"""The semantic check: does the encoder read a mixed segment as something between its sources?

A mix is fed to the encoder as ``w·E[ids_a] + (1 − w)·E[ids_b]`` (:func:`segmix.model.
mixed_embeddings`), exactly as in training. The question here is whether the encoder's contextual
states of the mixed segment stay close to the states of the two things mixed — or land
somewhere neither source ever was, which is what whole-sequence mixup is criticised for.

What is compared, exactly:

- **positions**: the first sub-word of each aligned word pair of a mixed segment (where the tag
  sits and the classifier reads), in the mix; the same word's first sub-word in each source;
- **side a's source**: the original sentence (for a mixture ``A+B``, the rule's new sentence);
- **side b's source**: the partner's own sentence where the partner can be traced back to it
  (MMix, TMix, SeqMix, mixup: the training sentence the pool segment was cut from; relations:
  the partner example); for SMix, whose partner is a synonym with no sentence of its own, the
  original sentence with the synonym in place of the word; anything else (``rmix+sr``), the
  partner's words encoded alone. The report counts which was used;
- **pairs** with a pad word on one side (the shorter segment padded) have no counterpart there:
  they are left out of the figures and counted apart, with their similarity to the side present;
- per pair, ``sim_a = cos(h_mix, h_a)``, ``sim_b = cos(h_mix, h_b)``; reported are the mean and
  median of ``max(sim_a, sim_b)`` (close to *some* source) and of ``λ·sim_a + (1 − λ)·sim_b``
  (close to each source in proportion to its share), and the share of pairs closer to the side
  with the larger weight.

Two baselines on the same data and encoder:

- **mixup**: whole-sequence mixup (``make_augmenter("mixup", task)``), every word of two
  sentences mixed with one λ;
- **random**: the method's own sample (the same originals, segments and λ) with each partner
  replaced by a span of as many words taken at a random place of a random training sentence —
  a mix without the method's structure (no mention boundaries, no types, no synonymy; for
  relations no argument); as in every method, never the segment's own words. For TMix this is
  how TMix draws (any other training word, by frequency), so the two agree up to sampling noise.

The encoder is ``--model``'s base encoder (``AutoModel``), or the trained run's (``RUN/model``,
the token-classification model's base, or the relation classifier's encoder). Sequences are
batched sorted by length, under ``torch.inference_mode``.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from segmix.inspect.coverage import float_summary, mixing_part, share
from segmix.inspect.mixes import Sentence, segment_layout, side_a_sentence
from segmix.mixing import MixedExample, Segment, mix_segments, word_pieces

logger = logging.getLogger(__name__)

#: padded tokens per forward pass (sequences sorted by length, so little padding)
TOKENS = 4096


# --------------------------------------------------------------------------- the arithmetic


def pair_similarities(mixed, side_a, side_b, lam) -> dict[str, np.ndarray]:
    """Cosine similarities of mixed states to their two sources, per pair.

    ``mixed``, ``side_a``, ``side_b`` are ``[N, H]`` tensors (or arrays); ``lam`` ``[N]`` is
    side a's share. Returns ``sim_a``, ``sim_b``, ``max`` (``max(sim_a, sim_b)``), ``weighted``
    (``λ·sim_a + (1 − λ)·sim_b``) and ``heavier_closer`` (the side with weight ≥ 0.5 is at
    least as similar as the other), each ``[N]``.
    """
    import torch
    import torch.nn.functional as F

    mixed, side_a, side_b = (
        torch.as_tensor(x, dtype=torch.float32) for x in (mixed, side_a, side_b)
    )
    lam_t = torch.as_tensor(lam, dtype=torch.float32)
    sim_a = F.cosine_similarity(mixed, side_a, dim=-1)
    sim_b = F.cosine_similarity(mixed, side_b, dim=-1)
    heavier = torch.where(lam_t >= 0.5, sim_a >= sim_b, sim_b >= sim_a)
    return {
        "sim_a": sim_a.numpy(),
        "sim_b": sim_b.numpy(),
        "max": torch.maximum(sim_a, sim_b).numpy(),
        "weighted": (lam_t * sim_a + (1 - lam_t) * sim_b).numpy(),
        "heavier_closer": heavier.numpy(),
    }


def similarity_summary(sims: dict[str, np.ndarray], one_sided: Sequence[float] = ()) -> dict:
    """The report's figures of one condition: mean/median per similarity, their histograms."""
    out: dict[str, Any] = {"pairs": len(sims.get("max", ()))}
    for name in ("max", "weighted", "sim_a", "sim_b"):
        summary = float_summary(sims.get(name, ()))
        out[name] = summary
    heavier = sims.get("heavier_closer", np.zeros(0, dtype=bool))
    out["heavier_closer"] = share(int(np.sum(heavier)), len(heavier))
    out["pad_pairs"] = {
        "pairs": len(one_sided),
        "mean_sim_present_side": float(np.mean(one_sided)) if len(one_sided) else None,
    }
    return out


# --------------------------------------------------------------------------- the sample


@dataclass
class SampleMix:
    """A mix with what the check needs to find its sources.

    ``partners`` has one entry per mixed segment, in sentence order: ``("train", e, s)`` (the
    partner's words start at word ``s`` of training example ``e``), ``("subst",)`` (the original
    sentence with the partner's words in place), or ``None`` (the partner's words alone).
    """

    mix: MixedExample
    sentence: Sentence
    a_key: tuple
    partners: list[tuple | None]


def _sentence(ex) -> Sentence:
    return Sentence(tuple(ex.words), ex.ids, ex.word_starts, ex.word_lens)


def draw_sample(augmenter: Any, prep: Any, n: int, rng: np.random.Generator) -> list[SampleMix]:
    """``n`` mixes drawn as the augmenter draws them, each with its sources (the augmenter's
    :meth:`~segmix.augment.segments.Mixer.trace`); an augmenter that cannot trace its mixes
    (LADA's hidden states, a relation mixture) gives the mixes as generated, each partner's
    words encoded alone."""
    train, cache = prep.encoded["train"], prep.cache
    out: list[SampleMix] = []
    if getattr(augmenter, "traceable", False):
        for params in augmenter.draw_params(rng, n):
            trace = augmenter.trace(params)
            if isinstance(trace.sentence, int):
                side_a, key = train[trace.sentence], ("train", trace.sentence)
            else:  # a rule's rewrite
                side_a, key = trace.sentence, ("words", tuple(trace.sentence.words))
            partners = [
                ("subst",) if trace.substituted else _train_ref(place) for place in trace.partners
            ]
            out.append(SampleMix(augmenter.apply(params), _sentence(side_a), key, partners))
        return out
    for mix in augmenter.generate(n, rng):
        sentence = side_a_sentence(mix, train, cache)
        key = ("train", mix.source) if mix.words is None else ("words", tuple(mix.words))
        out.append(SampleMix(mix, sentence, key, [None] * len(mix.mixes)))
    return out


def _train_ref(place: tuple[int, int] | None) -> tuple | None:
    return None if place is None else ("train", place[0], place[1])


def random_partner_sample(
    sample: Sequence[SampleMix], prep: Any, rng: np.random.Generator, *, tries: int = 20
) -> list[SampleMix]:
    """The method's sample with every partner replaced by a random span of the training set of
    as many words, the same segments of side a and the same λ. As in every method, a partner
    never has the segment's own words (a word mixed with itself is no mix); relation markers
    are never part of a partner."""
    train, cache = prep.encoded["train"], prep.cache
    markers = set(getattr(prep.task, "markers", ()) or ())
    n_words = np.fromiter((len(ex.words) for ex in train), dtype=np.int64, count=len(train))

    def random_span(n: int, own: tuple[str, ...]) -> tuple[int, int] | None:
        fits = np.flatnonzero(n_words >= n)
        for _ in range(tries):
            if not len(fits):
                return None
            e = int(fits[rng.integers(len(fits))])
            s = int(rng.integers(n_words[e] - n + 1))
            words = tuple(train[e].words[s : s + n])
            if words != own and not markers.intersection(words):
                return e, s
        return None

    out = []
    for sm in sample:
        records = sorted(sm.mix.mixes, key=lambda r: (r.start, r.end))
        for _ in range(tries):
            partners, refs = [], []
            for rec in records:
                n = len(rec.words_b)
                place = random_span(n, tuple(rec.words_a)) if n else None
                if n and place is None:
                    break
                if place is None:
                    partners.append(Segment((), np.zeros(0, np.int64), 0, ()))
                    refs.append(None)
                    continue
                e, s = place
                ex = train[e]
                pieces = word_pieces(ex.ids, ex.word_starts, ex.word_lens, s, s + n)
                partners.append(Segment(pieces, np.zeros(n, np.int64), 0, ex.words[s : s + n]))
                refs.append(("train", e, s))
            else:
                mix = _remix(sm.sentence, records, partners, prep)
                if len(mix.ids_a) <= cache.max_length:
                    out.append(SampleMix(mix, sm.sentence, sm.a_key, refs))
                    break
    return out


def _remix(sentence: Sentence, records, partners: Sequence[Segment], prep: Any) -> MixedExample:
    """Side a's segments mixed with ``partners`` at the records' λ (labels are not needed)."""
    spans = [(r.start, r.end) for r in records]
    own = [
        Segment(
            word_pieces(sentence.ids, sentence.word_starts, sentence.word_lens, s, e),
            np.zeros(e - s, np.int64),
            0,
            sentence.words[s:e],
        )
        for s, e in spans
    ]
    return mix_segments(
        sentence.ids,
        np.zeros(len(sentence.ids), np.int64),
        sentence.word_starts,
        sentence.word_lens,
        spans,
        own,
        partners,
        [r.lam for r in records],
        pad_id=prep.cache.pad_id,
        pad_label="o",
    )


# --------------------------------------------------------------------------- the encoder


@dataclass
class Probes:
    """Sequences to encode and the position pairs to compare, per condition."""

    sequences: dict[tuple, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    wanted: dict[tuple, set[int]] = field(default_factory=dict)
    #: condition -> [(mix position, side a ref, side b ref, λ)], a ref is (key, position)
    pairs: dict[str, list[tuple]] = field(default_factory=dict)
    mixes: Counter = field(default_factory=Counter)
    references: dict[str, Counter] = field(default_factory=dict)

    def sequence(self, key: tuple, ids: np.ndarray, ids_b=None, weight=None) -> None:
        if key not in self.sequences:
            self.sequences[key] = (
                ids,
                ids if ids_b is None else ids_b,
                np.ones(len(ids), np.float32) if weight is None else weight,
            )
            self.wanted[key] = set()

    def ref(self, key: tuple, pos: int) -> tuple[tuple, int]:
        self.wanted[key].add(int(pos))
        return key, int(pos)


def add_probes(probes: Probes, condition: str, sample: Sequence[SampleMix], prep: Any) -> None:
    """Register the sequences and position pairs of one condition's mixes."""
    train, cache = prep.encoded["train"], prep.cache
    pairs = probes.pairs.setdefault(condition, [])
    kinds = probes.references.setdefault(condition, Counter())
    for i, sm in enumerate(sample):
        layout = segment_layout(sm.mix, sm.sentence, cache)
        if layout is None or len(layout) != len(sm.partners):
            continue
        probes.mixes[condition] += 1
        mix_key = ("mix", condition, i)
        probes.sequence(mix_key, sm.mix.ids_a, sm.mix.ids_b, sm.mix.weight)
        probes.sequence(sm.a_key, sm.sentence.ids)
        for seg, partner in zip(layout, sm.partners, strict=True):
            rec = seg.record
            if partner is not None and partner[0] == "train":
                ex = train[partner[1]]
                b_key, b_starts, b_first = ("train", partner[1]), ex.word_starts, partner[2]
                probes.sequence(b_key, ex.ids)
                kinds["partner's own sentence"] += 1
            else:
                if partner is not None:  # ("subst",): the synonym in the original's place
                    words = (
                        sm.sentence.words[: rec.start] + rec.words_b + sm.sentence.words[rec.end :]
                    )
                    b_first = rec.start
                    kinds["original sentence with the partner in place"] += 1
                else:
                    words, b_first = tuple(rec.words_b), 0
                    kinds["partner's words alone"] += 1
                enc = cache.encode(list(words))
                b_key, b_starts = ("words", tuple(words)), enc.word_starts
                probes.sequence(b_key, enc.ids)
            m, n = len(seg.lens_a), len(seg.lens_b)
            for j, pos in enumerate(seg.pair_starts):
                probes.wanted[mix_key].add(pos)
                ref_a = (
                    probes.ref(sm.a_key, sm.sentence.word_starts[rec.start + j]) if j < m else None
                )
                ref_b = probes.ref(b_key, b_starts[b_first + j]) if j < n else None
                pairs.append(((mix_key, pos), ref_a, ref_b, float(rec.lam)))


def load_encoder(model: str, *, run_model: Path | None, vocab_size: int, seed: int):
    """The base encoder whose states are compared: ``--model``'s, or the run's trained one.

    A relation task's markers were added to the tokenizer; the untrained encoder gets rows for
    them (seeded), a trained one must already have them.
    """
    import torch
    import transformers

    from segmix.encoding import resolve_model

    verbosity = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()  # a sentence encoder lacks the pooler: expected
    try:
        if run_model is not None:
            config = json.loads((run_model / "config.json").read_text(encoding="utf-8"))
            if config.get("model_type") == "segmix-relation":
                from segmix.tasks.relations.model import RelationClassifier

                encoder = RelationClassifier.from_pretrained(run_model).encoder
            else:
                from transformers import AutoModelForTokenClassification

                encoder = AutoModelForTokenClassification.from_pretrained(run_model).base_model
        else:
            from transformers import AutoModel

            encoder = AutoModel.from_pretrained(resolve_model(model))
    finally:
        transformers.logging.set_verbosity(verbosity)
    rows = encoder.get_input_embeddings().num_embeddings
    if vocab_size > rows:
        if run_model is not None:
            raise ValueError(
                f"--run: the model in {run_model} has {rows} token ids, but this data uses ids "
                f"up to {vocab_size - 1}: it was trained with another --model or data"
            )
        torch.manual_seed(seed)
        encoder.resize_token_embeddings(vocab_size, mean_resizing=False)
    return encoder.eval()


def length_batches(
    lengths: Sequence[int], *, tokens: int = TOKENS, most: int = 256
) -> list[list[int]]:
    """Indices of ``lengths`` in batches of similar length, sorted, each at most ``tokens``
    padded tokens (and ``most`` sequences): little padding, and large enough matrices that the
    CPU's matrix kernels run near full speed (batches of 128 short sentences ran ~30 % faster
    than batches of 32 here)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        if current and ((len(current) + 1) * lengths[i] > tokens or len(current) >= most):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def encode_states(model, probes: Probes, pad_id: int, *, tokens: int = TOKENS) -> dict:
    """The last-layer states at every wanted position: ``{key: {position: state}}``.

    Every sequence enters as mixed word embeddings (an unmixed one has ``ids_b = ids_a``,
    ``w = 1``, which is its plain embedding), batched by length (:func:`length_batches`).
    """
    import torch

    from segmix.model import mixed_embeddings

    keys = [k for k in probes.sequences if probes.wanted[k]]
    lengths = [len(probes.sequences[k][0]) for k in keys]
    states: dict[tuple, dict[int, Any]] = {}
    with torch.inference_mode():
        for rows in length_batches(lengths, tokens=tokens):
            batch = [keys[i] for i in rows]
            width = max(lengths[i] for i in rows)
            ids_a = np.full((len(batch), width), pad_id, dtype=np.int64)
            ids_b = np.full((len(batch), width), pad_id, dtype=np.int64)
            weight = np.ones((len(batch), width), dtype=np.float32)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for r, k in enumerate(batch):
                a, b, w = probes.sequences[k]
                ids_a[r, : len(a)], ids_b[r, : len(a)], weight[r, : len(a)] = a, b, w
                mask[r, : len(a)] = 1
            embeds = mixed_embeddings(
                model, torch.from_numpy(ids_a), torch.from_numpy(ids_b), torch.from_numpy(weight)
            )
            hidden = model(inputs_embeds=embeds, attention_mask=torch.from_numpy(mask))
            hidden = hidden.last_hidden_state.float()
            for r, k in enumerate(batch):
                positions = sorted(probes.wanted[k])
                states[k] = dict(zip(positions, hidden[r, positions], strict=True))
    return states


def condition_figures(probes: Probes, condition: str, states: dict) -> dict:
    """The similarity figures of one condition from the encoded states."""
    import torch

    both, one_sided = [], []
    for (mix_key, pos), ref_a, ref_b, lam in probes.pairs.get(condition, []):
        h = states[mix_key][pos]
        if ref_a is not None and ref_b is not None:
            both.append((h, states[ref_a[0]][ref_a[1]], states[ref_b[0]][ref_b[1]], lam))
        else:
            ref = ref_a or ref_b
            if ref is not None:
                one_sided.append(
                    float(torch.nn.functional.cosine_similarity(h, states[ref[0]][ref[1]], dim=0))
                )
    if both:
        mixed, side_a, side_b, lam = zip(*both, strict=True)
        sims = pair_similarities(
            torch.stack(mixed), torch.stack(side_a), torch.stack(side_b), list(lam)
        )
    else:
        sims = {}
    out = similarity_summary(sims, one_sided)
    out["mixes"] = probes.mixes.get(condition, 0)
    out["side_b_reference"] = dict(probes.references.get(condition, Counter()))
    return out


def semantic_check(prep: Any, config: Any, n: int, *, run_model: Path | None = None) -> dict:
    """The semantic block of the report: the method's mixes, mixup's and random partners'."""
    from segmix.augment import make_augmenter

    augmenter = prep.augmenter
    if getattr(mixing_part(augmenter), "pool_kind", None) == "lada":
        return {
            "skipped": "lada mixes the states an encoder layer outputs, not the word "
            "embeddings: this embedding-level check does not apply"
        }
    seed = config.seed
    sample = draw_sample(augmenter, prep, n, np.random.default_rng([seed, 1]))
    probes = Probes()
    add_probes(probes, "method", sample, prep)
    mixup = make_augmenter(
        "mixup", prep.task.name, alpha=config.alpha, lambda_max=config.lambda_max
    ).fit(prep.encoded["train"], prep.data.labels, prep.cache)
    if mixup.n_eligible:
        add_probes(
            probes, "mixup", draw_sample(mixup, prep, n, np.random.default_rng([seed, 2])), prep
        )
    add_probes(
        probes,
        "random",
        random_partner_sample(sample, prep, np.random.default_rng([seed, 3])),
        prep,
    )
    vocab = max(int(max(a.max(), b.max())) for a, b, _ in probes.sequences.values()) + 1
    model = load_encoder(config.model, run_model=run_model, vocab_size=vocab, seed=seed)
    states = encode_states(model, probes, prep.cache.pad_id)
    from segmix.encoding import resolve_model

    return {
        "encoder": str(run_model) if run_model is not None else resolve_model(config.model),
        "from_run": run_model is not None,
        "sample": n,
        "sequences_encoded": sum(1 for k in probes.sequences if probes.wanted[k]),
        "conditions": {
            c: condition_figures(probes, c, states) for c in ("method", "mixup", "random")
        },
    }
