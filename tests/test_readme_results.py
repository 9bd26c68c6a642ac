"""README's results can never say more than the committed reports.

README's answer and its Benchmarks results are generated from the committed ``report.json``
files (and the epochs comparison's ``comparison.json``) by ``benchmarks/readme_results.py``.
These tests fail when README's text differs from what the reports give, and, independently of
the templates, when a number README quotes in those sections is in no committed report.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "readme_results.py"


def _generator():
    spec = importlib.util.spec_from_file_location("readme_results", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _blocks(readme: str) -> dict[str, str]:
    return dict(
        re.findall(r"<!-- results:(\w+):start -->\n(.*?)<!-- results:\1:end -->", readme, re.S)
    )


def test_readme_results_are_what_the_committed_reports_say():
    generator = _generator()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert set(_blocks(readme)) == set(generator.BLOCKS)
    assert generator.render(readme) == readme, (
        "README's results differ from the committed reports: run "
        "python benchmarks/readme_results.py"
    )


def _numbers(obj, out: set[float]) -> set[float]:
    if isinstance(obj, bool):
        return out
    if isinstance(obj, (int, float)):
        out.add(float(obj))
    elif isinstance(obj, dict):
        for value in obj.values():
            _numbers(value, out)
    elif isinstance(obj, list):
        for value in obj:
            _numbers(value, out)
    return out


def test_every_number_readme_quotes_is_in_a_committed_report():
    reports = sorted((ROOT / "benchmarks" / "results").glob("**/report.json"))
    reports.append(ROOT / "benchmarks" / "results" / "ner_conll2003_epochs" / "comparison.json")
    known: set[float] = set()
    for path in reports:
        _numbers(json.loads(path.read_text(encoding="utf-8")), known)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quoted = "\n".join(_blocks(readme).values()).replace("−", "-")
    # every decimal figure: gains and scores (2 decimals), p-values (3), spreads (1)
    for token in re.findall(r"(?<![\w.])[+-]?\d+\.\d+", quoted):
        digits = len(token.split(".")[1])
        value = float(token)
        assert any(round(k, digits) == value for k in known), (
            f"README quotes {token}, which no committed report contains"
        )


def test_the_check_fails_on_a_claim_the_reports_do_not_make(tmp_path, monkeypatch):
    generator = _generator()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    edited = readme.replace(
        "<!-- results:summary:start -->\n",
        "<!-- results:summary:start -->\nEvery method gains at 50 sentences.\n",
        1,
    )
    target = tmp_path / "README.md"
    target.write_text(edited, encoding="utf-8")
    monkeypatch.setattr(generator, "README", target)
    assert generator.main(["--check"]) == 1
    target.write_text(readme, encoding="utf-8")
    assert generator.main(["--check"]) == 0
    with pytest.raises(SystemExit):
        generator.render(readme.replace("<!-- results:grids:start -->", ""))


def test_a_size_still_under_way_is_named_not_summarised():
    """A grid spanning sessions: size 100 has finished seeds and unfinished ones. README gives
    size 50's answer and says 100 (the report's under-way size) and 200 (still in its lr search)
    are not measured yet, instead of a verdict from the seeds done."""
    gen = _generator()
    report = {
        "grid": {"sizes_not_run": [400]},
        "sizes": [50, 100],
        "missing": [
            {"size": 50, "phase": "main", "state": "finished, no usable test predictions"},
            {"size": 100, "phase": "main", "state": "not started"},
            {"size": 200, "phase": "lr-search", "state": "unfinished"},
        ],
        "recommendations": [{"size": 50, "label": None}, {"size": 100, "under_way": True}],
    }
    assert gen.measured_sizes(report) == [50]
    assert gen.under_way(report, "sentences") == "; 100, 200, 400 sentences not measured yet"


def test_a_reference_row_is_quoted_only_at_a_whole_size(monkeypatch):
    """spaCy's line at 100 sentences was written from the 3 of 5 seeds done while 100 was
    under way, with a verdict, where the methods' table rightly left 100 out."""
    gen = _generator()

    def row(size, label, mean, **extra):
        return {
            "size": size,
            "label": label,
            "display": "spaCy" if label == "spacy" else label,
            "baseline": label == "none",
            "reference": label == "spacy",
            "test_mean": mean,
            "test_std": 1.0,
            **extra,
        }

    spacy = {"gain_mean": 4.0, "t_p": 0.01, "verdict": "evidence of a gain (t-test p 0.010)"}
    report = {
        "grid": {"task": "ner", "sizes_not_run": []},
        "sizes": [50, 100],
        "missing": [{"size": 100, "phase": "main", "state": "not started"}],
        "recommendations": [{"size": 50, "label": None}, {"size": 100, "under_way": True}],
        "rows": [
            row(50, "none", 54.0),
            row(50, "spacy", 65.5, **{**spacy, "gain_mean": 11.5}),
            row(100, "none", 63.6),
            row(100, "spacy", 67.8, **spacy),
        ],
    }
    monkeypatch.setitem(gen.SOURCES, "headline", ("ner_conll2003_headline", "NER re-measured"))
    monkeypatch.setattr(gen, "load", lambda name: report)
    text = "\n".join(gen.grid_block("headline"))
    assert "At 50 sentences: spaCy 65.50 ± 1.00 against none's 54.00 ± 1.00 (+11.50" in text
    assert "At 100 sentences" not in text and "67.80" not in text


