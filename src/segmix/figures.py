"""Figures for the reports (``segmix report``, ``segmix inspect``): one place for how a figure
is made and saved.

Figures are built on matplotlib's object API with the Agg canvas, never through ``pyplot``, so
drawing leaves no global state behind in a user's process or notebook.
"""

from __future__ import annotations

import logging
from pathlib import Path

logger = logging.getLogger(__name__)


def can_plot(report: dict) -> bool:
    """Whether matplotlib is installed; without it a report gets a note instead of plots."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        report.setdefault("notes", []).append("matplotlib is not installed: no plots")
        logger.warning("matplotlib is not installed: the report has no plots")
        return False
    return True


def new_figure(width: float = 6.4, height: float = 4.2):
    """A figure and its one axes, laid out to fit its labels."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def new_panels(
    width: float,
    height: float,
    *,
    nrows: int = 1,
    ncols: int = 1,
    width_ratios: list[float] | None = None,
    height_ratios: list[float] | None = None,
):
    """A figure and a grid of axes (a flat list, row by row), laid out to fit their labels.

    For figures whose panels must not share a scale (an augmentation's gain beside a reference
    system's, which can be ten times larger), so each panel keeps its own axes.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(
        nrows,
        ncols,
        squeeze=False,
        gridspec_kw={"width_ratios": width_ratios, "height_ratios": height_ratios},
    )
    return fig, [ax for row in axes for ax in row]


def save_figure(fig, path: Path, dpi: int = 120) -> Path:
    """Write ``fig`` as a PNG (its folder made as needed); return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    return path
