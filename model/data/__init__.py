"""Layer 1: the world's data: the shipped tables (CSV) and ``world.World`` built from them.

Imports base only.
"""
