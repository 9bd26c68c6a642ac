"""README's results, written from the committed reports so that README never says more than they do.

Every number and verdict in README's answer ("Where it helps, as measured here") and in its
Benchmarks results comes from a committed ``report.json`` (``segmix report``) or the epochs
comparison's ``comparison.json`` (``benchmarks/epochs_vs_steps.py``), through the templates
below: a sentence says "gains" only where the report's rule found evidence of a gain, and every
"no evidence" carries the smallest gain the grid could have detected. README holds the text
between ``<!-- results:NAME:start -->`` and ``<!-- results:NAME:end -->`` markers;
``tests/test_readme_results.py`` fails when it differs from what this script writes.

    python benchmarks/readme_results.py           # rewrite README's generated blocks
    python benchmarks/readme_results.py --check   # exit 1 if README is not what they say
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path

from segmix.experiment.names import display_name
from segmix.experiment.report import held_out_rates_text, sizes_under_way, spec_values
from segmix.tasks import get_task

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
README = ROOT / "README.md"

#: the reports README quotes, in the order it quotes them: (folder under benchmarks/results,
#: what the grid is, as a heading)
SOURCES = {
    "sizes_gpu": ("ner_conll2003_sizes_gpu", "NER by training-set size (CoNLL-2003, one H200)"),
    "sizes_cpu": (
        "ner_conll2003_sizes_cpu",
        "The same grid's 50-sentence cells on 2 CPU cores, each method's lr chosen there",
    ),
    "spacy": ("ner_conll2003_spacy", "spaCy's reference row against the MiniLM baseline (CPU)"),
    "quality": ("ner_conll2003", "Every NER method at 200 CoNLL-2003 sentences (one shared lr)"),
    "rates": (
        "ner_conll2003_rates",
        "Which rate at which size (CoNLL-2003, one lr per size, not searched)",
    ),
    "re_sizes": (
        "re_semeval2010_sizes",
        "Relations by size (SemEval-2010 Task 8), each method's lr chosen on dev",
    ),
    "re_quality": ("re_semeval2010", "Relations at 200 SemEval-2010 examples (one shared lr)"),
    "pos": (
        "pos_ud_ewt",
        "Part-of-speech tagging by size (UD English EWT, UPOS, word accuracy), each method's lr "
        "chosen on dev",
    ),
}
#: grids under way whose report README quotes once it exists (the sizes measured so far, the
#: rest named as not measured yet), in the order of SOURCES
UNDER_WAY = {
    "headline": (
        "ner_conll2003_headline",
        "NER by size re-measured (CoNLL-2003): the comparators as their sources do them, "
        "mixtures, SMix with FGM; each method's lr chosen on dev from search seeds of its own",
    ),
    "re_rmix": (
        "re_semeval2010_rmix",
        "RMix's label readings by size (SemEval-2010 Task 8), each reading's lr chosen on dev "
        "from search seeds of its own",
    ),
}
SOURCES |= {
    name: source
    for name, source in UNDER_WAY.items()
    if (RESULTS / source[0] / "report.json").is_file()
}
EPOCHS = RESULTS / "ner_conll2003_epochs" / "comparison.json"
#: reports whose SeqMix, LADA (inter), LwTR, MR and rules rows ran before those comparators
#: followed their sources (decisions 19, 21, 24): their rows are segmix's earlier versions, and
#: README says so
EARLIER_COMPARATORS = {"sizes_gpu", "sizes_cpu", "quality"}
#: what the opening's NER line says of its grid, where the heading alone would not: the
#: re-measured grid, once whole, is the answer, and its line says what it re-measured
NER_TITLES = {
    "headline": "SeqMix, LADA and the rules as their sources do them, the paper's mixtures, "
    "SMix with FGM; search seeds apart; ",
}
EARLIER_NOTE = (
    "*In this grid, `SeqMix` is segmix's earlier window mixup (windows on each mention's first "
    "word, continuous embeddings: `--seqmix-windows mention --seqmix-output continuous`), and "
    "LADA (inter) labels pad words `O` (`--lada-pads earlier`), and LwTR, MR and rules (where "
    "present) are segmix's earlier versions of Dai & Adel's rules; the comparators as their "
    "sources do them (decisions 19, 21 and 24) are not measured yet.*"
)


@functools.cache  # the summary, the RMix line and the blocks read one report
def load(name: str) -> dict:
    folder, _ = SOURCES[name]
    return json.loads((RESULTS / folder / "report.json").read_text(encoding="utf-8"))


def p_text(p: float | None) -> str:
    if p is None:
        return "n/a"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def signed(v: float) -> str:
    return f"{v:+.2f}".replace("-", "−")


def link(name: str) -> str:
    return f"benchmarks/results/{SOURCES[name][0]}/report.md"


def measured_sizes(report: dict) -> list[int]:
    """The sizes whose every planned main cell finished: a size still under way is named as
    such, never summarised from the seeds that happen to be done. The report decides that
    (its recommendation of such a size is ``under_way``); README only reads it."""
    running = sizes_under_way(report)
    return [r["size"] for r in report["recommendations"] if r["size"] not in running]


def _not_run(report: dict) -> list[dict]:
    """The report's missing cells that did not finish (a finished cell whose predictions were
    not kept is measured: its score is in the tables)."""
    return [m for m in report.get("missing") or [] if not str(m["state"]).startswith("finished")]


def under_way(report: dict, unit: str) -> str:
    """'; 100 sentences not measured yet' for the sizes :func:`measured_sizes` leaves out."""
    planned = sorted(
        {m["size"] for m in _not_run(report)}
        | set(report["sizes"])
        | set(report["grid"].get("sizes_not_run") or [])
    )
    rest = [s for s in planned if s not in measured_sizes(report)]
    return f"; {', '.join(map(str, rest))} {unit} not measured yet" if rest else ""


def rows_at(report: dict, size: int) -> list[dict]:
    return [r for r in report["rows"] if r["size"] == size]


def base_row(report: dict, size: int) -> dict:
    return next(r for r in rows_at(report, size) if r["baseline"])


def recommendation(report: dict, size: int) -> dict:
    return next(r for r in report["recommendations"] if r["size"] == size)


def gain_cell(r: dict) -> str:
    """A method's gain as the tables show it: bold where the rule found evidence."""
    text = f"{signed(r['gain_mean'])} (Holm {p_text(r['t_p_holm'])})"
    return f"**{text}**" if r["evidence"] == "gain" else text


