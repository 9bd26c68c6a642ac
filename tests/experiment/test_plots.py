"""The grid report's plots: readable names, fixed colours, and figures that show what the report
says (the paired interval as the error bar, reference systems apart, no bar for a type a row
did not score).

Figures are captured by replacing ``plots._save`` (as tests/experiment/test_report.py does), so
the tests read the drawn artists instead of pixels.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.colors import to_rgba
from matplotlib.container import ErrorbarContainer

from segmix.experiment import plots
from segmix.experiment.names import display_name, method_colour
from segmix.experiment.spec import load_spec

KNOWN = [
    "none",
    "mmix",
    "tmix",
    "smix",
    "rmix",
    "lwtr",
    "sr",
    "mr",
    "sis",
    "rules",
    "mixup",
    "seqmix",
    "lada[lada_mode=intra]",
    "lada[lada_mode=inter]",
    "fgm",
    "spacy",
]


def _row(label: str, size: int, gain: float | None, **kw) -> dict:
    """A report row with the fields the plots read (see report.py's ``_row_result``)."""
    method = label.partition("[")[0]
    row = {
        "size": size,
        "label": label,
        "method": method,
        "options": {},
        "rate": None,
        "baseline": label == "none",
        "reference": method == "spacy",
        "title": label,
        "test_mean": 60.0 + (gain or 0.0),
        "test_std": 1.0,
        "gain_mean": gain,
        "gain_std": None if gain is None else 1.0,
        "per_type_gain": {} if gain is None else {"PER": gain},
        "interval": None if gain is None else {"low": gain - 1.5, "high": gain + 2.0},
        "evidence": None if gain is None else "none",
    }
    row.update(kw)
    return row


def _report(sizes: list[int], labels: list[str], gains: dict[str, float]) -> dict:
    rows = [
        _row(lb, s, None if lb == "none" else gains[lb] + i)
        for lb in labels
        for i, s in enumerate(sizes)
    ]
    return {"rows": rows, "sizes": sizes, "labels": labels, "grid": {"task": "ner"}}


@pytest.fixture
def figures(monkeypatch):
    """Every figure the plots would save, in order; nothing is written."""
    saved = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: saved.append(fig) or path)
    return saved


def _lines(ax, colour: str) -> list:
    """The data lines and markers (not the 0 line, not error bar caps) drawn in ``colour``."""
    return [
        ln
        for ln in ax.get_lines()
        if to_rgba(ln.get_color()) == to_rgba(colour) and ln.get_marker() not in ("_", "|")
    ]


def _errorbar_spans(ax) -> list[tuple[float, float]]:
    """``(low, high)`` of every vertical error bar in ``ax``."""
    spans = []
    for container in ax.containers:
        if isinstance(container, ErrorbarContainer):
            for segment in container.lines[2][0].get_segments():
                spans.append((float(segment[0][1]), float(segment[1][1])))
    return sorted(spans)


# --------------------------------------------------------------------------------------------
# names and colours


@pytest.mark.parametrize(
    ("label", "shown"),
    [
        ("none", "none"),
        ("mmix", "MMix"),
        ("tmix", "TMix"),
        ("smix", "SMix"),
        ("rmix", "RMix"),
        ("lwtr", "LwTR"),
        ("sis", "SiS"),
        ("rules", "rules"),
        ("mixup", "mixup"),
        ("seqmix", "SeqMix"),
        ("fgm", "FGM"),
        ("spacy", "spaCy"),
        ("smix+sis", "SMix+SiS"),
        ("rmix+sr", "RMix+SR"),
        ("lada[lada_mode=inter]", "LADA (inter)"),
        ("mmix[rate=0.5]", "MMix (rate 0.5)"),
        ("lada[lada_mode=intra,rate=1]", "LADA (intra, rate 1)"),
        ("mmix[same_type=true]", "MMix (same_type=true)"),
        ("brandnew", "brandnew"),
        ("brandnew+mmix", "brandnew+MMix"),
    ],
)
def test_display_names(label, shown):
    assert display_name(label) == shown


def test_display_name_uses_the_rows_own_method_and_options():
    assert display_name("mmix[rate=0.5]", "mmix", {"rate": 0.5}) == "MMix (rate 0.5)"
    assert display_name("lada[lada_mode=intra]", "lada", {"lada_mode": "intra"}) == "LADA (intra)"
    # a label the grid file chose by hand is what the tables call the row: kept as written
    assert display_name("spacy_sm", "spacy", {}) == "spacy_sm"


def test_colours_are_fixed_and_distinct_for_the_known_methods():
    colours = [method_colour(lb) for lb in KNOWN]
    assert colours == [method_colour(lb) for lb in KNOWN]  # the same on every call
    assert len(set(colours)) == len(KNOWN)
    assert method_colour("lada[lada_mode=intra]") != method_colour("lada[lada_mode=inter]")
    assert all(len(c) == 7 and c.startswith("#") for c in colours)


