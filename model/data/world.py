"""The world: real states as they stood in a given year, their groups and their relations.

Reads the tables shipped in ``model/data`` (built from public sources by
``tools/build_world.py``; every column is documented in ``model/data/README.md``) or a user's CSV
with the same columns. Nothing is downloaded. A ``World`` is an immutable snapshot of one year:
arrays over states in a fixed order (sorted by ISO3 code), plus a row-normalised sparse matrix of
relations that peer influence flows through. The built-in tables are read with the ``csv``
module (pandas is imported only for a user's world CSV, so checking a scenario stays light).
Imports base only (and numpy, scipy; pandas lazily).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..base.errors import ScenarioError
from ..base.files import read_bounded
from .relations import CLIQUE_CAP, Relations

if TYPE_CHECKING:
    import pandas as pd

DATA = Path(__file__).parent
MAX_STATES = 100_000  # a world's states in one year: the largest size the scale benchmark runs
MAX_WORLD_BYTES = 32 << 20  # a user's world CSV: 32 MiB (the built-in panel, all years, is 0.7 MB)

#: Columns a world CSV must have (one row per state; a ``year`` column selects the start year).
#: SCO statuses in order of closeness; the integer codes are stored in outputs.
SCO_STATUSES = ("none", "dialogue_partner", "observer", "member")

REQUIRED_COLUMNS = (
    "iso3", "name", "region", "subregion", "alignment", "gdp_usd", "population", "regime",
    "trade_sco", "trade_west", "sec_sco", "sec_west", "sco_status", "nato", "eu", "csto", "brics",
)

#: Fixed groups, by membership that does not depend on the year (sources in docs/model.md).
STATIC_GROUPS: dict[str, tuple[str, ...]] = {
    # G20 members that are states (the EU and the African Union are members too, not states).
    "g20": ("ARG", "AUS", "BRA", "CAN", "CHN", "DEU", "FRA", "GBR", "IDN", "IND", "ITA", "JPN",
            "KOR", "MEX", "RUS", "SAU", "TUR", "USA", "ZAF"),
    # ASEAN's ten members (Timor-Leste joined in 2025, after the data ends).
    "asean": ("BRN", "IDN", "KHM", "LAO", "MMR", "MYS", "PHL", "SGP", "THA", "VNM"),
    # Gulf Cooperation Council.
    "gcc": ("ARE", "BHR", "KWT", "OMN", "QAT", "SAU"),
    # 'Global swing states': Kliman and Fontaine (2012, GMF/CNAS) named BRA, IND, IDN, TUR; the
    # rest are the middle powers most often added in recent commentary (hedgers between blocs).
    "swing_states": ("BRA", "IND", "IDN", "TUR", "SAU", "ARE", "ZAF", "EGY", "NGA", "MEX",
                     "KAZ", "VNM", "THA", "MYS", "ARG", "PAK"),
    # Western powers whose sanctions and programmes the 'West' bloc stands for.
    "g7": ("CAN", "DEU", "FRA", "GBR", "ITA", "JPN", "USA"),
}

#: Network weights: a land border, a shared subregion, a shared alliance, a trade tie.
BORDER_WEIGHT, SUBREGION_WEIGHT, ALLIANCE_WEIGHT, TRADE_WEIGHT = 1.0, 0.2, 0.5, 2.0


def slug(text: str) -> str:
    """Group name from a region name: 'South-eastern Asia' -> 'south_eastern_asia'."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