def evidence_list(rows: list[dict], evidence: str) -> list[dict]:
    return sorted(
        (r for r in rows if r["evidence"] == evidence and not r["reference"]),
        key=lambda r: -abs(r["gain_mean"]),
    )


def size_sentence(report: dict, size: int, unit: str) -> str:
    """One size's answer: the recommendation and whether it beats the runner-up, or the
    largest gain with its adjusted p and what the seeds could have detected."""
    rec = recommendation(report, size)
    rows = rows_at(report, size)
    found = report["detectable"].get(str(size)) or {}
    if rec["label"] is not None:
        up = rec["runner_up"]
        others = [r for r in evidence_list(rows, "gain") if r["label"] != rec["label"]]
        text = (
            f"at {size} {unit} **{rec['display']}** gains {signed(rec['gain'])} "
            f"(Holm-adjusted p {p_text(rec['t_p_holm'])}, {rec['family']} methods compared)"
        )
        if up is not None:
            word = {1: "and beats", 0: "but is not distinguishable from", -1: "but loses to"}[
                up["distinct"]
            ]
            text += (
                f", {word} the runner-up {up['display']} (difference {signed(up['mean'])}, "
                f"t-test p {p_text(up['t_p'])})"
            )
        if others:
            text += "; also with evidence of a gain: " + ", ".join(
                f"{r['display']} {signed(r['gain_mean'])}" for r in others
            )
        return text + _losses(rows)
    compared = [r for r in rows if not r["baseline"] and not r["reference"]]
    if not compared:
        return f"at {size} {unit} no augmentation method ran"
    top = max(compared, key=lambda r: r["gain_mean"])
    text = (
        f"at {size} {unit} no method shows evidence of a gain (largest: {top['display']} "
        f"{signed(top['gain_mean'])}, Holm-adjusted p {p_text(top['t_p_holm'])})"
    )
    if found.get("gain") is not None:
        text += (
            f"; its {found['n']} seeds could detect only gains of {found['gain']:.1f} points or "
            f"more among {found['family']} method{'s' * (found['family'] != 1)}"
        )
    return text + _losses(rows)


def _losses(rows: list[dict]) -> str:
    """'; evidence of a loss: SR −1.04' for the rows the rule finds worse than none."""
    losses = evidence_list(rows, "loss")
    if not losses:
        return ""
    return "; evidence of a loss: " + ", ".join(
        f"{r['display']} {signed(r['gain_mean'])}" for r in losses
    )


def rmix_readings() -> list[str]:
    """The summary's line on RMix's label readings (issue of the comparators), once the grid
    has a whole size: which reading gains over none, if any, and whether any reading differs
    from interpolated RMix."""
    if "re_rmix" not in SOURCES:
        return []
    report = load("re_rmix")
    done = measured_sizes(report)
    if not done:
        return []
    text = "; ".join(size_sentence(report, s, "examples") for s in done)
    text += under_way(report, "examples") + "."
    text += contrast_sentence(report, done)
    # once the grid is whole it is the relations answer (summary_sources), and says so
    title = "Relations by size, with RMix's" if complete("re_rmix") else "RMix's"
    return [
        f"- **{title} label readings** (interpolated, same relation, original dominant, "
        "role-aligned; MMix likewise; mixup and SR beside them; SemEval-2010, search seeds "
        f"apart; [report]({link('re_rmix')})): {readings_answer(report, done)}; {text}"
    ]


