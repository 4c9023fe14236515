"""The fast path: duty answers from what the stored rules derived, held in Python indexes.

The stored query duty_on_date costs tens of milliseconds to a second on the on-disk store (each of
its index lookups costs microseconds there). This module reads, once per store, the facts the
definitions (queries/definitions/*.rq) look at: the derived graph's windows, scope entries,
origin coverages, not-applied rows, stacking links and `within` closure, and the few curated facts
they read directly (MFN rate periods and their rate nodes, court decisions, the rates of
measures). It keeps them in dictionaries, cached beside the store (fast-index.pickle, keyed by the
store's fingerprint), and answers a question by the same mechanics as the definitions, one method
per definition (Evaluation.window_holds, listed, covers, in_force_for_origin, in_force,
not_applied_row, why_not, applies, stacked_out, base_rate). It decides nothing of its own: every
date, scope, origin and reason it compares was written by the stored rules, and
tests/test_fast_path.py checks that its rows give the stored query's answers on a large random
grid. kg/duty.py assembles the answer from these rows exactly as from the stored query's.

An Evaluation can also record every boundary day it compared the question's days with (track):
the answer stays the same until the next of them, which is what makes a whole-schedule series
(kg/series.py) cheap.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import tempfile
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

import pyoxigraph as ox
from rdflib import Literal, URIRef
from rdflib.term import Identifier

from kg.namespaces import ID, TKG

INDEX_FILE = "fast-index.pickle"
XSD_DATE = "http://www.w3.org/2001/XMLSchema#date"
XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"

ALL_COUNTRIES = str(TKG.AllCountries)
ANY_CLAIM = str(TKG.AnyClaim)
ANY_QUOTA = str(TKG.AnyQuota)
FULL_VALUE = str(TKG.FullValue)
STACKED_OUT = str(TKG.StackedOut)
CONTENT_SPARED = str(TKG.ContentSpared)
OPEN_END = date(9999, 12, 31)

_PREFIXES = """PREFIX tkg: <https://w3id.org/tariff-kg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX eli: <http://data.europa.eu/eli/ontology#>
"""

# The facts read from the store: name -> the pattern binding ?s and ?o. Each is a plain lookup of
# the triples the definitions match; none decides anything.
FACT_PATTERNS = {
    # derived graph (queries/rules)
    "within": "?s tkg:within ?o",
    "scopeCode": "?s tkg:scopeCode ?o",
    "scopeOf": "?s tkg:scopeOf ?o",
    "window": "?s tkg:window ?o",
    "entryFrom": "?s tkg:entryFrom ?o",
    "entryUntil": "?s tkg:entryUntil ?o",
    "knownFrom": "?s tkg:knownFrom ?o",
    "knownUntil": "?s tkg:knownUntil ?o",
    "productScope": "?s tkg:productScope ?o",
    "originCoverage": "?s tkg:originCoverage ?o",
    "coveredCountry": "?s tkg:coveredCountry ?o",
    "coveredFrom": "?s tkg:coveredFrom ?o",
    "coveredUntil": "?s tkg:coveredUntil ?o",
    "notAppliedWhen": "?s tkg:notAppliedWhen ?o",
    "reason": "?s tkg:reason ?o",
    "reasonBy": "?s tkg:reasonBy ?o",
    "whenClaim": "?s tkg:whenClaim ?o",
    "whenQuota": "?s tkg:whenQuota ?o",
    "whenLoadedBefore": "?s tkg:whenLoadedBefore ?o",
    "whenProductIn": "?s tkg:whenProductIn ?o",
    "whenOrigin": "?s tkg:whenOrigin ?o",
    "excludableBy": "?s tkg:excludableBy ?o",
    "triggers": "?s tkg:triggers ?o",
    # curated facts the definitions and duty_on_date read directly
    "sparesOnlyTriggerContent": "?s tkg:sparesOnlyTriggerContent ?o",
    "rateBasis": "?s tkg:rateBasis ?o",
    "invalidatedBy": "?s tkg:invalidatedBy ?o",
    "decided": "?m tkg:invalidatedBy ?s . ?s eli:date_document ?o",
    "mfnLine": "?s a tkg:MFNRate ; tkg:appliesToProduct ?o",
    "specialRate": "?s tkg:specialRate ?o",
    "underProgram": "?s tkg:underProgram ?o",
    "column2Rate": "?s tkg:column2Rate ?o",
    "measure": "?s a tkg:Measure . BIND(true AS ?o)",
    "column2Provision": "?s a tkg:Column2Provision . BIND(true AS ?o)",
    "coverageGap": "?s a tkg:CoverageGap . BIND(true AS ?o)",
    "gapComment": "?s a tkg:CoverageGap ; rdfs:comment ?o",
    "authority": "?s tkg:authority ?o",
    "program": "?s tkg:program ?o",
    "rateType": "?s tkg:rateType ?o",
    "adValoremPercent": "?s tkg:adValoremPercent ?o",
    "specificRateText": "?s tkg:specificRateText ?o",
    "rateText": "?s tkg:rateText ?o",
    "chapter99Heading": "?s tkg:chapter99Heading ?o",
    "headingBelowInclusiveRate": "?s tkg:headingBelowInclusiveRate ?o",
    "headingAtOrAboveInclusiveRate": "?s tkg:headingAtOrAboveInclusiveRate ?o",
}

# The HTS codes (stored query `product`: a code with a notation, its first validity).
PRODUCTS_QUERY = _PREFIXES + """SELECT ?s ?validFrom ?validUntil WHERE {
  ?s skos:notation ?notation .
  FILTER(STRSTARTS(STR(?s), "%shts/"))
  OPTIONAL { ?s tkg:validFrom ?validFrom }
  OPTIONAL { ?s tkg:validUntil ?validUntil }
}""" % ID

DESCRIBE_CHUNK = 400
_MEMOS = ("_terms", "_described", "_columns", "_reach")  # kept in memory, never in the index file

Select = Callable[[str], Iterable[tuple]]  # query -> rows of index values
Day = date  # (a NamedTuple field may not share the name of its type)
# A value in the index: an IRI as str, or a literal as (lexical form, datatype, language).
Value = Any


def fact_query(pattern: str) -> str:
    """The SELECT that reads one fact table."""
    return f"{_PREFIXES}SELECT DISTINCT ?s ?o WHERE {{ {pattern} }}"


def queries_digest() -> str:
    """A digest of this module's code, queries included (a change makes old index files stale)."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------