def test_colours_of_rate_variants_differ_and_other_labels_hash_stably():
    rates = [method_colour(f"mmix[rate={r}]") for r in (0.05, 0.1, 0.2, 0.5, 1, 2)]
    assert len({*rates, method_colour("mmix")}) == 7
    # an unknown label's colour is the same in another process (Python's hash() is not)
    code = "from segmix.experiment.names import method_colour as m; print(m('brandnew+sr'))"
    env = {**os.environ, "PYTHONHASHSEED": "123"}
    other = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert other.stdout.strip() == method_colour("brandnew+sr")
    assert method_colour("brandnew+sr") not in {method_colour(lb) for lb in KNOWN}


@pytest.mark.parametrize(
    "spec", ["conll2003.yaml", "conll2003_rates.yaml", "semeval2010_rmix.yaml"]
)
def test_every_row_of_a_shipped_grid_has_a_colour_of_its_own(spec):
    """The headline grid's 18 rows outran the hashed palette: MMix+MR and SMix+SiS were drawn
    in one dark green, and the per-type plot's legend could not tell them apart."""
    variants = load_spec(Path(__file__).parents[2] / "configs" / spec).variants
    colours = {v.label: method_colour(v.label) for v in variants}
    assert len(set(colours.values())) == len(colours), colours


# --------------------------------------------------------------------------------------------
# the plots


def test_per_type_gain_draws_no_bar_for_a_type_a_row_lacks(tmp_path, figures):
    """TMix scored no MISC (absent from its ``per_type_gain``): no bar, not a bar at 0."""
    report = {
        "rows": [
            _row("none", 200, None),
            _row("mmix", 200, 1.0, per_type_gain={"MISC": -2.0, "PER": 3.0}),
            _row("tmix", 200, 1.0, per_type_gain={"PER": 0.5}),
        ],
        "sizes": [200],
        "labels": ["none", "mmix", "tmix"],
    }
    assert plots.plot_per_type_gain(report, 200, tmp_path / "p.png") == tmp_path / "p.png"
    (ax,) = figures[0].axes
    heights = sorted(p.get_height() for p in ax.patches)
    assert heights == [-2.0, 0.5, 3.0]
    tmix = [p for p in ax.patches if to_rgba(p.get_facecolor()) == to_rgba(method_colour("tmix"))]
    assert [p.get_height() for p in tmix] == [0.5]


def test_gain_by_size_puts_references_apart_and_draws_the_interval(tmp_path, figures):
    report = _report(
        [50, 100], ["none", "mmix", "tmix", "spacy"], {"mmix": 2.0, "tmix": 1.0, "spacy": -12.0}
    )
    rows = {(r["label"], r["size"]): r for r in report["rows"]}
    rows["tmix", 100]["interval"] = None  # a point without bars
    rows["mmix", 50]["evidence"] = "gain"
    assert plots.plot_gain_by_size(report, tmp_path / "g.png") == tmp_path / "g.png"
    augment, reference = figures[0].axes
    assert reference.get_title() == "reference systems"
    assert not _lines(augment, method_colour("spacy"))
    assert _lines(reference, method_colour("spacy"))
    assert not _lines(reference, method_colour("mmix"))
    assert augment.get_xscale() == "log"
    assert [float(t) for t in augment.get_xticks()] == [50.0, 100.0]
    # error bars are the report's interval (asymmetric), tmix at 100 has none
    want = sorted(
        (r["interval"]["low"], r["interval"]["high"])
        for r in report["rows"]
        if not r["baseline"] and not r["reference"] and r["interval"]
    )
    assert np.allclose(_errorbar_spans(augment), want)
    assert len(want) == 3
    assert np.allclose(_errorbar_spans(reference), [(-13.5, -10.0), (-12.5, -9.0)])
    # filled where the report's rule says significant, hollow (white face) elsewhere
    markers = {
        (float(x), bool(to_rgba(ln.get_markerfacecolor()) == to_rgba("white")))
        for ln in _lines(augment, method_colour("mmix"))
        if ln.get_linestyle() == "None"
        for x in ln.get_xdata()
    }
    assert sorted(hollow for _, hollow in markers) == [False, True]
    assert min(markers)[1] is False  # the first size (50) is the filled one
    assert augment.get_legend() is None and figures[0].legends  # legends outside the axes
    texts = [t.get_text() for legend in figures[0].legends for t in legend.get_texts()]
    assert "MMix" in texts and "spaCy" in texts
    assert any("Holm-adjusted t-test and interval" in t for t in texts)


