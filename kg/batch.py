"""Answering a batch of duty questions from a CSV file, one answer per row, in input order.

Columns: hts, origin, date (required); as_known_on, claim, quota, content, loaded (optional, with
the same defaults as the duty command's options). Bad rows are reported on stderr with their line
number and column; each distinct question is asked once.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from kg.duty import DutyAnswer, EntryFacts, duty_answer, parse_content
from kg.errors import InputError
from kg.inputs import (
    country_code,
    hts_digits,
    parse_date,
    parse_known_on,
    preference_term,
    quota_term,
)

REQUIRED = ("hts", "origin", "date")
OPTIONAL = ("as_known_on", "claim", "quota", "content", "loaded")
COLUMNS = ["hts", "origin", "date", "as_known_on", "claim", "quota", "content", "loaded",
           "total_ad_valorem_percent", "known_part_percent", "complete", "coverage", "components",
           "not_applied", "notes"]


def read_batch(path) -> list[tuple[int, dict[str, str]]]:
    """The questions of a batch CSV as (line number, row); BOM, CRLF and blank lines are fine."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: no such batch file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read: {error}") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise InputError(f"{path}:1: the header lacks column {', '.join(missing)}"
                         f" (expected {','.join(REQUIRED)}[,{','.join(OPTIONAL)}])")
    unknown = [name for name in header if name not in REQUIRED + OPTIONAL]
    if unknown:
        raise InputError(f"{path}:1: unknown column {', '.join(unknown)}")
    reader.fieldnames = header
    rows = []
    for row in reader:
        values = {k: (v or "").strip() for k, v in row.items() if k is not None}
        if any(values.values()):
            rows.append((reader.line_num, values))
    return rows


def question(row: dict[str, str], default_known_on: str | None) -> tuple:
    """The validated question of one row; an InputError names the column."""
    empty = [name for name in REQUIRED if not row.get(name)]
    if empty:
        raise InputError(f"no value in column {', '.join(empty)}")
    claim = row.get("claim") or None
    if claim:
        preference_term(claim, "column claim")
    quota = row.get("quota") or "over"
    quota_term(quota, "column quota")
    loaded = parse_date(row["loaded"], "column loaded") if row.get("loaded") else None
    facts = EntryFacts(claim=claim.upper() if claim else None, quota=quota.lower(),
                       content=parse_content(row.get("content"), "column content"), loaded=loaded)
    known = row.get("as_known_on") or default_known_on
    return (hts_digits(row["hts"], "column hts"), country_code(row["origin"]),
            parse_date(row["date"], "column date"),
            parse_known_on(known) if known is None or row.get("as_known_on") is None
            else parse_known_on(known, what="column as_known_on"), facts)


def batch_row(answer: DutyAnswer) -> list[str]:
    """One CSV row of a batch answer (columns COLUMNS)."""
    from kg.report import coverage_text

    facts = answer.entry_facts
    total = answer.total_ad_valorem_percent
    return [
        answer.hts, answer.origin, answer.date, answer.as_known_on, facts["claim"] or "",
        facts["quota"], ";".join(f"{k}={v:g}" for k, v in facts["content"].items()),
        facts["loaded"] or "", "" if total is None else f"{total:g}",
        f"{answer.known_part_percent:g}", "yes" if answer.coverage.complete else "no",
        coverage_text(answer),
        "; ".join(f"{c.label}: {_percent(c.ad_valorem_percent)}" for c in answer.components),
        "; ".join(f"{n.label}: {', '.join(r.reason for r in n.reasons)}"
                  for n in answer.not_applied),
        "; ".join(answer.notes),
    ]


def _percent(value: float | None) -> str:
    return "?" if value is None else f"{value:g}%"


def answer_batch(backend, path, fmt: str, echo, default_known_on: str | None = None) -> int:
    """Answer every row of a batch CSV in input order; report bad rows on stderr.

    Returns the number of bad rows.
    """
    rows = read_batch(path)
    failures = 0
    if fmt == "csv":
        echo(_csv_line(COLUMNS))
    answers: dict[tuple, DutyAnswer] = {}
    for line, row in rows:
        try:
            asked = question(row, default_known_on)
            key = asked[:4] + (json.dumps(asked[4].to_dict(), sort_keys=True),)
            if key not in answers:
                answers[key] = duty_answer(backend, *asked)
            answer = answers[key]
        except InputError as error:
            failures += 1
            echo(f"tariffkg: error: {path}:{line}: {error}", err=True)
            continue
        if fmt == "csv":
            echo(_csv_line(batch_row(answer)))
        else:
            echo(json.dumps(answer.to_dict(), ensure_ascii=False))
    return failures


def _csv_line(values: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(values)
    return out.getvalue()
