"""Checking a scenario against its world: unknown state codes and groups, with a hint.

``prepare_world`` loads a scenario's world and checks it before any output. Imports base, data
and config only.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from ..base.errors import ScenarioError
from ..base.files import file_problem
from ..data.world import World, load_world
from .scenario import Scenario, load_scenario, read_yaml

# A few common names that are not the data's own (states.csv has one name per state).
ALTERNATIVE_NAMES = {
    "kirghizia": "KGZ", "kirgizia": "KGZ", "kyrgyz republic": "KGZ", "burma": "MMR",
    "ivory coast": "CIV", "turkiye": "TUR", "türkiye": "TUR", "persia": "IRN",
    "czech republic": "CZE", "swaziland": "SWZ", "east timor": "TLS", "cape verde": "CPV",
    "holland": "NLD", "the netherlands": "NLD", "uk": "GBR", "britain": "GBR",
    "great britain": "GBR", "england": "GBR", "usa": "USA", "america": "USA",
    "united states of america": "USA", "russian federation": "RUS", "south korea": "KOR",
    "north korea": "PRK", "dprk": "PRK", "laos": "LAO", "vietnam": "VNM", "syria": "SYR",
    "iran": "IRN", "macedonia": "MKD", "moldova": "MDA", "tanzania": "TZA", "bolivia": "BOL",
    "venezuela": "VEN", "congo-kinshasa": "COD", "drc": "COD", "congo-brazzaville": "COG",
}


def _letters(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


def state_hint(name: str, world: World, groups=()) -> str:
    """' (did you mean 'KGZ'?)' for a mistyped code or a state's name; '' when nothing fits.

    In order: the code in capitals (``kaz``), a state's name or a common alternative name
    (``Kyrgyzstan``, ``Kirghizia``), a name that starts with what was typed (``KYR``), then the
    closest code or group by spelling.
    """
    codes, names = list(world.index), [str(n) for n in world.name]
    if name.upper() in world.index:
        return f" (did you mean '{name.upper()}'? state codes are in capitals)"
    key = _letters(name)
    by_name = {_letters(n): c for n, c in zip(names, codes, strict=True)}
    alt = ALTERNATIVE_NAMES.get(name.strip().lower())
    code = by_name.get(key) or (alt if alt in world.index else None)
    if code:
        return f" (did you mean '{code}', {names[world.index[code]]}?)"
    if len(key) >= 3:
        starts = [c for n, c in zip(names, codes, strict=True) if _letters(n).startswith(key)]
        if len(starts) == 1:
            return f" (did you mean '{starts[0]}', {names[world.index[starts[0]]]}?)"
        if 1 < len(starts) <= 4:
            return " (did you mean " + " or ".join(
                f"'{c}' ({names[world.index[c]]})" for c in starts) + "?)"
    guess = difflib.get_close_matches(name, [*codes, *groups], n=1)
    return f" (did you mean '{guess[0]}'?)" if guess else ""


def check_scenario(scenario, world: World) -> None:
    """Every state code and group a scenario names must exist in its world; raise ScenarioError."""
    groups = world.groups()

    def check(name: str, path: tuple) -> None:
        if name in world.index or name in groups:
            return
        hint = state_hint(name, world, groups)
        raise scenario.error(f"unknown state code or group '{name}'{hint}", path)

    for block in ("sco", "west"):
        for name, cfg in getattr(scenario, block):
            if cfg is not None and cfg.targets is not None:
                for t in cfg.targets:
                    check(t, (block, name, "targets"))
    for i, ev in enumerate(scenario.events):
        for t in ev.targets():
            check(t, ("events", i, "state" if ev.state is not None else "states"))
    for t in scenario.key_states:
        if t not in world.index:
            check(t, ("key_states",))
            raise scenario.error(f"'{t}' is a group; key_states takes state codes", ("key_states",))


def prepare_world(scenario: Scenario, base_dir: Path | None = None) -> World:
    """Load the scenario's world and check every state and group it names, before any output."""
    try:
        world = load_world(scenario.world, scenario.start_year, base_dir)
    except ScenarioError as exc:
        if exc.file:
            raise
        raise scenario.error(exc.detail, (exc.path or "world",)) from None
    check_scenario(scenario, world)
    return world


def load_listed_scenario(spec, base: Path, rel: str, index: int, horizon: int | None = None,
                         hint: str = "") -> tuple[Scenario, World]:
    """A scenario listed by an experiment or search spec, with its world, checked up front.

    The file must be a regular file and not a strategy; the spec's ``horizon`` (if any) replaces
    the scenario's and a custom world is resolved beside the scenario. Errors name the spec's
    ``scenarios`` entry (``hint`` ends the strategy message).
    """
    path = base / rel
    if why := file_problem(path, "scenario file"):
        raise spec.error(f"{why}: {rel}", ("scenarios", index))
    keys = set(read_yaml(path)[0])
    if "west" in keys and keys <= {"name", "description", "west"}:
        raise spec.error(f"{rel} is a strategy (only name, description and west), not a "
                         f"scenario{hint}", ("scenarios", index))
    sc = load_scenario(path)
    if horizon is not None:
        sc.horizon = horizon
        sc.check_horizon()
    if sc.world != "builtin":
        sc.world = str((path.parent / sc.world).resolve())
    return sc, prepare_world(sc)
