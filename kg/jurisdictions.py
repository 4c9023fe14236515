"""Every ISO 3166-1 country as a tkg:Country, from the ISO 3166-1 tables that pycountry ships.

Curated files add what ISO does not say (Wikidata links, groups with dated membership); the
countries themselves come from here so that every origin a user can type exists in the graph.
"""

from __future__ import annotations

from collections.abc import Iterator

import pycountry
from pyoxigraph import Literal, NamedNode, Triple

from kg.hts_rdf import ID, A, english, tkg

RDFS_LABEL = NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
NOTATION = NamedNode("http://www.w3.org/2004/02/skos/core#notation")
SOURCE = NamedNode("http://purl.org/dc/terms/source")
ISO_3166 = NamedNode(f"{ID}source/iso-3166-1")


def country_triples() -> Iterator[Triple]:
    """Yield a tkg:Country for every ISO 3166-1 alpha-2 code, labelled with its common name."""
    for country in sorted(pycountry.countries, key=lambda c: c.alpha_2):
        node = NamedNode(f"{ID}country/{country.alpha_2}")
        name = getattr(country, "common_name", None) or country.name
        yield Triple(node, A, tkg("Country"))
        yield Triple(node, tkg("isoCode"), Literal(country.alpha_2))
        yield Triple(node, NOTATION, Literal(country.alpha_3))
        yield Triple(node, RDFS_LABEL, english(name))
        yield Triple(node, SOURCE, ISO_3166)
