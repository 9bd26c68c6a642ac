"""The pre-training report: pool coverage, the mixes, the semantic check, plots; in one folder.

:func:`inspect_augmentation` starts from :func:`segmix.run.prepare`, so the subset, labels and
pool are the ones ``segmix train`` would use with the same options, and writes::

    OUT/inspect.json   every figure
    OUT/inspect.md     the same, in words, for a reader who has not read the paper
    OUT/plots/*.png    λ, segment lengths, pool size against coverage, similarities

:func:`summary_lines` gives the few lines the CLI prints.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from segmix.inspect.coverage import KIND_WORDS, pool_error
from segmix.tasks import get_task, inspection_for

logger = logging.getLogger(__name__)

#: bumped when inspect.json changes shape
FORMAT = 1


@dataclass
class InspectResult:
    """What :func:`inspect_augmentation` wrote and computed."""

    report: dict
    markdown: Path
    json: Path
    plots: list[Path]


def check_method(config: Any) -> None:
    """Refuse, before reading any file, a method without a pool (one-line ``ValueError``)."""
    error = pool_error(config.task, config.augment, getattr(config, "lada_mode", "inter"))
    if error:
        raise ValueError(error)


def inspect_augmentation(
    config: Any,
    out_dir: Path | str,
    *,
    n_mixes: int = 2000,
    semantic: int = 200,
    examples: int = 5,
    run_model: Path | None = None,
    gains: dict | None = None,
    gains_markdown: Sequence[str] = (),
    on_step: Callable[[str], None] | None = None,
) -> InspectResult:
    """Compute and write the whole report for ``config`` (a :class:`segmix.config.TrainConfig`).

    ``run_model`` is a trained model folder whose encoder the semantic check uses instead of
    ``config.model``'s; ``gains``/``gains_markdown`` (the post-training report of a run, from
    :mod:`segmix.inspect.gains`) are stored and appended as they are. ``on_step`` hears the
    name of each step as it starts (a progress hook for the CLI). ``examples`` mixes are
    rendered as ``segmix augment`` shows them (0 for a report that must not quote the data).
    """
    from segmix.inspect.coverage import coverage_report
    from segmix.inspect.mixes import mix_statistics
    from segmix.inspect.plots import write_plots
    from segmix.run import prepare

    check_method(config)
    if n_mixes < 1:
        raise ValueError(f"-n: {n_mixes} is not allowed; it must be ≥ 1")
    if semantic < 0:
        raise ValueError(f"--semantic: {semantic} is not allowed; it must be ≥ 0 (0 skips it)")
    out = Path(out_dir)
    step = on_step or (lambda _name: None)
    timing: dict[str, float] = {}
    started = time.perf_counter()

    def timed(name: str, fn: Callable[[], Any]) -> Any:
        step(name)
        t0 = time.perf_counter()
        value = fn()
        timing[f"{name}_seconds"] = round(time.perf_counter() - t0, 3)
        return value

    prep = timed("prepare", lambda: prepare(config, evaluation=True))
    coverage, _pool = timed("coverage", lambda: coverage_report(prep, config.augment))
    mixes = timed("mixes", lambda: mix_statistics(prep, n_mixes, seed=config.seed, show=examples))
    if semantic > 0:
        from segmix.inspect.semantic import semantic_check

        sem = timed("semantic", lambda: semantic_check(prep, config, semantic, run_model=run_model))
    else:
        sem = {"skipped": "--semantic 0"}
    report = {
        "format": FORMAT,
        "task": config.task,
        "method": config.augment,
        "augmenter": _describe(prep.augmenter),
        "data": {
            "files": prep.files,
            "train_size": len(prep.data.train),
            "sample_seed": config.sample_seed,
            "dev_examples": len(prep.data.dev or ()),
            "dev_carved_from_train": prep.data.dev_carved,
            "test_examples": len(prep.data.test or ()),
            "labels": list(prep.data.labels),
        },
        "encoder": _resolved(config.model),
        "seed": config.seed,
        "coverage": coverage,
        "mixes": mixes,
        "semantic": sem,
    }
    if gains is not None:
        report["gains"] = gains
    plots = timed("plots", lambda: write_plots(report, out / "plots") + _gain_plots(gains, out))
    report["plots"] = [str(p.relative_to(out)) for p in plots]
    timing["total_seconds"] = round(time.perf_counter() - started, 3)
    report["timing"] = timing
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "inspect.json"
    json_path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
    md_path = out / "inspect.md"
    lines = render_markdown(report)
    if gains_markdown:
        lines += ["", *gains_markdown]
    md_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    logger.info("inspect report written to %s", out)
    return InspectResult(report, md_path, json_path, plots)


def _gain_plots(gains: dict | None, out: Path) -> list[Path]:
    """The post-training report's own plots (:func:`segmix.inspect.gains.plot_gains`), if any."""
    if gains is None:
        return []
    try:
        from segmix.inspect.gains import plot_gains
    except ImportError:
        return []
    return list(plot_gains(gains, out / "plots"))