@dataclass(frozen=True, eq=False)
class World:
    """One year's snapshot of every state, as arrays in a fixed order.

    Shared between models and cached per (world, year): its arrays are read-only, and the group
    masks and relations matrix must be treated so too. A world CSV edited during a session is
    read again only in a new process. ``relations`` may be given as a ``functools.partial`` that
    builds them (``load_world`` does): it is called on first use, so checking a scenario, which needs the
    states and groups only, never builds them (nor imports scipy).
    """

    year: int
    iso3: np.ndarray
    name: np.ndarray
    region: np.ndarray
    subregion: np.ndarray
    alignment: np.ndarray
    gdp_usd: np.ndarray
    population: np.ndarray
    governance: np.ndarray
    e_sco: np.ndarray
    e_west: np.ndarray
    s_sco: np.ndarray
    s_west: np.ndarray
    sco_status: np.ndarray
    nato: np.ndarray
    eu: np.ndarray
    csto: np.ndarray
    brics: np.ndarray
    relations: Relations
    source: str = "builtin"
    index: dict[str, int] = field(default_factory=dict)
    #: each state's shock scale relative to the pooled one (None: all 1), estimated from its own
    #: yearly changes up to the world's year (``volatility.state_shock_scale``); the model uses
    #: it only with ``shock_heterogeneity > 0``
    shock_scale: np.ndarray | None = None

    @property
    def n(self) -> int:
        """Number of states."""
        return len(self.iso3)

    @cached_property
    def sco_region(self) -> np.ndarray:
        """Where a state may seek SCO status: subregions with SCO ties (or China, Russia) this year.

        A subregion counts if a state in it holds any SCO status in this world's year, or if
        China or Russia lies in it (the founders, for years before 2001). Read from this year's
        statuses only, so a run that starts in year t knows nothing of the SCO's later reach
        (a 2014 world does not know of Egypt's or Cambodia's later ties).
        """
        anchors = (self.sco_status > 0) | np.isin(self.iso3, ("CHN", "RUS"))
        mask = np.isin(self.subregion, np.unique(self.subregion[anchors]))
        mask.setflags(write=False)
        return mask

    @cached_property
    def _groups(self) -> dict[str, np.ndarray]:
        return self._make_groups()

    def groups(self) -> dict[str, np.ndarray]:
        """Every named group as a boolean mask: regions, subregions, blocs of the year, fixed lists."""
        return dict(self._groups)

    def _make_groups(self) -> dict[str, np.ndarray]:
        g: dict[str, np.ndarray] = {}
        for values in (self.region, self.subregion):
            for v in np.unique(values):
                g[slug(v)] = values == v
        for code, status in enumerate(SCO_STATUSES[1:], start=1):
            g[f"sco_{status}s"] = self.sco_status == code
        g["sco_all"] = self.sco_status > 0
        for org in ("nato", "eu", "csto", "brics"):
            g[org] = getattr(self, org).astype(bool)
        for key, codes in STATIC_GROUPS.items():
            g[key] = np.isin(self.iso3, codes)
        g["world"] = np.ones(self.n, dtype=bool)
        return g

    def mask(self, names: list[str] | tuple[str, ...]) -> np.ndarray:
        """Boolean mask of the states named by ISO3 codes or group names; KeyError on unknowns."""
        groups = self._groups
        out = np.zeros(self.n, dtype=bool)
        for nm in names:
            if nm in self.index:
                out[self.index[nm]] = True
            elif nm in groups:
                out |= groups[nm]
            else:
                raise KeyError(nm)
        return out


def _get_relations(self: World) -> Relations:
    rel = self.__dict__["_relations"]
    if isinstance(rel, partial):  # a builder: called once, on first use
        rel = rel()
        self.__dict__["_relations"] = rel
    return rel


def _set_relations(self: World, value) -> None:  # only __init__ gets here: World is frozen
    self.__dict__["_relations"] = value


World.relations = property(_get_relations, _set_relations,  # type: ignore[assignment]
                           doc="The relations operator (``Relations``), built on first use.")


# --- loading ------------------------------------------------------------------------------------

#: Columns of a world table, name -> one value per state (strings, or numbers as floats).
Columns = dict[str, list]


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def _number(text: str) -> float:
    return float(text) if text != "" else float("nan")  # an empty cell is missing, as pandas reads it


@lru_cache(maxsize=1)
def _builtin_columns() -> tuple[dict[str, tuple[str, str, str]], dict[int, list[str]], list[str],
                                tuple[np.ndarray, np.ndarray]]:
    """The shipped tables, read once: states by code, panel lines by year, the panel's header, borders.

    A year's panel rows are kept as their CSV lines and split when that year's world is made
    (``_builtin_snapshot``): held split, the whole panel was ~130,000 strings, about 10 MiB kept
    for the life of every process that loaded one world.
    """
    _, states = _read_csv(DATA / "states.csv")
    with open(DATA / "panel.csv", newline="", encoding="utf-8") as f:
        lines = f.read().splitlines()
    header = next(csv.reader(lines[:1]))
    by_year: dict[int, list[str]] = {}
    year = header.index("year")
    for line, row in zip(lines[1:], csv.reader(lines[1:]), strict=True):
        by_year.setdefault(int(row[year]), []).append(line)
    _, borders = _read_csv(DATA / "borders.csv")
    pairs = (np.array([b[0] for b in borders], dtype=str), np.array([b[1] for b in borders], dtype=str))
    return {r[0]: (r[1], r[2], r[3]) for r in states}, by_year, header, pairs


