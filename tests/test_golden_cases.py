"""Golden duty answers from the sources, one CSV row per case (tests/golden/<area>.csv).

Each row was computed by hand from the primary sources named in its `source` column, by the person
who curated that area. Columns: hts, origin, date, as_known_on (an ISO date, or `entry` for the
entry date itself: what was applied), claim, quota, content (`steel=40;aluminum=10`), loaded (the
entry facts; empty for the defaults), expect (`authority=percent;...`: what the applied parts of
each listed authority add, other authorities unchecked), total (the whole ad valorem total when the
curator was sure of every layer), source. A case with a total also requires a complete answer.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from kg.duty import EntryFacts, duty_answer, parse_content

GOLDEN = Path(__file__).resolve().parent / "golden"


def golden_cases() -> list:
    """Every case of every golden file, with an id naming its file and line."""
    cases = []
    for path in sorted(GOLDEN.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            for row in reader:
                if not (row.get("hts") or "").strip():
                    continue
                cases.append(pytest.param(row, id=f"{path.stem}:{reader.line_num}"))
    return cases


CASES = golden_cases()


def test_there_are_golden_cases():
    assert len(CASES) >= 100


def expected_parts(text: str) -> dict[str, float]:
    """`ieepa=10;mfn=2.5` -> {'ieepa': 10.0, 'mfn': 2.5}."""
    parts = {}
    for item in filter(None, (p.strip() for p in (text or "").split(";"))):
        name, _, value = item.partition("=")
        parts[name.strip()] = float(value)
    return parts


@pytest.mark.parametrize("case", CASES)
def test_golden_case(shipped_store, case):
    on = date.fromisoformat(case["date"])
    known = on if case["as_known_on"] in ("entry", "") else date.fromisoformat(case["as_known_on"])
    facts = EntryFacts(
        claim=(case.get("claim") or "").strip().upper() or None,
        quota=(case.get("quota") or "").strip().lower() or "over",
        content=parse_content((case.get("content") or "").replace(";", ",")),
        loaded=date.fromisoformat(case["loaded"]) if (case.get("loaded") or "").strip() else None,
    )
    answer = duty_answer(shipped_store, case["hts"], case["origin"], on, known, facts)
    by_authority: dict[str, float] = {}
    for component in answer.components:
        by_authority.setdefault(component.authority, 0.0)
        by_authority[component.authority] += component.ad_valorem_percent or 0.0
    got = {name: round(by_authority.get(name, 0.0), 4) for name in expected_parts(case["expect"])}
    want = {name: round(value, 4) for name, value in expected_parts(case["expect"]).items()}
    parts = "\n".join(f"  {c.authority}: {c.label} adds {c.ad_valorem_percent}"
                      for c in answer.components)
    skipped = "; ".join(f"{n.label} ({', '.join(r.reason for r in n.reasons)})"
                        for n in answer.not_applied)
    explain = (f"{case['source']}\n{parts}\n  not applied: {skipped}"
               f"\n  coverage: {answer.coverage.missing}")
    assert got == want, explain
    if (case.get("total") or "").strip():
        assert answer.coverage.complete, explain
        assert round(answer.total_ad_valorem_percent, 4) == round(float(case["total"]), 4), explain
