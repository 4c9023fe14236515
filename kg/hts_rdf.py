"""Turn the HTS change-only tables (data/hts) into RDF triples.

`hts_triples()` yields the HTS revisions (tkg:HTSRevision), every HTS code ever listed
(tkg:HTSCode, a SKOS concept in the scheme <id/scheme/hts>) and every rate period of an 8-digit
line in chapters 1-98 (tkg:MFNRate): its column 1 general rate, with its column 1 special rates
(tkg:specialRate) and its column 2 rate (tkg:column2Rate). A period starts whenever any of the
three texts changes.

Special and column 2 rates are shared nodes, one per distinct text: <id/rate/special/HASH> is a
tkg:SpecialRate such as "Free" under the programs listed with it (tkg:underProgram
<id/preference/KR>, ...), and <id/rate/HASH> a column 2 rate (HASH: the first 12 hex digits of
the SHA-256 of the text).

The hierarchy is complete by code prefix: every 4- and 6-digit prefix of a listed code is a
concept (the USITC JSON has no row for some, e.g. heading 7609, 9903 or subheading 8507.10; these
are *implied* concepts), and every code reaches all its 4- and 6-digit prefixes via skos:broader*.
So a measure or list entry that names a heading or subheading covers every code under it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import replace
from itertools import groupby
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Triple

from kg.hts_tables import Line, Revision, dotted, read_lines, read_revisions
from kg.rates import Rate, SpecialPart, decimal_text, parse_rate, parse_special

ID = "https://w3id.org/tariff-kg/id/"
TKG = "https://w3id.org/tariff-kg/ontology#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
ELI = "http://data.europa.eu/eli/ontology#"
FOAF = "http://xmlns.com/foaf/0.1/"

A = NamedNode(RDF + "type")
SCHEME = NamedNode(ID + "scheme/hts")
USITC_PAGE = NamedNode("https://hts.usitc.gov/")
MFN_AUTHORITY = NamedNode(ID + "authority/mfn")
MFN_PROGRAM = NamedNode(ID + "program/mfn")
XSD_DATE = NamedNode(XSD + "date")
XSD_DECIMAL = NamedNode(XSD + "decimal")
XSD_INTEGER = NamedNode(XSD + "integer")
BROADER = NamedNode(SKOS + "broader")
CONCEPT = NamedNode(SKOS + "Concept")
IN_SCHEME = NamedNode(SKOS + "inScheme")
NOTATION = NamedNode(SKOS + "notation")
PREF_LABEL = NamedNode(SKOS + "prefLabel")
TOP_CONCEPT_OF = NamedNode(SKOS + "topConceptOf")
HTS_CODE = NamedNode(TKG + "HTSCode")
DIGITS = NamedNode(TKG + "digits")
VALID_FROM = NamedNode(TKG + "validFrom")
DIGIT_COUNTS = {n: Literal(str(n), datatype=XSD_INTEGER) for n in (4, 6, 8, 10)}
IMPLIED_COMMENT = "Implied by the codes under it; the USITC JSON has no row for it"
DATE_NOTES = {
    "usitc-release-start": "Its date is the start date USITC's HTS release list gives the "
    "revision (the date USITC's archive lists it under); see data/hts/README.md.",
    "yale-basic-edition": "Its date is January 1 of the edition year, as the Budget Lab at "
    "Yale's tracker gives it (USITC's release list starts the edition the day before); see "
    "data/hts/README.md.",
}


def tkg(name: str) -> NamedNode:
    """Return the IRI of a term of the tariff-kg ontology."""
    return NamedNode(TKG + name)


def instrument_iri(key: str) -> NamedNode:
    """Return the IRI of an HTS revision: ``2025-rev-1`` -> <id/instrument/hts-2025-rev-1>."""
    return NamedNode(f"{ID}instrument/hts-{key}")


def code_iri(digits: str) -> NamedNode:
    """Return the IRI of an HTS code: ``87032301`` -> <id/hts/87032301>."""
    return NamedNode(f"{ID}hts/{digits}")


def mfn_iri(digits: str, key: str) -> NamedNode:
    """Return the IRI of the MFN rate period of an 8-digit line set by revision key."""
    return NamedNode(f"{ID}mfn/{digits}/{key}")


def preference_iri(indicator: str) -> NamedNode:
    """Return the IRI of a preference program: ``KR`` -> <id/preference/KR>, ``S+`` ->
    <id/preference/S-plus>, ``A*`` -> <id/preference/A-star>."""
    key = indicator.replace("+", "-plus").replace("*", "-star")
    return NamedNode(f"{ID}preference/{key}")


def text_hash(text: str) -> str:
    """Return the first 12 hex digits of the SHA-256 of a text (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def special_rate_iri(part: SpecialPart) -> NamedNode:
    """Return the IRI of a shared special rate node: <id/rate/special/HASH of "Free (A,KR)">."""
    return NamedNode(f"{ID}rate/special/{text_hash(part.text)}")


def column2_rate_iri(text: str) -> NamedNode:
    """Return the IRI of a shared column 2 rate node: <id/rate/HASH of the rate text>."""
    return NamedNode(f"{ID}rate/{text_hash(text)}")


def date(value: str) -> Literal:
    """Return an xsd:date literal."""
    return Literal(value, datatype=XSD_DATE)


def english(text: str) -> Literal:
    """Return an English language-tagged literal."""
    return Literal(text, language="en")


def hts_triples(hts_dir: Path) -> Iterator[Triple]:
    """Yield the triples of the HTS revisions, codes, rate periods and shared rate nodes read
    from hts_dir."""
    revisions = {r.key: r for r in read_revisions(hts_dir)}
    for revision in revisions.values():
        yield from revision_triples(revision)
    yield from scheme_triples()
    codes = {d: list(v) for d, v in groupby(read_lines(hts_dir), key=lambda ln: ln.digits)}
    parents = {d: versions[-1].parent for d, versions in codes.items()}
    specials: dict[str, SpecialPart] = {}
    column2: set[str] = set()
    for digits, versions in codes.items():
        yield from code_triples(versions, revisions)
        for target in prefix_links(digits, parents):
            yield Triple(code_iri(digits), BROADER, code_iri(target))
        if len(digits) == 8 and int(digits[:2]) <= 98:
            for period in rate_periods(versions):
                yield from mfn_triples(period, revisions)
                specials.update((part.text, part) for part in parse_special(period.special))
                if period.other:
                    column2.add(parse_rate(period.other).text)
    since = {d: revisions[versions[0].from_rev].date for d, versions in codes.items()}
    for digits, valid_from in implied_codes(since).items():
        yield from implied_code_triples(digits, valid_from)
    yield from shared_rate_triples(list(specials.values()), sorted(column2))


def shared_rate_triples(specials: list[SpecialPart], column2: list[str]) -> Iterator[Triple]:
    """Yield the shared special and column 2 rate nodes; fail if two texts share a hash."""
    iris = [special_rate_iri(p) for p in specials] + [column2_rate_iri(t) for t in column2]
    if len(set(iris)) != len(iris):
        raise ValueError("two rate texts have the same hash: lengthen text_hash")
    for part in sorted(specials, key=lambda p: p.text):
        yield from special_rate_triples(part)
    for text in column2:
        s = column2_rate_iri(text)
        yield Triple(s, A, tkg("Rate"))
        yield from rate_value_triples(s, parse_rate(text))


def special_rate_triples(part: SpecialPart) -> Iterator[Triple]:
    """Yield the triples of one shared special rate node: its rate and the programs listed."""
    s = special_rate_iri(part)
    yield Triple(s, A, tkg("SpecialRate"))
    yield Triple(s, A, tkg("Rate"))
    yield Triple(s, NamedNode(RDFS + "label"), Literal(part.text))
    yield from rate_value_triples(s, parse_rate(part.rate_text))
    for indicator in part.programs:
        yield Triple(s, tkg("underProgram"), preference_iri(indicator))


def rate_value_triples(s: NamedNode, rate: Rate) -> Iterator[Triple]:
    """Yield tkg:rateText, tkg:rateType and the parsed ad valorem and specific parts of a rate."""
    yield Triple(s, tkg("rateText"), Literal(rate.text))
    yield Triple(s, tkg("rateType"), tkg(rate.rate_type))
    if rate.ad_valorem_percent is not None:
        yield Triple(
            s,
            tkg("adValoremPercent"),
            Literal(decimal_text(rate.ad_valorem_percent), datatype=XSD_DECIMAL),
        )
    if rate.specific_text:
        yield Triple(s, tkg("specificRateText"), Literal(rate.specific_text))


def prefix_of(digits: str) -> str:
    """Return the longest 4- or 6-digit proper prefix of a code (empty for a heading)."""
    return digits[:6] if len(digits) > 6 else digits[:4] if len(digits) > 4 else ""


def prefix_links(digits: str, parents: dict[str, str]) -> list[str]:
    """Return the extra skos:broader targets a code needs to reach its 4- and 6-digit prefixes.

    Let P be the code's longest 4- or 6-digit proper prefix. If the chain of indent parents above
    the code meets neither P nor a shorter code under P (which reaches P itself, by induction on
    length), the code gets a skos:broader link to P (a listed or implied concept), besides its
    indent parent. As P in turn reaches its heading, every code reaches all its 4- and 6-digit
    prefixes.
    """
    target = prefix_of(digits)
    if not target:
        return []
    seen, node = {digits}, parents.get(digits, "")
    while node and node not in seen:
        if node.startswith(target) and len(node) < len(digits):
            return []
        seen.add(node)
        node = parents.get(node, "")
    return [target]


def implied_codes(since: dict[str, str]) -> dict[str, str]:
    """Return {digits: validFrom} of the 4- and 6-digit prefixes that are not listed codes.

    since maps each listed code to its first date; an implied code is valid from the earliest
    date of the codes under it.
    """
    implied: dict[str, str] = {}
    for digits, valid_from in since.items():
        for size in (4, 6):
            prefix = digits[:size]
            if size < len(digits) and prefix not in since:
                implied[prefix] = min(valid_from, implied.get(prefix, valid_from))
    return dict(sorted(implied.items()))


def implied_code_triples(digits: str, valid_from: str) -> Iterator[Triple]:
    """Yield the triples of a heading or subheading implied by the codes under it."""
    s = code_iri(digits)
    kind = "Heading" if len(digits) == 4 else "Subheading"
    yield Triple(s, A, HTS_CODE)
    yield Triple(s, A, CONCEPT)
    yield Triple(s, IN_SCHEME, SCHEME)
    yield Triple(s, NOTATION, Literal(dotted(digits)))
    yield Triple(s, PREF_LABEL, english(f"{kind} {dotted(digits)}"))
    yield Triple(s, NamedNode(RDFS + "comment"), english(IMPLIED_COMMENT))
    if len(digits) == 4:
        yield Triple(s, TOP_CONCEPT_OF, SCHEME)
    else:
        yield Triple(s, BROADER, code_iri(digits[:4]))
    yield Triple(s, DIGITS, DIGIT_COUNTS[len(digits)])
    yield Triple(s, VALID_FROM, date(valid_from))


def revision_triples(revision: Revision) -> Iterator[Triple]:
    """Yield the triples describing one HTS revision as a legal instrument."""
    s = instrument_iri(revision.key)
    yield Triple(s, A, tkg("HTSRevision"))
    yield Triple(s, A, tkg("LegalInstrument"))
    yield Triple(s, NamedNode(DCTERMS + "identifier"), Literal(revision.label))
    yield Triple(s, NamedNode(RDFS + "label"), english(revision.label))
    title = f"Harmonized Tariff Schedule of the United States ({revision.label})"
    yield Triple(s, NamedNode(DCTERMS + "title"), english(title))
    yield Triple(s, NamedNode(ELI + "date_document"), date(revision.date))
    yield Triple(s, NamedNode(ELI + "first_date_entry_in_force"), date(revision.date))
    yield Triple(s, tkg("sha256"), Literal(revision.sha256))
    yield Triple(s, NamedNode(RDFS + "comment"), english(DATE_NOTES[revision.date_source]))
    yield Triple(s, NamedNode(FOAF + "page"), USITC_PAGE)
    yield Triple(s, NamedNode(DCTERMS + "source"), s)


def scheme_triples() -> Iterator[Triple]:
    """Yield the triples of the HTS concept scheme."""
    yield Triple(SCHEME, A, NamedNode(SKOS + "ConceptScheme"))
    yield Triple(
        SCHEME,
        NamedNode(RDFS + "label"),
        english("Harmonized Tariff Schedule of the United States"),
    )


def code_triples(versions: list[Line], revisions: dict[str, Revision]) -> Iterator[Triple]:
    """Yield the triples of one HTS code from all its versions (oldest first).

    Label, notation, parent and Chapter 99 rate text come from the latest version. The code is
    valid from its first revision; if the latest version has ended, the revision that dropped it
    gives tkg:validUntil and tkg:endedBy. Headings are the top concepts (every other code has a
    heading above it, see prefix_links).
    """
    first, latest = versions[0], versions[-1]
    s = code_iri(latest.digits)
    yield Triple(s, A, HTS_CODE)
    yield Triple(s, A, CONCEPT)
    yield Triple(s, IN_SCHEME, SCHEME)
    yield Triple(s, NOTATION, Literal(latest.code))
    if latest.description:
        yield Triple(s, PREF_LABEL, english(latest.description))
    if latest.parent:
        yield Triple(s, BROADER, code_iri(latest.parent))
    if len(latest.digits) == 4:
        yield Triple(s, TOP_CONCEPT_OF, SCHEME)
    yield Triple(s, DIGITS, DIGIT_COUNTS[len(latest.digits)])
    yield Triple(s, VALID_FROM, date(revisions[first.from_rev].date))
    if latest.until_rev:
        yield Triple(s, tkg("validUntil"), date(revisions[latest.until_rev].date))
        yield Triple(s, tkg("endedBy"), instrument_iri(latest.until_rev))
    if latest.digits.startswith("99"):
        yield Triple(s, A, tkg("Chapter99Heading"))
        if latest.general:
            yield Triple(s, tkg("rateText"), Literal(latest.general))


def rate_periods(versions: list[Line]) -> list[Line]:
    """Merge back-to-back versions with the same general, special and column 2 rate texts into
    one period each.

    Versions without a general rate text are left out. A returned Line's from_rev is the revision
    that set the rates and until_rev the one that changed any of them (empty = still in force).
    """
    periods: list[Line] = []
    for v in versions:
        if not v.general:
            continue
        last = periods[-1] if periods else None
        same = last and (last.general, last.special, last.other) == (v.general, v.special, v.other)
        if last and same and last.until_rev == v.from_rev:
            periods[-1] = replace(last, until_rev=v.until_rev)
        else:
            periods.append(v)
    return periods


def mfn_triples(period: Line, revisions: dict[str, Revision]) -> Iterator[Triple]:
    """Yield the triples of one rate period of an 8-digit line: its general (MFN) rate, with
    links to its shared special and column 2 rate nodes."""
    s = mfn_iri(period.digits, period.from_rev)
    enacted = instrument_iri(period.from_rev)
    label = f"MFN rate of {period.code} ({revisions[period.from_rev].label})"
    yield Triple(s, A, tkg("MFNRate"))
    yield Triple(s, A, tkg("Measure"))
    yield Triple(s, NamedNode(RDFS + "label"), english(label))
    yield Triple(s, tkg("authority"), MFN_AUTHORITY)
    yield Triple(s, tkg("program"), MFN_PROGRAM)
    yield Triple(s, tkg("appliesToProduct"), code_iri(period.digits))
    yield from rate_value_triples(s, parse_rate(period.general))
    for part in parse_special(period.special):
        yield Triple(s, tkg("specialRate"), special_rate_iri(part))
    if period.other:
        yield Triple(s, tkg("column2Rate"), column2_rate_iri(parse_rate(period.other).text))
    yield Triple(s, tkg("validFrom"), date(revisions[period.from_rev].date))
    if period.until_rev:
        yield Triple(s, tkg("validUntil"), date(revisions[period.until_rev].date))
        yield Triple(s, tkg("endedBy"), instrument_iri(period.until_rev))
    yield Triple(s, tkg("enactedBy"), enacted)
    yield Triple(s, NamedNode(DCTERMS + "source"), enacted)
