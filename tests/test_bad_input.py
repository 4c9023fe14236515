"""Bad input everywhere a user can type or point: one line on stderr naming what and where, exit 2
(1 only for validation violations), never a traceback unless --debug.

The commands run in-process with click's runner against the real store (built once per session,
TARIFFKG_HOME pointing at it); a few run as real subprocesses to see the true stderr.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import kg.validate
from kg.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
BASE = FIXTURES / "base.ttl"


@pytest.fixture(scope="module")
def home(shipped_store_root):
    return str(shipped_store_root)


def run(home: str, *args: str):
    """Invoke tariffkg in-process; return the result (stdout and stderr kept apart)."""
    return CliRunner().invoke(main, list(args), env={"TARIFFKG_HOME": home, "TARIFFKG_PASSWORD": None})


def assert_one_error_line(result, *needles: str, code: int = 2) -> None:
    """Exit code, exactly one stderr line (or click's own usage error), naming every needle."""
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    # progress lines ("building ...") may precede; the error itself is one line
    lines = [line for line in result.stderr.splitlines() if line.startswith(("tariffkg: error:", "Error:"))]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


DUTY = ["duty", "--hts", "8703.23.01", "--origin", "JP", "--date", "2025-05-01"]


@pytest.mark.parametrize(
    "args, needles",
    [
        (["duty", "--hts", "abc", "--origin", "JP", "--date", "2025-05-01"], ["--hts", "'abc'"]),
        (["duty", "--hts", "8703.23.0", "--origin", "JP", "--date", "2025-05-01"], ["8703.23.0"]),
        (["duty", "--hts", "9999.99.99", "--origin", "JP", "--date", "2025-05-01"],
         ["unknown HTS code 9999.99.99"]),
        (["duty", "--hts", "8703.23.01", "--origin", "Atlantis", "--date", "2025-05-01"],
         ["unknown country 'Atlantis'"]),
        (["duty", "--hts", "8703.23.01", "--origin", "", "--date", "2025-05-01"], ["--origin"]),
        (["duty", "--hts", "8703.23.01", "--origin", "JP", "--date", "2025-02-30"],
         ["--date", "2025-02-30"]),
        (["duty", "--hts", "8703.23.01", "--origin", "JP", "--date", "2025-13-01"], ["--date"]),
        (["duty", "--hts", "8703.23.01", "--origin", "JP", "--date", "99999-01-01"], ["--date"]),
        (["duty", "--hts", "8703.23.01", "--origin", "JP", "--date", "01/05/2025"], ["--date"]),
        ([*DUTY, "--as-known-on", "2024-12-31"], ["--as-known-on", "2024-12-31", "2025-01-01"]),
        ([*DUTY, "--as-known-on", "yesterday"], ["--as-known-on", "yesterday"]),
        ([*DUTY, "--format", "xml"], ["--format"]),
        ([*DUTY, "--timeout", "-1"], ["--timeout"]),
        (["duty", "--hts", "8703.23.01"], ["--origin", "--date"]),
        (["duty", "--batch", "x.csv", "--hts", "8703.23.01"], ["--batch"]),
        (["query", "nosuch"], ["unknown query 'nosuch'", "duty_on_date"]),
        (["query"], ["NAME", "--file"]),
        (["query", "product"], ["needs parameter product"]),
        (["query", "product", "-p", "product=8703.23.01", "-p", "foo=1"], ["no parameter foo"]),
        (["query", "product", "-p", "product"], ["-p 'product'", "KEY=VALUE"]),
        (["query", "product", "-p", "=8703"], ["KEY=VALUE"]),
        (["query", "product", "-p", "product=87.0"], ["parameter product", "'87.0'"]),
        (["query", "negotiations", "-p", "jurisdiction=Mordor"], ["unknown country 'Mordor'"]),
        (["query", "--file", "/nonexistent/q.rq"], ["/nonexistent/q.rq", "no such query file"]),
        (["timeline", "--hts", "xx", "--origin", "JP"], ["--hts", "'xx'"]),
        (["timeline", "--hts", "8703.23.01", "--origin", "JP", "--from", "2025-05-01", "--to",
          "2025-01-01"], ["--to 2025-01-01 is before --from 2025-05-01"]),
        (["timeline", "--hts", "8703.23.01", "--origin", "JP", "--from", "2025-02-29"], ["--from"]),
        (["timeline", "--hts", "8703.23.01", "--origin", "JP", "--as-known-on", "2020-01-01"],
         ["--as-known-on"]),
        (["diff", "--from", "2025-01-01", "--to", "bad"], ["--to 'bad'"]),
        (["diff", "--from", "2025-01-01", "--to", "2025-06-01", "--origin", "Narnia"], ["Narnia"]),
        (["diff", "--from", "2025-01-01", "--to", "2025-06-01", "--hts", "12"], ["--hts '12'"]),
        (["diff", "--from", "2025-01-01"], ["--to"]),
        (["validate", "/nonexistent/a.ttl"], ["/nonexistent/a.ttl", "no such file"]),
        (["validate", "--format", "rdfxml"], ["--format"]),
        (["export", "--format", "rdfxml"], ["--format"]),
        (["export", "--manifest", "--out", "/proc/tariffkg-test/m.json"], ["/proc/tariffkg-test/m.json"]),
        (["build", "--store", "/proc/tariffkg-test"], ["/proc/tariffkg-test"]),
        (["load", "--endpoint", "ftp://example.org/query"], ["not an http(s) endpoint URL"]),
        (["load", "--endpoint", "http://127.0.0.1:9/query", "--graph", "not an iri"],
         ["not a valid graph IRI"]),
        (["load", "--endpoint", "http://example.org/unknown/layout/x"], ["--store-endpoint"]),
        (["load", "--endpoint", "http://127.0.0.1:9/query", "--timeout", "0"], ["--timeout"]),
        (["nosuchcommand"], ["nosuchcommand"]),
    ],
)
def test_bad_option_values_give_one_line_and_exit_2(home, args, needles):
    assert_one_error_line(run(home, *args), *needles)


def test_unreachable_endpoint_names_it(home):
    result = run(home, *DUTY, "--endpoint", "http://127.0.0.1:9/query", "--timeout", "2")
    assert_one_error_line(result, "http://127.0.0.1:9/query")


def test_not_a_url_endpoint(home):
    assert_one_error_line(run(home, *DUTY, "--endpoint", "notaurl"), "notaurl")


def test_chart_into_a_missing_folder(home, tmp_path):
    chart = tmp_path / "no" / "such" / "folder" / "x.svg"
    result = run(home, "timeline", "--hts", "8703.23.01", "--origin", "JP", "--from", "2025-01-01",
                 "--to", "2025-03-01", "--chart", str(chart))
    assert_one_error_line(result, str(chart), "cannot write")


def test_chart_with_a_wrong_suffix(home, tmp_path):
    result = run(home, "timeline", "--hts", "8703.23.01", "--origin", "JP", "--from", "2025-01-01",
                 "--to", "2025-03-01", "--chart", str(tmp_path / "x.pdf"))
    assert_one_error_line(result, "x.pdf", ".svg or .png")


def test_far_dates_give_an_answer_with_a_note(home):
    result = run(home, "duty", "--hts", "8703.23.01", "--origin", "JP", "--date", "9999-12-31")
    assert result.exit_code == 0, result.output
    assert "reach" in result.stdout and "not in the graph" in result.stdout


# --- files -------------------------------------------------------------------------------------


@pytest.mark.parametrize("content, needle", [
    (b"", "hts"),
    (b"hts,date\n8703.23.01,2025-05-01\n", "lacks column origin"),
    (b"\xff\xfe\x00h\x00t", "cannot read"),
])
def test_unusable_batch_files(home, tmp_path, content, needle):
    path = tmp_path / "batch.csv"
    path.write_bytes(content)
    assert_one_error_line(run(home, "duty", "--batch", str(path)), str(path), needle)


def test_missing_and_folder_batch_files(home, tmp_path):
    assert_one_error_line(run(home, "duty", "--batch", str(tmp_path / "none.csv")), "none.csv",
                          "no such batch file")
    assert_one_error_line(run(home, "duty", "--batch", str(tmp_path)), str(tmp_path), "is a folder")


def test_batch_with_bom_crlf_blank_lines_and_bad_rows(home, tmp_path):
    path = tmp_path / "batch.csv"
    path.write_bytes(
        b"\xef\xbb\xbfhts , origin,date\r\n"
        b"8703.23.01,JP,2025-05-01\r\n"
        b"\r\n"
        b"XX,JP,2025-05-01\r\n"                  # line 4: bad HTS
        b"8703.23.01,Atlantis,2025-05-01\r\n"    # line 5: bad country
        b"8703.23.01,JP,2025-13-01\r\n"          # line 6: bad date
        b"8703.23.01\r\n"                        # line 7: short row
        b"8703.23.01,JP,2025-05-01,2024-01-01\r\n"  # line 8: a cell beyond the header's columns
        b",,\r\n"
        b"7208.10.15,JP,2025-06-01,,\r\n"          # empty cells beyond the header: fine
        b"7208.10.15,JP,2025-06-01,extra,cells\r\n"  # line 11: cells beyond the header
    )
    result = run(home, "duty", "--batch", str(path), "--format", "csv")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    errors = result.stderr.strip().splitlines()
    assert [e.split(":")[3] for e in errors] == ["4", "5", "6", "7", "8", "11"], errors
    assert all(e.startswith(f"tariffkg: error: {path}:") for e in errors)
    assert [e.split(": ")[3] for e in errors[:4]] == ["column hts", "column origin", "column date",
                                                      "column origin, date"]
    assert "5 cells, but the header has 3 columns" in errors[5]
    rows = result.stdout.strip().splitlines()
    assert rows[0].startswith("hts,origin,date") and len(rows) == 3  # header + 2 answers, in order
    assert rows[1].startswith("8703.23.01,JP,2025-05-01") and rows[2].startswith("7208.10.15")


def test_batch_as_known_on_column_before_2025(home, tmp_path):
    path = tmp_path / "batch.csv"
    path.write_text("hts,origin,date,as_known_on\n8703.23.01,JP,2025-05-01,2024-06-01\n")
    result = run(home, "duty", "--batch", str(path))
    assert_one_error_line(result, f"{path}:2", "column as_known_on", "2025-01-01")


@pytest.mark.parametrize("text, needle", [
    ("SELECT * WHERE { ?s ?p ", "SPARQL syntax error"),
    ("ASK {}", "only SELECT"),
    ("DROP ALL", "SPARQL update"),
])
def test_bad_query_files(home, tmp_path, text, needle):
    path = tmp_path / "q.rq"
    path.write_text(text)
    assert_one_error_line(run(home, "query", "--file", str(path)), str(path), needle)


def test_undecodable_query_file(home, tmp_path):
    path = tmp_path / "q.rq"
    path.write_bytes(b"\xff\xfe\x00S\x00E")
    assert_one_error_line(run(home, "query", "--file", str(path)), str(path), "cannot read")


# --- Turtle for validate (fast path: the ontology, the base fixture and the file) ---------------


@pytest.fixture
def fast_validate(monkeypatch):
    monkeypatch.setattr(kg.validate, "validate",
                        lambda files: kg.validate.validate_files([BASE, *files]))


def test_turtle_syntax_error_names_file_and_line(home, tmp_path, fast_validate):
    path = tmp_path / "broken.ttl"
    path.write_text("@prefix ex: <http://example.org/> .\n\nex:a ex:b ex:c .\nex:d ex:e ;; .\n")
    assert_one_error_line(run(home, "validate", str(path)), f"{path}:4", "syntax error")


def test_empty_and_comment_only_turtle(home, tmp_path, fast_validate):
    empty = tmp_path / "empty.ttl"
    empty.write_text("")
    assert_one_error_line(run(home, "validate", str(empty)), str(empty), "empty")
    comments = tmp_path / "comments.ttl"
    comments.write_text("# nothing here\n@prefix ex: <http://example.org/> .\n")
    assert_one_error_line(run(home, "validate", str(comments)), str(comments), "no triples")


def test_binary_turtle(home, tmp_path, fast_validate):
    path = tmp_path / "binary.ttl"
    path.write_bytes(b"\xff\xfe\x00\x01garbage")
    assert_one_error_line(run(home, "validate", str(path)), f"{path}:1")


def test_wrong_datatype_is_a_violation_exit_1(home, fast_validate):
    bad = FIXTURES / "shapes" / "Measure-adValoremPercent.bad.ttl"
    result = run(home, "validate", str(bad))
    assert result.exit_code == 1, result.output
    assert "tkgsh:Measure-adValoremPercent" in result.stdout and "measure:bad-integer" in result.stdout


def test_foreign_iri_where_ours_is_expected_is_a_violation(home, tmp_path, fast_validate):
    good = (FIXTURES / "shapes" / "Measure-origin.ok.ttl").read_text()
    assert "tkg:AllCountries ;" in good
    path = tmp_path / "foreign.ttl"
    path.write_text(good.replace("tkg:AllCountries ;", "<http://evil.example.org/country/JP> ;"))
    result = run(home, "validate", str(path))
    assert result.exit_code == 1, result.output
    assert "evil.example.org" in result.stdout


def test_huge_turtle_file_gives_a_result(home, tmp_path, fast_validate):
    """~50 MB of N-Triples-like Turtle: no crash, a report (or a clear message), in bounded time."""
    path = tmp_path / "huge.ttl"
    with open(path, "w", encoding="utf-8") as out:
        i = 0
        while out.tell() < 50_000_000:
            out.write("".join(
                f'<http://example.org/thing/{n}> <http://example.org/value> "value {n} of a big file" .\n'
                for n in range(i, i + 5000)))
            i += 5000
    result = run(home, "validate", "--format", "json", str(path))
    assert result.exit_code in (0, 1), (result.exit_code, result.output[-2000:])
    assert "Traceback" not in result.output
    assert '"triples"' in result.stdout


# --- the real process: stderr is one line, --debug shows the traceback --------------------------


def tariffkg(home: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TARIFFKG_HOME": home}
    env.pop("TARIFFKG_PASSWORD", None)
    return subprocess.run([sys.executable, "-c", "from kg.cli import main; main()", *args],
                          check=False, capture_output=True, text=True, env=env, timeout=120)


def test_real_process_one_line_and_debug_traceback(home, tmp_path):
    chart = tmp_path / "missing" / "x.svg"
    args = ["timeline", "--hts", "8703.23.01", "--origin", "JP", "--from", "2025-01-01", "--to",
            "2025-02-01", "--chart", str(chart)]
    plain = tariffkg(home, *args)
    assert plain.returncode == 2 and "Traceback" not in plain.stderr
    assert plain.stderr.count("\n") == 1 and str(chart) in plain.stderr
    debug = tariffkg(home, "--debug", *args)
    assert debug.returncode == 2 and "Traceback" in debug.stderr


def test_unexpected_exception_becomes_one_line(home, monkeypatch):
    """Any exception from a library (here a fake pyoxigraph failure) is one line, exit 2."""
    import kg.duty

    def explode(*args, **kwargs):
        raise RuntimeError("storage engine exploded\nsecond line")

    monkeypatch.setattr(kg.duty, "duty_answer", explode)
    result = run(home, *DUTY)
    assert_one_error_line(result, "RuntimeError", "storage engine exploded", "--debug")
    result = CliRunner().invoke(main, ["--debug", *DUTY], env={"TARIFFKG_HOME": home})
    assert result.exit_code == 2, "--debug shows the traceback but keeps exit code 2 (1 is for violations)"
    assert "Traceback" in result.stderr and "RuntimeError: storage engine exploded" in result.stderr


# --- inputs without bounds (issue 14 items 10 and 12, and the small ones) -----------------------


def test_batch_from_dev_zero_is_refused_at_once(home):
    result = run(home, "duty", "--batch", "/dev/zero")
    assert_one_error_line(result, "/dev/zero", "not a regular file")


def test_batch_from_a_fifo_is_refused_without_waiting(home, tmp_path):
    fifo = tmp_path / "questions.csv"
    os.mkfifo(fifo)
    process = subprocess.run(
        [sys.executable, "-c", "from kg.cli import main; main()", "duty", "--batch", str(fifo)],
        check=False, capture_output=True, text=True, timeout=60,
        env={**os.environ, "TARIFFKG_HOME": home})
    assert process.returncode == 2 and "FIFO" in process.stderr and str(fifo) in process.stderr


def test_query_file_from_dev_zero_or_a_fifo_is_refused(home, tmp_path):
    assert_one_error_line(run(home, "query", "--file", "/dev/zero"), "/dev/zero", "regular file")
    fifo = tmp_path / "q.rq"
    os.mkfifo(fifo)
    assert_one_error_line(run(home, "query", "--file", str(fifo)), str(fifo), "FIFO")


def test_a_huge_query_file_names_the_limit(home, tmp_path):
    path = tmp_path / "big.rq"
    path.write_text("SELECT * WHERE { ?s ?p ?o } # " + "x" * 2_000_000)
    assert_one_error_line(run(home, "query", "--file", str(path)), str(path), "1,048,576 bytes")


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e400", "0", "-1"])
def test_timeout_must_be_a_finite_positive_number(home, value):
    result = run(home, *DUTY, "--timeout", value)
    assert_one_error_line(result, "--timeout")
    assert "credentials" not in result.stderr


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_load_timeout_must_be_finite(home, value):
    assert_one_error_line(run(home, "load", "--endpoint", "http://127.0.0.1:9/query",
                              "--timeout", value), "--timeout")


@pytest.mark.parametrize("hts", ["٨٧٠٣٢٣٠١", "８７０３２３０１", "8703.23.0１"])
def test_non_ascii_digits_are_not_hts_digits(home, hts):
    assert_one_error_line(run(home, "duty", "--hts", hts, "--origin", "JP", "--date",
                              "2025-05-01"), "--hts", "not an HTS code")


def test_a_huge_hts_value_is_not_echoed_whole(home):
    result = run(home, "duty", "--hts", "8" * 100_000, "--origin", "JP", "--date", "2025-05-01")
    assert_one_error_line(result, "--hts", "100,000 characters")
    assert len(result.stderr) < 500


@pytest.mark.parametrize("day", ["20250501", "2025-W18-4", "2025-05-01T00:00", "2025-5-1"])
def test_only_yyyy_mm_dd_is_a_date(home, day):
    assert_one_error_line(run(home, "duty", "--hts", "8703.23.01", "--origin", "JP", "--date", day),
                          "--date", "YYYY-MM-DD")


def test_timeline_refuses_an_empty_as_known_on_like_duty(home):
    assert_one_error_line(run(home, *DUTY, "--as-known-on", ""), "--as-known-on")
    assert_one_error_line(run(home, "timeline", "--hts", "8703.23.01", "--origin", "JP",
                              "--as-known-on", ""), "--as-known-on")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/query",
                                 "gopher://example.org/", "http:///query", "//example.org/q"])