def headline_interim() -> list[str]:
    """The summary's line on the re-measured NER grid while it is under way (once it is whole
    it is the NER answer, summary_sources): its whole sizes, the sizes still running named, and
    SegMix against sentence-level mixing there, so that the opening never quotes only the grid
    whose comparators are segmix's earlier versions when the corrected one has a measured size."""
    if "headline" not in SOURCES or complete("headline"):
        return []
    report = load("headline")
    done = measured_sizes(report)
    if not done:
        return []
    text = "; ".join(size_sentence(report, s, "sentences") for s in done)
    running = under_way(report, "sentences")
    text += running
    stopped = _stopped(report, done)
    if stopped and running:
        at = sorted({size for m in stopped for size in m["sizes"]})
        text += (
            f", where {len(stopped)} methods do not run ({listed(m['display'] for m in stopped)} "
            f"stop at {listed(map(str, at))}: only the baseline, the methods with evidence there "
            "and their contrast partners go on, decision 51)"
        )
    text += "."
    if versus := segmix_versus_sequence(report):
        text += f" SegMix against sentence-level mixing: {versus}."
    return [
        "- **NER re-measured, under way** (SeqMix, LADA and the rules as their sources do them, "
        f"the paper's mixtures, SMix with FGM; search seeds apart; [report]({link('headline')})):"
        f" {text}"
    ]


def _stopped(report: dict, sizes: list[int]) -> list[dict]:
    """The methods a grid runs only at some of ``sizes`` (decision 51's pruning)."""
    partial = report["grid"].get("methods_at_some_sizes") or []
    return [m for m in partial if set(m["sizes"]) <= set(sizes)]


def stopped_sentence(report: dict, unit: str) -> str:
    """' At 200 and 400 sentences only the baseline, …': for a whole grid whose larger sizes
    run only some methods, which sizes, which methods stop and why, so that "5 methods
    compared" at a larger size never reads as the whole field; '' where every method runs at
    every size."""
    stopped = _stopped(report, report["sizes"])
    if not stopped:
        return ""
    at = sorted({size for m in stopped for size in m["sizes"]})
    later = [s for s in report["sizes"] if s > max(at)]
    if not later:
        return ""
    return (
        f" At {listed(map(str, later))} {unit} only the baseline, the methods with evidence at "
        f"{listed(map(str, at))} and their contrast partners run ({len(stopped)} methods stop "
        f"at {listed(map(str, at))}: {listed(m['display'] for m in stopped)}; decision 51)."
    )


def rates_stopped_sentence(report: dict, unit: str) -> str:
    """' MMix and TMix, every rate of each, stop at 50 and 100 sentences: …; 200 and 400
    sentences ask the rate of SMix and SiS only.' for a rates grid whose larger sizes run only
    the methods whose rate question is alive at the small ones (decision 60), so that a rate
    table without MMix at 200 never reads as a missing run; '' where every method runs at
    every size."""
    stopped = report["grid"].get("methods_at_some_sizes") or []
    if not stopped:
        return ""
    at = sorted({size for m in stopped for size in m["sizes"]})
    planned = set(report["sizes"]) | set(report["grid"].get("sizes_not_run") or [])
    later = sorted(s for s in planned if s > max(at))
    if not later:
        return ""
    gone = {m.get("method", m["label"]) for m in stopped}
    asked = dict.fromkeys(r["method"] for r in report.get("rates") or [] if r["size"] in at)
    going = [display_name(m, m, {}) for m in asked if m not in gone]
    return (
        f" {listed(display_name(m, m, {}) for m in asked if m in gone)}, every rate of each, "
        f"stop at {listed(map(str, at))} {unit}: no rate of theirs gains over none there, "
        "choosing their rate on dev neither beats nor loses to the default, and none gains "
        f"at its default rate in the headline grid (decision 60); {listed(map(str, later))} "
        f"{unit} ask the rate of {listed(going) if going else 'no method'} only."
    )


def listed(items: Iterable[str], word: str = "and") -> str:
    """'100, 200 and 400' ('MMix, TMix or SMix' with ``word="or"``)."""
    items = list(items)
    return ", ".join(items[:-1]) + f" {word} " + items[-1] if len(items) > 1 else "".join(items)


def readings_answer(report: dict, sizes: list[int]) -> str:
    """The question's answer in one bold phrase, before the figures: which RMix or MMix
    reading gains over none at the measured ``sizes``, or that none does."""
    readings = [r for s in sizes for r in rows_at(report, s) if r["method"] in ("rmix", "mmix")]
    gains = [r for r in readings if r["evidence"] == "gain"]
    where = listed(map(str, sizes)) + " examples"
    if not gains:
        return f"**no reading of RMix's or MMix's label gains over none at {where}**"
    return (
        "**"
        + "; ".join(f"{r['display']} gains at {r['size']} examples" for r in gains)
        + f"; no other reading gains at {where}**"
    )


def complete(name: str) -> bool:
    """Whether a grid README quotes has a report with every size it plans measured."""
    if name not in SOURCES:
        return False
    report = load(name)
    return not under_way(report, "") and bool(measured_sizes(report))


