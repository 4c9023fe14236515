"""The stored queries give the same answers on SPARQL servers as they ship as on the embedded store.

The graph is the mini fixture (tests/fixtures/queries/mini.ttl, made-up dates and rates) with the
ontology and the stored rules' conclusions, loaded with kg.load into the named graphs `tariffkg
load` writes. The servers run with their default settings: an Oxigraph server without
--union-default-graph (its default graph is empty: the queries get tariff-kg's graphs through the
protocol's default-graph-uri and named-graph-uri parameters) and a new Virtuoso database
(.ci/virtuoso.sh). Virtuoso compiles each new question (2-3 s for duty_on_date), so its part is
kept small.
"""

from __future__ import annotations

from datetime import date

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from derived_graphs import MINI, derived_quads
from test_fast_path import comparable

from kg.duty import EntryFacts, duty_answer
from kg.errors import EndpointError
from kg.fast import Evaluation, Question, index_for
from kg.load import load
from kg.namespaces import GRAPH_TIMELINE, ID
from kg.queries import stored_queries
from kg.store import NO_TARIFF_KG_GRAPH, LocalStore, RemoteEndpoint

QUESTIONS = [
    ("8703.23.01.10", "JP", date(2025, 5, 1), date(2025, 5, 1)),
    ("8703.23.01", "JP", date(2025, 9, 20), date(2025, 9, 20)),
    ("9503.00.00", "JP", date(2025, 8, 20), date(2025, 8, 20)),
    ("9503.00.00", "JP", date(2025, 8, 20), date(2025, 10, 1)),
    ("9503.00.00", "JP", date(2025, 8, 20), date(2026, 11, 25)),
    ("6402.99.42", "JP", date(2025, 6, 1), date(2025, 6, 1)),
    ("6402.99.42", "CA", date(2025, 4, 20), date(2025, 6, 1)),
    ("6402.99.42", "JP", date(2026, 3, 1), date(2026, 3, 1)),
]
VIRTUOSO_QUESTIONS = [QUESTIONS[1], QUESTIONS[3], QUESTIONS[6]]

# Parameter values as a user types them (each stored query takes the ones it declares).
VALUES = {
    "product": "8703.23.01", "origin": "JP", "jurisdiction": "JP", "date": "2025-08-20",
    "asKnownOn": "2025-10-01", "from": "2025-01-01", "until": "2026-12-01",
    "node": " ".join(f"{ID}{n}" for n in ("measure/autos", "measure/jp15-inclusive", "rule/autos-jp",
                                         "pause/jp", "instrument/court", "hts/87032301")),
}


def bound(name: str) -> str:
    """The stored query with the values it declares written in."""
    query = stored_queries()[name]
    return query.bound_text({p.name: VALUES[p.name] for p in query.parameters if p.name in VALUES})


@pytest.fixture(scope="module")
def derived_mini() -> ox.Store:
    """The mini graph with the ontology and the derived graph, in memory."""
    return derived_quads(MINI)


@pytest.fixture(scope="module")
def local(derived_mini) -> LocalStore:
    return LocalStore(derived_mini)


def _load(url: str, store: ox.Store, **credentials) -> RemoteEndpoint:
    graphs = {g.value: list(store.quads_for_pattern(None, None, None, g))
              for g in store.named_graphs()}
    load(url, graphs, **credentials)
    return RemoteEndpoint(url, credentials.get("user"), credentials.get("password"))


@pytest.fixture(scope="module")
def oxigraph(plain_oxigraph_server, derived_mini) -> RemoteEndpoint:
    return _load(plain_oxigraph_server, derived_mini)


@pytest.fixture(scope="module")
def virtuoso(virtuoso_server, derived_mini) -> RemoteEndpoint:
    return _load(virtuoso_server, derived_mini, user="dba", password="dba")


def _comparable(rows):
    """Rows as sorted tuples; GROUP_CONCAT lists ("a; b") compared as sets, SPARQL fixes no order,
    and an empty GROUP_CONCAT ("" on Virtuoso, unbound on Oxigraph) as absent."""
    return sorted(
        sorted((k, "; ".join(sorted(str(v).split("; ")))) for k, v in row.items() if str(v) != "")
        for row in rows
    )


