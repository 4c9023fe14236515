"""Answers with the user's own data: the graph plus the user's Turtle files, validated and derived.

A broker who knows of a measure the graph lacks writes it in Turtle (as the curated files do) and
asks `tariffkg duty|timeline|diff --data my.ttl`. The files join the timeline graph; the whole graph
is validated (only findings on the nodes the user's files describe block the answer: the shipped
data is the project's to fix), the stored rules derive the derived graph again, and the store is
kept on disk under the store root, named after the sources and the files' bytes, so the next
question with the same files opens it at once.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import pyoxigraph as ox

from kg.errors import StoreError

USER_STORE_PREFIX = "user-"


def user_store_path(files: list[Path], root: Path | None = None) -> Path:
    """The folder of the store for the shipped sources plus these files (by their bytes)."""
    from kg.build import default_store_root, fingerprint

    digest = hashlib.sha256(fingerprint().encode())
    for path in files:
        digest.update(hashlib.sha256(Path(path).read_bytes()).digest())
    return (root or default_store_root()) / f"{USER_STORE_PREFIX}{digest.hexdigest()[:16]}"


def user_subjects(files: list[Path]) -> set[str]:
    """The IRIs the user's files describe (the subjects of their triples)."""
    from kg.build import turtle_triples

    return {triple.subject.value for path in files for triple in turtle_triples(Path(path))
            if isinstance(triple.subject, ox.NamedNode)}


def open_user_store(files: list[Path], root: Path | None = None, progress=None,
                    timeout: float | None = None):
    """The store of the graph with the user's files, and the validation report of their nodes.

    Returns (LocalStore, report) when the files add no violation on the nodes they describe, else
    (None, report) with those findings. A file that cannot be read or parsed raises DataError.
    timeout bounds each query on the store, as --timeout does.
    """
    from kg.build import COMPLETE_MARKER, graph_quads, is_complete
    from kg.derive import derive
    from kg.store import LocalStore
    from kg.validate import (
        ValidationReport,
        check_class_depth,
        check_results,
        check_user_file,
        distinct_results,
        shacl_results,
    )

    paths = [Path(p) for p in files]
    for path in paths:
        check_user_file(path)
    target = user_store_path(paths, root)
    if is_complete(target):
        return _marked(LocalStore.open(target, timeout), paths), ValidationReport()
    say = progress or (lambda text: None)
    say("validating your files with the graph...")
    memory = ox.Store()
    memory.bulk_extend(graph_quads(extra_files=paths))
    check_class_depth(memory)
    mine = user_subjects(paths)
    results = [r for r in distinct_results(shacl_results(memory) + check_results(memory))
               if str(r.focus) in mine]
    report = ValidationReport(results=results, triples=len(memory))
    if not report.conforms:
        return None, report
    say("deriving the graph with your files...")
    derive(memory)
    say("writing the store...")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=target.name + ".building-", dir=target.parent))
        disk = ox.Store(str(tmp))
        disk.bulk_extend(memory.quads_for_pattern(None, None, None, None))
        disk.flush()
        del disk
        (tmp / COMPLETE_MARKER).write_text(target.name + "\n")
        try:
            os.rename(tmp, target)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)  # another process wrote the same store first
            if not is_complete(target):
                raise
    except OSError as error:
        raise StoreError(f"cannot write the store with your files at {target}: "
                         f"{error.strerror or error}") from None
    return _marked(LocalStore.open(target, timeout), paths), report


def _marked(store, paths: list[Path]):
    """The store, marked with the user's files so every answer from it names them."""
    store.user_files = [str(path) for path in paths]
    return store

