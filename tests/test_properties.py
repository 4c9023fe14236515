"""Property-based tests (hypothesis).

* CLI: random text for every typed value and random batch rows never give a traceback, and the
  exit code is 0, 1 or 2.
* The duty answer on the real store: the total is the sum of the components' ad valorem parts;
  nothing issued after as_known_on changes the answer; an invalidated or suspended measure (as
  known on that day) never contributes.

Example counts are modest so the file runs in about a minute; run with
`--hypothesis-show-statistics` to see them.
"""

from __future__ import annotations

import string
from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from rdflib import URIRef

from kg.cli import main
from kg.duty import duty_answer
from kg.errors import InputError
from kg.inputs import date_term

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
DUTY = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

# --- CLI fuzzing --------------------------------------------------------------------------------

GOOD_VALUES = ["8703.23.01", "87032301", "8703 23 01", "7208.10.15", "JP", "JPN", "Japan", "jp",
               "2025-05-01", "2026-02-20", "2025-01-01", "2024-12-31", "9999-12-31", "0001-01-01"]
HOSTILE = ['8703"} ; DROP ALL ; #', "JP> } ; DROP ALL", "<http://x/>", "\\", "'", "\n", "%s", "{}"]
typed = st.one_of(
    st.sampled_from(GOOD_VALUES),  # twice: often enough all values are good and the store answers
    st.sampled_from(GOOD_VALUES),
    st.sampled_from(HOSTILE),
    st.text(max_size=24),
    st.text(alphabet=string.digits + ".- ", max_size=14),
    st.dates(min_value=date(1, 1, 1)).map(date.isoformat),
)


@pytest.fixture(scope="module")
def home(shipped_store_root):
    return str(shipped_store_root)


def check(result) -> None:
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        assert "tariffkg: error:" in result.stderr or "Error:" in result.stderr, result.stderr


def invoke(home: str, args: list[str]):
    return CliRunner().invoke(main, args, env={"TARIFFKG_HOME": home})


@FUZZ
@given(hts=typed, origin=typed, on=typed, known=st.one_of(st.none(), typed),
       fmt=st.sampled_from(["text", "json", "csv"]))
def test_duty_cli_never_crashes(home, hts, origin, on, known, fmt):
    args = ["duty", "--hts", hts, "--origin", origin, "--date", on, "--format", fmt]
    check(invoke(home, args + (["--as-known-on", known] if known is not None else [])))


@FUZZ
@given(name=st.one_of(st.sampled_from(["product", "negotiations", "measures_in_force", "pauses",
                                       "duty_on_date", "timeline", "instruments", "data_reach"]),
                      st.text(max_size=12)),
       params=st.lists(st.tuples(st.one_of(st.sampled_from(["product", "origin", "date", "asKnownOn",
                                                            "jurisdiction", "?date", ""]),
                                           st.text(max_size=8)),
                                 typed), max_size=4),
       raw=st.lists(typed, max_size=1),
       fmt=st.sampled_from(["table", "csv", "json"]))
def test_query_cli_never_crashes(home, name, params, raw, fmt):
    args = ["query", name, "--format", fmt]
    for key, value in params:
        args += ["-p", f"{key}={value}"]
    for value in raw:
        args += ["-p", value]
    check(invoke(home, args))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(command=st.sampled_from(["timeline", "diff"]), hts=typed, origin=typed, first=typed,
       second=typed, known=st.one_of(st.none(), typed))
def test_timeline_and_diff_cli_never_crash(home, command, hts, origin, first, second, known):
    if command == "timeline":
        args = ["timeline", "--hts", hts, "--origin", origin, "--from", first, "--to", second]
    else:
        args = ["diff", "--from", first, "--to", second, "--origin", origin, "--hts", hts]
    check(invoke(home, args + (["--as-known-on", known] if known is not None else [])))


cell = st.one_of(typed, st.text(alphabet='",;\r\n \ufeff', max_size=4))
row = st.lists(cell, min_size=0, max_size=5)


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(header=st.sampled_from(["hts,origin,date", "hts,origin,date,as_known_on", "\ufeffhts,origin,date",
                               "origin,date", "", "hts;origin;date", "date,hts,origin"]),
       rows=st.lists(row, max_size=6), newline=st.sampled_from(["\n", "\r\n", "\r"]),
       fmt=st.sampled_from(["json", "csv", "text"]), encoding=st.sampled_from(["utf-8", "utf-16", "latin-1"]))
def test_batch_cli_never_crashes(home, tmp_path_factory, header, rows, newline, fmt, encoding):
    path = tmp_path_factory.mktemp("batch") / "batch.csv"
    text = newline.join([header] + [",".join(r) for r in rows]) + newline
    path.write_bytes(text.encode(encoding, "replace"))
    check(invoke(home, ["duty", "--batch", str(path), "--format", fmt]))


# --- the duty answer on the real store ----------------------------------------------------------

