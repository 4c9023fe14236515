"""Golden answers of every stored query on the mini fixture graph, their declared parameters, a
brute-force check of duty_on_date against a plain-Python reading of its header, and injection.

The fixture (tests/fixtures/queries/mini.ttl) is made up: its dates and rates are not data.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from itertools import product as cartesian
from pathlib import Path

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import SKOS

from kg.errors import InputError
from kg.queries import stored_queries, stored_query
from kg.resources import queries_dir
from kg.store import bind_parameters

MINI = Path(__file__).resolve().parent / "fixtures" / "queries" / "mini.ttl"
ID = "https://w3id.org/tariff-kg/id/"
TKG_NS = "https://w3id.org/tariff-kg/ontology#"


def short(term) -> str:
    """A term as a short string: IRIs under the id/ and ontology namespaces abbreviated."""
    text = str(term)
    return text.replace(ID, "").replace(TKG_NS, "tkg:")


# ------------------------------------------------------------------------------------------------
# The golden manifest: query name -> cases. Each case: params (as a user types them), the expected
# rows (short strings of every bound variable, or of `columns` only), and `set_columns` whose
# values are "; "-joined lists in no defined order (GROUP_CONCAT).
# ------------------------------------------------------------------------------------------------

def _duty_case(product, origin, day, known, rows):
    return {"params": {"product": product, "origin": origin, "date": day, "asKnownOn": known},
            "columns": ["measure", "status", "reason", "reasonBy", "source"],
            "rows": [dict(zip(["measure", "status", "reason", "reasonBy", "source"], row)) for row in rows]}


def _strip_none(rows):
    return [{k: v for k, v in row.items() if v is not None} for row in rows]


GOLDEN: dict[str, list[dict]] = {
    "origin_measures": [
        {"params": {"origin": "JP"},
         "columns": ["measure"],
         "rows": [{"measure": "measure/jp24"}, {"measure": "measure/jp15"},
                  {"measure": "measure/jp15-inclusive"}, {"measure": "measure/autos-jp"}]},
        {"params": {"origin": "Germany"}, "rows": []},
    ],
    "data_reach": [{
        "params": {},
        "rows": [{"instrument": "instrument/end", "identifier": "Ending order", "issued": "2026-02-21"}],
    }],
    "instruments": [{
        "params": {},
        "rows": [
            {"instrument": "instrument/hts-a", "kind": "tkg:HTSRevision", "identifier": "HTS A",
             "signed": "2025-01-01", "effective": "2025-01-01"},
            {"instrument": "instrument/autos", "kind": "tkg:Proclamation", "identifier": "Autos proclamation",
             "signed": "2025-03-26", "effective": "2025-04-03", "page": "https://example.org/autos"},
            {"instrument": "instrument/recip", "kind": "tkg:ExecutiveOrder", "identifier": "Reciprocal order",
             "signed": "2025-04-02"},
            {"instrument": "instrument/pause", "kind": "tkg:ExecutiveOrder", "identifier": "Pause order",
             "signed": "2025-04-09"},
            {"instrument": "instrument/extend", "kind": "tkg:ExecutiveOrder", "identifier": "Extension order",
             "signed": "2025-07-07"},
            {"instrument": "instrument/deal", "kind": "tkg:Agreement", "identifier": "Fixture deal",
             "title": "A made-up framework agreement", "signed": "2025-07-22", "page": "https://example.org/deal"},
            {"instrument": "instrument/rate15", "kind": "tkg:ExecutiveOrder", "identifier": "Fifteen percent order",
             "signed": "2025-07-31"},
            {"instrument": "instrument/inclusive", "kind": "tkg:ExecutiveOrder", "identifier": "Inclusive order",
             "signed": "2025-09-04"},
            {"instrument": "instrument/hts-b", "kind": "tkg:HTSRevision", "identifier": "HTS B",
             "signed": "2026-01-01", "effective": "2026-01-01"},
            {"instrument": "instrument/court", "kind": "tkg:CourtDecision", "identifier": "Court ruling",
             "signed": "2026-02-20"},
            {"instrument": "instrument/end", "kind": "tkg:ExecutiveOrder", "identifier": "Ending order",
             "signed": "2026-02-21"},
        ],
    }],
    "pauses": [{
        "params": {},
        "rows": [
            {"pause": "pause/jp", "label": "Japan pause", "measure": "measure/jp24", "measureLabel": "Japan 24",
             "validFrom": "2025-04-10", "validUntil": "2025-07-09", "instrument": "instrument/pause",
             "citation": "Pause order"},
            {"pause": "pause/jp-ext", "label": "Japan pause extended", "measure": "measure/jp24",
             "measureLabel": "Japan 24", "validFrom": "2025-07-09", "validUntil": "2025-08-07",
             "extends": "pause/jp", "instrument": "instrument/extend", "citation": "Extension order"},
        ],
    }],
    "product": [
        {"params": {"product": "8703.23.01"},
         "rows": [{"product": "hts/87032301", "notation": "8703.23.01", "description": "Cars of 1500-3000 cc",
                   "broader": "hts/870323", "validFrom": "2025-01-01"}]},
        {"params": {"product": "8703230110"},
         "rows": [{"product": "hts/8703230110", "notation": "8703.23.01.10", "broader": "hts/87032301"}]},
        {"params": {"product": "9999.99.99"}, "rows": []},
    ],
    "negotiations": [
        {"params": {"jurisdiction": "Japan"},
         "set_columns": ["participants", "topics", "ledTo"],
         "rows": [
             {"jurisdiction": "country/JP", "event": "event/round-1", "day": "2025-04-16", "label": "First round",
              "place": "Washington", "outcome": "Agreed to talk again",
              "participants": "Negotiator A (lead); Negotiator B", "topics": "autos; rates", "ledTo": "Second round"},
             {"jurisdiction": "country/JP", "event": "event/round-2", "day": "2025-07-22", "label": "Second round",
              "ledTo": "Fixture deal"},
         ]},
        {"params": {"jurisdiction": "US"},
         "set_columns": ["participants", "topics", "ledTo"],
         "rows": [
             {"jurisdiction": "country/US", "event": "event/round-1", "day": "2025-04-16", "label": "First round",
              "place": "Washington", "outcome": "Agreed to talk again",
              "participants": "Negotiator A (lead); Negotiator B", "topics": "autos; rates", "ledTo": "Second round"},
         ]},
        {"params": {"jurisdiction": "CA"}, "rows": []},
    ],
    "timeline": [
        {"params": {"product": "8703.23.01.10", "origin": "JP"},
         "columns": ["day", "change", "measure", "instrument"],
         "rows": [dict(zip(["day", "change", "measure", "instrument"], row)) for row in [
             ("2025-01-01", "starts", "mfn/87032301-a", "instrument/hts-a"),
             ("2025-04-03", "starts", "measure/autos", "instrument/autos"),
             ("2025-04-05", "starts", "measure/baseline", "instrument/recip"),
             ("2025-04-09", "starts", "measure/jp24", "instrument/recip"),
             ("2025-04-10", "pause starts", "measure/jp24", "instrument/pause"),
             ("2025-07-09", "pause ends", "measure/jp24", "instrument/pause"),
             ("2025-07-09", "pause starts", "measure/jp24", "instrument/extend"),
             ("2025-08-07", "ends", "measure/jp24", "instrument/rate15"),
             ("2025-08-07", "pause ends", "measure/jp24", "instrument/extend"),
             ("2025-08-07", "starts", "measure/jp15", "instrument/rate15"),
             ("2025-08-07", "starts", "measure/jp15-inclusive", "instrument/inclusive"),
             ("2025-09-04", "superseded", "measure/jp15", "instrument/inclusive"),
             ("2025-09-16", "starts", "measure/autos-jp", "instrument/inclusive"),
             ("2026-02-20", "invalidated", "measure/baseline", "instrument/court"),
             ("2026-02-20", "invalidated", "measure/jp15", "instrument/court"),
             ("2026-02-20", "invalidated", "measure/jp15-inclusive", "instrument/court"),
             ("2026-02-20", "invalidated", "measure/jp24", "instrument/court"),
             ("2026-02-24", "ends", "measure/baseline", "instrument/end"),
             ("2026-02-24", "ends", "measure/jp15", "instrument/end"),
             ("2026-02-24", "ends", "measure/jp15-inclusive", "instrument/end"),
         ]]},
        # Canada: outside the Japan measures, and the baseline excludes it; only MFN and 232 autos.
        {"params": {"product": "8703.23.01", "origin": "CA"},
         "columns": ["day", "change", "measure"],
         "rows": [{"day": "2025-01-01", "change": "starts", "measure": "mfn/87032301-a"},
                  {"day": "2025-04-03", "change": "starts", "measure": "measure/autos"}]},
    ],
    "measures_in_force": [
        {"params": {"origin": "JP", "date": "2025-05-01", "asKnownOn": "2025-05-01"},
         "columns": ["measure", "status"],
         "rows": [{"measure": "measure/baseline", "status": "in force"},
                  {"measure": "measure/jp24", "status": "suspended"},
                  {"measure": "measure/autos", "status": "in force"}]},
        # The extension of the pause (issued 2025-07-07) is not known on 2025-07-01.
        {"params": {"origin": "JP", "date": "2025-07-20", "asKnownOn": "2025-07-01"},
         "columns": ["measure", "status"],
         "rows": [{"measure": "measure/baseline", "status": "in force"},
                  {"measure": "measure/jp24", "status": "in force"},
                  {"measure": "measure/autos", "status": "in force"}]},
        {"params": {"origin": "JP", "date": "2025-07-20", "asKnownOn": "2025-07-20"},
         "columns": ["measure", "status"],
         "rows": [{"measure": "measure/baseline", "status": "in force"},
                  {"measure": "measure/jp24", "status": "suspended"},
                  {"measure": "measure/autos", "status": "in force"}]},
        {"params": {"origin": "JP", "date": "2025-08-20", "asKnownOn": "2025-08-20"},
         "columns": ["measure", "status"],
         "rows": [{"measure": "measure/baseline", "status": "in force"},
                  {"measure": "measure/jp15", "status": "in force"},
                  {"measure": "measure/autos", "status": "in force"}]},
        {"params": {"origin": "JP", "date": "2025-08-20", "asKnownOn": "2026-11-25"},
         "columns": ["measure", "status"],
         "rows": [{"measure": "measure/baseline", "status": "invalidated"},
                  {"measure": "measure/jp15", "status": "invalidated"},
                  {"measure": "measure/jp15-inclusive", "status": "invalidated"},
                  {"measure": "measure/autos", "status": "in force"}]},
        {"params": {"origin": "CA", "date": "2025-09-20", "asKnownOn": "2025-09-20"},
         "columns": ["measure", "status"],
         "rows": [{"measure": "measure/autos", "status": "in force"}]},
    ],
    "duty_on_date": [
        _duty_case("8703.23.01", "JP", "2025-05-01", "2025-05-01", [
            ("mfn/87032301-a", "applied", "", None, "instrument/hts-a"),
            ("measure/autos", "applied", "", None, "instrument/autos"),
            ("measure/baseline", "not applied", "stacking", "rule/recip-vs-232", "instrument/recip"),
            ("measure/jp24", "not applied", "suspended", "pause/jp", "instrument/recip"),
        ]),
        _duty_case("8703.23.01", "JP", "2025-09-20", "2025-09-20", [
            ("mfn/87032301-a", "applied", "", None, "instrument/hts-a"),
            ("measure/autos-jp", "applied", "", None, "instrument/inclusive"),
            ("measure/baseline", "not applied", "stacking", "rule/recip-vs-232", "instrument/recip"),
            ("measure/baseline", "not applied", "stacking", "rule/baseline-vs-country", "instrument/recip"),
            ("measure/jp15", "not applied", "superseded", "measure/jp15-inclusive", "instrument/rate15"),
            ("measure/jp15-inclusive", "not applied", "stacking", "rule/recip-vs-232", "instrument/inclusive"),
            ("measure/jp15-inclusive", "not applied", "stacking", "rule/recip-vs-232", "instrument/recip"),
            ("measure/autos", "not applied", "stacking", "rule/autos-jp", "instrument/autos"),
        ]),
        # Shoes, as known before the pause was extended: Japan's 24% was due back on 2025-07-09.
        {**_duty_case("6402.99.42", "JP", "2025-07-20", "2025-07-01", []),
         "columns": ["measure", "status", "reason"],
         "rows": [{"measure": "measure/jp24", "status": "applied", "reason": ""},
                  {"measure": "mfn/64029942-a", "status": "applied", "reason": ""},
                  {"measure": "measure/baseline", "status": "not applied", "reason": "excluded product"}]},
        # After the court ruling every reciprocal measure is invalidated, back to its start.
        {**_duty_case("9503.00.00", "JP", "2025-08-20", "2026-11-25", []),
         "columns": ["measure", "status", "reason", "reasonBy"],
         "rows": [{"measure": "mfn/95030000-a", "status": "applied", "reason": ""},
                  {"measure": "measure/baseline", "status": "not applied", "reason": "invalidated",
                   "reasonBy": "instrument/court"},
                  {"measure": "measure/jp15", "status": "not applied", "reason": "invalidated",
                   "reasonBy": "instrument/court"},
                  {"measure": "measure/jp15-inclusive", "status": "not applied", "reason": "invalidated",
                   "reasonBy": "instrument/court"},
                  {"measure": "measure/jp15-inclusive", "status": "not applied", "reason": "invalidated",
                   "reasonBy": "instrument/court"}]},
        {**_duty_case("6402.99.42", "CA", "2026-03-01", "2026-03-01", []),
         "columns": ["measure", "status", "reason"],
         "rows": [{"measure": "mfn/64029942-b", "status": "applied", "reason": ""}]},
    ],
}
for _cases in GOLDEN.values():
    for _case in _cases:
        _case["rows"] = _strip_none(_case["rows"])


def _order_keys(text: str) -> list[str] | None:
    """The variables of the query's ORDER BY clause, or None when it has none."""
    match = re.search(r"^ORDER BY (.*)$", text, re.MULTILINE)
    return re.findall(r"\?(\w+)", match.group(1)) if match else None