def _contrast(size, a, b, evidence="none", mean=0.5, holm=0.6, verdict="neither side ahead"):
    return {
        "size": size,
        "a_display": a,
        "b_display": b,
        "evidence": evidence,
        "mean": mean,
        "t_p_holm": holm,
        "verdict": verdict,
    }


def test_contrasts_are_named_and_only_over_measured_sizes():
    gen = _generator()
    report = {
        "contrasts": [
            _contrast(100, "RMix (same)", "RMix"),
            _contrast(100, "RMix", "mixup"),
            _contrast(200, "RMix", "mixup", "a", -3.0, 0.01, "mixup ahead"),  # under way
        ]
    }
    assert gen.contrast_sentence(report, [100]) == (
        " None of the 2 contrasts (RMix (same) − RMix, RMix − mixup) shows either side ahead."
    )
    assert gen.contrast_sentence(report, [100, 200]) == (
        " Contrasts with evidence: mixup ahead at 200 (RMix − mixup = −3.00, Holm-adjusted p "
        "0.010). The other 2 contrasts show neither side ahead."
    )
    assert gen.contrast_sentence({"contrasts": []}, [100]) == ""


def test_the_rmix_readings_line_waits_for_a_whole_size(monkeypatch):
    """README's answer on RMix's label names a reading only from a size whose every run
    finished; before that the summary has no such line at all."""
    gen = _generator()
    row = {"size": 100, "baseline": False, "reference": False, "evidence": "none"}
    report = {
        "grid": {"sizes_not_run": []},
        "sizes": [100, 200],
        "missing": [{"size": 200, "phase": "main", "state": "not started"}],
        "rows": [
            {**row, "label": "none", "method": "none", "display": "none", "baseline": True},
            {**row, "label": "rmix", "method": "rmix", "display": "RMix", "gain_mean": -1.5},
        ],
        "recommendations": [{"size": 100, "label": None}, {"size": 200, "under_way": True}],
        "detectable": {"100": {"n": 5, "gain": 4.2, "family": 1}},
        "contrasts": [],
    }
    monkeypatch.setitem(gen.SOURCES, "re_rmix", ("re_semeval2010_rmix", "RMix"))
    monkeypatch.setattr(gen, "load", lambda name: report)
    report["rows"][1]["t_p_holm"] = 0.4
    (line,) = gen.rmix_readings()
    assert line.endswith(
        "): **no reading of RMix's or MMix's label gains over none at 100 examples**; "
        "at 100 examples no method shows evidence of a gain (largest: RMix −1.50, Holm-adjusted "
        "p 0.400); its 5 seeds could detect only gains of 4.2 points or more among 1 method; "
        "200 examples not measured yet."
    )
    # a reading with evidence of a gain is named first, in the answer, not only in the figures
    gaining = {**report["rows"][1], "evidence": "gain", "display": "RMix (same_relation=true)"}
    assert gen.readings_answer({"rows": [*report["rows"], gaining]}, [100]) == (
        "**RMix (same_relation=true) gains at 100 examples; no other reading gains at 100 "
        "examples**"
    )
    assert gen.readings_answer(report, [100, 200, 400]).endswith(
        "over none at 100, 200 and 400 examples**"
    )
    assert line.startswith("- **RMix's label readings** (")
    # the grid whole: its line is README's relations answer and says so
    whole = {
        **report,
        "sizes": [100],
        "missing": [],
        "recommendations": [{"size": 100, "label": None}],
    }
    monkeypatch.setattr(gen, "load", lambda name: whole)
    (line,) = gen.rmix_readings()
    assert line.startswith("- **Relations by size, with RMix's label readings** (")
    monkeypatch.setattr(gen, "load", lambda name: report)
    report["missing"].append({"size": 100, "phase": "main", "state": "not started"})
    report["recommendations"][0]["under_way"] = True
    assert gen.rmix_readings() == []


