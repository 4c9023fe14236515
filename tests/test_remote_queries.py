"""The stored queries give the same answers on SPARQL servers as they ship as on the embedded store.

The server gets every graph of the fixture store (tests/fixtures/queries, built with the derived
graph by tests/fixture_stores.py), as `tariffkg load` gives it every graph of the real store. The
servers run with their default settings: an Oxigraph server without --union-default-graph (its
default graph is empty: the queries get tariff-kg's graphs through the protocol's
default-graph-uri and named-graph-uri parameters) and a new Virtuoso database (.ci/virtuoso.sh).
Virtuoso compiles each new question (2-3 s for duty_on_date), so its part is kept small.
"""

from __future__ import annotations

from datetime import date

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from fixture_stores import FIXTURE_FILES, store_quads

from kg.cli import main
from kg.duty import EntryFacts, duty_answer, question_bindings
from kg.errors import EndpointError
from kg.fast import Evaluation, Question, index_for
from kg.load import load
from kg.namespaces import GRAPH_TIMELINE, ID
from kg.queries import stored_queries, stored_query, substitute_parameters
from kg.store import NO_TARIFF_KG_GRAPH, RemoteEndpoint

QUESTIONS = [
    ("8703.23.01.10", "JP", date(2025, 5, 1), date(2025, 5, 1)),
    ("8703.23.01", "JP", date(2025, 9, 20), date(2025, 9, 20)),
    ("9503.00.00", "JP", date(2025, 8, 20), date(2025, 8, 20)),
    ("9503.00.00", "JP", date(2025, 8, 20), date(2025, 10, 1)),
    ("9503.00.00", "JP", date(2025, 8, 20), date(2026, 11, 25)),
    ("9503.00.00", "DE", date(2025, 9, 1), date(2025, 9, 1)),
    ("7208.51.00", "GB", date(2025, 9, 1), date(2025, 9, 1)),
    ("6402.99.42", "HR", date(2025, 6, 1), date(2025, 6, 1)),
    ("8703.23.01", "CA", date(2025, 5, 15), date(2025, 5, 15),
     EntryFacts(claim="S", loaded=date(2025, 4, 1))),
    ("8703.23.01", "GB", date(2025, 8, 10), date(2025, 8, 10), EntryFacts(quota="in")),
    ("7326.90.86", "GB", date(2025, 9, 1), date(2025, 9, 1), EntryFacts(content={"steel": 40.0})),
    ("9503.00.00", "CU", date(2026, 3, 1), date(2026, 3, 1)),
]
VIRTUOSO_QUESTIONS = [QUESTIONS[1], QUESTIONS[3], QUESTIONS[8], QUESTIONS[10]]

# One value per parameter name, as a user types it.
PARAMETERS = {
    "product": "8703.23.01", "origin": "JP", "jurisdiction": "JP", "date": "2025-08-20",
    "asKnownOn": "2025-10-01", "claim": "none", "quota": "over", "loaded": "not in transit",
    "from": "2025-01-01", "until": "2026-12-31",
    "node": "https://w3id.org/tariff-kg/id/measure/autos https://w3id.org/tariff-kg/id/country/JP",
}


# Values for the queries whose rows on the fixture need other ones (see test_stored_queries).
PARAMETERS_OF = {
    "lines_under": {"code": "8703", "date": "2025-05-01"},
    "origin_gaps": {"origin": "HR", "date": "2025-06-01", "asKnownOn": "2025-06-01"},
}
# No gap reaches a Japanese car.
NO_ROWS_ON_THE_FIXTURE = {"coverage_gaps"}


def _text(name: str) -> str:
    query = stored_queries()[name]
    values = {**PARAMETERS, **PARAMETERS_OF.get(name, {})}
    return query.bound_text({p.name: values[p.name] for p in query.parameters})


def _loaded(url: str, mini_store, **credentials) -> RemoteEndpoint:
    graphs = {name: triples for name, triples in store_quads(mini_store).items() if name}
    load(url, graphs, **credentials)
    return RemoteEndpoint(url, credentials.get("user"), credentials.get("password"))


@pytest.fixture(scope="module")
def remote(plain_oxigraph_server, mini_store):
    """The fixture store on an Oxigraph server as it ships (no union default graph)."""
    return _loaded(plain_oxigraph_server, mini_store)


def _unordered(value):
    """An answer with its lists in a fixed order: SPARQL fixes no row order, and the answer keeps
    the order of the rows (components, measures not applied, reasons, sources, notes)."""
    if isinstance(value, dict):
        return {key: _unordered(item) for key, item in value.items()}
    if isinstance(value, list):
        return sorted((_unordered(item) for item in value), key=repr)
    return value


def _comparable(rows):
    """Rows as sorted tuples; GROUP_CONCAT lists ("a; b") compared as sets, SPARQL fixes no order,
    and an empty GROUP_CONCAT ("" on Virtuoso, unbound on Oxigraph) as absent."""
    return sorted(
        sorted((k, "; ".join(sorted(str(v).split("; ")))) for k, v in row.items() if str(v) != "")
        for row in rows
    )