def _normalise(row: dict, columns, set_columns) -> dict:
    out = {}
    for key, value in row.items():
        if columns is not None and key not in columns:
            continue
        value = value if type(value) is str else short(value)
        if key in set_columns:
            value = "; ".join(sorted(value.split("; ")))
        out[key] = value
    return out


def _freeze(row: dict) -> tuple:
    return tuple(sorted(row.items()))


CASES = [pytest.param(name, i, id=f"{name}-{i}") for name, cases in GOLDEN.items() for i in range(len(cases))]


@pytest.mark.parametrize("name,index", CASES)
def test_golden(mini_store, name, index):
    case = GOLDEN[name][index]
    query = stored_query(name)
    columns, set_columns = case.get("columns"), case.get("set_columns", [])
    rows = mini_store.select(query.text, query.bind(case["params"]))
    actual = [_normalise(r, columns, set_columns) for r in rows]
    expected = [_normalise(r, columns, set_columns) for r in case["rows"]]
    assert Counter(map(_freeze, actual)) == Counter(map(_freeze, expected))
    order = _order_keys(query.text)
    if order:
        key = [k for k in order if columns is None or k in columns]
        assert [tuple(r.get(k) for k in key) for r in actual] == [tuple(r.get(k) for k in key) for r in expected]


def test_every_stored_query_has_a_golden_case():
    names = set(stored_queries())
    assert names - set(GOLDEN) == set(), "stored queries without a golden case in GOLDEN"
    assert set(GOLDEN) - names == set(), "golden cases for queries that do not exist"
    assert all(GOLDEN[name] for name in names)


