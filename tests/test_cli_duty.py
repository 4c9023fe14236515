"""`tariffkg duty`, `query`, `timeline`, `diff` and `validate` on the shipped store, through click's CliRunner.

TARIFFKG_HOME points at the session-built store's root, so the CLI finds the store at
kg.build.store_path(root) and never rebuilds. Every run passes --as-known-on (never today).
The entry facts (--claim, --quota, --content, --loaded) are asked with cases of tests/golden/.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import kg.validate
from kg.batch import COLUMNS as BATCH_COLUMNS
from kg.cli import main
from kg.duty import Component, Coverage, DutyAnswer, NotApplied, Reason, Source
from kg.queries import stored_queries

KNOWN = "2026-11-25"

# The JSON contract of the README ("The JSON answer"), written out here so that a change to it is
# a change to this test too.
ANSWER_KEYS = ["hts", "origin", "date", "as_known_on", "entry_facts", "total_ad_valorem_percent",
               "known_part_percent", "coverage", "components", "not_applied", "notes",
               "as_applied", "by_statistical_suffix", "specific_duties", "user_data"]
ENTRY_FACT_KEYS = ["claim", "quota", "content", "loaded"]
COVERAGE_KEYS = ["complete", "missing", "gaps", "reach", "beyond_reach"]
COMPONENT_KEYS = ["measure", "label", "authority", "program", "chapter99", "rate_type", "rate_percent",
                  "basis", "ad_valorem_percent", "other_rate", "rate_text", "sources", "notes"]
SOURCE_KEYS = ["citation", "url"]
NOT_APPLIED_KEYS = ["measure", "label", "authority", "reasons"]
REASON_KEYS = ["reason", "by", "by_label", "triggers"]
DEFAULT_FACTS: dict = {"claim": None, "quota": "over", "content": {}, "loaded": None}
ID = "https://w3id.org/tariff-kg/id/"


@pytest.fixture(scope="module")
def cli(shipped_store_root, shipped_store):
    """Run `tariffkg ARGS` against the session store; return the click Result."""
    from kg.build import is_complete, store_path

    assert is_complete(store_path(shipped_store_root))
    runner = CliRunner(env={"TARIFFKG_HOME": str(shipped_store_root)})

    def run(*args: str):
        return runner.invoke(main, list(args))

    return run


def _one_error_line(result, *fragments: str) -> str:
    """The run failed with exit 2 and exactly one line on stderr, naming the fragments, no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("tariffkg: error: ")
    assert "Traceback" not in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def duty(cli, *args):
    return cli("duty", *args)


