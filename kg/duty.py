"""The duty answer: what applied to a product from an origin on a date, as known on a day.

The stored query duty_on_date.rq decides which measures apply and why others do not; this module
only groups its rows per measure, computes the total from the applied components and renders it.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal

from rdflib import URIRef
from rdflib.term import Identifier

from kg.errors import InputError
from kg.inputs import country_code, date_term, dotted_hts, hts_digits
from kg.namespaces import ID, TKG, country_iri, hts_iri
from kg.queries import stored_query

MFN_AUTHORITY = URIRef(ID + "authority/mfn")
INCLUSIVE = TKG.InclusiveOfMFN
REASONS = {
    "excluded product": "outside scope: the product is excluded",
    "excluded origin": "outside scope: the origin is excluded",
    "invalidated": "invalidated by",
    "superseded": "superseded (retroactively) by",
    "suspended": "suspended by",
    "stacking": "excluded by stacking rule",
}


@dataclass
class Source:
    """A citation of a component: the instrument's identifier and its URL."""

    citation: str
    url: str | None


@dataclass
class Component:
    """One measure that applies, with the ad valorem percent it adds to the total."""

    measure: str
    label: str
    authority: str
    chapter99: str | None
    ad_valorem_percent: float | None
    other_rate: str | None
    rate_text: str | None
    sources: list[Source] = field(default_factory=list)


@dataclass
class NotApplied:
    """A measure that covers the question but does not apply, and why."""

    measure: str
    label: str
    reason: str


@dataclass
class DutyAnswer:
    """The answer to one duty question (the JSON contract in the README)."""

    hts: str
    origin: str
    date: str
    as_known_on: str
    total_ad_valorem_percent: float
    components: list[Component]
    not_applied: list[NotApplied]
    notes: list[str]

    def to_dict(self) -> dict:
        """The answer as the documented JSON object."""
        return asdict(self)


def duty_answer(backend, hts: str, origin: str, on: date, as_known_on: date) -> DutyAnswer:
    """Answer: what duty applied to hts from origin entered on `on`, as the law was known on as_known_on."""
    digits = hts_digits(hts, "--hts")
    if len(digits) not in (8, 10):
        raise InputError(f"--hts {hts!r}: give a tariff line (8 digits) or statistical line (10 digits)")
    iso = country_code(origin)
    product = _product(backend, digits)
    rows = backend.select(stored_query("duty_on_date").text, {
        "product": URIRef(hts_iri(digits)),
        "origin": URIRef(country_iri(iso)),
        "date": date_term(on),
        "asKnownOn": date_term(as_known_on),
    })
    components, not_applied, notes = _group(rows)
    total, total_notes = _total(components)
    notes += total_notes + _product_notes(product, digits, on) + _reach_notes(backend, on)
    notes += _origin_notes(backend, iso)
    return DutyAnswer(
        hts=dotted_hts(digits), origin=iso, date=on.isoformat(), as_known_on=as_known_on.isoformat(),
        total_ad_valorem_percent=total, components=components, not_applied=not_applied, notes=notes,
    )


def _product(backend, digits: str) -> dict[str, Identifier]:
    rows = _cached(backend, ("product", digits), lambda: backend.select(
        stored_query("product").text, {"product": URIRef(hts_iri(digits))}))
    if not rows:
        raise InputError(f"unknown HTS code {dotted_hts(digits)}: not in any HTS revision from 2025 Basic on")
    return rows[0]


def _group(rows: list[dict[str, Identifier]]):
    """Fold the query's rows (one per measure and source) into components and not-applied."""
    measures: dict[str, dict] = {}
    for row in rows:
        entry = measures.setdefault(str(row["measure"]), {"row": row, "sources": []})
        if "source" in row:
            source = Source(str(row.get("citation", row["source"])), _text(row.get("page")))
            if source not in entry["sources"]:
                entry["sources"].append(source)
    applied = [e for e in measures.values() if str(e["row"]["status"]) == "applied"]
    mfn = next((e["row"] for e in applied if e["row"].get("authority") == MFN_AUTHORITY), None)
    notes = [] if mfn else ["no MFN rate found for this line on this date"]
    components = [_component(e["row"], e["sources"], _mfn_ad_valorem(mfn), notes) for e in applied]
    not_applied = [
        NotApplied(key, _text(e["row"].get("label")) or key, _reason(e["row"]))
        for key, e in measures.items()
        if str(e["row"]["status"]) != "applied"
    ]
    return components, not_applied, notes


