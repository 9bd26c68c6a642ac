"""Pool coverage: what an augmenter's pool holds, and how much of dev and test it has seen.

A SegMix variant can only mix what its pool holds, and the pool is built from the (small)
training subset. Before training, a user wants to know, per entity type (or relation): how many
segments the pool has and how many distinct ones, how long they are, and how much of the dev and
test data it has seen — a type with 12 mentions, 3 of them distinct, will not teach a model much
about the 1,600 test mentions of that type, whatever the augmentation does.

Every method that draws partners from a pool is read through one :class:`Pool`, a list of
``(group, words, sub-words)`` entries with the rule by which a dev/test mention counts as "in the
pool" (:attr:`Pool.match`):

- ``mentions`` (MMix, the mixtures ``mmix+B``): the training mentions, grouped by type; a
  dev/test mention is in the pool when its surface form (its exact words) is a pool mention, and
  its head word is in the pool when it is the head word of a pool mention. The head word of a
  mention is its **last word** (English names are head-final: *Deutsche Bank*, *Bank*).
- ``tokens`` (TMix, ``tmix+B``): every word occurrence, grouped by the type of its tag (``O``
  for words outside mentions); a mention is in the pool when every one of its words is a pool
  word, its head word when its last word is.
- ``synonyms`` (SMix, ``smix+B``): the synonym options of every training word, grouped by the
  type of the word they replace; a mention is in the pool when every one of its words is a
  training word with a synonym (so SMix could mix each of them), its head word likewise.
- ``sentences`` (whole-sequence ``mixup``, inter-LADA) and ``windows`` (SeqMix): whole training
  sentences, or windows starting on an entity tag (grouped by that tag's type); dev/test
  mentions are matched against the training mentions the sentences or windows carry, as for
  ``mentions``.
- ``arguments`` (relations: RMix, MMix, ``mixup``, ``rmix+sr``): the head and tail argument of
  every training example, grouped by relation; a dev/test argument is in the pool when its
  surface form is a pool argument (head or tail).

Word labels without spans (part-of-speech tags) have no mentions: every dev/test word is an item,
grouped by its gold tag, and is in the pool when its form is a pool word (TMix), a training word
with a synonym (SMix) or a word of the training sentences (mixup, inter-LADA)
(:func:`word_coverage`).

Which of these a task's report uses is the task's to say
(:meth:`segmix.inspect.base.Inspection.coverage`). Methods without a pool (the rules its
inspection lists, such as LwTR, SR, MR, SiS and their union; intra-LADA, which mixes a sentence
with itself) have nothing to inspect: :func:`pool_error` says so in one line.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from segmix.tasks import inspection_for

logger = logging.getLogger(__name__)

#: what a pool's segments are, in words, for the report
KIND_WORDS: dict[str, str] = {
    "mentions": "entity mentions",
    "tokens": "word occurrences",
    "synonyms": "synonym options",
    "sentences": "whole sentences",
    "windows": "windows starting on an entity tag",
    "arguments": "argument pairs",
}
#: lengths at or above these values share the histogram's last bucket ("10+")
WORD_CAP, SUBWORD_CAP = 10, 20


# --------------------------------------------------------------------------- which methods


def inspectable_methods(task: str) -> list[str]:
    """The ``--augment`` values with a pool to inspect (the mixtures A+B as their pattern, for a
    task that runs every one of them): all of the task's methods but its rules.

    Raises ``ValueError`` for a task ``segmix inspect`` does not support.
    """
    from segmix.augment import has_mixtures, method_names

    rules = inspection_for(task).rule_methods
    mixtures = has_mixtures(task)
    singles = [m for m in method_names(task)[1:] if m not in rules and not (mixtures and "+" in m)]
    return [*singles, "a mixture A+B (e.g. mmix+mr)"] if mixtures else singles


def pool_error(task: str, method: str, lada_mode: str = "inter") -> str | None:
    """The one-line error for a method without a segment pool; ``None`` for one with a pool.

    Checked before any file is read, so a wrong choice costs nothing. Raises ``ValueError``
    for a task ``segmix inspect`` does not support.
    """
    from segmix.augment import method_names

    names = inspectable_methods(task)
    choose = f"choose {', '.join(names[:-1])} or {names[-1]}"
    if method in ("none", "", None):
        return f"--augment: none makes no mixes, so there is no pool to inspect; {choose}"
    if method in inspection_for(task).rule_methods:
        return (
            f"--augment: {method} has no segment pool to inspect (it rewrites words by rule, "
            f"with hard labels); {choose}"
        )
    if method == "lada" and lada_mode == "intra" and method in method_names(task):
        return (
            "--augment: lada with --lada-mode intra mixes each sentence with itself, so it has "
            f"no segment pool to inspect; give --lada-mode inter, or {choose}"
        )
    return None


def mixing_part(augmenter: Any) -> Any:
    """The augmenter that draws from the pool: variant A of a mixture ``A+B``, else itself."""
    inner = getattr(augmenter, "mix", None)
    return inner if inner is not None and hasattr(augmenter, "rule") else augmenter


# --------------------------------------------------------------------------- distributions


def distribution(values: Iterable[float], *, cap: int | None = None) -> dict:
    """Count, mean, median, max of integer values and their histogram.

    The histogram maps each value to its count (keys are strings, for JSON); values at or above
    ``cap`` share one bucket ``"cap+"``.
    """
    arr = np.asarray(list(values), dtype=np.float64)
    out: dict[str, Any] = {"n": int(arr.size)}
    if not arr.size:
        return {**out, "mean": None, "median": None, "max": None, "histogram": {}}
    ints = arr.astype(np.int64)
    top = int(ints.max())
    shown = top if cap is None else min(top, cap)
    counts = Counter(np.minimum(ints, shown).tolist())
    hist = {}
    for v in range(int(ints.min()), shown + 1):
        key = f"{v}+" if cap is not None and v == cap and top > cap else str(v)
        hist[key] = counts.get(v, 0)
    return {
        **out,
        "mean": float(arr.mean()),
        "median": float(np.median(arr)),
        "max": int(top),
        "histogram": hist,
    }


def float_summary(values: Iterable[float], *, bins: int = 20) -> dict:
    """Count, mean, median, min, max of values in [0, 1] and a histogram of ``bins`` equal bins
    over [0, 1] (values outside are clipped into the first or last bin)."""
    arr = np.asarray(list(values), dtype=np.float64)
    if not arr.size:
        return {"n": 0, "mean": None, "median": None, "min": None, "max": None, "histogram": {}}
    counts, edges = np.histogram(np.clip(arr, 0.0, 1.0), bins=bins, range=(0.0, 1.0))
    return {
        "n": int(arr.size),
        "mean": float(arr.mean()),
        "median": float(np.median(arr)),
        "min": float(arr.min()),
        "max": float(arr.max()),
        "histogram": {"edges": [round(float(e), 4) for e in edges], "counts": counts.tolist()},
    }


def share(part: int, whole: int) -> float | None:
    """``part / whole``, or ``None`` when there is nothing to share (no NaN in the JSON)."""
    return part / whole if whole else None


# --------------------------------------------------------------------------- the pool


@dataclass
class Pool:
    """An augmenter's partner pool as plain entries, and how dev/test mentions are matched.

    ``entries`` are ``(group, words, sub-words)``, one per segment a partner can be drawn as
    (a mention, a word occurrence, a synonym option, a sentence, a window, an argument pair's
    head and tail as two entries tagged by slot in :attr:`slots`).
    """

    kind: str
    method: str
    entries: list[tuple[str, tuple[str, ...], int]]
    #: ``mention``: a dev/test mention's form and head word against :attr:`forms` and
    #: :attr:`heads`; ``words``: each of its words, and its head word, against :attr:`vocab`
    match: str
    forms: set[tuple[str, ...]] = field(default_factory=set)
    typed_forms: set[tuple[str, tuple[str, ...]]] = field(default_factory=set)
    heads: set[str] = field(default_factory=set)
    vocab: set[str] = field(default_factory=set)
    typed_vocab: set[tuple[str, str]] = field(default_factory=set)
    #: relations: the slot (head or tail) of each entry
    slots: list[str] = field(default_factory=list)
    #: what the group of an entry is, for the report ("type", "tag type", "relation", …)
    group_name: str = "type"
    #: extra figures of this kind (SMix's synonym shares)
    extra: dict = field(default_factory=dict)


def _type_of(space, label: int) -> str:
    return space.type_of[int(label)] or "O"


def _train_mentions(examples, space) -> list[tuple[int, int, int, str]]:
    """``(example, start, end, type)`` of every training mention, in pool order."""
    return [
        (i, s, e, _type_of(space, ex.word_labels[s]))
        for i, ex in enumerate(examples)
        for s, e in ex.mentions
    ]


def _add_mentions(pool: Pool, mentions, examples) -> None:
    for i, s, e, typ in mentions:
        words = tuple(examples[i].words[s:e])
        pool.forms.add(words)
        pool.typed_forms.add((typ, words))
        pool.heads.add(words[-1])


def _subwords(ex, start: int, end: int) -> int:
    return int(np.sum(ex.word_lens[start:end]))


def tagging_pool(augmenter: Any, method: str, task: str) -> Pool:
    """The pool of a fitted tagging augmenter (its mixing part for a mixture) of ``task``
    (entity or part-of-speech tagging: word labels carry no mentions, so a sentence pool
    carries none)."""
    mixer = mixing_part(augmenter)
    examples, space = mixer.examples, getattr(mixer, "space", None)
    kind = getattr(mixer, "pool_kind", None)
    if kind == "lada":  # inter-LADA: whole sentences, as mixup draws them
        if mixer.inter is None:
            raise ValueError(pool_error(task, "lada", "intra"))
        mixer = mixer.inter
        kind, space = mixer.pool_kind, mixer.space
    builder = _POOL_BUILDERS.get(kind)
    if builder is None:
        raise ValueError(
            f"--augment: {method} has no segment pool to inspect; "
            f"choose {', '.join(inspectable_methods(task))}"
        )
    return builder(mixer, method, examples, space)


def _mention_pool(mixer: Any, method: str, examples: Sequence, space: Any) -> Pool:
    mentions = _train_mentions(examples, space)
    pool = Pool("mentions", method, [], "mention")
    pool.entries = [
        (typ, tuple(examples[i].words[s:e]), _subwords(examples[i], s, e))
        for i, s, e, typ in mentions
    ]
    _add_mentions(pool, mentions, examples)
    return pool


def _token_pool(mixer: Any, method: str, examples: Sequence, space: Any) -> Pool:
    pool = Pool("tokens", method, [], "words", group_name="tag type")
    for ex in examples:
        for j, word in enumerate(ex.words):
            typ = _type_of(space, ex.word_labels[j])
            pool.entries.append((typ, (word,), int(ex.word_lens[j])))
            pool.vocab.add(word)
            pool.typed_vocab.add((typ, word))
    return pool


def _window_pool(mixer: Any, method: str, examples: Sequence, space: Any) -> Pool:
    mentions = _train_mentions(examples, space)
    pool = Pool("windows", method, [], "mention")
    carried = []
    for i, ex in enumerate(examples):
        windows = mixer.windows(ex)
        for s, e in windows:
            pool.entries.append(
                (_type_of(space, ex.word_labels[s]), tuple(ex.words[s:e]), _subwords(ex, s, e))
            )
        carried += [
            m
            for m in mentions
            if m[0] == i and any(ws <= m[1] and m[2] <= we for ws, we in windows)
        ]
    _add_mentions(pool, carried, examples)
    return pool


def _sentence_pool(mixer: Any, method: str, examples: Sequence, space: Any) -> Pool:
    mentions = _train_mentions(examples, space)
    pool = Pool("sentences", method, [], "mention", group_name="sentences")
    pool.entries = [
        ("(all)", tuple(ex.words), int(np.sum(ex.word_lens))) for ex in examples if ex.words
    ]
    _add_mentions(pool, mentions, examples)
    # the types a sentence pool can mix: those its sentences carry
    pool.extra["types_carried"] = sorted({m[3] for m in mentions})
    return pool


def _synonym_pool(mixer: Any, method: str, examples: Sequence = (), space: Any = None) -> Pool:
    """SMix: every synonym option of every training word that has one, by the word's type (read
    off the mixer's own examples and label space)."""
    space, examples = mixer.space, mixer.examples
    pool = Pool("synonyms", method, [], "words", group_name="type of the replaced word")
    tokens = with_syn = 0
    types_all: set[str] = set()
    types_syn: set[str] = set()
    candidates: Counter = Counter()
    options_per_key: list[int] = []
    seen: set[tuple[str, int, bool]] = set()
    for ex in examples:
        for j, word in enumerate(ex.words):
            key = mixer.synonym_key(ex, j)
            options = mixer.pool.options(*key)
            tokens += 1
            types_all.add(word)
            if not options:
                continue
            with_syn += 1
            types_syn.add(word)
            typ = _type_of(space, key[1])
            candidates[typ] += 1
            pool.vocab.add(word)
            pool.typed_vocab.add((typ, word))
            if key in seen:
                continue
            seen.add(key)
            options_per_key.append(len(options))
            for seg in options:
                pool.entries.append((typ, tuple(seg.words), int(sum(len(p) for p in seg.pieces))))
    pool.extra = {
        "train_tokens": tokens,
        "train_tokens_with_synonym": with_syn,
        "token_share_with_synonym": share(with_syn, tokens),
        "train_types": len(types_all),
        "train_types_with_synonym": len(types_syn),
        "type_share_with_synonym": share(len(types_syn), len(types_all)),
        "candidates_per_type": dict(sorted(candidates.items())),
        "options_per_word": distribution(options_per_key, cap=WORD_CAP),
    }
    return pool


