"""An ensemble engine: all replications of one scenario advanced together, as one array.

``BlocModel`` steps one run at a time over (n,) arrays. Replications of a scenario differ only
by their random numbers, so everything a run does can be written over (n, R) arrays, columns
being runs: alignment, its smoothed copy, streaks, SCO statuses and anchors. The (n, R) layout
(states first) lets the peer term be one sparse product ``relations @ D`` with the runs as
contiguous right-hand sides, the fastest orientation scipy offers.

What is shared is stored once: the lever plan, events, and the *structural deviations*
(sources x channels x states). Deviations depend only on each state's path of SCO statuses, and
every column (state) evolves on its own, so they are the same in every run until a run's
membership decision changes a state's status. From then on that (state, run) pair is
*diverged*: its deviation column is copied out of the shared array and carried on its own
(a compact (sources, channels, pairs) block), advanced by exactly the same column-wise
functions. A run is thus the shared deviations with its diverged columns swapped in. The
shared columns follow the plan alone, so they are stepped once per plan (``shared``) and every
ensemble of the plan reads them: a batch cell's chunks do not step them again.

Random numbers come from each replication's own generator, drawn exactly as ``BlocModel``
draws them (one integer for Mesa's stdlib generator at construction, then per step
``standard_normal(n)`` and ``random(n)`` twice), so every run equals the ``BlocModel`` run with
the same seed. Sums keep ``BlocModel``'s order (sources row by row, then peer, inertia, shock;
``sum_rows``), so the results are bit for bit the same, not merely close. Where the engine
takes fewer operations than the model (no ``x * 1.0``, a negation folded into a factor, the
membership test only over the states whose status can change), each short cut is one that
cannot change a bit, and ``tests/core/test_ensemble_arith.py`` compares it with the formula.

Alignment and membership are stepped a block of runs at a time (``block`` columns), which keeps
the temporaries small. Attribution keeps only what a run's contributions cannot be recomputed
without: the shared source pushes (with their diverged columns) and each run's peer and shock
pushes; ``EnsembleResult`` replays ``alignment_step``'s arithmetic for a run when asked
(``replay_contributions``), with the same functions and so the same bits.

The modules: ``plan`` (the shared plan, random numbers), ``columns`` (the column-wise
arithmetic), ``shared`` (the shared columns' steps, once per plan), ``result``
(``EnsembleResult``) and ``engine`` (``Ensemble``). Part of the core:
imports numpy and the core's own modules only; building a plan from a scenario
(``prepare_plan``, ``run_ensemble``) lives in ``config.build``.
"""

from .columns import replay_contributions, shared_parts
from .engine import Ensemble
from .plan import SharedPlan, bump_tables, shared_plan, start_generators
from .result import EnsembleResult

__all__ = ["Ensemble", "EnsembleResult", "SharedPlan", "bump_tables",
           "replay_contributions", "shared_parts", "shared_plan", "start_generators"]
