"""Answering a batch of duty questions (`tariffkg duty --batch FILE.csv`) as a stream.

Columns: hts, origin, date (required); as_known_on, claim, quota, content, loaded (optional, with
the duty command's defaults; the cells are checked by the parsers of its options).

* The file must be a regular file of at most MAX_BATCH_BYTES (/dev/zero, a FIFO, a socket or a
  folder is refused before it is opened) with a usable header (the required columns, none twice,
  none unknown): checked when BatchFile is made, before anything is printed.
* Rows are read, answered and written one by one (the output streams); a repeated question is
  answered from a bounded cache of the last CACHE_SIZE answers, so memory does not grow with the
  file.
* A bad row is reported as `FILE:LINE: column X: ...` and the other rows are still answered.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import NamedTuple, TypeVar

from kg.duty import (
    DutyAnswer,
    EntryFacts,
    check_entry_date,
    duty_answer,
    parse_entry_facts,
    reason_text,
)
from kg.errors import InputError
from kg.inputs import (
    MAX_BATCH_BYTES,
    check_regular_file,
    country_code,
    hts_digits,
    parse_date,
    parse_known_on,
    shown,
)

REQUIRED = ("hts", "origin", "date")
OPTIONAL = ("as_known_on", "claim", "quota", "content", "loaded")
COLUMNS = ["hts", "origin", "date", "as_known_on", "claim", "quota", "content", "loaded",
           "total_ad_valorem_percent", "known_part_percent", "complete", "coverage", "components",
           "not_applied", "notes", "applied_at_entry_percent", "difference"]
FORMATS = ("jsonl", "csv", "text")
MAX_CELL = 200  # characters of a cell
MAX_LINE = 64 * 1024  # bytes of a line
CACHE_SIZE = 2_000  # answers kept for repeated questions
CHUNK = 64 * 1024
_NEWLINE = re.compile(rb"\r\n|\r|\n")
T = TypeVar("T")


class Question(NamedTuple):
    """One checked question of a batch: duty_answer's arguments."""

    hts: str  # digits
    origin: str  # ISO alpha-2
    on: date
    as_known_on: date
    facts: EntryFacts

    def key(self) -> tuple:
        """The question as a hashable key (the same question written two ways is one key)."""
        facts = self.facts
        return (self.hts, self.origin, self.on, self.as_known_on, facts.claim, facts.quota,
                tuple(sorted(facts.content.items())), facts.loaded)


class BatchFile:
    """A batch CSV, checked (regular file, size, header) when made; rows() streams its rows."""

    def __init__(self, path: Path | str, max_bytes: int = MAX_BATCH_BYTES):
        self.path = Path(path)
        check_regular_file(self.path, "batch file", max_bytes)
        with self._open() as handle:
            first = next(physical_lines(handle), None)
        if isinstance(first, InputError):
            raise InputError(f"{self.path}:1: cannot read the header: {first}")
        self.columns = check_header(_cells(first or ""), self.path)

    def _open(self):
        try:
            return open(self.path, "rb")
        except OSError as error:
            raise InputError(f"{self.path}: cannot read: {error.strerror or error}") from None

    def rows(self) -> Iterator[tuple[int, dict[str, str] | InputError]]:
        """(line number, row) for every non-blank row after the header, read as they are wanted,
        or (line, InputError) for a row that cannot be read."""
        with self._open() as handle:
            lines = physical_lines(handle)
            next(lines, None)
            yield from table_rows(lines, self.columns, first_line=2)


def physical_lines(handle) -> Iterator[str | InputError]:
    """The lines of a binary file as text, read in chunks as they are wanted (CR, LF or CRLF
    endings; a UTF-8 BOM dropped); a line that is not UTF-8 or longer than MAX_LINE bytes
    becomes an InputError in its place (its bytes are not kept)."""
    rest, number, too_long = b"", 0, False
    while chunk := handle.read(CHUNK):
        data = rest + chunk
        held = data.endswith(b"\r")  # a CRLF may straddle two chunks
        parts = _NEWLINE.split(data[:-1] if held else data)
        rest = parts.pop() + (b"\r" if held else b"")
        for raw in parts:
            number += 1
            yield _too_long() if too_long else _decoded(raw, number)
            too_long = False
        if len(rest) > MAX_LINE:
            rest, too_long = b"", True
    if rest or too_long:
        yield _too_long() if too_long else _decoded(rest.rstrip(b"\r"), number + 1)


