"""The duty over time, on the rule core: a step function for one product and origin, and a diff.

A timeline asks the stored query change_days for the entry days on which the law can change,
answers the duty (kg.duty.duty_answer) on each of them, merges the days whose answers are equal and
labels every change by the acts behind it (the instrument that enacted a part, the pause, ruling or
newer measure that stopped it, the instrument that ended it). Asked "as applied" (no as-known-on),
each day is answered as the law was known on that day, so the days on which acts were issued are
asked as well. A diff compares two days for an origin: the measures in force (measures_in_force),
or with a product the two duty answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from rdflib import URIRef

from kg.duty import (
    DutyAnswer,
    EntryFacts,
    HeadingGiven,
    check_entry_date,
    duty_answer,
    facts_words,
    lines_under,
)
from kg.errors import InputError
from kg.inputs import country_code, date_term, hts_digits
from kg.namespaces import country_iri
from kg.queries import stored_query, substitute_parameters


@dataclass
class Change:
    """One thing that changed at the start of a step, and the act behind it."""

    kind: str                 # started, applies again, not applied, ended, changed, coverage
    measure: str
    label: str
    before: float | None      # what the part added before (percent), None if absent or unknown
    after: float | None
    act: str | None           # the instrument (or pause, ruling, newer measure) behind the change
    detail: str = ""

    def text(self) -> str:
        """The change in words."""
        rates = ""
        if self.kind == "changed":
            rates = f" {_percent(self.before)} -> {_percent(self.after)}"
        elif self.after is not None:
            rates = f" +{_percent(self.after)}"
        elif self.before is not None:
            rates = f" -{_percent(self.before)}"
        act = f" ({self.act})" if self.act and self.act not in self.detail else ""
        detail = f": {self.detail}" if self.detail else ""
        return f"{self.kind}: {self.label}{rates}{act}{detail}"


@dataclass
class Step:
    """The duty from one entry day until the next change, with what changed that day."""

    start: date
    until: date               # first day after the step (exclusive), or the day after the period
    answer: DutyAnswer
    changes: list[Change] = field(default_factory=list)

    @property
    def total(self) -> float | None:
        """The ad valorem total (None when the answer is incomplete)."""
        return self.answer.total_ad_valorem_percent

    @property
    def acts(self) -> list[str]:
        """The acts behind this step's changes, each once, in order."""
        acts: list[str] = []
        for change in self.changes:
            if change.act and change.act not in acts:
                acts.append(change.act)
        return acts


@dataclass
class Timeline:
    """The duty on a product from an origin over a period, as applied or as known on a day."""

    hts: str
    origin: str
    start: date
    end: date
    as_known_on: date | None  # None: each day as the law was known on that day (as applied)
    steps: list[Step]
    user_data: list[str] = field(default_factory=list)  # the user's files in the graph asked
    entry_facts: dict = field(default_factory=lambda: EntryFacts().to_dict())  # as the duty answer

    @property
    def complete(self) -> bool:
        """True when every step's answer holds every part of the law."""
        return all(step.answer.coverage.complete for step in self.steps)

    @property
    def missing(self) -> list[str]:
        """What the steps lack, each once."""
        missing: list[str] = []
        for step in self.steps:
            missing += [m for m in step.answer.coverage.missing if m not in missing]
        return missing

    @property
    def beyond_reach(self) -> list[str]:
        """Where the period (or the as-known-on day) passes the data's reach, each once."""
        notes: list[str] = []
        for step in self.steps:
            notes += [n for n in step.answer.coverage.beyond_reach if n not in notes]
        return notes

    def to_dict(self) -> dict:
        """The timeline as JSON: the question, coverage and each step with its changes."""
        return {
            "hts": self.hts, "origin": self.origin, "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "as_known_on": self.as_known_on.isoformat() if self.as_known_on else "as applied",
            "entry_facts": self.entry_facts,
            "coverage": {"complete": self.complete, "missing": self.missing,
                         "beyond_reach": self.beyond_reach},
            "user_data": self.user_data,
            "steps": [{
                "from": s.start.isoformat(), "until": s.until.isoformat(),
                "total_ad_valorem_percent": s.total,
                "known_part_percent": s.answer.known_part_percent,
                "complete": s.answer.coverage.complete,
                "components": [{"measure": c.measure, "label": c.label,
                                "ad_valorem_percent": c.ad_valorem_percent}
                               for c in s.answer.components],
                "changes": [vars(c) for c in s.changes], "acts": s.acts,
            } for s in self.steps],
        }


