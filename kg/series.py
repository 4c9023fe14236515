"""A whole-schedule series: the duty on every HTS line from origins over a period, as the maximal
periods in which it stays the same.

For each 8-digit line under the prefixes asked and each origin, the line's duty is the answer of
`tariffkg duty` (kg.duty.answer_from_evidence on the fast path's rows, kg.fast) on the first day,
then again only where it can change: the stored query change_days lists the entry days on which
anything in the law changes (as known on the day asked), and the fast path records which of those
boundaries the line's answer depends on (Evaluation's track), so a line is asked again only on
those. Neighbouring periods with the same row are merged. Each row gives the period
[valid_from, valid_until) (valid_until exclusive; empty when the period runs to the end asked),
the ad valorem total (empty when the graph lacks a part of it: then complete is "no" and missing
says what), what each authority adds, the Chapter 99 headings of the duties applied and the
specific (per-unit) rates, which are never in the ad valorem total.

As known on: one day for every entry day (the default: today, like `tariffkg duty`), or "entry"
for the law as applied at the time (as known on each entry day itself); for "entry" the candidate
days are every day on which a window's entry or known days, a coverage or a court decision begin
or end (the union of change_days over every day the known axis changes).
"""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from kg.duty import DutyAnswer, EntryFacts, answer_from_evidence, question_bindings
from kg.errors import InputError
from kg.inputs import date_term, dotted_hts
from kg.namespaces import ID

# Authority columns in this order first; any other authority the graph names follows, sorted.
AUTHORITIES = ["mfn", "section-232", "ieepa", "section-122", "section-301", "section-338",
               "section-201"]
HEAD = ["hts", "origin", "valid_from", "valid_until", "total_ad_valorem_percent", "complete",
        "known_part_percent"]
TAIL = ["chapter99", "other_rates", "missing"]
ENTRY = "entry"


@dataclass
class SeriesSpec:
    """What a series covers."""

    origins: list[str]          # ISO alpha-2 codes
    prefixes: list[str]         # HTS digit prefixes (2 to 8 digits)
    start: date                 # first entry day
    end: date                   # last entry day (inclusive)
    known_on: date | None       # the law as known on this day; None: as known on each entry day


def hts_prefix(text: str) -> str:
    """The digits of an HTS prefix, dots optional: a chapter (2 digits) up to a line (8)."""
    digits = re.sub(r"[.\s]", "", text)
    if not re.fullmatch(r"[0-9]{2}(?:[0-9]{2}){0,3}", digits):
        raise InputError(f"--hts {text.strip()!r}: give a chapter, heading, subheading or line "
                         "(2, 4, 6 or 8 digits, dots optional)")
    return digits


def default_prefixes() -> list[str]:
    """Chapters 1 to 97."""
    return [f"{chapter:02d}" for chapter in range(1, 98)]


def columns(index) -> list[str]:
    """The columns of a series: the graph's authorities in AUTHORITIES order, then the others."""
    from kg.duty import _short

    named = {_short(index.term(a)) for values in index.tables["authority"].values() for a in values}
    return HEAD + AUTHORITIES + sorted(named - set(AUTHORITIES)) + TAIL


def lines_under(index, prefixes: Iterable[str], start: date, end: date) -> list[tuple]:
    """(digits, first day, day after the last) of each 8-digit line under a prefix that is a line
    of the HTS on some day of [start, end], its days clipped to the period."""
    wanted = tuple(prefixes)
    lines = []
    stop = date.fromordinal(end.toordinal() + 1)
    for iri, (valid_from, valid_until) in index.products.items():
        digits = iri[len(ID) + 4:]
        if len(digits) != 8 or not digits.isdigit() or not digits.startswith(wanted):
            continue
        first = max(start, _day(valid_from) or start)
        after = min(stop, _day(valid_until) or stop)
        if first < after:
            lines.append((digits, first, after))
    return sorted(lines)


