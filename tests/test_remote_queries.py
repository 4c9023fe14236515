"""The stored queries give the same answers on a real SPARQL server as on the embedded store.

The server gets every graph of the fixture store (tests/fixtures/queries, built with the derived
graph by tests/fixture_stores.py), as `tariffkg load` gives it every graph of the real store.
"""

from datetime import date

import pytest
from fixture_stores import store_quads

from kg.duty import EntryFacts, duty_answer
from kg.load import load
from kg.queries import stored_queries
from kg.store import RemoteEndpoint

QUESTIONS = [
    ("8703.23.01.10", "JP", date(2025, 5, 1), date(2025, 5, 1)),
    ("8703.23.01", "JP", date(2025, 9, 20), date(2025, 9, 20)),
    ("9503.00.00", "JP", date(2025, 8, 20), date(2025, 8, 20)),
    ("9503.00.00", "JP", date(2025, 8, 20), date(2025, 10, 1)),
    ("9503.00.00", "JP", date(2025, 8, 20), date(2026, 11, 25)),
    ("9503.00.00", "DE", date(2025, 9, 1), date(2025, 9, 1)),
    ("7208.51.00", "GB", date(2025, 9, 1), date(2025, 9, 1)),
    ("6402.99.42", "HR", date(2025, 6, 1), date(2025, 6, 1)),
    ("8703.23.01", "CA", date(2025, 5, 15), date(2025, 5, 15), EntryFacts(claim="S", loaded=date(2025, 4, 1))),
    ("8703.23.01", "GB", date(2025, 8, 10), date(2025, 8, 10), EntryFacts(quota="in")),
    ("7326.90.86", "GB", date(2025, 9, 1), date(2025, 9, 1), EntryFacts(content={"steel": 40.0})),
    ("9503.00.00", "CU", date(2026, 3, 1), date(2026, 3, 1)),
]

# One value per parameter name, as a user types it.
PARAMETERS = {
    "product": "8703.23.01", "origin": "JP", "jurisdiction": "JP", "date": "2025-08-20",
    "asKnownOn": "2025-10-01", "claim": "none", "quota": "over", "loaded": "not in transit",
    "from": "2025-01-01", "until": "2026-12-31",
    "node": "https://w3id.org/tariff-kg/id/measure/autos https://w3id.org/tariff-kg/id/country/JP",
}


def _text(name: str) -> str:
    query = stored_queries()[name]
    return query.bound_text({p.name: PARAMETERS[p.name] for p in query.parameters})


def _loaded(url: str, mini_store, **credentials) -> RemoteEndpoint:
    graphs = {name: triples for name, triples in store_quads(mini_store).items() if name}
    load(url, graphs, **credentials)
    return RemoteEndpoint(url, credentials.get("user"), credentials.get("password"))


@pytest.fixture(scope="module")
def remote(oxigraph_server, mini_store):
    return _loaded(oxigraph_server, mini_store)


@pytest.mark.server
@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: f"{q[0]}-{q[1]}-{q[2]}-{q[3]}")
def test_duty_answers_match_on_the_oxigraph_server(remote, mini_store, question):
    assert _unordered(duty_answer(remote, *question).to_dict()) == _unordered(
        duty_answer(mini_store, *question).to_dict())


@pytest.mark.server
@pytest.mark.parametrize("name", sorted(stored_queries()))
def test_every_stored_query_gives_the_same_rows_on_the_server(remote, mini_store, name):
    local = mini_store.select(_text(name), {})
    assert local or name == "coverage_gaps", "a question with rows"
    assert _comparable(remote.select(_text(name), {})) == _comparable(local)


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


@pytest.mark.server
def test_the_server_answer_is_a_real_answer(remote):
    answer = duty_answer(remote, "9503.00.00", "JP", date(2025, 8, 20), date(2025, 10, 1))
    assert answer.total_ad_valorem_percent == 15.0
    assert sorted(c.measure.rsplit("/", 1)[-1] for c in answer.components) == ["95030000-a", "jp15-inclusive"]


@pytest.fixture(scope="module")
def virtuoso(virtuoso_server, mini_store):
    return _loaded(virtuoso_server, mini_store, user="dba", password="dba")


@pytest.mark.server
@pytest.mark.parametrize("name", sorted(stored_queries()))
def test_stored_queries_give_the_same_rows_on_virtuoso(virtuoso, mini_store, name):
    assert _comparable(virtuoso.select(_text(name), {})) == _comparable(mini_store.select(_text(name), {}))


@pytest.mark.server
def test_duty_answers_match_on_virtuoso(virtuoso, mini_store):
    """Virtuoso 7.2.5 runs duty_on_date since the parameters are written in as terms (it failed
    with error SQ074 on the query of before issue 8)."""
    for question in QUESTIONS:
        assert _unordered(duty_answer(virtuoso, *question).to_dict()) == _unordered(
            duty_answer(mini_store, *question).to_dict())
