"""The stored queries on the fixture graph: a golden case for each, the one-definition discipline of
queries/, and the duty answer against a second, plain-Python statement of the law (tests/plain_rules.py)
on a grid of questions.

The fixture graph (tests/fixtures/queries/: mini.ttl, rules.ttl, lists/) is made up: its dates and
rates are not data. It is built as the real store is (ontology, curated triples, derived graph:
tests/fixture_stores.py), in memory.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from datetime import date, timedelta
from itertools import product as cartesian
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from fixture_stores import curated_graph, fixture_store
from plain_rules import (
    CONTENT_SPARED,
    EXCLUDED_ORIGIN,
    EXCLUDED_PRODUCT,
    EXEMPT,
    IN_TRANSIT,
    INVALIDATED,
    OTHER_QUOTA,
    STACKED_OUT,
    SUPERSEDED,
    SUSPENDED,
    Expected,
    PlainRules,
    Question,
)
from rdflib import Literal, URIRef

from kg.duty import REASONS, EntryFacts, duty_answer
from kg.errors import InputError
from kg.queries import (
    QUERY_PARAMETERS,
    compose_query,
    definitions,
    stored_queries,
    stored_query,
    substitute_parameters,
)
from kg.resources import queries_dir

ID = "https://w3id.org/tariff-kg/id/"
TKG_NS = "https://w3id.org/tariff-kg/ontology#"
TODAY = date(2026, 11, 25)  # a fixed "as known today"


def short(term) -> str:
    """A term as a short string: IRIs under the id/ and ontology namespaces abbreviated."""
    return str(term).replace(ID, "").replace(TKG_NS, "tkg:")


@pytest.fixture(scope="module")
def store():
    """The fixture graph in an in-memory store, derived graph included."""
    return fixture_store()


@pytest.fixture(scope="module")
def rules():
    """The plain-Python statement of the law over the fixture's curated triples."""
    return PlainRules(curated_graph())


# ------------------------------------------------------------------------------------------------
# Golden cases: query name -> cases. Each case: params (as a user types them) and the expected rows
# (short strings of every bound variable, or of `columns` only). `set_columns` hold "; "-joined
# lists in no defined order (GROUP_CONCAT). Rows compare as multisets, and in order where the
# query orders them. Every expected row was worked out by hand from the fixture's Turtle.
# ------------------------------------------------------------------------------------------------

DUTY_COLUMNS = ["part", "measure", "rate", "baseKind", "reason", "reasonBy", "trigger", "ruledUnlawfulBy"]


def duty_case(params: dict, rows: list[tuple], **facts) -> dict:
    """A duty_on_date case: the defaults of the entry facts unless given; rows as tuples
    (part, measure, rate, baseKind, reason, reasonBy, trigger, ruledUnlawfulBy), "" for unbound,
    with the distinct rows only (a reason reached two ways is one reason)."""
    given = {"claim": "none", "quota": "over", "loaded": "not in transit", **facts}
    return {"params": {**params, **given}, "columns": DUTY_COLUMNS, "distinct": True,
            "rows": [dict(zip(DUTY_COLUMNS, row)) for row in rows]}


def q(product, origin, day, known):
    return {"product": product, "origin": origin, "date": day, "asKnownOn": known}


BASE_CAR = ("base", "mfn/87032301-a", "mfn/87032301-a", "general", "", "", "", "")


def applied(measure, ruled=""):
    return ("measure", measure, measure, "", "", "", "", ruled)


def stopped(measure, reason, by, trigger="", ruled=""):
    return ("measure", measure, measure, "", reason, by, trigger, ruled)


