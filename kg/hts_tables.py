"""Compact the USITC HTS JSON exports into small change-only tables.

`compact()` reads every revision of the Harmonized Tariff Schedule (one gzipped JSON file per
revision) and writes two files:

* ``revisions.csv``: one row per revision, in date order (key, label, date and where the date
  comes from, Yale's date, source file, SHA-256).
* ``lines.csv.gz``: one row per *version* of a coded row. A version holds from the revision
  ``from_rev`` until the revision ``until_rev`` (exclusive; empty = still in the newest revision).

The revisions and their dates come from the curated ``revision_dates.csv`` in OUT_DIR (the date
each revision states, with its source); Yale's dates are read only to keep them for comparison.

Run ``python -m kg.hts_tables SOURCE_DIR OUT_DIR``.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

REVISION_COLUMNS = ["key", "label", "date", "date_source", "yale_date", "source_file", "sha256"]
LINE_COLUMNS = [
    "digits",
    "code",
    "indent",
    "parent",
    "description",
    "general",
    "special",
    "other",
    "from_rev",
    "until_rev",
]

JSON_DIR = "usitc_hts_json"
DATES_FILE = "yale_budget_lab_lists/revision_dates.csv"
CURATED_DATES = "revision_dates.csv"
TAG = re.compile(r"</?[A-Za-z][^<>]*>")
# The values of a coded row in one revision: code, indent, parent, description, general,
# special, other.
RowValues = tuple[str, int, str, str, str, str, str]


@dataclass(frozen=True)
class Revision:
    """One HTS revision: key like ``2025-rev-1``, label, ISO date and its source, Yale's date
    (empty if Yale has none), source file and SHA-256."""

    key: str
    label: str
    date: str
    date_source: str
    yale_date: str
    source_file: str
    sha256: str


@dataclass(frozen=True)
class Line:
    """One version of a coded HTS row, valid over [from_rev, until_rev).

    general, special and other are the column 1 general, column 1 special and column 2 rate
    texts (empty on 10-digit rows and where the schedule prints none).
    """

    digits: str
    code: str
    indent: int
    parent: str
    description: str
    general: str
    special: str
    other: str
    from_rev: str
    until_rev: str


# ---------------------------------------------------------------------------
# Revision names and dates


def revision_key(yale_name: str) -> str:
    """Turn a Yale revision name (``basic``, ``rev_3``, ``2026_rev_10``) into a key
    (``2025-rev-3``)."""
    name = yale_name if yale_name.startswith("20") else "2025_" + yale_name
    return name.replace("_", "-")


def revision_label(key: str) -> str:
    """Return the human name of a revision key: ``2025 HTS Basic Edition``,
    ``2025 HTS Revision 1``."""
    year, rest = key.split("-", 1)
    if rest == "basic":
        return f"{year} HTS Basic Edition"
    return f"{year} HTS Revision {rest.split('-')[1]}"


def source_file_name(key: str) -> str:
    """Return the path, relative to the source folder, of the JSON export of a revision key."""
    return f"{JSON_DIR}/hts_{key.replace('-', '_')}.json.gz"


def read_revision_dates(source_dir: Path) -> dict[str, str]:
    """Return {revision key: ISO date} from the Yale revision_dates.csv."""
    with open(source_dir / DATES_FILE, newline="", encoding="utf-8") as f:
        return {revision_key(row["revision"]): row["effective_date"] for row in csv.DictReader(f)}


def read_curated_dates(path: Path) -> list[tuple[str, str, str]]:
    """Return [(key, date, date_source)] from the curated revision_dates.csv, checked to be in
    date order."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = [(row["key"], row["date"], row["date_source"]) for row in csv.DictReader(f)]
    dates = [date for _, date, _ in rows]
    if dates != sorted(dates):
        raise ValueError(f"{path}: revisions are not in date order")
    return rows


# ---------------------------------------------------------------------------
# Reading one revision


def clean_text(text: str | None) -> str:
    """Strip HTML tags and collapse whitespace."""
    return " ".join(TAG.sub("", text or "").split())


def load_revision(path: Path) -> tuple[list[dict], str]:
    """Return the rows of a gzipped JSON export and the SHA-256 of the decompressed JSON."""
    raw = gzip.decompress(path.read_bytes())
    return json.loads(raw.decode("utf-8")), hashlib.sha256(raw).hexdigest()


def coded_rows(rows: list[dict]) -> dict[str, RowValues]:
    """Return {digits: (code, indent, parent, description, general, special, other)} for the
    coded rows of a revision.

    A row's parent is the nearest earlier row with a smaller indent; superior text rows are
    climbed through to the nearest coded row above them. Where a 10-digit row stands alone for
    its 8-digit line (the 8-digit line has no row of its own, and the 10-digit row carries a rate
    or sits directly under a heading or subheading), the 8-digit line is added with the
    10-digit row's indent, parent, description and rates, and becomes the 10-digit row's parent.
    Rates are kept on 8-digit lines only (10-digit rows get empty rates).
    """
    present = {r["htsno"].replace(".", "") for r in rows if r["htsno"]}
    out: dict[str, RowValues] = {}
    stack: list[tuple[int, str]] = []  # (indent, nearest coded row at or above that row)
    for row in rows:
        digits = row["htsno"].replace(".", "")
        indent = int(row["indent"] or 0)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1] if stack else ""
        stack.append((indent, digits or parent))
        if not digits:
            continue
        description = clean_text(row["description"])
        general, special, other = (clean_text(row[c]) for c in ("general", "special", "other"))
        if len(digits) == 10 and digits[:8] not in present and (general or len(parent) < 8):
            line8 = digits[:8]
            out[line8] = (dotted(line8), indent, parent, description, general, special, other)
            present.add(line8)
            parent = line8
        if len(digits) == 10:
            general = special = other = ""
        out[digits] = (row["htsno"], indent, parent, description, general, special, other)
    return {d: (v[0], v[1], fix_parent(d, v[2], out), *v[3:]) for d, v in out.items()}


