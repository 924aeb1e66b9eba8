"""The relations operator: a row-normalised influence matrix that stays O(n k) in memory and time.

Subregions and alliances tie *every pair* of their members. Written out, a group of m members
costs m * (m - 1) stored entries, so a custom world of 10,000 states with subregions of ~500
would store ~860 peers per state and grow as n^2. ``Relations`` keeps small groups (at most
``CLIQUE_CAP`` members) as explicit sparse entries, as before, and holds each *large* group in
factored form: its (exact) contribution to row ``i`` is

    w_g * (sum_{j in g} x_j - x_i)          for i in g  (the group's total, minus self)

which costs O(m) per product instead of O(m^2). Row normalisation is folded in: the operator is
``diag(1 / total_i) @ (E + sum_g w_g (1_g 1_g^T - I_g))`` with ``E`` the explicit entries. No
approximation; it differs from the written-out matrix only by floating-point rounding (the
group total is summed once instead of per row).

With no large group, the operator holds exactly the CSR matrix that was built before and its
products are that matrix's products, bit for bit (the built-in world's largest group, NATO, has
32 members).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from scipy import sparse

#: Groups larger than this are held in factored form rather than written out pair by pair.
CLIQUE_CAP = 64


class Relations:
    """Row-normalised relations ``A`` (row i: who influences state i), usable as ``A @ x``.

    ``explicit`` is the row-normalised sparse part (CSR); ``members`` is a (groups x n) 0/1 CSR
    of the large groups, ``weights`` their raw pair weights, ``scale`` the row normaliser
    (1 / raw row total, 0 for an empty row). ``x`` may be (n,) or (n, R).
    """

    def __init__(self, explicit: sparse.csr_matrix, members: sparse.csr_matrix | None = None,
                 weights: np.ndarray | None = None, scale: np.ndarray | None = None):
        from scipy import sparse  # here, not at import: checking a scenario never builds relations

        self.explicit = explicit
        n = explicit.shape[0]
        self.shape = explicit.shape
        if members is None or members.shape[0] == 0:
            self.members = sparse.csr_matrix((0, n))
            self.weights = np.zeros(0)
            self._spread = None
            self._self_weight = np.zeros(n)
        else:
            self.members = members.tocsr()
            self.weights = np.asarray(weights, dtype=float)
            # spread[i, g] = scale_i * w_g for i in g: the group total's share in row i
            spread = (sparse.diags(scale) @ self.members.T @ sparse.diags(self.weights)).tocsr()
            self._spread = spread
            self._self_weight = np.asarray(spread.sum(axis=1)).ravel()
        for part in (self.weights, self._self_weight):
            part.setflags(write=False)

    # --- products -----------------------------------------------------------------------------

    @property
    def factored(self) -> bool:
        """True if some group is held in factored form."""
        return self._spread is not None

    def dot(self, x: np.ndarray) -> np.ndarray:
        """``A @ x`` for x of shape (n,) or (n, R)."""
        out = self.explicit @ x
        if self._spread is None:
            return out
        totals = self.members @ x                      # (groups,) or (groups, R)
        sw = self._self_weight if np.ndim(x) == 1 else self._self_weight[:, None]
        return out + (self._spread @ totals - sw * x)

    def __matmul__(self, x):
        return self.dot(x)

    # --- row sums and reporting ---------------------------------------------------------------

    def row_sums(self) -> np.ndarray:
        """Sum of each row: 1 for a state with relations, 0 for one without."""
        sums = np.asarray(self.explicit.sum(axis=1)).ravel()
        if self._spread is None:
            return sums
        sizes = np.asarray(self.members.sum(axis=1)).ravel()
        return sums + (self._spread @ sizes - self._self_weight)

    def sum(self, axis=None):
        """As a scipy matrix's ``sum``: axis=1 gives an (n, 1) column of row sums."""
        rows = self.row_sums()
        if axis is None:
            return rows.sum()
        if axis in (1, -1):
            return rows[:, None]
        return self.tocsr().sum(axis=0)

    @property
    def has_relations(self) -> np.ndarray:
        """(n,) bool: states whose row is not empty (they feel a peer push)."""
        return self.row_sums() > 0

    @property
    def stored(self) -> int:
        """Entries actually stored: explicit nonzeros plus one per (state, large group)."""
        return int(self.explicit.nnz + 2 * self.members.nnz)

    @property
    def nnz(self) -> int:
        """Nonzeros of the matrix ``A`` it stands for, pairs in large groups counted.

        With large groups an upper bound: a pair tied in several ways counts each way.
        """
        sizes = np.asarray(self.members.sum(axis=1)).ravel()
        return int(self.explicit.nnz + (sizes * (sizes - 1)).sum())

    def peers_per_state(self) -> float:
        """Mean number of states influencing a state (nonzeros of ``A`` per row)."""
        return self.nnz / max(self.shape[0], 1)

    def stored_per_state(self) -> float:
        """Mean number of stored entries per state: O(k), independent of group sizes."""
        return self.stored / max(self.shape[0], 1)

    # --- materialising and fingerprinting -------------------------------------------------------

    def tocsr(self) -> sparse.csr_matrix:
        """The whole matrix as CSR: the held matrix itself without large groups.

        O(n^2) with large groups: for small worlds and tests.
        """
        from scipy import sparse

        if self._spread is None:
            return self.explicit
        n = self.shape[0]
        cliques = (self._spread @ self.members).tocsr()
        out = self.explicit + cliques - sparse.diags(self._self_weight, shape=(n, n))
        out = out.tocsr()
        out.setdiag(0.0)  # exactly: no self-ties (the diagonal is a rounding residue here)
        out.eliminate_zeros()
        out.sort_indices()
        return out

    def toarray(self) -> np.ndarray:
        """The whole matrix, dense (small worlds and tests)."""
        return self.tocsr().toarray()

    def __getitem__(self, key):
        return self.tocsr()[key]

    def __getattr__(self, name: str):
        # Anything else a scipy matrix offers (diagonal, min, getrow, ...) reads the whole matrix:
        # fine for small worlds and tests, O(n^2) with large groups.
        if name.startswith("_") or name in ("explicit", "members", "weights", "shape"):
            raise AttributeError(name)
        return getattr(self.tocsr(), name)

    def fingerprint_parts(self) -> tuple[np.ndarray, ...]:
        """Arrays that determine the operator, in a fixed order.

        The explicit CSR's data, indices and indptr (exactly these, with no large group), then
        the large groups' members, weights and per-row shares.
        """
        e = self.explicit
        parts: tuple[np.ndarray, ...] = (e.data, e.indices, e.indptr)
        if self._spread is None:
            return parts
        m = self.members
        return parts + (m.indices, m.indptr, self.weights, self._spread.data)

    def __repr__(self) -> str:
        return (f"Relations(n={self.shape[0]}, explicit nnz={self.explicit.nnz}, "
                f"large groups={self.members.shape[0]})")