def duty_steps(backend, hts: str, origin: str, start: date, end: date,
               as_known_on: date | None = None, facts: EntryFacts | None = None,
               days=None) -> Timeline:
    """The duty on hts from origin as a step function over the entry days [start, end].

    With as_known_on None each day is answered as the law was known on that day (what was applied
    at the time); otherwise every day is answered as known on as_known_on. days(backend, digits,
    origin, start, end, as_known_on) gives the days to ask (default: candidate_days).
    """
    digits = hts_digits(hts, "--hts")
    iso = country_code(origin)
    check_entry_date(start, "--from")
    if end < start:
        raise InputError(f"--to {end} is before --from {start}")
    if len(digits) in (4, 6):
        raise HeadingGiven(digits, lines_under(backend, digits, end), end)
    steps: list[Step] = []
    ask = days or candidate_days
    for day in ask(backend, digits, iso, start, end, as_known_on):
        answer = duty_answer(backend, digits, iso, day, as_known_on or day, facts,
                             compare_applied=False)
        if steps and _same(steps[-1].answer, answer):
            continue
        if steps:
            steps[-1].until = day
        steps.append(Step(day, end + timedelta(days=1), answer))
    label_changes(backend, steps)
    return Timeline(steps[0].answer.hts, iso, start, end, as_known_on, steps,
                    list(getattr(backend, "user_files", [])), steps[0].answer.entry_facts)


def candidate_days(backend, digits: str, iso: str, start: date, end: date,
                   as_known_on: date | None) -> list[date]:
    """The entry days in [start, end] on which the answer may change (duty_change_days): start,
    the days the windows of what can reach the goods start or end, as known on as_known_on; as
    applied, also the days those windows became or stopped being known."""
    from kg.namespaces import hts_iri

    rows = backend.select(substitute_parameters(stored_query("duty_change_days").text, {
        "product": URIRef(hts_iri(digits)), "origin": URIRef(country_iri(iso)),
        "from": date_term(start), "until": date_term(end + timedelta(days=1))}), {})
    days = {start}
    for row in rows:
        day = row["day"].toPython()
        if as_known_on is None:
            days.add(day)
        elif str(row["axis"]) == "entry" and (row["knownFrom"].toPython() <= as_known_on
                                               < row["knownUntil"].toPython()):
            days.add(day)
    return sorted(days)


def candidate_days_everywhere(backend, digits: str, iso: str, start: date, end: date,
                              as_known_on: date | None) -> list[date]:
    """Every entry day in [start, end] on which the law changes for any goods (change_days), and
    as applied the days acts were issued: a superset of candidate_days, for cross-checks."""
    known = as_known_on or max(end, date.today())
    rows = backend.select(substitute_parameters(stored_query("change_days").text, {
        "from": date_term(start), "until": date_term(end + timedelta(days=1)),
        "asKnownOn": date_term(known)}), {})
    days = {start} | {row["day"].toPython() for row in rows}
    if as_known_on is None:
        for row in backend.select(stored_query("instruments").text, {}):
            signed = row.get("signed")
            if signed is not None and start <= signed.toPython() <= end:
                days.add(signed.toPython())
    return sorted(days)


def _same(a: DutyAnswer, b: DutyAnswer) -> bool:
    def key(answer: DutyAnswer) -> tuple:
        return (sorted((c.measure, c.ad_valorem_percent) for c in answer.components),
                answer.total_ad_valorem_percent, answer.coverage.missing)
    return key(a) == key(b)