CODES = ["8703.23.01", "8703.24.01", "8703.80.00", "8704.21.01", "8702.10.31", "8708.29.50",
         "7605.11.00", "7607.11.30", "4403.11.00", "4407.12.00", "9403.60.80.93", "9401.61.40.11",
         "7208.10.15", "7212.10.00", "8414.59.65.40", "8482.10.50.60", "7409.31.90", "8511.30.00",
         "2903.92.00.00", "8207.30.60.62", "8705.90.00.80", "0901.21.00", "6109.10.00", "8471.30.01",
         "8542.31.00", "3004.90.92"]
ORIGINS = ["JP", "CN", "CA", "MX", "DE", "GB", "KR", "VN", "BR", "IN", "CH"]
days = st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 8, 31))

TKG = "https://w3id.org/tariff-kg/ontology#"
ELI = "http://data.europa.eu/eli/ontology#"


@pytest.fixture(scope="module")
def issue_days(shipped_store) -> list[date]:
    """Every day some instrument was issued (eli:date_document), sorted: one query."""
    rows = shipped_store.select(f"SELECT DISTINCT ?d WHERE {{ ?i <{ELI}date_document> ?d }}")
    return sorted({r["d"].toPython() for r in rows})


def answer_or_skip(store, hts, origin, on, known):
    try:
        return duty_answer(store, hts, origin, on, known)
    except InputError as error:
        assume("unknown HTS code" not in str(error))
        raise


@DUTY
@given(hts=st.sampled_from(CODES), origin=st.sampled_from(ORIGINS), on=days, known=days)
def test_total_is_the_sum_of_the_components(shipped_store, hts, origin, on, known):
    answer = answer_or_skip(shipped_store, hts, origin, on, known)
    parts = [c.ad_valorem_percent for c in answer.components if c.ad_valorem_percent is not None]
    assert answer.known_part_percent == pytest.approx(sum(parts), abs=1e-6)
    if answer.coverage.complete:  # an incomplete answer withholds its total
        assert answer.total_ad_valorem_percent == answer.known_part_percent
    else:
        assert answer.total_ad_valorem_percent is None
    assert all(p >= 0 for p in parts)


@DUTY
@given(hts=st.sampled_from(CODES), origin=st.sampled_from(ORIGINS), on=days, known=days,
       fraction=st.floats(min_value=0, max_value=1))
def test_nothing_issued_after_as_known_on_changes_the_answer(shipped_store, issue_days, hts, origin,
                                                             on, known, fraction):
    later = [d for d in issue_days if d > known]
    last_quiet = (later[0] - timedelta(days=1)) if later else known + timedelta(days=400)
    other = known + timedelta(days=round((last_quiet - known).days * fraction))
    assert not [d for d in issue_days if known < d <= other]  # nothing issued in (K, K']
    first = answer_or_skip(shipped_store, hts, origin, on, known).to_dict()
    second = answer_or_skip(shipped_store, hts, origin, on, other).to_dict()
    for answer in (first, second):  # what names the asked day itself may differ
        answer.pop("as_known_on"), answer.pop("as_applied")
        answer["coverage"].pop("beyond_reach")
    assert first == second


@DUTY
@given(hts=st.sampled_from(CODES), origin=st.sampled_from(ORIGINS), on=days, known=days)
def test_an_invalidated_or_suspended_measure_never_contributes(shipped_store, hts, origin, on, known):
    answer = answer_or_skip(shipped_store, hts, origin, on, known)
    for component in answer.components:
        rows = shipped_store.select(
            f"""SELECT ?why WHERE {{
                  VALUES (?m ?date ?known) {{ (UNDEF UNDEF UNDEF) }}
                  {{ ?m <{TKG}invalidatedBy> ?court . ?court <{ELI}date_document> ?decided
                     FILTER(?decided <= ?known) BIND("invalidated" AS ?why) }}
                  UNION
                  {{ ?pause <{TKG}suspends> ?m ; <{TKG}validFrom> ?from ; <{TKG}enactedBy> ?act .
                     ?act <{ELI}date_document> ?issued
                     OPTIONAL {{ ?pause <{TKG}validUntil> ?until }}
                     FILTER(?from <= ?date && (!BOUND(?until) || ?date < ?until) && ?issued <= ?known)
                     BIND("suspended" AS ?why) }}
                }}""",
            {"m": URIRef(component.measure), "date": date_term(on), "known": date_term(known)})
        assert not rows, (component.measure, [str(r["why"]) for r in rows])


# --- the inputs of the robustness work (issue 14): timeouts, endpoint URLs with credentials,
# user query files, binary batch files, --out paths ---------------------------------------------

ROBUST = settings(max_examples=60, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

seconds = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr),
                    st.sampled_from(["nan", "inf", "-inf", "1e999", "0", "-0", "0.0001", "5"]),
                    st.text(max_size=8))


@ROBUST
@given(timeout=seconds)
def test_timeout_values_never_crash(home, timeout):
    result = invoke(home, ["duty", "--hts", "8703.23.01", "--origin", "JP", "--date", "2025-05-01",
                           "--timeout", timeout])
    check(result)
    assert result.exit_code in (0, 2)


