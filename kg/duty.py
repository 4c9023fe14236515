"""The duty answer: what applied to goods of an origin entered on a day, as the law was known on a day.

The stored query duty_on_date decides which measures are in force, which apply and why the others
do not; coverage_gaps says what the graph knows it lacks. This module only groups their rows per
measure, works out what each applied part adds to the ad valorem total (a rate inclusive of MFN, a
rate on a metal content) and says when that total cannot be given.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal

from rdflib import URIRef
from rdflib.term import Identifier

from kg.errors import InputError
from kg.inputs import (
    NOT_IN_TRANSIT,
    country_code,
    date_term,
    dotted_hts,
    hts_digits,
    parse_date,
    preference_term,
    quota_term,
)
from kg.namespaces import ID, TKG, country_iri, hts_iri
from kg.queries import stored_query

EARLIEST_ENTRY = date(2025, 1, 1)
METALS = ("steel", "aluminum", "copper")
BASIS_METAL = {TKG.SteelContent: "steel", TKG.AluminumContent: "aluminum", TKG.CopperContent: "copper"}
NAMED_COLUMNS = ("measure", "reasonBy", "trigger", "ruledUnlawfulBy")  # described in the answer
REASONS = {
    TKG.Suspended: "suspended", TKG.Superseded: "superseded", TKG.Invalidated: "invalidated",
    TKG.ExcludedProduct: "excluded product", TKG.ExcludedOrigin: "excluded origin",
    TKG.ExemptUnderClaim: "exempt under the claim", TKG.OtherQuotaStatus: "other quota status",
    TKG.InTransit: "in transit", TKG.StackedOut: "stacking rule", TKG.ContentSpared: "content spared",
}
RATE_TYPES = {
    TKG.AdditionalAdValorem: "additional", TKG.InclusiveOfMFN: "inclusive of MFN",
    TKG.AdValorem: "ad valorem", TKG.Specific: "specific", TKG.Compound: "compound",
    TKG.Free: "free", TKG.TextRate: "in words",
}


@dataclass(frozen=True)
class EntryFacts:
    """The facts of an entry that change the duty, with their defaults."""

    claim: str | None = None          # special program indicator claimed (None: general rate)
    quota: str = "over"               # "in" or "over" a tariff-rate quota
    content: dict[str, float] = field(default_factory=dict)  # percent of value by metal
    loaded: date | None = None        # day loaded for shipment (None: not in transit)

    def __post_init__(self) -> None:
        # "none" is how a user says no claim (the query parameter's default): not a program "NONE".
        claim = (self.claim or "").strip().upper()
        object.__setattr__(self, "claim", None if claim in ("", "NONE") else claim)

    def to_dict(self) -> dict:
        """The facts as the JSON contract writes them."""
        return {"claim": self.claim, "quota": self.quota, "content": dict(self.content),
                "loaded": self.loaded.isoformat() if self.loaded else None}


def facts_words(facts: dict) -> str:
    """The entry facts of the JSON contract (EntryFacts.to_dict) in words, defaults included."""
    content = ",".join(f"{k}={v:g}" for k, v in facts["content"].items())
    return ", ".join([f"claim {facts['claim']}" if facts["claim"] else "no preference claimed",
                      f"{facts['quota']} quota",
                      f"content {content}" if content else "metal content not given",
                      f"loaded {facts['loaded']}" if facts["loaded"] else "not in transit"])


@dataclass
class Source:
    """A citation of a part of the answer: the instrument's identifier and its URL."""

    citation: str
    url: str | None


@dataclass
class Reason:
    """One reason a measure in force does not apply (or applies only in part).

    A stacking rule is one reason however many measures trigger it: triggers lists them.
    """

    reason: str
    by: str | None
    by_label: str | None
    triggers: list[str] = field(default_factory=list)


@dataclass
class Component:
    """One part of the duty that applies, with what it adds to the ad valorem total."""

    measure: str
    label: str
    authority: str
    program: str | None
    chapter99: str | None
    rate_type: str
    rate_percent: float | None
    basis: str
    ad_valorem_percent: float | None
    other_rate: str | None
    rate_text: str | None
    sources: list[Source] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class NotApplied:
    """A measure in force for the goods that does not apply, with every reason."""

    measure: str
    label: str
    authority: str
    reasons: list[Reason]


@dataclass
class Coverage:
    """Whether the answer holds every part of the law, and if not what is missing."""

    complete: bool
    missing: list[str]
    gaps: list[dict]
    reach: dict[str, str]
    beyond_reach: list[str] = field(default_factory=list)  # the question asks past the data


