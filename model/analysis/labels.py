"""Outcome names and numbers as people read them: labels, units and formatted values.

Imports core only.
"""

from __future__ import annotations

import numpy as np

_CAMP_NAMES = {"west": "West", "sco": "SCO", "nonaligned": "non-aligned"}


def outcome_label(name: str, *, long: bool = False) -> str:
    """A reader's name for an outcome.

    'West GDP share', or with ``long`` an axis label: 'share of world GDP in West-leaning
    states (%)'.
    """
    for prefix, what in (("gdp_share_", "GDP"), ("pop_share_", "population")):
        if name.startswith(prefix):
            camp = name.removeprefix(prefix)
            camp_name = _CAMP_NAMES.get(camp, camp)
            if long:
                lean = f"{camp_name}-leaning" if camp != "nonaligned" else "non-aligned"
                return f"share of world {what} in {lean} states (%)"
            return f"{camp_name} {what} share"
    if name.startswith("states_"):
        camp = name.removeprefix("states_")
        camp_name = _CAMP_NAMES.get(camp, camp)
        lean = f"{camp_name}-leaning" if camp != "nonaligned" else "non-aligned"
        return f"number of {lean} states" if long else f"{lean} states"
    labels = {
        "sco_members": ("SCO full members", "number of SCO full members"),
        "sco_any_status": ("states with SCO status",
                           "states with any SCO status (member, observer, partner)"),
        "mean_alignment": ("mean alignment", "mean alignment of all states (−1 West … +1 SCO)"),
        "gdp_weighted_alignment": ("GDP-weighted alignment",
                                   "GDP-weighted mean alignment (−1 West … +1 SCO)"),
        "swing_mean_alignment": ("swing states' alignment",
                                 "mean alignment of the swing states (−1 West … +1 SCO)"),
    }
    if name in labels:
        return labels[name][1 if long else 0]
    return name.replace("_", " ")


def outcome_unit(name: str) -> tuple[float, str, int]:
    """How to print an outcome: scale, unit of a difference, decimals."""
    if name.startswith(("gdp_share_", "pop_share_")):
        return 100.0, " pp", 1
    if name.startswith("states_") or name.startswith("sco_"):
        return 1.0, " states", 1
    return 1.0, "", 3


def _minus(text: str) -> str:
    return text.replace("-", "−")


def format_value(name: str, x: float) -> str:
    """A level of an outcome as a reader wants it: '60.71%', '11.2', '−0.050'."""
    if x is None or not np.isfinite(x):
        return "–"
    scale, unit, dec = outcome_unit(name)
    if unit == " pp":
        return f"{x * scale:.2f}%"
    if unit == " states":
        return f"{x:.{dec}f}"
    return _minus(f"{x:+.{dec}f}")


def diff_decimals(name: str, *values: float) -> int:
    """Decimals that show the largest of ``values`` (a difference) to two significant digits.

    Never fewer than the outcome's usual decimals.
    """
    scale, _, dec = outcome_unit(name)
    v = np.abs(np.asarray(values, dtype=float) * scale)
    v = v[np.isfinite(v) & (v > 0)]
    if not len(v):
        return dec
    return int(min(6, max(dec, 1 - np.floor(np.log10(v.max())))))


def format_diff(name: str, x: float, *, signed: bool = True, unit: bool = True,
                decimals: int | None = None) -> str:
    """A difference of an outcome: '+1.8 pp', '−0.4 states', '+0.012'.

    Small differences get more decimals (see ``diff_decimals``) unless ``decimals`` is given.
    Exactly zero has no sign ('0.0 pp'); a tiny non-zero value keeps its sign ('+0.000').
    """
    if x is None or not np.isfinite(x):
        return "–"
    scale, u, _ = outcome_unit(name)
    dec = diff_decimals(name, x) if decimals is None else decimals
    v = x * scale
    text = f"{v:+.{dec}f}" if signed and v != 0 else f"{abs(v):.{dec}f}"
    return _minus(text) + (u if unit else "")


def format_ci(name: str, mean: float, lo: float, hi: float) -> tuple[str, str]:
    """A mean difference and its interval with the same decimals: ('+0.12 pp', '+0.03 to +0.24')."""
    dec = diff_decimals(name, mean, lo, hi)
    ci = (f"{format_diff(name, lo, unit=False, decimals=dec)} to "
          f"{format_diff(name, hi, unit=False, decimals=dec)}") if np.isfinite(lo) else "–"
    return format_diff(name, mean, decimals=dec), ci


def sentence_case(text: str) -> str:
    """The first letter upper-case, the rest untouched ('West GDP share' stays as it is)."""
    return text[:1].upper() + text[1:]
