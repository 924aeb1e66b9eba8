"""Team briefs: one printable page per team (``blocsim game brief GAME.yaml``).

Each page says who the team is (side, the states it plays), its budget per turn, its menu
(what each move does, what it costs, where it may aim, how often), its objectives in words and
how they score, where the states it cares about stand at the start (alignment, camp, SCO status,
trade and security ties to each bloc, from the scenario's world), and how to type a move at the
terminal. Pages are HTML with print CSS (A4, one page each); ``briefs.html`` holds them all,
one per printed page, and ``brief_<team>.html`` each alone.

Imports base, data and the game's own modules only.
"""

from __future__ import annotations

import html
from pathlib import Path

from ..base.files import write_atomic_dir
from ..core.blocs import CAMPS, camp_of
from ..data.world import SCO_STATUSES
from .narrate import CAMP_NAMES, team_name
from .spec import OWN, Objective

ALL_BRIEFS = "briefs.html"
SIDES = {"sco": "the SCO side", "west": "the Western side", "swing": "a swing team"}
CSS = """
@page{size:A4;margin:14mm}
body{font-family:Georgia,serif;font-size:10.5pt;color:#222;max-width:50rem;margin:1rem auto}
.page{page-break-after:always;break-after:page}.page:last-child{page-break-after:auto}
h1{font-size:17pt;margin:0 0 .2rem}h2{font-size:12pt;margin:.8rem 0 .2rem;
border-bottom:1px solid #888}
table{border-collapse:collapse;width:100%;font-size:9pt}td,th{border:1px solid #bbb;
padding:2px 4px;text-align:left;vertical-align:top}th{background:#eee}
.note{color:#444;font-size:9pt}code{font-size:9pt}
"""


def _e(text: object) -> str:
    return html.escape(str(text))


def objective_text(obj: Objective) -> str:
    """An objective in words, with how it scores."""
    where = ", ".join(obj.targets())
    w = f"{obj.weight:g}"
    if obj.kind == "outcome":
        return (f"{obj.outcome.replace('_', ' ')} {'up' if obj.better == 'higher' else 'down'}: "
                f"{w} points per unit of change since the start")
    if obj.kind == "towards":
        side = "the SCO" if obj.towards == "sco" else "the West"
        return f"move {where} towards {side}: {w} points per unit of alignment moved"
    if obj.kind == "channel":
        return (f"{obj.channel} of {where} {'up' if obj.better == 'higher' else 'down'}: {w} "
                f"points per unit of change")
    bounds = " and ".join(b for b in (f"above {obj.above:+g}" if obj.above is not None else "",
                                      f"below {obj.below:+g}" if obj.below is not None else "")
                          if b)
    return f"keep the alignment of {where} {bounds}: {w} points whenever it holds"


def _states_of(game, team: str) -> list[str]:
    """The states a team's page shows: its own, its objectives', the game's key states."""
    t = game.spec.teams[team]
    keys = game.spec.key_states or list(game.scenario.key_states)
    names = [*t.states, *[s for o in t.objectives for s in o.targets()], *keys]
    return list(dict.fromkeys(names))


