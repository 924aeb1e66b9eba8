"""Layer 4: running scenarios and batches, and writing their tables and folders.

Imports base, data, core and config only.
"""
