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


def _rates_report() -> dict:
    """The rates grid at 50 and 100: one MMix rate gains at 50; TMix gains at no rate but
    dev's rate beats the default at 100; SMix and SiS neither."""
    rows = []
    for size in (50, 100):
        rows.append({**_row("none", size, None), "method": "none", "display": "none"})
        for method in ("mmix", "tmix", "smix", "sis"):
            for rate in (0.1, 0.2):
                gain = (method, rate, size) == ("mmix", 0.1, 50)
                label = f"{method}[rate={rate:g}]"
                row = _row(label, size, "gain" if gain else "none", 4.0, 0.02 if gain else 0.4)
                rows.append({**row, "method": method, "display": f"{method} (rate {rate:g})"})
    rates = [
        {
            "size": size,
            "method": method,
            "chosen_rate": 0.1,
            "default_rate": 0.2,
            "versus_default": {
                "distinct": int((method, size) == ("tmix", 100)),
                "mean": 1.5,
                "t_p_holm": 0.03,
            },
        }
        for size in (50, 100)
        for method in ("mmix", "tmix", "smix", "sis")
    ]
    recs = [{"size": s} for s in (50, 100)]
    return {"rows": rows, "rates": rates, "recommendations": recs, "contrasts": []}


def _headline() -> dict:
    """SiS gains at 50 at its default rate; SMix gains only with FGM, which is not SMix."""
    rows = [
        {**_row("none", 50, None), "method": "none", "display": "none"},
        {**_row("sis", 50, "gain", 5.5, 0.01), "method": "sis", "display": "SiS"},
        {**_row("smix", 50, "none"), "method": "smix", "display": "SMix"},
        {
            **_row("smix[adversarial=fgm]", 50, "gain", 6.0, 0.02),
            "method": "smix",
            "display": "SMix + FGM",
        },
    ]
    return {"rows": rows, "recommendations": [{"size": 50}, {"size": 100}]}


def test_the_rates_grid_goes_on_by_method_where_its_rate_question_is_alive():
    going = _script().rates_going_on(_rates_report(), [50, 100], _headline())
    assert going == {
        "none": "the baseline (every gain is paired against it)",
        "mmix": "mmix (rate 0.1) gains at 50 (+4.00, Holm-adjusted p 0.020)",
        "tmix": "at 100 dev's rate 0.1 beats the default 0.2 (+1.50, Holm-adjusted p 0.030)",
        "sis": "SiS gains at 50 in the headline grid (+5.50, Holm-adjusted p 0.010)",
    }  # SMix stops: its gain in the headline grid is SMix + FGM's, not SMix's
    # without the headline grid SiS has no reason to go on
    assert "sis" not in _script().rates_going_on(_rates_report(), [50, 100])
    # a size under way in either report is refused
    interim = _headline()
    interim["recommendations"][1]["under_way"] = True
    with pytest.raises(ValueError, match="size 100 not measured yet in the headline report"):
        _script().rates_going_on(_rates_report(), [50, 100], interim)


def test_the_rates_rule_checks_every_rate_of_a_method_together(tmp_path, capsys):
    rates, headline = tmp_path / "rates.json", tmp_path / "headline.json"
    rates.write_text(json.dumps(_rates_report()))
    headline.write_text(json.dumps(_headline()))
    # the shipped spec before the rule narrowed it: every rate of every method at every size
    shipped = (ROOT / "configs" / "conll2003_rates.yaml").read_text(encoding="utf-8")
    spec = tmp_path / "conll2003_rates.yaml"
    data = (ROOT / "configs" / "../../shared/data/conll2003").resolve()  # as the spec reads it
    shipped = shipped.replace("data: ../../shared/data/conll2003", f"data: {data}")
    spec.write_text(shipped.replace(", sizes: [50, 100]}", "}"), encoding="utf-8")
    argv = [str(rates), "--from", "50,100", "--rates", "--headline", str(headline)]
    assert _script().main([*argv, "--check", str(spec)]) == 1
    captured = capsys.readouterr()
    assert "  sis: SiS gains at 50 in the headline grid" in captured.out
    assert (
        "Stopping (no rate of it gains, its rate does not matter, and it does not gain in "
        "the headline grid):\n  smix\n" in captured.out
    )
    # SMix's every rate is planned at 200 and 400 in the spec, which the rule stops
    wrong = [line for line in captured.err.splitlines() if line]
    assert [line.split(": ")[1].split(" ")[0] for line in wrong] == [
        f"smix[rate={rate}]" for rate in ("0.1", "0.2", "0.5", "1")
    ]
    assert wrong[0].endswith("but runs at 200, 400: give its item sizes: [50, 100]")
