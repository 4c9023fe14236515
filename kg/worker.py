"""Queries on the embedded store in a child process, so that a time limit can stop them.

pyoxigraph cannot cancel a running query, and a query that outgrows memory aborts the whole
process (a Rust allocation failure). So an on-disk store is opened by a worker process, forked
once per command before the store is opened anywhere, with its address space capped; each query
is sent to it and its rows come back. A query that runs past its time limit is stopped by killing
the worker (a new one starts for the next query); a worker that dies (out of memory) becomes a
one-line error. Neither ever takes the command down with it.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import weakref
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg.errors import InputError, StoreError

MEMORY_VARIABLE = "TARIFFKG_QUERY_MEMORY_MB"
DEFAULT_MEMORY_MB = 4096

# A row travels as tuples of plain values: (name, kind, value, datatype or language)
Cell = tuple[str, str, str, str | None]


def available() -> bool:
    """True where a worker can be forked (Linux, macOS); elsewhere queries run in-process."""
    return "fork" in multiprocessing.get_all_start_methods()


def memory_limit_mb() -> int:
    """The address-space cap of the query worker in MiB (TARIFFKG_QUERY_MEMORY_MB, default 4096)."""
    text = os.environ.get(MEMORY_VARIABLE, "")
    return int(text) if text.isdigit() and int(text) >= 256 else DEFAULT_MEMORY_MB


class QueryWorker:
    """A child process holding the store at path open read-only and answering SELECT queries."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._process: Any = None
        self._pipe: Any = None

    def start(self) -> None:
        """Fork the worker and wait until it has opened the store (StoreError if it cannot)."""
        context = multiprocessing.get_context("fork")
        parent, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(str(self.path), child,
                                                             memory_limit_mb(), os.getpid()),
                                        daemon=True)
        self._process.start()
        child.close()
        weakref.finalize(self, _kill, self._process, parent)
        self._pipe = parent
        status, detail = self._receive(60.0, "opening the store")
        if status != "ready":
            self.stop()
            raise StoreError(f"cannot open the store at {self.path}: {detail}")

    def stop(self) -> None:
        """Kill the worker (if any) and forget it."""
        if self._process is not None and self._process.is_alive():
            self._process.kill()
        if self._process is not None:
            self._process.join(timeout=10)
        if self._pipe is not None:
            self._pipe.close()
        self._process = self._pipe = None

    def select(self, query: str, timeout: float | None) -> tuple[list[str], list[list[Cell]]]:
        """The variables and rows of a SELECT query, or an error after timeout seconds."""
        if self._process is None or not self._process.is_alive():
            self.start()
        self._pipe.send(("select", query))
        status, detail = self._receive(timeout, "running the query")
        if status == "error":
            kind, message = detail
            raise (InputError if kind == "input" else StoreError)(message)
        return detail

    def count(self) -> int:
        """The number of quads in the store."""
        if self._process is None or not self._process.is_alive():
            self.start()
        self._pipe.send(("count", ""))
        return self._receive(600.0, "counting")[1]

    def _receive(self, timeout: float | None, doing: str):
        try:
            ready = self._pipe.poll(timeout)
        except (EOFError, OSError):
            ready = True
        if not ready:
            self.stop()
            raise StoreError(f"the query did not finish within {timeout:g} s (--timeout); "
                             "it was stopped")
        try:
            return self._pipe.recv()
        except (EOFError, OSError):
            code = self._process.exitcode if self._process else None
            self._process.join(timeout=5) if self._process else None
            code = self._process.exitcode if self._process else code
            self.stop()
            raise StoreError(_death(code, doing)) from None


def _kill(process, pipe) -> None:
    """Stop a worker whose QueryWorker is gone (a command's backend going out of scope)."""
    try:
        pipe.close()
    except OSError:
        pass
    if process.is_alive():
        process.kill()
        process.join(timeout=10)


def _death(code: int | None, doing: str) -> str:
    if code in (-signal.SIGABRT, -signal.SIGKILL, -signal.SIGSEGV, 134, 137):
        return (f"the query process ran out of memory while {doing} (it may use "
                f"{memory_limit_mb()} MiB; set {MEMORY_VARIABLE} to change that): narrow the query")
    return f"the query process stopped while {doing} (exit code {code})"


def _die_with(parent_pid: int) -> None:
    """Ask Linux to kill this process when its parent ends (prctl PR_SET_PDEATHSIG)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:
        os._exit(0)  # the parent ended before the request took effect


def _serve(path: str, pipe, memory_mb: int, parent_pid: int) -> None:
    """The worker's loop: open the store, then answer requests until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and kills us
    _die_with(parent_pid)  # inherited copies of other workers' pipes could keep this one alive
    try:  # a Rust allocation failure prints a backtrace: the parent says it in one line instead
        os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
    except OSError:
        pass
    try:
        import resource

        limit = _address_space() + memory_mb * 1024 * 1024  # what the fork inherited, plus the cap
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass
    try:
        store = ox.Store.read_only(path)
    except OSError as error:
        pipe.send(("failed", str(error)))
        return
    pipe.send(("ready", None))
    while True:
        try:
            request, text = pipe.recv()
        except (EOFError, OSError):
            return
        try:
            pipe.send(("ok", len(store) if request == "count" else _select(store, text)))
        except InputError as error:
            pipe.send(("error", ("input", str(error))))
        except MemoryError:
            message = (f"the query ran out of memory ({memory_mb} MiB, {MEMORY_VARIABLE}): "
                       "narrow the query")
            pipe.send(("error", ("store", message)))
        except (SyntaxError, ValueError) as error:
            pipe.send(("error", ("input", f"SPARQL syntax error: {str(error)[:200]}")))
        except Exception as error:  # noqa: BLE001 - pyoxigraph's evaluation errors (OSError,
            # RuntimeError for SERVICE ?unbound...) end the query, never the worker
            pipe.send(("error", ("store", f"the query failed: {str(error)[:200]}")))


def _address_space() -> int:
    """The bytes of address space this process holds now (a fork holds its parent's)."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _select(store: ox.Store, query: str) -> tuple[list[str], list[list[Cell]]]:
    solutions = store.query(query, use_default_graph_as_union=True)
    if not isinstance(solutions, ox.QuerySolutions):
        raise InputError("only SELECT queries can be run here")
    names = [v.value for v in solutions.variables]
    rows = []
    for solution in solutions:
        rows.append([_cell(name, solution[name]) for name in names if solution[name] is not None])
    return names, rows


def _cell(name: str, term) -> Cell:
    if isinstance(term, ox.NamedNode):
        return (name, "iri", term.value, None)
    if isinstance(term, ox.BlankNode):
        return (name, "blank", term.value, None)
    if isinstance(term, ox.Literal):
        if term.language:
            return (name, "lang", term.value, term.language)
        return (name, "literal", term.value, term.datatype.value)
    return (name, "other", str(term), None)