secret_text = st.text(alphabet=string.ascii_letters + string.digits + "/#?@:%!$&'()*+,;= ",
                      min_size=6, max_size=16).filter(lambda s: s.strip() == s and s.strip())


@ROBUST
@given(scheme=st.sampled_from(["http", "https", "HTTP", "ftp", "file", ""]),
       user=st.one_of(st.none(), st.text(alphabet=string.ascii_letters, min_size=1, max_size=6)),
       password=st.one_of(st.none(), secret_text),
       host=st.sampled_from(["127.0.0.1:9", "127.0.0.1:notaport", "[::1]:9", "", "127.0.0.1"]),
       path=st.sampled_from(["/query", "/sparql", "", "/a@b/query", "/ds/query?x=1#frag"]),
       command=st.sampled_from(["duty", "query", "load"]))
def test_endpoint_urls_never_crash_and_never_show_a_password(home, scheme, user, password, host,
                                                             path, command):
    from kg.http import redact

    credentials = f"{user or ''}{':' + password if password is not None else ''}@" \
        if (user or password) else ""
    url = f"{scheme}://{credentials}{host}{path}" if scheme else f"{credentials}{host}{path}"
    args = {"duty": ["duty", "--hts", "8703.23.01", "--origin", "JP", "--date", "2025-05-01"],
            "query": ["query", "product", "-p", "product=8703.23.01"],
            "load": ["load"]}[command]
    result = CliRunner().invoke(main, [*args, "--endpoint", url, "--timeout", "0.3"],
                                env={"TARIFFKG_HOME": home, "TARIFFKG_PASSWORD": None})
    check(result)
    assert result.exit_code == 2
    if password and "@" in url:
        assert password not in result.output or redact(password) == "***", result.output


fragment = st.sampled_from([
    "SELECT", "*", "?s", "?p", "?o", "?x", "WHERE", "{", "}", "(", ")", ".", "#", '"', "'", "\n",
    "SERVICE", "<http://127.0.0.1:9/sparql>", "?where", "VALUES (?x) { (UNDEF) }", "ORDER BY",
    "LIMIT 3", 'BIND("WHERE {" AS ?w)', "FILTER(?o = ?x)", "OPTIONAL", "ASK", "CONSTRUCT",
    "INSERT DATA", "DROP ALL", "PREFIX ex: <http://example.org/>", "ex:SERVICE", "a", ";", ",",
])
query_header = "# fuzz\n#\n# Parameters (name, kind, meaning):\n#   ?x  string  anything\n#\n"


@ROBUST
@given(parts=st.lists(fragment, max_size=24), value=st.one_of(st.none(), typed),
       allow=st.booleans())
def test_user_query_files_never_crash(home, tmp_path_factory, parts, value, allow):
    path = tmp_path_factory.mktemp("query") / "fuzz.rq"
    path.write_text(query_header + " ".join(parts) + "\n", encoding="utf-8")
    args = ["query", "--file", str(path), "--timeout", "5"]
    if value is not None:
        args += ["-p", f"x={value}"]
    if allow:
        args.append("--allow-service")
    check(invoke(home, args))


@ROBUST
@given(content=st.binary(max_size=300), header=st.sampled_from([b"hts,origin,date\n", b""]))
def test_binary_batch_files_never_crash(home, tmp_path_factory, content, header):
    path = tmp_path_factory.mktemp("batch") / "batch.csv"
    path.write_bytes(header + content)
    check(invoke(home, ["duty", "--batch", str(path), "--format", "csv"]))


# 12 examples: each path that can be written gets the whole graph (about 6 s)
@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(name=st.text(alphabet=string.ascii_letters + "./-_ ", min_size=1, max_size=20),
       folder=st.sampled_from(["", "missing/", "missing/deeper/", "./"]))
def test_export_out_paths_never_crash_or_create_folders(home, tmp_path_factory, name, folder):
    root = tmp_path_factory.mktemp("out")
    result = invoke(home, ["export", "--manifest", "--out", str(root / folder / name)])
    check(result)
    assert not (root / "missing").exists()


@ROBUST
@given(claim=st.one_of(st.none(), st.sampled_from(["KR", "S", "A+", "JP", "none", "kr", ""]),
                       st.text(max_size=6)),
       quota=st.one_of(st.none(), st.sampled_from(["in", "over", "IN", ""]), st.text(max_size=6)),
       content=st.one_of(st.none(), st.sampled_from(["steel=40;aluminum=10", "copper=100",
                                                     "steel=101", "steel=-1", "steel=nan",
                                                     "steel=40;steel=50", "=", ";;"]),
                         st.text(max_size=20)),
       loaded=st.one_of(st.none(), typed))
def test_entry_facts_never_crash(home, claim, quota, content, loaded):
    args = ["duty", "--hts", "7208.10.15", "--origin", "JP", "--date", "2025-06-01"]
    for option, value in (("--claim", claim), ("--quota", quota), ("--content", content),
                          ("--loaded", loaded)):
        if value is not None:
            args += [option, value]
    check(invoke(home, args))
