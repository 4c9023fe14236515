"""Compile the ontology and the data files into an embedded, on-disk pyoxigraph store.

A store is built once per set of sources: its folder is named after a fingerprint of every source
file, so a changed source gives a new store and an old one is never reused by mistake. A build
writes into a temporary folder and renames it into place when complete, so an interrupted build or
two builds at once never leave a half-written store behind. A rebuild (--force) sets the old store
aside by a rename before removing it, so the store folder is never a half-deleted store either.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import platformdirs
import pyoxigraph as ox

from kg.derive import derive, rule_files
from kg.errors import DataError, StoreError
from kg.hts_rdf import hts_triples
from kg.jurisdictions import country_triples
from kg.measure_tables import table_triples
from kg.namespaces import GRAPH_HTS, GRAPH_ONTOLOGY, GRAPH_TIMELINE, ONTOLOGY_IRI
from kg.product_lists import list_triples
from kg.resources import data_dir, ontology_dir

COMPLETE_MARKER = "BUILD-COMPLETE"
BUILDING = ".building-"
RETIRED = ".retired-"

TOKEN_LIMIT_MB = 16  # pyoxigraph's parser refuses longer literals and IRIs

Progress = Callable[[str, int], None]


def package_version() -> str:
    """The installed version of tariff-kg (the one version number, from the package metadata)."""
    try:
        return version("tariff-kg")
    except PackageNotFoundError:
        return "0+checkout"


def ontology_file() -> Path:
    """The OWL ontology file."""
    return ontology_dir() / "tariff-kg.ttl"


def timeline_files() -> list[Path]:
    """The curated Turtle files, in a stable order: reference vocabulary first."""
    root = data_dir()
    return [root / "reference.ttl", *sorted((root / "timeline").glob("*.ttl"))]


def source_files() -> list[Path]:
    """Every file the graph is built from, in a stable order."""
    root = data_dir()
    hts = sorted(p for p in (root / "hts").glob("*") if p.suffix in {".csv", ".gz"})
    lists = sorted((root / "lists").glob("*.csv"))
    tables = sorted((root / "tables").glob("*.csv"))
    return [ontology_file(), *timeline_files(), *hts, *lists, *tables, *rule_files()]


def fingerprint(files: Iterable[Path] | None = None) -> str:
    """A SHA-256 over the package version and the names and bytes of the source files."""
    digest = hashlib.sha256(package_version().encode())
    root = data_dir().parent
    for path in files if files is not None else source_files():
        digest.update(str(path.relative_to(root)).encode() if path.is_relative_to(root) else path.name.encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def turtle_triples(path: Path) -> Iterator[ox.Triple]:
    """Parse one Turtle file; a syntax error becomes a DataError naming the file and line."""
    try:
        yield from ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)
    except SyntaxError as error:
        line = f":{error.lineno}" if error.lineno else ""
        raise DataError(f"{path}{line}: Turtle syntax error: {error.msg}") from None
    except MemoryError as error:  # pyoxigraph's cap on one token (a literal or an IRI)
        raise DataError(f"{path}: a literal or IRI is too long to read ({error}: at most "
                        f"{TOKEN_LIMIT_MB} MiB per token)") from None
    except OSError as error:
        raise DataError(f"{path}: cannot read: {error.strerror or error}") from None


def in_graph(triples: Iterable[ox.Triple], graph: str) -> Iterator[ox.Quad]:
    """Put triples into a named graph."""
    name = ox.NamedNode(graph)
    for triple in triples:
        yield ox.Quad(triple.subject, triple.predicate, triple.object, name)


def graph_quads(extra_files: Iterable[Path] = (), progress: Progress | None = None) -> Iterator[ox.Quad]:
    """Every quad of the graph: ontology, curated timeline and product lists, full HTS.

    extra_files are user Turtle files added to the timeline graph (used by validation).
    """
    steps = [
        ("ontology", GRAPH_ONTOLOGY, lambda: _chain([turtle_triples(ontology_file()), version_triples()])),
        ("timeline", GRAPH_TIMELINE, curated_triples),
        ("user files", GRAPH_TIMELINE, lambda: _chain(turtle_triples(Path(p)) for p in extra_files)),
        ("product lists", GRAPH_TIMELINE, lambda: list_triples(data_dir() / "lists")),
        ("HTS", GRAPH_HTS, lambda: hts_triples(data_dir() / "hts")),
    ]
    for label, graph, triples in steps:
        count = 0
        for quad in in_graph(triples(), graph):
            count += 1
            yield quad
        if progress:
            progress(label, count)


def curated_triples() -> Iterator[ox.Triple]:
    """The curated timeline: its Turtle files, the measures of its measure tables, every country."""
    curated = list(_chain(turtle_triples(p) for p in timeline_files()))
    yield from curated
    yield from table_triples(curated, data_dir() / "tables")
    yield from country_triples()


def version_triples() -> list[ox.Triple]:
    """owl:versionInfo and owl:versionIRI of the ontology, from the one package version."""
    ontology = ox.NamedNode(ONTOLOGY_IRI)
    owl = "http://www.w3.org/2002/07/owl#"
    return [
        ox.Triple(ontology, ox.NamedNode(owl + "versionInfo"), ox.Literal(package_version())),
        ox.Triple(ontology, ox.NamedNode(owl + "versionIRI"),
                  ox.NamedNode(f"{ONTOLOGY_IRI}/{package_version()}")),
    ]


def _chain(iterables: Iterable[Iterable[ox.Triple]]) -> Iterator[ox.Triple]:
    for iterable in iterables:
        yield from iterable


def default_store_root() -> Path:
    """The folder that holds built stores: TARIFFKG_HOME if set, else the user's data directory."""
    home = os.environ.get("TARIFFKG_HOME")
    return Path(home) if home else platformdirs.user_data_path("tariff-kg")