def _too_long() -> InputError:
    return InputError(f"the line is longer than {MAX_LINE:,} bytes")


def _decoded(raw: bytes, number: int) -> str | InputError:
    if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return InputError(f"cannot read the row: not UTF-8 text (byte {error.start + 1})")


def _cells(line: str) -> list[str]:
    """The cells of one CSV line; csv.Error (an open quote, a NUL) becomes an InputError."""
    try:
        return next(csv.reader([line]), [])
    except csv.Error as error:
        raise InputError(f"cannot read the row: {error}") from None


def table_rows(lines: Iterable[str | InputError], columns: list[str], first_line: int = 1
               ) -> Iterator[tuple[int, dict[str, str] | InputError]]:
    """(line number, row as {column: stripped cell}) for each non-blank line, one by one, or
    (line, InputError) for a line that cannot be read or has more cells than the header."""
    for number, line in enumerate(lines, first_line):
        if isinstance(line, InputError):
            yield number, line
            continue
        try:
            cells = [cell.strip() for cell in _cells(line)]
        except InputError as error:
            yield number, error
            continue
        if not any(cells):
            continue
        if any(cells[len(columns):]):
            yield number, InputError(f"{len(cells)} cells, but the header has {len(columns)} "
                                     "columns (quote a cell that holds a comma)")
            continue
        yield number, dict(zip(columns, cells))


def check_header(cells: list[str], path: Path | str) -> list[str]:
    """The column names of a batch header: required ones present, none twice, none unknown."""
    expected = f"(expected {','.join(REQUIRED)}[,{','.join(OPTIONAL)}])"
    names = [cell.strip().lower() for cell in cells]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise InputError(f"{path}:1: column {', '.join(shown(n) for n in twice)} appears twice in "
                         "the header")
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise InputError(f"{path}:1: the header lacks column {', '.join(missing)} {expected}")
    unknown = [name for name in names if name not in REQUIRED + OPTIONAL]
    if unknown:
        raise InputError(f"{path}:1: unknown column {', '.join(shown(n) for n in unknown)} "
                         f"{expected}")
    return names


def question(row: dict[str, str], default_known_on: date | str | None = None) -> Question:
    """The checked question of one row; an InputError names the bad column ("column X: ...").

    An empty as_known_on takes default_known_on (default: today), the other optional columns the
    duty command's defaults.
    """
    for name, value in row.items():
        if len(value) > MAX_CELL:
            raise InputError(f"column {name}: {shown(value)} is longer than {MAX_CELL} "
                             "characters")
    empty = [name for name in REQUIRED if not row.get(name)]
    if empty:
        raise InputError(f"column {', '.join(empty)}: no value")
    digits = hts_digits(row["hts"], "column hts:")
    try:
        origin = country_code(row["origin"])
    except InputError as error:
        raise InputError(f"column origin: {error}") from None
    on = parse_date(row["date"], "column date:")
    check_entry_date(on, "column date:")
    if row.get("as_known_on"):
        known = parse_known_on(row["as_known_on"], what="column as_known_on:")
    elif isinstance(default_known_on, date):
        known = default_known_on
    else:
        known = parse_known_on(default_known_on)
    facts = parse_entry_facts(row.get("claim"), row.get("quota"), row.get("content"),
                              row.get("loaded"), label="column {}:")
    return Question(digits, origin, on, known, facts)


