"""A read-only SPARQL 1.1 Protocol endpoint over the embedded store, with a time limit per query.

Requests: GET ?query=, POST of an HTML form (application/x-www-form-urlencoded, field `query`), or
POST of the query itself (application/sparql-query); `default-graph-uri` and `named-graph-uri` as
the protocol defines them. Updates (`update=`, application/sparql-update, or an update sent as a
query) are refused with 403, and so is SERVICE (the endpoint never calls other servers). Results
follow the Accept header: SPARQL JSON (the default), XML, CSV or TSV for SELECT and ASK; Turtle
(the default), N-Triples or RDF/XML for CONSTRUCT and DESCRIBE.

Queries run in worker processes that hold the store open read-only: a query still running at the
time limit has its worker killed (pyoxigraph cannot interrupt a query), and a new worker takes its
place. Without a named graph asked for, the default graph is the union of the tariff-kg graphs.
"""

from __future__ import annotations

import io
import multiprocessing
import re
import threading
from dataclasses import dataclass, field
from urllib.parse import parse_qs

RESULT_TYPES = {
    "application/sparql-results+json": "json", "application/json": "json",
    "application/sparql-results+xml": "xml", "application/xml": "xml",
    "text/csv": "csv", "text/tab-separated-values": "tsv",
}
GRAPH_TYPES = {
    "text/turtle": "turtle", "application/n-triples": "ntriples", "application/rdf+xml": "rdfxml",
}
MAX_RESULT_BYTES = 64 * 1024 * 1024


class SparqlError(Exception):
    """A request the endpoint answers with an HTTP error status and a one-line message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class QueryRequest:
    """One SPARQL query to run: its text, the Accept header, the graphs asked for."""

    query: str
    accept: str = "*/*"
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = field(default_factory=tuple)


def parse_request(method: str, params: dict[str, list[str]], content_type: str, body: bytes,
                  accept: str) -> QueryRequest:
    """The query of a protocol request, or a SparqlError (400, 403, 415) saying what is wrong."""
    media = content_type.split(";")[0].strip().lower()
    fields = {name: list(values) for name, values in params.items()}
    if method == "POST":
        if media == "application/sparql-update":
            raise SparqlError(403, "this endpoint is read-only: SPARQL updates are refused")
        if media == "application/x-www-form-urlencoded":
            try:
                form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
            except UnicodeDecodeError:
                raise SparqlError(400, "the form is not UTF-8") from None
            for name, values in form.items():
                fields.setdefault(name, []).extend(values)
        elif media == "application/sparql-query":
            try:
                fields.setdefault("query", []).append(body.decode("utf-8"))
            except UnicodeDecodeError:
                raise SparqlError(400, "the query is not UTF-8") from None
        else:
            raise SparqlError(415, f"POST a query as application/sparql-query or as a form "
                                   f"(application/x-www-form-urlencoded), not {media or 'no type'}")
    if "update" in fields:
        raise SparqlError(403, "this endpoint is read-only: SPARQL updates are refused")
    queries = fields.get("query", [])
    if len(queries) != 1 or not queries[0].strip():
        raise SparqlError(400, "query: give exactly one SPARQL query (parameter `query`)"
                          if len(queries) != 1 else "query: the query is empty")
    query = queries[0]
    if is_update(query):
        raise SparqlError(403, "this endpoint is read-only: SPARQL updates are refused")
    if uses_service(query):
        raise SparqlError(403, "query: SERVICE is refused: this endpoint does not call other "
                               "servers")
    graphs = [tuple(_iri(g, name) for g in fields.get(name, []))
              for name in ("default-graph-uri", "named-graph-uri")]
    return QueryRequest(query, accept or "*/*", graphs[0], graphs[1])


def _iri(text: str, name: str) -> str:
    if not re.fullmatch(r"[a-zA-Z][a-zA-Z0-9+.-]*:[^\s<>\"{}|\\^`]+", text.strip()):
        raise SparqlError(400, f"{name}: {text!r} is not an absolute IRI")
    return text.strip()


def uses_service(query: str) -> bool:
    """True when the query has the SERVICE keyword (outside strings, IRIs and comments)."""
    from kg.sparql_text import has_service

    return has_service(query)


def is_update(query: str) -> bool:
    """True when the text is a SPARQL 1.1 Update rather than a query."""
    from kg.sparql_text import query_form

    return query_form(query) == "UPDATE"


def choose_type(accept: str, offered: dict[str, str]) -> str | None:
    """The media type of `offered` that the Accept header prefers (the first offered for */* or
    no header), or None when it accepts none of them."""
    choices = []
    for position, item in enumerate((accept or "*/*").split(",")):
        media, _, rest = item.strip().partition(";")
        quality = 1.0
        for param in rest.split(";"):
            key, _, number = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    quality = float(number)
                except ValueError:
                    quality = 0.0
        if media and quality > 0:
            choices.append((-quality, position, media.strip().lower()))
    for _, _, media in sorted(choices):
        if media in offered:
            return media
        major = media.split("/")[0]
        for name in offered:
            if media == "*/*" or (media.endswith("/*") and name.startswith(major + "/")):
                return name
    return None


class _Limited(io.BytesIO):
    def write(self, data) -> int:
        if self.tell() + len(data) > MAX_RESULT_BYTES:
            raise OverflowError("result too large")
        return super().write(data)


def _worker(store_path: str, graphs: list[str], connection) -> None:
    """Run queries sent over the connection on the store, forever (until killed or EOF)."""
    import pyoxigraph as ox

    _cap_memory()
    store = ox.Store.read_only(store_path)
    union = [ox.NamedNode(g) for g in graphs]
    while True:
        try:
            request = connection.recv()
        except EOFError:
            return
        connection.send(_answer(ox, store, union, request))


def _cap_memory() -> None:
    """Limit the worker's address space (TARIFFKG_QUERY_MEMORY_MB, as kg.worker does), so a query
    that outgrows memory ends this process, not the machine's other work."""
    try:
        import os
        import resource

        from kg.worker import memory_limit_mb

        with open("/proc/self/statm") as handle:
            held = int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        limit = held + memory_limit_mb() * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, OSError, ValueError, IndexError):
        pass


