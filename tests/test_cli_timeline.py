"""`tariffkg timeline` and `diff` on the rule core, and their charts (issue 13).

The steps come from duty answers on the days duty_change_days names; a cross-check asks every day
change_days and the acts name instead and must find the same steps. Every run passes the days
explicitly (never today).
"""

from __future__ import annotations

import json
import sys
from datetime import date

import pytest
from click.testing import CliRunner

from kg import timeline as tl
from kg.cli import main
from kg.errors import InputError

KNOWN = "2026-12-01"
DEFAULT_FACTS: dict = {"claim": None, "quota": "over", "content": {}, "loaded": None}


@pytest.fixture(scope="module")
def cli(shipped_store_root, shipped_store):
    """Run `tariffkg ARGS` against the session store; return the click Result."""
    runner = CliRunner(env={"TARIFFKG_HOME": str(shipped_store_root), "COLUMNS": "120"})

    def run(*args: str):
        return runner.invoke(main, list(args))

    return run


def steps_of(timeline: tl.Timeline) -> list[tuple[str, float | None]]:
    return [(step.start.isoformat(), step.total) for step in timeline.steps]


# --- Steps, each change labelled by its act ------------------------------------------------------

def test_a_car_of_japan_as_known_today(shipped_store):
    # Proclamation 10908: 25% from 2025-04-03; ITA notice 2025-17908 (90 FR 44638): Japan's 15%
    # inclusive of MFN from 2025-09-16; the reciprocal tariffs never applied to cars (stacking).
    result = tl.duty_steps(shipped_store, "8703.23.01", "JP", date(2025, 3, 1), date(2025, 12, 31),
                           date(2026, 12, 1))
    assert steps_of(result) == [("2025-03-01", 2.5), ("2025-04-03", 27.5), ("2025-09-16", 15.0)]
    assert result.steps[1].acts == ["Proclamation 10908"]
    assert "90 FR 44638" in result.steps[2].acts
    assert result.steps[-1].until == date(2026, 1, 1)


def test_a_drill_of_japan_as_applied(shipped_store):
    # As applied, each day as known that day: the 10% baseline (EO 14257), Japan's 15% of EO 14326
    # from 2025-08-07 with the baseline stacked out, then EO 14345's 15% inclusive of MFN, known
    # from its signing on 2025-09-04 (retroactive to 2025-08-07, so refundable for August entries).
    result = tl.duty_steps(shipped_store, "8467.21.00", "JP", date(2025, 7, 1), date(2025, 9, 30))
    assert steps_of(result) == [("2025-07-01", 11.7), ("2025-08-07", 16.7), ("2025-09-04", 15.0)]
    assert "EO 14326" in result.steps[1].acts
    kinds = {c.kind for c in result.steps[1].changes}
    assert kinds == {"started", "not applied"}
    assert "EO 14345" in result.steps[2].acts


def test_the_narrow_days_find_what_every_day_finds(shipped_store):
    args = (shipped_store, "8467.21.00", "JP", date(2025, 7, 1), date(2025, 9, 30))
    narrow = tl.duty_steps(*args)
    everywhere = tl.duty_steps(*args, days=tl.candidate_days_everywhere)
    assert steps_of(narrow) == steps_of(everywhere)


def test_timeline_text_and_json(cli):
    result = cli("timeline", "--hts", "8703.23.01", "--origin", "JP", "--from", "2025-03-01",
                 "--to", "2025-12-31", "--as-known-on", KNOWN)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == ("Duty on 8703.23.01 from JP, entered 2025-03-01 to 2025-12-31, "
                        "as known on 2026-12-01; no preference claimed, over quota, metal content "
                        "not given, not in transit")
    assert lines[1] == "Coverage: complete"
    assert "Proclamation 10908" in result.stdout
    data = json.loads(cli("timeline", "--hts", "8703.23.01", "--origin", "JP", "--from",
                          "2025-03-01", "--to", "2025-12-31", "--as-known-on", KNOWN,
                          "--format", "json").stdout)
    assert data["coverage"]["complete"] is True and data["as_known_on"] == KNOWN
    assert [s["total_ad_valorem_percent"] for s in data["steps"]] == [2.5, 27.5, 15.0]
    assert data["steps"][1]["changes"][0]["kind"] == "started"
    assert data["entry_facts"] == DEFAULT_FACTS


