"""A plain-Python statement of when a duty applies: the second opinion on the rule core.

Written from the ontology's definitions (ontology/tariff-kg.ttl: tkg:Measure, tkg:validFrom,
tkg:validUntil, tkg:endedBy, tkg:enactedBy, tkg:supersedes, tkg:invalidatedBy and
tkg:Invalidated, tkg:Pause, tkg:StackingRule, tkg:excludedProgram, tkg:whenProgramApplies,
tkg:sparesOnlyTriggerContent, tkg:exemptUnderClaim, tkg:quotaStatus, tkg:rateBasis,
tkg:TransitException, tkg:GroupMembership, tkg:ProductListEntry, tkg:CoverageGap,
tkg:Column2Provision, the rate types) and data/README.md ("Modelling the law"), never from
queries/: it walks the curated triples alone for every question, knows nothing of the derived
graph and precomputes nothing. Slow and literal on purpose.

Where the definitions leave a choice, this file makes the one the issue and the README state:
  * a court ruling takes a measure off goods entered before the decision as known from the
    decision, and off goods entered from the decision on (while the duties were still collected,
    until the measure's end) as known from that end;
  * a rule that spares only the trigger's metal content leaves the rest of the value to the
    measure; each metal is spared once, however many rules or triggers spare it;
  * a rate inclusive of MFN adds max(0, T - the base ad valorem rate), and cannot be computed on a
    base that is not purely ad valorem; a rate on a metal content needs that content's share;
    a specific rate adds nothing to the ad valorem total.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from rdflib import RDF, Graph, Literal, URIRef
from rdflib.namespace import SKOS

ID = "https://w3id.org/tariff-kg/id/"
TKG_NS = "https://w3id.org/tariff-kg/ontology#"
ELI_DATE = URIRef("http://data.europa.eu/eli/ontology#date_document")


def tkg(name: str) -> URIRef:
    """A term of the tariff-kg ontology."""
    return URIRef(TKG_NS + name)


SUSPENDED, SUPERSEDED, INVALIDATED = tkg("Suspended"), tkg("Superseded"), tkg("Invalidated")
EXCLUDED_PRODUCT, EXCLUDED_ORIGIN = tkg("ExcludedProduct"), tkg("ExcludedOrigin")
EXEMPT, OTHER_QUOTA, IN_TRANSIT = tkg("ExemptUnderClaim"), tkg("OtherQuotaStatus"), tkg("InTransit")
STACKED_OUT, CONTENT_SPARED = tkg("StackedOut"), tkg("ContentSpared")
METAL = {tkg("SteelContent"): "steel", tkg("AluminumContent"): "aluminum",
         tkg("CopperContent"): "copper"}
QUOTA = {"in": tkg("InQuota"), "over": tkg("OverQuota")}


@dataclass(frozen=True)
class Question:
    """One duty question: goods, origin, entry day, asking day and the facts of the entry."""

    product: str                 # HTS digits, 8 or 10
    origin: str                  # ISO 3166-1 alpha-2
    day: date                    # entered on
    known: date                  # the law as known on
    claim: str | None = None     # special program indicator claimed
    quota: str = "over"
    content: tuple[tuple[str, float], ...] = ()   # (metal, percent of the value)
    loaded: date | None = None   # None: not in transit

    @property
    def shares(self) -> dict[str, float]:
        """The content shares by metal."""
        return dict(self.content)


@dataclass
class Expected:
    """What the law says for one question, in the terms of the answer.

    rows: the duty_on_date rows as (part, measure, rate, kind, reason, reasonBy, trigger,
    ruledUnlawfulBy), kind the base kind for the base row, None elsewhere.
    """

    base: URIRef | None = None
    base_kind: str | None = None
    applied: dict[URIRef, float | None] = field(default_factory=dict)
    not_applied: dict[URIRef, set[tuple]] = field(default_factory=dict)
    unlawful: set[URIRef] = field(default_factory=set)
    gaps: set = field(default_factory=set)
    rows: set[tuple] = field(default_factory=set)
    complete: bool = True
    total: float | None = None
    known_part: float = 0.0


class PlainRules:
    """The law of a graph of curated triples, asked one question at a time."""

    def __init__(self, graph: Graph):
        self.g = graph

    # --- dates and the two time axes ------------------------------------------------------------

    def day_of(self, node, prop) -> date | None:
        """The (first) date a node has for a property."""
        values = sorted(o.toPython() for o in self.g.objects(node, prop) if isinstance(o, Literal))
        return values[0] if values else None

    def known_since(self, thing) -> date | None:
        """From when a thing is law: its enacting act's issue day (no act: always; undated: never).
        """
        acts = list(self.g.objects(thing, tkg("enactedBy")))
        if not acts:
            return date.min
        issued = [d for act in acts if (d := self.day_of(act, ELI_DATE)) is not None]
        return min(issued) if issued else None

    def holds(self, thing, day: date, known: date, needs_start: bool = True) -> bool:
        """[validFrom, validUntil) holds for goods entered on day, as the law was known on known.

        An end set by a later act (tkg:endedBy) is not known before that act: until then the thing
        was open-ended. Measures, pauses and rules need a tkg:validFrom; list entries do not.
        """
        since = self.known_since(thing)
        if since is None or known < since:
            return False
        start = self.day_of(thing, tkg("validFrom"))
        if start is None and needs_start:
            return False
        if start is not None and day < start:
            return False
        end = self.day_of(thing, tkg("validUntil"))
        if end is None or day < end:
            return True
        ended = [self.day_of(act, ELI_DATE) for act in self.g.objects(thing, tkg("endedBy"))]
        return any(d is not None and known < d for d in ended)

    def between(self, node, day: date) -> bool:
        """day is in [validFrom, validUntil) of a node without a known axis (a membership)."""
        start, end = self.day_of(node, tkg("validFrom")), self.day_of(node, tkg("validUntil"))
        return (start is None or start <= day) and (end is None or day < end)

    # --- goods and origins ------------------------------------------------------------------------

    def above(self, node) -> set:
        """The node and everything above it by skos:broader (codes, programs)."""
        seen: set = set()
        todo = [node]
        while todo:
            here = todo.pop()
            if here not in seen:
                seen.add(here)
                todo += list(self.g.objects(here, SKOS.broader))
        return seen

    def goods(self, q: Question) -> set:
        """Every code the goods are under."""
        return self.above(URIRef(f"{ID}hts/{q.product}"))

    def lists(self, product_list, q: Question) -> bool:
        """The list has an entry for a code the goods are under, valid on the day as known."""
        codes = self.goods(q)
        return any(
            any(code in codes for code in self.g.objects(entry, tkg("product")))
            and self.holds(entry, q.day, q.known, needs_start=False)
            for entry in self.g.subjects(tkg("inList"), product_list))

    def in_product_scope(self, provision, q: Question) -> bool:
        """A code the provision names is above the goods, or a list it names lists them."""
        codes = self.goods(q)
        return (any(code in codes for code in self.g.objects(provision, tkg("appliesToProduct")))
                or any(self.lists(lst, q)
                       for lst in self.g.objects(provision, tkg("appliesToProductList"))))

    def reaches(self, scope, q: Question) -> bool:
        """An origin scope (country, group, all countries) reaches the origin on the entry day."""
        origin = URIRef(f"{ID}country/{q.origin}")
        if scope in (origin, tkg("AllCountries")):
            return True
        return any((membership, tkg("group"), scope) in self.g and self.between(membership, q.day)
                   for membership in self.g.subjects(tkg("member"), origin))

    def in_origin_scope(self, provision, q: Question) -> bool:
        """One of the origins the provision names reaches the goods' origin."""
        return any(self.reaches(s, q) for s in self.g.objects(provision, tkg("appliesToOrigin")))

    def in_force(self, provision, q: Question) -> bool:
        """Covers the goods and their origin, and holds on the entry day as known."""
        return (self.in_product_scope(provision, q) and self.in_origin_scope(provision, q)
                and self.holds(provision, q.day, q.known))

    # --- why a measure in force does not apply --------------------------------------------------

    def invalidated(self, measure, decision, q: Question) -> bool:
        """A court decision takes the measure off these goods, as known on the asking day."""
        decided = self.day_of(decision, ELI_DATE)
        if decided is None or q.known < decided:
            return False
        if q.day < decided:
            return True
        end = self.day_of(measure, tkg("validUntil"))
        collected_until = end if end is not None and end > decided else decided
        return q.known >= collected_until

    def reasons(self, measure, q: Question) -> set[tuple]:
        """Every reason other than a stacking rule that the measure in force does not apply."""
        g, found = self.g, set()
        for pause in g.subjects(tkg("suspends"), measure):
            if self.holds(pause, q.day, q.known):
                found.add((SUSPENDED, pause))
        for newer in g.subjects(tkg("supersedes"), measure):
            if self.holds(newer, q.day, q.known):
                found.add((SUPERSEDED, newer))
        for decision in g.objects(measure, tkg("invalidatedBy")):
            if self.invalidated(measure, decision, q):
                found.add((INVALIDATED, decision))
        if any(code in self.goods(q) for code in g.objects(measure, tkg("excludesProduct"))):
            found.add((EXCLUDED_PRODUCT, URIRef(f"{measure}/excluded-products")))
        for lst in g.objects(measure, tkg("excludesProductList")):
            if self.lists(lst, q):
                found.add((EXCLUDED_PRODUCT, lst))
        for scope in g.objects(measure, tkg("excludesOrigin")):
            if self.reaches(scope, q):
                found.add((EXCLUDED_ORIGIN, scope))
        claimed = preference(q.claim)
        for program in g.objects(measure, tkg("exemptUnderClaim")):
            if program == claimed:
                found.add((EXEMPT, program))
        for status in g.objects(measure, tkg("quotaStatus")):
            if status != QUOTA[q.quota]:
                found.add((OTHER_QUOTA, status))
        for exception in g.subjects(tkg("exceptionTo"), measure):
            loaded_before = self.day_of(exception, tkg("loadedBefore"))
            entered_before = self.day_of(exception, tkg("enteredBefore"))
            if (q.loaded is not None and loaded_before is not None and q.loaded < loaded_before
                    and (entered_before is None or q.day < entered_before)):
                found.add((IN_TRANSIT, exception))
        return found

    def measures(self) -> list:
        """Every measure with a scope of its own (the schedule's rate periods are the base)."""
        return [m for m in self.g.subjects(RDF.type, tkg("Measure"))
                if (m, RDF.type, tkg("MFNRate")) not in self.g]

    def programs(self, measure) -> set:
        """The measure's programs and every program above them."""
        programs = self.g.objects(measure, tkg("program"))
        return {above for program in programs for above in self.above(program)}

    def stacking(self, measure, q: Question,
                 applies: dict | None = None) -> set[tuple]:
        """(StackedOut or ContentSpared, rule, trigger) for each stacking rule that takes it off.

        applies: for each measure, whether it applies but for stacking (worked out if not given).
        """
        if applies is None:
            applies = {m: self.in_force(m, q) and not self.reasons(m, q) for m in self.measures()}
        found = set()
        mine = self.programs(measure)
        for rule in self.g.subjects(RDF.type, tkg("StackingRule")):
            if not self.holds(rule, q.day, q.known):
                continue
            if not mine & set(self.g.objects(rule, tkg("excludedProgram"))):
                continue
            trigger_programs = set(self.g.objects(rule, tkg("whenProgramApplies")))
            spares = any(isinstance(v, Literal) and v.toPython() is True
                         for v in self.g.objects(rule, tkg("sparesOnlyTriggerContent")))
            for trigger, applies_but_for_stacking in applies.items():
                if trigger == measure or not self.programs(trigger) & trigger_programs:
                    continue
                # Stacking rules do not chain: the trigger must apply but for stacking.
                if not applies_but_for_stacking:
                    continue
                on_content = self.basis(trigger) in METAL
                found.add((CONTENT_SPARED if spares and on_content else STACKED_OUT, rule, trigger))
        return found

    def basis(self, measure):
        """The part of the value the measure is levied on (tkg:FullValue when not said)."""
        return next(iter(self.g.objects(measure, tkg("rateBasis"))), tkg("FullValue"))

    # --- rates ------------------------------------------------------------------------------------

    def percent(self, node) -> float | None:
        """The ad valorem percent of a rate node, or None."""
        value = next(iter(self.g.objects(node, tkg("adValoremPercent"))), None)
        return float(value) if isinstance(value, Literal) else None

    def rate_type(self, node):
        """The rate type of a rate node."""
        return next(iter(self.g.objects(node, tkg("rateType"))), None)

    def base(self, q: Question) -> tuple:
        """(rate period, rate node, kind): the schedule's own rate for the goods on the day.

        The column 2 rate where General Note 3(b) reaches the origin; else the special rate of the
        program claimed where the line lists it; else the general rate.
        """
        codes = self.goods(q)
        periods = [p for p in self.g.subjects(RDF.type, tkg("MFNRate"))
                   if any(c in codes for c in self.g.objects(p, tkg("appliesToProduct")))
                   and self.holds(p, q.day, q.known)]
        if not periods:
            return None, None, None
        period = periods[0]
        column2 = next(iter(self.g.objects(period, tkg("column2Rate"))), None)
        provisions = self.g.subjects(RDF.type, tkg("Column2Provision"))
        if column2 is not None and any(self.in_force(p, q) for p in provisions):
            return period, column2, "column 2"
        claimed = preference(q.claim)
        for special in self.g.objects(period, tkg("specialRate")):
            if claimed is not None and (special, tkg("underProgram"), claimed) in self.g:
                return period, special, "special"
        return period, period, "general"

    def adds(self, measure, base_percent: float | None, spared: set[str],
             q: Question) -> float | None:
        """What an applied measure adds to the ad valorem total, or None when it cannot be told."""
        kind, percent = self.rate_type(measure), self.percent(measure)
        if kind == tkg("InclusiveOfMFN"):
            if base_percent is None or percent is None:
                return None
            adds = max(0.0, percent - base_percent)
        elif kind in (tkg("AdditionalAdValorem"), tkg("AdValorem"), tkg("Compound")):
            adds = percent or 0.0
        else:
            adds = 0.0
        metal = METAL.get(self.basis(measure))
        if metal is not None:
            if metal not in q.shares:
                return None
            adds = adds * q.shares[metal] / 100
        if spared:
            if not spared <= set(q.shares):
                return None
            adds = adds * (100 - sum(q.shares[m] for m in spared)) / 100
        return round(adds, 6)

    # --- the answer -------------------------------------------------------------------------------

    def answer(self, q: Question) -> Expected:
        """Everything the duty answer must say for the question."""
        out = Expected()
        period, rate, kind = self.base(q)
        base_percent = None
        if period is None:
            out.complete = False
        else:
            out.base, out.base_kind = period, kind
            rtype, percent = self.rate_type(rate), self.percent(rate)
            pure = rtype in (tkg("AdValorem"), tkg("Free")) and percent is not None
            base_percent = percent if pure else None
            with_ad_valorem = rtype in (tkg("AdValorem"), tkg("Free"), tkg("Compound"))
            out.applied[period] = (percent or 0.0) if with_ad_valorem else 0.0
            out.rows.add(("base", period, rate, kind, None, None, None, None))
        in_force = {m: self.reasons(m, q) for m in self.measures() if self.in_force(m, q)}
        applies = {m: not reasons for m, reasons in in_force.items()}
        for measure, reasons in in_force.items():
            blocking = set(reasons)
            stacked = self.stacking(measure, q, applies)
            ruled = [d for d in self.g.objects(measure, tkg("invalidatedBy"))
                     if (decided := self.day_of(d, ELI_DATE)) is not None and decided <= q.known]
            unlawful = ruled[0] if ruled else None
            for reason, by in blocking:
                out.rows.add(("measure", measure, measure, None, reason, by, None, unlawful))
            for reason, rule, trigger in stacked:
                out.rows.add(("measure", measure, measure, None, reason, rule, trigger, unlawful))
            if not blocking and not stacked:
                out.rows.add(("measure", measure, measure, None, None, None, None, unlawful))
            blocking |= {(reason, rule) for reason, rule, _ in stacked if reason == STACKED_OUT}
            if blocking:
                out.not_applied[measure] = blocking
                continue
            spared = {METAL[self.basis(t)] for reason, _, t in stacked if reason == CONTENT_SPARED}
            out.applied[measure] = self.adds(measure, base_percent, spared, q)
            if unlawful is not None:
                out.unlawful.add(measure)
        out.gaps = {gap for gap in self.g.subjects(RDF.type, tkg("CoverageGap"))
                    if self.in_force(gap, q)}
        out.complete = out.complete and not out.gaps and None not in out.applied.values()
        out.known_part = round(sum(v or 0.0 for v in out.applied.values()), 6)
        out.total = out.known_part if out.complete else None
        return out


def preference(claim: str | None) -> URIRef | None:
    """The preference program of a special program indicator (S+ -> preference/S-plus)."""
    if not claim:
        return None
    return URIRef(f"{ID}preference/" + claim.replace("+", "-plus").replace("*", "-star"))