@pytest.mark.parametrize("command", [DUTY, ["query", "product", "-p", "product=8703.23.01"],
                                     ["load"]], ids=lambda c: c[0])
def test_only_http_endpoints_are_accepted(home, url, command):
    result = run(home, *command, "--endpoint", url, "--timeout", "2")
    assert_one_error_line(result, "http")
    assert "/etc/passwd" not in result.stdout


def test_duplicate_parameters_are_an_error(home):
    result = run(home, "query", "product", "-p", "product=8703.23.01", "-p", "product=8703.24.01")
    assert_one_error_line(result, "-p product", "twice")


def test_debug_keeps_exit_code_2(home):
    result = CliRunner().invoke(main, ["--debug", "duty", "--hts", "abc", "--origin", "JP",
                                       "--date", "2025-05-01"], env={"TARIFFKG_HOME": home})
    assert result.exit_code == 2


def test_batch_piped_into_head_prints_no_broken_pipe(home, tmp_path):
    path = tmp_path / "batch.csv"
    path.write_text("hts,origin,date\n" + "8703.23.01,JP,2025-05-01\n" * 40)
    command = (f"{sys.executable} -c 'from kg.cli import main; main()' duty --batch {path} "
               "--format csv | head -1")
    process = subprocess.run(["bash", "-o", "pipefail", "-c", command], check=False,
                             capture_output=True, text=True, timeout=120,
                             env={**os.environ, "TARIFFKG_HOME": home})
    assert process.stdout.startswith("hts,origin,date")
    assert "Broken pipe" not in process.stderr and "BrokenPipeError" not in process.stderr
    assert "Exception ignored" not in process.stderr