def test_timeline_takes_and_echoes_the_entry_facts(cli):
    # 2025 HTS Basic, 8703.23.01: general 2.5%, special "Free (... KR ...)" (KORUS); Section 232
    # autos 25% from 2025-04-03 (Proclamation 10908) whatever the claim.
    args = ("timeline", "--hts", "8703.23.01", "--origin", "KR", "--from", "2025-03-01",
            "--to", "2025-06-30", "--as-known-on", KNOWN, "--claim", "kr", "--content", "steel=40")
    data = json.loads(cli(*args, "--format", "json").stdout)
    assert data["entry_facts"] == {**DEFAULT_FACTS, "claim": "KR", "content": {"steel": 40.0}}
    assert [s["total_ad_valorem_percent"] for s in data["steps"]] == [0.0, 25.0]
    text = cli(*args).stdout.splitlines()[0]
    assert text.endswith("; claim KR, over quota, content steel=40, not in transit")
    bad = cli(*args, "--quota", "under")
    assert bad.exit_code == 2 and "--quota" in bad.stderr


def test_timeline_says_when_it_is_incomplete(cli):
    result = cli("timeline", "--hts", "8703.23.01", "--origin", "CN", "--from", "2025-06-01",
                 "--to", "2025-06-30", "--as-known-on", KNOWN, "--strict")
    assert result.exit_code == 2
    assert result.stdout.splitlines()[1].startswith("Coverage: INCOMPLETE: ")
    assert result.stderr.startswith("tariffkg: incomplete: ")


def test_timeline_refuses_dates_before_the_data(cli):
    result = cli("timeline", "--hts", "8703.23.01", "--origin", "JP", "--from", "2024-06-01",
                 "--to", "2025-01-31", "--as-known-on", KNOWN)
    assert result.exit_code == 2 and "2025-01-01" in result.stderr


def test_timeline_of_a_heading_lists_its_lines(cli):
    result = cli("timeline", "--hts", "8703", "--origin", "JP", "--from", "2025-03-01",
                 "--to", "2025-03-31", "--as-known-on", KNOWN)
    assert result.exit_code == 0 and "8703.23.01" in result.stdout


# --- Charts -------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".svg", ".png"])
def test_chart_is_written(cli, tmp_path, suffix):
    path = tmp_path / f"duty{suffix}"
    result = cli("timeline", "--hts", "8703.23.01", "--origin", "JP", "--from", "2025-03-01",
                 "--to", "2025-12-31", "--as-known-on", KNOWN, "--chart", str(path))
    assert result.exit_code == 0, result.stderr
    assert path.stat().st_size > 1000


def test_the_chart_key_names_each_step_by_its_acts_and_rulings_apart(shipped_store):
    result = tl.duty_steps(shipped_store, "8703.23.01", "JP", date(2025, 3, 1), date(2026, 3, 31),
                           date(2026, 12, 1))
    events = tl.events_for(shipped_store, "JP")
    key = tl._chart_key(result.steps, [e for e in events if e.day <= date(2026, 3, 31)])
    assert key[1].split()[1:4] == ["2025-04-03", "27.5%", "Proclamation"]
    assert any("court ruling" in line and "Learning Resources" in line for line in key)
    assert any("negotiation" in line for line in key)


def test_events_not_yet_known_are_not_drawn(shipped_store):
    known = tl.events_for(shipped_store, "JP", date(2025, 12, 31))
    assert known and all(e.day <= date(2025, 12, 31) for e in known)
    assert not any(e.kind == "ruling" for e in known)  # the ruling of 2026-02-20 was not yet known
    assert any(e.kind == "ruling" for e in tl.events_for(shipped_store, "JP"))


def test_labels_close_in_time_take_another_level():
    levels: list[date] = []
    assert tl._free_level(levels, date(2025, 4, 5), 10) == 0
    assert tl._free_level(levels, date(2025, 4, 9), 10) == 1
    assert tl._free_level(levels, date(2025, 4, 10), 10) == 2
    assert tl._free_level(levels, date(2025, 5, 1), 10) == 0


