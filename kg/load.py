"""Put the graph into a SPARQL 1.1 server, replacing its named graphs in one step.

Each graph is first uploaded, in chunks, into a temporary named graph through the Graph Store
HTTP Protocol (POST appends; transient failures are retried with back-off). When every upload has
succeeded, one SPARQL Update request makes the target graphs equal to the temporary ones and drops
them (Oxigraph runs a request as one transaction). If anything fails before that, the temporary
graphs are dropped and the target graphs were never touched; temporary graphs left by a load that
was killed are dropped by the next load.

While a load runs, its temporary graphs are visible in a union default graph: run one load at a
time, and preferably when nobody is querying. The swap writes only the differences, so reloading
mostly unchanged data costs reads, not writes (plus dropping the temporary graph).

Graph IRIs are validated (pyoxigraph.NamedNode) before they reach an update. The password comes
only from the TARIFFKG_PASSWORD environment variable (or the caller) and never enters a message.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from kg.errors import EndpointError, InputError
from kg.namespaces import BASE

PASSWORD_VARIABLE = "TARIFFKG_PASSWORD"
LOADING_PREFIX = BASE + "graph/loading/"
DEFAULT_CHUNK_TRIPLES = 50_000
DEFAULT_TIMEOUT = 120.0

Source = Iterable | Path | str
Progress = Callable[[int], None]

_RETRY_ERRORS = (
    urllib.error.URLError,
    socket.timeout,
    TimeoutError,
    ConnectionError,
    http.client.HTTPException,
)


@dataclass(frozen=True)
class Endpoints:
    """The three URLs of one server: query, Graph Store Protocol, and update."""

    query: str
    store: str
    update: str
    graph_param: str = "graph"


def derive_endpoints(
    query_url: str,
    store_endpoint: str | None = None,
    update_endpoint: str | None = None,
    authenticated: bool = False,
) -> Endpoints:
    """The store and update URLs of a server, derived from its query URL unless given.

    Known layouts: Oxigraph (/query), Fuseki (/DATASET/query or /DATASET/sparql), GraphDB
    (/repositories/REPO) and Virtuoso (/sparql; the -auth endpoints when authenticated).
    """
    parts = urllib.parse.urlsplit(query_url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise InputError(f"not an http(s) endpoint URL: {redact(query_url)}")
    path = parts.path.rstrip("/")
    derived = _derive(path, authenticated)
    if derived is None and not (store_endpoint and update_endpoint):
        raise InputError(
            f"cannot tell the Graph Store and Update endpoints of {redact(query_url)}: "
            "give --store-endpoint and --update-endpoint"
        )
    store_path, update_path, graph_param = derived or ("", "", "graph")

    def at(new_path: str) -> str:
        return urllib.parse.urlunsplit((parts.scheme, parts.netloc, new_path, "", ""))

    return Endpoints(
        query=query_url,
        store=store_endpoint or at(store_path),
        update=update_endpoint or at(update_path),
        graph_param=graph_param,
    )


def _derive(path: str, authenticated: bool) -> tuple[str, str, str] | None:
    segments = path.split("/")[1:] if path else []
    if segments == ["query"]:  # Oxigraph
        return "/store", "/update", "graph"
    if segments == ["sparql"]:  # Virtuoso
        if authenticated:
            return "/sparql-graph-crud-auth", "/sparql-auth", "graph-uri"
        return "/sparql-graph-crud", "/sparql", "graph-uri"
    if len(segments) == 2 and segments[0] == "repositories":  # GraphDB
        return path + "/rdf-graphs/service", path + "/statements", "graph"
    if len(segments) >= 2 and segments[-1] in {"query", "sparql"}:  # Fuseki
        dataset = "/".join(segments[:-1])
        return f"/{dataset}/data", f"/{dataset}/update", "graph"
    return None


def redact(url: str) -> str:
    """The URL without any user:password part, for messages."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