@pytest.mark.server
@pytest.mark.parametrize("name", sorted(stored_queries()))
def test_every_stored_query_gives_the_same_rows_on_oxigraph_as_it_ships(oxigraph, local, name):
    expected = _comparable(local.select(bound(name), {}))
    assert _comparable(oxigraph.select(bound(name), {})) == expected
    if name in ("duty_on_date", "measures_in_force", "change_days", "product"):
        assert expected, f"{name} should find rows in the mini graph"


@pytest.mark.server
@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: f"{q[0]}-{q[1]}-{q[2]}-{q[3]}")
def test_duty_answers_match_on_oxigraph_as_it_ships(oxigraph, local, question):
    assert comparable(duty_answer(oxigraph, *question)) == comparable(duty_answer(local, *question))


@pytest.mark.server
def test_the_server_answer_is_a_real_answer(oxigraph):
    answer = duty_answer(oxigraph, "9503.00.00", "JP", date(2025, 8, 20), date(2025, 10, 1))
    assert answer.total_ad_valorem_percent == 15.0
    assert sorted(c.label.split(":")[0] for c in answer.components) == [
        "Japan 15 inclusive", "column 1 general (MFN) rate"]


@pytest.mark.server
def test_the_fast_path_reads_its_facts_from_a_server_too(oxigraph, local):
    """kg.fast's index read over HTTP (tariffkg series --endpoint) answers like the stored query."""
    from kg.duty import question_bindings

    served = index_for(oxigraph)
    for hts, origin, on, known in QUESTIONS:
        digits = hts.replace(".", "")
        bindings = question_bindings(digits, origin, on, known, EntryFacts())
        rows = Evaluation(served, Question.from_bindings(bindings)).duty_rows()
        from kg.queries import stored_query, substitute_parameters

        stored = local.select(substitute_parameters(stored_query("duty_on_date").text, bindings))
        assert _row_set(rows) == _row_set(stored), (hts, origin, on, known)


def _row_set(rows) -> set:
    return {tuple(sorted((k, str(v)) for k, v in row.items())) for row in rows}


@pytest.mark.server
def test_an_endpoint_without_a_tariff_kg_graph_says_so(oxigraph_binary, tmp_path):
    from conftest import OxigraphServer

    server = OxigraphServer(tmp_path / "empty", union_default_graph=False)
    server.start()
    try:
        with pytest.raises(EndpointError, match="holds no tariff-kg graph; load it with"):
            RemoteEndpoint(server.query_url).select(bound("product"))
        done = CliRunner().invoke(__import__("kg.cli").cli.main, [
            "duty", "--endpoint", server.query_url, "--hts", "8703.23.01", "--origin", "JP",
            "--date", "2025-05-01"])
        assert done.exit_code == 2
        assert NO_TARIFF_KG_GRAPH in done.output and "unknown HTS code" not in done.output
        load(server.query_url, {GRAPH_TIMELINE: list(ox.parse(path=str(MINI),
                                                                format=ox.RdfFormat.TURTLE))})
        with pytest.raises(EndpointError, match="not the derived graph"):
            RemoteEndpoint(server.query_url).select(bound("product"))
    finally:
        server.stop()


@pytest.mark.server
def test_a_query_with_its_own_dataset_keeps_it(oxigraph):
    rows = oxigraph.select(f"SELECT ?s FROM <{GRAPH_TIMELINE}> WHERE {{ ?s ?p ?o }} LIMIT 1")
    assert rows
    rows = oxigraph.select(f"SELECT ?s FROM <{ID}no-such-graph> WHERE {{ ?s ?p ?o }} LIMIT 1")
    assert rows == []


@pytest.mark.server
@pytest.mark.parametrize("name", sorted(stored_queries()))
def test_stored_queries_give_the_same_rows_on_virtuoso(virtuoso, local, name):
    assert _comparable(virtuoso.select(bound(name), {})) == _comparable(local.select(bound(name), {}))


@pytest.mark.server
@pytest.mark.parametrize("question", VIRTUOSO_QUESTIONS, ids=lambda q: f"{q[0]}-{q[2]}-{q[3]}")
def test_duty_answers_match_on_virtuoso(virtuoso, local, question):
    assert comparable(duty_answer(virtuoso, *question)) == comparable(duty_answer(local, *question))
