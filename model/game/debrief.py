"""The debrief: one self-contained HTML file that shows the class what its choices did.

Sections: the scoreboard; the world's path turn by turn (key states, bloc shares, the tile grid,
figures); each turn's moves with their attributed effects (``narrate``); the decisive moments
(moves by their attributed effect, the facilitator's injects by the game replayed without
them); each team's causal effect (the game replayed without its moves, ``causal``) and how the
effects add up with the no-player world; where the class's world falls among many model runs
of the same scenario (``benchmark``). Figures are embedded as PNG data, so the file stands
alone (print it, mail it, open it with no network). ``docs/game.md`` documents every section.

Imports base, the game's own modules (and report through ``tiles``).
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np

from ..base.errors import ScenarioError
from ..base.files import write_file_atomic
from .benchmark import RUNS, compare
from .causal import ALL, attributed_totals, decomposition, inject_effects
from .narrate import (
    TOL,
    amount,
    direction,
    effect_sentences,
    headlines,
    inject_text,
    move_label,
    move_records,
    refusal_notes,
    start_scores,
    team_name,
)
from .tiles import game_figures, png_bytes

DEBRIEF = "debrief.html"
HEAD = "<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>Debrief: "  # how one starts
DECISIVE = 8  # moments listed
OUTCOME_ROWS = ("gdp_share_west", "gdp_share_sco", "states_west", "states_sco",
                "gdp_weighted_alignment")

CSS = """
body{font-family:Georgia,serif;max-width:62rem;margin:2rem auto;padding:0 1rem;color:#222;
line-height:1.45}
h1{font-size:1.7rem}h2{border-bottom:2px solid #2166ac;margin-top:2.2rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}
td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:right}
th{background:#eef3f8}td.l,th.l{text-align:left}
.west{color:#2166ac}.sco{color:#c0392b}.note{color:#555;font-size:.9rem}
.big{font-size:1.15rem;background:#f6f6ef;padding:.6rem 1rem;border-left:4px solid #2166ac}
img{max-width:100%}section.turn{page-break-inside:avoid}
@media print{body{margin:0;max-width:none}h2{page-break-before:auto}}
"""


def _e(text: object) -> str:
    return html.escape(str(text))


def _table(head: list[str], rows: list[list[object]], left: int = 1) -> str:
    """An HTML table; the first ``left`` columns are text (left-aligned)."""
    def cell(tag: str, k: int, v: object) -> str:
        return f"<{tag}{' class=l' if k < left else ''}>{_e(v)}</{tag}>"
    out = ["<table><tr>" + "".join(cell("th", k, h) for k, h in enumerate(head)) + "</tr>"]
    out += ["<tr>" + "".join(cell("td", k, v) for k, v in enumerate(r)) + "</tr>" for r in rows]
    return "".join(out) + "</table>"


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<p><img alt="{_e(alt)}" src="data:image/png;base64,{data}"></p>'


def _outcome(name: str, v: float) -> str:
    if name.startswith(("gdp_share", "pop_share")):
        return f"{100 * v:.2f}%"
    return f"{v:+.3f}" if "alignment" in name else f"{v:g}"


def _signed_outcome(name: str, v: float) -> str:
    if name.startswith(("gdp_share", "pop_share")):
        return f"{100 * v:+.2f} pts"
    return f"{v:+.3f}" if "alignment" in name else f"{v:+g}"


def scoreboard(game) -> str:
    """Final scores with each objective's points."""
    start = start_scores(game)
    final = game.scores()
    order = sorted(game.team_ids, key=lambda t: (-final[t]["total"], game.team_ids.index(t)))
    rows = [[team_name(game.spec, t), game.spec.teams[t].side, f"{start[t]['total']:+.2f}",
             f"{final[t]['total']:+.2f}"] for t in order]
    parts = [_table(["team", "side", "score at the start", "final score"], rows, left=2)]
    for t in order:
        objs = game.spec.teams[t].objectives
        parts.append(f"<p class=note><b>{_e(team_name(game.spec, t))}</b>: " + "; ".join(
            f"{_e(o.name or o.kind)} {p:+.2f}" for o, p in zip(objs, final[t]["parts"],
                                                              strict=True)) + "</p>")
    return "".join(parts)


def world_path(game, results) -> str:
    """Key states and bloc shares at the start and after every turn."""
    keys = game.spec.key_states or list(game.scenario.key_states)
    head = ["", "start", *[f"turn {r.turn} ({r.years[1]})" for r in results]]
    rows = []
    for code in keys:
        i = game.world.index[code]
        rows.append([f"{code} {game.world.name[i]}", f"{results[0].alignment_before[i]:+.3f}",
                     *[f"{r.alignment_after[i]:+.3f}" for r in results]])
    for name in ("gdp_share_west", "gdp_share_sco", "gdp_weighted_alignment"):
        rows.append([name, _outcome(name, game.start["outcomes"][name]),
                     *[_outcome(name, r.outcomes[name]) for r in results]])
    return _table(head, rows)


def turn_section(game, results, turn: int) -> str:
    """One turn: headlines, injects and decisions, then each team's moves and their effects."""
    spec, world = game.spec, game.world
    r = results[turn - 1]
    span = f"{r.years[0]}" if r.years[0] == r.years[1] else f"{r.years[0]}-{r.years[1]}"
    out = [f"<section class=turn><h3>Turn {turn} ({span})"
           f"{' - skipped' if r.skipped else ''}</h3><ul>"]
    out += [f"<li><b>{_e(h)}</b></li>" for h in headlines(game, results, turn)]
    out.append("</ul>")
    out += [f"<p class=note>Inject ({_e(inj['source'])}): {_e(inject_text(spec, inj))}</p>"
            for inj in r.injects]
    for t in game.team_ids:
        moves = [m for m in r.moves if m["team"] == t]
        label = ", ".join(f"{move_label(m)} ({', '.join(_where(m))})" for m in moves) or "no moves"
        out.append(f"<p><b>{_e(team_name(spec, t))}</b> ({r.spent.get(t, 0):g} points): "
                   f"{_e(label)}. Score after the turn {r.scores[t]['total']:+.2f}.</p><ul>")
        sentences = effect_sentences(spec, world, results, turn, t, to_team=False)
        out += [f"<li>{_e(e.text)}</li>" for e in sentences]
        out += [f"<li>{_e(s)}</li>" for s in refusal_notes(spec, world, r, t, to_team=False)]
        out.append("</ul>")
    return "".join(out) + "</section>"


def _where(m: dict) -> list[str]:
    mv = m["move"]
    return mv.get("targets") or mv.get("states") or ([mv["state"]] if "state" in mv else [])


def decisive_moments(game, results, injects: list[dict]) -> str:
    """Moves ranked by their attributed effect over the game, injects by their causal effect."""
    world = game.world
    records = move_records(results)
    rows = []
    for owner, rec in records.items():
        if "move" not in rec["move"]:
            continue
        eff = sum(r.by_owner[r.owners.index(owner)] for r in results if owner in r.owners)
        i = int(np.argmax(np.abs(eff)))
        rows.append((float(np.abs(eff).sum()), f"turn {rec['turn']}",
                     f"{team_name(game.spec, rec['team'])}: {move_label(rec)}",
                     f"{world.name[i]} {amount(eff[i])} {direction(eff[i])}",
                     "attributed (ledger), summed over the turns since"))
    for inj in injects:
        eff = inj["effect"]
        i = int(np.argmax(np.abs(eff)))
        rows.append((float(np.abs(eff).sum()), f"turn {inj['turn']}",
                     "inject: " + (inj["source"] if inj["source"] != "ad hoc" else
                                   inject_text(game.spec, inj) + " (written on the spot)"),
                     f"{world.name[i]} {amount(eff[i])} {direction(eff[i])}",
                     "causal (game replayed without it)"))
    rows.sort(key=lambda x: (-x[0], x[1], x[2]))
    body = [[when, what, f"{size:.3f}", most, how] for size, when, what, most, how in
            rows[:DECISIVE]]
    return (_table(["when", "what", "total movement (sum over states)", "most moved",
                    "measured"], body, left=2)
            + "<p class=note>Total movement: the change of alignment it caused, in absolute value, "
              "added over all states, by the end of the game.</p>")


def _largest(values: np.ndarray, n: int = 3) -> list[int]:
    """Indices of the ``n`` largest values in size that a sentence would report."""
    top = np.argsort(-np.abs(values), kind="stable")[:n]
    return [int(i) for i in top if abs(values[i]) >= TOL]


def team_story(game, results, dec, team: str) -> str:
    """What a team's choices did over the whole game, in four sentences."""
    world, name = game.world, team_name(game.spec, team)
    moves = [m for r in results for m in r.moves if m["team"] == team]
    spent = sum(r.spent.get(team, 0.0) for r in results)
    att, eff = attributed_totals(results, team), dec.effects[team]
    parts = [f"{name} made {len(moves)} move(s) and spent {spent:g} points in {len(results)} "
             f"turn(s)."]
    moved = [f"{world.name[i]} {amount(att[i])} {direction(att[i])}" for i in _largest(att)]
    parts.append(f"By the model's attribution its moves moved {', '.join(moved)}." if moved
                 else "By the model's attribution its moves moved no state measurably.")
    caused = [f"{world.name[i]} at {dec.actual[i] - eff[i]:+.3f} instead of {dec.actual[i]:+.3f}"
              for i in _largest(eff)]
    parts.append(f"Played again without its moves, the world would have had "
                 f"{', '.join(caused)}." if caused else
                 "Played again without its moves, no state would have ended measurably elsewhere.")
    start, final = start_scores(game)[team]["total"], results[-1].scores[team]["total"]
    parts.append(f"Score: {start:+.2f} at the start, {final:+.2f} at the end.")
    return " ".join(parts)


def causal_section(game, results, dec) -> str:
    """Each team's causal effect, beside its attributed effect, and how the effects add up."""
    keys = game.spec.key_states or list(game.scenario.key_states)
    idx = [game.world.index[s] for s in keys]
    rows = []
    for t in game.team_ids:
        eff = dec.effects[t]
        att = attributed_totals(results, t)
        rows.append([team_name(game.spec, t), f"{np.abs(eff).sum():.3f}",
                     f"{np.abs(att).sum():.3f}",
                     *[f"{eff[i]:+.3f}" for i in idx],
                     _signed_outcome("gdp_share_west", dec.outcomes["gdp_share_west"][t])])
    parts = [f"<p>{_e(team_story(game, results, dec, t))}</p>" for t in game.team_ids]
    parts += [
        "<p>Each team's <b>causal effect</b> is the class's world minus the same game played "
        "again without that team's moves (same seed, so the same random numbers, the same "
        "injects and chance cards, every other team's moves unchanged). It includes what the "
        "moves did through neighbours and partners, which the attribution in the turn accounts "
        "leaves to the world. The attributed effect adds up the pushes of every step; inertia "
        "and peers then pull part of them back, so by the end of the game the causal effect is "
        "often the smaller of the two.</p>",
        _table(["team", "causal: total movement", "attributed: total movement",
                *[f"{k}" for k in keys], "GDP in the Western camp"], rows),
        "<p><b>How it adds up.</b> class's world = no-player world + the sum of the teams' "
        "causal effects + interaction. The <i>no-player world</i> is the game played again "
        "with every team's moves removed (the scenario, the injects and chance only); the "
        "<i>interaction</i> is what the teams' moves did together beyond the sum of their "
        "separate effects (an offer welcomed or refused, two blocs pushing on one state). "
        "It is zero when only one team moved.</p>"]
    head = ["", "no-player world", *[team_name(game.spec, t) for t in game.team_ids],
            "interaction", "class's world"]
    table = []
    for code, i in zip(keys, idx, strict=True):
        table.append([code, f"{dec.none[i]:+.3f}",
                      *[f"{dec.effects[t][i]:+.3f}" for t in game.team_ids],
                      f"{dec.interaction[i]:+.3f}", f"{dec.actual[i]:+.3f}"])
    for name in OUTCOME_ROWS:
        o = dec.outcomes[name]
        table.append([name, _outcome(name, o["none"]),
                      *[_signed_outcome(name, o[t]) for t in game.team_ids],
                      _signed_outcome(name, o["interaction"]), _outcome(name, o["actual"])])
    parts.append(_table(head, table))
    dropped = [d for k, v in dec.dropped.items() if k != ALL for d in v]
    if dropped:
        parts.append("<p class=note>Moves the replays could not play (they answered a move "
                     "that was left out): " + "; ".join(
                         f"turn {d['turn']} {_e(d['team'])}: {_e(move_label(d))}"
                         for d in dropped) + ".</p>")
    return "".join(parts)


def benchmark_section(comparisons) -> str:
    """The class's world among the model's runs without players."""
    rows = [[c.ensemble, c.measure, _outcome(c.measure, c.value), _outcome(c.measure, c.p10),
             _outcome(c.measure, c.p50), _outcome(c.measure, c.p90), f"{100 * c.rank:.0f}%"]
            for c in comparisons]
    return ("<ul>" + "".join(f"<li>{_e(c.text)}</li>" for c in comparisons) + "</ul>"
            + _table(["runs", "measure", "class", "10%", "median", "90%", "runs below the class"],
                     rows, left=2))


def render(game, runs: int = RUNS) -> str:
    """The whole debrief as HTML text."""
    results = game.history()
    if not results:
        raise ScenarioError("no turn has been resolved yet: nothing to debrief")
    spec = game.spec
    dec = decomposition(game)
    injects = inject_effects(game)
    comparisons = compare(game, runs)
    own = [c for c in comparisons if c.ensemble == "scenario"]
    lead = next((c for c in own if c.outside), own[0])  # own[0]: the West's share of GDP
    figs = game_figures(game)
    body = [
        f"<h1>Debrief: {_e(spec.name)}</h1>",
        f"<p>{_e(spec.description)}</p>",
        f"<p class=note>{len(results)} turn(s) of {spec.years_per_turn} year(s) "
        f"({results[0].years[0]}-{results[-1].years[1]}), seed {spec.seed}, teaching noise "
        f"{spec.noise:g}, teams: {_e(', '.join(team_name(spec, t) for t in game.team_ids))}."
        f"</p>",
        f"<p class=big>{_e(lead.text)}</p>",
        "<h2>Scoreboard</h2>", scoreboard(game),
        "<h2>The world's path, turn by turn</h2>",
        "<p class=note>Alignment runs from -1 (West) to +1 (SCO); a state leans to a camp beyond "
        f"±{game.threshold:g}.</p>", world_path(game, results),
        *[_img(png_bytes(f), name) for name, f in figs.items()],
        "<h2>Each turn: the moves and what they did</h2>",
        "<p class=note>Effects are the model's attribution: each lever's push on a state, "
        "split among the moves (and the scenario's own programmes) that used it, in proportion "
        "to their effort (docs/game.md, section 6).</p>",
        *[turn_section(game, results, k) for k in range(1, len(results) + 1)],
        "<h2>Decisive moments</h2>", decisive_moments(game, results, injects),
        "<h2>Each team's causal effect</h2>", causal_section(game, results, dec),
        "<h2>Your world among the model's worlds</h2>",
        f"<p>The same scenario run {runs} times by the model with the game's noise and no "
        "players: once with the scenario's own strategies, once with none.</p>",
        benchmark_section(comparisons),
        "<h2>Provenance</h2>",
        f"<p class=note>Game file {_e(spec.name)}, scenario {_e(game.scenario.name)}, seed "
        f"{spec.seed}: the model's generator is SeedSequence({spec.seed}, spawn_key=(0,)), "
        f"chance cards SeedSequence({spec.seed}, spawn_key=(1, turn)); the model runs use "
        f"replication_seeds({spec.seed}, {runs}). The game replays exactly from its log.</p>"]
    return (f"{HEAD}{_e(spec.name)}</title><style>{CSS}</style></head><body>"
            + "\n".join(body) + "</body></html>\n")


def write_debrief(game, out: Path | str, runs: int = RUNS) -> Path:
    """Write the debrief of ``game`` to ``out`` (one HTML file, atomically).

    ``out`` must be new or an earlier debrief, checked before the work: a user's file (or the
    game's own save) is never replaced.
    """
    out = Path(out)
    check_debrief_out(out)
    write_file_atomic(out, render(game, runs))
    return out


def check_debrief_out(out: Path) -> None:
    """Refuse ``out`` if it exists and is not a debrief (by how its text starts), in one line."""
    if not out.exists() and not out.is_symlink():
        return
    if not out.is_file():
        raise ScenarioError("is not a file: give the debrief's file name (--out FILE)",
                            file=str(out))
    try:
        with open(out, "rb") as fh:
            head = fh.read(len(HEAD.encode()))
    except OSError as exc:
        raise ScenarioError(f"cannot read it: {exc.strerror or exc}", file=str(out)) from None
    if head != HEAD.encode():
        raise ScenarioError("exists and is not a debrief; nothing was written: give a new file "
                            "name (--out FILE)", file=str(out))