@dataclass
class AppliedPart:
    """One part of the duty as applied at entry (the law as known on the entry date)."""

    measure: str
    label: str
    authority: str
    chapter99: str | None
    ad_valorem_percent: float | None


@dataclass
class AsApplied:
    """The answer as applied at entry, beside one asked as known on a later (or earlier) day.

    difference_percent is the answer's total less the total applied at entry; when both answers
    lack the same parts of the law it is the difference of their known parts (difference_basis
    "known parts"), otherwise None. difference says what it means: "refundable" (less is due than
    was applied), "owed" (more is due), "none", or "unknown".
    """

    as_known_on: str
    total_ad_valorem_percent: float | None
    known_part_percent: float
    complete: bool
    components: list[AppliedPart]
    difference_percent: float | None
    difference: str
    difference_basis: str | None  # "total", or "known parts" when both lack the same parts


@dataclass
class DutyAnswer:
    """The answer to one duty question (the JSON contract in the README)."""

    hts: str
    origin: str
    date: str
    as_known_on: str
    entry_facts: dict
    total_ad_valorem_percent: float | None
    known_part_percent: float
    coverage: Coverage
    components: list[Component]
    not_applied: list[NotApplied]
    notes: list[str]
    as_applied: AsApplied | None = None  # when as_known_on is not the entry date
    by_statistical_suffix: list[dict] = field(default_factory=list)  # 10-digit lines that differ
    specific_duties: list[str] = field(default_factory=list)  # per-unit parts left out of the total
    user_data: list[str] = field(default_factory=list)  # the user's Turtle files in the graph asked

    def to_dict(self) -> dict:
        """The answer as the documented JSON object."""
        return asdict(self)


def parse_content(text: str | None, what: str = "--content") -> dict[str, float]:
    """Metal shares of the customs value: 'steel=40,aluminum=10' -> {'steel': 40.0, ...}."""
    shares: dict[str, float] = {}
    for part in re.split(r"[,;]", text or ""):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        name = name.strip().lower()
        if not sep or name not in METALS:
            raise InputError(f"{what} {part.strip()!r}: give metal=percent with metal one of "
                             f"{', '.join(METALS)} (e.g. steel=40,aluminum=10)")
        if name in shares:
            raise InputError(f"{what.rstrip(':')}: {name} is given twice")
        try:
            share = float(value)
        except ValueError:
            share = float("nan")
        if not 0 <= share <= 100:
            raise InputError(f"{what} {part.strip()!r}: the share must be a percent from 0 to 100")
        shares[name] = share
    if sum(shares.values()) > 100:
        raise InputError(f"{what.rstrip(':')}: the shares add up to more than 100 percent")
    return shares


def parse_entry_facts(claim: str | None = None, quota: str | None = None,
                      content: str | None = None, loaded: str | None = None,
                      label: str = "--{}") -> EntryFacts:
    """The facts of an entry as typed (options, batch cells), each checked by its one parser.

    Empty values take the defaults (no claim, over quota, content not given, not in transit);
    label names a value in messages: "--{}" for options, "column {}:" for batch cells.
    """
    claim = (claim or "").strip() or None
    if claim:
        preference_term(claim, label.format("claim"))
    quota = (quota or "").strip() or "over"
    quota_term(quota, label.format("quota"))
    loaded = (loaded or "").strip() or None
    return EntryFacts(claim=claim, quota=quota.lower(),
                      content=parse_content(content, label.format("content")),
                      loaded=parse_date(loaded, label.format("loaded")) if loaded else None)


def question_bindings(digits: str, iso: str, on: date, as_known_on: date, facts: EntryFacts) -> dict:
    """The duty_on_date parameters as validated RDF terms."""
    return {
        "product": URIRef(hts_iri(digits)),
        "origin": URIRef(country_iri(iso)),
        "date": date_term(on),
        "asKnownOn": date_term(as_known_on),
        "claim": preference_term(facts.claim),
        "quota": quota_term(facts.quota),
        "loaded": date_term(facts.loaded or NOT_IN_TRANSIT),
    }


class HeadingGiven(InputError):
    """The question names a heading or subheading, not a tariff line; `lines` lists its lines."""

    def __init__(self, digits: str, lines: list[dict], on: date):
        self.code = dotted_hts(digits)
        self.lines = lines
        self.on = on
        kind = "heading" if len(digits) == 4 else "subheading"
        eight = [line["hts"] for line in lines if len(line["hts"]) == 10]
        shown = ", ".join(eight[:6]) + (f", ... ({len(eight)} lines)" if len(eight) > 6 else "")
        super().__init__(f"{self.code} is a {kind}, not a tariff line: give one of its lines "
                         f"on {on} ({shown or 'none listed'})")