def test_the_rate_sentence_says_per_size_whether_dev_s_rate_beats_the_default():
    """README says what rate to use at which size: choosing the rate on dev (each seed at the
    rate the other seeds chose) against the default, by the report's rule, and plainly where
    there is no evidence that the rate matters."""
    gen = _generator()

    def choice(size, method, chosen, mean, p, distinct, held):
        # the unadjusted p is not what README quotes: the Holm-adjusted one is
        vs = {"mean": mean, "t_p": p and p / 2, "t_p_holm": p, "distinct": distinct}
        return {
            "size": size,
            "method": method,
            "chosen_rate": chosen,
            "default_rate": 0.2,
            "held_out": {"rates": {str(s): r for s, r in enumerate(held, start=1)}},
            "versus_default": vs,
        }

    report = {
        "rates": [
            choice(50, "mmix", 1.0, 2.5, 0.004, 1, [1.0] * 5),
            choice(50, "smix", 0.5, 0.4, 0.51, 0, [0.5, 0.2, 0.5, 1.0, 0.5]),
            choice(100, "mmix", 0.2, None, None, 0, [0.2] * 5),  # dev chose the default itself
            choice(400, "mmix", 0.1, -0.3, 0.7, 0, [0.1] * 5),  # a size not measured yet
        ]
    }
    report["rates"][2]["versus_default"] = None
    assert gen.rate_sentence(report, [50, 100], "sentences") == (
        " Which rate: at 50 sentences for MMix choosing the rate on dev beats the default 0.2 "
        "(MMix: dev chose 1, chosen without the seed scored 1 ×5, +2.50 against 0.2, "
        "Holm-adjusted p 0.004; SMix: dev chose 0.5, chosen without the seed scored 0.5 ×3, "
        "0.2 ×1, 1 ×1, +0.40 against 0.2, Holm-adjusted p 0.510); "
        "at 100 sentences no evidence that choosing the rate on dev differs from using the "
        "default 0.2 "
        "(MMix: dev chose 0.2, chosen without the seed scored 0.2 ×5)."
    )
    assert gen.rate_sentence({"rates": []}, [50], "sentences") == ""


def test_the_answer_says_where_segmix_beats_sentence_level_mixing_and_where_untested():
    """The paper's central claim, answered plainly: each SegMix-against-mixup/SeqMix contrast
    with evidence is named with its side, the rest counted, and a measured size where mixup and
    SeqMix did not run (decision 51) is named as untested, not folded into "neither ahead"."""
    gen = _generator()

    def central(size, a, b, **kw):
        return {**_contrast(size, a.upper(), b, **kw), "a": a, "b": b}

    report = {
        "grid": {"sizes_not_run": []},
        "sizes": [50, 100, 200],
        "missing": [],
        "recommendations": [{"size": s, "label": None} for s in (50, 100, 200)],
        "contrasts": [
            central(50, "smix", "seqmix"),
            central(50, "tmix", "mixup"),
            central(
                100,
                "smix",
                "seqmix",
                evidence="a",
                mean=3.87,
                holm=0.044,
                verdict="SMIX beats seqmix",
            ),
            central(
                100, "mmix", "mixup", evidence="b", mean=-2.0, holm=0.03, verdict="mixup beats MMIX"
            ),
            {**_contrast(100, "SMix+SiS", "SiS"), "a": "smix+sis", "b": "sis"},  # not central
        ],
    }
    assert gen.segmix_versus_sequence(report) == (
        "SMIX beats seqmix at 100 (SMIX − seqmix = +3.87, Holm-adjusted p 0.044); mixup beats "
        "MMIX at 100 (MMIX − mixup = −2.00, Holm-adjusted p 0.030); the other 2 at 50, 100 show "
        "neither side ahead; not tested at 200 (mixup and SeqMix did not run there)"
    )
    report["contrasts"] = report["contrasts"][:2]
    assert gen.segmix_versus_sequence(report) == (
        "none of the 2 contrasts at 50 shows either side ahead; not tested at 100, 200 (mixup "
        "and SeqMix did not run there)"
    )
    report["contrasts"] = report["contrasts"][4:]
    assert gen.segmix_versus_sequence(report) == ""


