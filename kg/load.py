"""Put the graph into a SPARQL 1.1 server, replacing its named graphs in one step.

On Oxigraph (the default there, strategy "diff"): the graphs the server holds are read, the
changes are computed here and sent in one request, which Oxigraph runs as one transaction: into
empty graphs the triples stream as one N-Quads body to the Graph Store while they are read; a
reload sends only what changed (nothing, for unchanged data), as one SPARQL update, or through
temporary graphs when that update would be larger than the server takes.

Elsewhere (strategy "staged"): each graph is first uploaded into a temporary named graph through
the Graph Store HTTP Protocol (POST appends) in large N-Triples bodies. When every upload has
succeeded, one SPARQL Update request makes the target graphs equal to the temporary ones and drops
them (Oxigraph and Virtuoso run one request as one transaction). If anything fails before that,
the temporary graphs are dropped and the target graphs were never touched. Temporary graphs left
by a load that was killed are dropped by the next load, before it starts and again after it ends;
a load stopped with SIGTERM or Ctrl-C drops its own.

If the answer to the swap is lost (a timeout, a dropped connection, a gateway's 5xx), the server
is asked what happened before anything is reported: the swap committed (the load succeeded), did
not (the graphs are as before), or cannot be told (the message says so).

Graph IRIs are validated (pyoxigraph.NamedNode) before they reach an update. Credentials come
from the endpoint URL or the caller (the password from TARIFFKG_PASSWORD) and never enter a
message (kg.http).
"""

from __future__ import annotations

import os
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from kg.errors import EndpointError, InputError
from kg.http import (
    PASSWORD_VARIABLE,
    AnswerLost,
    HttpClient,
    check_http_url,
    redact_url,
    split_credentials,
)
from kg.namespaces import BASE

LOADING_PREFIX = BASE + "graph/loading/"
DEFAULT_CHUNK_TRIPLES = 200_000
DEFAULT_TIMEOUT = 120.0

Source = Iterable | Path | str
Progress = Callable[[int], None]

@dataclass(frozen=True)
class Endpoints:
    """The three URLs of one server: query, Graph Store Protocol, and update.

    bulk_param is a query parameter that makes the Graph Store load without a transaction
    (Oxigraph's `no_transaction`), used only for the temporary graphs.
    """

    query: str
    store: str
    update: str
    graph_param: str = "graph"
    bulk_param: str | None = None


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
    check_http_url(query_url)
    for url in (store_endpoint, update_endpoint):
        if url:
            check_http_url(url)
    parts = urllib.parse.urlsplit(query_url)
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

    oxigraph = path.split("/")[1:] == ["query"] and not store_endpoint
    return Endpoints(
        query=query_url,
        store=store_endpoint or at(store_path),
        update=update_endpoint or at(update_path),
        graph_param=graph_param,
        bulk_param="no_transaction" if oxigraph else None,
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
    return redact_url(url)


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
    strategy: str = "auto",
) -> dict[str, int]:
    """Replace the named graphs of a SPARQL 1.1 server atomically; return triples per graph.

    graphs maps each target graph IRI to an iterable of pyoxigraph triples or quads (the graph
    name of a quad is ignored) or to the path of an N-Triples file. User and password may also be
    given in the URL; password defaults to the TARIFFKG_PASSWORD environment variable. progress is
    called with the number of triples of each uploaded chunk. A failure leaves the previous graphs
    as they were. timeout bounds each request's whole wait, its retries included.

    strategy "diff" computes the changes here and sends them in one request (the default on
    Oxigraph; see load_by_diff); "staged" uploads into temporary graphs and swaps them in on the
    server (the default elsewhere); "auto" picks by the endpoint's layout.
    """
    for graph in graphs:
        check_graph_iri(graph)
    client, endpoints = connect(endpoint_url, user, password, store_endpoint, update_endpoint,
                                retries=retries, timeout=timeout, backoff=backoff)
    try:
        if strategy == "diff" or (strategy == "auto" and endpoints.bulk_param):
            return load_by_diff(client, endpoints, graphs, progress)
        return load_staged(client, endpoints, graphs, chunk_triples, progress)
    finally:
        client.close()


def load_staged(client: HttpClient, endpoints: Endpoints, graphs: Mapping[str, Source],
                chunk_triples: int = DEFAULT_CHUNK_TRIPLES,
                progress: Progress | None = None) -> dict[str, int]:
    """Upload into temporary graphs, then swap them in with one server-side update."""
    token = uuid.uuid4().hex
    temporary = {graph: f"{LOADING_PREFIX}{token}/{index}" for index, graph in enumerate(graphs)}
    swapped = False
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
        swap(client, endpoints, temporary, counts, empty)
        swapped = True
    finally:
        if not swapped:
            _drop_quietly(client, endpoints, temporary.values())
    _drop_quietly(client, endpoints, stale=True)
    return counts