def check_entry_date(on: date, what: str = "--date") -> None:
    """Refuse an entry date before the data begins (the 2025 HTS Basic Edition)."""
    if on < EARLIEST_ENTRY:
        raise InputError(f"{what} {on}: the data begins with the 2025 HTS Basic Edition "
                         f"({EARLIEST_ENTRY}); ask for an entry date from {EARLIEST_ENTRY} on")


def check_loaded(facts: EntryFacts, on: date) -> None:
    """Refuse a loading day after the entry day: goods are loaded before they are entered."""
    if facts.loaded is not None and facts.loaded > on:
        raise InputError(f"--loaded {facts.loaded}: after the entry date {on}; goods are loaded "
                         "for shipment before they are entered")


def duty_answer(backend, hts: str, origin: str, on: date, as_known_on: date,
                facts: EntryFacts | None = None, compare_applied: bool = True) -> DutyAnswer:
    """What duty applied to hts from origin entered on `on`, as the law was known on as_known_on.

    When as_known_on is not the entry date (and compare_applied), the answer also carries the
    duty as applied at entry (as_applied: the law as known on the entry date) and the difference.
    A heading or subheading raises HeadingGiven with its lines; an unknown code an InputError
    naming the nearest lines.
    """
    facts = facts or EntryFacts()
    digits = hts_digits(hts, "--hts")
    check_entry_date(on)
    check_loaded(facts, on)
    iso = country_code(origin)
    if len(digits) in (4, 6):
        raise HeadingGiven(digits, lines_under(backend, digits, on), on)
    both = compare_applied and as_known_on != on
    applied = _answer(backend, digits, iso, on, on, facts) if both else None
    # the view asked, asked last; only it says how the duty differs by suffix (AsApplied has none)
    answer = _answer(backend, digits, iso, on, as_known_on, facts, suffixes=True)
    if applied is not None:
        answer.as_applied = _as_applied(answer, applied)
    return answer


def _answer(backend, digits: str, iso: str, on: date, as_known_on: date,
            facts: EntryFacts, suffixes: bool = False) -> DutyAnswer:
    """The answer in one time view (as known on as_known_on); with suffixes, also how the duty
    differs on the statistical lines under an 8-digit line (by_statistical_suffix)."""
    bindings = question_bindings(digits, iso, on, as_known_on, facts)
    product, rows, gap_rows, described, reach = _evidence(backend, digits, bindings, on)
    by_suffix = _by_suffix(backend, digits, bindings, rows, described) if suffixes else []
    return answer_from_evidence(digits, iso, on, as_known_on, facts, product, rows, gap_rows,
                                described, reach, backend=backend, by_suffix=by_suffix)


def answer_from_evidence(digits: str, iso: str, on: date, as_known_on: date, facts: EntryFacts,
                         product: dict, rows: list[dict], gap_rows: list[dict], described: dict,
                         reach: dict, backend=None, by_suffix: list[dict] | None = None
                         ) -> DutyAnswer:
    """The answer from what the graph says to the question (see _evidence).

    backend, when given, is also asked the nearest lines of a code that was not in the HTS on the
    day; by_suffix (see _by_suffix) is how the duty differs on the statistical lines under an
    8-digit line. A series (kg.series) gives neither: it answers per 8-digit line.
    """
    by_suffix = by_suffix or []
    base, measures = _group(rows)
    components, not_applied, missing, notes = _assemble(base, measures, described, facts)
    notes += _product_notes(backend, product, digits, on)
    notes += _reach_notes(reach, on, as_known_on)
    gaps = [{"gap": str(r["gap"]), "authority": _short(r.get("authority")),
             "missing": str(r.get("comment", r["gap"]))} for r in gap_rows]
    missing += [f"{g['missing']} ({_short(g['gap'])})" for g in gaps]
    known = round(sum(c.ad_valorem_percent or 0.0 for c in components), 6)
    complete = not missing
    if by_suffix:
        notes.append(suffix_text(by_suffix, dotted_hts(digits)))
    specific = [f"{c.other_rate} ({c.authority})" for c in components
                if c.other_rate and c.rate_type in ("specific", "compound")]
    coverage = Coverage(complete, missing, gaps, {k: v["text"] for k, v in reach.items()},
                        _beyond_reach(reach, on, as_known_on))
    return DutyAnswer(
        hts=dotted_hts(digits), origin=iso, date=on.isoformat(), as_known_on=as_known_on.isoformat(),
        entry_facts=facts.to_dict(), total_ad_valorem_percent=known if complete else None,
        known_part_percent=known, coverage=coverage, components=components,
        not_applied=not_applied, notes=notes, by_statistical_suffix=by_suffix,
        specific_duties=specific, user_data=list(getattr(backend, "user_files", [])),
    )


