"""The JSON API of `tariffkg serve`: every endpoint, every error path, the CLI's JSON contract.

The server runs for real on 127.0.0.1 over the session's store. The answers are checked against
the duty answers themselves (a timeline step's total is the duty on its first day, a diff's totals
are the duties on its two days), not against hard-coded rates, so the data may grow freely.
Periods are kept short: each day asked costs one duty answer.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import socket
import subprocess
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner
from web_server import KNOWN, REPO, WebServer, cli_command, free_port

from kg.cli import main

CAR = {"hts": "8703.23.01", "origin": "JP", "as_known_on": KNOWN}
SEPTEMBER = {"from": "2025-09-01", "to": "2025-09-30"}


@pytest.fixture(scope="module")
def server(shipped_store_root):
    """The server over the session's store, stopped after the module."""
    running = WebServer(shipped_store_root, "--query-timeout", "10").start()
    yield running
    running.stop()


def duty(server, **params):
    """The JSON of /api/duty for the car question with the given changes."""
    status, body = server.json("/api/duty", {**CAR, **params})
    assert status == 200, body
    return body


# --- /api/duty -----------------------------------------------------------------------------------

def test_duty_json_is_the_cli_json(server, shipped_store_root):
    question = ["--hts", "8703.23.01", "--origin", "JP", "--date", "2025-09-16",
                "--as-known-on", KNOWN, "--claim", "KR", "--content", "steel=40"]
    runner = CliRunner(env={"TARIFFKG_HOME": str(shipped_store_root)})
    printed = runner.invoke(main, ["duty", *question, "--format", "json"])
    assert printed.exit_code == 0, printed.output
    served = duty(server, date="2025-09-16", claim="KR", content="steel=40")
    assert served == json.loads(printed.stdout)
    assert served["entry_facts"] == {"claim": "KR", "quota": "over", "content": {"steel": 40.0},
                                     "loaded": None}


def test_duty_as_text_and_csv(server):
    status, headers, body = server.request("/api/duty", {**CAR, "date": "2025-09-16",
                                                         "format": "text"})
    assert status == 200 and headers["content-type"].startswith("text/plain")
    assert body.decode().startswith("Duty on 8703.23.01 from JP entered 2025-09-16")
    assert "TOTAL ad valorem:" in body.decode()
    status, headers, body = server.request("/api/duty", {**CAR, "date": "2025-09-16",
                                                         "format": "csv"})
    assert status == 200 and headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(body.decode())))
    assert rows[0][:3] == ["measure", "label", "authority"]
    assert [row[0] for row in rows[-2:]] == ["TOTAL", "APPLIED AT ENTRY"]


def test_duty_takes_every_entry_fact(server):
    answer = duty(server, date="2025-09-16", claim="none", quota="in", loaded="2025-09-01",
                  content="steel=40,aluminum=10")
    assert answer["entry_facts"] == {"claim": None, "quota": "in", "loaded": "2025-09-01",
                                     "content": {"steel": 40.0, "aluminum": 10.0}}


DUTY_ERRORS = [
    ({"origin": "JP", "date": "2025-09-16"}, "hts", "missing"),
    ({**CAR, "hts": "abc", "date": "2025-09-16"}, "hts", "not an HTS code"),
    ({**CAR, "hts": "8703", "date": "2025-09-16"}, "hts", "heading"),
    ({**CAR, "hts": "9999.99.99", "date": "2025-09-16"}, "hts", "unknown HTS code 9999.99.99"),
    ({"hts": "8703.23.01", "date": "2025-09-16"}, "origin", "missing"),
    ({**CAR, "origin": "Atlantis", "date": "2025-09-16"}, "origin", "unknown country"),
    (CAR, "date", "missing"),
    ({**CAR, "date": "2025-02-30"}, "date", "not a real date"),
    ({**CAR, "date": "2024-12-31"}, "date", "the data begins"),
    ({**CAR, "date": "2025-09-16", "as_known_on": "2024-06-01"}, "as_known_on", "before"),
    ({**CAR, "date": "2025-09-16", "as_known_on": "yesterday"}, "as_known_on", "not a real date"),
    ({**CAR, "date": "2025-09-16", "claim": "12"}, "claim", "special program indicator"),
    ({**CAR, "date": "2025-09-16", "quota": "under"}, "quota", "'in' or 'over'"),
    ({**CAR, "date": "2025-09-16", "content": "lead=5"}, "content", "steel, aluminum, copper"),
    ({**CAR, "date": "2025-09-16", "content": "steel=140"}, "content", "0 to 100"),
    ({**CAR, "date": "2025-09-16", "loaded": "soon"}, "loaded", "not a real date"),
    ({**CAR, "date": "2025-09-16", "format": "xml"}, "format", "json, text or csv"),
    ({**CAR, "date": "2025-09-16", "colour": "red"}, "colour", "unknown parameter"),
]


