"""What a resolved turn published: ``TurnResult``, its per-team effects, and a plain summary.

``TurnResult`` is data for whoever shows a turn (the terminal, the briefs, the debrief, the web
pages): the moves as resolved (with the factors swing teams' answers put on them), the injects,
the chance draws, the decisions on applications, alignment before and after, each owner's
attributed change per state (``by_owner``: owner ``scenario`` and every move so far, see
``ledger``), every driver's summed contribution over the turn (``drivers``, rows as
``core.record.DRIVERS``), the scores, the points spent and the run outcomes after the turn.
``team_effects`` adds a team's moves up; ``summary_text`` is the plain per-turn summary that
``blocsim game resolve`` writes.

Imports numpy, core and data only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core.record import DRIVERS
from ..data.world import World


@dataclass
class TurnResult:
    """One resolved turn (see the module docstring for the fields)."""

    turn: int
    years: tuple[int, int]
    skipped: bool
    moves: list[dict]
    injects: list[dict]
    chance: list[dict]
    applications: list[dict]
    alignment_before: np.ndarray
    alignment_after: np.ndarray
    owners: list[str]
    by_owner: np.ndarray
    drivers: np.ndarray
    scores: dict[str, dict]
    spent: dict[str, float]
    outcomes: dict[str, float] = field(default_factory=dict)

    def owner_team(self, owner: str) -> str | None:
        """The team of a move id (``t<turn>:<team>:<n>``); None for the scenario."""
        parts = owner.split(":")
        return parts[1] if len(parts) == 3 else None

    def team_effects(self, team: str, made_in: int | None = None) -> np.ndarray:
        """(n,) the change of alignment this turn attributed to ``team``'s moves.

        All its moves so far by default (what earlier moves built still acts); only those made
        in turn ``made_in`` if given.
        """
        rows = [k for k, o in enumerate(self.owners) if self.owner_team(o) == team
                and (made_in is None or o.startswith(f"t{made_in}:"))]
        return self.by_owner[rows].sum(axis=0) if rows else np.zeros(self.by_owner.shape[1])

    def move_effects(self, owner: str, world: World, *, tol: float = 1e-12) -> dict[str, float]:
        """One owner's attributed change this turn by state code (states it moved only)."""
        row = self.by_owner[self.owners.index(owner)]
        return {str(world.iso3[i]): float(row[i]) for i in np.flatnonzero(np.abs(row) > tol)}

    def to_dict(self) -> dict:
        """JSON-able; arrays as lists of floats (``repr`` round trip), ``by_owner`` sparse."""
        sparse = {o: {int(i): float(self.by_owner[k, i])
                      for i in np.flatnonzero(self.by_owner[k])}
                  for k, o in enumerate(self.owners)}
        return {"turn": self.turn, "years": list(self.years), "skipped": self.skipped,
                "moves": self.moves, "injects": self.injects, "chance": self.chance,
                "applications": self.applications,
                "alignment_before": self.alignment_before.tolist(),
                "alignment_after": self.alignment_after.tolist(), "owners": list(self.owners),
                "by_owner": {o: {str(i): v for i, v in d.items()} for o, d in sparse.items()},
                "drivers": {d: self.drivers[j].tolist() for j, d in enumerate(DRIVERS)},
                "scores": self.scores, "spent": self.spent, "outcomes": self.outcomes}

    @classmethod
    def from_dict(cls, d: dict) -> TurnResult:
        """What ``to_dict`` gave, back with numpy arrays."""
        n = len(d["alignment_before"])
        by_owner = np.zeros((len(d["owners"]), n))
        for k, o in enumerate(d["owners"]):
            for i, v in d["by_owner"].get(o, {}).items():
                by_owner[k, int(i)] = v
        return cls(turn=d["turn"], years=tuple(d["years"]), skipped=d["skipped"],
                   moves=d["moves"], injects=d["injects"], chance=d["chance"],
                   applications=d["applications"],
                   alignment_before=np.array(d["alignment_before"]),
                   alignment_after=np.array(d["alignment_after"]), owners=list(d["owners"]),
                   by_owner=by_owner, drivers=np.array([d["drivers"][x] for x in DRIVERS]),
                   scores=d["scores"], spent=d["spent"], outcomes=d.get("outcomes", {}))


def summary_text(result: TurnResult, world: World, key_states: list[str], teams: list[str]) -> str:
    """A plain summary of one turn: moves, injects, key states, each team's effect and score."""
    first, last = result.years
    span = f"{first}" if first == last else f"{first}-{last}"
    lines = [f"Turn {result.turn} ({span})" + (" - skipped: no team moves" if result.skipped
                                                else "")]
    for m in result.moves:
        mv = m["move"]
        if "move" in mv:
            what = f"{mv['move']} on {', '.join(mv['targets'])} at {mv['intensity']:g}"
        elif "respond" in mv:
            what = f"{mv['respond']}s {mv.get('lever', 'any lever')} from {mv.get('to', 'anyone')}"
        elif "apply" in mv:
            bloc = "SCO status" if mv["apply"] == "sco" else "a Western partnership"
            what = f"applies for {bloc} for {mv['state']}"
        else:
            what = f"{mv['decide']}s the application of {mv['state']}"
        note = "".join(f" ({s} {'refused' if f == 0 else 'welcomed'})"
                       for s, f in m.get("factors", {}).items())
        lines.append(f"  {m['team']}: {what} [{m['cost']:g} pts]{note}")
    for inj in result.injects:
        ev = inj["event"]
        lines.append(f"  inject ({inj['source']}): {ev.get('type')} on "
                     f"{ev.get('state') or ', '.join(ev.get('states', []))}")
    for app in result.applications:
        lines.append(f"  application of {app['state']} to {app['bloc']}: "
                     f"{'admitted' if app['admitted'] else 'rejected'} by {app['by']}")
    lines.append("  key states (alignment -1 West .. +1 SCO):")
    for code in key_states:
        i = world.index[code]
        a0, a1 = result.alignment_before[i], result.alignment_after[i]
        lines.append(f"    {code}: {a0:+.3f} -> {a1:+.3f} ({a1 - a0:+.3f})")
    lines.append("  teams (attributed change of alignment this turn, largest; score):")
    for team in teams:
        eff = result.team_effects(team)
        top = np.argsort(-np.abs(eff))[:3]
        moved = ", ".join(f"{world.iso3[i]} {eff[i]:+.3f}" for i in top if abs(eff[i]) > 5e-4)
        lines.append(f"    {team}: {moved or 'no measurable effect'}; score "
                     f"{result.scores[team]['total']:+.2f}")
    return "\n".join(lines)
