"""Statistics for a grid report: per-example sufficient statistics, bootstraps, tests, power.

A gain measured on a small grid varies on two axes: the *training run* (seed: subset, order,
initialisation) and the *test sentences* it is scored on. The seed-level paired t-test sees the
first only. A bootstrap over test sentences alone, with the trained models held fixed, sees the
second only: its interval is narrow (0.3–0.5 F1 on CoNLL-2003) and calls a gain that half the
seeds reverse "evidence". The interval a verdict rests on therefore resamples both: the
**two-way bootstrap** (:func:`paired_bootstrap` with ``resample_seeds=True``) draws the paired
seeds with replacement and, independently, the test sentences, because the design is crossed
(every seed is scored on the same sentences), which is Owen's pigeonhole bootstrap for crossed
random effects; it is mildly conservative there, where a nested draw (sentences within seed)
would treat the shared test set as if each seed had its own. The sentence-only bootstrap is
kept as a secondary figure.

With 5 seeds the percentile interval over seeds is slightly too narrow (the bootstrap's variance
is ``(S-1)/S`` of the sample variance), which is why the report's rule also asks the paired
t-test, Holm-adjusted, which is exact for normal gains at any number of seeds. Neither alone is
a verdict.

The corpus-level metrics are not means over examples (entity micro F1, SemEval's macro F1 over
relation types), so a resample cannot average per-example scores: each example contributes
*counts* instead — per type: correct, predicted, gold — and the metric is recomputed from the
counts summed over a resample. Summed over every example, those counts give exactly
:func:`segmix.tasks.tagging.metrics.ner_scores` and
:func:`segmix.tasks.relations.task.relation_scores`
(``tests/experiment/test_report.py`` checks both).

A resample is a vector of how often each example was drawn, so the summed counts of ``B``
resamples are one matrix product ``(B, n) @ (n, T·3)``: no Python loop over resamples or
examples.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = [
    "BootstrapResult",
    "DetectableGain",
    "PairedTests",
    "SufficientStats",
    "detectable_gain",
    "holm",
    "min_wilcoxon_p",
    "ner_sentence_stats",
    "paired_bootstrap",
    "paired_tests",
    "re_example_stats",
    "resample_counts",
    "seeds_needed",
    "t_test_power",
]

#: How the headline is computed from the summed counts.
#: ``micro``: entity micro F1 (conlleval); ``macro``: SemEval-2010 Task 8 official macro F1 over
#: the types present in gold; ``tacred``: micro F1 without ``no_relation`` (precision 1 when
#: nothing is predicted, as TACRED's scorer); ``accuracy``: exact-match accuracy.
ScoreKind = Literal["micro", "macro", "tacred", "accuracy"]

CORRECT, PREDICTED, GOLD = 0, 1, 2


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` with 0 where ``den == 0`` (the scorers' zero_division=0)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.zeros(np.broadcast(num, den).shape)
    np.divide(num, den, out=out, where=den != 0)
    return out


def _f1(p: np.ndarray, r: np.ndarray) -> np.ndarray:
    # seqeval's and the SemEval scorer's formula, 2PR / (P + R), so sums reproduce them exactly
    return _div(2 * p * r, p + r)


@dataclass(frozen=True)
class SufficientStats:
    """Per-example counts from which a corpus-level score is recomputed for any resample.

    ``counts[i, t]`` = (correct, predicted, gold) of type ``types[t]`` in example ``i``.
    """

    counts: np.ndarray
    types: tuple[str, ...]
    kind: ScoreKind

    def __post_init__(self) -> None:
        if self.counts.ndim != 3 or self.counts.shape[1:] != (len(self.types), 3):
            raise ValueError(
                f"counts should be of shape (examples, {len(self.types)}, 3) but got "
                f"{self.counts.shape}"
            )

    def __len__(self) -> int:
        return self.counts.shape[0]

    def summed(self, weights: np.ndarray | None = None) -> np.ndarray:
        """Counts summed over examples, ``(T, 3)``; with ``weights (B, n)``: ``(B, T, 3)``."""
        if weights is None:
            return self.counts.sum(axis=0)
        n, t = self.counts.shape[:2]
        flat = self.counts.reshape(n, t * 3).astype(np.float64)
        return (weights @ flat).reshape(weights.shape[0], t, 3)

    def score(self, weights: np.ndarray | None = None) -> float | np.ndarray:
        """The headline (a fraction) on all examples, or one per resample row of ``weights``."""
        values = score_from_counts(self.summed(weights), self.kind)
        return float(values) if weights is None else values

    def per_type_f1(self) -> dict[str, float]:
        """F1 per type on all examples (as the scorers' per-type figures)."""
        c = self.summed()
        p = _div(c[:, CORRECT], c[:, PREDICTED])
        r = _div(c[:, CORRECT], c[:, GOLD])
        return {t: float(f) for t, f in zip(self.types, _f1(p, r), strict=True)}

    def align(self, types: Sequence[str]) -> SufficientStats:
        """The same counts over ``types`` (a superset), zero for types this one never saw."""
        missing = set(self.types) - set(types)
        if missing:
            raise ValueError(f"cannot align: types {sorted(missing)} would be dropped")
        if tuple(types) == self.types:
            return self
        out = np.zeros((len(self), len(types), 3), dtype=self.counts.dtype)
        index = {t: i for i, t in enumerate(types)}
        for j, t in enumerate(self.types):
            out[:, index[t]] = self.counts[:, j]
        return SufficientStats(out, tuple(types), self.kind)


def score_from_counts(summed: np.ndarray, kind: ScoreKind) -> np.ndarray:
    """The headline from summed counts ``(..., T, 3)``; vectorised over the leading axes."""
    correct, predicted, gold = summed[..., CORRECT], summed[..., PREDICTED], summed[..., GOLD]
    if kind == "micro":
        tp, pr, gd = correct.sum(-1), predicted.sum(-1), gold.sum(-1)
        return _f1(_div(tp, pr), _div(tp, gd))
    if kind == "macro":
        f1 = _f1(_div(correct, predicted), _div(correct, gold))
        scored = gold > 0  # the types present in gold are the ones averaged over
        return _div((f1 * scored).sum(-1), scored.sum(-1))
    if kind == "tacred":
        tp, pr, gd = correct.sum(-1), predicted.sum(-1), gold.sum(-1)
        precision = np.where(pr > 0, _div(tp, pr), 1.0)
        return _f1(precision, _div(tp, gd))
    if kind == "accuracy":
        return _div(correct.sum(-1), gold.sum(-1))
    raise ValueError(f"unknown score kind {kind!r}; expected micro, macro, tacred or accuracy")


def ner_sentence_stats(
    gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]
) -> SufficientStats:
    """Per-sentence, per-type entity counts, chunked as
    :func:`segmix.tasks.tagging.metrics.ner_scores` chunks them.

    Entities are seqeval's default-mode chunks (conlleval's definition: an ``I-X`` after ``O`` or
    after another type starts an entity). An entity is correct when type, start and end agree.
    seqeval chunks a corpus as its sentences joined by ``O``, so per-sentence counts sum to its
    corpus counts exactly.
    """
    from seqeval.metrics.sequence_labeling import get_entities

    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold sentences but {len(pred)} predicted ones")
    rows: list[tuple[dict[str, int], dict[str, int], dict[str, int]]] = []
    types: set[str] = set()
    for i, (g, p) in enumerate(zip(gold, pred, strict=True)):
        if len(g) != len(p):
            raise ValueError(f"sentence {i}: {len(g)} gold tags but {len(p)} predicted")
        g_ents, p_ents = set(get_entities(list(g))), set(get_entities(list(p)))
        row: tuple[dict[str, int], dict[str, int], dict[str, int]] = ({}, {}, {})
        for slot, ents in ((CORRECT, g_ents & p_ents), (PREDICTED, p_ents), (GOLD, g_ents)):
            for etype, _start, _end in ents:
                row[slot][etype] = row[slot].get(etype, 0) + 1
                types.add(etype)
        rows.append(row)
    ordered = tuple(sorted(types))
    index = {t: j for j, t in enumerate(ordered)}
    counts = np.zeros((len(rows), len(ordered), 3), dtype=np.int64)
    for i, row in enumerate(rows):
        for slot in (CORRECT, PREDICTED, GOLD):
            for etype, c in row[slot].items():
                counts[i, index[etype], slot] = c
    return SufficientStats(counts, ordered, "micro")