@pytest.mark.parametrize("params, parameter, fragment", DUTY_ERRORS,
                         ids=[f"{e[1]}-{i}" for i, e in enumerate(DUTY_ERRORS)])
def test_duty_errors_are_400_naming_the_parameter(server, params, parameter, fragment):
    status, body = server.json("/api/duty", params)
    assert status == 400, body
    assert set(body) == {"error", "parameter"}
    assert body["parameter"] == parameter
    assert body["error"].startswith(parameter) and fragment in body["error"], body["error"]


# --- /api/timeline, /api/diff, /api/series: the CLI's answers -----------------------------------

def cli_json(home, *args: str):
    """What `tariffkg ARGS --format json` prints, parsed."""
    runner = CliRunner(env={"TARIFFKG_HOME": str(home)})
    printed = runner.invoke(main, [*args, "--format", "json"])
    assert printed.exit_code == 0, printed.output
    return json.loads(printed.stdout)


# Real questions: a Japanese car over the deal, Chinese toys over the fentanyl and reciprocal
# tariffs and the ruling, a Canadian drill over the border duty (as applied and as known today).
TIMELINES = [
    {"hts": "8703.23.01", "origin": "JP", "from": "2025-01-01", "to": "2026-03-31"},
    {"hts": "8703.23.01", "origin": "JP", "from": "2025-01-01", "to": "2026-03-31",
     "as_known_on": KNOWN},
    {"hts": "9503.00.00", "origin": "CN", "from": "2025-01-01", "to": "2026-03-31"},
    {"hts": "9503.00.00", "origin": "CN", "from": "2025-01-01", "to": "2026-03-31",
     "as_known_on": KNOWN},
    {"hts": "8467.21.00", "origin": "CA", "from": "2025-01-01", "to": "2026-03-31"},
]


@pytest.mark.parametrize("params", TIMELINES, ids=lambda p: "-".join(p.values()))
def test_timeline_is_the_cli_timeline(server, shipped_store_root, params):
    status, served = server.json("/api/timeline", params)
    assert status == 200, served
    options = [f"--{name.replace('_', '-')}={value}" for name, value in params.items()]
    assert served == cli_json(shipped_store_root, "timeline", *options)
    assert len(served["steps"]) > 1 and served["steps"][1]["changes"]


DIFFS = [
    {"from": "2025-01-01", "to": "2025-09-16", "origin": "JP", "hts": "8703.23.01"},
    {"from": "2025-03-01", "to": "2025-05-15", "origin": "CN", "hts": "9503.00.00",
     "as_known_on": "2025-06-01"},
    {"from": "2025-03-01", "to": "2026-03-02", "origin": "CN", "hts": "9503.00.00",
     "as_known_on": KNOWN},
    {"from": "2025-02-01", "to": "2025-03-04", "origin": "CA", "hts": "8467.21.00",
     "as_known_on": KNOWN},
    {"from": "2025-03-01", "to": "2025-06-01", "origin": "CA", "as_known_on": KNOWN},
    # With the entry facts: KORUS makes the MFN part free (2025 HTS, 8703.23.01, special column);
    # EO 14309 (90 FR 27851) gives UK cars within the quota 7.5% from 2025-06-30.
    {"from": "2025-03-01", "to": "2025-06-01", "origin": "KR", "hts": "8703.23.01",
     "claim": "KR"},
    {"from": "2025-06-01", "to": "2025-07-01", "origin": "GB", "hts": "8703.23.01",
     "quota": "in", "content": "steel=40", "loaded": "2025-05-20"},
]


@pytest.mark.parametrize("params", DIFFS, ids=lambda p: "-".join(p.values()))
def test_diff_is_the_cli_diff(server, shipped_store_root, params):
    params = {"as_known_on": KNOWN, **params}
    status, served = server.json("/api/diff", params)
    assert status == 200, served
    options = [f"--{name.replace('_', '-')}={value}" for name, value in params.items()]
    assert served == cli_json(shipped_store_root, "diff", *options)
    assert served["changes"]