def label_changes(backend, steps: list[Step]) -> None:
    """Give every step but the first its changes from the step before, each with its act."""
    measures = {c.measure for s in steps for c in s.answer.components}
    acts = acts_of(backend, measures)
    for before, step in zip(steps, steps[1:]):
        step.changes = changes_between(before.answer, step.answer, acts)


def changes_between(a: DutyAnswer, b: DutyAnswer, acts: dict[str, dict]) -> list[Change]:
    """What changed from answer a to answer b: parts started, stopped, ended or changed."""
    old = {c.measure: c for c in a.components}
    new = {c.measure: c for c in b.components}
    stopped_now = {n.measure: n for n in b.not_applied}
    stopped_before = {n.measure: n for n in a.not_applied}
    changes = []
    ended = [m for m in old if m not in new]
    started = [m for m in new if m not in old]
    for key in started:
        part = new[key]
        # a new MFN period, or a measure of the same program, replacing an old one: a change of rate
        twin = next((m for m in ended if _same_kind(old[m], part)), None)
        if twin is not None:
            ended.remove(twin)
            changes.append(Change("changed", key, part.label, old[twin].ad_valorem_percent,
                                  part.ad_valorem_percent, acts.get(key, {}).get("enacted")))
        elif key in stopped_before:
            reasons = "; ".join(_short_reason(r) for r in stopped_before[key].reasons)
            changes.append(Change("applies again", key, part.label, None, part.ad_valorem_percent,
                                  None, f"no longer {reasons}"))
        else:
            changes.append(Change("started", key, part.label, None, part.ad_valorem_percent,
                                  acts.get(key, {}).get("enacted")))
    for key in ended:
        part = old[key]
        if key in stopped_now:
            why = stopped_now[key].reasons
            act = next((r.by_label.split(" (because ")[0] for r in why if r.by_label), None)
            changes.append(Change("not applied", key, part.label, part.ad_valorem_percent, None,
                                  act, "; ".join(_short_reason(r) for r in why)))
        else:
            changes.append(Change("ended", key, part.label, part.ad_valorem_percent, None,
                                  acts.get(key, {}).get("ended")))
    for key in new:
        if key in old and old[key].ad_valorem_percent != new[key].ad_valorem_percent:
            changes.append(Change("changed", key, new[key].label, old[key].ad_valorem_percent,
                                  new[key].ad_valorem_percent, None,
                                  "what it adds depends on the other parts"))
    if a.coverage.missing != b.coverage.missing:
        detail = ("complete" if b.coverage.complete
                  else "incomplete: " + "; ".join(b.coverage.missing))
        changes.append(Change("coverage", "", "coverage", None, None, None, detail))
    return changes


def _short_reason(reason) -> str:
    """A reason without its triggers: 'suspended: EO 14266 pause'."""
    label = (reason.by_label or "").split(" (because ")[0]
    return reason.reason + (f": {label}" if label else "")


def _same_kind(a, b) -> bool:
    """Two parts that are one rate over time: the schedule's rate, or one program's measures."""
    if a.authority == "mfn" and b.authority == "mfn":
        return True
    return bool(a.program) and a.program == b.program and a.authority == b.authority


def acts_of(backend, measures: set[str]) -> dict[str, dict]:
    """The identifiers of the instruments that enacted and ended each measure (acts_of)."""
    if not measures:
        return {}
    text = substitute_parameters(stored_query("acts_of").text,
                                 {"node": [URIRef(m) for m in sorted(measures)]})
    acts: dict[str, dict] = {}
    for row in backend.select(text, {}):
        entry = acts.setdefault(str(row["node"]), {})
        for key in ("enacted", "ended"):
            if row.get(key) is not None:
                entry.setdefault(key, str(row[key]))
    return acts


