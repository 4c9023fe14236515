"""The ontology: every term of ours is labelled and defined, the time semantics are in RDF, twins of
ELI terms are deprecated, and the version comes from the package."""

from pathlib import Path

import pytest
from rdflib import OWL, RDF, RDFS, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, SKOS

from kg.build import package_version, version_triples
from kg.namespaces import ELI, ONTOLOGY_IRI, TKG
from kg.resources import ontology_dir

ONTOLOGY = Graph().parse(ontology_dir() / "tariff-kg.ttl")
TERMS = sorted({s for s in ONTOLOGY.subjects() if isinstance(s, URIRef) and s.startswith(str(TKG))})
DATE_PROPERTIES = ("validFrom", "validUntil", "inForceUntil", "eventDate", "loadedBefore",
                   "enteredBefore")


def english(term: URIRef, predicate: URIRef) -> list[Literal]:
    """The English literals of a term for one annotation property."""
    return [o for o in ONTOLOGY.objects(term, predicate)
            if isinstance(o, Literal) and o.language == "en"]


def test_the_ontology_declares_its_terms():
    assert len(TERMS) > 60


@pytest.mark.parametrize("term", TERMS, ids=lambda t: t.split("#")[-1])
def test_every_term_has_one_english_label_and_one_definition(term):
    assert len(english(term, RDFS.label)) == 1, f"{term} needs exactly one English rdfs:label"
    definitions = english(term, SKOS.definition)
    assert len(definitions) == 1, f"{term} needs exactly one English skos:definition"
    assert len(str(definitions[0])) > 10, f"{term}: the definition says nothing"


@pytest.mark.parametrize("term", TERMS, ids=lambda t: t.split("#")[-1])
def test_every_term_is_typed(term):
    assert set(ONTOLOGY.objects(term, RDF.type)), f"{term} has no rdf:type"


def test_the_time_semantics_are_in_the_ontology_itself_not_in_a_comment():
    comment = " ".join(str(c) for c in ONTOLOGY.objects(URIRef(ONTOLOGY_IRI), RDFS.comment))
    for words in ("Valid time", "Known time", "inclusive", "exclusive", "eli:date_document",
                  "tkg:supersedes", "tkg:invalidatedBy", "tkg:Pause", "time:ProperInterval"):
        assert words in comment, words


def test_date_properties_say_what_the_date_means():
    for prop in DATE_PROPERTIES:
        definition = str(ONTOLOGY.value(TKG[prop], SKOS.definition)).lower()
        assert "xsd:date" in definition, prop
        assert any(word in definition for word in ("inclusive", "exclusive", "took place")), prop


def test_date_properties_have_no_range_outside_the_owl2_datatype_map():
    for prop in DATE_PROPERTIES:
        assert ONTOLOGY.value(TKG[prop], RDFS.range) is None, prop


def test_no_prov_property_makes_an_entity_an_activity():
    """enactedBy was a sub-property of prov:wasGeneratedBy, whose range prov:Activity is disjoint
    with prov:Entity, a superclass of every legal instrument."""
    assert ONTOLOGY.value(TKG.enactedBy, RDFS.subPropertyOf) == PROV.wasDerivedFrom
    assert ONTOLOGY.value(TKG.supersedes, RDFS.subPropertyOf) == PROV.wasRevisionOf
    assert not list(ONTOLOGY.subjects(RDFS.subPropertyOf, PROV.wasGeneratedBy))


@pytest.mark.parametrize("twin, replacement", [(TKG.amends, ELI.amends),
                                               (TKG.supersedesInstrument, ELI.repeals)])
def test_twins_of_eli_terms_are_deprecated_in_favour_of_eli(twin, replacement):
    assert ONTOLOGY.value(twin, OWL.deprecated) == Literal(True)
    assert ONTOLOGY.value(twin, DCTERMS.isReplacedBy) == replacement


def test_version_comes_from_the_package_not_the_file():
    assert not list(ONTOLOGY.objects(URIRef(ONTOLOGY_IRI), OWL.versionInfo))
    values = {str(t.predicate.value): t.object.value for t in version_triples()}
    assert values[str(OWL.versionInfo)] == package_version()
    assert values[str(OWL.versionIRI)].endswith("/" + package_version())


def test_the_ontology_file_ships_where_the_package_finds_it():
    assert Path(ontology_dir(), "tariff-kg.ttl").is_file()
