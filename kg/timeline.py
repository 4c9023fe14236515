"""The duty over time: change points for one product and origin, a step chart, and diffs of dates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from rdflib import URIRef

from kg.duty import DutyAnswer, duty_answer
from kg.errors import InputError
from kg.inputs import country_code, date_term, hts_digits
from kg.namespaces import country_iri, hts_iri
from kg.queries import stored_query


@dataclass
class Step:
    """The duty from one change day on, with the changes that happened that day."""

    day: date
    total: float
    answer: DutyAnswer
    changes: list[str] = field(default_factory=list)


def change_days(backend, hts: str, origin: str) -> dict[date, list[str]]:
    """Every day something changes for the product and origin, with what changed and why."""
    rows = backend.select(stored_query("timeline").text, {
        "product": URIRef(hts_iri(hts_digits(hts, "--hts"))),
        "origin": URIRef(country_iri(country_code(origin))),
    })
    days: dict[date, list[str]] = {}
    for row in rows:
        what = f"{row['change']}: {row.get('label', row['measure'])}"
        if row.get("citation"):
            what += f" ({row['citation']})"
        days.setdefault(row["day"].toPython(), []).append(what)
    return dict(sorted(days.items()))


def duty_steps(backend, hts: str, origin: str, start: date, end: date,
               as_known_on: date | None = None) -> list[Step]:
    """The duty as a step function over [start, end]: one step per day on which it changes.

    With as_known_on None each day is answered as the law was known on that day (what was applied
    at the time); otherwise every day is answered as known on as_known_on.
    """
    if end < start:
        raise InputError(f"--to {end} is before --from {start}")
    days = change_days(backend, hts, origin)
    probes = [start] + [d for d in days if start < d <= end]
    steps: list[Step] = []
    for day in probes:
        answer = duty_answer(backend, hts, origin, day, as_known_on or day)
        changes = days.get(day, [])
        if steps and _same(steps[-1].answer, answer):
            continue
        steps.append(Step(day, answer.total_ad_valorem_percent, answer, changes))
    return steps


def _same(a: DutyAnswer, b: DutyAnswer) -> bool:
    def key(answer: DutyAnswer) -> list:
        return sorted((c.measure, c.ad_valorem_percent) for c in answer.components)
    return key(a) == key(b)


def render_steps(steps: list[Step]) -> str:
    """The steps as a readable table: from, total, what applies, what changed."""
    from kg.tables import text_table

    body = []
    for step in steps:
        parts = ", ".join(f"{c.label} {c.ad_valorem_percent:g}%" if c.ad_valorem_percent is not None
                          else c.label for c in step.answer.components)
        body.append([step.day.isoformat(), f"{step.total:g}%", parts, "; ".join(step.changes)])
    return text_table(["from", "total", "components", "changes that day"], body).rstrip()


def chart(steps: list[Step], end: date, events: list[tuple[date, str]], path: Path, title: str) -> None:
    """Draw the duty as a step chart with events (negotiations, court rulings) marked on the axis."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError("--chart needs matplotlib: pip install 'tariff-kg[chart]'") from None
    if path.suffix.lower() not in (".svg", ".png"):
        raise InputError(f"--chart {path}: give a .svg or .png file name")
    xs = [s.day for s in steps] + [end]
    ys = [s.total for s in steps] + [steps[-1].total]
    fig, ax = plt.subplots(figsize=(11, 5))
    # Matplotlib plots dates through its unit converters, which its type stubs do not model.
    ax.step(xs, ys, where="post", linewidth=2)  # type: ignore[arg-type]
    for step in steps:
        ax.annotate(f"{step.total:g}%", (step.day, step.total), textcoords="offset points",
                    xytext=(3, 4), fontsize=8)
    top = max(ys + [1]) * 1.15
    for day, label in events:
        if xs[0] <= day <= end:
            ax.axvline(day, color="grey", linestyle=":", linewidth=1)  # type: ignore[arg-type]
            ax.text(day, top, label, rotation=90, fontsize=7, va="top", ha="right",  # type: ignore[arg-type]
                    color="dimgrey")
    ax.set_ylim(0, top * 1.05)
    ax.set_ylabel("total ad valorem duty (%)")
    ax.set_title(title)
    fig.autofmt_xdate()
    fig.tight_layout()
    tmp = path.with_name(path.name + ".tmp" + path.suffix)
    try:
        fig.savefig(tmp, format=path.suffix.lstrip(".").lower())
        tmp.replace(path)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        raise InputError(f"--chart {path}: cannot write: {error.strerror or error}") from None
    finally:
        plt.close(fig)


