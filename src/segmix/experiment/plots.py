"""Plots of a grid report (PNG, matplotlib's Agg canvas).

Figures are built with :class:`matplotlib.figure.Figure` directly, never through ``pyplot``: no
global figure state, no GUI backend, and a report written from a notebook or a server process
leaves that process's matplotlib settings alone.

Each function takes the report's data (:func:`segmix.experiment.report.build_report`) and
returns the path it wrote, or ``None`` where the grid has nothing to show (one size, no label
that varies ``rate``).

Every plot names a row by :func:`~segmix.experiment.names.display_name` and colours it by
:func:`~segmix.experiment.names.method_colour`, so a method has one name and one colour in
every figure of every report. Legends sit outside the axes, where they cannot hide a point.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections import defaultdict
from pathlib import Path

from segmix.experiment.names import display_name, method_colour, variant_label
from segmix.experiment.report import size_unit, sizes_under_way, training_size
from segmix.figures import can_plot, new_figure, new_panels, save_figure

logger = logging.getLogger(__name__)

__all__ = [
    "plot_f1_by_size",
    "plot_gain_by_rate",
    "plot_gain_by_size",
    "plot_gains",
    "plot_per_type_gain",
    "write_plots",
]

#: what a filled marker means; the wording of the report's rule, so figure and text agree
SIGNIFICANT = "significant by the report's rule (Holm-adjusted t-test and interval)"
NOT_SIGNIFICANT = "not significant"
INTERVAL = "bars: paired 95 % interval (bootstrap over seeds and test sentences)"

#: markers and line styles that tell apart series of one colour (one method at several sizes)
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
_LINESTYLES = ("-", "--", ":", "-.")


def _figure(width: float = 6.4, height: float = 4.2):
    return new_figure(width, height)


def _save(fig, path: Path) -> Path:
    return save_figure(fig, path, dpi=120)


def sideways_shift(index: int, count: int, step: float = 1.02) -> float:
    """A multiplicative x shift for series ``index`` of ``count`` on a log axis.

    Series drawn at the same x values (sizes, rates) put their error bars on top of each other;
    shifting each by a small factor, symmetric around 1, keeps them apart without moving the
    middle one and without suggesting a different x on a log scale.
    """
    return step ** (index - (count - 1) / 2)


def _shift_step(values: list[float], count: int) -> float:
    """The sideways step for ``count`` series at ``values``: the whole fan of series spans at
    most a quarter of the (log) gap between neighbouring values, so each value's fan stays
    visibly its own, and no more than 4 % per series, so few series stay close to their x."""
    ratios = [b / a for a, b in itertools.pairwise(values) if a > 0]
    if count < 2 or not ratios:
        return 1.04
    return min(1.04, min(ratios) ** (1 / 4 / (count - 1)))


def _log_x_ticked_at(ax, values: list[float], labels: list[str]) -> None:
    """A log x axis ticked at exactly ``values`` (sizes, rates: chosen on a ratio scale, so a
    log axis spaces them evenly), with no minor ticks between them."""
    if len(values) > 1 and values[0] > 0:
        ax.set_xscale("log")
    ax.set_xticks(values, labels)
    ax.minorticks_off()


def _name(row: dict) -> str:
    """A row's readable name: the report's own ``display`` where it has one (the report and
    the plots then say the same), else the name made here from the label."""
    return row.get("display") or display_name(row["label"], row.get("method"), row.get("options"))


def _sizes(report: dict) -> list[int]:
    return sorted(report.get("sizes") or {r["size"] for r in report["rows"]})


def _by_label(report: dict, rows: list[dict]) -> dict[str, list[dict]]:
    """``rows`` grouped by label, in the report's label order (baseline first, references
    last), each group sorted by size, so that series come in the tables' order."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[r["label"]].append(r)
    order = [lb for lb in report.get("labels", []) if lb in groups]
    order += sorted(lb for lb in groups if lb not in order)
    return {lb: sorted(groups[lb], key=lambda r: r["size"]) for lb in order}


