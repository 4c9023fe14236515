"""benchmarks/run.py runs end to end and prints its table (smoke run, about a minute).

The store is built once: the one in TARIFFKG_HOME when that holds a complete store for the
current sources, else the session's shipped store (shared with the other tests).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"

ROWS = [
    "triples (quads) in store",
    "duty p50, embedded pyoxigraph (n=20)",
    "duty p95, embedded pyoxigraph (n=20)",
    "rdflib Dataset load (same quads)",
    "duty p50, rdflib in-memory",
    "speed-up: rdflib p50 / embedded p50",
    "engines agree on applied measures",
    "batch: answer_batch, 50 rows",
    "batch throughput",
    "SHACL + checks: validate([]), whole graph",
    "load into Oxigraph server (kg.load)",
    "cold start: tariffkg duty",
    "benchmark wall time",
]


@pytest.fixture(scope="module")
def store_root(request) -> Path:
    """A store root that already holds the store (so the benchmark does not build one)."""
    from kg.build import is_complete, store_path

    home = os.environ.get("TARIFFKG_HOME")
    if home and is_complete(store_path(Path(home))):
        return Path(home)
    return request.getfixturevalue("shipped_store_root")


def test_quick_benchmark_prints_every_row(store_root):
    command = [sys.executable, str(SCRIPT), "--quick", "--skip-validate", "--skip-load",
               "--lookups", "20", "--batch-rows", "50", "--store-root", str(store_root)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    table = done.stdout
    lines = table.splitlines()
    assert lines[0].split(" | ")[0].strip() == "name" and "met?" in lines[0]
    for row in ROWS:
        assert any(line.startswith(row) for line in lines), f"no row {row!r} in:\n{table}"
    cells = {line.split(" | ")[0].strip(): [c.strip() for c in line.split(" | ")[1:]]
             for line in lines if " | " in line}
    assert cells["SHACL + checks: validate([]), whole graph"][0] == "skipped (--skip-validate)"
    assert cells["load into Oxigraph server (kg.load)"][0] == "skipped (--skip-load)"
    assert cells["build embedded store"][0].startswith("not timed: reused")
    measured = ["duty p50, embedded pyoxigraph (n=20)", "batch: answer_batch, 50 rows",
                "cold start: tariffkg duty (new process, median of 5)"]
    for name in measured:
        assert not cells[name][0].startswith("FAILED"), f"{name}: {cells[name][0]}\n{done.stderr[-2000:]}"
        float(cells[name][0].replace(",", ""))
    agree = next(v for k, v in cells.items() if k.startswith("engines agree"))
    compared, _, total = agree[0].partition("/")
    assert compared == total and int(total) >= 1, table
    assert "MISMATCH" not in table
