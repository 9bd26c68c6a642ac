"""The paper's "mixtures" for tagging: a rule rewrites a sentence, then SegMix mixes it.

``A+B`` (``mmix+mr``, ``tmix+lwtr``, ``smix+rules`` …) is SegMix variant A (``mmix``, ``tmix``,
``smix``) applied after rule B (``lwtr``, ``sr``, ``mr``, ``sis``, ``rules``): B draws a new
discrete sentence from a training sentence (:mod:`segmix.augment.rules`), then A mixes ``k`` of
*that* sentence's segments with partners from A's own pool, drawn exactly as A draws them for a
training sentence (``same_type``, ``same_label``, ``entities_only``, SMix's synonyms; never a
partner with the segment's own surface form: :meth:`SegMixAugmenter.foreign_partners`). The
result is one :class:`~segmix.mixing.MixedExample` whose ``words`` are the rewritten sentence,
as :class:`segmix.augment.relation_rules.RelationMixture` does for relations.

Drawing and applying are split as in the other augmenters: :meth:`SegmentRuleMixture.sample_params`
draws a :class:`MixtureParams` (the rule's :class:`~segmix.augment.rules.RuleParams`, then the
spans, partners and λ of the mix), :meth:`SegmentRuleMixture.apply` rebuilds the example from it
deterministically. A draw that does not fit the model's maximum length is redrawn, never
truncated.

Usage::

    mix = make_augmenter("mmix+mr", same_type=True).fit(train_examples, labels, cache)
    new = mix.generate(40, np.random.default_rng(0))
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from segmix.augment import (
    MIXTURE_MIXERS,
    MIXTURE_RULES,
    augmenter_class,
    mixture_class_name,
)
from segmix.augment.pools import LabelSpace, segment_of
from segmix.augment.rules import RuleAugmenter, RuleParams, draw_and_apply, draw_until
from segmix.augment.segments import MixTrace, SegMixAugmenter, in_sentence_order
from segmix.encoding import IGNORE_INDEX, SubwordCache
from segmix.mixing import MixedExample, Segment, mix_segments, pair_widths
from segmix.tasks.tagging.encoding import TaggedExample, mention_spans


@dataclass(frozen=True)
class MixtureParams:
    """Everything random about one mixture; ``apply`` needs nothing else.

    ``rule`` is the rewrite; ``spans`` are word spans of the *rewritten* sentence (sorted, not
    overlapping), each mixed with ``partners[i]`` at weight ``lams[i]``.
    """

    rule: RuleParams
    spans: tuple[tuple[int, int], ...]
    partners: tuple[Segment, ...]
    lams: tuple[float, ...]

    @property
    def source(self) -> int:
        """The training sentence the rule rewrote."""
        return self.rule.source


#: options that belong to one rule, passed on by the mixtures of that rule only (``mmix+mr``
#: takes ``mr_draw``, ``mmix+sis`` does not): a mixture's signature lists exactly what its rule
#: reads, so its run records, and its cell hashes, only those (``TrainConfig.augmenter_options``)
RULE_ONLY_OPTIONS: tuple[str, ...] = ("lwtr_stop_words", "mr_draw")


def accepted_options(cls: type) -> set[str]:
    """The keyword arguments ``cls`` accepts, over its MRO (as ``TrainConfig`` reads them)."""
    names: set[str] = set()
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    for klass in cls.__mro__:
        if "__init__" in klass.__dict__:
            params = inspect.signature(klass.__init__).parameters.values()
            names |= {p.name for p in params if p.kind not in variadic}
    return names - {"self"}


def tagged_example(
    words: Sequence[str],
    word_labels: np.ndarray,
    cache: SubwordCache,
    space: LabelSpace,
    *,
    id: int = -1,
) -> TaggedExample:
    """A new sentence (words and word label ids) encoded as a training sentence would be."""
    enc = cache.encode(words)
    labels = np.full(len(enc.ids), IGNORE_INDEX, dtype=np.int64)
    labels[enc.word_starts] = word_labels
    return TaggedExample(
        words=tuple(words),
        ids=enc.ids,
        labels=labels,
        word_starts=enc.word_starts,
        word_lens=enc.word_lens,
        word_labels=np.asarray(word_labels, dtype=np.int64),
        mentions=tuple(mention_spans([space.labels[int(k)] for k in word_labels])),
        id=id,
    )


class SegmentRuleMixture:
    """``A+B``: rule B rewrites a training sentence, SegMix variant A mixes the rewrite.

    One class per pair, made by :func:`mixture_class` (``mix_name`` and ``rule_name`` name the
    parts). The options are both parts'; each part takes those its own class accepts (``p`` goes
    to the rule; ``alpha``, ``k``, ``pad_label``, ``lambda_max``, ``same_type``,
    ``same_label``, ``entities_only`` to the variant; ``max_tries`` and ``lexicon`` to both,
    so that SMix after SR looks synonyms up once). A rule's own options
    (:data:`RULE_ONLY_OPTIONS`: LwTR's ``lwtr_stop_words``, MR's ``mr_draw``, both for
    ``rules``) are taken by that rule's mixtures only. ``rules_schedule`` is not: a mixture
    draws its originals itself and asks the rule for one rewrite at a time.

    Originals are drawn uniformly among the training sentences that the rule can change *and*
    that the variant can mix (the variant's candidates are then looked up on the rewrite; every
    rule keeps the tag structure, so a sentence with a mention keeps one). A rewrite with no
    candidate that has a partner, or whose mix exceeds the model's maximum length after
    ``max_tries`` partner draws, is redrawn.
    """

    name: ClassVar[str] = ""
    mix_name: ClassVar[str] = ""
    rule_name: ClassVar[str] = ""

    def __init__(
        self,
        *,
        alpha: float = 8.0,
        k: int = 1,
        pad_label: str = "inside",
        lambda_max: bool = False,
        same_type: bool = False,
        same_label: bool = False,
        entities_only: bool = False,
        p: float = 0.3,
        max_tries: int = 10,
        lexicon: Any = None,
        **rule_options: Any,
    ) -> None:
        if not self.name:
            raise TypeError("make a mixture class with mixture_class(mix, rule)")
        given = {
            "alpha": alpha,
            "k": k,
            "pad_label": pad_label,
            "lambda_max": lambda_max,
            "same_type": same_type,
            "same_label": same_label,
            "entities_only": entities_only,
            "p": p,
            "max_tries": max_tries,
            "lexicon": lexicon,
        }
        mix_cls = augmenter_class(self.mix_name, "ner")
        rule_cls = augmenter_class(self.rule_name, "ner")
        mine, theirs = accepted_options(mix_cls), accepted_options(rule_cls)
        unknown = sorted(set(rule_options) - (theirs & set(RULE_ONLY_OPTIONS)))
        if unknown:
            raise TypeError(f"{self.name}: unexpected option {', '.join(unknown)}")
        self.mix: SegMixAugmenter = mix_cls(**{o: v for o, v in given.items() if o in mine})
        self.rule: RuleAugmenter = rule_cls(
            **{o: v for o, v in given.items() if o in theirs}, **rule_options
        )
        self.max_tries = int(max_tries)
        self._eligible = np.zeros(0, dtype=np.int64)

    # -- fitting -------------------------------------------------------------------------------
    def fit(
        self, examples: Sequence[TaggedExample], labels: Sequence[str], cache: SubwordCache
    ) -> SegmentRuleMixture:
        """Fit both parts on the training set; return ``self``."""
        self.mix.fit(examples, labels, cache)
        lexicon = getattr(self.mix, "lexicon", None)
        if lexicon is not None and getattr(self.rule, "lexicon", False) is None:
            self.rule.lexicon = lexicon  # SMix's lexicon serves SR: WordNet is read once
        self.rule.fit(examples, labels, cache)
        self.examples, self.cache, self.space = examples, cache, LabelSpace(labels)
        self.max_length = cache.max_length
        both = set(self.rule._eligible.tolist()) & set(self.mix._eligible.tolist())
        if not self.rule.n_eligible:  # p = 0: the rule changes nothing
            both = set()
        self._eligible = np.asarray(sorted(both), dtype=np.int64)
        return self

    @property
    def n_eligible(self) -> int:
        """Training sentences the rule can change and the variant can mix."""
        return len(self._eligible)

    # -- drawing and applying ------------------------------------------------------------------
    def rewrite(self, params: RuleParams) -> TaggedExample:
        """The rule's new sentence, encoded (the sentence the variant mixes)."""
        words, word_labels = self.rule.new_sentence(params)
        return tagged_example(
            words, word_labels, self.cache, self.space, id=self.examples[params.source].id
        )

    def sample_params(
        self, rng: np.random.Generator, source: int | None = None
    ) -> MixtureParams | None:
        """One mixture's parameters; ``source`` pins the original. ``None`` when this draw does
        not fit (the rule changed nothing, the rewrite has no segment with a partner, or every
        partner draw is too long); the caller draws again."""
        if source is None:
            if not self.n_eligible:
                return None
            source = int(self._eligible[rng.integers(len(self._eligible))])
        rewritten = self.rule.sample_params(rng, source)
        if rewritten is None:
            return None
        new = self.rewrite(rewritten)
        choices = []
        for span in sorted(self.mix.candidate_spans(new)):
            found = self.mix.foreign_partners(new, span)
            if found is not None:
                choices.append((span, found))
        if not choices:
            return None
        # min(k, count) distinct segments, kept in sentence order (as the variant does)
        picked = np.sort(
            rng.choice(len(choices), size=min(self.mix.k, len(choices)), replace=False)
        )
        spans = tuple(choices[int(i)][0] for i in picked)
        ranges = [choices[int(i)][1] for i in picked]
        for _ in range(self.max_tries):
            partners = tuple(r.draw(rng) for r in ranges)
            if self._mixed_length(new, spans, partners) <= self.max_length:
                lams = tuple(float(x) for x in self.mix.draw_lambdas(rng, len(spans)))
                return MixtureParams(rewritten, spans, partners, lams)
        return None

    def draw_params(self, rng: np.random.Generator, n: int) -> list[MixtureParams]:
        """The parameters of up to ``n`` mixtures, drawing again where a draw does not fit (up
        to ``20 n`` draws: fewer only where hardly any rewrite can be mixed)."""
        out: list[MixtureParams] = []
        for _ in range(20 * n):
            if len(out) >= n:
                break
            params = self.sample_params(rng)
            if params is not None:
                out.append(params)
        return out

    traceable: ClassVar[bool] = True

    def trace(self, params: MixtureParams) -> MixTrace:
        """Side a is the rewrite; each partner was cut from a training sentence by the
        variant's pool (or is a synonym: ``substituted``)."""
        return MixTrace(
            self.rewrite(params.rule),
            tuple(in_sentence_order(params.spans, [self.mix.place_of(p) for p in params.partners])),
            substituted=self.mix.pool_kind == "synonyms",
        )

    @staticmethod
    def _mixed_length(
        example: TaggedExample, spans: Sequence[tuple[int, int]], partners: Sequence[Segment]
    ) -> int:
        """Sub-words of the mix, without building it."""
        n = len(example.ids)
        for (w0, w1), partner in zip(spans, partners, strict=True):
            own = [int(x) for x in example.word_lens[w0:w1]]
            n += sum(pair_widths(own, [len(p) for p in partner.pieces])) - sum(own)
        return n

    def apply(self, params: MixtureParams) -> MixedExample:
        """Build the mixture from its parameters (deterministic): the rewrite, mixed."""
        new = self.rewrite(params.rule)
        own = [segment_of(new, s, e, self.mix.space) for s, e in params.spans]
        mixed = mix_segments(
            new.ids,
            new.labels,
            new.word_starts,
            new.word_lens,
            params.spans,
            own,
            params.partners,
            params.lams,
            pad_id=self.mix.pad_id,
            pad_label=self.mix.mix_pad_label,
            o_label=self.mix.space.o,
            source=params.source,
        )
        if len(mixed.ids_a) > self.max_length:
            raise ValueError(
                f"{self.name}: the mix of example {params.source} is {len(mixed.ids_a)} "
                f"sub-words long, over the model's limit of {self.max_length}"
            )
        mixed.words = new.words  # the rewritten sentence the segments were mixed into
        return mixed

    def generate(self, n: int, rng: np.random.Generator) -> list[MixedExample]:
        """``n`` mixtures (fewer only if no draw fits within the bounded attempts)."""
        return draw_until(n, self.n_eligible, lambda: draw_and_apply(self, rng))

    def describe(self) -> dict:
        """The settings of both parts, for the run's config.json."""
        rule = {k: v for k, v in self.rule.describe().items() if k != "rules_schedule"}
        return {"name": self.name, "mix": self.mix.describe(), "rule": rule}