MAX_DIFF_BYTES = 100 * 1024 * 1024  # Oxigraph takes update bodies of up to 128 MiB


@dataclass
class GraphDiff:
    """What one target graph must lose and gain to equal the new triples (N-Triples lines).

    Triples with blank nodes cannot be named in DELETE DATA: when the old graph has any, they are
    all deleted by pattern and the new ones (`blank`) inserted afresh.
    """

    graph: str
    deleted: list[str]
    inserted: list[str]
    blank: list[str]
    drop_blank: bool
    size: int  # triples in the new graph
    lines: list[str]  # every line of the new graph (for the staged fallback)

    def removes(self) -> bool:
        """True when applying the diff deletes something."""
        return bool(self.deleted or self.drop_blank)

    def triples(self) -> Iterator[ox.Triple]:
        """The new graph's triples, parsed again from its lines."""
        return ox.parse(input="".join(self.lines).encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)


def load_by_diff(client: HttpClient, endpoints: Endpoints, graphs: Mapping[str, Source],
                 progress: Progress | None = None) -> dict[str, int]:
    """Read the target graphs, compute the changes here and apply them in one request.

    One request is one transaction on Oxigraph, so readers see the old graphs or the new ones,
    and only what changed is written (a reload of unchanged data writes nothing). Into empty
    graphs (a first load) the triples stream as one N-Quads body to the Graph Store while they
    are read; changes that only add go the same way (no size limit); others as one SPARQL update
    of at most MAX_DIFF_BYTES, or else through temporary graphs (load_staged), fed from the lines
    read here (the sources are read once).
    """
    olds = {graph: graph_lines(client, endpoints, graph) for graph in graphs}
    if not any(lines or blank for lines, blank in olds.values()):
        counts = first_load(client, endpoints, graphs, progress)
        _drop_quietly(client, endpoints, stale=True)
        return counts
    diffs = []
    for graph, source in graphs.items():
        diffs.append(graph_diff(olds.pop(graph), graph, _triples(source)))
        if progress:
            progress(diffs[-1].size)
    if not any(diff.removes() for diff in diffs):
        body = additions(diffs)
        if body:
            apply_diff(client, endpoints, endpoints.store, body, "application/n-quads", diffs)
    else:
        update = diff_update(diffs)
        if len(update) > MAX_DIFF_BYTES:
            sources = {diff.graph: diff.triples() for diff in diffs}
            return load_staged(client, endpoints, sources)
        apply_diff(client, endpoints, endpoints.update, update, "application/sparql-update",
                   diffs)
    _drop_quietly(client, endpoints, stale=True)
    return {diff.graph: diff.size for diff in diffs}


def first_load(client: HttpClient, endpoints: Endpoints, graphs: Mapping[str, Source],
               progress: Progress | None = None, sample: int = 20) -> dict[str, int]:
    """Stream every triple as one N-Quads body into graphs the server does not hold yet."""
    counts = {graph: 0 for graph in graphs}
    seen: dict[str, list[str]] = {graph: [] for graph in graphs}  # asked after a lost answer

    def body() -> Iterator[bytes]:
        for graph, source in graphs.items():
            suffix = f" <{graph}> .\n"
            batch: list[str] = []
            for triple in _triples(source):
                batch.append(f"{triple.subject} {triple.predicate} {triple.object}{suffix}")
                if len(seen[graph]) < sample and not _is_blank(triple):
                    seen[graph].append(f"{triple.subject} {triple.predicate} {triple.object} .\n")
                if len(batch) >= 20_000:
                    yield _sent(batch, graph, counts, progress)
                    batch = []
            yield _sent(batch, graph, counts, progress)

    diffs = [GraphDiff(graph, [], seen[graph], [], False, 0, []) for graph in graphs]
    apply_diff(client, endpoints, endpoints.store, body(), "application/n-quads", diffs)
    return counts


def _sent(batch: list[str], graph: str, counts: dict[str, int], progress: Progress | None) -> bytes:
    counts[graph] += len(batch)
    if progress and batch:
        progress(len(batch))
    return "".join(batch).encode("utf-8")


