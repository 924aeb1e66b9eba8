"""blocsim: an agent-based model of states drifting between the West and the SCO.

The public API, imported lazily (PEP 562): ``import model`` loads neither mesa nor pandas; a
name is imported from its layer the first time it is used. The layers, bottom to top (a module
imports its own layer and lower ones only; ``docs/architecture.md``): ``base`` (errors, files),
``data`` (the world), ``core`` (the model), ``config`` (YAML files -> model), ``run`` (runs and
batches), ``analysis`` (comparing strategies), ``report`` (plots, HTML), ``apps`` (command line).
"""

__version__ = "0.1.0"

from importlib import import_module

#: Public name -> the module that defines it.
_WHERE = {
    "ScenarioError": "model.base.errors",
    "NonFiniteError": "model.base.errors",
    "World": "model.data.world",
    "load_world": "model.data.world",
    "BlocModel": "model.core.simulation",
    "RunResult": "model.core.simulation",
    "Params": "model.core.plan",
    "Plan": "model.core.plan",
    "LeverAction": "model.core.plan",
    "EventAction": "model.core.plan",
    "Snapshot": "model.core.snapshot",
    "OUTCOMES": "model.core.outcomes",
    "replication_seeds": "model.core.seeds",
    "Ensemble": "model.core.ensemble",
    "EnsembleResult": "model.core.ensemble",
    "SharedPlan": "model.core.ensemble",
    "Scenario": "model.config.scenario",
    "Strategy": "model.config.scenario",
    "load_scenario": "model.config.scenario",
    "load_strategy": "model.config.scenario",
    "ExperimentSpec": "model.config.experiment",
    "load_experiment": "model.config.experiment",
    "prepare_world": "model.config.checks",
    "params_from_scenario": "model.config.build",
    "plan_from_scenario": "model.config.build",
    "model_from_scenario": "model.config.build",
    "run_scenario": "model.config.build",
    "prepare_plan": "model.config.build",
    "run_ensemble": "model.config.build",
    "execute_run": "model.run.service",
    "RunOutput": "model.run.service",
    "replicate": "model.run.service",
    "run_replications": "model.run.service",
    "save_snapshot": "model.run.snapshots",
    "load_snapshot": "model.run.snapshots",
    "Design": "model.run.design",
    "expand": "model.run.design",
    "run_batch": "model.run.batch",
    "load_batch": "model.analysis.results",
    "compare_tables": "model.report.tables",
    "write_report": "model.report.html",
    "main": "model.apps.cli",
}

__all__ = ["__version__", *_WHERE]


def __getattr__(name: str):
    """Import a public name from its layer on first use (PEP 562), then keep it here."""
    try:
        module = _WHERE[name]
    except KeyError:
        raise AttributeError(f"module 'model' has no attribute {name!r}") from None
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