def suffix_text(by_suffix: list[dict], line: str) -> str:
    """One sentence: on which statistical suffixes of a line other measures apply, and which."""
    parts = []
    for entry in by_suffix:
        names = [m["label"] + ("" if m["how"] == "scope" else " (not applied)")
                 for m in entry["measures"]]
        parts.append(f"{entry['line']}: {', '.join(names)}")
    return (f"the duty differs by statistical suffix under {line}: " + "; ".join(parts)
            + f"; this answer holds for the other lines under {line} (ask for the 10-digit line)")


def _as_applied(answer: DutyAnswer, applied: DutyAnswer) -> AsApplied:
    """The answer as applied at entry, and how the asked answer differs from it."""
    parts = [AppliedPart(c.measure, c.label, c.authority, c.chapter99, c.ad_valorem_percent)
             for c in applied.components]
    now, then = answer.total_ad_valorem_percent, applied.total_ad_valorem_percent
    basis: str | None = "total"
    if now is None or then is None:
        same_gaps = answer.coverage.missing == applied.coverage.missing
        now, then = answer.known_part_percent, applied.known_part_percent
        basis = "known parts" if same_gaps else None
    if basis is None:
        difference, meaning = None, "unknown"
    else:
        difference = round(now - then, 6)
        meaning = "none" if difference == 0 else ("owed" if difference > 0 else "refundable")
    return AsApplied(as_known_on=applied.as_known_on,
                     total_ad_valorem_percent=applied.total_ad_valorem_percent,
                     known_part_percent=applied.known_part_percent,
                     complete=applied.coverage.complete, components=parts,
                     difference_percent=difference, difference=meaning, difference_basis=basis)


def lines_under(backend, digits: str, on: date) -> list[dict]:
    """The 8- and 10-digit lines under a code on a day (stored query lines_under)."""
    from kg.queries import substitute_parameters

    rows = backend.select(substitute_parameters(stored_query("lines_under").text, {
        "code": URIRef(hts_iri(digits)), "date": date_term(on)}), {})
    return [{"hts": str(r["notation"]), "description": _text(r.get("description")),
             "scoped": str(r.get("scoped", "false")).lower() == "true"} for r in rows]


SCOPED_LINES = """PREFIX tkg: <https://w3id.org/tariff-kg/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT DISTINCT ?line ?notation ?parent WHERE {
  ?entry tkg:scopeCode ?line .
  ?line tkg:digits 10 ; skos:notation ?notation ; tkg:within ?parent .
  ?parent tkg:digits 8 .
}"""  # the 10-digit lines some product scope or exclusion names (named_by_a_scope), on any day,
# each with the 8-digit line it is under (line_under)


def _scoped_lines(backend) -> dict[str, list[tuple[str, str]]]:
    """Per 8-digit line (digits), the (digits, notation) of its statistical lines that some
    product scope or exclusion names on its own, on any day: one query per backend (the fast
    index of an embedded store holds them)."""
    from kg.fast import fast_path

    index = fast_path(backend)
    if index is not None:
        return index.scoped_lines

    def read() -> dict[str, list[tuple[str, str]]]:
        found: dict[str, set] = {}
        for row in backend.select(SCOPED_LINES, {}):
            parent, line = _code(row["parent"]), _code(row["line"])
            found.setdefault(parent, set()).add((line, str(row["notation"])))
        return {parent: sorted(lines) for parent, lines in found.items()}

    return _cached(backend, "scoped lines", read)


def _by_suffix(backend, digits: str, bindings: dict, rows: list[dict], described: dict
               ) -> list[dict]:
    """The statistical lines under an 8-digit line on which other measures apply: the same
    question asked of each line a product scope or exclusion names on its own, by the same
    machinery (the fast path, or duty_on_date), and the measures that apply compared. A measure
    applying to the statistical line only reaches it by a scope ("scope"); one applying to the
    8-digit line only spares it ("exclusion"). [] for any other line."""
    if len(digits) != 8:
        return []
    on = bindings["date"].toPython()
    asked = _applying(_group(rows)[1])
    found: list[dict] = []
    for line, notation in _scoped_lines(backend).get(digits, []):
        if not _listed_on(_product(backend, line, on), on):
            continue  # not a line of the HTS on the day
        asked_of_line = {**bindings, "product": URIRef(hts_iri(line))}
        theirs, their_described = _duty_rows(backend, line, asked_of_line)
        applying = _applying(_group(theirs)[1])
        measures = [{"measure": m, "label": _label(their_described, m), "how": "scope"}
                    for m in applying - asked]
        measures += [{"measure": m, "label": _label(described, m), "how": "exclusion"}
                     for m in asked - applying]
        if measures:
            measures.sort(key=lambda m: m["measure"])
            found.append({"line": notation, "measures": measures})
    return found


