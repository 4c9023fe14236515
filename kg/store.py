"""Where queries run: the embedded pyoxigraph store, or a remote SPARQL 1.1 endpoint.

Both take query text and parameter bindings as RDF terms, and return rows of rdflib terms, so
the same stored query gives the same answer on either.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.term import Identifier

from kg.errors import EndpointError, InputError, StoreError

Row = dict[str, Identifier]


def from_oxigraph(term) -> Identifier:
    """Convert a pyoxigraph term to an rdflib term."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    raise TypeError(f"unsupported term from the store: {term!r}")


def term_converter():
    """A pyoxigraph-to-rdflib converter that converts each distinct term once (for bulk copies)."""
    cache: dict = {}

    def convert(term):
        found = cache.get(term)
        if found is None:
            found = cache[term] = from_oxigraph(term)
        return found

    return convert


class LocalStore:
    """The embedded on-disk store, opened read-only; the default graph is the union of all graphs.

    An on-disk store is queried through a worker process (kg.worker) so that `timeout` can stop
    a query and a query that outgrows memory cannot take the command down. SERVICE clauses are
    refused unless allow_service (they would send requests to other servers).
    """

    def __init__(self, store: ox.Store | None, path: Path | None = None, worker=None,
                 timeout: float | None = None, allow_service: bool = False):
        self._store = store
        self._worker = worker
        self.path = path
        self.timeout = timeout
        self.allow_service = allow_service

    @classmethod
    def open(cls, path: Path, timeout: float | None = None,
             allow_service: bool = False) -> LocalStore:
        """Open a built store read-only (several processes may read it at once)."""
        from kg.worker import QueryWorker, available

        if not available():  # no fork (Windows): in-process, without a time limit
            try:
                return cls(ox.Store.read_only(str(path)), path, None, timeout, allow_service)
            except OSError as error:
                raise StoreError(f"cannot open the store at {path}: {error}") from None
        worker = QueryWorker(path)
        worker.start()
        return cls(None, path, worker, timeout, allow_service)

    @classmethod
    def from_turtle(cls, *files: Path) -> LocalStore:
        """An in-memory store holding the given Turtle files (for tests and small graphs)."""
        store = ox.Store()
        for file in files:
            store.bulk_load(path=str(file), format=ox.RdfFormat.TURTLE)
        return cls(store)

    def select(self, query: str, bindings: Mapping[str, Identifier] | None = None) -> list[Row]:
        """Run a SELECT query with parameters substituted as RDF terms; return the rows."""
        text = bind_parameters(query, bindings or {})
        check_read_only_select(text, self.allow_service)
        if self._worker is not None:
            names, rows = self._worker.select(text, self.timeout)
            return cells_to_rows(rows)
        assert self._store is not None
        try:
            solutions = self._store.query(text, use_default_graph_as_union=True)
            if not isinstance(solutions, ox.QuerySolutions):
                raise InputError("only SELECT queries can be run here")
            names = [v.value for v in solutions.variables]
            return [
                {name: from_oxigraph(row[name]) for name in names if row[name] is not None}
                for row in solutions
            ]
        except SyntaxError as error:
            raise InputError(f"SPARQL syntax error: {str(error)[:200]}") from None
        except (OSError, RuntimeError) as error:  # evaluation failures (e.g. of a SERVICE call)
            raise StoreError(f"the query failed: {str(error)[:200]}") from None

    def triple_count(self) -> int:
        """The number of quads in the store."""
        if self._worker is not None:
            return self._worker.count()
        assert self._store is not None
        return len(self._store)

    def close(self) -> None:
        """Stop the query worker, if any."""
        if self._worker is not None:
            self._worker.stop()


def check_read_only_select(text: str, allow_service: bool = False) -> None:
    """Refuse anything but a SELECT query, and SERVICE calls unless allowed."""
    from kg.sparql_text import has_service, query_form

    form = query_form(text)
    if form == "UPDATE":
        raise InputError("is a SPARQL update; only SELECT queries can be run here")
    if form not in (None, "SELECT"):
        raise InputError(f"only SELECT queries can be run here (this is {form})")
    if has_service(text) and not allow_service:
        raise InputError("the query calls another endpoint (SERVICE): the embedded store runs "
                         "SERVICE clauses only with --allow-service")


def cells_to_rows(rows) -> list[Row]:
    """Rows from the query worker as rdflib terms (each distinct term converted once)."""
    cache: dict = {}

    def term(cell):
        key = cell[1:]
        found = cache.get(key)
        if found is None:
            kind, value, extra = key
            if kind == "iri":
                found = URIRef(value)
            elif kind == "blank":
                found = BNode(value)
            elif kind == "lang":
                found = Literal(value, lang=extra)
            else:
                found = Literal(value, datatype=URIRef(extra) if extra else None)
            cache[key] = found
        return found

    return [{cell[0]: term(cell) for cell in row} for row in rows]


def strip_comment_lines(query: str) -> str:
    """The query without its comments (some servers misread a query that starts with them)."""
    from kg.sparql_text import strip_comments

    return strip_comments(query)


def bind_parameters(query: str, bindings: Mapping[str, Identifier]) -> str:
    """Bind parameters as RDF terms in the query's VALUES rows of UNDEFs.

    A stored query marks where its parameters enter with `VALUES (?a ?b) { (UNDEF UNDEF) }`; each
    such row (in the code, not in a comment or string) gets the bound terms, serialised by rdflib's
    n3() (which escapes them), so the engine plans with the values known. A parameter without such
    a row is refused (kg.sparql_text.bind_values). No user text reaches the query any other way.
    """
    from kg.sparql_text import bind_values

    return bind_values(query, bindings)


class RemoteEndpoint:
    """A SPARQL 1.1 query endpoint reached over HTTP (kg.http): read-only SELECT queries.

    User and password may be part of the URL (`http://user:password@host/...`); else user is
    given and the password comes from the caller (the CLI reads TARIFFKG_PASSWORD). timeout bounds
    the whole wait for each answer, retries included.
    """

    def __init__(self, url: str, user: str | None = None, password: str | None = None,
                 timeout: float = 60):
        from kg.http import HttpClient, check_http_url, split_credentials

        clean, given = split_credentials(url)
        self.url = check_http_url(clean)
        self.timeout = float(timeout)
        user = given.user or user
        password = given.password if given.password is not None else password
        self._client = HttpClient(user, password, self.timeout, retries=2, backoff=0.25)

    def select(self, query: str, bindings: Mapping[str, Identifier] | None = None) -> list[Row]:
        """Run a SELECT query on the endpoint with the bindings as a VALUES row; return the rows."""
        text = bind_parameters(query, bindings or {})
        check_read_only_select(text, allow_service=True)  # the server decides about SERVICE
        answers = self._client.select(self.url, strip_comment_lines(text))
        try:
            return [{name: _json_term(value) for name, value in answer.items()}
                    for answer in answers]
        except (KeyError, TypeError, AttributeError):
            raise EndpointError(f"{_redact(self.url)}: the answer is not SPARQL JSON results"
                                ) from None


def _redact(url: str) -> str:
    from kg.http import redact_url

    return redact_url(url)


def _json_term(value: dict) -> Identifier:
    kind = value["type"]
    if kind == "uri":
        return URIRef(value["value"])
    if kind == "bnode":
        return BNode(value["value"])
    if "xml:lang" in value:
        return Literal(value["value"], lang=value["xml:lang"])
    if "datatype" in value:
        return Literal(value["value"], datatype=URIRef(value["datatype"]))
    return Literal(value["value"])