def test_the_answer_says_which_rate_per_measured_size():
    gen = _generator()

    def choice(size, method, chosen, mean, holm, distinct):
        vs = {"mean": mean, "t_p_holm": holm, "distinct": distinct}
        return {
            "size": size,
            "method": method,
            "chosen_rate": chosen,
            "default_rate": 0.2,
            "rates": [0.1, 0.2],
            "versus_default": vs,
        }

    report = {
        "grid": {"sizes_not_run": [400]},
        "sizes": [50, 100],
        "missing": [],
        "recommendations": [{"size": 50, "label": None}, {"size": 100, "label": None}],
        "rates": [
            choice(50, "mmix", 1.0, 2.5, 0.004, 1),
            choice(50, "smix", 0.5, 0.4, 0.51, 0),
            choice(100, "mmix", 0.1, 0.6, 0.653, 0),
            choice(100, "smix", 0.2, None, None, 0),
        ],
    }
    report["rates"][3]["versus_default"] = None  # dev chose the default itself

    def row(size, method, rate, gain, holm, evidence="none"):
        return {
            "size": size,
            "method": method,
            "rate": rate,
            "baseline": False,
            "gain_mean": gain,
            "t_p_holm": holm,
            "evidence": evidence,
        }

    base = {"method": "none", "rate": None, "baseline": True}
    report["rows"] = [
        {**base, "size": 50},
        row(50, "mmix", 0.1, 1.0, 0.5),
        row(50, "mmix", 1.0, 4.5, 0.02, "gain"),
        row(50, "smix", 0.5, 2.0, 0.3),
        {**base, "size": 100},
        row(100, "mmix", 0.1, -0.5, 1.0),
        row(100, "smix", 0.2, 3.4, 0.078),
    ]
    assert gen.rate_answer(report, "sentences") == (
        "at 50 sentences MMix gains over none at rate 1 (+4.50, Holm-adjusted p 0.020), no rate "
        "of SMix does, for MMix choosing the rate on dev beats the default 0.2 (+2.50, "
        "Holm-adjusted p 0.004), for SMix no evidence that the rate matters (dev chose MMix 1, "
        "SMix 0.5); at 100 sentences no rate of any method gains over none (largest: SMix at "
        "0.2, +3.40, Holm-adjusted p 0.078), and no evidence that "
        "the rate matters (dev chose MMix 0.1, SMix 0.2; none differs from the default 0.2, "
        "Holm-adjusted p ≥ 0.653); 400 sentences not measured yet"
    )
    # two rates of one method, two methods without: both listed
    report["rows"][3] = row(50, "smix", 0.5, 2.0, 0.3, "gain")
    report["rows"].append(row(50, "tmix", 0.5, 0.1, 1.0))
    assert gen.rates_over_none(report, 50) == (
        "MMix gains over none at rate 1 (+4.50, Holm-adjusted p 0.020), SMix gains over none "
        "at rate 0.5 (+2.00, Holm-adjusted p 0.300), no rate of TMix does"
    )
    report["rows"][3] = row(50, "smix", 0.5, 2.0, 0.3)
    report["rows"][2] = row(50, "mmix", 0.2, 4.5, 0.02, "gain")
    report["rows"][1] = row(50, "mmix", 0.1, 4.0, 0.03, "gain")
    assert gen.rates_over_none(report, 50).startswith(
        "MMix gains over none at rates 0.1 and 0.2 (+4.00 and +4.50, Holm-adjusted p 0.030 and "
        "0.020), no rate of SMix or TMix does"
    )
    assert gen.rate_answer({**report, "rates": []}, "sentences") == ""