def store_path(root: Path | None = None) -> Path:
    """The store folder for the current sources."""
    return (root or default_store_root()) / f"store-{fingerprint()[:16]}"


def is_complete(path: Path) -> bool:
    """True when path holds a store whose build finished."""
    return (path / COMPLETE_MARKER).is_file()


def build_store(path: Path, progress: Progress | None = None, force: bool = False) -> Path:
    """Build the store at path (unless a complete one is there and not force); return path.

    The quads are written into a temporary sibling folder that is renamed to path only after
    the build completed, so readers never see a partial store.
    """
    if is_complete(path) and not force:
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_builds(path)
        tmp = Path(tempfile.mkdtemp(prefix=f"{path.name}{BUILDING}{os.getpid()}-", dir=path.parent))
    except OSError as error:
        raise StoreError(f"cannot build the store in {path.parent}: {error.strerror or error}") from None
    try:
        store = ox.Store(str(tmp))
        store.bulk_extend(graph_quads(progress=progress))
        derive(store, progress)
        store.flush()
        del store
        (tmp / COMPLETE_MARKER).write_text(fingerprint() + "\n")
        _move_into_place(tmp, path, replace=force)
    except OSError as error:
        shutil.rmtree(tmp, ignore_errors=True)
        raise StoreError(f"cannot build the store at {path}: {error.strerror or error}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def remove_stale_builds(path: Path) -> list[Path]:
    """Remove the temporary folders of builds of path whose process is gone (killed mid-way).

    A build's temporary folder is named PATH.building-PID-RANDOM, a replaced store set aside for
    removal PATH.retired-PID-RANDOM; the folders of a process that still runs (a concurrent build)
    are left alone. Returns the folders removed.
    """
    removed = []
    for marker in (BUILDING, RETIRED):
        for folder in path.parent.glob(path.name + marker + "*"):
            pid = folder.name[len(path.name + marker):].split("-", 1)[0]
            if pid.isdigit() and _alive(int(pid)):
                continue
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _move_into_place(tmp: Path, path: Path, replace: bool = False) -> None:
    """Rename the finished store tmp to path; a store already there is set aside first.

    Nothing a reader may have open is deleted in place: the old folder (replaced, or left by a
    build that died before its marker) is renamed away in one step and only then removed, so path
    is at every moment either a complete store or absent (and then built by the next command).
    """
    old = None
    if path.exists() and (replace or not is_complete(path)):
        old = set_aside(path)
    try:
        os.rename(tmp, path)
    except OSError:
        if not is_complete(path):
            raise StoreError(f"cannot move the new store into {path}") from None
        shutil.rmtree(tmp, ignore_errors=True)  # another process finished the same build first
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def set_aside(path: Path) -> Path | None:
    """Rename the store folder path to a retired name beside it; return that name (None if gone)."""
    retired = path.parent / f"{path.name}{RETIRED}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        os.rename(path, retired)
    except FileNotFoundError:
        return None  # another process moved it first
    return retired


def ensure_store(root: Path | None = None, progress: Progress | None = None) -> Path:
    """The path of a complete store for the current sources, building it on first use."""
    path = store_path(root)
    if not is_complete(path):
        build_store(path, progress=progress)
    return path
