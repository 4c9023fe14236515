"""Several backends behind one: the web server answers requests in threads at once, while the
embedded store answers one query at a time per query worker (kg.worker: one process and one pipe
per LocalStore). The pool lends each query a backend nobody else is using.
"""

from __future__ import annotations

import queue
from collections.abc import Mapping
from pathlib import Path

from rdflib.term import Identifier


class BackendPool:
    """Backends of one graph used one query at a time each; looks like one backend (it has the
    store's path, so kg.duty's fast path finds the store behind it)."""

    def __init__(self, backends: list):
        if not backends:
            raise ValueError("a pool needs at least one backend")
        self.backends = list(backends)
        self.path: Path | None = getattr(backends[0], "path", None)
        self._free: queue.Queue = queue.Queue()
        for backend in backends:
            self._free.put(backend)

    def select(self, query: str, bindings: Mapping[str, Identifier] | None = None) -> list:
        """Run the query on a free backend."""
        backend = self._free.get()
        try:
            return backend.select(query, bindings)
        finally:
            self._free.put(backend)

    def triple_count(self) -> int:
        """The number of quads in the store."""
        backend = self._free.get()
        try:
            return backend.triple_count()
        finally:
            self._free.put(backend)

    def close(self) -> None:
        """Close every backend that can be closed (stops the query workers)."""
        for backend in self.backends:
            if hasattr(backend, "close"):
                backend.close()


def local_pool(first, size: int = 2, timeout: float | None = None) -> BackendPool:
    """A pool of `size` handles on the embedded store `first` was opened on (first included)."""
    from kg.store import LocalStore

    others = [LocalStore.open(first.path, timeout) for _ in range(size - 1)]
    return BackendPool([first, *others])
