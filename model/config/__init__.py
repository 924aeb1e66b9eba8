"""Layer 3: reading users' files (YAML scenarios and experiments) and building the model from them.

Imports base, data and core only.
"""
