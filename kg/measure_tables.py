"""Turn measure tables (data/tables/<name>.csv) into tkg:Measure triples.

A measure table is a family of measures that share most of their properties, typically the country
rates of one order. Its Turtle node (`<id/table/<name>> a tkg:MeasureTable`) carries the shared
properties and `tkg:tableFile "<name>.csv"`; each CSV row is one measure,
`<id/measure/<name>-<key>>`, with the shared properties plus the row's own values. A row's value
replaces the table's value of the same property; sources add up. Columns (all optional but `key`):

| column | property | value |
|---|---|---|
| key | (the measure IRI) | letters, digits, `-` |
| label, comment, legal_basis, rate_text, specific | rdfs:label, rdfs:comment, tkg:legalBasis, tkg:rateText, tkg:specificRateText | text |
| origin, excludes_origin | tkg:appliesToOrigin, tkg:excludesOrigin | ISO 3166-1 alpha-2, `group:<key>` or `all`, space-separated |
| products, excludes_products | tkg:appliesToProduct(List), tkg:excludesProduct(List) | HTS codes or `list:<key>`, space-separated |
| rate_type | tkg:rateType | additional, inclusive, ad-valorem, specific, compound, free |
| percent | tkg:adValoremPercent | a decimal |
| basis | tkg:rateBasis | full, steel, aluminum, copper |
| heading, heading_below, heading_at_or_above | tkg:chapter99Heading, tkg:headingBelowInclusiveRate, tkg:headingAtOrAboveInclusiveRate | dotted HTS codes |
| valid_from, valid_until | tkg:validFrom, tkg:validUntil | ISO dates |
| enacted_by, ended_by, invalidated_by, sources | tkg:enactedBy, tkg:endedBy, tkg:invalidatedBy, dcterms:source | instrument keys (`eo-14257`) |
| supersedes | tkg:supersedes | measure keys (`ieepa-reciprocal-jp-2025-08-07`) |
| program | tkg:program | program key |
| exempt_claims | tkg:exemptUnderClaim | special program indicators (`S`, `KR`) |
| quota | tkg:quotaStatus | in, over |
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Triple

from kg.errors import DataError
from kg.hts_rdf import ID, XSD_DATE, XSD_DECIMAL, A, code_iri, english, preference_iri, tkg

RDFS = "http://www.w3.org/2000/01/rdf-schema#"
DCTERMS = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"
SOURCE = NamedNode(DCTERMS + "source")
TABLE_FILE = tkg("tableFile")
MEASURE_TABLE = tkg("MeasureTable")
KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
RATE_TYPES = {
    "additional": "AdditionalAdValorem", "inclusive": "InclusiveOfMFN", "ad-valorem": "AdValorem",
    "specific": "Specific", "compound": "Compound", "free": "Free",
}
BASES = {"full": "FullValue", "steel": "SteelContent", "aluminum": "AluminumContent",
         "copper": "CopperContent"}
QUOTAS = {"in": "InQuota", "over": "OverQuota"}
# Properties a row may not inherit from its table: they describe the table itself.
NOT_INHERITED = {NamedNode(RDFS + "label"), NamedNode(RDFS + "comment"), TABLE_FILE,
                 NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")}


class MeasureTableError(DataError, ValueError):
    """A malformed measure table; the message names the file and line."""


def table_triples(curated: Iterable[Triple], tables_dir: Path) -> Iterator[Triple]:
    """Yield the measures of every measure table declared in the curated triples."""
    by_subject: dict[NamedNode, list[Triple]] = {}
    for triple in curated:
        if isinstance(triple.subject, NamedNode):
            by_subject.setdefault(triple.subject, []).append(triple)
    tables = [s for s, ts in by_subject.items()
              if any(t.predicate == A and t.object == MEASURE_TABLE for t in ts)]
    for table in sorted(tables, key=lambda node: node.value):
        template = by_subject[table]
        files = [t.object.value for t in template
                 if t.predicate == TABLE_FILE and isinstance(t.object, Literal)]
        if len(files) != 1:
            raise MeasureTableError(f"{table.value}: a measure table needs exactly one tkg:tableFile")
        yield from rows_triples(table, template, Path(tables_dir) / files[0])


def rows_triples(table: NamedNode, template: list[Triple], path: Path) -> Iterator[Triple]:
    """Yield the triples of each row of one table's CSV file."""
    name = table.value.rsplit("/", 1)[-1]
    inherited = [t for t in template if t.predicate not in NOT_INHERITED]
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or "key" not in reader.fieldnames:
                raise MeasureTableError(f"{path}:1: the header needs a 'key' column")
            unknown = [c for c in reader.fieldnames if c not in COLUMNS]
            if unknown:
                raise MeasureTableError(f"{path}:1: unknown column {', '.join(unknown)}")
            seen: set[str] = set()
            for row in reader:
                where = f"{path}:{reader.line_num}"
                key = (row.get("key") or "").strip()
                if not KEY.fullmatch(key) or key in seen:
                    raise MeasureTableError(f"{where}: key {key!r} is empty, unusable in an IRI or repeated")
                seen.add(key)
                yield from row_triples(NamedNode(f"{ID}measure/{name}-{key}"), table, inherited, row, where)
    except OSError as error:
        raise MeasureTableError(f"{path}: cannot read: {error.strerror or error}") from None