# Reading the facts
# ---------------------------------------------------------------------------------------------

def _interned() -> Callable[[Value], Value]:
    """A function sharing equal index values (so a pickle stores each once)."""
    seen: dict = {}
    return lambda value: seen.setdefault(value, value)


def rdflib_value(term) -> Value:
    """An rdflib term as an index value: an IRI as str, a literal as (lexical, datatype, lang)."""
    if term is None:
        return None
    if isinstance(term, Literal):
        if term.language:
            return (str(term), None, term.language)
        return (str(term), str(term.datatype) if term.datatype else None, None)
    return str(term)


def oxigraph_value(term) -> Value:
    """A pyoxigraph term as an index value (language literals: no datatype, as rdflib has it)."""
    if term is None:
        return None
    if type(term) is ox.Literal:
        if term.language:
            return (term.value, None, term.language)
        return (term.value, term.datatype.value, None)
    return term.value


def _as_date(value: Value) -> date | None:
    """The date of an xsd:date literal value; None for anything else (a SPARQL type error)."""
    if isinstance(value, tuple) and value[1] == XSD_DATE:
        try:
            return date.fromisoformat(value[0])
        except ValueError:
            return None
    return None


def read_tables(select: Select) -> dict[str, dict[str, tuple]]:
    """Every fact table: name -> subject -> the objects, read with one SELECT each.

    select(query) yields each row as a tuple of index values, in the order of its variables."""
    share = _interned()
    tables: dict[str, dict[str, tuple]] = {}
    for name, pattern in FACT_PATTERNS.items():
        table: dict[str, list] = {}
        for subject, value in select(fact_query(pattern)):
            table.setdefault(share(subject), []).append(share(value))
        tables[name] = {subject: tuple(objects) for subject, objects in table.items()}
    products: dict[str, tuple] = {}
    for subject, valid_from, valid_until in select(PRODUCTS_QUERY):
        if subject not in products:  # the stored query product takes its first row
            products[share(subject)] = (share(valid_from), share(valid_until))
    tables["products"] = products
    return tables


