"""The Python API a notebook uses (issue 13): kg.open_store, answer, answers, duty_timeline,
duty_diff, EntryFacts; the command line's checks and defaults, importable without the CLI."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest

import kg


@pytest.fixture(scope="module")
def store(shipped_store_root, shipped_store):
    return kg.open_store(shipped_store_root)


def test_the_api_names_are_exported():
    for name in ("answer", "answers", "duty_timeline", "duty_diff", "open_store", "open_endpoint",
                 "EntryFacts", "entry_facts", "DutyAnswer", "Timeline", "Diff"):
        assert name in kg.__all__ and callable(getattr(kg, name)), name
        assert getattr(kg, name).__doc__, name


def test_import_kg_stays_light():
    code = "import sys, kg; print('rdflib' in sys.modules, 'kg.duty' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_answer_with_both_time_views(store):
    answer = kg.answer(store, "8467.21.00", "JP", "2025-08-08", as_known_on=date(2026, 12, 1))
    assert answer.total_ad_valorem_percent == 1.7
    assert answer.as_applied.total_ad_valorem_percent == 16.7
    assert answer.to_dict()["as_applied"]["difference"] == "refundable"


def test_answer_takes_the_entry_facts(store):
    facts = kg.entry_facts(content={"steel": 40})
    assert facts == kg.EntryFacts(content={"steel": 40.0})
    with pytest.raises(kg.InputError, match="quota"):
        kg.entry_facts(quota="maybe")
    with pytest.raises(kg.InputError, match="unknown country 'XX'"):
        kg.answer(store, "8703.23.01", "XX", "2025-05-01")


def test_answers_of_a_batch(store, tmp_path):
    rows = [{"hts": "8703.23.01", "origin": "JP", "date": "2025-05-01",
             "as_known_on": "2025-05-01"},
            {"hts": "8703.23.01", "origin": "Japan", "date": "2025-10-01",
             "as_known_on": "2025-10-01"}]
    assert [a.total_ad_valorem_percent for a in kg.answers(store, rows)] == [27.5, 15.0]
    path = tmp_path / "q.csv"
    path.write_text("hts,origin,date,as_known_on\n8703.23.01,JP,2025-05-01,2025-05-01\n")
    assert [a.total_ad_valorem_percent for a in kg.answers(store, path)] == [27.5]
    with pytest.raises(kg.InputError, match="question 3: column hts: 8703 is a heading"):
        kg.answers(store, rows + [{"hts": "8703", "origin": "JP", "date": "2025-05-01"}])


def test_duty_timeline_and_diff(store):
    steps = kg.duty_timeline(store, "8703.23.01", "JP", "2025-03-01", "2025-12-31", "2026-12-01")
    assert [(s.start.isoformat(), s.total) for s in steps.steps] == [
        ("2025-03-01", 2.5), ("2025-04-03", 27.5), ("2025-09-16", 15.0)]
    change = kg.duty_diff(store, "JP", "2025-03-01", "2025-10-01", "2026-12-01", hts="8703.23.01")
    assert change.rows[-1] == ("total", "", "2.5% -> 15%")
    claimed = kg.duty_diff(store, "KR", "2025-03-01", "2025-06-01", "2026-12-01",
                           hts="8703.23.01", claim="KR")
    assert claimed.rows[-1] == ("total", "", "0% -> 25%")  # KORUS: MFN free (2025 HTS, 8703.23.01)
    assert claimed.to_dict()["entry_facts"]["claim"] == "KR"
    with pytest.raises(kg.InputError, match="give --hts"):
        kg.duty_diff(store, "KR", "2025-03-01", "2025-06-01", "2026-12-01", claim="KR")