def re_example_stats(
    gold: Sequence[str], pred: Sequence[str], kind: ScoreKind = "macro"
) -> SufficientStats:
    """Per-example counts for the relation metric ``kind`` (see :data:`ScoreKind`).

    ``macro`` (SemEval-2010 Task 8): per relation type (direction stripped, ``Other`` never a
    type): correct = exact match (type *and* direction) of that gold type; predicted = a
    prediction of that type in either direction (a wrong direction counts, as in the official
    scorer); gold = a gold example of that type. ``tacred``: one column with correct / predicted
    / gold outside ``no_relation``. ``accuracy``: correct / 1 / 1 per example.
    """
    from segmix.tasks.relations.metrics import SEMEVAL_TYPES, strip_direction

    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold labels but {len(pred)} predictions")
    n = len(gold)
    if kind == "macro":
        index = {t: j for j, t in enumerate(SEMEVAL_TYPES)}
        counts = np.zeros((n, len(SEMEVAL_TYPES), 3), dtype=np.int64)
        for i, (g, p) in enumerate(zip(gold, pred, strict=True)):
            gt, pt = strip_direction(g), strip_direction(p)
            if gt in index:
                counts[i, index[gt], GOLD] = 1
                if g == p:
                    counts[i, index[gt], CORRECT] = 1
            if pt in index:
                counts[i, index[pt], PREDICTED] = 1
        return SufficientStats(counts, SEMEVAL_TYPES, "macro")
    if kind in ("tacred", "accuracy"):
        g_arr, p_arr = np.asarray(gold, dtype=object), np.asarray(pred, dtype=object)
        counts = np.zeros((n, 1, 3), dtype=np.int64)
        if kind == "tacred":
            negative = "no_relation"
            counts[:, 0, CORRECT] = (g_arr == p_arr) & (g_arr != negative)
            counts[:, 0, PREDICTED] = p_arr != negative
            counts[:, 0, GOLD] = g_arr != negative
            return SufficientStats(counts, ("relation",), "tacred")
        counts[:, 0, CORRECT] = g_arr == p_arr
        counts[:, 0, PREDICTED] = 1
        counts[:, 0, GOLD] = 1
        return SufficientStats(counts, ("example",), "accuracy")
    raise ValueError(f"no relation statistics for score kind {kind!r}")


