"""Rendering query result rows as a text table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json

from rdflib import Literal, URIRef
from rdflib.term import Identifier

from kg.namespaces import ID


def cell(term: Identifier | None) -> str:
    """A readable cell: our IRIs shortened to their id path, literals as their text."""
    if term is None:
        return ""
    if isinstance(term, URIRef) and str(term).startswith(ID):
        return str(term)[len(ID):]
    return str(term)


def columns(rows: list[dict[str, Identifier]]) -> list[str]:
    """The column names in first-seen order."""
    names: list[str] = []
    for row in rows:
        names.extend(name for name in row if name not in names)
    return names


def render_rows(rows: list[dict[str, Identifier]], fmt: str) -> str:
    """Rows as 'table', 'csv' or 'json' text, ending in a newline."""
    names = columns(rows)
    if fmt == "json":
        return json.dumps([{k: _json_value(v) for k, v in row.items()} for row in rows], indent=2) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(names)
        writer.writerows([cell(row.get(n)) for n in names] for row in rows)
        return out.getvalue()
    return text_table(names, [[cell(row.get(n)) for n in names] for row in rows])


def text_table(header: list[str], body: list[list[str]]) -> str:
    """A plain aligned table with a header rule; '(no rows)' when empty."""
    if not body:
        return "(no rows)\n"
    widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in body]
    return "\n".join(lines) + "\n"


def _json_value(term: Identifier):
    if isinstance(term, Literal):
        value = term.toPython()
        return value if isinstance(value, (int, float, bool, str)) else str(term)
    return str(term)