def _applying(measures: dict[str, dict]) -> set[str]:
    """The measures that apply (no reason stops them; one sparing a content applies to the rest)."""
    return {key for key, entry in measures.items() if not _blocking(entry)}


def _blocking(entry: dict) -> list[tuple]:
    """A measure's reasons that stop it (all but sparing a metal content)."""
    return [r for r in entry["reasons"] if r[0] != TKG.ContentSpared]


def _code(term) -> str:
    return str(term).rsplit("/", 1)[-1]


def _evidence(backend, digits: str, bindings: dict, on: date) -> tuple:
    """The product row, duty_on_date's and coverage_gaps' rows, the descriptions of the nodes they
    name and the data reach: from the stored queries, or on the embedded store from the fast path
    (kg.fast: the same stored rules' conclusions, looked up in memory; tested equal)."""
    from kg.fast import fast_path
    from kg.queries import substitute_parameters

    index = fast_path(backend)
    if index is not None and index.product(hts_iri(digits)) is not None:
        return index.evidence(digits, bindings)
    product = _product(backend, digits, on)  # an unknown code fails here, naming the nearest lines
    rows, described = _duty_rows(backend, digits, bindings)
    gap_rows = backend.select(substitute_parameters(stored_query("coverage_gaps").text, {
        name: bindings[name] for name in ("product", "origin", "date", "asKnownOn")}), {})
    return product, rows, gap_rows, described, _reach(backend)


def _duty_rows(backend, digits: str, bindings: dict) -> tuple[list[dict], dict]:
    """duty_on_date's rows for a line known to the HTS and the descriptions of the nodes they
    name: from the fast path on the embedded store, else from the stored queries."""
    from kg.fast import fast_path
    from kg.queries import substitute_parameters

    index = fast_path(backend)
    if index is not None and index.product(hts_iri(digits)) is not None:
        _, rows, _, described, _ = index.evidence(digits, bindings, gaps=False)
        return rows, described
    rows = backend.select(substitute_parameters(stored_query("duty_on_date").text, bindings), {})
    named = {term for row in rows for key in NAMED_COLUMNS if (term := row.get(key)) is not None}
    return rows, _describe(backend, named)


def unknown_code(digits: str, near: list[str] | None = None, on: date | None = None) -> InputError:
    """The error for an HTS code that no revision lists, naming the nearest lines if known."""
    hint = f"; the nearest lines on {on}: {', '.join(near)}" if near else ""
    return InputError(f"unknown HTS code {dotted_hts(digits)}: not in any HTS revision from "
                      f"2025 Basic on{hint}")


def _product(backend, digits: str, on: date) -> dict[str, Identifier]:
    """The stored query product's row of a line (its validity); an unknown code fails."""
    from kg.fast import fast_path
    from kg.queries import substitute_parameters

    index = fast_path(backend)
    found = index.product(hts_iri(digits)) if index is not None else None
    if found is not None:
        return found
    rows = _cached(backend, ("product", digits), lambda: backend.select(substitute_parameters(
        stored_query("product").text, {"product": URIRef(hts_iri(digits))}), {}))
    if not rows:
        raise unknown_code(digits, nearest_lines(backend, digits, on), on)
    return rows[0]


def nearest_lines(backend, digits: str, on: date, limit: int = 3) -> list[str]:
    """Lines of the same length listed on a day under the longest prefix of digits that has any,
    nearest by number first (8708.29.50 -> 8708.29.51)."""
    for size in (8, 6, 4):
        if size >= len(digits):
            continue
        found = [line["hts"] for line in lines_under(backend, digits[:size], on)
                 if len(line["hts"].replace(".", "")) == len(digits)]
        if found:
            return sorted(found, key=lambda code: abs(int(code.replace(".", "")) - int(digits)))[:limit]
    return []


def _describe(backend, nodes: set[Identifier]) -> dict[str, dict]:
    """Labels and sources of the nodes an answer names (stored query describe)."""
    from kg.queries import substitute_parameters

    if not nodes:
        return {}
    listed: list[Identifier] = sorted(nodes, key=str)
    text = substitute_parameters(stored_query("describe").text, {"node": listed})
    return described_from_rows(backend.select(text, {}))


