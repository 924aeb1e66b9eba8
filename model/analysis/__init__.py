"""Layer 5: reading a batch back and comparing strategies (statistics, sensitivity).

Imports run and lower layers only; pandas in, pandas out.
"""