@pytest.mark.parametrize("name", sorted(p.stem for p in queries_dir().glob("*.rq")))
def test_header_names_its_parameters(name):
    query = stored_query(name)
    text = query.text
    header = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    declared = [p.name for p in query.parameters]
    assert query.description.startswith(f"{name}:"), "the first header line names the query"
    if not declared:
        assert "Parameters: none." in header
    else:
        assert "# Parameters" in header
        assert len(set(declared)) == len(declared)
    # Every parameter row of UNDEFs binds exactly the declared parameters.
    value_rows = re.findall(r"VALUES\s*\(([?$\w\s]+)\)\s*\{\s*\(\s*(?:UNDEF\s*)+\)\s*\}", body)
    for row in value_rows:
        assert sorted(v.lstrip("?$") for v in row.split()) == sorted(declared)
    # Every declared parameter is used in the query and returned, so rows say what they answer.
    for parameter in declared:
        assert re.search(rf"\?{parameter}\b", body), f"?{parameter} is declared but not used"
    select = re.search(r"SELECT(.*?)WHERE", body, re.DOTALL).group(1)
    for parameter in declared:
        assert re.search(rf"\?{parameter}\b", select), f"?{parameter} is not returned"
    # The golden cases give exactly the declared parameters.
    for case in GOLDEN.get(name, []):
        assert sorted(case["params"]) == sorted(declared)
    # Binding substitutes every declared parameter and leaves no UNDEF row behind.
    values = {"hts": "8703.23.01", "country": "JP", "date": "2025-05-01", "iri": "https://example.org/x",
              "string": "x"}
    bound = bind_parameters(text, query.bind({p.name: values[p.kind] for p in query.parameters}))
    if declared:
        assert not re.search(r"\(\s*(?:UNDEF\s*)+\)", bound)