def _answer(ox, store, union, request: QueryRequest) -> tuple:
    """("ok", media type, bytes) or ("error", status, message)."""
    defaults = [ox.NamedNode(g) for g in request.default_graphs] or union
    named = [ox.NamedNode(g) for g in request.named_graphs] or None
    try:
        result = store.query(request.query, default_graph=defaults, named_graphs=named)
        graph = isinstance(result, ox.QueryTriples)
        offered = GRAPH_TYPES if graph else RESULT_TYPES
        media = choose_type(request.accept, offered)
        if media is None:
            return ("error", 406, f"Accept: this query's results are offered as "
                                  f"{', '.join(offered)}")
        formats = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
                   "csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV,
                   "turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES,
                   "rdfxml": ox.RdfFormat.RDF_XML}
        output = _Limited()
        result.serialize(output, format=formats[offered[media]])
        return ("ok", media, output.getvalue())
    except SyntaxError as error:
        return ("error", 400, f"query: SPARQL syntax error: {str(error)[:300]}")
    except OverflowError:
        return ("error", 400, f"the result is larger than {MAX_RESULT_BYTES / 2**20:g} MiB: "
                              "add a LIMIT")
    except (OSError, ValueError) as error:
        return ("error", 400, f"the query failed: {str(error)[:300]}")


class QueryRunner:
    """Worker processes that answer queries on the store, each query within the time limit."""

    def __init__(self, store_path: str, graphs: list[str], timeout: float, workers: int = 2):
        self.store_path = store_path
        self.graphs = graphs
        self.timeout = timeout
        self._context = multiprocessing.get_context("spawn")
        self._idle: list[tuple] = []
        self._slots = threading.BoundedSemaphore(workers)
        self._lock = threading.Lock()

    def _start(self) -> tuple:
        parent, child = self._context.Pipe()
        process = self._context.Process(target=_worker, args=(self.store_path, self.graphs, child),
                                        daemon=True, name="tariffkg-sparql")
        process.start()
        child.close()
        return process, parent

    def run(self, request: QueryRequest) -> tuple[str, bytes]:
        """The media type and body of the answer; a SparqlError for a failure or the time limit."""
        with self._slots:
            with self._lock:
                worker = self._idle.pop() if self._idle else None
            if worker is None or not worker[0].is_alive():
                worker = self._start()
            process, connection = worker
            try:
                connection.send(request)
                if not connection.poll(self.timeout):
                    _stop(worker)
                    raise SparqlError(503, f"the query ran longer than the time limit of "
                                           f"{self.timeout:g} s and was stopped")
                answer = connection.recv()
            except (EOFError, OSError):
                _stop(worker)
                raise SparqlError(503, "the query stopped its process (most often by running out "
                                       "of memory): narrow the query") from None
            with self._lock:
                self._idle.append(worker)
        if answer[0] == "error":
            raise SparqlError(answer[1], answer[2])
        return answer[1], answer[2]

    def close(self) -> None:
        """Stop every idle worker."""
        with self._lock:
            workers, self._idle = self._idle, []
        for worker in workers:
            _stop(worker)


def _stop(worker: tuple) -> None:
    process, connection = worker
    process.kill()
    process.join(timeout=5)
    connection.close()
