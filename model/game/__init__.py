"""The classroom wargame: game files, teams and moves, the turn engine, saves and logs.

Layer 7: imports base, data, core, config (and run, analysis, report when it needs them).
``docs/game.md`` documents the file formats and this API.
"""

__all__ = ["spec", "moves", "engine", "plans", "turns", "ledger", "scoring", "store", "script"]
