"""Where queries run: the embedded pyoxigraph store, or a remote SPARQL 1.1 endpoint.

Both take query text and parameter bindings as RDF terms, and return rows of rdflib terms, so
the same stored query gives the same answer on either.
"""

from __future__ import annotations

import re
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
    """The embedded on-disk store, opened read-only; the default graph is the union of all graphs."""

    def __init__(self, store: ox.Store, path: Path | None = None):
        self._store = store
        self.path = path

    @classmethod
    def open(cls, path: Path) -> LocalStore:
        """Open a built store read-only (several processes may read it at once)."""
        try:
            return cls(ox.Store.read_only(str(path)), path)
        except OSError as error:
            raise StoreError(f"cannot open the store at {path}: {error}") from None

    @classmethod
    def from_turtle(cls, *files: Path) -> LocalStore:
        """An in-memory store holding the given Turtle files (for tests and small graphs)."""
        store = ox.Store()
        for file in files:
            store.bulk_load(path=str(file), format=ox.RdfFormat.TURTLE)
        return cls(store)

    def select(self, query: str, bindings: Mapping[str, Identifier] | None = None) -> list[Row]:
        """Run a SELECT query with parameters substituted as RDF terms; return the rows."""
        try:
            solutions = self._store.query(
                bind_parameters(query, bindings or {}), use_default_graph_as_union=True
            )
            if not isinstance(solutions, ox.QuerySolutions):
                raise InputError("only SELECT queries can be run here")
            names = [v.value for v in solutions.variables]
            return [
                {name: from_oxigraph(row[name]) for name in names if row[name] is not None}
                for row in solutions
            ]
        except SyntaxError as error:
            raise InputError(f"SPARQL syntax error: {str(error)[:200]}") from None
        except OSError as error:  # pyoxigraph's evaluation failures (e.g. of a SERVICE call)
            raise StoreError(f"the query failed: {str(error)[:200]}") from None

    def triple_count(self) -> int:
        """The number of quads in the store."""
        return len(self._store)


_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)
_PARAMETER_ROW = re.compile(r"VALUES\s*\(([?$\w\s]+)\)\s*\{\s*\(\s*(?:UNDEF\s*)+\)\s*\}")


def strip_comment_lines(query: str) -> str:
    """Drop whole-line comments (SPARQLWrapper 2.0.0 misreads a SELECT that starts with them)."""
    return "\n".join(line for line in query.splitlines() if not line.lstrip().startswith("#"))


def bind_parameters(query: str, bindings: Mapping[str, Identifier]) -> str:
    """Bind parameters as RDF terms in the query's VALUES rows of UNDEFs.

    A stored query marks where its parameters enter with `VALUES (?a ?b) { (UNDEF UNDEF) }`; each
    such row gets the bound terms, serialised by rdflib's n3() (which escapes them), so the engine
    plans with the values known. A query without such a row gets one VALUES row at the start of its
    outer WHERE group. No user text reaches the query any other way.
    """
    if not bindings:
        return query
    used: set[str] = set()

    def row(match: re.Match) -> str:
        names = [name.lstrip("?$") for name in match.group(1).split()]
        used.update(names)
        terms = " ".join(bindings[n].n3() if n in bindings else "UNDEF" for n in names)
        return f"VALUES ({' '.join('?' + n for n in names)}) {{ ({terms}) }}"

    bound = _PARAMETER_ROW.sub(row, query)
    if used:
        return bound
    match = _WHERE.search(query)
    if not match:
        raise InputError("a query with parameters needs a WHERE clause")
    names = " ".join(f"?{name}" for name in bindings)
    values = " ".join(term.n3() for term in bindings.values())
    return f"{query[: match.end()]} VALUES ({names}) {{ ({values}) }} {query[match.end():]}"


class RemoteEndpoint:
    """A SPARQL 1.1 query endpoint reached over HTTP with SPARQLWrapper."""

    def __init__(self, url: str, user: str | None = None, password: str | None = None, timeout: float = 60):
        from SPARQLWrapper import JSON, SPARQLWrapper

        self.url = url
        self._client = SPARQLWrapper(url)
        self._client.setReturnFormat(JSON)
        self.timeout = float(timeout)
        # setTimeout() truncates to int, and 0 means "wait forever"; the attribute takes a float.
        self._client.timeout = self.timeout  # type: ignore[assignment]
        self._client.setMethod("POST")
        if user:
            self._client.setCredentials(user, password or "")

    def select(self, query: str, bindings: Mapping[str, Identifier] | None = None) -> list[Row]:
        """Run a SELECT query on the endpoint with the bindings as a VALUES row; return the rows."""
        from SPARQLWrapper import SELECT

        text = bind_parameters(strip_comment_lines(query), bindings or {})
        self._client.setQuery(text)
        if self._client.queryType != SELECT or self._client.isSparqlUpdateRequest():
            # SPARQLWrapper would send an update as one, and some servers take updates at /sparql
            raise InputError("only SELECT queries can be run here")
        try:
            result = self._client.queryAndConvert()
        except Exception as error:  # noqa: BLE001 - SPARQLWrapper raises many unrelated types
            raise EndpointError(f"{_redact(self.url)}: {_describe(error, self.timeout)}") from None
        if not isinstance(result, dict) or "results" not in result:
            raise EndpointError(f"{_redact(self.url)}: the answer is not SPARQL JSON results")
        return [
            {name: _json_term(value) for name, value in binding.items()}
            for binding in result["results"]["bindings"]
        ]


def _redact(url: str) -> str:
    from kg.load import redact

    return redact(url)


def _describe(error: Exception, timeout: float | None = None) -> str:
    import socket

    reason = getattr(error, "reason", error)
    if isinstance(reason, (socket.timeout, TimeoutError)) or isinstance(error, (socket.timeout, TimeoutError)):
        return f"no answer within {timeout:g} s (--timeout)" if timeout else "no answer before the timeout"
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


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