#: how ``segmix inspect`` reads a pool, by the augmenter's ``pool_kind``
_POOL_BUILDERS = {
    "mentions": _mention_pool,
    "tokens": _token_pool,
    "synonyms": _synonym_pool,
    "windows": _window_pool,
    "sentences": _sentence_pool,
}


def argument_pool(augmenter: Any, method: str) -> Pool:
    """The argument pool of a fitted relation augmenter: each example's head and tail."""
    mixer = mixing_part(augmenter)
    labels = mixer.labels
    pool = Pool("arguments", method, [], "mention", group_name="relation")
    for ex in mixer.examples:
        relation = labels[ex.label]
        for slot in ("head", "tail"):
            s, e = getattr(ex, slot)
            words = tuple(ex.words[s:e])
            pool.entries.append((relation, words, _subwords(ex, s, e)))
            pool.slots.append(slot)
            pool.forms.add(words)
            pool.typed_forms.add((relation, words))
    return pool


# --------------------------------------------------------------------------- coverage


def _group_summary(entries: Sequence[tuple[str, tuple[str, ...], int]]) -> dict:
    return {
        "segments": len(entries),
        "distinct": len({words for _, words, _ in entries}),
        "words": distribution((len(w) for _, w, _ in entries), cap=WORD_CAP),
        "subwords": distribution((n for _, _, n in entries), cap=SUBWORD_CAP),
    }


