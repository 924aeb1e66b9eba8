"""Who moved what: the model's per-lever attribution split among the teams' moves.

The model records, every step, each driver's contribution to each state's change of alignment
(``core.record.DRIVERS``: one row per lever, then sanctions, events, membership, peer, inertia,
shock). Several owners may use one lever on one state (the scenario's own programme and any
number of moves), so each lever's row is split among them in proportion to a stock of their
effort on that state: ``stock <- stock * exp(-decay * dt) + effort * dt`` each step, with the
decay of the lever's main channel (zero memory for a lever that only pushes directly). A move
therefore keeps its share of the fading effect of what it built after its turn is over. Within
a step the model's lever effects are linear in effort, so the split is exact when the owners
spend in the same years and approximate (by the stock rule) when they do not; rows other than
the levers' stay with the world (``drivers``). Owner 0 is the scenario.

Imports numpy and core only.
"""

from __future__ import annotations

import numpy as np

from ..core.dynamics import CHANNELS
from ..core.levers import LEVERS
from ..core.plan import Params

SCENARIO = "scenario"  # owner id of the scenario's own levers
_DECAY = {"e_sco": "econ_decay", "e_west": "econ_decay", "s_sco": "security_decay",
          "s_west": "security_decay", "governance": "governance_decay"}


def lever_decay(params: Params) -> np.ndarray:
    """Per lever (registry order), the yearly fade of its main channel; inf if it has none."""
    out = np.full(len(LEVERS), np.inf)
    for i, lever in enumerate(LEVERS.values()):
        if lever.rates:
            channel = max(lever.rates, key=lambda c: (abs(lever.rates[c]), -CHANNELS.index(c)))
            out[i] = getattr(params, _DECAY[channel])
    return out


class Ledger:
    """Effort stocks per owner, lever and state, and each owner's attributed change per state."""

    def __init__(self, params: Params, n: int, dt: float) -> None:
        self.keep = np.exp(-lever_decay(params) * dt)  # 0 for direct-only levers
        self.dt = dt
        self.owners: list[str] = [SCENARIO]
        self.stock = np.zeros((1, len(LEVERS), n))

    def add_owners(self, ids: list[str]) -> None:
        """Owners (accepted moves) that start spending now."""
        self.owners += ids
        pad = np.zeros((len(ids), *self.stock.shape[1:]))
        self.stock = np.concatenate([self.stock, pad])

    def step(self, effort: np.ndarray, contrib: np.ndarray) -> np.ndarray:
        """Take one step's effort (owners, levers, n) and the model's contributions (drivers, n).

        Returns each owner's share of the levers' contributions this step, (owners, n).
        """
        self.stock = self.stock * self.keep[None, :, None] + effort * self.dt
        total = self.stock.sum(axis=0)
        shares = np.divide(self.stock, total, out=np.zeros_like(self.stock), where=total > 0)
        return np.einsum("olj,lj->oj", shares, contrib[:len(LEVERS)])

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The stocks, for a save file."""
        return {"ledger_stock": self.stock.copy()}

    def restore(self, owners: list[str], arrays: dict[str, np.ndarray]) -> None:
        """Put back what ``to_arrays`` gave (with the owners' ids)."""
        self.owners = list(owners)
        self.stock = np.array(arrays["ledger_stock"], dtype=float, copy=True)
