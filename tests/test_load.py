"""Loading into a real SPARQL server: named graphs, replacement, and failures that change nothing."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from rdflib import Graph
from rdflib.compare import isomorphic

from kg.cli import main
from kg.errors import EndpointError, InputError
from kg.load import (
    LOADING_PREFIX,
    HttpClient,
    chunks,
    connect,
    derive_endpoints,
    graph_size,
    load,
    swap_update,
    upload,
)

EX = "http://example.org/"
G1, G2, G3 = EX + "g/one", EX + "g/two", EX + "g/three"
SECRET = "Sup3rSecretPw"


def triples(label: str, count: int, blank_groups: int = 0) -> list[ox.Triple]:
    """count plain triples plus small blank-node structures (a list-like chain of 3 each)."""
    result = [
        ox.Triple(ox.NamedNode(f"{EX}{label}/{i}"), ox.NamedNode(EX + "p"), ox.Literal(str(i)))
        for i in range(count)
    ]
    for group in range(blank_groups):
        a, b = ox.BlankNode(), ox.BlankNode()
        owner = ox.NamedNode(f"{EX}{label}/owner{group}")
        result += [
            ox.Triple(owner, ox.NamedNode(EX + "has"), a),
            ox.Triple(a, ox.NamedNode(EX + "next"), b),
            ox.Triple(b, ox.NamedNode(EX + "value"), ox.Literal(str(group))),
        ]
    return result


def to_rdflib(items) -> Graph:
    graph = Graph()
    text = "".join(f"{t.subject} {t.predicate} {t.object} .\n" for t in items)
    return graph.parse(data=text, format="nt")


def fetch(query_url: str, graph: str) -> Graph:
    """A named graph of the server, read back with a CONSTRUCT."""
    query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    request = urllib.request.Request(
        query_url,
        data=urllib.parse.urlencode({"query": query}).encode(),
        headers={"Accept": "application/n-triples"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return Graph().parse(data=answer.read().decode(), format="nt")


def count(query_url: str, graph: str | None = None) -> int:
    pattern = f"GRAPH <{graph}> {{ ?s ?p ?o }}" if graph else "?s ?p ?o"
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}"
    url = query_url + "?" + urllib.parse.urlencode({"query": query})
    request = urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return int(json.load(answer)["results"]["bindings"][0]["n"]["value"])


def loading_graphs(query_url: str) -> list[str]:
    query = f'SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ }} FILTER(STRSTARTS(STR(?g), "{LOADING_PREFIX}")) }}'
    url = query_url + "?" + urllib.parse.urlencode({"query": query})
    request = urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return [row["g"]["value"] for row in json.load(answer)["results"]["bindings"]]


# --- without a server ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, store, update",
    [
        ("http://h:7878/query", "http://h:7878/store", "http://h:7878/update"),
        ("http://h:3030/ds/query", "http://h:3030/ds/data", "http://h:3030/ds/update"),
        ("http://h:3030/ds/sparql", "http://h:3030/ds/data", "http://h:3030/ds/update"),
        (
            "http://h:7200/repositories/tkg",
            "http://h:7200/repositories/tkg/rdf-graphs/service",
            "http://h:7200/repositories/tkg/statements",
        ),
        (
            "http://h:8890/sparql",
            "http://h:8890/sparql-graph-crud-auth",
            "http://h:8890/sparql-auth",
        ),
    ],
)
def test_endpoints_are_derived_from_the_query_url(url, store, update):
    endpoints = derive_endpoints(url, authenticated=True)
    assert (endpoints.store, endpoints.update) == (store, update)


def test_unknown_layout_needs_explicit_endpoints():
    with pytest.raises(InputError, match="--store-endpoint"):
        derive_endpoints("http://h/some/where")
    given = derive_endpoints("http://h/some/where", "http://h/gsp", "http://h/upd")
    assert (given.store, given.update) == ("http://h/gsp", "http://h/upd")


def test_chunks_keep_triples_sharing_blank_nodes_together():
    items = triples("c", 10, blank_groups=5)
    batches = list(chunks(items, 4))
    assert sum(len(batch) for batch in batches) == len(items)
    for batch in batches:
        for line in batch:
            for label in (word for word in line.split() if word.startswith("_:")):
                holders = [i for i, other in enumerate(batches) if any(label in x for x in other)]
                assert len(holders) == 1, f"{label} split over chunks {holders}"


# --- against a real Oxigraph server ----------------------------------------------------------


@pytest.mark.server
@pytest.mark.parametrize("strategy", ["diff", "staged"])
def test_load_fills_the_named_graphs(oxigraph_server, strategy):
    data = {G1: triples("a", 120, blank_groups=7), G2: triples("b", 30), G3: []}
    counts = load(oxigraph_server, data, chunk_triples=25, strategy=strategy)
    assert counts == {G1: 141, G2: 30, G3: 0}
    assert count(oxigraph_server, G1) == 141 and count(oxigraph_server, G2) == 30
    assert isomorphic(fetch(oxigraph_server, G1), to_rdflib(data[G1]))  # blank nodes intact
    assert count(oxigraph_server) >= 171  # the default graph is the union of the named graphs
    assert loading_graphs(oxigraph_server) == []


@pytest.mark.server
@pytest.mark.parametrize("strategy", ["diff", "staged"])
def test_reload_replaces_instead_of_appending(oxigraph_server, tmp_path, strategy):
    load(oxigraph_server, {G1: triples("old", 50, blank_groups=1)}, strategy=strategy)
    new = triples("new", 20, blank_groups=2) + triples("old", 10)
    path = tmp_path / "new.nt"
    path.write_text("".join(f"{t.subject} {t.predicate} {t.object} .\n" for t in new))
    assert load(oxigraph_server, {G1: path}, strategy=strategy) == {G1: 36}
    assert isomorphic(fetch(oxigraph_server, G1), to_rdflib(new))
    assert load(oxigraph_server, {G1: path}, strategy=strategy) == {G1: 36}  # the same again
    assert isomorphic(fetch(oxigraph_server, G1), to_rdflib(new))


@pytest.mark.server
def test_the_swap_can_be_retried_without_emptying_a_graph(oxigraph_server):
    """Regression: a swap retried after a lost answer once ran on an already dropped temporary graph."""
    client = HttpClient()
    endpoints = derive_endpoints(oxigraph_server)
    load(oxigraph_server, {G2: triples("before", 5)})
    tmp = LOADING_PREFIX + "retry-test"
    upload(client, endpoints, tmp, triples("after", 8), 100)
    update = swap_update({G2: tmp})
    client.update(endpoints.update, update)
    client.update(endpoints.update, update)  # as a retry would
    assert isomorphic(fetch(oxigraph_server, G2), to_rdflib(triples("after", 8)))


@pytest.mark.server
def test_a_wrong_port_leaves_the_graphs_and_names_the_endpoint(oxigraph_server, unused_port):
    load(oxigraph_server, {G3: triples("kept", 10)})
    wrong = f"http://127.0.0.1:{unused_port}/query"
    with pytest.raises(EndpointError, match=r"127\.0\.0\.1:\d+/update: cannot reach"):
        load(wrong, {G3: triples("lost", 3)}, retries=1, backoff=0.05)
    assert isomorphic(fetch(oxigraph_server, G3), to_rdflib(triples("kept", 10)))


@pytest.mark.server
def test_a_server_killed_mid_load_keeps_the_previous_graphs(own_oxigraph):
    url = own_oxigraph.query_url
    before = {G1: triples("v1", 200, blank_groups=3), G2: triples("w1", 40)}
    load(url, before, chunk_triples=50)
    uploaded = []

    def kill_after_two_chunks(size: int) -> None:
        uploaded.append(size)
        if len(uploaded) == 2:
            own_oxigraph.stop()

    after = {G1: triples("v2", 300), G2: triples("w2", 60)}
    with pytest.raises(EndpointError, match="cannot reach"):
        load(url, after, chunk_triples=50, progress=kill_after_two_chunks, retries=2, backoff=0.05,
             strategy="staged")
    own_oxigraph.start()
    for graph, items in before.items():
        assert isomorphic(fetch(url, graph), to_rdflib(items))
    assert len(loading_graphs(url)) == 1  # the half-uploaded temporary graph survived the crash
    load(url, after, chunk_triples=50)  # the next load clears it and succeeds
    assert loading_graphs(url) == []
    assert {graph: count(url, graph) for graph in after} == {G1: 300, G2: 60}


# --- errors, through fake servers and the CLI ------------------------------------------------


def _always(status: int, headers: dict[str, str] | None = None):
    """An answer for ScriptedServer (tests/conftest.py): one status for every request."""
    return lambda handler, body: (status, headers or {}, b"nope\n")


@pytest.fixture()
def refusing_server(scripted_server):
    return scripted_server(_always(401, {"WWW-Authenticate": 'Basic realm="tkg"'}))


@pytest.fixture()
def failing_server(scripted_server):
    return scripted_server(_always(503))


def test_server_errors_are_retried_then_reported(failing_server):
    with pytest.raises(EndpointError, match="HTTP 503"):
        load(failing_server.url, {G1: triples("x", 3)}, retries=2, backoff=0.01)
    assert len(failing_server.requests) == 3


def test_refused_credentials_exit_2_without_the_password(refusing_server, monkeypatch):
    monkeypatch.setenv("TARIFFKG_PASSWORD", SECRET)
    result = CliRunner().invoke(main, ["load", "--endpoint", refusing_server.url, "--user", "dba"])
    assert result.exit_code == 2
    assert (
        "credentials refused" in result.output
        and refusing_server.url.rsplit("/", 1)[0] in result.output
    )
    assert SECRET not in result.output


@pytest.mark.server
def test_a_wrong_path_exits_2_naming_the_endpoint(oxigraph_server, monkeypatch):
    monkeypatch.setenv("TARIFFKG_PASSWORD", SECRET)
    wrong = oxigraph_server.replace("/query", "/sparql")
    result = CliRunner().invoke(main, ["load", "--endpoint", wrong, "--user", "u"])
    assert result.exit_code == 2
    assert "HTTP 404" in result.output and "/sparql" in result.output
    assert SECRET not in result.output


# --- a second real server: Virtuoso 7 (digest authentication, its own endpoint layout) ------

VIRTUOSO_PASSWORD = "dba"  # a new Virtuoso database's own


@pytest.mark.server
def test_virtuoso_load_and_reload_replace_the_named_graphs(virtuoso_server, monkeypatch):
    monkeypatch.setenv("TARIFFKG_PASSWORD", VIRTUOSO_PASSWORD)
    first = load(
        virtuoso_server,
        {G1: triples("a", 500, blank_groups=4), G2: triples("b", 9)},
        user="dba",
        chunk_triples=100,
    )
    assert first == {G1: 512, G2: 9}
    assert load(virtuoso_server, {G1: triples("c", 7), G2: []}, user="dba") == {G1: 7, G2: 0}
    client, endpoints = connect(virtuoso_server, "dba")
    assert graph_size(client, endpoints, G1) == 7 and graph_size(client, endpoints, G2) == 0
    rows = client.select(endpoints.query, f"SELECT ?s WHERE {{ GRAPH <{G1}> {{ ?s ?p ?o }} }}")
    assert all("/c/" in row["s"]["value"] for row in rows)


@pytest.mark.server
def test_virtuoso_refuses_a_wrong_password_without_showing_it(virtuoso_server, monkeypatch):
    secret = "Wr0ngButSecret"
    monkeypatch.setenv("TARIFFKG_PASSWORD", secret)
    with pytest.raises(EndpointError, match="credentials refused") as caught:
        load(virtuoso_server, {G1: triples("x", 3)}, user="dba")
    assert secret not in str(caught.value)
    result = CliRunner().invoke(main, ["load", "--endpoint", virtuoso_server, "--user", "dba"])
    assert result.exit_code == 2 and "credentials refused" in result.output
    assert secret not in result.output


# --- a lost answer to the swap (issue 14 item 3) --------------------------------------------


def _is_swap(path: str, headers: dict, body: bytes) -> bool:
    text = urllib.parse.unquote_plus(body.decode("utf-8", "replace"))
    first_load = path == "/store" and "n-quads" in headers.get("Content-Type", "")
    return first_load or (path.startswith("/update") and ("INSERT" in text or "DELETE DATA" in text))


def proxy_to(real_url: str, forward_swap: bool):
    """A gateway to the real server that answers 504 to the swap, after forwarding it or not."""
    import httpx

    base = real_url.rsplit("/", 1)[0]

    def answer(handler, body):
        headers = {k: v for k, v in handler.headers.items()
                   if k.lower() in {"content-type", "accept"}}
        if _is_swap(handler.path, headers, body):
            if forward_swap:
                httpx.post(base + handler.path, content=body, headers=headers, timeout=60)
            return 504, {}, b"gateway timeout\n"
        reply = httpx.post(base + handler.path, content=body, headers=headers, timeout=60)
        kept = {k: v for k, v in reply.headers.items() if k.lower() == "content-type"}
        return reply.status_code, kept, reply.content

    return answer


@pytest.mark.server
@pytest.mark.parametrize("strategy", ["diff", "staged", "first"])
def test_a_swap_whose_answer_is_lost_but_committed_is_a_success(own_oxigraph, scripted_server,
                                                               strategy):
    real = own_oxigraph.query_url
    if strategy == "first":  # nothing to delete: the diff goes as one N-Quads body
        strategy = "diff"
    else:
        load(real, {G1: triples("v1", 40)})
    gateway = scripted_server(proxy_to(real, forward_swap=True))
    assert load(gateway.url, {G1: triples("v2", 30)}, strategy=strategy) == {G1: 30}
    assert isomorphic(fetch(real, G1), to_rdflib(triples("v2", 30)))
    assert loading_graphs(real) == []


@pytest.mark.server
@pytest.mark.parametrize("strategy", ["diff", "staged"])
def test_a_swap_that_never_arrived_says_the_graphs_are_unchanged(own_oxigraph, scripted_server,
                                                                 strategy):
    real = own_oxigraph.query_url
    load(real, {G1: triples("v1", 40)})
    gateway = scripted_server(proxy_to(real, forward_swap=False))
    with pytest.raises(EndpointError, match="did not happen, the graphs are as they were"):
        load(gateway.url, {G1: triples("v2", 30)}, strategy=strategy)
    assert isomorphic(fetch(real, G1), to_rdflib(triples("v1", 40)))
    assert loading_graphs(real) == []


@pytest.mark.server
def test_changes_too_large_for_one_update_go_through_temporary_graphs(own_oxigraph, monkeypatch):
    """Regression: the fallback once got the sources already read, and emptied every graph."""
    import kg.load

    url = own_oxigraph.query_url
    first = {G1: triples("v1", 300, blank_groups=2), G2: triples("w1", 50)}
    assert load(url, first) == {G1: 306, G2: 50}
    monkeypatch.setattr(kg.load, "MAX_DIFF_BYTES", 1000)
    second = {G1: triples("v2", 200, blank_groups=1) + triples("v1", 100), G2: triples("w2", 10)}
    assert load(url, second) == {G1: 303, G2: 10}
    for graph, items in second.items():
        assert isomorphic(fetch(url, graph), to_rdflib(items))
    assert loading_graphs(url) == []