def _day(value) -> date | None:
    from kg.fast import _as_date

    return _as_date(value) if value is not None else None


def candidate_days(backend, index, start: date, stop: date, known_on: date | None) -> set[date]:
    """The entry days in (start, stop) on which an answer may change (see the module docstring)."""
    from kg.queries import stored_query, substitute_parameters

    if known_on is not None:
        text = substitute_parameters(stored_query("change_days").text, {
            "from": date_term(start), "until": date_term(stop), "asKnownOn": date_term(known_on)})
        days = {row["day"].toPython() for row in backend.select(text, {})}
    else:
        days = {d for spans in index.spans.values() for span in spans for d in span}
        days |= {d for rows in index.coverage.values() for _, a, b in rows for d in (a, b)}
        days |= {d for rows in index.decided.values() for d, _ in rows}
    return {d for d in days if start < d < stop}


def line_periods(index, digits: str, origin: str, first: date, after: date, known_on: date | None,
                 candidates: set[date], facts: EntryFacts, cols: list[str],
                 stop: date | None = None) -> list[dict]:
    """The maximal periods of constant duty of one line from one origin within [first, after);
    a period that reaches stop (the day after the last day asked) is open (valid_until empty)."""
    from kg.duty import NAMED_COLUMNS, unknown_code
    from kg.fast import Evaluation, Question

    product = index.product(f"{ID}hts/{digits}")
    if product is None:
        raise unknown_code(digits)
    asked = question_bindings(digits, origin, first, first, facts)
    claim, quota, loaded = str(asked["claim"]), str(asked["quota"]), asked["loaded"].toPython()
    periods: list[dict] = []
    day = first
    last_key = None
    while day < after:
        track: set = set()
        known = known_on or day
        question = Question(str(asked["product"]), str(asked["origin"]), day, known, claim, quota,
                            loaded)
        evaluation = Evaluation(index, question, track, track_known=known_on is None)
        rows, gap_rows = evaluation.raw_duty_rows(), evaluation.raw_gap_rows()
        key = (_frozen(rows), _frozen(gap_rows))
        if key != last_key:
            rows, gap_rows = index.to_terms(rows), index.to_terms(gap_rows)
            named = {str(t) for row in rows for k in NAMED_COLUMNS if (t := row.get(k)) is not None}
            answer = answer_from_evidence(digits, origin, day, known, facts, product, rows,
                                          gap_rows, index.describe(named), index.reach)
            values = row_values(answer, cols)
            if not periods or periods[-1]["_values"] != values:
                periods.append({"_values": values, "valid_from": day})
            last_key = key
        day = min((d for d in track if day < d < after and d in candidates), default=after)
    rows = []
    for number, period in enumerate(periods):
        until = periods[number + 1]["valid_from"] if number + 1 < len(periods) else after
        row = dict(zip(cols, period["_values"]))
        row.update(hts=dotted_hts(digits), origin=origin,
                   valid_from=period["valid_from"].isoformat(),
                   valid_until=None if until == stop else until.isoformat())
        rows.append(row)
    return rows


def _frozen(rows: list[dict]) -> frozenset:
    """Rows of index values as a set (the same rows give the same series row)."""
    return frozenset(tuple(sorted(row.items())) for row in rows)


def row_values(answer: DutyAnswer, cols: list[str]) -> tuple:
    """The values of a series row for an answer, in column order (hts, origin and days: None)."""
    total = answer.total_ad_valorem_percent
    adds: dict[str, float | None] = {}
    headings: set[str] = set()
    other = []
    for component in answer.components:
        key = component.authority
        if key in adds and adds[key] is None or component.ad_valorem_percent is None:
            adds[key] = None
        else:
            adds[key] = round((adds.get(key) or 0.0) + component.ad_valorem_percent, 6)
        if component.chapter99:
            headings.update(h.strip() for h in component.chapter99.split(","))
        if component.other_rate and component.rate_type != "inclusive of MFN":
            other.append(f"{key}: {component.other_rate}")
    values = {"total_ad_valorem_percent": total, "complete": answer.coverage.complete,
              "known_part_percent": answer.known_part_percent,
              "chapter99": " ".join(sorted(headings)), "other_rates": "; ".join(other),
              "missing": "; ".join(answer.coverage.missing)}
    return tuple(values[c] if c in values else adds.get(c, 0.0) if c not in HEAD else None
                 for c in cols)