def _inverse(table: dict[str, tuple]) -> dict[str, tuple]:
    inverse: dict[str, list] = {}
    for subject, objects in table.items():
        for value in objects:
            inverse.setdefault(value, []).append(subject)
    return {key: tuple(values) for key, values in inverse.items()}


def _spans(tables: dict, subject: str) -> tuple:
    """The (entryFrom, entryUntil, knownFrom, knownUntil) combinations of a window or row whose
    four values are dates (any other value makes window_holds a type error: it never holds)."""
    parts = [[_as_date(v) for v in tables[name].get(subject, ())]
             for name in ("entryFrom", "entryUntil", "knownFrom", "knownUntil")]
    return tuple((a, b, c, d) for a in parts[0] for b in parts[1] for c in parts[2]
                 for d in parts[3] if None not in (a, b, c, d))


class FastIndex:
    """The facts the definitions read, in dictionaries shaped for their lookups."""

    def __init__(self, tables: dict[str, dict[str, tuple]], described: dict, reach_rows: list):
        t = tables
        self.tables = t
        self.described = described  # node -> the stored query describe's rows of it
        self.reach_rows = reach_rows  # the stored query data_reach's rows
        self.within = t["within"]
        self.entries_by_code = _inverse(t["scopeCode"])
        self.scope_of = t["scopeOf"]
        self.window = t["window"]
        with_spans = set().union(*(t[name] for name in
                                   ("entryFrom", "entryUntil", "knownFrom", "knownUntil")))
        self.spans = {subject: _spans(t, subject) for subject in with_spans}
        self.provisions_by_scope = _inverse(t["productScope"])
        self.origin_coverage = t["originCoverage"]
        self.coverage = {
            node: tuple((country, a, b) for country in countries
                        for a in map(_as_date, t["coveredFrom"].get(node, ()))
                        for b in map(_as_date, t["coveredUntil"].get(node, ()))
                        if a is not None and b is not None)
            for node, countries in t["coveredCountry"].items()}
        self.not_applied = t["notAppliedWhen"]
        self.rows = {row: _Row(t, row) for rows in t["notAppliedWhen"].values() for row in rows}
        self.excludable_by = t["excludableBy"]
        self.triggers_of = {rule: frozenset(triggers)
                            for rule, triggers in _inverse(t["triggers"]).items()}
        self.decided = {decision: tuple((d, v) for v in values if (d := _as_date(v)) is not None)
                        for decision, values in t["decided"].items()}
        self.periods_by_line = _inverse(t["mfnLine"])
        self.column2_provisions = tuple(sorted(t["column2Provision"]))
        self.gaps = frozenset(t["coverageGap"])
        self.measures = frozenset(t["measure"])
        self.products = t["products"]
        # provisions per (product scope, country its origin coverages name): only these can be
        # in force for goods of that country (a shortcut to the provisions covers can accept)
        self.by_scope_country: dict[tuple, tuple] = {}
        for scope, provisions in self.provisions_by_scope.items():
            found: dict[str, set] = {}
            for provision in provisions:
                for coverage in self.origin_coverage.get(provision, ()):
                    for country, _, _ in self.coverage.get(coverage, ()):
                        found.setdefault(country, set()).add(provision)
            for country, named in found.items():
                self.by_scope_country[(scope, country)] = tuple(sorted(named))
        # not-applied rows per (measure, country their origin coverages name): the same
        # shortcut for not_applied_row
        self.rows_by_country: dict[tuple, tuple] = {}
        for measure, names in self.not_applied.items():
            found = {}
            for name in names:
                for coverage in self.rows[name].origins:
                    for country, _, _ in self.coverage.get(coverage, ()):
                        found.setdefault(country, set()).add(name)
            for country, named in found.items():
                self.rows_by_country[(measure, country)] = tuple(sorted(named))
        # per 8-digit line, its 10-digit lines that some scope entry names (kg.duty._scoped_lines'
        # query, read here so that a new process does not ask it)
        scoped: dict[str, set] = {}
        for code in self.entries_by_code:
            line = _hts_digits(code)
            if line is not None and len(line) == 10:
                for parent in self.within.get(code, ()):
                    if (digits := _hts_digits(parent)) is not None and len(digits) == 8:
                        scoped.setdefault(digits, set()).add((line, _dotted(line)))
        self.scoped_lines = {parent: sorted(lines) for parent, lines in scoped.items()}
        self._terms: dict = {}
        self._described: dict = {}
        self._columns: dict = {}

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in _MEMOS}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _terms={}, _described={}, _columns={})

    # -- terms ---------------------------------------------------------------------------------
    def term(self, value: Value) -> Identifier:
        """The rdflib term of an index value (each distinct value converted once)."""
        found = self._terms.get(value)
        if found is None:
            if isinstance(value, tuple):
                lexical, datatype, language = value
                found = (Literal(lexical, lang=language) if language
                         else Literal(lexical, datatype=URIRef(datatype) if datatype else None))
            else:
                found = URIRef(value)
            self._terms[value] = found
        return found

    def to_terms(self, rows: list[dict]) -> list[dict]:
        """Rows of index values as rows of rdflib terms (unbound columns left out, as a store
        does); the strings "part" and "baseKind" as plain literals."""
        term = self.term
        return [{k: (_PLAIN[v] if k in _PLAIN_COLUMNS else term(v))
                 for k, v in row.items() if v is not None} for row in rows]

    def measure_columns(self, measure: str, rate: str) -> list[dict]:
        """What duty_on_date reads of a measure and its rate node: ?measure tkg:authority
        ?authority, ?rate tkg:rateType ?rateType, and the OPTIONAL columns (each combination)."""
        key = (measure, rate)
        found = self._columns.get(key)
        if found is None:
            found = [{"authority": authority, "rateType": rate_type}
                     for authority in self.values("authority", measure)
                     for rate_type in self.values("rateType", rate)]
            for column, table, subject in _OPTIONAL_COLUMNS:
                values = self.values(table, measure if subject == "measure" else rate)
                if values:
                    found = [{**f, column: v} for f in found for v in values]
            self._columns[key] = found
        return found

    def values(self, table: str, subject: str) -> tuple:
        """The objects of subject in a fact table."""
        return self.tables[table].get(subject, ())

    # -- what kg/duty.py asks besides the rows --------------------------------------------------
    def product(self, iri: str) -> dict | None:
        """The stored query product's validity columns for an HTS code, None if not in the HTS."""
        found = self.products.get(iri)
        if found is None:
            return None
        return {name: self.term(v) for name, v in zip(("validFrom", "validUntil"), found)
                if v is not None}

    def describe(self, nodes: Iterable[str]) -> dict[str, dict]:
        """Labels and sources of nodes, from the stored query describe's rows of each."""
        from kg.duty import described_from_rows

        out = {}
        cache = self._described
        for node in nodes:
            found = cache.get(node)
            if found is None:
                rows = [{k: self.term(v) for k, v in row.items() if v is not None}
                        for row in self.described.get(node, ())]
                found = cache[node] = described_from_rows(rows).get(node, {})
            if found:
                out[node] = found
        return out

    @property
    def reach(self) -> dict:
        """How far the data reaches, from the stored query data_reach's rows."""
        from kg.duty import reach_from_rows

        found = self.__dict__.get("_reach")
        if found is None:
            found = self.__dict__["_reach"] = reach_from_rows(
                [{k: self.term(v) for k, v in row.items() if v is not None}
                 for row in self.reach_rows])
        return found

    def evidence(self, digits: str, bindings: dict, track: set | None = None,
                 gaps: bool = True) -> tuple:
        """What kg.duty._evidence gives for the question, from the index: the product row, the rows
        of duty_on_date and coverage_gaps (none asked without gaps), the descriptions of the nodes
        named, the data reach."""
        from kg.duty import NAMED_COLUMNS, unknown_code

        product = self.product(f"{ID}hts/{digits}")
        if product is None:
            raise unknown_code(digits)
        evaluation = Evaluation(self, Question.from_bindings(bindings), track)
        rows = evaluation.duty_rows()
        named = {str(term) for row in rows for key in NAMED_COLUMNS
                 if (term := row.get(key)) is not None}
        gap_rows = evaluation.gap_rows() if gaps else []
        return product, rows, gap_rows, self.describe(named), self.reach

    def nodes_to_describe(self) -> set[str]:
        """Every node a duty row may name: measures, rate periods, reasons' nodes, rules, courts."""
        t = self.tables
        nodes = set(t["authority"]) | set(t["excludableBy"]) | set(t["triggers"])
        for table in ("reasonBy", "excludableBy", "invalidatedBy"):
            nodes.update(v for values in t[table].values() for v in values)
        return {n for n in nodes if isinstance(n, str)}