def summary_sources() -> tuple[str, str | None]:
    """Which reports the opening answer quotes: (NER, relations). The re-measured grids
    (comparators as their sources do them, search seeds of their own) replace the earlier ones
    once every size they plan is measured, never a size at a time, so that the answer comes
    from one grid; the RMix-readings grid is SemEval by size on the corrected code, so once it
    is whole its line is the relations answer (None: no separate relations line)."""
    ner = "headline" if complete("headline") else "sizes_gpu"
    relations = None if complete("re_rmix") else "re_sizes"
    return ner, relations


def spacy_source(ner_name: str) -> str:
    """The report the opening's spaCy line quotes: the NER answer's own grid where it has a
    reference row, so that spaCy's gains are paired with the baseline the answer quotes (on
    the same subsets, the same machine), else the grid of spaCy's row alone."""
    return ner_name if any(r["reference"] for r in load(ner_name)["rows"]) else "spacy"


def summary() -> str:
    """README's opening answer."""
    ner_name, re_name = summary_sources()
    interim = headline_interim()
    gpu, pos = load(ner_name), load("pos")
    spacy_name = spacy_source(ner_name)
    spacy = load(spacy_name)
    ner = "; ".join(size_sentence(gpu, s, "sentences") for s in gpu["sizes"])
    relations = []
    if re_name is not None:
        re_sizes = load(re_name)
        rel = "; ".join(size_sentence(re_sizes, s, "examples") for s in re_sizes["sizes"])
        relations = [f"- **Relations** ([report]({link(re_name)})): {rel}."]
    central = []
    if alone := segmix_alone(gpu):
        central.append(
            f"- **SegMix on its own** (MMix, TMix and SMix against none, no rule or FGM added; "
            f"[report]({link(ner_name)})): {alone}."
        )
    if versus := segmix_versus_sequence(gpu):
        central.append(
            "- **SegMix against sentence-level mixing** (MMix, TMix and SMix each against "
            "mixup and SeqMix, paired by seed, Holm-adjusted with the grid's other contrasts; "
            f"[report]({link(ner_name)})): {versus}."
        )
    rates = []
    if "rates" in SOURCES and (which := rate_answer(load("rates"), "sentences")):
        asked = load("rates")["rates"]
        methods = listed(dict.fromkeys(display_name(r["method"], r["method"], {}) for r in asked))
        at_rates = listed(dict.fromkeys(f"{rate:g}" for r in asked for rate in r["rates"]))
        rates = [
            f"- **Which augmentation rate** ({methods} at {at_rates}, every row of a size at "
            "one lr, the one the re-measured NER grid's dev search chose there (decision 59), "
            "each rate against none, and the rate chosen on dev without the seed scored against "
            "the default "
            f"{asked[0]['default_rate']:g}; "
            f"[report]({link('rates')})): {which}."
            + rates_stopped_sentence(load("rates"), "sentences")
        ]
        if ner_name == "headline" and (twice := measured_twice(ner_name, "rates")):
            rates.append(twice)
    tagged = "; ".join(size_sentence(pos, s, "sentences") for s in measured_sizes(pos))
    tagged += under_way(pos, "sentences")
    ref = []
    for size in spacy["sizes"]:
        row = next((r for r in rows_at(spacy, size) if r["reference"]), None)
        if row is not None:
            ref.append(
                f"{signed(row['gain_mean'])} at {size} (t-test p {p_text(row['t_p'])}, "
                f"{row['verdict'].split(' (')[0].split(';')[0]})"
            )
    return "\n".join(
        [
            "**Where it helps, as measured here** (CoNLL-2003, SemEval-2010 and UD English EWT, "
            "5 paired seeds, "
            "equal optimizer steps, each method's learning rate chosen on dev, the baseline's "
            "too; a gain counts only where its paired t-test, Holm-adjusted over the methods "
            "compared, gives p < 0.05 and its two-way interval over seeds and test sentences "
            "lies above 0; numbers and commands under [Benchmarks](#benchmarks), written from "
            "the committed reports by `benchmarks/readme_results.py`):",
            "",
            f"- **NER** ({NER_TITLES.get(ner_name, '')}[report]({link(ner_name)})): {ner}."
            + stopped_sentence(gpu, "sentences"),
            *central,
            *interim,
            *rates,
            *relations,
            *rmix_readings(),
            f"- **POS tagging** (UD English EWT, accuracy points; [report]({link('pos')})): "
            f"{tagged}.",
            "- **spaCy's pretrained pipeline** fine-tuned on the same sentences, against the "
            f"MiniLM baseline ([report]({link(spacy_name)})): " + "; ".join(ref) + ".",
            "",
            "A gain these grids could not detect is not shown to be absent: at 50 sentences the "
            "per-seed gains spread so much that 5 seeds detect only gains of about "
            f"{gpu['detectable'][str(gpu['sizes'][0])]['gain']:.1f} points among "
            f"{gpu['detectable'][str(gpu['sizes'][0])]['family']} methods. "
            "`segmix experiment` answers the same question on your data."
            + (
                " SeqMix and LADA (inter) in the first NER lines' grid are segmix's earlier "
                "versions, not the methods as their sources do them (decisions 21 and 24)"
                + ("; the re-measured grid's are as their sources do them." if interim else ".")
                if ner_name in EARLIER_COMPARATORS
                else ""
            ),
        ]
    )