def test_timeline_steps_are_the_duty_on_their_days(server):
    status, body = server.json("/api/timeline", {**CAR, **SEPTEMBER})
    assert status == 200, body
    steps = body["steps"]
    assert body["hts"] == "8703.23.01" and body["origin"] == "JP" and body["as_known_on"] == KNOWN
    assert steps[0]["from"] == "2025-09-01" and steps[-1]["until"] == "2025-10-01"
    for before, after in zip(steps, steps[1:]):
        assert before["until"] == after["from"]
        assert after["changes"] and after["acts"], "every step after the first says what changed"
    for step in steps:
        answer = duty(server, date=step["from"])
        assert step["total_ad_valorem_percent"] == answer["total_ad_valorem_percent"]
        assert [c["measure"] for c in step["components"]] == \
            [c["measure"] for c in answer["components"]]


def test_timeline_takes_the_entry_facts(server):
    # A KR claim on a Japanese car changes nothing, quota 'in' neither; they are checked all the
    # same, and bad ones name their parameter (below).
    status, body = server.json("/api/timeline", {**CAR, **SEPTEMBER, "claim": "KR",
                                                 "quota": "in", "content": "steel=40"})
    assert status == 200 and body["steps"][0]["from"] == "2025-09-01", body
    assert body["entry_facts"] == {"claim": "KR", "quota": "in", "content": {"steel": 40.0},
                                   "loaded": None}


def test_diff_takes_the_entry_facts(server):
    question = {"from": "2025-06-01", "to": "2025-07-01", "origin": "GB", "hts": "8703.23.01",
                "as_known_on": KNOWN}
    status, inside = server.json("/api/diff", {**question, "quota": "in"})
    assert status == 200, inside
    assert inside["entry_facts"]["quota"] == "in"
    assert inside["changes"][-1]["detail"] == "27.5% -> 10%"  # EO 14309: 7.5% in quota, + MFN
    status, over = server.json("/api/diff", question)
    assert status == 200 and over["entry_facts"]["quota"] == "over", over
    assert over["changes"][-1]["detail"] == "27.5% -> 27.5%"


def test_events_are_those_of_the_cli_chart(server, shipped_store):
    from kg.timeline import events_for

    status, body = server.json("/api/events", {"origin": "Japan"})
    assert status == 200, body
    assert body["origin"] == "JP" and body["as_known_on"] is None
    assert body["events"] == [e.to_dict() for e in events_for(shipped_store, "JP")]
    assert {e["kind"] for e in body["events"]} == {"negotiation", "ruling"}
    assert all(e["url"] is None or e["url"].startswith("http") for e in body["events"])
    status, known = server.json("/api/events", {"origin": "JP", "as_known_on": "2025-12-31"})
    assert status == 200 and known["as_known_on"] == "2025-12-31"
    assert all(e["date"] <= "2025-12-31" for e in known["events"])
    assert len(known["events"]) < len(body["events"])  # the ruling of 2026-02-20 is not known yet


@pytest.mark.parametrize("params, parameter", [
    ({}, "origin"), ({"origin": "Atlantis"}, "origin"), ({"origin": "JP", "as_known_on": "x"},
                                                         "as_known_on"),
    ({"origin": "JP", "hts": "8703.23.01"}, "hts"),
])
def test_events_errors(server, params, parameter):
    status, body = server.json("/api/events", params)
    assert status == 400 and body["parameter"] == parameter, body


@pytest.mark.parametrize("params, parameter", [
    ({"origin": "JP"}, "hts"),
    ({"hts": "8703.23.01"}, "origin"),
    ({**CAR, "from": "2025-09-30", "to": "2025-09-01"}, "to"),
    ({**CAR, "from": "2024-01-01"}, "from"),
    ({**CAR, "to": "2025-9-1"}, "to"),
    ({**CAR, "hts": "8703.2"}, "hts"),
    ({**CAR, "date": "2025-09-01"}, "date"),
    ({**CAR, "hts": "9999.99.99"}, "hts"),
    ({**CAR, "quota": "under"}, "quota"),
    ({**CAR, "as_known_on": "2024-01-01"}, "as_known_on"),
])
def test_timeline_errors(server, params, parameter):
    status, body = server.json("/api/timeline", params)
    assert status == 400 and body["parameter"] == parameter, body


# --- /api/diff -----------------------------------------------------------------------------------