def _hts_digits(code: Value) -> str | None:
    """The digits of an HTS code's IRI (minted from them), None for anything else."""
    prefix = f"{ID}hts/"
    if isinstance(code, str) and code.startswith(prefix) and code[len(prefix):].isdigit():
        return code[len(prefix):]
    return None


def _dotted(digits: str) -> str:
    from kg.inputs import dotted_hts

    return dotted_hts(digits)


class _Row:
    """One not-applied row's conditions (queries/rules/40-49), read once."""

    __slots__ = ("reasons", "bys", "claims", "quotas", "loaded_before", "products", "origins")

    def __init__(self, t: dict, row: str):
        self.reasons = t["reason"].get(row, ())
        self.bys = t["reasonBy"].get(row, ())
        self.claims = t["whenClaim"].get(row, ())
        self.quotas = t["whenQuota"].get(row, ())
        self.loaded_before = tuple(d for d in map(_as_date, t["whenLoadedBefore"].get(row, ()))
                                   if d is not None)
        self.products = t["whenProductIn"].get(row, ())
        self.origins = t["whenOrigin"].get(row, ())


# ---------------------------------------------------------------------------------------------
# Building, caching and finding the index of a store
# ---------------------------------------------------------------------------------------------

def build_index(select: Select, backend) -> FastIndex:
    """Read the facts with select (rows of index values), and the rows of the stored queries
    describe (for every node a duty row may name) and data_reach with backend.select."""
    from kg.queries import stored_query, substitute_parameters

    index = FastIndex(read_tables(select), {}, [])
    nodes = sorted(index.nodes_to_describe())
    text = stored_query("describe").text
    described: dict[str, list] = {}
    for start in range(0, len(nodes), DESCRIBE_CHUNK):
        chunk: list[Identifier] = [URIRef(n) for n in nodes[start:start + DESCRIBE_CHUNK]]
        for row in backend.select(substitute_parameters(text, {"node": chunk}), {}):
            values = {k: rdflib_value(v) for k, v in row.items()}
            described.setdefault(values["node"], []).append(values)
    index.described = {node: tuple(rows) for node, rows in described.items()}
    reach = backend.select(substitute_parameters(stored_query("data_reach").text, {}), {})
    index.reach_rows = [{k: rdflib_value(v) for k, v in row.items()} for row in reach]
    return index


