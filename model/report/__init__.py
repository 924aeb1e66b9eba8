"""Layer 6: what people read: plots, tables as text, the HTML comparison report.

Imports analysis and lower layers only.
"""
