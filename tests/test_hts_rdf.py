"""Tests for kg.hts_rdf: HTS revisions, codes and MFN rate periods as RDF."""

from pathlib import Path

import pytest
from pyoxigraph import NamedNode, Quad, RdfFormat, Store, parse

from kg.hts_rdf import hts_triples
from kg.product_lists import list_triples

DATA = Path(__file__).resolve().parents[1] / "data"
HTS_DIR = DATA / "hts"
PREFIXES = """
PREFIX tkg: <https://w3id.org/tariff-kg/ontology#>
PREFIX id: <https://w3id.org/tariff-kg/id/>
PREFIX hts: <https://w3id.org/tariff-kg/id/hts/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX eli: <http://data.europa.eu/eli/ontology#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""


@pytest.fixture(scope="module")
def store():
    s = Store()
    s.bulk_extend(Quad(t.subject, t.predicate, t.object) for t in hts_triples(HTS_DIR))
    return s


def rows(store, query):
    return [
        tuple(None if v is None else v.value for v in solution)
        for solution in store.query(PREFIXES + query)
    ]


def one(store, query):
    (row,) = rows(store, query)
    return row[0] if len(row) == 1 else row


def test_counts_of_each_class(store):
    counts = dict(rows(store, "SELECT ?c (COUNT(?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c"))
    tkg = "https://w3id.org/tariff-kg/ontology#"
    assert counts[tkg + "HTSRevision"] == "43"
    assert counts[tkg + "HTSCode"] == str(38538 + 3986)  # listed codes + implied prefixes
    assert counts[tkg + "Chapter99Heading"] == "3669"
    assert counts[tkg + "MFNRate"] == counts[tkg + "Measure"]


def test_revision_instrument(store):
    ident, title, issued, in_force, sha, source = one(
        store,
        """SELECT ?i ?t ?d ?f ?h ?src WHERE {
            id:instrument\\/hts-2025-rev-1 a tkg:HTSRevision, tkg:LegalInstrument ;
              dcterms:identifier ?i ; dcterms:title ?t ; eli:date_document ?d ;
              eli:first_date_entry_in_force ?f ; tkg:sha256 ?h ; dcterms:source ?src }""",
    )
    assert (ident, issued, in_force) == ("2025 HTS Revision 1", "2025-01-27", "2025-01-27")
    assert "2025 HTS Revision 1" in title
    assert sha.startswith("c1fcdf00")
    assert source == "https://w3id.org/tariff-kg/id/instrument/hts-2025-rev-1"
    assert (
        one(store, "SELECT ?i WHERE { id:instrument\\/hts-2025-basic dcterms:identifier ?i }")
        == "2025 HTS Basic Edition"
    )


def test_passenger_car_line(store):
    notation, label, digits, since = one(
        store,
        """SELECT ?n ?l ?d ?f WHERE { hts:87032301 a tkg:HTSCode, skos:Concept ; skos:inScheme id:scheme\\/hts ;
           skos:notation ?n ; skos:prefLabel ?l ; tkg:digits ?d ; tkg:validFrom ?f
           FILTER NOT EXISTS { hts:87032301 tkg:validUntil ?u } }""",
    )
    assert (notation, digits, since) == ("8703.23.01", "8", "2025-01-01")
    assert label.startswith("Of a cylinder capacity exceeding 1,500 cc")


def test_parent_chain_reaches_the_heading_which_is_a_top_concept(store):
    assert (
        one(store, "SELECT ?p WHERE { hts:8703230110 skos:broader ?p }")
        == "https://w3id.org/tariff-kg/id/hts/87032301"
    )
    assert one(
        store,
        "SELECT ?h WHERE { hts:8703230110 skos:broader+ ?h . ?h skos:topConceptOf id:scheme\\/hts }",
    ) == ("https://w3id.org/tariff-kg/id/hts/8703")
    assert rows(store, "SELECT ?b WHERE { hts:8703 skos:broader ?b }") == []


def test_mfn_rate_of_passenger_cars_is_one_period_of_2_5_percent(store):
    found = rows(
        store,
        """SELECT ?m ?label ?type ?pct ?from ?enacted WHERE {
            ?m a tkg:MFNRate ; tkg:appliesToProduct hts:87032301 ; rdfs:label ?label ; tkg:rateType ?type ;
               tkg:adValoremPercent ?pct ; tkg:validFrom ?from ; tkg:enactedBy ?enacted ;
               dcterms:source ?enacted ; tkg:authority id:authority\\/mfn ; tkg:program id:program\\/mfn ;
               tkg:rateText "2.5%" .
            FILTER NOT EXISTS { ?m tkg:validUntil ?u } }""",
    )
    assert found == [
        (
            "https://w3id.org/tariff-kg/id/mfn/87032301/2025-basic",
            "MFN rate of 8703.23.01 (2025 HTS Basic Edition)",
            "https://w3id.org/tariff-kg/ontology#AdValorem",
            "2.5",
            "2025-01-01",
            "https://w3id.org/tariff-kg/id/instrument/hts-2025-basic",
        )
    ]


def test_free_and_compound_rates(store):
    free = one(
        store,
        "SELECT ?p WHERE { ?m tkg:appliesToProduct hts:72085100 ; tkg:rateType tkg:Free ; tkg:adValoremPercent ?p }",
    )
    assert free == "0"
    pct, specific = one(
        store,
        """SELECT ?p ?s WHERE { ?m tkg:appliesToProduct hts:01022940 ; tkg:rateType tkg:Specific ;
           tkg:specificRateText ?s OPTIONAL { ?m tkg:adValoremPercent ?p } }""",
    )
    assert (pct, specific) == (None, "1¢/kg")
    n = one(
        store,
        "SELECT (COUNT(?m) AS ?n) WHERE { ?m tkg:rateType tkg:Compound ; tkg:adValoremPercent ?p ; tkg:specificRateText ?s }",
    )
    assert int(n) > 0


def test_one_mfn_line_per_8_digit_line_of_chapters_1_to_97(store):
    n = one(
        store,
        """SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?m a tkg:MFNRate ; tkg:appliesToProduct ?c .
           ?c tkg:digits 8 ; skos:notation ?code FILTER (?code < "98") }""",
    )
    assert n == "11414"
    assert (
        rows(
            store,
            "SELECT ?m WHERE { ?m a tkg:MFNRate ; tkg:appliesToProduct ?c . ?c a tkg:Chapter99Heading }",
        )
        == []
    )


def test_every_link_points_to_a_code(store):
    assert (
        rows(
            store,
            "SELECT ?x WHERE { ?m tkg:appliesToProduct ?x FILTER NOT EXISTS { ?x a tkg:HTSCode } }",
        )
        == []
    )
    assert (
        rows(store, "SELECT ?x WHERE { ?c skos:broader ?x FILTER NOT EXISTS { ?x a tkg:HTSCode } }")
        == []
    )
    assert (
        rows(
            store,
            "SELECT ?x WHERE { ?c tkg:endedBy ?x FILTER NOT EXISTS { ?x a tkg:HTSRevision } }",
        )
        == []
    )


def test_section_232_autos_heading(store):
    since, rate = one(
        store,
        "SELECT ?f ?r WHERE { hts:99039401 a tkg:Chapter99Heading ; tkg:validFrom ?f ; tkg:rateText ?r }",
    )
    assert since == "2025-03-12"
    assert rate.endswith("+ 25%")


def test_a_dropped_code_ends_with_the_revision_that_dropped_it(store):
    until, ended = one(
        store, "SELECT ?u ?e WHERE { hts:3004320000 tkg:validUntil ?u ; tkg:endedBy ?e }"
    )
    assert (until, ended) == (
        "2026-01-30",
        "https://w3id.org/tariff-kg/id/instrument/hts-2026-rev-2",
    )


IMPLIED = "Implied by the codes under it; the USITC JSON has no row for it"


def test_implied_heading_and_subheading(store):
    for code, notation, label, digits in [
        ("7609", "7609", "Heading 7609", "4"),
        ("9903", "9903", "Heading 9903", "4"),
        ("850710", "8507.10", "Subheading 8507.10", "6"),
    ]:
        found = one(
            store,
            f"""SELECT ?n ?l ?d ?f WHERE {{ hts:{code} a tkg:HTSCode, skos:Concept ;
                skos:inScheme id:scheme\\/hts ; skos:notation ?n ; skos:prefLabel ?l ;
                rdfs:comment "{IMPLIED}"@en ; tkg:digits ?d ; tkg:validFrom ?f }}""",
        )
        assert found == (notation, label, digits, "2025-01-01")
    assert one(store, "SELECT ?b WHERE { hts:850710 skos:broader ?b }") == (
        "https://w3id.org/tariff-kg/id/hts/8507"
    )
    assert rows(store, "SELECT ?s WHERE { hts:9903 skos:topConceptOf ?s }") != []
    # an implied code starts with the earliest of the codes under it
    assert one(store, "SELECT ?f WHERE { hts:990394 tkg:validFrom ?f }") == "2025-03-12"
    assert one(store, "SELECT (COUNT(?c) AS ?n) WHERE { ?c rdfs:comment ?x }") == "3986"


def test_a_line_without_heading_row_reaches_its_implied_prefixes(store):
    assert one(store, "SELECT ?b WHERE { hts:04090000 skos:broader ?b }") == (
        "https://w3id.org/tariff-kg/id/hts/040900"
    )
    assert rows(store, "SELECT ?x WHERE { hts:04090000 skos:topConceptOf ?x }") == []
    assert {r[0] for r in rows(store, "SELECT ?b WHERE { hts:99039401 skos:broader+ ?b }")} == {
        "https://w3id.org/tariff-kg/id/hts/990394",
        "https://w3id.org/tariff-kg/id/hts/9903",
    }


def test_only_headings_are_top_concepts(store):
    assert (
        rows(
            store,
            "SELECT ?c WHERE { ?c skos:topConceptOf ?s ; tkg:digits ?d FILTER (?d != 4) }",
        )
        == []
    )


def test_every_code_reaches_all_its_4_and_6_digit_prefixes(store):
    pairs, missing = one(
        store,
        """SELECT (COUNT(*) AS ?pairs) (SUM(IF(?reached, 0, 1)) AS ?missing) WHERE {
            ?c a tkg:HTSCode ; tkg:digits ?d .
            VALUES ?k { 4 6 } FILTER (?k < ?d)
            BIND (IRI(CONCAT(STR(hts:), SUBSTR(STRAFTER(STR(?c), STR(hts:)), 1, ?k))) AS ?p)
            BIND (EXISTS { ?c skos:broader* ?p } AS ?reached) }""",
    )
    assert int(pairs) > 70000
    assert missing == "0"


def used_codes():
    """Return the HTS code IRIs named by the product lists and by the timeline Turtle files."""
    used = {
        t.object for t in list_triples(DATA / "lists") if t.predicate.value.endswith("#product")
    }
    links = {"appliesToProduct", "excludesProduct"}
    for path in sorted((DATA / "timeline").glob("*.ttl")):
        for t in parse(path=str(path), format=RdfFormat.TURTLE):
            if t.predicate.value.rsplit("#", 1)[-1] in links:
                used.add(t.object)
    return used


def test_every_code_used_by_lists_and_timeline_is_a_concept(store):
    used = used_codes()
    assert NamedNode("https://w3id.org/tariff-kg/id/hts/7609") in used and len(used) > 1000
    hts_code = NamedNode("https://w3id.org/tariff-kg/ontology#HTSCode")
    rdf_type = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    missing = sorted(
        c.value for c in used if not any(store.quads_for_pattern(c, rdf_type, hts_code))
    )
    assert missing == []
