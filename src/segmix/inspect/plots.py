"""Plots of the pre-training report (PNG, matplotlib's Agg canvas), drawn from its JSON alone.

Figures are built with :class:`matplotlib.figure.Figure` directly, never through ``pyplot``:
no global figure state and no GUI backend, so a report written from a notebook or a server
leaves that process's matplotlib settings alone. Every plot reads only the report dict, so the
plots can be redrawn from ``inspect.json``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from segmix.figures import can_plot, new_figure, save_figure
from segmix.tasks import inspection_for

logger = logging.getLogger(__name__)

__all__ = [
    "plot_coverage",
    "plot_lambda",
    "plot_segment_lengths",
    "plot_similarity",
    "write_plots",
]


def _figure(width: float = 6.4, height: float = 4.0):
    return new_figure(width, height)


def _save(fig, path: Path) -> Path:
    return save_figure(fig, path, dpi=110)


def plot_lambda(report: dict, path: Path) -> Path | None:
    """Histogram of λ (the original side's share) over the mixed segments."""
    hist = report["mixes"]["lambda"].get("histogram")
    if not hist:
        return None
    edges, counts = np.asarray(hist["edges"]), np.asarray(hist["counts"])
    fig, ax = _figure()
    ax.bar(edges[:-1], counts, width=np.diff(edges), align="edge", edgecolor="white")
    ax.set_xlabel("λ (share of the original side)")
    ax.set_ylabel("mixed segments")
    ax.set_xlim(0, 1)
    ax.set_title(f"{report['method']}: λ over {report['mixes']['segments']} mixed segments")
    return _save(fig, path)


def type_length_rows(cov: dict) -> dict[str, dict]:
    """Per type (or tag) with pool segments, and per other group, the segments' length
    histogram in words (tagging's coverage block)."""
    rows = {
        t: r["pool"]["words"]["histogram"] for t, r in cov["types"].items() if r["pool"]["segments"]
    }
    rows.update({g: s["words"]["histogram"] for g, s in cov.get("other_groups", {}).items()})
    return rows


def plot_segment_lengths(report: dict, path: Path) -> Path | None:
    """Pool segment length in words, one bar group per type (share of the type's segments)."""
    rows = inspection_for(report["task"]).length_rows(report["coverage"])
    rows = {g: h for g, h in rows.items() if h}
    if not rows:
        return None
    keys = sorted({k for h in rows.values() for k in h}, key=lambda k: int(k.rstrip("+")))
    fig, ax = _figure(7.0, 4.0)
    width = 0.8 / len(rows)
    x = np.arange(len(keys))
    for i, (group, hist) in enumerate(rows.items()):
        counts = np.asarray([hist.get(k, 0) for k in keys], dtype=float)
        ax.bar(x + i * width - 0.4 + width / 2, counts / max(counts.sum(), 1), width, label=group)
    ax.set_xticks(x, keys)
    ax.set_xlabel("segment length (words)")
    ax.set_ylabel("share of the group's pool segments")
    ax.set_title(f"{report['method']}: pool segment lengths")
    ax.legend(fontsize="small")
    return _save(fig, path)


def plot_coverage(report: dict, path: Path) -> Path | None:
    """Pool size per type (bars) against the share of dev/test mentions in the pool (markers)."""
    cov = report["coverage"]
    groups, sizes, key, what = inspection_for(report["task"]).coverage_bars(cov)
    if not groups:
        return None
    names = list(groups)
    fig, ax = _figure(max(6.4, 0.45 * len(names) + 2), 4.2)
    x = np.arange(len(names))
    ax.bar(x, sizes, color="#bbbbbb", label="pool segments")
    ax.set_ylabel(f"pool: {cov['segments_are']}")
    ax.set_xticks(
        x, names, rotation=45 if len(names) > 6 else 0, ha="right" if len(names) > 6 else "center"
    )
    right = ax.twinx()
    for split, marker in (("dev", "o"), ("test", "s")):
        values = [groups[g].get(split, {}).get(key) for g in names]
        if any(v is not None for v in values):
            right.plot(
                x,
                [np.nan if v is None else 100 * v for v in values],
                marker=marker,
                linestyle="none",
                label=f"{split}: {what}",
            )
    right.set_ylim(0, 100)
    right.set_ylabel("% of dev/test in the pool")
    handles = ax.get_legend_handles_labels()
    more = right.get_legend_handles_labels()
    right.legend(handles[0] + more[0], handles[1] + more[1], fontsize="small", loc="upper left")
    ax.set_title(f"{report['method']}: pool size and coverage")
    return _save(fig, path)


def plot_similarity(report: dict, path: Path) -> Path | None:
    """Distribution of max(sim_a, sim_b) for the method, mixup and random partners."""
    sem = report["semantic"]
    if "conditions" not in sem:
        return None
    fig, ax = _figure()
    drawn = False
    for cond, fig_data in sem["conditions"].items():
        hist = fig_data["max"].get("histogram")
        if not hist:
            continue
        edges, counts = np.asarray(hist["edges"]), np.asarray(hist["counts"], dtype=float)
        label = report["method"] if cond == "method" else cond
        ax.stairs(
            counts / max(counts.sum(), 1), edges, label=f"{label} ({fig_data['pairs']} pairs)"
        )
        drawn = True
    if not drawn:
        return None
    ax.set_xlabel("max(cos(mix, side a), cos(mix, side b))")
    ax.set_ylabel("share of aligned word pairs")
    ax.set_title("Mixed states: similarity to the closer source")
    ax.legend(fontsize="small")
    return _save(fig, path)


def write_plots(report: dict, folder: Path) -> list[Path]:
    """Every plot the report has data for; ``[]`` (and a note) without matplotlib."""
    if not can_plot(report):
        return []
    folder = Path(folder)
    made = [
        plot_lambda(report, folder / "lambda.png"),
        plot_segment_lengths(report, folder / "segment_lengths.png"),
        plot_coverage(report, folder / "coverage.png"),
        plot_similarity(report, folder / "similarity.png"),
    ]
    return [p for p in made if p is not None]