def test_binding_errors_name_the_parameter():
    query = stored_query("duty_on_date")
    with pytest.raises(InputError, match="needs parameter asKnownOn"):
        query.bind({"product": "8703.23.01", "origin": "JP", "date": "2025-05-01"})
    with pytest.raises(InputError, match="has no parameter colour"):
        query.bind({"product": "8703.23.01", "origin": "JP", "date": "2025-05-01", "asKnownOn": "2025-05-01",
                    "colour": "red"})


# ------------------------------------------------------------------------------------------------
# Brute force: duty_on_date against a plain-Python reading of its header comment.
# ------------------------------------------------------------------------------------------------

TKG = Namespace(TKG_NS)
ELI = Namespace("http://data.europa.eu/eli/ontology#")


class HeaderRules:
    """The rules written in duty_on_date.rq's header and the ontology's time semantics, in Python.

    Slow and literal on purpose: every check walks the graph, nothing is precomputed or planned.
    """

    def __init__(self, graph: Graph):
        self.g = graph

    def _dates(self, node, prop):
        return [o.toPython() for o in self.g.objects(node, prop)]

    def above(self, code):
        """The code and every code above it (skos:broader*)."""
        seen, todo = set(), [code]
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                todo += list(self.g.objects(node, SKOS.broader))
        return seen

    def programs_above(self, program):
        return self.above(program)

    def entry_holds(self, entry, day):
        return (all(f <= day for f in self._dates(entry, TKG.validFrom))
                and all(day < u for u in self._dates(entry, TKG.validUntil)))

    def in_list(self, product, lst, day):
        codes = self.above(product)
        return any(self.entry_holds(e, day) and any(c in codes for c in self.g.objects(e, TKG.product))
                   for e in self.g.subjects(TKG.inList, lst))

    def product_scope(self, m, product, day):
        codes = self.above(product)
        return (any(s in codes for s in self.g.objects(m, TKG.appliesToProduct))
                or any(self.in_list(product, lst, day) for lst in self.g.objects(m, TKG.appliesToProductList)))

    def known(self, node, known):
        return any(d <= known for i in self.g.objects(node, TKG.enactedBy) for d in self._dates(i, ELI.date_document))

    def holds(self, node, day, known):
        """Valid on day, with an end that counts only once the instrument ending it is known."""
        if not any(f <= day for f in self._dates(node, TKG.validFrom)):
            return False
        ends = self._dates(node, TKG.validUntil)
        if not ends or all(day < u for u in ends):
            return True
        return any(d > known for e in self.g.objects(node, TKG.endedBy) for d in self._dates(e, ELI.date_document))

    def origin_scope(self, m, origin, day):
        scopes = list(self.g.objects(m, TKG.appliesToOrigin))
        if not scopes:
            return True
        for scope in scopes:
            if scope in (origin, TKG.AllCountries):
                return True
            for membership in self.g.subjects(TKG.member, origin):
                if (membership, TKG.group, scope) in self.g and self.entry_holds(membership, day):
                    return True
        return False

    def excluded_product(self, m, product, day):
        codes = self.above(product)
        return (any(x in codes for x in self.g.objects(m, TKG.excludesProduct))
                or any(self.in_list(product, lst, day) for lst in self.g.objects(m, TKG.excludesProductList)))

    def invalidated(self, m, known):
        return any(d <= known for c in self.g.objects(m, TKG.invalidatedBy) for d in self._dates(c, ELI.date_document))

    def superseded(self, m, day, known):
        return any(self.known(n, known) and self.holds(n, day, known) for n in self.g.subjects(TKG.supersedes, m))

    def suspended(self, m, day, known):
        return any(self.known(p, known) and self.entry_holds(p, day) and self._dates(p, TKG.validFrom)
                   for p in self.g.subjects(TKG.suspends, m))

    def covers(self, m, product, origin, day, known):
        return (self.product_scope(m, product, day) and self.holds(m, day, known) and self.known(m, known)
                and self.origin_scope(m, origin, day))

    def applies_before_stacking(self, m, product, origin, day, known):
        return (self.covers(m, product, origin, day, known) and not self.excluded_product(m, product, day)
                and (m, TKG.excludesOrigin, origin) not in self.g and not self.invalidated(m, known)
                and not self.superseded(m, day, known) and not self.suspended(m, day, known))

    def stacked(self, m, product, origin, day, known, candidates):
        for program in self.g.objects(m, TKG.program):
            for rule in self.g.subjects(TKG.excludedProgram, program):
                if not (self.entry_holds(rule, day) and self._dates(rule, TKG.validFrom) and self.known(rule, known)):
                    continue
                for trigger in self.g.objects(rule, TKG.whenProgramApplies):
                    for other in candidates:
                        if (other != m and any(trigger in self.programs_above(p)
                                               for p in self.g.objects(other, TKG.program))
                                and self.applies_before_stacking(other, product, origin, day, known)):
                            return True
        return False

    def answer(self, product, origin, day, known) -> set[tuple[str, str]]:
        """{(measure, reason)} with reason "" for applied, as the header describes."""
        candidates = set(self.g.subjects(TKG.appliesToProduct, None)) | set(
            self.g.subjects(TKG.appliesToProductList, None))
        out = set()
        for m in candidates:
            if not self.covers(m, product, origin, day, known):
                continue
            if self.excluded_product(m, product, day):
                reason = "excluded product"
            elif (m, TKG.excludesOrigin, origin) in self.g:
                reason = "excluded origin"
            elif self.invalidated(m, known):
                reason = "invalidated"
            elif self.superseded(m, day, known):
                reason = "superseded"
            elif self.suspended(m, day, known):
                reason = "suspended"
            elif self.stacked(m, product, origin, day, known, candidates):
                reason = "stacking"
            else:
                reason = ""
            out.add((short(m), reason))
        return out