def test_diff_of_a_product_ends_with_the_totals_of_both_days(server):
    status, body = server.json("/api/diff", {**CAR, "from": "2025-09-01", "to": "2025-09-16"})
    assert status == 200, body
    assert body["hts"] == "8703.23.01" and body["from"] == "2025-09-01"
    before = duty(server, date="2025-09-01")["total_ad_valorem_percent"]
    after = duty(server, date="2025-09-16")["total_ad_valorem_percent"]
    assert body["changes"][-1] == {"change": "total", "measure": "",
                                   "detail": f"{before:g}% -> {after:g}%"}


def test_diff_of_an_origin_lists_measures(server):
    status, body = server.json("/api/diff", {"from": "2025-09-01", "to": "2025-09-16",
                                             "as_known_on": KNOWN})
    assert status == 200, body
    assert body["origin"] == "JP" and body["hts"] is None
    assert body["changes"] and all(set(change) == {"change", "measure", "detail"}
                                   for change in body["changes"])


@pytest.mark.parametrize("params, parameter", [
    ({"to": "2025-09-16"}, "from"),
    ({"from": "2025-09-01"}, "to"),
    ({"from": "2025-09-01", "to": "16.9.2025"}, "to"),
    ({"from": "2025-09-01", "to": "2025-09-16", "origin": "Atlantis"}, "origin"),
    ({"from": "2025-09-01", "to": "2025-09-16", "hts": "87"}, "hts"),
    ({"from": "2025-09-01", "to": "2025-09-16", "claim": "KR"}, "claim"),
    ({"from": "2025-09-01", "to": "2025-09-16", "quota": "in"}, "quota"),
    ({"from": "2025-09-01", "to": "2025-09-16", "hts": "8703.23.01", "quota": "under"}, "quota"),
    ({"from": "2025-09-01", "to": "2025-09-16", "hts": "8703.23.01", "content": "tin=5"},
     "content"),
])
def test_diff_errors(server, params, parameter):
    status, body = server.json("/api/diff", params)
    assert status == 400 and body["parameter"] == parameter, body


# --- /api/series ---------------------------------------------------------------------------------

def test_series_rows_are_the_cli_series(server, shipped_store_root):
    params = {"origin": "JP,KR", "hts": "8703.23.01,9503", "as_known_on": KNOWN, **SEPTEMBER}
    status, body = server.json("/api/series", params)
    assert status == 200, body
    assert body["origins"] == ["JP", "KR"] and body["hts"] == ["87032301", "9503"]
    options = ["--origin=JP,KR", "--hts=8703.23.01,9503", f"--as-known-on={KNOWN}",
               "--from=2025-09-01", "--to=2025-09-30"]
    runner = CliRunner(env={"TARIFFKG_HOME": str(shipped_store_root)})
    for fmt in ("json", "csv"):
        printed = runner.invoke(main, ["series", *options, "--format", fmt])
        assert printed.exit_code == 0, printed.output
        if fmt == "json":
            assert body["rows"] == [json.loads(line) for line in printed.stdout.splitlines()]
            assert body["columns"] == list(body["rows"][0])
        else:
            status, headers, text = server.request("/api/series", {**params, "format": "csv"})
            assert status == 200 and headers["content-type"].startswith("text/csv")
            assert text.decode() == printed.stdout
    for row in body["rows"]:
        if row["hts"] == "8703.23.01":
            answer = duty(server, origin=row["origin"], date=row["valid_from"])
            assert row["total_ad_valorem_percent"] == answer["total_ad_valorem_percent"]


def test_series_as_applied(server):
    status, body = server.json("/api/series", {"origin": "JP", "hts": "8703.23.01",
                                               "as_known_on": "entry", "from": "2025-08-01",
                                               "to": "2025-09-30"})
    assert status == 200 and body["as_known_on"] == "entry", body
    assert body["rows"][0]["valid_from"] == "2025-08-01" and body["rows"][-1]["valid_until"] is None


@pytest.mark.parametrize("params, parameter, fragment", [
    ({"hts": "8703.23.01"}, "origin", "missing"),
    ({"origin": "JP"}, "hts", "missing"),
    ({"origin": "JP", "hts": "87"}, "hts", "at most"),
    ({"origin": "JP", "hts": "8703.23.01,8703.24,84"}, "hts", "at most"),
    ({"origin": "JP", "hts": "0000"}, "hts", "no 8-digit HTS line"),
    ({"origin": "JP", "hts": "8703.23.01", "as_known_on": "2024-01-01"}, "as_known_on", "before"),
    ({"origin": "JP", "hts": "8x"}, "hts", "not an HTS"),
    ({"origin": "JP,Atlantis", "hts": "8703.23.01"}, "origin", "unknown country"),
    ({"origin": "JP", "hts": "8703.23.01", "format": "xlsx"}, "format", "json or csv"),
])
def test_series_errors(server, params, parameter, fragment):
    status, body = server.json("/api/series", params)
    assert status == 400 and body["parameter"] == parameter and fragment in body["error"], body