class HttpClient:
    """Small stdlib HTTP client: basic or digest auth, a timeout, retries with back-off.

    Server errors (5xx), refused connections and timeouts are retried `retries` times, waiting
    backoff, 2*backoff, 4*backoff... seconds; other errors are raised at once as EndpointError.
    """

    def __init__(
        self,
        user: str | None = None,
        password: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = 3,
        backoff: float = 0.5,
        urls: Iterable[str] = (),
    ):
        handlers = []
        self._urls = list(urls)
        if user:
            manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
            manager.add_password(None, self._urls, user, password or "")
            handlers = [
                urllib.request.HTTPBasicAuthHandler(manager),
                urllib.request.HTTPDigestAuthHandler(manager),
            ]
        self._opener = urllib.request.build_opener(*handlers)
        self._credentials = (user, password)
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff

    def post(self, url: str, body: bytes, content_type: str, accept: str | None = None) -> bytes:
        """POST body to url and return the answer, retrying transient failures."""
        for attempt in range(self.retries + 1):
            try:
                return self._post_once(url, body, content_type, accept)
            except urllib.error.HTTPError as error:
                if error.code < 500 or attempt == self.retries:
                    raise EndpointError(_http_message(url, error)) from None
            except ValueError:  # urllib's answer to an authentication scheme it cannot do
                raise EndpointError(f"{redact(url)}: credentials refused") from None
            except _RETRY_ERRORS as error:
                if attempt == self.retries:
                    raise EndpointError(f"{redact(url)}: {_reason(error)}") from None
            time.sleep(self.backoff * 2**attempt)
        raise AssertionError("unreachable")

    def _post_once(self, url: str, body: bytes, content_type: str, accept: str | None) -> bytes:
        headers = {"Content-Type": content_type}
        if accept:
            headers["Accept"] = accept
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        with self._opener.open(request, timeout=self.timeout) as response:
            return response.read()

    def update(self, url: str, text: str) -> None:
        """Send one SPARQL Update request (form-encoded `update=`)."""
        self.post(
            url,
            urllib.parse.urlencode({"update": text}).encode(),
            "application/x-www-form-urlencoded",
        )

    def select(self, url: str, query: str) -> list[dict]:
        """Run a SELECT query and return the JSON result bindings."""
        answer = self.post(
            url,
            urllib.parse.urlencode({"query": query}).encode(),
            "application/x-www-form-urlencoded",
            "application/sparql-results+json",
        )
        try:
            return json.loads(answer)["results"]["bindings"]
        except (ValueError, KeyError, TypeError):
            raise EndpointError(f"{redact(url)}: the answer is not SPARQL JSON results") from None


def _http_message(url: str, error: urllib.error.HTTPError) -> str:
    where = redact(url)
    if error.code in {401, 403}:
        return f"{where}: credentials refused (HTTP {error.code}); check --user and {PASSWORD_VARIABLE}"
    if error.code == 404:
        return f"{where}: not found (HTTP 404); is this the right endpoint URL?"
    try:
        detail = error.read().decode("utf-8", "replace").strip().splitlines()
    except OSError:  # the body of an error answer is optional
        detail = []
    first = detail[0][:300] if detail else error.reason
    return f"{where}: HTTP {error.code}: {first}"


def _reason(error: BaseException) -> str:
    reason = getattr(error, "reason", None) or error
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return "no answer before the timeout"
    return f"cannot reach the endpoint ({reason})"


