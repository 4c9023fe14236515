"""Tests for kg.hts_rdf: HTS revisions, codes and MFN rate periods as RDF."""

import csv
from datetime import date
from pathlib import Path

import pytest
from pyoxigraph import NamedNode, Quad, RdfFormat, Store, parse

from kg.hts_rdf import hts_triples, preference_iri
from kg.hts_tables import read_lines
from kg.product_lists import list_triples
from kg.rates import parse_special

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
    assert counts[tkg + "HTSRevision"] == "44"
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
    assert (ident, issued, in_force) == ("2025 HTS Revision 1", "2025-02-05", "2025-02-05")
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
    assert since == "2025-04-03"  # 2025 Revision 6, the day Proclamation 10908's duty began
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
    assert one(store, "SELECT ?f WHERE { hts:990394 tkg:validFrom ?f }") == "2025-04-03"
    assert (
        one(store, "SELECT (COUNT(?c) AS ?n) WHERE { ?c a tkg:HTSCode ; rdfs:comment ?x }")
        == "3986"
    )


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


# Codes a list names that no HTS revision we hold (2025 Basic - 2026 Rev 10) lists, each known:
# U.S. note 40(c) (Proclamation 11020, as printed from 2026-09-29) names statistical lines created
# after 2026 Rev 10. The other two are as their lists give them and match no line: an older
# statistical suffix in Section 301 list 3's exclusions, and 7302.90.00 in the Yale Budget Lab's
# aluminum derivatives of 2025-08-18 (a lead, not checked against 90 FR 40326's annexes).
NOT_IN_THE_SCHEDULE_HELD = {
    "2931909051": "s301-china-list3-9903-88-04-excluded",
    "73029000": "s232-aluminum-derivatives-2025-08-18",
}
LATER_STATISTICAL_LINES = ("s232-pharmaceuticals-note40c", date(2026, 9, 29))


def test_every_code_used_by_lists_and_timeline_is_a_concept(store):
    used = used_codes()
    assert NamedNode("https://w3id.org/tariff-kg/id/hts/7609") in used and len(used) > 1000
    hts_code = NamedNode("https://w3id.org/tariff-kg/ontology#HTSCode")
    rdf_type = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")

    def is_concept(code: str) -> bool:
        iri = NamedNode(f"https://w3id.org/tariff-kg/id/hts/{code}")
        return any(store.quads_for_pattern(iri, rdf_type, hts_code))

    missing = sorted(c.value.rsplit("/", 1)[-1] for c in used if not is_concept(
        c.value.rsplit("/", 1)[-1]))
    name, since = LATER_STATISTICAL_LINES
    rows = csv.DictReader((DATA / "lists" / f"{name}.csv").read_text().splitlines())
    later = {row["hts"] for row in rows
             if row["valid_from"] and date.fromisoformat(row["valid_from"]) >= since}
    unexplained = [c for c in missing if c not in NOT_IN_THE_SCHEDULE_HELD
                   and not (c in later and is_concept(c[:8]))]
    assert unexplained == []


# ---------------------------------------------------------------------------
# Column 1 special and column 2 rates: shared rate nodes


def special_rates(store, digits, key):
    """Return {rate label: (rate text, type, percent or None, sorted programs)} of a period."""
    found = rows(
        store,
        f"""SELECT ?label ?text ?type ?pct (GROUP_CONCAT(?code; separator=",") AS ?codes) WHERE {{
            <https://w3id.org/tariff-kg/id/mfn/{digits}/{key}> tkg:specialRate ?r .
            ?r a tkg:SpecialRate , tkg:Rate ; rdfs:label ?label ; tkg:rateText ?text ;
               tkg:rateType ?type .
            OPTIONAL {{ ?r tkg:adValoremPercent ?pct }}
            OPTIONAL {{ ?r tkg:underProgram ?p . ?p skos:notation ?code }}
        }} GROUP BY ?label ?text ?type ?pct""",
    )
    return {
        label: (text, type_.rsplit("#", 1)[-1], pct, sorted(codes.split(",")) if codes else [])
        for label, text, type_, pct, codes in found
    }


@pytest.fixture(scope="module")
def store_with_programs(store):
    path = DATA / "timeline" / "preference-programs.ttl"
    store.bulk_extend(
        Quad(t.subject, t.predicate, t.object) for t in parse(path=str(path), format=RdfFormat.TURTLE)
    )
    return store


def test_passenger_cars_are_free_under_korus_and_usmca_and_10_percent_in_column_2(
    store_with_programs,
):
    rates = special_rates(store_with_programs, "87032301", "2025-basic")
    label = "Free (A+,AU,B,BH,CL,CO,D,E,IL,JO,KR,MA,OM,P,PA,PE,S,SG)"
    programs = sorted(["A+", "AU", "B", "BH", "CL", "CO", "D", "E", "IL", "JO", "KR", "MA", "OM", "P", "PA", "PE", "S", "SG"])
    assert rates == {label: ("Free", "Free", "0", programs)}
    column2 = one(
        store_with_programs,
        """SELECT ?r ?text ?type ?pct WHERE { <https://w3id.org/tariff-kg/id/mfn/87032301/2025-basic>
           tkg:column2Rate ?r . ?r a tkg:Rate ; tkg:rateText ?text ; tkg:rateType ?type ;
           tkg:adValoremPercent ?pct }""",
    )
    iri, text, type_, pct = column2
    assert (text, type_.rsplit("#", 1)[-1], pct) == ("10%", "AdValorem", "10")
    assert iri.startswith("https://w3id.org/tariff-kg/id/rate/") and "/special/" not in iri


