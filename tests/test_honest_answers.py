"""What a broker found (issue 13): the answer must not mislead. One test (or more) per finding.

Runs `tariffkg duty` through click's CliRunner on the session-built store (TARIFFKG_HOME points at
its root) and duty_answer on the store itself. Every run passes --as-known-on (never today).
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date

import pytest
from click.testing import CliRunner

from kg.cli import main
from kg.duty import duty_answer

KNOWN = "2026-12-01"


@pytest.fixture(scope="module")
def cli(shipped_store_root, shipped_store):
    """Run `tariffkg ARGS` against the session store; return the click Result."""
    runner = CliRunner(env={"TARIFFKG_HOME": str(shipped_store_root), "COLUMNS": "100"})

    def run(*args: str):
        return runner.invoke(main, list(args))

    return run


def ask(cli, hts, origin, on, known=KNOWN, *more):
    return cli("duty", "--hts", hts, "--origin", origin, "--date", on, "--as-known-on", known,
               *more)


def ask_json(cli, hts, origin, on, known=KNOWN):
    result = ask(cli, hts, origin, on, known, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


# --- Coverage on every answer, in every format; --strict -----------------------------------------

def test_an_incomplete_answer_says_so_in_every_format(cli):
    text = ask(cli, "8703.23.01", "CN", "2025-05-01")
    assert text.exit_code == 0, text.stderr
    assert text.stdout.splitlines()[1].startswith("Coverage: INCOMPLETE: ")
    assert "TOTAL ad valorem: incomplete" in text.stdout
    answer = ask_json(cli, "8703.23.01", "CN", "2025-05-01")
    assert answer["coverage"]["complete"] is False and answer["total_ad_valorem_percent"] is None
    assert answer["coverage"]["missing"]
    rows = list(csv.reader(io.StringIO(ask(cli, "8703.23.01", "CN", "2025-05-01", KNOWN,
                                           "--format", "csv").stdout)))
    total = next(r for r in rows if r[0] == "TOTAL")
    assert total[rows[0].index("coverage")].startswith("INCOMPLETE")


def test_strict_prints_the_answer_then_exits_2(cli):
    result = ask(cli, "8703.23.01", "CN", "2025-05-01", KNOWN, "--strict")
    assert result.exit_code == 2
    assert result.stdout.startswith("Duty on 8703.23.01 from CN")
    assert result.stderr.startswith("tariffkg: incomplete: ")
    assert len(result.stderr.strip().splitlines()) == 1
    complete = ask(cli, "8703.23.01", "JP", "2025-05-01", "2025-05-01", "--strict")
    assert complete.exit_code == 0, complete.stderr


# --- Dates outside the data -----------------------------------------------------------------

def test_an_entry_date_before_the_data_is_refused(cli):
    result = ask(cli, "8703.23.01", "JP", "2024-06-01", "2025-01-01")
    assert result.exit_code == 2
    assert "2024-06-01" in result.stderr and "2025-01-01" in result.stderr
    assert "(no rows)" not in result.stdout


def test_a_question_past_the_data_says_so_in_the_header(cli):
    result = ask(cli, "8703.23.01", "JP", "2030-01-02", "2030-01-02")
    assert result.exit_code == 0, result.stderr
    header = result.stdout.split("\n\n")[0]
    assert "Past the data: the entry date 2030-01-02 is past the schedule's reach" in header
    assert "Past the data: the as-known-on date 2030-01-02 is past the legal acts' reach" in header
    answer = json.loads(ask(cli, "8703.23.01", "JP", "2030-01-02", "2030-01-02",
                            "--format", "json").stdout)
    assert len(answer["coverage"]["beyond_reach"]) == 2


# --- Both time views ---------------------------------------------------------------------------

def test_applied_at_entry_beside_as_known_today(cli):
    # EO 14326 Annex I: Japan 15% additional from 2025-08-07 (heading 9903.02.30), collected on
    # 2025-08-08; as known after the ruling of 2026-02-20 it is invalidated and refundable.
    result = ask(cli, "8467.21.00", "JP", "2025-08-08")
    assert result.exit_code == 0, result.stderr
    header = result.stdout.split("\n\n")[0]
    assert ("Applied at entry (law as known on 2025-08-08): 16.7%; as known on 2026-12-01: 1.7%; "
            "15% of the value less than applied at entry: refundable") in header
    assert "Both time views:" in result.stdout
    answer = ask_json(cli, "8467.21.00", "JP", "2025-08-08")
    applied = answer["as_applied"]
    assert answer["total_ad_valorem_percent"] == 1.7
    assert applied["as_known_on"] == "2025-08-08" and applied["total_ad_valorem_percent"] == 16.7
    assert applied["difference_percent"] == -15 and applied["difference"] == "refundable"
    assert {p["measure"].rsplit("/", 1)[-1] for p in applied["components"]} >= {
        "ieepa-reciprocal-jp-2025-08-07"}


def test_one_time_view_when_asked_as_applied(cli):
    answer = json.loads(ask(cli, "8467.21.00", "JP", "2025-08-08", "2025-08-08",
                            "--format", "json").stdout)
    assert answer["as_applied"] is None and answer["total_ad_valorem_percent"] == 16.7


def not_applied(answer, key):
    return next(n for n in answer.not_applied if n.measure.endswith(key))


# --- Every reason, a rule's triggers grouped ----------------------------------------------------

def test_every_reason_a_measure_is_not_applied(shipped_store):
    answer = duty_answer(shipped_store, "8703.23.01", "JP", date(2025, 5, 1), date(2026, 12, 1))
    reciprocal = not_applied(answer, "ieepa-reciprocal-jp-2025-04-09")
    assert {r.reason for r in reciprocal.reasons} >= {"stacking rule", "invalidated", "suspended"}


def test_one_rule_with_its_triggers_listed(shipped_store):
    # A refrigerator of China on 2025-08-20: the China reciprocal rate is excluded by one rule,
    # triggered by two Section 232 derivative measures (steel appliances and aluminum inclusions).
    answer = duty_answer(shipped_store, "8418.10.00", "CN", date(2025, 8, 20), date(2025, 8, 20))
    reciprocal = not_applied(answer, "ieepa-reciprocal-cn-2025-05-14")
    from kg.duty import reason_text

    stacking = [r for r in reciprocal.reasons if r.reason == "stacking rule"]
    assert len(stacking) == 1 and len(stacking[0].triggers) == 2
    assert " and " in reason_text(stacking[0]) and "apply)" in reason_text(stacking[0])


def test_reasons_group_by_rule():
    from kg.duty import _reasons, reason_text

    keys = [("R", "rule", "a", None), ("R", "rule", "b", None), ("S", "pause", None, None)]
    described = {"rule": {"label": "Rule"}, "a": {"label": "A"}, "b": {"label": "B"},
                 "pause": {"label": "Pause"}}
    grouped = _reasons(keys, described)
    assert [(r.by_label, r.triggers) for r in grouped] == [
        ("Rule (because A and B apply)", ["A", "B"]), ("Pause", [])]
    assert reason_text(grouped[0]) == "R: Rule (because A and B apply)"


# --- The Chapter 99 heading that applies ---------------------------------------------------

@pytest.mark.parametrize("hts,measure,heading", [
    ("8703.23.01", "s232-autos-jp-2025-09-16", "9903.94.41"),      # MFN 2.5% < 15%
    ("8704.21.01", "s232-autos-jp-2025-09-16", "9903.94.40"),      # MFN 25% >= 15%
    ("8708.29.51", "s232-auto-parts-jp-2025-09-16", "9903.94.43"),  # MFN 2.5%
    ("9401.61.40", "ieepa-reciprocal-jp-inclusive-2025-08-07", "9903.02.73"),  # free
    ("6110.30.30", "ieepa-reciprocal-jp-inclusive-2025-08-07", "9903.02.72"),  # 32%
])
def test_the_heading_chosen_by_the_mfn_rate(shipped_store, hts, measure, heading):
    answer = duty_answer(shipped_store, hts, "JP", date(2025, 11, 1), date(2025, 11, 1))
    component = next(c for c in answer.components if c.measure.endswith(measure))
    assert component.chapter99 == heading


def test_no_inclusive_measure_leaves_its_heading_to_chance(shipped_store):
    rows = shipped_store.select("""
        PREFIX tkg: <https://w3id.org/tariff-kg/ontology#>
        SELECT ?m WHERE {
          ?m tkg:rateType tkg:InclusiveOfMFN ; tkg:chapter99Heading ?a , ?b .
          FILTER(STR(?a) < STR(?b))
          FILTER NOT EXISTS { ?m tkg:headingBelowInclusiveRate ?below ;
                                 tkg:headingAtOrAboveInclusiveRate ?above }
        }""")
    assert rows == []


# --- Lines at 10 digits; a heading lists its lines; unknown codes name the nearest ---------------

def test_the_duty_differs_by_statistical_suffix(cli):
    # Proclamation 10976: upholstered wooden furniture of Japan, 9401.61.40.11 and .31 only; on
    # them the Section 232 rate applies and, by the wood products' stacking rule, Japan's
    # reciprocal rate (which applies to the other lines of 9401.61.40) does not.
    answer = json.loads(ask(cli, "9401.61.40", "JP", "2025-11-01", "2025-11-01",
                            "--format", "json").stdout)
    lines = [s["line"] for s in answer["by_statistical_suffix"]]
    assert lines == ["9401.61.40.11", "9401.61.40.31"]
    for suffix in answer["by_statistical_suffix"]:
        how = {m["measure"].rsplit("/", 1)[-1]: m["how"] for m in suffix["measures"]}
        assert how == {"s232-wood-products-jp-2025-10-14": "scope",
                       "ieepa-reciprocal-jp-inclusive-2025-08-07": "exclusion"}
    applied = {c["measure"] for c in answer["components"]}
    assert any(m.endswith("ieepa-reciprocal-jp-inclusive-2025-08-07") for m in applied)
    text = ask(cli, "9401.61.40", "JP", "2025-11-01", "2025-11-01").stdout
    assert "By statistical suffix: the duty differs for 9401.61.40.11, 9401.61.40.31" in text
    line = json.loads(ask(cli, "9401.61.40.11", "JP", "2025-11-01", "2025-11-01",
                          "--format", "json").stdout)
    assert line["by_statistical_suffix"] == []
    assert any(c["measure"].endswith("s232-wood-products-jp-2025-10-14")
               for c in line["components"])
    assert any(n["measure"].endswith("ieepa-reciprocal-jp-inclusive-2025-08-07")
               for n in line["not_applied"])


def test_a_heading_lists_its_lines(cli):
    result = ask(cli, "8703", "JP", "2025-05-01", "2025-05-01")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("8703 is a heading: its lines on 2025-05-01")
    assert "8703.23.01" in result.stdout and "8703.23.01.10" in result.stdout
    listed = ask_json(cli, "8703.23", "JP", "2025-05-01", "2025-05-01")
    assert "8703.23.01" in [line["hts"] for line in listed["lines"]]


def test_an_unknown_code_names_the_nearest_lines(cli):
    result = ask(cli, "8708.29.50", "JP", "2025-05-01", "2025-05-01")
    assert result.exit_code == 2
    assert "unknown HTS code 8708.29.50" in result.stderr and "8708.29.51" in result.stderr


# --- A compound rate; tables fit the terminal ----------------------------------------------

def test_a_compound_rate_says_its_specific_part_is_left_out(cli):
    result = ask(cli, "9105.19.50", "JP", "2025-05-01", "2025-05-01")
    assert "23¢ each + 3.2%" in result.stdout
    assert ("TOTAL ad valorem: 13.2% plus specific duties not in this total: 23¢ each (mfn)"
            in result.stdout)
    answer = json.loads(ask(cli, "9105.19.50", "JP", "2025-05-01", "2025-05-01",
                            "--format", "json").stdout)
    assert answer["specific_duties"] == ["23¢ each (mfn)"]


def test_tables_fit_the_terminal(cli):
    out = ask(cli, "8467.21.00", "JP", "2025-08-08").stdout
    table = [line for line in out.splitlines()
             if re.match(r"^(part |-{4}|column 1|IEEPA|TOTAL  )", line)]
    assert table and max(len(line) for line in table) <= 100


def test_stored_duty_on_date_defaults_as_known_on_like_the_cli():
    from kg.queries import stored_query

    bound = stored_query("duty_on_date").bind({"product": "8703.23.01", "origin": "JP",
                                               "date": "2025-05-01"})
    assert bound["asKnownOn"].toPython() == date.today()
    assert str(bound["quota"]).endswith("OverQuota") and str(bound["claim"]).endswith("NoClaim")


def test_a_batch_refuses_early_dates_and_is_strict(cli, tmp_path):
    path = tmp_path / "q.csv"
    path.write_text("hts,origin,date,as_known_on\n"
                    "8703.23.01,JP,2024-06-01,2025-01-01\n"
                    "8703.23.01,CN,2025-05-01,2025-05-01\n")
    result = cli("duty", "--batch", str(path), "--format", "csv")
    assert result.exit_code == 2
    assert f"{path}:2: column date: 2024-06-01" in result.stderr and "2025-01-01" in result.stderr
    rows = result.stdout.splitlines()
    assert len(rows) == 2 and ",no," in rows[1]  # the CN answer, incomplete
    path.write_text("hts,origin,date,as_known_on\n8703.23.01,CN,2025-05-01,2025-05-01\n")
    strict = cli("duty", "--batch", str(path), "--strict")
    assert strict.exit_code == 2 and "incomplete: 1 answer" in strict.stderr
    assert cli("duty", "--batch", str(path)).exit_code == 0
