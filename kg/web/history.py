"""The duty over time for the page and the API: steps, what changed at each, and events.

The candidate days come from the stored query change_days (every entry day on which the law can
change for some goods, as known on a day); each is answered with kg.duty.duty_answer, and equal
neighbours are merged, so no legal idea is restated here. Until kg/timeline.py is rewritten on the
new core (its duty_steps still asks the retired stored query `timeline`) and kg/series.py lands,
the web layer computes the steps itself with this module.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta

from rdflib import URIRef

from kg.duty import DutyAnswer
from kg.inputs import date_term
from kg.namespaces import TKG, country_iri
from kg.queries import stored_query, substitute_parameters

Answer = Callable[[date], DutyAnswer]


@dataclass
class Step:
    """The duty on entries from `start` until `until` (exclusive), and what changed at its start."""

    start: date
    until: date
    answer: DutyAnswer
    changes: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The step as the timeline API returns it."""
        answer = self.answer
        return {
            "from": self.start.isoformat(), "until": self.until.isoformat(),
            "total_ad_valorem_percent": answer.total_ad_valorem_percent,
            "known_part_percent": answer.known_part_percent,
            "complete": answer.coverage.complete,
            "components": [{"measure": c.measure, "label": c.label, "authority": c.authority,
                            "chapter99": c.chapter99, "ad_valorem_percent": c.ad_valorem_percent}
                           for c in answer.components],
            "changes": self.changes,
        }


def change_days(backend, as_known_on: date, start: date = date(2025, 1, 1),
                until: date = date(9999, 12, 31)) -> list[date]:
    """The entry days in [start, until) on which the law, as known on a day, can change for some
    goods (stored query change_days)."""
    text = substitute_parameters(stored_query("change_days").text, {
        "from": date_term(start), "until": date_term(until), "asKnownOn": date_term(as_known_on),
    })
    return sorted({row["day"].toPython() for row in backend.select(text, {})})


def steps(answer: Answer, start: date, end: date, days: list[date],
          workers: int = 2) -> list[Step]:
    """The duty as a step function over [start, end]: the answer on start and on every change
    day inside the period, equal neighbours merged."""
    probes = [start] + sorted(d for d in set(days) if start < d <= end)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        answers = list(pool.map(answer, probes))
    result: list[Step] = []
    for day, current in zip(probes, answers):
        if result and _same(result[-1].answer, current):
            continue
        changes = what_changed(result[-1].answer, current) if result else []
        if result:
            result[-1].until = day
        result.append(Step(day, end + timedelta(days=1), current, changes))
    return result


def _same(a: DutyAnswer, b: DutyAnswer) -> bool:
    def key(answer: DutyAnswer) -> tuple:
        parts = sorted((c.measure, c.ad_valorem_percent, c.chapter99) for c in answer.components)
        return (answer.total_ad_valorem_percent, answer.known_part_percent, tuple(parts),
                tuple(answer.coverage.missing))
    return key(a) == key(b)


def what_changed(before: DutyAnswer, after: DutyAnswer) -> list[dict]:
    """The parts that started, ended or changed between two answers, with their sources (for a
    part that ended: the reasons it no longer applies, with the instruments behind them)."""
    old = {c.measure: c for c in before.components}
    new = {c.measure: c for c in after.components}
    stopped = {n.measure: n for n in after.not_applied}
    changes = []
    for key, part in new.items():
        if key not in old:
            changes.append(_change("started", part.label, _percent(part.ad_valorem_percent),
                                   [vars(s) for s in part.sources]))
        elif old[key].ad_valorem_percent != part.ad_valorem_percent:
            detail = (f"{_percent(old[key].ad_valorem_percent)} -> "
                      f"{_percent(part.ad_valorem_percent)}")
            changes.append(_change("changed", part.label, detail, [vars(s) for s in part.sources]))
    for key, part in old.items():
        if key in new:
            continue
        reasons = stopped[key].reasons if key in stopped else []
        detail = "; ".join(r.reason + (f": {r.by_label}" if r.by_label else "") for r in reasons)
        changes.append(_change("ended", part.label, detail or "no longer in force", []))
    if not changes and before.coverage.missing != after.coverage.missing:
        changes.append(_change("coverage", "what the graph lacks",
                               "; ".join(after.coverage.missing) or "complete", []))
    return changes


def _change(kind: str, label: str, detail: str, sources: list[dict]) -> dict:
    return {"change": kind, "label": label, "detail": detail, "sources": sources}


def _percent(value: float | None) -> str:
    return "?" if value is None else f"{value:g}%"