def oxigraph_select(store) -> Select:
    """Rows of index values from a pyoxigraph store (default graph: the union of its graphs)."""

    def select(query: str) -> Iterable[tuple]:
        solutions = store.query(query, use_default_graph_as_union=True)
        width = len(solutions.variables)
        for row in solutions:
            yield tuple(oxigraph_value(row[i]) for i in range(width))

    return select


def backend_select(backend) -> Select:
    """Rows of index values from a store or endpoint's select (rows of rdflib terms)."""

    def select(query: str) -> Iterable[tuple]:
        projected = re.search(r"SELECT(?:\s+DISTINCT)?\s+(.*?)\s+WHERE", query, re.S)
        names = projected.group(1).split() if projected else []
        for row in backend.select(query, {}):
            yield tuple(rdflib_value(row.get(name.lstrip("?"))) for name in names)

    return select


def index_file(store_path: Path) -> Path:
    """Where the index of a built store is cached: inside the store's folder."""
    return Path(store_path) / INDEX_FILE


def _store_key(store_path: Path) -> str:
    from kg.build import COMPLETE_MARKER

    marker = Path(store_path) / COMPLETE_MARKER
    fingerprint = marker.read_text().strip() if marker.is_file() else ""
    return f"{fingerprint}/{queries_digest()}"


def save_index(index: FastIndex, store_path: Path, key: str | None = None) -> None:
    """Write the index into the store's folder (atomically; skipped if the folder is read-only)."""
    folder = Path(store_path)
    payload = {"key": key or _store_key(folder), "index": index}
    tmp = None
    try:
        handle, tmp = tempfile.mkstemp(prefix=".fast-index-", dir=folder)
        with os.fdopen(handle, "wb") as out:
            pickle.dump(payload, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, index_file(folder))
    except OSError:
        if tmp:
            Path(tmp).unlink(missing_ok=True)