def fix_parent(digits: str, parent: str, codes: dict[str, RowValues]) -> str:
    """Keep the parent if the chain from it reaches the code's 4-digit heading; else fall back.

    The fallback is the longest proper prefix of the code that is itself a code in the same
    revision (empty if there is none).
    """
    heading, seen, node = digits[:4], set(), parent
    while node and node not in seen:
        if node == heading:
            return parent
        seen.add(node)
        node = codes[node][2] if node in codes else ""
    for size in (8, 6, 4):
        if size < len(digits) and digits[:size] in codes:
            return digits[:size]
    return ""


def dotted(digits: str) -> str:
    """Write HTS digits with dots: ``87032301`` -> ``8703.23.01``."""
    parts = [digits[:4]] + [digits[i : i + 2] for i in range(4, len(digits), 2)]
    return ".".join(parts)


# ---------------------------------------------------------------------------
# Change-only table


def change_only(revisions: list[tuple[str, dict[str, RowValues]]]) -> list[Line]:
    """Turn per-revision snapshots [(key, {digits: values})] into versions with from/until keys."""
    open_versions: dict[str, tuple[RowValues, str]] = {}
    lines: list[Line] = []
    for key, snapshot in revisions:
        for digits in list(open_versions):
            values, start = open_versions[digits]
            if snapshot.get(digits) != values:
                lines.append(Line(*(digits, *values, start, key)))
                del open_versions[digits]
        for digits, values in snapshot.items():
            if digits not in open_versions:
                open_versions[digits] = (values, key)
    for digits, (values, start) in open_versions.items():
        lines.append(Line(*(digits, *values, start, "")))
    order = {key: i for i, (key, _) in enumerate(revisions)}
    return sorted(lines, key=lambda ln: (ln.digits, order[ln.from_rev]))


def compact(source_dir: Path, out_dir: Path, dates_file: Path | None = None) -> None:
    """Read every HTS revision listed in the curated dates file and write revisions.csv and
    lines.csv.gz to out_dir.

    dates_file defaults to out_dir/revision_dates.csv; it lists the revisions in date order with
    the date each one states and its source. Yale's date is kept alongside for comparison.
    """
    source_dir, out_dir = Path(source_dir), Path(out_dir)
    yale = read_revision_dates(source_dir)
    revisions: list[Revision] = []
    snapshots: list[tuple[str, dict[str, RowValues]]] = []
    for key, date, date_source in read_curated_dates(Path(dates_file or out_dir / CURATED_DATES)):
        rows, sha = load_revision(source_dir / source_file_name(key))
        label, source_file = revision_label(key), source_file_name(key)
        yale_date = yale.get(key, "")
        revisions.append(Revision(key, label, date, date_source, yale_date, source_file, sha))
        snapshots.append((key, coded_rows(rows)))
    out_dir.mkdir(parents=True, exist_ok=True)
    write_revisions(out_dir / "revisions.csv", revisions)
    write_lines(out_dir / "lines.csv.gz", change_only(snapshots))


def write_revisions(path: Path, revisions: list[Revision]) -> None:
    """Write revisions.csv."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(REVISION_COLUMNS)
        for r in revisions:
            writer.writerow(
                [r.key, r.label, r.date, r.date_source, r.yale_date, r.source_file, r.sha256]
            )


def write_lines(path: Path, lines: list[Line]) -> None:
    """Write lines.csv.gz deterministically (no file name or time stamp in the gzip header)."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(LINE_COLUMNS)
    for ln in lines:
        writer.writerow(
            [
                ln.digits,
                ln.code,
                ln.indent,
                ln.parent,
                ln.description,
                ln.general,
                ln.special,
                ln.other,
                ln.from_rev,
                ln.until_rev,
            ]
        )
    with (
        open(path, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
    ):
        gz.write(text.getvalue().encode("utf-8"))


# ---------------------------------------------------------------------------
# Readers


def read_revisions(hts_dir: Path) -> list[Revision]:
    """Read revisions.csv from hts_dir, in date order."""
    with open(Path(hts_dir) / "revisions.csv", newline="", encoding="utf-8") as f:
        return [Revision(**row) for row in csv.DictReader(f)]


def read_lines(hts_dir: Path) -> list[Line]:
    """Read lines.csv.gz from hts_dir, ordered by digits and then by first revision."""
    with gzip.open(Path(hts_dir) / "lines.csv.gz", "rt", newline="", encoding="utf-8") as f:
        return [
            Line(
                row["digits"],
                row["code"],
                int(row["indent"]),
                row["parent"],
                row["description"],
                row["general"],
                row["special"],
                row["other"],
                row["from_rev"],
                row["until_rev"],
            )
            for row in csv.DictReader(f)
        ]


def main(argv: list[str]) -> int:
    """Command line: ``python -m kg.hts_tables SOURCE_DIR OUT_DIR``."""
    if len(argv) != 2:
        print("usage: python -m kg.hts_tables SOURCE_DIR OUT_DIR", file=sys.stderr)
        return 2
    compact(Path(argv[0]), Path(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
