"""After training: where the gain of an augmented run over its paired baseline went.

A headline gain of +0.5 F1 says nothing about *what* got better. Augmentation is meant to help
where the training data is thin, so this module splits the test set into groups and scores the
run and its paired no-augmentation run on each group:

* NER: by entity type, by mention length in words (1, 2, 3, 4+) and by whether the mention's
  exact word sequence occurs as a mention (of any type) in the sentences the run trained on
  ("seen") or not ("unseen");
* relations: by relation type and by whether the two arguments' word sequences occur as
  arguments in the training examples;
* word labels (part-of-speech tags): by tag and by whether the word occurs in the sentences the
  run trained on (with any tag).

Which breakdowns a task gets, and the words its tables are written in, is the task's to say
(:meth:`segmix.inspect.base.Inspection.breakdowns`); the bucket rules of each kind are here.

**Bucket rule (NER).** Every entity — gold or predicted, chunked exactly as
:func:`segmix.tasks.tagging.metrics.ner_scores` (conlleval) chunks it, through the same seqeval
call as
:func:`segmix.experiment.stats.ner_sentence_stats` — is put in a group by its own words (length,
seen-ness) or its own type. A correct prediction has the same type, start and end as a gold
mention, hence the same words, so it always lands in the group of the gold mention it matches;
an unmatched prediction lands in the group of its own length / seen-ness / predicted type.
Each group therefore has well-defined counts (correct, predicted, gold), precision =
correct / predicted and recall = correct / gold, and the counts of a breakdown add up to the
corpus counts the headline is computed from. "Seen" ignores the type: a test mention whose words
were a training mention of another type is seen.

**Bucket rule (relations).** Relation types use the official scorer's per-type counts
(:func:`segmix.experiment.stats.re_example_stats`). Seen-ness is a property of a test example
(its arguments are given, gold and prediction share them), so those groups partition the test
examples, and each group's score is the run's metric (official macro F1 for SemEval) on its
examples: "pair seen" (both word sequences were the two arguments of one training example, in
either order), "both seen" (each was an argument of some training example, never together),
"one seen", "neither seen".

**Bucket rule (word labels).** Every word is an item with one gold and one predicted tag: the
tag breakdown is the per-tag counts of :func:`segmix.tasks.pos.metrics.pos_sentence_stats` (each
tag's F1 beside the headline word accuracy); the seen breakdown puts a word, gold and predicted
tag alike, in the group of its own form, so a group's F1 is its word accuracy.

"The sentences the run trained on" are rebuilt as training rebuilt them:
:func:`segmix.run.load_data` on the run's ``config.json`` (the seeded
:func:`segmix.datafiles.sample_subset`), checked against the ids in ``subset.json``.

Every figure is paired: the baseline shares the training subset, seed and budget, and a gain
gets a paired bootstrap interval over test sentences (:func:`.stats.paired_bootstrap`), so a
group whose gain is two lucky mentions reads as what it is.
"""

from __future__ import annotations

import json
import logging
import math
import statistics
import warnings
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from segmix.config import METHOD_FIELDS
from segmix.experiment.stats import (
    CORRECT,
    GOLD,
    PREDICTED,
    SufficientStats,
    paired_bootstrap,
    re_example_stats,
    score_from_counts,
)
from segmix.formatting import num, signed
from segmix.inspect.base import Inspection, PairedPredictions
from segmix.runs import (
    COMPACT_TEST,
    compact_predictions_path,
    read_compact_predictions,
    read_json,
)
from segmix.tasks import get_task, inspection_for

logger = logging.getLogger(__name__)

__all__ = [
    "AUGMENT_FIELDS",
    "NoBaselineError",
    "find_baseline",
    "gain_report",
    "grid_gain_report",
    "plot_gains",
    "render_gains",
    "render_grid_gains",
]

LENGTH_BUCKETS = ("1", "2", "3", "4+")
SEEN_BUCKETS = ("seen", "unseen")
RE_SEEN_BUCKETS = ("pair seen", "both seen", "one seen", "neither seen")
#: groups whose test examples count as covered by the training subset (relations)
RE_COVERED = frozenset({"pair seen", "both seen"})

#: Fields that say how a run augments, not what it is compared under: a baseline may (and, for
#: ``augment``, must) differ in these and nothing else that shapes the numbers.
AUGMENT_FIELDS = METHOD_FIELDS  # read off TrainConfig's fields (their metadata's group)
#: decides what a run writes, not its numbers (segmix.run's shaping fields keep it)
_NOT_NUMBERS = frozenset({"save_model"})
#: below this many test items a group's F1 moves by several points per item
SMALL_GROUP = 30
#: below this many (cell, type) points a correlation says little even when real
FEW_POINTS = 10
#: up to this many points the correlation's p is exact (every permutation: 9! = 362,880)
EXACT_MAX = 9
ALPHA = 0.05


class NoBaselineError(FileNotFoundError):
    """No paired no-augmentation run was found for a run (give one explicitly)."""


# --------------------------------------------------------------------------------------------
# reading runs


@dataclass
class _Run:
    dir: Path
    config: dict
    metrics: dict

    @property
    def task(self) -> str:
        from segmix.config import TrainConfig

        # a config.json from before tasks existed records none: the default task's run
        return str(self.config.get("task", TrainConfig.task))


def _load_run(run_dir: Path) -> _Run:
    """A finished run folder's config and metrics (a clear error for anything else)."""
    if not run_dir.is_dir():
        raise FileNotFoundError(f"{run_dir}: no such run folder")
    if not (run_dir / "config.json").is_file() and (run_dir / "run" / "config.json").is_file():
        run_dir = run_dir / "run"  # a grid cell folder given instead of its run folder
    if not (run_dir / "config.json").is_file():
        raise FileNotFoundError(f"{run_dir} has no config.json: it is not a segmix run folder")
    if not (run_dir / "metrics.json").is_file():
        raise FileNotFoundError(f"{run_dir} has no metrics.json: the run has not finished")
    metrics = read_json(run_dir / "metrics.json")
    if not isinstance(metrics.get("test"), dict):
        raise ValueError(f"{run_dir}/metrics.json has no test scores (the run had no test file)")
    return _Run(run_dir, read_json(run_dir / "config.json"), metrics)


def _run_label(config: dict) -> str:
    augment = str(config.get("augment", "?"))
    return f"{augment}-{config.get('lada_mode', 'inter')}" if augment == "lada" else augment


def _comparable(config: dict) -> dict:
    """The fields that decide a run's numbers, less its augmentation (see AUGMENT_FIELDS).

    Built with :func:`segmix.run._shaping`, the definition ``--resume`` uses, after
    :meth:`TrainConfig.from_dict` has filled fields an older ``config.json`` lacks with defaults.
    """
    from segmix.config import TrainConfig
    from segmix.run import _shaping

    full = TrainConfig.from_dict(config).to_dict()
    return {
        k: v for k, v in _shaping(full).items() if k not in AUGMENT_FIELDS and k not in _NOT_NUMBERS
    }


def _differences(a: dict, b: dict) -> dict[str, list]:
    """``{field: [a's value, b's value]}`` where two comparable configs differ."""
    return {k: [a.get(k), b.get(k)] for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}


# --------------------------------------------------------------------------------------------
# the paired baseline


def _grid_cell(run_dir: Path) -> tuple[Path, Any, list] | None:
    """``(grid folder, the run's cell, every cell)`` when ``run_dir`` is a cell of a grid."""
    from segmix.experiment.report import _unique_cells, read_grid

    run = run_dir.resolve()
    for parent in list(run.parents)[:3]:  # GRID/cells/<id>/run
        if not (parent / "grid.json").is_file():
            continue
        try:
            grid = read_grid(parent)
        except (OSError, ValueError) as err:
            logger.warning("%s: not read as a grid (%s)", parent / "grid.json", err)
            return None
        cells = _unique_cells(parent, grid["cells"])
        for cell in cells:
            if cell.dir.resolve() == run:
                return parent, cell, cells
        return None
    return None