def eval_mentions(sentences: Sequence) -> list[tuple[str, tuple[str, ...]]]:
    """``(type, words)`` of every mention of raw IOB2 sentences (dev or test, as read)."""
    from segmix.tasks.tagging.encoding import mention_spans

    out = []
    for s in sentences:
        for start, end in mention_spans(s.tags):
            out.append((s.tags[start][2:], tuple(s.tokens[start:end])))
    return out


def mention_in_pool(pool: Pool, typ: str, words: tuple[str, ...]) -> tuple[bool, bool, bool]:
    """(form in pool, form in pool as this type, head word in pool) for one mention."""
    if pool.match == "words":
        return (
            all(w in pool.vocab for w in words),
            all((typ, w) in pool.typed_vocab for w in words),
            words[-1] in pool.vocab,
        )
    return words in pool.forms, (typ, words) in pool.typed_forms, words[-1] in pool.heads


def _eval_summary(pool: Pool, mentions: Sequence[tuple[str, tuple[str, ...]]]) -> dict:
    n = len(mentions)
    hits = [mention_in_pool(pool, typ, words) for typ, words in mentions]
    return {
        "mentions": n,
        "in_pool": share(sum(h[0] for h in hits), n),
        "in_pool_same_type": share(sum(h[1] for h in hits), n),
        "head_in_pool": share(sum(h[2] for h in hits), n),
    }