def _unit(report: dict) -> str:
    """What a score point is (the task's :attr:`~segmix.tasks.Task.score_unit`): F1 for entity
    tagging; a relation grid's metric may be macro F1 or accuracy, so there just "points"."""
    from segmix.tasks import get_task

    return get_task(report.get("grid", {}).get("task", "ner")).score_unit


def _outside_legend(fig, handles: list, labels: list[str]) -> None:
    """The series legend to the right of every panel, where it cannot cover a point (the
    constrained layout makes room for it)."""
    if handles:
        fig.legend(handles, labels, loc="outside right upper", fontsize="small", frameon=False)


def _handle(colour: str, linestyle: str = "-", marker: str = "o", filled: bool = True):
    """A legend entry drawn by hand: a series is several artists (line, bars, filled and
    hollow markers), and the legend should show it once, as a line with a filled marker."""
    from matplotlib.lines import Line2D

    return Line2D(
        [],
        [],
        color=colour,
        linestyle=linestyle,
        marker=marker,
        markerfacecolor=colour if filled else "white",
    )


def _key_legend(fig, intervals: bool) -> None:
    """Below the panels: what filled and hollow markers (and the bars) mean."""
    from matplotlib.lines import Line2D

    handles = [_handle("black", "none"), _handle("black", "none", filled=False)]
    labels = [SIGNIFICANT, NOT_SIGNIFICANT]
    if intervals:
        handles.append(Line2D([], [], color="black", marker="|", linestyle="none", markersize=12))
        labels.append(INTERVAL)
    fig.legend(
        handles, labels, loc="outside lower center", fontsize="small", frameon=False, ncols=1
    )


def _significant(row: dict) -> bool:
    """Whether the report's rule (Holm-adjusted t-test and the interval) calls the row's gain
    significant: the report decides, the plot only shows it."""
    return row.get("evidence") in ("gain", "loss")


def _interval(row: dict) -> tuple[float, float] | None:
    """The row's paired 95 % interval ``(low, high)``, or ``None`` where the report has none
    (then the point is drawn without bars rather than with made-up ones)."""
    iv = row.get("interval")
    if not iv or iv.get("low") is None or iv.get("high") is None:
        return None
    return float(iv["low"]), float(iv["high"])


def _draw_gains(ax, xs: list[float], rows: list[dict], colour: str, linestyle: str) -> None:
    """One label's gains at ``xs``: a line through the means, the paired interval as
    asymmetric error bars (none where the report has no interval), and markers filled where the
    report's rule calls the gain significant, hollow (white face) elsewhere."""
    ys = [r["gain_mean"] for r in rows]
    if len(xs) > 1:
        ax.plot(xs, ys, color=colour, linestyle=linestyle, linewidth=1.3, zorder=2)
    with_iv = [(x, y, _interval(r)) for x, y, r in zip(xs, ys, rows, strict=True) if _interval(r)]
    if with_iv:
        ax.errorbar(
            [x for x, _, _ in with_iv],
            [y for _, y, _ in with_iv],
            yerr=[[y - iv[0] for _, y, iv in with_iv], [iv[1] - y for _, y, iv in with_iv]],
            fmt="none",
            color=colour,  # the caps too, not the colour cycle's next
            ecolor=colour,
            elinewidth=1.2,
            capsize=3,
            zorder=2,
        )
    for filled in (True, False):
        pts = [(x, y) for x, y, r in zip(xs, ys, rows, strict=True) if _significant(r) == filled]
        if pts:
            ax.plot(
                [x for x, _ in pts],
                [y for _, y in pts],
                linestyle="none",
                marker="o",
                markersize=6.5,
                color=colour,
                markerfacecolor=colour if filled else "white",
                markeredgewidth=1.4,
                zorder=3,
            )


def _size_ticks(report: dict, sizes: list[int]) -> list[str]:
    """A size axis's tick labels: "200" for a whole size, "200\n(under way)" for one still
    running, so a figure never shows a part-run size as if its seeds were all in."""
    running = sizes_under_way(report)
    return [f"{s}\n(under way)" if s in running else str(s) for s in sizes]