def _grid_baseline(run_dir: Path) -> Path | None:
    """The ``none`` cell ``segmix report`` pairs the run with: same size and seed, finished.

    A main cell is paired with the main ``none`` cell (whose lr was chosen on dev for ``none``,
    so it may differ from the run's); a cell outside the main phase prefers the same lr.
    """
    from segmix.experiment.report import BASELINE

    found = _grid_cell(run_dir)
    if found is None:
        return None
    _grid, cell, cells = found
    candidates = [
        c
        for c in cells
        if c.label == BASELINE
        and c.state == "finished"
        and c.size == cell.size
        and c.seed == cell.seed
        and c.id != cell.id
    ]
    if not candidates:
        return None

    def rank(c: Any) -> tuple[int, int]:
        same_lr = int(c.lr != cell.lr)
        return (int(not c.main), same_lr) if cell.main else (same_lr, int(not c.main))

    return min(candidates, key=rank).dir


def _candidate_dirs(run_dir: Path) -> list[Path]:
    """Sibling run folders (``X/<run>``) and cousins (``X/<method>/seed<k>``), sorted."""
    run = run_dir.resolve()
    seen: dict[Path, None] = {}
    parent = run.parent
    for sibling in sorted(p for p in parent.iterdir() if p.is_dir()):
        seen[sibling] = None
    if parent.parent != parent:
        for aunt in sorted(p for p in parent.parent.iterdir() if p.is_dir()):
            for cousin in sorted(p for p in aunt.iterdir() if p.is_dir()):
                seen[cousin] = None
    return [p for p in seen if p != run and (p / "config.json").is_file()]


def find_baseline(run_dir: Path) -> tuple[Path, str]:
    """The paired no-augmentation run of ``run_dir`` and how it was found.

    Grid layout (``GRID/cells/<id>/run`` with ``GRID/grid.json``): the finished ``none`` cell
    of the same size and seed, as ``segmix report`` pairs them. Otherwise (the benchmarks'
    ``n200/<method>/seed<k>`` layout, or runs side by side): a finished sibling or cousin folder
    with ``augment`` ``none`` whose configuration equals the run's in every field that decides
    the numbers except the augmentation options (:data:`AUGMENT_FIELDS`): same data, train_size,
    sample_seed, seed, model, steps, lr …

    Raises :class:`NoBaselineError` when there is none.
    """
    run = _load_run(Path(run_dir))  # a grid cell's folder stands for its run folder
    grid = _grid_baseline(run.dir)
    if grid is not None:
        return grid, "grid: the none cell of the same size and seed"
    want = _comparable(run.config)
    nearest: tuple[int, Path, dict] | None = None
    for cand in _candidate_dirs(run.dir):
        try:
            config = read_json(cand / "config.json")
            if config.get("augment") != "none" or not (cand / "finished.json").is_file():
                continue
            got = _comparable(config)
        except (OSError, ValueError) as err:  # ConfigError is a ValueError
            logger.debug("%s: skipped as a baseline candidate (%s)", cand, err)
            continue
        diff = _differences(want, got)
        if not diff:
            return cand, "a sibling run with augment none and otherwise the same configuration"
        if nearest is None or len(diff) < nearest[0]:
            nearest = (len(diff), cand, diff)
    hint = ""
    if nearest is not None:
        fields = ", ".join(f"{k} {v[1]!r} (run: {v[0]!r})" for k, v in nearest[2].items())
        hint = f" (nearest: {nearest[1]} differs in {fields})"
    raise NoBaselineError(
        f"no paired no-augmentation run found for {run.dir}; give --baseline DIR{hint}"
    )


# --------------------------------------------------------------------------------------------
# the training pool and the test set


@dataclass
class _Pool:
    """What a run trained on and was tested on, as seen-ness needs it."""

    task: str
    train: list[Any]
    test: list[Any]
    test_file: str
    forms: frozenset[tuple[str, ...]]  # mentions / relation arguments / words of the subset
    pairs: frozenset[frozenset[tuple[str, ...]]]  # relations: argument pairs of one example


def _entities(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """conlleval chunks of one sentence, ``(type, start, end inclusive)``: seqeval's default
    mode, the very call :func:`segmix.experiment.stats.ner_sentence_stats` makes."""
    from seqeval.metrics.sequence_labeling import get_entities

    return get_entities(list(tags))


def _arguments(ex: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return tuple(ex.tokens[ex.head[0] : ex.head[1]]), tuple(ex.tokens[ex.tail[0] : ex.tail[1]])


def _pool_key(config: Any) -> str:
    files = [str(p) if p else None for p in config.resolved_files()]
    return json.dumps(
        [config.task, files, config.scheme, config.train_size, config.sample_seed,
         config.dev_fraction]
    )  # fmt: skip


def _load_pool(run: _Run, cache: dict[str, _Pool] | None = None) -> _Pool:
    """The run's training subset, rebuilt as training built it, and its test set.

    The ids are checked against ``subset.json``: a data file changed since the run would make
    "seen" mean something else.
    """
    from segmix.config import TrainConfig
    from segmix.run import load_data

    config = TrainConfig.from_dict(run.config)
    key = _pool_key(config)
    if cache is not None and key in cache:
        pool = cache[key]
    else:
        task = get_task(config.task)
        data = load_data(task, config)
        if data.test is None:
            raise FileNotFoundError(f"{run.dir}: its configuration names no test file")
        forms, pairs = inspection_for(task).training_forms(data.train)
        pool = _Pool(
            config.task,
            data.train,
            data.test,
            str(data.files["test"]),
            forms,
            pairs,
        )
        if cache is not None:
            cache[key] = pool
    subset_path = run.dir / "subset.json"
    if not subset_path.is_file():
        raise FileNotFoundError(f"{run.dir} has no subset.json: its training subset is unknown")
    saved = read_json(subset_path).get("train_ids")
    rebuilt = json.loads(json.dumps(get_task(config.task).subset_info(pool.train)))
    if saved != rebuilt:
        raise ValueError(
            f"{subset_path} names other training examples than {run.dir}/config.json rebuilds "
            "from the data files: the data changed since the run, so what it trained on is unknown"
        )
    return pool


def _aligned(run: _Run, pool: _Pool) -> tuple[list, list, Path]:
    """Gold and predicted labels of ``run``'s test predictions, checked against the test file,
    and the file the predictions were read from (for the errors that name it)."""
    path = run.dir / "predictions" / "test.jsonl"
    if not path.is_file():
        # what git keeps of a grid's run: ids and predicted labels, the gold from the test file
        compact = compact_predictions_path(run.dir)
        if compact is None:
            raise FileNotFoundError(
                f"{run.dir} has no predictions/test.jsonl (nor {COMPACT_TEST}): the breakdown "
                "scores the test predictions a run writes when it finishes"
            )
        ids, pred = read_compact_predictions(compact)
        if ids != json.loads(json.dumps([example.id for example in pool.test])):
            raise ValueError(
                f"{compact}: its {len(ids)} ids are not those of {pool.test_file}'s "
                f"{len(pool.test)} examples in order: the run was tested on another test set"
            )
        return get_task(pool.task).gold(pool.test), pred, compact
    text = path.read_text(encoding="utf-8")
    records = [json.loads(line) for line in text.splitlines() if line.strip()]
    if len(records) != len(pool.test):
        raise ValueError(
            f"{path} holds {len(records)} predictions but {pool.test_file} has "
            f"{len(pool.test)} test examples"
        )
    gold = get_task(pool.task).gold(pool.test)
    for i, (r, g) in enumerate(zip(records, gold, strict=True)):
        # a task that writes each example's words with its predictions (tagging) has them checked
        if ("gold" in r and r["gold"] != g) or (
            "tokens" in r and r["tokens"] != list(pool.test[i].tokens)
        ):
            raise ValueError(
                f"{path}: example {i} does not match {pool.test_file}: the run was tested on "
                "another test set"
            )
    return gold, [r["pred"] for r in records], path


def _checked_stats(run: _Run, gold: list, pred: list, source: Path) -> SufficientStats:
    """Per-example statistics (the task's, as the grid report's bootstrap reads them) whose
    headline must equal ``metrics.json``'s test score."""
    task = get_task(run.task)
    stats = task.example_stats(gold, pred, run.metrics["test"])
    score = stats.score()
    stored = float(run.metrics["test"][task.metric])
    if not math.isclose(score, stored, rel_tol=0, abs_tol=1e-9):
        name = inspection_for(task).score_name
        raise ValueError(
            f"{run.dir}: test {name} from {source.relative_to(run.dir).as_posix()} is "
            f"{score:.6f} but metrics.json "
            f"says {stored:.6f}; the predictions are not those the metrics were computed from"
        )
    return stats


# --------------------------------------------------------------------------------------------
# buckets


def _ner_bucket_stats(
    pool: _Pool, gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], check: np.ndarray
) -> tuple[SufficientStats, SufficientStats]:
    """Per-sentence (correct, predicted, gold) by length and by seen-ness (see module doc)."""
    n = len(gold)
    by_length = np.zeros((n, len(LENGTH_BUCKETS), 3), dtype=np.int64)
    by_seen = np.zeros((n, len(SEEN_BUCKETS), 3), dtype=np.int64)
    for i, (sentence, g, p) in enumerate(zip(pool.test, gold, pred, strict=True)):
        g_ents, p_ents = set(_entities(g)), set(_entities(p))
        for slot, ents in ((CORRECT, g_ents & p_ents), (PREDICTED, p_ents), (GOLD, g_ents)):
            for _t, start, end in ents:
                words = tuple(sentence.tokens[start : end + 1])
                by_length[i, min(len(words), 4) - 1, slot] += 1
                by_seen[i, 0 if words in pool.forms else 1, slot] += 1
    # the same chunks as ner_sentence_stats, sentence by sentence, or the breakdown is wrong
    for name, counts in (("length", by_length), ("seen", by_seen)):
        if not np.array_equal(counts.sum(axis=1), check):
            raise RuntimeError(f"the {name} breakdown does not add up to the scorer's counts")
    return (
        SufficientStats(by_length, LENGTH_BUCKETS, "micro"),
        SufficientStats(by_seen, SEEN_BUCKETS, "micro"),
    )


def _word_bucket_stats(
    pool: _Pool, gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], check: np.ndarray
) -> SufficientStats:
    """Per-sentence (correct, predicted, gold) of words by seen-ness: a word's gold and
    predicted tag both count in the group of its own form (see module doc)."""
    by_seen = np.zeros((len(gold), len(SEEN_BUCKETS), 3), dtype=np.int64)
    for i, (sentence, g, p) in enumerate(zip(pool.test, gold, pred, strict=True)):
        for word, gt, pt in zip(sentence.tokens, g, p, strict=True):
            bucket = 0 if (word,) in pool.forms else 1
            by_seen[i, bucket, GOLD] += 1
            by_seen[i, bucket, PREDICTED] += 1
            by_seen[i, bucket, CORRECT] += int(gt == pt)
    # the same words as the task's per-tag counts, sentence by sentence
    if not np.array_equal(by_seen.sum(axis=1), check):
        raise RuntimeError("the seen breakdown does not add up to the scorer's counts")
    return SufficientStats(by_seen, SEEN_BUCKETS, "micro")


