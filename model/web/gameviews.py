"""What the game's pages show, read from the engine: the public world, a team's view, the facilitator's.

Everything is read from ``game.engine.Game`` and worded by ``game.narrate`` (headlines, each
team's account of its turns); nothing here decides a rule. The public view (tile map, bloc
shares over time, headlines, scoreboard, who has submitted) holds nothing secret and is cached
by the game's version; a team's view adds its budget, menu, objectives, its own pending moves
and its past results, and never another team's pending moves. The tile map is SVG drawn from
``game.tiles.tile_layout`` (the same grid as the debrief's PNG). Imports report, game and web.
"""

from __future__ import annotations

from html import escape

import numpy as np
from matplotlib import colormaps

from ..game.narrate import headlines, move_label, team_name, turn_report
from ..game.spec import OWN
from ..game.tiles import tile_layout
from ..report.run_plots import CAMP_COLOURS, CAMP_LABELS

TILE = 30  # px per tile in the map's viewBox
SHARES = ("west", "nonaligned", "sco")


def _hex(rgba) -> str:
    return "#" + "".join(f"{int(round(255 * c)):02x}" for c in rgba[:3])


def tile_map_svg(world, alignment: np.ndarray, key_states: list[str], title: str) -> str:
    """The world as tiles coloured by alignment (blue West .. red SCO), key states outlined."""
    x, y, labels = tile_layout(world)
    cmap = colormaps["RdBu_r"]
    keys = set(key_states)
    top = 70
    w, h = (int(x.max()) + 1) * TILE + 70, top + (int(y.max()) + 1) * TILE + 50
    out = [f'<svg class="tiles" viewBox="0 0 {w} {h}" role="img" aria-label="{escape(title)}" '
           f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for lx, name in labels:
        px = 5 + (lx + 0.5) * TILE
        out.append(f'<text x="{px:.0f}" y="{top - 6}" class="sub" transform="rotate(-40 '
                   f'{px:.0f} {top - 6})">{escape(name[:18])}</text>')
    for i in range(world.n):
        code, a = str(world.iso3[i]), float(alignment[i])
        px, py = 5 + x[i] * TILE, top + y[i] * TILE
        ink = "#fff" if abs(a) > 0.55 else "#111"
        key = code in keys
        out.append(f'<rect x="{px + 1}" y="{py + 1}" width="{TILE - 2}" height="{TILE - 2}" '
                   f'fill="{_hex(cmap((a + 1) / 2))}" data-state="{escape(code)}"'
                   + (' stroke="#000" stroke-width="2.5"' if key else "")
                   + f'><title>{escape(f"{world.name[i]} {a:+.2f}")}</title></rect>')
        if key:  # the key states: code and alignment, inside their outlined tile
            out.append(f'<text x="{px + TILE / 2:.0f}" y="{py + 13}" fill="{ink}" class="code k">'
                       f'{escape(code)}</text><text x="{px + TILE / 2:.0f}" y="{py + 24}" '
                       f'fill="{ink}" class="code k">{a:+.2f}</text>')
        else:
            out.append(f'<text x="{px + TILE / 2:.0f}" y="{py + TILE / 2 + 3:.0f}" fill="{ink}" '
                       f'class="code">{escape(code)}</text>')
    legend_y = h - 34
    for k, v in enumerate(np.linspace(-1, 1, 9)):
        out.append(f'<rect x="{5 + k * 36}" y="{legend_y}" width="36" height="12" '
                   f'fill="{_hex(cmap((v + 1) / 2))}"/>')
    out.append(f'<text x="5" y="{legend_y + 26}" class="leg">-1 West</text><text x="{5 + 9 * 36}" '
               f'y="{legend_y + 26}" class="leg end">+1 SCO</text><text x="{20 + 9 * 36}" '
               f'y="{legend_y + 10}" class="leg">outlined: key states, with their alignment</text>')
    out.append("</svg>")
    return "".join(out)


def shares_svg(game) -> str:
    """Each camp's share of world GDP at the start and after every turn (dots joined by lines)."""
    points = [game.start["outcomes"]] + [h["outcomes"] for h in game.state["history"]]
    w, h, left, right, top, bottom = 640, 260, 50, 150, 34, 34
    pw, ph = w - left - right, h - top - bottom
    n = max(len(points) - 1, 1)
    xs = [left + pw * k / n for k in range(len(points))]

    def y(v: float) -> float:
        return top + (1 - v) * ph

    title = "Camps' share of world GDP, turn by turn"
    out = [f'<svg class="fan" id="shares-chart" viewBox="0 0 {w} {h}" role="img" '
           f'aria-label="{title}" xmlns="http://www.w3.org/2000/svg"><title>{title}</title>'
           f'<text x="{left}" y="18" class="t">{title}</text>']
    for t in (0, 0.25, 0.5, 0.75, 1):
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{y(t):.1f}" y2="{y(t):.1f}" '
                   f'class="grid"/><text x="{left - 6}" y="{y(t) + 4:.1f}" class="yt">'
                   f'{t:.0%}</text>')
    for k, xk in enumerate(xs):
        out.append(f'<text x="{xk:.1f}" y="{top + ph + 18}" class="xt">'
                   f'{"start" if k == 0 else f"turn {k}"}</text>')
    for c in SHARES:
        c_hex, vals = CAMP_COLOURS[c], [p[f"gdp_share_{c}"] for p in points]
        path = " L".join(f"{xk:.1f},{y(v):.1f}" for xk, v in zip(xs, vals, strict=True))
        out.append(f'<path d="M{path}" fill="none" stroke="{c_hex}" stroke-width="2.5"/>')
        out += [f'<circle cx="{xk:.1f}" cy="{y(v):.1f}" r="4" fill="{c_hex}"/>'
                for xk, v in zip(xs, vals, strict=True)]
        out.append(f'<text x="{left + pw + 8}" y="{y(vals[-1]) + 4:.1f}" fill="{c_hex}" '
                   f'class="lab">{CAMP_LABELS[c]} {vals[-1]:.1%}</text>')
    out.append("</svg>")
    return "".join(out)