def mention_coverage(
    pool: Pool, train_examples: Sequence, labels: Sequence[str], splits: dict[str, Sequence]
) -> dict:
    """Per type: the pool's segments, and the share of dev/test mentions it has seen.

    ``splits`` maps ``dev``/``test`` to raw sentences (their gold tags as read, so a type the
    training subset lacks is counted too).
    """
    by_group: dict[str, list] = defaultdict(list)
    for entry in pool.entries:
        by_group[entry[0]].append(entry)
    eval_by_type = {name: eval_mentions(sents) for name, sents in splits.items()}
    # the training subset's own mentions by type: what any method's pool is made from
    train_mentions: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for ex in train_examples:
        for s, e in ex.mentions:
            train_mentions[labels[int(ex.word_labels[s])][2:]].append(tuple(ex.words[s:e]))
    types = sorted(
        {g for g in by_group if g not in ("O", "(all)")}
        | set(train_mentions)
        | {t for ms in eval_by_type.values() for t, _ in ms}
    )
    mixable = set(by_group) - {"O", "(all)"}
    if pool.kind == "sentences":
        mixable = set(pool.extra.get("types_carried", ()))
    rows: dict[str, dict] = {}
    for typ in types:
        row: dict[str, Any] = {
            "pool": _group_summary(by_group.get(typ, [])),
            "train_mentions": len(train_mentions.get(typ, [])),
            "train_distinct": len(set(train_mentions.get(typ, []))),
        }
        for name, mentions in eval_by_type.items():
            row[name] = _eval_summary(pool, [m for m in mentions if m[0] == typ])
        rows[typ] = row
    extra_groups = {
        g: _group_summary(entries) for g, entries in by_group.items() if g in ("O", "(all)")
    }
    out = {
        "kind": pool.kind,
        "segments_are": KIND_WORDS[pool.kind],
        "group": pool.group_name,
        "match": pool.match,
        "pool": _group_summary(pool.entries),
        "types": rows,
        "other_groups": extra_groups,
        "all": {name: _eval_summary(pool, ms) for name, ms in eval_by_type.items()},
        "unmixable": {
            name: sorted({t for t, _ in ms} - mixable) for name, ms in eval_by_type.items()
        },
    }
    if pool.kind == "synonyms":
        out["synonyms"] = pool.extra
    return out