def _describe(augmenter: Any) -> dict | None:
    describe = getattr(augmenter, "describe", None)
    return describe() if describe else None


def _resolved(model: str) -> str:
    from segmix.encoding import resolve_model

    return resolve_model(model)


# --------------------------------------------------------------------------- Markdown


def pct(x: float | None, digits: int = 0) -> str:
    """A share as a percentage (``–`` when there was nothing to share)."""
    return "–" if x is None else f"{100 * x:.{digits}f} %"


def num(x: float | None, digits: int = 2) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def _dist(d: dict, unit: str) -> str:
    if not d.get("n"):
        return "–"
    return f"{d['mean']:.1f} {unit} on average (median {d['median']:g}, max {d['max']})"


def render_markdown(report: dict) -> list[str]:
    """The report in words, one list of Markdown lines."""
    data = report["data"]
    unit = get_task(report["task"]).unit  # sentences (tagging) or examples (relations)
    lines = [
        f"# What `{report['method']}` will do to this data",
        "",
        f"Task **{report['task']}**, method **{report['method']}**, "
        f"{data['train_size']} training {unit} (subset seed {data['sample_seed']}) from "
        f"`{data['files']['train']}`; dev: {data['dev_examples']} {unit}"
        f"{' carved from the training file' if data['dev_carved_from_train'] else ''}; "
        f"test: {data['test_examples']}. Encoder: `{report['encoder']}`.",
        "",
        "This report is computed before any training, from the same subset, labels and pool "
        "that `segmix train` would use with these options. It answers three questions: what "
        "can the augmentation draw from (the pool) and how much of dev and test has that pool "
        "seen; what do the mixed examples look like; and does the encoder read a mixed segment "
        "as something between its two sources.",
        "",
    ]
    lines += _coverage_md(report)
    lines += _mixes_md(report)
    lines += _semantic_md(report)
    if report.get("plots"):
        lines += ["## Plots", ""]
        lines += [f"![{Path(p).stem}]({p})" for p in report["plots"]]
        lines.append("")
    timing = report.get("timing", {})
    if timing:
        parts = ", ".join(f"{k.removesuffix('_seconds')} {v:.1f} s" for k, v in timing.items())
        lines += [f"_Computed in {parts}._", ""]
    return lines


def _coverage_md(report: dict) -> list[str]:
    lines = ["## 1. The pool and what it covers", ""]
    return lines + inspection_for(report["task"]).coverage_markdown(report)


