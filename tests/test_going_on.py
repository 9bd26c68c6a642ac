"""The methods a grid takes on to its larger sizes are read off the report by decision 51's rule."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("going_on", ROOT / "benchmarks" / "going_on.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _row(label: str, size: int, evidence: str | None, gain: float = 0.0, p: float = 1.0) -> dict:
    return {
        "label": label,
        "size": size,
        "baseline": label == "none",
        "evidence": evidence,
        "gain_mean": gain,
        "t_p_holm": None if label == "spacy" else p,  # a reference row: outside Holm
        "t_p": p,
    }


def _report(under_way_at: int | None = None) -> dict:
    """MMix has evidence at 100 only, the mixture MMix+MR at 50 only; mixup, SeqMix, MR and
    TMix have none. Contrasts as the headline spec asks them."""
    rows = []
    for size in (50, 100):
        rows.append(_row("none", size, None))
        for label in ("mmix", "tmix", "mixup", "seqmix", "mr", "mmix+mr", "rules", "spacy"):
            gain = (label, size) in {("mmix", 100), ("mmix+mr", 50), ("spacy", 50)}
            rows.append(_row(label, size, "gain" if gain else "none", 3.0, 0.01 if gain else 0.6))
    contrasts = [
        {"size": size, "a": a, "b": b, "a_display": a.upper()}
        for size in (50, 100)
        for a, b in [
            ("mmix", "mixup"),
            ("tmix", "mixup"),
            ("mmix", "seqmix"),
            ("tmix", "seqmix"),
            ("mmix+mr", "mmix"),
            ("mmix+mr", "mr"),
        ]
    ]
    recs = [{"size": s, "under_way": s == under_way_at} for s in (50, 100)]
    return {"rows": rows, "contrasts": contrasts, "recommendations": recs}


def test_the_baseline_the_methods_with_evidence_and_their_contrast_partners_go_on():
    going = _script().going_on(_report(), [50, 100])
    assert sorted(going) == ["mixup", "mmix", "mmix+mr", "mr", "none", "seqmix", "spacy"]
    assert going["mmix"] == "evidence of a gain at 100 (+3.00, Holm-adjusted p 0.010)"
    assert going["spacy"] == "evidence of a gain at 50 (+3.00, t-test p 0.010)"
    assert going["mr"] == "contrast partner of MMIX+MR"  # a mixture keeps its parts
    assert going["mixup"] == "contrast partner of MMIX"  # the paper's central contrast
    # TMix has no evidence, and being the first side of a contrast keeps nothing: it stops
    assert "tmix" not in going and "rules" not in going


def test_a_size_still_under_way_is_refused():
    with pytest.raises(ValueError, match="size 100 not measured yet"):
        _script().going_on(_report(under_way_at=100), [50, 100])


def test_a_spec_is_checked_against_the_rule():
    script = _script()
    keep = script.going_on(_report(), [50, 100])
    sizes = [50, 100, 200, 400]
    variants = [
        ("none", None),
        ("mmix", None),
        ("mixup", [50, 100, 200]),  # goes on, but not to 400
        ("tmix", None),  # stops, yet planned everywhere
        ("rules", [50, 100]),  # stops: right
    ]
    assert script.disagreements(variants, keep, [50, 100], sizes) == [
        "mixup goes on (contrast partner of MMIX) but runs only at 50, 100, 200",
        "tmix stops after 50, 100 (no evidence of a gain there, no contrast partner of a "
        "method with one) but runs at 200, 400: give its item sizes: [50, 100]",
    ]


def test_the_command_names_the_spec_that_disagrees(tmp_path, capsys):
    report = tmp_path / "report.json"
    report.write_text(json.dumps(_report()))
    # the shipped spec, narrowed by the committed report's rule: MMix stops after 100, where
    # this report's evidence at 100 says it goes on
    spec = ROOT / "configs" / "conll2003.yaml"
    assert _script().main([str(report), "--from", "50,100", "--check", str(spec)]) == 1
    captured = capsys.readouterr()
    assert "  mmix: evidence of a gain at 100" in captured.out
    assert f"{spec}: mmix goes on (evidence of a gain at 100" in captured.err
    assert _script().main([str(report), "--from", "50,100"]) == 0