def size_table(report: dict) -> list[str]:
    """Sizes down, methods across: the baseline's score and each method's gain (Holm p), bold
    where the rule found evidence of a gain, and the recommendation."""
    labels = [
        lb
        for lb in report["labels"]
        if lb != "none" and any(r["label"] == lb and not r["reference"] for r in report["rows"])
    ]
    names = {r["label"]: r["display"] for r in report["rows"]}
    out = [
        "| size | none | " + " | ".join(names[lb] for lb in labels) + " | recommended |",
        "|---|---|" + "---|" * len(labels) + "---|",
    ]
    for size in measured_sizes(report):
        by_label = {r["label"]: r for r in rows_at(report, size)}
        base = by_label["none"]
        rec = recommendation(report, size)
        cells = [gain_cell(by_label[lb]) if lb in by_label else "–" for lb in labels]
        chosen = rec.get("display") or "no augmentation"
        out.append(
            f"| {size} | {base['test_mean']:.2f} ± {base['test_std']:.2f} | "
            + " | ".join(cells)
            + f" | {chosen} |"
        )
    return out


def grid_block(name: str) -> list[str]:
    report = load(name)
    _, title = SOURCES[name]
    unit = get_task(report["grid"]["task"]).unit
    out = [f"**{title}** ([report]({link(name)})):", ""]
    if name in EARLIER_COMPARATORS:
        out += [EARLIER_NOTE, ""]
    measured = measured_sizes(report)
    if not measured:  # a grid under way with no size measured yet: nothing to quote
        return [*out, f"Under way: {under_way(report, unit)[2:]}.", ""]
    compared = [
        r
        for r in report["rows"]
        if not r["baseline"] and not r["reference"] and r["size"] in measured
    ]
    if compared and not any(r.get("interval") for r in compared):
        out += [
            "This grid's test predictions were not kept (it ran before segmix wrote them "
            "compactly), so the two-way interval cannot be computed and the rule declares no "
            "gain here; the Holm-adjusted t-test p of each method is in the table.",
            "",
        ]
    if compared:
        out += size_table(report)
        out += [""]
        text = "; ".join(size_sentence(report, s, unit) for s in measured)
        text += under_way(report, unit)
        out += [text[:1].upper() + text[1:] + "."]
        out[-1] += contrast_sentence(report, measured)
        out[-1] += rate_sentence(report, measured, unit)
    for size in measured:  # a reference row's interim seeds are no more quoted than a method's
        for r in rows_at(report, size):
            if r["reference"]:
                base = base_row(report, size)
                out.append(
                    f"At {size} {unit}: {r['display']} {r['test_mean']:.2f} ± "
                    f"{r['test_std']:.2f} against none's {base['test_mean']:.2f} ± "
                    f"{base['test_std']:.2f} ({signed(r['gain_mean'])}, t-test p "
                    f"{p_text(r['t_p'])}: {r['verdict'].split(' (')[0].split(';')[0]})."
                )
    return [*out, ""]


def rate_sentence(report: dict, sizes: list[int], unit: str) -> str:
    """' Which rate: at 100 sentences no evidence that choosing the rate on dev differs from
    using the default 0.2 (MMix: dev chose 0.1, chosen without the seed scored 0.1 ×3, 0.2 ×2, +0.41
    against 0.2, Holm-adjusted p 0.7; …).' over the measured ``sizes``, from the report's rate
    table (the leave-one-seed-out choice against the default rate, by the report's rule, Holm
    over the methods asked at a size); '' for a grid of one rate per method."""
    parts = []
    for size in sizes:
        choices = rate_choices(report, size)
        if not choices:
            continue
        default = choices[0][0]["default_rate"]
        said = []
        for r, shown, vs in choices:
            chose = f"{shown}: dev chose {r['chosen_rate']:g}"
            if held := r.get("held_out"):
                chose += f", chosen without the seed scored {held_out_rates_text(held)}"
            if vs.get("mean") is not None:
                chose += (
                    f", {signed(vs['mean'])} against {default:g}, Holm-adjusted p "
                    f"{p_text(vs.get('t_p_holm'))}"
                )
            said.append(chose)
        matters = [
            rate_matters(shown, vs, default) for _, shown, vs in choices if vs.get("distinct")
        ]
        if matters:
            answer = "; ".join(matters)
        else:
            answer = (
                "no evidence that choosing the rate on dev differs from using the default "
                f"{default:g}"
            )
        parts.append(f"at {size} {unit} {answer} ({'; '.join(said)})")
    return f" Which rate: {'; '.join(parts)}." if parts else ""


