"""Validate the graph against the SHACL shapes and the stored SPARQL checks.

Two kinds of rules, one report:
* ontology/shapes.ttl: core SHACL shapes (structure, datatypes, required links), run with
  pySHACL over the curated layer (every graph but the HTS graph, plus the HTS nodes it mentions);
* queries/checks/*-violation.rq: whole-graph rules (overlaps, intervals within intervals,
  namespace closure) and the shapes' rules restated for the ~500k-triple generated HTS layer
  (hts-code, mfn-rate), each one SPARQL SELECT run once with pyoxigraph. A check returns
  ?focus ?property ?value ?message; no rows means it passes. Its severity is the
  `# severity: Violation|Warning|Info` line of its header (Violation when absent).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, XSD
from rdflib.term import Identifier

from kg.build import graph_quads, in_graph, ontology_file, turtle_triples
from kg.errors import DataError
from kg.namespaces import GRAPH_HTS, GRAPH_ONTOLOGY, GRAPH_TIMELINE, ID, TKG
from kg.resources import ontology_dir, queries_dir
from kg.store import from_oxigraph, term_converter

TKGSH = Namespace("https://w3id.org/tariff-kg/shapes#")
SEVERITIES = ("Violation", "Warning", "Info")
FORMATS = ("text", "json", "turtle")

_PREFIXES = {
    "tkgsh": str(TKGSH),
    "tkg": "https://w3id.org/tariff-kg/ontology#",
    "sh": str(SH),
    "xsd": str(XSD),
    "rdf": str(RDF),
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "eli": "http://data.europa.eu/eli/ontology#",
}
_SEVERITY_LINE = re.compile(r"^#\s*severity:\s*(\w+)", re.MULTILINE | re.IGNORECASE)


@dataclass(frozen=True)
class Result:
    """One finding: which shape or check fired, on which node, and what is wrong, in words."""

    severity: str  # "Violation", "Warning" or "Info"
    shape: Identifier
    focus: Identifier
    path: Identifier | None
    value: Identifier | None
    message: str
    component: Identifier | None = None

    def sort_key(self) -> tuple:
        """Order results by severity, then shape, focus, path and value."""
        return (
            SEVERITIES.index(self.severity),
            str(self.shape),
            str(self.focus),
            str(self.path or ""),
            str(self.value or ""),
        )


@dataclass
class ValidationReport:
    """The merged findings of the SHACL shapes and the SPARQL checks."""

    results: list[Result] = field(default_factory=list)
    triples: int = 0

    @property
    def conforms(self) -> bool:
        """True when no result is a violation (warnings and infos do not break conformance)."""
        return not any(r.severity == "Violation" for r in self.results)

    def count(self, severity: str) -> int:
        """The number of results of one severity."""
        return sum(1 for r in self.results if r.severity == severity)

    def render(self, fmt: str = "text") -> str:
        """The report as "text" (a line per result and a summary), "json" or "turtle"."""
        if fmt == "text":
            return _render_text(self)
        if fmt == "json":
            return _render_json(self)
        if fmt == "turtle":
            return _render_turtle(self)
        raise ValueError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")


############################################################################
# Entry points
############################################################################


def shapes_file() -> Path:
    """The SHACL shapes file."""
    return ontology_dir() / "shapes.ttl"


def check_files() -> list[Path]:
    """The stored SPARQL checks, in a stable order."""
    return sorted((queries_dir() / "checks").glob("*-violation.rq"))


def validate(extra_files: list[Path]) -> ValidationReport:
    """Validate the shipped graph (HTS included) plus the given user Turtle files.

    The user files join the timeline graph. A missing, empty or unparsable file raises
    DataError naming the file (and the line, for a syntax error).
    """
    for path in extra_files:
        check_user_file(Path(path))
    return validate_quads(graph_quads(extra_files=[Path(p) for p in extra_files]))


def validate_files(files: Iterable[Path], hts_files: Iterable[Path] = ()) -> ValidationReport:
    """Validate only the ontology plus the given Turtle files (no shipped data, no HTS).

    files go into the timeline graph, hts_files into the HTS graph (where the generated layer
    lives). Fast: meant for shape tests and for trying out a draft file on its own.
    """
    paths = [Path(p) for p in files]
    hts_paths = [Path(p) for p in hts_files]
    for path in [*paths, *hts_paths]:
        check_user_file(path)
    quads = chain(
        in_graph(turtle_triples(ontology_file()), GRAPH_ONTOLOGY),
        in_graph(chain.from_iterable(turtle_triples(p) for p in paths), GRAPH_TIMELINE),
        in_graph(chain.from_iterable(turtle_triples(p) for p in hts_paths), GRAPH_HTS),
    )
    return validate_quads(quads)


def check_user_file(path: Path) -> None:
    """Raise DataError unless path is a readable, non-empty Turtle file with at least one triple."""
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if not path.is_file():
        raise DataError(f"{path}: not a file")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty")
    if next(iter(turtle_triples(path)), None) is None:
        raise DataError(f"{path}: the file holds no triples (only prefixes or comments)")


def validate_quads(quads: Iterable[ox.Quad]) -> ValidationReport:
    """Validate a graph given as quads (named graphs as kg.build makes them)."""
    store = ox.Store()
    store.bulk_extend(quads)
    check_class_depth(store)
    results = shacl_results(store) + check_results(store)
    results.sort(key=Result.sort_key)
    return ValidationReport(results=results, triples=len(store))


MAX_CLASS_DEPTH = 200


def check_class_depth(store: ox.Store, limit: int = MAX_CLASS_DEPTH) -> None:
    """Raise DataError when an rdfs:subClassOf chain is deeper than limit classes.

    pySHACL walks class hierarchies recursively: a chain thousands of classes deep would end in
    a RecursionError instead of a report.
    """
    sub = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf")
    parents: dict = {}
    for quad in store.quads_for_pattern(None, sub, None, None):
        parents.setdefault(quad.subject, set()).add(quad.object)
    depth: dict = {}
    for start in parents:
        stack, seen = [start], {start}
        while stack:  # depth-first without recursion; cycles count once
            node = stack[-1]
            pending = [p for p in parents.get(node, ()) if p not in depth and p not in seen]
            if pending:
                seen.update(pending)
                stack.extend(pending)
                continue
            stack.pop()
            depth[node] = 1 + max((depth.get(p, 0) for p in parents.get(node, ())), default=0)
            if depth[node] > limit:
                raise DataError(f"rdfs:subClassOf chain deeper than {limit} classes at {node}: "
                                "flatten the class hierarchy")


############################################################################
# SHACL
############################################################################


def shape_predicates(shapes: Graph) -> set[URIRef]:
    """The predicates core SHACL reads for these shapes: paths, sh:lessThan, targets and types."""
    predicates = {RDF.type, RDFS.subClassOf}
    for p in (SH.path, SH.lessThan, SH.targetSubjectsOf, SH.targetObjectsOf):
        predicates.update(o for o in shapes.objects(None, p) if isinstance(o, URIRef))
    for alternatives in shapes.objects(None, SH.alternativePath):
        predicates.update(o for o in Collection(shapes, alternatives) if isinstance(o, URIRef))
    return predicates


def shacl_graph(store: ox.Store, predicates: set[URIRef]) -> Graph:
    """The part of the store pySHACL checks, as an rdflib graph.

    It holds every triple of the curated layer (every graph but the HTS graph: ontology,
    reference, timeline, product lists, user files) and, from the HTS graph, the triples of the
    nodes the curated layer mentions (so sh:class and HTS-code shapes see them) and of the HTS
    revisions. Only predicates core SHACL reads for the shapes are copied. The rest of the HTS
    graph (tens of thousands of generated codes and MFN rate periods) is checked by the stored
    checks hts-code and mfn-rate, which run in well under a second where pySHACL took minutes.
    """
    graph = Graph()
    convert = term_converter()
    hts = ox.NamedNode(GRAPH_HTS)
    mentioned = set()
    curated = [g for g in store.named_graphs() if g != hts] + [ox.DefaultGraph()]
    for quad in chain.from_iterable(store.quads_for_pattern(None, None, None, g) for g in curated):
        mentioned.add(quad.subject)
        if isinstance(quad.object, ox.NamedNode):
            mentioned.add(quad.object)
        if from_oxigraph(quad.predicate) in predicates:
            graph.add((convert(quad.subject), convert(quad.predicate), convert(quad.object)))
    revisions = store.quads_for_pattern(
        None, ox.NamedNode(str(RDF.type)), ox.NamedNode(str(TKG.LegalInstrument)), hts
    )
    mentioned.update(quad.subject for quad in revisions)
    for node in mentioned:
        for quad in store.quads_for_pattern(node, None, None, hts):
            if from_oxigraph(quad.predicate) in predicates:
                graph.add((convert(quad.subject), convert(quad.predicate), convert(quad.object)))
    return graph


def shacl_results(store: ox.Store) -> list[Result]:
    """Run the SHACL shapes with pySHACL over the store's graphs; return the results."""
    from pyshacl import validate as shacl_validate

    shapes = Graph().parse(shapes_file(), format="turtle")
    data = shacl_graph(store, shape_predicates(shapes))
    _, report, _ = shacl_validate(
        data, shacl_graph=shapes, inference="none", advanced=False, meta_shacl=False
    )
    return [_shacl_result(report, node) for node in report.subjects(RDF.type, SH.ValidationResult)]