def _re_seen_bucket(pool: _Pool, ex: Any) -> str:
    head, tail = _arguments(ex)
    if frozenset((head, tail)) in pool.pairs:
        return "pair seen"
    known = (head in pool.forms) + (tail in pool.forms)
    return ("neither seen", "one seen", "both seen")[known]


def _re_type_stats(gold: Sequence[str], pred: Sequence[str], kind: str) -> SufficientStats:
    """Per relation type counts: the official scorer's (SemEval), else one column per label."""
    if kind == "macro":
        return re_example_stats(gold, pred, "macro")
    negative = {"no_relation"} if kind == "tacred" else set()
    labels = tuple(sorted((set(gold) | set(pred)) - negative))
    index = {t: j for j, t in enumerate(labels)}
    counts = np.zeros((len(gold), len(labels), 3), dtype=np.int64)
    for i, (g, p) in enumerate(zip(gold, pred, strict=True)):
        if g in index:
            counts[i, index[g], GOLD] = 1
            counts[i, index[g], CORRECT] = int(g == p)
        if p in index:
            counts[i, index[p], PREDICTED] = 1
    return SufficientStats(counts, labels, "micro")


def _scores(stats: SufficientStats) -> dict[str, float | int | None]:
    """P/R/F1 (points) and counts of a group; macro groups average P and R over their types."""
    c = stats.summed()
    correct, predicted, gold = (int(c[:, k].sum()) for k in (CORRECT, PREDICTED, GOLD))
    f1 = 100 * float(score_from_counts(c, stats.kind))
    if stats.kind == "macro":
        scored = c[:, GOLD] > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            p = np.where(c[:, PREDICTED] > 0, c[:, CORRECT] / np.maximum(c[:, PREDICTED], 1), 0)
            r = np.where(scored, c[:, CORRECT] / np.maximum(c[:, GOLD], 1), 0)
        n = int(scored.sum())
        precision = 100 * float(p[scored].sum() / n) if n else 0.0
        recall = 100 * float(r[scored].sum() / n) if n else 0.0
    else:
        precision = 100 * correct / predicted if predicted else 0.0
        recall = 100 * correct / gold if gold else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "correct": correct,
        "predicted": predicted,
    }


def _interval(
    run: SufficientStats, base: SufficientStats, resamples: int, seed: int
) -> list[float] | None:
    if resamples <= 0 or len(run) == 0:
        return None
    b = paired_bootstrap([run], [base], resamples=resamples, seed=seed)
    return [100 * b.low, 100 * b.high]


def _column(stats: SufficientStats, j: int) -> SufficientStats:
    """One group's counts as a one-type statistic (its F1 is the group's F1)."""
    return SufficientStats(stats.counts[:, [j]], (stats.types[j],), "micro")


def _row(
    name: str,
    run: SufficientStats,
    base: SufficientStats,
    total: int,
    *,
    items: int | None = None,
    resamples: int,
    seed: int,
) -> dict:
    r, b = _scores(run), _scores(base)
    gold = items if items is not None else int(run.summed()[:, GOLD].sum())
    return {
        "bucket": name,
        "gold": gold,
        "share": gold / total if total else 0.0,
        "run": r,
        "baseline": b,
        "gain": r["f1"] - b["f1"],
        "interval": _interval(run, base, resamples, seed),
        "delta_found": r["correct"] - b["correct"],
        "delta_wrong": (r["predicted"] - r["correct"]) - (b["predicted"] - b["correct"]),
        "contribution": None,
    }