def additions(diffs: Iterable[GraphDiff]) -> bytes:
    """The inserted triples of every diff as one N-Quads document."""
    parts = []
    for diff in diffs:
        suffix = f" <{diff.graph}> .\n"
        parts += [line[: line.rstrip().rfind(".")].rstrip() + suffix
                  for line in (*diff.inserted, *diff.blank)]
    return "".join(parts).encode("utf-8")


def graph_diff(old: tuple[set[str], int], graph: str, triples: Iterable) -> GraphDiff:
    """The changes that make graph (holding old: its lines without blank nodes and the number of
    its triples with blank nodes) hold exactly triples."""
    lines, old_blank = old
    new, blank = set(), []
    for triple in triples:
        line = f"{triple.subject} {triple.predicate} {triple.object} .\n"
        if _is_blank(triple):
            blank.append(line)
        else:
            new.add(line)
    return GraphDiff(graph, list(lines - new), list(new - lines), blank, old_blank > 0,
                     len(new) + len(blank), [*new, *blank])


def _is_blank(triple) -> bool:
    return isinstance(triple.subject, ox.BlankNode) or isinstance(triple.object, ox.BlankNode)


def graph_lines(client: HttpClient, endpoints: Endpoints, graph: str) -> tuple[set[str], int]:
    """The triples of a named graph of the server without blank nodes, as canonical N-Triples
    lines, and the number of triples with blank nodes."""
    query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    body = client.post(endpoints.query, urllib.parse.urlencode({"query": query}).encode(),
                       "application/x-www-form-urlencoded", "application/n-triples")
    lines, blank = set(), 0
    try:
        for triple in ox.parse(input=body, format=ox.RdfFormat.N_TRIPLES):
            if _is_blank(triple):
                blank += 1
            else:
                lines.add(f"{triple.subject} {triple.predicate} {triple.object} .\n")
    except SyntaxError as error:
        raise EndpointError(f"{redact(endpoints.query)}: the graph {graph} came back unreadable "
                            f"({error})") from None
    return lines, blank


def diff_update(diffs: Iterable[GraphDiff]) -> bytes:
    """One SPARQL Update applying every diff: deletions first, then insertions."""
    parts = []
    for diff in diffs:
        if diff.deleted:
            parts += [f"DELETE DATA {{ GRAPH <{diff.graph}> {{\n", *diff.deleted, "} } ;\n"]
        if diff.drop_blank:
            parts.append(f"DELETE {{ GRAPH <{diff.graph}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH "
                         f"<{diff.graph}> {{ ?s ?p ?o }} FILTER(isBlank(?s) || isBlank(?o)) }} ;\n")
    for diff in diffs:
        if diff.inserted or diff.blank:
            parts += [f"INSERT DATA {{ GRAPH <{diff.graph}> {{\n", *diff.inserted, *diff.blank,
                      "} } ;\n"]
    if not parts:
        return b""
    text = "".join(parts)
    return text[: text.rstrip().rfind(";")].encode("utf-8")


def apply_diff(client: HttpClient, endpoints: Endpoints, url: str, body: bytes | Iterable[bytes],
               content_type: str, diffs: list[GraphDiff]) -> None:
    """Send the changes once; if the answer is lost, ask the server whether they were applied."""
    try:
        client.post(url, body, content_type, retries=0)
        return
    except AnswerLost as lost:
        problem = str(lost)
    state = diff_state(client, endpoints, diffs)
    if state == "committed":
        return
    if state == "not committed":
        raise EndpointError(f"{problem}; the server was asked: the update did not happen, "
                            "the graphs are as they were before the load")
    raise EndpointError(f"{problem}; whether the update happened cannot be told (the server "
                        "does not answer): the graphs are either wholly old or wholly new; run "
                        "the load again")


def diff_state(client: HttpClient, endpoints: Endpoints, diffs: list[GraphDiff],
               sample: int = 20) -> str:
    """'committed', 'not committed' or 'unknown', from a sample of the changed triples."""
    checks = []
    for diff in diffs:
        checks += [(diff.graph, line, True) for line in diff.inserted[:sample]]
        checks += [(diff.graph, line, False) for line in diff.deleted[:sample]]
    if not checks:
        return "unknown"
    deadline = time.monotonic() + client.timeout
    while time.monotonic() < deadline:
        try:
            present = [(_holds(client, endpoints, graph, line), wanted)
                       for graph, line, wanted in checks]
        except EndpointError:
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
            continue
        if all(has == wanted for has, wanted in present):
            return "committed"
        if all(has != wanted for has, wanted in present):
            return "not committed"
        return "unknown"
    return "unknown"


