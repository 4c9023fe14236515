"""Small graphs with the stored rules run on them, for tests of the fast path and remote servers."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from kg.build import ontology_file
from kg.derive import derive
from kg.namespaces import GRAPH_ONTOLOGY, GRAPH_TIMELINE

MINI = Path(__file__).resolve().parent / "fixtures" / "queries" / "mini.ttl"


def derived_quads(*files: Path) -> ox.Store:
    """In memory: the ontology, the Turtle files (timeline graph) and the rules' conclusions."""
    store = ox.Store()
    store.bulk_load(path=str(ontology_file()), format=ox.RdfFormat.TURTLE,
                    to_graph=ox.NamedNode(GRAPH_ONTOLOGY))
    for file in files:
        store.bulk_load(path=str(file), format=ox.RdfFormat.TURTLE,
                        to_graph=ox.NamedNode(GRAPH_TIMELINE))
    derive(store)
    return store
