"""Plots of a grid report (PNG, matplotlib's Agg canvas).

Figures are built with :class:`matplotlib.figure.Figure` directly, never through ``pyplot``: no
global figure state, no GUI backend, and a report written from a notebook or a server process
leaves that process's matplotlib settings alone.

Each function takes the report's data (:func:`segmix.experiment.report.build_report`) and
returns the path it wrote, or ``None`` where the grid has nothing to show (one size, no label
that varies ``rate``).
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from pathlib import Path

from segmix.figures import can_plot, new_figure, save_figure

logger = logging.getLogger(__name__)

__all__ = ["plot_f1_by_size", "plot_gain_by_rate", "plot_per_type_gain", "write_plots"]


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


def _log_x_ticked_at(ax, values: list[float], labels: list[str]) -> None:
    """A log x axis ticked at exactly ``values`` (sizes, rates: chosen on a ratio scale, so a
    log axis spaces them evenly), with no minor ticks between them."""
    if len(values) > 1 and values[0] > 0:
        ax.set_xscale("log")
    ax.set_xticks(values, labels)
    ax.minorticks_off()


def plot_f1_by_size(report: dict, path: Path) -> Path | None:
    """Test score against training-set size, one line per label, error bars = std over seeds."""
    rows = [r for r in report["rows"] if r["test_mean"] is not None]
    if not rows:
        return None
    fig, ax = _figure()
    by_label: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_label[r["label"]].append(r)
    shown = [lb for lb in report["labels"] if by_label.get(lb)]
    for i, label in enumerate(shown):
        points = sorted(by_label[label], key=lambda r: r["size"])
        reference = bool(points[0].get("reference"))
        # a small sideways shift per label, so error bars at one size do not hide each other
        shift = sideways_shift(i, len(shown))
        ax.errorbar(
            [r["size"] * shift for r in points],
            [r["test_mean"] for r in points],
            yerr=[r["test_std"] or 0.0 for r in points],
            marker="o",
            capsize=3,
            label=points[0].get("title") or label,
            linestyle="--" if label == "none" else (":" if reference else "-"),
        )
    sizes = sorted({r["size"] for r in rows})
    _log_x_ticked_at(ax, sizes, [str(s) for s in sizes])
    ax.set_xlabel("training examples")
    ax.set_ylabel("test score (points, mean ± std over seeds)")
    ax.set_title("Test score by training-set size")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
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
    """Paired gain against the augmentation rate, for methods the grid runs at several rates."""
    groups = _rate_groups(report)
    if not groups:
        return None
    fig, ax = _figure()
    series = []
    for (method, others), rows in sorted(groups.items()):
        extra = " ".join(f"{k}={v}" for k, v in json.loads(others).items())
        for size in sorted({r["size"] for r in rows}):
            points = sorted((r for r in rows if r["size"] == size), key=lambda r: r["rate"])
            if len(points) >= 2:
                series.append((f"{method}{' ' + extra if extra else ''}, n={size}", points))
    rates = sorted({r["rate"] for _, points in series for r in points})
    for i, (label, points) in enumerate(series):
        shift = sideways_shift(i, len(series), step=1.03)
        ax.errorbar(
            [r["rate"] * shift for r in points],
            [r["gain_mean"] for r in points],
            yerr=[r["gain_std"] or 0.0 for r in points],
            marker="o",
            capsize=3,
            label=label,
        )
    _log_x_ticked_at(ax, rates, [f"{r:g}" for r in rates])
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.set_xlabel("augmentation rate (mixes per epoch / |train|)")
    ax.set_ylabel("gain over none (points, mean ± std over seeds)")
    ax.set_title("Gain by augmentation rate")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_per_type_gain(report: dict, size: int, path: Path) -> Path | None:
    """Per-type F1 gain over ``none`` at one size: grouped bars, one group per type."""
    rows = [r for r in report["rows"] if r["size"] == size and r.get("per_type_gain")]
    if not rows:
        return None
    import numpy as np

    types = sorted({t for r in rows for t in r["per_type_gain"]})
    fig, ax = _figure(max(6.4, 0.9 * len(types) + 2), 4.2)
    width = 0.8 / len(rows)
    x = np.arange(len(types))
    for i, r in enumerate(rows):
        ax.bar(
            x + (i - (len(rows) - 1) / 2) * width,
            [r["per_type_gain"].get(t, 0.0) for t in types],
            width,
            label=r["label"],
        )
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.set_xticks(
        x, types, rotation=30 if len(types) > 5 else 0, ha="right" if len(types) > 5 else "center"
    )
    ax.set_ylabel("F1 gain over none (points, mean over seeds)")
    ax.set_title(f"Per-type gain, {size} training examples")
    ax.legend(fontsize="small")
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def write_plots(report: dict, folder: Path) -> list[Path]:
    """Every plot the report has data for; ``[]`` (and a note) without matplotlib."""
    if not can_plot(report):
        return []
    written = [
        plot_f1_by_size(report, folder / "f1_by_size.png"),
        plot_gain_by_rate(report, folder / "gain_by_rate.png"),
        *(
            plot_per_type_gain(report, s, folder / f"per_type_gain_n{s}.png")
            for s in report["sizes"]
        ),
    ]
    return [p for p in written if p is not None]
