"""Turning what a user typed into validated RDF terms: HTS codes, countries, dates, IRIs.

Every function raises InputError with a message naming the bad value and what was expected; the
terms they return are the only way user values reach a SPARQL query.
"""

from __future__ import annotations

import re
from datetime import date

import pycountry
from rdflib import Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Identifier

from kg.errors import InputError
from kg.namespaces import TKG, country_iri, hts_iri

EARLIEST_KNOWN_ON = date(2025, 1, 1)
MAX_SHOWN = 60  # characters of a bad value quoted in a message
_HTS = re.compile(r"^[0-9]{4}([0-9]{2}){0,3}$")  # ASCII digits only: not ٨٧٠٣ or ８７０３
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_IRI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s<>\"{}|\\^`]+$")


def shown(text: str | None) -> str:
    """A value as quoted in a message: repr, cut after MAX_SHOWN characters with its length."""
    text = "" if text is None else str(text)
    if len(text) <= MAX_SHOWN:
        return repr(text)
    return f"{text[:MAX_SHOWN]!r}... ({len(text):,} characters)"


def hts_digits(text: str, what: str = "HTS code") -> str:
    """The digits of an HTS code typed with or without dots or spaces: 4, 6, 8 or 10 digits."""
    digits = re.sub(r"[. \t]", "", text or "")
    if not _HTS.fullmatch(digits):
        raise InputError(f"{what} {shown(text)} is not an HTS code (4, 6, 8 or 10 digits 0-9, "
                         "dots optional)")
    return digits


def dotted_hts(digits: str) -> str:
    """The dotted form of HTS digits: 87032301 -> 8703.23.01."""
    parts = [digits[:4]] + [digits[i:i + 2] for i in range(4, len(digits), 2)]
    return ".".join(parts)


def hts_term(text: str) -> URIRef:
    """The IRI of the HTS code a user typed."""
    return URIRef(hts_iri(hts_digits(text)))


def country_code(text: str) -> str:
    """The ISO 3166-1 alpha-2 code for an ISO code (alpha-2 or alpha-3) or an English name."""
    value = (text or "").strip()
    if not value:
        raise InputError("origin is empty: give an ISO 3166-1 code (JP) or a country name (Japan)")
    if len(value) > 100:
        raise InputError(f"unknown country {shown(value)}: give an ISO 3166-1 code (JP) or an "
                         "English name (Japan)")
    try:
        return pycountry.countries.lookup(value).alpha_2
    except LookupError:
        pass
    try:
        matches = pycountry.countries.search_fuzzy(value)
    except LookupError:
        matches = []
    if len(matches) == 1:
        return matches[0].alpha_2
    raise InputError(f"unknown country {shown(value)}: give an ISO 3166-1 code (JP) or an "
                     "English name (Japan)")


def country_term(text: str) -> URIRef:
    """The IRI of the country a user typed."""
    return URIRef(country_iri(country_code(text)))


def parse_date(text: str, what: str = "date") -> date:
    """A calendar date written exactly YYYY-MM-DD (not 20250501, not 2025-W18-4)."""
    value = (text or "").strip()
    try:
        if not _ISO_DATE.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{what} {shown(text)} is not a real date in the form YYYY-MM-DD") from None


def parse_known_on(text: str | None, today: date | None = None,
                   what: str = "--as-known-on") -> date:
    """The as-known-on date: today when not given (None), never before 2025-01-01 (where the data
    starts); an empty text is refused."""
    if text is None:
        return today or date.today()
    value = parse_date(text, what)
    if value < EARLIEST_KNOWN_ON:
        raise InputError(f"{what} {value} is before {EARLIEST_KNOWN_ON}, where the data begins")
    return value


def date_term(value: date) -> Literal:
    """An xsd:date literal."""
    return Literal(value.isoformat(), datatype=XSD.date)


def iri_term(text: str, what: str = "IRI") -> URIRef:
    """An absolute IRI with none of the characters IRIs may not hold."""
    value = (text or "").strip()
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1]
    if not _IRI.match(value):
        raise InputError(f"{what} {shown(text)} is not an absolute IRI")
    return URIRef(value)