def test_a_size_still_under_way_is_marked_on_every_figure_that_shows_it(tmp_path, figures):
    """The report recommends nothing at a size whose runs are not all in; its figures say the
    same of their points, instead of showing a two-seed gain like a finished one."""
    report = _report([100, 200], ["none", "rmix"], {"rmix": -5.0})
    report["grid"]["unit"] = "examples"
    report["recommendations"] = [{"size": 100}, {"size": 200, "under_way": True}]
    plots.plot_gain_by_size(report, tmp_path / "g.png")
    plots.plot_f1_by_size(report, tmp_path / "f.png")
    plots.plot_gains(report, 200, tmp_path / "n200.png")
    plots.plot_gains(report, 100, tmp_path / "n100.png")
    gain, score, at200, at100 = figures
    for fig in (gain, score):
        ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
        assert ticks == ["100", "200\n(under way)"]
    assert at200._suptitle.get_text() == (
        "Paired gain over none, 200 training examples (under way: interim)"
    )
    assert at100._suptitle.get_text() == "Paired gain over none, 100 training examples"


def test_gains_at_one_size_is_a_forest_plot_with_references_apart(tmp_path, figures):
    report = _report([200], ["none", "mmix", "spacy"], {"mmix": 2.0, "spacy": -12.0})
    assert plots.plot_gains(report, 200, tmp_path / "f.png") == tmp_path / "f.png"
    # the panels (each with a twin whose right-hand ticks write the numbers)
    augment, reference = (ax for ax in figures[0].axes if ax.get_xlabel())
    twins = [ax for ax in figures[0].axes if not ax.get_xlabel()]
    assert [t.get_text() for t in twins[0].get_yticklabels()] == ["+2.00 [+0.50, +4.00]"]
    assert [t.get_text() for t in augment.get_yticklabels()] == ["MMix"]
    assert [t.get_text() for t in reference.get_yticklabels()] == ["spaCy"]
    (bars,) = [c for c in augment.containers if isinstance(c, ErrorbarContainer)]
    (segment,) = bars.lines[2][0].get_segments()
    assert np.allclose([segment[0][0], segment[1][0]], [0.5, 4.0])  # the interval, horizontal


def test_write_plots_with_one_size_draws_the_forest_plot_only(tmp_path):
    report = _report([200], ["none", "mmix", "spacy"], {"mmix": 2.0, "spacy": -12.0})
    written = plots.write_plots(report, tmp_path)
    names = sorted(p.name for p in written)
    assert names == ["gains_n200.png", "per_type_gain_n200.png"]
    assert not (tmp_path / "f1_by_size.png").exists()
    assert not (tmp_path / "gain_by_size.png").exists()
    assert all(p.stat().st_size > 0 for p in written)


def test_write_plots_with_several_sizes_leads_with_gain_by_size(tmp_path, figures):
    report = _report([50, 100], ["none", "mmix"], {"mmix": 2.0})
    names = [p.name for p in plots.write_plots(report, tmp_path)]
    assert names[:2] == ["gain_by_size.png", "f1_by_size.png"]
    assert not any(n.startswith("gains_n") for n in names)


def test_a_label_keeps_its_colour_across_plots_and_reports(tmp_path, figures):
    """MMix is listed second in one report and third in another: the same colour in the
    score plot, the gain plot and the per-type plot of both (not the colour cycle's next)."""
    colour = to_rgba(method_colour("mmix"))
    for labels in (["none", "mmix", "tmix"], ["none", "tmix", "mmix"]):
        report = _report([50, 100], labels, {"mmix": 2.0, "tmix": 1.0})
        figures.clear()
        plots.plot_f1_by_size(report, tmp_path / "f1.png")
        plots.plot_gain_by_size(report, tmp_path / "gain.png")
        plots.plot_per_type_gain(report, 50, tmp_path / "types.png")
        f1, gain, types = (fig.axes[0] for fig in figures)
        legend = {
            t.get_text(): h
            for t, h in zip(
                figures[0].legends[0].get_texts(), figures[0].legends[0].legend_handles, strict=True
            )
        }
        assert to_rgba(legend["MMix"].get_color()) == colour
        mmix_f1 = [c for c in f1.containers if np.allclose(c.lines[0].get_ydata(), [62.0, 63.0])]
        assert to_rgba(mmix_f1[0].lines[0].get_color()) == colour
        assert _lines(gain, method_colour("mmix"))
        (bar,) = [p for p in types.patches if p.get_height() == 2.0]
        assert to_rgba(bar.get_facecolor()) == colour


def test_adversarial_variants_are_named_by_what_they_add():
    assert display_name("smix[adversarial=fgm]") == "SMix + FGM"
    # not "none + FGM", which reads as FGM added to a method called none
    assert display_name("none[adversarial=fgm]") == "FGM alone"
    assert display_name("none[adversarial=fgm,adv_epsilon=0.5]") == "FGM alone (adv_epsilon=0.5)"