def load(
    endpoint_url: str,
    graphs: Mapping[str, Source],
    user: str | None = None,
    password: str | None = None,
    store_endpoint: str | None = None,
    update_endpoint: str | None = None,
    chunk_triples: int = DEFAULT_CHUNK_TRIPLES,
    progress: Progress | None = None,
    retries: int = 3,
    timeout: float = DEFAULT_TIMEOUT,
    backoff: float = 0.5,
) -> dict[str, int]:
    """Replace the named graphs of a SPARQL 1.1 server atomically; return triples per graph.

    graphs maps each target graph IRI to an iterable of pyoxigraph triples or quads (the graph
    name of a quad is ignored) or to the path of an N-Triples file. password defaults to the
    TARIFFKG_PASSWORD environment variable. progress is called with the number of triples of
    each uploaded chunk. A failure leaves the previous graphs as they were.
    """
    for graph in graphs:
        check_graph_iri(graph)
    client, endpoints = connect(
        endpoint_url,
        user,
        password,
        store_endpoint,
        update_endpoint,
        retries=retries,
        timeout=timeout,
        backoff=backoff,
    )
    token = uuid.uuid4().hex
    temporary = {graph: f"{LOADING_PREFIX}{token}/{index}" for index, graph in enumerate(graphs)}
    try:
        sent = {}
        for graph, source in graphs.items():
            sent[graph] = upload(
                client, endpoints, temporary[graph], _triples(source), chunk_triples, progress
            )
        counts = {graph: graph_size(client, endpoints, temporary[graph]) for graph in graphs}
        for graph in graphs:
            if sent[graph] and not counts[graph]:
                raise EndpointError(f"{redact(endpoints.store)}: the upload of {graph} vanished")
        empty = [graph for graph in graphs if not sent[graph]]
        client.update(endpoints.update, swap_update(temporary, empty))
    except BaseException:
        _drop_quietly(client, endpoints, temporary.values())
        raise
    return counts


def connect(
    endpoint_url: str,
    user: str | None = None,
    password: str | None = None,
    store_endpoint: str | None = None,
    update_endpoint: str | None = None,
    retries: int = 3,
    timeout: float = DEFAULT_TIMEOUT,
    backoff: float = 0.5,
) -> tuple[HttpClient, Endpoints]:
    """Check that the server answers queries and updates with these credentials.

    Drops the temporary graphs of loads that were killed; returns the client and endpoints.
    password defaults to the TARIFFKG_PASSWORD environment variable.
    """
    if password is None:
        password = os.environ.get(PASSWORD_VARIABLE)
    endpoints = derive_endpoints(endpoint_url, store_endpoint, update_endpoint, bool(user))
    client = HttpClient(
        user,
        password,
        timeout,
        retries,
        backoff,
        urls=[endpoints.query, endpoints.store, endpoints.update],
    )
    client.update(endpoints.update, f"DROP SILENT GRAPH <{LOADING_PREFIX}check>")
    drop_stale_graphs(client, endpoints)
    return client, endpoints


def check_graph_iri(iri: str) -> None:
    """Raise InputError unless iri is an absolute IRI that can go into a SPARQL request."""
    try:
        ox.NamedNode(iri)
    except ValueError:
        raise InputError(f"not a valid graph IRI: {iri!r}") from None


def _triples(source: Source) -> Iterable:
    if isinstance(source, (str, Path)):
        return _parse_ntriples(Path(source))
    return source


def _parse_ntriples(path: Path) -> Iterator[ox.Triple]:
    try:
        yield from ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES)
    except (SyntaxError, OSError) as error:
        raise InputError(f"{path}: cannot read as N-Triples: {error}") from None


def upload(
    client: HttpClient,
    endpoints: Endpoints,
    graph: str,
    triples: Iterable,
    chunk_triples: int,
    progress: Progress | None = None,
) -> int:
    """POST the triples into graph in chunks; return how many were sent."""
    url = f"{endpoints.store}?{urllib.parse.urlencode({endpoints.graph_param: graph})}"
    total = 0
    for chunk in chunks(triples, chunk_triples):
        client.post(url, "".join(chunk).encode("utf-8"), "application/n-triples")
        total += len(chunk)
        if progress:
            progress(len(chunk))
    return total


