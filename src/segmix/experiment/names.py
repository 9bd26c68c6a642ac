"""Readable names and fixed colours for the report's rows (``lada[lada_mode=inter]`` and such).

Labels are written for the grid's bookkeeping (``method[k=v,k2=v2]``, lower case, exactly as the
grid file spells them); plots and tables are read by people, who know the methods as "MMix" or
"LADA (inter)". A method's colour is fixed here rather than picked by plot order, so that one
method looks the same in every figure of every report and two reports can be compared by eye.

This module imports nothing heavy (no matplotlib), so tables can use the names without plots.
"""

from __future__ import annotations

import colorsys
import hashlib
import math
from typing import Any

__all__ = ["display_name", "method_colour", "parse_label", "variant_label"]

#: how the papers and the README write each method (the key is the grid's method name)
NAMES: dict[str, str] = {
    "none": "none",
    "mmix": "MMix",
    "tmix": "TMix",
    "smix": "SMix",
    "rmix": "RMix",
    "lwtr": "LwTR",
    "sr": "SR",
    "mr": "MR",
    "sis": "SiS",
    "rules": "rules",
    "mixup": "mixup",
    "seqmix": "SeqMix",
    "lada": "LADA",
    "fgm": "FGM",
    "spacy": "spaCy",
}

#: the augmentation rate a label without ``rate=`` runs at (``AugmentConfig.rate``)
DEFAULT_RATE = 0.2

#: options whose value alone says what they are ("LADA (inter)", not "LADA (lada_mode=inter)")
_VALUE_ONLY = frozenset({"lada_mode"})

#: option values shown by a name of their own ("SMix + FGM"; on ``none``, "FGM alone")
_JOINED = {("adversarial", "fgm"): "FGM"}

#: options that read better as "name value" than "name=value"
_SPACED = frozenset({"rate"})

#: fixed colours of the labels the project's grids run. ``none`` is a dark grey (the reference
#: line every gain is measured against, not a competitor); LADA's two modes differ; references
#: (spaCy) have a colour no augmentation has.
COLOURS: dict[str, str] = {
    "none": "#4d4d4d",
    "mmix": "#1f77b4",  # blue
    "tmix": "#ff7f0e",  # orange
    "smix": "#2ca02c",  # green
    "sis": "#d62728",  # red
    "mixup": "#9467bd",  # purple
    "seqmix": "#8c564b",  # brown
    "lada[lada_mode=intra]": "#e377c2",  # pink
    "lada[lada_mode=inter]": "#17becf",  # cyan
    "lada": "#17becf",  # LADA's default mode is inter
    "spacy": "#bcbd22",  # olive
    "rmix": "#1b9e77",  # teal
    "sr": "#e6ab02",  # mustard
    "lwtr": "#7570b3",  # slate
    "mr": "#a6761d",  # ochre
    "rules": "#e7298a",  # magenta
    "fgm": "#393b79",  # navy
    "none[adversarial=fgm]": "#393b79",  # FGM alone: FGM's navy
    # the mixtures and the adversarial combination the headline grid runs: a mixture takes a
    # lighter shade of its first part's hue, SMix + FGM a darker one of SMix's, so that 18 rows
    # in one plot still have 18 colours (by hash, two of them shared one)
    "mmix+mr": "#6baed6",  # light blue
    "tmix+sr": "#fdae6b",  # light orange
    "smix+sis": "#74c476",  # light green
    "smix[adversarial=fgm]": "#00441b",  # dark green
}

#: colours for every other label, chosen by a stable hash; none of them is in ``COLOURS``, so
#: a hashed label never takes a known method's colour
PALETTE: tuple[str, ...] = (
    "#b15928",  # rust
    "#6a3d9a",  # violet
    "#fb9a99",  # salmon
    "#b2df8a",  # light green
    "#fdbf6f",  # light orange
    "#cab2d6",  # lavender
    "#a6cee3",  # light blue
    "#66c2a5",  # mint
    "#fc8d62",  # coral
    "#8da0cb",  # periwinkle
    "#a6d854",  # lime
    "#e5c494",  # tan
    "#543005",  # dark brown
    "#8e0152",  # wine
    "#4d9221",  # dark lime
)


