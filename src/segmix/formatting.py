"""How numbers and durations read in every report, table and progress line, written once so that
a grid's report, ``segmix inspect``'s breakdown and the progress bar say the same thing the same
way (an en dash where there is no number)."""

from __future__ import annotations

import re

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


_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?:in)?)?(?:(\d+(?:\.\d+)?)s)?$")


def parse_duration(text: str) -> float:
    """Seconds in a duration as people write one for a job's limit: ``3h30m``, ``45m``, ``90s``,
    ``1.5h``. A bare number is refused: minutes or seconds would be a guess."""
    match = _DURATION.match(text.strip().lower())
    if not text.strip() or match is None or not any(match.groups()):
        raise ValueError(f"{text!r} is not a duration; write it like 3h30m, 45m or 90s")
    hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    total = 3600 * hours + 60 * minutes + seconds
    if total <= 0:
        raise ValueError(f"{text!r} is no time at all; give more than 0")
    return total
