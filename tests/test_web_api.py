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
    assert rows[0][:3] == ["measure", "label", "authority"] and rows[-1][0] == "TOTAL"


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


# --- /api/timeline -------------------------------------------------------------------------------

def test_timeline_steps_are_the_duty_on_their_days(server):
    status, body = server.json("/api/timeline", {**CAR, **SEPTEMBER})
    assert status == 200, body
    steps = body["steps"]
    assert body["hts"] == "8703.23.01" and body["origin"] == "JP" and body["as_known_on"] == KNOWN
    assert steps[0]["from"] == "2025-09-01" and steps[-1]["until"] == "2025-10-01"
    for before, after in zip(steps, steps[1:]):
        assert before["until"] == after["from"]
        assert before["total_ad_valorem_percent"] != after["total_ad_valorem_percent"] or \
            before["components"] != after["components"]
        assert after["changes"], "every step after the first says what changed"
    for step in steps:
        answer = duty(server, date=step["from"])
        assert step["total_ad_valorem_percent"] == answer["total_ad_valorem_percent"]
        assert [c["measure"] for c in step["components"]] == \
            [c["measure"] for c in answer["components"]]
    kinds = {event["kind"] for event in body["events"]}
    assert kinds == {"negotiation", "court ruling"}
    assert all(event["url"] is None or event["url"].startswith("http") for event in body["events"])


@pytest.mark.parametrize("params, parameter", [
    ({"origin": "JP"}, "hts"),
    ({"hts": "8703.23.01"}, "origin"),
    ({**CAR, "from": "2025-09-30", "to": "2025-09-01"}, "to"),
    ({**CAR, "from": "2024-01-01"}, "from"),
    ({**CAR, "to": "2025-9-1"}, "to"),
    ({**CAR, "hts": "8703.2"}, "hts"),
    ({**CAR, "date": "2025-09-01"}, "date"),
])
def test_timeline_errors(server, params, parameter):
    status, body = server.json("/api/timeline", params)
    assert status == 400 and body["parameter"] == parameter, body


# --- /api/diff -----------------------------------------------------------------------------------

def test_diff_of_a_product_has_the_totals_of_both_days(server):
    status, body = server.json("/api/diff", {**CAR, "from": "2025-09-01", "to": "2025-09-16"})
    assert status == 200, body
    assert body["hts"] == "8703.23.01" and body["from"] == "2025-09-01"
    assert body["total_before"] == duty(server, date="2025-09-01")["total_ad_valorem_percent"]
    assert body["total_after"] == duty(server, date="2025-09-16")["total_ad_valorem_percent"]
    for change in body["changes"]:
        assert set(change) == {"change", "label", "detail", "sources"}


def test_diff_of_an_origin_lists_measures(server):
    status, body = server.json("/api/diff", {"from": "2025-09-01", "to": "2025-09-16",
                                             "as_known_on": KNOWN})
    assert status == 200, body
    assert body["origin"] == "JP" and body["hts"] is None
    assert all(change["change"] in ("started", "ended", "changed rate", "status")
               for change in body["changes"])


@pytest.mark.parametrize("params, parameter", [
    ({"to": "2025-09-16"}, "from"),
    ({"from": "2025-09-01"}, "to"),
    ({"from": "2025-09-01", "to": "16.9.2025"}, "to"),
    ({"from": "2025-09-01", "to": "2025-09-16", "origin": "Atlantis"}, "origin"),
    ({"from": "2025-09-01", "to": "2025-09-16", "hts": "87"}, "hts"),
    ({"from": "2025-09-01", "to": "2025-09-16", "claim": "KR"}, "claim"),
])
def test_diff_errors(server, params, parameter):
    status, body = server.json("/api/diff", params)
    assert status == 400 and body["parameter"] == parameter, body


# --- /api/series ---------------------------------------------------------------------------------

