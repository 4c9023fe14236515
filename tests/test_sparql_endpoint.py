"""The read-only SPARQL 1.1 Protocol endpoint of `tariffkg serve` at /sparql.

Protocol checks on a real server over the session's store: GET, POST of a form, POST of the query,
Accept negotiation for every result format, CONSTRUCT as Turtle or N-Triples, the default graph as
the union of the tariff-kg graphs, updates and SERVICE refused, the time limit per query.
"""

from __future__ import annotations

import csv
import io
import json
import time
import urllib.parse
import xml.etree.ElementTree as ET

import pytest
import rdflib
from web_server import WebServer

from kg.web.sparql import choose_type, uses_service

TKG = "https://w3id.org/tariff-kg/ontology#"
COUNT = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?m a <{TKG}Measure> }}"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
BODY = {"Content-Type": "application/sparql-query"}
# Slow on purpose: a three-way cross product of the store (never finishes in the limit).
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?x . ?b ?q ?y . ?c ?r ?z }"


@pytest.fixture(scope="module")
def server(shipped_store_root):
    """The server with a 3-second limit per query."""
    running = WebServer(shipped_store_root, "--query-timeout", "3").start()
    yield running
    running.stop()


def get(server, query: str, accept: str | None = None, **params):
    return server.request("/sparql", {"query": query, **params},
                          headers={"Accept": accept} if accept else {})


def json_count(body: bytes) -> int:
    return int(json.loads(body)["results"]["bindings"][0]["n"]["value"])


def test_get_post_form_and_post_body_give_the_embedded_stores_answer(server, shipped_store):
    expected = int(shipped_store.select(COUNT)[0]["n"])
    assert expected > 0
    status, headers, body = get(server, COUNT)
    assert status == 200 and headers["content-type"].startswith("application/sparql-results+json")
    assert json_count(body) == expected
    form = urllib.parse.urlencode({"query": COUNT}).encode()
    status, _, body = server.request("/sparql", data=form, headers=FORM, method="POST")
    assert status == 200 and json_count(body) == expected
    status, _, body = server.request("/sparql", data=COUNT.encode(), headers=BODY, method="POST")
    assert status == 200 and json_count(body) == expected


@pytest.mark.parametrize("accept, media", [
    (None, "application/sparql-results+json"),
    ("*/*", "application/sparql-results+json"),
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv", "text/csv"),
    ("text/tab-separated-values", "text/tab-separated-values"),
    ("text/csv;q=0.5, application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/html, text/*;q=0.8", "text/csv"),
])
def test_select_results_follow_the_accept_header(server, accept, media):
    status, headers, body = get(server, COUNT, accept)
    assert status == 200 and headers["content-type"].startswith(media)
    assert "accept" in headers.get("vary", "").lower()
    text = body.decode()
    if media.endswith("xml"):
        ns = "{http://www.w3.org/2005/sparql-results#}"
        assert ET.fromstring(text).find(f"{ns}results/{ns}result") is not None
    elif media == "text/csv":
        assert list(csv.reader(io.StringIO(text)))[0] == ["n"]
    elif media == "text/tab-separated-values":
        assert text.splitlines()[0] == "?n"


def test_ask_and_no_acceptable_format(server):
    status, _, body = get(server, f"ASK {{ ?m a <{TKG}Measure> }}")
    assert status == 200 and json.loads(body)["boolean"] is True
    status, _, body = get(server, COUNT, "image/png")
    assert status == 406 and "sparql-results+json" in json.loads(body)["error"]


def test_construct_as_turtle_or_ntriples(server):
    query = (f"CONSTRUCT {{ ?m a <{TKG}Measure> }} WHERE {{ ?m a <{TKG}Measure> }} LIMIT 5")
    status, headers, body = get(server, query)
    assert status == 200 and headers["content-type"].startswith("text/turtle")
    assert len(rdflib.Graph().parse(data=body.decode(), format="turtle")) == 5
    status, headers, body = get(server, query, "application/n-triples")
    assert status == 200 and headers["content-type"].startswith("application/n-triples")
    assert len(rdflib.Graph().parse(data=body.decode(), format="nt")) == 5
    status, _, _ = get(server, query, "text/csv")
    assert status == 406


def test_the_default_graph_is_the_union_of_the_tariff_kg_graphs(server):
    both = f"ASK {{ ?m a <{TKG}Measure> . ?c a <{TKG}HTSCode> . ?w <{TKG}entryFrom> ?d }}"
    assert json.loads(get(server, both)[2])["boolean"] is True
    hts_only = "https://w3id.org/tariff-kg/graph/hts"
    status, _, body = get(server, both, **{"default-graph-uri": hts_only})
    assert status == 200 and json.loads(body)["boolean"] is False
    named = f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?c a <{TKG}HTSCode> }} }}"
    status, _, body = get(server, named, **{"named-graph-uri": hts_only})
    graphs = [row["g"]["value"] for row in json.loads(body)["results"]["bindings"]]
    assert status == 200 and graphs == [hts_only]


