"""Layer 8: the command line (``blocsim``): argument parsing and one call per command.

Imports any layer below.
"""