GRID_QUESTIONS = [("87032301", "JP"), ("8703230110", "JP"), ("95030000", "JP"), ("64029942", "JP"),
                  ("87032301", "CA"), ("64029942", "US")]
GRID_DATES = ["2025-04-02", "2025-04-03", "2025-04-05", "2025-04-09", "2025-04-10", "2025-05-01", "2025-07-08",
              "2025-07-20", "2025-08-07", "2025-09-15", "2025-09-16", "2026-01-01", "2026-02-23", "2026-02-24"]
GRID_KNOWN = ["2025-01-01", "2025-04-05", "2025-07-01", "2025-08-01", "2025-09-10", "2026-01-15", "2026-02-20",
              "2026-11-25"]


def test_duty_on_date_matches_the_header_rules_on_a_grid(mini_store):
    graph = Graph().parse(MINI, format="turtle")
    rules = HeaderRules(graph)
    query = stored_query("duty_on_date")
    mismatches, checked, applied_seen = [], 0, Counter()
    for (code, origin), day, known in cartesian(GRID_QUESTIONS, GRID_DATES, GRID_KNOWN):
        if known < "2025-04-05" and day > "2025-07-01":
            continue  # thin the grid where nothing but MFN is known
        product = URIRef(f"{ID}hts/{code}")
        country = URIRef(f"{ID}country/{origin}")
        rows = mini_store.select(query.text, {
            "product": product, "origin": country,
            "date": Literal(day, datatype=URIRef("http://www.w3.org/2001/XMLSchema#date")),
            "asKnownOn": Literal(known, datatype=URIRef("http://www.w3.org/2001/XMLSchema#date")),
        })
        got = {(short(r["measure"]), str(r["reason"])) for r in rows}
        per_measure = Counter(m for m, _ in got)
        assert all(n == 1 for n in per_measure.values()), f"a measure with two verdicts: {got}"
        assert all((str(r["status"]) == "applied") == (str(r["reason"]) == "") for r in rows)
        want = rules.answer(product, country, date.fromisoformat(day), date.fromisoformat(known))
        checked += 1
        applied_seen.update(m for m, reason in want if not reason)
        if got != want:
            mismatches.append((code, origin, day, known, sorted(got - want), sorted(want - got)))
    assert not mismatches, "\n".join(map(str, mismatches[:10]))
    assert checked > 400
    # The grid reaches every kind of measure of the fixture in an applied state.
    assert {"measure/autos", "measure/autos-jp", "measure/baseline", "measure/jp24", "measure/jp15-inclusive",
            "mfn/64029942-b"} <= set(applied_seen)


