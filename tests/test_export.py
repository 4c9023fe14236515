"""Export: every format reads back, the bytes depend only on the sources, and the manifest is right."""

from __future__ import annotations

import hashlib
import json
import stat

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from rdflib import Dataset, Graph

import kg.build
from kg.cli import main
from kg.export import FORMATS, export_graph, hts_revisions, serialize, write_atomically

SAMPLE = """
@prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:a ex:p "x"@en , "y\\nz" , 3 , "2025-04-05"^^xsd:date ; ex:q [ ex:r ( ex:b ex:c ) ] .
ex:b ex:p ex:a .
"""
RDFLIB_FORMATS = {
    "turtle": "turtle",
    "ntriples": "nt",
    "nquads": "nquads",
    "trig": "trig",
    "jsonld": "json-ld",
}


def sample_quads() -> list[ox.Quad]:
    """The sample in two named graphs, with a triple shared by both; fresh blank nodes each call."""
    first = ox.NamedNode("http://example.org/g1")
    second = ox.NamedNode("http://example.org/g2")
    triples = list(ox.parse(input=SAMPLE.encode(), format=ox.RdfFormat.TURTLE))
    quads = [ox.Quad(t.subject, t.predicate, t.object, first) for t in triples]
    shared = triples[0]
    quads.append(ox.Quad(shared.subject, shared.predicate, shared.object, second))
    return quads


def read_back(data: bytes, fmt: str) -> int:
    """The number of statements rdflib reads from data (quads for quad formats)."""
    if fmt in {"nquads", "trig", "jsonld"}:
        dataset = Dataset()
        dataset.parse(data=data, format=RDFLIB_FORMATS[fmt])
        return sum(1 for _ in dataset.quads((None, None, None, None)))
    return len(Graph().parse(data=data, format=RDFLIB_FORMATS[fmt]))


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_each_format_reads_back_to_the_same_count(fmt):
    quads = sample_quads()
    expected = len(quads) if fmt in {"nquads", "trig", "jsonld"} else len(quads) - 1
    assert read_back(serialize(quads, fmt), fmt) == expected


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_output_is_the_same_bytes_for_the_same_sources(fmt):
    # each call parses afresh, so the parser's blank node names differ between the two
    assert serialize(sample_quads(), fmt) == serialize(sample_quads(), fmt)


def test_write_atomically_leaves_only_the_finished_file(tmp_path):
    target = tmp_path / "out" / "graph.nq"
    write_atomically(target, b"one\n")
    write_atomically(target, b"two\n")
    assert target.read_bytes() == b"two\n"
    assert [p.name for p in target.parent.iterdir()] == ["graph.nq"]
    assert stat.S_IMODE(target.stat().st_mode) & 0o044  # readable by others, unlike a mkstemp file


@pytest.fixture()
def small_graph(monkeypatch):
    """Make the CLI export the real ontology and timeline only (the full HTS takes ~20 s)."""

    def quads(extra_files=(), progress=None):
        yield from kg.build.in_graph(
            kg.build.turtle_triples(kg.build.ontology_file()), "http://x/o"
        )
        for path in kg.build.timeline_files():
            yield from kg.build.in_graph(kg.build.turtle_triples(path), "http://x/t")

    monkeypatch.setattr(kg.build, "graph_quads", quads)


@pytest.mark.parametrize("fmt", ["turtle", "trig"])
def test_cli_export_twice_gives_identical_files(small_graph, tmp_path, fmt):
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        result = CliRunner().invoke(main, ["export", "--format", fmt, "--out", str(out)])
        assert result.exit_code == 0, result.output
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() == export_graph(fmt)
    assert read_back(first.read_bytes(), fmt) > 500


def test_manifest_lists_every_source_with_its_hash():
    result = CliRunner().invoke(main, ["export", "--manifest"])
    assert result.exit_code == 0, result.output
    manifest = json.loads(result.stdout)
    sources = kg.build.source_files()
    assert manifest["version"] == kg.build.package_version()
    assert len(manifest["sources"]) == len(sources) > 3
    root = kg.build.data_dir().parent
    for entry, path in zip(manifest["sources"], sources):
        assert (root / entry["path"]) == path
        assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    revisions = hts_revisions(kg.build.data_dir() / "hts" / "revisions.csv")
    assert manifest["hts_revisions"] == revisions


def test_hts_revisions_keep_key_date_and_hash(tmp_path):
    path = tmp_path / "revisions.csv"
    path.write_text(
        "key,label,date,source_file,sha256\n2025-basic,Basic,2025-01-01,f.json.gz,abc\n"
    )
    assert hts_revisions(path) == [{"key": "2025-basic", "date": "2025-01-01", "sha256": "abc"}]
    assert hts_revisions(tmp_path / "absent.csv") == []
