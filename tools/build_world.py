"""Build the shipped world tables of blocsim from the shared source data.

The model must not read the source folder at run time. This script derives
four compact tables from it and writes them into the package:

* ``states.csv``: the 193 UN member states with their UN M49 region and
  sub-region (M49 intermediate regions for Sub-Saharan Africa and Latin
  America). The M49 classification and the English short names are encoded
  by hand in this file from public knowledge.
* ``borders.csv``: land borders between UN member states, hand-compiled in
  this file from public knowledge (CIA World Factbook "land boundaries").
* ``panel.csv``: one row per state and year 2000-2024 with the model's
  initial alignment (stable scale), the year-stretched alignment and the
  ideal-point scale, and the drivers (GDP, population, regime, military
  burden, trade shares, memberships, defence pacts, security indices), each
  with a flag saying whether the value was observed or imputed.
* ``drivers.csv``: one row per state and year 2000-2024 of the observed
  driver histories (arms imports by supplier, sanctions by sender, Belt and
  Road MoUs, Chinese finance, Western aid, US troops, coups, leaders, BRICS),
  derived by ``world_drivers.py`` (beside this script), which also splices the
  trade shares and builds the security indices and the stable scales.

Derivation of ``alignment``: the UNGA ``alignment_index`` (mean agreement
with China and Russia minus agreement with the USA) is used only where the
state cast at least 20 votes comparable with the USA's. Per year, ``m`` is
the median over those states, ``W`` the mean of USA, GBR and FRA and ``E``
the mean of CHN and RUS, all computed on ``x``, the state's mean index over
the observed years t-2..t (a trailing mean: it damps the year-to-year agenda
noise and never looks ahead). ``alignment = (x - m) / K`` clipped to
[-1, +1], with one constant K = mean over 2000-2014 of (E - W) / 2.
``alignment_stretched`` (the former scale) maps ``x >= m`` to
``(x - m) / (E - m)`` and ``x < m`` to ``(x - m) / (m - W)``.

Imputation: gaps are filled within each state by linear interpolation
between observed years, else by the nearest observed year. To respect the
held-out rule (fitting only on years <= 2014), values for 2000-2014 are
filled using observations from 2000-2014 only; 2015-2024 may use all years.
Remaining holes use the rules documented in ``model/data/README.md``
(Freedom House mapping for regime, world median for military burden,
sub-region median for trade, fixed public estimates listed there).

Only these source files are read: ``unga_alignment.csv``,
``unga_idealpoints_voeten_2000_2024.csv``, ``trade_shares_cow_2000_2014.csv``,
``trade_shares_imf_dots_2000_2020.csv``, ``country_year_panel_2000_2024.csv``,
``drivers/drivers_country_year_2000_2024.csv`` and ``memberships.csv``.

Usage:
    python tools/build_world.py [--source ../shared/data] [--out model/data]

The default paths are resolved from the repository root (the parent of
this script's folder).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import world_drivers as wd

YEARS = list(range(2000, 2025))
LAST_TRAIN_YEAR = 2014  # years <= this may be used for fitting
LAST_ATOP_YEAR = 2018  # ATOP 5.1 ends here
MIN_VOTES = 20  # minimum n_USA for a usable UNGA state-year
SMOOTH_YEARS = 3  # trailing window of the UNGA index (years t-2..t)
SIG_DIGITS = 5

ROOT = Path(__file__).resolve().parent.parent

# --------------------------------------------------------------------------
# Hand-encoded tables
# --------------------------------------------------------------------------

# UN M49: region -> sub-region (intermediate region where M49 has one for
# Sub-Saharan Africa and Latin America and the Caribbean) -> ISO3 codes.
M49 = {
    "Africa": {
        "Northern Africa": "DZA EGY LBY MAR SDN TUN",
        "Eastern Africa": "BDI COM DJI ERI ETH KEN MDG MWI MUS MOZ RWA SYC SOM "
                          "SSD UGA TZA ZMB ZWE",
        "Middle Africa": "AGO CMR CAF TCD COG COD GNQ GAB STP",
        "Southern Africa": "BWA SWZ LSO NAM ZAF",
        "Western Africa": "BEN BFA CPV CIV GMB GHA GIN GNB LBR MLI MRT NER NGA "
                          "SEN SLE TGO",
    },
    "Americas": {
        "Caribbean": "ATG BHS BRB CUB DMA DOM GRD HTI JAM KNA LCA VCT TTO",
        "Central America": "BLZ CRI SLV GTM HND MEX NIC PAN",
        "South America": "ARG BOL BRA CHL COL ECU GUY PRY PER SUR URY VEN",
        "Northern America": "CAN USA",
    },
    "Asia": {
        "Central Asia": "KAZ KGZ TJK TKM UZB",
        "Eastern Asia": "CHN JPN MNG PRK KOR",
        "South-eastern Asia": "BRN KHM IDN LAO MYS MMR PHL SGP THA TLS VNM",
        "Southern Asia": "AFG BGD BTN IND IRN MDV NPL PAK LKA",
        "Western Asia": "ARM AZE BHR CYP GEO IRQ ISR JOR KWT LBN OMN QAT SAU "
                        "SYR TUR ARE YEM",
    },
    "Europe": {
        "Eastern Europe": "BLR BGR CZE HUN POL MDA ROU RUS SVK UKR",
        "Northern Europe": "DNK EST FIN ISL IRL LVA LTU NOR SWE GBR",
        "Southern Europe": "ALB AND BIH HRV GRC ITA MLT MNE MKD PRT SMR SRB SVN "
                           "ESP",
        "Western Europe": "AUT BEL FRA DEU LIE LUX MCO NLD CHE",
    },
    "Oceania": {
        "Australia and New Zealand": "AUS NZL",
        "Melanesia": "FJI PNG SLB VUT",
        "Micronesia": "KIR MHL FSM NRU PLW",
        "Polynesia": "WSM TON TUV",
    },
}

NAMES = {
    "AFG": "Afghanistan", "AGO": "Angola", "ALB": "Albania", "AND": "Andorra",
    "ARE": "United Arab Emirates", "ARG": "Argentina", "ARM": "Armenia",
    "ATG": "Antigua and Barbuda", "AUS": "Australia", "AUT": "Austria",
    "AZE": "Azerbaijan", "BDI": "Burundi", "BEL": "Belgium", "BEN": "Benin",
    "BFA": "Burkina Faso", "BGD": "Bangladesh", "BGR": "Bulgaria",
    "BHR": "Bahrain", "BHS": "Bahamas", "BIH": "Bosnia and Herzegovina",
    "BLR": "Belarus", "BLZ": "Belize", "BOL": "Bolivia", "BRA": "Brazil",
    "BRB": "Barbados", "BRN": "Brunei", "BTN": "Bhutan", "BWA": "Botswana",
    "CAF": "Central African Republic", "CAN": "Canada", "CHE": "Switzerland",
    "CHL": "Chile", "CHN": "China", "CIV": "Cote d'Ivoire", "CMR": "Cameroon",
    "COD": "DR Congo", "COG": "Congo", "COL": "Colombia", "COM": "Comoros",
    "CPV": "Cabo Verde", "CRI": "Costa Rica", "CUB": "Cuba", "CYP": "Cyprus",
    "CZE": "Czechia", "DEU": "Germany", "DJI": "Djibouti", "DMA": "Dominica",
    "DNK": "Denmark", "DOM": "Dominican Republic", "DZA": "Algeria",
    "ECU": "Ecuador", "EGY": "Egypt", "ERI": "Eritrea", "ESP": "Spain",
    "EST": "Estonia", "ETH": "Ethiopia", "FIN": "Finland", "FJI": "Fiji",
    "FRA": "France", "FSM": "Micronesia", "GAB": "Gabon",
    "GBR": "United Kingdom", "GEO": "Georgia", "GHA": "Ghana", "GIN": "Guinea",
    "GMB": "Gambia", "GNB": "Guinea-Bissau", "GNQ": "Equatorial Guinea",
    "GRC": "Greece", "GRD": "Grenada", "GTM": "Guatemala", "GUY": "Guyana",
    "HND": "Honduras", "HRV": "Croatia", "HTI": "Haiti", "HUN": "Hungary",
    "IDN": "Indonesia", "IND": "India", "IRL": "Ireland", "IRN": "Iran",
    "IRQ": "Iraq", "ISL": "Iceland", "ISR": "Israel", "ITA": "Italy",
    "JAM": "Jamaica", "JOR": "Jordan", "JPN": "Japan", "KAZ": "Kazakhstan",
    "KEN": "Kenya", "KGZ": "Kyrgyzstan", "KHM": "Cambodia", "KIR": "Kiribati",
    "KNA": "Saint Kitts and Nevis", "KOR": "South Korea", "KWT": "Kuwait",
    "LAO": "Laos", "LBN": "Lebanon", "LBR": "Liberia", "LBY": "Libya",
    "LCA": "Saint Lucia", "LIE": "Liechtenstein", "LKA": "Sri Lanka",
    "LSO": "Lesotho", "LTU": "Lithuania", "LUX": "Luxembourg", "LVA": "Latvia",
    "MAR": "Morocco", "MCO": "Monaco", "MDA": "Moldova", "MDG": "Madagascar",
    "MDV": "Maldives", "MEX": "Mexico", "MHL": "Marshall Islands",
    "MKD": "North Macedonia", "MLI": "Mali", "MLT": "Malta", "MMR": "Myanmar",
    "MNE": "Montenegro", "MNG": "Mongolia", "MOZ": "Mozambique",
    "MRT": "Mauritania", "MUS": "Mauritius", "MWI": "Malawi", "MYS": "Malaysia",
    "NAM": "Namibia", "NER": "Niger", "NGA": "Nigeria", "NIC": "Nicaragua",
    "NLD": "Netherlands", "NOR": "Norway", "NPL": "Nepal", "NRU": "Nauru",
    "NZL": "New Zealand", "OMN": "Oman", "PAK": "Pakistan", "PAN": "Panama",
    "PER": "Peru", "PHL": "Philippines", "PLW": "Palau",
    "PNG": "Papua New Guinea", "POL": "Poland", "PRK": "North Korea",
    "PRT": "Portugal", "PRY": "Paraguay", "QAT": "Qatar", "ROU": "Romania",
    "RUS": "Russia", "RWA": "Rwanda", "SAU": "Saudi Arabia", "SDN": "Sudan",
    "SEN": "Senegal", "SGP": "Singapore", "SLB": "Solomon Islands",
    "SLE": "Sierra Leone", "SLV": "El Salvador", "SMR": "San Marino",
    "SOM": "Somalia", "SRB": "Serbia", "SSD": "South Sudan",
    "STP": "Sao Tome and Principe", "SUR": "Suriname", "SVK": "Slovakia",
    "SVN": "Slovenia", "SWE": "Sweden", "SWZ": "Eswatini", "SYC": "Seychelles",
    "SYR": "Syria", "TCD": "Chad", "TGO": "Togo", "THA": "Thailand",
    "TJK": "Tajikistan", "TKM": "Turkmenistan", "TLS": "Timor-Leste",
    "TON": "Tonga", "TTO": "Trinidad and Tobago", "TUN": "Tunisia",
    "TUR": "Turkey", "TUV": "Tuvalu", "TZA": "Tanzania", "UGA": "Uganda",
    "UKR": "Ukraine", "URY": "Uruguay", "USA": "United States",
    "UZB": "Uzbekistan", "VCT": "Saint Vincent and the Grenadines",
    "VEN": "Venezuela", "VNM": "Vietnam", "VUT": "Vanuatu", "WSM": "Samoa",
    "YEM": "Yemen", "ZAF": "South Africa", "ZMB": "Zambia", "ZWE": "Zimbabwe",
}

# Land borders between UN member states (CIA World Factbook "land
# boundaries"), listed once per state towards states later in this list or
# not yet listed; duplicates are removed when building. Borders through a
# non-member territory (Kosovo, Western Sahara, Palestine) are not included;
# borders of overseas territories are excluded, except French Guiana, an
# integral region of France (BRA-FRA, FRA-SUR). Lake boundaries that the
# Factbook counts as land boundaries (e.g. COD-TZA) are included.
BORDERS = {
    # Africa
    "DZA": "LBY MLI MRT MAR NER TUN",
    "EGY": "LBY SDN ISR",
    "LBY": "TCD NER SDN TUN",
    "MAR": "ESP",
    "SDN": "CAF TCD ERI ETH SSD",
    "SSD": "CAF COD ETH KEN UGA",
    "ETH": "DJI ERI KEN SOM",
    "ERI": "DJI",
    "DJI": "SOM",
    "SOM": "KEN",
    "KEN": "TZA UGA",
    "UGA": "COD RWA TZA",
    "RWA": "BDI COD TZA",
    "BDI": "COD TZA",
    "TZA": "COD MWI MOZ ZMB",
    "MWI": "MOZ ZMB",
    "MOZ": "ZAF SWZ ZMB ZWE",
    "ZMB": "AGO BWA COD NAM ZWE",
    "ZWE": "BWA ZAF",
    "AGO": "COG COD NAM",
    "CMR": "CAF TCD COG GNQ GAB NGA",
    "CAF": "TCD COD COG",
    "TCD": "NER NGA",
    "COG": "COD GAB",
    "GNQ": "GAB",
    "BWA": "NAM ZAF",
    "SWZ": "ZAF",
    "LSO": "ZAF",
    "NAM": "ZAF",
    "BEN": "BFA NER NGA TGO",
    "BFA": "CIV GHA MLI NER TGO",
    "CIV": "GHA GIN LBR MLI",
    "GMB": "SEN",
    "GHA": "TGO",
    "GIN": "GNB LBR MLI SEN SLE",
    "GNB": "SEN",
    "LBR": "SLE",
    "MLI": "MRT NER SEN",
    "MRT": "SEN",
    "NER": "NGA",
    # Americas
    "CAN": "USA",
    "USA": "MEX",
    "MEX": "BLZ GTM",
    "GTM": "BLZ SLV HND",
    "SLV": "HND",
    "HND": "NIC",
    "NIC": "CRI",
    "CRI": "PAN",
    "PAN": "COL",
    "COL": "BRA ECU PER VEN",
    "VEN": "BRA GUY",
    "GUY": "BRA SUR",
    "SUR": "BRA FRA",
    "ECU": "PER",
    "PER": "BOL BRA CHL",
    "BOL": "ARG BRA CHL PRY",
    "BRA": "ARG PRY URY FRA",
    "CHL": "ARG",
    "ARG": "PRY URY",
    "DOM": "HTI",
    # Asia
    "AFG": "CHN IRN PAK TJK TKM UZB",
    "PAK": "CHN IND IRN",
    "IND": "BGD BTN CHN MMR NPL",
    "BGD": "MMR",
    "BTN": "CHN",
    "NPL": "CHN",
    "IRN": "ARM AZE IRQ TUR TKM",
    "CHN": "KAZ PRK KGZ LAO MNG MMR RUS TJK VNM",
    "MNG": "RUS",
    "PRK": "KOR RUS",
    "KAZ": "KGZ RUS TKM UZB",
    "KGZ": "TJK UZB",
    "TJK": "UZB",
    "TKM": "UZB",
    "MMR": "LAO THA",
    "LAO": "KHM THA VNM",
    "THA": "KHM MYS",
    "KHM": "VNM",
    "MYS": "BRN IDN",
    "IDN": "PNG TLS",
    "TUR": "ARM AZE BGR GEO GRC IRQ SYR",
    "ARM": "AZE GEO",
    "AZE": "GEO RUS",
    "GEO": "RUS",
    "IRQ": "JOR KWT SAU SYR",
    "SYR": "ISR JOR LBN",
    "LBN": "ISR",
    "ISR": "JOR",
    "JOR": "SAU",
    "SAU": "KWT OMN QAT ARE YEM",
    "ARE": "OMN",
    "OMN": "YEM",
    # Europe
    "RUS": "BLR EST FIN LVA LTU NOR POL UKR",
    "BLR": "LVA LTU POL UKR",
    "UKR": "HUN MDA POL ROU SVK",
    "MDA": "ROU",
    "POL": "CZE DEU LTU SVK",
    "LTU": "LVA",
    "LVA": "EST",
    "FIN": "NOR SWE",
    "SWE": "NOR",
    "DNK": "DEU",
    "GBR": "IRL",
    "DEU": "AUT BEL CZE FRA LUX NLD CHE",
    "NLD": "BEL",
    "BEL": "FRA LUX",
    "LUX": "FRA",
    "FRA": "AND ITA MCO ESP CHE",
    "CHE": "AUT ITA LIE",
    "LIE": "AUT",
    "AUT": "CZE HUN ITA SVK SVN",
    "CZE": "SVK",
    "SVK": "HUN",
    "HUN": "HRV ROU SRB SVN",
    "ROU": "BGR SRB",
    "BGR": "GRC MKD SRB",
    "ITA": "SMR SVN",
    "AND": "ESP",
    "ESP": "PRT",
    "SVN": "HRV",
    "HRV": "BIH MNE SRB",
    "BIH": "MNE SRB",
    "SRB": "MKD MNE",
    "MNE": "ALB",
    "MKD": "ALB GRC",
    "ALB": "GRC",
}

# GDP for states with no figure in any year (current US$). Basis in README.
GDP_ESTIMATES = {
    # North Korea: Bank of Korea estimates of nominal GNI (about 19 trn won
    # in 2000, 30 trn won in 2010, 40 trn won in 2023) at market rates.
    "PRK": lambda year: 2e10 if year < 2010 else 3e10,
}

# Regime for states with neither V-Dem nor Freedom House (value, basis).
REGIME_ESTIMATES = {
    # Micronesia: rated "Free" by Freedom House in every edition; absent from
    # the source panel, so the fh_map value for Free is used.
    "FSM": 0.80,
}

FH_MAP = {"Free": 0.80, "Partly Free": 0.45, "Partially Free": 0.45,
          "Not Free": 0.15}

# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def round_sig(values: pd.Series, digits: int = SIG_DIGITS) -> pd.Series:
    """Round a float series to ``digits`` significant digits (NaN kept)."""
    x = values.to_numpy(dtype=float)
    out = np.full_like(x, np.nan)
    ok = np.isfinite(x) & (x != 0)
    mags = np.floor(np.log10(np.abs(x[ok]))).astype(int)
    decimals = digits - 1 - mags
    out[ok] = [round(v, int(d)) for v, d in zip(x[ok], decimals, strict=True)]
    out[np.isfinite(x) & (x == 0)] = 0.0
    return pd.Series(out, index=values.index)


def _fill_series(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Fill one state's year-indexed series: interpolate inside, else nearest.

    Returns the filled values and a flag series ('' for observed,
    'interpolated' or 'nearest').
    """
    obs = s.notna()
    inner = s.interpolate(method="index", limit_area="inside")
    full = inner.ffill().bfill()
    flag = pd.Series("", index=s.index, dtype=object)
    flag[~obs & inner.notna()] = "interpolated"
    flag[~obs & inner.isna() & full.notna()] = "nearest"
    return full, flag


