"""Small in-memory stores built from fixture Turtle the way `tariffkg build` builds the real one.

A fixture graph goes through the same steps as the shipped data: the ontology (with its version
triples) into the ontology graph, the fixture's Turtle files and product list CSVs into the
timeline graph, then the stored rules (kg.derive.derive) into the derived graph. Only the HTS
tables, the measure tables and the ISO countries are left out: a fixture declares the codes and
countries it needs. The stored queries can then be asked of it exactly as of the real store.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from kg.build import in_graph, ontology_file, turtle_triples, version_triples
from kg.derive import derive
from kg.namespaces import GRAPH_ONTOLOGY, GRAPH_TIMELINE
from kg.product_lists import list_triples
from kg.store import LocalStore, from_oxigraph

QUERY_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "queries"
# The fixture graph of the stored-query tests: its Turtle files and its product list CSVs.
FIXTURE_FILES = (QUERY_FIXTURES / "mini.ttl", QUERY_FIXTURES / "rules.ttl")
FIXTURE_LISTS = QUERY_FIXTURES / "lists"


def fixture_store(files: Iterable[Path] = FIXTURE_FILES, lists: Path | None = FIXTURE_LISTS,
                  ) -> LocalStore:
    """An in-memory store of the ontology, the Turtle files and list CSVs, and the derived graph."""
    store = ox.Store()
    store.bulk_extend(in_graph([*turtle_triples(ontology_file()), *version_triples()],
                               GRAPH_ONTOLOGY))
    store.bulk_extend(in_graph(curated(files, lists), GRAPH_TIMELINE))
    derive(store)
    return LocalStore(store)


def curated(files: Iterable[Path] = FIXTURE_FILES, lists: Path | None = FIXTURE_LISTS,
            ) -> list[ox.Triple]:
    """The triples a fixture puts into the timeline graph: its Turtle files and list entries."""
    triples = [t for path in files for t in turtle_triples(path)]
    if lists is not None:
        triples += list(list_triples(lists))
    return triples


def curated_graph(files: Iterable[Path] = FIXTURE_FILES, lists: Path | None = FIXTURE_LISTS,
                  ) -> Graph:
    """The fixture's own triples as an rdflib graph: no ontology, nothing derived."""
    graph = Graph()
    for t in curated(files, lists):
        graph.add((from_oxigraph(t.subject), from_oxigraph(t.predicate), from_oxigraph(t.object)))
    return graph


def store_quads(store: LocalStore) -> dict[str, list[ox.Triple]]:
    """Every graph of a fixture store as triples by graph name (to load it into a server)."""
    graphs: dict[str, list[ox.Triple]] = {}
    assert store._store is not None, "an in-memory store"
    for quad in store._store:
        name = quad.graph_name.value if isinstance(quad.graph_name, ox.NamedNode) else ""
        graphs.setdefault(name, []).append(ox.Triple(quad.subject, quad.predicate, quad.object))
    return graphs
