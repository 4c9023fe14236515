"""Validation messages a broker can act on (issue 13): each finding once, the prefix to declare,
no "built user files (0 triples)" step in every build."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import kg.build
import kg.validate
from kg.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
BASE = FIXTURES / "base.ttl"

PREFIXES = """\
@prefix tkg: <https://w3id.org/tariff-kg/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix measure: <https://w3id.org/tariff-kg/id/measure/> .
@prefix hts: <https://w3id.org/tariff-kg/id/hts/> .
"""
MEASURE = """
measure:my-toys a tkg:Measure ;
    rdfs:label "A broker's measure on toys"@en ;
    tkg:appliesToProduct hts:95030000 ;
    tkg:appliesToOrigin country:CN ;
    tkg:rateType tkg:AdditionalAdValorem ;
    tkg:adValoremPercent "25" ;
    tkg:validFrom "2026-01-01"^^xsd:date .
"""


@pytest.fixture
def fast_validate(monkeypatch):
    """Validate user files against the base fixture only (not the whole graph)."""
    monkeypatch.setattr(kg.validate, "validate",
                        lambda files: kg.validate.validate_files([BASE, *files]))


def test_one_finding_is_reported_once(tmp_path):
    # tkg:adValoremPercent "25" (a string) breaks the shape's datatype and both of its bounds:
    # three SHACL results with one message, which the report printed three times.
    path = tmp_path / "measure.ttl"
    path.write_text(PREFIXES + "@prefix country: <https://w3id.org/tariff-kg/id/country/> .\n"
                    + MEASURE)
    report = kg.validate.validate_files([BASE, path])
    lines = report.render("text").splitlines()
    percent = [line for line in lines if "tkgsh:Measure-adValoremPercent" in line]
    assert len(percent) == 1, percent
    assert len(lines) == len(set(lines))


def test_an_undeclared_prefix_says_what_to_declare(fast_validate, tmp_path):
    path = tmp_path / "measure.ttl"
    path.write_text(PREFIXES + MEASURE)  # uses country:CN without declaring country:
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert "@prefix country: <https://w3id.org/tariff-kg/id/country/> ." in result.stderr
    assert f"{path}:" in result.stderr


def test_an_unknown_prefix_gets_the_general_hint(fast_validate, tmp_path):
    path = tmp_path / "odd.ttl"
    path.write_text(PREFIXES + "measure:x rdfs:label foo:bar .\n")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2 and "@prefix foo: <...>" in result.stderr


def test_a_build_without_user_files_has_no_user_files_step(monkeypatch, tmp_path):
    monkeypatch.setattr(kg.build, "curated_triples", lambda: iter(()))
    monkeypatch.setattr(kg.build, "list_triples", lambda folder: iter(()))
    monkeypatch.setattr(kg.build, "hts_triples", lambda folder: iter(()))
    steps: list[tuple[str, int]] = []
    list(kg.build.graph_quads(progress=lambda label, count: steps.append((label, count))))
    assert [label for label, _ in steps] == ["ontology", "timeline", "product lists", "HTS"]
    user = tmp_path / "mine.ttl"
    user.write_text(PREFIXES + 'measure:x rdfs:label "x" .\n')
    steps.clear()
    list(kg.build.graph_quads([user], progress=lambda label, count: steps.append((label, count))))
    assert ("user files", 1) in steps