def fill_within(wide: pd.DataFrame, held_out: bool = True):
    """Fill a state x year table within each state.

    With ``held_out`` the years <= LAST_TRAIN_YEAR are filled from those
    years only, and later years from all years.

    Returns (values, flags) wide tables; flags '' mark observed cells, NaN
    values remain where a state has no usable observation.
    """
    vals, flags = {}, {}
    for iso, row in wide.iterrows():
        full_v, full_f = _fill_series(row)
        if held_out:
            train = row[row.index <= LAST_TRAIN_YEAR]
            tv, tf = _fill_series(train)
            full_v = pd.concat([tv, full_v[full_v.index > LAST_TRAIN_YEAR]])
            full_f = pd.concat([tf, full_f[full_f.index > LAST_TRAIN_YEAR]])
        vals[iso], flags[iso] = full_v, full_f
    return (pd.DataFrame(vals).T.reindex(columns=wide.columns),
            pd.DataFrame(flags).T.reindex(columns=wide.columns))


# The pivots are shared with world_drivers.py (states x years tables <-> (iso3, year) series).
to_wide, to_long = wd.to_wide, wd.to_long


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Write a CSV atomically (temp name then os.replace)."""
    tmp = path.with_name(path.name + ".tmp")
    df.to_csv(tmp, index=False, lineterminator="\n")
    os.replace(tmp, path)


# --------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------


def build_states() -> pd.DataFrame:
    """One row per UN member state with M49 region and sub-region."""
    rows = []
    for region, subs in M49.items():
        for sub, codes in subs.items():
            for iso in codes.split():
                rows.append((iso, NAMES[iso], region, sub))
    states = pd.DataFrame(rows, columns=["iso3", "name", "region", "subregion"])
    assert states.iso3.is_unique and len(states) == 193, len(states)
    assert set(states.iso3) == set(NAMES)
    return states.sort_values("iso3").reset_index(drop=True)


def build_borders(isos: set[str]) -> pd.DataFrame:
    """Unique sorted land-border pairs between UN member states."""
    pairs = set()
    for a, others in BORDERS.items():
        for b in others.split():
            assert a in isos and b in isos and a != b, (a, b)
            pairs.add(tuple(sorted((a, b))))
    out = pd.DataFrame(sorted(pairs), columns=["iso_a", "iso_b"])
    return out


def build_alignment(unga: pd.DataFrame, isos: list[str]) -> pd.DataFrame:
    """Stable and year-stretched alignment of a trailing 3-year mean index, with flags."""
    u = unga[unga.iso3.isin(isos)].copy()
    ok = u[(u.n_USA >= MIN_VOTES) & u.alignment_index.notna()]
    raw = ok.pivot(index="iso3", columns="year", values="alignment_index")
    # Trailing mean over the observed years t-2..t damps agenda noise without using later years.
    smooth = raw.T.rolling(SMOOTH_YEARS, min_periods=1).mean().T.where(raw.notna())
    stats = pd.DataFrame({"m": smooth.median(),
                          "W": smooth.reindex(["USA", "GBR", "FRA"]).mean(),
                          "E": smooth.reindex(["CHN", "RUS"]).mean()})
    assert stats.notna().all().all(), stats
    up = (smooth - stats.m) / (stats.E - stats.m)
    down = (smooth - stats.m) / (stats.m - stats.W)
    stretched = up.where(smooth >= stats.m, down).clip(-1.0, 1.0)
    stable, k = wd.stable_alignment(smooth, stats)
    stats.attrs["K"] = k
    parts = []
    for wide, name in [(stable, "alignment"), (stretched, "alignment_stretched")]:
        wide = wide.reindex(index=isos, columns=YEARS).astype(float)
        vals, flags = fill_within(wide)
        parts.append(to_long(vals, name))
        if name == "alignment":
            parts.append(to_long(flags.replace("", "unga"), "alignment_src"))
    out = pd.concat(parts, axis=1)
    raw_cols = u.set_index(["iso3", "year"])[["alignment_index", "n_USA"]]
    raw_cols.columns = ["unga_index", "unga_votes"]
    return out.join(raw_cols, how="left"), stats


def build_gdp(panel: pd.DataFrame, isos: list[str]) -> pd.DataFrame:
    """GDP current US$: WB, else WDI via V-Dem, else within-state fill."""
    wb = to_wide(panel, "gdp_current_usd_wb", isos)
    wdi = to_wide(panel, "gdp_current_usd_wdi_via_vdem3", isos)
    base = wb.where(wb.notna(), wdi)
    src = pd.DataFrame(np.where(wb.notna(), "wb",
                                np.where(wdi.notna(), "wdi_vdem", "")),
                       index=wb.index, columns=wb.columns)
    vals, flags = fill_within(base)
    src = src.where(src != "", flags)
    for iso, fn in GDP_ESTIMATES.items():
        assert vals.loc[iso].isna().all(), iso
        vals.loc[iso] = [fn(y) for y in vals.columns]
        src.loc[iso] = "estimate"
    return pd.concat([to_long(vals, "gdp_usd"), to_long(src, "gdp_src")], axis=1)


def build_regime(panel: pd.DataFrame, isos: list[str]) -> pd.DataFrame:
    """V-Dem polyarchy; FH status map for states without V-Dem."""
    vd = to_wide(panel, "vdem_polyarchy_v16", isos)
    vals, flags = fill_within(vd)
    flags = flags.replace("", "vdem")
    fh = panel.assign(fh=panel.fh_status.map(FH_MAP))
    fhv, _ = fill_within(to_wide(fh, "fh", isos))
    none = vals.isna().all(axis=1)
    use_fh = none & fhv.notna().all(axis=1)
    vals.loc[use_fh] = fhv.loc[use_fh]
    flags.loc[use_fh] = "fh_map"
    rest = none & ~use_fh
    for iso in rest[rest].index:
        vals.loc[iso] = REGIME_ESTIMATES.get(iso, 0.5)
        flags.loc[iso] = "estimate"
    return pd.concat([to_long(vals, "regime"), to_long(flags, "regime_src")], axis=1)


def build_milex(panel: pd.DataFrame, isos: list[str]) -> pd.DataFrame:
    """SIPRI military burden (fraction of GDP), filled; else world median."""
    mx = to_wide(panel, "milex_share_gdp_sipri", isos)
    assert mx.stack().median() < 0.1, "SIPRI share looks like percent"
    vals, flags = fill_within(mx)
    flags = flags.replace("", "sipri")
    med = mx.median(axis=0)  # world median of observed values, per year
    for y in vals.columns:
        hole = vals[y].isna()
        vals.loc[hole, y] = med[y]
        flags.loc[hole, y] = "median"
    return pd.concat([to_long(vals, "milex_share_gdp"),
                      to_long(flags, "milex_src")], axis=1)


def build_trade(cow: pd.DataFrame, dots: pd.DataFrame, states: pd.DataFrame) -> pd.DataFrame:
    """Trade shares with CHN+RUS and USA+EU: COW to 2014, level-adjusted DOTS to 2020, carried."""
    return wd.splice_trade(cow, dots, states, fill_within)


def check_memberships(panel: pd.DataFrame, mem: pd.DataFrame) -> int:
    """Recompute 31 December statuses from memberships.csv; count mismatches."""
    mem = mem.assign(start=pd.to_datetime(mem.start_date),
                     end=pd.to_datetime(mem.end_date))
    bad = 0
    for org in ["SCO", "NATO", "EU", "CSTO", "BRICS"]:
        col = f"{org.lower()}_status"
        for y in YEARS:
            d = pd.Timestamp(f"{y}-12-31")
            ev = mem[(mem.org == org) & (mem.start <= d)
                     & (mem.end.isna() | (mem.end > d))]
            exp = ev.set_index("iso3").status
            got = panel[panel.year == y].set_index("iso3")[col]
            got = got[got != "none"]
            bad += len(set(exp.items()) ^ set(got.items()))
    return bad


def build_security(panel: pd.DataFrame, isos: list[str]) -> pd.DataFrame:
    """Memberships and ATOP pacts (2018 carried); the indices come from ``wd.security_indices``."""
    p = panel.set_index(["iso3", "year"]).reindex(
        pd.MultiIndex.from_product([isos, YEARS], names=["iso3", "year"]))
    out = pd.DataFrame(index=p.index)
    out["sco_status"] = p.sco_status
    for org in ["nato", "eu", "csto", "brics"]:
        out[org] = (p[f"{org}_status"] == "member").astype(int)
    for c, who in [("us_pact", "USA"), ("ru_pact", "RUS"), ("cn_pact", "CHN")]:
        w = to_wide(panel, f"atop_defense_{who}", isos)
        assert w.loc[:, :LAST_ATOP_YEAR].notna().all().all(), c
        for y in YEARS:
            if y > LAST_ATOP_YEAR:
                w[y] = w[LAST_ATOP_YEAR]
        w.loc[who] = 1.0
        out[c] = to_long(w, c).astype(int)
    return out


# --------------------------------------------------------------------------
# Assembly, checks and report
# --------------------------------------------------------------------------

PANEL_COLS = [
    "iso3", "year", "alignment", "alignment_src", "alignment_stretched", "ideal_point",
    "alignment_ideal", "alignment_ideal_src", "unga_index", "unga_votes",
    "gdp_usd", "gdp_src", "population", "regime", "regime_src",
    "milex_share_gdp", "milex_src", "trade_sco", "trade_west", "trade_src",
    "trade_year", "sco_status", "sco_since", "nato", "eu", "csto", "brics", "us_pact",
    "ru_pact", "cn_pact", "sec_west", "sec_sco",
]
NUMERIC_MODEL_COLS = ["alignment", "gdp_usd", "population", "regime",
                      "milex_share_gdp", "trade_sco", "trade_west", "sec_sco",
                      "sec_west"]
FLOAT_COLS = ["alignment", "alignment_stretched", "ideal_point", "alignment_ideal",
              "unga_index", "gdp_usd", "regime",
              "milex_share_gdp", "trade_sco", "trade_west", "sec_west",
              "sec_sco"]


def sco_since(panel: pd.DataFrame, mem: pd.DataFrame) -> pd.Series:
    """Year the state's SCO status of that year began (memberships.csv), blank for none."""
    sco = mem[mem.org == "SCO"].assign(start=lambda m: m.start_date.str[:4].astype(int))
    since = pd.Series(pd.NA, index=panel.index, dtype="Int64")
    for r in sco.itertuples():
        end = int(r.end_date[:4]) if isinstance(r.end_date, str) and r.end_date else 9999
        held = ((panel.iso3 == r.iso3) & (panel.sco_status == r.status)
                & (panel.year >= r.start) & (panel.year <= end))
        since[held] = r.start
    assert since[panel.sco_status != "none"].notna().all(), "an SCO status without a start"
    return since


