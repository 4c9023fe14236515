"""The derived graph: what the stored rules (queries/rules/*.rq) conclude from the curated graph.

Each rule is a SPARQL CONSTRUCT query; the rules run in file-name order over the whole store (the
union of its graphs, derived triples of earlier rules included) and their triples go into the
derived graph. The rules state the legal meaning of the dates, scopes and statuses once; the
stored queries (queries/definitions/) only compare them with a question.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox

from kg.namespaces import GRAPH_DERIVED
from kg.resources import queries_dir


def rule_files() -> list[Path]:
    """The rules, in the order they run."""
    return sorted((queries_dir() / "rules").glob("*.rq"))


def derive(store: ox.Store, progress: Callable[[str, int], None] | None = None) -> int:
    """Run every rule on the store, add its conclusions to the derived graph, return their count."""
    graph = ox.NamedNode(GRAPH_DERIVED)
    total = 0
    for path in rule_files():
        triples = store.query(path.read_text(encoding="utf-8"), use_default_graph_as_union=True)
        if not isinstance(triples, ox.QueryTriples):
            raise TypeError(f"{path.name}: a rule must be a CONSTRUCT query")
        quads = [ox.Quad(t.subject, t.predicate, t.object, graph) for t in triples]
        store.bulk_extend(quads)
        total += len(quads)
        if progress:
            progress(f"rule {path.stem}", len(quads))
    return total
