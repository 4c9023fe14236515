"""kg/batch_input.py: reading a batch of duty questions safely and as a stream (issue 14 items 10,
12 and the batch items of the small list). The lead wires these into kg/duty.answer_batch."""

from __future__ import annotations

import os
import threading
from datetime import date

import pytest

from kg.batch_input import (
    BatchFile,
    answer_stream,
    batch_header,
    check_format,
    question,
)
from kg.errors import InputError


def batch(tmp_path, text: str, name: str = "batch.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


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
    assert outcome and "is a FIFO" in outcome[0]


def _try(function, *args) -> str:
    try:
        function(*args)
    except InputError as error:
        return str(error)
    return "accepted"


def test_a_file_over_the_limit_names_the_limit(tmp_path):
    path = batch(tmp_path, "hts,origin,date\n" + "8703.23.01,JP,2025-05-01\n" * 100)
    with pytest.raises(InputError, match=r"more than the limit for a batch file \(1,000 bytes\)"):
        BatchFile(path, max_bytes=1000)


@pytest.mark.parametrize("header, message", [
    ("hts,origin,date,date", "column date appears twice"),
    ("hts,origin,date,HTS", "column hts appears twice"),
    ("hts,origin", "lacks column date"),
    ("hts,origin,date,as_knwon_on", "unknown column 'as_knwon_on'"),
    ("hts,origin,date,claim,claim", "column claim appears twice"),
])
def test_header_problems_are_errors_before_any_output(tmp_path, header, message):
    with pytest.raises(InputError, match=message):
        BatchFile(batch(tmp_path, header + "\n8703.23.01,JP,2025-05-01\n"))


def test_the_csv_header_is_only_printed_after_the_file_was_accepted(tmp_path):
    printed = []
    with pytest.raises(InputError):
        accepted = BatchFile(batch(tmp_path, "hts,hts,origin,date\n"))
        printed.append(batch_header("csv"))  # the caller prints after BatchFile succeeded
        del accepted
    assert printed == []
    assert batch_header("csv").startswith("hts,origin,date") and batch_header("jsonl") is None


@pytest.mark.parametrize("row, message", [
    ({"hts": "8703.23.01", "origin": "JP", "date": "2025-05-01", "as_known_on": "2024-06-01"},
     "column as_known_on: 2024-06-01 is before 2025-01-01"),
    ({"hts": "8703.23.01", "origin": "JP", "date": "2025-05-01", "as_known_on": "soon"},
     "column as_known_on: 'soon' is not a real date"),
    ({"hts": "8703.23.01", "origin": "JP", "date": "20250501"}, "column date '20250501'"),
    ({"hts": "87x", "origin": "JP", "date": "2025-05-01"}, "column hts '87x'"),
    ({"hts": "", "origin": "JP", "date": "2025-05-01"}, "no value in column hts"),
    ({"hts": "8" * 5000, "origin": "JP", "date": "2025-05-01"}, "longer than 200 characters"),
])
def test_each_bad_cell_is_named_by_its_column(row, message):
    with pytest.raises(InputError, match=message) as caught:
        question(row)
    assert "--as-known-on" not in str(caught.value) and len(str(caught.value)) < 300


def test_a_good_row_becomes_a_question():
    asked = question({"hts": "8703.23.01", "origin": "Japan", "date": "2025-05-01"}, "2025-06-01")
    assert asked[:4] == ("87032301", "JP", date(2025, 5, 1), date(2025, 6, 1))


def test_answers_stream_in_order_with_errors_named_by_line(tmp_path):
    path = batch(tmp_path, "\ufeffhts,origin,date\r\n8703.23.01,JP,2025-05-01\r\n\r\n"
                           "bad,JP,2025-05-01\r\n8703.23.01,JP,2025-05-01\r\n7208.10.15,JP,2025-06-01,x\r\n")
    asked = []
    stream = answer_stream(BatchFile(path), lambda q: asked.append(q) or f"answer {q[0]}")
    assert asked == []  # nothing is asked before the first row is wanted
    first = next(stream)
    assert first == (2, "answer 87032301") and len(asked) == 1
    rest = list(stream)
    assert [line for line, _ in rest] == [4, 5, 6]
    assert isinstance(rest[0][1], InputError) and "column hts" in str(rest[0][1])
    assert rest[1] == (5, "answer 87032301") and len(asked) == 1  # asked once, answered twice
    assert isinstance(rest[2][1], InputError) and "4 cells" in str(rest[2][1])


def test_the_cache_of_answers_is_bounded(tmp_path):
    rows = "".join(f"8703.23.01,JP,2025-{month:02d}-01\n" for month in range(1, 13))
    path = batch(tmp_path, "hts,origin,date\n" + rows * 2)
    asked = []
    answers = list(answer_stream(BatchFile(path), lambda q: asked.append(q) or q, cache_size=5))
    assert len(answers) == 24 and len(asked) == 24  # 12 distinct questions, cache of 5: no reuse
    asked.clear()
    answers = list(answer_stream(BatchFile(path), lambda q: asked.append(q) or q, cache_size=50))
    assert len(asked) == 12


def test_undecodable_bytes_name_the_line(tmp_path):
    path = tmp_path / "batch.csv"
    path.write_bytes(b"hts,origin,date\n8703.23.01,JP,2025-05-01\n\xff\xfe,JP,2025-05-01\n")
    with pytest.raises(InputError, match=r"batch.csv:3: cannot read: not UTF-8"):
        list(answer_stream(BatchFile(path), lambda q: q))


@pytest.mark.parametrize("fmt, expected", [(None, "jsonl"), ("json", "jsonl"), ("csv", "csv"),
                                           ("text", "text")])
def test_batch_formats(fmt, expected):
    assert check_format(fmt) == expected
    with pytest.raises(InputError, match="--format xml"):
        check_format("xml")