def render_steps(timeline: Timeline, width: int | None = None) -> str:
    """The timeline as text: the question, its coverage, then one row per step."""
    from kg.tables import text_table

    view = (f"as known on {timeline.as_known_on}" if timeline.as_known_on
            else "as applied (each day as the law was known that day)")
    lines = [f"Duty on {timeline.hts} from {timeline.origin}, entered {timeline.start} to "
             f"{timeline.end}, {view}; {facts_words(timeline.entry_facts)}"]
    lines.append("Coverage: complete" if timeline.complete
                 else "Coverage: INCOMPLETE: " + "; ".join(timeline.missing))
    lines += [f"Past the data: {note}" for note in timeline.beyond_reach]
    if timeline.user_data:
        lines.append("With your data: " + ", ".join(timeline.user_data))
    body = []
    for step in timeline.steps:
        total = (_percent(step.total) if step.total is not None
                 else f"? (known {step.answer.known_part_percent:g}%)")
        parts = ", ".join(f"{c.label} {_percent(c.ad_valorem_percent)}"
                          for c in step.answer.components)
        body.append([step.start.isoformat(), (step.until - timedelta(days=1)).isoformat(), total,
                     "; ".join(c.text() for c in step.changes) or "-", parts])
    header = ["from", "to", "total", "changes that day", "parts"]
    lines += ["", text_table(header, body, width).rstrip()]
    return "\n".join(lines)


def _percent(value: float | None) -> str:
    return "?" if value is None else f"{value:g}%"


# --- The chart ---------------------------------------------------------------------------------

@dataclass
class Event:
    """A dated event drawn on a chart: a negotiation or a court ruling, with a page about it."""

    day: date
    label: str
    kind: str  # "negotiation" or "ruling"
    url: str | None = None  # the foaf:page of the ruling, or of the first source of the event

    def to_dict(self) -> dict:
        """The event as JSON."""
        return {"date": self.day.isoformat(), "kind": self.kind, "label": self.label,
                "url": self.url}


def events_for(backend, origin: str, known_on: date | None = None) -> list[Event]:
    """Negotiation events of the origin and court decisions, known by known_on if given."""
    # (bound as a VALUES row: the query groups by its parameter, which cannot be a constant)
    rows = backend.select(stored_query("negotiations").text,
                          {"jurisdiction": URIRef(country_iri(country_code(origin)))})
    pages = _source_pages(backend, [r["event"] for r in rows])
    events = [Event(r["day"].toPython(), str(r.get("label", r["event"])), "negotiation",
                    pages.get(str(r["event"]))) for r in rows]
    for row in backend.select(stored_query("instruments").text, {}):
        if str(row["kind"]).endswith("CourtDecision") and row.get("signed") is not None:
            name = str(row.get("identifier", row["instrument"]))
            page = str(row["page"]) if row.get("page") is not None else None
            events.append(Event(row["signed"].toPython(), name, "ruling", page))
    if known_on is not None:
        events = [e for e in events if e.day <= known_on]  # not yet known: not drawn
    return sorted(events, key=lambda e: (e.day, e.label))


def _source_pages(backend, nodes: list) -> dict[str, str]:
    """The page of the first source each node cites that has one (stored query describe)."""
    if not nodes:
        return {}
    text = substitute_parameters(stored_query("describe").text, {"node": list(nodes)})
    pages: dict[str, str] = {}
    for row in backend.select(text, {}):
        if row.get("page") is not None:
            pages.setdefault(str(row["node"]), str(row["page"]))
    return pages


