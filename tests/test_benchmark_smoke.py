"""benchmarks/run.py runs end to end and prints its table (smoke run, about a minute).

The store is built once: the one in TARIFFKG_HOME when that holds a complete store for the
current sources, else the session's shipped store (shared with the other tests). The slow steps
(rdflib's baseline, validation, the load into a server) are skipped; the series runs on one
chapter.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"

ROWS = [
    "build: tariffkg build",
    "quads in the store",
    "duty p50, fast path (embedded store) (n=50)",
    "duty p95, fast path (embedded store) (n=50)",
    "duty p50, stored query (embedded store) (n=3)",
    "fast path answers = stored query answers (first 3)",
    "speed-up: rdflib p50 / fast path p50",
    "batch: answer_batch, 50 rows",
    "series: 1 origin (JP)",
    "series: 15 origins, all lines (EXTRAPOLATED",
    "validate: SHACL + checks, whole graph",
    "load: whole graph into Oxigraph (as it ships)",
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
               "--skip-rdflib", "--lookups", "50", "--stored-lookups", "3", "--batch-rows", "50",
               "--series-sample", "95", "--store-root", str(store_root)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    table = done.stdout
    lines = table.splitlines()
    assert lines[0].split(" | ")[0].strip() == "name" and "baseline" in lines[0]
    for row in ROWS:
        assert any(line.startswith(row) for line in lines), f"no row {row!r} in:\n{table}"
    cells = {line.split(" | ")[0].strip(): [c.strip() for c in line.split(" | ")[1:]]
             for line in lines if " | " in line}
    assert cells["validate: SHACL + checks, whole graph"][0] == "skipped (--skip-validate)"
    assert cells["build: tariffkg build"][0].startswith("not timed: reused")
    measured = [name for name in cells if name.startswith(("duty p50, fast", "batch:", "series:",
                                                          "cold start"))]
    assert len(measured) == 5, table
    for name in measured:
        assert not cells[name][0].startswith("FAILED"), f"{name}: {cells[name][0]}\n{done.stderr[-2000:]}"
        float(cells[name][0].replace(",", ""))
    assert cells["fast path answers = stored query answers (first 3)"][0] == "3/3", table
    assert "MISMATCH" not in table
