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
    preference_term,
    quota_term,
)
from kg.namespaces import ID, TKG, country_iri, hts_iri
from kg.queries import stored_query

EARLIEST_ENTRY = date(2025, 1, 1)
METALS = ("steel", "aluminum", "copper")
BASIS_METAL = {TKG.SteelContent: "steel", TKG.AluminumContent: "aluminum", TKG.CopperContent: "copper"}
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


@dataclass
class Source:
    """A citation of a part of the answer: the instrument's identifier and its URL."""

    citation: str
    url: str | None


@dataclass
class Reason:
    """One reason a measure in force does not apply (or applies only in part)."""

    reason: str
    by: str | None
    by_label: str | None


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
            raise InputError(f"{what}: {name} is given twice")
        try:
            share = float(value)
        except ValueError:
            share = float("nan")
        if not 0 <= share <= 100:
            raise InputError(f"{what} {part.strip()!r}: the share must be a percent from 0 to 100")
        shares[name] = share
    if sum(shares.values()) > 100:
        raise InputError(f"{what}: the shares add up to more than 100 percent")
    return shares


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


def duty_answer(backend, hts: str, origin: str, on: date, as_known_on: date,
                facts: EntryFacts | None = None) -> DutyAnswer:
    """What duty applied to hts from origin entered on `on`, as the law was known on as_known_on."""
    from kg.queries import substitute_parameters

    facts = facts or EntryFacts()
    digits = hts_digits(hts, "--hts")
    if len(digits) not in (8, 10):
        raise InputError(f"--hts {hts!r}: give a tariff line (8 digits) or statistical line (10 digits)")
    if on < EARLIEST_ENTRY:
        raise InputError(f"--date {on}: the data begins with the 2025 HTS Basic Edition ({EARLIEST_ENTRY})")
    iso = country_code(origin)
    product = _product(backend, digits)
    bindings = question_bindings(digits, iso, on, as_known_on, facts)
    rows = backend.select(substitute_parameters(stored_query("duty_on_date").text, bindings), {})
    gap_rows = backend.select(substitute_parameters(stored_query("coverage_gaps").text, {
        name: bindings[name] for name in ("product", "origin", "date", "asKnownOn")}), {})
    described = _describe(backend, {term for row in rows for key in ("measure", "reasonBy", "trigger",
                                                                      "ruledUnlawfulBy")
                                    if (term := row.get(key)) is not None})
    base, measures = _group(rows)
    answer = _assemble(base, measures, described, facts)
    components, not_applied, missing, notes = answer
    notes += _product_notes(product, digits, on)
    reach = _reach(backend)
    notes += _reach_notes(reach, on, as_known_on)
    gaps = [{"gap": str(r["gap"]), "authority": _short(r.get("authority")),
             "missing": str(r.get("comment", r["gap"]))} for r in gap_rows]
    missing += [f"{g['missing']} ({_short(g['gap'])})" for g in gaps]
    known = round(sum(c.ad_valorem_percent or 0.0 for c in components), 6)
    complete = not missing
    return DutyAnswer(
        hts=dotted_hts(digits), origin=iso, date=on.isoformat(), as_known_on=as_known_on.isoformat(),
        entry_facts=facts.to_dict(), total_ad_valorem_percent=known if complete else None,
        known_part_percent=known,
        coverage=Coverage(complete, missing, gaps, {k: v["text"] for k, v in reach.items()}),
        components=components, not_applied=not_applied, notes=notes,
    )


def _product(backend, digits: str) -> dict[str, Identifier]:
    from kg.queries import substitute_parameters

    rows = _cached(backend, ("product", digits), lambda: backend.select(substitute_parameters(
        stored_query("product").text, {"product": URIRef(hts_iri(digits))}), {}))
    if not rows:
        raise InputError(f"unknown HTS code {dotted_hts(digits)}: not in any HTS revision from 2025 Basic on")
    return rows[0]


def _describe(backend, nodes: set[Identifier]) -> dict[str, dict]:
    """Labels and sources of the nodes an answer names (stored query describe)."""
    from kg.queries import substitute_parameters

    if not nodes:
        return {}
    listed: list[Identifier] = sorted(nodes, key=str)
    text = substitute_parameters(stored_query("describe").text, {"node": listed})
    described: dict[str, dict] = {}
    for row in backend.select(text, {}):
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
    for key, entry in measures.items():
        blocking = [r for r in entry["reasons"] if r[0] != TKG.ContentSpared]
        if blocking:
            not_applied.append(NotApplied(key, _label(described, key), _short(entry["row"].get("authority")),
                                          [_reason(r, described) for r in blocking]))
            continue
        # Each metal once (two rules or triggers sparing the steel content spare it once), in
        # the order of METALS, whatever the order of the rows.
        spared = sorted({BASIS_METAL.get(r[3]) for r in entry["reasons"] if r[0] == TKG.ContentSpared},
                        key=lambda metal: METALS.index(metal) if metal in METALS else len(METALS))
        components.append(_measure_component(key, entry, described, base_percent, facts, spared, missing))
    return components, not_applied, missing, notes + _fact_notes(measures, facts)


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


def _reason(key: tuple, described: dict) -> Reason:
    reason, by, trigger, _ = key
    text = REASONS.get(reason, _short(reason))
    by_label = _label(described, str(by)) if by is not None else None
    if reason == TKG.StackedOut and trigger is not None:
        by_label = f"{by_label} (because {_label(described, str(trigger))} applies)"
    return Reason(text, str(by) if by is not None else None, by_label)


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


def _product_notes(product: dict, digits: str, on: date) -> list[str]:
    start, end = product.get("validFrom"), product.get("validUntil")
    if (start and on < start.toPython()) or (end and on >= end.toPython()):
        return [f"{dotted_hts(digits)} was not a line of the HTS on {on}"]
    return []


def _reach(backend) -> dict[str, dict]:
    """How far the schedule and the acts reach (stored query data_reach), per backend."""
    from kg.queries import substitute_parameters

    def compute():
        reach = {}
        for row in backend.select(substitute_parameters(stored_query("data_reach").text, {}), {}):
            name = _text(row.get("identifier")) or _short(row["instrument"])
            issued = row["issued"].toPython()
            reach[str(row["layer"])] = {"day": issued, "text": f"{name} ({issued})"}
        return reach
    return _cached(backend, "data_reach", compute)


def _reach_notes(reach: dict, on: date, as_known_on: date) -> list[str]:
    notes = []
    schedule, acts = reach.get("schedule"), reach.get("acts")
    if schedule and on > schedule["day"]:
        notes.append(f"the schedule's own rates reach {schedule['text']}: later HTS revisions are not in "
                     "the graph, so the MFN rate is the one of that revision")
    if acts and max(on, as_known_on) > acts["day"]:
        notes.append(f"the legal acts reach {acts['text']}: later acts are not in the graph")
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