def row_triples(measure: NamedNode, table: NamedNode, inherited: list[Triple], row: dict,
                where: str) -> Iterator[Triple]:
    """The triples of one measure: the table's properties, replaced or added to by the row's."""
    own: list[tuple[NamedNode, NamedNode | Literal]] = []
    for column, text in row.items():
        text = (text or "").strip()
        if column == "key" or not text:
            continue
        try:
            own += [(predicate, value) for predicate, value in COLUMNS[column](text)]
        except ValueError as error:
            raise MeasureTableError(f"{where}: column {column}: {error}") from None
    replaced = {predicate for predicate, _ in own if predicate != SOURCE}
    yield Triple(measure, A, tkg("Measure"))
    yield Triple(measure, NamedNode(PROV + "wasDerivedFrom"), table)
    for triple in inherited:
        if triple.predicate not in replaced:
            yield Triple(measure, triple.predicate, triple.object)
    for predicate, value in own:
        yield Triple(measure, predicate, value)


def _words(text: str) -> list[str]:
    return text.split()


def _iris(prefix: str, predicate: str):
    target = NamedNode(predicate) if ":" in predicate else tkg(predicate)

    def convert(text: str):
        out = []
        for word in _words(text):
            if not KEY.fullmatch(word):
                raise ValueError(f"{word!r} is not a key")
            out.append((target, NamedNode(f"{ID}{prefix}/{word}")))
        return out
    return convert


def _origins(predicate: str):
    def convert(text: str):
        out = []
        for word in _words(text):
            if word == "all":
                out.append((tkg(predicate), tkg("AllCountries")))
            elif word.startswith("group:") and KEY.fullmatch(word[6:]):
                out.append((tkg(predicate), NamedNode(f"{ID}group/{word[6:]}")))
            elif re.fullmatch(r"[A-Z]{2}", word):
                out.append((tkg(predicate), NamedNode(f"{ID}country/{word}")))
            else:
                raise ValueError(f"{word!r} is not an ISO 3166-1 alpha-2 code, group:<key> or all")
        return out
    return convert


def _products(code_predicate: str, list_predicate: str):
    def convert(text: str):
        out = []
        for word in _words(text):
            if word.startswith("list:") and KEY.fullmatch(word[5:]):
                out.append((tkg(list_predicate), NamedNode(f"{ID}list/{word[5:]}")))
            else:
                out.append((tkg(code_predicate), _code(word)))
        return out
    return convert


def _code(word: str) -> NamedNode:
    digits = word.replace(".", "")
    if not re.fullmatch(r"\d{4}(\d{2}){0,3}", digits):
        raise ValueError(f"{word!r} is not an HTS code")
    return code_iri(digits)


def _codes(predicate: str):
    return lambda text: [(tkg(predicate), _code(word)) for word in _words(text)]


def _date(predicate: str):
    def convert(text: str):
        try:
            date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text!r} is not an ISO date") from None
        return [(tkg(predicate), Literal(text, datatype=XSD_DATE))]
    return convert


def _choice(predicate: str, choices: dict[str, str]):
    def convert(text: str):
        if text not in choices:
            raise ValueError(f"{text!r} is not one of {', '.join(choices)}")
        return [(tkg(predicate), tkg(choices[text]))]
    return convert


def _percent(text: str):
    try:
        float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    return [(tkg("adValoremPercent"), Literal(text, datatype=XSD_DECIMAL))]


def _text(predicate: NamedNode, language: bool = False):
    return lambda text: [(predicate, english(text) if language else Literal(text))]


def _claims(text: str):
    out = []
    for word in _words(text):
        if not re.fullmatch(r"[A-Z][A-Z]?[+*]?", word):
            raise ValueError(f"{word!r} is not a special program indicator")
        out.append((tkg("exemptUnderClaim"), preference_iri(word)))
    return out


COLUMNS = {
    "key": lambda text: [],
    "label": _text(NamedNode(RDFS + "label"), language=True),
    "comment": _text(NamedNode(RDFS + "comment"), language=True),
    "legal_basis": _text(tkg("legalBasis")),
    "rate_text": _text(tkg("rateText")),
    "specific": _text(tkg("specificRateText")),
    "origin": _origins("appliesToOrigin"),
    "excludes_origin": _origins("excludesOrigin"),
    "products": _products("appliesToProduct", "appliesToProductList"),
    "excludes_products": _products("excludesProduct", "excludesProductList"),
    "rate_type": _choice("rateType", RATE_TYPES),
    "percent": _percent,
    "basis": _choice("rateBasis", BASES),
    "quota": _choice("quotaStatus", QUOTAS),
    "heading": _codes("chapter99Heading"),
    "heading_below": _codes("headingBelowInclusiveRate"),
    "heading_at_or_above": _codes("headingAtOrAboveInclusiveRate"),
    "valid_from": _date("validFrom"),
    "valid_until": _date("validUntil"),
    "enacted_by": _iris("instrument", "enactedBy"),
    "ended_by": _iris("instrument", "endedBy"),
    "invalidated_by": _iris("instrument", "invalidatedBy"),
    "sources": _iris("instrument", DCTERMS + "source"),
    "supersedes": _iris("measure", "supersedes"),
    "program": _iris("program", "program"),
    "exempt_claims": _claims,
}