def mention_coverage_md(report: dict) -> list[str]:
    """The coverage section of entity tagging: the pool per entity type, dev/test mentions."""
    cov = report["coverage"]
    kind = cov["kind"]
    lines: list[str] = []
    pool = cov["pool"]
    what = {
        "mentions": "every entity mention of the training subset; a mention is mixed with one "
        "of these",
        "tokens": "every word occurrence of the training subset (with its tag); a word is mixed "
        "with one of these",
        "synonyms": "the WordNet synonyms of the training words; a word is mixed with one of its "
        "own synonyms",
        "sentences": "the training sentences themselves; a sentence is mixed with another whole",
        "windows": "windows of words starting on an entity tag (SeqMix; whole sentences under "
        "--seqmix-mode whole); a window is mixed with another",
    }[kind]
    lines += [
        f"The pool of `{report['method']}` holds {pool['segments']} {KIND_WORDS[kind]} "
        f"({pool['distinct']} distinct): {what}.",
        "",
    ]
    match = (
        "a dev/test mention counts as *in the pool* when its exact words are a pool mention "
        "(training mentions carried by the pool's sentences or windows, for mixup and SeqMix); "
        "its *head word* — the **last word** of the mention — counts when it is the last word "
        "of a pool mention"
        if cov["match"] == "mention"
        else "a dev/test mention counts as *in the pool* when every one of its words is "
        + (
            "a pool word"
            if kind == "tokens"
            else "a training word with at least one synonym (SMix could mix each of them)"
        )
        + "; its *head word* — the **last word** of the mention — counts when it alone is"
    )
    lines += [
        f"How to read the figures: {match}. Surface forms are compared exactly (case too).",
        "",
    ]
    splits = [s for s in ("dev", "test") if s in cov["all"]]
    lines += _pool_table(
        cov,
        splits,
        ("type", "training mentions", "train_mentions"),
        ("mentions", "head in pool", "head_in_pool"),
        lambda name: "outside mentions (O)" if name == "O" else "all sentences",
    )
    lines.append("")
    seg_word = {
        "mentions": "mentions",
        "tokens": "word occurrences",
        "synonyms": "synonym options",
        "sentences": "training mentions",
        "windows": "windows",
    }[kind]
    for typ, row in cov["types"].items():
        p = row["pool"]
        n_seg = p["segments"] if kind != "sentences" else row["train_mentions"]
        n_distinct = p["distinct"] if kind != "sentences" else row["train_distinct"]
        text = f"- **{typ}**: {n_seg} {seg_word} in the pool, {n_distinct} distinct"
        if p["words"].get("n"):
            text += f", {_dist(p['words'], 'words')}, {_dist(p['subwords'], 'sub-words')}"
        parts = []
        for s in splits:
            e = row.get(s, {})
            if e.get("mentions"):
                parts.append(
                    f"{pct(e['in_pool'])} of the {e['mentions']} {s} {typ} mentions appear in "
                    f"the pool ({pct(e['in_pool_same_type'])} with the same type), "
                    f"{pct(e['head_in_pool'])} have their head word there"
                )
        lines.append(text + ("; " + "; ".join(parts) if parts else "") + ".")
    lines.append("")
    for s in splits:
        a = cov["all"][s]
        lines.append(
            f"Over all {a['mentions']} {s} mentions: {pct(a['in_pool'])} in the pool, "
            f"{pct(a['head_in_pool'])} with their head word in it."
        )
    unmixable = {s: t for s, t in cov["unmixable"].items() if t}
    lines.append("")
    if unmixable:
        for s, types in unmixable.items():
            lines.append(
                f"**Types in {s} that the pool cannot mix at all** (no segment of that type): "
                f"{', '.join(types)}. Augmentation cannot help there; only more labelled data can."
            )
    else:
        lines.append("Every entity type of dev and test has segments in the pool.")
    lines.append("")
    if kind == "synonyms":
        syn = cov["synonyms"]
        lines += [
            f"SMix can mix a word only if WordNet has a synonym for it: "
            f"{pct(syn['token_share_with_synonym'])} of the training word occurrences "
            f"({syn['train_tokens_with_synonym']} of {syn['train_tokens']}) and "
            f"{pct(syn['type_share_with_synonym'])} of the distinct training words "
            f"({syn['train_types_with_synonym']} of {syn['train_types']}) have at least one; "
            f"a word with synonyms has {_dist(syn['options_per_word'], 'options')}.",
            "",
        ]
    return lines