def load_index(store_path: Path) -> FastIndex | None:
    """The cached index of a store, None if absent or made for other sources or code."""
    try:
        with open(index_file(store_path), "rb") as handle:
            payload = pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError):
        return None
    if not isinstance(payload, dict) or payload.get("key") != _store_key(store_path):
        return None
    index = payload.get("index")
    return index if isinstance(index, FastIndex) else None


def write_index_for_store(store, fingerprint: str) -> Callable[[Path], None]:
    """Read the index of a pyoxigraph store being built (kg.build); returns the function that
    writes it into the store's folder once the store is there (before its marker)."""
    from kg.store import LocalStore

    index = build_index(oxigraph_select(store), LocalStore(store))
    return lambda folder: save_index(index, folder, f"{fingerprint}/{queries_digest()}")


def fast_path(backend) -> FastIndex | None:
    """The index of an embedded on-disk store (loaded or built once, kept on the backend);
    None for a SPARQL endpoint, an in-memory store, or TARIFFKG_FAST_PATH=0."""
    if os.environ.get("TARIFFKG_FAST_PATH", "1") == "0":
        return None
    path = getattr(backend, "path", None)
    if path is None or not hasattr(backend, "triple_count"):
        return None
    cached = backend.__dict__.get("_fast_index")
    if cached is None:
        cached = load_index(path)
        if cached is None:
            cached = build_index(backend_select(backend), backend)
            save_index(cached, path)
        backend.__dict__["_fast_index"] = cached
    return cached


def index_for(backend) -> FastIndex:
    """The index of any store or endpoint, read now and kept on it (tests, in-memory stores)."""
    cached = backend.__dict__.get("_fast_index")
    if cached is None:
        cached = build_index(backend_select(backend), backend)
        backend.__dict__["_fast_index"] = cached
    return cached


class SparqlOnly:
    """A backend that hides the fast path: duty_answer then asks the stored queries."""

    def __init__(self, backend):
        self.backend = backend

    def select(self, query: str, bindings=None):
        """Run the query on the wrapped backend."""
        return self.backend.select(query, bindings)


# ---------------------------------------------------------------------------------------------
# Evaluating a question: the definitions, one method each
# ---------------------------------------------------------------------------------------------

class Question(NamedTuple):
    """The parameters of duty_on_date as index values (IRIs as str, days as dates)."""

    product: str
    origin: str
    date: Day
    known: Day
    claim: str
    quota: str
    loaded: Day

    @classmethod
    def from_bindings(cls, bindings: dict) -> Question:
        """From kg.duty.question_bindings (validated rdflib terms)."""
        return cls(str(bindings["product"]), str(bindings["origin"]),
                   bindings["date"].toPython(), bindings["asKnownOn"].toPython(),
                   str(bindings["claim"]), str(bindings["quota"]), bindings["loaded"].toPython())


