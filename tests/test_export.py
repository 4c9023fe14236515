"""Export: every format reads back, the bytes depend only on the sources, and the manifest is right."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from rdflib import Dataset, Graph

import kg.build
from kg.cli import main
from kg.errors import InputError
from kg.export import (
    FORMATS,
    export_graph,
    hts_revisions,
    serialize,
    write_atomically,
    write_output,
)

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
    target.parent.mkdir()
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


def test_manifest_lists_every_source_with_its_hash(tmp_path):
    out = tmp_path / "manifest.json"
    result = CliRunner().invoke(main, ["export", "--manifest", "--out", str(out)])
    assert result.exit_code == 0, result.output
    manifest = json.loads(out.read_text())
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


# --- where --out writes: regular files atomically, everything else in place, never a new folder ---


def test_a_regular_file_is_replaced_atomically_and_keeps_its_mode(tmp_path):
    target = tmp_path / "graph.nq"
    target.write_bytes(b"old\n")
    target.chmod(0o640)
    write_output(target, b"new\n")
    assert target.read_bytes() == b"new\n" and stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["graph.nq"]


def test_a_symlink_is_followed_and_stays_a_link(tmp_path):
    real = tmp_path / "real.nq"
    real.write_bytes(b"old\n")
    link = tmp_path / "link.nq"
    link.symlink_to(real)
    assert write_output(link, b"new\n") == real
    assert link.is_symlink() and real.read_bytes() == b"new\n"


def test_a_dangling_symlink_writes_its_target(tmp_path):
    link = tmp_path / "link.nq"
    link.symlink_to(tmp_path / "target.nq")
    write_output(link, b"x\n")
    assert link.is_symlink() and (tmp_path / "target.nq").read_bytes() == b"x\n"


def test_a_fifo_is_written_in_place(tmp_path):
    import os
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    write_output(fifo, b"through the pipe\n")
    reader.join(timeout=10)
    assert got == [b"through the pipe\n"]
    assert stat.S_ISFIFO(fifo.lstat().st_mode), "the FIFO is still a FIFO"


def test_a_character_device_is_written_in_place():
    before = Path("/dev/null").lstat()
    write_output(Path("/dev/null"), b"nothing\n")
    after = Path("/dev/null").lstat()
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


def test_cli_export_to_dev_null_keeps_the_device(monkeypatch):
    monkeypatch.setattr("kg.export.export_graph", lambda fmt: b"<http://x/s> <http://x/p> 1 .\n")
    before = Path("/dev/null").lstat()
    result = CliRunner().invoke(main, ["export", "--out", "/dev/null"])
    assert result.exit_code == 0, result.output
    assert Path("/dev/null").lstat().st_ino == before.st_ino and Path("/dev/null").is_char_device()


def test_a_missing_folder_is_an_error_and_never_created(tmp_path):
    target = tmp_path / "nonexistent" / "x.nq"
    with pytest.raises(InputError, match="does not exist"):
        write_output(target, b"x\n")
    assert not target.parent.exists()
    result = CliRunner().invoke(main, ["export", "--manifest", "--out", str(target)])
    assert result.exit_code == 2 and "does not exist" in result.stderr
    assert not target.parent.exists()


def test_a_full_disk_names_the_path():
    with pytest.raises(InputError, match="/dev/full: cannot write: No space left"):
        write_output(Path("/dev/full"), b"x" * 100_000)


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(InputError, match="is a folder"):
        write_output(tmp_path, b"x")