def test_missing_matplotlib_names_a_real_package(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails
    empty = tl.Timeline("8703.23.01", "JP", date(2025, 1, 1), date(2025, 1, 2), None, [])
    with pytest.raises(InputError) as error:
        tl.chart(empty, [], tmp_path / "x.svg", "t")
    assert "pip install matplotlib" in str(error.value)
    assert "tariff-kg[chart]" not in str(error.value)


# --- Diff ---------------------------------------------------------------------------------

def test_diff_of_an_origin_states_its_coverage(cli):
    result = cli("diff", "--origin", "DE", "--from", "2025-03-01", "--to", "2025-10-01",
                 "--as-known-on", KNOWN)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[1].startswith("Coverage: INCOMPLETE: ")
    assert "EU reciprocal exemptions" in result.stdout
    strict = cli("diff", "--origin", "DE", "--from", "2025-03-01", "--to", "2025-10-01",
                 "--as-known-on", KNOWN, "--strict")
    assert strict.exit_code == 2 and strict.stderr.startswith("tariffkg: incomplete: ")


def test_diff_lists_each_measure_once(cli):
    data = json.loads(cli("diff", "--origin", "CN", "--from", "2025-03-01", "--to", "2025-10-01",
                          "--as-known-on", KNOWN, "--format", "json").stdout)
    measures = [row["measure"] for row in data["changes"]]
    assert measures and len(measures) == len(set(measures))


def test_diff_of_one_product(cli):
    data = json.loads(cli("diff", "--origin", "JP", "--hts", "8703.23.01", "--from", "2025-03-01",
                          "--to", "2025-10-01", "--as-known-on", KNOWN, "--format", "json").stdout)
    assert data["coverage"]["complete"] is True
    assert data["changes"][-1] == {"change": "total", "measure": "", "detail": "2.5% -> 15%"}


def diff_json(cli, *args: str) -> dict:
    result = cli("diff", *args, "--as-known-on", KNOWN, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_diff_of_one_product_with_a_claim(cli):
    # 2025 HTS Basic, 8703.23.01: general 2.5%, special "Free (... KR ...)" (KORUS): claimed, the
    # MFN part is free on both days; Section 232 autos 25% from 2025-04-03 (Proclamation 10908).
    question = ("--origin", "KR", "--hts", "8703.23.01", "--from", "2025-03-01", "--to",
                "2025-06-01")
    claimed = diff_json(cli, *question, "--claim", "KR")
    assert claimed["entry_facts"] == {**DEFAULT_FACTS, "claim": "KR"}
    assert claimed["changes"][-1]["detail"] == "0% -> 25%"
    general = diff_json(cli, *question)
    assert general["entry_facts"] == DEFAULT_FACTS
    assert general["changes"][-1]["detail"] == "2.5% -> 27.5%"
    text = cli("diff", *question, "--as-known-on", KNOWN, "--claim", "KR").stdout
    assert text.splitlines()[0].endswith("(law as known on 2026-12-01; claim KR, over quota, "
                                         "metal content not given, not in transit)")


def test_diff_of_one_product_in_and_over_quota(cli):
    # EO 14309 (90 FR 27851): UK passenger vehicles within the quota 7.5% from 2025-06-30 instead
    # of Section 232's 25%; over the quota the 25% stays. MFN 2.5%.
    question = ("--origin", "GB", "--hts", "8703.23.01", "--from", "2025-06-01", "--to",
                "2025-07-01")
    inside = diff_json(cli, *question, "--quota", "in")
    assert inside["entry_facts"] == {**DEFAULT_FACTS, "quota": "in"}
    assert inside["changes"][-1]["detail"] == "27.5% -> 10%"
    assert [c["change"] for c in inside["changes"]] == ["started", "ended", "total"]
    over = diff_json(cli, *question, "--quota", "over")
    assert over["entry_facts"] == DEFAULT_FACTS
    assert over["changes"] == [{"change": "total", "measure": "", "detail": "27.5% -> 27.5%"}]


def test_diff_refuses_entry_facts_without_a_product(cli):
    result = cli("diff", "--origin", "KR", "--from", "2025-03-01", "--to", "2025-06-01",
                 "--claim", "KR", "--quota", "over")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == ("tariffkg: error: --claim, --quota: facts of one product's entry; "
                             "give --hts with them (the measures in force are the origin's, for "
                             "any goods)\n")
    data = json.loads(cli("diff", "--origin", "KR", "--from", "2025-03-01", "--to", "2025-06-01",
                          "--as-known-on", KNOWN, "--format", "json").stdout)
    assert data["hts"] is None and data["entry_facts"] is None


def test_diff_refuses_dates_before_the_data(cli):
    result = cli("diff", "--origin", "JP", "--from", "2024-12-01", "--to", "2025-10-01")
    assert result.exit_code == 2 and "2025-01-01" in result.stderr


def test_measures_in_force_has_one_row_per_measure_and_reason(shipped_store):
    from kg.queries import stored_query, substitute_parameters

    query = stored_query("measures_in_force")
    rows = shipped_store.select(substitute_parameters(query.text, query.bind({
        "origin": "CN", "date": "2025-10-01", "asKnownOn": KNOWN})), {})
    keys = [(str(r["measure"]), str(r.get("reason"))) for r in rows]
    assert len(keys) == len(set(keys))
    full = [r for r in rows
            if str(r["measure"]).endswith("s232-aluminum-derivatives-full-all-2025-06-04")]
    assert sorted(str(full[0]["chapter99"]).split()) == ["9903.85.04", "9903.85.07"]