def parse_label(label: str) -> tuple[str, dict[str, str]]:
    """``"lada[lada_mode=inter,rate=0.5]"`` → ``("lada", {"lada_mode": "inter", "rate": "0.5"})``.

    The grid writes a variant's label as its method and the options that make it; values come
    back as the strings the label holds. A label with no ``[...]`` (or one that is not
    ``k=v`` pairs, such as a hand-chosen label) is all method, with no options.
    """
    if not label.endswith("]") or "[" not in label:
        return label, {}
    method, _, inner = label[:-1].partition("[")
    options: dict[str, str] = {}
    for part in inner.split(","):
        key, eq, value = part.partition("=")
        if not eq or not key.strip():
            return label, {}
        options[key.strip()] = value.strip()
    return method, options


def _value(value: Any) -> str:
    """An option value as the grid's labels write it (``0.5``, ``true``)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _method_name(method: str) -> str:
    """``smix+sis`` → ``SMix+SiS``; a part the table does not know is kept as written."""
    return "+".join(NAMES.get(part, part) for part in method.split("+"))


def display_name(label: str, method: str | None = None, options: dict | None = None) -> str:
    """How a row is named in plots: ``lada[lada_mode=inter]`` → ``LADA (inter)``.

    ``method`` and ``options`` (a report row's own fields) are used where given, since their
    values keep their types (``0.5`` rather than ``"0.5"``); otherwise the label is parsed. A
    hand-chosen label that is not its method's label (a grid may name a variant freely) is kept
    as the user wrote it: it is what the grid file and the tables call that row.
    """
    parsed_method, parsed_options = parse_label(label)
    if method is not None and parsed_method != method:
        return label
    method = method if method is not None else parsed_method
    shown = options if options is not None else parsed_options
    parts, joined = [], []
    for key, value in shown.items():
        text = _value(value)
        if (key, text) in _JOINED:
            joined.append(_JOINED[(key, text)])
        elif key in _VALUE_ONLY:
            parts.append(text)
        elif key in _SPACED:
            parts.append(f"{key} {text}")
        else:
            parts.append(f"{key}={text}")
    if method == "none" and joined:
        # "none + FGM" read as FGM combined with a method called none; it is FGM on its own
        name = " + ".join(joined) + " alone"
    else:
        name = " + ".join([_method_name(method), *joined])
    return f"{name} ({', '.join(parts)})" if parts else name


def _rgb(colour: str) -> tuple[float, float, float]:
    return tuple(int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))  # type: ignore[return-value]


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(255 * min(1.0, max(0.0, c))):02x}" for c in rgb)


def _hashed(label: str) -> str:
    """A palette colour by a stable hash: the same on every machine and in every process
    (Python's ``hash()`` of a string changes per process)."""
    digest = hashlib.sha256(label.encode("utf-8")).digest()
    return PALETTE[int.from_bytes(digest[:4], "big") % len(PALETTE)]


def _rate_shade(colour: str, rate: str) -> str:
    """A rate variant's colour: its method's hue family, lighter below the default rate (0.2)
    and darker above it, by how many doublings of the default it is (rates are chosen on a
    ratio scale), with the hue turned a little per doubling so that dark shades still differ.
    Variants of one method that differ only in rate so stay one family yet can be told apart,
    and the label without a rate keeps the method's own colour."""
    try:
        steps = math.log2(float(rate) / DEFAULT_RATE)
    except (ValueError, ZeroDivisionError):
        return _hashed(rate)
    if not math.isfinite(steps):
        return _hashed(rate)
    steps = max(-3.0, min(3.0, steps)) or -0.5  # the default rate itself: half a step lighter
    hue, light, sat = colorsys.rgb_to_hls(*_rgb(colour))
    room = (0.85 - light) if steps < 0 else (light - 0.18)
    light -= steps / 3 * max(room, 0.0)
    return _hex(colorsys.hls_to_rgb((hue + 0.025 * steps) % 1.0, light, sat))


def variant_label(method: str, options: dict[str, Any]) -> str:
    """``lada[lada_mode=intra]``: the label a grid gives the variant of ``method`` with
    ``options`` (values written as YAML writes them), the inverse of :func:`parse_label`."""
    if not options:
        return method
    return f"{method}[{','.join(f'{k}={_value(v)}' for k, v in options.items())}]"


def method_colour(label: str) -> str:
    """A fixed colour (``#rrggbb``) for ``label``, the same in every plot of every report.

    Known labels take the fixed table's colour; any other, a palette colour by a stable hash of
    the label. A label that differs from another only in ``rate`` takes that one's colour,
    shaded by the rate (see :func:`_rate_shade`).
    """
    if label in COLOURS:
        return COLOURS[label]
    method, options = parse_label(label)
    if "rate" in options:
        rate = options.pop("rate")
        return _rate_shade(method_colour(variant_label(method, options)), rate)
    return _hashed(label)