def _shacl_result(report: Graph, node: Identifier) -> Result:
    severity = report.value(node, SH.resultSeverity)
    path = report.value(node, SH.resultPath)
    shape, focus = report.value(node, SH.sourceShape), report.value(node, SH.focusNode)
    assert isinstance(shape, Identifier) and isinstance(focus, Identifier), "no shape or focus"
    return Result(
        severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
        shape=shape,
        focus=focus,
        path=path if isinstance(path, URIRef) else None,
        value=_identifier(report.value(node, SH.value)),
        message=str(report.value(node, SH.resultMessage) or ""),
        component=_identifier(report.value(node, SH.sourceConstraintComponent)),
    )


def _identifier(term) -> Identifier | None:
    return term if isinstance(term, Identifier) else None


############################################################################
# Stored SPARQL checks
############################################################################


def check_shape(path: Path) -> URIRef:
    """The IRI that names a stored check in reports, e.g. tkgsh:check-measure-overlap."""
    return TKGSH["check-" + path.name.removesuffix("-violation.rq")]


def check_severity(query: str) -> str:
    """The severity a check's header declares (Violation when it declares none)."""
    match = _SEVERITY_LINE.search(query)
    severity = match.group(1).capitalize() if match else "Violation"
    if severity not in SEVERITIES:
        raise ValueError(f"unknown severity {severity!r} in a check header")
    return severity


