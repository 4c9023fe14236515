"""`tariffkg duty|timeline|diff --data my.ttl`: the user's measure feeds the answer (issue 13).

The file is validated with the graph first (exit 1 when it adds violations on the nodes it
describes) and the answer comes from a store of the graph plus the file, derived again. The
fixture is a made-up 7% on toys of Japan from 2026-03-01, enacted by a made-up notice of
2026-02-27.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.cli import main

MINE = Path(__file__).parent / "fixtures" / "user" / "broker-measure.ttl"
TOYS = ["--hts", "9503.00.00", "--origin", "JP"]


@pytest.fixture(scope="module")
def cli(shipped_store_root, shipped_store):
    """Run `tariffkg ARGS` against the session store; return the click Result."""
    runner = CliRunner(env={"TARIFFKG_HOME": str(shipped_store_root), "COLUMNS": "120"})

    def run(*args: str):
        return runner.invoke(main, list(args))

    return run


def measures(answer: dict) -> set[str]:
    return {c["measure"].rsplit("/", 1)[-1] for c in answer["components"]}


def test_the_users_measure_feeds_the_answer(cli):
    asked = ["duty", *TOYS, "--date", "2026-03-15", "--as-known-on", "2026-03-15"]
    plain = json.loads(cli(*asked, "--format", "json").stdout)
    assert "broker-test-toys-jp" not in measures(plain) and plain["user_data"] == []
    result = cli(*asked, "--format", "json", "--data", str(MINE))
    assert result.exit_code == 0, result.stderr
    mine = json.loads(result.stdout)
    assert "broker-test-toys-jp" in measures(mine)
    assert mine["total_ad_valorem_percent"] == plain["total_ad_valorem_percent"] + 7
    assert mine["user_data"] == [str(MINE)]
    text = cli(*asked, "--data", str(MINE)).stdout
    assert f"With your data: {MINE}" in text and "A broker's test measure" in text


def test_known_time_holds_for_the_users_act(cli):
    # the made-up notice is dated 2026-02-27: as known before it, the measure is not there
    result = cli("duty", *TOYS, "--date", "2026-03-15", "--as-known-on", "2026-02-26",
                 "--format", "json", "--data", str(MINE))
    assert "broker-test-toys-jp" not in measures(json.loads(result.stdout))


def test_timeline_and_diff_with_the_users_data(cli):
    result = cli("timeline", *TOYS, "--from", "2026-02-25", "--to", "2026-03-31",
                 "--as-known-on", "2026-03-31", "--format", "json", "--data", str(MINE))
    assert result.exit_code == 0, result.stderr
    steps = json.loads(result.stdout)["steps"]
    assert steps[-1]["from"] == "2026-03-01" and "Test notice" in steps[-1]["acts"]
    diff = cli("diff", "--origin", "JP", "--from", "2026-02-25", "--to", "2026-03-15",
               "--as-known-on", "2026-03-31", "--data", str(MINE))
    assert diff.exit_code == 0, diff.stderr
    assert "started  A broker's test measure: 7% on toys of Japan" in diff.stdout


def test_a_file_with_violations_is_refused_with_exit_1(cli, tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text(MINE.read_text().replace("tkg:adValoremPercent 7.0", 'tkg:adValoremPercent "7"'))
    result = cli("duty", *TOYS, "--date", "2026-03-15", "--data", str(bad))
    assert result.exit_code == 1
    assert "measure:broker-test-toys-jp" in result.stdout and "Duty on" not in result.stdout
    assert "nothing was answered" in result.stderr


def test_data_needs_the_embedded_store(cli):
    result = cli("duty", *TOYS, "--date", "2026-03-15", "--data", str(MINE),
                 "--endpoint", "http://127.0.0.1:9/query")
    assert result.exit_code == 2 and "--data" in result.stderr
