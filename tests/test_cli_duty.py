"""`tariffkg duty`, `query`, `timeline` and `diff` on the shipped store, through click's CliRunner.

TARIFFKG_HOME points at the session-built store's root, so the CLI finds the store at
kg.build.store_path(root) and never rebuilds. Every run passes --as-known-on (never today).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json

import pytest
from click.testing import CliRunner

from kg.cli import main
from kg.duty import BATCH_COLUMNS, Component, DutyAnswer, NotApplied, Source
from kg.queries import stored_queries

KNOWN = "2026-11-25"

ANSWER_KEYS = ["hts", "origin", "date", "as_known_on", "total_ad_valorem_percent", "components", "not_applied",
               "notes"]
COMPONENT_KEYS = ["measure", "label", "authority", "chapter99", "ad_valorem_percent", "other_rate", "rate_text",
                  "sources"]
SOURCE_KEYS = ["citation", "url"]
NOT_APPLIED_KEYS = ["measure", "label", "reason"]


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


# --- duty: formats ----------------------------------------------------------------------------

def test_duty_text(cli):
    result = duty(cli, "--hts", "8703.23.01", "--origin", "JP", "--date", "2025-05-01", "--as-known-on", "2025-05-01")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith("Duty on 8703.23.01 from JP entered 2025-05-01 (law as known on 2025-05-01)")
    assert "TOTAL ad valorem: 27.5%" in out
    assert "Sources:" in out and "Proclamation 10908" in out
    assert "Not applied:" in out and "excluded by stacking rule" in out and "suspended by" in out
    assert "9903.94.01" in out


def test_duty_json_contract(cli):
    result = duty(cli, "--hts", "8516.71.00", "--origin", "JP", "--date", "2025-08-20", "--as-known-on", "2025-10-01",
                  "--format", "json")
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert list(answer) == ANSWER_KEYS == [f.name for f in dataclasses.fields(DutyAnswer)]
    assert answer["hts"] == "8516.71.00" and answer["origin"] == "JP"
    assert answer["date"] == "2025-08-20" and answer["as_known_on"] == "2025-10-01"
    assert answer["total_ad_valorem_percent"] == 15.0
    assert COMPONENT_KEYS == [f.name for f in dataclasses.fields(Component)]
    assert SOURCE_KEYS == [f.name for f in dataclasses.fields(Source)]
    assert NOT_APPLIED_KEYS == [f.name for f in dataclasses.fields(NotApplied)]
    for component in answer["components"]:
        assert list(component) == COMPONENT_KEYS
        for source in component["sources"]:
            assert list(source) == SOURCE_KEYS
    for item in answer["not_applied"]:
        assert list(item) == NOT_APPLIED_KEYS
    percents = sorted(c["ad_valorem_percent"] for c in answer["components"])
    assert percents == [3.7, 11.3]
    assert {n["measure"].rsplit("/", 1)[-1] for n in answer["not_applied"]} == {
        "ieepa-reciprocal-baseline-all-2025-04-05", "ieepa-reciprocal-jp-2025-08-07"}
    assert isinstance(answer["notes"], list)


def test_duty_csv(cli):
    result = duty(cli, "--hts", "8703.23.01", "--origin", "JP", "--date", "2025-09-20", "--as-known-on", "2025-09-20",
                  "--format", "csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["measure", "label", "authority", "chapter99", "ad_valorem_percent", "other_rate", "sources"]
    assert rows[-1][0] == "TOTAL" and rows[-1][4] == "15"
    by_measure = {r[0].rsplit("/", 1)[-1]: r for r in rows[1:-1]}
    assert by_measure["s232-autos-jp-2025-09-16"][4] == "12.5"
    assert by_measure["s232-autos-jp-2025-09-16"][5] == "15% inclusive of MFN"
    assert by_measure["2025-basic"][4] == "2.5"


@pytest.mark.parametrize("hts", ["8703.23.01", "87032301", "8703 23 01", "8703.23.01.10", "8703230110"])
@pytest.mark.parametrize("origin", ["Japan", "JP", "JPN", "jp"])
def test_duty_input_forms(cli, hts, origin):
    result = duty(cli, "--hts", hts, "--origin", origin, "--date", "2025-09-20", "--as-known-on", "2025-09-20",
                  "--format", "json")
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["origin"] == "JP"
    assert answer["hts"] == ("8703.23.01.10" if len(hts.replace(".", "").replace(" ", "")) == 10 else "8703.23.01")
    assert answer["total_ad_valorem_percent"] == 15.0


# --- duty: bad input ---------------------------------------------------------------------------

@pytest.mark.parametrize("args,fragments", [
    (["--hts", "9999.99.99", "--origin", "JP", "--date", "2025-05-01"], ["unknown HTS code 9999.99.99"]),
    (["--hts", "8703.23.01", "--origin", "Atlantis", "--date", "2025-05-01"], ["unknown country 'Atlantis'"]),
    (["--hts", "8703.23.01", "--origin", "JP", "--date", "2025-02-30"], ["--date", "2025-02-30"]),
    (["--hts", "8703", "--origin", "JP", "--date", "2025-05-01"], ["8 digits"]),
    (["--hts", "87A3.23.01", "--origin", "JP", "--date", "2025-05-01"], ["not an HTS code"]),
    (["--hts", "8703.23.01", "--origin", "JP"], ["missing --date"]),
])
def test_duty_bad_input(cli, args, fragments):
    known = [] if "--as-known-on" in args else ["--as-known-on", "2025-05-01"]
    _one_error_line(duty(cli, *args, *known), *fragments)


def test_duty_as_known_on_before_the_data(cli):
    result = duty(cli, "--hts", "8703.23.01", "--origin", "JP", "--date", "2025-05-01", "--as-known-on", "2024-12-31")
    _one_error_line(result, "--as-known-on 2024-12-31", "2025-01-01")


def test_duty_past_the_data_has_a_note(cli):
    result = duty(cli, "--hts", "8703.23.01", "--origin", "JP", "--date", "2027-06-01", "--as-known-on", KNOWN,
                  "--format", "json")
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["total_ad_valorem_percent"] == 15.0
    assert any(n.startswith("the data reaches 2026-07-23") for n in answer["notes"])
    text = duty(cli, "--hts", "8703.23.01", "--origin", "JP", "--date", "2027-06-01", "--as-known-on", KNOWN)
    assert "Notes:" in text.stdout and "the data reaches 2026-07-23" in text.stdout


# --- duty --batch ------------------------------------------------------------------------------

BATCH = ("\ufeffhts,origin,date,as_known_on\r\n"
         "8703.23.01,JP,2025-05-01,2025-05-01\r\n"
         "\r\n"
         "9999.99.99,JP,2025-05-01,2025-05-01\r\n"
         "85167100,Japan,2025-04-09,2025-04-09\r\n"
         "8704.31.01,JPN,2025-10-01,\r\n")


@pytest.fixture
def batch_file(tmp_path):
    path = tmp_path / "questions.csv"
    path.write_bytes(BATCH.encode("utf-8"))
    return path


def test_batch_jsonl(cli, batch_file):
    result = cli("duty", "--batch", str(batch_file), "--as-known-on", KNOWN)
    assert result.exit_code == 2
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(a["hts"], a["date"], a["as_known_on"], a["total_ad_valorem_percent"]) for a in answers] == [
        ("8703.23.01", "2025-05-01", "2025-05-01", 27.5),
        ("8516.71.00", "2025-04-09", "2025-04-09", 27.7),
        ("8704.31.01", "2025-10-01", KNOWN, 25.0),  # empty as_known_on: the --as-known-on default
    ]
    assert all(list(a) == ANSWER_KEYS for a in answers)
    errors = result.stderr.strip().splitlines()
    assert errors == [(f"tariffkg: error: {batch_file}:4: unknown HTS code 9999.99.99: "
                       "not in any HTS revision from 2025 Basic on")]


def test_batch_csv(cli, batch_file):
    result = cli("duty", "--batch", str(batch_file), "--format", "csv", "--as-known-on", KNOWN)
    assert result.exit_code == 2
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == BATCH_COLUMNS
    assert [(r[0], r[4]) for r in rows[1:]] == [("8703.23.01", "27.5"), ("8516.71.00", "27.7"), ("8704.31.01", "25")]
    assert ":4:" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_batch_all_good_exits_0(cli, tmp_path):
    path = tmp_path / "good.csv"
    path.write_text("hts,origin,date\n9503.00.00,JP,2026-03-15\n", encoding="utf-8")
    result = cli("duty", "--batch", str(path), "--as-known-on", "2026-03-15")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["total_ad_valorem_percent"] == 10.0


def test_batch_header_and_file_errors(cli, tmp_path):
    path = tmp_path / "bad-header.csv"
    path.write_text("code,country,day\n8703.23.01,JP,2025-05-01\n", encoding="utf-8")
    _one_error_line(cli("duty", "--batch", str(path), "--as-known-on", KNOWN), "header lacks column")
    _one_error_line(cli("duty", "--batch", str(tmp_path / "missing.csv"), "--as-known-on", KNOWN),
                    "no such batch file")
    _one_error_line(cli("duty", "--batch", str(path), "--hts", "8703.23.01"), "leave out --hts")


# --- query -------------------------------------------------------------------------------------

def test_query_list(cli):
    result = cli("query", "--list")
    assert result.exit_code == 0
    for name, query in stored_queries().items():
        assert f"{name}  " in result.stdout or f"{name}\n" in result.stdout
        assert query.description in result.stdout
        for parameter in query.parameters:
            assert f"{parameter.name}=<{parameter.kind}>" in result.stdout
    assert "duty_on_date  product=<hts> origin=<country> date=<date> asKnownOn=<date>" in result.stdout


def test_query_duty_on_date(cli):
    result = cli("query", "duty_on_date", "-p", "product=8703.23.01", "-p", "origin=Japan", "-p", "date=2025-05-01",
                 "-p", "asKnownOn=2025-05-01", "--format", "json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    applied = {r["measure"].rsplit("/", 1)[-1] for r in rows if r["status"] == "applied"}
    assert applied == {"2025-basic", "s232-autos-all-2025-04-03"}
    table = cli("query", "duty_on_date", "-p", "product=8703.23.01", "-p", "origin=JP", "-p", "date=2025-05-01",
                "-p", "?asKnownOn=2025-05-01")
    assert table.exit_code == 0 and "measure/s232-autos-all-2025-04-03" in table.stdout


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
    assert list(csv.reader(io.StringIO(result.stdout))) == [
        ["authority", "n"], ["authority/section-122", "1"]]


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

def test_timeline_text(cli):
    result = cli("timeline", "--hts", "8703.23.01", "--origin", "JP", "--from", "2025-01-01", "--to", "2026-03-01")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["from", "total", "components", "changes", "that", "day"]
    steps = [(line.split()[0], line.split()[1]) for line in lines[2:]]
    assert steps == [("2025-01-01", "2.5%"), ("2025-04-03", "27.5%"), ("2025-09-16", "15%")]


def test_timeline_as_known_today(cli):
    result = cli("timeline", "--hts", "8516.71.00", "--origin", "JP", "--from", "2025-01-01", "--to", "2026-08-01",
                 "--as-known-on", KNOWN)
    assert result.exit_code == 0, result.stderr
    steps = [(line.split()[0], line.split()[1]) for line in result.stdout.splitlines()[2:]]
    # Known today the reciprocal tariff never applied; the Section 122 and 301 duties did.
    assert steps == [("2025-01-01", "3.7%"), ("2026-02-24", "13.7%"), ("2026-07-24", "12.5%")]


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
            for line in result.stdout.splitlines()[2:]}
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
    from kg.duty import answer_batch

    class CountingBackend:
        def __init__(self, inner):
            self.inner, self.duty_queries = inner, 0

        def select(self, query, bindings=None):
            self.duty_queries += query.lstrip().startswith("# duty_on_date")
            return self.inner.select(query, bindings)

    batch = tmp_path / "repeat.csv"
    batch.write_text("hts,origin,date,as_known_on\n"
                     "8703.23.01,JP,2025-05-01,2025-05-01\n"
                     "87032301,Japan,2025-05-01,2025-05-01\n"
                     "8703.23.01,,2025-05-01,\n"
                     "9503.00.00,JP,2025-08-20,2025-10-01\n")
    backend, out, err = CountingBackend(mini_store), [], []
    failures = answer_batch(backend, batch, "jsonl",
                            lambda text, err_=False, **kw: (err if kw.get("err") else out).append(text))
    assert failures == 1
    assert [json.loads(line)["total_ad_valorem_percent"] for line in out] == [27.5, 27.5, 15.0]
    assert backend.duty_queries == 2
    assert err == [f"tariffkg: error: {batch}:4: no value in column origin"]
