"""Stored SPARQL queries: finding them, composing them, reading their declared parameters.

A stored query begins with comment lines; a block headed "# Parameters" lists one parameter per
line as `#   ?name  kind  meaning`, where kind is hts, country, date, iri, string, preference or
quota, and the meaning may end with "(default: ...)". A line `#include name(?a ?b)` stands for
the definition queries/definitions/name.rq with its arguments renamed to ?a ?b (see
compose_query): each legal idea is written once, there, and included where it is needed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rdflib.term import Identifier

from kg.errors import InputError
from kg.inputs import term_for
from kg.resources import queries_dir

# A parameter's value: one RDF term, or several for a parameter of kind iris.
Binding = Identifier | list[Identifier]

_KINDS = "hts|country|date|iri|iris|string|preference|quota"
_PARAMETER_LINE = re.compile(
    r"^#\s+\?(\w+)\s+(" + _KINDS + r")\s+(.*?)\s*(?:\(default: ([^)]*)\))?$")
_INCLUDE = re.compile(r"^([ \t]*)#include[ \t]+(\w+)\(([^)]*)\)[ \t]*$", re.MULTILINE)
_VARIABLE = re.compile(r"[?$]([A-Za-z_][A-Za-z0-9_]*)")
# The question's parameters keep their names in every definition included.
QUERY_PARAMETERS = frozenset({"product", "origin", "date", "asKnownOn", "claim", "quota", "loaded"})


@dataclass(frozen=True)
class Parameter:
    """One declared parameter of a stored query."""

    name: str
    kind: str
    meaning: str
    default: str | None = None


@dataclass(frozen=True)
class StoredQuery:
    """A SPARQL query with its name, one-line description and declared parameters."""

    name: str
    text: str
    description: str
    parameters: tuple[Parameter, ...] = field(default_factory=tuple)

    def bound_text(self, values: dict[str, str]) -> str:
        """The query text with the user's values validated and written in as RDF terms."""
        return substitute_parameters(self.text, self.bind(values))

    def bind(self, values: dict[str, str]) -> dict[str, Binding]:
        """Validate user values against the declared parameters and return them as RDF terms."""
        declared = {p.name: p for p in self.parameters}
        extra = sorted(set(values) - set(declared))
        if extra:
            raise InputError(f"query {self.name} has no parameter {', '.join(extra)}"
                             f" (it takes: {', '.join(declared) or 'none'})")
        values = {**{p.name: p.default for p in self.parameters if p.default is not None}, **values}
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
        Parameter(m.group(1), m.group(2), m.group(3).strip(), m.group(4))
        for m in (_PARAMETER_LINE.match(line) for line in header)
        if m
    )
    return StoredQuery(name, compose_query(text), description, parameters)


@dataclass(frozen=True)
class Definition:
    """One legal idea as a SPARQL group pattern: queries/definitions/<name>.rq."""

    name: str
    arguments: tuple[str, ...]
    body: str


def read_definition(path: Path) -> Definition:
    """Read a definition file: its `# Arguments:` header line and the pattern after the header."""
    lines = path.read_text(encoding="utf-8").splitlines()
    first = next((i for i, line in enumerate(lines)
                  if not line.startswith("#") or line.startswith("#include")), len(lines))
    arguments: tuple[str, ...] = ()
    for line in lines[:first]:
        if line.startswith("# Arguments:"):
            arguments = tuple(v.lstrip("?$") for v in line.split(":", 1)[1].split())
    return Definition(path.stem, arguments, "\n".join(lines[first:]).strip("\n"))


@lru_cache(maxsize=1)
def definitions() -> dict[str, Definition]:
    """Every definition of queries/definitions/ by name."""
    folder = queries_dir() / "definitions"
    return {path.stem: read_definition(path) for path in sorted(folder.glob("*.rq"))}


def compose_query(text: str, known: dict[str, Definition] | None = None) -> str:
    """Replace each `#include name(?a ?b)` line by the definition's pattern.

    The definition's declared arguments become the caller's variables, the query parameters
    (QUERY_PARAMETERS) keep their names, and every other variable gets a suffix unique to this
    inclusion, so two inclusions of one definition never share a variable. Definitions may include
    definitions.
    """
    known = definitions() if known is None else known
    counter = iter(range(1, 1_000_000))

    def include(match: re.Match, trail: tuple[str, ...]) -> str:
        indent, name, given = match.group(1), match.group(2), match.group(3)
        if name not in known:
            raise InputError(f"#include {name}: no definition queries/definitions/{name}.rq")
        if name in trail:
            raise InputError(f"#include {name}: includes itself ({' > '.join(trail + (name,))})")
        definition = known[name]
        actual = [v.lstrip("?$") for v in given.split()]
        if len(actual) != len(definition.arguments):
            wanted = " ".join("?" + a for a in definition.arguments)
            raise InputError(f"#include {name}: takes {len(definition.arguments)} arguments"
                             f" ({wanted}), got {len(actual)}")
        number = next(counter)
        renamed = dict(zip(definition.arguments, actual))

        def rename(variable: re.Match) -> str:
            plain = variable.group(1)
            if plain in renamed:
                return "?" + renamed[plain]
            if plain in QUERY_PARAMETERS:
                return "?" + plain
            return f"?{plain}_{number}"

        # Rename this definition's own variables first (its inner #include lines included, so
        # their arguments name this inclusion's variables), then expand the inner inclusions.
        own = _VARIABLE.sub(rename, definition.body)
        body = _INCLUDE.sub(lambda m: include(m, trail + (name,)), own)
        marked = f"# {name}({' '.join('?' + a for a in actual)})\n{body}"
        return "\n".join(indent + line if line else line for line in marked.splitlines())

    return _INCLUDE.sub(lambda m: include(m, ()), text)


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


def substitute_parameters(text: str, bindings: Mapping[str, Binding]) -> str:
    """Write each bound parameter into the query as its RDF term, wherever the query names it.

    The terms were validated and are serialised by rdflib's n3() (which escapes them), so no user
    text reaches the query; written in as constants they are visible to every FILTER of every
    group (a VALUES row at the top is not, inside a UNION branch or an OPTIONAL on some stores) and
    let every engine plan the query from the question. Comment lines are dropped first.
    """
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    lists = {name: value for name, value in bindings.items() if isinstance(value, (list, tuple))}
    select = re.search(r"\bSELECT\b(.*?)\bWHERE\b", body, re.IGNORECASE | re.DOTALL)
    if select:
        projected = {m.group(1) for m in _VARIABLE.finditer(select.group(1))}
        clash = sorted(projected & (set(bindings) - set(lists)))
        if clash:
            raise InputError(f"a query may not project its parameter {', '.join(clash)}")

    for name, values in lists.items():
        body = re.sub(r"VALUES\s+\?" + name + r"\s*\{\s*UNDEF\s*\}",
                      f"VALUES ?{name} {{ {' '.join(v.n3() for v in values)} }}", body)

    from kg.sparql_text import replace_variables

    def term(name: str) -> str | None:
        value = bindings.get(name)
        return value.n3() if isinstance(value, Identifier) else None

    return replace_variables(body, term)  # variables of the code only: "?x" in a string stays