def _builtin_tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The shipped tables as pandas frames (for tests and tools; loading a world does not use them)."""
    import pandas as pd

    states = pd.read_csv(DATA / "states.csv", keep_default_na=False)
    panel = pd.read_csv(DATA / "panel.csv", keep_default_na=False, na_values=[""])
    borders = pd.read_csv(DATA / "borders.csv", keep_default_na=False)
    return states, panel, borders


def builtin_years() -> tuple[int, int]:
    """First and last year of the built-in panel."""
    years = _builtin_columns()[1]
    return min(years), max(years)


#: Columns of the built-in world that are text; every other required column is a number.
TEXT_COLUMNS = ("iso3", "name", "region", "subregion", "sco_status")


def _builtin_snapshot(year: int) -> Columns:
    """The built-in states of ``year``, sorted by code: the required columns as lists."""
    states, by_year, header, _ = _builtin_columns()
    rows = sorted((r for r in csv.reader(by_year.get(year, ())) if r[0] in states), key=lambda r: r[0])
    if not rows:
        lo, hi = builtin_years()
        raise ScenarioError(f"no built-in data for {year}; the data covers {lo}..{hi}",
                            path="start_year")
    cols: Columns = {"iso3": [r[0] for r in rows]}
    for k, name in enumerate(("name", "region", "subregion")):
        cols[name] = [states[r[0]][k] for r in rows]
    for name in REQUIRED_COLUMNS[4:]:
        j = header.index(name)
        cols[name] = [r[j] if name in TEXT_COLUMNS else _number(r[j]) for r in rows]
    return cols


def _user_snapshot(world: str, year: int, base_dir: Path | None) -> tuple[Columns, tuple, str]:
    """A user's world CSV for ``year``, checked and sorted by code: columns, borders, source."""
    import pandas as pd

    path = Path(world)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.exists():
        raise ScenarioError(f"world file not found: {path}", path="world")
    try:
        data = read_bounded(path, MAX_WORLD_BYTES, what="world CSV")
    except ScenarioError as exc:  # a folder, a device, too large: point at the scenario's line
        raise ScenarioError(f"world file {path}: {exc.detail}", path="world") from None
    try:
        table = pd.read_csv(io.BytesIO(data), keep_default_na=False, na_values=[""])
    except (OSError, ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot read world CSV {path}: {exc}", path="world") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise ScenarioError(f"world CSV {path} lacks columns: {', '.join(missing)}", path="world")
    if "year" in table.columns:
        table = table[table["year"] == year]
        if table.empty:
            raise ScenarioError(f"world CSV {path} has no rows for start year {year}", path="world")
    if len(table) > MAX_STATES:  # a model of more states needs more memory than a run can check
        raise ScenarioError(f"world CSV {path} has {len(table):,} states in {year}; a world may "
                            f"have at most {MAX_STATES:,}", path="world")
    _check_table(table, path)
    table = table.sort_values("iso3").reset_index(drop=True)
    borders = None
    if "borders" in table.columns:  # a custom world's own borders replace the built-in ones
        pairs = _table_borders(table)
        borders = (pairs["iso_a"].to_numpy(dtype=str), pairs["iso_b"].to_numpy(dtype=str))
    return {c: table[c].to_numpy() for c in REQUIRED_COLUMNS}, borders, str(path)


def _check_table(table: pd.DataFrame, path: Path) -> None:
    """Values of a user's world CSV must be well-formed; name the first bad row and column."""
    import pandas as pd

    def bad(col: str, i: int, why: str) -> ScenarioError:
        return ScenarioError(f"world CSV {path}, row {table.index[i] + 2}, column {col}: {why}",
                             path="world")

    if table["iso3"].duplicated().any():
        i = int(np.flatnonzero(table["iso3"].duplicated().to_numpy())[0])
        raise bad("iso3", i, f"duplicate code {table['iso3'].iloc[i]!r}")
    bounds = {"alignment": (-1, 1), "regime": (0, 1), "trade_sco": (0, 1), "trade_west": (0, 1),
              "sec_sco": (0, 1), "sec_west": (0, 1), "gdp_usd": (0, np.inf),
              "population": (0, np.inf)}
    for col, (lo, hi) in bounds.items():
        vals = pd.to_numeric(table[col], errors="coerce").to_numpy(dtype=float)
        wrong = ~((vals >= lo) & (vals <= hi))
        if wrong.any():
            i = int(np.flatnonzero(wrong)[0])
            raise bad(col, i, f"'{table[col].iloc[i]}' is not a number in [{lo}, {hi}]")
    for col in ("nato", "eu", "csto", "brics"):
        flags = pd.to_numeric(table[col], errors="coerce").to_numpy(dtype=float)
        wrong = ~np.isin(flags, (0.0, 1.0))
        if wrong.any():
            i = int(np.flatnonzero(wrong)[0])
            raise bad(col, i, f"'{table[col].iloc[i]}' is not 0 or 1 (member that year)")
    status_ok = table["sco_status"].isin(SCO_STATUSES).to_numpy()
    if not status_ok.all():
        i = int(np.flatnonzero(~status_ok)[0])
        raise bad("sco_status", i, f"{table['sco_status'].iloc[i]!r}; one of {', '.join(SCO_STATUSES)}")
    if "borders" in table.columns:
        pairs = _border_pairs(table)
        unknown = ~np.isin(pairs["iso_b"].to_numpy(dtype=str), table["iso3"].to_numpy(dtype=str))
        if unknown.any():
            i = int(pairs["row"].to_numpy()[np.flatnonzero(unknown)[0]])
            raise bad("borders", i, f"{pairs['iso_b'].iloc[np.flatnonzero(unknown)[0]]!r} "
                      "is not a state of this world")


def _border_pairs(table: pd.DataFrame) -> pd.DataFrame:
    """Land borders from an optional ``borders`` column: neighbours' codes separated by ';'.

    One row per listed neighbour: ``iso_a`` (the row's state), ``iso_b`` (the neighbour) and
    ``row``, the position in ``table``. A border listed by either side counts for both.
    """
    import pandas as pd

    cells = pd.Series(table["borders"].fillna("").astype(str).to_numpy())
    codes = cells.str.split(";").explode().str.strip()
    codes = codes[codes.notna() & (codes != "")]
    rows = codes.index.to_numpy()
    return pd.DataFrame({"iso_a": table["iso3"].astype(str).to_numpy()[rows],
                         "iso_b": codes.to_numpy(dtype=str), "row": rows})


def _table_borders(table: pd.DataFrame) -> pd.DataFrame:
    """A world table's ``borders`` column as pairs iso_a < iso_b, each once (as borders.csv)."""
    import pandas as pd

    pairs = _border_pairs(table)
    a, b = pairs["iso_a"].to_numpy(dtype=str), pairs["iso_b"].to_numpy(dtype=str)
    borders = pd.DataFrame({"iso_a": np.where(a < b, a, b), "iso_b": np.where(a < b, b, a)})
    return borders[a != b].drop_duplicates(ignore_index=True)


def _builtin_shock_scale(year: int, iso3: np.ndarray) -> np.ndarray:
    """Each state's shock scale from the built-in stable scale's changes up to ``year``.

    ``volatility.state_shock_scale`` over the measured years; no later year is read.
    """
    from .volatility import MEASURED, state_shock_scale

    _, by_year, header, _ = _builtin_columns()
    j, (src, measured) = header.index("alignment"), MEASURED["alignment"]
    s = header.index(src)
    years = sorted(y for y in by_year if y <= year)
    pos = {c: i for i, c in enumerate(iso3)}
    x = np.full((len(years), len(iso3)), np.nan)
    obs = np.zeros(x.shape, dtype=bool)
    for k, y in enumerate(years):
        for r in csv.reader(by_year[y]):  # a year's panel rows are kept as CSV lines
            i = pos.get(r[0])
            if i is not None:
                x[k, i], obs[k, i] = _number(r[j]), r[s] == measured
    return state_shock_scale(x, obs)


@lru_cache(maxsize=64)
def _load(world: str, year: int, base_dir: str | None) -> World:
    if world == "builtin":
        cols, borders, source = _builtin_snapshot(year), _builtin_columns()[3], "builtin"
    else:
        cols, borders, source = _user_snapshot(world, year, Path(base_dir) if base_dir else None)
        borders = borders or _builtin_columns()[3]
    iso3 = np.asarray(cols["iso3"], dtype=str)
    f = lambda c: np.asarray(cols[c], dtype=float)  # noqa: E731
    e_sco, e_west = f("trade_sco"), f("trade_west")
    total = e_sco + e_west
    scale = np.where(total > 1, 1 / np.maximum(total, 1e-12), 1.0)
    status = np.array([SCO_STATUSES.index(s) for s in cols["sco_status"]], dtype=np.int8)
    text = lambda c: np.asarray(cols[c], dtype=str)  # noqa: E731
    arrays = dict(
        iso3=iso3, name=text("name"), region=text("region"), subregion=text("subregion"),
        alignment=f("alignment"), gdp_usd=f("gdp_usd"), population=f("population"),
        governance=f("regime"), e_sco=e_sco * scale, e_west=e_west * scale, s_sco=f("sec_sco"),
        s_west=f("sec_west"), sco_status=status, nato=f("nato") > 0, eu=f("eu") > 0,
        csto=f("csto") > 0, brics=f("brics") > 0)
    for a in arrays.values():
        a.setflags(write=False)
    relations = partial(build_relations, arrays, {"iso_a": borders[0], "iso_b": borders[1]})
    # a user's CSV holds one year, no history: its shocks stay pooled
    shock_scale = _builtin_shock_scale(year, iso3) if world == "builtin" else None
    if shock_scale is not None:
        shock_scale.setflags(write=False)
    return World(year=year, relations=relations, source=source,
                 index={c: i for i, c in enumerate(iso3)}, shock_scale=shock_scale, **arrays)


def load_world(world: str = "builtin", year: int = 2024, base_dir: Path | str | None = None) -> World:
    """The world of ``year``: built-in or from a CSV (relative paths resolved from ``base_dir``)."""
    return _load(world, int(year), str(base_dir) if base_dir else None)


# --- relations ------------------------------------------------------------------------------------

def build_relations(a: dict[str, np.ndarray], borders,
                    clique_cap: int | None = CLIQUE_CAP) -> Relations:
    """Row-normalised influence matrix: borders, subregions, alliances and trade ties.

    Row i holds who influences state i. Land borders weigh most; states of one subregion and
    members of one alliance (NATO, EU, CSTO, SCO members) are tied more weakly; a state is
    influenced by its large trade partners in proportion to its trade share with them (China and
    Russia for ``trade_sco``, the United States and Germany as the EU's largest economy for
    ``trade_west``: a proxy, as bilateral trade beyond these partners is not in the data).

    Groups of more than ``clique_cap`` members (None: no cap) are not written out pair by pair
    but held exactly in factored form by the returned ``Relations`` (``data/relations.py``), so
    the cost is O(n k); with no such group it holds the same CSR matrix as ever. ``borders`` has
    columns ``iso_a`` and ``iso_b`` (a dict of arrays or a pandas frame, as ``borders.csv``).
    """
    from scipy import sparse

    iso3 = a["iso3"]
    n = len(iso3)
    idx = {c: i for i, c in enumerate(iso3)}
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []

    def add(r, c, w):
        r, c = np.asarray(r), np.asarray(c)
        keep = r != c
        rows.append(r[keep])
        cols.append(c[keep])
        vals.append(np.broadcast_to(np.asarray(w, dtype=float), r.shape)[keep])

    ia = np.array([idx.get(c, -1) for c in borders["iso_a"]], dtype=np.int64)  # -1: not in this world
    ib = np.array([idx.get(c, -1) for c in borders["iso_b"]], dtype=np.int64)
    known = (ia >= 0) & (ib >= 0)
    ba, bb = ia[known], ib[known]
    add(np.r_[ba, bb], np.r_[bb, ba], BORDER_WEIGHT)

    large: list[tuple[np.ndarray, float]] = []

    def clique(members: np.ndarray, w: float) -> None:
        m = np.flatnonzero(members)
        if clique_cap is not None and len(m) > clique_cap:
            large.append((m, w))
            return
        r, c = np.meshgrid(m, m, indexing="ij")
        add(r.ravel(), c.ravel(), w)

    for s in np.unique(a["subregion"]):
        clique(a["subregion"] == s, SUBREGION_WEIGHT)
    for members in (a["nato"], a["eu"], a["csto"], a["sco_status"] == SCO_STATUSES.index("member")):
        clique(members, ALLIANCE_WEIGHT)
    everyone = np.arange(n)
    for partner, share in (("CHN", a["e_sco"]), ("RUS", a["e_sco"]), ("USA", a["e_west"]),
                           ("DEU", a["e_west"])):
        if partner in idx:
            add(everyone, np.full(n, idx[partner]), TRADE_WEIGHT * share / 2)
    m = sparse.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                          shape=(n, n)).tocsr()
    m.sum_duplicates()
    totals = np.asarray(m.sum(axis=1)).ravel()
    for g, w in large:
        totals[g] += w * (len(g) - 1)
    inv = np.divide(1.0, totals, out=np.zeros(n), where=totals > 0)
    if not large:
        return Relations(sparse.diags(inv) @ m)
    members = sparse.csr_matrix(
        (np.ones(sum(len(g) for g, _ in large)),
         np.concatenate([g for g, _ in large]),
         np.cumsum([0] + [len(g) for g, _ in large])), shape=(len(large), n))
    return Relations(sparse.diags(inv) @ m, members, np.array([w for _, w in large]), inv)