def described_from_rows(rows: list[dict]) -> dict[str, dict]:
    """Per node of the stored query describe's rows: its label and its sources (one per citation)."""
    described: dict[str, dict] = {}
    # in a fixed order: a source with two pages (EO 14257 on federalregister.gov and govinfo.gov)
    # or a node with two labels would otherwise give either, as the engine happens to list them
    columns = ("node", "label", "source", "citation", "page")
    for row in sorted(rows, key=lambda r: tuple(str(r.get(k, "")) for k in columns)):
        entry = described.setdefault(str(row["node"]), {"label": None, "sources": []})
        if row.get("label") is not None and entry["label"] is None:
            entry["label"] = str(row["label"])
        if row.get("source") is not None:
            citation = str(row.get("citation", row["source"]))
            if all(s.citation != citation for s in entry["sources"]):
                entry["sources"].append(Source(citation, _text(row.get("page"))))
    return described


def _group(rows: list[dict]) -> tuple[dict | None, dict[str, dict]]:
    """The base-rate row and, per measure, its row and every reason row (query order kept)."""
    base = None
    measures: dict[str, dict] = {}
    for row in rows:
        if str(row["part"]) == "base":
            base = base or row
            continue
        entry = measures.setdefault(str(row["measure"]), {"row": row, "reasons": [], "headings": set()})
        if row.get("chapter99") is not None:
            entry["headings"].add(str(row["chapter99"]))
        if row.get("reason") is not None:
            key = (row["reason"], row.get("reasonBy"), row.get("trigger"), row.get("triggerBasis"))
            if key not in entry["reasons"]:
                entry["reasons"].append(key)
    return base, measures


def _assemble(base: dict | None, measures: dict[str, dict], described: dict, facts: EntryFacts):
    """Components, measures not applied, what is missing from the total, and notes."""
    missing: list[str] = []
    notes: list[str] = []
    components: list[Component] = []
    base_percent = None
    if base is None:
        missing.append("the schedule's own rate (no MFN rate period for this line on this day)")
    else:
        component, base_percent = _base_component(base, described, facts, notes)
        components.append(component)
    not_applied = []
    parts: list[Component] = []
    for key, entry in measures.items():
        blocking = _blocking(entry)
        if blocking:
            not_applied.append(NotApplied(key, _label(described, key), _short(entry["row"].get("authority")),
                                          _reasons(blocking, described)))
            continue
        # Each metal once (two rules or triggers sparing the steel content spare it once), in
        # the order of METALS, whatever the order of the rows.
        spared = sorted({BASIS_METAL.get(r[3]) for r in entry["reasons"] if r[0] == TKG.ContentSpared},
                        key=lambda metal: METALS.index(metal) if metal in METALS else len(METALS))
        parts.append(_measure_component(key, entry, described, base_percent, facts, spared, missing))
    # in a stable order (the query's row order is not): the base rate, then by authority and label
    components += sorted(parts, key=lambda c: (c.authority, c.label, c.measure))
    not_applied.sort(key=lambda n: (n.authority, n.label, n.measure))
    return components, not_applied, sorted(missing), notes + _fact_notes(measures, facts)


def _base_component(row: dict, described: dict, facts: EntryFacts, notes: list[str]):
    """The base rate as a component, and its ad valorem percent (None when not purely ad valorem)."""
    kind = str(row.get("baseKind", "general"))
    period = str(row["measure"])
    rate_type = row["rateType"]
    percent = _float(row.get("adValorem"))
    if facts.claim and kind != "special":
        notes.append(f"the line lists no special rate under {facts.claim} on this day: the "
                     f"{'column 2' if kind == 'column 2' else 'general'} rate applies")
    label = {"general": "column 1 general (MFN) rate", "special": f"column 1 special rate under {facts.claim}",
             "column 2": "column 2 rate (General Note 3(b))"}[kind]
    period_label = _label(described, period)
    pure = rate_type in (TKG.AdValorem, TKG.Free) and percent is not None
    adds = percent if rate_type in (TKG.AdValorem, TKG.Free, TKG.Compound) else 0.0
    other = _text(row.get("specificText"))
    component = Component(
        measure=period, label=f"{label}: {period_label}", authority="mfn", program=kind,
        chapter99=None, rate_type=RATE_TYPES.get(rate_type, "in words"), rate_percent=percent,
        basis="full", ad_valorem_percent=adds or 0.0, other_rate=other,
        rate_text=_text(row.get("rateText")),
        sources=described.get(period, {}).get("sources", []),
    )
    if other:
        component.notes.append(f"plus a specific duty of {other}, not part of the ad valorem total")
    return component, (percent if pure else None)


