"""The ontology: every term of ours is labelled and defined, and the version comes from the package."""

from pathlib import Path

import pytest
from rdflib import OWL, RDF, RDFS, Graph, Literal, URIRef

from kg.build import package_version, version_triples
from kg.namespaces import ONTOLOGY_IRI, TKG
from kg.resources import ontology_dir

ONTOLOGY = Graph().parse(ontology_dir() / "tariff-kg.ttl")
TERMS = sorted({s for s in ONTOLOGY.subjects() if isinstance(s, URIRef) and s.startswith(str(TKG))})


def test_the_ontology_declares_its_terms():
    assert len(TERMS) > 60


@pytest.mark.parametrize("term", TERMS, ids=lambda t: t.split("#")[-1])
def test_every_term_has_one_english_label_and_a_definition(term):
    labels = [o for o in ONTOLOGY.objects(term, RDFS.label) if isinstance(o, Literal) and o.language == "en"]
    comments = list(ONTOLOGY.objects(term, RDFS.comment))
    assert len(labels) == 1, f"{term} needs exactly one English rdfs:label"
    assert comments and len(str(comments[0])) > 10, f"{term} needs an rdfs:comment that defines it"


@pytest.mark.parametrize("term", TERMS, ids=lambda t: t.split("#")[-1])
def test_every_term_is_typed(term):
    assert set(ONTOLOGY.objects(term, RDF.type)), f"{term} has no rdf:type"


def test_date_properties_say_what_the_date_means():
    for prop in ("validFrom", "validUntil", "inForceUntil", "eventDate"):
        comment = str(ONTOLOGY.value(TKG[prop], RDFS.comment)).lower()
        assert any(word in comment for word in ("inclusive", "exclusive", "took place")), prop


def test_version_comes_from_the_package_not_the_file():
    assert not list(ONTOLOGY.objects(URIRef(ONTOLOGY_IRI), OWL.versionInfo))
    values = {str(t.predicate.value): t.object.value for t in version_triples()}
    assert values[str(OWL.versionInfo)] == package_version()
    assert values[str(OWL.versionIRI)].endswith("/" + package_version())


def test_the_ontology_file_ships_where_the_package_finds_it():
    assert Path(ontology_dir(), "tariff-kg.ttl").is_file()