def argument_coverage(pool: Pool, splits: dict[str, Sequence]) -> dict:
    """Per relation: argument pairs in the pool, their forms and lengths; the share of dev/test
    arguments (heads, tails, both) whose surface form is a pool argument (either slot)."""
    by_rel: dict[str, dict[str, list]] = defaultdict(lambda: {"head": [], "tail": []})
    for entry, slot in zip(pool.entries, pool.slots, strict=True):
        by_rel[entry[0]][slot].append(entry)
    pair_forms = set()
    pairs_by_rel: dict[str, list] = defaultdict(list)
    for k in range(0, len(pool.entries), 2):
        pair = (pool.entries[k][1], pool.entries[k + 1][1])
        pair_forms.add(pair)
        pairs_by_rel[pool.entries[k][0]].append(pair)

    def eval_rows(examples) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
        return [
            (
                ex.relation,
                tuple(ex.tokens[ex.head[0] : ex.head[1]]),
                tuple(ex.tokens[ex.tail[0] : ex.tail[1]]),
            )
            for ex in examples
        ]

    def summary(rows) -> dict:
        n = len(rows)
        return {
            "examples": n,
            "head_in_pool": share(sum(h in pool.forms for _, h, _ in rows), n),
            "tail_in_pool": share(sum(t in pool.forms for _, _, t in rows), n),
            "both_in_pool": share(sum(h in pool.forms and t in pool.forms for _, h, t in rows), n),
            "pair_in_pool": share(sum((h, t) in pair_forms for _, h, t in rows), n),
        }

    evals = {name: eval_rows(exs) for name, exs in splits.items()}
    relations = sorted(set(by_rel) | {r for rows in evals.values() for r, _, _ in rows})
    out_rel: dict[str, dict] = {}
    for rel in relations:
        slots = by_rel.get(rel, {"head": [], "tail": []})
        pairs = pairs_by_rel.get(rel, [])
        row: dict[str, Any] = {
            "pool": {
                "pairs": len(pairs),
                "distinct_pairs": len(set(pairs)),
                "head": _group_summary(slots["head"]),
                "tail": _group_summary(slots["tail"]),
            }
        }
        for name, rows in evals.items():
            row[name] = summary([r for r in rows if r[0] == rel])
        out_rel[rel] = row
    return {
        "kind": pool.kind,
        "segments_are": KIND_WORDS[pool.kind],
        "group": pool.group_name,
        "match": pool.match,
        "pool": {
            "pairs": len(pool.entries) // 2,
            "distinct_pairs": len(pair_forms),
            "arguments": _group_summary(pool.entries),
        },
        "relations": out_rel,
        "all": {name: summary(rows) for name, rows in evals.items()},
        "unmixable": {
            name: sorted({r for r, _, _ in rows} - set(by_rel)) for name, rows in evals.items()
        },
    }


