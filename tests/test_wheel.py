"""The wheel works outside the checkout: built from this source tree, unpacked into a folder of
its own and run from another folder, it finds its ontology, stored queries and data inside
itself (kg/_resources) and answers the quick start's question."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_built_wheel_answers_from_its_own_resources(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels),
                    str(ROOT)], check=True, timeout=600)
    (wheel,) = wheels.glob("tariff_kg-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        archive.extractall(site)
    for needed in ("kg/_resources/ontology/tariff-kg.ttl", "kg/_resources/queries/duty_on_date.rq",
                   "kg/_resources/data/timeline/ieepa.ttl", "kg/web/templates/"):
        assert any(name.startswith(needed) for name in names), needed
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "TARIFFKG_HOME": str(tmp_path / "home")}
    run = subprocess.run(
        [sys.executable, "-c", "import kg, sys; print(kg.__file__, file=sys.stderr); "
         "from kg.cli import main; main(prog_name='tariffkg')",
         "duty", "--hts", "8703.23.01", "--origin", "JP", "--date", "2025-05-01",
         "--as-known-on", "2025-05-01", "--format", "json"],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-2000:]
    assert str(site) in run.stderr  # the unpacked wheel's kg, not the checkout's
    answer = json.loads(run.stdout)
    # Proclamation 10908 (90 FR 14705): 25% on passenger vehicles from 2025-04-03, plus the 2.5%
    # general rate of 8703.23.01 (2025 HTS Basic Edition); the reciprocal tariff is stacked out
    assert answer["total_ad_valorem_percent"] == 27.5
