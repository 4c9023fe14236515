"""Reading SPARQL text the way a SPARQL parser does: comments, strings and IRIs are not code.

A small lexer splits query text into comments, string literals, IRIs and the rest, so that the
parameter rows, keywords (SELECT, SERVICE...) and comments are found only where they really are:
`WHERE {` inside a string or a comment is not a WHERE clause, and a VALUES row written in a
comment is not a binding place.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from rdflib.term import Identifier

from kg.errors import InputError

_TOKEN = re.compile(
    r'(?P<string>"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''
    r'|"(?:[^"\\\n\r]|\\.)*"|\'(?:[^\'\\\n\r]|\\.)*\')'
    r'|(?P<iri><[^<>"{}|^`\\\x00-\x20]*>)'
    r"|(?P<comment>#[^\n\r]*)"
    r"|(?P<pname>(?:[A-Za-z_][\w.-]*)?:[\w.:%-]*)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_-]*)"
    r"|(?P<var>[?$][A-Za-z0-9_]+)"
    r"|(?P<space>\s+)"
    r"|(?P<other>.)",
    re.DOTALL,
)
_UNCLOSED = re.compile(r'"""|\'\'\'|"|\'')
_PARAMETER_ROW = re.compile(
    r"VALUES\s*\(([?$\w\s]+)\)\s*\{\s*\(\s*(?:UNDEF\s*)+\)\s*\}", re.IGNORECASE
)
QUERY_FORMS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}
UPDATE_WORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY",
                "WITH"}


@dataclass(frozen=True)
class Token:
    """One lexical token: its kind (string, iri, comment, pname, word, var, space, other), span."""

    kind: str
    text: str
    start: int
    end: int


def tokens(text: str) -> Iterator[Token]:
    """The tokens of SPARQL text, in order; an unclosed string runs to the end of the text."""
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        assert match is not None  # the last alternative matches any character
        kind = match.lastgroup or "other"
        if kind == "other" and text[position] in "\"'":
            yield Token("string", text[position:], position, len(text))  # unclosed
            return
        yield Token(kind, match.group(), position, match.end())
        position = match.end()


def code_only(text: str) -> str:
    """The text with comments blanked and strings and IRIs replaced by same-length fillers.

    Positions are kept, so a match in the result is a match at the same place in the text, and
    only in code.
    """
    out = []
    for token in tokens(text):
        if token.kind == "comment":
            out.append(" " * len(token.text))
        elif token.kind in {"string", "iri"}:
            out.append(token.text[0] + "_" * (len(token.text) - 2) + token.text[-1]
                       if len(token.text) >= 2 else "_")
        else:
            out.append(token.text)
    return "".join(out)


def strip_comments(text: str) -> str:
    """The text without its comments (strings and IRIs holding # are left alone)."""
    return "".join(t.text for t in tokens(text) if t.kind != "comment")


def keywords(text: str) -> list[str]:
    """The words of the code (outside comments, strings and IRIs), upper-cased."""
    return [t.text.upper() for t in tokens(text) if t.kind == "word"]


def query_form(text: str) -> str | None:
    """SELECT, ASK, CONSTRUCT or DESCRIBE for a query, UPDATE for an update, None if neither."""
    for word in keywords(text):
        if word in QUERY_FORMS:
            return word
        if word in UPDATE_WORDS:
            return "UPDATE"
    return None


def has_service(text: str) -> bool:
    """True when the query calls another endpoint (a SERVICE clause outside strings/comments)."""
    return "SERVICE" in keywords(text)


def bind_values(query: str, bindings: Mapping[str, Identifier]) -> str:
    """Bind parameters as RDF terms where the query's code says they enter.

    A query marks where its parameters enter with `VALUES (?a ?b) { (UNDEF UNDEF) }`; each such
    row in the code (not in a comment or a string) gets the bound terms, serialised by rdflib's
    n3(), which escapes them. Parameters without such a row get one VALUES row at the start of
    the query's WHERE group, found by the lexer (a `WHERE {` in a string or comment is not one);
    a query without a WHERE group is refused. No user text reaches the query any other way.
    """
    if not bindings:
        return query
    code = code_only(query)
    pieces, last, used = [], 0, set()
    for match in _PARAMETER_ROW.finditer(code):
        names = [name.lstrip("?$") for name in match.group(1).split()]
        used.update(names)
        terms = " ".join(bindings[n].n3() if n in bindings else "UNDEF" for n in names)
        pieces += [query[last:match.start()],
                   f"VALUES ({' '.join('?' + n for n in names)}) {{ ({terms}) }}"]
        last = match.end()
    pieces.append(query[last:])
    text = "".join(pieces)
    unbound = [name for name in bindings if name not in used]
    if not unbound:
        return text
    where = where_group(text)
    if where is None:
        raise InputError(
            f"the query has no WHERE group to bind {', '.join(unbound)} in: write "
            f"`VALUES ({' '.join('?' + n for n in unbound)}) "
            f"{{ ({' '.join('UNDEF' for _ in unbound)}) }}` where the parameters enter")
    variables = " ".join(f"?{name}" for name in unbound)
    values = " ".join(bindings[name].n3() for name in unbound)
    return f"{text[:where]} VALUES ({variables}) {{ ({values}) }} {text[where:]}"


def where_group(query: str) -> int | None:
    """The position just after the `{` that opens the query's WHERE group (None if none).

    The group follows the first WHERE keyword of the code, or, when WHERE is left out
    (`SELECT * { ... }`), the first `{` after the query form outside parentheses.
    """
    seen_form = seen_where = False
    depth = 0
    for token in tokens(query):
        word = token.text.upper() if token.kind == "word" else None
        if word in QUERY_FORMS:
            seen_form = True
        elif word == "WHERE":
            seen_where = True
        elif token.text == "(":
            depth += 1
        elif token.text == ")":
            depth -= 1
        elif token.text == "{" and (seen_where or (seen_form and depth == 0)):
            return token.end
    return None


def replace_variables(text: str, replace: Callable[[str], str | None]) -> str:
    """The text with each variable of the code (not in a string, IRI or comment) replaced by
    replace(name), or left as it is where that returns None."""
    out = []
    for token in tokens(text):
        swapped = replace(token.text[1:]) if token.kind == "var" else None
        out.append(token.text if swapped is None else swapped)
    return "".join(out)