def _contributions(run: SufficientStats, base: SufficientStats) -> np.ndarray | None:
    """Each column's exact share of the headline gain (points), or None where none exists.

    Micro F1 = 2C / (P + G). With the gold count G shared, the gain splits exactly into a term
    linear in each column's ΔC and ΔP:
    ``F1r − F1b = ΔC·(1/(Pr+G) + 1/(Pb+G)) − ΔP·(Cr+Cb) / ((Pr+G)(Pb+G))``
    (the mean of the two exact orderings), so the columns' shares add up to the gain — which
    their own F1 gains, weighted or not, never do. Macro F1 (the mean of per-type F1 over the
    types in gold) splits as ΔF1 of each scored type over their number; accuracy (correct over
    gold, summed over the columns) as each column's ΔC over the gold count.
    """
    rc, bc = run.summed().astype(np.float64), base.summed().astype(np.float64)
    if run.kind == "accuracy":
        g = rc[:, GOLD].sum()
        return 100 * (rc[:, CORRECT] - bc[:, CORRECT]) / g if g else None
    if run.kind == "macro":
        scored = rc[:, GOLD] > 0
        n = int(scored.sum())
        if n == 0:
            return None
        f1 = [
            np.array([float(score_from_counts(c[[j]], "micro")) for j in range(len(c))])
            for c in (rc, bc)
        ]
        return 100 * np.where(scored, (f1[0] - f1[1]) / n, 0.0)
    if run.kind != "micro":
        return None
    g = rc[:, GOLD].sum()
    cr, pr, cb, pb = (
        rc[:, CORRECT].sum(),
        rc[:, PREDICTED].sum(),
        bc[:, CORRECT].sum(),
        bc[:, PREDICTED].sum(),
    )
    if pr + g == 0 or pb + g == 0:
        return None
    dc, dp = rc[:, CORRECT] - bc[:, CORRECT], rc[:, PREDICTED] - bc[:, PREDICTED]
    return 100 * (dc * (1 / (pr + g) + 1 / (pb + g)) - dp * (cr + cb) / ((pr + g) * (pb + g)))


def _column_rows(
    run: SufficientStats, base: SufficientStats, resamples: int, seed: int
) -> list[dict]:
    """One row per column of two aligned statistics; columns with nothing to score dropped.

    The columns must partition what the headline counts (types, lengths, seen/unseen), so each
    row's ``contribution`` is its exact share of the headline gain (:func:`_contributions`).
    """
    if set(run.types) == set(base.types):
        types = run.types
    else:
        types = tuple(sorted(set(run.types) | set(base.types)))
    run, base = run.align(types), base.align(types)
    total = int(run.summed()[:, GOLD].sum())
    shares = _contributions(run, base)
    rows = []
    for j, name in enumerate(types):
        r, b = _column(run, j), _column(base, j)
        if r.summed()[0, GOLD] == 0 and r.summed()[0, PREDICTED] == 0 == b.summed()[0, PREDICTED]:
            continue  # no gold mention and nothing predicted: no score to give
        row = _row(name, r, b, total, resamples=resamples, seed=seed)
        row["contribution"] = None if shares is None else float(shares[j])
        rows.append(row)
    return rows


# --------------------------------------------------------------------------------------------
# each kind of item: what "seen" compares against, the breakdowns, the grid's coverage (a task's
# inspection picks its kind: segmix.inspect.base.Inspection)


def mention_forms(train: Sequence) -> tuple[frozenset, frozenset]:
    """The word sequences of the training subset's mentions (conlleval chunks); no pairs."""
    forms = frozenset(tuple(s.tokens[a : b + 1]) for s in train for _t, a, b in _entities(s.tags))
    return forms, frozenset()


def argument_forms(train: Sequence) -> tuple[frozenset, frozenset]:
    """The training examples' arguments (heads and tails alike), and each example's pair."""
    forms: set[tuple[str, ...]] = set()
    pairs: set[frozenset[tuple[str, ...]]] = set()
    for ex in train:
        head, tail = _arguments(ex)
        forms.update((head, tail))
        pairs.add(frozenset((head, tail)))
    return frozenset(forms), frozenset(pairs)


def word_forms(train: Sequence) -> tuple[frozenset, frozenset]:
    """Every word form of the training subset, as a one-word sequence; no pairs."""
    return frozenset((w,) for s in train for w in s.tokens), frozenset()


def mention_breakdowns(paired: PairedPredictions) -> tuple[dict[str, list[dict]], int]:
    """Entity tagging: by type (the scorer's columns), mention length and seen-ness; the
    number of gold mentions."""
    p = paired
    run_counts, base_counts = p.run_stats.counts.sum(axis=1), p.base_stats.counts.sum(axis=1)
    lengths_r, seen_r = _ner_bucket_stats(p.pool, p.gold, p.run_pred, run_counts)
    lengths_b, seen_b = _ner_bucket_stats(p.pool, p.gold, p.base_pred, base_counts)
    breakdowns = {
        "type": _column_rows(p.run_stats, p.base_stats, p.resamples, p.seed),
        "length": _column_rows(lengths_r, lengths_b, p.resamples, p.seed),
        "seen": _column_rows(seen_r, seen_b, p.resamples, p.seed),
    }
    return breakdowns, int(p.run_stats.summed()[:, GOLD].sum())


def argument_breakdowns(paired: PairedPredictions) -> tuple[dict[str, list[dict]], int]:
    """Relations: by relation type, and by the seen-ness of the two arguments (groups of
    examples, each scored with the run's metric); the number of test examples."""
    p = paired
    run_stats, base_stats = p.run_stats, p.base_stats
    kind = run_stats.kind
    breakdowns: dict[str, list[dict]] = {
        "type": _column_rows(
            _re_type_stats(p.gold, p.run_pred, kind),
            _re_type_stats(p.gold, p.base_pred, kind),
            p.resamples,
            p.seed,
        ),
        "seen": [],
    }
    groups = np.array([_re_seen_bucket(p.pool, ex) for ex in p.pool.test])
    for name in RE_SEEN_BUCKETS:
        mask = groups == name
        if not mask.any():
            continue
        r = SufficientStats(run_stats.counts[mask], run_stats.types, run_stats.kind)
        b = SufficientStats(base_stats.counts[mask], base_stats.types, base_stats.kind)
        breakdowns["seen"].append(
            _row(
                name,
                r,
                b,
                len(p.pool.test),
                items=int(mask.sum()),
                resamples=p.resamples,
                seed=p.seed,
            )
        )
    return breakdowns, len(p.pool.test)


def word_breakdowns(paired: PairedPredictions) -> tuple[dict[str, list[dict]], int]:
    """Word labels: by tag (the task's per-tag columns) and by whether the word was seen in
    training; the number of test words."""
    p = paired
    seen_r = _word_bucket_stats(p.pool, p.gold, p.run_pred, p.run_stats.counts.sum(axis=1))
    seen_b = _word_bucket_stats(p.pool, p.gold, p.base_pred, p.base_stats.counts.sum(axis=1))
    breakdowns = {
        "type": _column_rows(p.run_stats, p.base_stats, p.resamples, p.seed),
        "seen": _column_rows(seen_r, seen_b, p.resamples, p.seed),
    }
    return breakdowns, int(p.run_stats.summed()[:, GOLD].sum())


def mention_type_coverage(pool: _Pool) -> dict[str, dict[str, float | int]]:
    """Per entity type: a test mention is covered when its words occur as a mention (any type)
    in the subset."""
    total: dict[str, int] = defaultdict(int)
    covered: dict[str, int] = defaultdict(int)
    for s in pool.test:
        for etype, start, end in _entities(s.tags):
            total[etype] += 1
            covered[etype] += tuple(s.tokens[start : end + 1]) in pool.forms
    return _coverage_rows(total, covered)


def argument_type_coverage(pool: _Pool) -> dict[str, dict[str, float | int]]:
    """Per relation type: a test example is covered when both argument word sequences occur as
    arguments in the subset (``pair seen`` or ``both seen``); types without direction,
    ``Other`` and ``no_relation`` left out (they have no per-type score)."""
    from segmix.tasks.relations.metrics import SEMEVAL_OTHER, strip_direction

    total: dict[str, int] = defaultdict(int)
    covered: dict[str, int] = defaultdict(int)
    for ex in pool.test:
        rtype = strip_direction(ex.relation)
        if rtype in (SEMEVAL_OTHER, "no_relation"):
            continue
        total[rtype] += 1
        covered[rtype] += _re_seen_bucket(pool, ex) in RE_COVERED
    return _coverage_rows(total, covered)