def key_states(game) -> list[str]:
    """The game's key states (the game file's, else the scenario's)."""
    return list(game.spec.key_states or game.scenario.key_states)


def world_key(game) -> tuple:
    """What the public world depends on: it changes when a turn opens, resolves or is undone."""
    s = game.state
    return s["turn"], s["phase"], len(s["history"]), s["turns_total"]


def submitted(game) -> list[dict]:
    """How many moves each team has in the open turn (not what they are)."""
    return [{"team": t, "name": team_name(game.spec, t),
             "moves": sum(1 for m in game.state["moves"] if m["team"] == t)}
            for t in game.team_ids]


def public_view(game) -> dict:
    """The world as everyone may see it (no pending or secret moves; ``submitted`` apart)."""
    results = game.history()
    keys = key_states(game)
    alignment = game.moment()["alignment"]
    before = results[-1].alignment_before if results else alignment
    when = f"after turn {game.turn} ({game.year})" if game.turn else f"at the start ({game.year})"
    scores = game.scores()
    names = {t: team_name(game.spec, t) for t in game.team_ids}
    status = game.status()
    return {
        "name": game.spec.name, "description": game.spec.description, "turn": game.turn,
        "phase": game.phase, "turns_total": status["turns_total"], "year": game.year,
        "next_years": status["next_years"], "when": when,
        "map_svg": tile_map_svg(game.world, alignment, keys, f"The world {when}"),
        "shares_svg": shares_svg(game),
        "headlines": headlines(game, results, game.turn) if results else [],
        "keys": [{"code": c, "name": str(game.world.name[game.world.index[c]]),
                  "now": float(alignment[game.world.index[c]]),
                  "change": float(alignment[game.world.index[c]] - before[game.world.index[c]])}
                 for c in keys],
        "scoreboard": sorted(({"team": t, "name": names[t], "side": game.spec.teams[t].side,
                               "score": scores[t]["total"]} for t in game.team_ids),
                             key=lambda r: (-r["score"], game.team_ids.index(r["team"]))),
        "shares": {c: float(game.moment()["outcomes"][f"gdp_share_{c}"]) for c in SHARES},
    }


def _targets(item, team, world) -> list[dict]:
    """The targets a team may tick for a menu item (its own states written out), named."""
    codes = [s for t in item.targets for s in (team.states if t == OWN else [t])]
    return [{"code": c, "label": f"{c} {world.name[world.index[c]]}" if c in world.index
             else c.replace("_", " ")} for c in codes]


def _where(move: dict) -> str:
    mv = move["move"]
    where = mv.get("targets") or mv.get("states") or ([mv["state"]] if "state" in mv else [])
    return ", ".join(where)


def team_view(game, team: str) -> dict:
    """What team ``team`` sees of its own: budget, menu, objectives, its moves and results."""
    spec = game.spec
    t = spec.teams[team]
    mine = [m for m in game.moves(viewer=team) if m["team"] == team]
    parts = game.scores()[team]["parts"]
    results = game.history()
    deciding = [b for b in ("sco", "west") if getattr(spec.applications, b).decided_by == team]
    return {
        "id": team, "name": team_name(spec, team), "side": t.side, "states": t.states,
        "budget": t.budget, "left": game.budget_left(team),
        "spent": sum(m["cost"] for m in mine),
        "menu": [{"id": mid, "lever": item.lever.replace("_", " "),
                  "description": item.description, "cost": item.cost,
                  "cost_per_target": item.cost_per_target, "targets": _targets(item, t, game.world),
                  "max_targets": item.max_targets, "max_intensity": item.max_intensity,
                  "per_turn": item.per_turn} for mid, item in t.menu.items()],
        "moves": [{"id": m["id"], "label": move_label(m), "where": _where(m), "cost": m["cost"],
                   "move": m["move"]} for m in mine],
        "objectives": [{"name": o.name or o.kind, "points": p}
                       for o, p in zip(t.objectives, parts, strict=True)],
        "score": game.scores()[team]["total"],
        "pending": [p for p in game.pending_applications() if p["bloc"] in deciding],
        "others": [o for o in game.team_ids if o != team],
        "levers": sorted({item.lever for o in spec.teams.values() for item in o.menu.values()}),
        "results": [{"turn": r.turn, "lines": turn_report(game, results, r.turn, team)}
                    for r in reversed(results)],
    }


def facilitator_view(game, opened_at: float | None) -> dict:
    """The facilitator's extra view: status, the deck, the clock, every team's pending moves."""
    status = game.status()
    fired = set(game.state["fired"])
    return {
        "status": status, "can_undo": status["can_undo"],
        "deck": [{"id": cid, "description": card.description or cid, "played": cid in fired}
                 for cid, card in game.spec.deck.items() if card.played_by == "facilitator"],
        "injects": status["injects"], "pending": status["pending"],
        "minutes": game.spec.minutes_per_turn, "opened_at": opened_at,
        "deadline_ms": int((opened_at + 60 * game.spec.minutes_per_turn) * 1000)
        if opened_at else None,
        "moves": [{"team": team_name(game.spec, m["team"]), "label": move_label(m),
                   "where": _where(m), "cost": m["cost"]} for m in game.moves()],
        "extra_left": game.spec.turns + game.spec.extra_turns - status["turns_total"],
    }