def test_the_opening_answer_moves_to_a_re_measured_grid_only_once_it_is_whole(monkeypatch):
    """README's answer comes from one grid: the re-measured NER and RMix grids replace the
    earlier ones when every size they plan is measured, not a size at a time."""
    gen = _generator()

    def report(under_way_sizes):
        return {
            "grid": {"sizes_not_run": []},
            "sizes": [50, 100],
            "missing": [],
            "recommendations": [
                {"size": 50, "label": None},
                {"size": 100, "label": None, **({"under_way": True} if under_way_sizes else {})},
            ],
        }

    reports = {"headline": report(True), "re_rmix": report(False)}
    monkeypatch.setitem(gen.SOURCES, "headline", ("ner_conll2003_headline", "NER"))
    monkeypatch.setitem(gen.SOURCES, "re_rmix", ("re_semeval2010_rmix", "RMix"))
    monkeypatch.setattr(gen, "load", lambda name: reports[name])
    assert gen.summary_sources() == ("sizes_gpu", None)  # NER under way; RMix whole
    reports["headline"] = report(False)
    reports["re_rmix"]["recommendations"][0]["under_way"] = True
    assert gen.summary_sources() == ("headline", "re_sizes")


def test_the_re_measured_ner_grid_has_a_line_of_its_own_while_under_way(monkeypatch):
    """While the opening's NER answer still comes from the grid with segmix's earlier SeqMix
    and LADA, the re-measured grid's whole sizes are quoted on a line of their own, the sizes
    still running named with the methods that do not go on to them; once it is whole the line
    goes (its grid is then the NER answer)."""
    gen = _generator()
    row = {"size": 50, "baseline": False, "reference": False}
    report = {
        "grid": {
            "sizes_not_run": [],
            "methods_at_some_sizes": [
                {"label": "mmix", "display": "MMix", "sizes": [50]},
                {"label": "tmix", "display": "TMix", "sizes": [50]},
            ],
        },
        "sizes": [50, 200],
        "missing": [{"size": 200, "phase": "main", "state": "not started"}],
        "rows": [
            {**row, "label": "none", "display": "none", "baseline": True, "evidence": "none"},
            {**row, "label": "smix", "display": "SMix", "gain_mean": 2.5, "t_p_holm": 0.3},
        ],
        "recommendations": [{"size": 50, "label": None}, {"size": 200, "under_way": True}],
        "detectable": {"50": {"n": 5, "gain": 3.5, "family": 3}},
        "contrasts": [{**_contrast(50, "SMix", "mixup"), "a": "smix", "b": "mixup"}],
    }
    report["rows"][1]["evidence"] = "none"
    monkeypatch.setitem(gen.SOURCES, "headline", ("ner_conll2003_headline", "NER re-measured"))
    monkeypatch.setattr(gen, "load", lambda name: report)
    (line,) = gen.headline_interim()
    assert line.startswith("- **NER re-measured, under way** (")
    assert line.endswith(
        "): at 50 sentences no method shows evidence of a gain (largest: SMix +2.50, "
        "Holm-adjusted p 0.300); its 5 seeds could detect only gains of 3.5 points or more "
        "among 3 methods; 200 sentences not measured yet, where 2 methods do not run (MMix and "
        "TMix stop at 50: only the baseline, the methods with evidence there and their contrast "
        "partners go on, decision 51). SegMix against sentence-level mixing: the one contrast "
        "at 50 shows neither side ahead."
    )
    # a size whose lr search has not started is in no row and no missing cell, only in the
    # grid's sizes not run: still named, with the methods that stop before it
    later = {
        **report,
        "grid": {**report["grid"], "sizes_not_run": [200]},
        "sizes": [50],
        "missing": [],
        "recommendations": report["recommendations"][:1],
    }
    monkeypatch.setattr(gen, "load", lambda name: later)
    assert gen.headline_interim() == [line]
    monkeypatch.setattr(gen, "load", lambda name: report)
    # whole: the grid is the NER answer, and its interim line goes
    report["missing"] = []
    report["recommendations"][1] = {"size": 200, "label": None}
    assert gen.headline_interim() == []
    # nothing measured yet: nothing quoted
    report["recommendations"] = [{"size": 50, "under_way": True}, {"size": 200, "under_way": True}]
    assert gen.headline_interim() == []