def word_type_coverage(pool: _Pool) -> dict[str, dict[str, float | int]]:
    """Per gold tag: a test word is covered when its form occurs (with any tag) in the subset."""
    total: dict[str, int] = defaultdict(int)
    covered: dict[str, int] = defaultdict(int)
    for s in pool.test:
        for word, tag in zip(s.tokens, s.tags, strict=True):
            total[tag] += 1
            covered[tag] += (word,) in pool.forms
    return _coverage_rows(total, covered)


def _coverage_rows(total: dict[str, int], covered: dict[str, int]) -> dict[str, dict]:
    return {
        t: {"test": total[t], "covered": covered[t], "coverage": covered[t] / total[t]}
        for t in sorted(total)
    }


# --------------------------------------------------------------------------------------------
# one run


def gain_report(
    run_dir: Path, baseline_dir: Path | None = None, *, resamples: int = 1000, seed: int = 0
) -> dict:
    """Where the test gain of ``run_dir`` over its paired no-augmentation run went.

    ``baseline_dir`` defaults to :func:`find_baseline`'s answer. Both runs need
    ``predictions/test.jsonl``; each one's test score recomputed from it must equal its
    ``metrics.json`` (a clear error otherwise). Breakdowns (see the module docstring for the
    exact bucket rules): NER by ``type``, ``length`` and ``seen``; relations and word labels by
    ``type`` and ``seen`` (the task's inspection says which). Scores are in points (×100);
    ``gain`` = run − baseline; ``interval`` the 95 % paired bootstrap interval of the gain over
    test sentences (``resamples=0``: none);
    ``delta_found`` / ``delta_wrong`` = how many more correct / wrong predictions the run made
    in the group (these add up over a breakdown).
    """
    run_dir = Path(run_dir)
    run = _load_run(run_dir)
    if baseline_dir is None:
        base_dir, found = find_baseline(run.dir)
    else:
        base_dir, found = Path(baseline_dir), "given"
    base = _load_run(base_dir)
    if base.task != run.task:
        raise ValueError(f"{base.dir} is a {base.task} run but {run.dir} is a {run.task} run")
    if base.config.get("augment") != "none":
        logger.warning(
            "%s is not a no-augmentation run (augment %s)", base.dir, base.config.get("augment")
        )
    differs = _differences(_comparable(run.config), _comparable(base.config))
    if differs:
        logger.warning("%s and its baseline %s differ in %s", run.dir, base.dir, ", ".join(differs))
    inspection = inspection_for(run.task)  # a task inspect does not support: refused here
    pool = _load_pool(run)
    gold, run_pred, run_source = _aligned(run, pool)
    _gold_b, base_pred, base_source = _aligned(base, pool)
    run_stats, base_stats = (
        _checked_stats(run, gold, run_pred, run_source),
        _checked_stats(base, gold, base_pred, base_source),
    )
    breakdowns, test_items = inspection.breakdowns(
        PairedPredictions(pool, gold, run_pred, base_pred, run_stats, base_stats, resamples, seed)
    )
    train_forms = len(pool.forms)

    overall_r, overall_b = _scores(run_stats), _scores(base_stats)
    report = {
        "kind": "run",
        "task": run.task,
        "metric": run.metrics["test"].get("metric", "f1"),
        "unit": inspection.item,
        "run": {
            "dir": str(run.dir),
            "label": _run_label(run.config),
            "augment": run.config.get("augment"),
            "train_size": run.config.get("train_size"),
            "sample_seed": run.config.get("sample_seed"),
            "seed": run.config.get("seed"),
        },
        "baseline": {"dir": str(base.dir), "found": found, "label": _run_label(base.config)},
        "differs": differs,
        "train": {"examples": len(pool.train), "forms": train_forms},
        "test": {"examples": len(pool.test), "items": test_items, "file": pool.test_file},
        "overall": {
            "run": overall_r,
            "baseline": overall_b,
            "gain": overall_r["f1"] - overall_b["f1"],
            "interval": _interval(run_stats, base_stats, resamples, seed),
        },
        "breakdowns": breakdowns,
        "bootstrap": {"resamples": resamples, "seed": seed, "level": 0.95},
    }
    report["readings"] = {
        key: _reading(key, rows, report) for key, rows in breakdowns.items() if rows
    }
    return report


# --------------------------------------------------------------------------------------------
# readings: one sentence per table, in words a user who has not read the paper can follow


def _pct(share: float) -> str:
    return f"{100 * share:.0f} %"


def _g(value: float) -> str:
    return "±0.0" if round(value, 1) == 0 else f"{value:+.1f}"


def _length_words(bucket: str) -> str:
    return {"1": "one-word", "4+": "4-or-more-word"}.get(bucket, f"{bucket}-word")


def _evidence(rows: Sequence[dict], name: Any) -> str:
    """What the bootstrap intervals allow one to say about the groups."""
    known = [r for r in rows if r["interval"] is not None]
    if not known:
        return ""
    clear = [r for r in known if r["interval"][0] > 0 or r["interval"][1] < 0]
    if not clear:
        return (
            " Every group's 95 % interval covers 0: no group's change is distinguishable from "
            "the luck of which sentences are in the test set."
        )
    if len(clear) == len(known):
        return " Every group's 95 % interval excludes 0."
    named = " and ".join(f"{name(r)} ({_g(r['gain'])})" for r in clear)
    return f" The 95 % interval excludes 0 only for {named}."


def _small(row: dict, unit: str) -> str:
    if row["gold"] < SMALL_GROUP:
        n = row["gold"]
        return f"; only {n} test {unit}{'s' * (n != 1)}, so one {unit} moves it by points"
    return ""


def _most(row: dict, overall: float) -> str:
    """ "most" when the group holds more than half of the change, else "the largest share"."""
    if overall and row["contribution"] is not None and row["contribution"] / overall > 0.5:
        return "most"
    return "the largest share"


def _c(value: float) -> str:
    return "±0.00" if round(value, 2) == 0 else f"{value:+.2f}"