def _size_title(report: dict, size: int) -> str:
    """ "200 training examples"; "200 training examples (under way: interim)" for a size still
    running."""
    return training_size(report, size) + (
        " (under way: interim)" if size in sizes_under_way(report) else ""
    )


def plot_gain_by_size(report: dict, path: Path) -> Path | None:
    """Paired gain over ``none`` against training-set size: the figure the claims are about.

    One line per augmentation label, its paired 95 % interval (seeds and test sentences) as
    error bars, filled markers where the report's rule calls the gain significant. Reference
    systems (spaCy) are no augmentation and their gains can be far larger, so they get their
    own panel with its own y scale rather than flattening the augmentations' panel.
    ``None`` for fewer than two sizes (:func:`plot_gains` shows one size better).
    """
    sizes = _sizes(report)
    rows = [r for r in report["rows"] if not r["baseline"] and r.get("gain_mean") is not None]
    if len(sizes) < 2 or not rows:
        return None
    groups = _by_label(report, rows)
    augment = {lb: g for lb, g in groups.items() if not g[0].get("reference")}
    reference = {lb: g for lb, g in groups.items() if g[0].get("reference")}
    panels = [
        (p, t)
        for p, t in ((augment, "augmentation methods"), (reference, "reference systems"))
        if p
    ]
    fig, axes = new_panels(
        7.2 + 2.4 * (len(panels) - 1) + 2.0,
        5.0,
        ncols=len(panels),
        width_ratios=[3.0, 1.4][: len(panels)],
    )
    handles, labels = [], []
    for ax, (series, title) in zip(axes, panels, strict=True):
        step = _shift_step([float(s) for s in sizes], len(series))
        for i, (label, points) in enumerate(series.items()):
            shift = sideways_shift(i, len(series), step)
            colour = method_colour(label)
            linestyle = ":" if points[0].get("reference") else "-"
            _draw_gains(ax, [r["size"] * shift for r in points], points, colour, linestyle)
            handles.append(_handle(colour, linestyle))
            labels.append(_name(points[0]))
        ax.axhline(0.0, color="grey", linewidth=0.9, zorder=1)
        _log_x_ticked_at(ax, [float(s) for s in sizes], _size_ticks(report, sizes))
        ax.set_xlabel(f"training {size_unit(report)} (log scale)")
        if len(panels) > 1:
            ax.set_title(title, fontsize="medium")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"gain over none ({_unit(report)})")
    fig.suptitle("Paired gain over none by training-set size")
    _outside_legend(fig, handles, labels)
    _key_legend(fig, any(_interval(r) for r in rows))
    return _save(fig, path)