def events_for(backend, origin: str) -> list[tuple[date, str]]:
    """Negotiation events of the origin and court decisions, as (day, short label)."""
    rows = backend.select(stored_query("negotiations").text,
                          {"jurisdiction": URIRef(country_iri(country_code(origin)))})
    events = [(r["day"].toPython(), str(r.get("label", r["event"]))[:48]) for r in rows]
    for row in backend.select(stored_query("instruments").text, {}):
        if str(row["kind"]).endswith("CourtDecision") and "signed" in row:
            events.append((row["signed"].toPython(), str(row.get("identifier", ""))[:48]))
    return sorted(events)


def diff(backend, origin: str, first: date, second: date, as_known_on: date,
         hts: str | None = None) -> list[tuple[str, str, str]]:
    """What changed between two days: (change, measure label, detail) rows.

    Without hts: the measures in force for the origin (started, ended, changed rate, suspended or
    resumed). With hts: the components of the duty on that product.
    """
    if hts:
        return _diff_components(duty_answer(backend, hts, origin, first, as_known_on),
                                duty_answer(backend, hts, origin, second, as_known_on))
    before = _in_force(backend, origin, first, as_known_on)
    after = _in_force(backend, origin, second, as_known_on)
    started = {k: v for k, v in after.items() if k not in before}
    ended = {k: v for k, v in before.items() if k not in after}
    rows = []
    for new in started.values():
        # A measure that ends where one of the same program starts is a change of rate.
        same = next((k for k, old in ended.items() if new["program"] and old["program"] == new["program"]), None)
        if same:
            rows.append(("changed rate", new["label"], f"{ended.pop(same)['rate']} -> {new['rate']}"))
        else:
            rows.append(("started", new["label"], _with_status(new)))
    rows += [("ended", old["label"], _with_status(old)) for old in ended.values()]
    for key in sorted(set(before) & set(after)):
        old, new = before[key], after[key]
        if old["status"] != new["status"]:
            change = "resumed" if new["status"] == "in force" else new["status"]
            rows.append((change, new["label"], f"{old['status']} -> {new['status']}"))
    return rows


def _with_status(measure: dict) -> str:
    return measure["rate"] if measure["status"] == "in force" else f"{measure['rate']} ({measure['status']})"


def _in_force(backend, origin: str, day: date, as_known_on: date) -> dict[str, dict]:
    rows = backend.select(stored_query("measures_in_force").text, {
        "origin": URIRef(country_iri(country_code(origin))),
        "date": date_term(day), "asKnownOn": date_term(as_known_on),
    })
    return {str(r["measure"]): {
        "label": str(r.get("label", r["measure"])), "status": str(r["status"]),
        "program": str(r.get("program", "")), "rate": f"{r['adValorem']}%" if "adValorem" in r else "",
    } for r in rows}


def _diff_components(a: DutyAnswer, b: DutyAnswer) -> list[tuple[str, str, str]]:
    old = {c.measure: c for c in a.components}
    new = {c.measure: c for c in b.components}
    rows = [("started", new[k].label, f"{new[k].ad_valorem_percent:g}%") for k in new if k not in old
            and new[k].ad_valorem_percent is not None]
    rows += [("ended", old[k].label, f"{old[k].ad_valorem_percent:g}%") for k in old if k not in new
             and old[k].ad_valorem_percent is not None]
    rows += [("changed rate", new[k].label, f"{old[k].ad_valorem_percent:g}% -> {new[k].ad_valorem_percent:g}%")
             for k in new if k in old and old[k].ad_valorem_percent != new[k].ad_valorem_percent]
    rows.append(("total", "", f"{a.total_ad_valorem_percent:g}% -> {b.total_ad_valorem_percent:g}%"))
    return rows