def _row_set(rows) -> set:
    return {tuple(sorted((k, str(v)) for k, v in row.items())) for row in rows}


def _question(q) -> tuple:
    return q if len(q) == 5 else (*q, EntryFacts())


@pytest.mark.server
@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: f"{q[0]}-{q[1]}-{q[2]}-{q[3]}")
def test_duty_answers_match_on_oxigraph_as_it_ships(remote, mini_store, question):
    assert _unordered(duty_answer(remote, *question).to_dict()) == _unordered(
        duty_answer(mini_store, *question).to_dict())


@pytest.mark.server
@pytest.mark.parametrize("name", sorted(stored_queries()))
def test_every_stored_query_gives_the_same_rows_on_oxigraph_as_it_ships(remote, mini_store, name):
    local = mini_store.select(_text(name), {})
    assert local or name in NO_ROWS_ON_THE_FIXTURE, "a question with rows"
    assert _comparable(remote.select(_text(name), {})) == _comparable(local)


@pytest.mark.server
def test_the_server_answer_is_a_real_answer(remote):
    answer = duty_answer(remote, "9503.00.00", "JP", date(2025, 8, 20), date(2025, 10, 1))
    assert answer.total_ad_valorem_percent == 15.0
    assert sorted(c.measure.rsplit("/", 1)[-1] for c in answer.components) == [
        "95030000-a", "jp15-inclusive"]


@pytest.mark.server
def test_the_fast_path_reads_its_facts_from_a_server_too(remote, mini_store):
    """kg.fast's index read over HTTP (tariffkg series --endpoint) gives duty_on_date's rows."""
    served = index_for(remote)
    for hts, origin, on, known, facts in map(_question, QUESTIONS):
        bindings = question_bindings(hts.replace(".", ""), origin, on, known, facts)
        rows = Evaluation(served, Question.from_bindings(bindings)).duty_rows()
        stored = mini_store.select(substitute_parameters(stored_query("duty_on_date").text,
                                                         bindings), {})
        assert _row_set(rows) == _row_set(stored), (hts, origin, on, known, facts)


@pytest.mark.server
def test_an_endpoint_without_a_tariff_kg_graph_says_so(oxigraph_binary, tmp_path):
    from conftest import OxigraphServer

    server = OxigraphServer(tmp_path / "empty", union_default_graph=False)
    server.start()
    try:
        with pytest.raises(EndpointError, match="holds no tariff-kg graph; load it with"):
            RemoteEndpoint(server.query_url).select(_text("product"))
        done = CliRunner().invoke(main, ["duty", "--endpoint", server.query_url, "--hts",
                                         "8703.23.01", "--origin", "JP", "--date", "2025-05-01"])
        assert done.exit_code == 2
        assert NO_TARIFF_KG_GRAPH in done.output and "unknown HTS code" not in done.output
        # a query of your own may still ask it
        rows = RemoteEndpoint(server.query_url, require_graph=False).select(
            "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1")
        assert rows == []
        triples = [t for path in FIXTURE_FILES
                   for t in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)]
        load(server.query_url, {GRAPH_TIMELINE: triples})
        with pytest.raises(EndpointError, match="not the derived graph"):
            RemoteEndpoint(server.query_url).select(_text("product"))
    finally:
        server.stop()


@pytest.mark.server
def test_a_query_with_its_own_dataset_keeps_it(remote):
    assert remote.select(f"SELECT ?s FROM <{GRAPH_TIMELINE}> WHERE {{ ?s ?p ?o }} LIMIT 1")
    assert remote.select(f"SELECT ?s FROM <{ID}no-such-graph> WHERE {{ ?s ?p ?o }} LIMIT 1") == []


@pytest.fixture(scope="module")
def virtuoso(virtuoso_server, mini_store):
    return _loaded(virtuoso_server, mini_store, user="dba", password="dba")


@pytest.mark.server
@pytest.mark.parametrize("name", sorted(stored_queries()))
def test_stored_queries_give_the_same_rows_on_virtuoso(virtuoso, mini_store, name):
    assert _comparable(virtuoso.select(_text(name), {})) == _comparable(
        mini_store.select(_text(name), {}))


@pytest.mark.server
@pytest.mark.parametrize("question", VIRTUOSO_QUESTIONS, ids=lambda q: f"{q[0]}-{q[1]}-{q[2]}")
def test_duty_answers_match_on_virtuoso(virtuoso, mini_store, question):
    """Virtuoso 7.2.5 runs duty_on_date since the parameters are written in as terms (it failed
    with error SQ074 on the query of before issue 8)."""
    assert _unordered(duty_answer(virtuoso, *question).to_dict()) == _unordered(
        duty_answer(mini_store, *question).to_dict())