def rate_choices(report: dict, size: int) -> list[tuple[dict, str, dict]]:
    """The report's rate table at ``size``, one (row, display name, choice-against-default
    verdict or {}) per method asked: the walk rate_sentence and rate_answer share."""
    return [
        (r, display_name(r["method"], r["method"], {}), r.get("versus_default") or {})
        for r in report.get("rates") or []
        if r["size"] == size
    ]


def rate_matters(shown: str, verdict: dict, default: float) -> str:
    """'for SMix choosing the rate on dev beats the default 0.2': a choice with evidence."""
    word = "beats" if verdict["distinct"] == 1 else "loses to"
    return f"for {shown} choosing the rate on dev {word} the default {default:g}"


#: the SegMix variants of a NER grid and the sentence-level mixing they are set against (the
#: paper's central claim), by grid label
SEGMIX_VARIANTS = ("mmix", "tmix", "smix")
SEQUENCE_LEVEL = ("mixup", "seqmix")


def segmix_versus_sequence(report: dict) -> str:
    """'SMix beats SeqMix at 100 (+3.87, Holm-adjusted p 0.044); the other 11 … at 50, 100 show
    neither side ahead; not tested at 200, 400 (…)': the paper's central contrasts over the
    report's measured sizes, each side's wins named, the rest counted, and the sizes where
    no such contrast ran named; '' where the grid tests none."""
    sizes = measured_sizes(report)
    central = [
        c
        for c in report.get("contrasts") or []
        if c["size"] in sizes and c["a"] in SEGMIX_VARIANTS and c["b"] in SEQUENCE_LEVEL
    ]
    if not central:
        return ""
    tested = sorted({c["size"] for c in central})
    won = [c for c in central if c["evidence"] != "none"]
    parts = [
        f"{c['verdict']} at {c['size']} ({c['a_display']} − {c['b_display']} = "
        f"{signed(c['mean'])}, Holm-adjusted p {p_text(c['t_p_holm'])})"
        for c in won
    ]
    rest = len(central) - len(won)
    at = ", ".join(map(str, tested))
    if not won and rest == 1:
        parts.append(f"the one contrast at {at} shows neither side ahead")
    elif not won:
        parts.append(f"none of the {rest} contrasts at {at} shows either side ahead")
    elif rest:
        parts.append(f"the other {rest} at {at} show neither side ahead")
    untested = [s for s in sizes if s not in tested]
    if untested:
        parts.append(
            f"not tested at {', '.join(map(str, untested))} (mixup and SeqMix did not run there)"
        )
    return "; ".join(parts)


def segmix_alone(report: dict) -> str:
    """'no variant (MMix and TMix at 50 and 100, SMix at every size) shows evidence of a gain at
    any size measured (largest: SMix +2.35 at 100, …); beside them, SMix + FGM gains at 50, 100
    and 200': the project's own question asked plainly, since a line that lists only the rows
    with evidence leaves a reader to notice that MMix, TMix and SMix are not among them. A
    variant's plain row (its label is the method's name) is SegMix alone; a row with options
    (SMix with FGM) is not, and is named beside them where it gains."""
    sizes = measured_sizes(report)
    rows = [r for r in report["rows"] if r["size"] in sizes and r["method"] in SEGMIX_VARIANTS]
    alone = [r for r in rows if r["label"] == r["method"]]
    if not alone:
        return ""
    by_sizes: dict[tuple[int, ...], list[str]] = {}
    for name in dict.fromkeys(r["display"] for r in alone):
        ran = tuple(sorted({r["size"] for r in alone if r["display"] == name}))
        by_sizes.setdefault(ran, []).append(name)
    names = ", ".join(
        f"{listed(group)} at " + ("every size" if list(ran) == sizes else listed(map(str, ran)))
        for ran, group in by_sizes.items()
    )
    gains = [r for r in alone if r["evidence"] == "gain"]
    if gains:
        text = "evidence of a gain on its own: " + ", ".join(
            f"{r['display']} {signed(r['gain_mean'])} at {r['size']} "
            f"(Holm-adjusted p {p_text(r['t_p_holm'])})"
            for r in gains
        )
    else:
        top = max(alone, key=lambda r: r["gain_mean"])
        text = (
            f"no variant ({names}) shows evidence of a gain at any size measured (largest: "
            f"{top['display']} {signed(top['gain_mean'])} at {top['size']}, Holm-adjusted p "
            f"{p_text(top['t_p_holm'])})"
        )
    combined: dict[str, list[int]] = {}
    for r in rows:
        if r["label"] != r["method"] and r["evidence"] == "gain":
            combined.setdefault(r["display"], []).append(r["size"])
    if combined:
        text += "; beside them, " + "; ".join(
            f"{name} gains at {listed(map(str, at))}" for name, at in combined.items()
        )
    return text


