"""Layer 2: the model itself (dynamics, levers, the Mesa model, outcomes, the ensemble engine).

Reads no files and parses nothing: imports numpy, mesa, scipy, base and data only.
"""
