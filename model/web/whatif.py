"""The what-if page's logic, without the web: a scenario, the levers moved, 100 futures and their fans.

A what-if is a scenario (a shipped one, picked by name, or an upload parsed by the same bounded
YAML reader and schema as any file) with some lever intensities and targets changed. It runs
``RUNS`` replications on the ensemble engine through the run service's one loop body
(``run.service.run_group``), with the scenario's own root seed, so the scenario YAML this module
writes (``scenario_yaml``) reproduces the same runs under ``blocsim run`` to the byte. Results
are the fans (median, 50% and 90% bands) of bloc shares and of chosen states' alignment, their
difference from the scenario as shipped, and the drivers behind it (``core.record.DRIVERS``).

Nothing here names a file from a request: shipped scenarios are looked up in a fixed table by
name; an upload is bytes. Imports layers 0-6 only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..base.errors import ScenarioError
from ..config.scenario import Scenario, check_name, load_scenario, parse
from ..config.yamlfile import parse_yaml
from ..core.blocs import CAMPS, bloc_series
from ..core.levers import LEVERS, SCO_LEVERS
from ..core.record import DRIVERS
from ..core.seeds import replication_seeds

#: Replications of every what-if (the issue's "a hundred futures").
RUNS = 100
#: Largest scenario upload accepted, in bytes (shipped files are a few KB).
MAX_UPLOAD = 256 * 1024
#: Most steps of an uploaded scenario (horizon / step length): a what-if must stay quick to redraw.
MAX_STEPS = 60
#: Most states whose alignment fans are drawn at once.
MAX_CHOSEN = 4
#: Quantiles of a fan: the 90% band, the 50% band and the median.
FAN_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"


@lru_cache(maxsize=1)
def shipped_scenarios() -> dict[str, Path]:
    """The shipped scenarios by name (the only files the server reads on a request's behalf)."""
    return {p.stem: p for p in sorted(SCENARIO_DIR.glob("*.yaml"))}


def load_shipped(name: str) -> Scenario:
    """A shipped scenario by its name in ``shipped_scenarios`` (a ScenarioError for any other).

    Read once per server (shipped files do not change while it runs); callers copy, never
    change it.
    """
    if name not in shipped_scenarios():
        raise ScenarioError(f"no shipped scenario named {name[:40]!r}", path="scenario")
    return _read_shipped(name)


@lru_cache(maxsize=64)
def _read_shipped(name: str) -> Scenario:
    return load_scenario(shipped_scenarios()[name])


def upload_label(filename: str | None) -> str:
    """A safe label for an uploaded file in messages: its base name's plain characters only."""
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    kept = "".join(c for c in base if c.isalnum() or c in "._-")[:64]
    return f"upload {kept}" if kept else "upload"


def read_upload(data: bytes, label: str = "upload") -> Scenario:
    """Parse an uploaded scenario with the project's bounded YAML reader and schema.

    An upload may not ``extends`` another file or name a world file: both would name a path on
    the server. Raises ScenarioError (one line naming the upload, field and line).
    """
    if len(data) > MAX_UPLOAD:
        raise ScenarioError(f"file too large ({len(data):,} bytes; at most {MAX_UPLOAD:,})",
                            file=label)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError("not UTF-8 text; save the file as UTF-8", file=label,
                            line=data[:exc.start].count(b"\n") + 1) from None
    doc, lines = parse_yaml(text, label)
    if not isinstance(doc, dict):
        raise ScenarioError("a scenario file is a mapping of fields (name:, levers, ...)",
                            file=label)
    where = {p: (label, ln) for p, ln in lines.items()}
    if "extends" in doc:
        raise ScenarioError("an upload cannot extend another file; upload the whole scenario "
                            "(the what-if page's download is whole)", file=label,
                            path="extends", line=lines.get(("extends",)))
    if str(doc.get("world", "builtin")).strip() not in ("", "builtin"):
        raise ScenarioError("an upload uses the built-in world (a world file would name a path "
                            "on the server)", file=label, path="world", line=lines.get(("world",)))
    scenario = parse(doc, Scenario, where, label)
    scenario._source, scenario._where = label, where
    scenario.check_horizon()
    steps = round(scenario.horizon / scenario.dt)
    if steps > MAX_STEPS:
        raise ScenarioError(f"{steps} steps: the what-if page runs at most {MAX_STEPS} (a shorter "
                            f"horizon, or yearly steps); 'blocsim run' takes longer ones",
                            file=label, path="horizon", line=lines.get(("horizon",)))
    return scenario


# --- moving levers --------------------------------------------------------------------------

def lever_block(name: str) -> str:
    """The scenario block a lever belongs to: ``sco`` or ``west``."""
    return "sco" if name in SCO_LEVERS else "west"


def fixed_lever(cfg) -> bool:
    """A lever the page cannot move with a slider: given as a budget or per-target intensities."""
    return cfg is not None and (cfg.budget is not None or isinstance(cfg.targets, dict))


def _number(text: str, field: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ScenarioError(f"{text[:20]!r} is not a number", path=field) from None
    if not np.isfinite(value):
        raise ScenarioError(f"{text[:20]!r} is not a finite number", path=field)
    return value


def apply_levers(scenario: Scenario, form: Mapping[str, Sequence[str]]) -> Scenario:
    """The scenario with the form's lever intensities and targets, checked by the schema.

    ``form`` maps ``lever-<name>-intensity`` to one value and ``lever-<name>-targets`` to a
    list of state codes or groups (empty: the lever's default targets). A lever absent from the
    scenario stays absent at intensity 0; a budget or per-target lever is kept as shipped.
    Raises ScenarioError whose ``path`` names the lever's field (``sco.cpec.intensity``).
    """
    doc = scenario.model_dump(mode="json")
    for name in LEVERS:
        block = lever_block(name)
        cfg = getattr(getattr(scenario, block), name)
        key = f"lever-{name}-intensity"
        if fixed_lever(cfg) or key not in form:
            continue
        values = form[key]
        field = f"{block}.{name}.intensity"
        if len(values) != 1:
            raise ScenarioError("give one intensity", path=field)
        intensity = _number(values[0], field)
        # each once, in order: a target repeated hundreds of times would cost a run as much
        targets = list(dict.fromkeys(t for t in form.get(f"lever-{name}-targets", ()) if t))
        if cfg is None and intensity == 0:
            continue
        entry = dict(doc[block][name] or {"start": None, "end": None, "efficiency": 1.0})
        entry.update(intensity=intensity, budget=None, targets=targets or None)
        doc[block][name] = entry
    out = parse(doc, Scenario, {}, "what-if")
    out._source = "what-if"
    out.check_horizon()
    return out


def whatif_name(scenario: Scenario, shipped: Scenario) -> Scenario:
    """The what-if's name: the shipped one, or ``<name>-whatif`` once anything differs."""
    if scenario.model_dump() == shipped.model_dump():
        return scenario
    name = check_name(f"{shipped.name[:57]}-whatif")
    out = scenario.model_copy(update={"name": name})
    out._source = scenario._source
    return out


def scenario_yaml(scenario: Scenario, runs: int = RUNS) -> str:
    """The scenario on screen as a whole YAML file that ``blocsim run`` reproduces to the byte."""
    import yaml

    from model import __version__

    doc = scenario.model_dump(mode="json")
    doc["replications"] = runs
    head = (f"# A what-if made on blocsim's web page (blocsim {__version__}): {runs} replications "
            f"from root seed {scenario.seed}.\n# 'blocsim run THIS_FILE' repeats the page's runs "
            f"to the byte (blocs.csv equals the page's numbers download).\n")
    return head + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def digest(scenario: Scenario) -> str:
    """A short content key of a scenario (links and caches name it, never a path)."""
    return hashlib.sha256(scenario.model_dump_json().encode("utf-8")).hexdigest()[:20]


# --- running and summarising ------------------------------------------------------------------

@dataclass(frozen=True)
class Fan:
    """Quantiles across runs per year: rows of ``FAN_QUANTILES`` (5, 25, 50, 75, 95%)."""

    label: str
    key: str
    q: np.ndarray  # (5, T+1)


@dataclass
class Outcome:
    """What the page shows of one scenario's ``RUNS`` replications.

    The drivers (each run's contributions replayed from the engine's record) cost about as much
    as the runs themselves, so they are put together on first use (``drivers()``), after the
    chart has been drawn.
    """

    years: np.ndarray
    blocs: dict[str, dict[str, np.ndarray]]  # measure -> camp -> (R, T+1)
    alignment: np.ndarray                    # (R, T+1, n)
    gdp_share: np.ndarray                    # (n,)
    iso3: tuple
    names: dict
    threshold: float
    ens: object = field(default=None, repr=False)
    alone: dict = field(default_factory=dict, repr=False)
    _drivers: np.ndarray | None = field(default=None, repr=False)

    def drivers(self) -> np.ndarray:
        """(R, drivers, n): each run's contributions summed over the years."""
        if self._drivers is None:
            runs = len(self.alignment)
            out = np.empty((runs, len(DRIVERS), len(self.iso3)))
            for r in range(runs):
                contrib = (self.alone[r].contributions if r in self.alone
                           else self.ens.contributions_of(r))
                out[r] = contrib.sum(axis=0)
            self._drivers = out
        return self._drivers


def run_outcome(scenario: Scenario, world, runs: int = RUNS) -> Outcome:
    """``runs`` replications from the scenario's seed on the engine, summarised for the page.

    Uses the run service's loop body (``run_group``): a run that went non-finite is run again
    alone and its ``NonFiniteError`` raised, as ``blocsim run`` would.
    """
    from ..config.build import prepare_plan
    from ..run.service import run_group

    seeds = replication_seeds(scenario.seed, runs)
    plan = prepare_plan(scenario, world=world)
    ens, alone = run_group(scenario, seeds, world, plan=plan, attribution=True, errors="collect")
    for _, res in sorted(alone.items()):
        if isinstance(res, Exception):
            raise res
    if ens is None:
        raise RuntimeError("the ensemble failed but every run alone succeeded")
    alignment, status = ens.alignment, ens.status
    if alone:
        alignment, status = alignment.copy(), status.copy()
        for r, res in alone.items():
            alignment[r], status[r] = res.alignment, res.status
    threshold = scenario.parameters.lean_threshold
    series = [bloc_series(alignment[r], status[r], ens.gdp_usd, ens.population, threshold)
              for r in range(len(seeds))]
    blocs = {m: {c: np.stack([s[f"{m}_{c}"] for s in series]) for c in CAMPS}
             for m in ("gdp_share", "pop_share", "states")}
    years = ens.times.astype(int) if np.allclose(ens.times, np.round(ens.times)) else ens.times
    return Outcome(years=years, blocs=blocs, alignment=alignment,
                   gdp_share=ens.gdp_usd / ens.gdp_usd.sum(), iso3=tuple(ens.iso3.tolist()),
                   names=dict(zip(world.iso3.tolist(), world.name.tolist(), strict=True)),
                   threshold=threshold, ens=ens, alone=alone)


def quantiles(values: np.ndarray) -> np.ndarray:
    """(5, T) quantiles across runs of a (R, T) array (numpy's linear rule, as pandas')."""
    return np.quantile(values, FAN_QUANTILES, axis=0)


def bloc_fans(out: Outcome, measure: str) -> list[Fan]:
    """One fan per camp of the measure's shares (``gdp_share``, ``pop_share`` or ``states``)."""
    return [Fan(c, c, quantiles(out.blocs[measure][c])) for c in CAMPS]


def state_fans(out: Outcome, chosen: Sequence[str]) -> list[Fan]:
    """One alignment fan per chosen state (codes already checked against the world)."""
    index = {c: i for i, c in enumerate(out.iso3)}
    return [Fan(f"{out.names.get(c, c)} ({c})", c, quantiles(out.alignment[:, :, index[c]]))
            for c in chosen]


def end_medians(fans: Sequence[Fan]) -> dict[str, float]:
    """The median of each fan in the last year."""
    return {f.key: float(f.q[2, -1]) for f in fans}


@dataclass(frozen=True)
class DriverRow:
    """One driver's push on GDP-weighted world alignment, summed over the years, mean of runs."""

    driver: str
    shipped: float
    whatif: float

    @property
    def change(self) -> float:
        """What-if minus shipped (positive: more towards the SCO)."""
        return self.whatif - self.shipped


def driver_rows(whatif: Outcome, shipped: Outcome, limit: int = 8) -> list[DriverRow]:
    """The drivers behind the difference, largest change first (``limit`` rows, none all-zero)."""
    a = whatif.drivers().mean(axis=0) @ whatif.gdp_share
    b = shipped.drivers().mean(axis=0) @ shipped.gdp_share
    order = np.argsort(-np.abs(a - b), kind="stable")
    rows = [DriverRow(DRIVERS[i], float(b[i]), float(a[i])) for i in order
            if a[i] != 0 or b[i] != 0]
    return rows[:limit]


def check_states(codes: Sequence[str], world) -> list[str]:
    """Chosen states: known codes, at most ``MAX_CHOSEN``, in order, without repeats."""
    out: list[str] = []
    for c in codes:
        if c not in world.index:
            raise ScenarioError(f"unknown state code {c[:12]!r}", path="states")
        if c not in out:
            out.append(c)
    if len(out) > MAX_CHOSEN:
        raise ScenarioError(f"choose at most {MAX_CHOSEN} states", path="states")
    return out


def numbers_csv(scenario: Scenario, world, runs: int = RUNS) -> str:
    """The page's runs as ``blocs.csv``: the same bytes ``blocsim run`` of the YAML writes."""
    from ..run import tables
    from ..run.service import replicate

    results = replicate(scenario, replication_seeds(scenario.seed, runs), world,
                        attribution=False)
    return tables.csv_text(tables.blocs_frame(results, scenario.parameters.lean_threshold))