def rates_over_none(report: dict, size: int) -> str:
    """'SiS gains over none at rates 0.2 and 1 (+4.54 and +4.77, Holm-adjusted p 0.041 and
    0.049), no rate of MMix or SMix does' at ``size``, or 'no rate of any method gains over
    none (largest: SiS at 0.5, +3.40, Holm-adjusted p 0.078)': which rates to use at all, by
    the report's rule, before which of them."""
    rated = [r for r in rows_at(report, size) if not r["baseline"] and r.get("rate") is not None]
    if not rated:
        return ""
    shown = {r["method"]: display_name(r["method"], r["method"], {}) for r in rated}
    gaining: dict[str, list[dict]] = {}
    for r in rated:
        if r.get("evidence") == "gain":
            gaining.setdefault(shown[r["method"]], []).append(r)
    if not gaining:
        top = max(rated, key=lambda r: r["gain_mean"])
        return (
            f"no rate of any method gains over none (largest: {shown[top['method']]} at "
            f"{top['rate']:g}, {signed(top['gain_mean'])}, Holm-adjusted p "
            f"{p_text(top['t_p_holm'])})"
        )
    said = []
    for name, rows in gaining.items():
        rates = listed(format(r["rate"], "g") for r in rows)
        said.append(
            f"{name} gains over none at rate{'s' * (len(rows) > 1)} {rates} "
            f"({listed(signed(r['gain_mean']) for r in rows)}, Holm-adjusted p "
            f"{listed(p_text(r['t_p_holm']) for r in rows)})"
        )
    if rest := [name for name in shown.values() if name not in gaining]:
        said.append(f"no rate of {listed(rest, 'or')} does")
    return ", ".join(said)


def rate_answer(report: dict, unit: str) -> str:
    """The opening answer's 'which rate': per measured size, which rates gain over none at
    all, then whether choosing the rate on dev beats or loses to the default (by the report's
    rule), with the rates dev chose and the smallest Holm-adjusted p; the sizes not measured
    yet named."""
    parts = []
    for size in measured_sizes(report):
        choices = rate_choices(report, size)
        if not choices:
            continue
        over_none = rates_over_none(report, size)
        lead = f"at {size} {unit} " + (f"{over_none}, " if over_none else "")
        default = choices[0][0]["default_rate"]
        chose = ", ".join(f"{shown} {r['chosen_rate']:g}" for r, shown, _ in choices)
        matters = [
            f"{rate_matters(shown, vs, default)} ({signed(vs['mean'])}, Holm-adjusted p "
            f"{p_text(vs.get('t_p_holm'))})"
            for _, shown, vs in choices
            if vs.get("distinct")
        ]
        if matters:
            rest = [shown for _, shown, vs in choices if not vs.get("distinct")]
            if rest:  # the methods whose rate did not matter are named, not left to inference
                matters.append(f"for {listed(rest)} no evidence that the rate matters")
            parts.append(lead + ", ".join(matters) + f" (dev chose {chose})")
            continue
        ps = [vs["t_p_holm"] for _, _, vs in choices if vs.get("t_p_holm") is not None]
        least = f", Holm-adjusted p ≥ {p_text(min(ps))}" if ps else ""
        parts.append(
            lead + f"{'and ' if over_none else ''}no evidence that the rate matters (dev chose "
            f"{chose}; none differs from the default {default:g}{least})"
        )
    if not parts:
        return ""
    return "; ".join(parts) + under_way(report, unit)


def dev_cadence(report: dict) -> int | None:
    """Optimizer steps between dev evaluations in the report's grid, read from the grid's
    committed spec (``experiment.yaml`` in its run folder): the report does not carry it, and
    it decides which checkpoint a run keeps. None where the spec is absent or leaves it to the
    trainer's default."""
    return (spec_values(ROOT / report["grid"]["dir"]).get("train") or {}).get("eval_every")


def repeated_rows(first: dict, second: dict) -> list[tuple[dict, dict]]:
    """(row of ``first``, row of ``second``) for each method row the two grids both ran with
    the same method, options apart from the rate, rate, lr, seeds and optimizer steps, at a
    size both measured whole: the same runs but for what the grids' specs set besides (the
    dev cadence, the Holm family), so a verdict that holds in one and not the other is read
    as resting on those."""
    sizes = set(measured_sizes(first)) & set(measured_sizes(second))
    pairs = []
    for a in first["rows"]:
        if a["baseline"] or a["reference"] or a["size"] not in sizes:
            continue
        if first["grid"]["steps"].get(str(a["size"])) != second["grid"]["steps"].get(
            str(a["size"])
        ):
            continue
        for b in second["rows"]:
            if (
                not (b["baseline"] or b["reference"])
                and (b["size"], b["method"], b["rate"], b["lr"], b["seeds"])
                == (a["size"], a["method"], a["rate"], a["lr"], a["seeds"])
                and {k: v for k, v in b["options"].items() if k != "rate"}
                == {k: v for k, v in a["options"].items() if k != "rate"}
            ):
                pairs.append((a, b))
    return pairs