def _measure_component(key: str, entry: dict, described: dict, base_percent: float | None,
                       facts: EntryFacts, spared: list[str | None], missing: list[str]) -> Component:
    """One applied measure: what it adds given the base rate, its basis and the content shares."""
    row = entry["row"]
    label = _label(described, key)
    rate_type = row["rateType"]
    percent = _float(row.get("adValorem"))
    basis = BASIS_METAL.get(row["basis"], "full") if row.get("basis") is not None else "full"
    other = _text(row.get("specificText"))
    notes: list[str] = []
    adds: float | None = percent if percent is not None else 0.0
    heading = ", ".join(sorted(_notation(h) for h in entry["headings"])) or None
    if rate_type == TKG.InclusiveOfMFN:
        if base_percent is None:
            adds = None
            missing.append(f"{label}: {percent:g}% inclusive of MFN needs the ad valorem equivalent of a "
                           "rate that is not purely ad valorem")
            below, above = row.get("headingBelow"), row.get("headingAtOrAbove")
            if below is not None and above is not None:
                heading = (f"{_notation(below)} (column 1 rate below {percent:g}%) or "
                           f"{_notation(above)} ({percent:g}% or more)")
        else:
            adds = max(0.0, round((percent or 0.0) - base_percent, 6))
            chosen = row.get("headingAtOrAbove") if base_percent >= (percent or 0.0) else row.get("headingBelow")
            heading = _notation(chosen) if chosen is not None else heading
        other = f"{percent:g}% inclusive of MFN"
    if basis != "full" and adds is not None:
        share = facts.content.get(basis)
        if share is None:
            missing.append(f"{label}: {percent:g}% on the {basis} content needs the {basis} share of the "
                           f"value (--content {basis}=PERCENT)")
            notes.append(f"levied on the {basis} content only")
            adds = None
        else:
            adds = round(adds * share / 100, 6)
            notes.append(f"levied on the {basis} content ({share:g}% of the value)")
    if spared and adds is not None:
        shares = [facts.content.get(metal) if metal else None for metal in spared]
        if any(s is None for s in shares):
            missing.append(f"{label}: applies only outside the {', '.join(m or 'metal' for m in spared)} "
                           "content, whose share of the value is not given (--content)")
            adds = None
        else:
            rest = 100 - sum(s or 0.0 for s in shares)
            adds = round(adds * rest / 100, 6)
            notes.append(f"applies to the value outside the {', '.join(m or '' for m in spared)} content "
                         f"({rest:g}% of the value)")
    if other and rate_type in (TKG.Specific, TKG.Compound):
        notes.append(f"plus a specific duty of {other}, not part of the ad valorem total")
    if row.get("ruledUnlawfulBy") is not None:
        court = _label(described, str(row["ruledUnlawfulBy"]))
        notes.append(f"ruled unlawful by {court} on {row.get('ruledOn')}, but still collected for goods "
                     "entered on this day: refundable")
    return Component(
        measure=key, label=label, authority=_short(row.get("authority")), program=_short(row.get("program")),
        chapter99=heading, rate_type=RATE_TYPES.get(rate_type, "in words"), rate_percent=percent,
        basis=basis, ad_valorem_percent=adds, other_rate=other, rate_text=_text(row.get("rateText")),
        sources=described.get(key, {}).get("sources", []), notes=notes,
    )


def _reasons(keys: list[tuple], described: dict) -> list[Reason]:
    """One Reason per reason and node behind it: a rule's several triggers are listed in it."""
    reasons: dict[tuple, Reason] = {}
    for reason, by, trigger, _ in keys:
        found = reasons.get((reason, by))
        if found is None:
            text = REASONS.get(reason, _short(reason))
            by_label = _label(described, str(by)) if by is not None else None
            found = reasons[(reason, by)] = Reason(text, str(by) if by is not None else None, by_label)
        if trigger is not None:
            label = _label(described, str(trigger))
            if label not in found.triggers:
                found.triggers.append(label)
    for found in reasons.values():
        found.triggers.sort()
        if found.triggers:  # the label names them too, as it always has
            found.by_label = f"{found.by_label} (because {_joined(found.triggers)} " \
                             f"appl{'ies' if len(found.triggers) == 1 else 'y'})"
    # in a stable order (the query's row order is not): the engine may return rows either way
    return sorted(reasons.values(), key=lambda r: (r.reason, r.by_label or "", r.by or ""))