def chart(timeline: Timeline, events: list[Event], path: Path, title: str) -> None:
    """Draw the duty as a step chart to path (.svg or .png).

    Each change is a numbered marker on the step line with a key below the plot naming its date and
    acts, so no label overlaps another or is cut; negotiations are grey dotted lines and court
    rulings red dashed ones, lettered in the same key.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError("--chart needs matplotlib: pip install matplotlib (or, in a tariff-kg "
                         "checkout, pip install '.[chart]')") from None
    if path.suffix.lower() not in (".svg", ".png"):
        raise InputError(f"--chart {path}: give a .svg or .png file name")
    steps = timeline.steps
    shown = [e for e in events if timeline.start <= e.day <= timeline.end]
    key = _chart_key(steps, shown)
    height = 4.2 + 0.115 * len(key)  # inches: title, plot and dates, then one line per key entry
    fig = plt.figure(figsize=(11, height))
    ax = fig.add_axes((0.07, 1 - 3.5 / height, 0.91, 3.0 / height))
    xs = [s.start for s in steps] + [timeline.end]
    ys = [s.total if s.total is not None else s.answer.known_part_percent for s in steps]
    ys.append(ys[-1])
    # Matplotlib plots dates through its unit converters, which its type stubs do not model.
    ax.step(xs, ys, where="post", linewidth=2, color="tab:blue")  # type: ignore[arg-type]
    top = max(ys + [1]) * 1.3
    span = max((timeline.end - timeline.start).days, 1)
    near = max(span // 40, 1)  # labels closer than this many days go on another level
    levels: list[date] = []
    for number, step in enumerate(steps, 1):
        y = step.total if step.total is not None else step.answer.known_part_percent
        level = _free_level(levels, step.start, near)
        ax.plot([step.start], [y], "o", color="tab:blue", markersize=4)  # type: ignore[arg-type]
        ax.annotate(str(number), (step.start, y), textcoords="offset points",
                    xytext=(0, 5 + 9 * level), ha="center", fontsize=7)
    levels = []
    for letter, event in zip(_letters(), shown):
        ruling = event.kind == "ruling"
        level = _free_level(levels, event.day, near)
        ax.axvline(event.day, color="tab:red" if ruling else "grey",  # type: ignore[arg-type]
                   linestyle="--" if ruling else ":", linewidth=1.2 if ruling else 0.8,
                   label="court ruling" if ruling else "negotiation")
        ax.text(event.day, top * (0.97 - 0.06 * level),  # type: ignore[arg-type]
                letter, fontsize=7,
                ha="center", va="top", color="tab:red" if ruling else "dimgrey",
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5})
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    if unique:
        ax.legend(unique.values(), unique.keys(), loc="lower right", fontsize=7, framealpha=0.9)
    pad = timedelta(days=max(span // 100, 1))
    ax.set_xlim(timeline.start - pad, timeline.end + pad)  # type: ignore[arg-type]
    ax.set_ylim(0, top)
    ax.set_ylabel("total ad valorem duty (%)")
    ax.set_title(title, fontsize=10)
    for text in ax.get_xticklabels():
        text.set_fontsize(7)
    fig.text(0.02, 1 - 3.95 / height, "\n".join(key), fontsize=6.5, va="top", family="monospace")
    tmp = path.with_name(path.name + ".tmp" + path.suffix)
    try:
        fig.savefig(tmp, format=path.suffix.lstrip(".").lower())
        tmp.replace(path)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        raise InputError(f"--chart {path}: cannot write: {error.strerror or error}") from None
    finally:
        plt.close(fig)


def _chart_key(steps: list[Step], events: list[Event], width: int = 150) -> list[str]:
    """The key printed below a chart: numbered steps with their acts, lettered events."""
    lines = []
    for number, step in enumerate(steps, 1):
        total = _percent(step.total) if step.total is not None else "incomplete"
        acts = ", ".join(step.acts) or ("start of the period" if number == 1 else "no act named")
        lines.append(_cut(f"{number:>2}  {step.start}  {total:>9}  {acts}", width))
    for letter, event in zip(_letters(), events):
        kind = "court ruling" if event.kind == "ruling" else "negotiation"
        lines.append(_cut(f"{letter:>2}  {event.day}  {kind:>12}  {event.label}", width))
    return lines


def _free_level(levels: list[date], day: date, near: int) -> int:
    """The lowest label level whose last label is at least `near` days before day; taken."""
    for level, last in enumerate(levels):
        if (day - last).days >= near:
            levels[level] = day
            return level
    levels.append(day)
    return len(levels) - 1


def _letters():
    import string

    for first in ["", *string.ascii_uppercase]:
        for letter in string.ascii_uppercase:
            yield first + letter


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# --- Diff ----------------------------------------------------------------------------------------

@dataclass
class Diff:
    """What changed for an origin (or one product) between two entry days."""

    origin: str
    first: date
    second: date
    as_known_on: date
    hts: str | None
    rows: list[tuple[str, str, str]]
    missing: list[str]  # what the graph lacks on either day (gaps, incomplete answers)
    user_data: list[str] = field(default_factory=list)  # the user's files in the graph asked
    entry_facts: dict | None = None  # the facts both answers used (a product's diff only)

    @property
    def complete(self) -> bool:
        """True when the graph holds every part of the law on both days."""
        return not self.missing

    def to_dict(self) -> dict:
        """The diff as JSON."""
        return {"origin": self.origin, "from": self.first.isoformat(),
                "to": self.second.isoformat(),
                "as_known_on": self.as_known_on.isoformat(), "hts": self.hts,
                "entry_facts": self.entry_facts,
                "coverage": {"complete": self.complete, "missing": self.missing},
                "user_data": self.user_data,
                "changes": [{"change": c, "measure": m, "detail": d} for c, m, d in self.rows]}


def diff(backend, origin: str, first: date, second: date, as_known_on: date,
         hts: str | None = None, facts: EntryFacts | None = None) -> Diff:
    """What changed between two entry days, as the law was known on as_known_on.

    Without hts: the measures in force for the origin (started, ended, changed rate, suspended or
    resumed), and the coverage gaps in force for it on either day. With hts: the parts of the duty
    on that product, both days answered with the entry facts (default: none given), and the
    coverage of both answers. Facts without hts are refused: the measures in force are the
    origin's, for any goods.
    """
    iso = country_code(origin)
    check_entry_date(first, "--from")
    check_entry_date(second, "--to")
    if facts is not None and not hts:
        raise InputError("--claim, --quota, --content and --loaded are facts of one product's "
                         "entry: give --hts with them")
    if hts:
        a = duty_answer(backend, hts, iso, first, as_known_on, facts, compare_applied=False)
        b = duty_answer(backend, hts, iso, second, as_known_on, facts, compare_applied=False)
        lacking = a.coverage.missing + [m for m in b.coverage.missing
                                        if m not in a.coverage.missing]
        return Diff(iso, first, second, as_known_on, a.hts, _diff_components(a, b), lacking,
                    a.user_data, a.entry_facts)
    before = in_force(backend, iso, first, as_known_on)
    after = in_force(backend, iso, second, as_known_on)
    rows = _diff_measures(before, after)
    missing: list[str] = []
    for day in (first, second):
        for label in origin_gaps(backend, iso, day, as_known_on):
            if not any(m.startswith(label + " (") for m in missing):
                missing.append(f"{label} (in force on {day}; for some goods)")
    return Diff(iso, first, second, as_known_on, None, rows, missing,
                list(getattr(backend, "user_files", [])))


def _diff_measures(before: dict[str, dict], after: dict[str, dict]) -> list[tuple[str, str, str]]:
    started = {k: v for k, v in after.items() if k not in before}
    ended = {k: v for k, v in before.items() if k not in after}
    rows = []
    for new in started.values():
        # A measure that ends where one of the same program starts is a change of rate.
        same = next((k for k, old in ended.items()
                     if new["program"] and old["program"] == new["program"]), None)
        if same:
            before = ended.pop(same)["rate"]
            rows.append(("changed rate", new["label"], f"{before} -> {new['rate']}"))
        else:
            rows.append(("started", new["label"], _with_status(new)))
    rows += [("ended", old["label"], _with_status(old)) for old in ended.values()]
    for key in sorted(set(before) & set(after)):
        old, new = before[key], after[key]
        if old["status"] != new["status"]:
            change = "resumed" if new["status"] == "in force" else new["status"].split(":")[0]
            rows.append((change, new["label"], f"{old['status']} -> {new['status']}"))
    return rows


def _with_status(measure: dict) -> str:
    if measure["status"] == "in force":
        return measure["rate"]
    return f"{measure['rate']} ({measure['status']})"


def origin_gaps(backend, iso: str, day: date, as_known_on: date) -> list[str]:
    """The coverage gaps in force for the origin on a day, whatever the goods (origin_gaps)."""
    query = stored_query("origin_gaps")
    text = substitute_parameters(query.text, query.bind({
        "origin": iso, "date": day.isoformat(), "asKnownOn": as_known_on.isoformat()}))
    return [str(r.get("label", r["gap"])) for r in backend.select(text, {})]


REASON_WORDS = {"Suspended": "suspended", "Superseded": "superseded", "Invalidated": "invalidated",
                "ExcludedOrigin": "excluded origin", "ExemptUnderClaim": "exempt under the claim",
                "OtherQuotaStatus": "other quota status", "InTransit": "in transit"}


def in_force(backend, iso: str, day: date, as_known_on: date) -> dict[str, dict]:
    """The measures in force for the origin on a day, one entry per measure
    with every reason that stops it for all goods in its status (measures_in_force)."""
    query = stored_query("measures_in_force")
    bindings = query.bind({"origin": iso, "date": day.isoformat(),
                           "asKnownOn": as_known_on.isoformat()})  # defaults for the entry facts
    text = substitute_parameters(query.text, bindings)
    measures: dict[str, dict] = {}
    for r in backend.select(text, {}):
        key = str(r["measure"])
        entry = measures.setdefault(key, {
            "label": str(r.get("label", r["measure"])), "reasons": [],
            "program": str(r.get("program", "")),
            "rate": f"{r['adValorem']}%" if r.get("adValorem") is not None else "",
        })
        if r.get("reason") is not None:
            word = REASON_WORDS.get(str(r["reason"]).rsplit("#", 1)[-1], str(r["reason"]))
            if word not in entry["reasons"]:
                entry["reasons"].append(word)
    for entry in measures.values():
        entry["status"] = ("not applied: " + ", ".join(entry["reasons"]) if entry["reasons"]
                           else "in force")
    return measures


def _diff_components(a: DutyAnswer, b: DutyAnswer) -> list[tuple[str, str, str]]:
    old = {c.measure: c for c in a.components}
    new = {c.measure: c for c in b.components}
    rows = [("started", new[k].label, _percent(new[k].ad_valorem_percent))
            for k in new if k not in old]
    rows += [("ended", old[k].label, _percent(old[k].ad_valorem_percent))
             for k in old if k not in new]
    rows += [("changed rate", new[k].label,
              f"{_percent(old[k].ad_valorem_percent)} -> {_percent(new[k].ad_valorem_percent)}")
             for k in new if k in old and old[k].ad_valorem_percent != new[k].ad_valorem_percent]
    rows.append(("total", "", f"{_total(a)} -> {_total(b)}"))
    return rows


def _total(answer: DutyAnswer) -> str:
    if answer.total_ad_valorem_percent is not None:
        return f"{answer.total_ad_valorem_percent:g}%"
    return f"incomplete (known {answer.known_part_percent:g}%)"


def render_diff(result: Diff, width: int | None = None) -> str:
    """The diff as text: the question, its coverage, and one row per change."""
    from kg.tables import text_table

    what = f"the duty on {result.hts}" if result.hts else "the measures in force"
    facts = f"; {facts_words(result.entry_facts)}" if result.entry_facts else ""
    lines = [f"Changes in {what} for goods of {result.origin} entered {result.first} vs "
             f"{result.second} (law as known on {result.as_known_on}{facts})"]
    lines.append("Coverage: complete" if result.complete
                 else "Coverage: INCOMPLETE: " + "; ".join(result.missing))
    if result.user_data:
        lines.append("With your data: " + ", ".join(result.user_data))
    lines += ["", text_table(["change", "measure", "detail"], [list(r) for r in result.rows],
                             width).rstrip()]
    return "\n".join(lines)