def word_coverage(
    pool: Pool, train_examples: Sequence, labels: Sequence[str], splits: dict[str, Sequence]
) -> dict:
    """Per tag: the pool's segments, and the share of dev/test words it has seen.

    Word labels (part-of-speech tags) have no mentions, so every word is an item, grouped by
    its gold tag. A dev/test word is *in the pool* when its form is a pool word (TMix), a
    training word with a synonym (SMix), or a word of the training sentences (mixup,
    inter-LADA, whose pool is those sentences); *with the same tag* when it is there with its
    gold tag. ``splits`` maps ``dev``/``test`` to raw sentences (their tags as read, so a tag
    the training subset lacks is counted too).
    """
    by_group: dict[str, list] = defaultdict(list)
    for entry in pool.entries:
        by_group[entry[0]].append(entry)
    train_words: dict[str, list[str]] = defaultdict(list)
    for ex in train_examples:
        for j, word in enumerate(ex.words):
            train_words[labels[int(ex.word_labels[j])]].append(word)
    if pool.kind == "sentences":  # every training word can be mixed, in its sentence
        vocab = {w for words in train_words.values() for w in words}
        typed_vocab = {(t, w) for t, words in train_words.items() for w in words}
        mixable = set(train_words)
    else:
        vocab, typed_vocab = pool.vocab, pool.typed_vocab
        mixable = set(by_group) - {"(all)"}
    evals = {
        name: [(t, w) for s in sents for w, t in zip(s.tokens, s.tags, strict=True)]
        for name, sents in splits.items()
    }

    def summary(words: Sequence[tuple[str, str]]) -> dict:
        n = len(words)
        return {
            "words": n,
            "in_pool": share(sum(w in vocab for _, w in words), n),
            "in_pool_same_tag": share(sum((t, w) in typed_vocab for t, w in words), n),
        }

    tags = sorted(
        {g for g in by_group if g != "(all)"}
        | set(train_words)
        | {t for words in evals.values() for t, _ in words}
    )
    rows: dict[str, dict] = {}
    for tag in tags:
        row: dict[str, Any] = {
            "pool": _group_summary(by_group.get(tag, [])),
            "train_words": len(train_words.get(tag, [])),
            "train_distinct": len(set(train_words.get(tag, []))),
        }
        for name, words in evals.items():
            row[name] = summary([x for x in words if x[0] == tag])
        rows[tag] = row
    out = {
        "kind": pool.kind,
        "segments_are": KIND_WORDS[pool.kind],
        "group": pool.group_name,
        "match": "words",
        "pool": _group_summary(pool.entries),
        "types": rows,
        "other_groups": {
            g: _group_summary(entries) for g, entries in by_group.items() if g == "(all)"
        },
        "all": {name: summary(words) for name, words in evals.items()},
        "unmixable": {
            name: sorted({t for t, _ in words} - mixable) for name, words in evals.items()
        },
    }
    if pool.kind == "synonyms":
        out["synonyms"] = pool.extra
    return out


def coverage_report(prep: Any, method: str) -> tuple[dict, Pool]:
    """The coverage block of the report, and the pool it was computed from (the task's
    inspection says which pool and which items: mentions, arguments or words)."""
    splits = {
        name: examples
        for name, examples in (("dev", prep.data.dev), ("test", prep.data.test))
        if examples
    }
    return inspection_for(prep.task).coverage(prep, method, splits)