def test_a_whole_grid_s_answer_names_the_methods_that_stop_before_its_larger_sizes():
    """Once the re-measured grid is the NER answer, '5 methods compared' at 200 must not read
    as the whole field: the sizes where only some methods run, and which stop, are named."""
    gen = _generator()
    report = {
        "grid": {
            "methods_at_some_sizes": [
                {"label": "mmix", "display": "MMix", "sizes": [50, 100]},
                {"label": "tmix", "display": "TMix", "sizes": [50, 100]},
            ]
        },
        "sizes": [50, 100, 200, 400],
    }
    assert gen.stopped_sentence(report, "sentences") == (
        " At 200 and 400 sentences only the baseline, the methods with evidence at 50 and 100 "
        "and their contrast partners run (2 methods stop at 50 and 100: MMix and TMix; "
        "decision 51)."
    )
    # every method at every size: nothing to say
    report["grid"]["methods_at_some_sizes"] = []
    assert gen.stopped_sentence(report, "sentences") == ""


def test_the_rate_line_names_the_methods_whose_rate_question_stops_before_the_larger_sizes():
    """Decision 60 takes a method to 200 and 400 with every rate of it, or stops it with every
    rate: the rate line names those that stop, by method, and those still asked, so a rate
    table without MMix at 200 does not read as a run missing."""
    gen = _generator()
    stopped = [
        {"label": f"{m}[rate={r:g}]", "method": m, "display": "-", "sizes": [50, 100]}
        for m in ("mmix", "tmix")
        for r in (0.1, 0.2)
    ]
    rates = [
        {"size": size, "method": m}
        for size in (50, 100, 200)
        for m in ("mmix", "tmix", "sis")
        if size < 200 or m == "sis"
    ]
    report = {
        "grid": {"methods_at_some_sizes": stopped, "sizes_not_run": [400]},
        "sizes": [50, 100, 200],
        "rates": rates,
    }
    assert gen.rates_stopped_sentence(report, "sentences") == (
        " MMix and TMix, every rate of each, stop at 50 and 100 sentences: no rate of theirs "
        "gains over none there, choosing their rate on dev neither beats nor loses to the "
        "default, and none gains at its default rate in the headline grid (decision 60); 200 "
        "and 400 sentences ask the rate of SiS only."
    )
    # before the rule has narrowed the spec, nothing to say
    report["grid"]["methods_at_some_sizes"] = []
    assert gen.rates_stopped_sentence(report, "sentences") == ""


def test_the_spacy_line_quotes_the_ner_answer_s_grid_where_it_has_the_row(monkeypatch):
    """spaCy's gains are paired with the baseline the NER answer quotes when that grid ran
    spaCy (the re-measured one did, at every size); an answer grid without it falls back to
    spaCy's own grid."""
    gen = _generator()
    reports = {
        "headline": {"rows": [{"reference": False}, {"reference": True}]},
        "sizes_gpu": {"rows": [{"reference": False}]},
    }
    monkeypatch.setattr(gen, "load", lambda name: reports[name])
    assert gen.spacy_source("headline") == "headline"
    assert gen.spacy_source("sizes_gpu") == "spacy"


def test_the_answer_says_plainly_whether_segmix_on_its_own_gains():
    """A line listing only the rows with evidence leaves the reader to notice that no SegMix
    variant is among them: the answer says so, with the largest gain, and names a variant with
    options (SMix with FGM) beside them, never as SegMix alone."""
    gen = _generator()

    def row(label, method, display, size, gain, p, evidence="none"):
        return {
            "label": label,
            "method": method,
            "display": display,
            "size": size,
            "gain_mean": gain,
            "t_p_holm": p,
            "evidence": evidence,
            "baseline": False,
            "reference": False,
        }

    report = {
        "grid": {"sizes_not_run": []},
        "sizes": [50, 100, 200],
        "missing": [],
        "recommendations": [{"size": s, "label": None} for s in (50, 100, 200)],
        "rows": [
            row("mmix", "mmix", "MMix", 50, 0.4, 1.0),
            row("mmix", "mmix", "MMix", 100, 1.0, 1.0),
            row("smix", "smix", "SMix", 50, 2.1, 0.155),
            row("smix", "smix", "SMix", 100, 2.35, 0.14),
            row("smix", "smix", "SMix", 200, 0.8, 0.233),
            row("smix[adversarial=fgm]", "smix", "SMix + FGM", 50, 6.1, 0.025, "gain"),
            row("smix[adversarial=fgm]", "smix", "SMix + FGM", 200, 1.9, 0.028, "gain"),
            row("sis", "sis", "SiS", 50, 5.5, 0.009, "gain"),
        ],
    }
    assert gen.segmix_alone(report) == (
        "no variant (MMix at 50 and 100, SMix at every size) shows evidence of a gain at any "
        "size measured (largest: SMix +2.35 at 100, Holm-adjusted p 0.140); beside them, "
        "SMix + FGM gains at 50 and 200"
    )
    report["rows"][3]["evidence"] = "gain"
    assert gen.segmix_alone(report).startswith(
        "evidence of a gain on its own: SMix +2.35 at 100 (Holm-adjusted p 0.140)"
    )
    # a size under way is not read
    report["recommendations"][1]["under_way"] = True
    assert "SMix +2.35" not in gen.segmix_alone(report)