def reason_text(reason: Reason) -> str:
    """A reason in words: 'stacking rule: R (because A and B apply)'."""
    return reason.reason + (f": {reason.by_label}" if reason.by_label else "")


def _joined(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _fact_notes(measures: dict[str, dict], facts: EntryFacts) -> list[str]:
    """Notes on the defaults of the entry facts where they decided something."""
    notes = []
    reasons = {r[0] for entry in measures.values() for r in entry["reasons"]}
    if TKG.OtherQuotaStatus in reasons:
        other = "in" if facts.quota == "over" else "over"
        notes.append(f"entered {facts.quota} quota{' (the default)' if facts.quota == 'over' else ''}; "
                     f"goods entered {other} quota pay the rate of the measure not applied for "
                     "'other quota status' (--quota " + other + ")")
    return notes


def _listed_on(product: dict, on: date) -> bool:
    """The schedule lists the line on the day (the stored query product's validity columns)."""
    start, end = product.get("validFrom"), product.get("validUntil")
    return not ((start and on < start.toPython()) or (end and on >= end.toPython()))


def _product_notes(backend, product: dict, digits: str, on: date) -> list[str]:
    if not _listed_on(product, on):
        near = nearest_lines(backend, digits, on) if backend is not None else []
        return [f"{dotted_hts(digits)} was not a line of the HTS on {on}"
                + (f" (the nearest lines that were: {', '.join(near)})" if near else "")]
    return []


def _reach(backend) -> dict[str, dict]:
    """How far the schedule and the acts reach (stored query data_reach), per backend."""
    from kg.queries import substitute_parameters

    return _cached(backend, "data_reach", lambda: reach_from_rows(
        backend.select(substitute_parameters(stored_query("data_reach").text, {}), {})))


def reach_from_rows(rows: list[dict]) -> dict[str, dict]:
    """The layers of the stored query data_reach's rows: their newest instrument and its day."""
    reach = {}
    for row in rows:
        name = _text(row.get("identifier")) or _short(row["instrument"])
        issued = row["issued"].toPython()
        reach[str(row["layer"])] = {"day": issued, "text": f"{name} ({issued})"}
    return reach


def _passed_layers(reach: dict, on: date, as_known_on: date) -> tuple[dict | None, dict | None]:
    """The schedule layer the entry date passes and the acts layer the question passes (or None)."""
    schedule, acts = reach.get("schedule"), reach.get("acts")
    return (schedule if schedule and on > schedule["day"] else None,
            acts if acts and max(on, as_known_on) > acts["day"] else None)


def _reach_notes(reach: dict, on: date, as_known_on: date) -> list[str]:
    """Notes on how far the data reaches, for a question that passes it."""
    schedule, acts = _passed_layers(reach, on, as_known_on)
    notes = []
    if schedule:
        notes.append(f"the schedule's own rates reach {schedule['text']}: later HTS revisions are not in "
                     "the graph, so the MFN rate is the one of that revision")
    if acts:
        notes.append(f"the legal acts reach {acts['text']}: later acts are not in the graph")
    return notes


def _beyond_reach(reach: dict, on: date, as_known_on: date) -> list[str]:
    """What the question asks past the data's reach (stated in the answer's header)."""
    schedule, acts = _passed_layers(reach, on, as_known_on)
    notes = []
    if schedule:
        notes.append(f"the entry date {on} is past the schedule's reach, {schedule['text']}: later HTS "
                     "revisions are not in the graph, so the MFN rate is the one of that revision")
    if acts:
        day = "the as-known-on date" if as_known_on >= on else "the entry date"
        notes.append(f"{day} {max(on, as_known_on)} is past the legal acts' reach, {acts['text']}: "
                     "acts issued later are not in the graph")
    return notes


def _cached(backend, key, compute):
    """Answers that do not depend on the question, kept per backend for batches."""
    cache = backend.__dict__.setdefault("_answers", {})
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def _label(described: dict, node: str) -> str:
    return described.get(node, {}).get("label") or _short(node) or node


def _float(term) -> float | None:
    return None if term is None else float(Decimal(str(term)))


def _text(term) -> str | None:
    return None if term is None else str(term)


def _short(term) -> str:
    if term is None:
        return ""
    text = str(term)
    if text.startswith(str(TKG)):
        return text[len(str(TKG)):]
    if text.startswith(ID):
        return text.rsplit("/", 1)[-1]
    return text


def _notation(term) -> str:
    digits = str(term).rsplit("/", 1)[-1]
    return dotted_hts(digits) if digits.isdigit() else digits
