"""kg/batch.py: a batch of duty questions read safely and answered as a stream (issue 14 items 10,
12 and the batch items of its small list; issue 13's coverage column).

Most tests need no store: answer_stream takes any `ask`; answer_batch is run on the fixture graph
(tests/fixtures/queries) where an answer is needed.
"""

from __future__ import annotations

import csv
import io
import json
import os
import threading
import tracemalloc
from datetime import date

import pytest

from kg.batch import (
    CACHE_SIZE,
    COLUMNS,
    MAX_LINE,
    BatchFile,
    answer_batch,
    answer_stream,
    batch_header,
    check_format,
    physical_lines,
    question,
    table_rows,
)
from kg.duty import EntryFacts
from kg.errors import InputError

KNOWN = date(2026, 12, 1)


def batch(tmp_path, text: str, name: str = "batch.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


class Output:
    """An echo that records stdout and stderr lines apart, in order."""

    def __init__(self, on_line=None):
        self.out: list[str] = []
        self.err: list[str] = []
        self.on_line = on_line

    def __call__(self, text: str, err: bool = False, **_) -> None:
        (self.err if err else self.out).append(text)
        if self.on_line and not err:
            self.on_line(self)


# --- the file and its header: refused before anything is printed ---------------------------------

def test_dev_zero_and_devices_are_refused_before_reading():
    with pytest.raises(InputError, match="/dev/zero: is a device or socket, not a regular file"):
        BatchFile("/dev/zero")


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "questions.csv"
    os.mkfifo(fifo)
    outcome = []
    worker = threading.Thread(target=lambda: outcome.append(_try(BatchFile, fifo)), daemon=True)
    worker.start()
    worker.join(timeout=5)
    assert outcome and "is a FIFO" in outcome[0] and str(fifo) in outcome[0]


def _try(function, *args) -> str:
    try:
        function(*args)
    except InputError as error:
        return str(error)
    return "accepted"


def test_a_folder_and_a_missing_file_are_named(tmp_path):
    assert _try(BatchFile, tmp_path) == f"{tmp_path}: is a folder, not a batch file"
    assert _try(BatchFile, tmp_path / "none.csv") == f"{tmp_path / 'none.csv'}: no such batch file"


def test_a_file_over_the_limit_names_the_limit(tmp_path):
    path = batch(tmp_path, "hts,origin,date\n" + "8703.23.01,JP,2025-05-01\n" * 100)
    with pytest.raises(InputError, match=r"more than the limit for a batch file \(1,000 bytes\)"):
        BatchFile(path, max_bytes=1000)


@pytest.mark.parametrize("header, message", [
    ("hts,origin,date,date", "column 'date' appears twice"),
    ("hts,origin,date,HTS", "column 'hts' appears twice"),
    ("hts,origin", "lacks column date"),
    ("code,country,day", "lacks column hts, origin, date"),
    ("hts,origin,date,as_knwon_on", "unknown column 'as_knwon_on'"),
    ("hts,origin,date,claim,claim", "column 'claim' appears twice"),
    ("", "lacks column hts, origin, date"),
    ("hts;origin;date", "lacks column"),
])
def test_header_problems_are_errors_naming_file_and_line(tmp_path, header, message):
    path = batch(tmp_path, header + "\n8703.23.01,JP,2025-05-01\n")
    with pytest.raises(InputError, match=message) as caught:
        BatchFile(path)
    assert str(caught.value).startswith(f"{path}:1: ")


def test_header_names_are_trimmed_and_any_case(tmp_path):
    path = batch(tmp_path, "\ufeff HTS , Origin,date,AS_KNOWN_ON\r\n")
    assert BatchFile(path).columns == ["hts", "origin", "date", "as_known_on"]


def test_a_header_problem_prints_nothing(tmp_path):
    out = Output()
    with pytest.raises(InputError, match="appears twice"):
        answer_batch(None, batch(tmp_path, "hts,hts,origin,date\n"), "csv", out)
    assert out.out == [] and out.err == []
    assert batch_header("csv").startswith("hts,origin,date") and batch_header("jsonl") is None


def test_an_unreadable_header_is_named(tmp_path):
    path = tmp_path / "batch.csv"
    path.write_bytes(b"\xff\xfe\x00h\x00t\n")
    with pytest.raises(InputError, match=r"batch.csv:1: cannot read the header: .*not UTF-8"):
        BatchFile(path)


# --- lines and rows -------------------------------------------------------------------------------

def test_lines_split_on_cr_lf_and_crlf_across_chunks(monkeypatch):
    import kg.batch

    monkeypatch.setattr(kg.batch, "CHUNK", 3)  # every boundary case: CR|LF split over two reads
    data = b"\xef\xbb\xbfab\r\ncd\ref\n\ngh\r\n\r\nij"
    assert list(physical_lines(io.BytesIO(data))) == ["ab", "cd", "ef", "", "gh", "", "ij"]
    assert list(physical_lines(io.BytesIO(b"ab\r"))) == ["ab"]
    assert list(physical_lines(io.BytesIO(b""))) == []


def test_a_line_too_long_or_not_utf8_is_an_error_in_its_place():
    data = b"a\n" + b"x" * (MAX_LINE * 3) + b"\nb\n\xff\n" + b"y" * (MAX_LINE + 5)
    lines = list(physical_lines(io.BytesIO(data)))
    assert lines[0] == "a" and lines[2] == "b" and len(lines) == 5
    assert "longer than" in str(lines[1]) and "longer than" in str(lines[4])
    assert isinstance(lines[3], InputError) and "not UTF-8" in str(lines[3])


def test_rows_skip_blank_lines_and_refuse_extra_cells():
    lines = ["8703.23.01,JP,2025-05-01", "", " , ,", "x,JP,2025-05-01,2024-01-01",
             "x,JP,2025-05-01,,", '8708.99.81,DE,"2025-08-18"', "8703.23.01"]
    rows = list(table_rows(lines, ["hts", "origin", "date"], first_line=2))
    assert [number for number, _ in rows] == [2, 5, 6, 7, 8]
    assert isinstance(rows[1][1], InputError) and "4 cells, but the header has 3" in str(rows[1][1])
    assert rows[2][1] == {"hts": "x", "origin": "JP", "date": "2025-05-01"}  # empty extras: fine
    assert rows[4][1] == {"hts": "8703.23.01"}


# --- one row, one question ------------------------------------------------------------------------

@pytest.mark.parametrize("row, message", [
    ({"hts": "8703.23.01", "origin": "JP", "date": "2025-05-01", "as_known_on": "2024-06-01"},
     "column as_known_on: 2024-06-01 is before 2025-01-01"),
    ({"hts": "8703.23.01", "origin": "JP", "date": "2025-05-01", "as_known_on": "soon"},
     "column as_known_on: 'soon' is not a real date"),
    ({"hts": "8703.23.01", "origin": "JP", "date": "20250501"}, "column date: '20250501'"),
    ({"hts": "8703.23.01", "origin": "JP", "date": "2024-06-01"},
     "column date: 2024-06-01: the data begins"),
    ({"hts": "87x", "origin": "JP", "date": "2025-05-01"}, "column hts: '87x'"),
    ({"hts": "", "origin": "JP", "date": "2025-05-01"}, "column hts: no value"),
    ({"hts": "8703.23.01", "date": "2025-05-01"}, "column origin: no value"),
    ({"hts": "8703.23.01", "origin": "Atlantis", "date": "2025-05-01"},
     "column origin: unknown country 'Atlantis'"),
    ({"hts": "8" * 5000, "origin": "JP", "date": "2025-05-01"},
     "column hts: '8888.*longer than 200 characters"),
    ({"hts": "8703.23.01", "origin": "JP", "date": "2025-05-01", "claim": "K R"},
     "column claim: 'K R' is not a special program indicator"),
    ({"hts": "8703.23.01", "origin": "JP", "date": "2025-05-01", "quota": "half"},
     "column quota: 'half' must be 'in' or 'over'"),
    ({"hts": "8703.23.01", "origin": "JP", "date": "2025-05-01", "content": "tin=5"},
     "column content: 'tin=5': give metal=percent"),
    ({"hts": "8703.23.01", "origin": "JP", "date": "2025-05-01", "content": "steel=1;steel=2"},
     "column content: steel is given twice"),
    ({"hts": "8703.23.01", "origin": "JP", "date": "2025-05-01", "loaded": "2025-13-01"},
     "column loaded: '2025-13-01' is not a real date"),
])
def test_each_bad_cell_is_named_by_its_column(row, message):
    with pytest.raises(InputError, match=message) as caught:
        question(row, KNOWN)
    assert "--" not in str(caught.value) and len(str(caught.value)) < 400


def test_a_good_row_becomes_a_question_with_the_entry_facts():
    asked = question({"hts": "8703.23.01", "origin": "Japan", "date": "2025-05-01"}, "2025-06-01")
    assert asked == ("87032301", "JP", date(2025, 5, 1), date(2025, 6, 1), EntryFacts())
    full = question({"hts": "87032301", "origin": "KOR", "date": "2025-05-01",
                     "as_known_on": "2025-05-01", "claim": "kr", "quota": "IN",
                     "content": "steel=40;aluminum=10", "loaded": "2025-04-01"}, KNOWN)
    assert full.as_known_on == date(2025, 5, 1)
    assert full.facts == EntryFacts(claim="KR", quota="in",
                                    content={"steel": 40.0, "aluminum": 10.0},
                                    loaded=date(2025, 4, 1))
    assert question({"hts": "8703.23.01", "origin": "JP", "date": "2025-05-01", "claim": "none",
                     "quota": "over"}, KNOWN).key() == asked._replace(as_known_on=KNOWN).key()


# --- the stream -----------------------------------------------------------------------------------

def test_answers_stream_in_order_with_errors_named_by_line(tmp_path):
    path = batch(tmp_path, "\ufeffhts,origin,date\r\n8703.23.01,JP,2025-05-01\r\n\r\n"
                           "bad,JP,2025-05-01\r\n87032301,Japan,2025-05-01\r\n"
                           "7208.10.15,JP,2025-06-01,x\r\n")
    asked = []
    stream = answer_stream(BatchFile(path).rows(), lambda q: asked.append(q) or f"answer {q[0]}",
                           KNOWN)
    assert asked == []  # nothing is asked before the first answer is wanted
    first = next(stream)
    assert first == (2, "answer 87032301") and len(asked) == 1
    rest = list(stream)
    assert [line for line, _ in rest] == [4, 5, 6]
    assert isinstance(rest[0][1], InputError) and "column hts" in str(rest[0][1])
    assert rest[1] == (5, "answer 87032301") and len(asked) == 1  # asked once, answered twice
    assert isinstance(rest[2][1], InputError) and "4 cells" in str(rest[2][1])


def test_the_first_answer_is_written_before_the_last_row_is_read():
    """A generator of lines records how far it was read when each answer is written."""
    read = []

    def lines():
        yield from ()
        for number in range(5):
            read.append(number)
            yield f"8703.23.01,JP,2025-{number + 1:02d}-01"

    written = []
    rows = table_rows(lines(), ["hts", "origin", "date"], first_line=2)
    for line, answer in answer_stream(rows, lambda q: q.on.isoformat(), KNOWN):
        written.append((line, answer, len(read)))
    assert written[0] == (2, "2025-01-01", 1)  # answered when one row of five was read
    assert [rows_read for _, _, rows_read in written] == [1, 2, 3, 4, 5]


def test_answer_batch_reads_the_file_as_it_answers(tmp_path, fake_answers):
    """A row appended to the file once the first answer is written is answered too: the file is
    read as the answers are written, not before."""
    path = batch(tmp_path, "hts,origin,date\n8703.23.01,JP,2025-05-01\n")

    def append_once(output):
        if len(output.out) == 1:
            with open(path, "a", encoding="utf-8") as handle:
                handle.write("8703.23.01,JP,2025-06-01\n")

    out = Output(on_line=append_once)
    failures, _ = answer_batch(FakeBackend(), path, "jsonl", out, KNOWN)
    assert failures == 0 and [json.loads(line)["date"] for line in out.out] == [
        "2025-05-01", "2025-06-01"]


def test_the_cache_of_answers_is_bounded(tmp_path):
    rows = "".join(f"8703.23.01,JP,2025-{month:02d}-01\n" for month in range(1, 13))
    path = batch(tmp_path, "hts,origin,date\n" + rows * 2)
    asked = []
    answers = list(answer_stream(BatchFile(path).rows(), lambda q: asked.append(q) or q, KNOWN,
                                 cache_size=5))
    assert len(answers) == 24 and len(asked) == 24  # 12 distinct questions, cache of 5: no reuse
    asked.clear()
    list(answer_stream(BatchFile(path).rows(), lambda q: asked.append(q) or q, KNOWN,
                       cache_size=50))
    assert len(asked) == 12


def test_memory_stays_flat_over_many_distinct_questions(tmp_path):
    """50,000 distinct questions with big answers: what is kept is bounded by the cache size, not
    by the file (100 answers of 10 kB each at most, whatever the number of rows)."""
    days = [date(2025, 1, 1).toordinal() + n for n in range(700)]
    with open(tmp_path / "big.csv", "w", encoding="utf-8") as handle:
        handle.write("hts,origin,date\n")
        for n in range(50_000):
            handle.write(f"{8703230100 + n % 97},JP,{date.fromordinal(days[n % 700])}\n")
    tracemalloc.start()
    try:
        peaks = []
        stream = answer_stream(BatchFile(tmp_path / "big.csv").rows(), lambda q: "x" * 10_000,
                               KNOWN, cache_size=100)
        for number, _ in enumerate(stream):
            if number in (5_000, 49_000):
                peaks.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    assert peaks[1] - peaks[0] < 500_000, peaks  # no growth beyond noise
    assert peaks[1] < 100 * 10_000 + 1_000_000 and CACHE_SIZE <= 10_000


@pytest.mark.parametrize("fmt, expected", [(None, "jsonl"), ("json", "jsonl"), ("csv", "csv"),
                                           ("text", "text"), ("jsonl", "jsonl")])
def test_batch_formats(fmt, expected):
    assert check_format(fmt) == expected
    with pytest.raises(InputError, match="--format 'xml'"):
        check_format("xml")


# --- answer_batch on the fixture graph ------------------------------------------------------------

class FakeBackend:
    """Not a store: duty_answer is replaced in the tests that use it."""


@pytest.fixture
def fake_answers(monkeypatch):
    """kg.batch.duty_answer replaced by a made-up answer; the questions asked are recorded."""
    import kg.batch
    from kg.duty import Coverage, DutyAnswer
    from kg.inputs import dotted_hts

    asked = []

    def fake(backend, hts, origin, on, known, facts):
        asked.append((hts, origin, on, known, facts))
        if hts.startswith("9999"):
            raise InputError(f"unknown HTS code {hts}: not in any HTS revision")
        return DutyAnswer(hts=dotted_hts(hts), origin=origin, date=on.isoformat(),
                          as_known_on=known.isoformat(), entry_facts=facts.to_dict(),
                          total_ad_valorem_percent=2.5, known_part_percent=2.5,
                          coverage=Coverage(complete=origin == "JP", missing=[], gaps=[], reach={}),
                          components=[], not_applied=[], notes=[])

    monkeypatch.setattr(kg.batch, "duty_answer", fake)
    return asked


def test_answer_batch_reports_bad_rows_and_answers_the_others(tmp_path, fake_answers):
    path = batch(tmp_path, "hts,origin,date,claim\n8703.23.01,JP,2025-05-01,\n"
                           "9999.99.99,JP,2025-05-01,\n8703.23.01,CN,2025-05-01,K R\n"
                           "8703.23.01,CN,2025-05-01,S\n")
    out = Output()
    failures, incomplete = answer_batch(FakeBackend(), path, "csv", out, KNOWN)
    assert (failures, incomplete) == (2, 1)
    assert out.err == [f"tariffkg: error: {path}:3: column hts: unknown HTS code 99999999: not in "
                       "any HTS revision",
                       f"tariffkg: error: {path}:4: column claim: 'K R' is not a special program "
                       "indicator of HTS General Note 3(c)(i) (e.g. KR, S, JP, AU)"]
    rows = list(csv.DictReader(io.StringIO("\n".join(out.out))))
    assert list(rows[0]) == COLUMNS
    assert [(r["origin"], r["claim"], r["complete"]) for r in rows] == [("JP", "", "yes"),
                                                                         ("CN", "S", "no")]


def test_answer_batch_text_format_is_text(tmp_path, fake_answers):
    path = batch(tmp_path, "hts,origin,date\n8703.23.01,JP,2025-05-01\n8703.23.01,JP,2025-06-01\n")
    out = Output()
    answer_batch(FakeBackend(), path, "text", out, KNOWN)
    assert len(out.out) == 2 and all(text.endswith("\n") for text in out.out)
    assert not any(text.lstrip().startswith("{") for text in out.out)
    assert "8703.23.01" in out.out[0] and "2025-06-01" in out.out[1]


def test_answer_batch_asks_a_repeated_question_once(tmp_path, fake_answers):
    path = batch(tmp_path, "hts,origin,date,quota,content\n8703.23.01,JP,2025-05-01,,steel=40\n"
                           "87032301,Japan,2025-05-01,OVER,steel=40.0\n")
    out = Output()
    answer_batch(FakeBackend(), path, "jsonl", out, KNOWN)
    assert len(out.out) == 2 and out.out[0] == out.out[1] and len(fake_answers) == 1


def test_answer_batch_on_the_fixture_graph(mini_store, tmp_path):
    path = batch(tmp_path, "hts,origin,date,as_known_on,claim,loaded\n"
                           "8703.23.01,JP,2025-05-01,2025-05-01,,\n"
                           "8703.23.01,CA,2025-05-15,2025-05-15,S,2025-04-01\n")
    out = Output()
    assert answer_batch(mini_store, path, "jsonl", out, KNOWN)[0] == 0
    answers = [json.loads(line) for line in out.out]
    assert [a["total_ad_valorem_percent"] for a in answers] == [27.5, 25.0]
    assert answers[1]["entry_facts"] == {"claim": "S", "quota": "over", "content": {},
                                         "loaded": "2025-04-01"}


# --- the command line: flushed row by row, text as text, nothing before a fatal error -------------

GATED_CLI = '''
import sys, time
from pathlib import Path
import kg.batch, kg.cli
from kg.duty import Coverage, DutyAnswer
from kg.inputs import dotted_hts

gate = Path(sys.argv[1])

def answer(backend, hts, origin, on, known, facts):
    if on.month == 6:  # the second row waits until the test has seen the first answer
        deadline = time.monotonic() + 60
        while not gate.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
    return DutyAnswer(hts=dotted_hts(hts), origin=origin, date=on.isoformat(),
                      as_known_on=known.isoformat(), entry_facts=facts.to_dict(),
                      total_ad_valorem_percent=2.5, known_part_percent=2.5,
                      coverage=Coverage(complete=True, missing=[], gaps=[], reach={}),
                      components=[], not_applied=[], notes=[])

kg.batch.duty_answer = answer
kg.cli.open_answer_backend = lambda *args, **kw: object()
sys.argv = ["tariffkg"] + sys.argv[2:]
kg.cli.main()
'''


def test_the_command_writes_each_answer_as_soon_as_it_is_known(tmp_path):
    """The first answer reaches a pipe while the second row is still being answered."""
    import subprocess
    import sys

    script = tmp_path / "gated.py"
    script.write_text(GATED_CLI, encoding="utf-8")
    gate = tmp_path / "gate"
    path = batch(tmp_path, "hts,origin,date\n8703.23.01,JP,2025-05-01\n8703.23.01,JP,2025-06-01\n")
    child = subprocess.Popen([sys.executable, str(script), str(gate), "duty", "--batch", str(path),
                              "--format", "csv", "--as-known-on", "2026-12-01"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        reader = threading.Thread(target=lambda: lines.extend(
            [child.stdout.readline(), child.stdout.readline()]), daemon=True)
        reader.start()
        reader.join(timeout=30)
        assert child.poll() is None and not gate.exists()  # the second row is still waiting
        assert lines[0].startswith("hts,origin,date")
        assert lines[1].startswith("8703.23.01,JP,2025-05")
        gate.touch()
        out, err = child.communicate(timeout=60)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == 0, err
    assert out.startswith("8703.23.01,JP,2025-06-01")


def test_the_command_refuses_a_bad_header_before_any_output(tmp_path):
    from click.testing import CliRunner

    from kg.cli import main

    path = batch(tmp_path, "hts,origin,date,origin\n8703.23.01,JP,2025-05-01,JP\n")
    result = CliRunner().invoke(main, ["duty", "--batch", str(path), "--format", "csv"],
                                env={"TARIFFKG_HOME": str(tmp_path / "no-store")})
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.strip() == (f"tariffkg: error: {path}:1: column 'origin' appears twice "
                                     "in the header")
    assert not (tmp_path / "no-store").exists()  # refused before the store was opened or built


def test_the_command_writes_text_as_text(tmp_path, monkeypatch, fake_answers):
    from click.testing import CliRunner

    import kg.cli
    from kg.cli import main

    monkeypatch.setattr(kg.cli, "open_answer_backend", lambda *args, **kw: FakeBackend())
    path = batch(tmp_path, "hts,origin,date\n8703.23.01,JP,2025-05-01\n8703.23.01,XX,2025-05-01\n")
    result = CliRunner().invoke(main, ["duty", "--batch", str(path), "--format", "text",
                                       "--as-known-on", "2026-12-01"])
    assert result.exit_code == 2
    assert "8703.23.01" in result.stdout and not result.stdout.lstrip().startswith("{")
    assert result.stderr.startswith(f"tariffkg: error: {path}:3: column origin: unknown country")