def test_a_row_two_grids_both_ran_is_compared_and_a_disagreement_said(monkeypatch, tmp_path):
    """The rate grid at the default rate repeats some of the NER grid's runs (same method,
    rate, lr, seeds, steps). README says whether their verdicts agree and quotes both where
    not; a row at another lr, another rate or other options is not a repeat."""
    gen = _generator()

    def row(method, gain, holm, evidence="none", **kw):
        return {
            "size": 200,
            "method": method,
            "display": {"sis": "SiS", "none": "none"}.get(method, method),
            "rate": 0.2,
            "lr": 1e-4,
            "seeds": [1, 2, 3, 4, 5],
            "options": {},
            "baseline": method == "none",
            "reference": False,
            "gain_mean": gain,
            "t_p_holm": holm,
            "evidence": evidence,
            **kw,
        }

    def report(folder, eval_every, rows):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "experiment.yaml").write_text(
            f"train: {{batch_size: 16, eval_every: {eval_every}}}\n", encoding="utf-8"
        )
        return {
            "grid": {"dir": str(tmp_path / folder), "steps": {"200": 400}, "sizes_not_run": []},
            "sizes": [200],
            "missing": [],
            "recommendations": [{"size": 200, "label": None}],
            "rows": rows,
        }

    ner = report(
        "ner",
        40,
        [
            row("none", 0, None, test_mean=69.53),
            row("sis", 1.45, 0.013, "gain"),
            row("smix", 0.80, 0.5),
            row("rules", 1.42, 0.02, "gain"),
        ],
    )
    rates = report(
        "rates",
        30,
        [
            row("none", 0, None, test_mean=69.67),
            row("sis", 1.39, 0.165, options={"rate": 0.2}),
            row("sis", 1.75, 0.104, rate=0.5, options={"rate": 0.5}),  # another rate
            row("smix", 0.70, 0.6, lr=2e-4, options={"rate": 0.2}),  # another lr
            row("rules", 1.4, 0.03, "gain", options={"rate": 0.2, "p": 0.1}),  # other options
        ],
    )
    reports = {"headline": ner, "rates": rates}
    monkeypatch.setattr(gen, "load", reports.__getitem__)
    assert [(a["method"], b["rate"]) for a, b in gen.repeated_rows(ner, rates)] == [("sis", 0.2)]
    line = gen.measured_twice("headline", "rates")
    assert line.endswith(
        "1 row of the rate grid repeats a row of the NER grid (same method, rate, lr, seeds and "
        "optimizer steps; dev read every 30 steps in the rate grid, every 40 in the NER grid, so "
        "each run keeps another checkpoint; each gain Holm-adjusted within its own grid); the "
        "verdict differs for SiS at 200 sentences: +1.45 (Holm-adjusted p "
        "0.013) in the NER grid, +1.39 (Holm-adjusted p 0.165) in the rate grid, over none at "
        "69.53 and 69.67. Where the two disagree, the evidence rests on one grid's runs: a "
        "finding of that grid, not replicated by the other."
    )
    rates["rows"][1]["evidence"] = "gain"
    assert gen.measured_twice("headline", "rates").endswith("; every verdict agrees.")
    # other optimizer steps at the size: not the same runs
    rates["grid"]["steps"] = {"200": 600}
    assert gen.measured_twice("headline", "rates") == ""