NOT_IN_TRANSIT = date(9999, 12, 31)
NO_CLAIM = URIRef(TKG + "NoClaim")
QUOTA_STATUS = {"in": URIRef(TKG + "InQuota"), "over": URIRef(TKG + "OverQuota")}
_INDICATOR = re.compile(r"^[A-Z][A-Z]?[+*]?$")


def preference_term(text: str | None, what: str = "--claim") -> URIRef:
    """The preference program claimed, by its special program indicator (KR, S, A+), or no claim."""
    value = (text or "").strip()
    if value in ("", "none"):
        return NO_CLAIM
    if not _INDICATOR.match(value.upper()):
        raise InputError(f"{what} {shown(text)} is not a special program indicator of HTS General Note 3(c)(i)"
                         " (e.g. KR, S, JP, AU)")
    from kg.hts_rdf import preference_iri

    return URIRef(preference_iri(value.upper()).value)


def quota_term(text: str | None, what: str = "--quota") -> URIRef:
    """Within (in) or beyond (over, the default) a tariff-rate quota."""
    value = (text or "over").strip().lower()
    if value not in QUOTA_STATUS:
        raise InputError(f"{what} {shown(text)} must be 'in' or 'over'")
    return QUOTA_STATUS[value]


def term_for(kind: str, text: str, name: str) -> URIRef | Literal | list[Identifier]:
    """Convert a query parameter value by its declared kind.

    Kinds: hts, country, date ("today" and "not in transit" allowed), iri, iris (several, separated
    by spaces or commas), string, preference
    (a special program indicator or "none") and quota (in or over).
    """
    what = f"parameter {name}"
    if kind == "hts":
        return URIRef(hts_iri(hts_digits(text, what)))
    if kind == "country":
        return country_term(text)
    if kind == "date":
        if text == "today":
            return date_term(date.today())
        if text == "not in transit":
            return date_term(NOT_IN_TRANSIT)
        return date_term(parse_date(text, what))
    if kind == "iris":
        return [iri_term(part, what) for part in re.split(r"[\s,]+", text.strip()) if part]
    if kind == "preference":
        return preference_term(text, what)
    if kind == "quota":
        return quota_term(text, what)
    if kind == "iri":
        return iri_term(text, what)
    if kind == "string":
        return Literal(text)
    raise InputError(f"{what} has an unknown kind {kind!r} in the query header")


MAX_QUERY_BYTES = 1024 * 1024  # a query file
MAX_BATCH_BYTES = 64 * 1024 * 1024  # a batch CSV (about a million questions)


def check_regular_file(path, what: str, max_bytes: int) -> int:
    """The size of path, if it is a regular file of at most max_bytes; InputError otherwise.

    Devices (/dev/zero), FIFOs and sockets are refused before they are opened: reading them could
    block for ever or never end.
    """
    import os
    import stat
    from pathlib import Path

    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"{path}: no such {what}") from None
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror or error}") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{path}: is a folder, not a {what}")
    if not stat.S_ISREG(info.st_mode):
        kind = "a FIFO" if stat.S_ISFIFO(info.st_mode) else "a device or socket"
        raise InputError(f"{path}: is {kind}, not a regular file: give the {what} as a file")
    if info.st_size > max_bytes:
        raise InputError(f"{path}: {info.st_size:,} bytes is more than the limit for a {what} "
                         f"({max_bytes:,} bytes)")
    return info.st_size


def read_text_file(path, what: str, max_bytes: int) -> str:
    """The UTF-8 text (BOM allowed) of a regular file of at most max_bytes; InputError otherwise."""
    check_regular_file(path, what, max_bytes)
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror or error}") from None
    if len(data) > max_bytes:
        raise InputError(f"{path}: more than the limit for a {what} ({max_bytes:,} bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(f"{path}: cannot read: not UTF-8 text (byte {error.start})") from None