def _component(row: dict, sources: list[Source], mfn_percent: float | None, notes: list[str]) -> Component:
    """A component; an inclusive-of-MFN total T becomes the addition max(0, T - MFN)."""
    key = str(row["measure"])
    label = _text(row.get("label")) or key
    percent = _float(row.get("adValorem"))
    other = _text(row.get("specificText"))
    if row.get("rateType") == INCLUSIVE:
        other = f"{percent:g}% inclusive of MFN"
        if mfn_percent is None:
            notes.append(f"{label}: the MFN rate is not ad valorem, so the addition "
                         f"max(0, {percent:g} - MFN) cannot be computed; left out of the total")
            percent = None
        else:
            assert percent is not None, f"{label}: inclusive rate without its percent"
            percent = max(0.0, round(percent - mfn_percent, 6))
    return Component(
        measure=key, label=label, authority=_text(row.get("authority")) or "",
        chapter99=_notation(row.get("chapter99")), ad_valorem_percent=percent,
        other_rate=other, rate_text=_text(row.get("rateText")), sources=sources,
    )


def _total(components: list[Component]) -> tuple[float, list[str]]:
    """The sum of the ad valorem parts, and a note for specific MFN parts left out of it."""
    notes = []
    specific = [c.other_rate for c in components if c.authority == str(MFN_AUTHORITY) and c.other_rate]
    if specific:
        notes.append(f"plus a specific MFN duty of {', '.join(specific)}, not included in the percentage")
    return round(sum(c.ad_valorem_percent or 0.0 for c in components), 6), notes


def _float(term) -> float | None:
    return None if term is None else float(Decimal(str(term)))


def _mfn_ad_valorem(mfn: dict | None) -> float | None:
    if mfn is None or mfn.get("rateType") in (TKG.Specific, TKG.TextRate):
        return None
    percent = mfn.get("adValorem")
    return float(Decimal(str(percent))) if percent is not None else None


def _reason(row: dict) -> str:
    reason = REASONS.get(str(row.get("reason")), str(row.get("reason")))
    by = _text(row.get("reasonByName")) or _text(row.get("reasonBy"))
    if str(row.get("reason")) in ("excluded product", "excluded origin") or not by:
        return reason
    return f"{reason} {by}"


def _product_notes(product: dict, digits: str, on: date) -> list[str]:
    start, end = product.get("validFrom"), product.get("validUntil")
    if (start and on < start.toPython()) or (end and on >= end.toPython()):
        return [f"{dotted_hts(digits)} was not a line of the HTS on {on}"]
    return []


def _reach_notes(backend, on: date) -> list[str]:
    rows = _cached(backend, "data_reach", lambda: backend.select(stored_query("data_reach").text, {}))
    if not rows:
        return []
    latest = rows[0]["issued"].toPython()
    if on > latest:
        name = _text(rows[0].get("identifier")) or str(rows[0]["instrument"])
        return [f"the data reaches {latest} (latest source: {name}); later changes are not in the graph"]
    return []


def _cached(backend, key, compute):
    """Answers that do not depend on the date, kept per backend for batches."""
    cache = backend.__dict__.setdefault("_answers", {})
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def _origin_notes(backend, iso: str) -> list[str]:
    rows = _cached(backend, ("origin", iso), lambda: backend.select(
        stored_query("origin_measures").text, {"origin": URIRef(country_iri(iso))}))
    if rows:
        return []
    note = (f"the graph has no measure specific to {iso}: only measures for all countries are applied "
            "(the curated timeline covers goods of Japanese origin)")
    return [note]


def _text(term) -> str | None:
    return None if term is None else str(term)


def _notation(term) -> str | None:
    if term is None:
        return None
    digits = str(term).rsplit("/", 1)[-1]
    return dotted_hts(digits) if digits.isdigit() else digits



def render(answer: DutyAnswer, fmt: str) -> str:
    """The answer as 'text' (a readable table with citations), 'json' or 'csv' (one row per part)."""
    if fmt == "json":
        return json.dumps(answer.to_dict(), indent=2, ensure_ascii=False)
    if fmt == "csv":
        return _components_csv(answer).rstrip("\n")
    return _text_report(answer)