def answer_stream(rows: Iterable[tuple[int, dict[str, str] | InputError]],
                  ask: Callable[[Question], T], default_known_on: date | str | None = None,
                  cache_size: int = CACHE_SIZE) -> Iterator[tuple[int, T | InputError]]:
    """(line, ask(question)) for each row as it is read, or (line, InputError) for a bad row.

    A question is asked once while it stays among the last cache_size distinct questions; an
    InputError from ask (an HTS code no revision lists, a heading) names column hts.
    """
    cache: OrderedDict[tuple, T] = OrderedDict()
    for line, row in rows:
        if isinstance(row, InputError):
            yield line, row
            continue
        try:
            asked = question(row, default_known_on)
        except InputError as error:
            yield line, error
            continue
        key = asked.key()
        if key in cache:
            cache.move_to_end(key)
            yield line, cache[key]
            continue
        try:
            result = ask(asked)
        except InputError as error:
            yield line, InputError(f"column hts: {error}")
            continue
        if cache_size > 0:
            cache[key] = result
            if len(cache) > cache_size:
                cache.popitem(last=False)
        yield line, result


def check_format(fmt: str | None) -> str:
    """The batch output format: jsonl (the default; json means it too), csv or text."""
    fmt = fmt or "jsonl"
    if fmt == "json":
        fmt = "jsonl"
    if fmt not in FORMATS:
        raise InputError(f"--format {shown(fmt)} cannot be used with --batch (use json, csv or "
                         "text)")
    return fmt


def batch_header(fmt: str) -> str | None:
    """The first output line of a batch in fmt (the CSV header), or None."""
    return _csv_line(COLUMNS) if fmt == "csv" else None


def render_batch_answer(answer: DutyAnswer, fmt: str, width: int | None = None) -> str:
    """One answer of a batch: a JSON line, a CSV line (COLUMNS), or the text report followed by
    a blank line."""
    if fmt == "csv":
        return _csv_line(batch_row(answer))
    if fmt == "text":
        from kg.report import render

        return render(answer, "text", width) + "\n"
    return json.dumps(answer.to_dict(), ensure_ascii=False)


def batch_row(answer: DutyAnswer) -> list[str]:
    """One CSV row of a batch answer (columns COLUMNS)."""
    from kg.report import coverage_text, difference_text

    facts = answer.entry_facts
    total = answer.total_ad_valorem_percent
    applied = answer.as_applied
    then = applied.total_ad_valorem_percent if applied else None
    return [
        answer.hts, answer.origin, answer.date, answer.as_known_on, facts["claim"] or "",
        facts["quota"], ";".join(f"{k}={v:g}" for k, v in facts["content"].items()),
        facts["loaded"] or "", "" if total is None else f"{total:g}",
        f"{answer.known_part_percent:g}", "yes" if answer.coverage.complete else "no",
        coverage_text(answer),
        "; ".join(f"{c.label}: {_percent(c.ad_valorem_percent)}" for c in answer.components),
        "; ".join(f"{n.label}: {', '.join(reason_text(r) for r in n.reasons)}"
                  for n in answer.not_applied),
        "; ".join(answer.notes),
        "" if then is None else f"{then:g}", difference_text(answer) or "",
    ]


def answer_batch(backend, source: BatchFile | Path | str, fmt: str, echo,
                 default_known_on: date | str | None = None, cache_size: int = CACHE_SIZE,
                 width: int | None = None) -> tuple[int, int]:
    """Answer every row of a batch in input order, writing each answer as soon as it is known
    (echo(text), which should flush) and each bad row on stderr (echo(text, err=True)).

    The file is checked before the first line is written. Returns the number of bad rows and of
    incomplete answers.
    """
    batch = source if isinstance(source, BatchFile) else BatchFile(source)
    fmt = check_format(fmt)
    known = parse_known_on(default_known_on) if not isinstance(default_known_on, date) \
        else default_known_on

    def ask(asked: Question) -> tuple[str, bool]:
        answer = duty_answer(backend, *asked)
        return render_batch_answer(answer, fmt, width), answer.coverage.complete

    header = batch_header(fmt)
    if header:
        echo(header)
    failures = incomplete = 0
    for line, result in answer_stream(batch.rows(), ask, known, cache_size):
        if isinstance(result, InputError):
            failures += 1
            echo(f"tariffkg: error: {batch.path}:{line}: {result}", err=True)
            continue
        text, complete = result
        incomplete += not complete
        echo(text)
    return failures, incomplete


def _percent(value: float | None) -> str:
    return "?" if value is None else f"{value:g}%"


def _csv_line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    return out.getvalue()