# ------------------------------------------------------------------------------------------------
# Injection: values go in as validated RDF terms, never as query text.
# ------------------------------------------------------------------------------------------------

HOSTILE = ['8703"} ; DROP ALL ; #', "8703.23.01> } DROP ALL { <x", "JP\" . } DELETE WHERE { ?s ?p ?o } #"]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_are_rejected_as_bad_input(mini_store, value):
    before = mini_store.triple_count()
    with pytest.raises(InputError):
        stored_query("product").bind({"product": value})
    with pytest.raises(InputError):
        stored_query("negotiations").bind({"jurisdiction": value})
    with pytest.raises(InputError):
        stored_query("measures_in_force").bind({"origin": "JP", "date": value, "asKnownOn": "2025-05-01"})
    assert mini_store.triple_count() == before


@pytest.mark.parametrize("iri", ["https://example.org/a> } ; DROP ALL ; <b", "https://example.org/a b",
                                 'https://example.org/"x"'])
def test_an_iri_with_forbidden_characters_is_refused(iri):
    from kg.inputs import iri_term

    with pytest.raises(InputError):
        iri_term(iri)


def test_hostile_terms_that_reach_the_query_match_nothing(mini_store):
    """Even terms built around the validators are escaped by n3() and only match nothing."""
    before = mini_store.triple_count()
    query = stored_query("duty_on_date")
    rows = mini_store.select(query.text, {
        "product": Literal('8703"} ; DROP ALL ; #'),
        "origin": URIRef(f"{ID}country/JP"),
        "date": Literal("2025-05-01", datatype=URIRef("http://www.w3.org/2001/XMLSchema#date")),
        "asKnownOn": Literal("2025-05-01", datatype=URIRef("http://www.w3.org/2001/XMLSchema#date")),
    })
    assert rows == []
    rows = mini_store.select(stored_query("negotiations").text,
                             {"jurisdiction": Literal("JP\" } DELETE WHERE { ?s ?p ?o } #")})
    assert rows == []
    assert mini_store.triple_count() == before
    # An IRI term holding '>' cannot be written as a query term at all.
    with pytest.raises(Exception, match="does not look like a valid URI"):
        mini_store.select(stored_query("product").text, {"product": URIRef(ID + "hts/1> } DROP ALL { <x")})
    assert mini_store.triple_count() == before