def _text_report(answer: DutyAnswer) -> str:
    from kg.tables import text_table

    heading = (f"Duty on {answer.hts} from {answer.origin} entered {answer.date}"
               f" (law as known on {answer.as_known_on})")
    lines = [heading, ""]
    sources: list[Source] = []
    body = []
    for c in answer.components:
        refs = []
        for source in c.sources:
            if source not in sources:
                sources.append(source)
            refs.append(f"[{sources.index(source) + 1}]")
        added = "-" if c.ad_valorem_percent is None else f"{c.ad_valorem_percent:g}%"
        body.append([c.label, _short(c.authority), c.chapter99 or "-", c.other_rate or c.rate_text or "",
                     added, " ".join(refs)])
    lines.append(text_table(["measure", "authority", "ch. 99", "rate", "adds", "sources"], body).rstrip())
    lines.append(f"TOTAL ad valorem: {answer.total_ad_valorem_percent:g}%")
    if sources:
        lines += ["", "Sources:"] + [f"  [{i}] {s.citation}" + (f"  {s.url}" if s.url else "")
                                      for i, s in enumerate(sources, 1)]
    if answer.not_applied:
        lines += ["", "Not applied:"] + [f"  - {n.label}: {n.reason}" for n in answer.not_applied]
    if answer.notes:
        lines += ["", "Notes:"] + [f"  * {note}" for note in answer.notes]
    return "\n".join(lines)


BATCH_COLUMNS = ["hts", "origin", "date", "as_known_on", "total_ad_valorem_percent", "components",
                 "not_applied", "notes"]


def _components_csv(answer: DutyAnswer) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["measure", "label", "authority", "chapter99", "ad_valorem_percent", "other_rate",
                     "sources"])
    for c in answer.components:
        writer.writerow([c.measure, c.label, _short(c.authority), c.chapter99 or "",
                         "" if c.ad_valorem_percent is None else f"{c.ad_valorem_percent:g}",
                         c.other_rate or "", "; ".join(s.citation for s in c.sources)])
    writer.writerow(["TOTAL", "", "", "", f"{answer.total_ad_valorem_percent:g}", "", ""])
    return out.getvalue()


def batch_row(answer: DutyAnswer) -> list[str]:
    """One CSV row of a batch answer (columns BATCH_COLUMNS)."""
    return [
        answer.hts, answer.origin, answer.date, answer.as_known_on,
        f"{answer.total_ad_valorem_percent:g}",
        "; ".join(f"{c.label}: {'-' if c.ad_valorem_percent is None else f'{c.ad_valorem_percent:g}%'}"
                  for c in answer.components),
        "; ".join(f"{n.label}: {n.reason}" for n in answer.not_applied),
        "; ".join(answer.notes),
    ]


def read_batch(path) -> list[tuple[int, dict[str, str]]]:
    """The questions of a batch CSV as (line number, row); BOM, CRLF and blank lines are fine."""
    from pathlib import Path

    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: no such batch file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read: {error}") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in ("hts", "origin", "date") if name not in header]
    if missing:
        raise InputError(f"{path}:1: the header lacks column {', '.join(missing)}"
                         " (expected hts,origin,date[,as_known_on])")
    reader.fieldnames = header
    rows = []
    for row in reader:
        values = {k: (v or "").strip() for k, v in row.items() if k is not None}
        if any(values.values()):
            rows.append((reader.line_num, values))
    return rows


def answer_batch(backend, path, fmt: str, echo, default_known_on: str | None = None) -> int:
    """Answer every row of a batch CSV in input order; report bad rows on stderr; return their count."""
    from kg.inputs import parse_date, parse_known_on

    failures = 0
    if fmt == "csv":
        out = io.StringIO()
        csv.writer(out, lineterminator="").writerow(BATCH_COLUMNS)
        echo(out.getvalue())
    answers: dict[tuple, DutyAnswer] = {}  # batches repeat questions; each is asked once
    for line, row in read_batch(path):
        try:
            empty = [name for name in ("hts", "origin", "date") if not row.get(name)]
            if empty:
                raise InputError(f"no value in column {', '.join(empty)}")
            known = parse_known_on(row.get("as_known_on") or default_known_on)
            question = (hts_digits(row["hts"], "hts"), country_code(row["origin"]),
                        parse_date(row["date"]), known)
            if question not in answers:
                answers[question] = duty_answer(backend, *question)
            answer = answers[question]
        except InputError as error:
            failures += 1
            echo(f"tariffkg: error: {path}:{line}: {error}", err=True)
            continue
        if fmt == "csv":
            out = io.StringIO()
            csv.writer(out, lineterminator="").writerow(batch_row(answer))
            echo(out.getvalue())
        else:
            echo(json.dumps(answer.to_dict(), ensure_ascii=False))
    return failures


def _short(iri: str) -> str:
    return iri.rsplit("/", 1)[-1] if iri else ""
