"""Numbers and durations as every report and progress line writes them."""

from __future__ import annotations

from segmix.formatting import MISSING, human_duration, num, signed


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
