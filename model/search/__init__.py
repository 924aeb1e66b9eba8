"""Search over allocations of a Western budget (``blocsim search``), rank 5 beside ``analysis``.

``space`` (candidates as strategies), ``evaluate`` (common random numbers on the ensemble
engine), ``robust`` (criteria, Pareto front), ``optimise`` (optuna and the journal), ``results``
(tables), ``outputs`` (files) and ``service`` (``execute_search``).
"""
