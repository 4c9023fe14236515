"""`tariffkg validate`: exit codes, error messages and report formats.

The CLI tests replace kg.validate.validate with the fast fixture path (ontology + base fixture +
the user files, no HTS), so they test the command's contract, not the full graph; one test at the
end validates the shipped graph for real.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Graph
from rdflib.namespace import RDF, SH

import kg.validate
from kg.cli import main
from kg.errors import DataError

FIXTURES = Path(__file__).parent / "fixtures"
BASE = FIXTURES / "base.ttl"
GOOD = FIXTURES / "shapes" / "Measure-program.ok.ttl"
BAD = FIXTURES / "shapes" / "Measure-program.bad.ttl"


@pytest.fixture
def fast_validate(monkeypatch):
    """Make the command validate the user files against the base fixture only."""
    monkeypatch.setattr(
        kg.validate, "validate", lambda files: kg.validate.validate_files([BASE, *files])
    )


def run(*args: str):
    return CliRunner().invoke(main, ["validate", *args])


def test_conforming_file_exits_0(fast_validate):
    result = run(str(GOOD))
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1].startswith("conforms")


def test_violations_exit_1_and_name_shape_and_focus(fast_validate):
    result = run(str(BAD))
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert any("tkgsh:Measure-program" in line and "measure:bad" in line for line in lines)
    assert lines[-1].startswith("does not conform: 1 violation")


def test_syntax_error_exits_2_with_file_and_line(fast_validate, tmp_path):
    broken = tmp_path / "broken.ttl"
    broken.write_text("@prefix ex: <http://example.org/> .\nex:a ex:b ex:c .\nex:d ex:e\n")
    result = run(str(broken))
    assert result.exit_code == 2
    assert f"{broken}:3" in result.output or f"{broken}:4" in result.output


def test_missing_file_exits_2(fast_validate, tmp_path):
    result = run(str(tmp_path / "nope.ttl"))
    assert result.exit_code == 2
    assert "nope.ttl: no such file" in result.output


def test_empty_file_exits_2(fast_validate, tmp_path):
    empty = tmp_path / "empty.ttl"
    empty.write_text("")
    result = run(str(empty))
    assert result.exit_code == 2
    assert "empty.ttl: the file is empty" in result.output


def test_file_with_only_prefixes_is_an_error(tmp_path):
    only = tmp_path / "only.ttl"
    only.write_text("@prefix ex: <http://example.org/> .\n# nothing else\n")
    with pytest.raises(DataError, match="no triples"):
        kg.validate.check_user_file(only)


def test_json_format_parses(fast_validate):
    result = run("--format", "json", str(BAD))
    assert result.exit_code == 1
    document = json.loads(result.output)
    assert document["conforms"] is False
    assert document["counts"]["violation"] == 1
    (item,) = document["results"]
    assert item["shape"] == "https://w3id.org/tariff-kg/shapes#Measure-program"
    assert item["focus"] == "https://w3id.org/tariff-kg/id/measure/bad"
    assert item["severity"] == "Violation"


def test_turtle_format_is_a_shacl_report(fast_validate):
    result = run("--format", "turtle", str(BAD))
    assert result.exit_code == 1
    report = Graph().parse(data=result.output, format="turtle")
    (root,) = report.subjects(RDF.type, SH.ValidationReport)
    assert report.value(root, SH.conforms).toPython() is False
    assert len(list(report.objects(root, SH.result))) == 1


@pytest.fixture(scope="module")
def full_report():
    """The shipped graph (HTS included) plus the base and one violating fixture; ~20-60 s."""
    return kg.validate.validate([BASE, BAD])


def test_full_graph_still_validates_user_files(full_report):
    assert full_report.triples > 100_000
    fired = {(kg.validate.short(r.shape), kg.validate.short(r.focus)) for r in full_report.results}
    assert ("tkgsh:Measure-program", "measure:bad") in fired


def test_shipped_graph_has_no_violations(full_report):
    """The curated data conforms: no violation except the one the test file brings."""
    others = [
        r
        for r in full_report.results
        if r.severity == "Violation" and kg.validate.short(r.focus) != "measure:bad"
    ]
    assert others == [], "\n" + "\n".join(
        f"{kg.validate.short(r.shape)} {kg.validate.short(r.focus)}: {r.message}" for r in others
    )
