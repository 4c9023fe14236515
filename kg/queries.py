"""Stored SPARQL queries: finding them, reading their declared parameters, binding and running them.

A stored query begins with comment lines; a block headed "# Parameters" lists one parameter per
line as `#   ?name  kind  meaning`, where kind is hts, country, date, iri or string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rdflib.term import Identifier

from kg.errors import InputError
from kg.inputs import term_for
from kg.resources import queries_dir

_PARAMETER_LINE = re.compile(r"^#\s+\?(\w+)\s+(hts|country|date|iri|string)\s+(.*)$")


@dataclass(frozen=True)
class Parameter:
    """One declared parameter of a stored query."""

    name: str
    kind: str
    meaning: str


@dataclass(frozen=True)
class StoredQuery:
    """A SPARQL query with its name, one-line description and declared parameters."""

    name: str
    text: str
    description: str
    parameters: tuple[Parameter, ...] = field(default_factory=tuple)

    def bind(self, values: dict[str, str]) -> dict[str, Identifier]:
        """Validate user values against the declared parameters and return them as RDF terms."""
        declared = {p.name: p for p in self.parameters}
        extra = sorted(set(values) - set(declared))
        if extra:
            raise InputError(f"query {self.name} has no parameter {', '.join(extra)}"
                             f" (it takes: {', '.join(declared) or 'none'})")
        missing = [name for name in declared if name not in values]
        if missing:
            raise InputError(f"query {self.name} needs parameter {', '.join(missing)}"
                             f" ({'; '.join(f'{n}: {declared[n].kind}' for n in missing)})")
        return {name: term_for(declared[name].kind, values[name], name) for name in declared}


def parse_query(name: str, text: str) -> StoredQuery:
    """Read a query's header comments: its first line describes it; parameters as documented."""
    header = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    description = header[0].lstrip("# ").strip() if header else ""
    parameters = tuple(
        Parameter(m.group(1), m.group(2), m.group(3).strip())
        for m in (_PARAMETER_LINE.match(line) for line in header)
        if m
    )
    return StoredQuery(name, text, description, parameters)


def stored_queries(folder: Path | None = None) -> dict[str, StoredQuery]:
    """Every stored query by name (file name without .rq), checks excluded."""
    folder = folder or queries_dir()
    return {
        path.stem: parse_query(path.stem, path.read_text(encoding="utf-8"))
        for path in sorted(folder.glob("*.rq"))
    }


@lru_cache(maxsize=1)
def _shipped_queries() -> dict[str, StoredQuery]:
    return stored_queries()


def stored_query(name: str) -> StoredQuery:
    """The stored query called name, or an InputError listing the known ones."""
    queries = _shipped_queries()
    if name not in queries:
        raise InputError(f"unknown query {name!r}; stored queries: {', '.join(queries)}")
    return queries[name]


def query_from_file(path: Path) -> StoredQuery:
    """A user's query file, refused if missing, unreadable, not a regular file, larger than
    MAX_QUERY_BYTES or a SPARQL update."""
    from kg.inputs import MAX_QUERY_BYTES, read_text_file

    text = read_text_file(path, "query file", MAX_QUERY_BYTES)
    if is_update(text):
        raise InputError(f"{path}: is a SPARQL update; tariffkg query runs read-only queries")
    return parse_query(path.stem, text)


def is_update(text: str) -> bool:
    """True when the text parses as a SPARQL 1.1 Update rather than a query."""
    from pyparsing import ParseException
    from rdflib.plugins.sparql.parser import parseQuery, parseUpdate

    try:
        parseQuery(text)
        return False
    except ParseException:
        pass
    try:
        parseUpdate(text)
    except ParseException:
        return False
    return True
