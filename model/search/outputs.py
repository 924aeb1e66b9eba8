"""A search's files: tables, the best allocations as strategy files, an experiment, a short report.

Written into the search's folder beside its journal, each file whole or not at all
(``base.files.write_file_atomic``); nothing in them depends on the clock or on the number of
workers, so the same spec gives the same bytes. ``strategies/`` holds the best allocations and
the hand-written strategies scaled to the best one's cost, beside ``none`` (no Western levers,
the experiment's reference); ``search.json`` lists them (``files``), and a rerun replaces or
removes only the files so listed, never one a user put there. ``experiment.yaml`` runs them all
through ``blocsim batch`` with the search's seed and replications, which gives the same outcomes
as the search (common random numbers). The Pareto plot comes from ``plotter`` (the report
layer's ``plot_search``), passed in by the command line.

Imports base, data, core, config, run and search only (yaml and pandas for the files).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import yaml

from model import __version__

from ..base.errors import ScenarioError
from ..base.files import write_file_atomic
from ..config.costs import strategy_costs
from ..config.scenario import Scenario, Strategy
from ..core.costs import COST_RULE
from ..core.outcomes import OUTCOMES
from ..core.seeds import SEED_RULE
from .optimise import JOURNAL, SearchRun
from .results import SearchTables, criterion_label

#: What a search folder may hold: ours, so a rerun may replace them.
SEARCH_FILES = frozenset({JOURNAL, "search.json", "candidates.csv", "pareto.csv", "comparison.csv",
                          "pareto.png", "report.md", "experiment.yaml", "strategies"})


def strategy_yaml(strategy: Strategy, scenario: Scenario, world) -> str:
    """A strategy file: its cost as a comment, then name, description and west (plain YAML)."""
    costs = strategy_costs(scenario.with_strategy(strategy), world)
    total = sum(c.total_bn for c in costs)
    lines = [f"# Cost in {scenario.name} ({scenario.start_year + 1}-{scenario.end_year}): "
             f"{total / scenario.horizon:.4g} US$ bn a year, {total:.4g} in all (docs/model.md, 4.1)."]
    lines += [f"#   {c.lever}: {c.bn_per_year:.4g} bn a year over {c.states} states" for c in costs]
    west = {name: cfg.model_dump(exclude_none=True, exclude_defaults=True)
            for name, cfg in strategy.west if cfg is not None}
    doc = {"name": strategy.name, "description": strategy.description, "west": west}
    return "\n".join(lines) + "\n" + yaml.safe_dump(doc, sort_keys=False, width=100)


#: The reference of the search's experiment: what the allocations' effects and costs are measured
#: from (the West spends nothing), so the bottom line says "lowers it by X against none, at US$ Y".
NO_LEVERS = Strategy(name="none", description="No Western levers: the reference against which "
                     "'blocsim search' measures its allocations' effects and costs.")


def owned_files(out_dir: Path) -> set[str]:
    """The strategy files an earlier run of the search wrote here, as its ``search.json`` lists them.

    Only these may be replaced or removed: a file a user put into ``strategies/`` is never
    touched. For a search written before ``search.json`` kept the list, the strategies of its
    ``experiment.yaml`` (which lists every file that search wrote) stand in.
    """
    files = _listed(Path(out_dir) / "search.json", "files", json.loads)
    if files is None:
        files = _listed(Path(out_dir) / "experiment.yaml", "strategies", yaml.safe_load) or []
    return {f for f in files if isinstance(f, str) and f.startswith("strategies/")
            and "/" not in f.removeprefix("strategies/") and f.endswith(".yaml")}


def _listed(path: Path, key: str, parse: Callable) -> list | None:
    """``doc[key]`` of a small JSON or YAML file the search wrote, if it is a list (else None)."""
    try:
        doc = parse(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError):
        return None
    value = doc.get(key) if isinstance(doc, dict) else None
    return value if isinstance(value, list) else None


def _csv(frame) -> str:
    return frame.to_csv(index=False, lineterminator="\n")


def write_outputs(run: SearchRun, tables: SearchTables, out_dir: Path, scenario: Scenario, world,
                  *, spec_file: Path, plotter: Callable | None = None) -> list[Path]:
    """Write every file but the journal; returns their paths."""
    out_dir = Path(out_dir)
    spec = run.spec
    written: list[Path] = []

    strategies = list(tables.best)
    written_strategies = [NO_LEVERS] + strategies + list(tables.compared)
    files = [f"strategies/{st.name}.yaml" for st in written_strategies]
    before = owned_files(out_dir)
    foreign = [f for f in files if (out_dir / f).exists() and f not in before]
    if foreign:
        raise ScenarioError(f"{out_dir / foreign[0]} is not a file this search wrote (search.json "
                            f"does not list it); nothing was written: move it away (the journal "
                            f"keeps the scored candidates)")

    def put(name: str, text: str | bytes) -> None:
        write_file_atomic(out_dir / name, text)
        written.append(out_dir / name)

    put("candidates.csv", _csv(tables.candidates))
    put("pareto.csv", _csv(tables.pareto))
    if len(tables.comparison):
        put("comparison.csv", _csv(tables.comparison))
    for st, rel in zip(written_strategies, files, strict=True):
        put(rel, strategy_yaml(st, scenario, world))
    for rel in sorted(before - set(files)):  # an earlier run's extras, never a user's file
        if rel.startswith("strategies/") and rel.endswith(".yaml"):
            (out_dir / rel).unlink(missing_ok=True)
    spec_dir = Path(spec_file).resolve().parent
    exp = {"name": f"{spec.name}_check",
           "description": f"The best allocations of search '{spec.name}' (and the hand-written "
                          f"strategies at the same cost), run as an ordinary batch with the "
                          f"search's seeds: the outcomes equal the search's.",
           "scenarios": [os.path.relpath(spec_dir / s, out_dir.resolve()) for s in spec.scenarios],
           "strategies": files, "reference": NO_LEVERS.name,
           "replications": spec.replications, "seed": spec.seed,
           "primary": spec.outcome, "swing_group": list(spec.swing_group),
           "keep_trajectories": False}
    if spec.horizon is not None:
        exp["horizon"] = spec.horizon
    put("experiment.yaml", yaml.safe_dump(exp, sort_keys=False, width=100))
    if plotter is not None:
        put("pareto.png", plotter(tables, spec))
    else:  # not an earlier search's figure beside these tables
        (out_dir / "pareto.png").unlink(missing_ok=True)
    best = tables.candidates.loc[tables.candidates["rank"] == 1]
    manifest = {"search": spec.name, "version": __version__, "spec_file": str(spec_file),
                "outcome": spec.outcome, "direction": OUTCOMES[spec.outcome].direction,
                "robustness": spec.robustness, "budget_bn_per_year": spec.budget,
                "trials": len(run.trials), "seed": spec.seed,
                "replication_seeds": list(run.problem.seeds), "seed_rule": SEED_RULE,
                "scenarios": run.problem.names, "cost_rule": COST_RULE,
                "best_trial": int(best["trial"].iloc[0]) if len(best) else None,
                "best": [st.name for st in strategies], "files": files}
    put("search.json", json.dumps(manifest, indent=2) + "\n")
    put("report.md", report_markdown(run, tables, scenario))
    return written


def _fmt(x: float) -> str:
    return f"{x:.4g}" if np.isfinite(x) else "n/a"


def report_markdown(run: SearchRun, tables: SearchTables, scenario: Scenario) -> str:
    """The short report: the question, the best allocations, the front and the comparison."""
    spec, cand = run.spec, tables.candidates
    outcome = OUTCOMES[spec.outcome]
    more = "more" if outcome.direction == "max" else "less"
    out = [f"# Search `{spec.name}`", "", spec.description.strip() or "", "",
           f"**Question.** How should the West spend up to {spec.budget:g} US$ bn a year on "
           f"{', '.join(spec.levers)} in {', '.join(spec.targets)} to get {more} "
           f"`{spec.outcome}` ({outcome.description}), judged by the {criterion_label(spec)} "
           f"over {len(run.problem.names)} scenario(s) ({', '.join(run.problem.names)}) and "
           f"{spec.replications} replications with common random numbers?", "",
           f"{len(run.trials)} candidates ({spec.sampler} sampler, seed {spec.seed}, step "
           f"{spec.step:g}); cost by the rule of docs/model.md 4.1 in {scenario.name}.", "",
           "## Best allocations (US$ bn a year per lever and target group)", ""]
    bn = [c for c in cand if c.startswith("bn_")]
    head = (["rank", "trial", "cost/yr", criterion_label(spec), "mean", "worst", "worst in"]
            + [c[3:] for c in bn])
    out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, row in cand[cand["rank"].between(1, spec.best)].sort_values("rank").iterrows():
        out.append("| " + " | ".join([str(int(row["rank"])), str(int(row["trial"])),
                                      _fmt(row["cost_bn_per_year"]), _fmt(row["criterion"]),
                                      _fmt(row["mean"]), _fmt(row["worst"]),
                                      _worst_in(row, run.problem.names, spec.outcome)]
                                     + [_fmt(row[c]) for c in bn]) + " |")
    out += ["", f"Strategy files: `strategies/{spec.name}_best1.yaml` and the next ones; "
                f"`blocsim batch experiment.yaml` runs them with the search's seeds.", "",
            f"## Pareto front ({len(tables.pareto)} of {len(cand)} candidates)", "",
            "Not beaten at once on the mean outcome, the cost and the worst scenario "
            "(`pareto.csv`, `pareto.png`).", ""]
    comp = tables.comparison
    if len(comp):
        out += ["## Against the hand-written strategies at equal cost", "",
                f"Each scaled to {comp['scaled_to_bn_per_year'].iloc[0]:.4g} US$ bn a year (the "
                f"best allocation's cost), same seeds. 'best - this' is the best allocation's "
                f"advantage for the West in `{spec.outcome}`, per replication averaged over "
                f"scenarios, with a 95% interval.", "",
                f"| strategy | cost/yr | mean | worst | {criterion_label(spec)} | best - this | 95% CI "
                f"| beaten |",
                "|---|---|---|---|---|---|---|---|"]
        for _, r in comp.iterrows():
            out.append(f"| {r['strategy']} | {_fmt(r['cost_bn_per_year'])} | {_fmt(r['mean'])} | "
                       f"{_fmt(r['worst'])} | {_fmt(r['criterion'])} | "
                       f"{_fmt(r['best_minus_this_for_west'])} | {_fmt(r['ci95_low'])} to "
                       f"{_fmt(r['ci95_high'])} | {'yes' if r['best_beats_it'] else 'no'} |")
        others = comp.iloc[1:]
        verdict = ("beats every hand-written strategy" if bool(others["best_beats_it"].all())
                   else f"beats {int(others['best_beats_it'].sum())} of the {len(others)} "
                        f"hand-written strategies")
        clear = int((others["ci95_low"] > 0).sum())
        out += ["", f"At equal cost the best allocation {verdict} on the {criterion_label(spec)}; "
                    f"its paired advantage is clear of the noise (95% interval above zero) against "
                    f"{clear} of {len(others)}. It was picked on these very seeds: check it on "
                    f"fresh ones (below)."]
    out += _next_steps(spec, tables)
    return "\n".join(out) + "\n"


def _worst_in(row, names: list[str], outcome: str) -> str:
    """The scenario of a candidate's worst mean (for the West)."""
    sign = 1.0 if OUTCOMES[outcome].direction == "max" else -1.0
    means = [sign * float(row[f"mean_{n}"]) for n in names]
    return names[int(np.argmin(means))] if np.isfinite(means).all() else "n/a"


def _next_steps(spec, tables: SearchTables) -> list[str]:
    """The commands that check the best allocation as an analyst would, from this folder."""
    if not tables.best:
        return []
    best, comp = tables.best[0].name, tables.comparison
    rival = (comp.iloc[1:].sort_values("score", ascending=False, kind="stable")["strategy"].iloc[0]
             if len(comp) > 1 else "none")
    return ["", "## Next", "",
            "From this folder (`experiment.yaml` runs the best allocations, the hand-written "
            "strategies at the same cost and `none`, the reference):", "", "```sh",
            "blocsim batch experiment.yaml --out check",
            f'blocsim compare check --when "{best} loses to {rival}"   # bottom line: cost, '
            f"where it loses",
            "blocsim batch experiment.yaml --out fresh --seed 99 --runs 100   # fresh seeds",
            "```"]
