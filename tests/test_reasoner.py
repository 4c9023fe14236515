"""The ontology is sound: consistent with PROV-O and the curated data, and in the OWL 2 DL profile.

The reasoner is HermiT, as owlready2 (PyPI) ships it, run on the machine's Java. It reads the
ontology, the curated layer (kg.build.curated_triples(): the timeline Turtle, its measure tables,
every country; plus the product lists) and the PROV-O axioms that tariff-kg's use of PROV must
agree with (tests/fixtures/reasoner/prov-o-axioms.ttl, copied from the W3C PROV-O with its
source). Literals typed xsd:date are outside the OWL 2 datatype map, so HermiT ignores them
(--ignoreUnsupportedDatatypes); the SHACL shapes check dates.

The OWL 2 DL profile check is the OWL API's OWL2DLProfile, which the same HermiT.jar contains,
run through tests/fixtures/reasoner/DLProfile.java; a check in Python (every IRI used as a class
or property is declared with the right OWL type, every datatype range is in the OWL 2 datatype
map) runs without Java.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable, Iterator
from itertools import chain
from pathlib import Path

import owlready2
import pyoxigraph as ox
import pytest
from rdflib import OWL, RDF, RDFS, XSD, Graph, Literal, URIRef

from kg.build import curated_triples, ontology_file, turtle_triples
from kg.product_lists import list_triples
from kg.resources import data_dir

FIXTURES = Path(__file__).parent / "fixtures" / "reasoner"
PROV_O = FIXTURES / "prov-o-axioms.ttl"
HERMIT_JAR = Path(owlready2.__file__).parent / "hermit" / "HermiT.jar"
JAVA = shutil.which("java")
needs_java = pytest.mark.skipif(JAVA is None, reason="HermiT and the OWL API run on Java")

# The OWL 2 datatype map (OWL 2 Structural Specification, section 4).
OWL2_DATATYPES = {RDF.PlainLiteral, RDF.XMLLiteral, RDFS.Literal, OWL.real, OWL.rational} | {
    XSD[name] for name in (
        "decimal integer nonNegativeInteger nonPositiveInteger positiveInteger negativeInteger "
        "long int short byte unsignedLong unsignedInt unsignedShort unsignedByte double float "
        "string normalizedString token language Name NCName NMTOKEN boolean hexBinary "
        "base64Binary anyURI dateTime dateTimeStamp").split()}
# Predicates with a built-in meaning in OWL 2's mapping to RDF.
BUILT_IN = {RDF.type, RDF.first, RDF.rest, RDFS.label, RDFS.comment, RDFS.seeAlso,
            RDFS.isDefinedBy, RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range}


def write_ntriples(path: Path, sources: Iterable[Iterable[ox.Triple]]) -> Path:
    """Write the triples of every source into one N-Triples file; return its path."""
    with path.open("wb") as handle:
        ox.serialize(chain.from_iterable(sources), handle, format=ox.RdfFormat.N_TRIPLES)
    return path


def ontology_sources(*fixtures: Path) -> list[Iterator[ox.Triple]]:
    """The ontology, the PROV-O axioms and the given fixture files, as triple sources."""
    return [turtle_triples(p) for p in (ontology_file(), PROV_O, *fixtures)]


def consistent(path: Path) -> bool:
    """Ask HermiT whether the OWL document at path is consistent."""
    world = owlready2.World()
    try:
        world.get_ontology(path.as_uri()).load()
        owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0,
                                       ignore_unsupported_datatypes=True)
    except owlready2.OwlReadyInconsistentOntologyError:
        return False
    finally:
        world.close()
    return True


def dl_profile_violations(path: Path) -> list[str]:
    """The OWL API's OWL 2 DL profile violations of the document at path, one line each."""
    assert JAVA is not None
    done = subprocess.run(
        [JAVA, "-cp", str(HERMIT_JAR), str(FIXTURES / "DLProfile.java"), str(path)],
        capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines and lines[-1].startswith("violations: "), done.stdout + done.stderr
    return lines[:-1]


@pytest.fixture(scope="module")
def whole(tmp_path_factory) -> Path:
    """The ontology, the PROV-O axioms and the whole curated layer, as one N-Triples file."""
    path = tmp_path_factory.mktemp("reasoner") / "tariff-kg.nt"
    return write_ntriples(path, [*ontology_sources(), curated_triples(),
                                 list_triples(data_dir() / "lists")])


@needs_java
def test_ontology_and_curated_data_are_consistent_with_prov_o(whole):
    assert consistent(whole), "HermiT finds the ontology with the curated data inconsistent"


@needs_java
@pytest.mark.parametrize("fixture", sorted(FIXTURES.glob("bad-*.ttl")), ids=lambda p: p.stem)
def test_the_reasoner_finds_each_known_clash(fixture, tmp_path):
    path = write_ntriples(tmp_path / "bad.nt", ontology_sources(fixture))
    assert not consistent(path), f"HermiT should find {fixture.name} inconsistent"


@needs_java
def test_measure_tables_and_schedule_rates_are_not_taken_for_measures(tmp_path):
    path = write_ntriples(tmp_path / "ok.nt", ontology_sources(FIXTURES / "ok-table-and-rate.ttl"))
    assert consistent(path)


@needs_java
def test_the_ontology_alone_is_owl2_dl(tmp_path):
    path = write_ntriples(tmp_path / "ontology.nt", [turtle_triples(ontology_file())])
    assert dl_profile_violations(path) == []


@needs_java
def test_the_ontology_with_its_data_and_prov_o_is_owl2_dl(whole):
    assert dl_profile_violations(whole) == []


@needs_java
def test_the_profile_check_reports_undeclared_terms(tmp_path):
    path = write_ntriples(tmp_path / "not-dl.nt",
                          [turtle_triples(FIXTURES / "not-dl-undeclared.ttl")])
    kinds = {line.split("\t")[0] for line in dl_profile_violations(path)}
    assert "UseOfUndeclaredClass" in kinds


@pytest.fixture(scope="module")
def graph(whole) -> Graph:
    """The whole file as an rdflib graph."""
    return Graph().parse(whole, format="nt")


def declared(graph: Graph, kind: URIRef) -> set:
    """The IRIs declared with an OWL type."""
    return set(graph.subjects(RDF.type, kind))


def test_every_class_used_is_declared(graph):
    classes = declared(graph, OWL.Class)
    used = {o for o in graph.objects(None, RDF.type) if isinstance(o, URIRef)
            and not str(o).startswith((str(OWL), str(RDF), str(RDFS)))}
    used |= {o for o in graph.objects(None, RDFS.subClassOf) if isinstance(o, URIRef)}
    used |= {o for p in (RDFS.domain, RDFS.range) for o in graph.objects(None, p)
             if isinstance(o, URIRef) and not str(o).startswith(str(XSD))}
    assert sorted(used - classes) == []


def test_every_property_used_is_declared_with_the_right_owl_type(graph):
    objects = declared(graph, OWL.ObjectProperty)
    data = declared(graph, OWL.DatatypeProperty)
    annotations = declared(graph, OWL.AnnotationProperty) | {OWL.deprecated}
    wrong = set()
    for s, p, o in graph:
        if p in BUILT_IN or str(p).startswith(str(OWL)):
            continue
        if isinstance(o, Literal) and p not in data | annotations:
            wrong.add((p, "used with a literal but not a datatype or annotation property"))
        if not isinstance(o, Literal) and p not in objects | annotations:
            wrong.add((p, "used with a resource but not an object or annotation property"))
    assert sorted(wrong) == []


def test_no_iri_is_two_kinds_of_property(graph):
    kinds = [declared(graph, k) for k in (OWL.ObjectProperty, OWL.DatatypeProperty,
                                          OWL.AnnotationProperty)]
    assert kinds[0] & kinds[1] == set()
    assert (kinds[0] | kinds[1]) & kinds[2] == set()


def test_every_datatype_range_is_in_the_owl2_datatype_map(graph):
    ranges = {o for p in declared(graph, OWL.DatatypeProperty)
              for o in graph.objects(p, RDFS.range)}
    assert sorted(ranges - OWL2_DATATYPES) == []