# --- /api/hts ------------------------------------------------------------------------------------

def test_code_search_by_digits_and_by_words(server):
    status, body = server.json("/api/hts", {"q": "8703.23"})
    assert status == 200 and body["codes"][0]["hts"] == "8703.23.01"
    status, body = server.json("/api/hts", {"q": "motor cars cylinder", "limit": "5"})
    assert status == 200 and 0 < len(body["codes"]) <= 5
    for code in body["codes"]:
        text = " ".join(code["path"] + [code["description"]]).lower()
        assert all(word in text for word in ("motor", "cars", "cylinder"))


@pytest.mark.parametrize("params, parameter", [
    ({}, "q"), ({"q": "cars", "limit": "0"}, "limit"), ({"q": "cars", "limit": "x"}, "limit"),
])
def test_code_search_errors(server, params, parameter):
    status, body = server.json("/api/hts", params)
    assert status == 400 and body["parameter"] == parameter, body


# --- OpenAPI, the page's parts, assets ----------------------------------------------------------

def test_openapi_describes_every_endpoint(server):
    status, spec = server.json("/api/openapi.json")
    assert status == 200
    for path in ("/api/duty", "/api/timeline", "/api/events", "/api/diff", "/api/series",
                 "/api/hts"):
        assert path in spec["paths"], path
    names = {p["name"]: p["required"] for p in spec["paths"]["/api/duty"]["get"]["parameters"]}
    assert names["hts"] is True and names["as_known_on"] is False
    assert set(names) >= {"hts", "origin", "date", "as_known_on", "claim", "quota", "content",
                          "loaded"}


def test_unknown_paths_are_404(server):
    status, _, _ = server.request("/api/nothing")
    assert status == 404


def test_the_page_loads_nothing_from_elsewhere(server):
    status, headers, body = server.request("/", {**CAR, "date": "2025-09-16"})
    assert status == 200 and headers["content-type"].startswith("text/html")
    page = body.decode()
    assets = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="([^"]+)"', page)
    assert assets and all(asset.startswith("/static/") for asset in assets), assets
    for asset in assets:
        assert server.request(asset)[0] == 200
    assert 'id="total"' in page and "/part/timeline?" in page and "/part/diff?" in page


def test_page_parts_hold_the_chart_and_the_changes(server):
    status, _, body = server.request("/part/timeline", {**CAR, **SEPTEMBER, "date": "2025-09-16"})
    assert status == 200
    html = body.decode()
    assert "<svg" in html and 'class="entry-date"' in html and 'id="steps"' in html
    assert "mark-act" in html
    status, _, body = server.request("/part/diff", {**CAR, "date": "2025-09-16",
                                                    "compare": "2025-09-01"})
    assert status == 200 and 'id="changes"' in body.decode()
    status, _, body = server.request("/part/diff", {**CAR, "date": "2025-09-16",
                                                    "compare": "2025-09-01", "claim": "KR",
                                                    "quota": "in"})
    link = re.search(r'href="(/api/diff\?[^"]+)"', body.decode()).group(1).replace("&amp;", "&")
    assert status == 200 and "claim=KR" in link and "quota=in" in link
    status, linked = server.json(link.split("?")[0], dict(
        part.split("=", 1) for part in link.split("?")[1].split("&")))
    assert status == 200 and linked["entry_facts"]["claim"] == "KR", linked
    status, _, body = server.request("/part/timeline", {"origin": "JP"})
    assert status == 200 and 'role="alert"' in body.decode() and "hts" in body.decode()


def test_the_page_searches_words_typed_as_the_code(server):
    status, _, body = server.request("/", {"hts": "motor cars cylinder", "origin": "JP",
                                           "date": "2025-09-16"})
    assert status == 200 and 'id="matches"' in body.decode() and "8703.23.01" in body.decode()
    status, _, body = server.request("/", {"hts": "zzzqqq", "origin": "JP", "date": "2025-09-16"})
    assert status == 200 and 'id="error"' in body.decode() and "zzzqqq" in body.decode()


