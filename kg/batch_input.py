"""Reading a batch of duty questions (`tariffkg duty --batch FILE.csv`) safely and in a stream.

* The file must be a regular file of at most MAX_BATCH_BYTES: /dev/zero, a FIFO or a socket are
  refused before they are opened (reading them would never end, or block).
* The header is checked before anything is printed: the required columns (hts, origin, date),
  the optional as_known_on, no column twice, no unknown column.
* Rows are read one by one and answered as they come (the output streams), repeated questions
  are answered once from a bounded cache, so memory does not grow with the file.
* A bad cell is named by its line and column (`batch.csv:7: column date: ...`), a cell longer
  than MAX_CELL characters is refused without being echoed whole.

How kg/batch.py's answer_batch can use it (its question() still validates each row):

    source = BatchFile(path)                       # raises InputError before any output
    header = batch_header(fmt)                     # the CSV header, or None
    if header:
        echo(header)
    for line, result in answer_stream(source, lambda asked: duty_answer(backend, *asked),
                                      default_known_on):
        if isinstance(result, InputError):
            failures += 1
            echo(f"tariffkg: error: {path}:{line}: {result}", err=True)
        else:
            echo(render_batch_answer(result, fmt))
"""

from __future__ import annotations

import csv
import io
import json
from collections import OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kg.errors import InputError
from kg.inputs import MAX_BATCH_BYTES, check_regular_file, parse_known_on, shown

FORMATS = ("jsonl", "csv", "text")
MAX_CELL = 200
CACHE_SIZE = 10_000
csv.field_size_limit(MAX_CELL * 50)


class BatchFile:
    """A batch CSV, checked (regular file, size, header) when made; rows() streams its rows."""

    def __init__(self, path: Path | str, max_bytes: int = MAX_BATCH_BYTES):
        self.path = Path(path)
        check_regular_file(self.path, "batch file", max_bytes)
        self.columns = self._header()

    def _open(self):
        try:
            return open(self.path, "rb")
        except OSError as error:
            raise InputError(f"{self.path}: cannot read: {error.strerror or error}") from None

    def _header(self) -> list[str]:
        with self._open() as handle:
            try:
                first = next(csv.reader(_lines(handle, self.path)), None)
            except csv.Error as error:
                raise InputError(f"{self.path}:1: cannot read the header: {error}") from None
        return check_header(first or [], self.path)

    def rows(self) -> Iterator[tuple[int, dict[str, str] | InputError]]:
        """(line number, row) for every non-blank row, or (line, InputError) for a bad one."""
        with self._open() as handle:
            reader = csv.reader(_lines(handle, self.path))
            next(reader, None)
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as error:
                    yield reader.line_num, InputError(f"cannot read the row: {error}")
                    continue
                if not any(cell.strip() for cell in cells):
                    continue
                if len(cells) > len(self.columns):
                    yield reader.line_num, InputError(
                        f"{len(cells)} cells, but the header has {len(self.columns)} columns")
                    continue
                yield reader.line_num, dict(zip(self.columns, (c.strip() for c in cells)))


def _lines(handle, path: Path) -> Iterator[str]:
    """The file's lines as text (a UTF-8 BOM dropped, CR, LF and CRLF endings); a byte that is not
    UTF-8 becomes an InputError naming the file and line."""
    number = 0
    while True:
        raw = handle.readline(MAX_CELL * 50)
        if not raw:
            return
        number += 1
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InputError(f"{path}:{number}: cannot read: not UTF-8 text "
                             f"({error.reason})") from None
        yield from text.splitlines(keepends=True)


def check_header(cells: list[str], path: Path | str) -> list[str]:
    """The column names of a batch header: required ones present, none twice, none unknown."""
    from kg.batch import OPTIONAL, REQUIRED

    expected = f"(expected {','.join(REQUIRED)}[,{','.join(OPTIONAL)}])"
    names = [cell.strip().lower() for cell in cells]
    seen, twice = set(), []
    for name in names:
        if name in seen and name not in twice:
            twice.append(name)
        seen.add(name)
    if twice:
        raise InputError(f"{path}:1: column {', '.join(twice)} appears twice in the header")
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise InputError(f"{path}:1: the header lacks column {', '.join(missing)} {expected}")
    unknown = [name for name in names if name not in REQUIRED + OPTIONAL]
    if unknown:
        raise InputError(f"{path}:1: unknown column {', '.join(shown(n) for n in unknown)} "
                         f"{expected}")
    return names


def question(row: dict[str, str], default_known_on: str | None = None) -> tuple:
    """The validated question of one row (kg.batch.question, after the cells' length is checked):
    an InputError names the bad column."""
    from kg.batch import question as batch_question

    for name, value in row.items():
        if len(value) > MAX_CELL:
            raise InputError(f"column {name}: {shown(value)} is longer than {MAX_CELL} characters")
    known = row.get("as_known_on")
    if known:
        parse_known_on(known, what="column as_known_on:")  # not before the data begins
    return batch_question(row, default_known_on)


def question_key(asked: tuple) -> tuple:
    """A hashable key of a question (its entry facts as sorted JSON)."""
    facts: Any = asked[4] if len(asked) > 4 else None
    extra = json.dumps(facts.to_dict(), sort_keys=True) if hasattr(facts, "to_dict") else facts
    return (*asked[:4], extra)


def answer_stream(batch: BatchFile, ask: Callable[[tuple], object],
                  default_known_on: str | None = None,
                  cache_size: int = CACHE_SIZE) -> Iterator[tuple[int, object]]:
    """(line, answer) for each row in order, or (line, InputError); each distinct question is
    asked once while it stays among the last cache_size questions."""
    cache: OrderedDict[tuple, object] = OrderedDict()
    for line, row in batch.rows():
        if isinstance(row, InputError):
            yield line, row
            continue
        try:
            asked = question(row, default_known_on)
            key = question_key(asked)
            if key in cache:
                cache.move_to_end(key)
            else:
                cache[key] = ask(asked)
                if len(cache) > cache_size:
                    cache.popitem(last=False)
            yield line, cache[key]
        except InputError as error:
            yield line, error


def check_format(fmt: str | None) -> str:
    """The batch output format: jsonl (default), csv or text."""
    fmt = fmt or "jsonl"
    if fmt == "json":
        fmt = "jsonl"
    if fmt not in FORMATS:
        raise InputError(f"--format {fmt} cannot be used with --batch (use jsonl, csv or text)")
    return fmt


def batch_header(fmt: str) -> str | None:
    """The first output line of a batch in fmt (the CSV header), or None."""
    if fmt != "csv":
        return None
    from kg.batch import COLUMNS

    return _csv_line(COLUMNS)


def render_batch_answer(answer, fmt: str) -> str:
    """One answer of a batch: a JSON line, a CSV row, or the text report and a blank line."""
    from kg.batch import batch_row
    from kg.report import render

    if fmt == "csv":
        return _csv_line(batch_row(answer))
    if fmt == "text":
        return render(answer, "text") + "\n"
    return json.dumps(answer.to_dict(), ensure_ascii=False)


def _csv_line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    return out.getvalue()
