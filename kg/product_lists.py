"""Turn product list CSV files (data/lists/<key>.csv) into tkg:ProductListEntry triples.

Each file has the header ``hts,valid_from,valid_until``: an HTS code (4 to 10 digits, with or
without dots) and optional ISO dates bounding the listing, [valid_from, valid_until). The list
node itself (<id/list/<key>>) is declared in Turtle elsewhere.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Triple

from kg.errors import DataError
from kg.hts_rdf import ID, XSD_DATE, A, code_iri, tkg

HEADER = ["hts", "valid_from", "valid_until"]
# Optional: the instruments that made a listing (its start is known from that one's issue date) and
# that ended it (before that one's issue date the listing was open-ended), as instrument keys.
ACT_COLUMNS = ["enacted_by", "ended_by"]
INSTRUMENT_KEY = re.compile(r"[a-z0-9][a-z0-9.-]*")
HTS_CODE = re.compile(r"\d{4}(?:\.?\d{2}){0,3}")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
LIST_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class ProductListError(DataError, ValueError):
    """A malformed product list file; the message names the file and line."""


def list_triples(lists_dir: Path) -> Iterator[Triple]:
    """Yield the entry triples of every ``<key>.csv`` in lists_dir, files in name order.

    Raises ProductListError (a ValueError and a kg DataError) naming the file and line for a
    malformed header or row.
    """
    for path in sorted(Path(lists_dir).glob("*.csv")):
        yield from file_triples(path)


def file_triples(path: Path) -> Iterator[Triple]:
    """Yield the entry triples of one product list file."""
    key = path.stem
    if not LIST_KEY.fullmatch(key):
        raise ProductListError(f"{path}: list key {key!r} is not usable in an IRI")
    the_list = NamedNode(f"{ID}list/{key}")
    seen: dict[str, tuple[str, str]] = {}
    for line_no, digits, valid_from, valid_until, acts in read_list(path):
        entry_key = digits + (f"-{valid_from}" if valid_from else "")
        if entry_key in seen:
            if seen[entry_key] != (valid_from, valid_until):
                raise ProductListError(
                    f"{path}:{line_no}: conflicting duplicate entry for {digits} from {valid_from or 'start'}"
                )
            continue
        seen[entry_key] = (valid_from, valid_until)
        entry = NamedNode(f"{ID}list/{key}/entry/{entry_key}")
        yield Triple(entry, A, tkg("ProductListEntry"))
        yield Triple(entry, tkg("inList"), the_list)
        yield Triple(entry, tkg("product"), code_iri(digits))
        if valid_from:
            yield Triple(entry, tkg("validFrom"), Literal(valid_from, datatype=XSD_DATE))
        if valid_until:
            yield Triple(entry, tkg("validUntil"), Literal(valid_until, datatype=XSD_DATE))
        for column, key in acts.items():
            predicate = tkg("enactedBy") if column == "enacted_by" else tkg("endedBy")
            yield Triple(entry, predicate, NamedNode(f"{ID}instrument/{key}"))


def read_list(path: Path) -> Iterator[tuple[int, str, str, str, dict[str, str]]]:
    """Yield (line number, HTS digits, valid_from, valid_until, acts) for each non-blank row of a list file."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = [h.strip() for h in next(reader, [])]
        extra = header[len(HEADER):]
        if header[: len(HEADER)] != HEADER or any(c not in ACT_COLUMNS for c in extra):
            raise ProductListError(
                f"{path}:1: header must be {','.join(HEADER)}[,{','.join(ACT_COLUMNS)}],"
                f" found {','.join(header)!r}"
            )
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            yield (reader.line_num, *parse_row(path, reader.line_num, row, extra))


def parse_row(path: Path, line_no: int, row: list[str],
              extra: list[str] | None = None) -> tuple[str, str, str, dict[str, str]]:
    """Check one row and return (digits, valid_from, valid_until, acts); raise ProductListError if malformed."""
    where = f"{path}:{line_no}"
    extra = extra or []
    if len(row) != len(HEADER) + len(extra):
        raise ProductListError(f"{where}: expected {len(HEADER) + len(extra)} columns, found {len(row)}")
    hts, valid_from, valid_until = (cell.strip() for cell in row[: len(HEADER)])
    acts = {column: cell.strip() for column, cell in zip(extra, row[len(HEADER):]) if cell.strip()}
    for key in acts.values():
        if not INSTRUMENT_KEY.fullmatch(key):
            raise ProductListError(f"{where}: {key!r} is not an instrument key (e.g. eo-14360)")
    if not HTS_CODE.fullmatch(hts):
        raise ProductListError(f"{where}: {hts!r} is not an HTS code of 4, 6, 8 or 10 digits")
    for value in (valid_from, valid_until):
        if value and not is_iso_date(value):
            raise ProductListError(f"{where}: {value!r} is not an ISO date (YYYY-MM-DD)")
    if valid_from and valid_until and valid_until <= valid_from:
        raise ProductListError(
            f"{where}: valid_until {valid_until} is not after valid_from {valid_from}"
        )
    return hts.replace(".", ""), valid_from, valid_until, acts


def is_iso_date(value: str) -> bool:
    """Return True if value is a real calendar date written YYYY-MM-DD."""
    if not ISO_DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True
