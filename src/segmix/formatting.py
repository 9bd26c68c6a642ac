"""How numbers and durations read in every report, table and progress line, written once so that
a grid's report, ``segmix inspect``'s breakdown and the progress bar say the same thing the same
way (an en dash where there is no number)."""

from __future__ import annotations

MISSING = "–"


def num(value: float | None, digits: int = 2) -> str:
    """``12.35``; the dash for a missing value."""
    return MISSING if value is None else f"{value:.{digits}f}"


def signed(value: float | None) -> str:
    """``+1.25`` / ``−0.40`` as a difference reads; the dash for a missing value."""
    return MISSING if value is None else f"{value:+.2f}"


def human_duration(seconds: float) -> str:
    """A time in the unit a reader takes in (an ETA, a grid's wall time): seconds under a minute
    and a half, minutes under an hour and a half, hours above (a 21-minute grid read "0.3 h")."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