def test_the_shipped_store_is_intact_after_hostile_input(shipped_store):
    from kg.duty import duty_answer

    before = shipped_store.triple_count()
    for value in HOSTILE:
        with pytest.raises(InputError):
            duty_answer(shipped_store, value, "JP", date(2025, 5, 1), date(2025, 5, 1))
        with pytest.raises(InputError):
            duty_answer(shipped_store, "8703.23.01", value, date(2025, 5, 1), date(2025, 5, 1))
    assert shipped_store.triple_count() == before


def test_regression_excluded_product_rows_name_no_reason_node(mini_store):
    """An exclusion from scope has no pause, rule or ruling behind it: ?reasonBy stays unbound."""
    from datetime import date

    from rdflib import URIRef

    from kg.inputs import date_term
    from kg.queries import stored_query

    rows = mini_store.select(stored_query("duty_on_date").text, {
        "product": URIRef("https://w3id.org/tariff-kg/id/hts/64029942"),
        "origin": URIRef("https://w3id.org/tariff-kg/id/country/JP"),
        "date": date_term(date(2025, 6, 1)), "asKnownOn": date_term(date(2025, 6, 1)),
    })
    excluded = [r for r in rows if str(r.get("reason")) == "excluded product"]
    assert excluded and all("reasonBy" not in r and "reasonByName" not in r for r in excluded)
    suspended = [r for r in rows if str(r.get("reason")) == "suspended"]
    assert suspended and all(str(r["reasonBy"]).endswith("/pause/jp") for r in suspended)