def _reading(key: str, rows: list[dict], report: dict) -> str:
    """One sentence that says where the change sits in a breakdown, with its evidence.

    Where each row has its exact share of the headline gain (``contribution``), "where the gain
    sits" is the group with the largest share; a small group with a large F1 swing is named as
    such. Otherwise (relation groups scored by macro F1) the group with the largest own gain.
    """
    inspection = inspection_for(report["task"])
    unit = report["unit"]
    score = inspection.score_name
    n_train = report["train"]["examples"]
    overall = report["overall"]["gain"]
    word = "gain" if overall >= 0 else "loss"
    scored = [r for r in rows if r["gold"] > 0] or rows
    shares = all(r["contribution"] is not None for r in scored)
    sign = 1 if overall >= 0 else -1

    def weight(r: dict) -> float:
        return sign * (r["contribution"] if shares else r["gain"])

    pick = max(scored, key=weight)
    others = [r for r in scored if r is not pick]
    what = inspection.task.unit

    def part(r: dict, label: str) -> str:
        if shares:
            return f"{_c(r['contribution'])} from {label} (own F1 {_g(r['gain'])})"
        return f"{_g(r['gain'])} F1 on {label}"

    desc = inspection.seen_phrases
    if key == "seen" and desc is not None:  # groups of items (mentions, words)
        label = (
            f"the {_pct(pick['share'])} of test {unit}s {desc[pick['bucket']]} the {n_train} "
            f"training {what}"
        )
        if shares:
            text = (
                f"The {word} sits {'mostly ' * (_most(pick, overall) == 'most')}on "
                f"{pick['bucket']} {unit}s: {_c(pick['contribution'])}"
                f" of the {_c(overall)} {score} comes from {label} (their own F1 "
                f"{_g(pick['gain'])}{_small(pick, unit)})"
            )
        else:
            text = f"The {word} sits on {pick['bucket']} {unit}s: {_g(pick['gain'])} F1 on {label}"
        for r in others:
            text += ", " + part(r, f"the {_pct(r['share'])} {r['bucket']} ones")
        if (
            shares
            and others
            and weight(others[0]) > 0
            and sign * others[0]["gain"] > sign * pick["gain"]
        ):
            text += f"; per {unit}, {others[0]['bucket']} ones moved more"
        return text + "." + _evidence(rows, lambda r: f"{r['bucket']} {unit}s")
    if key == "seen":  # relations: groups of examples, macro F1 per group
        rest = "; ".join(f"{r['bucket']} {_g(r['gain'])} ({_pct(r['share'])})" for r in others)
        text = (
            f"The {word} is largest on examples with {pick['bucket'].replace(' seen', '')} "
            f"argument{'s' * (pick['bucket'] != 'one seen')} seen among the {n_train} training "
            f"examples: {_g(pick['gain'])} F1 on {_pct(pick['share'])} of the test examples"
            f"{_small(pick, unit)}"
        )
        return text + (f"; {rest}" if rest else "") + "." + _evidence(rows, lambda r: r["bucket"])
    if key == "length":

        def name(r: dict) -> str:
            return f"{_length_words(r['bucket'])} {unit}s"

        if shares:
            head = (
                f"By length, {_most(pick, overall)} of the {word} comes from {name(pick)}: "
                f"{_c(pick['contribution'])} of the {_c(overall)} {score} (their own F1 "
                f"{_g(pick['gain'])} on {_pct(pick['share'])} of test {unit}s"
                f"{_small(pick, unit)})"
            )
        else:
            head = (
                f"By length, the {word} is largest on {name(pick)}: {_g(pick['gain'])} F1 on "
                f"{_pct(pick['share'])} of test {unit}s{_small(pick, unit)}"
            )
        text = head
        if others:
            text += "; other lengths: " + ", ".join(part(r, name(r)) for r in others)
        return text + "." + _evidence(rows, name)
    # by type
    head = (
        f"{_most(pick, overall).capitalize()} of the {word} comes from {pick['bucket']} "
        f"({_c(pick['contribution'])} of {_c(overall)} {score}; its own F1 {_g(pick['gain'])} "
        f"on {_pct(pick['share'])} of the test {unit}s{_small(pick, unit)})"
        if shares
        else f"Largest {word} on {pick['bucket']}: {_g(pick['gain'])} F1 on "
        f"{_pct(pick['share'])} of the test {unit}s{_small(pick, unit)}"
    )
    if others:
        head += "; then " + ", ".join(
            part(r, r["bucket"]) for r in sorted(others, key=weight, reverse=True)
        )
    return head + "." + _evidence(rows, lambda r: r["bucket"])


# --------------------------------------------------------------------------------------------
# a grid


def _coverage(pool: _Pool) -> dict[str, dict[str, float | int]]:
    """Per gold type: test items, how many are covered by the training subset, the share (the
    task's inspection says what covers an item: :func:`mention_type_coverage`,
    :func:`argument_type_coverage`, :func:`word_type_coverage`)."""
    return inspection_for(pool.task).type_coverage(pool)


def _per_type_f1(metrics: dict) -> dict[str, float]:
    per_type = (metrics.get("test") or {}).get("per_type") or {}
    return {
        t: 100 * float(v["f1"])
        for t, v in per_type.items()
        if isinstance(v, dict) and "f1" in v and v.get("support", 1)
    }


