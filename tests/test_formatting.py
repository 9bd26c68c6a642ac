"""Numbers and durations as every report and progress line writes them."""

from __future__ import annotations

import pytest

from segmix.formatting import MISSING, human_duration, num, parse_duration, signed


def test_wall_times_read_in_the_unit_that_fits():
    # the H200 grid's four runs took 1254.4 s, the SemEval grid's 16,056 s
    assert [human_duration(s) for s in (42.4, 1254.4, 3599.0, 16056.0)] == [
        "42 s",
        "21 min",
        "60 min",
        "4.5 h",
    ]


def test_numbers_and_differences_and_the_dash_for_none():
    assert [num(12.345), num(12.345, 1), num(None)] == ["12.35", "12.3", MISSING]
    assert [signed(1.254), signed(-0.4), signed(0.0), signed(None)] == [
        "+1.25",
        "-0.40",
        "+0.00",
        "–",
    ]


def test_a_duration_is_read_as_a_job_limit_is_written():
    assert [parse_duration(t) for t in ("3h30m", "45m", "90s", "1.5h", "2h5s", " 10min ")] == [
        12600.0,
        2700.0,
        90.0,
        5400.0,
        7205.0,
        600.0,
    ]
    for bad, why in (
        ("90", "not a duration"),
        ("", "not a duration"),
        ("3 h", "not a"),
        ("0m", "no time at all"),
        ("m", "not a duration"),
    ):
        with pytest.raises(ValueError, match=why):
            parse_duration(bad)
