"""Seeds for replications, spawned up front from one root seed and recorded as plain integers.

``numpy.random.SeedSequence(root).spawn(n)`` gives independent children; each child is turned
into one 64-bit integer so that a run can be repeated alone from the number in the output
(replication k's generator is ``numpy.random.default_rng(seeds[k])``).

Part of the core: imports numpy only.
"""

from __future__ import annotations

import numpy as np

#: How the seeds in outputs were made, written beside them.
SEED_RULE = ("seeds = numpy.random.SeedSequence(root_seed).spawn(replications), each child k "
             "turned into the integer child.generate_state(1, uint64)[0] listed here; "
             "replication k's generator is numpy.random.default_rng(seed k)")


def replication_seeds(root: int, n: int) -> list[int]:
    """``n`` independent 64-bit seeds spawned from ``root`` (the same list whoever asks)."""
    children = np.random.SeedSequence(root).spawn(n)
    return [int(c.generate_state(1, dtype=np.uint64)[0]) for c in children]