def build_panel(src: Path, states: pd.DataFrame):
    """Assemble the state-year panel and the drivers table from the source files."""
    isos = list(states.iso3)
    panel = pd.read_csv(src / "country_year_panel_2000_2024.csv")
    panel = panel[panel.iso3.isin(isos) & panel.year.isin(YEARS)]
    unga = pd.read_csv(src / "unga_alignment.csv")
    cow = pd.read_csv(src / "trade_shares_cow_2000_2014.csv")
    dots = pd.read_csv(src / "trade_shares_imf_dots_2000_2020.csv")
    dots = dots[dots.iso3.isin(isos)]  # drops non-member reporters (Aruba, Curacao, ...)
    ideal = pd.read_csv(src / "unga_idealpoints_voeten_2000_2024.csv")
    mem = pd.read_csv(src / "memberships.csv")
    n_bad = check_memberships(panel, mem)
    align, stats = build_alignment(unga, isos)
    ideal_cols, stats.attrs["ideal_map"] = wd.ideal_scale(ideal, isos, fill_within)
    stats.attrs["trade_cmp"] = wd.compare_trade(cow, dots)
    sec = build_security(panel, isos)
    drivers = wd.build_drivers(src, isos, sec.brics, fill_within)
    sec["sec_sco"], sec["sec_west"] = wd.security_indices(sec, drivers)
    pop = panel.set_index(["iso3", "year"]).population_wb.rename("population")
    parts = [align, ideal_cols, build_gdp(panel, isos), pop, build_regime(panel, isos),
             build_milex(panel, isos), build_trade(cow, dots, states), sec]
    out = pd.concat(parts, axis=1).reset_index()
    out = out.sort_values(["iso3", "year"]).reset_index(drop=True)
    out["sco_since"] = sco_since(out, mem)
    out["unga_votes"] = out.unga_votes.astype("Int64")
    out["population"] = out.population.astype("int64")
    for c in FLOAT_COLS:
        out[c] = round_sig(out[c])
    over = out.trade_sco + out.trade_west > 1  # only by rounding: shares were scaled to sum <= 1
    out.loc[over, "trade_west"] = np.floor((1 - out.trade_sco[over]) * 1e5) / 1e5
    for c in wd.DRIVER_FLOATS:
        drivers[c] = round_sig(drivers[c])
    return out[PANEL_COLS], drivers, stats, n_bad