GOLDEN: dict[str, list[dict]] = {
    "change_days": [
        # Known on 2025-04-05: autos, the baseline and its in-transit deadline, Japan's and the EU's
        # rates, the Annex II shoe entry; Croatia joins the EU on 2025-06-01 (a coverage, no known
        # axis). The pause (issued 2025-04-09) and the computer entry (2025-04-11) are not known yet.
        {"params": {"from": "2025-04-01", "until": "2025-07-01", "asKnownOn": "2025-04-05"},
         "rows": [{"day": d} for d in ["2025-04-03", "2025-04-05", "2025-04-09", "2025-05-01",
                                        "2025-05-27", "2025-06-01"]]},
        # HTS B, the court ruling (entries from the decision are a window of their own), the end of
        # the IEEPA measures and the start and end of Section 122.
        {"params": {"from": "2026-01-01", "until": "2026-12-31", "asKnownOn": "2026-11-25"},
         "rows": [{"day": d} for d in ["2026-01-01", "2026-02-20", "2026-02-24", "2026-07-24"]]},
    ],
    "coverage_gaps": [
        {"params": q("6402.99.42", "HR", "2025-06-01", "2025-06-01"),
         "rows": [{"gap": "gap/eu-shoes", "authority": "authority/section-301",
                   "comment": "a made-up duty on EU shoes that the fixture does not model"}]},
        # Croatia is not yet a member; the gap ends on 2025-09-01; not an EU origin; other goods.
        {"params": q("6402.99.42", "HR", "2025-05-31", "2025-06-01"), "rows": []},
        {"params": q("6402.99.42", "DE", "2025-09-01", "2025-09-01"), "rows": []},
        {"params": q("6402.99.42", "JP", "2025-07-01", "2025-07-01"), "rows": []},
        {"params": q("9503.00.00", "DE", "2025-07-01", "2025-07-01"), "rows": []},
    ],
    "data_reach": [{
        "params": {},
        "rows": [{"layer": "schedule", "instrument": "instrument/hts-b", "identifier": "HTS B",
                  "issued": "2026-01-01"},
                 {"layer": "acts", "instrument": "instrument/end", "identifier": "Ending order",
                  "issued": "2026-02-21"}],
    }],
    "describe": [{
        "params": {"node": " ".join(ID + n for n in ["measure/autos", "country/JP", "measure/jp15-inclusive",
                                                     "list/annex2", "hts/87032301"])
                   + " https://example.org/nothing"},
        "rows": [
            {"node": "measure/autos", "label": "232 autos", "source": "instrument/autos",
             "citation": "Autos proclamation", "page": "https://example.org/autos"},
            {"node": "country/JP", "label": "Japan"},
            {"node": "measure/jp15-inclusive", "label": "Japan 15 inclusive", "source": "instrument/recip",
             "citation": "Reciprocal order"},
            {"node": "measure/jp15-inclusive", "label": "Japan 15 inclusive", "source": "instrument/inclusive",
             "citation": "Inclusive order"},
            {"node": "list/annex2", "label": "annex II", "source": "instrument/recip", "citation": "Reciprocal order"},
            {"node": "list/annex2", "label": "annex II", "source": "instrument/annex-amend",
             "citation": "Annex amendment"},
            {"node": "list/annex2", "label": "annex II", "source": "instrument/annex-cut", "citation": "Annex cut"},
            {"node": "hts/87032301", "label": "8703.23.01"},  # no rdfs:label: its notation
            {"node": "https://example.org/nothing"},
        ],
    }],
    "duty_on_date": [
        # A Japanese car during the pause: autos applies; the baseline and Japan's paused rate are
        # off it under Section 232, Japan's rate is also suspended (every reason is listed).
        duty_case(q("8703.23.01", "JP", "2025-05-01", "2025-05-01"), [
            BASE_CAR, applied("measure/autos"),
            stopped("measure/baseline", "tkg:StackedOut", "rule/recip-vs-232", "measure/autos"),
            stopped("measure/jp24", "tkg:StackedOut", "rule/recip-vs-232", "measure/autos"),
            stopped("measure/jp24", "tkg:Suspended", "pause/jp"),
        ]),
        # Regression (issue 8): the EU's 15% inclusive rate reaches Germany through the group, so
        # "no baseline where a country rate applies" takes the baseline off: 15%, not 25%.
        duty_case(q("9503.00.00", "DE", "2025-09-01", "2025-09-01"), [
            ("base", "mfn/95030000-a", "mfn/95030000-a", "general", "", "", "", ""),
            applied("measure/eu15"),
            stopped("measure/baseline", "tkg:StackedOut", "rule/baseline-vs-country", "measure/eu15"),
        ]),
        # Regression (issue 8): the steel list lists 7208 only from 2025-10-01, so on 2025-09-01
        # Section 232 steel is not in force and the baseline applies (the UK has left the EU).
        duty_case(q("7208.51.00", "GB", "2025-09-01", "2025-09-01"), [
            ("base", "mfn/72085100-a", "mfn/72085100-a", "general", "", "", "", ""),
            applied("measure/baseline"),
        ]),
        duty_case(q("7208.51.00", "GB", "2025-10-01", "2025-10-01"), [
            ("base", "mfn/72085100-a", "mfn/72085100-a", "general", "", "", "", ""),
            applied("measure/steel"),
            stopped("measure/baseline", "tkg:StackedOut", "rule/recip-vs-232", "measure/steel"),
        ]),
        # ... and as known before the notice listing it (2025-08-15) it was not listed at all.
        duty_case(q("7208.51.00", "GB", "2025-10-01", "2025-08-01"), [
            ("base", "mfn/72085100-a", "mfn/72085100-a", "general", "", "", "", ""),
            applied("measure/baseline"),
        ]),
        # A Canadian car entered under the North American agreement (S), loaded before the
        # baseline began: the special rate; Canada's duty exempt under the claim; the baseline
        # off for three reasons.
        duty_case(q("8703.23.01", "CA", "2025-05-15", "2025-05-15"), [
            ("base", "mfn/87032301-a", "rate/special-free-kr-s", "special", "", "", "", ""),
            applied("measure/autos"),
            stopped("measure/baseline", "tkg:ExcludedOrigin", "country/CA"),
            stopped("measure/baseline", "tkg:InTransit", "exception/baseline-in-transit"),
            stopped("measure/baseline", "tkg:StackedOut", "rule/recip-vs-232", "measure/autos"),
            stopped("measure/fent-ca", "tkg:ExemptUnderClaim", "preference/S"),
        ], claim="S", loaded="2025-04-01"),
        # The same car, claimed under a program the line does not list: the general rate.
        duty_case(q("8703.23.01", "CA", "2025-05-15", "2025-05-15"), [
            BASE_CAR, applied("measure/autos"), applied("measure/fent-ca"),
            stopped("measure/baseline", "tkg:ExcludedOrigin", "country/CA"),
            stopped("measure/baseline", "tkg:StackedOut", "rule/recip-vs-232", "measure/autos"),
        ], claim="AU"),
        # A British car in quota, 2025-08-10 (the UK still in the EU): the in-quota rate replaces
        # the general autos duty; the over-quota measure is for the other status; the reciprocal
        # rates are off it under Section 232 (every trigger is named).
        duty_case(q("8703.23.01.10", "GB", "2025-08-10", "2025-08-10"), [
            BASE_CAR, applied("measure/autos-gb-in"),
            stopped("measure/autos-gb-over", "tkg:OtherQuotaStatus", "tkg:OverQuota"),
            stopped("measure/autos", "tkg:StackedOut", "rule/autos-gb", "measure/autos-gb-in"),
            stopped("measure/baseline", "tkg:StackedOut", "rule/recip-vs-232", "measure/autos-gb-in"),
            stopped("measure/baseline", "tkg:StackedOut", "rule/recip-vs-232", "measure/autos"),
            stopped("measure/baseline", "tkg:StackedOut", "rule/baseline-vs-country", "measure/eu15"),
            stopped("measure/eu15", "tkg:StackedOut", "rule/recip-vs-232", "measure/autos-gb-in"),
            stopped("measure/eu15", "tkg:StackedOut", "rule/recip-vs-232", "measure/autos"),
        ], quota="in"),
        # A steel article from the UK after it left the EU: both derivative duties apply on their
        # content; the baseline is spared only that content, by two rules for the steel.
        duty_case(q("7326.90.86", "GB", "2025-09-01", "2025-09-01"), [
            ("base", "mfn/73269086-a", "mfn/73269086-a", "general", "", "", "", ""),
            applied("measure/steel-derivs"), applied("measure/alu-derivs"),
            stopped("measure/baseline", "tkg:ContentSpared", "rule/recip-spares-metal", "measure/steel-derivs"),
            stopped("measure/baseline", "tkg:ContentSpared", "rule/recip-spares-metal", "measure/alu-derivs"),
            stopped("measure/baseline", "tkg:ContentSpared", "rule/baseline-spares-steel", "measure/steel-derivs"),
        ]),
        # A Japanese toy of 2025-08-20, asked on three days: Japan's 15% on top; then the 15%
        # inclusive that replaced it retroactively (issued 2025-09-04); today all invalidated.
        duty_case(q("9503.00.00", "JP", "2025-08-20", "2025-08-20"), [
            ("base", "mfn/95030000-a", "mfn/95030000-a", "general", "", "", "", ""),
            applied("measure/jp15"),
            stopped("measure/baseline", "tkg:StackedOut", "rule/baseline-vs-country", "measure/jp15"),
        ]),
        duty_case(q("9503.00.00", "JP", "2025-08-20", "2025-09-10"), [
            ("base", "mfn/95030000-a", "mfn/95030000-a", "general", "", "", "", ""),
            applied("measure/jp15-inclusive"),
            stopped("measure/jp15", "tkg:Superseded", "measure/jp15-inclusive"),
            stopped("measure/baseline", "tkg:StackedOut", "rule/baseline-vs-country", "measure/jp15-inclusive"),
        ]),
        duty_case(q("9503.00.00", "JP", "2025-08-20", "2026-11-25"), [
            ("base", "mfn/95030000-a", "mfn/95030000-a", "general", "", "", "", ""),
            stopped("measure/jp15-inclusive", "tkg:Invalidated", "instrument/court", ruled="instrument/court"),
            stopped("measure/jp15", "tkg:Invalidated", "instrument/court", ruled="instrument/court"),
            stopped("measure/jp15", "tkg:Superseded", "measure/jp15-inclusive", ruled="instrument/court"),
            stopped("measure/baseline", "tkg:Invalidated", "instrument/court", ruled="instrument/court"),
        ]),
        # Entered after the ruling while the duties were still collected (until 2026-02-24): as
        # applied they apply, ruled unlawful; as known from 2026-02-24 they are invalidated.
        duty_case(q("9503.00.00", "JP", "2026-02-22", "2026-02-22"), [
            ("base", "mfn/95030000-a", "mfn/95030000-a", "general", "", "", "", ""),
            applied("measure/jp15-inclusive", ruled="instrument/court"),
            stopped("measure/jp15", "tkg:Superseded", "measure/jp15-inclusive", ruled="instrument/court"),
            stopped("measure/baseline", "tkg:StackedOut", "rule/baseline-vs-country", "measure/jp15-inclusive",
                    ruled="instrument/court"),
        ]),
        duty_case(q("9503.00.00", "JP", "2026-02-22", "2026-02-24"), [
            ("base", "mfn/95030000-a", "mfn/95030000-a", "general", "", "", "", ""),
            stopped("measure/jp15-inclusive", "tkg:Invalidated", "instrument/court", ruled="instrument/court"),
            stopped("measure/jp15", "tkg:Invalidated", "instrument/court", ruled="instrument/court"),
            stopped("measure/jp15", "tkg:Superseded", "measure/jp15-inclusive", ruled="instrument/court"),
            stopped("measure/baseline", "tkg:Invalidated", "instrument/court", ruled="instrument/court"),
        ]),
        # Annex II lists computers from 2025-04-05 by an act of 2025-04-11, until 2025-11-01 by an
        # act of 2025-10-20: a British computer of 2025-11-15 is excepted as known before the cut.
        duty_case(q("8471.30.01", "GB", "2025-11-15", "2025-10-15"), [
            ("base", "mfn/84713001-a", "mfn/84713001-a", "general", "", "", "", ""),
            stopped("measure/baseline", "tkg:ExcludedProduct", "list/annex2"),
        ]),
        duty_case(q("8471.30.01", "GB", "2025-11-15", "2025-10-25"), [
            ("base", "mfn/84713001-a", "mfn/84713001-a", "general", "", "", "", ""),
            applied("measure/baseline"),
        ]),
        # ... and not excepted at all as known before the act that listed them (2025-04-11). The
        # UK, still in the EU, has the EU's 20% in force, suspended.
        duty_case(q("8471.30.01", "GB", "2025-04-20", "2025-04-10"), [
            ("base", "mfn/84713001-a", "mfn/84713001-a", "general", "", "", "", ""),
            applied("measure/baseline"),
            stopped("measure/eu20", "tkg:Suspended", "pause/eu"),
        ]),
        # Cuba: the column 2 rate; Section 122 does not reach the column 2 group; computers are out
        # of Section 122 by a code the measure itself excludes.
        duty_case(q("9503.00.00", "CU", "2026-03-01", "2026-03-01"), [
            ("base", "mfn/95030000-a", "rate/c2-70", "column 2", "", "", "", ""),
            stopped("measure/s122", "tkg:ExcludedOrigin", "group/column-2"),
        ]),
        duty_case(q("8471.30.01", "JP", "2026-03-01", "2026-03-01"), [
            ("base", "mfn/84713001-a", "mfn/84713001-a", "general", "", "", "", ""),
            stopped("measure/s122", "tkg:ExcludedProduct", "measure/s122/excluded-products"),
        ]),
        # A French good: the EU's 20% excepts France (an origin excluded inside a group).
        duty_case(q("9503.00.00", "FR", "2025-04-09", "2025-04-09"), [
            ("base", "mfn/95030000-a", "mfn/95030000-a", "general", "", "", "", ""),
            applied("measure/baseline"),
            stopped("measure/eu20", "tkg:ExcludedOrigin", "country/FR"),
        ]),
    ],
    "instruments": [{
        "params": {},
        "columns": ["instrument", "kind", "signed"],
        "rows": [{"instrument": f"instrument/{key}", "kind": f"tkg:{kind}", "signed": day} for key, kind, day in [
            ("gn3b", "HTSRevision", "2025-01-01"), ("hts-a", "HTSRevision", "2025-01-01"),
            ("steel", "Proclamation", "2025-02-10"), ("fent", "ExecutiveOrder", "2025-03-02"),
            ("autos", "Proclamation", "2025-03-26"), ("recip", "ExecutiveOrder", "2025-04-02"),
            ("pause", "ExecutiveOrder", "2025-04-09"), ("annex-amend", "ExecutiveOrder", "2025-04-11"),
            ("derivs", "Proclamation", "2025-06-03"), ("gb-deal", "Proclamation", "2025-06-16"),
            ("extend", "ExecutiveOrder", "2025-07-07"), ("deal", "Agreement", "2025-07-22"),
            ("rate15", "ExecutiveOrder", "2025-07-31"), ("steel-list", "FederalRegisterNotice", "2025-08-15"),
            ("inclusive", "ExecutiveOrder", "2025-09-04"), ("annex-cut", "ExecutiveOrder", "2025-10-20"),
            ("hts-b", "HTSRevision", "2026-01-01"), ("court", "CourtDecision", "2026-02-20"),
            ("s122", "Proclamation", "2026-02-20"), ("end", "ExecutiveOrder", "2026-02-21"),
        ]]}, {
        "params": {},
        "columns": ["instrument", "identifier", "title", "signed", "effective", "page"],
        "filter": {"instrument": ["instrument/autos", "instrument/deal", "instrument/hts-b"]},
        "rows": [
            {"instrument": "instrument/autos", "identifier": "Autos proclamation", "signed": "2025-03-26",
             "effective": "2025-04-03", "page": "https://example.org/autos"},
            {"instrument": "instrument/deal", "identifier": "Fixture deal", "title": "A made-up framework agreement",
             "signed": "2025-07-22", "page": "https://example.org/deal"},
            {"instrument": "instrument/hts-b", "identifier": "HTS B", "signed": "2026-01-01",
             "effective": "2026-01-01"},
        ]},
    ],
    "measures_in_force": [
        # Germany on 2025-09-01: what is in force for the origin, whatever the goods.
        {"params": {"origin": "DE", "date": "2025-09-01", "asKnownOn": "2025-09-01"},
         "columns": ["measure", "reason", "reasonBy"],
         "rows": [{"measure": f"measure/{m}"} for m in
                  ["baseline", "eu15", "alu-derivs", "autos", "steel", "steel-derivs"]]},
        # The UK in quota on 2025-08-10: the over-quota measure stops for any goods; no coverage
        # gap is listed as a measure.
        {"params": {"origin": "GB", "date": "2025-08-10", "asKnownOn": "2025-08-10", "quota": "in"},
         "columns": ["measure", "reason", "reasonBy"],
         "rows": [{"measure": f"measure/{m}"} for m in ["baseline", "eu15", "alu-derivs", "autos", "autos-gb-in"]]
                 + [{"measure": "measure/autos-gb-over", "reason": "tkg:OtherQuotaStatus", "reasonBy": "tkg:OverQuota"}]
                 + [{"measure": "measure/steel"}, {"measure": "measure/steel-derivs"}]},
        # Canada under a claim of S, loaded before the baseline began.
        {"params": {"origin": "CA", "date": "2025-05-15", "asKnownOn": "2025-05-15", "claim": "S",
                    "loaded": "2025-04-01"},
         "columns": ["measure", "reason", "reasonBy"],
         "rows": [{"measure": "measure/baseline", "reason": "tkg:ExcludedOrigin", "reasonBy": "country/CA"},
                  {"measure": "measure/baseline", "reason": "tkg:InTransit", "reasonBy": "exception/baseline-in-transit"},
                  {"measure": "measure/fent-ca", "reason": "tkg:ExemptUnderClaim", "reasonBy": "preference/S"},
                  {"measure": "measure/autos"}, {"measure": "measure/steel"}]},
        # The extension of the pause (issued 2025-07-07) is not known on 2025-07-01.
        {"params": {"origin": "JP", "date": "2025-07-20", "asKnownOn": "2025-07-01"},
         "columns": ["measure", "reason", "reasonBy"],
         "rows": [{"measure": f"measure/{m}"} for m in
                  ["baseline", "jp24", "alu-derivs", "autos", "steel", "steel-derivs"]]},
        {"params": {"origin": "JP", "date": "2025-07-20", "asKnownOn": "2025-07-20"},
         "columns": ["measure", "reason", "reasonBy"],
         "rows": [{"measure": "measure/baseline"},
                  {"measure": "measure/jp24", "reason": "tkg:Suspended", "reasonBy": "pause/jp-ext"}]
                 + [{"measure": f"measure/{m}"} for m in ["alu-derivs", "autos", "steel", "steel-derivs"]]},
        # One full row: the description of a measure.
        {"params": {"origin": "CU", "date": "2025-03-20", "asKnownOn": "2025-03-20"},
         "rows": [{"measure": "measure/steel", "label": "232 steel", "authority": "authority/section-232",
                   "program": "program/s232-steel", "rateType": "tkg:AdditionalAdValorem", "adValorem": "25"}]},
    ],
    "negotiations": [
        {"params": {"jurisdiction": "Japan"},
         "set_columns": ["participants", "topics", "ledTo"],
         "rows": [
             {"event": "event/round-1", "day": "2025-04-16", "label": "First round",
              "place": "Washington", "outcome": "Agreed to talk again",
              "participants": "Negotiator A (lead); Negotiator B", "topics": "autos; rates", "ledTo": "Second round"},
             {"event": "event/round-2", "day": "2025-07-22", "label": "Second round", "ledTo": "Fixture deal"},
         ]},
        {"params": {"jurisdiction": "US"},
         "set_columns": ["participants", "topics", "ledTo"],
         "rows": [
             {"event": "event/round-1", "day": "2025-04-16", "label": "First round",
              "place": "Washington", "outcome": "Agreed to talk again",
              "participants": "Negotiator A (lead); Negotiator B", "topics": "autos; rates", "ledTo": "Second round"},
         ]},
        {"params": {"jurisdiction": "CA"}, "rows": []},
    ],
    "origin_measures": [
        {"params": {"origin": "JP"},
         "rows": [{"measure": "measure/jp24", "label": "Japan 24", "scope": "country/JP", "validFrom": "2025-04-09"},
                  {"measure": "measure/jp15", "label": "Japan 15 on top", "scope": "country/JP",
                   "validFrom": "2025-08-07"},
                  {"measure": "measure/jp15-inclusive", "label": "Japan 15 inclusive", "scope": "country/JP",
                   "validFrom": "2025-08-07"},
                  {"measure": "measure/autos-jp", "label": "232 autos Japan", "scope": "country/JP",
                   "validFrom": "2025-09-16"}]},
        # Through the EU group (a member from 2025-06-01).
        {"params": {"origin": "Croatia"},
         "columns": ["measure", "scope"],
         "rows": [{"measure": "measure/eu20", "scope": "group/eu"}, {"measure": "measure/eu15", "scope": "group/eu"}]},
        {"params": {"origin": "GB"},
         "columns": ["measure", "scope"],
         "rows": [{"measure": "measure/eu20", "scope": "group/eu"},
                  {"measure": "measure/autos-gb-in", "scope": "country/GB"},
                  {"measure": "measure/autos-gb-over", "scope": "country/GB"},
                  {"measure": "measure/eu15", "scope": "group/eu"}]},
        # Measures for all countries are not "of" an origin; an exclusion does not name one.
        {"params": {"origin": "US"}, "rows": []},
        {"params": {"origin": "CU"}, "rows": []},
    ],
    "pauses": [{
        "params": {},
        "rows": [
            {"pause": "pause/eu", "label": "EU pause", "measure": "measure/eu20", "measureLabel": "EU 20",
             "validFrom": "2025-04-10", "validUntil": "2025-08-07", "instrument": "instrument/pause",
             "citation": "Pause order"},
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
         "rows": [{"notation": "8703.23.01", "description": "Cars of 1500-3000 cc", "broader": "hts/870323",
                   "validFrom": "2025-01-01"}]},
        {"params": {"product": "8703230110"},
         "rows": [{"notation": "8703.23.01.10", "broader": "hts/87032301"}]},
        {"params": {"product": "9999.99.99"}, "rows": []},
    ],
    # The queries behind the broker's answers (issue 13): the lines of a heading, the acts behind
    # measures, an origin's coverage gaps and the days a timeline asks.
    "lines_under": [
        # 8703 on 2025-05-01: its 8-digit line and that line's statistical line; no scope names
        # either itself (the autos measure names the heading).
        {"params": {"code": "8703", "date": "2025-05-01"},
         "rows": [{"line": "hts/87032301", "notation": "8703.23.01", "digits": "8",
                   "description": "Cars of 1500-3000 cc", "scoped": "false"},
                  {"line": "hts/8703230110", "notation": "8703.23.01.10", "digits": "10",
                   "scoped": "false"}]},
        {"params": {"code": "9503", "date": "2025-05-01"},
         "rows": [{"line": "hts/95030000", "notation": "9503.00.00", "digits": "8",
                   "scoped": "false"}]},
    ],
    "acts_of": [
        {"params": {"node": " ".join(ID + m for m in ["measure/autos", "measure/jp15",
                                                        "measure/jp15-inclusive"])},
         "rows": [{"node": "measure/autos", "enactedBy": "instrument/autos",
                   "enacted": "Autos proclamation", "enactedOn": "2025-03-26"},
                  {"node": "measure/jp15", "enactedBy": "instrument/rate15",
                   "enacted": "Fifteen percent order", "enactedOn": "2025-07-31",
                   "endedBy": "instrument/end", "ended": "Ending order", "endedOn": "2026-02-21"},
                  {"node": "measure/jp15-inclusive", "enactedBy": "instrument/inclusive",
                   "enacted": "Inclusive order", "enactedOn": "2025-09-04",
                   "endedBy": "instrument/end", "ended": "Ending order", "endedOn": "2026-02-21"}]},
    ],
    "origin_gaps": [
        # Croatia joins the EU on 2025-06-01: the EU shoes gap reaches it from then, whatever the
        # goods; not the day before; no longer from 2025-09-01.
        {"params": {"origin": "HR", "date": "2025-06-01", "asKnownOn": "2025-06-01"},
         "rows": [{"gap": "gap/eu-shoes", "label": "EU shoes", "authority": "authority/section-301",
                   "comment": "a made-up duty on EU shoes that the fixture does not model"}]},
        {"params": {"origin": "HR", "date": "2025-05-31", "asKnownOn": "2025-06-01"}, "rows": []},
        {"params": {"origin": "DE", "date": "2025-09-01", "asKnownOn": "2025-09-01"}, "rows": []},
    ],
    "duty_change_days": [
        # A Japanese car, April to September 2025: entry days of the autos measure (2025-04-03),
        # the baseline (2025-04-05) and its in-transit deadline (2025-05-27), Japan's rates and
        # pause; known days of the orders that are retroactive or end later (the inclusive rate
        # of 2025-09-04 reaches back to entries from 2025-08-07).
        {"params": {"product": "8703.23.01", "origin": "JP", "from": "2025-04-01",
                    "until": "2025-10-01"},
         "columns": ["day", "axis"], "distinct": True,
         "rows": [{"day": d, "axis": a} for d, a in [
             ("2025-04-02", "known"), ("2025-04-03", "entry"), ("2025-04-05", "entry"),
             ("2025-04-09", "known"), ("2025-04-09", "entry"), ("2025-04-10", "entry"),
             ("2025-05-27", "entry"), ("2025-06-03", "known"), ("2025-06-04", "entry"),
             ("2025-06-16", "known"), ("2025-06-30", "entry"), ("2025-07-07", "known"),
             ("2025-07-09", "entry"), ("2025-07-31", "known"), ("2025-08-07", "entry"),
             ("2025-09-04", "known"), ("2025-09-16", "entry")]]},
    ],
}


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
        if value != "":
            out[key] = value
    return out


def _freeze(row: dict) -> tuple:
    return tuple(sorted(row.items()))


CASES = [pytest.param(name, i, id=f"{name}-{i}") for name, cases in GOLDEN.items() for i in range(len(cases))]


@pytest.mark.parametrize("name,index", CASES)
def test_golden(store, name, index):
    case = GOLDEN[name][index]
    query = stored_query(name)
    columns, set_columns = case.get("columns"), case.get("set_columns", [])
    rows = store.select(query.bound_text(case["params"]), {})
    actual = [_normalise(r, columns, set_columns) for r in rows]
    for key, wanted in case.get("filter", {}).items():
        actual = [r for r in actual if r.get(key) in wanted]
    expected = [_normalise(r, columns, set_columns) for r in case["rows"]]
    if case.get("distinct"):
        assert set(map(_freeze, actual)) == set(map(_freeze, expected))
    else:
        assert Counter(map(_freeze, actual)) == Counter(map(_freeze, expected))
    order = _order_keys(query.text)
    if order and not case.get("distinct"):
        key = [k for k in order if columns is None or k in columns]
        assert [tuple(r.get(k) for k in key) for r in actual] == [tuple(r.get(k) for k in key) for r in expected]


def test_every_stored_query_has_a_golden_case():
    names = set(stored_queries())
    assert names - set(GOLDEN) == set(), "stored queries without a golden case in GOLDEN"
    assert set(GOLDEN) - names == set(), "golden cases for queries that do not exist"
    assert all(GOLDEN[name] for name in names)


# ------------------------------------------------------------------------------------------------
# What a stored query's header promises, and that it runs once its parameters are written in.
# ------------------------------------------------------------------------------------------------

SAMPLE = {"hts": "8703.23.01", "country": "JP", "date": "2025-05-01", "iri": "https://example.org/x",
          "iris": "https://example.org/x https://example.org/y", "string": "x", "preference": "KR",
          "quota": "in"}


@pytest.mark.parametrize("name", sorted(p.stem for p in queries_dir().glob("*.rq")))
def test_header_names_its_parameters(name):
    source = (queries_dir() / f"{name}.rq").read_text(encoding="utf-8")
    query = stored_query(name)
    header = "\n".join(line for line in source.splitlines() if line.startswith("#") and not line.startswith("#include"))
    body = "\n".join(line for line in query.text.splitlines() if not line.lstrip().startswith("#"))
    declared = [p.name for p in query.parameters]
    assert query.description.startswith(f"{name}:"), "the first header line names the query"
    assert ("# Parameters (name, kind, meaning):" in header) == bool(declared)
    assert ("Parameters: none." in header) == (not declared)
    assert len(set(declared)) == len(declared)
    assert "Returns" in header, "the header says what the rows are"
    select = re.search(r"SELECT(.*?)WHERE", body, re.DOTALL).group(1)
    for parameter in query.parameters:
        assert re.search(rf"\?{parameter.name}\b", body), f"?{parameter.name} is declared but not used"
        if parameter.kind == "iris":  # several values: a row of VALUES, and a column
            assert re.search(rf"VALUES \?{parameter.name} \{{ UNDEF \}}", body)
        else:  # one value, written into the query as a term: it cannot also be a column
            assert not re.search(rf"\?{parameter.name}\b", select), f"?{parameter.name} is returned"
    optional = {p.name for p in query.parameters if p.default is not None}
    for case in GOLDEN.get(name, []):
        assert set(case["params"]) <= set(declared)
        assert set(declared) - set(case["params"]) <= optional


@pytest.mark.parametrize("name", sorted(stored_queries()))
def test_every_stored_query_runs_once_its_parameters_are_written_in(name):
    """The bound text is SPARQL (a parameter written into GROUP BY, say, would not be)."""
    query = stored_query(name)
    text = query.bound_text({p.name: SAMPLE[p.kind] for p in query.parameters if not p.default})
    assert not re.search(r"\bUNDEF\b", text)
    ox.Store().query(text)  # parses and runs on an empty store


def test_binding_errors_name_the_parameter():
    query = stored_query("duty_on_date")
    with pytest.raises(InputError, match="needs parameter date"):
        query.bind({"product": "8703.23.01", "origin": "JP"})
    with pytest.raises(InputError, match="has no parameter colour"):
        query.bind({"product": "8703.23.01", "origin": "JP", "date": "2025-05-01", "colour": "red"})
    with pytest.raises(InputError, match="parameter quota"):
        query.bind({"product": "8703.23.01", "origin": "JP", "date": "2025-05-01", "quota": "half"})
    with pytest.raises(InputError, match="parameter claim"):
        query.bind({"product": "8703.23.01", "origin": "JP", "date": "2025-05-01", "claim": "K R"})


def test_the_entry_facts_have_defaults_that_the_header_states():
    declared = {p.name: p for p in stored_query("duty_on_date").parameters}
    assert {name: declared[name].default for name in ("asKnownOn", "claim", "quota", "loaded")} == {
        "asKnownOn": "today", "claim": "none", "quota": "over", "loaded": "not in transit"}
    assert declared["product"].default is None and declared["date"].default is None


# ------------------------------------------------------------------------------------------------
# One definition of "in force": the stored queries read the derived graph only through
# queries/definitions/, and never compare the question's days themselves.
# ------------------------------------------------------------------------------------------------

# The terms that state scope and time: the derived graph's, and the curated scope terms they come from.
IN_FORCE_TERMS = [
    "tkg:window", "tkg:entryFrom", "tkg:entryUntil", "tkg:knownFrom", "tkg:knownUntil",
    "tkg:originCoverage", "tkg:originExclusion", "tkg:coveredCountry", "tkg:coveredScope",
    "tkg:coveredFrom", "tkg:coveredUntil", "tkg:productScope", "tkg:productExclusion", "tkg:scopeOf",
    "tkg:scopeCode", "tkg:within", "tkg:notAppliedWhen", "tkg:excludableBy", "tkg:triggers",
    "tkg:appliesToOrigin", "tkg:excludesOrigin", "tkg:appliesToProduct", "tkg:appliesToProductList",
    "tkg:excludesProduct", "tkg:excludesProductList", "tkg:member", "tkg:inList",
]


def _code(path: Path) -> str:
    """The SPARQL of a query file without its comment lines (#include lines are not code)."""
    return "\n".join(line for line in path.read_text(encoding="utf-8").splitlines()
                     if not line.lstrip().startswith("#"))


def _filters(text: str) -> list[str]:
    """Every FILTER(...) expression of a query text, parentheses balanced."""
    found = []
    for match in re.finditer(r"\bFILTER\s*\(", text):
        depth, i = 1, match.end()
        while depth and i < len(text):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        found.append(text[match.start():i])
    return found


@pytest.mark.parametrize("path", sorted(queries_dir().glob("*.rq")), ids=lambda p: p.stem)
def test_no_stored_query_restates_in_force(path):
    code = _code(path)
    restated = [term for term in IN_FORCE_TERMS if re.search(re.escape(term) + r"\b", code)]
    assert not restated, f"{path.name} uses {restated}: include a definition of queries/definitions/ instead"
    own_day_tests = [f for f in _filters(code) if re.search(r"\?(date|asKnownOn)\b", f)]
    assert not own_day_tests, f"{path.name} compares the question's days itself: {own_day_tests}"


def test_the_in_force_terms_live_in_definitions_and_rules():
    """The terms a stored query may not use are the ones the definitions (and rules) do use."""
    used = "\n".join(_code(p) for folder in ("definitions", "rules") for p in (queries_dir() / folder).glob("*.rq"))
    assert [t for t in IN_FORCE_TERMS if not re.search(re.escape(t) + r"\b", used)] == []


@pytest.mark.parametrize("name", sorted(stored_queries()))
def test_a_query_that_asks_about_a_day_includes_its_definitions(name):
    source = (queries_dir() / f"{name}.rq").read_text(encoding="utf-8")
    parameters = {p.name for p in stored_query(name).parameters}
    includes = re.findall(r"^\s*#include\s+(\w+)\(", source, re.MULTILINE)
    if parameters & {"date", "asKnownOn"}:
        assert includes, f"{name} asks about a day without a definition of queries/definitions/"
    assert set(includes) <= set(definitions())


def test_every_definition_declares_what_it_reads_and_is_used():
    sources = {name: (queries_dir() / "definitions" / f"{name}.rq").read_text(encoding="utf-8")
               for name in definitions()}
    used = set()
    for path in [*queries_dir().glob("*.rq"), *(queries_dir() / "definitions").glob("*.rq")]:
        used |= set(re.findall(r"^\s*#include\s+(\w+)\(", path.read_text(encoding="utf-8"), re.MULTILINE))
    assert set(definitions()) - used == set(), "definitions no query includes"
    for name, definition in definitions().items():
        source = sources[name]
        assert source.startswith(f"# {name}: "), name
        declared = re.search(r"^# Parameters:(.*)$", source, re.MULTILINE)
        assert definition.arguments, f"{name} declares no # Arguments:"
        composed = compose_query(f"#include {name}({' '.join('?' + a for a in definition.arguments)})")
        reads = {v for v in re.findall(r"\?(\w+)", composed) if v in QUERY_PARAMETERS}
        assert set(re.findall(r"\?(\w+)", declared.group(1) if declared else "")) == reads, name


# ------------------------------------------------------------------------------------------------
# The duty answer against the plain rules, question by question.
# ------------------------------------------------------------------------------------------------

REASON_TERM = {text: term for term, text in REASONS.items()}


class Recording:
    """A backend that keeps the rows of the last duty_on_date query it ran."""

    def __init__(self, inner):
        self.inner = inner
        self.duty_rows: list[dict] = []

    def select(self, text, bindings=None):
        rows = self.inner.select(text, bindings)
        if '"base" AS ?part' in text:
            self.duty_rows = rows
        return rows


def differences(store, rules: PlainRules, question: Question, want: Expected | None = None) -> list[str]:
    """How the duty answer (and the rows of duty_on_date under it) differ from the plain rules."""
    backend = Recording(store)
    facts = EntryFacts(claim=question.claim, quota=question.quota, content=question.shares,
                       loaded=question.loaded)
    answer = duty_answer(backend, question.product, question.origin, question.day, question.known, facts)
    want = want or rules.answer(question)
    got: dict[str, Any] = {
        "applied": {URIRef(c.measure): c.ad_valorem_percent for c in answer.components},
        "not applied": {URIRef(n.measure): {(REASON_TERM[r.reason], URIRef(r.by or "")) for r in n.reasons}
                        for n in answer.not_applied},
        "total": answer.total_ad_valorem_percent, "complete": answer.coverage.complete,
        "known part": answer.known_part_percent,
        "gaps": {URIRef(g["gap"]) for g in answer.coverage.gaps},
        "ruled unlawful": {URIRef(c.measure) for c in answer.components
                           if any("refundable" in note for note in c.notes)},
        "rows": {(str(r["part"]), r["measure"], r.get("rate"), str(r["baseKind"]) if "baseKind" in r else None,
                  r.get("reason"), r.get("reasonBy"), r.get("trigger"), r.get("ruledUnlawfulBy"))
                 for r in backend.duty_rows},
    }
    wanted: dict[str, Any] = {"applied": want.applied, "not applied": want.not_applied, "total": want.total,
              "complete": want.complete, "known part": want.known_part, "gaps": want.gaps,
              "ruled unlawful": want.unlawful, "rows": want.rows}
    out = []
    for key, value in wanted.items():
        if got[key] != value:
            if isinstance(value, set):
                out.append(f"{key}: core only {sorted(map(str, got[key] - value))}, "
                           f"plain rules only {sorted(map(str, value - got[key]))}")
            else:
                out.append(f"{key}: core {got[key]}, plain rules {value}")
    return out


def d(text: str) -> date:
    return date.fromisoformat(text)


PRODUCTS = ["8703230110", "95030000", "64029942", "72085100", "73269086", "84713001"]
ORIGINS = ["JP", "DE", "HR", "GB", "CA"]
DAYS = [d("2025-04-09"), d("2025-06-04"), d("2025-08-10"), d("2025-10-01"), d("2026-02-22")]


def grid() -> list[Question]:
    """Every product, origin, entry day and asking day (the entry day itself, or today) with the
    default entry facts; then each entry fact over goods, origins and days where it matters."""
    questions = [Question(p, o, day, known or day)
                 for p, o, day, known in cartesian(PRODUCTS, ORIGINS, DAYS, [None, TODAY])]
    claims = cartesian(["8703230110", "64029942", "73269086"], ["CA", "CU"],
                       [d("2025-05-15"), d("2026-03-01")], ["S", "KR", "AU"])
    questions += [Question(p, o, day, day, claim=c) for p, o, day, c in claims]
    quotas = cartesian(["GB", "JP"], [d("2025-07-01"), d("2025-08-10"), d("2025-09-16")], ["in", "over"])
    questions += [Question("87032301", o, day, day, quota=quota) for o, day, quota in quotas]
    contents = cartesian(["73269086", "72085100"], ["GB", "DE", "CA"], [d("2025-06-04"), d("2025-09-01")],
                         [(("steel", 40.0),), (("steel", 40.0), ("aluminum", 10.0))])
    questions += [Question(p, o, day, day, content=c) for p, o, day, c in contents]
    loads = cartesian(["95030000", "84713001"], ["JP", "CA"], [d("2025-04-05"), d("2025-04-09"), d("2025-05-15")],
                      [d("2025-04-01"), d("2025-04-07")])
    # goods are loaded before they are entered (a later loading day is refused as bad input)
    questions += [Question(p, o, day, day, loaded=loaded) for p, o, day, loaded in loads
                  if loaded <= day]
    # The known axis: asked before an end, a ruling or a retroactive rate was known.
    known = cartesian(["95030000", "8703230110"], ["JP", "DE"], [d("2025-08-10"), d("2026-03-01")],
                      [d("2025-07-20"), d("2026-01-15"), d("2026-02-22")])
    questions += [Question(p, o, day, k) for p, o, day, k in known]
    return questions


GRID = grid()


@pytest.fixture(scope="module")
def expected(rules):
    """The plain rules' answer to every question of the grid."""
    return {question: rules.answer(question) for question in GRID}


def test_the_duty_answer_matches_the_plain_rules_on_a_grid(store, rules, expected):
    mismatches = [(question, found) for question in GRID
                  if (found := differences(store, rules, question, expected[question]))]
    assert not mismatches, "\n".join(f"{q_}: {found}" for q_, found in mismatches[:8])
    assert len(GRID) >= 300


def test_the_grid_reaches_every_rule(rules, expected):
    """The grid is not vacuous: every reason, every kind of base rate, every way a total is
    withheld and every rate computation is reached by some question of it."""
    reasons, kinds, seen = set(), set(), Counter()
    for question, want in expected.items():
        kinds.add(want.base_kind)
        reasons |= {row[4] for row in want.rows if row[4] is not None}
        seen["incomplete"] += not want.complete
        seen["gap"] += bool(want.gaps)
        seen["ruled unlawful but collected"] += bool(want.unlawful)
        seen["content share used"] += any(str(m).endswith("-derivs") and v is not None
                                          for m, v in want.applied.items())
        seen["open-ended until its end was known"] += any(
            (end := rules.day_of(m, URIRef(TKG_NS + "validUntil"))) is not None and question.day >= end
            for m in want.applied)
        seen["inclusive adds nothing"] += any(str(m).endswith(("jp15-inclusive", "eu15", "autos-jp")) and v == 0.0
                                              for m, v in want.applied.items())
    assert reasons == {SUSPENDED, SUPERSEDED, INVALIDATED, EXCLUDED_PRODUCT, EXCLUDED_ORIGIN, EXEMPT,
                       OTHER_QUOTA, IN_TRANSIT, STACKED_OUT, CONTENT_SPARED}
    assert kinds == {"general", "special", "column 2"}
    assert all(seen[k] for k in ["incomplete", "gap", "ruled unlawful but collected", "content share used",
                                 "inclusive adds nothing", "open-ended until its end was known"]), seen


# The two wrong totals of issue 8, as duty answers.

def test_regression_an_eu_group_rate_takes_the_baseline_off_a_german_good(store):
    answer = duty_answer(store, "9503.00.00", "DE", d("2025-09-01"), d("2025-09-01"))
    assert answer.total_ad_valorem_percent == 15.0  # not 25: the baseline does not stack
    assert {c.measure.rsplit("/", 1)[-1]: c.ad_valorem_percent for c in answer.components} == {
        "95030000-a": 0.0, "eu15": 15.0}
    [baseline] = answer.not_applied
    assert [(r.reason, r.by) for r in baseline.reasons] == [
        (REASONS[URIRef(TKG_NS + "StackedOut")], ID + "rule/baseline-vs-country")]
    # A Croatian good only once Croatia is a member; a British one only while the UK is.
    assert duty_answer(store, "9503.00.00", "HR", d("2025-05-31"), d("2025-09-10")).total_ad_valorem_percent == 10.0
    assert duty_answer(store, "9503.00.00", "HR", d("2025-09-01"), d("2025-09-01")).total_ad_valorem_percent == 15.0
    assert duty_answer(store, "9503.00.00", "GB", d("2025-08-14"), d("2025-08-14")).total_ad_valorem_percent == 15.0
    assert duty_answer(store, "9503.00.00", "GB", d("2025-08-15"), d("2025-08-15")).total_ad_valorem_percent == 10.0


def test_regression_a_list_entry_valid_later_does_not_remove_the_baseline_earlier(store):
    for known in (d("2025-09-01"), d("2025-09-10")):
        before = duty_answer(store, "7208.51.00", "GB", d("2025-09-01"), known)
        assert before.total_ad_valorem_percent == 10.0
        assert [c.measure.rsplit("/", 1)[-1] for c in before.components] == ["72085100-a", "baseline"]
    after = duty_answer(store, "7208.51.00", "GB", d("2025-10-01"), d("2025-10-01"))
    assert after.total_ad_valorem_percent == 25.0
    assert [n.measure.rsplit("/", 1)[-1] for n in after.not_applied] == ["baseline"]


def test_regression_a_content_spared_by_two_rules_is_spared_once(store):
    facts = EntryFacts(content={"steel": 40.0, "aluminum": 10.0})
    answer = duty_answer(store, "7326.90.86", "GB", d("2025-09-01"), d("2025-09-01"), facts)
    adds = {c.measure.rsplit("/", 1)[-1]: c.ad_valorem_percent for c in answer.components}
    # 2.9% MFN + 50% of 40% + 25% of 10% + the baseline's 10% on the other 50% of the value.
    assert adds == {"73269086-a": 2.9, "steel-derivs": 20.0, "alu-derivs": 2.5, "baseline": 5.0}
    assert answer.total_ad_valorem_percent == 30.4
    unknown = duty_answer(store, "7326.90.86", "GB", d("2025-09-01"), d("2025-09-01"))
    assert unknown.total_ad_valorem_percent is None and not unknown.coverage.complete
    assert unknown.known_part_percent == 2.9


# ------------------------------------------------------------------------------------------------
# The cross-check can fail: a core with one rule broken, and plain rules with one idea dropped,
# disagree with each other on the grid.
# ------------------------------------------------------------------------------------------------

MEMBERSHIP_QUESTIONS = [Question(p, o, day, day) for p, o, day in cartesian(
    ["95030000", "64029942"], ["HR", "GB", "DE"], [d("2025-05-15"), d("2025-08-10"), d("2025-09-01")])]
LIST_QUESTIONS = [Question(p, "GB", day, known) for p, day, known in cartesian(
    ["72085100", "84713001"], [d("2025-09-01"), d("2025-10-01"), d("2025-11-15")],
    [d("2025-08-01"), d("2025-10-25"), TODAY])]


def test_a_core_that_forgets_membership_dates_is_caught(tmp_path, monkeypatch, rules):
    import kg.derive

    for path in kg.derive.rule_files():
        shutil.copy(path, tmp_path / path.name)
    rule = tmp_path / "21-origin-coverage.rq"
    text = rule.read_text(encoding="utf-8")
    broken = text.replace("COALESCE(?memberFrom, ", "COALESCE(").replace("COALESCE(?memberUntil, ", "COALESCE(")
    assert broken != text
    rule.write_text(broken, encoding="utf-8")
    monkeypatch.setattr(kg.derive, "rule_files", lambda: sorted(tmp_path.glob("*.rq")))
    broken_store = fixture_store()
    caught = [q_ for q_ in MEMBERSHIP_QUESTIONS if differences(broken_store, rules, q_)]
    assert len(caught) >= 3


class ListsWithoutDates(PlainRules):
    """The plain rules with the drift of issue 8: list entries listed whatever the day."""

    def lists(self, product_list, question):
        codes = self.goods(question)
        return any(any(c in codes for c in self.g.objects(entry, URIRef(TKG_NS + "product")))
                   for entry in self.g.subjects(URIRef(TKG_NS + "inList"), product_list))


def test_plain_rules_that_ignore_list_dates_are_caught(store):
    wrong = ListsWithoutDates(curated_graph())
    caught = [q_ for q_ in LIST_QUESTIONS if differences(store, wrong, q_)]
    assert len(caught) >= 3


def test_a_wrong_expected_total_is_caught(store, rules):
    question = Question("95030000", "DE", d("2025-09-01"), d("2025-09-01"))
    expected = rules.answer(question)
    expected.total = 25.0  # the wrong total of issue 8
    assert "total: core 15.0, plain rules 25.0" in differences(store, rules, question, expected)


# ------------------------------------------------------------------------------------------------
# change_days: between two consecutive days it returns, the plain rules' answer does not change.
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("product,origin,known", [
    ("72085100", "HR", TODAY), ("84713001", "GB", d("2025-10-25")), ("73269086", "JP", d("2025-09-10"))])
def test_change_days_has_every_day_the_answer_changes(store, rules, product, origin, known):
    first, until = d("2025-03-01"), d("2026-08-01")
    query = stored_query("change_days")
    rows = store.select(query.bound_text({"from": first.isoformat(), "until": until.isoformat(),
                                          "asKnownOn": known.isoformat()}), {})
    days = {row["day"].toPython() for row in rows}
    previous = rules.answer(Question(product, origin, first, known))
    day = first + timedelta(days=1)
    while day < until:
        now = rules.answer(Question(product, origin, day, known))
        if (now.rows, now.applied) != (previous.rows, previous.applied):
            assert day in days, f"the answer changes on {day} but change_days does not return it"
        previous, day = now, day + timedelta(days=1)


# ------------------------------------------------------------------------------------------------
# Injection: values go in as validated RDF terms, never as query text.
# ------------------------------------------------------------------------------------------------

HOSTILE = ['8703"} ; DROP ALL ; #', "8703.23.01> } DROP ALL { <x", "JP\" . } DELETE WHERE { ?s ?p ?o } #"]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_are_rejected_as_bad_input(store, value):
    before = store.triple_count()
    with pytest.raises(InputError):
        stored_query("product").bind({"product": value})
    with pytest.raises(InputError):
        stored_query("negotiations").bind({"jurisdiction": value})
    with pytest.raises(InputError):
        stored_query("measures_in_force").bind({"origin": "JP", "date": value, "asKnownOn": "2025-05-01"})
    with pytest.raises(InputError):
        stored_query("duty_on_date").bind({"product": "8703.23.01", "origin": "JP", "date": "2025-05-01",
                                           "claim": value})
    assert store.triple_count() == before


@pytest.mark.parametrize("iri", ["https://example.org/a> } ; DROP ALL ; <b", "https://example.org/a b",
                                 'https://example.org/"x"'])
def test_an_iri_with_forbidden_characters_is_refused(iri):
    from kg.inputs import iri_term

    with pytest.raises(InputError):
        iri_term(iri)
    with pytest.raises(InputError):
        stored_query("describe").bind({"node": iri})


def test_hostile_terms_that_reach_the_query_match_nothing(store):
    """Even terms built around the validators are escaped by n3() and only match nothing."""
    before = store.triple_count()
    query = stored_query("duty_on_date")
    terms = query.bind({"product": "8703.23.01", "origin": "JP", "date": "2025-05-01"})
    terms["product"] = Literal('8703"} ; DROP ALL ; #')
    assert store.select(substitute_parameters(query.text, terms), {}) == []
    terms = {"jurisdiction": Literal("JP\" } DELETE WHERE { ?s ?p ?o } #")}
    assert store.select(substitute_parameters(stored_query("negotiations").text, terms), {}) == []
    assert store.triple_count() == before
    # An IRI term holding '>' cannot be written as a query term at all.
    with pytest.raises(Exception, match="does not look like a valid URI"):
        substitute_parameters(stored_query("product").text, {"product": URIRef(ID + "hts/1> } DROP ALL { <x")})
    assert store.triple_count() == before


def test_the_shipped_store_is_intact_after_hostile_input(shipped_store):
    before = shipped_store.triple_count()
    for value in HOSTILE:
        with pytest.raises(InputError):
            duty_answer(shipped_store, value, "JP", date(2025, 5, 1), date(2025, 5, 1))
        with pytest.raises(InputError):
            duty_answer(shipped_store, "8703.23.01", value, date(2025, 5, 1), date(2025, 5, 1))
    assert shipped_store.triple_count() == before