def test_drills_are_free_under_korus(store_with_programs):
    rates = special_rates(store_with_programs, "84672100", "2025-basic")
    assert [(text, "KR" in programs) for text, _, _, programs in rates.values()] == [("Free", True)]


def test_a_special_ad_valorem_rate_under_korus_and_its_end(store_with_programs):
    # boneless beef 0201.30.80: 1.7% under KORUS in 2025, free from the 2026 Basic Edition
    rates_2025 = special_rates(store_with_programs, "02013080", "2025-basic")
    assert rates_2025["1.7% (KR)"] == ("1.7%", "AdValorem", "1.7", ["KR"])
    assert rates_2025["See 9822.04.01-9822.04.03 (AU)"][:2] == (
        "See 9822.04.01-9822.04.03",
        "TextRate",
    )
    rates_2026 = special_rates(store_with_programs, "02013080", "2026-basic")
    assert not [label for label in rates_2026 if "(KR)" in label]
    free = [programs for text, _, _, programs in rates_2026.values() if text == "Free"]
    assert len(free) == 1 and "KR" in free[0]
    # the general rate did not change: the period split because the special rates did
    periods = rows(
        store_with_programs,
        """SELECT ?from ?until ?text WHERE { ?m a tkg:MFNRate ; tkg:appliesToProduct hts:02013080 ;
           tkg:validFrom ?from ; tkg:rateText ?text OPTIONAL { ?m tkg:validUntil ?until } }
           ORDER BY ?from""",
    )
    assert periods == [
        ("2025-01-01", "2026-01-01", "26.4%"),
        ("2026-01-01", None, "26.4%"),
    ]


def test_korus_pickup_trucks_keep_25_percent(store_with_programs):
    rates = special_rates(store_with_programs, "87042101", "2025-basic")
    assert rates["25% (KR)"] == ("25%", "AdValorem", "25", ["KR"])


def test_rate_nodes_are_shared(store):
    nodes, labels, links = one(
        store,
        """SELECT (COUNT(DISTINCT ?r) AS ?n) (COUNT(DISTINCT ?l) AS ?d) (COUNT(*) AS ?k) WHERE {
           ?m tkg:specialRate ?r . ?r rdfs:label ?l }""",
    )
    assert nodes == labels and int(links) > 10 * int(nodes)
    column2 = one(
        store,
        """SELECT (COUNT(DISTINCT ?r) AS ?n) (COUNT(DISTINCT ?t) AS ?d) WHERE {
           ?m tkg:column2Rate ?r . ?r tkg:rateText ?t }""",
    )
    assert column2[0] == column2[1]
    # every rate node is linked, and every link reaches a typed node
    assert rows(store, "SELECT ?r WHERE { ?r a tkg:Rate FILTER NOT EXISTS { ?m ?p ?r } }") == []
    assert (
        rows(
            store,
            """SELECT ?r WHERE { ?m tkg:specialRate|tkg:column2Rate ?r
               FILTER NOT EXISTS { ?r a tkg:Rate } }""",
        )
        == []
    )


def test_every_printed_program_symbol_has_a_preference_program(store_with_programs):
    printed = {
        code
        for ln in read_lines(HTS_DIR)
        for part in parse_special(ln.special)
        for code in part.programs
    }
    assert {"KR", "S", "S+", "JP", "A*", "NP", "MX"} <= printed
    declared = dict(
        rows(
            store_with_programs,
            "SELECT ?p ?code WHERE { ?p a tkg:PreferenceProgram ; skos:notation ?code }",
        )
    )
    assert printed <= set(declared.values())
    assert all(iri == preference_iri(code).value for iri, code in declared.items())
    linked = rows(
        store_with_programs,
        """SELECT DISTINCT ?p WHERE { ?r tkg:underProgram ?p
           FILTER NOT EXISTS { ?p a tkg:PreferenceProgram } }""",
    )
    assert linked == []
    assert preference_iri("S+").value.endswith("/preference/S-plus")


def test_every_preference_program_is_labelled_and_sourced(store_with_programs):
    missing = rows(
        store_with_programs,
        """SELECT ?p WHERE { ?p a tkg:PreferenceProgram
           FILTER NOT EXISTS { ?p rdfs:label ?l ; skos:notation ?n ; dcterms:source ?s ;
                               skos:inScheme ?scheme } }""",
    )
    assert missing == []


def test_every_revision_carries_its_dates_and_the_newest_is_2026_rev_10(store):
    undated = rows(
        store,
        """SELECT ?r WHERE { ?r a tkg:HTSRevision FILTER NOT EXISTS {
           ?r eli:date_document ?d ; eli:first_date_entry_in_force ?f ; rdfs:comment ?c } }""",
    )
    assert undated == []
    newest = rows(
        store,
        """SELECT ?r ?d WHERE { ?r a tkg:HTSRevision ; eli:date_document ?d }
           ORDER BY DESC(?d) LIMIT 1""",
    )
    assert newest == [("https://w3id.org/tariff-kg/id/instrument/hts-2026-rev-10", "2026-06-08")]