def page(game, team: str) -> str:
    """One team's page (an HTML fragment)."""
    spec, world = game.spec, game.world
    t = spec.teams[team]
    m = game.moment()
    a, status, struct = m["alignment"], m["status"], m["structure"]
    out = [f"<div class=page><h1>{_e(team_name(spec, team))}</h1>",
           f"<p><b>{_e(spec.name)}</b>: {_e(spec.description)}</p>",
           f"<p>You play {SIDES[t.side]}"
           + (f" and speak for {_e(', '.join(str(world.name[world.index[s]]) for s in t.states))}"
              if t.states else "")
           + f". Budget: <b>{t.budget:g} points a turn</b>"
           + (" (unspent points carry over)" if spec.carry_over else " (unspent points are lost)")
           + f"; {spec.turns} turns of {spec.years_per_turn} year(s), about "
             f"{spec.minutes_per_turn:g} minutes each."
           + (" Your moves stay secret until the turn is resolved." if spec.secret_moves else "")
           + "</p><h2>Your menu</h2><table><tr><th>#</th><th>move</th><th>what it does</th>"
             "<th>cost (full intensity, one target)</th><th>targets</th><th>limits</th></tr>"]
    for k, (name, item) in enumerate(t.menu.items(), start=1):
        targets = ", ".join(", ".join(t.states) if x == OWN else x for x in item.targets)
        cost = (f"{item.cost * item.max_intensity + item.cost_per_target:g} "
                f"({item.cost:g} x intensity + {item.cost_per_target:g}) per target")
        out.append(f"<tr><td>{k}</td><td><code>{_e(name)}</code></td><td>"
                   f"{_e(item.description)} (lever {_e(item.lever)})</td><td>{_e(cost)}</td>"
                   f"<td>{_e(targets)}</td><td>up to {item.max_targets} target(s), intensity "
                   f"{item.max_intensity:g}, {item.per_turn} time(s) a turn</td></tr>")
    out.append("</table>")
    if t.side == "swing":
        out.append("<p class=note>As a swing team you may also <b>refuse</b> offers aimed at "
                   "your states (they do not act there; the offering team still pays), "
                   f"<b>welcome</b> them (they act {spec.welcome_bonus:g} times as hard), and "
                   "<b>apply</b> for SCO status or a Western partnership"
                   + (f" ({spec.apply_cost:g} points)" if spec.apply_cost else "") + ".</p>")
    for bloc in ("sco", "west"):
        if getattr(spec.applications, bloc).decided_by == team:
            out.append(f"<p class=note>You decide applications for "
                       f"{'SCO status' if bloc == 'sco' else 'a Western partnership'}: "
                       f"<code>admit STATE</code> or <code>reject STATE</code> in the turn "
                       f"after it is made (unanswered, a rule decides).</p>")
    out.append("<h2>Your objectives</h2><ul>")
    out += [f"<li><b>{_e(o.name or o.kind)}</b>: {_e(objective_text(o))}</li>"
            for o in t.objectives]
    out.append("</ul><h2>Where your states stand at the start</h2><table><tr><th>state</th>"
               "<th>alignment (-1 West .. +1 SCO)</th><th>camp</th><th>SCO status</th>"
               "<th>trade SCO / West</th><th>security SCO / West</th></tr>")
    camps = camp_of(a, game.threshold)
    for code in _states_of(game, team):
        i = world.index[code]
        out.append(f"<tr><td>{_e(code)} {_e(world.name[i])}</td><td>{a[i]:+.3f}</td>"
                   f"<td>{_e(CAMP_NAMES[CAMPS[camps[i]]])}</td>"
                   f"<td>{_e(SCO_STATUSES[int(status[i])].replace('_', ' '))}</td>"
                   f"<td>{struct[0, i]:.2f} / {struct[1, i]:.2f}</td>"
                   f"<td>{struct[2, i]:.2f} / {struct[3, i]:.2f}</td></tr>")
    first = next(iter(t.menu), "MOVE")
    out.append("</table><h2>At the keyboard</h2><p class=note>At the prompt <code>"
               f"{_e(team)}&gt;</code> type a move by name or number, its targets and an "
               f"intensity (0 to 1), e.g. <code>{_e(first)} "
               f"{_e(next(iter(t.states), 'KAZ'))} 0.5</code>; <code>drop N</code> takes "
               "move N back; an empty line passes the keyboard on. After each turn you hear what "
               "your moves did, from the model's own attribution.</p></div>")
    return "".join(out)


def _document(title: str, pages: list[str]) -> str:
    return ("<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
            f"<title>{_e(title)}</title><style>{CSS}</style></head><body>"
            + "\n".join(pages) + "</body></html>\n")


def write_briefs(game, out: Path | str) -> Path:
    """Write ``briefs.html`` (every team, one printed page each) and ``brief_<team>.html``."""
    pages = {t: page(game, t) for t in game.team_ids}

    def fill(tmp: Path) -> None:
        (tmp / ALL_BRIEFS).write_text(_document(f"{game.spec.name}: team briefs",
                                                list(pages.values())), encoding="utf-8")
        for t, p in pages.items():
            (tmp / f"brief_{t}.html").write_text(
                _document(f"{game.spec.name}: {team_name(game.spec, t)}", [p]),
                encoding="utf-8")

    return write_atomic_dir(Path(out), fill, marker=ALL_BRIEFS,
                            replace_only=lambda d: all(p.name == ALL_BRIEFS or (
                                p.name.startswith("brief_") and p.suffix == ".html")
                                for p in d.iterdir()))