def plot_gains(report: dict, size: int, path: Path) -> Path | None:
    """A forest plot of the paired gains at one ``size``: one row per label, the point its mean
    gain, the bar its paired 95 % interval, filled where the report's rule calls it
    significant; each row's numbers are written at the right. Reference systems sit in a panel
    of their own below, on their own scale. For a grid with one size, where a gain-by-size
    line would be a single point."""
    rows = [
        r
        for r in report["rows"]
        if r["size"] == size and not r["baseline"] and r.get("gain_mean") is not None
    ]
    if not rows:
        return None
    groups = _by_label(report, rows)
    augment = [g[0] for g in groups.values() if not g[0].get("reference")]
    reference = [g[0] for g in groups.values() if g[0].get("reference")]
    panels = [(p, t) for p, t in ((augment, None), (reference, "reference systems")) if p]
    heights = [len(p) + 0.8 for p, _ in panels]
    fig, axes = new_panels(7.6, 1.9 + 0.42 * sum(heights), nrows=len(panels), height_ratios=heights)
    for ax, (panel, title) in zip(axes, panels, strict=True):
        ys = list(range(len(panel)))
        for y, r in zip(ys, panel, strict=True):
            colour = method_colour(r["label"])
            iv = _interval(r)
            if iv:
                ax.errorbar(
                    [r["gain_mean"]],
                    [y],
                    xerr=[[r["gain_mean"] - iv[0]], [iv[1] - r["gain_mean"]]],
                    fmt="none",
                    color=colour,
                    ecolor=colour,
                    elinewidth=1.6,
                    capsize=4,
                    zorder=2,
                )
            ax.plot(
                [r["gain_mean"]],
                [y],
                linestyle="none",
                marker="o",
                markersize=8,
                color=colour,
                markerfacecolor=colour if _significant(r) else "white",
                markeredgewidth=1.6,
                zorder=3,
            )
        ax.axvline(0.0, color="grey", linewidth=0.9, zorder=1)
        ax.set_yticks(ys, [_name(r) for r in panel])
        ax.set_ylim(len(panel) - 0.5, -0.5)  # the report's order, top to bottom
        right = ax.twinx()
        right.set_ylim(ax.get_ylim())
        right.set_yticks(ys, [_numbers(r) for r in panel], fontsize="small")
        right.tick_params(axis="y", length=0)
        ax.grid(axis="x", alpha=0.3)
        ax.set_xlabel(f"gain over none ({_unit(report)})")
        if title:
            ax.set_title(title, fontsize="medium")
    fig.suptitle(f"Paired gain over none, {_size_title(report, size)}")
    _key_legend(fig, any(_interval(r) for r in rows))
    return _save(fig, path)


def _numbers(row: dict) -> str:
    """``+2.10 [+0.31, +3.92]``: the mean gain and its interval, as the forest plot's right
    margin writes them, so the figure can be read without the table."""
    iv = _interval(row)
    text = f"{row['gain_mean']:+.2f}"
    return text + (f" [{iv[0]:+.2f}, {iv[1]:+.2f}]" if iv else " (no interval)")


def plot_f1_by_size(report: dict, path: Path) -> Path | None:
    """Test score against training-set size, one line per label, error bars = std over seeds.
    ``None`` for fewer than two sizes: one point per label says nothing a table does not."""
    rows = [r for r in report["rows"] if r["test_mean"] is not None]
    sizes = _sizes(report)
    if not rows or len(sizes) < 2:
        return None
    fig, ax = _figure(9.2, 4.8)
    groups = _by_label(report, rows)
    step = _shift_step([float(s) for s in sizes], len(groups))
    handles, labels = [], []
    for i, (label, points) in enumerate(groups.items()):
        reference = bool(points[0].get("reference"))
        # a small sideways shift per label, so error bars at one size do not hide each other
        shift = sideways_shift(i, len(groups), step)
        colour = method_colour(label)
        linestyle = "--" if label == "none" else (":" if reference else "-")
        ax.errorbar(
            [r["size"] * shift for r in points],
            [r["test_mean"] for r in points],
            yerr=[r["test_std"] or 0.0 for r in points],
            marker="o",
            markersize=5,
            capsize=3,
            color=colour,
            linestyle=linestyle,
        )
        handles.append(_handle(colour, linestyle))
        labels.append(_name(points[0]) + (" (reference)" if reference else ""))
    _log_x_ticked_at(ax, [float(s) for s in sizes], _size_ticks(report, sizes))
    ax.set_xlabel(f"training {size_unit(report)}")
    ax.set_ylabel(f"test score ({_unit(report)}, mean ± std over seeds)")
    ax.set_title("Test score by training-set size")
    ax.grid(alpha=0.3)
    _outside_legend(fig, handles, labels)
    return _save(fig, path)