def measured_twice(first_name: str, second_name: str) -> str:
    """README's line on the rows two grids both ran: how many, whether each verdict agrees,
    and for each that does not, both gains and Holm-adjusted p with both baselines. A gain
    one grid clears and the other does not is not a finding of either alone ('' where the
    grids share no row)."""
    first, second = load(first_name), load(second_name)
    pairs = repeated_rows(first, second)
    if not pairs:
        return ""
    cadence = (dev_cadence(first), dev_cadence(second))
    differs = [(a, b) for a, b in pairs if (a["evidence"] == "gain") != (b["evidence"] == "gain")]
    same = (
        "same method, rate, lr, seeds and optimizer steps"
        + (
            f"; dev read every {cadence[1]} steps in the rate grid, every {cadence[0]} in the "
            "NER grid, so each run keeps another checkpoint"
            if cadence[0] != cadence[1] and None not in cadence
            else ""
        )
        + "; each gain Holm-adjusted within its own grid"
    )
    lead = (
        f"- **Measured twice** ([NER report]({link(first_name)}), "
        f"[rate report]({link(second_name)})): {len(pairs)} "
        + ("row of the rate grid repeats" if len(pairs) == 1 else "rows of the rate grid repeat")
        + f" a row of the NER grid ({same})"
    )
    if not differs:
        return lead + "; every verdict agrees."
    told = []
    for a, b in differs:
        base_a, base_b = base_row(first, a["size"]), base_row(second, b["size"])
        told.append(
            f"{a['display']} at {a['size']} sentences: {signed(a['gain_mean'])} (Holm-adjusted "
            f"p {p_text(a['t_p_holm'])}) in the NER grid, {signed(b['gain_mean'])} "
            f"(Holm-adjusted p {p_text(b['t_p_holm'])}) in the rate grid, over none at "
            f"{base_a['test_mean']:.2f} and {base_b['test_mean']:.2f}"
        )
    return (
        lead
        + (
            f"; the verdict agrees for {len(pairs) - len(differs)} of them and not for "
            if len(differs) < len(pairs)
            else "; the verdict differs for "
        )
        + "; ".join(told)
        + ". Where the two disagree, the evidence rests on one grid's runs: a finding of that "
        "grid, not replicated by the other."
    )


def contrast_sentence(report: dict, sizes: list[int]) -> str:
    """' Contrasts with evidence: …' or ' None of the N contrasts (A − B, …) shows either side
    ahead.' over the measured ``sizes`` ('' where the grid has no contrasts)."""
    measured = [c for c in report.get("contrasts") or [] if c["size"] in sizes]
    with_evidence = [c for c in measured if c["evidence"] != "none"]
    if with_evidence:
        return (
            " Contrasts with evidence: "
            + "; ".join(
                f"{c['verdict']} at {c['size']} ({c['a_display']} − {c['b_display']} = "
                f"{signed(c['mean'])}, Holm-adjusted p {p_text(c['t_p_holm'])})"
                for c in with_evidence
            )
            + "."
            + _rest_without_evidence(len(measured) - len(with_evidence))
        )
    if not measured:
        return ""
    pairs = list(dict.fromkeys(f"{c['a_display']} − {c['b_display']}" for c in measured))
    return f" None of the {len(measured)} contrasts ({', '.join(pairs)}) shows either side ahead."


def _rest_without_evidence(n: int) -> str:
    """Where one method does not beat another is an answer too: the count of the rest."""
    if n == 0:
        return ""
    return f" The other {n} contrast{'s' * (n != 1)} show{'s' * (n == 1)} neither side ahead."


def epochs_block() -> list[str]:
    data = json.loads(EPOCHS.read_text(encoding="utf-8"))
    out = [
        "**Equal epochs against equal steps** (100 CoNLL-2003 sentences, MMix, 5 paired seeds; "
        "[comparison](benchmarks/results/ner_conll2003_epochs/comparison.md)):",
        "",
    ]
    for c in data["comparisons"]:
        steps = f"{c['steps']['method'][0]} against {c['steps']['base'][0]} steps"
        out.append(
            f"- {c['comparison']} ({steps}): {signed(c['gain_mean'])} ± {c['gain_std']:.2f} "
            f"(t-test p {p_text(c['t_p'])}): {c['verdict'].split(' (')[0]}."
        )
    return [*out, ""]


def grids() -> str:
    out: list[str] = []
    for name in SOURCES:
        out += grid_block(name)
    out += epochs_block()
    return "\n".join(out).rstrip("\n")


BLOCKS = {"summary": summary, "grids": grids}


def render(readme: str) -> str:
    """``readme`` with every generated block rewritten."""
    for name, make in BLOCKS.items():
        pattern = re.compile(
            rf"(<!-- results:{name}:start -->\n).*?(<!-- results:{name}:end -->)", re.S
        )
        if not pattern.search(readme):
            raise SystemExit(f"README.md has no results:{name} block")
        readme = pattern.sub(lambda m, make=make: m.group(1) + make() + "\n" + m.group(2), readme)
    return readme


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if README differs")
    args = parser.parse_args(argv)
    current = README.read_text(encoding="utf-8")
    wanted = render(current)
    if args.check:
        if wanted != current:
            print(
                "README.md's results differ from the committed reports: run "
                "python benchmarks/readme_results.py",
                file=sys.stderr,
            )
            return 1
        return 0
    README.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