def _mean_std(values: Sequence[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else None)


def _exact_spearman_p(x: Sequence[float], y: Sequence[float], rho: float) -> float:
    """Two-sided permutation p of Spearman's rho over every ordering of ``y`` (small n).

    scipy's p comes from a t approximation that, with a handful of points, calls a perfect
    rank order of 3 points p = 0; the exact answer is 1/3. Ties keep their average ranks.
    """
    import itertools

    from scipy.stats import rankdata

    rx, ry = rankdata(x), rankdata(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    perms = np.array(list(itertools.permutations(range(len(ry)))), dtype=np.intp)
    rhos = (ry[perms] @ rx) / (np.linalg.norm(rx) * np.linalg.norm(ry))
    return float(np.mean(np.abs(rhos) >= abs(rho) - 1e-12))


def _spearman(points: Sequence[dict], inspection: Inspection) -> dict:
    """Spearman's rho of coverage against gain over (cell, type) points, with a plain reading
    in the task's words (its groups and items)."""
    n = len(points)
    cov = [p["coverage"] for p in points]
    gain = [p["gain"] for p in points]
    out: dict[str, Any] = {"rho": None, "p": None, "n": n}
    if n < 3:
        out["raw_reading"] = (
            f"{n} point{'s' * (n != 1)}: too few to compute a correlation; "
            "no evidence of a relation either way"
        )
        return out
    if len(set(cov)) < 2 or len(set(gain)) < 2:
        which = "coverage" if len(set(cov)) < 2 else "the gain"
        out["raw_reading"] = (
            f"{which} is the same at every one of the {n} points: no correlation can be computed"
        )
        return out
    from scipy import stats

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = stats.spearmanr(cov, gain)
    rho, p = float(result.statistic), float(result.pvalue)
    p_method = "t approximation (scipy.stats.spearmanr)"
    if n <= EXACT_MAX:
        p, p_method = _exact_spearman_p(cov, gain, rho), "exact permutation"
    out.update(rho=rho, p=p, p_method=p_method)
    numbers = f"Spearman rho = {rho:+.2f}, p = {p:.3g}, n = {n}"
    if p >= ALPHA or math.isnan(p):
        text = f"no evidence of a relation between coverage and gain ({numbers})"
        if n < FEW_POINTS:
            text += f"; with only {n} points even a real relation would rarely show"
    else:
        where = "more" if rho > 0 else "fewer"
        text = (
            f"evidence of a relation: gains are larger for {inspection.group}s with {where} of "
            f"their test {inspection.item}s seen in training ({numbers})"
        )
        if n < FEW_POINTS:
            text += f"; only {n} points, so treat it as a hint"
    out["raw_reading"] = text
    return out


def _correlation_verdict(corr: dict) -> str:
    """The plain-words answer, from both the (cell, type) points and their per-subset means.

    (cell, type) points repeat one coverage value for every method trained on a subset, so
    their p-value overstates the evidence; a relation is only called evidence when the means
    per training subset and type (one point per distinct coverage value) show it too.
    """
    sub = corr["by_subset"]
    text = corr["raw_reading"]
    if corr["n"] > sub["n"]:
        text += (
            f". Those {corr['n']} points hold only {sub['n']} distinct coverage values (one per "
            f"training subset and type, shared by every method); averaged per subset and type: "
            f"{sub['raw_reading']}"
        )
        if corr["p"] is not None and corr["p"] < ALPHA and (sub["p"] is None or sub["p"] >= ALPHA):
            text += ". The averaged check does not confirm it: no firm evidence of a relation"
    return text


def grid_gain_report(grid_dir: Path) -> dict:
    """Per-type gains over ``none`` across a grid, and whether they follow pool coverage.

    For every finished main cell with a finished main ``none`` cell of the same size and seed
    (``segmix report``'s pairing): the per-type F1 gain (from both cells' ``metrics.json``) and,
    per type, the coverage — the share of that type's test mentions whose words occur as a
    mention in the cell's training subset (:func:`_coverage`). Gains are pooled per label ×
    size over seeds (mean ± std), and Spearman's rho is computed over all (cell, type) points of
    coverage against gain. The points are not independent (a cell's types share a model, cells
    of one size and seed share a subset), so the p-value is, if anything, optimistic.
    """
    from segmix.experiment.report import BASELINE, _unique_cells, read_grid

    grid_dir = Path(grid_dir)
    grid = read_grid(grid_dir)
    metric = grid.get("metric") or get_task(grid["task"]).metric  # the overall gain's score
    cells = [c for c in _unique_cells(grid_dir, grid["cells"]) if c.main]
    finished = [c for c in cells if c.state == "finished"]
    base = {(c.size, c.seed): c for c in finished if c.label == BASELINE}
    pools: dict[str, _Pool] = {}
    coverage_of: dict[str, dict] = {}
    pairs: list[dict] = []
    skipped: list[dict] = [
        {
            "label": c.label,
            "size": c.size,
            "seed": c.seed,
            "why": c.state + (f": {c.detail}" if c.detail else ""),
        }
        for c in cells
        if c.state != "finished"
    ]
    for cell in finished:
        if cell.label == BASELINE:
            continue
        where = {"label": cell.label, "size": cell.size, "seed": cell.seed}
        b = base.get((cell.size, cell.seed))
        if b is None:
            skipped.append({**where, "why": "no finished none cell of the same size and seed"})
            continue
        run_f1, base_f1 = _per_type_f1(cell.metrics or {}), _per_type_f1(b.metrics or {})
        if not run_f1 or not base_f1:
            skipped.append({**where, "why": "metrics.json has no per-type test scores"})
            continue
        try:
            run = _load_run(cell.dir)
            pool = _load_pool(run, pools)
        except (OSError, ValueError) as err:
            skipped.append({**where, "why": f"training subset not rebuilt: {err}"})
            continue
        key = f"{id(pool)}"
        if key not in coverage_of:
            coverage_of[key] = _coverage(pool)
        coverage = coverage_of[key]
        per_type = {
            t: {
                "test": coverage[t]["test"],
                "coverage": coverage[t]["coverage"],
                "run_f1": run_f1[t],
                "baseline_f1": base_f1[t],
                "gain": run_f1[t] - base_f1[t],
            }
            for t in sorted(set(run_f1) & set(base_f1) & set(coverage))
        }
        pairs.append(
            {
                **where,
                "method": cell.method,
                "sample_seed": run.config.get("sample_seed", cell.seed),
                "run": str(cell.dir),
                "baseline": str(b.dir),
                "gain": 100
                * (float(cell.metrics["test"][metric]) - float(b.metrics["test"][metric])),
                "per_type": per_type,
            }
        )

    rows: dict[tuple[str, int], dict] = {}
    for pair in pairs:
        row = rows.setdefault(
            (pair["label"], pair["size"]),
            {"label": pair["label"], "size": pair["size"], "seeds": [], "gains": [], "types": {}},
        )
        row["seeds"].append(pair["seed"])
        row["gains"].append(pair["gain"])
        for t, v in pair["per_type"].items():
            slot = row["types"].setdefault(t, {"gains": [], "coverage": []})
            slot["gains"].append(v["gain"])
            slot["coverage"].append(v["coverage"])
    pooled = []
    for row in rows.values():
        mean, std = _mean_std(row["gains"])
        types = {}
        for t, slot in sorted(row["types"].items()):
            t_mean, t_std = _mean_std(slot["gains"])
            types[t] = {
                "mean": t_mean,
                "std": t_std,
                "n": len(slot["gains"]),
                "coverage": statistics.mean(slot["coverage"]),
            }
        pooled.append(
            {
                "label": row["label"],
                "size": row["size"],
                "seeds": sorted(row["seeds"]),
                "n": len(row["seeds"]),
                "gain_mean": mean,
                "gain_std": std,
                "per_type": types,
            }
        )
    order = {lb: i for i, lb in enumerate(dict.fromkeys(c.label for c in cells))}
    pooled.sort(key=lambda r: (r["size"], order.get(r["label"], 0)))
    points = [
        {
            "label": pair["label"],
            "size": pair["size"],
            "seed": pair["seed"],
            "sample_seed": pair["sample_seed"],
            "type": t,
            "coverage": v["coverage"],
            "gain": v["gain"],
        }
        for pair in pairs
        for t, v in pair["per_type"].items()
        if v["test"] > 0
    ]
    inspection = inspection_for(grid["task"])
    correlation = _spearman(points, inspection)
    correlation["points"] = points
    # the honest n: coverage is one value per training subset and type, shared by every method
    by_subset: dict[tuple, list[dict]] = defaultdict(list)
    for point in points:
        by_subset[(point["size"], point["sample_seed"], point["type"])].append(point)
    averaged = [
        {
            "size": size,
            "sample_seed": sample_seed,
            "type": t,
            "coverage": group[0]["coverage"],
            "gain": statistics.mean(p["gain"] for p in group),
            "cells": len(group),
        }
        for (size, sample_seed, t), group in sorted(by_subset.items())
    ]
    correlation["by_subset"] = {**_spearman(averaged, inspection), "points": averaged}
    correlation["reading"] = _correlation_verdict(correlation)
    return {
        "kind": "grid",
        "grid": str(grid_dir),
        "task": grid["task"],
        "pairs": pairs,
        "rows": pooled,
        "correlation": correlation,
        "skipped": skipped,
    }


# --------------------------------------------------------------------------------------------
# Markdown


def _interval_text(iv: Sequence[float] | None) -> str:
    return "–" if iv is None else f"[{iv[0]:+.2f}, {iv[1]:+.2f}]"


_PLOT_TITLES = {"type": "by type", "length": "by length (words)", "seen": "seen in training?"}


def render_gains(report: dict) -> list[str]:
    """Markdown lines of a :func:`gain_report`, each table with a sentence saying what it shows."""
    run, base, overall = report["run"], report["baseline"], report["overall"]
    inspection = inspection_for(report["task"])
    unit = report["unit"]
    metric = inspection.metric_words(str(report["metric"]))
    what = inspection.task.unit
    out = [
        f"## Where the gain went: {run['label']} over no augmentation",
        "",
        f"Run `{run['dir']}` (augment {run['augment']}, {run['train_size']} training {what}, "
        f"sample seed {run['sample_seed']}, seed {run['seed']}) against `{base['dir']}` "
        f"({base['found']}).",
        "",
        f"On the {report['test']['examples']:,} test {what} ({report['test']['items']:,} gold "
        f"{unit}s), {metric}: {overall['run']['f1']:.2f} with {run['label']} and "
        f"{overall['baseline']['f1']:.2f} without, a gain of {signed(overall['gain'])} "
        f"(95 % interval over test {what} {_interval_text(overall['interval'])}).",
        "",
    ]
    if report["differs"]:
        diffs = ", ".join(f"{k} {v[0]!r} vs {v[1]!r}" for k, v in report["differs"].items())
        out += [f"**Note:** the two runs differ beyond augmentation: {diffs}.", ""]
    out += [
        "How to read the tables: the test set is split into groups and both runs are scored "
        "on each group. *gain* is the run's F1 minus the baseline's, in F1 points; the 95 % "
        f"interval resamples test {what} (the same resamples for both runs): where it covers 0 "
        f"the group's change could be luck. *of the overall gain*: the group's exact share of "
        f"the headline gain (the shares add up to it; a group's own F1 gain does not, as groups "
        f"differ in size). *found* / *wrong*: how many more correct / wrong predictions the run "
        f"made in the group. The share and the group's own gain can differ in sign: the overall "
        f"{inspection.score_name} weighs a group's extra correct and wrong predictions against "
        f"all {unit}s, the group's own F1 against its own. A group of a few {unit}s swings by "
        f"many points when one {unit} changes.",
        "",
    ]
    for key, rows in report["breakdowns"].items():
        if not rows:
            continue
        title, head = inspection.breakdown_titles[key]
        out += [f"### {title}", "", report["readings"].get(key, ""), ""]
        shares = any(r["contribution"] is not None for r in rows)
        out += [
            f"| {head} | test {unit}s | share | F1 {run['label']} | F1 none | gain | 95 % interval "
            + ("| of the overall gain " if shares else "")
            + "| found | wrong |",
            "|---|---:|---:|---:|---:|---:|---|" + ("---:|" if shares else "") + "---:|---:|",
        ]
        for r in rows:
            out.append(
                f"| {r['bucket']} | {r['gold']:,} | {_pct(r['share'])} | {num(r['run']['f1'])} "
                f"| {num(r['baseline']['f1'])} | {signed(r['gain'])} "
                f"| {_interval_text(r['interval'])} "
                + (f"| {signed(r['contribution'])} " if shares else "")
                + f"| {r['delta_found']:+d} | {r['delta_wrong']:+d} |"
            )
        out += ["", inspection.breakdown_rules[key], ""]
    return out


def render_grid_gains(report: dict) -> list[str]:
    """Markdown lines of a :func:`grid_gain_report`: pooled per-type gains, the correlation."""
    corr = report["correlation"]
    inspection = inspection_for(report["task"])
    out = [
        "## Per-type gains and training-pool coverage",
        "",
        f"Grid `{report['grid']}`: {len(report['pairs'])} cell{'s' * (len(report['pairs']) != 1)} "
        "paired with the `none` cell of the same size and seed. "
        f"*Coverage* of a {inspection.group} = "
        + inspection.grid_coverage
        + f". Gains in points, mean ± std over seeds: the overall gain in "
        f"{inspection.score_name}, each {inspection.group}'s in F1.",
        "",
    ]
    if not report["rows"]:
        out += ["No cell has a finished `none` partner yet: nothing to compare.", ""]
    for size in sorted({r["size"] for r in report["rows"]}):
        rows = [r for r in report["rows"] if r["size"] == size]
        types = sorted({t for r in rows for t in r["per_type"]})
        cover = _subset_coverage(report, size)
        out += [
            f"### {size} training {inspection.task.unit}",
            "",
            _grid_reading(rows, types, cover),
            "",
            "| label | seeds | overall gain | " + " | ".join(types) + " |",
            "|---|---:|---:|" + "---:|" * len(types),
        ]
        out.append(
            "| *coverage* (mean over training subsets) | | | "
            + " | ".join(_pct(cover[t]) if t in cover else "–" for t in types)
            + " |"
        )
        for r in rows:
            cells = []
            for t in types:
                v = r["per_type"].get(t)
                cells.append("–" if v is None else _pm(v["mean"], v["std"]))
            out.append(
                f"| {r['label']} | {r['n']} | {_pm(r['gain_mean'], r['gain_std'])} | "
                + " | ".join(cells)
                + " |"
            )
        out.append("")
    out += [
        "### Does the gain follow coverage?",
        "",
        f"Over {corr['n']} (cell, {inspection.group}) points of coverage against per-"
        f"{inspection.group} gain: "
        f"{corr['reading']}.",
        "",
        f"Coverage differs mostly between {inspection.group}s (and a little between training "
        "subsets), never between methods trained on one subset; so a relation may be a property "
        f"of the {inspection.group}s rather than of coverage, and the points are not independent "
        f"(a cell's {inspection.group}s share one model). Even a small p is a hint, not proof.",
        "",
    ]
    waiting = [s for s in report["skipped"] if s["why"] == "not started"]
    listed = [s for s in report["skipped"] if s["why"] != "not started"]
    if listed or waiting:
        out += ["Not included:", ""]
        out += [f"- {s['label']}, size {s['size']}, seed {s['seed']}: {s['why']}" for s in listed]
        if waiting:
            out.append(f"- {len(waiting)} cell{'s' * (len(waiting) != 1)} not started")
        out.append("")
    return out


def _subset_coverage(report: dict, size: int) -> dict[str, float]:
    """Per type, the mean coverage over the distinct training subsets of ``size``."""
    points = [p for p in report["correlation"]["by_subset"]["points"] if p["size"] == size]
    by_type: dict[str, list[float]] = defaultdict(list)
    for p in points:
        by_type[p["type"]].append(p["coverage"])
    return {t: statistics.mean(v) for t, v in by_type.items()}


def _pm(mean: float | None, std: float | None) -> str:
    if mean is None:
        return "–"
    return f"{mean:+.2f}" + (f" ± {std:.2f}" if std is not None else "")


def _grid_reading(rows: Sequence[dict], types: Sequence[str], cov: dict[str, float]) -> str:
    """Which type gained most, averaged over the size's methods, with its coverage."""
    by_type = {t: [r["per_type"][t]["mean"] for r in rows if t in r["per_type"]] for t in types}
    means = {t: statistics.mean(v) for t, v in by_type.items() if v}
    if not means:
        return "No per-type gains to compare."
    best, worst = max(means, key=means.get), min(means, key=means.get)
    if any(t not in cov for t in (best, worst)):
        cov = {**{t: 0.0 for t in means}, **cov}
    text = (
        f"Averaged over the {len(rows)} method{'s' * (len(rows) != 1)}, {best} gains most "
        f"({_g(means[best])} F1; {_pct(cov[best])} of its test items covered)"
    )
    if worst != best:
        text += f" and {worst} least ({_g(means[worst])}; {_pct(cov[worst])} covered)"
    return text + "."


# --------------------------------------------------------------------------------------------
# plots


def plot_gains(report: dict, out_dir: Path) -> list[Path]:
    """Bar charts of the gain per group (a run report) or coverage against gain (a grid report).

    PNG through matplotlib's Agg canvas (no pyplot state); ``[]`` without matplotlib.
    """
    try:
        from matplotlib.figure import Figure
    except ImportError:
        logger.warning("matplotlib is not installed: no gain plots")
        return []
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if report.get("kind") == "grid":
        points = report["correlation"]["points"]
        if not points:
            return []
        fig = Figure(figsize=(6.4, 4.4), layout="constrained")
        ax = fig.add_subplot()
        for label in dict.fromkeys(p["label"] for p in points):
            mine = [p for p in points if p["label"] == label]
            ax.scatter([100 * p["coverage"] for p in mine], [p["gain"] for p in mine], label=label)
        ax.axhline(0, color="grey", linewidth=0.8)
        inspection = inspection_for(report["task"])
        ax.set_xlabel(
            f"coverage: % of the {inspection.group}'s test {inspection.item}s seen in training"
        )
        ax.set_ylabel("per-type F1 gain over none (points)")
        rho = report["correlation"]["rho"]
        ax.set_title(
            "gain vs coverage" + (f" (Spearman rho {rho:+.2f})" if rho is not None else "")
        )
        ax.legend(fontsize=7)
        path = out_dir / "gain_vs_coverage.png"
        fig.savefig(path, dpi=120)
        return [path]
    breakdowns = [(k, rows) for k, rows in report["breakdowns"].items() if rows]
    if not breakdowns:
        return []
    fig = Figure(figsize=(4.0 * len(breakdowns), 3.8), layout="constrained")
    axes = fig.subplots(1, len(breakdowns), squeeze=False)[0]
    for ax, (key, rows) in zip(axes, breakdowns, strict=True):
        x = np.arange(len(rows))
        gains = [r["gain"] for r in rows]
        err = None
        if all(r["interval"] is not None for r in rows):
            err = np.array(
                [
                    [r["gain"] - r["interval"][0] for r in rows],
                    [r["interval"][1] - r["gain"] for r in rows],
                ]
            )
        ax.bar(x, gains, yerr=err, capsize=3, color=["C0" if g >= 0 else "C3" for g in gains])
        ax.set_xticks(x, [f"{r['bucket']}\n{_pct(r['share'])}" for r in rows], fontsize=8)
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.set_title(_PLOT_TITLES[key], fontsize=9)
    axes[0].set_ylabel("F1 gain (points), 95 % interval")
    fig.suptitle(f"{report['run']['label']} over none: gain by group", fontsize=10)
    path = out_dir / "gains.png"
    fig.savefig(path, dpi=120)
    return [path]