class Evaluation:
    """One question asked of the index.

    track, if given, collects every day the question's entry day was compared with (and, with
    track_known, every day its as-known-on day was compared with): the answer stays the same for
    every entry day up to the next of them (with track_known: when the as-known-on day moves
    along with the entry day)."""

    def __init__(self, index: FastIndex, question: Question, track: set | None = None,
                 track_known: bool = True):
        self.ix = index
        self.q = question
        self.track = track
        self.track_known = track_known and track is not None
        self._listed: set | None = None
        self._in_force: set | None = None
        self._why_not: dict[str, list] = {}

    # window_holds(?window)
    def window_holds(self, window: str) -> bool:
        """entryFrom <= date < entryUntil and knownFrom <= asKnownOn < knownUntil."""
        q = self.q
        for entry_from, entry_until, known_from, known_until in self.ix.spans.get(window, ()):
            if self.track is not None:
                self.track.update((entry_from, entry_until, known_from, known_until)
                                  if self.track_known else (entry_from, entry_until))
            if entry_from <= q.date < entry_until and known_from <= q.known < known_until:
                return True
        return False

    def any_window_holds(self, thing: str) -> bool:
        """?thing tkg:window ?w . window_holds(?w)"""
        return any(self.window_holds(w) for w in self.ix.window.get(thing, ()))

    # listed(?scope), for every scope at once
    def listed(self) -> set:
        """The scopes that list the goods on the day: an entry of the scope names a code the
        product is within, and one of the entry's windows holds."""
        if self._listed is None:
            ix = self.ix
            listed: set = set()
            for code in ix.within.get(self.q.product, ()):
                for entry in ix.entries_by_code.get(code, ()):
                    scopes = ix.scope_of.get(entry, ())
                    if not listed.issuperset(scopes) and self.any_window_holds(entry):
                        listed.update(scopes)
            self._listed = listed
        return self._listed

    # covers(?coverage)
    def covers(self, coverage: str) -> bool:
        """The coverage names the origin (or every country) and holds on the entry day."""
        q = self.q
        for country, covered_from, covered_until in self.ix.coverage.get(coverage, ()):
            if country == q.origin or country == ALL_COUNTRIES:
                if self.track is not None:
                    self.track.update((covered_from, covered_until))
                if covered_from <= q.date < covered_until:
                    return True
        return False

    # in_force_for_origin(?provision)
    def in_force_for_origin(self, provision: str) -> bool:
        """One origin coverage covers the origin and one window holds."""
        return (any(self.covers(c) for c in self.ix.origin_coverage.get(provision, ()))
                and self.any_window_holds(provision))

    # in_force(?provision), for every provision at once
    def in_force(self) -> set:
        """The provisions with a product scope listing the goods, in force for the origin."""
        if self._in_force is None:
            found: set = set()
            by_scope_country = self.ix.by_scope_country
            origin = self.q.origin
            for scope in self.listed():
                for country in (origin, ALL_COUNTRIES):
                    for provision in by_scope_country.get((scope, country), ()):
                        if provision not in found and self.in_force_for_origin(provision):
                            found.add(provision)
            self._in_force = found
        return self._in_force

    # not_applied_row(?measure ?row ?reason ?reasonBy)
    def not_applied_rows(self, measure: str) -> list[tuple]:
        """(row, reason, reasonBy) of each not-applied row of the measure that holds for the
        origin, the entry facts and the days."""
        q = self.q
        found = []
        rows = self.ix.rows_by_country
        for name in rows.get((measure, q.origin), ()) + rows.get((measure, ALL_COUNTRIES), ()):
            row = self.ix.rows[name]
            if not (any(c == ANY_CLAIM or c == q.claim for c in row.claims)
                    and any(s == ANY_QUOTA or s == q.quota for s in row.quotas)
                    and any(b == OPEN_END or q.loaded < b for b in row.loaded_before)):
                continue
            if self.window_holds(name) and any(self.covers(c) for c in row.origins):
                found += [(row, reason, by) for reason in row.reasons for by in row.bys]
        return found

    # why_not(?measure ?reason ?reasonBy)
    def why_not(self, measure: str) -> list[tuple]:
        """(reason, reasonBy) of each not-applied row whose scope of goods lists the goods."""
        found = self._why_not.get(measure)
        if found is None:
            listed = self.listed()
            found = sorted({(reason, by) for row, reason, by in self.not_applied_rows(measure)
                            if any(scope in listed for scope in row.products)}, key=_order)
            self._why_not[measure] = found
        return found

    # applies(?measure)
    def applies(self, measure: str) -> bool:
        """In force and no reason other than a stacking rule stops it."""
        return measure in self.in_force() and not self.why_not(measure)

    # stacked_out(?measure ?reason ?reasonBy ?trigger)
    def stacked_out(self, measure: str) -> list[tuple]:
        """(reason, rule, trigger) for each rule in force whose trigger applies to the goods."""
        ix = self.ix
        found = set()
        for rule in ix.excludable_by.get(measure, ()):
            if not self.any_window_holds(rule):
                continue
            for trigger in ix.triggers_of.get(rule, frozenset()) & self.in_force():
                if trigger == measure or not self.applies(trigger):
                    continue
                for spares in ix.values("sparesOnlyTriggerContent", rule) or (None,):
                    for basis in ix.values("rateBasis", trigger) or (None,):
                        content = _true(spares) and (basis or FULL_VALUE) != FULL_VALUE
                        found.add((CONTENT_SPARED if content else STACKED_OUT, rule, trigger))
        return sorted(found, key=_order)

    # base_rate(?period ?rate ?kind)
    def base_rate(self) -> list[tuple]:
        """(period, rate node, kind) of the MFN rate period of the goods' line on the day."""
        ix = self.ix
        found = []
        for line in ix.within.get(self.q.product, ()):
            for period in ix.periods_by_line.get(line, ()):
                if not self.any_window_holds(period):
                    continue
                specials = [s for s in ix.values("specialRate", period)
                            if self.q.claim in ix.values("underProgram", s)] or [None]
                column2 = [None]
                if ix.values("column2Rate", period):
                    in_force = self.in_force()
                    if any(p in in_force for p in ix.column2_provisions):
                        column2 = list(ix.values("column2Rate", period))
                for special in specials:
                    for rate in column2:
                        if rate is not None:
                            found.append((period, rate, "column 2"))
                        elif special is not None:
                            found.append((period, special, "special"))
                        else:
                            found.append((period, period, "general"))
        return found

    def ruled_unlawful(self, measure: str) -> list[tuple]:
        """(decision, decided) of each court decision known by asKnownOn holding it unlawful."""
        found = []
        for decision in self.ix.values("invalidatedBy", measure):
            for decided, value in self.ix.decided.get(decision, ()):
                if self.track_known and self.track is not None:
                    self.track.add(decided)
                if not decided > self.q.known:
                    found.append((decision, value))
        return found

    # ruled_unlawful(?measure ?decision ?decided) is ruled_unlawful below

    # -- the stored queries' rows ------------------------------------------------------------
    def duty_rows(self) -> list[dict]:
        """The rows duty_on_date gives for the question (base rows first, measures by IRI)."""
        return self.ix.to_terms(self.raw_duty_rows())

    def raw_duty_rows(self) -> list[dict]:
        """duty_on_date's rows, of index values."""
        ix = self.ix
        rows = []
        for period, rate, kind in self.base_rate():
            rows += self._described_rows({"part": "base", "measure": period, "rate": rate,
                                          "baseKind": kind})
        for measure in sorted(self.in_force() & ix.measures):  # ?measure a tkg:Measure
            reasons = [{"reason": r, "reasonBy": by} for r, by in self.why_not(measure)]
            for reason, rule, trigger in self.stacked_out(measure):
                for basis in ix.values("rateBasis", trigger) or (None,):
                    reasons.append({"reason": reason, "reasonBy": rule, "trigger": trigger,
                                    "triggerBasis": basis})
            rulings = [{"ruledUnlawfulBy": decision, "ruledOn": on}
                       for decision, on in self.ruled_unlawful(measure)]
            for reason in reasons or [{}]:
                for ruling in rulings or [{}]:
                    rows += self._described_rows({"part": "measure", "measure": measure,
                                                  "rate": measure, **reason, **ruling})
        return rows

    def _described_rows(self, row: dict) -> list[dict]:
        """The row joined with what duty_on_date reads of its measure and rate node."""
        columns = self.ix.measure_columns(row["measure"], row["rate"])
        return [{**row, **found} for found in columns]

    def gap_rows(self) -> list[dict]:
        """The rows coverage_gaps gives for the question."""
        return self.ix.to_terms(self.raw_gap_rows())

    def raw_gap_rows(self) -> list[dict]:
        """coverage_gaps' rows, of index values."""
        ix = self.ix
        rows = []
        for gap in sorted(self.in_force() & ix.gaps):
            for authority in ix.values("authority", gap) or (None,):
                for comment in ix.values("gapComment", gap) or (None,):
                    rows.append({"gap": gap, "authority": authority, "comment": comment})
        return rows


_PLAIN_COLUMNS = ("part", "baseKind")
_PLAIN = {v: Literal(v) for v in ("base", "measure", "general", "special", "column 2")}
_OPTIONAL_COLUMNS = (
    ("program", "program", "measure"),
    ("adValorem", "adValoremPercent", "rate"),
    ("specificText", "specificRateText", "rate"),
    ("rateText", "rateText", "rate"),
    ("basis", "rateBasis", "measure"),
    ("chapter99", "chapter99Heading", "measure"),
    ("headingBelow", "headingBelowInclusiveRate", "measure"),
    ("headingAtOrAbove", "headingAtOrAboveInclusiveRate", "measure"),
)


def _order(item: tuple) -> tuple:
    return tuple(str(part) for part in item)


def _true(value: Value) -> bool:
    """COALESCE(?value, false) as a boolean (an xsd:boolean literal; anything else is false)."""
    return (isinstance(value, tuple) and value[1] == XSD_BOOLEAN
            and value[0].strip() in ("true", "1"))