UPDATE = "INSERT DATA { <urn:x:a> <urn:x:b> <urn:x:c> }"


def test_updates_are_refused_every_way(server):
    sent = [
        server.request("/sparql", data=UPDATE.encode(), method="POST",
                       headers={"Content-Type": "application/sparql-update"}),
        server.request("/sparql", data=urllib.parse.urlencode({"update": UPDATE}).encode(),
                       headers=FORM, method="POST"),
        get(server, UPDATE),
        server.request("/sparql", data=UPDATE.encode(), headers=BODY, method="POST"),
    ]
    for status, _, body in sent:
        assert status == 403 and "read-only" in json.loads(body)["error"]
    status, _, body = get(server, "ASK { <urn:x:a> ?p ?o }")
    assert json.loads(body)["boolean"] is False


def test_service_is_refused_but_the_word_in_a_string_is_not(server):
    status, _, body = get(server, "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }")
    assert status == 403 and "SERVICE" in json.loads(body)["error"]
    status, _, _ = get(server, 'SELECT * WHERE { ?s ?p "SERVICE" } LIMIT 1')
    assert status == 200


@pytest.mark.parametrize("request_args, status, fragment", [
    ({"path": "/sparql"}, 400, "query"),
    ({"path": "/sparql", "params": {"query": "SELEC nothing"}}, 400, "syntax"),
    ({"path": "/sparql", "params": {"query": "  "}}, 400, "empty"),
    ({"path": "/sparql", "data": b"ASK {}", "method": "POST",
      "headers": {"Content-Type": "text/plain"}}, 415, "application/sparql-query"),
    ({"path": "/sparql", "params": {"query": "ASK {}", "default-graph-uri": "not an iri"}}, 400,
     "default-graph-uri"),
])
def test_bad_requests(server, request_args, status, fragment):
    answer = server.request(**request_args)
    assert answer[0] == status and fragment in json.loads(answer[2])["error"]


def test_two_queries_are_one_too_many(server):
    status, _, body = server.request("/sparql?query=ASK%7B%7D&query=ASK%7B%7D")
    assert status == 400 and "exactly one" in json.loads(body)["error"]


def test_a_query_past_the_time_limit_is_stopped_and_the_next_one_runs(server):
    started = time.monotonic()
    status, _, body = get(server, SLOW)
    assert status == 503 and "time limit of 3 s" in json.loads(body)["error"]
    assert time.monotonic() - started < 20
    status, _, body = get(server, "ASK {}")
    assert status == 200 and json.loads(body)["boolean"] is True


# --- the pure parts ----------------------------------------------------------------------------

@pytest.mark.parametrize("query, found", [
    ("SELECT * { SERVICE <http://x/> { ?s ?p ?o } }", True),
    ("select * { service silent <http://x/> { ?s ?p ?o } }", True),
    ("SELECT * { ?s ?p 'SERVICE' }", False),
    ('SELECT * { ?s ?p """a\nSERVICE <x> {}""" }', False),
    ("SELECT ?service { ?service ?p ?o } # SERVICE in a comment", False),
    ("PREFIX service: <http://x/> SELECT * { ?s service:p <http://x/SERVICE> }", False),
])
def test_uses_service(query, found):
    assert uses_service(query) is found


def test_choose_type():
    offered = {"application/sparql-results+json": "json", "text/csv": "csv"}
    assert choose_type("", offered) == "application/sparql-results+json"
    assert choose_type("text/csv;q=0.9, application/sparql-results+json;q=0.1",
                       offered) == "text/csv"
    assert choose_type("application/*", offered) == "application/sparql-results+json"
    assert choose_type("text/csv;q=0", offered) is None


def test_a_result_over_the_cap_is_refused(monkeypatch):
    import pyoxigraph as ox

    from kg.web import sparql

    store = ox.Store()
    graph = ox.NamedNode("urn:g")
    for number in range(500):
        store.add(ox.Quad(ox.NamedNode(f"urn:s{number}"), ox.NamedNode("urn:p"),
                          ox.Literal(str(number)), graph))
    request = sparql.QueryRequest("SELECT * WHERE { ?s ?p ?o }")
    assert sparql._answer(ox, store, [graph], request)[0] == "ok"
    monkeypatch.setattr(sparql, "MAX_RESULT_BYTES", 2048)
    status, code, message = sparql._answer(ox, store, [graph], request)
    assert (status, code) == ("error", 400) and "add a LIMIT" in message