def _init_taking(rule_cls: type, options: Sequence[str]):
    """An ``__init__`` whose signature is :class:`SegmentRuleMixture`'s plus ``options`` (with
    the rule's defaults), so that reading the signature gives exactly what the mixture uses."""

    def __init__(self, **kwargs: Any) -> None:
        SegmentRuleMixture.__init__(self, **kwargs)

    base = inspect.signature(SegmentRuleMixture.__init__)
    defaults = inspect.signature(rule_cls.__init__).parameters
    params = [p for p in base.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    params += [
        inspect.Parameter(o, inspect.Parameter.KEYWORD_ONLY, default=defaults[o].default)
        for o in options
    ]
    __init__.__signature__ = base.replace(parameters=params)  # type: ignore[attr-defined]
    return __init__


def mixture_class(mix: str, rule: str) -> type[SegmentRuleMixture]:
    """The mixture class of variant ``mix`` after rule ``rule``."""
    rule_cls = augmenter_class(rule, "ner")
    own = [o for o in RULE_ONLY_OPTIONS if o in accepted_options(rule_cls)]
    namespace: dict[str, Any] = {
        "name": f"{mix}+{rule}",
        "mix_name": mix,
        "rule_name": rule,
        "__doc__": f"``{mix}+{rule}``: {mix} mixes the sentences {rule} rewrites.",
        "__module__": __name__,
    }
    if own:
        namespace["__init__"] = _init_taking(rule_cls, own)
    return type(mixture_class_name(mix, rule), (SegmentRuleMixture,), namespace)


#: every mixture class, by its ``--augment`` name; each is also a module attribute
MIXTURES: dict[str, type[SegmentRuleMixture]] = {
    f"{a}+{b}": mixture_class(a, b) for a in MIXTURE_MIXERS for b in MIXTURE_RULES
}
globals().update({cls.__name__: cls for cls in MIXTURES.values()})