def events(backend, origin: str) -> list[dict]:
    """Negotiation events of the origin and court decisions: date, kind, label and a link."""
    rows = backend.select(substitute_parameters(stored_query("negotiations").text,
                                                {"jurisdiction": URIRef(country_iri(origin))}), {})
    pages = _first_pages(backend, [row["event"] for row in rows])
    found = [{"date": row["day"].toPython().isoformat(), "kind": "negotiation",
              "label": str(row.get("label", row["event"])), "url": pages.get(str(row["event"]))}
             for row in rows]
    for row in backend.select(stored_query("instruments").text, {}):
        if row["kind"] == TKG.CourtDecision and row.get("signed") is not None:
            found.append({"date": row["signed"].toPython().isoformat(), "kind": "court ruling",
                          "label": str(row.get("identifier", row["instrument"])),
                          "url": str(row["page"]) if row.get("page") is not None else None})
    return sorted(found, key=lambda event: (event["date"], event["label"]))


def _first_pages(backend, nodes: list) -> dict[str, str]:
    if not nodes:
        return {}
    text = substitute_parameters(stored_query("describe").text, {"node": list(nodes)})
    pages: dict[str, str] = {}
    for row in backend.select(text, {}):
        if row.get("page") is not None:
            pages.setdefault(str(row["node"]), str(row["page"]))
    return pages


AUTHORITIES = ("mfn", "section-232", "ieepa", "section-122", "section-301", "section-338",
               "section-201")


def series_rows(hts: str, origin: str, found: list[Step]) -> list[dict]:
    """The steps of one line and origin as rows of constant duty: the additions per authority and
    the Chapter 99 headings in force (valid_until exclusive)."""
    rows = []
    for step in found:
        answer = step.answer
        row = {"hts": hts, "origin": origin, "valid_from": step.start.isoformat(),
               "valid_until": step.until.isoformat(),
               "total_ad_valorem_percent": answer.total_ad_valorem_percent,
               "complete": answer.coverage.complete}
        additions: dict[str, float | None] = {name: 0.0 for name in AUTHORITIES}
        for part in answer.components:
            name = part.authority or "other"
            if part.ad_valorem_percent is None or additions.get(name, 0.0) is None:
                additions[name] = None
            else:
                additions[name] = round((additions.get(name) or 0.0) + part.ad_valorem_percent, 6)
        row.update(additions)
        row["chapter99"] = "; ".join(sorted({c.chapter99 for c in answer.components
                                             if c.chapter99}))
        rows.append(row)
    return rows


def product_diff(before: DutyAnswer, after: DutyAnswer) -> dict:
    """What changed in the duty on one product between two answers, with both totals."""
    return {"total_before": before.total_ad_valorem_percent,
            "total_after": after.total_ad_valorem_percent,
            "complete": before.coverage.complete and after.coverage.complete,
            "changes": what_changed(before, after)}


def origin_diff(backend, origin: str, first: date, second: date, as_known_on: date) -> dict:
    """The measures in force for the origin (whatever the goods) that started, ended, changed
    rate or changed status between two entry days (stored query measures_in_force)."""
    before = _in_force(backend, origin, first, as_known_on)
    after = _in_force(backend, origin, second, as_known_on)
    changes = []
    ended = {key: old for key, old in before.items() if key not in after}
    for key, new in after.items():
        if key in before:
            old = before[key]
            if old["status"] != new["status"]:
                changes.append(_change("status", new["label"],
                                       f"{old['status']} -> {new['status']}", []))
            continue
        same = next((k for k, old in ended.items()
                     if new["program"] and old["program"] == new["program"]), None)
        if same:
            old = ended.pop(same)
            changes.append(_change("changed rate", new["label"],
                                   f"{old['rate']} -> {new['rate']}", []))
        else:
            changes.append(_change("started", new["label"], _status_text(new), []))
    changes += [_change("ended", old["label"], _status_text(old), []) for old in ended.values()]
    return {"changes": changes}


def _status_text(measure: dict) -> str:
    if measure["status"] == "in force":
        return measure["rate"]
    return f"{measure['rate']} ({measure['status']})".strip()


def _in_force(backend, origin: str, day: date, as_known_on: date) -> dict[str, dict]:
    query = stored_query("measures_in_force")
    bindings = query.bind({"origin": origin, "date": day.isoformat(),
                           "asKnownOn": as_known_on.isoformat()})  # entry facts: the defaults
    text = substitute_parameters(query.text, bindings)
    found: dict[str, dict] = {}
    for row in backend.select(text, {}):
        entry = found.setdefault(str(row["measure"]), {
            "label": str(row.get("label", row["measure"])),
            "program": str(row.get("program", "")),
            "rate": f"{row['adValorem']}%" if row.get("adValorem") is not None else "",
            "reasons": set()})
        if row.get("reason") is not None:
            entry["reasons"].add(str(row["reason"]).rsplit("#", 1)[-1].lower())
    for entry in found.values():
        entry["status"] = ", ".join(sorted(entry.pop("reasons"))) or "in force"
    return found