def report(panel: pd.DataFrame, stats: pd.DataFrame, borders: pd.DataFrame,
           n_bad: int) -> None:
    """Print checks, imputation counts and sanity figures."""
    assert len(panel) == 193 * len(YEARS) == 4825, len(panel)
    nan = panel[NUMERIC_MODEL_COLS].isna().sum()
    assert nan.sum() == 0, nan[nan > 0]
    assert panel.alignment.between(-1, 1).all()
    assert (panel.trade_sco + panel.trade_west <= 1 + 1e-9).all()
    print(f"panel rows: {len(panel)}; NaN in model columns: {int(nan.sum())}")
    print(f"borders: {len(borders)} pairs; membership mismatches vs "
          f"memberships.csv: {n_bad}")
    print("\nimputation flags (cells):")
    for c in ["alignment_src", "gdp_src", "regime_src", "milex_src",
              "trade_src"]:
        print(f"  {c}: {panel[c].value_counts().to_dict()}")
    carried = (panel.trade_year != panel.year).sum()
    print(f"  trade_year != year: {carried} cells "
          f"({(panel.trade_src == 'carried').sum()} carried after {wd.LAST_DOTS_YEAR})")
    for c, v in [("regime_src", "fh_map"), ("regime_src", "estimate"),
                 ("gdp_src", "estimate"), ("trade_src", "subregion_median")]:
        print(f"  states with {c}={v}: "
              f"{sorted(panel[panel[c] == v].iso3.unique())}")
    never = panel.groupby("iso3").milex_src.agg(lambda s: (s == "median").all())
    print(f"  states with milex_src=median in every year: "
          f"{sorted(never[never].index)}")
    print("\nyear scaling (m = median index, W = P3 mean, E = CHN/RUS mean):")
    print(stats.round(3).loc[[2000, 2007, 2014, 2019, 2024]].to_string())
    show = ["USA", "GBR", "DEU", "JPN", "TUR", "IND", "BRA", "KAZ", "PAK",
            "IRN", "CHN", "RUS", "SAU", "EGY", "IDN"]
    al = panel.pivot(index="iso3", columns="year", values="alignment")
    print("\nalignment:")
    print(al.loc[show, [2000, 2014, 2024]].round(3).T.to_string())
    step = al.diff(axis=1).abs()
    prev = al.shift(axis=1)
    print(f"median |year-on-year change|: {step.stack().median():.3f} "
          f"(states above 0: {step[prev > 0].stack().median():.3f}, "
          f"below 0: {step[prev < 0].stack().median():.3f}); "
          f"cross-state s.d. {al.std().mean():.3f}")
    print(f"states clipped at +1 per year: {(al >= 1).sum().to_dict()}")
    for y in [2014, 2024]:
        a = al[y]
        print(f"{y}: alignment > 0.25: {(a > 0.25).sum()}, "
              f"< -0.25: {(a < -0.25).sum()}")
    for y in [2000, 2001, 2017, 2024]:
        n = ((panel.year == y) & (panel.sco_status == "member")).sum()
        print(f"SCO members {y}: {n}")
    g = panel[panel.year == 2024].gdp_usd.sum()
    print(f"world GDP 2024 (sum of 193 states): {g / 1e12:.2f} trillion US$")


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options; defaults resolved from the repository root."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, default=ROOT / "../shared/data")
    ap.add_argument("--out", type=Path, default=ROOT / "model/data")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    """Build and write states.csv, borders.csv, panel.csv and drivers.csv."""
    args = parse_args(argv)
    src, out = args.source.resolve(), args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    states = build_states()
    borders = build_borders(set(states.iso3))
    panel, drivers, stats, n_bad = build_panel(src, states)
    write_csv(states, out / "states.csv")
    write_csv(borders, out / "borders.csv")
    write_csv(panel, out / "panel.csv")
    write_csv(drivers, out / "drivers.csv")
    report(panel, stats, borders, n_bad)
    wd.report(panel, drivers, stats)
    print(f"\nwrote {out}/states.csv, borders.csv, panel.csv, drivers.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
