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


def text_table(header: list[str], body: list[list[str]], width: int | None = None) -> str:
    """A plain aligned table with a header rule; '(no rows)' when empty.

    With width, the widest columns are narrowed (their cells wrapped onto more lines, words kept
    whole where they fit) until every line fits in width characters.
    """
    if not body:
        return "(no rows)\n"
    widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(header)]
    if width is not None:
        widths = fitted_widths(widths, [len(h) for h in header], width)
    lines = _table_row(header, widths) + ["  ".join("-" * w for w in widths)]
    for row in body:
        lines += _table_row(row, widths)
    return "\n".join(lines) + "\n"


def fitted_widths(widths: list[int], minimums: list[int], width: int, floor: int = 8) -> list[int]:
    """Column widths that fit in width (with two spaces between columns), narrowing the widest."""
    widths = list(widths)
    lowest = [max(min(m, w), min(floor, w)) for m, w in zip(minimums, widths)]
    while sum(widths) + 2 * (len(widths) - 1) > width:
        widest = max(range(len(widths)), key=lambda i: widths[i] - lowest[i])
        if widths[widest] <= lowest[widest]:
            break  # nothing can narrow further: the table stays wider than the terminal
        widths[widest] -= 1
    return widths


def _table_row(cells: list[str], widths: list[int]) -> list[str]:
    """One table row as one or more lines, each cell wrapped to its column's width."""
    import textwrap

    wrapped = [[c] if len(c) <= w else textwrap.wrap(c, w, break_on_hyphens=False) or [""]
               for c, w in zip(cells, widths)]
    height = max(len(w) for w in wrapped)
    return ["  ".join((w[i] if i < len(w) else "").ljust(size) for w, size in zip(wrapped, widths)).rstrip()
            for i in range(height)]


def terminal_width(default: int = 120) -> int:
    """The width of the terminal (COLUMNS if set), or default when output is not a terminal."""
    import shutil

    return max(40, shutil.get_terminal_size((default, 24)).columns)


def _json_value(term: Identifier):
    if isinstance(term, Literal):
        value = term.toPython()
        return value if isinstance(value, (int, float, bool, str)) else str(term)
    return str(term)