def _rate_groups(report: dict) -> dict[tuple[str, str], list[dict]]:
    """Rows grouped by method and every option but ``rate``; groups with ≥ 2 rates only."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in report["rows"]:
        if r["baseline"] or r.get("rate") is None or r.get("gain_mean") is None:
            continue
        others = {k: v for k, v in (r.get("options") or {}).items() if k != "rate"}
        groups[(r["method"], json.dumps(others, sort_keys=True))].append(r)
    return {k: v for k, v in groups.items() if len({r["rate"] for r in v}) > 1}


def plot_gain_by_rate(report: dict, path: Path) -> Path | None:
    """Paired gain against the augmentation rate, for methods the grid runs at several rates.

    One colour per method (variant), one marker and line style per training-set size, so the
    rate curves of one method read as a family."""
    groups = _rate_groups(report)
    if not groups:
        return None
    fig, ax = _figure(8.8, 4.6)
    series = []
    running = sizes_under_way(report)
    all_sizes = sorted({r["size"] for rows in groups.values() for r in rows})
    for (method, others), rows in sorted(groups.items()):
        options = json.loads(others)
        base = variant_label(method, options)
        name = display_name(base, method, options)
        for size in sorted({r["size"] for r in rows}):
            points = sorted((r for r in rows if r["size"] == size), key=lambda r: r["rate"])
            if len(points) >= 2:
                # a size still running is marked as such, and drawn without bars: its few
                # seeds' spread is not the interval the whole size will have
                label = f"{name}, n={size}" + (" (under way: interim)" if size in running else "")
                series.append((label, base, all_sizes.index(size), points, size in running))
    rates = sorted({r["rate"] for *_, points, _ in series for r in points})
    # the two-way 95 % intervals where every whole size's point has one, as in the other gain
    # plots; a report without them (older report.json) falls back to the std over seeds, and
    # says so
    with_interval = all(
        r.get("interval") for *_, points, interim in series if not interim for r in points
    )
    handles, labels = [], []
    for i, (label, base, k, points, interim) in enumerate(series):
        shift = sideways_shift(i, len(series), step=1.03)
        colour = method_colour(base)
        marker = _MARKERS[k % len(_MARKERS)]
        linestyle = _LINESTYLES[k % len(_LINESTYLES)]
        ax.errorbar(
            [r["rate"] * shift for r in points],
            [r["gain_mean"] for r in points],
            yerr=(
                None
                if interim
                else [
                    [r["gain_mean"] - r["interval"]["low"] for r in points],
                    [r["interval"]["high"] - r["gain_mean"] for r in points],
                ]
                if with_interval
                else [r["gain_std"] or 0.0 for r in points]
            ),
            marker=marker,
            capsize=3,
            color=colour,
            linestyle=linestyle,
        )
        handles.append(_handle(colour, linestyle, marker))
        labels.append(label)
    _log_x_ticked_at(ax, rates, [f"{r:g}" for r in rates])
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.set_xlabel("augmentation rate (mixes per epoch / |train|)")
    spread = "paired 95 % interval" if with_interval else "mean ± std over seeds"
    ax.set_ylabel(f"gain over none ({_unit(report)}, {spread})")
    ax.set_title("Gain by augmentation rate")
    ax.grid(alpha=0.3)
    _outside_legend(fig, handles, labels)
    return _save(fig, path)


def plot_per_type_gain(report: dict, size: int, path: Path) -> Path | None:
    """Per-type F1 gain over ``none`` at one size: grouped bars, one group per type.

    A row has a bar only for the types it scored (the report keeps only types scored in both
    runs): a type a row lacks gets no bar, not a bar of height 0, which would read as "no
    change"; a small "n/a" marks the gap. Reference systems get a panel of their own below,
    on their own scale, as in :func:`plot_gain_by_size`."""
    rows = [r for r in report["rows"] if r["size"] == size and r.get("per_type_gain")]
    if not rows:
        return None
    rows = [g[0] for g in _by_label(report, rows).values()]
    types = sorted({t for r in rows for t in r["per_type_gain"]})
    augment = [r for r in rows if not r.get("reference")]
    reference = [r for r in rows if r.get("reference")]
    panels = [(p, t) for p, t in ((augment, None), (reference, "reference systems")) if p]
    group = max(0.9, 0.14 * max(len(p) for p, _ in panels))  # inches per type: bars stay wide
    fig, axes = new_panels(
        min(24.0, max(6.4, group * len(types) + 1.5)) + 2.0,
        4.6 + 1.8 * (len(panels) - 1),
        nrows=len(panels),
        height_ratios=[2.5, 1.0][: len(panels)],
    )
    handles, labels, missing = [], [], False
    for ax, (panel, title) in zip(axes, panels, strict=True):
        missing |= _type_bars(ax, panel, types, handles, labels)
        ax.axhline(0.0, color="grey", linewidth=0.8)
        rotate = len(types) > 5
        ax.set_xticks(
            range(len(types)),
            types,
            rotation=30 if rotate else 0,
            ha="right" if rotate else "center",
        )
        ax.set_xlim(-0.6, len(types) - 0.4)
        ax.set_ylabel("gain (F1 points)")  # per-type scores are F1 in every task
        ax.grid(axis="y", alpha=0.3)
        if title:
            ax.set_title(title, fontsize="medium")
    for ax in axes[:-1]:  # the same types, in the same places: named once, at the bottom
        ax.tick_params(axis="x", labelbottom=False)
    axes[0].set_ylabel("gain over none (F1 points, mean over seeds)")
    if missing:
        axes[-1].set_xlabel("n/a: no bar, the type was not scored in both runs (method and none)")
    fig.suptitle(f"Per-type gain over none, {_size_title(report, size)}")
    _outside_legend(fig, handles, labels)
    return _save(fig, path)


def _type_bars(ax, rows: list[dict], types: list[str], handles: list, labels: list) -> bool:
    """One bar per row and type it has, grouped by type; whether some type was missing."""
    width = min(0.3, 0.8 / len(rows))  # a lone reference row's bars no wider than a group's
    missing = False
    for i, r in enumerate(rows):
        offset = (i - (len(rows) - 1) / 2) * width
        present = [j for j, t in enumerate(types) if r["per_type_gain"].get(t) is not None]
        bars = ax.bar(
            [j + offset for j in present],
            [r["per_type_gain"][types[j]] for j in present],
            width,
            color=method_colour(r["label"]),
            linewidth=0,
        )
        for j in set(range(len(types))) - set(present):
            missing = True
            ax.annotate(
                "n/a",
                (j + offset, 0.0),
                xytext=(0, 3),
                textcoords="offset points",
                rotation=90,
                ha="center",
                va="bottom",
                fontsize="x-small",
                color="grey",
            )
        handles.append(bars)
        labels.append(_name(r))
    return missing


#: every file name write_plots gives a plot, as glob patterns
PLOT_FILES = (
    "gain_by_size.png",
    "f1_by_size.png",
    "gains_n*.png",
    "gain_by_rate.png",
    "per_type_gain_n*.png",
)


def write_plots(report: dict, folder: Path) -> list[Path]:
    """Every plot the report has data for; ``[]`` (and a note) without matplotlib.

    Several sizes: ``gain_by_size.png`` (first: the figure the claims are about) and
    ``f1_by_size.png``; one size: ``gains_n{size}.png`` instead. Then ``gain_by_rate.png``
    where a method ran at several rates, and ``per_type_gain_n{size}.png`` per size.

    The plots an earlier call left in ``folder`` are removed first, so a re-rendered report
    never keeps a stale figure (one its data no longer draws) beside its new ones; only these
    file names are touched."""
    for pattern in PLOT_FILES:
        for stale in folder.glob(pattern):
            stale.unlink()
    if not can_plot(report):
        return []
    sizes = _sizes(report)
    if len(sizes) >= 2:
        main = [
            plot_gain_by_size(report, folder / "gain_by_size.png"),
            plot_f1_by_size(report, folder / "f1_by_size.png"),
        ]
    else:
        main = [plot_gains(report, s, folder / f"gains_n{s}.png") for s in sizes]
    written = [
        *main,
        plot_gain_by_rate(report, folder / "gain_by_rate.png"),
        *(plot_per_type_gain(report, s, folder / f"per_type_gain_n{s}.png") for s in sizes),
    ]
    return [p for p in written if p is not None]
