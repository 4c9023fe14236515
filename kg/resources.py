"""Where the ontology, shapes, stored queries and data files are, installed or in a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def resource_root() -> Path:
    """The folder holding ontology/, queries/ and data/: inside the wheel, else the checkout."""
    packaged = _PACKAGE_DIR / "_resources"
    if packaged.is_dir():
        return packaged
    return _PACKAGE_DIR.parent


def ontology_dir() -> Path:
    """The ontology and SHACL shapes folder."""
    return resource_root() / "ontology"


def queries_dir() -> Path:
    """The stored SPARQL queries folder."""
    return resource_root() / "queries"


def data_dir() -> Path:
    """The source data folder (reference.ttl, timeline/, hts/, lists/)."""
    return resource_root() / "data"