def argument_coverage_md(report: dict) -> list[str]:
    """The coverage section of relations: argument pairs per relation, dev/test arguments."""
    cov = report["coverage"]
    pool = cov["pool"]
    lines = [
        f"The pool holds {pool['pairs']} argument pairs (the head and tail of every training "
        f"example; {pool['distinct_pairs']} distinct pairs). A mix replaces an example's head "
        "and tail (RMix; one of them for MMix) by those of a pool example. A dev/test argument "
        "counts as *in the pool* when its exact words are an argument (head or tail) of a pool "
        "example.",
        "",
    ]
    splits = [s for s in ("dev", "test") if s in cov["all"]]
    head = ["relation", "pairs", "distinct pairs", "head words", "tail words"]
    for s in splits:
        head += [f"{s} examples", f"{s} head in pool", f"{s} tail in pool"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for rel, row in cov["relations"].items():
        p = row["pool"]
        cells = [
            rel,
            str(p["pairs"]),
            str(p["distinct_pairs"]),
            num(p["head"]["words"]["mean"], 1),
            num(p["tail"]["words"]["mean"], 1),
        ]
        for s in splits:
            e = row.get(s, {})
            cells += [
                str(e.get("examples", 0)),
                pct(e.get("head_in_pool")),
                pct(e.get("tail_in_pool")),
            ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for s in splits:
        a = cov["all"][s]
        lines.append(
            f"Over all {a['examples']} {s} examples: {pct(a['head_in_pool'])} of the heads and "
            f"{pct(a['tail_in_pool'])} of the tails appear in the pool, both in "
            f"{pct(a['both_in_pool'])}, the exact pair in {pct(a['pair_in_pool'])}."
        )
    for s, rels in cov["unmixable"].items():
        if rels:
            lines.append(f"Relations in {s} with no pool example: {', '.join(rels)}.")
    return [*lines, ""]


#: word labels (part-of-speech tags): what each pool holds, and when a dev/test word is in it
_WORD_POOLS = {
    "tokens": (
        "every word occurrence of the training subset (with its tag); a word is mixed with one "
        "of these",
        "its exact form is a pool word",
    ),
    "synonyms": (
        "the WordNet synonyms of the training words, in the part of speech of each word's tag; "
        "a word is mixed with one of its own synonyms",
        "it is a training word with at least one synonym of its tag's part of speech (SMix "
        "could mix it)",
    ),
    "sentences": (
        "the training sentences themselves; a sentence is mixed with another whole",
        "its exact form occurs in a training sentence",
    ),
}


def _pool_table(
    cov: dict,
    splits: list[str],
    group: tuple[str, str, str],
    items: tuple[str, str, str],
    other_label: Callable[[str], str],
) -> list[str]:
    """The pool per group (entity type, tag) and the dev/test items (mentions, words) it has
    seen: ``group`` is (column title, training-count title, its key), ``items`` (what a split
    counts, the extra share's title, its key); the other groups' rows (``O``, the whole
    sentences) follow, named by ``other_label``."""
    first, train_title, train_key = group
    unit, extra_title, extra_key = items
    head = [first, "pool segments", "distinct", "words", "sub-words", train_title]
    for s in splits:
        head += [f"{s} {unit}", f"{s} in pool", f"{s} {extra_title}"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, row in cov["types"].items():
        p = row["pool"]
        cells = [
            name,
            str(p["segments"]),
            str(p["distinct"]),
            num(p["words"]["mean"], 1),
            num(p["subwords"]["mean"], 1),
            str(row[train_key]),
        ]
        for s in splits:
            e = row.get(s, {})
            cells += [str(e.get(unit, 0)), pct(e.get("in_pool")), pct(e.get(extra_key))]
        lines.append("| " + " | ".join(cells) + " |")
    for name, other in cov.get("other_groups", {}).items():
        lines.append(
            f"| {other_label(name)} | {other['segments']} | {other['distinct']} | "
            f"{num(other['words']['mean'], 1)} | {num(other['subwords']['mean'], 1)} | – |"
            + " – | – | – |"
            * len(splits)
        )
    return lines


def word_coverage_md(report: dict) -> list[str]:
    """The coverage section of word labels (part-of-speech tags): the pool per tag, and the
    dev/test words it has seen (:func:`segmix.inspect.coverage.word_coverage`)."""
    cov = report["coverage"]
    kind, pool = cov["kind"], cov["pool"]
    what, match = _WORD_POOLS[kind]
    lines = [
        f"The pool of `{report['method']}` holds {pool['segments']} {KIND_WORDS[kind]} "
        f"({pool['distinct']} distinct): {what}.",
        "",
        "How to read the figures: every dev/test word is an item, grouped by its gold tag; it "
        f"counts as *in the pool* when {match}, and *with the same tag* when it is there with "
        "its gold tag. Surface forms are compared exactly (case too).",
        "",
    ]
    splits = [s for s in ("dev", "test") if s in cov["all"]]
    lines += _pool_table(
        cov,
        splits,
        ("tag", "training words", "train_words"),
        ("words", "same tag", "in_pool_same_tag"),
        lambda name: "all sentences",
    )
    lines.append("")
    for s in splits:
        a = cov["all"][s]
        lines.append(
            f"Over all {a['words']} {s} words: {pct(a['in_pool'])} in the pool, "
            f"{pct(a['in_pool_same_tag'])} with the same tag."
        )
    lines.append("")
    unmixable = {s: t for s, t in cov["unmixable"].items() if t}
    if unmixable:
        for s, tags in unmixable.items():
            lines.append(
                f"**Tags in {s} that the pool cannot mix at all** (no segment with that tag): "
                f"{', '.join(tags)}. Augmentation cannot reach their words."
            )
    else:
        lines.append("Every tag of dev and test has segments in the pool.")
    lines.append("")
    if kind == "synonyms":
        syn = cov["synonyms"]
        lines += [
            f"SMix can mix a word only if WordNet has a synonym for it in its tag's part of "
            f"speech: {pct(syn['token_share_with_synonym'])} of the training word occurrences "
            f"({syn['train_tokens_with_synonym']} of {syn['train_tokens']}) and "
            f"{pct(syn['type_share_with_synonym'])} of the distinct training words "
            f"({syn['train_types_with_synonym']} of {syn['train_types']}) have at least one; "
            f"a word with synonyms has {_dist(syn['options_per_word'], 'options')}.",
            "",
        ]
    return lines


def _mixes_md(report: dict) -> list[str]:
    mx = report["mixes"]
    lam, pad, gap, src = mx["lambda"], mx["padding"], mx["length_mismatch"], mx["sources"]
    lines = [
        "## 2. What the mixes look like",
        "",
        f"Over {mx['mixes']} mixes ({mx['segments']} mixed segments), drawn as the first epoch "
        "of training draws them:",
        "",
        f"- **λ** (the original side's share of a mixed segment): mean {num(lam['mean'])}, "
        f"median {num(lam['median'])}, from {num(lam['min'])} to {num(lam['max'])}.",
        f"- **Padding**: where the two sides differ in length, the shorter word or segment is "
        f"filled with the pad token. {pct(pad['share_of_mixed'], 1)} of the mixed positions "
        f"hold a pad id on one side ({pct(pad['pad_on_side_a'], 1)} on the original's side, "
        f"{pct(pad['pad_on_side_b'], 1)} on the partner's); that is "
        f"{pct(pad['share_of_all'], 1)} of all positions of these mixes.",
        f"- **Length mismatch**: the two sides of a mixed segment differ in length in "
        f"{pct(gap['share_unequal_words'])} of the segments; by {num(gap['words']['mean'])} words "
        f"on average (max {gap['words']['max']}) and {num(gap['subwords']['mean'])} sub-words "
        f"(max {gap['subwords']['max']}).",
        f"- **Sources**: the mixes come from {src['distinct']} distinct training examples "
        f"({pct(src['share_of_training_set'])} of the {src['training_examples']}; "
        f"{mx['eligible_sources']} can be mixed at all); at most {src['max_per_source']} mixes "
        f"come from one example, {num(src['per_source']['mean'], 1)} on average.",
    ]
    wf = mx.get("well_formed")
    if wf:
        lines.append(
            f"- **Well-formed labels**: a tag sequence is well formed when no `I-X` follows the "
            f"sentence start, an `O` or a tag of another type (strict IOB2). Side a's tags: "
            f"{pct(wf['side_a'], 1)} of the mixes; side b's: {pct(wf['side_b'], 1)}; the "
            f"arg-max of the soft target: {pct(wf['argmax'], 1)}; all three: {pct(wf['all'], 1)}."
        )
        for name, patterns in mx.get("ill_formed_patterns", {}).items():
            if patterns:
                shown = ", ".join(f"`{p}` ({c})" for p, c in patterns.items())
                lines.append(f"  Most frequent breaks on {name.replace('_', ' ')}: {shown}.")
    else:
        lines.append(inspection_for(report["task"]).labels_note)
    if mx.get("layers"):
        lines.append(f"- **Layers** where the mix happens: {mx['layers']}.")
    lines.append("")
    if mx["examples"]:
        lines += [
            "A few mixes as `segmix augment` shows them (`[original|partner @λ]` and the soft "
            "label of each aligned word):",
            "",
            "```",
            *[line for ex in mx["examples"] for line in (ex, "")],
            "```",
            "",
        ]
    return lines


def _semantic_md(report: dict) -> list[str]:
    sem = report["semantic"]
    lines = ["## 3. Does the encoder read a mix as something between its sources?", ""]
    if "skipped" in sem:
        return [*lines, f"Not computed: {sem['skipped']}.", ""]
    lines += [
        f"For {sem['sample']} mixes, the encoder (`{sem['encoder']}`"
        f"{', the trained run' if sem['from_run'] else ', untrained'}) reads the mixed "
        "embeddings; at the first sub-word of each aligned word pair of a mixed segment its "
        "last-layer state is compared (cosine) with the state of the same word in each source "
        "sentence: side a's own sentence, and side b's (the partner's own sentence where it can "
        "be traced, else as the table says). *max* is max(sim_a, sim_b): close to at least one "
        "source; *λ-weighted* is λ·sim_a + (1 − λ)·sim_b; *heavier side* is the share of pairs "
        "closer to the side with the larger weight. Baselines: **mixup** mixes two whole "
        "sentences; **random** keeps the method's segments and λ but takes as partner a random "
        "span of the training set of the same length (no mention, type or synonym structure).",
        "",
        "| mixes of | mixes | pairs | max: mean | max: median | λ-weighted: mean | "
        "λ-weighted: median | heavier side | pad pairs |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    names = {
        "method": report["method"],
        "mixup": "mixup (whole sentence)",
        "random": "random partner",
    }
    for cond, fig in sem["conditions"].items():
        lines.append(
            f"| {names[cond]} | {fig['mixes']} | {fig['pairs']} | {num(fig['max']['mean'], 3)} | "
            f"{num(fig['max']['median'], 3)} | {num(fig['weighted']['mean'], 3)} | "
            f"{num(fig['weighted']['median'], 3)} | {pct(fig['heavier_closer'])} | "
            f"{fig['pad_pairs']['pairs']} |"
        )
    lines.append("")
    refs = sem["conditions"]["method"].get("side_b_reference", {})
    if refs:
        lines.append(
            "Side b's reference for the method: "
            + ", ".join(f"{k} ({v} segments)" for k, v in refs.items())
            + "."
        )
    lines += ["", _semantic_verdict(report), ""]
    return lines


def _semantic_verdict(report: dict) -> str:
    """One sentence comparing the method with its baselines (by mean max similarity)."""
    c = report["semantic"]["conditions"]
    m = c["method"]["max"]["mean"]
    if m is None:
        return "No pair with both sides present: nothing to compare."
    parts = []
    for cond, label in (("mixup", "whole-sequence mixup"), ("random", "random partners")):
        other = c.get(cond, {}).get("max", {}).get("mean")
        if other is None:
            continue
        rel = (
            "closer to a source than"
            if m > other + 0.01
            else ("farther from its sources than" if m < other - 0.01 else "about as close as")
        )
        parts.append(f"{rel} {label} ({m:.3f} vs {other:.3f})")
    return f"`{report['method']}`'s mixed words stay " + "; ".join(parts) + "." if parts else ""


# --------------------------------------------------------------------------- the CLI's lines


def mention_summary(cov: dict) -> list[str]:
    """The CLI's coverage lines for entity tagging: the pool, test mentions in it per type."""
    return _pool_summary(cov, "mentions", "types", ("head_in_pool", "head word"))


def argument_summary(cov: dict) -> list[str]:
    """The CLI's coverage lines for relations: argument pairs, heads and tails in the pool."""
    pool = cov["pool"]
    lines = [f"pool: {pool['pairs']} argument pairs, {pool['distinct_pairs']} distinct"]
    for s, a in cov["all"].items():
        lines.append(f"{s}: heads in pool {pct(a['head_in_pool'])}, tails {pct(a['tail_in_pool'])}")
    return lines


def word_summary(cov: dict) -> list[str]:
    """The CLI's coverage lines for word labels: the pool, test words in it per tag."""
    return _pool_summary(cov, "words", "tags", ("in_pool_same_tag", "with the same tag"))


def _pool_summary(cov: dict, items: str, groups: str, extra: tuple[str, str]) -> list[str]:
    """The pool, the share of a split's ``items`` (mentions, words) in it per type or tag, one
    ``extra`` share (key, words), and the ``groups`` the pool cannot mix."""
    pool = cov["pool"]
    lines = [f"pool: {pool['segments']} {KIND_WORDS[cov['kind']]} ({pool['distinct']} distinct)"]
    split = "test" if "test" in cov["all"] else next(iter(cov["all"]), None)
    if split:
        per_group = ", ".join(
            f"{t} {pct(r[split]['in_pool'])}"
            for t, r in cov["types"].items()
            if r.get(split, {}).get(items)
        )
        key, words = extra
        lines.append(
            f"{split} {items} in pool: {pct(cov['all'][split]['in_pool'])} ({per_group}); "
            f"{words} {pct(cov['all'][split][key])}"
        )
    missing = {s: t for s, t in cov["unmixable"].items() if t}
    if missing:
        lines.append(
            f"{groups} the pool cannot mix: "
            + "; ".join(f"{s}: {', '.join(t)}" for s, t in missing.items())
        )
    return lines


def summary_lines(report: dict) -> list[str]:
    """The short summary the CLI prints (plain text)."""
    cov, mx, sem = report["coverage"], report["mixes"], report["semantic"]
    unit = get_task(report["task"]).unit
    lines = [
        f"{report['method']} on {report['data']['train_size']} training {unit} ({report['task']})"
    ]
    lines += inspection_for(report["task"]).coverage_summary(cov)
    pad = mx["padding"]
    text = (
        f"mixes: {mx['mixes']}, λ mean {num(mx['lambda']['mean'])}, padding "
        f"{pct(pad['share_of_mixed'], 1)} of mixed positions"
    )
    if mx.get("well_formed"):
        wf = mx["well_formed"]
        text += (
            f", well-formed a/b/argmax {pct(wf['side_a'])}/{pct(wf['side_b'])}/{pct(wf['argmax'])}"
        )
    lines.append(text)
    if "conditions" in sem:
        c = sem["conditions"]
        shown = {"method": report["method"], "mixup": "whole-sentence mixup", "random": "random"}
        lines.append(
            "semantic (mean max-sim): "
            + ", ".join(f"{shown[k]} {num(v['max']['mean'], 3)}" for k, v in c.items())
        )
    return lines
