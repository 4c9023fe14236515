"""Write the graph to a file in a standard RDF format, with the same bytes for the same sources.

Blank nodes are renamed b0, b1... in the order they first appear in the sources (the parser gives
them random names), duplicate statements are dropped and the statements are sorted, so two exports
of the same sources are byte-identical. A regular file is written next to its target and renamed
into place, so it is never seen half-written; devices and FIFOs are written in place (write_output).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox

from kg.namespaces import BASE, ID, TKG

FORMATS = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "nquads": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
    "jsonld": ox.RdfFormat.JSON_LD,
}
QUAD_FORMATS = {"nquads", "trig", "jsonld"}

PREFIXES = {
    "tkg": str(TKG),
    "id": ID,
    "graph": BASE + "graph/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "sh": "http://www.w3.org/ns/shacl#",
}


def canonical_lines(quads: Iterable[ox.Quad], with_graphs: bool) -> list[str]:
    """Sorted, distinct N-Quads (or N-Triples) lines with blank nodes renamed in order of appearance.

    Quad lines sort by graph first, so each graph's statements stay together.
    """
    names: dict[str, str] = {}

    def term(node) -> str:
        if isinstance(node, ox.BlankNode):
            return "_:" + names.setdefault(node.value, f"b{len(names)}")
        return str(node)

    keys = set()
    for quad in quads:
        graph = (
            term(quad.graph_name)
            if with_graphs and isinstance(quad.graph_name, ox.NamedNode)
            else ""
        )
        keys.add((graph, term(quad.subject), term(quad.predicate), term(quad.object)))
    return [f"{s} {p} {o} {g} .\n" if g else f"{s} {p} {o} .\n" for g, s, p, o in sorted(keys)]


def serialize(quads: Iterable[ox.Quad], fmt: str) -> bytes:
    """The quads in format fmt (a key of FORMATS), deterministically.

    Turtle and N-Triples hold no graph names: they get the distinct triples of all graphs.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    with_graphs = fmt in QUAD_FORMATS
    text = "".join(canonical_lines(quads, with_graphs)).encode("utf-8")
    if fmt in {"ntriples", "nquads"}:
        return text
    source = ox.RdfFormat.N_QUADS if with_graphs else ox.RdfFormat.N_TRIPLES
    parsed = ox.parse(input=text, format=source)
    prefixes = None if fmt == "jsonld" else PREFIXES
    return ox.serialize(parsed, format=FORMATS[fmt], prefixes=prefixes) or b""


def write_output(path: Path, data: bytes) -> Path:
    """Write data to the file path names, and return the path written.

    * A symbolic link is followed: its target is written and the link stays a link.
    * A regular file (or a new name) in an existing folder is written atomically: into a temporary
      file beside it, then renamed over it, so nobody sees it half-written; an existing file keeps
      its permission bits.
    * Anything else that exists (a device such as /dev/null, a FIFO, a terminal) is written in
      place, as a shell redirection would: renaming over it would destroy it.
    * A missing folder is an error: it is never created.
    Every failure (a full disk included) is an InputError naming the path.
    """
    from kg.errors import InputError

    path = Path(path)
    target = Path(os.path.realpath(path))
    try:
        info = target.stat()
    except FileNotFoundError:
        info = None
    except OSError as error:
        raise InputError(f"{path}: cannot write: {error.strerror or error}") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise InputError(f"{path}: is a folder; give a file name")
    if info is not None and not stat.S_ISREG(info.st_mode):
        _write_in_place(path, target, data)
        return target
    if not target.parent.is_dir():
        raise InputError(f"{path}: the folder {target.parent} does not exist (it is not created)")
    write_atomically(target, data, mode=None if info is None else stat.S_IMODE(info.st_mode))
    return target


def _write_in_place(path: Path, target: Path, data: bytes) -> None:
    from kg.errors import InputError

    try:
        with open(target, "wb") as out:
            out.write(data)
    except OSError as error:
        raise InputError(f"{path}: cannot write: {error.strerror or error}") from None


def write_atomically(path: Path, data: bytes, mode: int | None = None) -> None:
    """Write data to path (in an existing folder) through a temporary file beside it and a rename.

    The file gets mode, or the default permissions (0666 less the umask) when mode is None.
    """
    from kg.errors import InputError

    path = Path(path)
    try:
        handle, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".part", dir=path.parent)
    except OSError as error:
        raise InputError(f"{path}: cannot write: {error.strerror or error}") from None
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, (0o666 & ~_umask()) if mode is None else mode)
        os.replace(tmp, path)
    except OSError as error:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(f"{path}: cannot write: {error.strerror or error}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def export_graph(fmt: str, quads: Iterable[ox.Quad] | None = None) -> bytes:
    """The whole graph (or the given quads) serialised in format fmt."""
    if quads is None:
        from kg.build import graph_quads

        quads = graph_quads()
    return serialize(quads, fmt)


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's bytes, in hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def hts_revisions(path: Path) -> list[dict[str, str]]:
    """The HTS revisions listed in data/hts/revisions.csv (key, date, sha256); [] if absent."""
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        return [
            {field: row.get(field, "") for field in ("key", "date", "sha256")}
            for row in csv.DictReader(handle)
        ]


def manifest() -> dict:
    """What an export is made of: package version, source files with SHA-256, HTS revisions."""
    from kg.build import fingerprint, package_version, source_files
    from kg.resources import data_dir

    root = data_dir().parent
    files = source_files()
    return {
        "package": "tariff-kg",
        "version": package_version(),
        "fingerprint": fingerprint(files),
        "sources": [
            {
                "path": path.relative_to(root).as_posix()
                if path.is_relative_to(root)
                else path.name,
                "sha256": sha256_file(path),
                "bytes": path.stat().st_size,
            }
            for path in files
        ],
        "hts_revisions": hts_revisions(data_dir() / "hts" / "revisions.csv"),
    }


def manifest_json(data: dict) -> bytes:
    """The manifest as stable, indented JSON."""
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