def resample_counts(n: int, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """``(resamples, n)``: how often each of ``n`` examples is drawn in each resample.

    Each row is ``n`` draws with replacement; the same rows serve every method and seed, which
    is what makes the bootstrap *paired*.
    """
    idx = rng.integers(0, n, size=(resamples, n))
    flat = (idx + np.arange(resamples)[:, None] * n).ravel()
    return np.bincount(flat, minlength=resamples * n).reshape(resamples, n).astype(np.float64)


@dataclass(frozen=True)
class BootstrapResult:
    """A paired bootstrap of the mean-over-seeds gain, in the metric's own scale (fractions).

    ``gain`` is the observed gain on the full test set; ``low``/``high`` the percentile interval;
    ``p`` the one-sided share of resamples whose gain is ≤ 0 (0 means "< 1/resamples": see
    :attr:`p_floor`). ``scheme`` says what was resampled: ``seeds×sentences`` (the two-way
    bootstrap that carries training variance) or ``sentences`` (test sentences only, the models
    held fixed).
    """

    gain: float
    low: float
    high: float
    p: float
    resamples: int
    examples: int
    seeds: int
    level: float
    scheme: str = "sentences"

    @property
    def p_floor(self) -> float:
        """The smallest p this many resamples can resolve: ``1 / resamples``."""
        return 1.0 / self.resamples


def paired_bootstrap(
    method: Sequence[SufficientStats],
    base: Sequence[SufficientStats],
    *,
    resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    chunk: int = 250,
    resample_seeds: bool = False,
) -> BootstrapResult:
    """Bootstrap the gain of ``method`` over ``base``, paired by seed and by test example.

    ``method[s]`` and ``base[s]`` are one seed's statistics on the same test examples. Every
    resample draws example indices with replacement once and applies them to every seed and both
    sides. Its gain is the mean over seeds of ``score(method) - score(base)``; with
    ``resample_seeds`` the seeds averaged over are themselves drawn with replacement (the
    two-way bootstrap), independently of the examples. Resamples are drawn from
    ``numpy.random.default_rng(seed)`` in chunks of ``chunk`` (bounded memory), so the same
    ``seed`` and example count give the same resamples for every row of a report.
    """
    return paired_bootstraps(
        method, base, resamples=resamples, seed=seed, level=level, chunk=chunk
    )[1 if resample_seeds else 0]


def paired_bootstraps(
    method: Sequence[SufficientStats],
    base: Sequence[SufficientStats],
    *,
    resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    chunk: int = 250,
) -> tuple[BootstrapResult, BootstrapResult]:
    """``(sentences only, seeds × sentences)`` from one pass over the same example resamples.

    Both share every example resample, so the two intervals differ only by the seed draw: the
    widening from the first to the second is the training variance the first leaves out.
    """
    if len(method) != len(base) or not method:
        raise ValueError(
            f"need the same positive number of seeds on both sides, got {len(method)} and "
            f"{len(base)}"
        )
    n = len(method[0])
    for s in (*method, *base):
        if len(s) != n:
            raise ValueError(f"every seed must score the same {n} examples, one has {len(s)}")
    if resamples < 1:
        raise ValueError(f"resamples must be ≥ 1, got {resamples}")
    pairs = []
    for m, b in zip(method, base, strict=True):
        types = tuple(sorted(set(m.types) | set(b.types)))
        pairs.append((m.align(types), b.align(types)))
    observed = float(np.mean([m.score() - b.score() for m, b in pairs]))
    n_seeds = len(pairs)
    rng = np.random.default_rng(seed)
    # the seeds are drawn from a stream of their own, so the example resamples are the same
    # ones a sentence-only bootstrap with this seed draws
    seed_rng = np.random.default_rng([seed, 1])
    sentence_gains = np.empty(resamples)
    two_way_gains = np.empty(resamples)
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        weights = resample_counts(n, size, rng)
        per_seed = np.stack([m.score(weights) - b.score(weights) for m, b in pairs])  # (S, B)
        sentence_gains[start : start + size] = per_seed.mean(axis=0)
        drawn = seed_rng.multinomial(n_seeds, np.full(n_seeds, 1.0 / n_seeds), size=size)  # (B, S)
        two_way_gains[start : start + size] = (drawn * per_seed.T).sum(axis=1) / n_seeds
    tail = (1 - level) / 2

    def result(gains: np.ndarray, scheme: str) -> BootstrapResult:
        low, high = np.quantile(gains, [tail, 1 - tail])
        return BootstrapResult(
            gain=observed,
            low=float(low),
            high=float(high),
            p=float(np.mean(gains <= 0)),
            resamples=resamples,
            examples=n,
            seeds=n_seeds,
            level=level,
            scheme=scheme,
        )

    return result(sentence_gains, "sentences"), result(two_way_gains, "seeds×sentences")


@dataclass(frozen=True)
class PairedTests:
    """Seed-level tests on per-seed gains; ``None`` where a test cannot be computed (``why``)."""

    n: int
    mean: float | None
    std: float | None
    t_p: float | None
    wilcoxon_p: float | None
    t_why: str | None = None
    wilcoxon_why: str | None = None


def paired_tests(gains: Sequence[float]) -> PairedTests:
    """Two-sided paired t-test (``ttest_1samp`` of the gains against 0, equal to ``ttest_rel``)
    and Wilcoxon signed-rank test (scipy's defaults) on per-seed gains.

    Wilcoxon cannot be computed with fewer than 2 seeds or when every gain is 0; the t-test
    needs 2 seeds. scipy is imported here so the rest of a report works without it.
    """
    values = [float(g) for g in gains]
    n = len(values)
    mean = float(np.mean(values)) if values else None
    std = float(np.std(values, ddof=1)) if n > 1 else None
    if n < 2:
        why = f"{n} paired seed{'s' if n != 1 else ''}; a test needs 2"
        return PairedTests(n, mean, std, None, None, why, why)
    try:
        from scipy import stats
    except ImportError:  # pragma: no cover - scipy is a dev/report dependency
        why = "scipy is not installed"
        return PairedTests(n, mean, std, None, None, why, why)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        t_p = float(stats.ttest_1samp(values, 0.0).pvalue)
    t_why = None
    if math.isnan(t_p):
        t_p, t_why = None, "the t statistic is undefined (all gains 0)"
    if all(v == 0 for v in values):
        return PairedTests(n, mean, std, t_p, None, t_why, "every gain is 0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            w_p: float | None = float(stats.wilcoxon(values).pvalue)
            w_why = None
        except ValueError as err:
            w_p, w_why = None, str(err)
    if w_p is not None and math.isnan(w_p):
        w_p, w_why = None, "scipy returned no p-value"
    return PairedTests(n, mean, std, t_p, w_p, t_why, w_why)


def min_wilcoxon_p(n: int) -> float:
    """The smallest two-sided p the exact Wilcoxon test can reach with ``n`` non-zero gains.

    All ``n`` gains of one sign is the most extreme of ``2**n`` equally likely sign patterns,
    on either side: ``2 / 2**n`` (0.0625 for 5 seeds, so 5 seeds can never reach p < 0.05).
    """
    return min(1.0, 2.0 / 2**n) if n > 0 else 1.0


def holm(pvalues: Sequence[float | None]) -> list[float | None]:
    """Holm–Bonferroni adjusted p-values (``None`` stays ``None`` and is not counted)."""
    known = sorted((p, i) for i, p in enumerate(pvalues) if p is not None)
    m = len(known)
    out: list[float | None] = [None] * len(pvalues)
    running = 0.0
    for rank, (p, i) in enumerate(known):
        running = max(running, min(1.0, (m - rank) * p))
        out[i] = running
    return out


def t_test_power(effect: float, sd: float, n: int, alpha: float) -> float:
    """Power of the two-sided one-sample (paired) t-test at level ``alpha`` with ``n`` seeds to
    detect a true mean gain ``effect`` when per-seed gains spread with standard deviation
    ``sd``: the noncentral t distribution, exact for normal gains (no large-sample shortcut, which
    overstates power at 5 seeds)."""
    from scipy import stats

    if n < 2 or sd <= 0:
        return float("nan")
    df = n - 1
    critical = stats.t.ppf(1 - alpha / 2, df)
    noncentrality = effect * math.sqrt(n) / sd
    upper = stats.nct.sf(critical, df, noncentrality)
    lower = stats.nct.cdf(-critical, df, noncentrality)  # NaN far in the tail: it is 0 there
    return float(min(1.0, upper + (0.0 if math.isnan(lower) else lower)))


@dataclass(frozen=True)
class DetectableGain:
    """What a grid of ``n`` paired seeds could have detected at one size (see
    :func:`detectable_gain`). Gains in the scale of ``sd`` (F1 points in a report)."""

    n: int
    sd: float
    alpha: float
    power: float
    gain: float | None  # the minimum detectable gain; None where it cannot be computed
    seeds_for: dict[str, int | None]  # target gain -> seeds needed (None: more than max_seeds)


def detectable_gain(
    sd: float,
    n: int,
    alpha: float,
    *,
    power: float = 0.8,
    targets: Sequence[float] = (1.0, 2.0),
    max_seeds: int = 200,
) -> DetectableGain:
    """The smallest true gain the paired t-test at ``alpha`` detects with probability ``power``
    from ``n`` seeds whose gains spread by ``sd``; and, per target gain, the seeds that target
    would need. This is what turns "no evidence of a gain" into "no gain larger than X could
    have been seen here", so an absent verdict is not read as an absent effect."""
    from scipy.optimize import brentq

    if n < 2 or not sd > 0 or not math.isfinite(sd):
        return DetectableGain(n, sd, alpha, power, None, dict.fromkeys(map(_key, targets)))
    upper = sd
    while t_test_power(upper, sd, n, alpha) < power:
        upper *= 2
    gain = float(brentq(lambda d: t_test_power(d, sd, n, alpha) - power, 0.0, upper, xtol=1e-6))
    return DetectableGain(
        n,
        sd,
        alpha,
        power,
        gain,
        {_key(t): seeds_needed(t, sd, alpha, power, max_seeds) for t in targets},
    )


def seeds_needed(
    gain: float, sd: float, alpha: float, power: float = 0.8, max_seeds: int = 200
) -> int | None:
    """The fewest paired seeds (≥ 2) at which the t-test reaches ``power`` for ``gain``; None
    when even ``max_seeds`` do not."""
    if not sd > 0 or gain <= 0:
        return None
    low, high = 2, max_seeds
    if t_test_power(gain, sd, high, alpha) < power:
        return None
    while low < high:  # power rises with n: bisect
        mid = (low + high) // 2
        if t_test_power(gain, sd, mid, alpha) >= power:
            high = mid
        else:
            low = mid + 1
    return low


def _key(target: float) -> str:
    return f"{target:g}"