def _holds(client: HttpClient, endpoints: Endpoints, graph: str, line: str) -> bool:
    pattern = line.rstrip().rstrip(".")
    rows = client.select(endpoints.query,
                         f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ {pattern} }} }}")
    return bool(rows) and rows[0].get("n", {}).get("value") not in (None, "0")


def swap(client: HttpClient, endpoints: Endpoints, temporary: Mapping[str, str],
         counts: Mapping[str, int], empty: Iterable[str] = ()) -> None:
    """Run the swap update once; if its answer is lost, ask the server whether it committed.

    Returns when the swap committed; raises an EndpointError saying what is known otherwise.
    """
    update = swap_update(temporary, empty)
    try:
        client.update(endpoints.update, update, retries=0)
        return
    except AnswerLost as lost:
        problem = str(lost)
    state = swap_state(client, endpoints, temporary, counts)
    if state == "committed":
        return
    if state == "not committed":
        try:  # the update is idempotent: safe to send once more now that we know it did not run
            client.update(endpoints.update, update, retries=0)
            return
        except AnswerLost:
            state = swap_state(client, endpoints, temporary, counts)
            if state == "committed":
                return
    if state == "not committed":
        raise EndpointError(f"{problem}; the server was asked: the swap did not happen, "
                            "the graphs are as they were before the load")
    raise EndpointError(f"{problem}; whether the swap happened cannot be told (the server does "
                        "not answer): each graph is either wholly old or wholly new; run the load "
                        "again")


def swap_state(client: HttpClient, endpoints: Endpoints, temporary: Mapping[str, str],
               counts: Mapping[str, int]) -> str:
    """'committed', 'not committed' or 'unknown': what the server holds after a swap was sent."""
    deadline = time.monotonic() + client.timeout
    while time.monotonic() < deadline:
        try:
            left = {graph: graph_size(client, endpoints, tmp) for graph, tmp in temporary.items()}
            now = {graph: graph_size(client, endpoints, graph) for graph in temporary}
        except EndpointError:
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
            continue
        if not any(left.values()) and all(now[g] == counts[g] for g in temporary):
            return "committed"
        if all(left[g] == counts[g] for g in temporary):
            return "not committed"
        return "unknown"
    return "unknown"


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
    Credentials in the URL win; password defaults to the TARIFFKG_PASSWORD environment variable.
    """
    endpoint_url, given = split_credentials(endpoint_url)
    user = given.user or user
    password = given.password if given.password is not None else password
    if password is None:
        password = os.environ.get(PASSWORD_VARIABLE)
    endpoints = derive_endpoints(endpoint_url, store_endpoint, update_endpoint, bool(user))
    client = HttpClient(user, password, timeout, retries, backoff)
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
    """POST the triples into graph in chunks (N-Triples bodies); return how many were sent."""
    params = {endpoints.graph_param: graph}
    url = f"{endpoints.store}?{urllib.parse.urlencode(params)}"
    if endpoints.bulk_param:
        url += f"&{endpoints.bulk_param}"
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
    try:
        return int(rows[0]["n"]["value"]) if rows else 0
    except (KeyError, TypeError, ValueError):
        raise EndpointError(f"{redact(endpoints.query)}: the count is not a number") from None


def stale_graphs(client: HttpClient, endpoints: Endpoints) -> list[str]:
    """The temporary graphs (of this or any earlier load) the server holds."""
    rows = client.select(
        endpoints.query,
        "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "  # Virtuoso ignores GRAPH ?g {}
        f'FILTER(STRSTARTS(STR(?g), "{LOADING_PREFIX}")) }}',
    )
    return [row["g"]["value"] for row in rows if "g" in row]


def drop_stale_graphs(client: HttpClient, endpoints: Endpoints) -> list[str]:
    """Drop temporary graphs left by loads that were killed; return their IRIs."""
    stale = stale_graphs(client, endpoints)
    for graph in stale:
        check_graph_iri(graph)
    if stale:
        client.update(endpoints.update, " ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in stale))
    return stale


def _drop_quietly(client: HttpClient, endpoints: Endpoints, graphs: Iterable[str] = (),
                  stale: bool = False) -> None:
    """Best effort, within 10 s: the server may be the reason the load failed."""
    credentials = client.credentials
    quick = HttpClient(credentials.user, credentials.password, timeout=min(client.timeout, 10),
                       retries=0)
    try:
        graphs = list(graphs) + (stale_graphs(quick, endpoints) if stale else [])
        if graphs:
            quick.update(endpoints.update, " ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in graphs))
    except EndpointError:
        pass
    finally:
        quick.close()