# --- the serve command ---------------------------------------------------------------------------

def test_serve_listens_on_loopback_by_default():
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0 and "127.0.0.1" in result.output


def test_serve_without_the_web_extra_says_what_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if uvicorn were not installed
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 2
    assert "pip install 'tariff-kg[web]'" in result.stderr and "uvicorn" in result.stderr


def test_serve_says_when_the_port_is_taken(shipped_store_root):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(cli_command("serve", "--port", str(port)), cwd=REPO,
                              env={**os.environ, "TARIFFKG_HOME": str(shipped_store_root)},
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert f"tariffkg: error: cannot listen on 127.0.0.1:{port}" in done.stderr


def test_over_an_unreachable_endpoint_answers_are_502_and_sparql_501(shipped_store_root):
    endpoint = f"http://127.0.0.1:{free_port()}/query"
    served = WebServer(shipped_store_root, "--endpoint", endpoint, "--timeout", "5").start()
    try:
        status, body = served.json("/api/duty", {**CAR, "date": "2025-09-16"})
        assert status == 502 and "127.0.0.1" in body["error"], body
        status, body = served.json("/sparql", {"query": "ASK {}"})
        assert status == 501 and "--endpoint" in body["error"]
        status, _, page = served.request("/", {**CAR, "date": "2025-09-16"})
        assert status == 200 and 'id="error"' in page.decode() and "127.0.0.1" in page.decode()
    finally:
        served.stop()


# --- what reaches the page is escaped; the chart's marks -----------------------------------------

def test_what_a_user_types_is_escaped_on_the_page(server):
    hostile = '<script>alert("x")</script>'
    for params in ({"hts": hostile, "origin": "JP", "date": "2025-09-16"},
                   {"hts": "8703.23.01", "origin": hostile, "date": "2025-09-16"},
                   {"hts": "8703.23.01", "origin": "JP", "date": hostile}):
        status, _, body = server.request("/", params)
        assert status == 200 and 'id="error"' in body.decode()
        assert "<script>alert" not in body.decode()
        assert "&lt;script&gt;" in body.decode()


def test_the_chart_marks_acts_rulings_and_negotiations_differently():
    from datetime import date

    from kg.web.chart import timeline_svg

    steps = [{"from": "2025-01-01", "until": "2025-04-03", "total_ad_valorem_percent": 2.5,
              "known_part_percent": 2.5, "changes": [], "acts": []},
             {"from": "2025-04-03", "until": "2025-06-01", "total_ad_valorem_percent": None,
              "known_part_percent": 27.5, "acts": ["Proclamation 10908"], "changes": [
                  {"kind": "started", "measure": "m", "label": "a <b> measure", "before": None,
                   "after": 25.0, "act": "Proclamation 10908", "detail": ""}]}]
    events = [{"date": "2025-02-20", "kind": "ruling", "label": "A v. B", "url": None},
              {"date": "2025-03-01", "kind": "negotiation", "label": "talks & more",
               "url": "javascript:alert(1)"}]
    svg = timeline_svg(steps, events, date(2025, 1, 1), date(2025, 5, 31), date(2025, 4, 10),
                       "title", {"Proclamation 10908": "https://www.govinfo.gov/x"})
    root = ET.fromstring(svg)  # well-formed XML: every label escaped
    ns = "{http://www.w3.org/2000/svg}"
    classes = [element.get("class") for element in root.iter()]
    assert classes.count("mark mark-act") == 1 and classes.count("mark mark-court") == 1
    assert classes.count("mark mark-negotiation") == 1 and "step incomplete" in classes
    assert [a.get("href") for a in root.iter(f"{ns}a")] == ["https://www.govinfo.gov/x"]
    assert "started: a &lt;b&gt; measure +25% (Proclamation 10908)" in svg
    assert "talks &amp; more" in svg


def test_the_pool_lends_each_backend_to_one_query_at_a_time():
    import threading
    import time as clock

    from kg.web.pool import BackendPool

    class Slow:
        path = None

        def __init__(self):
            self.busy = False
            self.overlaps = 0

        def select(self, query, bindings=None):
            if self.busy:
                self.overlaps += 1
            self.busy = True
            clock.sleep(0.01)
            self.busy = False
            return [{"q": query}]

    backends = [Slow(), Slow()]
    pool = BackendPool(backends)
    threads = [threading.Thread(target=lambda: [pool.select("x") for _ in range(10)])
               for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [b.overlaps for b in backends] == [0, 0]