def test_a_50_mb_literal_in_a_validated_file_names_the_limit(home, tmp_path, fast_validate):
    path = tmp_path / "big-literal.ttl"
    with open(path, "w", encoding="utf-8") as out:
        out.write('<http://example.org/a> <http://www.w3.org/2000/01/rdf-schema#comment> "')
        out.write("x" * 50_000_000)
        out.write('" .\n')
    result = run(home, "validate", str(path))
    assert_one_error_line(result, str(path), "16 MiB")
    assert "unexpected" not in result.stderr


def test_a_3000_deep_subclass_chain_is_an_error_not_a_recursion_error(home, tmp_path,
                                                                     fast_validate):
    path = tmp_path / "deep.ttl"
    lines = ["@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .",
             "@prefix tkg: <https://w3id.org/tariff-kg/ontology#> .",
             "<http://example.org/c0> rdfs:subClassOf tkg:Measure ."]
    lines += [f"<http://example.org/c{i + 1}> rdfs:subClassOf <http://example.org/c{i}> ."
              for i in range(3000)]
    lines.append("<http://example.org/x> a <http://example.org/c3000> .")
    path.write_text("\n".join(lines) + "\n")
    result = run(home, "validate", str(path))
    assert_one_error_line(result, "rdfs:subClassOf", "200")
    assert "Recursion" not in result.stderr and "unexpected" not in result.stderr
