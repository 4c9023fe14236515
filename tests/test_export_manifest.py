"""`export --out FILE --manifest` writes the graph to FILE and the manifest beside it (issue 13).

It used to write the JSON manifest into FILE (tkg.nq), instead of the graph.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from kg.cli import main

GRAPH = b"<http://x/s> <http://x/p> <http://x/o> .\n"


@pytest.fixture(autouse=True)
def small_graph(monkeypatch):
    """A one-triple graph instead of the whole one (the export itself is tested elsewhere)."""
    monkeypatch.setattr("kg.export.export_graph", lambda fmt: GRAPH)


def test_the_graph_goes_to_out_and_the_manifest_beside_it(tmp_path):
    out = tmp_path / "tkg.nq"
    result = CliRunner().invoke(main, ["export", "--format", "nquads", "--out", str(out),
                                       "--manifest"])
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes() == GRAPH
    manifest = json.loads((tmp_path / "tkg.nq.manifest.json").read_text())
    assert manifest["package"] == "tariff-kg" and manifest["sources"]
    assert "tkg.nq.manifest.json" in result.stderr


def test_without_out_the_manifest_alone_goes_to_stdout():
    result = CliRunner().invoke(main, ["export", "--manifest"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["package"] == "tariff-kg"


def test_a_graph_file_named_json_is_refused_with_the_manifest(tmp_path):
    out = tmp_path / "manifest.json"
    result = CliRunner().invoke(main, ["export", "--manifest", "--out", str(out)])
    assert result.exit_code == 2
    assert "export --manifest > manifest.json" in result.stderr
    assert not out.exists()


def test_without_manifest_no_manifest_is_written(tmp_path):
    out = tmp_path / "tkg.ttl"
    result = CliRunner().invoke(main, ["export", "--format", "turtle", "--out", str(out)])
    assert result.exit_code == 0
    assert out.read_bytes() == GRAPH and not (tmp_path / "tkg.ttl.manifest.json").exists()
