"""IRIs of tariff-kg: the ontology namespace, instance IRIs and named graphs."""

from __future__ import annotations

from rdflib import Namespace

BASE = "https://w3id.org/tariff-kg/"
TKG = Namespace(BASE + "ontology#")
ID = BASE + "id/"
ONTOLOGY_IRI = BASE + "ontology"

GRAPH_ONTOLOGY = BASE + "graph/ontology"
GRAPH_TIMELINE = BASE + "graph/timeline"
GRAPH_HTS = BASE + "graph/hts"
GRAPH_DERIVED = BASE + "graph/derived"

ELI = Namespace("http://data.europa.eu/eli/ontology#")


def hts_iri(digits: str) -> str:
    """The IRI of an HTS code given as digits only, e.g. '87032301'."""
    return f"{ID}hts/{digits}"


def country_iri(iso_code: str) -> str:
    """The IRI of a country given its ISO 3166-1 alpha-2 code, e.g. 'JP'."""
    return f"{ID}country/{iso_code}"