# ---------------------------------------------------------------------------------------------
# Running a series (in worker processes for big ones) and writing it
# ---------------------------------------------------------------------------------------------

_WORK: dict = {}


def _line_rows(line: tuple[str, date, date]) -> list[dict]:
    work = _WORK
    digits, first, after = line
    rows = []
    for origin in work["origins"]:
        rows += line_periods(work["index"], digits, origin, first, after, work["known_on"],
                             work["candidates"], work["facts"], work["columns"], work["stop"])
    return rows


@dataclass
class SeriesPlan:
    """A series ready to run: its columns and lines (rows come from run)."""

    columns: list[str]
    lines: list[tuple]
    origins: list[str]

    def run(self, progress: Callable[[int], None] | None = None,
            jobs: int | None = None) -> Iterator[dict]:
        """The rows (by line, then origin, then period), streamed; progress(1) after each line."""
        jobs = jobs or default_jobs(len(self.lines) * len(self.origins))
        return _stream(self.lines, jobs, progress)


def plan_series(backend, spec: SeriesSpec) -> SeriesPlan:
    """Check the spec, find the lines and the candidate days of a series."""
    from kg.fast import fast_path, index_for

    if spec.end < spec.start:
        raise InputError(f"--to {spec.end} is before --from {spec.start}")
    index = fast_path(backend) or index_for(backend)
    stop = date.fromordinal(spec.end.toordinal() + 1)
    lines = lines_under(index, spec.prefixes, spec.start, spec.end)
    if not lines:
        raise InputError(f"no 8-digit HTS line under {', '.join(spec.prefixes)} between "
                         f"{spec.start} and {spec.end}")
    cols = columns(index)
    _WORK.update(index=index, origins=spec.origins, known_on=spec.known_on, facts=EntryFacts(),
                 stop=stop, columns=cols,
                 candidates=candidate_days(backend, index, spec.start, stop, spec.known_on))
    return SeriesPlan(cols, lines, list(spec.origins))


def default_jobs(questions: int) -> int:
    """Worker processes: one per CPU (at most 4) for big series, none for small ones."""
    return 1 if questions < 4000 else max(1, min(4, os.cpu_count() or 1))


def _stream(lines: list, jobs: int, progress) -> Iterator[dict]:
    chunk = 64
    if jobs <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        for line in lines:
            yield from _line_rows(line)
            if progress:
                progress(1)
        return
    context = multiprocessing.get_context("fork")  # the workers share the index already loaded
    with context.Pool(jobs) as pool:
        for rows in pool.imap(_line_rows, lines, chunksize=chunk):
            yield from rows
            if progress:
                progress(1)


def write_series(cols: list[str], rows: Iterable[dict], fmt: str, out) -> int:
    """Write rows as CSV (header first) or JSON Lines to a text stream; return the row count."""
    count = 0
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(cols)
        for row in rows:
            writer.writerow([_csv(row.get(c)) for c in cols])
            count += 1
    else:
        for row in rows:
            out.write(json.dumps({c: row.get(c) for c in cols}, ensure_ascii=False) + "\n")
            count += 1
    return count


def _csv(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def series_text(cols: list[str], rows: Iterable[dict], fmt: str = "csv") -> str:
    """A series as text (for tests and small series)."""
    out = io.StringIO()
    write_series(cols, rows, fmt, out)
    return out.getvalue()