def check_results(store: ox.Store) -> list[Result]:
    """Run every stored check once over the whole store; return one result per row."""
    return list(chain.from_iterable(run_check(store, path) for path in check_files()))


def run_check(store: ox.Store, path: Path) -> Iterator[Result]:
    """Run one stored check; yield a result per row it returns."""
    query = path.read_text(encoding="utf-8")
    severity = check_severity(query)
    shape = check_shape(path)
    solutions = store.query(query, use_default_graph_as_union=True)
    if not isinstance(solutions, ox.QuerySolutions):
        raise ValueError(f"{path.name}: a check must be a SELECT query")
    for row in solutions:
        focus = _term(row["focus"])
        if focus is None:
            raise ValueError(f"{path.name}: a row without ?focus")
        yield Result(
            severity=severity,
            shape=shape,
            focus=focus,
            path=_term(row["property"]),
            value=_term(row["value"]),
            message=str(row["message"].value) if row["message"] is not None else path.name,
            component=SH.SPARQLConstraintComponent,
        )


def _term(term) -> Identifier | None:
    return None if term is None else from_oxigraph(term)


############################################################################
# Rendering
############################################################################


def short(term: Identifier | None) -> str:
    """A compact, readable name for a term: prefixed IRIs, quoted literals."""
    if term is None:
        return "-"
    if isinstance(term, Literal):
        if term.language or term.datatype in (None, XSD.string):
            return term.n3()
        return f'"{term}"^^{short(term.datatype)}'
    if isinstance(term, BNode):
        return f"_:{term}"
    text = str(term)
    if text.startswith(ID):
        return text[len(ID) :].replace("/", ":", 1)
    for prefix, namespace in _PREFIXES.items():
        if text.startswith(namespace):
            return f"{prefix}:{text[len(namespace) :]}"
    return f"<{text}>"


def _summary(report: ValidationReport) -> str:
    verdict = "conforms" if report.conforms else "does not conform"
    counts = ", ".join(
        f"{report.count(s)} {s.lower()}{'s' if report.count(s) != 1 else ''}" for s in SEVERITIES
    )
    return f"{verdict}: {counts} ({report.triples:,} triples validated)"


def _render_text(report: ValidationReport) -> str:
    lines = [
        f"{r.severity}: {short(r.shape)} on {short(r.focus)}"
        + (f" {short(r.path)}" if r.path is not None else "")
        + (f" = {short(r.value)}" if r.value is not None else "")
        + f": {r.message}"
        for r in report.results
    ]
    return "\n".join([*lines, _summary(report)])


def _render_json(report: ValidationReport) -> str:
    document = {
        "conforms": report.conforms,
        "triples": report.triples,
        "counts": {s.lower(): report.count(s) for s in SEVERITIES},
        "results": [
            {
                "severity": r.severity,
                "shape": str(r.shape),
                "focus": str(r.focus),
                "path": None if r.path is None else str(r.path),
                "value": None if r.value is None else str(r.value),
                "message": r.message,
            }
            for r in report.results
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def report_graph(report: ValidationReport) -> Graph:
    """The report as a SHACL sh:ValidationReport graph."""
    graph = Graph()
    graph.bind("sh", SH)
    graph.bind("tkgsh", TKGSH)
    root = BNode()
    graph.add((root, RDF.type, SH.ValidationReport))
    graph.add((root, SH.conforms, Literal(report.conforms)))
    for r in report.results:
        node = BNode()
        graph.add((root, SH.result, node))
        graph.add((node, RDF.type, SH.ValidationResult))
        graph.add((node, SH.resultSeverity, SH[r.severity]))
        graph.add((node, SH.sourceShape, r.shape))
        graph.add((node, SH.focusNode, r.focus))
        graph.add((node, SH.resultMessage, Literal(r.message)))
        if r.path is not None:
            graph.add((node, SH.resultPath, r.path))
        if r.value is not None:
            graph.add((node, SH.value, r.value))
        if r.component is not None:
            graph.add((node, SH.sourceConstraintComponent, r.component))
    return graph


def _render_turtle(report: ValidationReport) -> str:
    return report_graph(report).serialize(format="turtle")