def chunks(triples: Iterable, size: int) -> Iterator[list[str]]:
    """N-Triples lines in lists of about size; triples sharing a blank node stay in one list.

    A server reads the blank node labels of each request afresh, so a blank node whose triples
    were split over two requests would become two nodes.
    """
    plain: list[str] = []
    linked = _BlankGroups()
    for triple in triples:
        line = f"{triple.subject} {triple.predicate} {triple.object} .\n"
        blanks = [t.value for t in (triple.subject, triple.object) if isinstance(t, ox.BlankNode)]
        if blanks:
            linked.add(blanks, line)
            continue
        plain.append(line)
        if len(plain) >= size:
            yield plain
            plain = []
    batch = plain
    for group in linked.groups():
        if batch and len(batch) + len(group) > size:
            yield batch
            batch = []
        batch.extend(group)
    if batch:
        yield batch


class _BlankGroups:
    """Lines grouped by connected blank nodes (union-find over blank node labels)."""

    def __init__(self) -> None:
        self._parent: dict[str, str] = {}
        self._lines: list[tuple[str, str]] = []

    def _find(self, label: str) -> str:
        self._parent.setdefault(label, label)
        while self._parent[label] != label:
            self._parent[label] = self._parent[self._parent[label]]
            label = self._parent[label]
        return label

    def add(self, labels: list[str], line: str) -> None:
        root = self._find(labels[0])
        for other in labels[1:]:
            self._parent[self._find(other)] = root
        self._lines.append((labels[0], line))

    def groups(self) -> list[list[str]]:
        grouped: dict[str, list[str]] = {}
        for label, line in self._lines:
            grouped.setdefault(self._find(label), []).append(line)
        return list(grouped.values())


def swap_update(temporary: Mapping[str, str], empty: Iterable[str] = ()) -> str:
    """One SPARQL Update that makes each target graph equal to its temporary graph, then drops it.

    Only the differences are written (a reload usually changes few triples). The request is
    idempotent, so a retry after a lost answer cannot empty a graph: old triples are deleted only
    while the temporary graph still holds triples. A graph listed in empty (nothing was uploaded
    for it) is simply dropped.
    """
    steps = []
    for graph, tmp in temporary.items():
        if graph in empty:
            steps.append(f"DROP SILENT GRAPH <{graph}>")
            continue
        guard = f"{{ SELECT ?any WHERE {{ GRAPH <{tmp}> {{ ?any ?anyp ?anyo }} }} LIMIT 1 }}"
        delete_old = (
            f"DELETE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} WHERE {{ {guard} "
            f"GRAPH <{graph}> {{ ?s ?p ?o }} FILTER NOT EXISTS {{ GRAPH <{tmp}> {{ ?s ?p ?o }} }} }}"
        )
        insert_new = (
            f"INSERT {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} WHERE {{ "
            f"GRAPH <{tmp}> {{ ?s ?p ?o }} FILTER NOT EXISTS {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} }}"
        )
        steps += [delete_old, insert_new, f"DROP SILENT GRAPH <{tmp}>"]
    return " ;\n".join(steps)


def graph_size(client: HttpClient, endpoints: Endpoints, graph: str) -> int:
    """The number of triples in a named graph of the server."""
    rows = client.select(
        endpoints.query, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    )
    return int(rows[0]["n"]["value"]) if rows else 0


def drop_stale_graphs(client: HttpClient, endpoints: Endpoints) -> list[str]:
    """Drop temporary graphs left by loads that were killed; return their IRIs."""
    rows = client.select(
        endpoints.query,
        "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "  # Virtuoso ignores GRAPH ?g {}
        f'FILTER(STRSTARTS(STR(?g), "{LOADING_PREFIX}")) }}',
    )
    stale = [row["g"]["value"] for row in rows]
    if stale:
        client.update(endpoints.update, " ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in stale))
    return stale


def _drop_quietly(client: HttpClient, endpoints: Endpoints, graphs: Iterable[str]) -> None:
    """Best effort: the server may be the reason the load failed."""
    quick = HttpClient(
        *client._credentials, timeout=min(client.timeout, 10), retries=0, urls=client._urls
    )
    try:
        quick.update(endpoints.update, " ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in graphs))
    except EndpointError:
        pass
