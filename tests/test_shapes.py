"""Every SHACL shape and stored check has a conforming and a violating fixture.

A fixture (tests/fixtures/shapes/<rule>.ok.ttl or <rule>.bad.ttl) is validated together with the
ontology and tests/fixtures/base.ttl, without the shipped data. Its header lists what must fire
(and `# graph: hts` puts it into the HTS graph): `# expect: tkgsh:<rule> <focus>` lines in a .bad
file, `# expect: nothing` in an .ok file. The test
compares the exact set of (shape, focus) pairs that fired, so a fixture that trips other rules
too, or a rule that fires on the wrong node, fails.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SH

from kg.validate import check_files, check_shape, shapes_file, short, validate_files

FIXTURES = Path(__file__).parent / "fixtures"
SHAPE_FIXTURES = FIXTURES / "shapes"
BASE = FIXTURES / "base.ttl"
TKGSH = "https://w3id.org/tariff-kg/shapes#"

# Parameters whose presence makes a shape a rule that can fire on its own.
CONSTRAINTS = (
    SH.minCount,
    SH.maxCount,
    SH.datatype,
    SH["class"],
    SH.pattern,
    SH["in"],
    SH.hasValue,
    SH.lessThan,
    SH.lessThanOrEquals,
    SH["or"],
    SH.nodeKind,
    SH.minInclusive,
    SH.maxInclusive,
)
EXPECT = re.compile(r"^# expect: (.+)$", re.MULTILINE)


def rule_names() -> list[str]:
    """Local names of every shape with its own constraints, and of every stored check."""
    shapes = Graph().parse(shapes_file())
    names = {
        str(s)[len(TKGSH) :]
        for p in CONSTRAINTS
        for s in shapes.subjects(p, None)
        if isinstance(s, URIRef) and str(s).startswith(TKGSH)
    }
    names |= {str(check_shape(path))[len(TKGSH) :] for path in check_files()}
    return sorted(names)


def fixture_files() -> list[Path]:
    """Every shape fixture."""
    return sorted(SHAPE_FIXTURES.glob("*.ttl"))


def expected(path: Path) -> set[tuple[str, str]]:
    """The (shape, focus) pairs a fixture's header says must fire."""
    lines = EXPECT.findall(path.read_text(encoding="utf-8"))
    if lines == ["nothing"]:
        return set()
    return {tuple(line.split()) for line in lines}


def fired(path: Path) -> set[tuple[str, str]]:
    """The (shape, focus) pairs that fire when the fixture is validated with the base.

    A fixture whose header says `# graph: hts` goes into the HTS graph (the generated layer).
    """
    if "\n# graph: hts\n" in path.read_text(encoding="utf-8"):
        report = validate_files([BASE], hts_files=[path])
    else:
        report = validate_files([BASE, path])
    return {(short(r.shape), short(r.focus)) for r in report.results}


def test_base_fixture_conforms_with_no_results():
    assert validate_files([BASE]).results == []


def test_every_rule_has_an_ok_and_a_bad_fixture():
    have = {p.name for p in fixture_files()}
    missing = [
        f"{name}.{kind}.ttl"
        for name in rule_names()
        for kind in ("ok", "bad")
        if f"{name}.{kind}.ttl" not in have
    ]
    assert missing == []


def test_no_fixture_is_orphaned_or_dropped():
    names = rule_names()
    files = fixture_files()
    assert len(files) == 2 * len(names)
    assert {p.name.split(".")[0] for p in files} == set(names)
    assert len(names) >= 79  # 68 shapes + 11 checks when written; lower means a rule was lost


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: p.name)
def test_fixture(path: Path):
    want = expected(path)
    if path.name.endswith(".bad.ttl"):
        assert want, f"{path.name} names no expected result"
        rule = f"tkgsh:{path.name.split('.')[0]}"
        assert rule in {shape for shape, _ in want}
    assert fired(path) == want


def test_bad_fixture_results_carry_messages_and_severity():
    report = validate_files([BASE, SHAPE_FIXTURES / "check-measure-overlap.bad.ttl"])
    result = next(r for r in report.results if "measure/a" in r.message)
    assert result.severity == "Violation"
    assert "measure/a" in result.message and "measure/b" in result.message
    assert not report.conforms


def test_each_rate_type_has_a_shape_naming_its_fields():
    shapes = Graph().parse(shapes_file())
    rate_types = {"AdditionalAdValorem", "InclusiveOfMFN", "AdValorem", "Specific", "Compound",
                  "Free", "TextRate"}
    named = {str(s)[len(TKGSH):] for s in shapes.subjects(RDF.type, SH.NodeShape)}
    assert {f"RateType-{t}" for t in rate_types} <= named


def test_an_inclusive_rate_without_its_percent_fails_validate_naming_the_measure(monkeypatch):
    """`tariffkg validate FILE` exits 1 and names the measure (duty used to crash on it later)."""
    from click.testing import CliRunner

    import kg.validate
    from kg.cli import main

    monkeypatch.setattr(kg.validate, "validate",
                        lambda files: kg.validate.validate_files([BASE, *files]))
    bad = SHAPE_FIXTURES / "RateType-InclusiveOfMFN.bad.ttl"
    result = CliRunner().invoke(main, ["validate", str(bad)])
    assert result.exit_code == 1, result.output
    line = next(x for x in result.output.splitlines() if "RateType-InclusiveOfMFN" in x)
    assert line.startswith("Violation:") and "measure:bad" in line
    assert "tkg:adValoremPercent" in line


def test_warnings_do_not_break_conformance():
    report = validate_files([BASE, SHAPE_FIXTURES / "Measure-product.bad.ttl"])
    assert [r.severity for r in report.results] == ["Warning"]
    assert report.conforms


def test_every_named_shape_is_documented():
    shapes = Graph().parse(shapes_file())
    named = {s for t in (SH.NodeShape, SH.PropertyShape) for s in shapes.subjects(RDF.type, t)}
    assert named
    for shape in named:
        for prop in (
            URIRef("http://www.w3.org/2000/01/rdf-schema#label"),
            URIRef("http://www.w3.org/2000/01/rdf-schema#comment"),
            SH.severity,
            SH.message,
        ):
            assert shapes.value(shape, prop) is not None, f"{shape} lacks {prop}"


def test_every_check_has_a_header_and_the_four_columns():
    for path in check_files():
        text = path.read_text(encoding="utf-8")
        assert text.startswith("# Check:"), path.name
        assert re.search(r"^# severity: (Violation|Warning|Info)$", text, re.MULTILINE), path.name
        for var in ("?focus", "?property", "?value", "?message"):
            assert var in text.split("WHERE", 1)[0], f"{path.name} does not select {var}"


def test_shapes_file_passes_meta_shacl():
    from pyshacl.entrypoints import meta_validate

    conforms, _, text = meta_validate(Graph().parse(shapes_file()), inference="none")
    assert conforms, text