def duty_json(cli, *args) -> dict:
    result = duty(cli, *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _by_authority(answer: dict) -> dict[str, float]:
    totals: dict[str, float] = {}
    for c in answer["components"]:
        totals[c["authority"]] = round(totals.get(c["authority"], 0.0) + (c["ad_valorem_percent"] or 0.0), 6)
    return totals


# --- duty: formats ----------------------------------------------------------------------------

def test_duty_text(cli):
    result = duty(cli, "--hts", "8703.23.01", "--origin", "JP", "--date", "2025-05-01", "--as-known-on", "2025-05-01")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    first = out.splitlines()[0]
    assert first.startswith("Duty on 8703.23.01 from JP entered 2025-05-01 (law as known on 2025-05-01")
    # The header names every entry fact, here their defaults.
    for default in ("no preference claimed", "over quota", "metal content not given", "not in transit"):
        assert default in first, (default, first)
    assert "TOTAL ad valorem: 27.5%" in out
    assert "Sources:" in out and "Proclamation 10908" in out
    assert "Not applied:" in out and "stacking rule" in out and "suspended" in out
    assert "9903.94.01" in out


def test_duty_text_names_the_entry_facts_given(cli):
    result = duty(cli, "--hts", "8703.23.01", "--origin", "GB", "--date", "2025-07-15", "--as-known-on", "2025-07-15",
                  "--claim", "kr", "--quota", "in", "--content", "steel=40,aluminum=10", "--loaded", "2025-06-01")
    assert result.exit_code == 0, result.stderr
    first = result.stdout.splitlines()[0]
    for given in ("claim KR", "in quota", "steel=40", "aluminum=10", "loaded 2025-06-01"):
        assert given in first, (given, first)


def test_duty_json_contract(cli):
    answer = duty_json(cli, "--hts", "8516.71.00", "--origin", "JP", "--date", "2025-08-20",
                       "--as-known-on", "2025-10-01")
    assert list(answer) == ANSWER_KEYS == [f.name for f in dataclasses.fields(DutyAnswer)]
    assert COMPONENT_KEYS == [f.name for f in dataclasses.fields(Component)]
    assert SOURCE_KEYS == [f.name for f in dataclasses.fields(Source)]
    assert NOT_APPLIED_KEYS == [f.name for f in dataclasses.fields(NotApplied)]
    assert REASON_KEYS == [f.name for f in dataclasses.fields(Reason)]
    assert COVERAGE_KEYS == [f.name for f in dataclasses.fields(Coverage)]
    assert answer["hts"] == "8516.71.00" and answer["origin"] == "JP"
    assert answer["date"] == "2025-08-20" and answer["as_known_on"] == "2025-10-01"
    assert answer["entry_facts"] == DEFAULT_FACTS and list(answer["entry_facts"]) == ENTRY_FACT_KEYS
    assert answer["total_ad_valorem_percent"] == answer["known_part_percent"] == 15.0
    assert list(answer["coverage"]) == COVERAGE_KEYS
    assert answer["coverage"]["complete"] is True and answer["coverage"]["missing"] == []
    assert set(answer["coverage"]["reach"]) == {"schedule", "acts"}
    for component in answer["components"]:
        assert list(component) == COMPONENT_KEYS
        assert component["basis"] == "full"
        for source in component["sources"]:
            assert list(source) == SOURCE_KEYS
    by_measure = {c["measure"].rsplit("/", 1)[-1]: c for c in answer["components"]}
    assert sorted(c["ad_valorem_percent"] for c in answer["components"]) == [3.7, 11.3]
    inclusive = by_measure["ieepa-reciprocal-jp-inclusive-2025-08-07"]
    assert (inclusive["rate_type"], inclusive["rate_percent"], inclusive["authority"]) == ("inclusive of MFN", 15.0,
                                                                                          "ieepa")
    assert by_measure["2025-basic"]["rate_percent"] == 3.7 and by_measure["2025-basic"]["authority"] == "mfn"
    reasons = {}
    for item in answer["not_applied"]:
        assert list(item) == NOT_APPLIED_KEYS
        for reason in item["reasons"]:
            assert list(reason) == REASON_KEYS and reason["by"].startswith(ID) and reason["by_label"]
        reasons[item["measure"].rsplit("/", 1)[-1]] = [r["reason"] for r in item["reasons"]]
    assert reasons == {"ieepa-reciprocal-baseline-all-2025-04-05": ["stacking rule"],
                       "ieepa-reciprocal-jp-2025-08-07": ["superseded"]}
    assert isinstance(answer["notes"], list)


def test_duty_csv(cli):
    result = duty(cli, "--hts", "8703.23.01", "--origin", "JP", "--date", "2025-09-20", "--as-known-on", "2025-09-20",
                  "--format", "csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {"measure", "ad_valorem_percent", "other_rate"} <= set(rows[0])
    assert rows[-1]["measure"] == "TOTAL" and rows[-1]["ad_valorem_percent"] == "15"
    by_measure = {r["measure"].rsplit("/", 1)[-1]: r for r in rows[:-1]}
    assert by_measure["s232-autos-jp-2025-09-16"]["ad_valorem_percent"] == "12.5"
    assert by_measure["s232-autos-jp-2025-09-16"]["other_rate"] == "15% inclusive of MFN"
    assert by_measure["2025-basic"]["ad_valorem_percent"] == "2.5"


@pytest.mark.parametrize("hts", ["8703.23.01", "87032301", "8703 23 01", "8703.23.01.10", "8703230110"])
@pytest.mark.parametrize("origin", ["Japan", "JP", "JPN", "jp"])
def test_duty_input_forms(cli, hts, origin):
    answer = duty_json(cli, "--hts", hts, "--origin", origin, "--date", "2025-09-20", "--as-known-on", "2025-09-20")
    assert answer["origin"] == "JP"
    assert answer["hts"] == ("8703.23.01.10" if len(hts.replace(".", "").replace(" ", "")) == 10 else "8703.23.01")
    assert answer["total_ad_valorem_percent"] == 15.0


# --- duty: the facts of an entry (cases of tests/golden/, their sources there) ------------------

def test_claim_gives_the_special_rate_and_says_when_the_line_lists_none(cli):
    korean = duty_json(cli, "--hts", "8703.23.01", "--origin", "KR", "--date", "2025-05-01",
                       "--as-known-on", "2025-05-01", "--claim", "KR")
    assert korean["entry_facts"] == {**DEFAULT_FACTS, "claim": "KR"}
    [base] = [c for c in korean["components"] if c["authority"] == "mfn"]
    assert (base["program"], base["ad_valorem_percent"]) == ("special", 0.0)  # KORUS: Free
    unclaimed = duty_json(cli, "--hts", "8703.23.01", "--origin", "KR", "--date", "2025-05-01",
                          "--as-known-on", "2025-05-01")
    assert unclaimed["entry_facts"] == DEFAULT_FACTS
    assert _by_authority(unclaimed)["mfn"] == 2.5
    japanese = duty_json(cli, "--hts", "8703.23.01", "--origin", "JP", "--date", "2025-05-01",
                         "--as-known-on", "2025-05-01", "--claim", "JP")
    assert _by_authority(japanese)["mfn"] == 2.5
    assert any("no special rate under JP" in note for note in japanese["notes"]), japanese["notes"]
    none = duty_json(cli, "--hts", "8703.23.01", "--origin", "JP", "--date", "2025-05-01",
                     "--as-known-on", "2025-05-01", "--claim", "none")
    assert none["entry_facts"] == DEFAULT_FACTS


def test_claim_exempts_a_measure(cli):
    """USMCA goods of Canada claimed under S are not subject to the Canada duty (EO 14231)."""
    claimed = duty_json(cli, "--hts", "8467.21.00", "--origin", "CA", "--date", "2025-03-07",
                        "--as-known-on", "2025-03-07", "--claim", "S")
    assert claimed["total_ad_valorem_percent"] == 0.0
    assert any(r["reason"] == "exempt under the claim" and r["by"] == ID + "preference/S"
               for n in claimed["not_applied"] for r in n["reasons"])
    unclaimed = duty_json(cli, "--hts", "8467.21.00", "--origin", "CA", "--date", "2025-03-07",
                          "--as-known-on", "2025-03-07")
    assert _by_authority(unclaimed)["ieepa"] == 25.0


def test_quota_in_and_the_default_over_with_its_note(cli):
    """UK cars under EO 14309: 7.5% in quota (10% with MFN), 25% over it, the default."""
    inside = duty_json(cli, "--hts", "8703.23.01", "--origin", "GB", "--date", "2025-07-15",
                       "--as-known-on", "2025-07-15", "--quota", "in")
    assert inside["entry_facts"] == {**DEFAULT_FACTS, "quota": "in"}
    assert inside["total_ad_valorem_percent"] == 10.0 and _by_authority(inside)["section-232"] == 7.5
    over = duty_json(cli, "--hts", "8703.23.01", "--origin", "GB", "--date", "2025-07-15",
                     "--as-known-on", "2025-07-15")
    assert over["entry_facts"] == DEFAULT_FACTS
    assert over["total_ad_valorem_percent"] == 27.5
    assert any("over quota (the default)" in note and "--quota in" in note for note in over["notes"]), over["notes"]
    assert any(r["reason"] == "other quota status" for n in over["not_applied"] for r in n["reasons"])


def test_content_without_it_the_total_is_withheld(cli):
    """A steel derivative (90 FR 40326): 50% on the steel content."""
    args = ("--hts", "8708.99.81", "--origin", "DE", "--date", "2025-08-18", "--as-known-on", "2026-12-01")
    given = duty_json(cli, *args, "--content", "steel=40")
    assert given["entry_facts"] == {**DEFAULT_FACTS, "content": {"steel": 40.0}}
    [steel] = [c for c in given["components"] if c["authority"] == "section-232"]
    assert (steel["basis"], steel["rate_percent"], steel["ad_valorem_percent"]) == ("steel", 50.0, 20.0)
    missing = duty_json(cli, *args)
    assert missing["total_ad_valorem_percent"] is None
    assert missing["known_part_percent"] == 2.5
    assert missing["coverage"]["complete"] is False
    assert any("--content steel=" in text for text in missing["coverage"]["missing"])
    [steel] = [c for c in missing["components"] if c["authority"] == "section-232"]
    assert steel["ad_valorem_percent"] is None and steel["basis"] == "steel"
    text = duty(cli, *args).stdout
    assert "INCOMPLETE" in text and "TOTAL ad valorem: incomplete" in text


def test_loaded_before_the_deadline_takes_the_in_transit_exception(cli):
    """EO 14326 sec. 2: loaded before 2025-08-07 and entered before 2025-10-05: the baseline instead."""
    args = ("--hts", "9503.00.00", "--origin", "DE", "--date", "2025-08-20", "--as-known-on", "2025-08-20")
    loaded = duty_json(cli, *args, "--loaded", "2025-08-01")
    assert loaded["entry_facts"] == {**DEFAULT_FACTS, "loaded": "2025-08-01"}
    assert loaded["total_ad_valorem_percent"] == 10.0
    assert any(r["reason"] == "in transit" for n in loaded["not_applied"] for r in n["reasons"])
    not_in_transit = duty_json(cli, *args)
    assert not_in_transit["total_ad_valorem_percent"] == 15.0


# --- duty: bad input ---------------------------------------------------------------------------

@pytest.mark.parametrize("args,fragments", [
    (["--hts", "9999.99.99", "--origin", "JP", "--date", "2025-05-01"], ["unknown HTS code 9999.99.99"]),
    (["--hts", "8703.23.01", "--origin", "Atlantis", "--date", "2025-05-01"], ["unknown country 'Atlantis'"]),
    (["--hts", "8703.23.01", "--origin", "JP", "--date", "2025-02-30"], ["--date", "2025-02-30"]),
    (["--hts", "87A3.23.01", "--origin", "JP", "--date", "2025-05-01"], ["not an HTS code"]),
    (["--hts", "8703.23.01", "--origin", "JP"], ["missing --date"]),
    (["--hts", "8703.23.01", "--origin", "JP", "--date", "2025-05-01", "--claim", "K R"], ["--claim", "'K R'"]),
    (["--hts", "8703.23.01", "--origin", "JP", "--date", "2025-05-01", "--claim", "KORUS"], ["--claim", "KORUS"]),
    (["--hts", "8703.23.01", "--origin", "JP", "--date", "2025-05-01", "--quota", "half"], ["--quota", "'half'"]),
    (["--hts", "8703.23.01", "--origin", "JP", "--date", "2025-05-01", "--content", "tin=5"], ["--content", "tin=5"]),
    (["--hts", "8703.23.01", "--origin", "JP", "--date", "2025-05-01", "--content", "steel"], ["--content", "steel"]),
    (["--hts", "8703.23.01", "--origin", "JP", "--date", "2025-05-01", "--content", "steel=140"],
     ["--content", "steel=140"]),
    (["--hts", "8703.23.01", "--origin", "JP", "--date", "2025-05-01", "--content", "steel=60,aluminum=50"],
     ["--content", "more than 100"]),
    (["--hts", "8703.23.01", "--origin", "JP", "--date", "2025-05-01", "--content", "steel=6,steel=5"],
     ["--content", "steel"]),
    (["--hts", "8703.23.01", "--origin", "JP", "--date", "2025-05-01", "--loaded", "2025-02-30"],
     ["--loaded", "2025-02-30"]),
])
def test_duty_bad_input(cli, args, fragments):
    known = [] if "--as-known-on" in args else ["--as-known-on", "2025-05-01"]
    _one_error_line(duty(cli, *args, *known), *fragments)


def test_duty_as_known_on_before_the_data(cli):
    result = duty(cli, "--hts", "8703.23.01", "--origin", "JP", "--date", "2025-05-01", "--as-known-on", "2024-12-31")
    _one_error_line(result, "--as-known-on 2024-12-31", "2025-01-01")


def test_duty_past_the_data_has_a_note(cli):
    answer = duty_json(cli, "--hts", "8703.23.01", "--origin", "JP", "--date", "2027-06-01", "--as-known-on", KNOWN)
    assert answer["total_ad_valorem_percent"] == 15.0
    assert any(n.startswith("the legal acts reach") for n in answer["notes"])
    assert any(n.startswith("the schedule's own rates reach") for n in answer["notes"])
    text = duty(cli, "--hts", "8703.23.01", "--origin", "JP", "--date", "2027-06-01", "--as-known-on", KNOWN)
    assert "Notes:" in text.stdout and "the legal acts reach" in text.stdout


# --- validate: a rate the duty could not compute is refused before it reaches an answer ---------

def test_validate_names_an_inclusive_rate_without_its_percent(monkeypatch):
    fixtures = Path(__file__).parent / "fixtures"
    monkeypatch.setattr(kg.validate, "validate",
                        lambda files: kg.validate.validate_files([fixtures / "base.ttl", *files]))
    bad = fixtures / "shapes" / "RateType-InclusiveOfMFN.bad.ttl"
    result = CliRunner().invoke(main, ["validate", str(bad)])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert any("RateType-InclusiveOfMFN" in line and "measure:bad" in line for line in lines), result.output
    assert "Traceback" not in result.output
    good = CliRunner().invoke(main, ["validate", str(fixtures / "shapes" / "RateType-InclusiveOfMFN.ok.ttl")])
    assert good.exit_code == 0, good.output


# --- duty --batch ------------------------------------------------------------------------------

BATCH = ("\ufeffhts,origin,date,as_known_on,claim,quota,content,loaded\r\n"
         "8703.23.01,JP,2025-05-01,2025-05-01,,,,\r\n"
         "\r\n"
         "9999.99.99,JP,2025-05-01,2025-05-01,,,,\r\n"
         "85167100,Japan,2025-04-09,2025-04-09,,,,\r\n"
         "8704.31.01,JPN,2025-10-01,,,,,\r\n"
         "8703.23.01,GB,2025-07-15,2025-07-15,,in,,\r\n"
         "8708.99.81,DE,2025-08-18,2026-12-01,,,steel=40,\r\n"
         "9503.00.00,DE,2025-08-20,2025-08-20,,,,2025-08-01\r\n"
         "8703.23.01,KR,2025-05-01,2025-05-01,kr,,,\r\n"
         "8703.23.01,JP,2025-05-01,2025-05-01,K R,,,\r\n"
         "8703.23.01,JP,2025-05-01,2025-05-01,,half,,\r\n"
         "8703.23.01,JP,2025-05-01,2025-05-01,,,tin=5,\r\n"
         "8703.23.01,JP,2025-05-01,2025-05-01,,,,2025-13-01\r\n"
         "8708.99.81,DE,2025-08-18,2026-12-01,,,,\r\n")
GOOD_ROWS = [  # hts, date, as_known_on, total, entry facts
    ("8703.23.01", "2025-05-01", "2025-05-01", 27.5, DEFAULT_FACTS),
    ("8516.71.00", "2025-04-09", "2025-04-09", 27.7, DEFAULT_FACTS),
    ("8704.31.01", "2025-10-01", KNOWN, 25.0, DEFAULT_FACTS),  # empty as_known_on: the --as-known-on default
    ("8703.23.01", "2025-07-15", "2025-07-15", 10.0, {**DEFAULT_FACTS, "quota": "in"}),
    ("8708.99.81", "2025-08-18", "2026-12-01", 22.5, {**DEFAULT_FACTS, "content": {"steel": 40.0}}),
    ("9503.00.00", "2025-08-20", "2025-08-20", 10.0, {**DEFAULT_FACTS, "loaded": "2025-08-01"}),
    ("8703.23.01", "2025-05-01", "2025-05-01", 25.0, {**DEFAULT_FACTS, "claim": "KR"}),
    ("8708.99.81", "2025-08-18", "2026-12-01", None, DEFAULT_FACTS),  # the steel share not given
]
BAD_ROWS = [(4, ["column hts: unknown HTS code 9999.99.99"]), (11, ["column claim: 'K R'"]),
            (12, ["column quota: 'half'"]), (13, ["column content: 'tin=5'"]),
            (14, ["column loaded: '2025-13-01'"])]


@pytest.fixture
def batch_file(tmp_path):
    path = tmp_path / "questions.csv"
    path.write_bytes(BATCH.encode("utf-8"))
    return path


def _bad_rows_reported(result, batch_file):
    errors = result.stderr.strip().splitlines()
    assert len(errors) == len(BAD_ROWS), errors
    for line, (number, fragments) in zip(errors, BAD_ROWS):
        assert line.startswith(f"tariffkg: error: {batch_file}:{number}: "), line
        assert all(fragment in line for fragment in fragments), (fragments, line)


def test_batch_jsonl(cli, batch_file):
    result = cli("duty", "--batch", str(batch_file), "--as-known-on", KNOWN)
    assert result.exit_code == 2
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(a["hts"], a["date"], a["as_known_on"], a["total_ad_valorem_percent"], a["entry_facts"])
            for a in answers] == [tuple(row) for row in GOOD_ROWS]
    assert all(list(a) == ANSWER_KEYS for a in answers)
    steel = answers[4]
    assert [c["ad_valorem_percent"] for c in steel["components"] if c["authority"] == "section-232"] == [20.0]
    _bad_rows_reported(result, batch_file)


def test_batch_csv(cli, batch_file):
    result = cli("duty", "--batch", str(batch_file), "--format", "csv", "--as-known-on", KNOWN)
    assert result.exit_code == 2
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == BATCH_COLUMNS
    assert [(r["hts"], r["total_ad_valorem_percent"], r["claim"], r["quota"], r["content"], r["loaded"])
            for r in rows] == [
        ("8703.23.01", "27.5", "", "over", "", ""), ("8516.71.00", "27.7", "", "over", "", ""),
        ("8704.31.01", "25", "", "over", "", ""), ("8703.23.01", "10", "", "in", "", ""),
        ("8708.99.81", "22.5", "", "over", "steel=40", ""), ("9503.00.00", "10", "", "over", "", "2025-08-01"),
        ("8703.23.01", "25", "KR", "over", "", ""), ("8708.99.81", "", "", "over", "", "")]
    assert (rows[4]["complete"], rows[-1]["complete"], rows[-1]["known_part_percent"]) == ("yes", "no", "2.5")
    _bad_rows_reported(result, batch_file)


def test_batch_all_good_exits_0(cli, tmp_path):
    path = tmp_path / "good.csv"
    path.write_text("hts,origin,date\n9503.00.00,JP,2026-03-15\n", encoding="utf-8")
    result = cli("duty", "--batch", str(path), "--as-known-on", "2026-03-15")
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["total_ad_valorem_percent"] == 10.0 and answer["entry_facts"] == DEFAULT_FACTS


def test_batch_header_and_file_errors(cli, tmp_path):
    path = tmp_path / "bad-header.csv"
    path.write_text("code,country,day\n8703.23.01,JP,2025-05-01\n", encoding="utf-8")
    _one_error_line(cli("duty", "--batch", str(path), "--as-known-on", KNOWN), "header lacks column")
    unknown = tmp_path / "unknown-column.csv"
    unknown.write_text("hts,origin,date,colour\n8703.23.01,JP,2025-05-01,red\n", encoding="utf-8")
    _one_error_line(cli("duty", "--batch", str(unknown), "--as-known-on", KNOWN), "unknown column 'colour'")
    _one_error_line(cli("duty", "--batch", str(tmp_path / "missing.csv"), "--as-known-on", KNOWN),
                    "no such batch file")
    _one_error_line(cli("duty", "--batch", str(path), "--hts", "8703.23.01"), "leave out --hts")
    _one_error_line(cli("duty", "--batch", str(path), "--quota", "in"), "leave out --quota")


# --- query -------------------------------------------------------------------------------------

def test_query_list(cli):
    result = cli("query", "--list")
    assert result.exit_code == 0
    for name, query in stored_queries().items():
        assert f"{name}  " in result.stdout or f"{name}\n" in result.stdout
        assert query.description in result.stdout
        for parameter in query.parameters:
            assert f"{parameter.name}=<{parameter.kind}>" in result.stdout
    assert ("duty_on_date  product=<hts> origin=<country> date=<date> asKnownOn=<date>[today] "
            "claim=<preference>[none] quota=<quota>[over] loaded=<date>[not in transit]") in result.stdout


def test_query_duty_on_date(cli):
    result = cli("query", "duty_on_date", "-p", "product=8703.23.01", "-p", "origin=Japan", "-p", "date=2025-05-01",
                 "-p", "asKnownOn=2025-05-01", "--format", "json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    applied = {r["measure"].rsplit("/", 1)[-1] for r in rows if r["part"] == "measure" and "reason" not in r}
    assert applied == {"s232-autos-all-2025-04-03"}
    assert {r["measure"].rsplit("/", 1)[-1] for r in rows if r["part"] == "base"} == {"2025-basic"}
    table = cli("query", "duty_on_date", "-p", "product=8703.23.01", "-p", "origin=JP", "-p", "date=2025-05-01",
                "-p", "?asKnownOn=2025-05-01", "-p", "claim=KR", "-p", "quota=in", "-p", "loaded=2025-04-01")
    assert table.exit_code == 0 and "measure/s232-autos-all-2025-04-03" in table.stdout


def test_query_show_prints_the_query_as_it_runs(cli):
    result = cli("query", "duty_on_date", "--show", "-p", "product=8703.23.01", "-p", "origin=JP",
                 "-p", "date=2025-05-01", "-p", "asKnownOn=2025-05-01")
    assert result.exit_code == 0, result.stderr
    assert "#include" not in result.stdout and "UNDEF" not in result.stdout
    assert "<https://w3id.org/tariff-kg/id/hts/87032301>" in result.stdout
    assert '"2025-05-01"^^<http://www.w3.org/2001/XMLSchema#date>' in result.stdout


def test_query_negotiations_runs_with_its_parameter(cli):
    result = cli("query", "negotiations", "-p", "jurisdiction=JP", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)


def test_query_user_file(cli, tmp_path):
    path = tmp_path / "count.rq"
    path.write_text("# count: measures of one authority.\n#\n# Parameters:\n"
                    "#   ?authority  iri  the authority\n"
                    "PREFIX tkg: <https://w3id.org/tariff-kg/ontology#>\n"
                    "SELECT ?authority (COUNT(?m) AS ?n) WHERE { ?m tkg:authority ?authority } GROUP BY ?authority\n",
                    encoding="utf-8")
    result = cli("query", "--file", str(path), "-p", "authority=https://w3id.org/tariff-kg/id/authority/section-122",
                 "--format", "csv")
    assert result.exit_code == 0, result.stderr
    header, *rows = list(csv.reader(io.StringIO(result.stdout)))
    assert header == ["authority", "n"]
    assert [row[0] for row in rows] == ["authority/section-122"] and int(rows[0][1]) >= 1


def test_query_update_file_is_refused(cli, tmp_path, shipped_store):
    before = shipped_store.triple_count()
    path = tmp_path / "drop.rq"
    path.write_text("DROP ALL", encoding="utf-8")
    _one_error_line(cli("query", "--file", str(path)), "SPARQL update")
    path.write_text("INSERT DATA { <https://example.org/a> <https://example.org/b> <https://example.org/c> }",
                    encoding="utf-8")
    _one_error_line(cli("query", "--file", str(path)), "SPARQL update")
    assert shipped_store.triple_count() == before


@pytest.mark.parametrize("args,fragments", [
    (["no_such_query"], ["unknown query 'no_such_query'", "duty_on_date"]),
    (["product"], ["needs parameter product"]),
    (["product", "-p", "product=8703.23.01", "-p", "colour=red"], ["has no parameter colour"]),
    (["product", "-p", "product"], ["KEY=VALUE"]),
    (["product", "-p", "product=abc"], ["not an HTS code"]),
    (["duty_on_date", "-p", "product=8703.23.01", "-p", "origin=JP", "-p", "date=2025-05-01", "-p", "quota=half"],
     ["parameter quota", "half"]),
    ([], ["give a stored query NAME or --file"]),
])
def test_query_bad_input(cli, args, fragments):
    _one_error_line(cli("query", *args), *fragments)


@pytest.mark.parametrize("value", ['8703"} ; DROP ALL ; #', "8703> } DROP ALL { <x"])
def test_query_injection_is_bad_input_and_the_store_is_intact(cli, shipped_store, value):
    before = shipped_store.triple_count()
    _one_error_line(cli("query", "product", "-p", f"product={value}"), "not an HTS code")
    _one_error_line(cli("query", "negotiations", "-p", f"jurisdiction={value}"), "unknown country")
    _one_error_line(cli("duty", "--hts", value, "--origin", "JP", "--date", "2025-05-01", "--as-known-on", KNOWN),
                    "not an HTS code")
    _one_error_line(cli("duty", "--hts", "8703.23.01", "--origin", "JP", "--date", "2025-05-01", "--as-known-on",
                        KNOWN, "--claim", value), "--claim")
    assert shipped_store.triple_count() == before


def test_query_iri_parameter_with_a_bracket_is_refused(cli, tmp_path, shipped_store):
    before = shipped_store.triple_count()
    path = tmp_path / "by-iri.rq"
    path.write_text("# by-iri: anything about one node.\n# Parameters:\n#   ?node  iri  the node\n"
                    "SELECT ?node ?p ?o WHERE { ?node ?p ?o } LIMIT 3\n", encoding="utf-8")
    _one_error_line(cli("query", "--file", str(path), "-p", "node=https://example.org/a> } ; DROP ALL ; <b"),
                    "not an absolute IRI")
    result = cli("query", "--file", str(path), "-p", "node=https://example.org/nothing-here")
    assert result.exit_code == 0 and "(no rows)" in result.stdout
    assert shipped_store.triple_count() == before


# --- timeline and diff ------------------------------------------------------------------------

def timeline_steps(result) -> list[tuple[str, float | None]]:
    assert result.exit_code == 0, result.stderr
    return [(s["from"], s["total_ad_valorem_percent"]) for s in json.loads(result.stdout)["steps"]]


def test_timeline_text(cli):
    args = ["timeline", "--hts", "8703.23.01", "--origin", "JP", "--from", "2025-01-01", "--to", "2026-03-01"]
    result = cli(*args)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Duty on 8703.23.01 from JP, entered 2025-01-01 to 2026-03-01, as applied")
    assert timeline_steps(cli(*args, "--format", "json")) == [
        ("2025-01-01", 2.5), ("2025-04-03", 27.5), ("2025-09-16", 15.0)]


def test_timeline_as_known_today(cli):
    result = cli("timeline", "--hts", "8516.71.00", "--origin", "JP", "--from", "2025-01-01", "--to", "2026-08-01",
                 "--as-known-on", KNOWN, "--format", "json")
    # Known today the reciprocal tariff never applied; the Section 122 and 301 duties did.
    assert timeline_steps(result) == [("2025-01-01", 3.7), ("2026-02-24", 13.7), ("2026-07-24", 12.5)]


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_timeline_chart(cli, tmp_path, suffix):
    chart = tmp_path / f"steps{suffix}"
    result = cli("timeline", "--hts", "8516.71.00", "--origin", "JP", "--from", "2025-03-01", "--to", "2026-03-01",
                 "--chart", str(chart))
    assert result.exit_code == 0, result.stderr
    assert chart.is_file() and chart.stat().st_size > 1000
    head = chart.read_bytes()[:200]
    assert head.startswith(b"\x89PNG") if suffix == ".png" else b"<svg" in chart.read_bytes()[:2000]
    assert f"chart written to {chart}" in result.stderr


def test_timeline_bad_input(cli, tmp_path):
    _one_error_line(cli("timeline", "--hts", "8703.23.01", "--origin", "JP", "--from", "2025-06-01", "--to",
                        "2025-01-01"), "is before --from")
    _one_error_line(cli("timeline", "--hts", "8703.23.01", "--origin", "JP", "--from", "2025-01-01", "--to",
                        "2025-03-01", "--chart", str(tmp_path / "steps.gif")), ".svg or .png")
    _one_error_line(cli("timeline", "--hts", "8703.23.01", "--origin", "Atlantis", "--to", "2025-03-01"),
                    "unknown country")


def test_diff_measures(cli):
    result = cli("diff", "--from", "2025-05-01", "--to", "2025-09-20", "--origin", "JP", "--as-known-on", "2025-09-20")
    assert result.exit_code == 0, result.stderr
    rows = {tuple(part.strip() for part in line.split("  ") if part.strip())[:2]
            for line in result.stdout.splitlines()[2:] if line.strip()}
    labels = {label for _, label in rows}
    assert ("changed rate", "IEEPA reciprocal tariff, Japan 15% additional (EO 14326)") in rows
    assert any(change == "started" and "Japan, from 2025-09-16" in label for change, label in rows)
    assert "Section 232 duty on passenger vehicles and light trucks, all countries, from 2025-04-03" not in labels


def test_diff_one_product(cli):
    result = cli("diff", "--from", "2025-05-01", "--to", "2025-09-20", "--origin", "JP", "--hts", "8703.23.01",
                 "--as-known-on", KNOWN)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "started" in out and "12.5%" in out
    assert "ended" in out and "25%" in out
    assert "27.5% -> 15%" in out


def test_diff_bad_date(cli):
    _one_error_line(cli("diff", "--from", "2025-02-30", "--to", "2025-09-20", "--as-known-on", KNOWN), "2025-02-30")




def test_batch_asks_each_repeated_question_once_and_names_an_empty_column(mini_store, tmp_path):
    """On the fixture graph (tests/fixtures/queries): a question written two ways, entry facts
    included, is answered once."""
    from kg.batch import answer_batch

    class CountingBackend:
        def __init__(self, inner):
            self.inner, self.duty_queries = inner, 0

        def select(self, query, bindings=None):
            self.duty_queries += '"base" AS ?part' in query
            return self.inner.select(query, bindings)

    batch = tmp_path / "repeat.csv"
    batch.write_text("hts,origin,date,as_known_on,claim,quota,content,loaded\n"
                     "8703.23.01,JP,2025-05-01,2025-05-01,,,,\n"
                     "87032301,Japan,2025-05-01,2025-05-01,none,over,,\n"
                     "8703.23.01,,2025-05-01,,,,,\n"
                     "9503.00.00,JP,2025-08-20,2025-10-01,,,,\n"
                     "8703.23.01,CA,2025-05-15,2025-05-15,S,,,2025-04-01\n"
                     "8703.23.01,Canada,2025-05-15,2025-05-15,s,OVER,,2025-04-01\n")
    backend, out, err = CountingBackend(mini_store), [], []
    failures, _ = answer_batch(backend, batch, "jsonl",
                               lambda text, err_=False, **kw: (err if kw.get("err") else out).append(text))
    assert failures == 1
    answers = [json.loads(line) for line in out]
    assert [a["total_ad_valorem_percent"] for a in answers] == [27.5, 27.5, 15.0, 25.0, 25.0]
    assert answers[3]["entry_facts"] == answers[4]["entry_facts"] == {
        "claim": "S", "quota": "over", "content": {}, "loaded": "2025-04-01"}
    # three questions; the one asked as known after its entry day is also answered as applied
    assert backend.duty_queries == 4
    assert err == [f"tariffkg: error: {batch}:4: column origin: no value"]


def test_a_loading_day_after_the_entry_day_is_refused(cli):
    # goods are loaded for shipment before they are entered; the in-transit rules compare the two
    result = duty(cli, "--hts", "9503.00.00", "--origin", "DE", "--date", "2025-08-20",
                  "--loaded", "2025-08-21")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "tariffkg: error: --loaded 2025-08-21: after the entry date 2025-08-20; goods are loaded "
        "for shipment before they are entered"]
