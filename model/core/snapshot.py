"""A model's whole dynamic state at one moment, as plain data: save, undo and resume a game.

``BlocModel.snapshot()`` makes a ``Snapshot``; ``BlocModel.restore(snapshot)`` (or
``BlocModel.from_snapshot(world, snapshot)``) puts it back, after which the model continues to
the byte as the original would have. A snapshot is a JSON-able ``header`` (counters, timing,
parameters, plan, both generators' states, the status log, a fingerprint of the world) and a
dict of numpy ``arrays`` (alignment, deviations, statuses, ..., the record so far).

``to_bytes``/``from_bytes`` turn it into one ``.npz`` archive (``numpy.savez``; the header is
stored as UTF-8 JSON in the entry ``__header__``; read back with ``allow_pickle=False``), which
is lossless: arrays keep their dtype and bytes, and JSON floats are written by ``repr``, which
reads back to the same float64. No file is read or written here; ``run.snapshots.save_snapshot``
and ``run.snapshots.load_snapshot`` do that.

Part of the core: imports numpy only.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field

import numpy as np

FORMAT = "blocsim-snapshot"
VERSION = 1
_HEADER = "__header__"


class SnapshotError(ValueError):
    """A snapshot that does not fit the model it is restored into, or is not a snapshot."""


@dataclass(frozen=True)
class Snapshot:
    """The dynamic state of a ``BlocModel``: a JSON-able header and named arrays."""

    header: dict
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def k(self) -> int:
        """Steps taken when the snapshot was made."""
        return int(self.header["k"])

    def to_bytes(self) -> bytes:
        """One ``.npz`` archive holding the header (as JSON) and every array."""
        buf = io.BytesIO()
        text = json.dumps(self.header, sort_keys=True, allow_nan=False).encode("utf-8")
        np.savez(buf, **{_HEADER: np.frombuffer(text, dtype=np.uint8)}, **self.arrays)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Snapshot:
        """Read what ``to_bytes`` wrote; no pickled objects are accepted."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                arrays = {name: z[name] for name in z.files}
        except Exception as exc:  # not an npz archive at all
            raise SnapshotError(f"not a blocsim snapshot: {exc}") from None
        if _HEADER not in arrays:
            raise SnapshotError("not a blocsim snapshot: no header")
        header = json.loads(arrays.pop(_HEADER).tobytes().decode("utf-8"))
        if header.get("format") != FORMAT:
            raise SnapshotError("not a blocsim snapshot: wrong format tag")
        if header.get("version") != VERSION:
            raise SnapshotError(f"snapshot version {header.get('version')} is not supported "
                                f"(this blocsim reads version {VERSION})")
        return cls(header, arrays)


def world_fingerprint(world, *, with_scale: bool = True) -> str:
    """A SHA-256 of everything in a ``World`` the model reads: states, start values, relations.

    ``with_scale=False`` leaves out the per-state shock scale: the fingerprint blocsim wrote
    before worlds carried one (to recognise a snapshot of an earlier version).
    """
    h = hashlib.sha256()
    h.update("\0".join(str(c) for c in world.iso3).encode("utf-8"))
    for name in ("alignment", "gdp_usd", "population", "governance", "e_sco", "e_west", "s_sco",
                 "s_west", "sco_status", "nato", "eu", "csto", "brics"):
        h.update(name.encode())
        h.update(np.ascontiguousarray(getattr(world, name)).tobytes())
    rel = world.relations
    parts = (rel.fingerprint_parts() if hasattr(rel, "fingerprint_parts")
             else (rel.tocsr().data, rel.tocsr().indices, rel.tocsr().indptr))
    for part in parts:
        h.update(np.ascontiguousarray(part).tobytes())
    h.update("\0".join(str(s) for s in world.subregion).encode("utf-8"))
    scale = getattr(world, "shock_scale", None)
    if scale is not None and with_scale:  # only a world that carries one (older fingerprints unchanged)
        h.update(b"shock_scale")
        h.update(np.ascontiguousarray(scale, dtype=float).tobytes())
    return h.hexdigest()