def test_series_rows_are_the_duty_on_their_first_day(server):
    params = {"origin": "JP,KR", "hts": "8703.23.01", "as_known_on": KNOWN, **SEPTEMBER}
    status, body = server.json("/api/series", params)
    assert status == 200, body
    assert body["origins"] == ["JP", "KR"] and body["hts"] == ["87032301"]
    for origin in ("JP", "KR"):
        rows = [row for row in body["rows"] if row["origin"] == origin]
        assert rows[0]["valid_from"] == "2025-09-01" and rows[-1]["valid_until"] == "2025-10-01"
        for row in rows:
            answer = duty(server, origin=origin, date=row["valid_from"])
            assert row["total_ad_valorem_percent"] == answer["total_ad_valorem_percent"]
            assert row["mfn"] == sum(c["ad_valorem_percent"] for c in answer["components"]
                                     if c["authority"] == "mfn")
    status, headers, text = server.request("/api/series", {**params, "format": "csv"})
    assert status == 200 and headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(text.decode())))
    assert len(table) == len(body["rows"])
    assert list(table[0])[:5] == ["hts", "origin", "valid_from", "valid_until",
                                  "total_ad_valorem_percent"]


@pytest.mark.parametrize("params, parameter, fragment", [
    ({"hts": "8703.23.01"}, "origin", "missing"),
    ({"origin": "JP"}, "hts", "missing"),
    ({"origin": "JP", "hts": "87"}, "hts", "at most"),
    ({"origin": "JP", "hts": "8703.23.01,8703.24,8708"}, "hts", "at most"),
    ({"origin": "JP", "hts": "0000"}, "hts", "no tariff line"),
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
    for path in ("/api/duty", "/api/timeline", "/api/diff", "/api/series", "/api/hts"):
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
              "known_part_percent": 2.5, "changes": []},
             {"from": "2025-04-03", "until": "2025-06-01", "total_ad_valorem_percent": None,
              "known_part_percent": 27.5, "changes": [
                  {"change": "started", "label": "a <b> measure", "detail": "25%",
                   "sources": [{"citation": "Proclamation 10908",
                                "url": "https://www.govinfo.gov/x"}]}]}]
    events = [{"date": "2025-02-20", "kind": "court ruling", "label": "A v. B", "url": None},
              {"date": "2025-03-01", "kind": "negotiation", "label": "talks & more",
               "url": "javascript:alert(1)"}]
    svg = timeline_svg(steps, events, date(2025, 1, 1), date(2025, 5, 31), date(2025, 4, 10),
                       "title")
    root = ET.fromstring(svg)  # well-formed XML: every label escaped
    ns = "{http://www.w3.org/2000/svg}"
    classes = [element.get("class") for element in root.iter()]
    assert classes.count("mark mark-act") == 1 and classes.count("mark mark-court") == 1
    assert classes.count("mark mark-negotiation") == 1 and "step incomplete" in classes
    assert [a.get("href") for a in root.iter(f"{ns}a")] == ["https://www.govinfo.gov/x"]
    assert "a &lt;b&gt; measure" in svg and "talks &amp; more" in svg


def test_steps_merge_equal_neighbours_and_say_what_changed():
    from datetime import date

    from kg.duty import Component, Coverage, DutyAnswer, Source
    from kg.web.history import steps

    def part(measure: str, adds: float) -> Component:
        return Component(measure, measure.upper(), "x", None, None, "additional", adds, "full",
                         adds, None, None, [Source(f"act of {measure}", "https://example.org")])

    def answer(day: date) -> DutyAnswer:
        parts = [part("base", 2.5)] + ([part("extra", 25.0)] if day >= date(2025, 4, 3) else [])
        total = sum(p.ad_valorem_percent or 0 for p in parts)
        return DutyAnswer("8703.23.01", "JP", day.isoformat(), "2026-12-01", {}, total, total,
                          Coverage(True, [], [], {}), parts, [], [])

    days = [date(2025, 3, 4), date(2025, 4, 3), date(2025, 5, 1), date(2026, 1, 1)]
    found = steps(answer, date(2025, 3, 1), date(2025, 12, 31), days, workers=1)
    assert [(s.start, s.until, s.answer.total_ad_valorem_percent) for s in found] == [
        (date(2025, 3, 1), date(2025, 4, 3), 2.5), (date(2025, 4, 3), date(2026, 1, 1), 27.5)]
    assert found[0].changes == []
    assert found[1].changes == [{"change": "started", "label": "EXTRA", "detail": "25%",
                                 "sources": [{"citation": "act of extra",
                                              "url": "https://example.org"}]}]


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
